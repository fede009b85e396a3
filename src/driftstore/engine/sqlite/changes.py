"""The store generation and the change log (schema v4).

`store_meta` holds `generation` (moved by one in every transaction that wrote something,
inside that transaction: writers take turns under SQLite's write lock, so generations are
in commit order) and `changes-reset` (a generation before which the change log cannot say
what changed: a restore, or a write that touched too many patterns to list).
`pattern_changes` lists, per generation, the patterns it touched; only the last
KEEP_GENERATIONS generations are kept.
"""

from __future__ import annotations

from collections.abc import Iterable

import apsw

from driftstore.engine.base import ChangeSet
from driftstore.engine.sqlite.sql import scalar

GENERATION_KEY = "generation"
RESET_KEY = "changes-reset"
#: store_meta keys of the engine itself: `Reader.meta` and `Writer.put_meta` never touch them
RESERVED_META = frozenset({GENERATION_KEY, RESET_KEY})
#: generations whose changed ids are kept (older asks get "everything changed")
KEEP_GENERATIONS = 10_000
#: a write that touches more patterns than this records "everything" instead of ids
MAX_LISTED = 50_000

SCHEMA = f"""
INSERT OR IGNORE INTO store_meta (key, value) VALUES ('{GENERATION_KEY}', '0');
INSERT OR IGNORE INTO store_meta (key, value) VALUES ('{RESET_KEY}', '0');
CREATE TABLE pattern_changes (
  generation INTEGER NOT NULL,
  pattern_id TEXT NOT NULL,
  PRIMARY KEY (generation, pattern_id)
) WITHOUT ROWID;
"""

_GET = "SELECT CAST(value AS INTEGER) FROM store_meta WHERE key = ?"
_SET = (
    "INSERT INTO store_meta (key, value) VALUES (?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)


def current(conn: apsw.Connection | apsw.Cursor) -> int:
    """The committed generation as this connection's transaction sees it."""
    value = conn.execute(_GET, (GENERATION_KEY,)).fetchone()
    return 0 if value is None or value[0] is None else int(value[0])


def record(cur: apsw.Cursor, changed: Iterable[str], *, reset: bool = False) -> int:
    """Move the generation by one and list what this transaction changed; returns it."""
    generation = current(cur) + 1
    cur.execute(_SET, (GENERATION_KEY, str(generation)))
    ids = sorted(set(changed))
    if reset or len(ids) > MAX_LISTED:
        cur.execute(_SET, (RESET_KEY, str(generation)))
        cur.execute("DELETE FROM pattern_changes")
    else:
        cur.executemany(
            "INSERT OR IGNORE INTO pattern_changes (generation, pattern_id) VALUES (?, ?)",
            [(generation, pid) for pid in ids],
        )
        if generation > KEEP_GENERATIONS:
            cur.execute(
                "DELETE FROM pattern_changes WHERE generation <= ?",
                (generation - KEEP_GENERATIONS,),
            )
    return generation


def since(conn: apsw.Connection | apsw.Cursor, generation: int) -> ChangeSet:
    """What changed after `generation`, read in one snapshot."""
    now = current(conn)
    if generation == now:
        return ChangeSet(now, frozenset())
    reset = scalar(
        conn,
        "SELECT coalesce(max(CAST(value AS INTEGER)), 0) FROM store_meta WHERE key = ?",
        (RESET_KEY,),
    )
    floor = max(int(reset), now - KEEP_GENERATIONS)
    if generation < floor or generation > now:  # too old to tell, or from before a restore
        return ChangeSet(now, None)
    ids = frozenset(
        row[0]
        for row in conn.execute(
            "SELECT DISTINCT pattern_id FROM pattern_changes WHERE generation > ?", (generation,)
        )
    )
    return ChangeSet(now, ids)
