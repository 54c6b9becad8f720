"""Accuracy of every mmweak label model on real data, next to the published numbers.

WRENCH protocol: fit on the train votes (the valid split's gold may be used, as WRENCH allows, and is
passed as ``L_dev``/``y_dev``), predict the test split, score every test row (rows without votes
included): F1 of class 1 for basketball and census, accuracy otherwise. Crowd sets: fit on all answers
(no gold), accuracy over items with gold, ties split fractionally.

    .venv/bin/python benchmarks/accuracy.py                # every model, every dataset
    .venv/bin/python benchmarks/accuracy.py --models auto majority --only youtube trec
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import realdata as R  # noqa: E402

from mmweak import labelmodels  # noqa: E402


def wrench_row(name: str, models: list[str], use_dev: bool, argmax_only: bool = False) -> dict[str, float]:
    w = R.load_wrench(name)
    # The decision rule follows the metric, the same way on every dataset: argmax where accuracy is
    # scored, the F1-optimal cut learned at fit time (no gold) where F1 of class 1 is.
    objective = "f1" if name in R.WRENCH_F1 and not argmax_only else "accuracy"
    out = {}
    for model in models:
        lm = labelmodels.create(None if model == "default" else model, cardinality=w.cardinality)
        kw = {"L_dev": w.valid.L, "y_dev": w.valid.y} if use_dev else {}
        lm.fit(w.train.L, seed=0, **kw)
        # L=None: rows without votes are decided from their no-vote (class-prior) probabilities too.
        pred = lm.labels_from_proba(lm.predict_proba(w.test.L), None, objective=objective)
        out[model] = R.wrench_score(name, w.test.y, pred)
    return out


def crowd_row(name: str, models: list[str]) -> dict[str, float]:
    c = R.load_crowd(name)
    out = {}
    for model in models:
        lm = labelmodels.create(None if model == "default" else model, cardinality=c.cardinality)
        proba = lm.fit(c.votes.L, seed=0).predict_proba(c.votes.L)
        out[model] = 100 * R.crowd_accuracy(c.votes.y, proba)
    return out


def table(title: str, rows: dict[str, dict[str, float]], published: dict[str, dict[str, float]], scale: float) -> str:
    models = list(next(iter(rows.values())))
    pub_cols = list(next(iter(published.values())))
    lines = [f"### {title}", "", "| dataset | " + " | ".join(models) + " | " + " | ".join(f"pub {p}" for p in pub_cols)
             + " | best pub | default - best |", "|---" * (len(models) + len(pub_cols) + 3) + "|"]
    for ds, res in rows.items():
        pub = {k: v * scale for k, v in published[ds].items()}
        best = max(pub.values())
        cells = [f"{res[m]:.2f}" for m in models] + [f"{pub[p]:.2f}" for p in pub_cols]
        lines.append(f"| {ds} | " + " | ".join(cells) + f" | {best:.2f} | {res.get('default', np.nan) - best:+.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["default", *labelmodels.available()])
    ap.add_argument("--only", nargs="+", help="datasets to run (default: all present)")
    ap.add_argument("--no-dev", action="store_true", help="WRENCH without the valid split's gold")
    ap.add_argument("--argmax", action="store_true", help="score the F1 sets with argmax labels, not the F1 cut")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    wr = {n: wrench_row(n, args.models, not args.no_dev, args.argmax) for n in R.wrench_names() if not args.only or n in args.only}
    cr = {n: crowd_row(n, args.models) for n in R.crowd_names() if not args.only or n in args.only}
    if wr:
        print(table("WRENCH test split (accuracy %, F1 % of class 1 for basketball/census)", wr, R.WRENCH_PUBLISHED, 1.0))
        print()
    if cr:
        print(table("Crowdsourcing sets (accuracy % on gold items)", cr, R.CROWD_PUBLISHED, 100.0))
    print(f"\n`default` = labelmodels.create() = {labelmodels.DEFAULT_MODEL!r}; {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
