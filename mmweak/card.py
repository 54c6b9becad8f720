"""Render the dataset card: Hub YAML (configs, dataset_info, weak_supervision) + a readable body."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import math
import re
import shlex
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

import jinja2
import numpy as np
from datasets import Dataset, DatasetInfo, Features
from datasets.info import DatasetInfosDict
from datasets.splits import SplitDict, SplitInfo
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCard, DatasetCardData

from ._version import __version__
from .aggregate import labels_everything
from .analysis import label_metrics, lf_summary, majority_accuracy, majority_f1, voted_rows_accuracy
from .calibration import DEFAULT_BINS, calibration_report
from .card_text import card_yaml, code, fence_for, md, py, user_markdown
from .columns import is_media, read_column, read_matrix
from .gold import read_gold
from .provenance import HUMAN_KIND
from .review.answers import review_summary
from .review.simulate import curve_context
from .task import Task

TEMPLATE = "dataset_card.md.j2"
GOLD_SPLIT_ORDER = ("validation", "valid", "dev", "test", "train")
#: How calibration is measured; repeated in the card body and the YAML block so a number never travels alone.
CALIBRATION_METHOD = (
    f"top-class probability vs correctness on gold rows (ties share credit); ECE = sum_b n_b/n |acc_b - conf_b| "
    f"over {DEFAULT_BINS} equal-width bins of [0, 1] (ece_width) and {DEFAULT_BINS} equal-mass bins at the "
    f"confidence quantiles (ece_mass); MCE = largest bin gap; Brier = mean_i sum_k (p_ik - [y_i = k])^2"
)
_VERSIONED = (
    "datasets", "huggingface_hub", "numpy", "pyarrow", "torch", "transformers", "open_clip_torch", "matplotlib",
)


def size_category(n: int) -> str:
    """The Hub's ``size_categories`` bucket for ``n`` rows."""
    for bound, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                        (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"),
                        (1_000_000_000, "100M<n<1B")):
        if n < bound:
            return name
    return "n>1T" if n >= 10**12 else "1B<n<10B"


def package_versions() -> dict[str, str]:
    """Versions of mmweak and the libraries that shape its output (missing ones are skipped)."""
    out = {"mmweak": __version__}
    for pkg in _VERSIONED:
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def _round(v: Any, digits: int = 6) -> Any:
    """Floats rounded for the YAML block, so it stays readable and does not churn on float noise."""
    if isinstance(v, float):
        return None if math.isnan(v) else round(v, digits)
    if isinstance(v, dict):
        return {k: _round(x, digits) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_round(x, digits) for x in v]
    return v


def quality_block(task: Mapping[str, Any]) -> dict[str, Any] | None:
    """Label quality and calibration on gold of one task (a :func:`task_context`), for the YAML block."""
    if not task.get("quality"):
        return None
    splits = {}
    for q, c in zip(task["quality"], task["calibration"]):
        splits[q["split"]] = _round({
            "gold_rows": q["rows"], "used_in_fit": q["used_in_fit"], "accuracy": q["accuracy"],
            "majority_vote_accuracy": q.get("majority_accuracy"),
            **({"majority_vote_f1": q["majority_f1"]} if q.get("majority_f1") is not None else {}),
            **({"rows_with_a_vote": {"share": q["voted"]["share"], "accuracy": q["voted"]["accuracy"],
                                     "majority_vote_accuracy": q["voted"]["majority_accuracy"]}}
               if q.get("voted") and q["voted"]["filled"] else {}),
            "accuracy_covered": q["accuracy_covered"], "coverage": q["coverage"], "macro_f1": q["macro_f1"],
            "f1": q["f1"],  # per class: a label model fitted for one class's F1 is judged by that entry
            "gold_class_balance": q["gold_class_balance"],
            **{k: v for k, v in c["report"].to_dict().items() if k != "rows"},
        })
    return {"calibration": CALIBRATION_METHOD, "splits": splits}


def review_block(entry: Mapping[str, Any], task: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The YAML record of human review for one task: answer columns, counts, and the attached learning curve."""
    stored = entry.get("review") or {}
    ctx = (task or {}).get("review") or {}
    if not stored and not ctx:
        return None
    out: dict[str, Any] = {k: stored[k] for k in ("gold_column", "answers_column") if stored.get(k)}
    summary = ctx.get("summary")
    if summary:
        out["reviewed_rows"] = {s["split"]: s["rows"] for s in summary["splits"]}
        out["annotators"] = len(summary["annotators"])
        out["model_agreement"] = _round(summary["model_agreement"])
        out["annotator_agreement"] = _round(summary["annotator_agreement"])
    if stored.get("learning_curve"):
        out["learning_curve"] = _round(stored["learning_curve"])
    return out


def weak_supervision_block(
    record: Mapping[str, Any],
    model_files: Mapping[str, str],
    tasks: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The machine-readable ``weak_supervision`` YAML block (no learned arrays: those are in the model files).

    With ``tasks`` (:func:`task_context` dicts), each task also gets a ``quality`` entry: per gold split,
    accuracy, Brier score, ECE/MCE under both binnings and the reliability bins.
    """
    contexts = {t["name"]: t for t in tasks or []}
    out_tasks = []
    for name, entry in record.get("tasks", {}).items():
        t = Task.from_dict(entry["task"])
        item: dict[str, Any] = {
            "name": t.name,
            "labels": list(t.labels),
            "description": t.description,
            "columns": {"votes": t.votes_column, "probs": t.probs_column, "label": t.label_column,
                        "confidence": t.confidence_column},
            "lfs": entry.get("lfs", []),
        }
        lm = entry.get("label_model")
        if lm:
            item["label_model"] = {
                "model": lm["model"], "params": lm["params"], "fit": lm["fit"],
                "class_balance": lm["class_balance"], "lf_accuracies": lm["lf_accuracies"],
                "file": model_files.get(name),
            }
            selection = selection_context(lm)
            if selection:
                item["label_model"]["selection"] = _round(selection)
        if entry.get("gold_column"):
            item["gold_column"] = entry["gold_column"]
        if entry.get("faults"):  # rows each LF faulted on, per split: a reloaded folder's card shows them again
            item["faults"] = {split: dict(per_lf) for split, per_lf in entry["faults"].items()}
        quality = quality_block(contexts[name]) if name in contexts else None
        if quality:
            item["quality"] = quality
        review = review_block(entry, contexts.get(name))
        if review:
            item["review"] = review
        out_tasks.append(item)
    out: dict[str, Any] = {"mmweak_version": __version__, "abstain": -1, "tasks": out_tasks}
    recipe = record.get("recipe")
    if recipe:  # how to rebuild this dataset: `mmweak curate` on this recipe, with this mmweak
        out["recipe"] = {k: recipe[k] for k in ("file", "sha256", "mmweak_version", "text", "overrides")
                         if k in recipe}
    return out


def task_context(
    splits: Mapping[str, Dataset],
    entry: Mapping[str, Any],
    model_file: str | None,
    *,
    n_bins: int = DEFAULT_BINS,
) -> dict[str, Any]:
    """Everything the card shows for one task, measured on the data being published.

    Per split with gold: label metrics, a :class:`~mmweak.calibration.CalibrationReport` and the gold class
    shares; ``used_in_fit`` marks the split whose gold the label model saw (its numbers are optimistic).
    """
    return context_from_measures(entry, model_file, measure_task(splits, entry, n_bins=n_bins), n_bins=n_bins)


def stats_split_of(entry: Mapping[str, Any], split_names: Sequence[str]) -> str:
    """The split whose votes the card's LF table describes: the label model's fit split, else the first."""
    lm = entry.get("label_model")
    stats_split = (lm or {}).get("fit", {}).get("split") or split_names[0]
    return stats_split if stats_split in split_names else split_names[0]


def measure_task(
    splits: Mapping[str, Dataset], entry: Mapping[str, Any], *, n_bins: int = DEFAULT_BINS
) -> dict[str, Any]:
    """The measurements behind one task's card section, read from in-memory datasets.

    Another engine (``mmweak.ray``) produces the same dict from streamed counts and the gathered gold rows,
    and :func:`context_from_measures` turns either into the card's context.
    """
    t = Task.from_dict(entry["task"])
    lm = entry.get("label_model")
    stats_split = stats_split_of(entry, list(splits))
    dev_split = (lm or {}).get("fit", {}).get("dev_split")
    names = [lf["name"] for lf in entry["lfs"]]
    est = (lm or {}).get("lf_accuracies")
    rows = lf_summary(read_matrix(splits[stats_split], t.votes_column), t.cardinality, names=names,
                      estimated_accuracy=est)
    gold_col = entry.get("gold_column")
    gold_split = None
    if gold_col:
        for s in [*GOLD_SPLIT_ORDER, *splits]:
            if (s in splits and gold_col in splits[s].column_names
                    and np.any(read_gold(splits[s], gold_col, t, split=s) >= 0)):
                gold_split = s
                break
    if gold_split:
        assert gold_col  # a gold split is only looked for when there is a gold column
        gold_rows = lf_summary(read_matrix(splits[gold_split], t.votes_column), t.cardinality, names=names,
                               y=read_gold(splits[gold_split], gold_col, t, split=gold_split))
        for r, g in zip(rows, gold_rows):
            r["empirical_accuracy"] = g["empirical_accuracy"]
    quality: list[dict[str, Any]] = []
    calibration: list[dict[str, Any]] = []
    label_counts: list[dict[str, Any]] = []
    for s, ds in splits.items():
        if t.label_column not in ds.column_names:
            continue
        labels = read_column(ds, t.label_column, np.int64)
        label_counts.append(label_count_entry(s, np.bincount(labels[labels >= 0], minlength=t.cardinality),
                                              int((labels < 0).sum())))
        if gold_col and gold_col in ds.column_names:
            y = read_gold(ds, gold_col, t, split=s)
            if np.any(y >= 0):
                # Reviewed rows of the fit split carry their human label, so its numbers are optimistic too.
                fit = (entry.get("label_model") or {}).get("fit", {})
                used = s == dev_split or (s == fit.get("split") and bool(fit.get("reviewed_rows")))
                q, c = gold_quality(s, labels, y, read_matrix(ds, t.probs_column), t.cardinality,
                                    used=used, n_bins=n_bins, votes=read_matrix(ds, t.votes_column),
                                    f1_of=f1_fit_class(lm))
                quality.append(q)
                calibration.append(c)
    return {"stats_split": stats_split, "gold_split": gold_split, "lfs": rows, "label_counts": label_counts,
            "quality": quality, "calibration": calibration, "review_summary": review_summary(splits, t)}


def label_count_entry(split: str, counts: Iterable[int], abstain: int) -> dict[str, Any]:
    """One split's curated-label counts as the card shows them (shares among labelled rows)."""
    counts = [int(c) for c in counts]
    return {"split": split, "counts": counts, "abstain": int(abstain),
            "shares": [c / max(sum(counts), 1) for c in counts]}


def f1_fit_class(lm: Mapping[str, Any] | None) -> int | None:
    """The class whose F1 a label model's labels were decided for (its fit's ``objective`` ``f1``), else ``None``.

    >>> f1_fit_class({"fit": {"objective": "f1", "pos_label": 0}}), f1_fit_class({"fit": {"objective": "accuracy"}})
    (0, None)
    """
    fit = (lm or {}).get("fit", {})
    return int(fit.get("pos_label", 1)) if fit.get("objective") == "f1" else None


def gold_quality(
    split: str, labels: np.ndarray, y: np.ndarray, probs: np.ndarray, cardinality: int, *, used: bool,
    n_bins: int = DEFAULT_BINS, votes: np.ndarray | None = None, f1_of: int | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Label metrics and calibration of one split against its gold (rows with gold ``-1`` are skipped), and with
    the split's ``votes`` the accuracy plain majority vote would have on the same rows, and with ``f1_of`` (labels
    decided for that class's F1, :func:`f1_fit_class`) majority vote's F1 of it too, and both accuracies on only
    the gold rows with a vote (``voted``, :func:`~mmweak.analysis.voted_rows_accuracy`)."""
    known = y[y >= 0]
    gold_shares = (np.bincount(known, minlength=cardinality) / known.size).tolist()
    quality = {"split": split, **label_metrics(labels, y, cardinality, probs),
               "used_in_fit": used, "gold_class_balance": gold_shares,
               "majority_accuracy": None if votes is None else majority_accuracy(votes, y, cardinality, labels),
               "majority_f1": (None if votes is None or f1_of is None
                               else majority_f1(votes, y, cardinality, f1_of, labels)),
               "voted": None if votes is None else voted_rows_accuracy(votes, y, cardinality, labels)}
    report = calibration_report(probs, y, n_bins)
    calibration = {
        "split": split, "report": report, "used_in_fit": used, "rows": report.rows,
        "brier": report.brier, "ece_width": report.ece("width"), "ece_mass": report.ece("mass"),
        "mce_width": report.curves["width"].mce, "bins": report.curves["width"].nonempty(),
    }
    return quality, calibration


def context_from_measures(
    entry: Mapping[str, Any], model_file: str | None, measures: Mapping[str, Any], *, n_bins: int = DEFAULT_BINS
) -> dict[str, Any]:
    """The card context of one task from its :func:`measure_task` measurements and its record entry."""
    t = Task.from_dict(entry["task"])
    lm = entry.get("label_model")
    stats_split = measures["stats_split"]
    quality, label_counts = measures["quality"], measures["label_counts"]
    faults = entry.get("faults", {})
    lfs = []
    for spec, r in zip(entry["lfs"], measures["lfs"]):
        total = sum(int(f.get(spec["name"], 0)) for f in faults.values()) if faults else None
        lfs.append({**spec, **r, "faults": total})
    series: dict[str, list[float]] = {}
    if lm:
        series["estimated prior (label model)"] = [float(v) for v in lm["class_balance"]]
    for q in quality:
        series[f"gold ({q['split']}{', used in fit' if q['used_in_fit'] else ''})"] = q["gold_class_balance"]
    for c in label_counts:
        if c["split"] == stats_split:
            series[f"curated labels ({stats_split}, labelled rows)"] = c["shares"]
    f1_fit = f1_fit_split_counts(lm, label_counts)
    # the F1 rule gave its class to (nearly) every labelled row of the fit split
    f1_labels_all = labels_everything(f1_fit[0], f1_fit[1]) if f1_fit else None
    return {
        "name": t.name, "labels": list(t.labels), "description": t.description, "f1_labels_all": f1_labels_all,
        "columns": {"votes": t.votes_column, "probs": t.probs_column, "label": t.label_column,
                    "confidence": t.confidence_column},
        "lfs": lfs, "stats_split": stats_split, "gold_split": measures["gold_split"], "f1_of": f1_fit_class(lm),
        "label_model": lm, "selection": selection_context(lm), "model_file": model_file, "label_counts": label_counts,
        "quality": quality, "calibration": measures["calibration"], "n_bins": n_bins,
        "dev_split": (lm or {}).get("fit", {}).get("dev_split"),
        "class_balance": {"series": series if lm else {}},
        "tie_break": (lm or {}).get("fit", {}).get("tie_break"), "plots": {},
        "review": review_context(measures.get("review_summary"), entry, t),
    }


def f1_fit_split_counts(
    lm: Mapping[str, Any] | None, label_counts: Iterable[Mapping[str, Any]]
) -> tuple[list[int], int, str] | None:
    """``(label counts, pos_label, split)`` of the split the label model was fitted on, when its labels were decided by
    the F1 rule (``None`` otherwise, or when that split was not counted): what both engines check for labels that
    give the class to every row.

    >>> lm = {"fit": {"split": "train", "objective": "f1", "pos_label": 1}}
    >>> f1_fit_split_counts(lm, [{"split": "test", "counts": [5, 5]}, {"split": "train", "counts": [0, 9]}])
    ([0, 9], 1, 'train')
    >>> f1_fit_split_counts({"fit": {"split": "train", "objective": "accuracy"}}, [{"split": "train", "counts": [1]}])
    """
    pos = f1_fit_class(lm)
    if pos is None:
        return None
    fit = (lm or {})["fit"]
    counts = next((list(c["counts"]) for c in label_counts if c["split"] == fit.get("split")), None)
    return None if counts is None else (counts, pos, str(fit["split"]))


def selection_context(lm: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """How the default label model (``auto``) chose its member, from its record entry (``None`` for any other
    model): the member, the tie-breaker when majority vote was kept, which score decided, its bound's ``z``, how
    many k-fold splits the gold-free score averaged (0 for files of earlier versions), the class whose F1 the dev
    score measured (``None`` when it measured accuracy), the dev score's own leader when the held-out votes moved
    the choice to another member that also clears its bound (``None`` otherwise), the members the gold-free score
    ranked first but passed over for labels settled on one class (``None`` otherwise), the challengers ruled out
    because their dev accuracy is shown below majority vote's (``below_floor``), and every challenger's mean gain
    over majority vote per row with its standard error, best first.

    >>> lm = {"model": "auto", "params": {"z": 0.5}, "state": {"selected_": "majority+ebcc",
    ...       "selection_by_": "heldout", "cv_scores_": {"one_coin": [-0.01, 0.02], "ebcc": [0.002, 0.01]}}}
    >>> s = selection_context(lm)
    >>> s["chosen"], s["tie_breaker"], [g["member"] for g in s["gains"]], s["repeats"]
    ('majority', 'ebcc', ['ebcc', 'one_coin'], 0)
    """
    state = (lm or {}).get("state") or {}
    if not lm or lm.get("model") != "auto" or "selected_" not in state:
        return None
    chosen, _, runner = str(state["selected_"]).partition("+")
    scores = state.get("cv_scores_") or {}
    gains = [{"member": k, "gain": float(v[0]), "se": float(v[1])}
             for k, v in sorted(scores.items(), key=lambda kv: (-float(kv[1][0]), kv[0]))]
    # Without gold only LFs seen voting two classes are scored; with none, every gain is exactly zero.
    unscored = state.get("selection_by_") == "heldout" and all(g["gain"] == 0 and g["se"] == 0 for g in gains)
    params = lm.get("params") or {}
    return {"chosen": chosen, "tie_breaker": runner or None, "by": state.get("selection_by_"),
            "z": params.get("z"), "gains": gains, "unscored": unscored,
            "repeats": int(state.get("selection_repeats_") or 0), "dev_leader": state.get("dev_leader_") or None,
            "passed_over": state.get("passed_over_") or None,
            "below_floor": [k for k in str(state.get("below_floor_") or "").split(",") if k],
            "f1_of": int(params.get("pos_label", 1)) if params.get("objective") == "f1" else None,
            # gold dev rows given but too few for the dev score (it needs min_dev): said, not "no gold dev rows"
            "few_dev": int(((lm.get("fit") or {}).get("dev_rows") or 0)), "min_dev": params.get("min_dev")}


#: The Hub task category of what an LF of each modality reads (a CLIP LF scores images against words).
_CATEGORY = {"text": "text-classification", "image": "image-classification", "audio": "audio-classification",
             "multimodal": "image-classification"}


def default_task_categories(record: Mapping[str, Any]) -> list[str]:
    """The card's ``task_categories`` when none is given: those of the modalities the LFs read, people's answers
    aside (they say nothing of what was judged); ``text-classification`` when no LF says.

    >>> lfs = [{"modality": "audio"}, {"modality": "text", "kind": "Annotator"}, {"modality": "multimodal"}]
    >>> default_task_categories({"tasks": {"t": {"lfs": lfs}}})
    ['image-classification', 'audio-classification']
    >>> default_task_categories({"tasks": {}})
    ['text-classification']
    """
    seen = {_CATEGORY.get(str(lf.get("modality")))
            for entry in (record.get("tasks") or {}).values() for lf in entry.get("lfs", [])
            if lf.get("kind") != HUMAN_KIND}
    return [c for c in dict.fromkeys(_CATEGORY.values()) if c in seen] or ["text-classification"]


def recipe_file_name(entry: Mapping[str, Any]) -> str:
    """The file name to save a recorded recipe under for a rebuild: the one it was read from (so the rebuild records
    the same entry), or ``RECIPE.yaml`` for a recipe that came from no file.

    >>> recipe_file_name({"file": "wrench_votes.yaml"}), recipe_file_name({"file": "<recipe>"})
    ('wrench_votes.yaml', 'RECIPE.yaml')
    """
    name = str(entry.get("file") or "")
    return name if name and not name.startswith("<") else "RECIPE.yaml"


def rebuild_command(overrides: Sequence[str], recipe_file: str = "RECIPE.yaml") -> str:
    """The shell command that reruns a recipe with the ``--set`` assignments a run was given, each quoted for a
    POSIX shell (a value with spaces, quotes, pipes or newlines pastes back as it was).

    >>> print(rebuild_command(["data.source=my data", "output.pretty_name=a | b"]))
    mmweak curate RECIPE.yaml --set 'data.source=my data' --set 'output.pretty_name=a | b'
    """
    return " ".join(["mmweak curate", shlex.quote(recipe_file), *(f"--set {shlex.quote(str(o))}" for o in overrides)])


def selection_line(task: str, lm: Mapping[str, Any] | None) -> str | None:
    """One console line: what the default label model chose for ``task`` and on what evidence (``None`` for any
    other model). The card's label-model section says the same at length.

    >>> lm = {"model": "auto", "params": {"z": 0.5}, "state": {"selected_": "dawid_skene", "selection_by_": "dev",
    ...       "cv_scores_": {"dawid_skene": [0.0517, 0.0233], "ebcc": [0.01, 0.02]}}}
    >>> print(selection_line("spam", lm))  # doctest: +ELLIPSIS
    spam: the default label model chose dawid_skene on gold dev rows (gain over majority vote +0.0517 ± 0.0233 ...
    >>> lm["state"].update(selected_="majority+ebcc", selection_by_="heldout")
    >>> print(selection_line("spam", lm))  # doctest: +ELLIPSIS
    spam: the default label model kept majority vote, ties broken by ebcc, on held-out votes (best challenger ...
    >>> lm["state"].update(selected_="majority+dawid_skene", selection_by_="dev", below_floor_="dawid_skene")
    >>> print(selection_line("spam", lm))  # doctest: +NORMALIZE_WHITESPACE
    spam: the default label model kept majority vote, ties broken by dawid_skene, on gold dev rows (best challenger
    dawid_skene +0.0517 ± 0.0233 per row, ruled out: its dev accuracy shown below majority vote's; next ebcc +0.0100
    ± 0.0200, not 0.5 standard errors clear of zero)
    """
    sel = selection_context(lm)
    if sel is None:
        return None
    unit = "per row" if sel["by"] == "dev" else "nats per row"
    evidence = "gold dev rows" if sel["by"] == "dev" else "held-out votes"
    gains = {g["member"]: g for g in sel["gains"]}
    floor = sel["below_floor"]
    # ranked above the member taken, yet out: the score counts probabilities too, the floor the labels alone
    out = [g["member"] for g in sel["gains"] if g["member"] in floor
           and g["gain"] > gains.get(sel["chosen"], {"gain": 0.0})["gain"]]
    accuracy_below = "dev accuracy shown below majority vote's"
    if sel["chosen"] == "majority":
        what = "kept majority vote" + (f", ties broken by {sel['tie_breaker']}," if sel["tie_breaker"] else "")
        left = [g for g in sel["gains"] if g["member"] not in floor]
        best = sel["gains"][0] if sel["gains"] and not sel["unscored"] else None
        why = ""
        if best and best["member"] in floor:
            why = f" (best challenger {best['member']} {best['gain']:+.4f} ± {best['se']:.4f} {unit}, ruled out: its "
            why += accuracy_below + (f"; next {left[0]['member']} {left[0]['gain']:+.4f} ± {left[0]['se']:.4f}, "
                                     f"not {sel['z']} standard errors clear of zero)" if left else ")")
        elif best:
            why = (f" (best challenger {best['member']} {best['gain']:+.4f} ± {best['se']:.4f} {unit}, not {sel['z']} "
                   "standard errors clear of zero)")
    else:
        what = f"chose {sel['chosen']}"
        g = gains.get(sel["chosen"])
        why = f" (gain over majority vote {g['gain']:+.4f} ± {g['se']:.4f} {unit})" if g else ""
        if sel["dev_leader"]:
            why += f", preferred to {sel['dev_leader']} by the held-out votes' second opinion"
        if out:
            why += f", passing over {', '.join(out)} (its {accuracy_below})"
    if sel["unscored"]:
        dev, need = sel["few_dev"], sel["min_dev"]
        gold = (f"its {dev} gold dev rows are fewer than the {need} it scores members with" if dev and need
                else "there are no gold dev rows")
        why = f" (no member could be scored: no LF votes more than one class, and {gold})"
    if sel["passed_over"]:
        why += f", passing over {sel['passed_over'].replace(',', ', ')}: its labels settled on one class"
    return f"{task}: the default label model {what} on {evidence}{why}"


def selection_lines(record: Mapping[str, Any], tasks: Iterable[Task]) -> list[str]:
    """:func:`selection_line` of each task of ``tasks`` fitted by the default, from a weak-supervision record."""
    entries = record.get("tasks") or {}
    lines = [selection_line(t.name, (entries.get(t.name) or {}).get("label_model")) for t in tasks]
    return [line for line in lines if line]


def review_context(summary: dict[str, Any] | None, entry: Mapping[str, Any], task: Task) -> dict[str, Any] | None:
    """The card's human-review section of one task: who reviewed what (``summary``, from
    :func:`mmweak.review.answers.review_summary`), how the label model used it, and an attached learning curve
    (``None`` when there is neither)."""
    stored = entry.get("review") or {}
    curve = curve_context(stored["learning_curve"]) if stored.get("learning_curve") else None
    if summary is None and curve is None:
        return None
    fit = ((entry.get("label_model") or {}).get("fit") or {})
    total = sum(s["rows"] for s in summary["splits"]) if summary else 0
    return {"summary": summary, "curve": curve, "rows": total, "fit_split": fit.get("split"),
            "fit_reviewed": int(fit.get("reviewed_rows") or 0), "fit_chosen": int(fit.get("reviewed_chosen_rows") or 0)}


def task_contexts(
    splits: Mapping[str, Dataset], record: Mapping[str, Any], model_files: Mapping[str, str]
) -> list[dict[str, Any]]:
    """:func:`task_context` for every task of ``record``, in record order."""
    return [task_context(splits, entry, model_files.get(name)) for name, entry in record.get("tasks", {}).items()]


#: The card's last line: a digest of the body mmweak wrote, so a command about to replace the card can tell that
#: someone edited it by hand (an HTML comment: the Hub does not show it).
CARD_SEAL = "<!-- mmweak card body sha256 {} -->"
_SEAL = re.compile(r"\n*<!-- mmweak card body sha256 ([0-9a-f]{64}) -->\s*$")


def _body_digest(text: str) -> str:
    """sha256 of a card's body: the text after its YAML front matter, without the seal, ends stripped."""
    body = text.split("\n---\n", 1)[1] if text.startswith("---\n") and "\n---\n" in text else text
    return hashlib.sha256(_SEAL.sub("", body).strip().encode("utf-8")).hexdigest()


def unsealed(text: str) -> str:
    r"""A card without its seal line: to compare two cards whose bodies differ only where a caller replaced text.

    >>> unsealed("# T\n\n" + CARD_SEAL.format("0" * 64) + "\n")
    '# T\n'
    """
    return _SEAL.sub("\n", text)


def card_edited(text: str) -> bool | None:
    r"""Whether a card's body was changed since mmweak wrote it (``None``: it carries no seal to tell by).

    >>> sealed = "---\nlicense: other\n---\n\n# Title\n\nBody.\n"
    >>> sealed += "\n" + CARD_SEAL.format(_body_digest(sealed)) + "\n"
    >>> card_edited(sealed), card_edited(sealed.replace("Body.", "Body, and my notes.")), card_edited("# Mine\n")
    (False, True, None)
    """
    text = text.replace("\r\n", "\n")
    found = _SEAL.search(text)
    if found is None:
        return None
    return found.group(1) != _body_digest(text)


def render_card(
    splits: Mapping[str, Dataset],
    record: Mapping[str, Any],
    *,
    data_files: Mapping[str, str],
    model_files: Mapping[str, str],
    pretty_name: str | None = None,
    license: str | list[str] = "other",
    task_categories: list[str] | None = None,
    user_description: str = "",
    load_path: str = "path/to/curated",
    load_revision: str | None = None,
    tasks: list[dict[str, Any]] | None = None,
) -> DatasetCard:
    """Build the :class:`huggingface_hub.DatasetCard` for a curated dataset.

    The YAML carries what ``push_to_hub`` would write (``configs`` pointing at ``data/<split>-*``,
    ``dataset_info`` with features and split sizes) plus Hub metadata and the ``weak_supervision`` block.
    ``tasks`` are the :func:`task_contexts` to show (computed when omitted); a task's ``plots`` entry
    (kind -> repo-relative PNG path, see :func:`mmweak.plots.write_task_plots`) puts its plots in the card.
    """
    if tasks is None:
        tasks = task_contexts(splits, record, model_files)
    sizes = {name: SplitSize(len(ds), int(ds.data.nbytes)) for name, ds in splits.items()}
    return render_card_from(
        sizes, next(iter(splits.values())).features, record, data_files=data_files, model_files=model_files,
        pretty_name=pretty_name, license=license, task_categories=task_categories, user_description=user_description,
        load_path=load_path, load_revision=load_revision, tasks=tasks,
    )


class SplitSize(NamedTuple):
    """Rows and in-memory Arrow bytes of one split, as the card's ``dataset_info`` states them."""

    rows: int
    nbytes: int


def render_card_from(
    sizes: Mapping[str, SplitSize],
    features: Features,
    record: Mapping[str, Any],
    *,
    data_files: Mapping[str, str],
    model_files: Mapping[str, str],
    tasks: list[dict[str, Any]],
    pretty_name: str | None = None,
    license: str | list[str] = "other",
    task_categories: list[str] | None = None,
    user_description: str = "",
    load_path: str = "path/to/curated",
    load_revision: str | None = None,
) -> DatasetCard:
    """:func:`render_card` from split sizes, features and task contexts, for data no process holds whole.

    ``mmweak.ray`` measures a dataset with streamed aggregations and renders its card through here, so
    both engines write the same card for the same numbers. ``load_revision`` (a Hub branch the card is pushed to)
    goes into the card's loading lines, which would otherwise read ``main``.
    """
    split_dict = SplitDict()
    for name, size in sizes.items():
        split_dict.add(SplitInfo(name=name, num_examples=size.rows, num_bytes=size.nbytes))
    info = DatasetInfo(features=features, splits=split_dict)
    card_data = DatasetCardData(
        license=license,
        annotations_creators=["machine-generated"],
        size_categories=[size_category(sum(size.rows for size in sizes.values()))],
        task_categories=task_categories or default_task_categories(record),
        pretty_name=pretty_name,
        tags=["weak-supervision", "mmweak"],
    )
    MetadataConfigs({"default": {"data_files": [{"split": s, "path": p} for s, p in data_files.items()]}}
                    ).to_dataset_card_data(card_data)
    DatasetInfosDict({"default": info}).to_dataset_card_data(card_data)
    card_data["weak_supervision"] = weak_supervision_block(record, model_files, tasks)

    names = ", ".join(code(t["name"]) for t in tasks) or "no tasks"
    summary = (
        f"Weakly supervised labels for {names}: {sum(len(t['lfs']) for t in tasks)} labeling functions over "
        f"{sum(size.rows for size in sizes.values())} rows in {len(sizes)} split(s)."
    )
    template = importlib.resources.files("mmweak.cards").joinpath(TEMPLATE).read_text(encoding="utf-8")
    train_split = "train" if "train" in sizes else next(iter(sizes))
    recipe = dict(record.get("recipe") or {})
    if recipe:  # the command that rebuilds it: the file, and the --set assignments the run was given
        recipe["save_as"] = recipe_file_name(recipe)
        recipe["command"] = rebuild_command(recipe.get("overrides") or [], recipe["save_as"])
        # such a path only resolves next to the original file (the shipped recipes read ../../shared/data that way)
        recipe["recipe_dir_paths"] = "${recipe_dir}" in str(recipe.get("text") or "")
    load_args = py(load_path) + (f", revision={py(load_revision)}" if load_revision else "")
    # The loader decodes every media cell of a batch, and the rows whose file is unreadable (what media LFs flag)
    # keep their labels: the snippet hands the raw bytes on, for the user's own transform to decode.
    media = [{"name": name, "kind": type(f).__name__} for name, f in (features or {}).items() if is_media(f)]
    snippet_values = [load_args, py(train_split), *(py(t["name"]) for t in tasks), *(py(m["name"]) for m in media),
                      recipe.get("text", ""), recipe.get("command", "")]
    env = jinja2.Environment(keep_trailing_newline=True)
    # Every name in the body goes through one of these: text, code span, or Python literal in the snippet.
    env.filters.update(md=md, code=code, py=py, user_markdown=user_markdown)
    content = env.from_string(template).render(
        card_data=card_yaml(card_data.to_dict()),
        pretty_name=pretty_name or "Curated weakly supervised dataset",
        summary=summary,
        user_description=user_description.strip(),
        splits=[{"name": s, "rows": size.rows} for s, size in sizes.items()],
        tasks=tasks,
        versions=package_versions(),
        load_args=load_args,
        train_split=train_split,
        media=media,
        fence=fence_for(*snippet_values),
        recipe=recipe,
        fmt=_fmt,
    )
    content = content.rstrip("\n") + f"\n\n{CARD_SEAL.format(_body_digest(content))}\n"
    card = DatasetCard(content)
    # DatasetCard.save() re-dumps the YAML with huggingface_hub's own dumper, which folds names holding line
    # separators; the exact text is kept here and written as is.
    card.mmweak_text = content  # type: ignore[attr-defined]  # our own attribute, read by curated.save
    return card
