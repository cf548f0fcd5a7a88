#!/usr/bin/env python3
"""Computes golden tokenizer encodings with the reference `tokenizers` library (GPU machine).

Usage: python3 tools/golden/make_tokenizer_goldens.py OUTDIR
Reads tests/fixtures/tokenizers/{texts.json,<name>.tokenizer.json.xz}; writes OUTDIR/<name>.golden.json
with ids, code-point offsets and the decoded text of every text, with and without special tokens.
Also times encoding bench/data/english-1mb.txt.xz on one thread and prints it.
"""
import json, lzma, os, pathlib, sys, time
os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import tokenizers

root = pathlib.Path(__file__).resolve().parents[2]
fx = root / "tests/fixtures/tokenizers"
out = pathlib.Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
texts = json.loads((fx / "texts.json").read_text(encoding="utf-8"))
bench = lzma.decompress((root / "bench/data/english-1mb.txt.xz").read_bytes()).decode()
for name in ("llama3", "qwen3", "llama2"):
    tok = tokenizers.Tokenizer.from_str(lzma.decompress((fx / f"{name}.tokenizer.json.xz").read_bytes()).decode())
    cases = []
    for key, text in texts.items():
        for special in (False, True):
            enc = tok.encode(text, add_special_tokens=special)
            cases.append({"text": key, "add_special_tokens": special, "ids": enc.ids,
                          "offsets": [list(o) for o in enc.offsets],
                          "decoded": tok.decode(enc.ids, skip_special_tokens=False)})
    (out / f"{name}.golden.json").write_text(json.dumps({"tokenizer": name, "tokenizers_version": tokenizers.__version__, "cases": cases}, ensure_ascii=False))
    tok.encode(bench[:10000])
    times = []
    for _ in range(5):
        t0 = time.perf_counter(); n = len(tok.encode(bench, add_special_tokens=False).ids); times.append(time.perf_counter() - t0)
    times.sort()
    print(f"BENCH tokenizers {tokenizers.__version__} {name} 1MB english: median {times[2]*1000:.1f} ms, {n} tokens")
