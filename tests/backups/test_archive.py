"""The archive format: ids, manifest, and write -> read round trips."""

from __future__ import annotations

import io
import json
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from driftstore.errors import BackupNotFoundError, IntegrityError, InvalidInputError
from driftstore.formats import backups as fmt


def _write(tmp: Path, payload: bytes, reason: str = "test") -> tuple[Path, fmt.Manifest]:
    snap = tmp / "payload.db"
    snap.write_bytes(payload)
    manifest = fmt.Manifest(
        format=fmt.FORMAT,
        format_version=fmt.FORMAT_VERSION,
        created_at="2026-05-01T12:00:00.000Z",
        reason=reason,
        driftstore_version="0.1.0",
        schema_version=1,
        members=[fmt.checksum_file(snap)],
    )
    archive = tmp / "a.tar.zst"
    with archive.open("wb") as out:
        fmt.write_archive(out, manifest, snap)
    return archive, manifest


def _read(archive: Path, into: Path, limit: int = 1 << 30) -> fmt.Manifest:
    return fmt.read_archive(archive, into, room_bytes=limit)


@given(payload=st.binary(max_size=20_000), reason=st.text(max_size=30))
def test_round_trip_gives_back_the_bytes_and_manifest(
    tmp_path_factory: pytest.TempPathFactory, payload: bytes, reason: str
) -> None:
    tmp = tmp_path_factory.mktemp("rt")
    archive, manifest = _write(tmp, payload, reason)
    into = tmp / "into"
    into.mkdir()
    assert _read(archive, into) == manifest
    assert (into / fmt.SNAPSHOT).read_bytes() == payload


def test_archive_is_plain_tar_zstd_with_fixed_metadata(tmp_path: Path) -> None:
    """Any tar + zstd tool can list it; members carry no owner, time is created-at."""
    archive, manifest = _write(tmp_path, b"x" * 5000)
    raw = zstandard.ZstdDecompressor().stream_reader(archive.open("rb")).read()
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == [fmt.MANIFEST, fmt.SNAPSHOT]
        for m in members:
            assert (m.uid, m.gid, m.uname, m.gname, m.mode) == (0, 0, "", "", 0o644)
            assert m.mtime == int(datetime(2026, 5, 1, 12, tzinfo=UTC).timestamp())
        doc = json.loads(tar.extractfile(fmt.MANIFEST).read())  # type: ignore[union-attr]
    assert doc["members"] == [
        {"name": "drift.db", "size": 5000, "xxh3_128": manifest.members[0].xxh3_128}
    ]
    assert doc["format"] == "driftstore-backup" and doc["formatVersion"] == 1
    assert len(raw) % tarfile.RECORDSIZE == 0


def test_same_content_and_time_give_the_same_archive(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, _ = _write(tmp_path / "a", b"same" * 1000)
    second, _ = _write(tmp_path / "b", b"same" * 1000)
    assert first.read_bytes() == second.read_bytes()


def test_a_flipped_byte_in_the_snapshot_is_caught(tmp_path: Path, into: Path) -> None:
    archive, _ = _write(tmp_path, bytes(range(256)) * 40)
    raw = bytearray(zstandard.ZstdDecompressor().stream_reader(archive.open("rb")).read())
    with tarfile.open(fileobj=io.BytesIO(bytes(raw))) as tar:
        offset = tar.getmember(fmt.SNAPSHOT).offset_data
    raw[offset + 4000] ^= 0x01
    archive.write_bytes(zstandard.ZstdCompressor().compress(bytes(raw)))
    with pytest.raises(IntegrityError, match="checksum"):
        _read(archive, into)


# --- ids -------------------------------------------------------------------------------
@given(
    moment=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2999, 12, 31), timezones=st.just(UTC)
    ),
    reason=st.from_regex(r"[a-z0-9][a-z0-9-]{0,39}", fullmatch=True),
)
def test_ids_round_trip_and_sort_by_time(moment: datetime, reason: str) -> None:
    backup_id = fmt.make_backup_id(moment, reason)
    parsed, parsed_reason = fmt.parse_backup_id(backup_id)
    assert parsed_reason == reason
    assert parsed == moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    later = fmt.make_backup_id(moment + timedelta(milliseconds=1), reason)
    assert later > backup_id
    assert fmt.id_of_archive(fmt.archive_name(backup_id)) == backup_id


@pytest.mark.parametrize(
    "text",
    [
        "",
        "../20260101T000000000Z-manual",
        "20260101T000000000Z-manual/../../x",
        "/etc/passwd",
        "20260101T000000000Z-Manual",
        "20260101T000000000Z-",
        "20261301T000000000Z-manual",  # month 13
        "20260101T000000000Z-manual\n",
        "20260101T000000000Z-man ual",
        "２0260101T000000000Z-manual",  # a non-ASCII digit
    ],
)
def test_path_like_or_malformed_ids_are_refused(text: str) -> None:
    with pytest.raises(BackupNotFoundError):
        fmt.parse_backup_id(text)
    assert fmt.id_of_archive(text + fmt.SUFFIX) is None


@given(st.text(max_size=80))
def test_any_reason_text_gives_a_safe_slug_or_a_clear_refusal(text: str) -> None:
    try:
        slug = fmt.reason_slug(text)
    except InvalidInputError as exc:
        assert "reason" in str(exc)
        return
    assert fmt.check_reason(slug) == slug
    assert "/" not in slug and ".." not in slug


def test_reason_slug_examples() -> None:
    assert fmt.reason_slug("Before big refactor!") == "before-big-refactor"
    assert fmt.reason_slug("ingest-prune") == "ingest-prune"
    with pytest.raises(InvalidInputError):
        fmt.reason_slug("../")
    with pytest.raises(InvalidInputError):
        fmt.reason_slug("x" * 500)
