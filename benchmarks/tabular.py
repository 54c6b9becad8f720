"""Real labelled tables with threshold rules written the way a user writes them, scored against majority vote.

Every other family here is either one of the twelve visible sets (and variants of them) or generated. These are
real data nothing in the default was chosen on: the three classification tables scikit-learn ships
(``load_breast_cancer``: 569 tumours, 2 classes; ``load_wine``: 178 wines, 3 cultivars; ``load_iris``: 150
flowers, 3 species), with LFs a user would write after looking at a labelled fifth of the rows:

* a candidate rule is "feature above (or below) its 20/35/50/65/80 % quantile" on those rows;
* ``one_class``: the rule votes the class most common where it fires and abstains elsewhere, kept when that
  class is at least 70 % (two classes) or 60 % (three) of the rows it fires on; ranked by precision times the
  square root of coverage;
* ``two_sided``: the rule votes one class where it fires and another one where it does not (a decision stump),
  ranked by the two precisions' sum;
* at most one rule per feature and class, the best 8 or 25 (iris has fewer: its 25-rule sets equal its 8-rule
  sets and are skipped).

Rules on correlated measurements (radius, perimeter and area of one tumour) fire together, as real rule sets
do. The other four fifths are the scored rows (the crowd protocol: fit on their votes, score every one of them);
``--dev N`` gives the default the gold of the first N of them instead (not scored), the WRENCH protocol.

Usage::

    .venv/bin/python benchmarks/tabular.py              # seconds; no gold, then 50 gold dev rows
    .venv/bin/python benchmarks/tabular.py --first-seed 3   # draws 3-5: seeds no rule was chosen on
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn import datasets

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lodo as LO  # noqa: E402

TABLES = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine, "iris": datasets.load_iris}
#: style -> (two-sided rules, most rules)
STYLES = {"one_class_8": (False, 8), "one_class_25": (False, 25), "two_sided_8": (True, 8), "two_sided_25": (True, 25)}
QUANTILES = (0.2, 0.35, 0.5, 0.65, 0.8)


@dataclass(frozen=True)
class Rule:
    """Votes ``above`` where ``feature`` is past ``threshold`` in ``direction`` (+1 above, -1 below), else ``below``
    (-1 = abstain)."""

    feature: int
    threshold: float
    direction: int
    above: int
    below: int


def write_rules(X: np.ndarray, y: np.ndarray, K: int, two_sided: bool, most: int) -> list[Rule]:
    """The rules a user would keep after looking at the labelled rows ``X``, ``y``.

    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0], [6.0], [7.0], [8.0], [9.0]])
    >>> write_rules(X, (X[:, 0] > 4).astype(int), 2, True, 1)
    [Rule(feature=0, threshold=4.5, direction=1, above=1, below=0)]
    """
    floor = 0.7 if K == 2 else 0.6
    ranked = []
    for j in range(X.shape[1]):
        for t in np.quantile(X[:, j], QUANTILES):
            for direction in (1, -1):
                fires = (X[:, j] - t) * direction > 0
                if fires.sum() < 5 or (two_sided and (~fires).sum() < 5):
                    continue
                c = int(np.bincount(y[fires], minlength=K).argmax())
                precision = float((y[fires] == c).mean())
                if precision < floor:
                    continue
                if two_sided:
                    c2 = int(np.bincount(y[~fires], minlength=K).argmax())
                    if c2 == c:
                        continue
                    ranked.append((precision + float((y[~fires] == c2).mean()), Rule(j, float(t), direction, c, c2)))
                else:
                    ranked.append((precision * float(np.sqrt(fires.mean())), Rule(j, float(t), direction, c, -1)))
    ranked.sort(key=lambda r: -r[0])  # stable: ties keep feature order
    kept: list[Rule] = []
    seen: set[tuple[int, int]] = set()
    for _, rule in ranked:
        if (rule.feature, rule.above) not in seen:
            seen.add((rule.feature, rule.above))
            kept.append(rule)
        if len(kept) == most:
            break
    return kept


def votes(rules: list[Rule], X: np.ndarray) -> np.ndarray:
    """``(rows, rules)`` int8 votes, -1 = abstain."""
    L = np.full((X.shape[0], len(rules)), -1, dtype=np.int8)
    for i, r in enumerate(rules):
        fires = (X[:, r.feature] - r.threshold) * r.direction > 0
        L[:, i] = np.where(fires, r.above, r.below)
    return L


def cases(n_dev: int = 0, seeds: int = 3, first_seed: int = 0) -> list[LO.Case]:
    """Every table x seed x style (a seed draws which fifth of the rows the rules are written from)."""
    out = []
    for table, load in TABLES.items():
        X, y = load(return_X_y=True)
        K = int(y.max()) + 1
        for seed in range(first_seed, first_seed + seeds):
            order = np.random.default_rng(seed).permutation(len(y))
            look, scored = order[: max(40, len(y) // 5)], order[max(40, len(y) // 5):]
            written: list[list[Rule]] = []
            for style, (two_sided, most) in STYLES.items():
                rules = write_rules(X[look], y[look], K, two_sided, most)
                if len(rules) < 3 or rules in written:
                    continue
                written.append(rules)
                L, gold = votes(rules, X[scored]), y[scored]
                dev = (L[:n_dev], gold[:n_dev]) if n_dev else None
                out.append(LO.Case(f"{table}/{seed}/{style}", "tabular", K, "accuracy", L[n_dev:], L[n_dev:],
                                   gold[n_dev:], dev))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dev", type=int, nargs="+", default=[0, 50], help="gold dev rows given to the default (0: none)")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="draws first-seed .. first-seed+seeds-1 (3 and up: draws no rule was developed on)")
    args = ap.parse_args(argv)
    for n_dev in args.dev:
        start = time.perf_counter()
        print(f"### Real tables, threshold rules, {'no gold' if not n_dev else f'{n_dev} gold dev rows'} (accuracy %)\n")
        print("| case | rules | rows without a vote | default (member) | MV ties split | default − MV | best reachable "
              "| members: majority / DS / DS no abstain / one-coin / EBCC |")
        print("|---|--:|--:|--:|--:|--:|--:|---|")
        margins = {}
        for case in cases(n_dev, args.seeds, args.first_seed):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = LO.evaluate(case)
            o = r["outcomes"]
            silent = float((case.L_test == -1).all(axis=1).mean())
            margins[case.name] = r["default"] - r["mv"]
            print(f"| {case.name} | {case.L_test.shape[1]} | {silent:.1%} | {r['default']:.2f} ({r['selected']}) "
                  f"| {r['mv']:.2f} | {margins[case.name]:+.2f} | {max(o.values()):.2f} | {LO.member_scores(o)} |",
                  flush=True)
        print(f"\n{LO.margin_summary(margins)} {time.perf_counter() - start:.0f} s\n")


if __name__ == "__main__":
    main()
