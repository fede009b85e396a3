"""The backup archive: one tar stream compressed with zstd, and its backup id.

Members, in this order and nothing else:

- `manifest.json`: format and versions, created-at, reason, and the size and xxh3-128 of
  every other member;
- `drift.db`: the database snapshot.

Member metadata is fixed (regular file, mode 0644, uid/gid 0, no user names, mtime =
created-at), so an archive depends only on its content and creation time.

Reading treats the archive as hostile. Before a byte is written it checks every member
header: only the expected names, in order, each once; regular files only (no links,
devices, folders or sparse files); no absolute or `..` paths; sizes bounded and equal to
the manifest's. The decompressed stream has a byte budget that grows only by what the
manifest declares, so a decompression bomb stops at the budget, not at a full disk. The
snapshot is checksummed while it streams into a new file in a folder the caller owns;
anything after the last member other than tar's zero padding is refused.
"""

from __future__ import annotations

import io
import os
import re
import tarfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Annotated

import msgspec
import xxhash
import zstandard
from msgspec import Meta

from driftstore.errors import (
    BackupNotFoundError,
    IntegrityError,
    InvalidInputError,
    StorageFullError,
    UnsafeArchiveError,
)
from driftstore.formats.text import json_problem
from driftstore.model.clock import format_iso, parse_iso

FORMAT = "driftstore-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SNAPSHOT = "drift.db"
SUFFIX = ".tar.zst"
ZSTD_LEVEL = 3

#: the manifest is a few hundred bytes; anything near this is not ours
MANIFEST_MAX = 64 * 1024
#: a snapshot header claiming more than this is a bomb, not a database (1 TiB)
SNAPSHOT_MAX = 1 << 40
#: zstd level 3 uses a 2 MiB window; a hostile frame may not demand more memory than this
MAX_WINDOW = 1 << 25
CHUNK = 1 << 20
#: zstd worker threads: compression runs beside the reads and writes (about 2x on 2 cores)
THREADS = max(1, min(4, os.cpu_count() or 1))
_BLOCK = tarfile.BLOCKSIZE
_RECORD = tarfile.RECORDSIZE
#: headers before a member: its own, plus a pax or GNU long-name header and its data
_HEADER_ROOM = 4 * _BLOCK

_REASON = re.compile(r"[a-z0-9][a-z0-9-]{0,39}", re.ASCII)
_ID = re.compile(r"([0-9]{8}T[0-9]{9}Z)-([a-z0-9][a-z0-9-]{0,39})", re.ASCII)
_ID_TIME = "%Y%m%dT%H%M%S"
#: longest reason text kept in a manifest
REASON_MAX = 200


# --- ids -------------------------------------------------------------------------------
def reason_slug(reason: str) -> str:
    """The part of a backup id that says why: `Before big refactor` -> `before-big-refactor`."""
    slug = re.sub(r"[^a-z0-9]+", "-", reason.lower(), flags=re.ASCII).strip("-")[:40].strip("-")
    if not slug or len(reason) > REASON_MAX:
        raise InvalidInputError(
            f"backup reason {reason[:60]!r}: give 1-{REASON_MAX} characters with at least one "
            "letter or digit (e.g. before-refactor)"
        )
    return slug


def check_reason(reason: str) -> str:
    if not _REASON.fullmatch(reason):
        raise InvalidInputError(
            f"backup reason {reason!r}: use 1-40 lowercase letters, digits and dashes "
            "(e.g. before-refactor)"
        )
    return reason


def make_backup_id(moment: datetime, reason: str) -> str:
    """`20261124T051300123Z-migrate`: sorts by time, and is a safe file name."""
    moment = moment.astimezone(UTC)
    return f"{moment.strftime(_ID_TIME)}{moment.microsecond // 1000:03d}Z-{check_reason(reason)}"


def parse_backup_id(backup_id: str) -> tuple[datetime, str]:
    """(created-at, reason) of an id; BackupNotFoundError for anything that is not an id,
    path-like text included, so a user-given id can never name a file elsewhere."""
    match = _ID.fullmatch(backup_id)
    moment = None
    if match:
        stamp = match.group(1)
        try:
            moment = datetime.strptime(stamp[:15], _ID_TIME).replace(
                microsecond=int(stamp[15:18]) * 1000, tzinfo=UTC
            )
        except ValueError:
            moment = None
    if match is None or moment is None:
        raise BackupNotFoundError(
            f"{backup_id!r} is not a backup id (they look like 20260101T120000000Z-manual); "
            "run 'driftstore backup list' to see them"
        )
    return moment, match.group(2)


def archive_name(backup_id: str) -> str:
    parse_backup_id(backup_id)
    return backup_id + SUFFIX


def id_of_archive(file_name: str) -> str | None:
    """The backup id an archive file name carries, or None for other files."""
    if not file_name.endswith(SUFFIX):
        return None
    candidate = file_name[: -len(SUFFIX)]
    try:
        parse_backup_id(candidate)
    except BackupNotFoundError:
        return None
    return candidate


def created_iso(backup_id: str) -> str:
    return format_iso(parse_backup_id(backup_id)[0])


# --- the manifest ----------------------------------------------------------------------
Hex128 = Annotated[str, Meta(pattern="^[0-9a-f]{32}$")]
Size = Annotated[int, Meta(ge=0)]


class Member(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    name: str
    size: Size
    xxh3_128: Hex128


class Manifest(msgspec.Struct, rename="camel", kw_only=True):
    format: str
    format_version: int
    created_at: str
    reason: str
    driftstore_version: str
    schema_version: int
    members: list[Member]

    def snapshot(self) -> Member:
        return next(m for m in self.members if m.name == SNAPSHOT)


def checksum_file(path: Path, name: str = SNAPSHOT) -> Member:
    """Size and xxh3-128 of a file (about 7 GB/s: a cheap pass before archiving)."""
    digest = xxhash.xxh3_128()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return Member(name=name, size=size, xxh3_128=digest.hexdigest())


def _check_manifest(raw: bytes, where: Path) -> Manifest:
    try:
        manifest = msgspec.json.decode(raw, type=Manifest)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise IntegrityError(
            f"{where}: the archive's manifest is not valid ({json_problem(raw, exc)})"
        ) from None
    if manifest.format != FORMAT:
        raise IntegrityError(f"{where}: not a driftstore backup (format {manifest.format!r})")
    if manifest.format_version != FORMAT_VERSION:
        raise IntegrityError(
            f"{where}: backup format {manifest.format_version} is not one this driftstore reads "
            f"({FORMAT_VERSION}); use the driftstore version that wrote it"
        )
    names = [m.name for m in manifest.members]
    if names != [SNAPSHOT]:
        raise UnsafeArchiveError(
            f"{where}: the manifest lists members {names}; a backup holds exactly "
            f"[{SNAPSHOT!r}] — the archive was not written by driftstore"
        )
    return manifest


# --- writing ---------------------------------------------------------------------------
def _member_info(name: str, size: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = mtime
    info.mode = 0o644
    info.type = tarfile.REGTYPE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _write_member(out: IO[bytes], info: tarfile.TarInfo, data: IO[bytes]) -> int:
    """One tar member: header, exactly `info.size` bytes, zero padding. Returns bytes written."""
    header = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    out.write(header)
    left = info.size
    while left:
        chunk = data.read(min(CHUNK, left))
        if not chunk:
            raise IntegrityError(f"{info.name}: the file shrank while it was being archived")
        out.write(chunk)
        left -= len(chunk)
    pad = -info.size % _BLOCK
    out.write(b"\0" * pad)
    return len(header) + info.size + pad


def write_archive(
    out: IO[bytes], manifest: Manifest, snapshot: Path, *, threads: int = THREADS
) -> None:
    """Stream manifest + snapshot as tar through zstd into `out` (not closed, not synced).

    The tar stream is written here from tarfile's own headers rather than through
    TarFile, whose stream mode copies each buffered chunk once more per write.
    """
    mtime = int(parse_iso(manifest.created_at).timestamp())
    body = msgspec.json.format(msgspec.json.encode(manifest), indent=2) + b"\n"
    member = manifest.snapshot()
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True, threads=threads)
    with compressor.stream_writer(out, closefd=False, write_size=CHUNK) as packed:
        written = _write_member(packed, _member_info(MANIFEST, len(body), mtime), io.BytesIO(body))
        with snapshot.open("rb") as data:
            written += _write_member(packed, _member_info(SNAPSHOT, member.size, mtime), data)
        # end of archive: two zero blocks, then zeros up to a whole tar record
        trailer = 2 * _BLOCK + (-(written + 2 * _BLOCK) % _RECORD)
        packed.write(b"\0" * trailer)


# --- reading ---------------------------------------------------------------------------
class _Budget:
    """The decompressed stream tarfile reads, refusing to yield more than `limit` bytes."""

    def __init__(self, source: IO[bytes], limit: int, where: Path) -> None:
        self._source = source
        self.limit = limit
        self.used = 0
        self._where = where

    def read(self, size: int = -1, /) -> bytes:
        if size == 0:
            return b""
        room = self.limit - self.used
        if room <= 0:
            if self._source.read(1):
                raise UnsafeArchiveError(
                    f"{self._where}: the archive holds more data than its headers and manifest "
                    "declare (a decompression bomb or a forged archive); nothing was restored"
                )
            return b""
        data = self._source.read(room if size < 0 else min(size, room))
        self.used += len(data)
        return bytes(data)

    def write(self, b: bytes, /) -> int:
        raise io.UnsupportedOperation("read-only")

    def tell(self) -> int:
        return self.used

    def seek(self, pos: int, /) -> int:
        raise io.UnsupportedOperation("not seekable")

    def close(self) -> None:
        """The caller closes the underlying file."""


def _kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return f"a symbolic link to {member.linkname!r}"
    if member.islnk():
        return f"a hard link to {member.linkname!r}"
    if member.ischr() or member.isblk():
        return "a device"
    if member.isfifo():
        return "a FIFO"
    if member.isdir():
        return "a folder"
    if member.issparse():
        return "a sparse file"
    return f"a tar entry of type {member.type!r}"


def _check_member(
    member: tarfile.TarInfo | None, expected: str, seen: set[str], where: Path
) -> tarfile.TarInfo:
    """The member must be the regular file `expected`; every refusal names why."""
    if member is None:
        raise IntegrityError(
            f"{where}: the archive ends before its {expected!r} member (truncated or damaged); "
            "choose another backup"
        )
    name = member.name
    path = PurePosixPath(name)
    if name.startswith(("/", "\\")) or path.is_absolute() or re.match(r"[A-Za-z]:", name):
        raise UnsafeArchiveError(f"{where}: member {name!r} has an absolute path; refused")
    if ".." in path.parts or ".." in name.split("\\"):
        raise UnsafeArchiveError(
            f"{where}: member {name!r} would escape the archive's folder ('..'); refused"
        )
    if not member.isreg() or member.issparse():
        raise UnsafeArchiveError(
            f"{where}: member {name!r} is {_kind(member)}; a backup holds regular files only"
        )
    if name in seen:
        raise UnsafeArchiveError(f"{where}: member {name!r} appears twice; refused")
    if name != expected:
        raise UnsafeArchiveError(
            f"{where}: unexpected member {name!r} (expected {expected!r}); a backup holds "
            f"only {MANIFEST} and {SNAPSHOT}"
        )
    seen.add(name)
    return member


def _padded(size: int) -> int:
    return -(-size // _BLOCK) * _BLOCK


def _open_new(path: Path) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    return os.open(path, flags, 0o600)


def read_archive(archive: Path, into: Path, *, room_bytes: int, sync: bool = True) -> Manifest:
    """Verify `archive` and write its snapshot to the new file `into/drift.db`, synced to
    disk unless `sync` is False (a copy that is only read from and then deleted).

    UnsafeArchiveError for a hostile layout, IntegrityError for a damaged archive,
    StorageFullError when the snapshot needs more than `room_bytes` (checked before
    writing). On any error the caller removes `into`.
    """
    try:
        with archive.open("rb") as raw:
            reader = zstandard.ZstdDecompressor(max_window_size=MAX_WINDOW).stream_reader(
                raw, read_size=CHUNK
            )
            budget = _Budget(reader, MANIFEST_MAX + _HEADER_ROOM, archive)
            return _read_members(budget, archive, into, room_bytes, sync)
    except (tarfile.TarError, zstandard.ZstdError, EOFError, UnicodeDecodeError) as exc:
        raise IntegrityError(
            f"{archive}: the archive is damaged or truncated ({exc}); choose another backup"
        ) from None


def _read_members(
    budget: _Budget, archive: Path, into: Path, room_bytes: int, sync: bool
) -> Manifest:
    seen: set[str] = set()
    with tarfile.open(fileobj=budget, mode="r|", bufsize=CHUNK) as tar:
        head = _check_member(tar.next(), MANIFEST, seen, archive)
        if head.size > MANIFEST_MAX:
            raise UnsafeArchiveError(
                f"{archive}: the manifest claims {head.size} bytes (at most {MANIFEST_MAX}); refused"
            )
        manifest = _check_manifest(_read_all(tar, head), archive)
        expected = manifest.snapshot()
        if expected.size > SNAPSHOT_MAX:
            raise UnsafeArchiveError(
                f"{archive}: the snapshot claims {expected.size} bytes (a decompression bomb "
                "or a forged archive); refused"
            )
        if expected.size > room_bytes:
            raise StorageFullError(
                f"{archive}: restoring needs {expected.size // 1_000_000 + 1} MB of free disk "
                f"space and {max(0, room_bytes) // 1_000_000} MB are free; nothing was "
                "changed — free some space and run it again"
            )
        # the budget grows only by what the manifest declared, plus headers and padding
        budget.limit = budget.used + _HEADER_ROOM + _padded(expected.size) + 2 * _BLOCK + _RECORD
        body = _check_member(tar.next(), SNAPSHOT, seen, archive)
        if body.size != expected.size:
            raise UnsafeArchiveError(
                f"{archive}: {SNAPSHOT} is {body.size} bytes in its header but "
                f"{expected.size} in the manifest; refused"
            )
        digest = _extract(tar, body, into / SNAPSHOT, sync)
        if digest != expected.xxh3_128:
            raise IntegrityError(
                f"{archive}: {SNAPSHOT} does not match the manifest's checksum (damaged "
                "archive); choose another backup"
            )
        extra = tar.next()
        if extra is not None:
            _check_member(extra, "(end of archive)", seen, archive)
        _check_tail(tar, budget, archive)
    return manifest


def _read_all(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    if handle is None:  # pragma: no cover - _check_member admits regular files only
        raise UnsafeArchiveError(f"member {member.name!r} has no data")
    data = handle.read(member.size + 1)
    if len(data) != member.size:
        raise IntegrityError(
            f"member {member.name!r}: {len(data)} bytes, header says {member.size}"
        )
    return data


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path, sync: bool) -> str:
    handle = tar.extractfile(member)
    if handle is None:  # pragma: no cover - _check_member admits regular files only
        raise UnsafeArchiveError(f"member {member.name!r} has no data")
    digest = xxhash.xxh3_128()
    done = 0
    with os.fdopen(_open_new(target), "wb", buffering=0) as out:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            done += len(chunk)
        if sync:
            os.fsync(out.fileno())
    if done != member.size:
        raise IntegrityError(f"{target.name}: {done} bytes extracted, header says {member.size}")
    return str(digest.hexdigest())


def _check_tail(tar: tarfile.TarFile, budget: _Budget, archive: Path) -> None:
    """After the end-of-archive block, only zero padding up to tar's record size."""
    rest = tar.fileobj.read(_RECORD + 2 * _BLOCK)
    if rest.strip(b"\0") or tar.fileobj.read(1):
        raise UnsafeArchiveError(
            f"{archive}: data follows the last member (a forged or damaged archive); refused"
        )
    if budget.used % _RECORD:
        raise IntegrityError(
            f"{archive}: the archive ends early (truncated: {budget.used} bytes of tar data); "
            "choose another backup"
        )
