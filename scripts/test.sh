#!/usr/bin/env bash
# The whole test suite on the locked versions: lint, format check, type check, tests (with
# the quick fault suite and a benchmark smoke run). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec bash scripts/checks.sh "$@"
