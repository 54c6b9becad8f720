"""Leave-one-dataset-out for the default label model's rule, over the real sets and generated families.

The default (``labelmodels.create()``) keeps majority vote unless a member of its family beats it by a
confidence bound (:func:`mmweak.labelmodels.auto.choose`). Its free constants are the bound's ``z`` and
whether the one-standard-error rule prefers simpler members. For every dataset ``d``, the constants
are chosen on all the *other* datasets (best mean margin over majority vote, shortfalls below majority
vote - 0.5 points weighted 10x) and the rule is then scored on ``d``: that score is what the rule does
on a set it was not fitted on.

Per dataset it fits every member once (the default's own configurations), records the default's
per-row selection scores, and scores each possible outcome on the test rows, so every rule setting is
emulated without refitting.

    .venv/bin/python benchmarks/lodo.py            # real sets + 2 seeds of each generated family
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import realdata as R  # noqa: E402
import synthetic as S  # noqa: E402

from mmweak.analysis import majority_accuracy  # noqa: E402
from mmweak.labelmodels import auto as A  # noqa: E402
from mmweak.labelmodels import create  # noqa: E402
from mmweak.labelmodels.base import corrected_by_silent_dev_rows  # noqa: E402
from mmweak.labelmodels.decision import THRESHOLD_ROWS, expected_f1_thresholds, hard_labels  # noqa: E402
from mmweak.labelmodels.votes import fit_sample  # noqa: E402

Z_GRID = (0.0, 0.5, 1.0, 1.645, 2.0, 3.0)
SE_RULE = (True, False)
SHORTFALL_WEIGHT = 10.0


@dataclass
class Case:
    name: str
    kind: str  # "wrench", "crowd" or "synthetic"
    K: int
    metric: str  # "accuracy" or "f1"
    L_train: np.ndarray
    L_test: np.ndarray
    y_test: np.ndarray
    dev: tuple[np.ndarray, np.ndarray] | None


def cases(seeds: tuple[int, ...] = (0, 1), only: list[str] | None = None) -> list[Case]:
    """The 12 visible real sets (WRENCH protocol / crowd protocol) and the generated families."""
    out = []
    for name in [n for n in R.wrench_names() if not only or n in only]:
        try:
            w = R.load_wrench(name)
        except Exception as e:  # noqa: BLE001 - a set that cannot be read is left out, and said so
            print(f"(lodo: {name} left out: {type(e).__name__}: {e})", file=sys.stderr)
            continue
        if (w.test.y >= 0).any():
            out.append(Case(name, "wrench", w.cardinality, "f1" if R.is_f1(name) else "accuracy",
                            w.train.L, w.test.L, w.test.y, (w.valid.L, w.valid.y) if w.valid.y.size else None))
    for name in [n for n in R.crowd_names() if not only or n in only]:
        try:
            c = R.load_crowd(name)
        except Exception as e:  # noqa: BLE001
            print(f"(lodo: {name} left out: {type(e).__name__}: {e})", file=sys.stderr)
            continue
        gold = c.votes.y >= 0
        if gold.any():
            out.append(Case(name, "crowd", c.cardinality, "accuracy", c.votes.L, c.votes.L[gold], c.votes.y[gold],
                            None))
    for fam, (build, K, metric, n_dev) in S.FAMILIES.items():
        for seed in seeds:
            L, y = build(100 + seed)
            dev = (L[:n_dev], y[:n_dev]) if n_dev else None
            out.append(Case(f"{fam}/{seed}", "synthetic", K, metric, L[n_dev:], L[n_dev:], y[n_dev:], dev))
    return [c for c in out if not only or c.name.split("/")[0] in only]


def score(case: Case, labels: np.ndarray) -> float:
    if case.metric == "f1":
        return 100 * R.f1_class1(case.y_test, labels)
    return 100 * float((labels == case.y_test).mean())


def mv_ties_split(case: Case, draws: int = 20) -> float:
    """Majority vote with ties broken uniformly at random (rows without votes tie too): its expected accuracy,
    exactly (``mmweak.analysis.majority_accuracy``, the figure ``mmweak curate`` prints), or for F1 the mean over
    seeded draws."""
    if case.metric == "accuracy":  # rows without gold count as wrong, as score() counts them for every labelling
        known = float((case.y_test >= 0).mean()) if case.y_test.size else 0.0
        return 100 * float(majority_accuracy(case.L_test, case.y_test, case.K) or 0.0) * known
    p = S.majority_proba(case.L_test, case.K)
    return float(np.mean([score(case, hard_labels(p, np.ones(case.K), tie_break="random", seed=s)) for s in range(draws)]))


def evaluate(case: Case) -> dict:
    """Every outcome the default's rule can reach on ``case``, scored on its test rows, plus its selection scores."""
    kw = {} if case.dev is None else {"L_dev": case.dev[0], "y_dev": case.dev[1]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        default = create(cardinality=case.K, objective=_objective(case)).fit(case.L_train, **kw)
        diffs = default._selection_diffs
        models, train_p, test_p = {}, {}, {}
        sample = fit_sample(case.L_train, THRESHOLD_ROWS, default.seed_)  # the rows the default's F1 cut reads
        for name in dict.fromkeys(["majority", *diffs, "dawid_skene"]):
            model = default._build_for(name, 0, case.L_train)
            models[name] = model.fit(case.L_train, **kw)
            train_p[name] = models[name].predict_proba(sample)
            test_p[name] = models[name].predict_proba(case.L_test)
    # Rows without a vote: the kept member's class balance, times Dawid–Skene with abstains' likelihood of silence
    # where its gain over majority vote clears the bound (auto.py, _silent_estimate); gold dev rows correct it.
    # Whether it clears depends on z, so the outcomes are scored both ways.
    silent_rows = not (sample != -1).any(axis=1).all()
    by_silence = {use: _outcomes(case, models, diffs, train_p, test_p, sample, models["dawid_skene"] if use else None)
                  for use in ((False, True) if silent_rows else (False,))}
    guard = {z: bool(silent_rows and "dawid_skene" in diffs and A.lower_bound(diffs["dawid_skene"], z) > 0)
             for z in {*Z_GRID, float(default.z)}}
    default_score = score(case, default.labels_from_proba(default.predict_proba(case.L_test), None, objective=_objective(case)))
    # The held-out votes' second opinion among members that beat majority vote on the dev rows (auto.second_opinion):
    # which members clear the dev bound depends on z, so every generative member's vote score is kept.
    votes = {}
    if default.selection_by_ == "dev":
        votes = default._heldout_gains([n for n in default._member_names() if n in A.GENERATIVE], case.L_train, None,
                                       default.seed_)
    return {"case": case, "diffs": diffs, "hits": default._dev_hit_diffs, "votes": votes,
            "outcomes": by_silence[guard[float(default.z)]],
            "default": default_score, "selected": default.selected_, "mv": mv_ties_split(case),
            "by_silence": by_silence, "silence_guard": guard}


def _outcomes(case: Case, models, diffs, train_p, test_p, sample, silence_model) -> dict[str, float]:
    outcomes = {}
    for name, model in models.items():
        if name not in diffs and name != "majority":
            continue
        fill = _silent_fill(model, silence_model, case.dev)
        outcomes[name] = score(case, _labels(case, _filled(test_p[name], case.L_test, fill),
                                             _filled(train_p[name], sample, fill), model.class_balance_))
        if name != "majority":  # majority vote with this member breaking its ties (and giving the class balance)
            p_tr = _kept_majority(train_p["majority"], train_p[name], sample, fill)
            p_te = _kept_majority(test_p["majority"], test_p[name], case.L_test, fill)
            outcomes[f"majority+{name}"] = score(case, _labels(case, p_te, p_tr, model.class_balance_))
    return outcomes


def _silent_fill(model, silence_model, dev) -> np.ndarray:
    """The default's probabilities of a row without a vote when ``model`` gives the class balance."""
    balance = np.asarray(model.class_balance_, dtype=np.float64)
    estimate = balance if silence_model is None else silence_model.silent_posterior(balance)
    return corrected_by_silent_dev_rows(estimate, dev)


def _labels(case: Case, p_test: np.ndarray, p_train: np.ndarray, balance: np.ndarray) -> np.ndarray:
    """The default's hard labels: argmax (class-balance tie-break), or the F1 cut read off its training rows."""
    return hard_labels(p_test, np.asarray(balance), objective=_objective(case),
                       thresholds=expected_f1_thresholds(p_train))


def _filled(p: np.ndarray, L: np.ndarray, fill: np.ndarray) -> np.ndarray:
    p = p.copy()
    p[~(L != -1).any(axis=1)] = fill
    return p


def _kept_majority(p_majority: np.ndarray, p_member: np.ndarray, L: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """The default's probabilities when it keeps majority vote with ``member`` breaking ties (``auto.py``)."""
    w = A.TIE_BREAK_WEIGHT
    p = (p_majority + w * p_member) / (1 + w)
    silent = ~(L != -1).any(axis=1)
    p[silent] = fill
    return p


def _objective(case: Case) -> str:
    return "f1" if case.metric == "f1" else "accuracy"


def rule_outcome(result: dict, z: float, se_rule: bool) -> str:
    """The outcome the default's rule reaches on ``result`` with constants ``z`` and ``se_rule``."""
    hits = result.get("hits") or {}
    chosen, runner = A.choose_above_floor(result["diffs"], hits, z, one_se_rule=se_rule)
    if runner is None and not se_rule and result.get("votes"):
        chosen = A.second_opinion(chosen, A.below_floor_removed(result["diffs"], hits, z), result["votes"], z)
    return chosen if runner is None else f"{chosen}+{runner}"


def rule_score(result: dict, z: float, se_rule: bool) -> float:
    """The score of :func:`rule_outcome`, rows without a vote labelled as the default labels them at ``z``."""
    outcomes = result["outcomes"]
    if "by_silence" in result:
        outcomes = result["by_silence"][result["silence_guard"][z]]
    return outcomes[rule_outcome(result, z, se_rule)]


def objective(results: list[dict], z: float, se_rule: bool) -> float:
    margins = np.array([rule_score(r, z, se_rule) - r["mv"] for r in results])
    return float(margins.mean() - SHORTFALL_WEIGHT * np.maximum(0.0, -0.5 - margins).mean())


def lodo(results: list[dict], group=lambda name: name) -> list[dict]:
    """For each dataset: the constants chosen on the others and the held-out score they give.

    ``group`` maps a set's name to what is held out with it (``stress.py`` holds a real set out together
    with its variants, so none of them helps choose the constants it is scored with).
    """
    rows = []
    for r in results:
        others = [o for o in results if group(o["case"].name) != group(r["case"].name)]
        # Ties go to the more conservative z, then to the simpler rule (no one-SE step).
        best = max(((z, se) for z in Z_GRID for se in SE_RULE), key=lambda p: (objective(others, *p), p[0], not p[1]))
        outcome = rule_outcome(r, *best)
        rows.append({"name": r["case"].name, "z": best[0], "se_rule": best[1], "outcome": outcome,
                     "lodo": rule_score(r, *best), "default": r["default"], "mv": r["mv"],
                     "best_member": max(r["outcomes"].values())})
    return rows


def try_members(names: list[str]) -> None:
    """Measurement only: put registered label models into the default's family for this process.

    This is how a candidate member is judged before it may go into ``auto.CANDIDATES``: every score
    (dev and gold-free) considers it, with the shipped constants.
    """
    from mmweak.labelmodels import available

    for name in names:
        if name not in available() or name in A.CANDIDATES or name == "auto":
            raise ValueError(f"--try-member {name!r}: not a registered model outside the family "
                             f"(family: {sorted(A.CANDIDATES)})")
        A.CANDIDATES[name] = (type(create(name)), {})
        A.GENERATIVE = (*A.GENERATIVE, name)


def shipped_summary(results: list[dict]) -> str:
    """The shipped default against majority vote over ``results``: mean margin and the sets below MV - 0.5."""
    m = {r["case"].name: r["default"] - r["mv"] for r in results}
    below = [k for k, v in m.items() if v < -0.5]
    return (f"Shipped default - MV over {len(m)} sets: mean {np.mean(list(m.values())):+.3f}; below MV - 0.5 on "
            f"{len(below)}{': ' + ', '.join(below) if below else ''}.")


#: Members whose own scores the per-case tables of ``worlds.py`` and ``tabular.py`` list, in this order.
MEMBER_COLUMNS = ("majority", "dawid_skene", "dawid_skene_no_abstain", "one_coin", "ebcc")


def member_scores(outcomes: dict[str, float]) -> str:
    """The members' own scores, ``MEMBER_COLUMNS`` order, as one table cell."""
    return " / ".join(f"{outcomes[k]:.1f}" for k in MEMBER_COLUMNS if k in outcomes)


def margin_summary(margins: dict[str, float]) -> str:
    """The default's margins over majority vote: mean, worst, and the cases below MV - 0.5."""
    m = np.array(list(margins.values()))
    below = [k for k, v in margins.items() if v < -0.5]
    return (f"default − MV: mean {m.mean():+.2f}, worst {m.min():+.2f}; below MV − 0.5 on {len(below)} of {m.size}"
            f"{': ' + ', '.join(below) if below else ''}.")


def lodo_table(rows: list[dict]) -> str:
    lines = ["| held-out set | z (fit on the others) | 1-SE rule | outcome | LODO score | shipped default | MV (ties split) "
             "| LODO - MV | best outcome reachable |", "|---|--:|---|---|--:|--:|--:|--:|--:|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['z']:g} | {'yes' if r['se_rule'] else 'no'} | {r['outcome']} | {r['lodo']:.2f} "
                     f"| {r['default']:.2f} | {r['mv']:.2f} | {r['lodo'] - r['mv']:+.2f} | {r['best_member']:.2f} |")
    m = np.array([r["lodo"] - r["mv"] for r in rows])
    lines.append(f"\nLODO - MV: mean {m.mean():+.2f}, worst {m.min():+.2f}; below MV - 0.5 on {(m < -0.5).sum()} of {len(m)} sets.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", help="dataset / family names")
    ap.add_argument("--seeds", type=int, default=2, help="seeds per generated family")
    ap.add_argument("--try-member", nargs="+", default=[], help="registered models to add to the family (measurement)")
    args = ap.parse_args(argv)
    try_members(args.try_member)
    results = []
    for case in cases(tuple(range(args.seeds)), args.only):
        results.append(evaluate(case))
        print(f"  {case.name}: default {results[-1]['default']:.2f} ({results[-1]['selected']}), MV {results[-1]['mv']:.2f}",
              file=sys.stderr, flush=True)
    print("### Leave-one-dataset-out: the default's rule, constants fitted on the other sets\n")
    print(lodo_table(lodo(results)))
    print("\n" + shipped_summary(results))


if __name__ == "__main__":
    main()
