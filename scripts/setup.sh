#!/usr/bin/env bash
# Set up .venv with exactly the versions in uv.lock (hashes checked). Needs only python3
# (3.11+): uv itself is installed first, pinned by hash, into .venv-tools/.
#   bash scripts/setup.sh          driftstore, its test tools and every extra (the test command)
#   bash scripts/setup.sh --core   driftstore alone (the demo)
# Safe to repeat: an up-to-date .venv is checked in well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
TOOLS=.venv-tools
if [ ! -x "$TOOLS/bin/uv" ] || ! grep -q "$(sed -n 's/^uv==\([0-9.]*\).*/\1/p' scripts/uv-requirements.txt)" "$TOOLS/.uv-version" 2>/dev/null; then
  rm -rf "$TOOLS"
  "$PY" -m venv "$TOOLS"
  PIP_CONFIG_FILE=/dev/null "$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
    --only-binary=:all: -r scripts/uv-requirements.txt
  "$TOOLS/bin/uv" --version > "$TOOLS/.uv-version"
fi
export UV_PYTHON_DOWNLOADS=never   # use this machine's Python, never fetch one
if [ "${1:-}" != "--core" ] && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 \
   && ! command -v pg_ctl >/dev/null 2>&1; then
  # the tests run a throwaway PostgreSQL server (tests/pg_server.py): Debian's package
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing PostgreSQL (Debian's postgresql package) for the tests" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }
  else
    echo "setup: PostgreSQL is not installed and cannot be installed here (needs root and apt-get); the PostgreSQL tests will fail until it is (or DRIFTSTORE_TEST_PG names a server)" >&2
  fi
fi
if [ "${1:-}" = "--core" ]; then
  "$TOOLS/bin/uv" sync --quiet --locked --python "$PY" --no-dev
else
  "$TOOLS/bin/uv" sync --quiet --locked --python "$PY" --all-extras
fi
