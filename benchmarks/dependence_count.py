"""A gold-free guard against dependent LFs, read as a count: measured leave-one-source-out (rejected).

Without gold the default ranks its members by how well each one's labels predict held-out votes, a likelihood
that assumes LFs err independently given the class. Where much of the evidence comes from LFs that share their
errors, a labelling that follows them explains the votes as well as the truth, and the default leaves majority
vote for a worse member (``worlds.py``: ``shared_base``, ``partial_copies``; yelp without dev rows). A first guard
(e25745c, reverted in 2eb4407) kept majority vote where the vote-weighted mean evidence weight was low; that sum
fell with the numbers of rows and LFs. This script measures the next candidate, a count:

    share(t) = the votes cast by LFs that have at least one partner whose excess agreement
               (``dependence.dependence_pairs``) is at least t, over all votes; copy groups read as one LF,
               on every fit row up to 50,000.

The guard would keep majority vote (its own class balance breaking ties) where ``share(t) >= tau``. For every
gold-free case it records the share at several ``t``, read on all rows and on a half and a quarter of them (other
seeds: does the decision hold still?), and the default's outcome with and without the guard. Then ``(t, tau)`` is
chosen the way every constant of the default is: for each source (a world family over its seeds, a real set with
its stressed variants, a generated family, a real table over its draws) it is fitted on the other sources (mean
margin over majority vote, shortfalls below MV - 0.5 weighted 10x, as in ``lodo.py``) and scored on the held-out
one.

Cases: the world families of ``worlds.py`` on seeds 0-5 (no gold); the crowd sets and their ``~lf0``, ``~lf1``
and ``~sparse`` variants on stress seeds 7-9; the WRENCH sets without dev rows (``~nodev``); the generated LODO
families without dev rows; the real tables of ``tabular.py`` on seeds 0-5.

    .venv/bin/python benchmarks/dependence_count.py            # ~6 min on 2 cores
    .venv/bin/python benchmarks/dependence_count.py --quick    # worlds seeds 0-1, stress seed 7, tables 0-1

Not run in CI. Output: ``benchmarks/results/dependence_count.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
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

from mmweak.labelmodels.copies import copy_groups  # noqa: E402
from mmweak.labelmodels.dependence import dependence_pairs  # noqa: E402
from mmweak.labelmodels.votes import PAIR_STAT_ROWS, SparseVotes, fit_sample  # noqa: E402

EXCESS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
SHARE = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
OFF = (EXCESS[0], np.inf)  # no guard
READS = {"all": (None, 0), "half": (2, 1), "quarter": (4, 2)}  # rows read: all, n // 2 and n // 4 (sample seed)


def dependent_share(L: np.ndarray, K: int, rows: int | None = None, seed: int = 0) -> dict[float, float]:
    """``share(t)`` for every ``t`` in :data:`EXCESS`, on ``rows`` rows of ``L`` (a seeded sample; all when
    ``None``, capped at the pair statistics' own row cap).

    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 3000)
    >>> base = np.where(rng.random(3000) < 0.7, y, 1 - y)  # one upstream model, read by three LFs ...
    >>> L = np.stack([np.where(rng.random(3000) < 0.9, base, 1 - base) for _ in range(3)]
    ...              + [np.where(rng.random(3000) < 0.75, y, 1 - y) for _ in range(7)], axis=1)  # ... and 7 others
    >>> dependent_share(L, 2)[0.25]  # the three cast 3 of the 10 LFs' votes
    0.3
    """
    L = fit_sample(L, min(rows or len(L), PAIR_STAT_ROWS), seed)
    V = SparseVotes.from_dense(L, K)
    _, first = np.unique(copy_groups(V, seed=seed), return_index=True)
    if first.size < V.n_lfs:
        V = V.select_lfs(np.sort(first))
    a, _, excess, _ = dependence_pairs(V, seed)
    worst = np.zeros(V.n_lfs)
    np.maximum.at(worst, a, excess)
    votes = V.votes_per_lf().sum(axis=1)
    return {t: float(votes[worst >= t].sum() / max(votes.sum(), 1)) for t in EXCESS}


def cases(world_seeds: list[int], stress_seeds: list[int]):
    """``(source, case)`` for every gold-free case (see the module docstring)."""
    for world in W.WORLDS:
        for seed in world_seeds:
            yield f"world:{world}", W.case(world, seed)
    for c in LO.cases((0, 1)):
        if c.kind == "crowd":
            yield f"real:{c.name}", c
            for seed in stress_seeds:
                for v in ST.variants(c, seed):
                    yield f"real:{c.name}", dataclasses.replace(v, name=f"{v.name}@{seed}")
        elif c.kind == "wrench":
            yield f"real:{c.name}", next(v for v in ST.variants(c) if v.name.endswith("~nodev"))
        elif c.dev is None:
            yield f"gen:{c.name.split('/')[0]}", c
    for c in T.cases(0, seeds=len(world_seeds)):
        yield f"table:{c.name.split('/')[0]}", c


def measure(case: LO.Case) -> dict:
    """The default's outcome, majority vote's, and the share at every ``t`` on every read of ``case``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = LO.evaluate(case)
    n = len(case.L_train)
    shares = {read: dependent_share(case.L_train, case.K, None if d is None else n // d, seed)
              for read, (d, seed) in READS.items() if d is None or n >= 400}
    return {"case": case.name, "rows": n, "default": r["default"], "mv": r["mv"], "selected": r["selected"],
            "kept_majority": r["outcomes"]["majority"], "shares": shares}


def outcome(r: dict, t: float, tau: float) -> float:
    """The default's score on ``r`` with the guard at ``(t, tau)`` (shares read on all rows)."""
    if r["shares"]["all"][t] >= tau and not r["selected"].startswith("majority"):
        return r["kept_majority"]
    return r["default"]


def margins(results: list[dict], t: float, tau: float) -> np.ndarray:
    return np.array([outcome(r, t, tau) - r["mv"] for r in results])


def objective(m: np.ndarray) -> float:
    return float(m.mean() - LO.SHORTFALL_WEIGHT * np.maximum(0.0, -0.5 - m).mean()) if m.size else 0.0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="worlds on seeds 0-1, stress seed 7, tables on seeds 0-1")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    world_seeds, stress_seeds = ([0, 1], [7]) if args.quick else ([0, 1, 2, 3, 4, 5], [7, 8, 9])
    by_source: dict[str, list[dict]] = defaultdict(list)
    for source, case in cases(world_seeds, stress_seeds):
        by_source[source].append(measure(case))
        print(f"  {case.name}: {by_source[source][-1]['shares']['all']}", file=sys.stderr, flush=True)
    results = [r for rs in by_source.values() for r in rs]
    settings = [OFF] + [(t, tau) for t in EXCESS for tau in SHARE]

    off = margins(results, *OFF)
    print(f"### The guard on {len(results)} gold-free cases from {len(by_source)} sources\n")
    print(f"No guard: mean default − MV {off.mean():+.3f}, below MV − 0.5 on {int((off < -0.5).sum())}. "
          "Each cell: mean default − MV / cases below MV − 0.5 with the guard at (t, tau).\n")
    print("| t \\ tau | " + " | ".join(f"{tau:g}" for tau in SHARE) + " |")
    print("|--:|" + "--:|" * len(SHARE))
    for t in EXCESS:
        cells = [margins(results, t, tau) for tau in SHARE]
        print(f"| {t:g} | " + " | ".join(f"{m.mean():+.2f} / {int((m < -0.5).sum())}" for m in cells) + " |")

    print("\n### Leave one source out: (t, tau) fitted on the other sources, scored on the held-out one\n")
    print("| held-out source | cases | t | tau | mean − MV, no guard | held out | below MV − 0.5: no guard → held out |")
    print("|---|--:|--:|--:|--:|--:|---|")
    held_all, off_all, picks = [], [], defaultdict(int)
    for source, rs in by_source.items():
        others = [r for s, x in by_source.items() if s != source for r in x]
        best = max(settings, key=lambda p: (objective(margins(others, *p)), p[1]))
        picks[best] += 1
        base, held = margins(rs, *OFF), margins(rs, *best)
        off_all.extend(base)
        held_all.extend(held)
        if not np.array_equal(base, held):
            print(f"| {source} | {len(rs)} | {best[0]:g} | {best[1]:g} | {base.mean():+.2f} | {held.mean():+.2f} "
                  f"| {int((base < -0.5).sum())} → {int((held < -0.5).sum())} |")
    held, base = np.array(held_all), np.array(off_all)
    print(f"\n(Sources whose outcome does not move are left out.) Folds' picks (t, tau): "
          f"{ {f'{t:g} / {tau:g}': k for (t, tau), k in sorted(picks.items())} }.")
    print(f"Held out: mean − MV {base.mean():+.3f} → {held.mean():+.3f}; below MV − 0.5 on {int((base < -0.5).sum())} → "
          f"{int((held < -0.5).sum())} of {held.size}.")

    top = max(picks, key=lambda p: picks[p])
    print(f"\n### Does the decision hold still? The folds' most frequent pick, t = {top[0]:g}, tau = {top[1]:g}, "
          "read on all rows, on half of them and on a quarter (other seeds)\n")
    print("| case | rows | share: all / half / quarter |")
    print("|---|--:|---|")
    flips = 0
    for r in results:
        reads = [r["shares"][k][top[0]] for k in READS if k in r["shares"]]
        if len({s >= top[1] for s in reads}) > 1:
            flips += 1
            print(f"| {r['case']} | {r['rows']} | " + " / ".join(f"{s:.2f}" for s in reads) + " |")
    print(f"\nThe decision changes with the rows read on {flips} of "
          f"{sum(len(r['shares']) > 1 for r in results)} cases. {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
