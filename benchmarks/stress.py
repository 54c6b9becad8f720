"""The default label model on variants of the real sets that nothing was tuned on.

``lodo.py`` holds each visible set out in turn, but every held-out set is still one the family and the
rule were developed next to. This script changes the sets themselves, the way a user's data differs
from a benchmark's, and asks the same question: is the default at least majority vote (ties split)
minus 0.5 points?

* ``~lf0``, ``~lf1``: a seeded random half of the LFs (or crowd workers);
* ``~dev50``: WRENCH sets with 50 gold dev rows instead of the whole valid split;
* ``~nodev``: WRENCH sets with no gold at all (the gold-free score decides);
* ``~sparse``: crowd sets with a third of the answers dropped at random.

Each variant is fitted and scored as in ``lodo.py`` (:func:`lodo.evaluate`), so the table also shows
the deterministic majority vote (class-prior tie-break) and the best outcome the rule could have reached.

With ``--lodo`` it also runs leave-one-dataset-out over the 24 sets of ``lodo.py`` and the 42 variants
together, a real set held out with its variants, so the rule's constants are chosen on 66 sets.

    .venv/bin/python benchmarks/stress.py                 # every real set (~2 min on 2 cores)
    .venv/bin/python benchmarks/stress.py --only yelp trec
    .venv/bin/python benchmarks/stress.py --lodo          # + the grouped LODO table (~6 min)
    .venv/bin/python benchmarks/stress.py --seed 8        # other LF halves, dev rows and drops than the table's 7
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lodo as LO  # noqa: E402

DEV_ROWS = 50
DROP_SHARE = 1 / 3


def variants(case: LO.Case, seed: int = 7) -> list[LO.Case]:
    """The stressed copies of one real set (see the module docstring)."""
    rng = np.random.default_rng(seed)
    m = case.L_train.shape[1]
    out = []
    for v in range(2):
        cols = np.sort(rng.choice(m, size=max(3, m // 2), replace=False))
        dev = None if case.dev is None else (case.dev[0][:, cols], case.dev[1])
        out.append(LO.Case(f"{case.name}~lf{v}", case.kind, case.K, case.metric, case.L_train[:, cols],
                           case.L_test[:, cols], case.y_test, dev))
    if case.dev is not None:
        idx = rng.choice(case.dev[1].size, size=min(case.dev[1].size, DEV_ROWS), replace=False)
        out.append(LO.Case(f"{case.name}~dev{DEV_ROWS}", case.kind, case.K, case.metric, case.L_train, case.L_test,
                           case.y_test, (case.dev[0][idx], case.dev[1][idx])))
        out.append(LO.Case(f"{case.name}~nodev", case.kind, case.K, case.metric, case.L_train, case.L_test,
                           case.y_test, None))
    elif case.kind == "crowd":  # the test rows are the gold rows of the same (now sparser) matrix
        L = case.L_train.copy()
        L[(rng.random(L.shape) < DROP_SHARE) & (L >= 0)] = -1
        gold = LO.R.load_crowd(case.name).votes.y >= 0
        out.append(LO.Case(f"{case.name}~sparse", case.kind, case.K, case.metric, L, L[gold], case.y_test, None))
    return out


def table(results: list[dict]) -> str:
    lines = ["| variant | default (member) | MV ties split | MV, prior tie-break | best reachable | default − MV |",
             "|---|--:|--:|--:|--:|--:|"]
    for r in results:
        lines.append(f"| {r['case'].name} | {r['default']:.2f} ({r['selected']}) | {r['mv']:.2f} "
                     f"| {r['outcomes']['majority']:.2f} | {max(r['outcomes'].values()):.2f} "
                     f"| {r['default'] - r['mv']:+.2f} |")
    m = np.array([r["default"] - r["mv"] for r in results])
    short = [r["case"].name for r in results if r["default"] - r["mv"] < -0.5]
    lines.append(f"\ndefault − MV: mean {m.mean():+.2f}, worst {m.min():+.2f}; below MV − 0.5 on {len(short)} of "
                 f"{len(m)} variants{': ' + ', '.join(short) if short else ''}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", help="real set names")
    ap.add_argument("--lodo", action="store_true", help="also LODO over the lodo.py sets and the variants")
    ap.add_argument("--try-member", nargs="+", default=[], help="registered models to add to the family (measurement)")
    ap.add_argument("--seed", type=int, default=7,
                    help="draw of the LF halves, the 50 dev rows and the dropped answers (7: the committed table; "
                         "any other: variants no rule was developed on)")
    args = ap.parse_args(argv)
    LO.try_members(args.try_member)
    results, plain = [], []
    for case in LO.cases((0, 1) if args.lodo else (), args.only):
        for variant in ([case] if args.lodo else []) + (variants(case, args.seed) if case.kind != "synthetic" else []):
            t = time.perf_counter()
            r = LO.evaluate(variant)
            (results if "~" in variant.name else plain).append(r)
            print(f"  {variant.name}: default {r['default']:.2f} ({r['selected']}), MV {r['mv']:.2f}, "
                  f"{time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
    if not results:  # a table of nothing would end in numpy's "zero-size array" error
        raise SystemExit(f"stress.py: no real set to vary under {LO.R.DATA}"
                         + (f" named {', '.join(args.only)}" if args.only else "")
                         + " (MMWEAK_SHARED_DATA names the data folder)")
    print("### The default on stressed variants of the real sets\n")
    print(table(results))
    if args.lodo:
        print("\n### Leave-one-dataset-out over the sets of lodo.py and the variants (a set held out with its "
              "variants)\n")
        print(LO.lodo_table(LO.lodo(plain + results, group=lambda name: name.split("~")[0])))
        print("\n" + LO.shipped_summary(plain + results))


if __name__ == "__main__":
    main()
