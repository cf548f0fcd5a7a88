#!/usr/bin/env python3
"""Golden logits for the BlockLens engine tests, computed with Hugging Face transformers.

Usage (any machine with torch, transformers, safetensors and numpy; no network needed):

    python3 tools/reference/make_engine_goldens.py OUT_DIR

It builds small randomly initialised models from configs (fixed seed, fp32, CPU), saves them with
save_pretrained (safetensors) and computes logits for one fixed id sequence:

  logits_full.npy    float32 [n, vocab]: ordinary causal attention, positions 0..n-1
  logits_block.npy   float32 [n, vocab]: the equivalent 4-D block mask (additive float mask
                     [1, 1, n, n], 0 where allowed, finfo.min elsewhere) with global position_ids:
                     each block but the last attends causally within itself, the last block
                     attends causally to everything.

Weights are drawn with a larger spread than transformers' default init (so attention is sharp and
a wrong RoPE or mask shows in the logits), biases and norm weights are randomised too (transformers
initialises them to 0 and 1), and every weight is rounded to a bfloat16-representable value, so a
checkpoint saved in bf16 holds exactly the weights the fp32 goldens were computed with.

Writes OUT_DIR/NAME.tar for each model (folder NAME/ with config.json, the safetensors file(s),
golden.json, logits_full.npy, logits_block.npy) and OUT_DIR/summary.json. golden.json holds the
ids, the block starts, greedy continuations under both attention forms, the versions used and the
self-checks (is the block mask honoured; does the saved checkpoint reload to the same logits).
"""
import json
import os
import platform
import shutil
import sys
import tarfile
import traceback

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM

SEED = 1234
VOCAB = 256
N_TOKENS = 40
# Block starts: [0,9) [9,10) (a one-token block) [10,23) [23,31), and the last, global block [31,40).
BLOCKS = [0, 9, 10, 23, 31]
WEIGHT_STD = 0.2
GREEDY_STEPS = 8
TRANSFORMERS_MAJOR = int(transformers.__version__.split(".")[0])


def rope_kwargs(theta, scaling=None):
    """RoPE settings in the form this transformers version takes (5: rope_parameters)."""
    if TRANSFORMERS_MAJOR >= 5:
        params = {"rope_type": "default", "rope_theta": theta}
        if scaling:
            params.update(scaling)
        return {"rope_parameters": params}
    kw = {"rope_theta": theta}
    if scaling:
        kw["rope_scaling"] = dict(scaling)
    return kw


COMMON = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
              max_position_embeddings=2048, rms_norm_eps=1e-5, initializer_range=0.02,
              bos_token_id=1, eos_token_id=2)

LLAMA3_SCALING = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                  "original_max_position_embeddings": 64}

# name -> (config class name, kwargs, save options)
MODELS = {
    # Llama 3: llama3 RoPE scaling (with head_dim 16 and original context 64 every frequency band
    # is hit: kept, smoothed, divided), GQA 4/2, untied embeddings.
    "llama3_gqa": ("LlamaConfig", dict(COMMON, num_attention_heads=4, num_key_value_heads=2,
                                       tie_word_embeddings=False, **rope_kwargs(500000.0, LLAMA3_SCALING)), {}),
    # Llama with attention_bias (q, k, v and o biases), MHA, tied embeddings, sharded save.
    "llama_tied_bias": ("LlamaConfig", dict(COMMON, num_attention_heads=4, num_key_value_heads=4,
                                            attention_bias=True, tie_word_embeddings=True,
                                            **rope_kwargs(10000.0)), {"max_shard_size": "100KB"}),
    # Mistral: one KV head (MQA), sliding window 16 < n, untied.
    "mistral_window": ("MistralConfig", dict(COMMON, num_attention_heads=4, num_key_value_heads=1,
                                             sliding_window=16, tie_word_embeddings=False,
                                             **rope_kwargs(1000000.0)), {}),
    # Qwen2: q/k/v biases, GQA 4/2, tied.
    "qwen2_bias": ("Qwen2Config", dict(COMMON, num_attention_heads=4, num_key_value_heads=2,
                                       use_sliding_window=False, tie_word_embeddings=True,
                                       **rope_kwargs(1000000.0)), {}),
    # Qwen3: q/k RMSNorm per head, head_dim 32 != 64/4, GQA 4/2, untied, saved in bfloat16.
    "qwen3_headdim": ("Qwen3Config", dict(COMMON, num_attention_heads=4, num_key_value_heads=2, head_dim=32,
                                          use_sliding_window=False, tie_word_embeddings=False,
                                          **rope_kwargs(1000000.0)), {"bf16": True}),
}


def fixed_ids():
    rng = np.random.default_rng(SEED)
    ids = rng.integers(3, VOCAB, N_TOKENS)
    ids[25:32] = ids[5:12]  # a repeated span, so attention has something to find
    return [int(x) for x in ids]


def allowed_matrix(n, blocks, window=None, block_mode=True, window_slack=0):
    """allowed[i, j]: may query i attend to key j (sequence indices); a sliding window keeps
    i - j < window (+ window_slack, to find the convention this transformers version uses)."""
    i = torch.arange(n)[:, None]
    j = torch.arange(n)[None, :]
    allowed = j <= i
    if block_mode:
        start_of = torch.zeros(n, dtype=torch.long)
        for b, s in enumerate(blocks):
            e = blocks[b + 1] if b + 1 < len(blocks) else n
            start_of[s:e] = 0 if b == len(blocks) - 1 else s
        allowed = allowed & (j >= start_of[:, None])
    if window:
        allowed = allowed & (i - j < window + window_slack)
    return allowed


def additive_mask(allowed):
    m = torch.zeros(1, 1, *allowed.shape, dtype=torch.float32)
    m.masked_fill_(~allowed[None, None], torch.finfo(torch.float32).min)
    return m


def run(model, ids, mask=None, positions=None):
    n = len(ids)
    kw = {"input_ids": torch.tensor([ids]), "use_cache": False}
    kw["position_ids"] = torch.tensor([positions if positions is not None else list(range(n))])
    if mask is not None:
        kw["attention_mask"] = mask
    with torch.no_grad():
        return model(**kw).logits[0].float()


def rel(a, b):
    return float((a - b).norm() / b.norm())


def randomise(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
            elif "norm" in name:
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(WEIGHT_STD * torch.randn(p.shape, generator=g))
            p.copy_(p.to(torch.bfloat16).to(torch.float32))


def make_model(cls_name, kwargs):
    cls = getattr(transformers, cls_name)
    config = cls(**kwargs)
    try:
        model = AutoModelForCausalLM.from_config(config, attn_implementation="eager")
    except (TypeError, ValueError):
        model = AutoModelForCausalLM.from_config(config)
    return model.float().eval()


def load_saved(path):
    for kw in ({"dtype": torch.float32}, {"torch_dtype": torch.float32}):
        try:
            return AutoModelForCausalLM.from_pretrained(path, **kw).float().eval()
        except TypeError:
            continue
    return AutoModelForCausalLM.from_pretrained(path).float().eval()


def greedy(model, ids, steps, mask_for):
    seq = list(ids)
    for _ in range(steps):
        m = mask_for(len(seq))
        seq.append(int(run(model, seq, m)[-1].argmax()))
    return seq[len(ids):]


def save_npy(path, array):
    np.save(path, np.ascontiguousarray(array, dtype=np.float32))


def build(name, cls_name, kwargs, options, out_dir, index):
    torch.manual_seed(SEED + index)
    model = make_model(cls_name, kwargs)
    randomise(model, SEED + 100 + index)
    ids = fixed_ids()
    n = len(ids)
    window = kwargs.get("sliding_window")
    checks = {"attn_implementation": getattr(model.config, "_attn_implementation", None)}

    full = run(model, ids)
    # The sliding-window convention of this transformers version: the one whose explicit mask
    # reproduces its own causal logits.
    slack = 0
    if window:
        errors = {s: rel(run(model, ids, additive_mask(allowed_matrix(n, BLOCKS, window, False, s))), full)
                  for s in (0, 1, -1)}
        slack = min(errors, key=errors.get)
        checks["window_slack_errors"] = {str(k): v for k, v in errors.items()}
    checks["window_slack"] = slack
    # Block mask: additive float mask; fall back to a boolean one if this version does not honour it.
    block_allowed = allowed_matrix(n, BLOCKS, window, True, slack)
    mask_kind = "additive_float"
    block = run(model, ids, additive_mask(block_allowed))

    # Self-check 1: rows of each non-last block equal that block run alone at its global positions.
    def per_block_error(logits):
        worst = 0.0
        for b in range(len(BLOCKS) - 1):
            s, e = BLOCKS[b], BLOCKS[b + 1]
            alone = run(model, ids[s:e], None, list(range(s, e)))
            worst = max(worst, rel(logits[s:e], alone))
        return worst

    err = per_block_error(block)
    if err > 1e-5:
        bool_mask = block_allowed[None, None].clone()
        alt = run(model, ids, bool_mask)
        alt_err = per_block_error(alt)
        checks["additive_mask_per_block_rel_error"] = err
        if alt_err < err:
            block, err, mask_kind = alt, alt_err, "boolean"
    checks["block_mask_kind"] = mask_kind
    checks["block_rows_vs_blocks_alone_rel_error"] = err
    # Self-check 2: an explicit causal (and windowed) 4-D mask gives the full logits.
    causal = run(model, ids, additive_mask(allowed_matrix(n, BLOCKS, window, False, slack)))
    checks["explicit_causal_mask_vs_full_rel_error"] = rel(causal, full)
    checks["full_vs_block_rel_difference"] = rel(block, full)
    checks["full_vs_block_last_block_rel_difference"] = rel(block[BLOCKS[-1]:], full[BLOCKS[-1]:])

    def block_mask_for(length):
        allowed = allowed_matrix(length, BLOCKS, window, True, slack)
        return additive_mask(allowed) if mask_kind == "additive_float" else allowed[None, None]

    greedy_full = greedy(model, ids, GREEDY_STEPS, lambda length: None)
    greedy_block = greedy(model, ids, GREEDY_STEPS, block_mask_for)

    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    to_save = model.to(torch.bfloat16) if options.get("bf16") else model
    save_kw = {}
    if "max_shard_size" in options:
        save_kw["max_shard_size"] = options["max_shard_size"]
    try:
        to_save.save_pretrained(folder, **save_kw)
    except TypeError:
        to_save.save_pretrained(folder)
        checks["save_options_ignored"] = save_kw
    files = sorted(os.listdir(folder))
    checks["saved_files"] = files

    reloaded = load_saved(folder)
    checks["reloaded_full_rel_error"] = rel(run(reloaded, ids), full)

    save_npy(os.path.join(folder, "logits_full.npy"), full.numpy())
    save_npy(os.path.join(folder, "logits_block.npy"), block.numpy())
    golden = {
        "name": name,
        "config_class": cls_name,
        "ids": ids,
        "blocks": BLOCKS,
        "sliding_window": window,
        "greedy_steps": GREEDY_STEPS,
        "greedy_full": greedy_full,
        "greedy_block": greedy_block,
        "top1_full": [int(x) for x in full.argmax(-1)],
        "top1_block": [int(x) for x in block.argmax(-1)],
        "saved_dtype": "bfloat16" if options.get("bf16") else "float32",
        "checks": checks,
        "versions": versions(),
    }
    with open(os.path.join(folder, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)

    tar_path = os.path.join(out_dir, name + ".tar")
    with tarfile.open(tar_path, "w") as tar:
        tar.add(folder, arcname=name)
    # Leave only the .tar in OUT_DIR (the folder would be more files than come back).
    for f in os.listdir(folder):
        os.remove(os.path.join(folder, f))
    os.rmdir(folder)
    return golden


def versions():
    import safetensors
    return {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "safetensors": safetensors.__version__,
            "numpy": np.__version__}


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(max(1, min(8, os.cpu_count() or 1)))
    summary = {"versions": versions(), "models": {}}
    failed = 0
    for index, (name, (cls_name, kwargs, options)) in enumerate(MODELS.items()):
        try:
            golden = build(name, cls_name, kwargs, options, out_dir, index)
            summary["models"][name] = {"ok": True, "checks": golden["checks"],
                                       "greedy_full": golden["greedy_full"],
                                       "greedy_block": golden["greedy_block"]}
            print(name, json.dumps(golden["checks"]), flush=True)
        except Exception:
            failed += 1
            summary["models"][name] = {"ok": False, "error": traceback.format_exc()}
            shutil.rmtree(os.path.join(out_dir, name), ignore_errors=True)
            print(name, "FAILED\n" + traceback.format_exc(), flush=True)
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print("%d passed, %d failed" % (len(MODELS) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
