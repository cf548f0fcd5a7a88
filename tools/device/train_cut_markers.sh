#!/usr/bin/env bash
# Issue 20, item 3 on the GPU machine in one call: train the cut-marker segmenter
# (`train-segmenter --form cut-markers`) with more compute than the 2-core machine has, on the
# dev set's training half (--split 0.5 --seed 1, the learned segmenter's split) so that the
# held-out half stays unseen, then the held-out comparison with hybrid (the same command's
# report.json). Back in $OUT: model.safetensors (under 16 MiB for LAYERS <= 2) and
# cut-markers.tgz (config.json, tokenizer.json, cut_markers.json, report.json, train.log,
# summary.md): to ship the checkpoint, put model.safetensors and the first three of the archive in
# resources/segmenters/cut-markers/ (its README there records the recipe).
#
# The trainer (core/learn/cut_marker_trainer.cpp) runs on the CPU by default, so this uses the
# machine's 16 cores: about 8 times the dev machine's throughput. DEVICE=cuda passes --device cuda
# (the trainer's CUDA path, float32; not yet run on a GPU: compare its loss with a CPU run first).
#
# Needs, carried (git-ignored) beside .deps: segcorpus-data/segdev.jsonl[.xz] (a copy of
# ../shared/data/segdev.jsonl, which does not travel); with EXTRA=1 also
# segcorpus-data/segcorpus.jsonl[.xz] as --extra-data (then no corpus domain is unseen).
#   source .deps/setup.sh > /dev/null && bash tools/device/train_cut_markers.sh
# TIME_EVAL=1 then times `eval --segmenter cut-markers` over the whole dev set on two cores of that
# machine (taskset -c 0,1, two torch threads: a stand-in for the 2-core dev machine).
# BUDGET (training seconds, default 240), LAYERS (demo-model layers kept, 1), WINDOW (approx-tokens
# per window, 512), BATCH (windows per step, 8), LR (1e-3), THREADS (16), INIT (a checkpoint to go on
# from instead of resources/models/demo: a cut-marker checkpoint continues training).
set -uo pipefail
# shellcheck source=tools/device/seg_common.sh
source "$(dirname "$0")/seg_common.sh"
seg_start /tmp/cut-train
BUDGET=${BUDGET:-240} LAYERS=${LAYERS:-1} WINDOW=${WINDOW:-512} BATCH=${BATCH:-8} LR=${LR:-1e-3}
THREADS=${THREADS:-16} EXTRA=${EXTRA:-0} DEVICE=${DEVICE:-cpu} INIT=${INIT:-resources/models/demo}

dev=$(seg_data segdev.jsonl) || { echo "segcorpus-data/segdev.jsonl(.xz) missing: copy ../shared/data/segdev.jsonl there"; exit 1; }
extra=()
if [ "$EXTRA" = 1 ]; then
  corpus=$(seg_data segcorpus.jsonl) || { echo "segcorpus-data/segcorpus.jsonl(.xz) missing"; exit 1; }
  extra=(--extra-data "$corpus")
fi
device=(); [ "$DEVICE" != cpu ] && device=(--device "$DEVICE")
init_layers=(--init-layers "$LAYERS"); [ "$INIT" != resources/models/demo ] && init_layers=()

seg_build

echo "== train: ${BUDGET} s, window $WINDOW, batch $BATCH, init $INIT ($(elapsed) s)"
set -x
"$cli" train-segmenter --form cut-markers --data "$dev" --split 0.5 --seed 1 "${extra[@]}" \
  --init "$INIT" "${init_layers[@]}" --window-tokens "$WINDOW" --batch "$BATCH" --learning-rate "$LR" \
  --steps "${STEPS:-100000}" --warmup 20 --time-budget "$BUDGET" --threads "$THREADS" "${device[@]}" --out "$W/ck" --json \
  > "$W/report-stdout.json" 2> "$W/train.log"
rc=$?
set +x
grep -E '^step' "$W/train.log" | tail -5
[ -f "$W/ck/model.safetensors" ] && cp "$W/ck/model.safetensors" "$OUT/"
python3 - "$W/ck/report.json" <<'PY' | tee "$OUT/summary.md"
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    sys.exit(f"no report: {e}")
print(f"steps {r['steps']}, windows {r['windows']}, tokens {r['tokens']}, parameters {r['parameters']}, "
      f"loss {r['first_loss']} -> {r['final_loss']}, {r['training_seconds']} s training")
print("| held out | docs | cut-markers Pk | hybrid Pk |")
print("| --- | ---: | ---: | ---: |")
for g in r.get("held_out_groups", []):
    print(f"| {g['category']} / {g['variant']} | {g['documents']} | {g['pk']} | {g['baseline_pk']} |")
PY
if [ "${TIME_EVAL:-0}" = 1 ] && [ -f "$W/ck/config.json" ]; then
  echo "== eval --segmenter cut-markers on the whole dev set, 2 cores ($(elapsed) s)"
  TIMEFORMAT='eval of the dev set, 2 cores: wall %R s, user %U s, system %S s'
  { time BLOCKLENS_CUT_MARKER_MODEL="$W/ck" OMP_NUM_THREADS=2 taskset -c 0,1 "$cli" eval "$dev" \
      --segmenter cut-markers --json > "$W/ck/eval-dev.json" 2> "$W/eval.err"; } 2> "$W/eval-time.log"
  tee -a "$OUT/summary.md" < "$W/eval-time.log"
  python3 -c 'import json,sys; [print(g["category"], g["variant"], g["documents"], round(g["pk"], 4)) for g in json.load(open(sys.argv[1]))["groups"]]' \
    "$W/ck/eval-dev.json" | tee -a "$OUT/summary.md"
  cp "$W/eval-time.log" "$W/ck/"
fi
cp "$W/train.log" "$W/ck/"; cp "$OUT/summary.md" "$W/ck/"
tar czf "$OUT/cut-markers.tgz" -C "$W/ck" --exclude=model.safetensors .
echo "done in $(elapsed) s (train rc $rc)"
exit $rc
