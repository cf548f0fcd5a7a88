#!/usr/bin/env python3
"""Issue 6 targets from one device call: bench_kernels' JSON lines + attention_ceilings.py's.
   kernels_summary.py BENCH.jsonl CEILINGS.jsonl   -> a Markdown table on stdout."""
import json
import sys


def load(path):
    try:
        with open(path) as f:
            return [json.loads(l) for l in f if l.strip()]
    except OSError:
        return []


ours, ceil = load(sys.argv[1]), load(sys.argv[2])


def find(rows, **kw):
    for r in rows:
        if all(r.get(k) == v for k, v in kw.items()):
            return r
    return None


def yes(ok):
    return "**met**" if ok else "**not met**"


print("| target (issue 6) | ours | same-run ceiling | ratio | bar | |")
print("| --- | ---: | ---: | ---: | --- | --- |")
copy = find(ours, op="copy")
for n in (32768, 65536):
    r = find(ours, op="rope", mode="inplace", n=n)
    if r and copy:
        ratio = r["gbps"] / copy["gbps"]
        print(f"| RoPE re-encode in place, {n} tokens x 32 layers x 8 KV heads | {r['gbps']:.0f} GB/s | copy {copy['gbps']:.0f} GB/s | {ratio:.2f} | >= 0.80 | {yes(ratio >= 0.8)} |")
r = find(ours, op="rope", mode="copy", n=32768)
if r and copy:
    ratio = r["gbps"] / copy["gbps"]
    print(f"| RoPE re-encode copying into a cache, 32768 tokens | {r['gbps']:.0f} GB/s | copy {copy['gbps']:.0f} GB/s | {ratio:.2f} | >= 0.80 | {yes(ratio >= 0.8)} |")
sd = find(ceil, op="sdpa_causal", backend="default", n=32768)
pr = find(ours, op="probe", n=32768, token_mass=False)
if pr and sd:
    ratio = pr["ms"] / sd["ms"]
    print(f"| attention-mass probe, 32768 tokens, 32 heads, 64 blocks | {pr['ms']:.2f} ms | SDPA causal fwd {sd['ms']:.2f} ms | {ratio:.2f}x | <= 2.5x | {yes(ratio <= 2.5)} |")
pt = find(ours, op="probe", n=32768, token_mass=True)
if pt and sd:
    print(f"| (same, also writing token_mass [32, 32768, 64]) | {pt['ms']:.2f} ms | SDPA causal fwd {sd['ms']:.2f} ms | {pt['ms'] / sd['ms']:.2f}x | | |")
# the default route on the H200 is the Hopper kernel (hopper); the mma.sync kernel (fast) elsewhere
pf = find(ours, op="prefill", impl="hopper", n=32768, block=512) or find(ours, op="prefill", impl="fast", n=32768, block=512)
for r in ours:  # the other variants measured at the target shape
    if r.get("op") == "prefill" and r.get("n") == 32768 and r.get("block") == 512 and r is not pf:
        print(f"| (variant {r['impl']}: {r['ms']:.3f} ms, {r['tflops']:.0f} TFLOP/s) | | | | | |")
if pf and sd:
    ratio = pf["tflops"] / sd["tflops"]
    print(f"| block prefill, 32768 tokens in 64 blocks (TFLOP/s of kept work) | {pf['tflops']:.0f} TFLOP/s | SDPA dense causal {sd['tflops']:.0f} TFLOP/s | {ratio:.2f} | >= 0.85 | {yes(ratio >= 0.85)} |")
fx = find(ceil, op="flex", n=32768, block=512)
if pf and fx:
    print(f"| block prefill vs FlexAttention, same mask | {pf['ms']:.3f} ms | Flex {fx['ms']:.3f} ms | {fx['ms'] / pf['ms']:.2f}x faster | faster | {yes(pf['ms'] < fx['ms'])} |")
vr = find(ceil, op="varlen_route", n=32768, block=512)
if pf and vr:
    print(f"| block prefill vs varlen flash route (info) | {pf['ms']:.3f} ms | varlen {vr['ms']:.3f} ms | {vr['ms'] / pf['ms']:.2f}x | | |")

print()
print("| block prefill routes | ours, hopper (wgmma/TMA, default) | ours, mma.sync 64-row tiles | ours, mma.sync 128-row tiles | varlen flash (libtorch) | FlexAttention | SDPA dense causal (default), same n | SDPA flash backend |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for r in ours:
    if r.get("op") != "prefill" or r.get("impl") != "fast":
        continue
    n, b = r["n"], r["block"]
    h = find(ours, op="prefill", impl="hopper", n=n, block=b)
    r64 = find(ours, op="prefill", impl="fast128", n=n, block=b)
    v = find(ceil, op="varlen_route", n=n, block=b)
    f = find(ceil, op="flex", n=n, block=b)
    s = find(ceil, op="sdpa_causal", backend="default", n=n)
    fl = find(ceil, op="sdpa_causal", backend="flash", n=n)
    cell = lambda x: f"{x['ms']:.3f} ms, {x['tflops']:.0f} TF/s" if x else "-"
    print(f"| {n} tokens, blocks of {b} | {cell(h)} | {cell(r)} | {cell(r64)} | {cell(v)} | {cell(f)} | {cell(s)} | {cell(fl)} |")
for c in ceil:
    if c.get("op") == "check":
        print(f"\ncheck: {c['route']} route vs dense masked reference, rel err {c['rel_err']:.2e}", end="")
print()
