"""The card's measurements of a Ray dataset, aggregated from its blocks: no row is collected on the driver.

Each block is reduced in a worker to a few numbers per task — :func:`mmweak.analysis.lf_counts` on the
split the LF table describes, curated-label counts, its in-memory size — plus the rows that have gold,
reduced to their votes, label, gold and probabilities (what label quality and calibration are measured
on; gold is usually a small labelled subset). The driver sums the counts in source order and hands them
to the same functions :func:`mmweak.card.measure_task` uses, so the card states the same numbers as a
local :func:`mmweak.save_curated` of the same rows.
"""

from __future__ import annotations

import pickle
from typing import Any, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..aggregate import warn_if_f1_labels_everything
from ..analysis import lf_counts, lf_rows, lf_summary
from ..card import GOLD_SPLIT_ORDER, f1_fit_class, f1_fit_split_counts, gold_quality, label_count_entry, stats_split_of
from ..gold import gold_from_arrow
from ..task import Task
from .fit import votes_matrix
from .meta import ROW_COLUMN, Meta
from .run import batches, prepare


def measure_split(rds: Any, meta: Meta, record: Mapping[str, Any], split_names: list[str]) -> dict[str, Any]:
    """Rows, in-memory bytes and per-task counts and gold rows of one split, summed over its blocks in order."""
    plan = []
    for name, entry in record["tasks"].items():
        t = Task.from_dict(entry["task"])
        gold = entry.get("gold_column")
        plan.append({
            "task": name, "K": t.cardinality, "m": len(entry["lfs"]), "votes": t.votes_column,
            "label": t.label_column if t.label_column in meta.features else None,
            "probs": t.probs_column if t.probs_column in meta.features else None,
            "gold": gold if gold and gold in meta.features else None,
            "gold_read": (meta.features[gold], t, f"gold column {gold!r} of split {meta.split!r}")
            if gold and gold in meta.features else None,
            "lf_counts": stats_split_of(entry, split_names) == meta.split,
        })
    total: dict[str, Any] = {"rows": 0, "nbytes": 0, "tasks": {p["task"]: {} for p in plan}}
    reduced = prepare(rds).map_batches(_reduce_block, fn_kwargs={"plan": plan}, batch_size=None,
                                       batch_format="pyarrow", zero_copy_batch=True)
    for table in batches(reduced):
        for blob in table.column("stats").to_pylist():
            _merge(total, pickle.loads(blob))
    for p in plan:
        acc = total["tasks"][p["task"]]
        gold = acc.pop("gold_parts", None)
        if gold:
            acc["gold_rows"] = {k: np.concatenate([g[k] for g in gold]) for k in gold[0]}
    return total


def _reduce_block(table: pa.Table, plan: list[dict[str, Any]]) -> pa.Table:
    out: dict[str, Any] = {"rows": table.num_rows, "nbytes": int(table.drop_columns([ROW_COLUMN]).nbytes),
                           "tasks": {}}
    for p in plan:
        acc: dict[str, Any] = {}
        L = votes_matrix(table.column(p["votes"]), p["m"])
        if p["lf_counts"]:
            acc["lf_counts"] = lf_counts(L, p["K"])
        labels = None
        if p["label"]:
            labels = pc.fill_null(table.column(p["label"]), -1).to_numpy().astype(np.int64)
            acc["label_counts"] = np.bincount(labels[labels >= 0], minlength=p["K"])[: p["K"]]
            acc["abstain"] = int((labels < 0).sum())
        if p["gold"]:
            y = gold_from_arrow(table.column(p["gold"]), *p["gold_read"])  # as the local engine reads gold
            keep = y >= 0
            part = {"L": L[keep], "y": y[keep]}
            if labels is not None:
                part["labels"] = labels[keep]
            if p["probs"]:
                part["probs"] = _float_matrix(table.column(p["probs"]), p["K"])[keep]
            acc["gold_parts"] = [part]
        out["tasks"][p["task"]] = acc
    return pa.table({"stats": pa.array([pickle.dumps(out)], pa.binary())})


def _float_matrix(column: pa.ChunkedArray, k: int) -> np.ndarray:
    parts = [c.flatten().to_numpy(zero_copy_only=False) for c in column.chunks if len(c)]
    flat = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return flat.reshape(-1, k)


def _merge(total: dict[str, Any], part: dict[str, Any]) -> None:
    total["rows"] += part["rows"]
    total["nbytes"] += part["nbytes"]
    for name, acc in part["tasks"].items():
        into = total["tasks"][name]
        for key, value in acc.items():
            if key == "gold_parts":
                into.setdefault(key, []).extend(value)
            elif key == "lf_counts":
                cur = into.get(key)
                into[key] = value if cur is None else {k: cur[k] + value[k] for k in cur}
            else:
                into[key] = value if key not in into else into[key] + value


def task_measures(entry: Mapping[str, Any], split_stats: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """:func:`mmweak.card.measure_task`'s dict for one task, from :func:`measure_split` of every split."""
    t = Task.from_dict(entry["task"])
    K = t.cardinality
    names = [lf["name"] for lf in entry["lfs"]]
    lm = entry.get("label_model")
    split_names = list(split_stats)
    stats_split = stats_split_of(entry, split_names)
    dev_split = (lm or {}).get("fit", {}).get("dev_split")
    acc = {s: split_stats[s]["tasks"][t.name] for s in split_names}
    counts = acc[stats_split].get("lf_counts") or lf_counts(np.zeros((0, len(names)), np.int8), K)
    rows = lf_rows(counts, names, (lm or {}).get("lf_accuracies"))
    gold_col = entry.get("gold_column")
    gold_split = None
    if gold_col:
        for s in [*GOLD_SPLIT_ORDER, *split_names]:
            if s in acc and "gold_rows" in acc[s] and acc[s]["gold_rows"]["y"].size:
                gold_split = s
                break
    if gold_split:
        g = acc[gold_split]["gold_rows"]
        for r, gr in zip(rows, lf_summary(g["L"], K, names=names, y=g["y"])):
            r["empirical_accuracy"] = gr["empirical_accuracy"]
    quality, calibration, label_counts = [], [], []
    for s in split_names:
        a = acc[s]
        if "label_counts" not in a:
            continue
        label_counts.append(label_count_entry(s, a["label_counts"], a["abstain"]))
        g = a.get("gold_rows")
        if g is not None and g["y"].size and "probs" in g:
            q, c = gold_quality(s, g["labels"], g["y"], g["probs"], K, used=s == dev_split, votes=g.get("L"),
                                f1_of=f1_fit_class(lm))
            quality.append(q)
            calibration.append(c)
    f1_fit = f1_fit_split_counts(lm, label_counts)
    if f1_fit:  # the labels were written lazily: counted only now
        warn_if_f1_labels_everything(t, *f1_fit, stacklevel=2)
    return {"stats_split": stats_split, "gold_split": gold_split, "lfs": rows, "label_counts": label_counts,
            "quality": quality, "calibration": calibration}
