#!/usr/bin/env bash
# Refresh uv.lock to the newest versions pyproject.toml's ranges allow, then run the whole
# suite on them: commit uv.lock only when this passes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
.venv-tools/bin/uv lock --upgrade
bash scripts/test.sh
