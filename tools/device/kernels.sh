#!/usr/bin/env bash
# Issue 6 on the GPU machine, in one call: configure (no UI, no torch, CUDA on) in /tmp/build-kern,
# build the kernels, their tests and the benchmark, run `ctest -L gpu` (+ the CPU reference
# test), the benchmark, then the PyTorch ceilings (SDPA dense causal, FlexAttention, varlen flash
# route) in the same call; logs under $OUT, a short table last. From the repository root:
#   source .deps/setup.sh >/dev/null && bash tools/device/kernels.sh
# KERNELS_QUICK=1: small benchmark only; KERNELS_NO_FLEX=1: skip FlexAttention.
source tools/device/kernels_build.sh
summary="$OUT/summary.md"
: > "$summary"
build_kernels test_kernels_gpu test_kernels_reference bench_kernels

echo "== ctest -L gpu ($(elapsed) s)"
ctest --test-dir "$build" -L gpu --timeout 150 --verbose > "$OUT/ctest.log" 2>&1
gpu_rc=$?
ctest --test-dir "$build" -R test_kernels_reference --output-on-failure >> "$OUT/ctest.log" 2>&1
ref_rc=$?
grep -E 'FAIL|Totals|tests passed|Failed|Large|600 one-token' "$OUT/ctest.log" | tail -30
if [ $gpu_rc -ne 0 ] && command -v compute-sanitizer >/dev/null; then
  echo "== compute-sanitizer memcheck on the failing test ($(elapsed) s)"
  (cd "$build/tests/kernels" && timeout 90 compute-sanitizer --tool memcheck --print-limit 10 ./test_kernels_gpu rope blockPrefill attentionMass) \
    >> "$OUT/ctest.log" 2>&1
  grep -E '=========' "$OUT/ctest.log" | head -20
fi

echo "== bench_kernels ($(elapsed) s)"
rm -f "$OUT/bench.jsonl" "$OUT/ceilings.jsonl"
quick=(); [ "${KERNELS_QUICK:-0}" = 1 ] && quick=(--quick)
timeout 120 "$build/bench/bench_kernels" --json "$OUT/bench.jsonl" "${quick[@]}" > "$OUT/bench.txt" 2>&1
echo "bench rc $?"; cat "$OUT/bench.txt"

echo "== attention_ceilings.py ($(elapsed) s)"
budget=$(( 250 - $(elapsed) )); [ $budget -lt 20 ] && budget=20
noflex=(); [ "${KERNELS_NO_FLEX:-0}" = 1 ] && noflex=(--no-flex)
PYTHONUNBUFFERED=1 timeout $(( budget + 40 )) python3 tools/reference/attention_ceilings.py --json "$OUT/ceilings.jsonl" \
  --budget-s "$budget" "${noflex[@]}" > "$OUT/ceilings.txt" 2>&1
echo "ceilings rc $?"; grep -vE '^\s*$' "$OUT/ceilings.txt" | tail -40

{
  echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%F), $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null)"
  echo "ctest -L gpu: rc $gpu_rc; test_kernels_reference: rc $ref_rc; total $(elapsed) s"
  echo
  python3 tools/device/kernels_summary.py "$OUT/bench.jsonl" "$OUT/ceilings.jsonl"
} > "$summary" 2>&1
echo; cat "$summary"
