#!/usr/bin/env bash
# Issue 20 on the GPU machine's 16 CPU cores in one call (no GPU used): the leave-one-domain-out
# table of the learned segmenter (tools/segcorpus/lodo.py, the six folds side by side) and the
# shipped model retrained on the dev set + the whole corpus (tools/learn/train_default.sh's last
# step, same options), so that docs/benchmarks.md's table and resources/segmenters/learned.json
# come from one tree. Each train-segmenter run is one torch thread and deterministic, so the
# figures are those the 2-core machine gives, only sooner.
# Needs, carried (git-ignored) beside .deps:
#   segcorpus-data/segcorpus.jsonl[.xz]  (tools/segcorpus/make_segcorpus.py; SHA-256 in docs/benchmarks.md)
#   segcorpus-data/segdev.jsonl[.xz]     (a copy of ../shared/data/segdev.jsonl, which does not travel)
# Run from the repository root there:
#   source .deps/setup.sh > /dev/null && bash tools/device/lodo.sh
# Back in $OUT: lodo.json, learned.json (the model to ship: resources/segmenters/learned.json) and
# lodo-logs.tgz (the table lodo.md, train.json of the shipped model, every log); the table is printed.
set -uo pipefail
t0=$(date +%s)
elapsed() { echo $(( $(date +%s) - t0 )); }
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
W=/tmp/lodo-device; rm -rf "$W"; mkdir -p "$W"
trap 'tar czf "$OUT/lodo-logs.tgz" -C "$W" --exclude="*.jsonl" . 2>/dev/null' EXIT
build=/tmp/build-lodo
opts=(--hidden 16 --epochs 30 --seed 1)  # the shipped recipe (tools/learn/train_default.sh)

data() {  # data NAME: the plain file, decompressed when it travelled as .xz
  local f=segcorpus-data/$1
  if [ -s "$f" ]; then echo "$f"; elif [ -s "$f.xz" ]; then xz -dc "$f.xz" > "$W/$1" && echo "$W/$1"; else return 1; fi
}
corpus=$(data segcorpus.jsonl) || { echo "segcorpus-data/segcorpus.jsonl(.xz) missing: carry segcorpus-data"; exit 1; }
dev=$(data segdev.jsonl) || { echo "segcorpus-data/segdev.jsonl(.xz) missing: copy ../shared/data/segdev.jsonl there"; exit 1; }
sha256sum "$corpus" "$dev" | tee "$W/inputs.sha256"

echo "== configure + build ($(elapsed) s)"
cmake -S . -B "$build" -G Ninja $DEVICE_CMAKE_ARGS -DCMAKE_BUILD_TYPE=Release -DBLOCKLENS_BUILD_UI=OFF \
  -DBLOCKLENS_WITH_TORCH=ON -DBLOCKLENS_BUILD_BENCH=OFF -DBLOCKLENS_BUILD_TESTS=OFF > "$W/configure.log" 2>&1 \
  || { tail -30 "$W/configure.log"; exit 1; }
cmake --build "$build" --parallel 16 --target blocklens-cli > "$W/build.log" 2>&1 \
  || { grep -E 'error' "$W/build.log" | head -30; exit 1; }
echo "built in $(elapsed) s"
cli="$build/app/cli/blocklens-cli"

echo "== shipped model (dev set + whole corpus), beside the six folds ($(elapsed) s)"
cat "$dev" "$corpus" > "$W/segdev+segcorpus.jsonl"
( "$cli" train-segmenter --data "$W/segdev+segcorpus.jsonl" --out "$W/all" --split 1 "${opts[@]}" --json \
    > "$W/train.json" 2> "$W/train.log"; echo $? > "$W/train.rc" ) &
echo "== leave-one-domain-out, 6 folds side by side ($(elapsed) s)"
PYTHONUNBUFFERED=1 python3 tools/segcorpus/lodo.py --cli "$cli" --corpus "$corpus" --dev "$dev" --out "$W/lodo" \
  --jobs 6 -- "${opts[@]}" > "$W/lodo.md" 2> "$W/lodo.log"
rc=$?
wait
cat "$W/lodo.md"; tail -3 "$W/lodo.log"
cp "$W/lodo/lodo.json" "$OUT/" 2>/dev/null
[ "$(cat "$W/train.rc")" = 0 ] && cp "$W/all/learned.json" "$OUT/" || tail -5 "$W/train.log"
echo "done in $(elapsed) s (lodo rc $rc)"
exit $rc
