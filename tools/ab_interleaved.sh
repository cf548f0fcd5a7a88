#!/usr/bin/env bash
# A/B timing of two commands on a shared, loaded machine: runs them interleaved (A, B, A, B, ...)
# so that whatever else the machine does weighs on both alike, and reports each one's median wall,
# user and system time and the ratio B/A (median of the per-pair ratios, with their quartiles).
#
#   tools/ab_interleaved.sh [-n PAIRS] [-o CSV] [-k DIR] 'COMMAND A' 'COMMAND B'
#
# Each command runs through `bash -c` under /usr/bin/time; its output is discarded, or kept as
# DIR/PAIR-A.txt and DIR/PAIR-B.txt with -k (for figures the commands print themselves). A failing
# run is reported and stops the loop. The 1-minute load average is read before every run.
set -euo pipefail
pairs=15
csv=$(mktemp --suffix=.csv)
keep=""
usage="usage: $0 [-n PAIRS] [-o CSV] [-k DIR] 'COMMAND A' 'COMMAND B'"
while getopts "n:o:k:" opt; do
  case $opt in
    n) pairs=$OPTARG ;;
    o) csv=$OPTARG ;;
    k) keep=$OPTARG; mkdir -p "$keep" ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# = 2 ] || { echo "$usage" >&2; exit 2; }
cmds=("$1" "$2")
echo "pair,variant,wall_s,user_s,sys_s,load1" > "$csv"
times=$(mktemp)
for ((i = 1; i <= pairs; i++)); do
  for v in 0 1; do
    name=$([ $v = 0 ] && echo A || echo B)
    out=/dev/null
    [ -n "$keep" ] && out=$keep/$i-$name.txt
    load=$(cut -d' ' -f1 /proc/loadavg)
    if ! /usr/bin/time -f "%e,%U,%S" -o "$times" bash -c "${cmds[$v]}" > "$out" 2>&1; then
      echo "error: command $name failed in pair $i: ${cmds[$v]}" >&2
      exit 1
    fi
    echo "$i,$name,$(tail -1 "$times"),$load" >> "$csv"
  done
done
rm -f "$times"
echo "A: ${cmds[0]}"
echo "B: ${cmds[1]}"
echo "runs: $csv"
python3 - "$csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def col(v, k): return [float(r[k]) for r in rows if r["variant"] == v]
def q(xs):  # quartiles of a list (inclusive method: defined for any length >= 2)
    a, m, b = statistics.quantiles(xs, n=4, method="inclusive")
    return a, m, b
loads = [float(r["load1"]) for r in rows]
print(f"pairs {len(col('A', 'wall_s'))}, load average (1 min) {min(loads):.1f}-{max(loads):.1f}, median {statistics.median(loads):.1f}")
print(f"{'':6} {'A median':>9} {'B median':>9} {'B/A (per pair: median [q1, q3])':>34}")
for k in ("wall_s", "user_s", "sys_s"):
    a, b = col("A", k), col("B", k)
    ratios = [y / x for x, y in zip(a, b) if x > 0]
    q1, med, q3 = q(ratios) if len(ratios) >= 2 else (float("nan"),) * 3
    print(f"{k:6} {statistics.median(a):9.3f} {statistics.median(b):9.3f} {med:12.3f} [{q1:.3f}, {q3:.3f}]")
# CPU time (user + sys): less sensitive to the load than wall time.
cpu_a = [float(r["user_s"]) + float(r["sys_s"]) for r in rows if r["variant"] == "A"]
cpu_b = [float(r["user_s"]) + float(r["sys_s"]) for r in rows if r["variant"] == "B"]
ratios = [y / x for x, y in zip(cpu_a, cpu_b) if x > 0]
q1, med, q3 = q(ratios) if len(ratios) >= 2 else (float("nan"),) * 3
print(f"{'cpu_s':6} {statistics.median(cpu_a):9.3f} {statistics.median(cpu_b):9.3f} {med:12.3f} [{q1:.3f}, {q3:.3f}]")
PY
