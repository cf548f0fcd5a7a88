#!/usr/bin/env python3
"""Where the time of the engine's 8B bf16 TTFT goes, with the same ATen ops the engine calls
(core/engine/torch/transformer.cpp), on random weights of the Llama-3 8B shape (GPU machine only).

    python3 tools/device/profile_ttft.py [--json FILE] [--parts question,place,prefill,attn]

Parts (each prints a short table; kernel sums from torch.profiler, times from CUDA events):
  question  the 50-token question pass over 2k and 32k cached keys (32 layers, final norm, the last
            row's logits, argmax), plain and as a CUDA graph, and its kernels by name;
  attn      the question's attention alone at 32k: flash (the engine's route) against the context
            keys read once per KV head (query heads of a group stacked, non-causal) + its own block;
  place     placing 64 cached blocks of K/V [32, 8, 512, 128] into a run's buffer: one copy per
            block, one copy of everything (the bandwidth ceiling), and V only;
  prefill   one layer of the full 32k prefill, kernels by name, and variants of its element-wise
            glue (residual fused into the GEMM, gate/up fused).
"""
import argparse
import json
import statistics

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

dev, dt = "cuda", torch.bfloat16
L, HID, NH, KVH, D, INTER, VOCAB = 32, 4096, 32, 8, 128, 14336, 128256
EPS = 1e-5
GROUP = NH // KVH
results = {}


def rnd(*shape):
    return torch.randn(*shape, device=dev, dtype=dt) * 0.02


def bench(fn, reps=20, warm=3):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        torch.cuda.synchronize()
        ts.append(a.elapsed_time(b))
    return statistics.median(ts)


def kernel_table(fn, title, top=14):
    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    sums = {}
    for e in prof.events():
        if getattr(e, "device_type", None) is None or "CUDA" not in str(e.device_type):
            continue
        t = e.time_range.elapsed_us()
        name = e.name[:90]
        c, s = sums.get(name, (0, 0.0))
        sums[name] = (c + 1, s + t)
    total = sum(s for _, s in sums.values())
    print(f"-- {title}: kernels total {total / 1000:.3f} ms, {sum(c for c, _ in sums.values())} launches")
    for name, (c, s) in sorted(sums.items(), key=lambda kv: -kv[1][1])[:top]:
        print(f"   {s / 1000:8.3f} ms {c:5d}x  {name}")
    results[title] = {"total_ms": total / 1000, "kernels": {n: [c, s / 1000] for n, (c, s) in sums.items()}}


def rope_swapped(t, cos, ssin):  # Rope::applySwapped
    half = D // 2
    sw = t.unflatten(-1, (2, half)).flip(-2).flatten(-2)
    out = t * cos.unsqueeze(0)
    out.addcmul_(sw, ssin.unsqueeze(0))
    return out


def cos_sin(pos):
    inv = 1.0 / (500000.0 ** (torch.arange(0, D, 2, device=dev).float() / D))
    f = pos.float().unsqueeze(1) * inv.unsqueeze(0)
    emb = torch.cat([f, f], -1)
    c, s = emb.cos().to(dt), emb.sin().to(dt)
    half = D // 2
    return c, torch.cat([-s[:, :half], s[:, half:]], -1)


def make_layers(count):
    return [dict(inorm=torch.ones(HID, device=dev, dtype=dt), wqkv=rnd((NH + 2 * KVH) * D, HID), wo=rnd(HID, NH * D),
                 pnorm=torch.ones(HID, device=dev, dtype=dt), wgu=rnd(2 * INTER, HID), wdown=rnd(HID, INTER))
            for _ in range(count)]


def attn_flash(q, keys, vals, n, m):  # q [NH, n, D]; keys/vals [KVH, m, D] -> [n, NH*D]
    out = torch.ops.aten._flash_attention_forward(q.transpose(0, 1).unsqueeze(0), keys.transpose(0, 1).unsqueeze(0),
                                                  vals.transpose(0, 1).unsqueeze(0), None, None, n, m, 0.0, True, False,
                                                  scale=D ** -0.5)[0]
    return out.reshape(n, NH * D)


def layer_small(w, x, cos, ssin, kk, vv, wr):  # the engine's layer for n < 256 rows (one fused QKV product)
    n = x.size(0)
    h = F.rms_norm(x, (HID,), w["inorm"], EPS)
    qkv = F.linear(h, w["wqkv"]).view(n, NH + 2 * KVH, D)
    qk = rope_swapped(qkv[:, :NH + KVH].transpose(0, 1), cos, ssin)
    kk[:, wr:wr + n].copy_(qk[NH:])
    vv[:, wr:wr + n].copy_(qkv[:, NH + KVH:].transpose(0, 1))
    m = wr + n
    a = attn_flash(qk[:NH], kk[:, :m], vv[:, :m], n, m)
    x1 = x + F.linear(a, w["wo"])
    h2 = F.rms_norm(x1, (HID,), w["pnorm"], EPS)
    gu = F.linear(h2, w["wgu"])
    act = F.silu(gu[:, :INTER]) * gu[:, INTER:]
    return x1 + F.linear(act, w["wdown"])


def part_question(layers, lm, norm):
    q_len = 50
    for ctx in (2048, 32768):
        cap = ctx + q_len
        kbuf = rnd(L, KVH, cap, D)
        vbuf = rnd(L, KVH, cap, D)
        ids = torch.randint(0, VOCAB, (q_len,), device=dev)
        emb = rnd(VOCAB, HID)
        pos = torch.arange(ctx, ctx + q_len, device=dev)

        def run():
            x = F.embedding(ids, emb)
            c, s = cos_sin(pos)
            for i in range(L):
                x = layer_small(layers[i], x, c, s, kbuf[i], vbuf[i], ctx)
            h = F.rms_norm(x[-1:], (HID,), norm, EPS)
            return F.linear(h, lm).float().argmax(-1)

        plain = bench(run, reps=10)
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            run()
        torch.cuda.current_stream().wait_stream(s)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            run()
        graphed = bench(g.replay, reps=20)
        print(f"question pass, {ctx} cached keys + {q_len}: plain {plain:.3f} ms, CUDA graph {graphed:.3f} ms")
        results[f"question_{ctx}"] = {"plain_ms": plain, "graph_ms": graphed}
        kernel_table(run, f"question pass kernels at {ctx}")
        del kbuf, vbuf, emb
        torch.cuda.empty_cache()


def part_attn():
    n, ctx = 50, 32768
    m = ctx + n
    kk, vv = rnd(KVH, m, D), rnd(KVH, m, D)
    q = rnd(NH, n, D)
    t_flash = bench(lambda: attn_flash(q, kk, vv, n, m), reps=50)
    # Stacked: the 4 query heads of a KV head as 200 rows against the context keys (no mask), then
    # the question's own 50 keys causally; merged by log-sum-exp.
    qs = q.view(KVH, GROUP, n, D).reshape(KVH, GROUP * n, D)

    def stacked():
        o1, l1 = torch.ops.aten._flash_attention_forward(qs.transpose(0, 1).unsqueeze(0), kk[:, :ctx].transpose(0, 1).unsqueeze(0),
                                                         vv[:, :ctx].transpose(0, 1).unsqueeze(0), None, None, GROUP * n, ctx,
                                                         0.0, False, False, scale=D ** -0.5)[:2]
        return o1, l1

    t_stacked = bench(stacked, reps=50)
    print(f"question attention at 32k (per layer): flash {t_flash * 1000:.1f} us; context part stacked per KV head {t_stacked * 1000:.1f} us"
          f"; bytes floor (K+V read once) {2 * m * KVH * D * 2 / 3.0e12 * 1e6:.1f} us at 3.0 TB/s")
    for name, be in (("flash", "FLASH_ATTENTION"), ("efficient", "EFFICIENT_ATTENTION"), ("cudnn", "CUDNN_ATTENTION")):
        try:
            from torch.nn.attention import SDPBackend, sdpa_kernel
            with sdpa_kernel(getattr(SDPBackend, be)):
                t = bench(lambda: F.scaled_dot_product_attention(qs.unsqueeze(0), kk[:, :ctx].unsqueeze(0), vv[:, :ctx].unsqueeze(0),
                                                                 scale=D ** -0.5), reps=50)
            print(f"   stacked context part through SDPA {name}: {t * 1000:.1f} us")
            results[f"attn_stacked_{name}_us"] = t * 1000
        except Exception as e:  # noqa: BLE001 - report and go on
            print(f"   stacked context part through SDPA {name}: refused ({str(e)[:80]})")
    results["attn_flash_us"] = t_flash * 1000
    results["attn_stacked_flash_us"] = t_stacked * 1000
    kernel_table(lambda: attn_flash(q, kk, vv, n, m), "question attention 32k, flash", top=4)


def part_place():
    blocks, blen, cap = 64, 512, 32768 + 50
    ks = [rnd(L, KVH, blen, D) for _ in range(blocks)]
    vs = [rnd(L, KVH, blen, D) for _ in range(blocks)]
    kbuf, vbuf = rnd(L, KVH, cap, D), rnd(L, KVH, cap, D)
    gb = 2 * blocks * ks[0].numel() * 2 / 1e9

    def per_block():
        for b in range(blocks):
            kbuf[:, :, b * blen:(b + 1) * blen].copy_(ks[b])
            vbuf[:, :, b * blen:(b + 1) * blen].copy_(vs[b])

    def v_only():
        for b in range(blocks):
            vbuf[:, :, b * blen:(b + 1) * blen].copy_(vs[b])

    big_src = rnd(2 * L * KVH * 32768 * D)
    big_dst = torch.empty_like(big_src)
    t_pb = bench(per_block, reps=10)
    t_v = bench(v_only, reps=10)
    t_big = bench(lambda: big_dst.copy_(big_src), reps=10)
    print(f"placing 64 blocks (K and V, {gb:.2f} GB read + as much written): one copy per block and tensor {t_pb:.3f} ms "
          f"({2 * gb / t_pb:.2f} TB/s); V only {t_v:.3f} ms; one contiguous copy of the same bytes {t_big:.3f} ms ({2 * gb / t_big:.2f} TB/s)")
    results["place"] = {"per_block_ms": t_pb, "v_only_ms": t_v, "big_copy_ms": t_big, "gb": gb}


def part_prefill(layers):
    n = 32768 + 50
    x = rnd(n, HID)
    cap = n
    kk, vv = rnd(KVH, cap, D), rnd(KVH, cap, D)
    c, s = cos_sin(torch.arange(n, device=dev))
    w = layers[0]

    def layer_big(fuse_res=False, fuse_gu=False):  # the engine's layer for n >= 256 rows (split products)
        h = F.rms_norm(x, (HID,), w["inorm"], EPS)
        qkr = (NH + KVH) * D
        qk = F.linear(h, w["wqkv"][:qkr]).view(n, NH + KVH, D)
        v = F.linear(h, w["wqkv"][qkr:]).view(n, KVH, D)
        qk = rope_swapped(qk.transpose(0, 1), c, s)
        kk.copy_(qk[NH:])
        vv.copy_(v.transpose(0, 1))
        a = F.scaled_dot_product_attention(qk[:NH].unsqueeze(0), kk.unsqueeze(0), vv.unsqueeze(0), is_causal=True,
                                           scale=D ** -0.5, enable_gqa=True).squeeze(0)
        merged = a.transpose(0, 1).reshape(n, NH * D)
        x1 = torch.addmm(x, merged, w["wo"].t()) if fuse_res else x + F.linear(merged, w["wo"])
        h2 = F.rms_norm(x1, (HID,), w["pnorm"], EPS)
        if fuse_gu:
            gu = F.linear(h2, w["wgu"])
            act = F.silu(gu[:, :INTER]) * gu[:, INTER:]
        else:
            g = F.linear(h2, w["wgu"][:INTER])
            u = F.linear(h2, w["wgu"][INTER:])
            act = F.silu(g, inplace=True).mul_(u)
        return torch.addmm(x1, act, w["wdown"].t()) if fuse_res else x1 + F.linear(act, w["wdown"])

    t0 = bench(layer_big, reps=5, warm=2)
    t1 = bench(lambda: layer_big(fuse_res=True), reps=5, warm=2)
    t2 = bench(lambda: layer_big(fuse_res=True, fuse_gu=True), reps=5, warm=2)
    print(f"one prefill layer at {n} tokens: as the engine {t0:.2f} ms (x32 = {32 * t0:.0f} ms); residual in the GEMM {t1:.2f} ms; "
          f"+ gate/up one GEMM {t2:.2f} ms")
    results["prefill_layer"] = {"engine_ms": t0, "fused_residual_ms": t1, "fused_residual_gateup_ms": t2}
    kernel_table(layer_big, "one prefill layer at 32k", top=16)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--json")
    p.add_argument("--parts", default="question,attn,place,prefill")
    a = p.parse_args()
    parts = a.parts.split(",")
    print(torch.__version__, torch.cuda.get_device_name(0))
    with torch.no_grad():
        if "attn" in parts:
            part_attn()
        if "place" in parts:
            part_place()
            torch.cuda.empty_cache()
        layers = make_layers(L) if ("question" in parts or "prefill" in parts) else None
        if "prefill" in parts:
            part_prefill(layers)
            torch.cuda.empty_cache()
        if "question" in parts:
            lm = rnd(VOCAB, HID)
            part_question(layers, lm, torch.ones(HID, device=dev, dtype=dt))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
