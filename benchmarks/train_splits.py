"""The default on the WRENCH train splits' gold, which no protocol uses, next to its test-split figure.

WRENCH's protocol fits on the train votes, takes the valid split's gold as dev rows and scores the test split.
Most WRENCH folders also carry gold for their train rows: the rows a user trains an end model on. Nothing in the
default was chosen on them, and they are 7-70 times as many as the test rows, so they are a second held-out check of
the same fit. This script fits the default exactly as ``accuracy.py`` does and scores it on train and on test, each
next to plain majority vote on the same rows (accuracy with ties at their expected value,
``mmweak.analysis.majority_accuracy``; F1 of class 1 with the F1 rule on the sets scored by F1, majority vote's F1
as the mean over 20 random tie-breaks). It also prints, per split, the share of rows no LF voted on and the share of
class 1 among them and among all rows, since that is where valid, test and train differ most. Not run in CI.

    .venv/bin/python benchmarks/train_splits.py             # every WRENCH folder with train gold (about 1 minute)
    .venv/bin/python benchmarks/train_splits.py --only youtube basketball
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import accuracy as A  # noqa: E402
import realdata as R  # noqa: E402

from mmweak.analysis import majority_accuracy  # noqa: E402
from mmweak.labelmodels import create  # noqa: E402

SPLITS = ("train", "valid", "test")


def scores(name: str) -> dict:
    """The default fitted as ``accuracy.py`` fits it; per split with gold: its score, majority vote's, and shares."""
    w = R.load_wrench(name)
    f1 = R.is_f1(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = create(cardinality=w.cardinality, objective="f1" if f1 else "accuracy").fit(
            w.train.L, L_dev=w.valid.L, y_dev=w.valid.y)
    out = {"name": name, "metric": "F1" if f1 else "accuracy", "selected": model.selected_, "splits": {}}
    for split in SPLITS:
        s = getattr(w, split)
        known = s.y >= 0
        if not known.any():
            continue
        L, y = s.L[known], s.y[known]
        labels = model.labels_from_proba(model.predict_proba(L), None, objective="f1" if f1 else "accuracy")
        silent = (L == -1).all(axis=1)
        if f1:
            score = 100 * R.f1_class1(y, labels)
            mv = A.ties_split(lambda yy, p: 100 * R.f1_class1(yy, p), y, A.majority_proba(L, w.cardinality))
        else:
            score = 100 * float((labels == y).mean())
            mv = 100 * float(majority_accuracy(L, y, w.cardinality))
        out["splits"][split] = {
            "rows": int(y.size), "score": score, "mv": mv, "silent": float(silent.mean()),
            "class1": float((y == 1).mean()), "class1_silent": float((y[silent] == 1).mean()) if silent.any() else None,
            "labelled_1": float((labels == 1).mean()),
        }
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", help="WRENCH folders to run (default: all present)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    print("### The default on each split with gold (valid is its dev split: optimistic)\n")
    print("| set | metric | member | split | rows | default | MV | default − MV | rows without a vote | "
          "class 1: all rows / rows without a vote / labelled 1 |")
    print("|---|---|---|---|--:|--:|--:|--:|--:|---|")
    margins = {}
    for name in args.only or R.wrench_names():
        r = scores(name)
        for split, s in r["splits"].items():
            c1s = "–" if s["class1_silent"] is None else f"{s['class1_silent']:.2f}"
            print(f"| {name} | {r['metric']} | {r['selected']} | {split} | {s['rows']} | {s['score']:.2f} | "
                  f"{s['mv']:.2f} | {s['score'] - s['mv']:+.2f} | {s['silent']:.3f} | "
                  f"{s['class1']:.2f} / {c1s} / {s['labelled_1']:.2f} |", flush=True)
            margins[(name, split)] = s["score"] - s["mv"]
    for split in ("train", "test"):
        m = {n: v for (n, s), v in margins.items() if s == split}
        if m:
            below = [n for n, v in m.items() if v < -0.5]
            print(f"\n{split}: default − MV mean {np.mean(list(m.values())):+.2f} over {len(m)} sets, below MV − 0.5 on "
                  f"{len(below)}{': ' + ', '.join(below) if below else ''}.")
    print(f"\n{time.perf_counter() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
