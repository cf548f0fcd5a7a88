#!/usr/bin/env bash
# Issue 6's block-attention prefill alone on the GPU machine (a shorter loop than kernels.sh while
# working on the prefill kernels): build, the prefill cases of test_kernels_gpu, bench_kernels
# --prefill-only, then SDPA dense causal (+ FlexAttention at 32k / 512 unless PREFILL_NO_FLEX=1) in
# the same call; logs under $OUT, the summary table last. From the repository root:
#   source .deps/setup.sh >/dev/null && bash tools/device/prefill.sh
source tools/device/kernels_build.sh
build_kernels test_kernels_gpu bench_kernels

echo "== test_kernels_gpu blockPrefill blockPrefillLarge ($(elapsed) s)"
(cd "$build/tests/kernels" && timeout 240 ./test_kernels_gpu blockPrefill blockPrefillLarge) > "$OUT/test.log" 2>&1
test_rc=$?
grep -E '^(FAIL|PASS|Totals)|rel err .*hopper|vs simple' "$OUT/test.log" | grep -vE '^PASS' | head -40
if [ $test_rc -ne 0 ] && command -v compute-sanitizer >/dev/null; then
  (cd "$build/tests/kernels" && timeout 120 compute-sanitizer --tool memcheck --print-limit 10 ./test_kernels_gpu blockPrefill) \
    > "$OUT/sanitizer.log" 2>&1
  grep -E '=========' "$OUT/sanitizer.log" | head -20
fi

echo "== bench_kernels --prefill-only ($(elapsed) s)"
rm -f "$OUT/bench.jsonl" "$OUT/ceilings.jsonl"
timeout 150 "$build/bench/bench_kernels" --prefill-only --json "$OUT/bench.jsonl" > "$OUT/bench.txt" 2>&1
echo "bench rc $?"; cat "$OUT/bench.txt"

echo "== attention_ceilings.py ($(elapsed) s)"
flex=(--flex 32768:512); [ "${PREFILL_NO_FLEX:-0}" = 1 ] && flex=(--no-flex)
PYTHONUNBUFFERED=1 timeout 200 python3 tools/reference/attention_ceilings.py --json "$OUT/ceilings.jsonl" \
  --sizes ${PREFILL_SIZES:-8192 32768} --blocks 512 "${flex[@]}" --budget-s 120 > "$OUT/ceilings.txt" 2>&1
echo "ceilings rc $?"

{
  echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%F), $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null)"
  echo "test_kernels_gpu blockPrefill blockPrefillLarge: rc $test_rc; total $(elapsed) s"
  echo
  python3 tools/device/kernels_summary.py "$OUT/bench.jsonl" "$OUT/ceilings.jsonl"
} > "$OUT/summary.md" 2>&1
echo; cat "$OUT/summary.md"

# PREFILL_PROFILE=1: Nsight Compute on one launch of the Hopper kernel at the target shape.
if [ "${PREFILL_PROFILE:-0}" = 1 ]; then
  ncu=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null || true)
  if [ -n "$ncu" ]; then
    echo "== ncu ($(elapsed) s)"
    timeout 240 "$ncu" --kernel-name regex:prefillSm90 --launch-skip 5 --launch-count 1 \
      --section SpeedOfLight --section MemoryWorkloadAnalysis --section ComputeWorkloadAnalysis \
      --section WarpStateStats --section SchedulerStats --section Occupancy \
      --metrics "regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio,sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active" \
      "$build/bench/bench_kernels" --prefill-target > "$OUT/ncu.txt" 2>&1
    echo "ncu rc $?"
    grep -vE '^\s*$|^==PROF==|^ +(OPT|INF|WRN) |^          ' "$OUT/ncu.txt" | grep -vE '^ +-+' | head -100
  else
    echo "no ncu on this machine"
  fi
fi
