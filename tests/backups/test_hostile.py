"""Hostile and damaged archives are refused before anything is written or replaced."""

from __future__ import annotations

import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

import driftstore
from driftstore.errors import IntegrityError, StorageFullError, UnsafeArchiveError
from driftstore.formats import backups as fmt
from tests.backups.conftest import (
    good_members,
    manifest_bytes,
    member,
    plant,
    raw_member,
    state,
    tar_of,
    zst,
)

Build = Callable[[bytes], bytes]

#: name -> (archive builder from a valid snapshot, expected error, text in the message)
HOSTILE: dict[str, tuple[Build, type[Exception], str]] = {
    "dot-dot path": (
        lambda db: zst(tar_of(member(fmt.MANIFEST, manifest_bytes(db)), member("../drift.db", db))),
        UnsafeArchiveError,
        "escape",
    ),
    "absolute path": (
        lambda db: zst(tar_of(member("/etc/manifest.json", manifest_bytes(db)))),
        UnsafeArchiveError,
        "absolute",
    ),
    "symlink": (
        lambda db: zst(
            tar_of(
                member(fmt.MANIFEST, manifest_bytes(db)),
                member(fmt.SNAPSHOT, kind=tarfile.SYMTYPE, linkname="/etc/passwd"),
            )
        ),
        UnsafeArchiveError,
        "symbolic link",
    ),
    "hardlink": (
        lambda db: zst(
            tar_of(
                member(fmt.MANIFEST, manifest_bytes(db)),
                member(fmt.SNAPSHOT, kind=tarfile.LNKTYPE, linkname=fmt.MANIFEST),
            )
        ),
        UnsafeArchiveError,
        "hard link",
    ),
    "device": (
        lambda db: zst(
            tar_of(
                member(fmt.MANIFEST, manifest_bytes(db)),
                member(fmt.SNAPSHOT, kind=tarfile.CHRTYPE, devmajor=1, devminor=3),
            )
        ),
        UnsafeArchiveError,
        "device",
    ),
    "fifo": (
        lambda db: zst(tar_of(member(fmt.MANIFEST, kind=tarfile.FIFOTYPE))),
        UnsafeArchiveError,
        "FIFO",
    ),
    "folder": (
        lambda db: zst(tar_of(member(fmt.MANIFEST, kind=tarfile.DIRTYPE))),
        UnsafeArchiveError,
        "folder",
    ),
    "unexpected member": (
        lambda db: zst(
            tar_of(member(fmt.MANIFEST, manifest_bytes(db)), member("evil.sh", b"rm -rf /"))
        ),
        UnsafeArchiveError,
        "unexpected member",
    ),
    "snapshot first": (
        lambda db: zst(tar_of(member(fmt.SNAPSHOT, db), member(fmt.MANIFEST, manifest_bytes(db)))),
        UnsafeArchiveError,
        "unexpected member",
    ),
    "duplicate manifest": (
        lambda db: zst(
            tar_of(
                member(fmt.MANIFEST, manifest_bytes(db)), member(fmt.MANIFEST, manifest_bytes(db))
            )
        ),
        UnsafeArchiveError,
        "twice",
    ),
    "duplicate snapshot": (
        lambda db: zst(tar_of(*good_members(db), member(fmt.SNAPSHOT, db))),
        UnsafeArchiveError,
        "twice",
    ),
    "extra member after the snapshot": (
        lambda db: zst(tar_of(*good_members(db), member("notes.txt", b"hi"))),
        UnsafeArchiveError,
        "unexpected member",
    ),
    "pax header renames a member": (
        lambda db: zst(
            tar_of(
                member(fmt.MANIFEST, manifest_bytes(db)),
                member(fmt.SNAPSHOT, db, pax_headers={"path": "../../drift.db"}),
            )
        ),
        UnsafeArchiveError,
        "escape",
    ),
    "manifest lists other members": (
        lambda db: zst(
            tar_of(
                member(
                    fmt.MANIFEST,
                    manifest_bytes(db, members=[{"name": "x", "size": 1, "xxh3_128": "0" * 32}]),
                ),
                member(fmt.SNAPSHOT, db),
            )
        ),
        UnsafeArchiveError,
        "manifest lists",
    ),
    "header size differs from the manifest": (
        lambda db: zst(
            tar_of(
                member(fmt.MANIFEST, manifest_bytes(db, size=len(db) - 512)), member("drift.db", db)
            )
        ),
        UnsafeArchiveError,
        "in its header but",
    ),
    "member far larger than its header claims": (
        lambda db: zst(
            raw_member(fmt.MANIFEST, len(manifest_bytes(db[:4096])), manifest_bytes(db[:4096]))
            + raw_member(fmt.SNAPSHOT, 4096, db)  # header says 4 KiB, the whole db follows
            + b"\0" * 1024
        ),
        UnsafeArchiveError,
        "data follows the last member",
    ),
    "oversized manifest": (
        lambda db: zst(tar_of(member(fmt.MANIFEST, b" " * (fmt.MANIFEST_MAX + 1)))),
        UnsafeArchiveError,
        "manifest claims",
    ),
    "pax header bomb": (
        lambda db: zst(
            tar_of(
                member(fmt.MANIFEST, manifest_bytes(db), pax_headers={"comment": "x" * 2_000_000})
            )
        ),
        UnsafeArchiveError,
        "more data than",
    ),
    "wrong checksum": (
        lambda db: zst(
            tar_of(
                member(fmt.MANIFEST, manifest_bytes(db, digest="0" * 32)), member(fmt.SNAPSHOT, db)
            )
        ),
        IntegrityError,
        "checksum",
    ),
    "manifest of another format": (
        lambda db: zst(tar_of(member(fmt.MANIFEST, manifest_bytes(db, format="zip")))),
        IntegrityError,
        "not a driftstore backup",
    ),
    "newer format version": (
        lambda db: zst(tar_of(member(fmt.MANIFEST, manifest_bytes(db, formatVersion=99)))),
        IntegrityError,
        "format 99",
    ),
    "manifest is not JSON": (
        lambda db: zst(tar_of(member(fmt.MANIFEST, b"{nope"), member(fmt.SNAPSHOT, db))),
        IntegrityError,
        "manifest is not valid",
    ),
    "truncated in the middle": (
        lambda db: zst(tar_of(*good_members(db)))[: len(zst(tar_of(*good_members(db)))) // 2],
        IntegrityError,
        "truncated",
    ),
    "tar end cut off": (
        lambda db: zst(tar_of(*good_members(db))[:-4096]),
        IntegrityError,
        "ends early",
    ),
    "data after the end of the archive": (
        lambda db: zst(tar_of(*good_members(db)) + b"PK\x03\x04 hidden"),
        UnsafeArchiveError,
        "data follows",
    ),
    "missing snapshot": (
        lambda db: zst(tar_of(member(fmt.MANIFEST, manifest_bytes(db)))),
        IntegrityError,
        "ends before",
    ),
    "not zstd at all": (lambda db: tar_of(*good_members(db)), IntegrityError, "damaged"),
    "empty file": (lambda db: b"", IntegrityError, "damaged"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archive_is_refused(
    case: str, snapshot_bytes: bytes, tmp_path: Path, into: Path
) -> None:
    build, error, text = HOSTILE[case]
    archive = tmp_path / "hostile.tar.zst"
    archive.write_bytes(build(snapshot_bytes))
    with pytest.raises(error, match=text) as caught:
        fmt.read_archive(archive, into, room_bytes=1 << 30)
    assert "\n" not in str(caught.value)
    # nothing was written outside the private folder, and no link or device in it
    assert not any(p.is_symlink() or not p.is_file() for p in into.rglob("*"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "hostile.tar.zst",
        "into",
        f"project-{tmp_path.name}",  # the `root` fixture's folder
        "snap.db",
    ]


def test_the_valid_hand_built_archive_is_accepted(
    snapshot_bytes: bytes, tmp_path: Path, into: Path
) -> None:
    """The hostile cases differ from this one only in what they break."""
    archive = tmp_path / "good.tar.zst"
    archive.write_bytes(zst(tar_of(*good_members(snapshot_bytes))))
    fmt.read_archive(archive, into, room_bytes=1 << 30)
    assert (into / fmt.SNAPSHOT).read_bytes() == snapshot_bytes


def test_declared_size_beyond_free_space_is_refused_before_writing(
    snapshot_bytes: bytes, tmp_path: Path, into: Path
) -> None:
    archive = tmp_path / "big.tar.zst"
    archive.write_bytes(zst(tar_of(*good_members(snapshot_bytes))))
    with pytest.raises(StorageFullError, match="free disk space"):
        fmt.read_archive(archive, into, room_bytes=len(snapshot_bytes) - 1)
    assert list(into.iterdir()) == []


def test_a_header_claiming_a_petabyte_is_refused_before_writing(tmp_path: Path, into: Path) -> None:
    """The sizes agree with each other, but no database is that large: a bomb."""
    huge = 1 << 50
    head = raw_member(
        fmt.MANIFEST, len(manifest_bytes(b"", size=huge)), manifest_bytes(b"", size=huge)
    )
    archive = tmp_path / "claims.tar.zst"
    archive.write_bytes(zst(head + raw_member(fmt.SNAPSHOT, huge, b"\0" * 4096)))
    with pytest.raises(UnsafeArchiveError, match="claims"):
        fmt.read_archive(archive, into, room_bytes=1 << 60)
    assert list(into.iterdir()) == []


def test_a_decompression_bomb_stops_at_the_budget(tmp_path: Path, into: Path) -> None:
    """512 MiB of zeros behind a header that declares 1 KiB: refused after reading about
    what was declared, without inflating the rest or writing more than the 1 KiB."""
    db = b"\1" * 1024
    head = raw_member(fmt.MANIFEST, len(manifest_bytes(db)), manifest_bytes(db))
    head += raw_member(fmt.SNAPSHOT, 1024, db)
    archive = tmp_path / "bomb.tar.zst"
    with archive.open("wb") as out, zstandard.ZstdCompressor(level=1).stream_writer(out) as z:
        z.write(head)
        zeros = b"\0" * (1 << 20)
        for _ in range(512):
            z.write(zeros)
    assert archive.stat().st_size < 1 << 20
    started = time.perf_counter()
    with pytest.raises(UnsafeArchiveError, match=r"data follows|more data than"):
        fmt.read_archive(archive, into, room_bytes=1 << 40)
    assert time.perf_counter() - started < 2.0  # inflating it all takes several times this
    assert sum(p.stat().st_size for p in into.iterdir()) <= 1024


@given(cut=st.integers(min_value=0, max_value=10_000), flip=st.integers(0, 255))
def test_any_damage_is_an_error_never_a_wrong_snapshot(
    snapshot_bytes: bytes, tmp_path_factory: pytest.TempPathFactory, cut: int, flip: int
) -> None:
    """A truncated or bit-flipped archive either fails with a driftstore error, or (when
    the damage hit only padding) gives back exactly the original snapshot."""
    tmp = tmp_path_factory.mktemp("damage")
    good = bytearray(zst(tar_of(*good_members(snapshot_bytes))))
    damaged = bytes(good[: len(good) - cut % len(good)]) if cut % 2 else bytes(good)
    if not cut % 2:
        position = cut % len(good)
        good[position] ^= flip or 1
        damaged = bytes(good)
    archive = tmp / "damaged.tar.zst"
    archive.write_bytes(damaged)
    into = tmp / "into"
    into.mkdir()
    try:
        fmt.read_archive(archive, into, room_bytes=1 << 30)
    except IntegrityError:
        return
    assert (into / fmt.SNAPSHOT).read_bytes() == snapshot_bytes


# --- through the store -----------------------------------------------------------------
@pytest.mark.parametrize(
    "case", ["symlink", "dot-dot path", "member far larger than its header claims"]
)
def test_restoring_a_hostile_archive_leaves_the_store_as_it_was(
    case: str, filled: driftstore.PatternStore, snapshot_bytes: bytes
) -> None:
    before = state(filled)
    backups_before = filled.backups()
    backup_id = plant(filled, HOSTILE[case][0](snapshot_bytes))
    with pytest.raises(UnsafeArchiveError):
        filled.restore(backup_id)
    assert state(filled) == before
    assert [b.id for b in filled.backups()] == [backup_id] + [b.id for b in backups_before]
    leftovers = [p.name for p in (filled.drift_dir / "backups").iterdir()]
    assert leftovers == [fmt.archive_name(backup_id)]  # no safety backup, no temp folder


_TYPES = [
    tarfile.REGTYPE,
    tarfile.AREGTYPE,
    tarfile.LNKTYPE,
    tarfile.SYMTYPE,
    tarfile.CHRTYPE,
    tarfile.BLKTYPE,
    tarfile.DIRTYPE,
    tarfile.FIFOTYPE,
    tarfile.CONTTYPE,
    b"Z",
]


@given(
    names=st.lists(
        st.one_of(
            st.sampled_from([fmt.MANIFEST, fmt.SNAPSHOT, "../drift.db", "/drift.db", "a/../b"]),
            st.text(min_size=1, max_size=30).filter(lambda n: "\0" not in n),
        ),
        min_size=1,
        max_size=4,
    ),
    kinds=st.lists(st.sampled_from(_TYPES), min_size=4, max_size=4),
)
def test_any_member_layout_but_ours_is_refused(
    snapshot_bytes: bytes,
    tmp_path_factory: pytest.TempPathFactory,
    names: list[str],
    kinds: list[bytes],
) -> None:
    tmp = tmp_path_factory.mktemp("layout")
    data = {fmt.MANIFEST: manifest_bytes(snapshot_bytes), fmt.SNAPSHOT: snapshot_bytes}
    members = [
        member(name, data.get(name, b"payload"), kind=kind, linkname="target")
        for name, kind in zip(names, kinds, strict=False)
    ]
    archive = tmp / "layout.tar.zst"
    archive.write_bytes(zst(tar_of(*members)))
    into = tmp / "into"
    into.mkdir()
    ours = [(m.name, m.isreg()) for m, _ in members] == [(fmt.MANIFEST, True), (fmt.SNAPSHOT, True)]
    try:
        fmt.read_archive(archive, into, room_bytes=1 << 30)
    except IntegrityError:
        assert not ours
    else:
        assert ours
    assert {p.name for p in tmp.rglob("*")} <= {"layout.tar.zst", "into", fmt.SNAPSHOT}
