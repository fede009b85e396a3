"""PatternStore: the one public entry to a project's pattern store.

Everything a user can do goes through here, for the CLI and Python callers alike. The
store owns the database, takes a backup before destructive work, and keeps history in
the same transaction as every change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import msgspec
from msgspec import UNSET

from driftstore.engine import history as history_sql
from driftstore.engine import patterns as pattern_sql
from driftstore.engine import queries
from driftstore.engine.connection import Database
from driftstore.errors import (
    DriftStoreError,
    InvalidInputError,
    InvalidStatusTransitionError,
    PatternAlreadyExistsError,
    PatternNotFoundError,
)
from driftstore.facade.ingest import IngestReport, merge_scan
from driftstore.formats.scan import read_scan
from driftstore.model.clock import normalise_iso, now_iso
from driftstore.model.digest import content_hash, snapshot
from driftstore.model.entry import to_entry
from driftstore.model.enums import HistoryAction, Status, can_move
from driftstore.model.paths import normalise_path
from driftstore.model.pattern import Pattern
from driftstore.model.query import PatternFilter, QueryResult, Sort, SortField
from driftstore.model.records import HistoryEntry
from driftstore.model.validate import validated

DRIFT_DIR = ".drift"
DB_NAME = "drift.db"

#: fields update() may change; status goes through the same checks as approve/ignore
_UPDATABLE = frozenset(
    {
        "name",
        "description",
        "category",
        "subcategory",
        "severity",
        "confidence",
        "detector",
        "detection_method",
        "locations",
        "outliers",
        "metadata",
        "auto_fixable",
        "status",
    }
)


class PatternStore:
    """A project's store: `<root>/.drift/drift.db` plus the files beside it."""

    def __init__(self, root: str | Path, *, create: bool = True) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise InvalidInputError(
                f"{root}: no such folder; pass an existing project folder as root"
            )
        self.drift_dir = self.root / DRIFT_DIR
        self.db_path = self.drift_dir / DB_NAME
        if not self.db_path.exists() and not create:
            raise DriftStoreError(f"{self.db_path}: no store here; run 'driftstore init' first")
        try:
            self.drift_dir.mkdir(exist_ok=True)
        except OSError as exc:
            raise DriftStoreError(f"{self.drift_dir}: cannot create it ({exc.strerror})") from None
        self.db = Database(self.db_path)

    # --- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> PatternStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- single patterns ---------------------------------------------------------------
    def add(self, pattern: Pattern, *, by: str | None = None) -> Pattern:
        """Insert one new pattern; PatternAlreadyExistsError if the id is taken."""
        return self.add_many([pattern], by=by)[0]

    def add_many(self, items: Iterable[Pattern], *, by: str | None = None) -> list[Pattern]:
        """Insert new patterns in one transaction: all of them, or none."""
        checked = [validated(p, where=f"pattern {p.id!r}") for p in items]
        now = now_iso()
        seen: set[str] = set()
        with self.db.transaction() as cur:
            for p in checked:
                if p.id in seen or pattern_sql.exists(cur, p.id):
                    raise PatternAlreadyExistsError(p.id)
                seen.add(p.id)
                if p.metadata.first_seen is UNSET:
                    p.metadata.first_seen = now
                if p.metadata.last_seen is UNSET:
                    p.metadata.last_seen = p.metadata.first_seen
                pattern_sql.insert_pattern(
                    cur, p, content_hash=content_hash(p), created_at=now, updated_at=now
                )
                history_sql.record(
                    cur, p.id, HistoryAction.CREATED, None, snapshot(p), at=now, by=by
                )
        self._changed([p.id for p in checked])
        return checked

    def get(self, pattern_id: str) -> Pattern | None:
        with self.db.reader() as conn:
            return pattern_sql.load_pattern(conn, pattern_id)

    def require(self, pattern_id: str) -> Pattern:
        found = self.get(pattern_id)
        if found is None:
            raise PatternNotFoundError(pattern_id)
        return found

    def exists(self, pattern_id: str) -> bool:
        with self.db.reader() as conn:
            return pattern_sql.exists(conn, pattern_id)

    def count(self, filter: PatternFilter | None = None) -> int:
        return self.query(filter, limit=0).total

    def update(self, pattern_id: str, *, by: str | None = None, **changes: Any) -> Pattern:
        """Change fields of one pattern (history: updated, or approved/ignored for status)."""
        unknown = sorted(set(changes) - _UPDATABLE)
        if unknown:
            raise InvalidInputError(
                f"update: cannot change {', '.join(unknown)}; changeable fields are "
                f"{', '.join(sorted(_UPDATABLE))}"
            )
        now = now_iso()
        with self.db.transaction() as cur:
            stored = pattern_sql.load_pattern(cur, pattern_id)
            if stored is None:
                raise PatternNotFoundError(pattern_id)
            action = HistoryAction.UPDATED
            if "status" in changes:
                target = Status(changes["status"])
                if target != stored.status:
                    self._check_move(pattern_id, stored.status, target)
                    action = HistoryAction(target.value) if target != Status.DISCOVERED else action
            builtins = msgspec.to_builtins(stored)
            for key, value in changes.items():
                field = msgspec.structs.fields(Pattern)
                name = next(f.encode_name for f in field if f.name == key)
                builtins[name] = msgspec.to_builtins(value)
            try:
                new = msgspec.convert(builtins, Pattern)
            except msgspec.ValidationError as exc:
                raise InvalidInputError(f"update {pattern_id!r}: {exc}") from None
            new = validated(new, where=f"update {pattern_id!r}")
            if new.status == Status.APPROVED and stored.status != Status.APPROVED:
                new.metadata.approved_at = now
                new.metadata.approved_by = by if by is not None else UNSET
            created = pattern_sql.created_at(cur, pattern_id)
            pattern_sql.replace_pattern_row(
                cur, new, content_hash=content_hash(new), created_at=created, updated_at=now
            )
            if new.locations != stored.locations or new.outliers != stored.outliers:
                pattern_sql.delete_locations(cur, pattern_id)
                pattern_sql.insert_locations(cur, new)
            history_sql.record(
                cur, pattern_id, action, snapshot(stored), snapshot(new), at=now, by=by
            )
        self._changed([pattern_id])
        return new

    def delete(self, pattern_id: str, *, by: str | None = None) -> bool:
        """Remove a pattern and everything hanging off it. False if it was not there."""
        now = now_iso()
        with self.db.transaction() as cur:
            stored = pattern_sql.load_pattern(cur, pattern_id)
            if stored is None:
                return False
            pattern_sql.delete_pattern(cur, pattern_id)
            history_sql.record(
                cur, pattern_id, HistoryAction.DELETED, snapshot(stored), None, at=now, by=by
            )
        self._changed([pattern_id])
        return True

    # --- decisions ---------------------------------------------------------------------
    @staticmethod
    def _check_move(pattern_id: str, current: Status, target: Status) -> None:
        if not can_move(current, target):
            raise InvalidStatusTransitionError(pattern_id, current.value, target.value)

    def set_status(self, ids: Sequence[str], target: Status, *, by: str | None = None) -> list[str]:
        """Move every id to `target` in one transaction; one refused move refuses all."""
        if not ids:
            raise InvalidInputError("give at least one pattern id")
        now = now_iso()
        with self.db.transaction() as cur:
            for pattern_id in dict.fromkeys(ids):
                stored = pattern_sql.load_pattern(cur, pattern_id, with_locations=False)
                if stored is None:
                    raise PatternNotFoundError(pattern_id)
                self._check_move(pattern_id, stored.status, target)
                old = {"status": stored.status.value}
                new: dict[str, Any] = {"status": target.value}
                if target == Status.APPROVED:
                    cur.execute(
                        "UPDATE patterns SET status = ?, approved_at = ?, approved_by = ?, "
                        "updated_at = ? WHERE id = ?",
                        (target.value, now, by, now, pattern_id),
                    )
                    new.update(approvedAt=now, approvedBy=by)
                else:
                    cur.execute(
                        "UPDATE patterns SET status = ?, updated_at = ? WHERE id = ?",
                        (target.value, now, pattern_id),
                    )
                history_sql.record(
                    cur, pattern_id, HistoryAction(target.value), old, new, at=now, by=by
                )
        return list(dict.fromkeys(ids))

    def approve(self, pattern_id: str | Sequence[str], by: str | None = None) -> list[str]:
        ids = [pattern_id] if isinstance(pattern_id, str) else list(pattern_id)
        return self.set_status(ids, Status.APPROVED, by=by)

    def ignore(self, pattern_id: str | Sequence[str], by: str | None = None) -> list[str]:
        ids = [pattern_id] if isinstance(pattern_id, str) else list(pattern_id)
        return self.set_status(ids, Status.IGNORED, by=by)

    # --- reading many ------------------------------------------------------------------
    def query(
        self,
        filter: PatternFilter | None = None,
        sort: Sort | SortField | str | None = None,
        offset: int = 0,
        limit: int | None = None,
        *,
        cursor: str | None = None,
    ) -> QueryResult:
        if sort is None:
            sort = Sort()
        elif not isinstance(sort, Sort):
            sort = Sort(field=_sort_field(sort))
        with self.db.reader() as conn:
            return queries.run_query(
                conn, filter or PatternFilter(), sort, offset=offset, limit=limit, cursor=cursor
            )

    def by_file(self, path: str) -> list[Pattern]:
        """Patterns with a location or outlier in `path`, each carrying only that file's
        locations and outliers (what an editor shows for the open file)."""
        file = normalise_path(path)
        with self.db.reader() as conn:
            ids = [
                row[0]
                for row in conn.execute(
                    "SELECT DISTINCT pattern_id FROM pattern_locations WHERE file = ?", (file,)
                )
            ]
            found = pattern_sql.load_patterns(conn, sorted(ids))
        for p in found:
            p.locations = [loc for loc in p.locations if loc.file == file]
            p.outliers = [loc for loc in p.outliers if loc.file == file]
        return found

    def status(self) -> dict[str, Any]:
        with self.db.reader() as conn:
            return queries.status_counts(conn)

    def history(
        self,
        id: str | None = None,
        since: str | None = None,
        limit: int | None = None,
    ) -> list[HistoryEntry]:
        if since is not None:
            try:
                since = normalise_iso(since)
            except ValueError:
                raise InvalidInputError(
                    f"since {since!r} is not an ISO-8601 time; use e.g. 2026-05-01T12:00:00Z"
                ) from None
        if limit is not None and limit < 0:
            raise InvalidInputError("limit must be 0 or more")
        with self.db.reader() as conn:
            return history_sql.read(conn, id, since=since, limit=limit)

    def require_id(self, pattern_id: str) -> None:
        """PatternNotFoundError unless the id is stored or has history (deleted ones do)."""
        with self.db.reader() as conn:
            if pattern_sql.exists(conn, pattern_id) or history_sql.read(conn, pattern_id, limit=1):
                return
        raise PatternNotFoundError(pattern_id)

    def describe(self, pattern_id: str) -> dict[str, Any]:
        """`show`: the v2 entry plus category, variants, examples and history."""
        with self.db.reader() as conn:
            p = pattern_sql.load_pattern(conn, pattern_id)
            if p is None:
                raise PatternNotFoundError(pattern_id)
            entries = history_sql.read(conn, pattern_id)
        detail = to_entry(p)
        detail["category"] = p.category
        detail["variants"] = []
        detail["examples"] = []
        detail["history"] = [msgspec.to_builtins(h) for h in entries]
        return detail

    def file_report(self, path: str) -> dict[str, Any]:
        """`file`: patterns touching PATH with their locations there and effective settings.

        Answered from SQL so a one-shot process does not build the whole in-memory index.
        """
        file = normalise_path(path)
        rows: dict[str, list[dict[str, Any]]] = {}
        with self.db.reader() as conn:
            for pid, line, column, outlier in conn.execute(
                "SELECT pattern_id, line, column_num, is_outlier FROM pattern_locations "
                "WHERE file = ? ORDER BY pattern_id, line, column_num",
                (file,),
            ):
                rows.setdefault(pid, []).append(
                    {"line": line, "column": column, "isOutlier": bool(outlier)}
                )
            summaries = (
                queries.run_query(
                    conn, PatternFilter(ids=sorted(rows)), Sort(), offset=0, limit=None
                ).patterns
                if rows
                else []
            )
        patterns = []
        for s in summaries:
            item = msgspec.to_builtins(s)
            item["locations"] = rows[s.id]
            item["effective"] = {
                "severity": s.severity.value,
                "enabled": True,
                "threshold": None,
                "config": None,
            }
            patterns.append(item)
        return {"file": file, "patterns": patterns}

    # --- scans -------------------------------------------------------------------------
    def ingest(
        self,
        entries: Iterable[Pattern] | str | Path | IO[bytes],
        prune: bool = False,
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> IngestReport:
        """Merge a scan (patterns, or a path / '-' / stream of scan JSON) into the store."""
        if isinstance(entries, str | Path) or hasattr(entries, "read"):
            source = read_scan(entries)  # type: ignore[arg-type]
        else:
            source = (validated(p, where=f"pattern {p.id!r}") for p in entries)
        report = merge_scan(self.db, source, prune=prune, on_progress=on_progress)
        self._changed(report.changed_ids)
        return report

    # --- hooks for caches --------------------------------------------------------------
    def _changed(self, ids: Iterable[str]) -> None:
        """Called after this process committed changes to these patterns."""


def _sort_field(value: SortField | str) -> SortField:
    try:
        return SortField(value)
    except ValueError:
        raise InvalidInputError(
            f"cannot sort by {value!r}; choose one of {', '.join(f.value for f in SortField)}"
        ) from None


def open(root: str | Path = ".", *, create: bool = True) -> PatternStore:
    """Open (and by default create) the store of the project at `root`."""
    return PatternStore(root, create=create)
