#!/usr/bin/env bash
# Retrains the learned segmenter's shipped model (resources/segmenters/learned.json) and prints
# the figures docs/benchmarks.md records.
#
#   tools/learn/train_default.sh [BUILD_DIR] [DATASET.jsonl] [CORPUS.jsonl]
#
# DATASET is the dev set (default ../shared/data/segdev.jsonl); CORPUS the records that
# tools/segcorpus/make_segcorpus.py builds from Debian documentation (default
# segcorpus-data/segcorpus.jsonl; made first if missing). Since issue 20 the options below are
# chosen by leave-one-domain-out cross-validation on CORPUS (tools/segcorpus/lodo.py; the table in
# docs/benchmarks.md), not by the dev split. Three steps:
#  1. --split 0.5 on DATASET alone: held-out figures on the dev set (as before issue 20);
#  2. the leave-one-domain-out table (each fold: DATASET + CORPUS minus one domain), unless
#     SKIP_LODO=1 (it trains six models: about 30 minutes on a loaded 2-core machine);
#  3. --split 1 on DATASET + CORPUS: the model shipped, so both are its training set.
# Steps 2 and 3 are also one call on the GPU machine's 16 CPU cores: tools/device/lodo.sh (the same
# options, plus one alternative set, the table choosing).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build-learn}"
data="${2:-$root/../shared/data/segdev.jsonl}"
corpus="${3:-$root/segcorpus-data/segcorpus.jsonl}"
cli="$build/app/cli/blocklens-cli"
opts=(--hidden 16 --epochs 30 --seed 1)
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

if [ ! -f "$corpus" ]; then
  python3 "$root/tools/segcorpus/make_segcorpus.py" --out "$(dirname "$corpus")"
fi

echo "== held-out evaluation on the dev set (split 0.5)"
"$cli" train-segmenter --data "$data" --out "$out/split" --split 0.5 "${opts[@]}"
if [ "${SKIP_LODO:-0}" != 1 ]; then
  echo
  echo "== leave-one-domain-out on $corpus (+ the dev set in every fold)"
  python3 "$root/tools/segcorpus/lodo.py" --cli "$cli" --corpus "$corpus" --dev "$data" --out "$out/lodo" -- "${opts[@]}"
fi
echo
echo "== shipped model (the dev set and the whole corpus)"
cat "$data" "$corpus" > "$out/segdev+segcorpus.jsonl"
"$cli" train-segmenter --data "$out/segdev+segcorpus.jsonl" --out "$out/all" --split 1 "${opts[@]}"
mkdir -p "$root/resources/segmenters"
cp "$out/all/learned.json" "$root/resources/segmenters/learned.json"
echo "wrote $root/resources/segmenters/learned.json"
