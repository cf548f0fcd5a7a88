#!/usr/bin/env bash
# BlockLens vs the Hugging Face `tokenizers` npm package, one thread each, same texts, same
# machine, one after the other: mixed multilingual text (~1 MB) with Llama 3, Qwen3 and Llama 2,
# and one pre-token of 64k emoji with Llama 3. Prints a markdown table (docs/benchmarks.md).
#
#   tools/tokenizer_vs_hf/run.sh BUILD_DIR HF_DIR
#
# BUILD_DIR: a configured build tree with bench_tokenizer built (fixtures unpacked at configure).
# HF_DIR: a folder where `npm install tokenizers` was run (outside the repository).
set -euo pipefail
build=$(realpath "$1")
hf=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/make_texts.py" "$source_dir" "$build/fixtures/bench/english-1mb.txt" "$work"

echo "| tokenizer | text | BlockLens wall: median (cold) | tokenizers wall: median (cold) | ratio wall: median (cold) | BlockLens CPU: median (cold) | tokenizers CPU: median (cold) | ratio CPU: median (cold) | tokens |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
run() { # name text
    local tok="$build/fixtures/tokenizers/$1/tokenizer.json" text="$work/$2"
    local ours theirs
    ours=$("$build/bench/bench_tokenizer" --tokenizer "$tok" --text "$text" --reps 5 --json)
    theirs=$(RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false NODE_PATH="$hf/node_modules" \
             node "$here/hf_encode.js" "$tok" "$text" 5)
    python3 - "$1" "$2" "$ours" "$theirs" <<'PY'
import json, sys
name, text, ours, theirs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
same = "same" if ours["tokens"] == theirs["tokens"] else f"DIFFERENT ({ours['tokens']} vs {theirs['tokens']})"
def cell(a, b, key):
    return f"{a[key]:.1f} ms ({a['cold_' + key]:.1f})"
def ratio(key):
    return f"{ours[key] / theirs[key]:.2f} ({ours['cold_' + key] / theirs['cold_' + key]:.2f})"
print(f"| {name} | {text} | {cell(ours, theirs, 'ms')} | {cell(theirs, ours, 'ms')} | {ratio('ms')} "
      f"| {cell(ours, theirs, 'cpu_ms')} | {cell(theirs, ours, 'cpu_ms')} | {ratio('cpu_ms')} | {ours['tokens']} {same} |")
PY
}
for name in llama3 qwen3 llama2; do
    run "$name" mixed-1mb.txt
done
run llama3 emoji-64k.txt
echo
echo "tokenizers npm $(node -p "require('$hf/node_modules/tokenizers/package.json').version"), node $(node --version)"
