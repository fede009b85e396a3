#!/usr/bin/env bash
# The whole suite against the newest versions pyproject.toml's ranges allow (not the lock),
# in .venv-latest: a release that would break a user shows up here before it reaches one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
UV=.venv-tools/bin/uv
PY=${PYTHON:-python3}
export UV_PYTHON_DOWNLOADS=never
rm -rf .venv-latest
"$UV" venv --quiet --python "$PY" .venv-latest
extras=$("$PY" - <<'PYEOF'
import tomllib
with open("pyproject.toml", "rb") as f:
    data = tomllib.load(f)
names = sorted(data["project"].get("optional-dependencies", {}))
print(",".join(names))
PYEOF
)
target="."
[ -n "$extras" ] && target=".[$extras]"
"$UV" pip install --quiet --python .venv-latest/bin/python --resolution highest --upgrade \
  -e "$target" --group dev
"$UV" pip list --python .venv-latest/bin/python
VENV=.venv-latest exec bash scripts/checks.sh "$@"
