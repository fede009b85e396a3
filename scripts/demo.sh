#!/usr/bin/env bash
# driftstore's main job on bundled sample data, in a scratch project folder (demo-project/):
# migrate a drift 0.9 .drift/ folder, merge a new scan, decide, ask what an editor asks,
# export reviewable shards and verify everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
DS=.venv/bin/driftstore
demo=${DEMO_DIR:-demo-project}
rm -rf "$demo"
mkdir -p "$demo"
cp -R samples/drift09/.drift "$demo/.drift"   # a project as drift 0.9 left it

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. migrate the drift 0.9 folder: dry run first (writes nothing)"
$DS migrate --dry-run --root "$demo"
step "2. migrate for real (every legacy checksum is checked; one file was tampered with on purpose)"
$DS migrate --root "$demo"
step "3. migrate again: nothing changes"
$DS migrate --root "$demo"
step "4. a new scan arrives (samples/scan.json): merge it"
$DS ingest samples/scan.json --root "$demo"
top=$($DS list --root "$demo" --json --status discovered --sort confidence --desc --limit 1 \
      | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["patterns"][0]["id"])')
step "5. approve the most confident discovered pattern ($top)"
$DS approve "$top" --by demo --root "$demo"
step "6. status"
$DS status --root "$demo"
step "7. which patterns touch src/api/routes/products.ts? (the editor's question)"
$DS file src/api/routes/products.ts --root "$demo"
step "8. export: v2 shards + indexes for git, and drift 0.9 files for teammates still on 0.9"
$DS export --root "$demo"
$DS export --layout v1 --root "$demo"
step "9. export again: byte-identical files (git sees no change)"
before=$(cat "$demo"/.drift/patterns/*.json | sha256sum)
$DS export --root "$demo" >/dev/null
after=$(cat "$demo"/.drift/patterns/*.json | sha256sum)
[ "$before" = "$after" ] && echo "identical"
step "10. verify the database and every pattern file"
$DS verify --root "$demo"
step "11. backups taken along the way"
$DS backup list --root "$demo"
