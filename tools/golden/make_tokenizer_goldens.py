#!/usr/bin/env python3
"""Computes golden tokenizer encodings with the reference `tokenizers` library (GPU machine).

Usage: python3 tools/golden/make_tokenizer_goldens.py OUTDIR [--pack]

Reads tests/fixtures/tokenizers/texts.json and the tokenizer.json inside each
tests/fixtures/tokenizers/<name>.tar.xz (member <name>/tokenizer.json); writes
OUTDIR/<name>.golden.json with the ids, code-point offsets and decoded text of every text, with
and without special tokens. With --pack it also writes OUTDIR/<name>.tar.xz holding
<name>/tokenizer.json and <name>/golden.json, the layout of the committed fixture (copy it over
tests/fixtures/tokenizers/<name>.tar.xz).
Also times encoding the 1 MB of English in bench/data/english-1mb.tar.xz (member
english-1mb.txt) on one thread and prints it.
"""
import io, json, os, pathlib, sys, tarfile, time
os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import tokenizers

root = pathlib.Path(__file__).resolve().parents[2]
fx = root / "tests/fixtures/tokenizers"
args = [a for a in sys.argv[1:] if not a.startswith("--")]
pack = "--pack" in sys.argv[1:]
if len(args) != 1:
    sys.exit(__doc__)
out = pathlib.Path(args[0]); out.mkdir(parents=True, exist_ok=True)


def read_member(archive, member):
    with tarfile.open(archive, "r:xz") as tar:
        f = tar.extractfile(member)
        if f is None:
            sys.exit(f"{archive}: no file {member}")
        return f.read().decode("utf-8")


def add_member(tar, name, text):
    data = text.encode("utf-8")
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


texts = json.loads((fx / "texts.json").read_text(encoding="utf-8"))
bench = read_member(root / "bench/data/english-1mb.tar.xz", "english-1mb.txt")
for name in ("llama3", "qwen3", "llama2"):
    tokenizer_json = read_member(fx / f"{name}.tar.xz", f"{name}/tokenizer.json")
    tok = tokenizers.Tokenizer.from_str(tokenizer_json)
    cases = []
    for key, text in texts.items():
        for special in (False, True):
            enc = tok.encode(text, add_special_tokens=special)
            cases.append({"text": key, "add_special_tokens": special, "ids": enc.ids,
                          "offsets": [list(o) for o in enc.offsets],
                          "decoded": tok.decode(enc.ids, skip_special_tokens=False)})
    golden = json.dumps({"tokenizer": name, "tokenizers_version": tokenizers.__version__, "cases": cases}, ensure_ascii=False)
    (out / f"{name}.golden.json").write_text(golden, encoding="utf-8")
    if pack:
        with tarfile.open(out / f"{name}.tar.xz", "w:xz") as tar:
            add_member(tar, f"{name}/tokenizer.json", tokenizer_json)
            add_member(tar, f"{name}/golden.json", golden)
    tok.encode(bench[:10000])
    times = []
    for _ in range(5):
        t0 = time.perf_counter(); n = len(tok.encode(bench, add_special_tokens=False).ids); times.append(time.perf_counter() - t0)
    times.sort()
    print(f"BENCH tokenizers {tokenizers.__version__} {name} 1MB english: median {times[2]*1000:.1f} ms, {n} tokens")
