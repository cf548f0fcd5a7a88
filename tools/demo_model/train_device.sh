#!/usr/bin/env bash
# One call on the GPU machine: build blocklens-cli against PyTorch's libtorch (CUDA), train the demo
# model from the carried token files, evaluate it (engine, CUDA, fp32), check the tokenizer against
# the `tokenizers` library, and leave checkpoint + logs in $OUT/demo and $OUT.
#   carry: .deps demo-data/tokens demo-data/tokenizer.json
#   source .deps/setup.sh && bash tools/demo_model/train_device.sh
# TIME_BUDGET (seconds of training, default 240) and the hyperparameters below are what the
# bundled model was trained with (resources/models/demo/README.md). EVAL=1 also runs lm-eval there
# and checks the tokenizer against `tokenizers`.
# What comes back from the machine is at most 8 files of at most 16 MiB: the checkpoint lands flat
# in $OUT with model.safetensors split in two (cat model.safetensors.part-* > model.safetensors).
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
model=/tmp/demo; mkdir -p "$model"
logs=/tmp/demo-logs; mkdir -p "$logs"
build=/tmp/build-demo
t0=$(date +%s)
cmake -S . -B "$build" -G Ninja $DEVICE_CMAKE_ARGS -DCMAKE_BUILD_TYPE=Release -DBLOCKLENS_BUILD_UI=OFF -DBLOCKLENS_WITH_NET=OFF \
  -DBLOCKLENS_WITH_TORCH=ON -DBLOCKLENS_BUILD_BENCH=OFF > "$logs/configure.log" 2>&1 || { tail -30 "$logs/configure.log"; exit 1; }
cmake --build "$build" --parallel 16 --target blocklens-cli > "$logs/build.log" 2>&1 || { grep -E 'error' "$logs/build.log" | head -30; exit 1; }
echo "built in $(( $(date +%s) - t0 )) s"
cli="$build/app/cli/blocklens-cli"
data=demo-data
"$cli" train-lm --train $data/tokens/train.u16 --valid $data/tokens/valid.u16 --tokenizer $data/tokenizer.json \
  --out "$model" --layers 6 --hidden 256 --heads 8 --kv-heads 4 --intermediate 768 --rope-theta 10000 \
  --seq-len 2048 --batch 32 --steps 100000 --warmup 200 --time-budget "${TIME_BUDGET:-240}" --lr 3e-3 --min-lr-ratio 0.1 \
  --weight-decay 0.1 --device cuda --bf16 --seed 1 --eval-every 250 --eval-tokens 262144 --log-every 50 \
  --log "$OUT/train-log.jsonl" --json > "$OUT/train-summary.json" 2> "$OUT/train.err" || { tail -20 "$OUT/train.err"; exit 1; }
echo "trained at $(( $(date +%s) - t0 )) s"; cat "$OUT/train-summary.json"
if [ "${EVAL:-1}" = 1 ]; then
"$cli" lm-eval --model "$model" --valid $data/tokens/valid.u16 --train $data/tokens/train.u16 --device cuda \
  --context 2048 --induction-length 50 --trials 16 --check-trainer --json > "$OUT/eval-cuda.json" 2> "$OUT/eval.err" || tail -5 "$OUT/eval.err"
echo "evaluated at $(( $(date +%s) - t0 )) s"
python3 -c "import json,sys; j=json.load(open(sys.argv[1])); j.pop('induction_scores'); print(json.dumps(j))" "$OUT/eval-cuda.json"
# The tokenizer against the reference library: ids of a few texts, ours vs `tokenizers`.
python3 - "$cli" $data/tokenizer.json <<'PY' 2>&1 | tee "$OUT/tokenizer-check.txt"
import json, subprocess, sys, tokenizers
cli, path = sys.argv[1], sys.argv[2]
ref = tokenizers.Tokenizer.from_file(path)
texts = ["Hello, world! It's 2026.", "  def f(x):\n\treturn x ** 2  # square\n", "caf\u00e9 na\u00efve \u2014 \u4e2d\u6587 \U0001F642",
         "The block KV cache stores <|end_of_text|> keys.", "Documentation/admin-guide/README.rst: 12345 67890",
         open("demo-data/tokenizer.json").read()[:3000]]
same = 0
for t in texts:
    out = subprocess.run([cli, "tokenize", "--text", t, "--tokenizer", path, "--json"], capture_output=True, text=True)
    ours = json.loads(out.stdout)
    ids = ours.get("ids") or [tok["id"] for tok in ours.get("tokens", [])]
    want = ref.encode(t, add_special_tokens=False).ids
    same += ids == want
    print(("same" if ids == want else "DIFFERENT"), len(want), "tokens:", repr(t[:40]))
print(f"tokenizers {tokenizers.__version__}: {same}/{len(texts)} texts give identical ids")
PY
else # induction scores only (a few validation windows), printed
"$cli" lm-eval --model "$model" --valid $data/tokens/valid.u16 --train $data/tokens/train.u16 --device cuda \
  --context 2048 --max-tokens 8192 --induction-length 50 --trials 16 2>&1 | grep -v "^  layer"
fi
cp "$model/config.json" "$model/tokenizer.json" "$OUT/"
split -n 2 -d -a 1 "$model/model.safetensors" "$OUT/model.safetensors.part-"
sha256sum "$model/model.safetensors"
du -b "$model"/* "$OUT"/*
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
echo "total $(( $(date +%s) - t0 )) s"
