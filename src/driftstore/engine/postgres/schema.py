"""The PostgreSQL schema: the seed's five tables and seven indexes, each with the project
key leading its primary key and indexes, so one database holds many projects and every
statement names the project it reads or writes.

The children's foreign keys are checked at commit (DEFERRABLE INITIALLY DEFERRED): still
enforced, but a bulk ingest that inserts patterns and COPYs their locations in one
transaction no longer slows down as it goes (checked row by row while the parent table grew
in the same transaction, a first ingest of M took 327 s; deferred, ~25 s).

Columns keep the SQLite schema's names and stored types (INTEGER as BIGINT, REAL as DOUBLE
PRECISION, times as ISO-8601 TEXT), so a row hashes to the same digest on both engines and
moves between them unchanged. `driftstore_schema` records the schema version of the
database; each migration runs in one transaction under an advisory lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import psycopg

#: advisory lock key (any constant) held while the schema is created or upgraded
SCHEMA_LOCK = 0x44524654

SEED_TABLES = (
    "patterns",
    "pattern_locations",
    "pattern_variants",
    "pattern_examples",
    "pattern_history",
)

_V1 = """
CREATE TABLE driftstore_projects (
  project TEXT PRIMARY KEY,
  generation BIGINT NOT NULL DEFAULT 0,
  changes_reset BIGINT NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);

CREATE TABLE patterns (
  project TEXT NOT NULL REFERENCES driftstore_projects (project),
  id TEXT NOT NULL,
  category TEXT NOT NULL,
  subcategory TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT,
  status TEXT NOT NULL DEFAULT 'discovered',
  detection_method TEXT NOT NULL,
  detector_id TEXT NOT NULL,
  pattern_id TEXT NOT NULL,
  confidence_frequency DOUBLE PRECISION,
  confidence_consistency DOUBLE PRECISION,
  confidence_age BIGINT,
  confidence_spread BIGINT,
  confidence_score DOUBLE PRECISION,
  confidence_level TEXT,
  severity TEXT DEFAULT 'info',
  auto_fixable BIGINT DEFAULT 0,
  first_seen TEXT,
  last_seen TEXT,
  source TEXT DEFAULT 'auto-detected',
  tags TEXT,
  created_at TEXT,
  updated_at TEXT,
  detector_type TEXT,
  approved_at TEXT,
  approved_by TEXT,
  location_count BIGINT NOT NULL DEFAULT 0,
  outlier_count BIGINT NOT NULL DEFAULT 0,
  content_hash TEXT,
  extras TEXT,
  layout TEXT,
  row_digest TEXT,
  rows_digest TEXT,
  PRIMARY KEY (project, id)
);

CREATE TABLE pattern_locations (
  project TEXT NOT NULL,
  id BIGSERIAL NOT NULL,
  pattern_id TEXT NOT NULL,
  file TEXT NOT NULL,
  line BIGINT NOT NULL,
  column_num BIGINT NOT NULL,
  is_outlier BIGINT DEFAULT 0,
  confidence DOUBLE PRECISION,
  outlier_reason TEXT,
  created_at TEXT,
  list_kind BIGINT NOT NULL DEFAULT 0,
  outlier_key BIGINT,
  end_line BIGINT,
  end_column BIGINT,
  deviation_score DOUBLE PRECISION,
  snippet TEXT,
  original_file TEXT,
  extras TEXT,
  PRIMARY KEY (project, id),
  FOREIGN KEY (project, pattern_id) REFERENCES patterns (project, id)
    DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE pattern_variants (
  project TEXT NOT NULL,
  id BIGSERIAL NOT NULL,
  pattern_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  scope_path TEXT,
  severity_override TEXT,
  enabled_override BIGINT,
  threshold_override DOUBLE PRECISION,
  config_override TEXT,
  expires_at TEXT,
  created_at TEXT,
  row_digest TEXT,
  PRIMARY KEY (project, id),
  FOREIGN KEY (project, pattern_id) REFERENCES patterns (project, id)
    DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE pattern_examples (
  project TEXT NOT NULL,
  id BIGSERIAL NOT NULL,
  pattern_id TEXT NOT NULL,
  file TEXT NOT NULL,
  code TEXT NOT NULL,
  line_start BIGINT,
  line_end BIGINT,
  is_positive BIGINT DEFAULT 1,
  created_at TEXT,
  language TEXT,
  row_digest TEXT,
  PRIMARY KEY (project, id),
  FOREIGN KEY (project, pattern_id) REFERENCES patterns (project, id)
    DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE pattern_history (
  project TEXT NOT NULL REFERENCES driftstore_projects (project),
  id BIGSERIAL NOT NULL,
  pattern_id TEXT NOT NULL,
  action TEXT NOT NULL,
  old_value TEXT,
  new_value TEXT,
  created_at TEXT,
  changed_by TEXT,
  reason TEXT,
  row_digest TEXT,
  PRIMARY KEY (project, id)
);

CREATE INDEX idx_patterns_category ON patterns (project, category);
CREATE INDEX idx_patterns_status ON patterns (project, status);
CREATE INDEX idx_patterns_confidence ON patterns (project, confidence_score);
CREATE INDEX idx_pattern_locations_file ON pattern_locations (project, file);
CREATE INDEX idx_pattern_locations_pattern ON pattern_locations (project, pattern_id, id);
CREATE INDEX idx_pattern_variants_pattern ON pattern_variants (project, pattern_id);
CREATE INDEX idx_pattern_variants_scope ON pattern_variants (project, scope, scope_path);
CREATE INDEX idx_pattern_examples_pattern ON pattern_examples (project, pattern_id);
CREATE INDEX idx_pattern_history_pattern ON pattern_history (project, pattern_id, id);
CREATE INDEX idx_pattern_history_created ON pattern_history (project, created_at);

CREATE TABLE export_state (
  project TEXT NOT NULL REFERENCES driftstore_projects (project),
  category TEXT NOT NULL,
  layout TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT '',
  checksum TEXT NOT NULL,
  last_updated TEXT NOT NULL,
  PRIMARY KEY (project, category, layout, status)
);

CREATE TABLE store_meta (
  project TEXT NOT NULL REFERENCES driftstore_projects (project),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (project, key)
);

CREATE TABLE pattern_changes (
  project TEXT NOT NULL,
  generation BIGINT NOT NULL,
  pattern_id TEXT NOT NULL,
  PRIMARY KEY (project, generation, pattern_id)
);
"""


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[psycopg.Cursor[tuple[object, ...]]], None]


def _apply_v1(cur: psycopg.Cursor[tuple[object, ...]]) -> None:
    cur.execute(_V1)


def _apply_v6(cur: psycopg.Cursor[tuple[object, ...]]) -> None:
    """The scan echo and location summary of each pattern (SQLite's migration 6)."""
    cur.execute("ALTER TABLE patterns ADD COLUMN scan_echo TEXT")
    cur.execute("ALTER TABLE patterns ADD COLUMN locations_summary TEXT")


#: schema versions count the data model, shared by both engines: each one holds what a
#: SQLite store at that version holds, so a snapshot of either engine is at the same version
MIGRATIONS: tuple[Migration, ...] = (
    Migration(5, "seed schema with a project key, digests and the change log", _apply_v1),
    Migration(6, "scan echoes and location summaries beside their patterns", _apply_v6),
)
SCHEMA_VERSION = MIGRATIONS[-1].version
