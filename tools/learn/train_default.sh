#!/usr/bin/env bash
# Retrains the learned segmenter's shipped model (resources/segmenters/learned.json) and prints
# the held-out comparison with `hybrid` that docs/benchmarks.md records.
#
#   tools/learn/train_default.sh [BUILD_DIR] [DATASET.jsonl]
#
# Two runs of `blocklens-cli train-segmenter` with the same options:
#  1. --split 0.5: trains on half of the source texts (both variants of a text stay together) and
#     reports oracle-count Pk at level 2 on the other half, for the learned model and for hybrid
#     on the same documents (the figures of the benchmark table);
#  2. --split 1: trains on every document; this model is the one shipped, so segdev.jsonl is its
#     training set (its figures on segdev are not held-out figures).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build-learn}"
data="${2:-$root/../shared/data/segdev.jsonl}"
cli="$build/app/cli/blocklens-cli"
opts=(--hidden 16 --epochs 30 --seed 1)
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

echo "== held-out evaluation (split 0.5)"
"$cli" train-segmenter --data "$data" --out "$out/split" --split 0.5 "${opts[@]}"
echo
echo "== shipped model (all documents)"
"$cli" train-segmenter --data "$data" --out "$out/all" --split 1 "${opts[@]}"
mkdir -p "$root/resources/segmenters"
cp "$out/all/learned.json" "$root/resources/segmenters/learned.json"
echo "wrote $root/resources/segmenters/learned.json"
