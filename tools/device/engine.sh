#!/usr/bin/env bash
# One call on the GPU machine for the engine (issue 9): build core + CLI + engine tests against
# PyTorch's libtorch with CUDA, run the engine tests (golden logits on CPU and CUDA), make an
# 8B Llama-3-shaped checkpoint with random bf16 weights, time full vs block-cached TTFT per length
# with bench-ttft, and the same full prefill with transformers (sdpa), in the same call.
# Run from the repository root there:  source .deps/setup.sh && bash tools/device/engine.sh
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
build=/tmp/build-engine
lengths=${LENGTHS:-2k,4k,8k,16k,32k}
t0=$(date +%s)
cmake -S . -B "$build" -G Ninja $DEVICE_CMAKE_ARGS -DCMAKE_BUILD_TYPE=Release -DBLOCKLENS_BUILD_UI=OFF \
  -DBLOCKLENS_WITH_TORCH=ON -DBLOCKLENS_BUILD_BENCH=OFF > "$OUT/configure.log" 2>&1 || { tail -30 "$OUT/configure.log"; exit 1; }
tests=$(cmake --build "$build" --target help | grep -oE '^test_engine[a-z_]*' | sort -u)
cmake --build "$build" --parallel 16 --target blocklens-cli $tests > "$OUT/build.log" 2>&1 || { grep -E 'error' "$OUT/build.log" | head -30; exit 1; }
echo "built in $(( $(date +%s) - t0 )) s"
ctest --test-dir "$build" -L engine --output-on-failure > "$OUT/ctest-engine.log" 2>&1
echo "ctest -L engine: $(grep -o '[0-9]*% tests passed.*' "$OUT/ctest-engine.log" || echo FAILED)"
cli="$build/app/cli/blocklens-cli"
model=/tmp/llama3-8b-random
"$cli" make-model --arch llama --layers 32 --hidden 4096 --heads 32 --kv-heads 8 --intermediate 14336 \
  --vocab 128256 --rope-theta 500000 --llama3-rope 8 --dtype bf16 --seed 1 --out "$model" > "$OUT/make-model.log" 2>&1 \
  || { tail -5 "$OUT/make-model.log"; exit 1; }
echo "made the 8B model in $(( $(date +%s) - t0 )) s total"
"$cli" bench-ttft --model "$model" --lengths "$lengths" --device cuda --dtype bf16 --repeats 3 --json > "$OUT/bench-ttft.json" 2> "$OUT/bench-ttft.err" \
  || { tail -5 "$OUT/bench-ttft.err"; }
echo "bench-ttft done at $(( $(date +%s) - t0 )) s"
python3 tools/reference/bench_transformers_prefill.py "$model" --lengths "$lengths" --repeats 3 --out "$OUT/transformers.json" > "$OUT/transformers.log" 2>&1 \
  || tail -5 "$OUT/transformers.log"
echo "transformers done at $(( $(date +%s) - t0 )) s"
python3 - "$OUT/bench-ttft.json" "$OUT/transformers.json" <<'PY' | tee "$OUT/summary.md"
import json, sys
ours = json.load(open(sys.argv[1]))
try:
    ref = {r["length"]: r for r in json.load(open(sys.argv[2]))["rows"]}
except Exception as e:
    ref = {}
print(f"libtorch {ours.get('libtorch')}, {ours.get('device')}, {ours.get('dtype')}, block size {ours.get('block_size')}, question {ours.get('question')}")
print("| context | blocks | full (ours) ms | full (transformers sdpa) ms | ours/transformers | block-cached TTFT ms | full/block-cached | cache hits | FLOPs full / block-cached |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for r in ours["rows"]:
    t = ref.get(r["length"], {}).get("ttft_ms")
    full = r.get("full_ttft_ms")
    print(f"| {r['length']} | {r['blocks']} | {full:.1f} | {t if t is None else round(t,1)} | {'-' if (t is None or full is None) else round(full/t,3)} | {r['block_cached_ttft_ms']:.2f} | {r.get('speedup', 0):.1f} | {r['cache_hits']}/{r['cache_hits']+r['cache_misses']} | {r['full_flops']:.3g} / {r['block_cached_flops']:.3g} |")
PY
nvidia-smi --query-gpu=name,driver_version,memory.used --format=csv,noheader
