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
    # Route (d): everything on cuDNN, three calls. (1) all 64 blocks as one causal batch (the last
    # block's own causal square included), with log-sum-exp; (2) the last block's queries against
    # every key before it, no mask, with log-sum-exp; (3) the two partial results merged by their
    # log-sum-exps (FlashInfer's state merge). No flash kernel, no bottom-right causal mask needed.
    try:
        cudnn = torch.ops.aten._scaled_dot_product_cudnn_attention
        qa = q.reshape(nb, L, H, d).transpose(1, 2)                       # [nb, H, L, d]
        ka = kr.transpose(1, 2).reshape(nb, L, H, d).transpose(1, 2)
        va = vr.transpose(1, 2).reshape(nb, L, H, d).transpose(1, 2)
        qlast = qa[nb - 1:]                                               # [1, H, L, d]
        kpre, vpre = kr[:, :, : n - L], vr[:, :, : n - L]                 # [1, H, n-L, d]

        def all_cudnn():
            ob, lb = cudnn(qa, ka, va, None, True, 0.0, True, False, scale=scale)[:2]
            op, lp = cudnn(qlast, kpre, vpre, None, True, 0.0, False, False, scale=scale)[:2]
            l1 = lb[nb - 1:].reshape(1, H, L, 1).float()
            l2 = lp.reshape(1, H, L, 1).float()
            m = torch.maximum(l1, l2)
            w1, w2 = torch.exp(l1 - m), torch.exp(l2 - m)
            merged = (ob[nb - 1:].float() * w1 + op.float() * w2) / (w1 + w2)
            return ob, merged.to(dt)

        ms_d = timed(all_cudnn)
        ms_pre = timed(lambda: cudnn(qlast, kpre, vpre, None, True, 0.0, False, False, scale=scale))
        ms_blk = timed(lambda: cudnn(qa, ka, va, None, True, 0.0, True, False, scale=scale))
        report("cudnn batched 64 blocks + cudnn last-block prefix + LSE merge", ms_d, pairs_block,
               blocks_ms=round(ms_blk, 4), prefix_ms=round(ms_pre, 4),
               ratio_to_dense=round((flop(pairs_block) / ms_d) / (flop(pairs_dense) / dense), 3))
        # Its last block against flash's bottom-right causal result (same inputs).
        ref_last = last_block()                                           # [1, L, H, d]
        got_last = all_cudnn()[1].transpose(1, 2)
        err = ((got_last.float() - ref_last.float()).norm() / ref_last.float().norm()).item()
        print(json.dumps({"check": "route (d) last block vs flash bottom-right causal", "rel_err": err}), flush=True)
    except Exception as e:
        print(json.dumps({"route": "cudnn 3-call", "error": str(e)[:400]}), flush=True)
    # Route (d) variants: the last block's prefix split into S key chunks run as one batch (more
    # thread blocks than the 128 a 512-query call gives 132 SMs), and the two calls on two streams.
    try:
        def merge(parts):  # [(out [B,H,L,d], lse [B,H,L,1] float)] -> out
            m = torch.stack([lse for _, lse in parts]).amax(0)
            num = sum(o.float() * torch.exp(lse - m) for o, lse in parts)
            den = sum(torch.exp(lse - m) for _, lse in parts)
            return (num / den).to(dt)

        for S in (2, 4):
            P = (n - L) // S
            if P * S != n - L:
                continue
            qrep = qlast.expand(S, H, L, d).contiguous()
            kS = kpre.reshape(1, H, S, P, d).permute(0, 2, 1, 3, 4).reshape(S, H, P, d)
            vS = vpre.reshape(1, H, S, P, d).permute(0, 2, 1, 3, 4).reshape(S, H, P, d)

            def split_route():
                ob, lb = cudnn(qa, ka, va, None, True, 0.0, True, False, scale=scale)[:2]
                op, lp = cudnn(qrep, kS, vS, None, True, 0.0, False, False, scale=scale)[:2]
                parts = [(ob[nb - 1:], lb[nb - 1:].reshape(1, H, L, 1).float())]
                parts += [(op[i:i + 1], lp[i:i + 1].reshape(1, H, L, 1).float()) for i in range(S)]
                return ob, merge(parts)

            ms_s = timed(split_route)
            got = split_route()[1].transpose(1, 2)
            ref_last = last_block()
            err = ((got.float() - ref_last.float()).norm() / ref_last.float().norm()).item()
            report(f"route (d), prefix in {S} key chunks as a batch", ms_s, pairs_block, rel_err_last=err,
                   ratio_to_dense=round((flop(pairs_block) / ms_s) / (flop(pairs_dense) / dense), 3))
        side = torch.cuda.Stream()

        def two_streams():
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                op, lp = cudnn(qlast, kpre, vpre, None, True, 0.0, False, False, scale=scale)[:2]
            ob, lb = cudnn(qa, ka, va, None, True, 0.0, True, False, scale=scale)[:2]
            torch.cuda.current_stream().wait_stream(side)
            return ob, merge([(ob[nb - 1:], lb[nb - 1:].reshape(1, H, L, 1).float()), (op, lp.reshape(1, H, L, 1).float())])

        ms_t = timed(two_streams)
        report("route (d) on two streams", ms_t, pairs_block,
               ratio_to_dense=round((flop(pairs_block) / ms_t) / (flop(pairs_dense) / dense), 3))
        try:  # GQA without repeating K/V
            kg = k.transpose(1, 2).reshape(1, Hk, n, d)
            ms_g = timed(lambda: cudnn(qlast, kg[:, :, : n - L], v.transpose(1, 2)[:, :, : n - L], None, True, 0.0, False, False, scale=scale))
            print(json.dumps({"route": "cudnn prefix call with 8 KV heads (no repeat)", "ms": round(ms_g, 4)}), flush=True)
        except Exception as e:
            print(json.dumps({"route": "cudnn GQA", "error": str(e)[:200]}), flush=True)
    except Exception as e:
        print(json.dumps({"route": "route (d) variants", "error": str(e)[:400]}), flush=True)
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
