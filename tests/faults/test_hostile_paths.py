"""Paths that try to leave the project, through every door that takes a path: example
files, variant paths, data files (links in a drift 0.9 tree or a shard folder, a link
where export writes), and backup archive members (`..`, absolute, links, a bomb).

Each is refused with one line and a non-zero exit before anything is written, and
nothing outside the project is read or touched.
"""

from __future__ import annotations

import json
import os
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
import zstandard

import driftstore
from driftstore.cli.main import main
from driftstore.formats import backups as fmt
from tests.conftest import REAL_DRIFT
from tests.faults import tally
from tests.faults.checks import db_path, open_and_check
from tests.faults.data import scan, write_scan

SECRET = "TOP-SECRET-OUTSIDE-THE-PROJECT"


@dataclass
class Result:
    code: int
    out: str
    err: str


Run = Callable[..., Result]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """The real CLI entry point in-process (fast), output captured."""

    def invoke(*argv: str) -> Result:
        capsys.readouterr()
        try:
            main(list(argv))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def refused(result: Result, *words: str, code: int = 2) -> str:
    assert result.code == code, (result.code, result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("driftstore: "), result.err
    assert any(w in lines[0].lower() for w in words), lines[0]
    assert SECRET not in result.out + result.err
    return lines[0]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with patterns, a source file, and beside it (outside) a secret file and
    a folder with a drift 0.9 file of its own."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.ts").write_text(f"{SECRET}\n" * 5)
    legacy = REAL_DRIFT / "jrmatherly__aionui" / ".drift" / "patterns" / "approved" / "auth.json"
    (outside / "auth.json").write_bytes(legacy.read_bytes())
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "ok.ts").write_text("one\ntwo\nthree\n")
    entries = scan("x", 1, patterns=3, locations=2)
    entries[0]["locations"][0]["file"] = "src/leak.ts"
    with driftstore.open(root) as store:
        store.ingest(write_scan(tmp_path / "scan.json", entries))
    (root / "src" / "leak.ts").symlink_to(outside / "secret.ts")
    (root / "src" / "outdir").symlink_to(outside, target_is_directory=True)
    return root


ESCAPING_FILES = [
    "../outside/secret.ts",
    "..\\outside\\secret.ts",
    "src/../../outside/secret.ts",
    "/etc/passwd",
    "C:\\Windows\\win.ini",
    "src/leak.ts",  # a link inside the project that points out of it
    "src/outdir/secret.ts",  # a linked folder
    "src/ok.ts\x00.png",
]


def test_example_files_outside_the_project_are_refused(project: Path, run: Run) -> None:
    before = open_and_check(project)
    for path in ESCAPING_FILES:
        result = run(
            "example", "add", "x0001", "--file", path, "--lines", "1-2", "--root", str(project)
        )
        refused(result, "outside the project", "nul", "link")
        tally.add("escaping paths refused: example files")
    assert open_and_check(project) == before
    # fresh examples are cut around stored locations: a location in a linked file is skipped
    fresh = run("example", "list", "x0000", "--fresh", "--json", "--root", str(project))
    assert fresh.code == 0, fresh.err
    assert SECRET not in fresh.out
    tally.add("escaping paths refused: example files")


def test_variant_paths_outside_the_project_are_refused(project: Path, run: Run) -> None:
    before = open_and_check(project)
    for scope, path in [
        ("directory", "../outside"),
        ("directory", "/etc"),
        ("file", "C:\\Windows\\win.ini"),
        ("file", "..\\..\\x.ts"),
        ("directory", "src/../.."),
        ("file", "src/leak.ts/../../../x.ts"),
    ]:
        result = run(
            "variant",
            "add",
            "x0001",
            "--scope",
            scope,
            "--path",
            path,
            "--severity",
            "error",
            "--root",
            str(project),
        )
        refused(result, "outside the project", "project root")
        tally.add("escaping paths refused: variant paths")
    assert open_and_check(project) == before


def test_linked_data_files_are_not_read_or_written_through(
    project: Path, run: Run, tmp_path: Path
) -> None:
    """A link in a drift 0.9 tree or a shard folder is not followed; export replaces a
    link in its folder instead of writing through it."""
    outside = tmp_path / "outside"
    # drift 0.9 tree: one status file is a link to a file outside the project
    approved = project / ".drift" / "patterns" / "approved"
    approved.mkdir(parents=True)
    (approved / "auth.json").symlink_to(outside / "auth.json")
    before = open_and_check(project)
    result = run("migrate", "--json", "--root", str(project))
    if result.code == 0:
        report = json.loads(result.out)
        assert report["imported"] == 0 and any("auth.json" in s["path"] for s in report["skipped"])
        assert open_and_check(project)[0] == before[0]
    else:
        refused(result, "link")
    tally.add("escaping paths refused: linked drift 0.9 file")
    (approved / "auth.json").unlink()

    # a shard folder with a linked shard
    shard_dir = tmp_path / "shards"
    shard_dir.mkdir()
    (shard_dir / "auth.json").symlink_to(outside / "auth.json")
    refused(run("import", str(shard_dir), "--root", str(project)), "link")
    tally.add("escaping paths refused: linked shard")

    # export into a folder where a shard is a link to an outside file
    patterns = project / ".drift" / "patterns"
    target = outside / "victim.json"
    target.write_text("do not overwrite")
    for category in ("api", "auth", "errors"):
        (patterns / f"{category}.json").unlink(missing_ok=True)
        (patterns / f"{category}.json").symlink_to(target)
    result = run("export", "--root", str(project))
    assert result.code == 0, result.err
    assert target.read_text() == "do not overwrite"
    assert not (patterns / "api.json").is_symlink()
    tally.add("escaping paths refused: export through a link")


# --- hostile backup archives -------------------------------------------------------------
def _tar_member(
    name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = ""
) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.type = kind
    info.linkname = link
    info.mode = 0o644
    body = data if kind == tarfile.REGTYPE else b""
    return (
        info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        + body
        + b"\0" * (-len(body) % 512)
    )


def _manifest(snapshot: bytes) -> bytes:
    import xxhash

    manifest = fmt.Manifest(
        format=fmt.FORMAT,
        format_version=fmt.FORMAT_VERSION,
        created_at="2026-05-01T12:00:00.000Z",
        reason="evil",
        driftstore_version="0",
        schema_version=1,
        members=[
            fmt.Member(
                name=fmt.SNAPSHOT, size=len(snapshot), xxh3_128=xxhash.xxh3_128_hexdigest(snapshot)
            )
        ],
    )
    return msgspec.json.encode(manifest)


def _archive(members: list[bytes], tail: bytes = b"") -> bytes:
    raw = b"".join(members) + b"\0" * 1024
    raw += b"\0" * (-len(raw) % tarfile.RECORDSIZE)
    return zstandard.ZstdCompressor().compress(raw + tail)


def _hostile_archives(snapshot: bytes) -> dict[str, bytes]:
    manifest = _tar_member(fmt.MANIFEST, _manifest(snapshot))
    bomb = zstandard.ZstdCompressor().compressobj()
    good = b"".join([manifest, _tar_member(fmt.SNAPSHOT, snapshot)]) + b"\0" * 1024
    good += b"\0" * (-len(good) % tarfile.RECORDSIZE)
    # far more data than any header or manifest declares: 256 MiB of zeros after the end
    bombed = bomb.compress(good) + bomb.compress(bytes(1 << 20) * 256) + bomb.flush()
    return {
        "dot-dot member": _archive([manifest, _tar_member("../drift.db", snapshot)]),
        "absolute member": _archive([manifest, _tar_member("/tmp/driftstore-evil.db", snapshot)]),
        "symbolic link": _archive(
            [manifest, _tar_member(fmt.SNAPSHOT, kind=tarfile.SYMTYPE, link="/etc/passwd")]
        ),
        "hard link": _archive(
            [
                manifest,
                _tar_member(fmt.SNAPSHOT, kind=tarfile.LNKTYPE, link="../../outside/secret.ts"),
            ]
        ),
        "extra member": _archive(
            [
                manifest,
                _tar_member(fmt.SNAPSHOT, snapshot),
                _tar_member("../../evil.sh", b"rm -rf /"),
            ]
        ),
        "decompression bomb": bombed,
    }


def test_hostile_archives_are_refused_before_anything_is_written(
    project: Path, run: Run, tmp_path: Path
) -> None:
    with driftstore.open(project) as store:
        store.backup("good")
    snapshot = db_path(project).read_bytes()
    before = open_and_check(project)
    backups = project / ".drift" / "backups"
    listing = sorted(p.name for p in backups.iterdir())
    outside_before = sorted(p.name for p in tmp_path.rglob("*"))
    for n, (kind, data) in enumerate(_hostile_archives(snapshot).items()):
        backup_id = fmt.make_backup_id(datetime(2026, 1, 1, 0, 0, n, tzinfo=UTC), "evil")
        archive = backups / fmt.archive_name(backup_id)
        archive.write_bytes(data)
        result = run("backup", "restore", backup_id, "--root", str(project))
        line = refused(
            result,
            "refused",
            "escape",
            "link",
            "absolute",
            "unexpected",
            "bomb",
            "more data",
            code=result.code,
        )
        assert result.code in (1, 2), line
        assert open_and_check(project) == before, kind
        archive.unlink()
        assert sorted(p.name for p in backups.iterdir()) == listing, f"{kind}: left files behind"
        assert sorted(p.name for p in tmp_path.rglob("*")) == outside_before, (
            f"{kind}: wrote outside"
        )
        assert not Path("/tmp/driftstore-evil.db").exists()
        tally.add("hostile archives refused")
        tally.add(f"hostile archives refused: {kind}")
    assert os.path.exists(db_path(project))
