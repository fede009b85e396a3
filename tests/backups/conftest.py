"""Stores with data, and hand-built archives (tar + zstd) for the hostile-archive tests."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import xxhash
import zstandard

import driftstore
from driftstore import to_builtins
from driftstore.engine.sqlite.snapshot import take_snapshot
from driftstore.formats import backups as fmt
from tests.factories import make_pattern
from tests.sqlite_access import db_path


def fill(store: driftstore.PatternStore, count: int = 20, files: int = 5) -> None:
    store.add_many(
        make_pattern(f"p{i}", files=[f"src/m{j}/f{i}.ts" for j in range(files)])
        for i in range(count)
    )


def state(store: driftstore.PatternStore) -> dict[str, Any]:
    """What a user sees of a store: every pattern, and the change log."""
    patterns = store.query(limit=None).patterns
    return {
        "patterns": {p.id: to_builtins(store.describe(p.id)) for p in patterns},
        "history": len(store.history()),
        "status": {k: v for k, v in to_builtins(store.status()).items() if k != "generation"},
    }


@pytest.fixture
def filled(store: driftstore.PatternStore) -> driftstore.PatternStore:
    fill(store)
    return store


@pytest.fixture
def snapshot_bytes(filled: driftstore.PatternStore, tmp_path: Path) -> bytes:
    """A real, valid snapshot of a driftstore database."""
    target = tmp_path / "snap.db"
    take_snapshot(db_path(filled), target, busy_timeout_ms=1000)
    return target.read_bytes()


@pytest.fixture
def into(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "into"
    folder.mkdir()
    yield folder


# --- building archives by hand ---------------------------------------------------------
def manifest_bytes(
    db: bytes, *, size: int | None = None, digest: str | None = None, **changes: Any
) -> bytes:
    doc: dict[str, Any] = {
        "format": fmt.FORMAT,
        "formatVersion": fmt.FORMAT_VERSION,
        "createdAt": "2026-05-01T12:00:00.000Z",
        "reason": "test",
        "driftstoreVersion": "0.1.0",
        "schemaVersion": 1,
        "members": [
            {
                "name": fmt.SNAPSHOT,
                "size": len(db) if size is None else size,
                "xxh3_128": digest or xxhash.xxh3_128(db).hexdigest(),
            }
        ],
    }
    doc.update(changes)
    return json.dumps(doc).encode()


def member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, **attrs: Any) -> Any:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if info.isreg() else 0
    for key, value in attrs.items():
        setattr(info, key, value)
    return info, data


def tar_of(*members: Any, tail: bytes = b"") -> bytes:
    """A tar stream of (TarInfo, data) pairs, written by tarfile itself."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue() + tail


def raw_member(name: str, declared: int, data: bytes) -> bytes:
    """A header that declares `declared` bytes followed by `data` (which may be longer)."""
    info = tarfile.TarInfo(name)
    info.size = declared
    pad = -len(data) % tarfile.BLOCKSIZE
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape") + data + b"\0" * pad


def zst(data: bytes) -> bytes:
    return bytes(zstandard.ZstdCompressor(level=1, write_checksum=True).compress(data))


def good_members(db: bytes) -> list[Any]:
    return [member(fmt.MANIFEST, manifest_bytes(db)), member(fmt.SNAPSHOT, db)]


def plant(store: driftstore.PatternStore, archive: bytes, reason: str = "planted") -> str:
    """Put archive bytes where a backup with a valid id would be; returns that id."""
    backup_id = fmt.make_backup_id(fmt.parse_backup_id("20200101T000000000Z-x")[0], reason)
    folder = store.drift_dir / "backups"
    folder.mkdir(exist_ok=True)
    (folder / fmt.archive_name(backup_id)).write_bytes(archive)
    return backup_id
