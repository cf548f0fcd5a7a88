#!/usr/bin/env bash
# One call on the GPU machine: build what the GPU machine can build (core + CLI + tests + benches,
# no Qt Widgets), run the checks and benchmarks asked for, write logs under $OUT, print a short
# table last. Run from the repository root there, after `source .deps/setup.sh`:
#   tools/device/h200.sh tokenizer          tokenizer speed vs the `tokenizers` library
#   tools/device/h200.sh engine             engine tests on CUDA + references
#   tools/device/h200.sh tokenizer engine   both
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
build=/tmp/build
summary="$OUT/summary.md"
: > "$summary"
row() { echo "$*" | tee -a "$summary"; }

want() { for a in "${sections[@]}"; do [ "$a" = "$1" ] && return 0; done; return 1; }
sections=("$@")
with_torch=OFF
want engine && with_torch=ON

echo "== configure (torch: $with_torch)"
cmake -S . -B "$build" -G Ninja $DEVICE_CMAKE_ARGS -DCMAKE_BUILD_TYPE=Release \
  -DBLOCKLENS_BUILD_UI=OFF -DBLOCKLENS_WITH_NET=OFF -DBLOCKLENS_WITH_TORCH=$with_torch > "$OUT/configure.log" 2>&1 \
  || { tail -30 "$OUT/configure.log"; exit 1; }
echo "== build"
targets=()
want tokenizer && targets+=(bench_tokenizer test_tokenizer)
want engine && targets+=(blocklens-cli)
want engine && targets+=($(cmake --build "$build" --target help | grep -oE '^[^: ]*test_engine[^: ]*|^[^: ]*test_(safetensors|model|runner|kv)[^: ]*' | sort -u))
cmake --build "$build" --parallel 16 --target "${targets[@]}" > "$OUT/build.log" 2>&1 || { grep -E 'error|Error' "$OUT/build.log" | head -40; exit 1; }

row "| check | result |"
row "| --- | --- |"
if want tokenizer; then
  ctest --test-dir "$build" -L tokenizer --output-on-failure > "$OUT/ctest-tokenizer.log" 2>&1
  row "| ctest -L tokenizer | X |"
  text="$build/fixtures/bench/english-1mb.txt"
  for name in llama3 qwen3 llama2; do
    tok="$build/fixtures/tokenizers/$name/tokenizer.json"
    ours=$(taskset -c 2 "$build/bench/bench_tokenizer" --tokenizer "$tok" --text "$text" --json 2>>"$OUT/bench.log")
    ref=$(RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false taskset -c 2 python3 - "$tok" "$text" <<'PY'
import sys, time, json, tokenizers
tok = tokenizers.Tokenizer.from_file(sys.argv[1]); text = open(sys.argv[2], encoding="utf-8").read()
tok.encode(text[:20000]); ts = []
for _ in range(5):
    t0 = time.perf_counter(); n = len(tok.encode(text, add_special_tokens=False).ids); ts.append(time.perf_counter() - t0)
ts.sort(); print(json.dumps({"ms": ts[2] * 1000, "tokens": n, "version": tokenizers.__version__}))
PY
)
    echo "$name ours=$ours ref=$ref" >> "$OUT/bench.log"
    python3 - "$name" "$ours" "$ref" <<'PY' | tee -a "$summary"
import json, sys
name, ours, ref = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
same = "same" if ours["tokens"] == ref["tokens"] else f"DIFFERENT ({ours['tokens']} vs {ref['tokens']})"
print(f"| tokenize 1 MB English, {name}, 1 core | ours {ours['ms']:.1f} ms (first run {ours['cold_ms']:.1f} ms), tokenizers {ref['version']} {ref['ms']:.1f} ms, ratio ours/theirs {ours['ms']/ref['ms']:.2f}, token count {same} |")
PY
  done
fi
if want engine; then
  ctest --test-dir "$build" -L engine --output-on-failure > "$OUT/ctest-engine.log" 2>&1
  row "| ctest -L engine | X |"
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader >> "$summary"
echo; cat "$summary"
