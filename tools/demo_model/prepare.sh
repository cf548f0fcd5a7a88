#!/usr/bin/env bash
# Makes everything the demo model is trained from, on this machine (CPU), into demo-data/
# (git-excluded): the corpus, the tokenizer, and the corpus as token files for train-lm.
#   bash tools/demo_model/prepare.sh [BUILD_DIR]      (BUILD_DIR: a build with blocklens-cli; default build)
# Then train on the GPU machine with tools/demo_model/train_device.sh (or on the CPU, slowly, with
# the same train-lm command and --device cpu).
set -euo pipefail
build=${1:-build}
cli="$build/app/cli/blocklens-cli"
data=demo-data
python3 tools/demo_model/make_corpus.py --out "$data"
mkdir -p "$data/tokens"
# Byte-level BPE, 8192 tokens: <|begin_of_text|> (0), <|end_of_text|> (1), 256 bytes, 7934 merges.
"$cli" train-tokenizer --input "$data/corpus/train.txt" --vocab 8192 --min-frequency 2 --out "$data/tokenizer.json"
"$cli" encode-corpus --tokenizer "$data/tokenizer.json" --input "$data/corpus/train.txt" --out "$data/tokens/train.u16"
"$cli" encode-corpus --tokenizer "$data/tokenizer.json" --input "$data/corpus/valid.txt" --out "$data/tokens/valid.u16"
ls -l "$data/tokenizer.json" "$data/tokens"
