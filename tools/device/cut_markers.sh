#!/usr/bin/env bash
# One call on the GPU machine for the paper's segmenter form (issue 8, part 3): build the CLI
# against PyTorch's libtorch, make a random Qwen3ForTokenClassification + marker tokenizer and its
# golden logits with transformers (tools/reference/make_cut_marker_goldens.py), run
# `blocklens-cli cut-markers --cuts-after` on the same texts on CPU and CUDA (fp32), and compare
# the logits at the markers (relative error, argmax), the token ids and the marker positions.
# Run from the repository root there:  source .deps/setup.sh && bash tools/device/cut_markers.sh
# Only the fixture archive and a summary come back in $OUT (the rest stays in $W).
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
W=/tmp/cut-markers; mkdir -p "$W"
build=/tmp/build-cut
t0=$(date +%s)
python3 tools/reference/make_cut_marker_goldens.py "$W/golden" > "$W/golden.log" 2>&1 || { tail -30 "$W/golden.log"; exit 1; }
cp "$W/golden/qwen3_cut_markers.tar" "$OUT/"
cp "$W/golden.log" "$OUT/golden.log"
echo "goldens made in $(( $(date +%s) - t0 )) s"
cmake -S . -B "$build" -G Ninja $DEVICE_CMAKE_ARGS -DCMAKE_BUILD_TYPE=Release -DBLOCKLENS_BUILD_UI=OFF -DBLOCKLENS_WITH_NET=OFF \
  -DBLOCKLENS_WITH_TORCH=ON -DBLOCKLENS_BUILD_BENCH=OFF > "$W/configure.log" 2>&1 || { tail -30 "$W/configure.log"; exit 1; }
cmake --build "$build" --parallel 16 --target blocklens-cli > "$W/build.log" 2>&1 || { grep -E 'error' "$W/build.log" | head -30; exit 1; }
echo "built in $(( $(date +%s) - t0 )) s"
cli="$build/app/cli/blocklens-cli"
model="$W/golden/qwen3_cut_markers"
python3 - "$model" "$cli" "$W" <<'PY' | tee "$OUT/summary.md"
import json, subprocess, sys
import numpy as np
model, cli, out = sys.argv[1:4]
g = json.load(open(model + "/golden.json"))
print(f"transformers {g['versions']['transformers']}, torch {g['versions']['torch']}, {g['class']}, score {g['parameters']}")
print("| case | device | tokens | markers | ids equal | marker positions equal | rel. error at markers | argmax equal | max abs P(cut) diff |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
bad = 0
for case, c in g["cases"].items():
    path = f"{out}/{case}.txt"
    open(path, "w", encoding="utf-8").write(c["text"])
    ref = np.load(f"{model}/logits_{case}.npy")
    pattern = c["pattern"].replace("\n", "\\n")
    for dev in ("cpu", "cuda"):
        npy = f"{out}/ours_{case}_{dev}.npy"
        r = subprocess.run([cli, "cut-markers", "--model", model, "--input", path, "--cuts-after", pattern,
                            "--logits-out", npy, "--device", dev, "--dtype", "f32", "--json"], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"| {case} | {dev} | FAILED: {r.stderr.strip()[:300]} |"); bad += 1; continue
        j = json.loads(r.stdout)
        ours = np.load(npy)
        same_ids = j["ids"] == c["ids"]
        same_pos = j["marker_positions"] == c["marker_positions"]
        rel = float(np.linalg.norm(ours - ref) / np.linalg.norm(ref)) if ours.shape == ref.shape else float("nan")
        same_top = ours.shape == ref.shape and bool((ours.argmax(-1) == ref.argmax(-1)).all())
        dp = float(np.max(np.abs(np.array(j["cut_probability"]) - np.array(c["cut_probability"]))))
        ok = same_ids and same_pos and rel < 1e-4 and same_top
        bad += 0 if ok else 1
        print(f"| {case} | {dev} | {len(j['ids'])} | {len(j['marker_positions'])} | {same_ids} | {same_pos} | {rel:.2e} | {same_top} | {dp:.2e} |")
print("all passed" if bad == 0 else f"{bad} FAILED")
PY
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
