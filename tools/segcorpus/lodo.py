#!/usr/bin/env python3
"""Leave-one-domain-out cross-validation of the learned segmenter against `hybrid` (issue 20).

    python3 tools/segcorpus/lodo.py --cli build/app/cli/blocklens-cli \
        --corpus segcorpus-data/segcorpus.jsonl [--dev ../shared/data/segdev.jsonl] \
        --out lodo-runs/NAME [--jobs N] [-- TRAIN-SEGMENTER OPTIONS...]

For every domain D of the corpus (tools/segcorpus/make_segcorpus.py; the record field `domain`):
train `blocklens-cli train-segmenter --split 1` on every record whose domain is not D (plus the
dev set when --dev is given: the shipped model is trained on it too), then `blocklens-cli eval` the
model and `hybrid` on the records of D (oracle-count, level 2, the project's protocol). The figure
is the mean Pk over D's documents (both variants; each variant also reported), and
OUT/D/documents.json has each document's eval record for both segmenters. With
--shipped MODEL, that model is evaluated on every domain as well (for a model never trained on
the corpus, every domain is held out).

Prints a Markdown table (docs/benchmarks.md's) and writes OUT/lodo.json. The options after `--`
go to every train-segmenter run unchanged, so one call judges one set of defaults.
"""
import argparse, concurrent.futures, json, os, subprocess, sys, time
from pathlib import Path


def run(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"error: {' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stderr[-2000:]}")
    return r.stdout


def evaluate(cli, data, segmenter, model=None):
    env = dict(os.environ)
    if model:
        env["BLOCKLENS_LEARNED_MODEL"] = str(model)
    d = json.loads(run([cli, "eval", str(data), "--segmenter", segmenter, "--level", "2", "--json"], env))
    return d["documents"]


def mean_pk(docs, variant=None):
    xs = [d["pk"] for d in docs if variant is None or d["variant"] == variant]
    return sum(xs) / len(xs) if xs else float("nan")


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", required=True)
    ap.add_argument("--corpus", required=True, type=Path)
    ap.add_argument("--dev", type=Path, help="also train every fold on this dataset (the dev set)")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--domains", help="comma-separated subset of the corpus' domains (default: all)")
    ap.add_argument("--shipped", type=Path, help="also evaluate this learned.json on every domain")
    ap.add_argument("--jobs", type=int, default=1, help="folds run side by side (default 1: one after another)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    by_domain = {}
    for line in args.corpus.open(encoding="utf-8"):
        rec = json.loads(line)
        by_domain.setdefault(rec["domain"], []).append(line)
    dev = args.dev.read_text(encoding="utf-8").splitlines(keepends=True) if args.dev else []
    domains = args.domains.split(",") if args.domains else sorted(by_domain)

    def fold(dom):
        fold = args.out / dom
        fold.mkdir(exist_ok=True)
        test, train = fold / "test.jsonl", fold / "train.jsonl"
        test.write_text("".join(by_domain[dom]), encoding="utf-8")
        train.write_text("".join(dev) + "".join(l for d, ls in sorted(by_domain.items()) if d != dom for l in ls),
                         encoding="utf-8")
        t0 = time.time()
        run([args.cli, "train-segmenter", "--data", str(train), "--split", "1", "--out", str(fold), "--json"] + extra)
        seconds = time.time() - t0
        learned = evaluate(args.cli, test, "learned", fold / "learned.json")
        hybrid = evaluate(args.cli, test, "hybrid")
        # Per document, both segmenters side by side: what a failing fold is studied on.
        (fold / "documents.json").write_text(json.dumps(
            [{"id": l.get("id"), "variant": l["variant"], "learned": l, "hybrid": h} for l, h in zip(learned, hybrid)],
            indent=1) + "\n", encoding="utf-8")
        row = {"domain": dom, "documents": len(learned), "train_seconds": round(seconds, 1),
               "learned": mean_pk(learned), "hybrid": mean_pk(hybrid)}
        for v in ("structured", "plain"):
            row[f"learned_{v}"], row[f"hybrid_{v}"] = mean_pk(learned, v), mean_pk(hybrid, v)
        if args.shipped:
            row["shipped"] = mean_pk(evaluate(args.cli, test, "learned", args.shipped))
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}), file=sys.stderr)
        train.unlink()  # large and regenerable
        return row

    # Folds are independent (each train-segmenter is deterministic on one thread): --jobs runs
    # them side by side on a machine with the cores for it; rows keep the domains' order.
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        rows = list(pool.map(fold, domains))

    mean = {k: sum(r[k] for r in rows) / len(rows) for k in rows[0] if k not in ("domain", "documents", "train_seconds")}
    holds = all(r["learned"] <= r["hybrid"] + 0.01 for r in rows) and mean["learned"] < mean["hybrid"]
    report = {"options": extra, "dev": str(args.dev) if args.dev else None, "rows": rows, "mean": mean,
              "acceptance": holds}
    (args.out / "lodo.json").write_text(json.dumps(report, indent=2) + "\n")

    ship = " shipped |" if args.shipped else ""
    print(f"| held-out domain | docs | learned Pk | hybrid Pk | learned - hybrid | structured l / h | plain l / h |{ship}")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |" + (" ---: |" if args.shipped else ""))
    f = lambda x: "-" if x != x else f"{x:.3f}"
    for r in rows + [dict(mean, domain="mean", documents=sum(r["documents"] for r in rows))]:
        extra_col = f" {f(r['shipped'])} |" if args.shipped else ""
        print(f"| {r['domain']} | {r['documents']} | {f(r['learned'])} | {f(r['hybrid'])} | {r['learned'] - r['hybrid']:+.3f} | "
              f"{f(r['learned_structured'])} / {f(r['hybrid_structured'])} | {f(r['learned_plain'])} / {f(r['hybrid_plain'])} |{extra_col}")
    print(f"\nacceptance (every domain within +0.01 Pk of hybrid, mean better): {'holds' if holds else 'does NOT hold'}")


if __name__ == "__main__":
    main()
