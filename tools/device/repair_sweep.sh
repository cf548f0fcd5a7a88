#!/usr/bin/env bash
# Issue 23 item 3 on the GPU machine in one call: `compare --sweep` (every repair of issue 18) on
# the 8B Llama-3 shape in bf16 at 8k and 32k tokens.
#   1. build blocklens-cli (torch with CUDA, no UI) and make the 8B checkpoint (random bf16
#      weights, make-model's seeded streams, the Llama 3 tokenizer);
#   2. an input of the project's own documentation (README + docs/), cut to about LENGTH tokens,
#      blocks of about 512 tokens (`--target-tokens 512`), a one-line question;
#   3. `compare --sweep --json` per length; a table last (summary.md), logs in $OUT/logs.tgz.
# Random weights: the KL and top-1 columns say how far each repair moves a model that was never
# trained, not what it buys on a trained one (the CPU table of the demo model says that); the
# FLOPs and TTFT columns are what this call is for.
# From the repository root there, after `source .deps/setup.sh`:  bash tools/device/repair_sweep.sh
# LENGTHS (characters per token about 4: default "8192 32768").
set -uo pipefail
t0=$(date +%s)
elapsed() { echo $(( $(date +%s) - t0 )); }
FINAL=${OUT:-/tmp/out}; OUT=/tmp/logs-sweep; rm -rf "$OUT"; mkdir -p "$OUT" "$FINAL"
trap 'cp "$OUT/summary.md" "$OUT"/sweep-*.json "$FINAL/" 2>/dev/null; tar czf "$FINAL/logs.tgz" -C "$OUT" .' EXIT
build=/tmp/build-sweep
commit=${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo '?')}
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"

echo "== configure + build ($(elapsed) s)"
cmake -S . -B "$build" -G Ninja $DEVICE_CMAKE_ARGS -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_COMPILER="$nvcc" -DBLOCKLENS_BUILD_UI=OFF -DBLOCKLENS_WITH_NET=OFF \
  -DBLOCKLENS_WITH_TORCH=ON -DBLOCKLENS_WITH_CUDA=ON > "$OUT/configure.log" 2>&1 || { tail -30 "$OUT/configure.log"; exit 1; }
cmake --build "$build" --parallel 16 --target blocklens-cli > "$OUT/build.log" 2>&1 || { grep -E 'error' "$OUT/build.log" | head -20; exit 1; }
cli="$build/app/cli/blocklens-cli"
model=/tmp/llama3-8b-random
"$cli" make-model --arch llama --layers 32 --hidden 4096 --heads 32 --kv-heads 8 --intermediate 14336 --vocab 128256 \
  --rope-theta 500000 --llama3-rope 8 --dtype bf16 --seed 1 --tokenizer "$build/fixtures/tokenizers/llama3/tokenizer.json" \
  --out "$model" > "$OUT/make-model.log" 2>&1 || { tail -5 "$OUT/make-model.log"; exit 1; }
echo "built and made the model in $(elapsed) s"

cat README.md docs/*.md > "$OUT/docs.txt"
for length in ${LENGTHS:-8192 32768}; do
  input="$OUT/input-$length.md"
  head -c $(( length * 4 )) "$OUT/docs.txt" > "$input"
  echo "== compare --sweep, about $length tokens ($(elapsed) s)"
  timeout $(( 580 - $(elapsed) )) "$cli" compare --model "$model" --input "$input" --target-tokens 512 \
    --query "Which benchmark rows does this document report for the GPU?" --max-new-tokens 8 \
    --sweep --device cuda --dtype bf16 --repeats 3 --json > "$OUT/sweep-$length.json" 2> "$OUT/sweep-$length.err"
  echo "rc $?"; grep -v '^$' "$OUT/sweep-$length.err" | tail -3
done
python3 - "$OUT" "$commit" > "$OUT/summary.md" <<'PY'
import json, sys, glob, os
out, commit = sys.argv[1], sys.argv[2]
print(f"commit {commit}, {open(os.path.join(out, 'gpu.txt')).read().strip()}\n")
for path in sorted(glob.glob(os.path.join(out, "sweep-*.json"))):
    try:
        rep = json.load(open(path))
    except Exception as e:
        print(f"{os.path.basename(path)}: no result ({e})\n"); continue
    print(f"### {os.path.basename(path)}\n")
    ref = rep.get("reference", {})
    print(f"{rep.get('tokens')} tokens, {rep.get('blocks')} blocks, {rep.get('query_tokens')} query tokens; reference {ref.get('mode')} TTFT {ref.get('stats', {}).get('ttft_ms', 0):.2f} ms; {rep.get('timing')}\n")
    rows = rep.get("settings") or rep.get("sweep") or rep.get("rows") or []
    if rows:
        keys = [k for k in rows[0].keys() if not isinstance(rows[0][k], (list, dict))][:9]
        print("| " + " | ".join(keys) + " |"); print("|" + " --- |" * len(keys))
        for r in rows:
            print("| " + " | ".join(f"{r.get(k):.4g}" if isinstance(r.get(k), float) else str(r.get(k)) for k in keys) + " |")
    else:
        print("keys: " + ", ".join(rep.keys()))
    print()
PY
cat "$OUT/summary.md"
