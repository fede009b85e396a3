#!/usr/bin/env bash
# The whole test suite on the locked versions: lint, format check, type check, tests (with
# the quick fault suite and a benchmark smoke run). Extra arguments go to pytest.
# The tests need a PostgreSQL server: one is started here for the run (data and socket in a
# private temp folder, no TCP port) and stopped after it; DRIFTSTORE_TEST_PG names one to
# use instead. No server means a failed run, never skipped tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${DRIFTSTORE_TEST_PG:-}" ]; then
  PG_DIR=$(mktemp -d /tmp/driftstore-pg-XXXXXX)
  trap '.venv/bin/python -m tests.pg_server stop "$PG_DIR"' EXIT
  DRIFTSTORE_TEST_PG=$(.venv/bin/python -m tests.pg_server start "$PG_DIR") || {
    echo "test: no PostgreSQL server could be started (see above); the suite needs one" >&2
    exit 1
  }
  export DRIFTSTORE_TEST_PG
fi
bash scripts/checks.sh "$@"
