#!/usr/bin/env python3
"""Block-attention prefill through cuDNN (issue 6, a measured route): the non-last blocks of an
even split as one batched causal cuDNN call (blocks of equal length are a batch), plus the last
block against every key with flash attention (its causal mask is bottom-right aligned), timed
together with CUDA events, against SDPA's dense causal attention of the same sequence in the
same run. Llama-3-8B attention shape: 32 query heads, 8 KV heads, head dim 128, bf16.

Usage (GPU machine):  python3 tools/reference/cudnn_block_prefill.py [--tokens 32768] [--blocks 64]
Prints one JSON line per measurement; rates count 4 * head_dim * heads FLOPs per kept query-key
pair (the kernels' benchmark convention, docs/benchmarks.md).
"""
import argparse
import json

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


def timed(fn, reps=20, warm=3):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        torch.cuda.synchronize()
        times.append(s.elapsed_time(e))
    times.sort()
    return times[len(times) // 2]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tokens", type=int, default=32768)
    p.add_argument("--blocks", type=int, default=64)
    a = p.parse_args()
    n, nb, H, Hk, d = a.tokens, a.blocks, 32, 8, 128
    L = n // nb
    assert L * nb == n, "even blocks only"
    dev, dt = "cuda", torch.bfloat16
    torch.manual_seed(0)
    q = torch.randn(1, n, H, d, device=dev, dtype=dt)   # token-major, as the engine holds them
    k = torch.randn(1, n, Hk, d, device=dev, dtype=dt)
    v = torch.randn(1, n, Hk, d, device=dev, dtype=dt)
    scale = d ** -0.5
    pairs_dense = n * (n + 1) / 2
    pairs_block = (nb - 1) * L * (L + 1) / 2 + L * (n - L) + L * (L + 1) / 2
    flop = lambda pairs: 4 * d * H * pairs

    def report(name, ms, pairs, **extra):
        print(json.dumps({"route": name, "ms": round(ms, 4), "tflops": round(flop(pairs) / ms / 1e9, 1), **extra}), flush=True)

    qd, kd, vd = (t.transpose(1, 2) for t in (q, k, v))  # [1, heads, n, d] views
    dense = timed(lambda: F.scaled_dot_product_attention(qd, kd, vd, is_causal=True, scale=scale, enable_gqa=True))
    report("sdpa dense causal (default backend, enable_gqa)", dense, pairs_dense)
    # K/V repeated per query head (cuDNN's GQA support varies by version); the repeat is timed apart.
    kr = kd.repeat_interleave(H // Hk, 1)
    vr = vd.repeat_interleave(H // Hk, 1)
    dense_rep = timed(lambda: F.scaled_dot_product_attention(qd, kr, vr, is_causal=True, scale=scale))
    report("sdpa dense causal (default backend, K/V repeated)", dense_rep, pairs_dense)

    # Non-last blocks: [nb-1, heads, L, d] views of the same memory (blocks of equal length).
    qb = q[:, : n - L].reshape(nb - 1, L, H, d).transpose(1, 2)
    kb = kr.transpose(1, 2)[:, : n - L].reshape(nb - 1, L, H, d).transpose(1, 2)
    vb = vr.transpose(1, 2)[:, : n - L].reshape(nb - 1, L, H, d).transpose(1, 2)
    ql = q[:, n - L:]

    def last_block():
        return torch.ops.aten._flash_attention_forward(ql, k, v, None, None, L, n, 0.0, True, False, scale=scale)[0]

    results = {}
    for name, backend in (("cudnn", SDPBackend.CUDNN_ATTENTION), ("flash", SDPBackend.FLASH_ATTENTION)):
        try:
            with sdpa_kernel([backend]):
                def blocks():
                    return F.scaled_dot_product_attention(qb, kb, vb, is_causal=True, scale=scale)
                ms_blocks = timed(blocks)

                def both():
                    blocks()
                    last_block()
                ms = timed(both)
            results[name] = ms
            report(f"{name} batched blocks + flash last block", ms, pairs_block, blocks_only_ms=round(ms_blocks, 4),
                   ratio_to_dense=round((flop(pairs_block) / ms) / (flop(pairs_dense) / dense), 3))
        except Exception as e:  # a backend that refuses the shape
            print(json.dumps({"route": name, "error": str(e)[:300]}), flush=True)
    # Correctness of the cuDNN route against a dense masked fp32 reference on a small case.
    try:
        ns, Ls = 2048, 256
        qs, ks, vs = (torch.randn(1, h, ns, d, device=dev, dtype=dt) for h in (H, H, H))
        with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
            ob = F.scaled_dot_product_attention(qs[:, :, : ns - Ls].reshape(1, H, -1, Ls, d).transpose(1, 2).reshape(-1, H, Ls, d),
                                                *(t[:, :, : ns - Ls].reshape(1, H, -1, Ls, d).transpose(1, 2).reshape(-1, H, Ls, d) for t in (ks, vs)),
                                                is_causal=True, scale=scale)
        pos = torch.arange(ns, device=dev)
        blk = pos // Ls
        keep = (pos[None] <= pos[:, None]) & (blk[None] == blk[:, None])  # the non-last rows' rule
        ref = F.scaled_dot_product_attention(qs.float(), ks.float(), vs.float(), attn_mask=keep, scale=scale)
        got = ob.reshape(1, -1, H, Ls, d).transpose(1, 2).reshape(1, H, ns - Ls, d).float()
        err = ((got - ref[:, :, : ns - Ls]).norm() / ref[:, :, : ns - Ls].norm()).item()
        print(json.dumps({"check": "cudnn batched blocks vs fp32 masked reference", "rel_err": err}), flush=True)
    except Exception as e:
        print(json.dumps({"check": "cudnn", "error": str(e)[:300]}), flush=True)


if __name__ == "__main__":
    main()
