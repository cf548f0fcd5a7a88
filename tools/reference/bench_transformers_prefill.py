#!/usr/bin/env python3
"""Full-attention prefill time of Hugging Face transformers (sdpa), the baseline for
`blocklens-cli bench-ttft` (issue 9's speed acceptance: our full prefill no slower than this in the
same run).

Usage (GPU machine; the model directory from `blocklens-cli make-model`, which transformers reads):

    python3 tools/reference/bench_transformers_prefill.py MODEL_DIR [--lengths 2k,4k,8k,16k,32k]
        [--question 50] [--repeats 3] [--dtype bfloat16] [--device cuda] [--out FILE.json]

For each context length L it times one forward pass over L + question random token ids with
logits for the last position only (time to first token), after one warm-up, with CUDA events;
prints one JSON object (rows: length, tokens, ttft_ms median and all runs).
"""
import argparse
import json
import statistics

import torch
import transformers
from transformers import AutoModelForCausalLM


def parse_lengths(text):
    out = []
    for item in text.split(","):
        item = item.strip()
        scale = 1024 if item[-1:] in ("k", "K") else 1
        out.append(int(item.rstrip("kK")) * scale)
    return out


def load(path, dtype, device):
    for kw in ({"dtype": dtype}, {"torch_dtype": dtype}):
        try:
            return AutoModelForCausalLM.from_pretrained(path, attn_implementation="sdpa", **kw).to(device).eval()
        except TypeError:
            continue
    raise SystemExit("cannot load " + path)


def forward_last(model, ids):
    for kw in ({"logits_to_keep": 1}, {"num_logits_to_keep": 1}, {}):
        try:
            return model(input_ids=ids, use_cache=False, **kw).logits[:, -1]
        except TypeError:
            continue


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--lengths", default="2k,4k,8k,16k,32k")
    p.add_argument("--question", type=int, default=50)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--dtype", default="bfloat16")
    p.add_argument("--device", default="cuda")
    p.add_argument("--out")
    p.add_argument("--profile-length", help="also print the CUDA kernels of one forward at this length (torch.profiler)")
    a = p.parse_args()
    dtype = getattr(torch, a.dtype)
    model = load(a.model, dtype, a.device)
    vocab = model.config.vocab_size
    g = torch.Generator().manual_seed(1)
    rows = []
    with torch.no_grad():
        for length in parse_lengths(a.lengths):
            ids = torch.randint(3, vocab, (1, length + a.question), generator=g).to(a.device)
            forward_last(model, ids).argmax(-1).item()  # warm-up
            times = []
            for _ in range(a.repeats):
                if a.device.startswith("cuda"):
                    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                    start.record()
                    forward_last(model, ids).argmax(-1).item()
                    end.record()
                    torch.cuda.synchronize()
                    times.append(start.elapsed_time(end))
                else:
                    import time
                    t0 = time.perf_counter()
                    forward_last(model, ids).argmax(-1).item()
                    times.append((time.perf_counter() - t0) * 1000)
            rows.append({"length": length, "tokens": length + a.question, "ttft_ms": statistics.median(times), "runs_ms": times})
            print(json.dumps(rows[-1]), flush=True)
    if a.profile_length and a.device.startswith("cuda"):
        # Where transformers' prefill time goes (which attention backend, norms, element-wise).
        length = parse_lengths(a.profile_length)[0]
        ids = torch.randint(3, vocab, (1, length + a.question), generator=g).to(a.device)
        with torch.no_grad():
            forward_last(model, ids).argmax(-1).item()
            with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
                forward_last(model, ids).argmax(-1).item()
        print(f"profile of one forward at {length} + {a.question} tokens:")
        print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=14, max_name_column_width=70))
    result = {"model": a.model, "device": a.device, "dtype": a.dtype, "attn_implementation": "sdpa",
              "torch": torch.__version__, "transformers": transformers.__version__, "rows": rows}
    if a.out:
        with open(a.out, "w") as f:
            json.dump(result, f, indent=1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
