#!/usr/bin/env bash
# driftstore's main job on bundled sample data, in a scratch project folder:
# ingest a realistic scan, decide on a pattern, and ask what an editor asks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
DS=.venv/bin/driftstore
demo=${DEMO_DIR:-demo-project}
rm -rf "$demo"
mkdir -p "$demo"

echo "== 1. ingest a scan of a small TypeScript shop (samples/scan.json)"
$DS ingest samples/scan.json --root "$demo"
echo "== 2. the same scan again: nothing changes"
$DS ingest samples/scan.json --root "$demo"
top=$($DS list --root "$demo" --json --sort confidence --desc --limit 1 \
      | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["patterns"][0]["id"])')
echo "== 3. approve the most confident pattern ($top)"
$DS approve "$top" --by demo --root "$demo"
echo "== 4. status"
$DS status --root "$demo"
echo "== 5. which patterns touch src/api/routes/products.ts? (the editor's question)"
$DS file src/api/routes/products.ts --root "$demo"
echo "== 6. history of $top"
$DS history "$top" --root "$demo"
