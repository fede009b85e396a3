"""The database schema (its migrations are in `migrations.py`).

The seed's five tables and seven indexes keep the seed's names and columns, so any SQLite
client can read the data as the seed documents it. Columns the seed is silent on are added
where data would otherwise be lost; seed columns are never renamed or dropped.

`PRAGMA user_version` holds the schema version; each migration runs in one transaction
together with its bookkeeping row.
"""

from __future__ import annotations

#: "DRFT": marks a SQLite file as a driftstore database
APPLICATION_ID = 0x44524654

SEED_TABLES = (
    "patterns",
    "pattern_locations",
    "pattern_variants",
    "pattern_examples",
    "pattern_history",
)

#: the seed's indexes on pattern_locations; dropped and rebuilt around bulk loads
LOCATION_INDEXES: dict[str, str] = {
    "idx_pattern_locations_file": "CREATE INDEX IF NOT EXISTS idx_pattern_locations_file "
    "ON pattern_locations(file)",
    "idx_pattern_locations_pattern": "CREATE INDEX IF NOT EXISTS idx_pattern_locations_pattern "
    "ON pattern_locations(pattern_id)",
}

SEED_SCHEMA = """
CREATE TABLE patterns (
  id TEXT PRIMARY KEY,
  category TEXT NOT NULL,
  subcategory TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT,
  status TEXT NOT NULL DEFAULT 'discovered',
  detection_method TEXT NOT NULL,
  detector_id TEXT NOT NULL,
  pattern_id TEXT NOT NULL,
  confidence_frequency REAL,
  confidence_consistency REAL,
  confidence_age INTEGER,
  confidence_spread INTEGER,
  confidence_score REAL,
  confidence_level TEXT,
  severity TEXT DEFAULT 'info',
  auto_fixable INTEGER DEFAULT 0,
  first_seen TEXT,
  last_seen TEXT,
  source TEXT DEFAULT 'auto-detected',
  tags TEXT,
  created_at TEXT DEFAULT (datetime('now')),
  updated_at TEXT DEFAULT (datetime('now')),
  -- added by driftstore: data the seed has no column for
  detector_type TEXT,
  approved_at TEXT,
  approved_by TEXT,
  location_count INTEGER NOT NULL DEFAULT 0,
  outlier_count INTEGER NOT NULL DEFAULT 0,
  content_hash TEXT,
  extras TEXT,
  layout TEXT
);

CREATE TABLE pattern_locations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  pattern_id TEXT NOT NULL REFERENCES patterns(id),
  file TEXT NOT NULL,
  line INTEGER NOT NULL,
  column_num INTEGER NOT NULL,
  is_outlier INTEGER DEFAULT 0,
  confidence REAL,
  outlier_reason TEXT,
  created_at TEXT DEFAULT (datetime('now')),
  -- added by driftstore
  list_kind INTEGER NOT NULL DEFAULT 0,
  outlier_key INTEGER,
  end_line INTEGER,
  end_column INTEGER,
  deviation_score REAL,
  snippet TEXT,
  original_file TEXT,
  extras TEXT
);

CREATE TABLE pattern_variants (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  pattern_id TEXT NOT NULL REFERENCES patterns(id),
  scope TEXT NOT NULL,
  scope_path TEXT,
  severity_override TEXT,
  enabled_override INTEGER,
  threshold_override REAL,
  config_override TEXT,
  expires_at TEXT,
  created_at TEXT DEFAULT (datetime('now'))
);

CREATE TABLE pattern_examples (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  pattern_id TEXT NOT NULL REFERENCES patterns(id),
  file TEXT NOT NULL,
  code TEXT NOT NULL,
  line_start INTEGER,
  line_end INTEGER,
  is_positive INTEGER DEFAULT 1,
  created_at TEXT DEFAULT (datetime('now')),
  -- added by driftstore
  language TEXT
);

CREATE TABLE pattern_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  pattern_id TEXT NOT NULL,
  action TEXT NOT NULL,
  old_value TEXT,
  new_value TEXT,
  created_at TEXT DEFAULT (datetime('now')),
  -- added by driftstore
  changed_by TEXT,
  reason TEXT
);

CREATE INDEX idx_patterns_category ON patterns(category);
CREATE INDEX idx_patterns_status ON patterns(status);
CREATE INDEX idx_patterns_confidence ON patterns(confidence_score);
CREATE INDEX idx_pattern_locations_file ON pattern_locations(file);
CREATE INDEX idx_pattern_locations_pattern ON pattern_locations(pattern_id);
CREATE INDEX idx_pattern_variants_pattern ON pattern_variants(pattern_id);
CREATE INDEX idx_pattern_variants_scope ON pattern_variants(scope, scope_path);

CREATE INDEX idx_pattern_examples_pattern ON pattern_examples(pattern_id);
CREATE INDEX idx_pattern_history_pattern ON pattern_history(pattern_id, id);
CREATE INDEX idx_pattern_history_created ON pattern_history(created_at);

-- per-category state of the last export, so lastUpdated moves only when content changed
CREATE TABLE export_state (
  category TEXT NOT NULL,
  layout TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT '',
  checksum TEXT NOT NULL,
  last_updated TEXT NOT NULL,
  PRIMARY KEY (category, layout, status)
);

-- key/value facts about the store (store id, generation)
CREATE TABLE store_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE schema_migrations (
  version INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
"""


SEVERITY_RANK_SQL = (
    "(CASE severity WHEN 'error' THEN 3 WHEN 'warning' THEN 2 WHEN 'info' THEN 1 ELSE 0 END)"
)

#: sort key -> the SQL expression listings order by. NULLs are folded into a constant so
#: that (key, id) is a total order a keyset cursor can resume from; each expression has an
#: index of its own (below) whose text must match it exactly for SQLite to use it.
SORT_KEYS: dict[str, str] = {
    "id": "id",
    "name": "name",
    "category": "category",
    "status": "status",
    "confidence": "COALESCE(confidence_score, -1.0)",
    "severity": SEVERITY_RANK_SQL,
    "firstSeen": "COALESCE(first_seen, '')",
    "lastSeen": "COALESCE(last_seen, '')",
    "locationCount": "location_count",
    "outlierCount": "outlier_count",
}

#: the columns cheap filters read; sort indexes carry them so a listing never visits the
#: wide table rows until it has its page of ids
FILTER_COLUMNS = (
    "status, category, severity, confidence_level, confidence_score, location_count, "
    "outlier_count, first_seen, last_seen"
)


def sort_index_name(key: str) -> str:
    return "idx_patterns_sort_" + "".join("_" + c.lower() if c.isupper() else c for c in key)


STATS_SCHEMA = """
-- running totals behind `status`, kept by triggers so the summary never scans patterns
CREATE TABLE pattern_stats (
  status TEXT NOT NULL,
  category TEXT NOT NULL,
  confidence_level TEXT NOT NULL,
  patterns INTEGER NOT NULL,
  locations INTEGER NOT NULL,
  outliers INTEGER NOT NULL,
  score_sum REAL NOT NULL,
  PRIMARY KEY (status, category, confidence_level)
) WITHOUT ROWID;

INSERT INTO pattern_stats
  SELECT status, category, COALESCE(confidence_level, 'uncertain'), count(*),
         sum(location_count), sum(outlier_count), total(confidence_score)
  FROM patterns GROUP BY 1, 2, 3;

CREATE TRIGGER trg_pattern_stats_insert AFTER INSERT ON patterns BEGIN
  INSERT INTO pattern_stats VALUES (
    NEW.status, NEW.category, COALESCE(NEW.confidence_level, 'uncertain'), 1,
    NEW.location_count, NEW.outlier_count, COALESCE(NEW.confidence_score, 0.0))
  ON CONFLICT (status, category, confidence_level) DO UPDATE SET
    patterns = patterns + 1,
    locations = locations + excluded.locations,
    outliers = outliers + excluded.outliers,
    score_sum = score_sum + excluded.score_sum;
END;

CREATE TRIGGER trg_pattern_stats_delete AFTER DELETE ON patterns BEGIN
  UPDATE pattern_stats SET
    patterns = patterns - 1,
    locations = locations - OLD.location_count,
    outliers = outliers - OLD.outlier_count,
    score_sum = score_sum - COALESCE(OLD.confidence_score, 0.0)
  WHERE status = OLD.status AND category = OLD.category
    AND confidence_level = COALESCE(OLD.confidence_level, 'uncertain');
END;

CREATE TRIGGER trg_pattern_stats_update AFTER UPDATE OF
  status, category, confidence_level, location_count, outlier_count, confidence_score
  ON patterns BEGIN
  UPDATE pattern_stats SET
    patterns = patterns - 1,
    locations = locations - OLD.location_count,
    outliers = outliers - OLD.outlier_count,
    score_sum = score_sum - COALESCE(OLD.confidence_score, 0.0)
  WHERE status = OLD.status AND category = OLD.category
    AND confidence_level = COALESCE(OLD.confidence_level, 'uncertain');
  INSERT INTO pattern_stats VALUES (
    NEW.status, NEW.category, COALESCE(NEW.confidence_level, 'uncertain'), 1,
    NEW.location_count, NEW.outlier_count, COALESCE(NEW.confidence_score, 0.0))
  ON CONFLICT (status, category, confidence_level) DO UPDATE SET
    patterns = patterns + 1,
    locations = locations + excluded.locations,
    outliers = outliers + excluded.outliers,
    score_sum = score_sum + excluded.score_sum;
END;
"""


#: (table, column) of the digests `engine.integrity` keeps beside the data
DIGEST_COLUMNS = (
    ("patterns", "row_digest"),
    ("patterns", "rows_digest"),
    ("pattern_variants", "row_digest"),
    ("pattern_examples", "row_digest"),
    ("pattern_history", "row_digest"),
)
