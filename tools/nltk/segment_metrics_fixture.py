#!/usr/bin/python3
"""Reference Pk / WindowDiff values from NLTK for BlockLens's segmentation metrics test.

Reads a dataset (shared/data/segdev.jsonl) and prediction files written by
`blocklens-cli eval DATASET --segmenter NAME --predictions OUT.jsonl` (one line per document:
{"id": ..., "boundaries": [code-point offsets]}), maps reference and predicted boundaries to
lines exactly as shared/data/README.md says, builds NLTK boundary strings (one character per
line, '1' where a line carries a boundary) and computes nltk.metrics.segmentation.pk and
windowdiff with k = max(2, round(n / (b + 1) / 2)) passed explicitly. Writes a small JSON
fixture: per document the line count, k and reference lines; per prediction the predicted lines
and NLTK's two values. tests/segment/test_metrics.cpp recomputes them with the C++ code.

Run with Debian's python3-nltk:
  /usr/bin/python3 tools/nltk/segment_metrics_fixture.py ../shared/data/segdev.jsonl \\
      --level 2 hybrid=/tmp/hybrid.jsonl fixed=/tmp/fixed.jsonl \\
      > tests/fixtures/segment/nltk_pk_windowdiff.json
"""
import argparse
import bisect
import json
import sys

from nltk.metrics.segmentation import pk, windowdiff


def line_starts(text):
    starts = [0]
    pos = 0
    for line in text.split("\n")[:-1]:
        pos += len(line) + 1
        starts.append(pos)
    return starts


def boundary_line(text, starts, offset):
    # The line containing offset; the next line when text[offset] is '\n'.
    if offset < len(text) and text[offset] == "\n":
        offset += 1
    return bisect.bisect_right(starts, offset) - 1


def boundary_lines(text, starts, offsets):
    return sorted({boundary_line(text, starts, o) for o in offsets} - {0})


def boundary_string(lines, n):
    s = ["0"] * n
    for line in lines:
        s[line] = "1"
    return "".join(s)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset")
    ap.add_argument("predictions", nargs="+", help="NAME=PATH of an eval --predictions file")
    ap.add_argument("--level", type=int, default=2)
    args = ap.parse_args()

    docs = {}
    order = []
    with open(args.dataset, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                docs[d["id"]] = d
                order.append(d["id"])

    documents = []
    info = {}
    for doc_id in order:
        d = docs[doc_id]
        text = d["text"]
        starts = line_starts(text)
        n = len(starts)
        ref = boundary_lines(text, starts, [b["offset"] for b in d["boundaries"] if b["level"] <= args.level])
        k = max(2, round(n / (len(ref) + 1) / 2))
        info[doc_id] = (text, starts, n, ref, k)
        documents.append({"id": doc_id, "lines": n, "k": k, "reference": ref})

    cases = []
    for spec in args.predictions:
        name, path = spec.split("=", 1)
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                p = json.loads(line)
                text, starts, n, ref, k = info[p["id"]]
                hyp = boundary_lines(text, starts, p["boundaries"])
                r, h = boundary_string(ref, n), boundary_string(hyp, n)
                cases.append({
                    "id": p["id"],
                    "segmenter": name,
                    "hypothesis": hyp,
                    "pk": pk(r, h, k=k, boundary="1"),
                    "windowdiff": windowdiff(r, h, k, boundary="1", weighted=False),
                })

    out = {
        "generated_by": "tools/nltk/segment_metrics_fixture.py (nltk.metrics.segmentation)",
        "dataset": "shared/data/segdev.jsonl",
        "level": args.level,
        "documents": documents,
        "cases": cases,
    }
    # One document or case per line keeps the file diffable.
    sys.stdout.write("{\n")
    keys = list(out)
    for i, key in enumerate(keys):
        value = out[key]
        sep = "," if i + 1 < len(keys) else ""
        if isinstance(value, list):
            sys.stdout.write(json.dumps(key) + ": [\n")
            for j, item in enumerate(value):
                sys.stdout.write("  " + json.dumps(item, separators=(",", ":")) + ("," if j + 1 < len(value) else "") + "\n")
            sys.stdout.write("]" + sep + "\n")
        else:
            sys.stdout.write(json.dumps(key) + ": " + json.dumps(value) + sep + "\n")
    sys.stdout.write("}\n")


if __name__ == "__main__":
    main()
