#!/usr/bin/env python3
"""Golden logits for the paper's cut-marker segmenter (issue 8, part 3), from transformers.

Usage (torch, transformers, tokenizers, safetensors, numpy; no network):

    python3 tools/reference/make_cut_marker_goldens.py OUT_DIR

Builds a small randomly initialised Qwen3ForTokenClassification (2 labels, score head with bias,
q/k norms, head_dim != hidden/heads, GQA) and a small byte-level BPE tokenizer in the form of
Qwen3's tokenizer.json whose added tokens are `<|endoftext|>` and the markers `<cut 0>` ..
`<cut 63>`. For each case (a fixed text and a separator regex) it inserts the markers as the
SemanticSeg segmenter's model card describes (`<cut 0>` before the text, `<cut i+1>` after the
i-th separator match, one more at the end unless the text ends with a match), tokenizes the
marked text, runs the model in fp32 on the CPU and keeps:

  logits_CASE.npy   float32 [markers, 2]: the logits at each marker position
  golden.json       per case: text, pattern, marked text, ids, marker positions, the card's
                    decision per marker (the logits of the NEXT marker, [1, -inf] for the last;
                    P(cut) = softmax(...)[1]) and its argmax; versions and self-checks.

Writes OUT_DIR/qwen3_cut_markers/ (config.json, model.safetensors, tokenizer.json, the goldens)
and OUT_DIR/qwen3_cut_markers.tar.
"""
import json
import os
import platform
import re
import sys
import tarfile

import numpy as np
import torch
import transformers
from tokenizers import Tokenizer
from transformers import AutoModelForTokenClassification

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The same weight randomisation (larger spread, random biases and norms, bf16-representable
# values) and RoPE settings as the engine's goldens.
from make_engine_goldens import randomise, rope_kwargs  # noqa: E402

SEED = 4321
MARKERS = 64

CASES = {
    # Paragraph separators, as the card's usual sep_pattern.
    "paragraphs": (r"\n\n",
                   "Block attention splits a long input into blocks.\n\n"
                   "Each block is encoded alone, so its keys and values can be cached and reused.\n\n"
                   "The last block attends to everything before it; it is the query.\n\n"
                   "A segmenter decides where the blocks begin: this is what the markers ask the model.\n\n"
                   "Caf\u00e9 na\u00efve \u2014 \u65e5\u672c\u8a9e text keeps its code points.\n"),
    # Every line end, with code and a text that ends in a separator.
    "lines": (r"\n",
              "def encode(block):\n    return model(block)\n\nclass Cache:\n    pass\n"
              "# a comment line\nThe end.\n"),
}


def bytes_to_unicode():
    """GPT-2's byte -> printable character table (what ByteLevel pre-tokenization uses)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1)) + \
        list(range(ord("\u00ae"), ord("\u00ff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def tokenizer_json():
    """A byte-level BPE in the layout of Qwen3's tokenizer.json: 256 bytes, a few merges, and the
    added tokens <|endoftext|> and <cut 0> .. <cut MARKERS-1>."""
    table = bytes_to_unicode()
    vocab = {table[b]: i for i, b in enumerate(sorted(table))}
    sp = table[ord(" ")]
    nl = table[ord("\n")]
    pairs = [("t", "h"), ("th", "e"), ("h", "e"), (sp, "t"), (sp + "t", "he"), ("i", "n"), (sp, "a"), ("e", "r"),
             ("o", "n"), ("r", "e"), (sp, "b"), ("l", "o"), ("c", "k"), ("lo", "ck"), (sp + "b", "lock"),
             (nl, nl), ("e", "s"), (sp, "c"), ("a", "t")]
    merges = []
    for a, b in pairs:
        assert a in vocab and b in vocab, (a, b)
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
        merges.append([a, b])
    added = []
    for content in ["<|endoftext|>"] + ["<cut %d>" % i for i in range(MARKERS)]:
        added.append({"id": len(vocab) + len(added), "content": content, "single_word": False, "lstrip": False,
                      "rstrip": False, "normalized": False, "special": True})
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    split = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
             "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": split}, "behavior": "Isolated", "invert": False}, byte_level]},
        "post_processor": byte_level, "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }, len(vocab) + len(added)


def insert_markers(text, pattern):
    """The card's insert_marker with marker_pos 'right', written out: <cut 0> first, <cut i+1>
    right after the i-th match, one more marker for trailing text (or for a text without matches)."""
    out, prev, i = ["<cut 0>"], 0, 0
    for m in re.finditer(pattern, text):
        out.append(text[prev:m.end()] + "<cut %d>" % (i + 1))
        prev = m.end()
        i += 1
    if i == 0 or len(text[prev:]) > 0:
        out.append(text[prev:] + "<cut %d>" % (i + 1))
    return "".join(out)


def versions():
    import safetensors
    import tokenizers
    return {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
            "safetensors": safetensors.__version__, "numpy": np.__version__}


def card_decisions(logits, positions):
    """shift_value: the decision of marker j is the logits of marker j + 1; the last gets [1, -inf]."""
    at = logits[positions]                                   # [markers, 2]
    shifted = torch.cat([at[1:], torch.tensor([[1.0, float("-inf")]])], 0)
    return torch.softmax(shifted, -1)[:, 1], shifted.argmax(-1)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    out_dir = sys.argv[1]
    name = "qwen3_cut_markers"
    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    tok_json, vocab = tokenizer_json()
    tok_path = os.path.join(folder, "tokenizer.json")
    with open(tok_path, "w", encoding="utf-8") as f:
        json.dump(tok_json, f, ensure_ascii=False)
    tok = Tokenizer.from_file(tok_path)
    cut_ids = [tok.token_to_id("<cut %d>" % i) for i in range(MARKERS)]

    torch.manual_seed(SEED)
    config = transformers.Qwen3Config(vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=2, head_dim=32,
                                      max_position_embeddings=2048, rms_norm_eps=1e-6, use_sliding_window=False,
                                      tie_word_embeddings=False, num_labels=2, bos_token_id=None, eos_token_id=None,
                                      **rope_kwargs(1000000.0))
    try:
        model = AutoModelForTokenClassification.from_config(config, attn_implementation="eager")
    except (TypeError, ValueError):
        model = AutoModelForTokenClassification.from_config(config)
    model = model.float().eval()
    randomise(model, SEED + 1)
    model.save_pretrained(folder)
    tok_json_saved = json.load(open(tok_path, encoding="utf-8"))  # save_pretrained leaves it alone
    assert tok_json_saved["added_tokens"][1]["content"] == "<cut 0>"

    golden = {"name": name, "class": type(model).__name__, "markers": MARKERS, "cases": {},
              "parameters": {n: list(p.shape) for n, p in model.named_parameters() if n.startswith("score")},
              "versions": versions(), "checks": {}}
    reloaded = AutoModelForTokenClassification.from_pretrained(folder).float().eval()
    for case, (pattern, text) in CASES.items():
        marked = insert_markers(text, pattern)
        ids = tok.encode(marked).ids
        positions = [i for i, t in enumerate(ids) if t in cut_ids]
        assert [cut_ids.index(ids[p]) for p in positions] == list(range(len(positions))), "markers out of order"
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids])).logits[0].float()       # [n, 2]
            again = reloaded(input_ids=torch.tensor([ids])).logits[0].float()
        prob, decision = card_decisions(logits, positions)
        np.save(os.path.join(folder, "logits_%s.npy" % case), logits[positions].numpy().astype(np.float32))
        golden["checks"]["reloaded_rel_error_" + case] = float((again - logits).norm() / logits.norm())
        golden["cases"][case] = {
            "pattern": pattern, "text": text, "marked_text": marked, "ids": ids, "marker_positions": positions,
            "cut_probability": [float(x) for x in prob], "decision": [int(x) for x in decision],
            "argmax_at_markers": [int(x) for x in logits[positions].argmax(-1)],
        }
        print(case, len(ids), "tokens,", len(positions), "markers, decisions", [int(x) for x in decision], flush=True)
    with open(os.path.join(folder, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, indent=1, ensure_ascii=False)
    with tarfile.open(os.path.join(out_dir, name + ".tar"), "w") as tar:
        tar.add(folder, arcname=name)
    print(json.dumps(golden["checks"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
