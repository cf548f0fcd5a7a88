#!/usr/bin/env bash
# Issue 20 on the GPU machine's 16 CPU cores in one call (no GPU used): the leave-one-domain-out
# table of the learned segmenter (tools/segcorpus/lodo.py, six folds side by side) for two sets of
# options, and the shipped model retrained with each (dev set + the whole corpus:
# tools/learn/train_default.sh's last step), so that the choice of options is made on the table,
# as issue 20 asks, and docs/benchmarks.md's table and resources/segmenters/learned.json come from
# one tree. 14 single-thread trainings at once; each train-segmenter run is deterministic on one
# torch thread, so the figures are those the 2-core machine gives, only sooner.
#   A: the defaults                  (--hidden 16 --epochs 30 --seed 1)
#   B: A without doc_fence_share     (+ --leave-out doc_fence_share)
# The chosen one: of those meeting the acceptance (every domain within +0.01 Pk of hybrid, mean
# better), the lower mean; if none meets it, A (and the output says so).
# Needs, carried (git-ignored) beside .deps:
#   segcorpus-data/segcorpus.jsonl[.xz]  (tools/segcorpus/make_segcorpus.py; SHA-256 in docs/benchmarks.md)
#   segcorpus-data/segdev.jsonl[.xz]     (a copy of ../shared/data/segdev.jsonl, which does not travel)
# Run from the repository root there:
#   source .deps/setup.sh > /dev/null && bash tools/device/lodo.sh
# Back in $OUT: learned.json (the chosen model: resources/segmenters/learned.json), lodo-A.json,
# lodo-B.json, lodo-logs.tgz (both tables, the shipped trainings' reports, every log); the tables
# and the choice are printed.
set -uo pipefail
# shellcheck source=tools/device/seg_common.sh
source "$(dirname "$0")/seg_common.sh"
seg_start /tmp/lodo-device
trap 'tar czf "$OUT/lodo-logs.tgz" -C "$W" --exclude="*.jsonl" . 2>/dev/null' EXIT
base=(--hidden 16 --epochs 30 --seed 1)  # the shipped recipe (tools/learn/train_default.sh)
declare -A variant=([A]="" [B]="--leave-out doc_fence_share")

corpus=$(seg_data segcorpus.jsonl) || { echo "segcorpus-data/segcorpus.jsonl(.xz) missing: carry segcorpus-data"; exit 1; }
dev=$(seg_data segdev.jsonl) || { echo "segcorpus-data/segdev.jsonl(.xz) missing: copy ../shared/data/segdev.jsonl there"; exit 1; }
sha256sum "$corpus" "$dev" | tee "$W/inputs.sha256"

seg_build

echo "== per variant: the shipped model (dev set + whole corpus) and the six folds, all at once ($(elapsed) s)"
cat "$dev" "$corpus" > "$W/segdev+segcorpus.jsonl"
for v in A B; do
  # shellcheck disable=SC2206
  opts=("${base[@]}" ${variant[$v]})
  ( "$cli" train-segmenter --data "$W/segdev+segcorpus.jsonl" --out "$W/all-$v" --split 1 "${opts[@]}" --json \
      > "$W/train-$v.json" 2> "$W/train-$v.log"; echo $? > "$W/train-$v.rc" ) &
  ( PYTHONUNBUFFERED=1 python3 tools/segcorpus/lodo.py --cli "$cli" --corpus "$corpus" --dev "$dev" --out "$W/lodo-$v" \
      --jobs 6 -- "${opts[@]}" > "$W/lodo-$v.md" 2> "$W/lodo-$v.log"; echo $? > "$W/lodo-$v.rc" ) &
done
wait
for v in A B; do
  echo; echo "== variant $v: ${base[*]} ${variant[$v]} (lodo rc $(cat "$W/lodo-$v.rc"), shipped training rc $(cat "$W/train-$v.rc"))"
  cat "$W/lodo-$v.md"; tail -2 "$W/lodo-$v.log"
  cp "$W/lodo-$v/lodo.json" "$OUT/lodo-$v.json" 2>/dev/null
done
chosen=$(python3 - "$W" <<'PY'
import json, sys
best = None
for v in ("A", "B"):
    try:
        r = json.load(open(f"{sys.argv[1]}/lodo-{v}/lodo.json"))
    except OSError:
        continue
    if r["acceptance"] and (best is None or r["mean"]["learned"] < best[1]):
        best = (v, r["mean"]["learned"])
print(best[0] if best else "A")
PY
)
echo; echo "== chosen: $chosen (${variant[$chosen]:-defaults}); acceptance: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["acceptance"])' "$W/lodo-$chosen/lodo.json" 2>/dev/null)"
[ "$(cat "$W/train-$chosen.rc")" = 0 ] && cp "$W/all-$chosen/learned.json" "$OUT/learned.json" || tail -5 "$W/train-$chosen.log"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print({k: r.get(k) for k in ("documents", "candidates", "training_seconds", "seconds") if k in r})' "$W/train-$chosen.json" 2>/dev/null
echo "done in $(elapsed) s"
