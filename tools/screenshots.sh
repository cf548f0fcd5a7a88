#!/usr/bin/env bash
# Makes the screenshots in docs/screenshots headlessly (Xvfb), with the app's --screenshot and
# --action options. Usage: tools/screenshots.sh [BUILD_DIR]   (default build/release)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
app=${1:-$root/build/release}/app/gui/blocklens
out=$root/docs/screenshots
mkdir -p "$out"
export BLOCKLENS_DB=$(mktemp -d)/screenshots.db   # a throwaway workspace
demo=$root/resources/demo/block-attention.md
dev=$root/../shared/data/segdev.jsonl
shot() { timeout 240 xvfb-run -a -s "-screen 0 1600x1000x24" "$app" --size 1500x940 "$@" 2>/dev/null; }
shot --light --screenshot "$out/main-window.png" "$demo"
shot --dark --action showTokens --screenshot "$out/dark-tokens.png" "$demo"
shot --light --action shortcuts --screenshot "$out/shortcuts.png" "$demo"
if [ -f "$dev" ]; then
  shot --light --action compareSegmenters --screenshot "$out/dataset-compare.png" "$dev"
  shot --light --action reviewQueue --screenshot "$out/review-queue.png" "$dev"
fi
ls -la "$out"
