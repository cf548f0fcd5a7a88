#!/usr/bin/env bash
# Block fine-tuning vs block distillation of the demo model (issue 19), on the CPU: both recipes
# from resources/models/demo on the same training windows (same steps, batch, seed, tokens), then
# eval-block on held-out documents (demo-data/corpus/valid.txt, the default segmenter at its
# default granularity). Needs demo-data/corpus from tools/demo_model/prepare.sh (make_corpus.py).
#   bash tools/demo_model/block_distill.sh [BUILD_DIR] [OUT_DIR]
# STEPS, BATCH, WINDOW, LR, EVAL_DOCS override the sizes below (the figures in
# tools/demo_model/block_distill.md used the defaults).
set -euo pipefail
build=${1:-build}
out=${2:-demo-data/block-distill}
cli="$build/app/cli/blocklens-cli"
mkdir -p "$out"
STEPS=${STEPS:-24} BATCH=${BATCH:-2} WINDOW=${WINDOW:-256} LR=${LR:-3e-4} EVAL_DOCS=${EVAL_DOCS:-40}
# Training windows: blocks of about 64 tokens from the default segmenter (finer than its default,
# so every window has several blocks); 200 training documents, at most 2 windows each.
common=(--model resources/models/demo --data demo-data/corpus/train.txt --max-docs 200 --windows-per-doc 2
        --window "$WINDOW" --target-tokens 64 --steps "$STEPS" --batch "$BATCH" --warmup 3 --lr "$LR" --min-lr-ratio 0.1
        --seed 1 --log-every 2 --checkpoint-every 8 --threads 2 --json)
/usr/bin/time -f "%e s wall" nice -n 19 "$cli" train-block "${common[@]}" --recipe block-ft --out "$out/block-ft" \
  > "$out/block-ft.json" 2> "$out/block-ft.log"
/usr/bin/time -f "%e s wall" nice -n 19 "$cli" train-block "${common[@]}" --recipe distill --block-dropout 0.3 --token-weighting 1 \
  --out "$out/distill" > "$out/distill.json" 2> "$out/distill.log"
nice -n 19 "$cli" eval-block --model "$out/distill" --baseline "resources/models/demo,$out/block-ft" \
  --data demo-data/corpus/valid.txt --window 1024 --windows-per-doc 2 --max-docs "$EVAL_DOCS" --json > "$out/eval.json" 2> "$out/eval.log"
cat "$out/block-ft.json" "$out/distill.json" "$out/eval.json"
