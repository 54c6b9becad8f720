"""Accuracy of every mmweak label model and every anchor on the real sets, next to the published numbers.

WRENCH protocol: fit on the train votes (the valid split's gold is passed as ``L_dev``/``y_dev``, as
WRENCH allows), predict the test split, score every test row (rows without votes included; "covered"
tables score only rows with at least one vote): F1 of class 1 for the rare-class sets (basketball, census,
and any other set ``realdata.is_f1`` names), accuracy otherwise. mmweak's hard labels follow the metric (argmax
where accuracy is scored, the F1 rule learned at fit time where F1 is; the F1 table shows both). Crowd sets: fit
on all answers (no gold), accuracy over items with gold, ties split fractionally.

Anchors (Snorkel, crowd-kit, FlyingSquid, the Hyper Label Model) run in ``.venv-bench`` via
``benchmarks/anchor_realdata.py``; their argmax ties (and majority vote's, "MV ties split") are broken
uniformly at random and scored at their expected value: exactly for accuracy (a row tied between t classes
counts 1/t when gold is among them; ``mmweak curate`` prints the same figure for majority vote where its labels
fill the rows without a vote, as the benchmark's do), as the mean over 20 seeded draws for F1. Saved anchor results
(``--anchors-dir``) carry a fingerprint of their set's files, so another data folder's set of the same name gets its
own run; an anchor that fails, times out, runs out of memory (the runner caps itself at 60 % of the machine's) or
returns probabilities of another shape is listed as not run, and its set is still scored. Every set in the data folder is
scored; published numbers come from ``realdata.py`` (or, for a set it does not name, the data folder's README).
The leave-one-dataset-out table of the default's rule comes from ``benchmarks/lodo.py``.

    bash benchmarks/setup_anchors.sh                                   # once
    .venv/bin/python benchmarks/accuracy.py                            # everything (~15 min, anchors included)
    .venv/bin/python benchmarks/accuracy.py --no-anchors --no-lodo     # mmweak only (~3 min)
    .venv/bin/python benchmarks/accuracy.py --models default majority --only youtube rte
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import realdata as R  # noqa: E402

from mmweak import labelmodels  # noqa: E402
from mmweak.labelmodels.decision import hard_labels, tie_split_credit  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
ANCHOR_LABELS = {
    "snorkel_lm": "Snorkel LM", "snorkel_mv": "Snorkel MV", "crowdkit_ds": "ck DS", "crowdkit_onecoin": "ck OneCoin",
    "crowdkit_glad": "ck GLAD", "crowdkit_mace": "ck MACE", "flyingsquid": "FlyingSquid", "hyperlm": "HyperLM",
}
DRAWS = 20


def ties_split(metric, y: np.ndarray, proba: np.ndarray, accuracy: bool = False) -> float:
    """``metric(y, labels)`` with argmax ties broken uniformly at random: for accuracy its expected value exactly
    (a tied row counts one over the number of tied classes when gold is among them, in percent, as ``metric``
    gives it), for other metrics the mean over seeded draws."""
    proba = np.nan_to_num(np.asarray(proba, dtype=np.float64))
    K = proba.shape[1]
    if accuracy:  # a row without gold (-1) is wrong for every labelling, as ``metric`` scores it
        return 100 * float(np.where(y >= 0, tie_split_credit(proba, np.maximum(y, 0)), 0.0).mean())
    return float(np.mean([metric(y, hard_labels(proba, np.ones(K), tie_break="random", seed=s)) for s in range(DRAWS)]))


def majority_proba(L: np.ndarray, K: int) -> np.ndarray:
    counts = np.stack([(L == k).sum(axis=1) for k in range(K)], axis=1).astype(np.float64)
    total = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, total, out=np.full_like(counts, 1.0 / K), where=total > 0)


def _fingerprint_or_none(name: str) -> str | None:
    try:
        return R.set_fingerprint(name)
    except OSError:  # an unreadable set is reported where it is scored
        return None


class NotScored(Exception):
    """A set that loads but cannot be scored (no gold labels to score against)."""


def wrench_results(name: str, models: list[str], anchors: dict) -> dict:
    w = R.load_wrench(name)
    if not (w.test.y >= 0).any():
        raise NotScored("its test split has no gold labels")
    covered = (w.test.L != -1).any(axis=1)
    metric_all = lambda y, p: R.wrench_score(name, y, p)  # noqa: E731
    out: dict = {"all": {}, "covered": {}, "argmax": {}, "f1_rule": {}, "errors": []}
    for model in models:
        lm = labelmodels.create(None if model == "default" else model, cardinality=w.cardinality)
        if R.is_f1(name) and "objective" in lm.get_params():  # the default's dev score aims at the set's metric
            lm.set_params(objective="f1")
        dev = {"L_dev": w.valid.L, "y_dev": w.valid.y} if w.valid.y.size else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            proba = _fitted_proba(lm, model, w.train.L, w.test.L, dev, out["errors"])
        if proba is None:
            continue
        argmax = lm.labels_from_proba(proba, None, objective="accuracy")
        f1_rule = lm.labels_from_proba(proba, None, objective="f1")
        pred = f1_rule if R.is_f1(name) else argmax
        out["all"][model] = metric_all(w.test.y, pred)
        if covered.any():
            out["covered"][model] = metric_all(w.test.y[covered], pred[covered])
        out["argmax"][model] = metric_all(w.test.y, argmax)
        out["f1_rule"][model] = metric_all(w.test.y, f1_rule)
    mv = majority_proba(w.test.L, w.cardinality)
    extra = {"MV ties split": mv, **fitting_anchors(anchors, w.test.L.shape[0], w.cardinality, out["errors"])}
    for label, proba in extra.items():
        out["all"][label] = ties_split(metric_all, w.test.y, proba, accuracy=not R.is_f1(name))
        if covered.any():
            out["covered"][label] = ties_split(metric_all, w.test.y[covered], proba[covered], accuracy=not R.is_f1(name))
    out["covered_share"] = float(covered.mean())
    return out


def _fitted_proba(lm, model: str, L_fit: np.ndarray, L_score: np.ndarray, dev: dict, errors: list[str]):
    """``lm``'s probabilities on ``L_score``, or None after noting why another model than the default could not
    run here (MeTaL refuses more than 4,000 LF-class columns): its cell shows "–". The default's failure is the
    set's, and is raised."""
    try:
        return lm.fit(L_fit, **dev).predict_proba(L_score)
    except Exception as e:  # noqa: BLE001 - any model's failure is reported with its type
        if model == "default":
            raise
        errors.append(f"{model}: {type(e).__name__}: {e}")
        return None


def crowd_results(name: str, models: list[str], anchors: dict) -> dict:
    c = R.load_crowd(name)
    gold = c.votes.y >= 0
    if not gold.any():
        raise NotScored("no item has a gold label (no truth.csv, or none of its items has answers)")
    out: dict = {"all": {}, "errors": []}
    for model in models:
        lm = labelmodels.create(None if model == "default" else model, cardinality=c.cardinality)
        proba = _fitted_proba(lm, model, c.votes.L, c.votes.L, {}, out["errors"])
        if proba is not None:
            out["all"][model] = 100 * R.crowd_accuracy(c.votes.y, proba)
    extra = {"MV ties split": majority_proba(c.votes.L, c.cardinality)[gold],
             **fitting_anchors(anchors, int(gold.sum()), c.cardinality, out["errors"])}
    for label, proba in extra.items():
        out["all"][label] = 100 * R.crowd_accuracy(c.votes.y[gold], np.nan_to_num(proba))
    return out


def saved_fingerprint(folder: Path, name: str) -> str | None:
    """The fingerprint of the set files the saved anchor results of ``name`` were computed on (None: no results, or
    results saved before they carried one)."""
    path = folder / f"{name}.npz"
    if not path.exists():
        return None
    with np.load(path) as data:
        return str(data["fingerprint"]) if "fingerprint" in data.files else None


def load_anchors(folder: Path, name: str) -> dict:
    """The saved anchor probabilities of set ``name``, only if they were computed on the files it has now."""
    saved = saved_fingerprint(folder, name)
    if saved is None or saved != _fingerprint_or_none(name):
        return {}
    with np.load(folder / f"{name}.npz") as data:
        return {k: data[k] for k in data.files if k in ANCHOR_LABELS}


def fitting_anchors(anchors: dict, rows: int, K: int, errors: list[str]) -> dict:
    """The anchors whose probabilities cover the ``rows`` x ``K`` scored rows; each other one is noted in
    ``errors`` and left out (its set is still scored)."""
    fit = {}
    for key, proba in anchors.items():
        if proba.shape == (rows, K):
            fit[ANCHOR_LABELS[key]] = proba
        else:
            errors.append(f"{ANCHOR_LABELS[key]}: saved probabilities are {proba.shape[0]} x {proba.shape[1]}, "
                          f"the scored rows {rows} x {K}")
    return fit


def anchor_errors(folder: Path, names: list[str]) -> list[str]:
    """Why each anchor of the sets ``names`` has no results, as the runner saved it."""
    lines = []
    for path in sorted(folder / f"{n}.json" for n in names if (folder / f"{n}.json").exists()):
        for key, info in json.loads(path.read_text()).items():
            if "error" in info:
                lines.append(f"{path.stem} {ANCHOR_LABELS.get(key, key)}: {info['error']}")
    return lines


def table(title: str, rows: dict[str, dict[str, float]], published: dict[str, dict[str, float]] | None, scale: float,
          mv_key: str) -> str:
    """One markdown table: every column of ``rows``, then the published numbers of each set where known ("–" where a
    set has none), the best of them and the default's gap to it, and the default's margin over majority vote."""
    cols = list(dict.fromkeys(k for r in rows.values() for k in r))
    pub_cols = list(dict.fromkeys(k for p in (published or {}).values() for k in p))
    head = ["dataset", *cols, *(f"pub {p}" for p in pub_cols)]
    if published:
        head += ["best pub", "default − best pub"]
    head += ["default − MV"]
    lines = [f"### {title}", "", "| " + " | ".join(head) + " |", "|---" + "|--:" * (len(head) - 1) + "|"]
    for ds, res in rows.items():
        cells = [f"{res[c]:.2f}" if c in res else "–" for c in cols]
        d = res.get("default", np.nan)
        if published:
            pub = {k: v * scale for k, v in published.get(ds, {}).items()}
            cells += [f"{pub[p]:.2f}" if p in pub else "–" for p in pub_cols]
            cells += [f"{max(pub.values()):.2f}", f"{d - max(pub.values()):+.2f}"] if pub else ["–", "–"]
        cells.append(f"{d - res[mv_key]:+.2f}")
        lines.append(f"| {ds} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["default", *labelmodels.available()])
    ap.add_argument("--only", nargs="+", help="datasets to run (default: all present)")
    ap.add_argument("--anchors-dir", type=Path, default=ROOT / "out" / "anchors")
    ap.add_argument("--no-anchors", action="store_true", help="skip the anchors (no .venv-bench needed)")
    ap.add_argument("--rerun-anchors", action="store_true", help="run the anchors even where saved results exist")
    ap.add_argument("--no-lodo", action="store_true", help="skip the leave-one-dataset-out table")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    names = [n for n in [*R.wrench_names(), *R.crowd_names()] if not args.only or n in args.only]
    if not args.no_anchors:
        # Results saved for another folder's set of the same name (or before its files changed) are rerun.
        missing = [n for n in names
                   if args.rerun_anchors or saved_fingerprint(args.anchors_dir, n) != _fingerprint_or_none(n)]
        if missing and not BENCH_PYTHON.exists():
            print(f"(anchors skipped: no {BENCH_PYTHON}; run `bash benchmarks/setup_anchors.sh` first)\n")
        elif missing:
            done = subprocess.run([str(BENCH_PYTHON), str(ROOT / "benchmarks" / "anchor_realdata.py"), "--out",
                                   str(args.anchors_dir), "--only", *missing])
            if done.returncode:
                print(f"(the anchor runner exited with {done.returncode}: anchors without saved results are left out)\n")
    anchors = {n: ({} if args.no_anchors else load_anchors(args.anchors_dir, n)) for n in names}
    wrench = set(R.wrench_names())
    wr, cr, skipped = {}, {}, {}
    for n in names:  # one set that cannot be read or scored is reported at the end; it does not stop the rest
        try:
            if n in wrench:
                wr[n] = wrench_results(n, args.models, anchors[n])
            else:
                cr[n] = crowd_results(n, args.models, anchors[n])
        except NotScored as e:
            skipped[n] = f"not scored: {e}"
        except Exception as e:  # noqa: BLE001 - any failure is this set's, and is printed with its type
            skipped[n] = f"failed: {type(e).__name__}: {e}"
    if wr:
        f1_sets = "/".join(k for k in wr if R.is_f1(k)) or "none"
        print(table(f"WRENCH test split, every row (accuracy %; F1 % of class 1 for {f1_sets}, mmweak with "
                    "its F1 rule there)", {k: v["all"] for k, v in wr.items()}, {k: R.published_wrench(k) for k in wr},
                    1.0, "MV ties split"))
        print()
        shares = ", ".join(f"{k} {100 * v['covered_share']:.1f} %" for k, v in wr.items())
        print(table(f"WRENCH test split, covered rows only (rows with at least one vote: {shares})",
                    {k: v["covered"] for k, v in wr.items() if v["covered"]}, None, 1.0, "MV ties split"))
        print()
        f1 = {k: {**{f"{m} argmax": v["argmax"][m] for m in args.models if m in v["argmax"]},
                  **{f"{m} F1 rule": v["f1_rule"][m] for m in args.models if m in v["f1_rule"]},
                  "default": v["all"].get("default", np.nan), "MV ties split": v["all"]["MV ties split"]}
              for k, v in wr.items() if R.is_f1(k)}
        if f1:
            print(table("Rare-class F1 sets: argmax labels vs the F1 rule (F1 % of class 1)", f1, None, 1.0, "MV ties split"))
            print()
    if cr:
        print(table("Crowdsourcing sets (accuracy % on gold items, ties split)", {k: v["all"] for k, v in cr.items()},
                    {k: R.published_crowd(k) for k in cr}, 100.0, "MV ties split"))
        print()
    if not args.no_anchors and args.anchors_dir.exists():
        errs = anchor_errors(args.anchors_dir, names)
        if errs:
            print("Anchors that did not run: " + "; ".join(errs) + "\n")
    allres = {**{k: v["all"] for k, v in wr.items()}, **{k: v["all"] for k, v in cr.items()}}
    if allres and "default" in args.models:
        lines = ["### The default's margin against majority vote", "",
                 "| dataset | default | MV (ties split, this run) | published MV | default − MV | default − published MV |",
                 "|---|--:|--:|--:|--:|--:|"]
        for k, v in allres.items():
            pub = R.published_wrench(k).get("MV") if k in wrench else None
            d = v["default"]
            pub_s = "–" if pub is None else f"{pub:.2f}"
            gap = "–" if pub is None else f"{d - pub:+.2f}"
            lines.append(f"| {k} | {d:.2f} | {v['MV ties split']:.2f} | {pub_s} | {d - v['MV ties split']:+.2f} | {gap} |")
        print("\n".join(lines) + "\n")
        margins = {k: v["default"] - v["MV ties split"] for k, v in allres.items()}
        hyper = [v["default"] - v["HyperLM"] for v in allres.values() if "HyperLM" in v]
        print(f"default − MV (ties split): worst {min(margins.values()):+.2f} ({min(margins, key=margins.get)}), "
              f"mean {np.mean(list(margins.values())):+.2f}"
              + (f"; default − HyperLM: mean {np.mean(hyper):+.2f} over {len(hyper)} sets" if hyper else ""))
    model_errors = [f"{k} {e}" for k, v in {**wr, **cr}.items() for e in v["errors"]]
    if model_errors:
        print("\nModels that did not run (\"–\" above): " + "; ".join(model_errors))
    if skipped:
        print("\nSets left out of every table above:\n" + "\n".join(f"- {k}: {v}" for k, v in skipped.items()))
    if not args.no_lodo:
        import lodo

        print()
        results = [lodo.evaluate(c) for c in lodo.cases(only=args.only)]
        print("### Leave-one-dataset-out: the default's rule, its constants fitted on the other sets\n")
        print(lodo.lodo_table(lodo.lodo(results)))
    print(f"\n`default` = labelmodels.create() = {labelmodels.DEFAULT_MODEL!r}; {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
