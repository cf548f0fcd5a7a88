#!/usr/bin/env python3
"""Writes the two benchmark texts of tools/tokenizer_vs_hf/run.sh into OUT_DIR:

mixed-1mb.txt: about 1 MB of mixed multilingual text. The paragraphs of the English benchmark text
  (bench/data/english-1mb.txt, unpacked in the build tree) alternate with the multilingual texts of
  tests/fixtures/tokenizers/texts.json (Chinese, Japanese, Korean, Cyrillic, Arabic/Hebrew,
  Thai/Devanagari, emoji, accents, math symbols, French, code...), taken in turn, until 1 MB.
emoji-64k.txt: 65,536 emoji (U+1F600..U+1F64F in turn) without spaces: one pre-token.

usage: make_texts.py SOURCE_DIR ENGLISH_TXT OUT_DIR
"""
import json
import os
import sys

source, english, out = sys.argv[1], sys.argv[2], sys.argv[3]
texts = json.load(open(os.path.join(source, "tests/fixtures/tokenizers/texts.json"), encoding="utf-8"))
skip = {"empty", "single_char", "long_word", "document_100k", "only_whitespace", "newlines_only"}
snippets = [v for k, v in texts.items() if k not in skip and v.strip()]
paragraphs = [p for p in open(english, encoding="utf-8").read().split("\n\n") if p.strip()]

parts, size, i = [], 0, 0
while size < 1_000_000:
    for piece in (paragraphs[i % len(paragraphs)], snippets[i % len(snippets)]):
        parts.append(piece)
        size += len(piece.encode("utf-8")) + 2
    i += 1
with open(os.path.join(out, "mixed-1mb.txt"), "w", encoding="utf-8") as f:
    f.write("\n\n".join(parts))

emoji = "".join(chr(0x1F600 + k % 80) for k in range(65536))
with open(os.path.join(out, "emoji-64k.txt"), "w", encoding="utf-8") as f:
    f.write(emoji)
