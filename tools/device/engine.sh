#!/usr/bin/env bash
# One call on the GPU machine for the engine (issue 9): build core + CLI + engine tests against
# PyTorch's libtorch with CUDA and the project's CUDA kernels (the engine's kernels bridge), run
# the engine tests (golden logits on CPU and CUDA, the bf16 GPU routes, the bridge), make an
# 8B Llama-3-shaped checkpoint with random bf16 weights and the Llama 3 tokenizer, time full vs
# block-cached TTFT per length with bench-ttft and the same full prefill with transformers (sdpa)
# in the same call, record `compare` runs on the GPU in an experiment store, print a table.
# Run from the repository root there:  source .deps/setup.sh && bash tools/device/engine.sh
# SKIP_BENCH=1: build, tests and the store of GPU runs only (no timings).
# What comes back is capped at 8 files: logs go to one tarball, $OUT/logs.tgz.
set -uo pipefail
FINAL=${OUT:-/tmp/out}; OUT="$FINAL/logs"; mkdir -p "$OUT"
trap 'tar czf "$FINAL/logs.tgz" -C "$OUT" . && mv "$OUT/summary.md" "$OUT/gpu-runs.sqlite" "$OUT/bench-ttft.json" "$FINAL/" 2>/dev/null; rm -rf "$OUT"' EXIT
build=/tmp/build-engine
lengths=${LENGTHS:-2k,4k,8k,16k,32k}
t0=$(date +%s)
export PYTHONUNBUFFERED=1
configure() {
  cmake -S . -B "$build" -G Ninja $DEVICE_CMAKE_ARGS -DCMAKE_BUILD_TYPE=Release -DBLOCKLENS_BUILD_UI=OFF -DBLOCKLENS_WITH_NET=OFF \
    -DBLOCKLENS_WITH_TORCH=ON -DBLOCKLENS_BUILD_BENCH=OFF -DBLOCKLENS_WITH_CUDA="$1" > "$OUT/configure.log" 2>&1
}
# The kernels bridge needs BLOCKLENS_WITH_CUDA; without it the engine still builds (plain ATen paths).
if ! configure ON; then
  echo "configure with the CUDA kernels failed:"; grep -A5 "CMake Error" "$OUT/configure.log" | head -20
  rm -rf "$build"; configure OFF || { tail -30 "$OUT/configure.log"; exit 1; }
fi
grep -o "engine: CUDA kernels bridge.*" "$OUT/configure.log"
tests=$(cmake --build "$build" --target help | grep -oE '^test_(engine[a-z_]*|safetensors|model_config)' | sort -u)
cmake --build "$build" --parallel 16 --target blocklens-cli $tests > "$OUT/build.log" 2>&1 \
  || { grep -E 'error|Error' "$OUT/build.log" | head -40; exit 1; }
echo "built in $(( $(date +%s) - t0 )) s"
ctest --test-dir "$build" -L engine --output-on-failure -V > "$OUT/ctest-engine.log" 2>&1
echo "ctest -L engine: $(grep -o '[0-9]*% tests passed.*' "$OUT/ctest-engine.log" || echo FAILED)"
grep -E "^[0-9]+: (QINFO|SKIP).*(cuda bf16|route|mass kernel|Cuda|bridge)" "$OUT/ctest-engine.log" | cut -c1-200 | head -30
grep -E "FAIL!|refused|Not Run|Failed|Passed" "$OUT/ctest-engine.log" | cut -c1-200 | head -24
cli="$build/app/cli/blocklens-cli"
tok="$build/fixtures/tokenizers/llama3/tokenizer.json"
model=/tmp/llama3-8b-random
"$cli" make-model --arch llama --layers 32 --hidden 4096 --heads 32 --kv-heads 8 --intermediate 14336 \
  --vocab 128256 --rope-theta 500000 --llama3-rope 8 --dtype bf16 --seed 1 --tokenizer "$tok" --out "$model" > "$OUT/make-model.log" 2>&1 \
  || { tail -5 "$OUT/make-model.log"; exit 1; }
echo "made the 8B model in $(( $(date +%s) - t0 )) s total"
if [ "${SKIP_BENCH:-0}" != 1 ]; then
"$cli" bench-ttft --model "$model" --lengths "$lengths" --device cuda --dtype bf16 --repeats 5 --json > "$OUT/bench-ttft.json" 2> "$OUT/bench-ttft.err" \
  || { tail -5 "$OUT/bench-ttft.err"; }
grep -v "^$" "$OUT/bench-ttft.err" | head -5
echo "bench-ttft done at $(( $(date +%s) - t0 )) s"
python3 tools/reference/bench_transformers_prefill.py "$model" --lengths "$lengths" --repeats 5 --profile-length 8k \
  --out "$OUT/transformers.json" > "$OUT/transformers.log" 2>&1 || tail -5 "$OUT/transformers.log"
echo "transformers done at $(( $(date +%s) - t0 )) s"

# Issue 6: block prefill through cuDNN (batched even blocks + flash last block) vs dense SDPA.
timeout 90 python3 tools/reference/cudnn_block_prefill.py > "$OUT/cudnn-block-prefill.jsonl" 2>&1 || tail -3 "$OUT/cudnn-block-prefill.jsonl"
fi

# GPU runs in an experiment store (committed as tests/fixtures/gpu/gpu-runs.sqlite): the 8B shape
# and a small Llama-shaped model, both with real tokenizers, over the demo document.
db="$OUT/gpu-runs.sqlite"; rm -f "$db"
small=/tmp/llama-small-random
"$cli" make-model --arch llama --layers 4 --hidden 512 --heads 8 --kv-heads 2 --intermediate 1536 --tie --dtype bf16 --seed 2 \
  --tokenizer "$build/fixtures/tokenizers/llama2/tokenizer.json" --out "$small" > "$OUT/make-small.log" 2>&1 || tail -5 "$OUT/make-small.log"
for m in "$small" "$model"; do
  "$cli" compare --model "$m" --input resources/demo/block-attention.md --query "What does block attention reuse?" \
    --max-new-tokens 16 --device cuda --dtype bf16 --db "$db" --json > "$OUT/compare-$(basename "$m").json" 2> "$OUT/compare-$(basename "$m").err" \
    || tail -5 "$OUT/compare-$(basename "$m").err"
done
"$cli" compare --model "$small" --input resources/demo/block-attention.md --modes full,block --max-new-tokens 8 --device cuda \
  --dtype f32 --db "$db" --json > "$OUT/compare-small-f32.json" 2> "$OUT/compare-small-f32.err" || tail -5 "$OUT/compare-small-f32.err"
ls -la "$db" 2>/dev/null | awk '{print "store:", $5, "bytes"}'
echo "compare runs done at $(( $(date +%s) - t0 )) s"

[ "${SKIP_BENCH:-0}" = 1 ] || python3 - "$OUT/bench-ttft.json" "$OUT/transformers.json" "$OUT" <<'PY' | tee "$OUT/summary.md"
import glob, json, os, sys
ours = json.load(open(sys.argv[1]))
try:
    ref = {r["length"]: r for r in json.load(open(sys.argv[2]))["rows"]}
except Exception as e:
    ref = {}
print(f"libtorch {ours.get('libtorch')}, {ours.get('device')}, {ours.get('dtype')}, block size {ours.get('block_size')}, question {ours.get('question')}, repeats {ours.get('repeats')}")
print("| context | blocks | full (ours) ms | full (transformers sdpa) ms | ours/transformers | block-cached TTFT ms | of it assembly ms | full/block-cached | cache hits |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
first = None
for r in ours["rows"]:
    t = ref.get(r["length"], {}).get("ttft_ms")
    full = r.get("full_ttft_ms")
    c = r["block_cached_ttft_ms"]
    first = first or c
    print(f"| {r['length']} | {r['blocks']} | {full:.1f} | {t if t is None else round(t,1)} | {'-' if (t is None or full is None) else round(full/t,3)} | {c:.2f} | {r.get('block_cached_assemble_ms', 0):.2f} | {r.get('speedup', 0):.1f} | {r['cache_hits']}/{r['cache_hits']+r['cache_misses']} |")
print(f"block-cached TTFT, longest / shortest: {c / first:.2f}")
for f in sorted(glob.glob(os.path.join(sys.argv[3], "compare-*.json"))):
    try:
        j = json.load(open(f))
        print(os.path.basename(f), json.dumps({k: j[k] for k in list(j)[:12] if not isinstance(j[k], (list, dict))})[:300])
    except Exception as e:
        print(os.path.basename(f), "unreadable:", e)
PY
cat "$OUT/cudnn-block-prefill.jsonl" 2>/dev/null | cut -c1-260
grep -A16 "profile of" "$OUT/transformers.log" | cut -c1-200 | head -22
nvidia-smi --query-gpu=name,driver_version,memory.used --format=csv,noheader
