#!/usr/bin/env python3
"""Attention ceilings for bench_kernels, measured with PyTorch on the same GPU in the same device call
(tools/device/kernels.sh runs this right after bench/bench_kernels):

  sdpa_causal    F.scaled_dot_product_attention(is_causal=True), dense causal, 32 heads (K/V
                 expanded from 8 KV heads), head dim 128, bf16: the default backend choice, and
                 flash / cuDNN forced where available. FLOPs = 4 * d * heads * n (n + 1) / 2.
  varlen_route   the block-attention prefill through libtorch's varlen flash-attention entry point
                 (torch.ops.aten._flash_attention_forward with cu_seqlens): one call for all
                 blocks but the last (causal, cu_seqlens = block starts), one for the last block
                 against all keys (causal, bottom-right aligned), GQA native.
  flex           FlexAttention (torch.compile'd flex_attention) with the same block mask, GQA native.
Block-mask FLOPs count only the kept work (as block_prefill_flops). Both block routes are first
checked against a dense masked reference at a small size. Times: CUDA events after warm-up,
median. Output: a table on stdout, JSON lines with --json.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn.attention
import torch.nn.functional as F

H, KV, D = 32, 8, 128
DT = torch.bfloat16
T0 = time.time()
rows = []


def emit(**row):
    rows.append(row)
    if ARGS.json:
        with open(ARGS.json, "a") as f:
            f.write(json.dumps(row) + "\n")


def median_ms(fn, warmup=3, max_reps=30, budget_ms=300.0, synced=False):
    """Median of CUDA-event intervals around fn(). Calls run back to back with one synchronisation
    at the end (as bench_kernels and triton.testing.do_bench time them), unless synced: then a
    synchronisation after every call (Python's launch work inside each interval)."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    a.record()
    fn()
    b.record()
    b.synchronize()
    first = a.elapsed_time(b)
    reps = max(5, min(max_reps, int(budget_ms / max(first, 1e-3))))
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(reps)]
    for a, b in events:
        a.record()
        fn()
        b.record()
        if synced:
            b.synchronize()
    torch.cuda.synchronize()
    times = sorted(a.elapsed_time(b) for a, b in events)
    return times[len(times) // 2]


def starts_of(n, block):
    return list(range(0, n, block)) + [n]


def kept_flops(starts):
    pairs = 0
    for a, b in zip(starts[:-1], starts[1:]):
        pairs += (b - a) * (b - a + 1) // 2
    pairs += (starts[-1] - starts[-2]) * starts[-2]
    return 4.0 * D * H * pairs


def rand(*shape):
    return torch.randn(*shape, device="cuda", dtype=DT)


# ----------------------------------------------------------------------------- routes
def varlen_route(q, k, v, starts):
    """q [n, H, D], k/v [n, KV, D] token-major; returns (out_local, out_last)."""
    n, last = starts[-1], starts[-2]
    outs = []
    if last > 0:
        cu = torch.tensor(starts[:-1], device="cuda", dtype=torch.int32)
        max_len = max(b - a for a, b in zip(starts[:-2], starts[1:-1]))
        outs.append(torch.ops.aten._flash_attention_forward(
            q[:last], k[:last], v[:last], cu, cu, max_len, max_len, 0.0, True, False)[0])
    cu_q = torch.tensor([0, n - last], device="cuda", dtype=torch.int32)
    cu_k = torch.tensor([0, n], device="cuda", dtype=torch.int32)
    outs.append(torch.ops.aten._flash_attention_forward(
        q[last:], k, v, cu_q, cu_k, n - last, n, 0.0, True, False)[0])
    return outs


def make_varlen_fn(q, k, v, starts):
    n, last = starts[-1], starts[-2]
    cu = torch.tensor(starts[:-1], device="cuda", dtype=torch.int32) if last > 0 else None
    max_len = max([b - a for a, b in zip(starts[:-2], starts[1:-1])] or [1])
    cu_q = torch.tensor([0, n - last], device="cuda", dtype=torch.int32)
    cu_k = torch.tensor([0, n], device="cuda", dtype=torch.int32)
    ql, kl, vl, qg = q[:last], k[:last], v[:last], q[last:]
    fa = torch.ops.aten._flash_attention_forward

    def fn():
        if cu is not None:
            fa(ql, kl, vl, cu, cu, max_len, max_len, 0.0, True, False)
        fa(qg, k, v, cu_q, cu_k, n - last, n, 0.0, True, False)
    return fn


def block_mask_for(starts, n):
    from torch.nn.attention.flex_attention import create_block_mask
    block_id = torch.zeros(n, device="cuda", dtype=torch.int32)
    for i, s in enumerate(starts[1:-1]):
        block_id[s:] = i + 1
    last = starts[-2]

    def mask_mod(b, h, q_idx, kv_idx):
        return (kv_idx <= q_idx) & ((block_id[q_idx] == block_id[kv_idx]) | (q_idx >= last))
    return create_block_mask(mask_mod, 1, 1, n, n, device="cuda")


_flex = None


def flex():
    global _flex
    if _flex is None:
        from torch.nn.attention.flex_attention import flex_attention
        _flex = torch.compile(flex_attention, dynamic=False)
    return _flex


def dense_reference(q, k, v, starts):
    """q [H, n, D] etc. in fp32 with an explicit boolean block mask (small n only)."""
    n = starts[-1]
    idx = torch.arange(n, device="cuda")
    block_id = torch.bucketize(idx, torch.tensor(starts[1:-1], device="cuda"), right=True)
    allowed = (idx[None, :] <= idx[:, None]) & ((block_id[None, :] == block_id[:, None]) | (idx[:, None] >= starts[-2]))
    kk = k.float().repeat_interleave(H // KV, dim=0)
    vv = v.float().repeat_interleave(H // KV, dim=0)
    s = (q.float() @ kk.transpose(1, 2)) / math.sqrt(D)
    s = s.masked_fill(~allowed, float("-inf"))
    return torch.softmax(s, dim=-1) @ vv


def rel_err(a, b):
    return ((a.float() - b.float()).norm() / b.float().norm()).item()


# ----------------------------------------------------------------------------- main
def main():
    torch.manual_seed(0)
    dev = torch.cuda.get_device_properties(0)
    print(f"torch {torch.__version__}, {dev.name}, flash version {getattr(torch.nn.attention, '_get_flash_version', lambda: '?')()}")
    print("| what | size | median | rate |\n| --- | --- | ---: | ---: |")

    # Copy ceiling (cross-check of bench_kernels' own).
    x = torch.empty(1 << 30, device="cuda", dtype=DT)
    y = torch.empty_like(x)
    x.normal_()
    ms = median_ms(lambda: y.copy_(x))
    gbps = 2 * x.numel() * 2 / (ms * 1e6)
    print(f"| torch copy_ | 2 GiB | {ms:.3f} ms | {gbps:.0f} GB/s |")
    emit(op="torch_copy", ms=ms, gbps=gbps)
    del x, y

    # Correctness of the block routes at a small size.
    n, block = 2048, 256
    st = starts_of(n, block)
    st = st[:3] + [st[3] - 37] + st[3:]  # one ragged block
    q, k, v = rand(H, n, D), rand(KV, n, D), rand(KV, n, D)
    ref = dense_reference(q, k, v, st)
    qt, kt, vt = (t.transpose(0, 1).contiguous() for t in (q, k, v))
    outs = varlen_route(qt, kt, vt, st)
    got = torch.cat(outs, 0).transpose(0, 1)
    e = rel_err(got, ref)
    print(f"| check varlen route vs dense masked reference | {n} tokens | rel err {e:.2e} | |")
    emit(op="check", route="varlen", rel_err=e)
    if not ARGS.no_flex:
        try:
            bm = block_mask_for(st, n)
            got = flex()(q[None], k[None], v[None], block_mask=bm, enable_gqa=True)[0]
            e = rel_err(got, ref)
            print(f"| check flex route vs dense masked reference | {n} tokens | rel err {e:.2e} | |")
            emit(op="check", route="flex", rel_err=e)
        except Exception as ex:
            print(f"| check flex route | {n} tokens | FAILED: {type(ex).__name__}: {str(ex)[:200]} | |")
            ARGS.no_flex = True

    from torch.nn.attention import SDPBackend, sdpa_kernel
    for n in ARGS.sizes:
        q = rand(1, H, n, D)
        k = rand(1, KV, n, D).repeat_interleave(H // KV, dim=1)
        v = rand(1, KV, n, D).repeat_interleave(H // KV, dim=1)
        flops = 4.0 * D * H * n * (n + 1) / 2
        for name, backend in (("default", None), ("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION)):
            try:
                if backend is None:
                    fn = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True)
                    ms = median_ms(fn)
                else:
                    with sdpa_kernel(backend):
                        fn = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True)
                        ms = median_ms(fn)
            except Exception as ex:  # backend not available for this shape
                print(f"| SDPA dense causal ({name}) | {n} tokens | unavailable: {type(ex).__name__} | |")
                continue
            tf = flops / (ms * 1e9)
            print(f"| SDPA dense causal ({name}) | {n} tokens, 32 heads, d128 | {ms:.3f} ms | {tf:.1f} TFLOP/s |")
            emit(op="sdpa_causal", backend=name, n=n, ms=ms, tflops=tf)
        del q, k, v

        qt, kt, vt = rand(n, H, D), rand(n, KV, D), rand(n, KV, D)
        for block in ARGS.blocks:
            if block >= n:
                continue
            st = starts_of(n, block)
            fl = kept_flops(st)
            ms = median_ms(make_varlen_fn(qt, kt, vt, st))
            print(f"| varlen flash route | {n} tokens, blocks of {block} | {ms:.3f} ms | {fl / (ms * 1e9):.1f} TFLOP/s |")
            emit(op="varlen_route", n=n, block=block, ms=ms, tflops=fl / (ms * 1e9))
        del qt, kt, vt

        torch.cuda.empty_cache()
    # FlexAttention, target shape first, then others while the time budget lasts.
    if not ARGS.no_flex:
        for spec in ARGS.flex:
            n, block = (int(x) for x in spec.split(":"))
            if time.time() - T0 > ARGS.budget_s:
                print(f"| FlexAttention | {n} tokens, blocks of {block} | skipped (time budget) | |")
                continue
            try:
                q, k, v = rand(1, H, n, D), rand(1, KV, n, D), rand(1, KV, n, D)
                st = starts_of(n, block)
                bm = block_mask_for(st, n)
                fl = kept_flops(st)
                ms = median_ms(lambda: flex()(q, k, v, block_mask=bm, enable_gqa=True))
                print(f"| FlexAttention, same block mask | {n} tokens, blocks of {block} | {ms:.3f} ms | {fl / (ms * 1e9):.1f} TFLOP/s |")
                emit(op="flex", n=n, block=block, ms=ms, tflops=fl / (ms * 1e9))
                del q, k, v, bm
            except Exception as ex:
                print(f"| FlexAttention | {n} tokens, blocks of {block} | FAILED: {type(ex).__name__}: {str(ex)[:200]} | |")
            torch.cuda.empty_cache()
    print(f"(python side: {time.time() - T0:.0f} s)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    ap.add_argument("--sizes", type=int, nargs="+", default=[2048, 8192, 32768, 65536])
    ap.add_argument("--blocks", type=int, nargs="+", default=[128, 512, 2048])
    ap.add_argument("--flex", nargs="+", default=["32768:512", "8192:512", "32768:2048", "32768:128", "65536:512"],
                    help="N:BLOCK shapes for FlexAttention, in order")
    ap.add_argument("--no-flex", action="store_true")
    ap.add_argument("--budget-s", type=float, default=150.0, help="no new FlexAttention shape after this")
    ARGS = ap.parse_args()
    sys.exit(main())
