#!/usr/bin/env bash
# Issue 23 on the GPU machine in one call: the block-prefill kernel inside the engine.
#   1. configure + build (torch with CUDA, the kernels, the bridge, no UI) only what is run below;
#   2. correctness: `ctest -L gpu` (test_kernels_gpu, test_engine_gpu: engine logits on CUDA vs the
#      CPU reference path, fp32 and bf16), then test_engine_attention and test_engine_golden;
#   3. the kernel at 32k tokens / 64 blocks, back to back and per-call synchronised (bench_kernels
#      --prefill-target) beside SDPA dense causal in the same call (attention_ceilings.py);
#   4. an 8B Llama-3-shaped checkpoint with random bf16 weights (make-model, in the background
#      during 2-3), bench-ttft (full, block-cached cold and warm) and transformers (sdpa) full
#      prefill in the same call;
#   5. a table last (summary.md); logs in $OUT/logs.tgz (what comes back is capped at 8 files).
# From the repository root there, after `source .deps/setup.sh` (or the carried copy, see
# pack_overlay.sh):   bash tools/device/engine_blocks.sh
# LENGTHS (bench-ttft, default 2k,8k,32k), TF_LENGTHS (transformers, default 32k), SKIP_BENCH=1 (no
# timings), QUICK=1 (checks and the kernel's timings only: no 8B model, no bench-ttft),
# SKIP_NOGRAPHS=1 (no A/B run without CUDA graphs). A/B runs at 32k: BLOCKLENS_REUSE_PLACED=0
# (every cached block placed anew in every warm run) and BLOCKLENS_CUDA_GRAPHS=0.
set -uo pipefail
t0=$(date +%s)
elapsed() { echo $(( $(date +%s) - t0 )); }
FINAL=${OUT:-/tmp/out}; OUT=/tmp/logs-blocks; rm -rf "$OUT"; mkdir -p "$OUT" "$FINAL" # logs outside $OUT: 8 files come back
trap 'cp "$OUT/summary.md" "$OUT/bench-ttft.json" "$OUT/bench-ttft-nographs.json" "$OUT/bench-ttft-placed.json" "$FINAL/" 2>/dev/null; tar czf "$FINAL/logs.tgz" -C "$OUT" .' EXIT
build=/tmp/build-blocks
commit=${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo '?')}
export PYTHONUNBUFFERED=1
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,memory.used,temperature.gpu --format=csv,noheader | tee "$OUT/gpu.txt"

echo "== configure + build ($(elapsed) s)"
cmake -S . -B "$build" -G Ninja $DEVICE_CMAKE_ARGS -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_COMPILER="$nvcc" -DBLOCKLENS_BUILD_UI=OFF -DBLOCKLENS_WITH_NET=OFF \
  -DBLOCKLENS_WITH_TORCH=ON -DBLOCKLENS_BUILD_BENCH=ON -DBLOCKLENS_WITH_CUDA=ON > "$OUT/configure.log" 2>&1 \
  || { tail -30 "$OUT/configure.log"; exit 1; }
grep -o "engine: CUDA kernels bridge.*" "$OUT/configure.log"
cmake --build "$build" --parallel 16 --target blocklens-cli test_engine_gpu test_engine_attention test_engine_golden \
  test_kernels_gpu test_kernels_reference bench_kernels > "$OUT/build.log" 2>&1 \
  || { grep -E 'error|Error' "$OUT/build.log" | head -40; exit 1; }
grep -A2 -E 'Compiling entry function .*prefillSm90Kernel' "$OUT/build.log" | grep -E 'registers|spill' | head -4
echo "built in $(elapsed) s"
cli="$build/app/cli/blocklens-cli"
model=/tmp/llama3-8b-random
if [ "${SKIP_BENCH:-0}" != 1 ] && [ "${QUICK:-0}" != 1 ]; then
  # Random weights (make-model's seeded streams) with the Llama 3 tokenizer; CPU and disk only, so
  # it runs while the GPU checks run.
  ("$cli" make-model --arch llama --layers 32 --hidden 4096 --heads 32 --kv-heads 8 --intermediate 14336 --vocab 128256 \
     --rope-theta 500000 --llama3-rope 8 --dtype bf16 --seed 1 --tokenizer "$build/fixtures/tokenizers/llama3/tokenizer.json" \
     --out "$model" > "$OUT/make-model.log" 2>&1; echo "rc $? at $(elapsed) s" >> "$OUT/make-model.log") &
  maker=$!
fi

echo "== ctest -L gpu ($(elapsed) s)"
ctest --test-dir "$build" -L gpu --timeout 300 -V > "$OUT/ctest-gpu.log" 2>&1
gpu_rc=$?
grep -E "tests passed|tests failed|FAIL!|Totals" "$OUT/ctest-gpu.log" | cut -c1-220 | head -12
grep -E "(vs cpu fp32|all local)" "$OUT/ctest-gpu.log" | grep -vE "^[0-9]+: PASS" | cut -c1-200 | head -14
grep -E "(place_blocks:|rope_apply:|silu_mul:|kept placement)" "$OUT/ctest-gpu.log" | cut -c1-160 | head -10
echo "== ctest engine attention + golden + kernels reference ($(elapsed) s)"
ctest --test-dir "$build" -R '^(test_engine_attention|test_engine_golden|test_kernels_reference)$' --timeout 200 -V > "$OUT/ctest-engine.log" 2>&1
eng_rc=$?
grep -E "tests passed|tests failed|FAIL!" "$OUT/ctest-engine.log" | cut -c1-220 | head -12
grep -E "attendBlocks cuda" "$OUT/ctest-engine.log" | cut -c1-160 | head -4

if [ "${SKIP_BENCH:-0}" != 1 ]; then
  echo "== bench_kernels --prefill-target ($(elapsed) s)"
  timeout 90 "$build/bench/bench_kernels" --prefill-target --json "$OUT/bench.jsonl" > "$OUT/bench.txt" 2>&1
  echo "rc $?"; cat "$OUT/bench.txt"
  echo "== SDPA dense causal at 32k ($(elapsed) s)"
  timeout 120 python3 tools/reference/attention_ceilings.py --json "$OUT/ceilings.jsonl" --sizes 32768 --blocks 512 --no-flex \
    > "$OUT/ceilings.txt" 2>&1
  echo "rc $?"; grep -E "SDPA dense causal|varlen" "$OUT/ceilings.txt"

  if [ "${QUICK:-0}" != 1 ]; then
  wait "$maker"; tail -1 "$OUT/make-model.log"
  # The call has 600 s: late, only the acceptance length.
  lengths=${LENGTHS:-2k,8k,32k}; [ "$(elapsed)" -gt 330 ] && lengths=32k
  echo "== bench-ttft $lengths ($(elapsed) s)"
  timeout 200 "$cli" bench-ttft --model "$model" --lengths "$lengths" --device cuda --dtype bf16 --repeats 5 --json \
    > "$OUT/bench-ttft.json" 2> "$OUT/bench-ttft.err"
  echo "rc $?"; grep -v "^$" "$OUT/bench-ttft.err" | head -5
  if [ "$(elapsed)" -lt 490 ]; then
    echo "== transformers sdpa ($(elapsed) s)"
    timeout $(( 585 - $(elapsed) )) python3 tools/reference/bench_transformers_prefill.py "$model" --lengths "${TF_LENGTHS:-32k}" \
      --repeats 5 --out "$OUT/transformers.json" > "$OUT/transformers.log" 2>&1
    echo "rc $?"; tail -2 "$OUT/transformers.log" | cut -c1-200
  else
    echo "== transformers skipped (time)"
  fi
  if [ "$(elapsed)" -lt 520 ]; then # A/B: every cached block placed anew in every warm run, same machine
    echo "== bench-ttft 32k, blocks placed anew ($(elapsed) s)"
    BLOCKLENS_REUSE_PLACED=0 timeout $(( 585 - $(elapsed) )) "$cli" bench-ttft --model "$model" --lengths 32k --device cuda --dtype bf16 \
      --repeats 5 --skip-full --json > "$OUT/bench-ttft-placed.json" 2> "$OUT/bench-ttft-placed.err"
    echo "rc $?"
  fi
  if [ "$(elapsed)" -lt 540 ] && [ "${SKIP_NOGRAPHS:-0}" != 1 ]; then # A/B: the question pass without CUDA graphs, same machine
    echo "== bench-ttft 32k without CUDA graphs ($(elapsed) s)"
    BLOCKLENS_CUDA_GRAPHS=0 timeout $(( 590 - $(elapsed) )) "$cli" bench-ttft --model "$model" --lengths 32k --device cuda --dtype bf16 \
      --repeats 5 --skip-full --json > "$OUT/bench-ttft-nographs.json" 2> "$OUT/bench-ttft-nographs.err"
    echo "rc $?"
  fi
  fi # QUICK
fi

{
  echo "commit $commit, $(date -u +%F), $(head -1 "$OUT/gpu.txt"), total $(elapsed) s"
  echo "ctest -L gpu: rc $gpu_rc; test_engine_attention + test_engine_golden + test_kernels_reference: rc $eng_rc"
  python3 - "$OUT" <<'PY'
import json, os, sys
d = sys.argv[1]
def load(name):
    try:
        with open(os.path.join(d, name)) as f:
            text = f.read()
        return json.loads(text) if name.endswith(".json") else [json.loads(l) for l in text.splitlines() if l.strip()]
    except Exception:
        return None
ttft, tf, bench, ceil = load("bench-ttft.json"), load("transformers.json"), load("bench.jsonl") or [], load("ceilings.jsonl") or []
nog = load("bench-ttft-nographs.json")
anew = load("bench-ttft-placed.json")
def find(rows, **kw):
    return next((r for r in rows if all(r.get(k) == v for k, v in kw.items())), None)
met = lambda ok: "**met**" if ok else "**not met**"
print()
print("| figure | measured | acceptance | |")
print("| --- | ---: | --- | --- |")
sd = find(ceil, op="sdpa_causal", backend="default", n=32768)
for impl, label in (("hopper", "back to back"), ("hopper-synced", "per-call synchronised")):
    r = find(bench, op="prefill", impl=impl, n=32768, block=512)
    if r and sd:
        ratio = r["tflops"] / sd["tflops"]
        host = f", launcher host time {r['host_us']:.0f} us" if "host_us" in r else ""
        bar = ">= 0.85 of SDPA" if impl == "hopper-synced" else "(beside it)"
        verdict = met(ratio >= 0.85) if impl == "hopper-synced" else ""
        print(f"| block-prefill kernel 32k / 64 blocks, {label} | {r['ms']:.3f} ms, {r['tflops']:.0f} TFLOP/s = {ratio:.2f} of SDPA dense causal {sd['tflops']:.0f} TFLOP/s{host} | {bar} | {verdict} |")
tfrows = {r["length"]: r for r in (tf or {}).get("rows", [])}
if ttft:
    for r in ttft["rows"]:
        L = r["length"]
        full, warm, cold = r.get("full_ttft_ms"), r["block_cached_ttft_ms"], r.get("block_cached_cold_ttft_ms")
        t = tfrows.get(L, {}).get("ttft_ms")
        at32 = L == 32768
        print(f"| {L} tokens + {ttft['question']}: warm block-cached TTFT | {warm:.2f} ms (assembly {r.get('block_cached_assemble_ms', 0):.2f} ms, {r.get('blocks_in_place', 0)} of {r['blocks'] - 1} blocks already in place) | <= 8 ms at 32k | {met(warm <= 8) if at32 else ''} |")
        if cold is not None:
            rel = f", {cold / full:.2f} of full prefill" if full else ""
            print(f"| {L}: cold block-cached TTFT ({r.get('cold_cache_misses')} blocks encoded) | {cold:.1f} ms{rel} | reported with ratio | |")
        if full is not None:
            if t:
                print(f"| {L}: full prefill, ours vs transformers sdpa | {full:.1f} ms vs {t:.1f} ms: {t / full:.3f}x its speed | >= 1.15x at 32k | {met(t / full >= 1.15) if at32 else ''} |")
            else:
                print(f"| {L}: full prefill, ours | {full:.1f} ms | | |")
    for r in (anew or {}).get("rows", []):
        print(f"| {r['length']}: warm with every block placed anew (BLOCKLENS_REUSE_PLACED=0) | {r['block_cached_ttft_ms']:.2f} ms (assembly {r.get('block_cached_assemble_ms', 0):.2f} ms) | <= 8 ms at 32k | {met(r['block_cached_ttft_ms'] <= 8)} |")
    for r in (nog or {}).get("rows", []):
        print(f"| {r['length']}: the same without CUDA graphs (BLOCKLENS_CUDA_GRAPHS=0) | warm {r['block_cached_ttft_ms']:.2f} ms (assembly {r.get('block_cached_assemble_ms', 0):.2f}), cold {r.get('block_cached_cold_ttft_ms', 0):.1f} ms | A/B | |")
    print(f"\nbench-ttft: {ttft.get('device')}, {ttft.get('dtype')}, libtorch {ttft.get('libtorch')}, blocks of {ttft.get('block_size')}, repeats {ttft.get('repeats')} (median)")
PY
} > "$OUT/summary.md" 2>&1
echo; cat "$OUT/summary.md"
