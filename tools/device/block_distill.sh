#!/usr/bin/env bash
# Issue 19, item 3 on the GPU machine in one call: block distillation vs block fine-tuning of the
# demo model on the demo corpus, same steps and same windows, then eval-block on held-out documents.
#   1. configure + build blocklens-cli (torch with CUDA, no UI);
#   2. a six-step smoke run of train-block on CUDA (a failure ends the call early) gives the step
#      time, so S steps of distillation fill about DISTILL_BUDGET seconds;
#   3. distill, then block-ft, both for S steps on the same windows (same seed, batch, window and
#      schedule: the same tokens);
#   4. eval-block on the validation split: base, block-ft, distill (KL(full || block) and top-1 on the
#      last block, full-attention perplexity);
#   5. the distilled checkpoint comes back in pieces under 16 MiB (model.safetensors.part-*), the
#      table last (summary.md).
# Needs demo-data/corpus (tools/demo_model/make_corpus.py), or demo-gpu/*.xz, carried with .deps:
#   source .deps/setup.sh > /dev/null && bash tools/device/block_distill.sh
# DISTILL_BUDGET (s, default 150), BATCH (16), WINDOW (1024), LR (1e-4), TARGET_TOKENS (128),
# EVAL_DOCS (0: every validation document), LOSS_ON (last-block; or all) for both recipes.
set -uo pipefail
t0=$(date +%s)
elapsed() { echo $(( $(date +%s) - t0 )); }
FINAL=${OUT:-/tmp/out}; OUT=/tmp/logs-distill; rm -rf "$OUT"; mkdir -p "$OUT" "$FINAL"
trap 'cp "$OUT/summary.md" "$OUT/eval.json" "$OUT/distill.json" "$OUT/block-ft.json" "$FINAL/" 2>/dev/null; tar czf "$FINAL/logs.tgz" -C "$OUT" --exclude=ckpt .' EXIT
build=/tmp/build-distill
export PYTHONUNBUFFERED=1
BUDGET=${DISTILL_BUDGET:-150} BATCH=${BATCH:-16} WINDOW=${WINDOW:-1024} LR=${LR:-1e-4}
TARGET=${TARGET_TOKENS:-128} EVAL_DOCS=${EVAL_DOCS:-0} LOSS_ON=${LOSS_ON:-last-block}
nvidia-smi --query-gpu=name,driver_version,memory.used --format=csv,noheader | tee "$OUT/gpu.txt"
# The corpus travels compressed (what travels is capped at 64 MiB): demo-gpu/{train,valid}.txt.xz, a
# seeded sample of whole training documents and the whole validation split (see block_distill.md).
if [ -s demo-gpu/train.txt.xz ]; then mkdir -p demo-data/corpus; xz -dc demo-gpu/train.txt.xz > demo-data/corpus/train.txt
  xz -dc demo-gpu/valid.txt.xz > demo-data/corpus/valid.txt; fi
[ -s demo-data/corpus/train.txt ] || { echo "demo-data/corpus/train.txt missing: carry demo-gpu (or demo-data)"; exit 1; }

echo "== configure + build ($(elapsed) s)"
cmake -S . -B "$build" -G Ninja $DEVICE_CMAKE_ARGS -DCMAKE_BUILD_TYPE=Release -DBLOCKLENS_BUILD_UI=OFF -DBLOCKLENS_WITH_NET=OFF \
  -DBLOCKLENS_WITH_TORCH=ON -DBLOCKLENS_BUILD_BENCH=OFF > "$OUT/configure.log" 2>&1 || { tail -30 "$OUT/configure.log"; exit 1; }
cmake --build "$build" --parallel 16 --target blocklens-cli > "$OUT/build.log" 2>&1 \
  || { grep -E 'error' "$OUT/build.log" | head -30; exit 1; }
echo "built in $(elapsed) s"
cli="$build/app/cli/blocklens-cli"
ck=$OUT/ckpt; mkdir -p "$ck"
common=(--model resources/models/demo --data demo-data/corpus/train.txt --window "$WINDOW" --target-tokens "$TARGET"
        --batch "$BATCH" --warmup 20 --lr "$LR" --loss-on "$LOSS_ON" --min-lr-ratio 0.1 --seed 1 --log-every 25 --checkpoint-every 0
        --device cuda --json)

echo "== smoke: 6 steps, for the step time ($(elapsed) s)"
"$cli" train-block "${common[@]}" --steps 6 --recipe distill --block-dropout 0.3 --token-weighting 1 --out "$ck/smoke" \
  > "$OUT/smoke.json" 2> "$OUT/smoke.log" || { tail -20 "$OUT/smoke.log"; exit 1; }
# Both recipes get the same step count S (and so the same cosine schedule and windows): S steps of
# distillation fill about BUDGET seconds at the smoke run's pace (its first steps are the slowest).
steps=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(max(10, int(int(sys.argv[2]) * j["steps"] / j["seconds"])))' \
  "$OUT/smoke.json" "$BUDGET") || { cat "$OUT/smoke.json"; exit 1; }
echo "smoke: $(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["steps"], "steps in", round(j["seconds"], 1), "s")' "$OUT/smoke.json"); S = $steps"

for recipe in distill block-ft; do
  echo "== $recipe, $steps steps ($(elapsed) s)"
  extra=(); [ "$recipe" = distill ] && extra=(--block-dropout 0.3 --token-weighting 1)
  "$cli" train-block "${common[@]}" --steps "$steps" --time-budget $(( BUDGET * 2 )) --recipe "$recipe" "${extra[@]}" \
    --out "$ck/$recipe" --log "$OUT/$recipe-steps.jsonl" > "$OUT/$recipe.json" 2> "$OUT/$recipe.log" \
    || { tail -20 "$OUT/$recipe.log"; exit 1; }
  tail -2 "$OUT/$recipe.log"
done

echo "== eval-block ($(elapsed) s)"
"$cli" eval-block --model "$ck/distill" --baseline "resources/models/demo,$ck/block-ft" --data demo-data/corpus/valid.txt \
  --window "$WINDOW" --windows-per-doc 2 --max-docs "$EVAL_DOCS" --device cuda --json > "$OUT/eval.json" 2> "$OUT/eval.log" \
  || { tail -20 "$OUT/eval.log"; exit 1; }
cat "$OUT/eval.log" | tail -8

# The checkpoint back in pieces (what comes back is capped at 16 MiB a file).
cp "$ck/distill/config.json" "$FINAL/distill-config.json"
split -b 15M -d "$ck/distill/model.safetensors" "$FINAL/model.safetensors.part-"
sha256sum "$ck/distill/model.safetensors" | tee "$OUT/model.sha256"

python3 - "$OUT" "$(elapsed)" <<'PY' | tee "$OUT/summary.md"
import json, sys
out, secs = sys.argv[1], sys.argv[2]
ev = json.load(open(f"{out}/eval.json"))
tr = {r: json.load(open(f"{out}/{r}.json")) for r in ("block-ft", "distill")}
print(f"# block distillation on the GPU, loss on {tr['distill'].get('loss_on')} ({open(out + '/gpu.txt').read().strip()}), {secs} s in all\n")
print("| recipe | steps | tokens | training s | tokens/s | final loss |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for r, j in tr.items():
    print(f"| {r} | {j['steps']} | {j['tokens_seen']} | {j['seconds']:.1f} | {j['tokens_seen'] / max(j['seconds'], 1e-9):,.0f} | {j['final_loss']:.4f} |")
print("\n```json\n" + json.dumps(ev, indent=1)[:6000] + "\n```")
PY
