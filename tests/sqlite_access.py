"""For tests that look inside (or damage) a SQLite store on purpose: its Database and file."""

from __future__ import annotations

from pathlib import Path

from driftstore import PatternStore
from driftstore.engine.sqlite.connection import Database
from driftstore.engine.sqlite.engine import SqliteEngine


def database(store: PatternStore) -> Database:
    engine = store.engine
    assert isinstance(engine, SqliteEngine), "this test looks inside a SQLite store"
    return engine.db


def db_path(store: PatternStore) -> Path:
    return database(store).path
