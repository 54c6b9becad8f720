"""When the gold-free score is blind: which member breaks majority vote's ties, held out by source.

Without gold, on LFs that each vote one class, every member's held-out gain over majority vote is exactly 0 (no
vote value differs between labellings), so the default keeps majority vote and one member breaks its ties and
gives the class balance of the rows without a vote. This script collects every such case among the sets the
default is measured on without gold (youtube, trec and census without their valid gold, ``worlds.py``'s worlds and
``tabular.py``'s tables, seeds 0-5) and prints:

1. every tie-breaker's margin over majority vote with ties split, per case and over all of them;
2. the tie-breaker picked with each *source* (a real set, a world family, a table) held out in turn, by mean margin
   and by fewest misses below MV - 0.5, and its score on the held-out source (``auto.BLIND_TIE_BREAKER``);
3. the same for labelling the rows without a vote by a coin instead of the class balance (accuracy cases), picked
   by ``lodo.py``'s objective (mean minus ``SHORTFALL_WEIGHT`` times the mean shortfall).

Usage (about 5 minutes on 2 cores; not run in CI)::

    .venv/bin/python benchmarks/blind_ties.py
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lodo as LO  # noqa: E402
import stress as ST  # noqa: E402
import tabular as TB  # noqa: E402
import worlds as W  # noqa: E402

from mmweak.analysis import majority_accuracy  # noqa: E402
from mmweak.labelmodels import create  # noqa: E402

TIE_BREAKERS = ("dawid_skene", "dawid_skene_no_abstain", "ebcc", "one_coin")


def source(name: str) -> str:
    """``trec~nodev`` -> ``trec``, ``keywords/3`` -> ``keywords``, ``iris/2/one_class_8`` -> ``iris``."""
    return name.split("~")[0].split("/")[0]


def gold_free_cases(seeds: int = 6) -> list[LO.Case]:
    out = [v for c in LO.cases(()) if c.kind == "wrench" for v in ST.variants(c) if v.name.endswith("~nodev")]
    out += [W.case(world, s) for world in W.WORLDS for s in range(seeds)]
    return out + TB.cases(0, seeds=seeds)


def silent_rows_by_coin(case: LO.Case) -> tuple[float, float]:
    """(the default's accuracy, the same with rows without a vote labelled by a coin), both minus MV ties split."""
    model = create(cardinality=case.K).fit(case.L_train)
    right = model.labels_from_proba(model.predict_proba(case.L_test), None) == case.y_test
    mv = float(majority_accuracy(case.L_test, case.y_test, case.K))
    silent = ~(case.L_test != -1).any(axis=1)
    return 100 * (right.mean() - mv), 100 * (np.where(silent, 1.0 / case.K, right).mean() - mv)


def held_out_by_source(names: list[str], M: np.ndarray, pick) -> tuple[list[tuple[str, int]], np.ndarray]:
    """For each source, the column ``pick`` chooses on the other sources, and the held-out margins it gives."""
    sources = np.array([source(n) for n in names])
    picks, held = [], np.empty(len(names))
    for s in sorted(set(sources)):
        out = sources == s
        j = pick(M[~out])
        picks.append((s, j))
        held[out] = M[out, j]
    return picks, held


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=6, help="seeds of the worlds and tables (0..N-1)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    blind = []
    for case in gold_free_cases(args.seeds):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = LO.evaluate(case)
        if r["diffs"] and all(np.all(d == 0) for d in r["diffs"].values()):
            blind.append((case, r))
    names = [c.name for c, _ in blind]
    cols = [f"majority+{t}" for t in TIE_BREAKERS] + ["majority"]
    M = np.array([[r["outcomes"][k] - r["mv"] for k in cols] for _, r in blind])
    print(f"### Tie-breakers on {len(blind)} blind cases without gold ({len(set(map(source, names)))} sources)\n")
    print("| case | metric | MV ties split | " + " | ".join(t for t in TIE_BREAKERS) + " | class balance alone |")
    print("|---|---|--:|" + "--:|" * len(cols))
    for (case, r), row in zip(blind, M):
        print(f"| {case.name} | {case.metric} | {r['mv']:.2f} | " + " | ".join(f"{v:+.2f}" for v in row) + " |")
    print("| **mean** | | | " + " | ".join(f"{v:+.2f}" for v in M.mean(axis=0)) + " |")
    print("| **below MV − 0.5** | | | " + " | ".join(str(int(v)) for v in (M < -0.5).sum(axis=0)) + " |\n")
    for label, pick in (("mean margin", lambda m: int(np.argmax(m.mean(axis=0)))),
                        ("fewest misses", lambda m: int(np.lexsort((-m.mean(axis=0), (m < -0.5).sum(axis=0)))[0]))):
        picks, held = held_out_by_source(names, M, pick)
        chosen = sorted({cols[j] for _, j in picks})
        print(f"Held out by source, picked by {label}: {', '.join(chosen)} on every fold" if len(chosen) == 1 else
              f"Held out by source, picked by {label}: " + ", ".join(f"{s} -> {cols[j]}" for s, j in picks))
        print(f"  held-out mean {held.mean():+.2f}, below MV − 0.5 on {int((held < -0.5).sum())} of {len(held)}\n")
    acc = [c for c, _ in blind if c.metric == "accuracy"]
    C = np.array([silent_rows_by_coin(c) for c in acc])
    print(f"### Rows without a vote: class balance (shipped) or a coin, {len(acc)} blind accuracy cases\n")
    for j, label in enumerate(("class balance", "coin")):
        print(f"- {label}: mean {C[:, j].mean():+.2f}, below MV − 0.5 on {int((C[:, j] < -0.5).sum())}")
    picks, held = held_out_by_source([c.name for c in acc], C, lambda m: int(np.argmax(
        [v.mean() - LO.SHORTFALL_WEIGHT * np.maximum(0.0, -0.5 - v).mean() for v in m.T])))
    print("- held out by source (lodo.py's objective): " + ", ".join(
        f"{s} -> {('class balance', 'coin')[j]}" for s, j in picks))
    print(f"  held-out mean {held.mean():+.2f}, below MV − 0.5 on {int((held < -0.5).sum())} of {len(held)}")
    print(f"\n{time.perf_counter() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
