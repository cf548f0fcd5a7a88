#!/usr/bin/env python3
"""Packs the demo corpus small enough to travel to the GPU machine (what travels is capped at
64 MiB, and the repository with .deps already takes about 61 MB):

    python3 tools/demo_model/device_corpus.py [--corpus demo-data/corpus] [--out demo-gpu] [--chars 19500000]

A seeded sample (random.seed(1), shuffled document order, whole documents until --chars is passed,
written back in corpus order) of the training split, and the whole validation split, each xz -9e
compressed: demo-gpu/train.txt.xz (~4.7 MB) and demo-gpu/valid.txt.xz (~0.3 MB).
tools/device/block_distill.sh unpacks them. Keep demo-gpu/ out of git (.git/info/exclude).
"""
import argparse, lzma, os, random

SEP = "\n\x1e\n"  # documents are separated by a line holding only U+001E (make_corpus.py)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="demo-data/corpus")
    ap.add_argument("--out", default="demo-gpu")
    ap.add_argument("--chars", type=int, default=19_500_000)
    a = ap.parse_args()
    docs = open(os.path.join(a.corpus, "train.txt"), encoding="utf-8").read().split(SEP)
    order = list(range(len(docs)))
    random.seed(1)
    random.shuffle(order)
    chosen, chars = [], 0
    for i in order:
        if chars > a.chars:
            break
        chosen.append(i)
        chars += len(docs[i])
    chosen.sort()
    os.makedirs(a.out, exist_ok=True)
    train = SEP.join(docs[i] for i in chosen).encode("utf-8")
    valid = open(os.path.join(a.corpus, "valid.txt"), "rb").read()
    for name, data in (("train.txt.xz", train), ("valid.txt.xz", valid)):
        with open(os.path.join(a.out, name), "wb") as f:
            f.write(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))
    print(f"{len(chosen)} of {len(docs)} training documents, {chars:,} characters -> {a.out}/")

if __name__ == "__main__":
    main()
