#!/usr/bin/env bash
# Makes the screenshots in docs/screenshots headlessly (Xvfb), with the app's --screenshot and
# --action options. Usage: tools/screenshots.sh [BUILD_DIR]   (default build/main)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
app=${1:-$root/build/main}/app/gui/blocklens
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
# Side by side, the TTFT race and presentation mode (issue 7): the bundled demo model, or MODEL=DIR.
model=${MODEL:-$root/resources/models/demo}
# Common screens (issue 15): the main window and the side by side at 1366x768 and 1920x1080, light
# and dark, each at exactly the screen's size (the window must fit it).
for size in 1366x768 1920x1080; do
  for theme in light dark; do
    xvfb-run -a -s "-screen 0 ${size}x24" timeout 240 "$app" --size "$size" --$theme --no-model \
      --screenshot "$out/main-window-$size-$theme.png" "$demo" 2>/dev/null
    if [ -f "$model/config.json" ]; then
      xvfb-run -a -s "-screen 0 ${size}x24" timeout 240 "$app" --size "$size" --$theme --model "$model" \
        --action runComparison --screenshot "$out/side-by-side-$size-$theme.png" "$demo" 2>/dev/null
    fi
  done
done
if [ -f "$model/config.json" ]; then
  shot --light --model "$model" --action runComparison --screenshot "$out/side-by-side.png" "$demo"
  shot --dark --model "$model" --action raceTtft --screenshot "$out/ttft-race.png" "$demo"
  shot --light --model "$model" --action presentationMode,presentationNext --screenshot "$out/presentation-blocks.png" "$demo"
  # Presentation step 3 (the heatmap) on a 1366x768 screen: every leakage column in view, a one-line caption (issue 15 item 8).
  xvfb-run -a -s "-screen 0 1366x768x24" timeout 240 "$app" --size 1366x768 --light --model "$model" \
    --action presentationMode,presentationNext,presentationNext,analyseAttention --screenshot "$out/presentation-heatmap-1366x768-light.png" "$demo" 2>/dev/null
  # The repair chart (issue 18): core's repair sweep of the demo document.
  shot --light --model "$model" --action repairChart --screenshot "$out/repair-chart.png" "$demo"
  # Block distillation (issue 19): the block-distilled model's block attention beside the base
  # model's, when there is one (a directory beside it named <model>-block-distilled or -distill).
  for suffix in -block-distilled -distill -distilled; do
    if [ -f "$model$suffix/config.json" ]; then
      shot --light --model "$model" --action compareDistilled --screenshot "$out/side-by-side-distilled.png" "$demo"
      break
    fi
  done
  # Heatmap and experiments: runs and evaluations recorded by the CLI into the throwaway
  # workspace for the experiments browser.
  cli=$(dirname "$app")/../cli/blocklens-cli
  half=$(dirname "$BLOCKLENS_DB")/half.md   # a second input length for the TTFT chart
  head -n 40 "$demo" > "$half"
  for input in "$demo" "$half"; do
    for seg in hybrid fixed paragraphs; do
      "$cli" compare --model "$model" --input "$input" --segmenter "$seg" --query "Why does block attention need good cuts?" \
        --max-new-tokens 8 --db "$BLOCKLENS_DB" >/dev/null
    done
  done
  if [ -f "$dev" ]; then
    for seg in hybrid fixed texttiling; do "$cli" eval "$dev" --segmenter "$seg" --db "$BLOCKLENS_DB" >/dev/null; done
  fi
  shot --light --model "$model" --action analyseAttention --screenshot "$out/heatmap.png" "$demo"
  shot --light --no-model --action openExperiments --screenshot "$out/experiments-runs.png" "$demo"
  shot --light --no-model --action openExperiments,experimentsTtftChart --screenshot "$out/experiments-ttft.png" "$demo"
  shot --light --no-model --action openExperiments,experimentsMetricsChart --screenshot "$out/experiments-metrics.png" "$demo"
  # The heatmap and the experiments browser (runs by document name, TTFT in view) on a 1366x768
  # screen (issue 15), from the same workspace.
  xvfb-run -a -s "-screen 0 1366x768x24" timeout 240 "$app" --size 1366x768 --light --model "$model" \
    --action analyseAttention --screenshot "$out/heatmap-1366x768-light.png" "$demo" 2>/dev/null
  xvfb-run -a -s "-screen 0 1366x768x24" timeout 240 "$app" --size 1366x768 --light --no-model \
    --action openExperiments --screenshot "$out/experiments-1366x768-light.png" "$demo" 2>/dev/null
fi
ls -la "$out"
