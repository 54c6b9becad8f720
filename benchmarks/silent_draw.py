"""Rows without a vote, with gold dev rows: the default's argmax against a per-row draw (measured, not shipped).

With gold dev rows the default labels the rows no LF votes on by the classes of the dev rows without a vote,
shrunk towards its own estimate (``LabelModel.no_vote_proba_``), and every such row takes that estimate's top
class. ``small_dev.py`` found the misses below majority vote on small dev splits there: a few dozen nearly tied dev
rows pick the class that is the minority among the test rows without a vote. Majority vote with ties split is a
coin on those rows; a per-row draw from the estimate removes part of the variance. This script measures, on every
accuracy case with gold dev rows, the default's test accuracy and the *expected* accuracy of a draw (each row
without a vote scores the estimate's probability of its gold class) taken always, or only where the dev rows
without a vote do not settle their top class (Wilson lower bound of its share against the runner-up's at z,
``small_dev.dev_rows_settle``), against majority vote with ties split.

Cases: the 6 WRENCH sets with their valid split as dev rows and their stressed variants with dev rows (``~dev50``,
``~lf0``, ``~lf1`` on stress seeds 7-9), the generated LODO families with dev rows, the real tables of
``tabular.py`` with 50 dev rows (seeds 0-5) and the worlds of ``worlds.py`` with 200 dev rows (seeds 0-5).

    .venv/bin/python benchmarks/silent_draw.py          # ~10 min on 2 cores

Not run in CI. Output: ``benchmarks/results/silent_draw.md``.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lodo as LO  # noqa: E402
import stress as ST  # noqa: E402
import tabular as T  # noqa: E402
import worlds as W  # noqa: E402
from small_dev import dev_rows_settle  # noqa: E402

from mmweak.labelmodels import create  # noqa: E402

Z = (0.5, 1.0, 1.645, 2.0)


def cases():
    """``(group, case)`` for every accuracy case with gold dev rows (see the module docstring)."""
    for c in LO.cases((0, 1)):
        if c.kind == "wrench":
            yield "real", c
            for seed in (7, 8, 9):
                yield from (("real", v) for v in ST.variants(c, seed))
        elif c.kind == "synthetic" and c.dev is not None:
            yield "real", c
    for c in T.cases(50, seeds=6):
        yield "tables", c
    for world in W.WORLDS:
        for seed in range(6):
            yield "worlds", W.case(world, seed, n_dev=200)


def measure(case: LO.Case) -> dict | None:
    """The default's accuracy, a draw's expected accuracy and whether the dev rows settle the top class at each z."""
    if case.dev is None or case.metric != "accuracy":
        return None
    L_dev, y_dev = case.dev
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = create(cardinality=case.K).fit(case.L_train, L_dev=L_dev, y_dev=y_dev)
    y = case.y_test
    right = (model.labels_from_proba(model.predict_proba(case.L_test), None) == y).astype(float)
    drawn = right.copy()
    rows = ~(case.L_test != -1).any(axis=1) & (y >= 0)
    drawn[rows] = np.asarray(model.no_vote_proba_)[y[rows]]
    dev_counts = np.bincount(y_dev[~(L_dev != -1).any(axis=1)], minlength=case.K)
    return {"case": case.name, "mv": LO.mv_ties_split(case), "argmax": 100 * right.mean(),
            "always": 100 * drawn.mean(), "settled": {z: dev_rows_settle(dev_counts, z) for z in Z}}


def margins(results: list[dict], rule: str | float) -> np.ndarray:
    """Default − MV per case when rows without a vote follow ``rule``: "argmax", "always", or a draw unless settled
    at that z."""
    def score(r: dict) -> float:
        if isinstance(rule, str):
            return r[rule]
        return r["argmax"] if r["settled"][rule] else r["always"]
    return np.array([score(r) - r["mv"] for r in results])


def main() -> None:
    start = time.perf_counter()
    groups: dict[str, list[dict]] = defaultdict(list)
    for group, case in cases():
        r = measure(case)
        if r is not None:
            groups[group].append(r)
            print(f"  {case.name}: {r['argmax'] - r['mv']:+.2f}", file=sys.stderr, flush=True)
    groups["all"] = [r for g in ("real", "tables", "worlds") for r in groups[g]]
    rules: list[str | float] = ["argmax", "always", *Z]
    print("Each cell: mean default − MV / cases below MV − 0.5 / the LODO objective (mean − 10 x mean shortfall "
          "below MV − 0.5). argmax is what ships.\n")
    print("| cases | n | " + " | ".join(r if isinstance(r, str) else f"draw unless settled, z = {r:g}"
                                         for r in rules) + " |")
    print("|---|--:|" + "---|" * len(rules))
    for group, results in groups.items():
        cells = []
        for rule in rules:
            m = margins(results, rule)
            cells.append(f"{m.mean():+.3f} / {int((m < -0.5).sum())} / "
                         f"{m.mean() - 10 * np.maximum(0.0, -0.5 - m).mean():+.3f}")
        print(f"| {group} | {len(results)} | " + " | ".join(cells) + " |")
    print("\nCases that move by more than half a point with the draw unless settled at z = 1:\n")
    print("| case | argmax − MV | draw − MV |")
    print("|---|--:|--:|")
    base, gated = margins(groups["all"], "argmax"), margins(groups["all"], 1.0)
    for r, a, b in zip(groups["all"], base, gated):
        if abs(a - b) > 0.5:
            print(f"| {r['case']} | {a:+.2f} | {b:+.2f} |")
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
