#!/usr/bin/env bash
# Lint, format check, type check and the tests, with the interpreter of the venv given
# (default .venv). pytest's "no tests collected" (exit 5) is a failure here.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
echo "== ruff"; "$VENV/bin/ruff" check src tests benchmarks
"$VENV/bin/ruff" format --check src tests benchmarks
echo "== mypy"; "$VENV/bin/mypy"
echo "== pytest"
set +e
"$VENV/bin/python" -m pytest -q "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$code"
