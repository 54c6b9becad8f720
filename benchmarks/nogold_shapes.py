"""The default without gold on WRENCH-shaped sets: what a user without any gold label gets.

``accuracy.py`` fits the WRENCH sets with their validation gold as dev rows, as the benchmark's protocol says; a
user often has none. This script fits the default on the train votes alone and scores the test split (ties split,
rows without a vote included), next to majority vote with ties split, for every WRENCH folder under each given
data folder (``hidden_shapes.py`` writes them):

    .venv/bin/python benchmarks/hidden_shapes.py /tmp/HS0 --seed-offset 0
    .venv/bin/python benchmarks/nogold_shapes.py /tmp/HS0 /tmp/HS100 ...

Not run in CI.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import realdata as R  # noqa: E402

from mmweak.labelmodels import create  # noqa: E402
from mmweak.labelmodels.decision import tie_split_credit  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("roots", nargs="+", help="data folders holding wrench/<set> folders")
    args = ap.parse_args()
    t0 = time.perf_counter()
    print("| data | set | default (member) | MV ties split | default − MV | rows without a vote |")
    print("|---|---|--:|--:|--:|--:|")
    diffs = []
    for root in args.roots:
        base = Path(root) / "wrench"
        for name in sorted(p.name for p in base.iterdir() if p.is_dir()):
            w = R.load_wrench(name, base)
            K = w.cardinality
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = create(cardinality=K, random_state=0).fit(w.train.L)
            L, y = w.test.L, w.test.y
            counts = np.stack([(L == k).sum(axis=1) for k in range(K)], axis=1)
            ours = 100 * tie_split_credit(model.predict_proba(L), y).mean()
            mv = 100 * tie_split_credit(counts, y).mean()
            diffs.append(ours - mv)
            print(f"| {Path(root).name} | {name} | {ours:.2f} ({model.selected_}) | {mv:.2f} | {ours - mv:+.2f} | "
                  f"{(counts.sum(axis=1) == 0).mean():.2f} |", flush=True)
    d = np.asarray(diffs)
    print(f"\ndefault − MV: mean {d.mean():+.2f}, worst {d.min():+.2f}; below MV − 0.5 on {(d < -0.5).sum()} of "
          f"{d.size}; {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
