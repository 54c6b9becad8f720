"""Where the votes are too dependent for the gold-free score: the default's guard, chosen leave-one-source-out.

Without gold the default ranks its members by how well each one's labels predict held-out votes, a likelihood
that assumes LFs err independently given the class. Where a large part of the evidence comes from LFs that share
their errors (``worlds.py``: ``shared_base``, ``partial_copies``, colluding crowds; yelp and imdb without dev
rows), a labelling that follows the dependent LFs explains the votes as well as the truth does, and the score
takes it over majority vote. ``auto.MIN_INDEPENDENT_SHARE`` keeps majority vote there: when less than that share of
the votes' evidence is independent (``dependence.independent_share``, copies read as one LF), majority vote stays,
its ties broken by its own class balance (no challenger, since each follows the dependent LFs there).

This script measures the share and every outcome on every gold-free case, then chooses the threshold the way
every constant of the default is chosen: for each source (a world family over its seeds, a real set with its
stressed variants, a generated family), the threshold is fitted on all the other sources (mean margin over
majority vote, shortfalls below MV - 0.5 weighted 10x, ties to the lower threshold) and scored on the held-out one.

Cases: the 37 world families of ``worlds.py`` on seeds 0-5 (no gold); the six crowd sets, their ``~lf0``, ``~lf1``
and ``~sparse`` variants on stress seeds 7, 8 and 9; the six WRENCH sets without dev rows (``~nodev``); the
generated LODO families without dev rows; the real tables of ``tabular.py`` with rules written from a fifth of their
rows (seeds 0-5), where rules on correlated measurements are dependent and Dawid–Skene still labels far better.

    .venv/bin/python benchmarks/dependence_guard.py          # ~10 min on 2 cores
    .venv/bin/python benchmarks/dependence_guard.py --quick  # worlds seeds 0-2, stress seed 7 only
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lodo as LO  # noqa: E402
import stress as ST  # noqa: E402
import tabular as T  # noqa: E402
import worlds as W  # noqa: E402

from mmweak.labelmodels import MajorityVote  # noqa: E402
from mmweak.labelmodels import auto as A  # noqa: E402

GRID = (0.0, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
#: What breaks majority vote's ties where the guard keeps it: its own class balance (shipped: plain majority vote),
#: the same vote with each LF counted by its evidence weight (a dependent group about once), or the challenger the
#: (untrusted) gold-free score ranks first.
EVIDENCE = "evidence-weighted vote"
TIE_BREAKERS = ("class balance", EVIDENCE, "best challenger")
Z = 0.5  # the shipped constants of the rest of the rule
SE_RULE = False


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


def outcome(r: dict, threshold: float, tie: str) -> float:
    """The default's score on ``r`` with the guard at ``threshold`` and ``tie`` breaking majority vote's ties there."""
    if r["independent_share"] >= threshold:
        return LO.rule_score(r, Z, SE_RULE, 0.0)
    outcomes = r["outcomes"] if "by_silence" not in r else r["by_silence"][r["silence_guard"][Z]]
    if tie == "class balance":
        return outcomes["majority"]
    if tie == "best challenger":
        chosen, runner = A.choose(r["diffs"], Z)
        runner = runner or max(sorted(r["diffs"]), key=lambda k: float(np.mean(r["diffs"][k])), default=None)
        return outcomes.get(f"majority+{runner}", outcomes["majority"])
    return outcomes[f"majority+{tie}"]


def margins(results: list[dict], threshold: float, tie: str = TIE_BREAKERS[0]) -> np.ndarray:
    return np.array([outcome(r, threshold, tie) - r["mv"] for r in results])


def objective(m: np.ndarray) -> float:
    return float(m.mean() - LO.SHORTFALL_WEIGHT * np.maximum(0.0, -0.5 - m).mean()) if m.size else 0.0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="worlds on seeds 0-2 and stress seed 7 only")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    world_seeds, stress_seeds = ([0, 1, 2], [7]) if args.quick else ([0, 1, 2, 3, 4, 5], [7, 8, 9])
    by_source: dict[str, list[dict]] = defaultdict(list)
    for source, case in cases(world_seeds, stress_seeds):
        evidence = MajorityVote(case.K, dedupe_copies=False, dependence_weights=True)
        r = LO.evaluate(case, tie_breakers={EVIDENCE: evidence})
        r["source"] = source
        by_source[source].append(r)
        print(f"  {case.name}: share {r['independent_share']:.3f}, default {r['default']:.2f} ({r['selected']}), "
              f"MV {r['mv']:.2f}", file=sys.stderr, flush=True)
    results = [r for rs in by_source.values() for r in rs]

    print(f"### The guard on {len(results)} gold-free cases from {len(by_source)} sources\n")
    print("| threshold | tie-breaker | mean default − MV | below MV − 0.5 | cases it keeps majority vote on | objective |")
    print("|--:|---|--:|--:|--:|--:|")
    settings = [(0.0, TIE_BREAKERS[0])] + [(t, tie) for t in GRID[1:] for tie in TIE_BREAKERS]
    for t, tie in settings:
        m = margins(results, t, tie)
        kept = sum(r["independent_share"] < t for r in results)
        print(f"| {t:g} | {tie if t else '–'} | {m.mean():+.3f} | {int((m < -0.5).sum())} | {kept} | {objective(m):+.3f} |")

    print("\n### Leave one source out: threshold and tie-breaker fitted on the other sources, scored on the held-out one\n")
    print("| held-out source | cases | threshold | tie-breaker | mean − MV, no guard | mean − MV, held out "
          "| below MV − 0.5: no guard → held out |")
    print("|---|--:|--:|---|--:|--:|---|")
    held_all, off_all, picks = [], [], defaultdict(int)
    shipped = (A.MIN_INDEPENDENT_SHARE, TIE_BREAKERS[0])
    for source, rs in by_source.items():
        others = [r for s, x in by_source.items() if s != source for r in x]
        best = max(settings, key=lambda p: (objective(margins(others, *p)), -p[0], -TIE_BREAKERS.index(p[1])))
        picks[best] += 1
        off, held = margins(rs, 0.0), margins(rs, *best)
        off_all.extend(off)
        held_all.extend(held)
        if not np.array_equal(off, held) or best != shipped:
            print(f"| {source} | {len(rs)} | {best[0]:g} | {best[1]} | {off.mean():+.2f} | {held.mean():+.2f} "
                  f"| {int((off < -0.5).sum())} → {int((held < -0.5).sum())} |")
    held, off = np.array(held_all), np.array(off_all)
    print(f"\n(Sources whose outcome does not move and whose fold picks the shipped {shipped} are left out of the "
          f"table.) Folds' picks: {dict(sorted(picks.items()))}.")
    print(f"Held out: mean − MV {off.mean():+.3f} → {held.mean():+.3f}; below MV − 0.5 on {int((off < -0.5).sum())} → "
          f"{int((held < -0.5).sum())} of {held.size}.")

    print("\n### Every case with an independent share under 0.95\n")
    print("| case | share | no guard (member) | with the shipped guard | MV ties split | majority vote, class-balance "
          "ties | evidence-weighted vote alone |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for r in sorted(results, key=lambda r: r["independent_share"]):
        if r["independent_share"] >= 0.95:
            break
        print(f"| {r['case'].name} | {r['independent_share']:.3f} | {LO.rule_score(r, Z, SE_RULE, 0.0):.2f} "
              f"({LO.rule_outcome(r, Z, SE_RULE, 0.0)}) | {LO.rule_score(r, Z, SE_RULE):.2f} | {r['mv']:.2f} "
              f"| {outcome(r, 1.0, 'class balance'):.2f} | {r['outcomes'][f'({EVIDENCE} alone)']:.2f} |")
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
