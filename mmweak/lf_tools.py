"""The inner loop of writing LFs: where an LF fires, abstains, is wrong or disagrees, what nothing covers,
and what each LF is worth to the label model.

All of it reads the votes already in the dataset (``T_votes``, and ``T_label`` after ``aggregate``), so it
costs nothing beyond numpy: change one LF, re-run ``apply_lfs`` (the other LFs come from the cache) and
look again.

>>> import datasets, mmweak
>>> spam = mmweak.Task("spam", ["ham", "spam"])
>>> link = mmweak.labeling_function(task=spam, inputs="text", name="link")(
...     lambda b: [1 if "http" in t else -1 for t in b["text"]])
>>> short = mmweak.labeling_function(task=spam, inputs="text", name="short")(
...     lambda b: [0 if len(t) < 8 else -1 for t in b["text"]])
>>> ds = mmweak.apply_lfs(datasets.Dataset.from_dict({"text": ["http://a", "hi", "long text here", "http"]}),
...                       [link, short])
>>> rows_where(ds, spam, "link", "fires").tolist(), coverage_gaps(ds, spam).tolist()
([0, 3], [2])
>>> {k: v.tolist() for k, v in label_buckets(ds, spam, "link", versus="short").items()}
{(-1, -1): [2], (-1, 0): [1], (1, -1): [0], (1, 0): [3]}
"""

from __future__ import annotations

from typing import Any, Literal, Mapping, Sequence

import numpy as np
from datasets import Dataset

from .columns import read_column, read_matrix
from .gold import read_gold
from .lf import ABSTAIN
from .provenance import read_record
from .task import Task

Kind = Literal["fires", "abstains", "wrong", "right", "disagrees"]
Versus = str | None  # another LF's name, "label_model", "gold", or None (the LF alone)


def lf_names(ds: Dataset, task: Task | str) -> list[str]:
    """The task's LF names in vote-column order, from the weak-supervision record."""
    name = task.name if isinstance(task, Task) else task
    entry = read_record(ds).get("tasks", {}).get(name)
    if not entry:
        raise ValueError(f"the dataset has no LF votes for task {name!r}; run mmweak.apply_lfs first")
    return [lf["name"] for lf in entry["lfs"]]


def _task(ds: Dataset, task: Task | str) -> Task:
    if isinstance(task, Task):
        return task
    entry = read_record(ds).get("tasks", {}).get(task)
    if not entry:
        raise ValueError(f"unknown task {task!r}; recorded tasks: {sorted(read_record(ds).get('tasks', {}))}")
    return Task.from_dict(entry["task"])


def _column(ds: Dataset, task: Task, lf: str) -> np.ndarray:
    names = lf_names(ds, task)
    if lf not in names:
        raise ValueError(f"task {task.name!r} has no LF {lf!r}; its LFs are {names}")
    return read_matrix(ds, task.votes_column)[:, names.index(lf)].astype(np.int64)


def _other(ds: Dataset, task: Task, versus: str, gold: str | None) -> np.ndarray:
    if versus == "label_model":
        if task.label_column not in ds.column_names:
            raise ValueError(
                f"no {task.label_column!r} column: run mmweak.aggregate before comparing with the label model"
            )
        return read_column(ds, task.label_column, np.int64)
    if versus == "gold":
        if gold is None or gold not in ds.column_names:
            raise ValueError(f"comparing with gold needs gold= naming a column; columns: {ds.column_names}")
        return read_gold(ds, gold, task)
    return _column(ds, task, versus)


def label_buckets(
    ds: Dataset, task: Task | str, lf: str, *, versus: Versus = "label_model", gold: str | None = None
) -> dict[tuple[int, int] | tuple[int], np.ndarray]:
    """Row indices grouped by (the LF's vote, the other side's vote), like Snorkel's ``get_label_buckets``.

    ``versus`` is another LF's name, ``"label_model"`` (``T_label``), ``"gold"`` (with ``gold=``) or ``None``
    (buckets keyed by the LF's vote alone). ``-1`` is abstain on either side.
    """
    task = _task(ds, task)
    mine = _column(ds, task, lf)
    if versus is None:
        return {(int(v),): np.flatnonzero(mine == v) for v in np.unique(mine)}
    other = _other(ds, task, versus, gold)
    pairs = mine * (task.cardinality + 1) + (other + 1)
    out: dict[tuple[int, int] | tuple[int], np.ndarray] = {}
    for code in np.unique(pairs):
        a, b = divmod(int(code), task.cardinality + 1)
        out[(a, b - 1)] = np.flatnonzero(pairs == code)
    return out


def rows_where(
    ds: Dataset, task: Task | str, lf: str, kind: Kind, *, versus: Versus = "label_model", gold: str | None = None
) -> np.ndarray:
    """Rows where ``lf`` fires, abstains, is right/wrong on ``gold``, or disagrees with ``versus`` (both voting)."""
    task = _task(ds, task)
    mine = _column(ds, task, lf)
    if kind == "fires":
        return np.flatnonzero(mine != ABSTAIN)
    if kind == "abstains":
        return np.flatnonzero(mine == ABSTAIN)
    if kind in ("wrong", "right"):
        y = _other(ds, task, "gold", gold)
        known = (mine != ABSTAIN) & (y >= 0)
        return np.flatnonzero(known & ((mine != y) if kind == "wrong" else (mine == y)))
    if kind == "disagrees":
        if versus is None:
            raise ValueError("kind='disagrees' needs versus= (an LF, 'label_model' or 'gold')")
        other = _other(ds, task, versus, gold)
        return np.flatnonzero((mine != ABSTAIN) & (other != ABSTAIN) & (mine != other))
    raise ValueError(f"kind must be one of fires, abstains, wrong, right, disagrees; got {kind!r}")


def coverage_gaps(ds: Dataset, task: Task | str, n: int | None = None, *, seed: int = 0) -> np.ndarray:
    """Rows no LF votes on (a seeded sample of ``n`` of them, in row order, when ``n`` is given)."""
    task = _task(ds, task)
    L = read_matrix(ds, task.votes_column)
    gaps = np.flatnonzero((L == ABSTAIN).all(axis=1))
    if n is not None and len(gaps) > n:
        gaps = np.sort(np.random.default_rng(seed).choice(gaps, size=n, replace=False))
    return gaps


def marginal_value(
    fit: Dataset,
    task: Task | str,
    *,
    evaluate: Dataset,
    gold: str,
    model: str | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """What each LF adds: the label model refitted without it, scored on ``evaluate``'s gold.

    One row per LF (and a first row ``(all LFs)``): accuracy and coverage of the labels, and their change
    when that LF is left out (positive ``delta_accuracy`` = the LF helps). Accuracy counts unlabelled rows
    as wrong, as the card does. Every fit sees ``fit``'s votes alone, no gold dev rows, so ``evaluate``'s gold is
    scored and never fitted: where the curated labels used that gold as dev rows, their accuracy can be higher than
    the ``(all LFs)`` row.
    """
    from .analysis import label_metrics
    from .labelmodels import create

    task = _task(fit, task)
    names = lf_names(fit, task)
    L_fit = read_matrix(fit, task.votes_column)
    L_eval = read_matrix(evaluate, task.votes_column)
    y = read_gold(evaluate, gold, task)

    def score(keep: Sequence[int]) -> dict[str, float]:
        lm = create(model, cardinality=task.cardinality, random_state=seed).fit(L_fit[:, keep])
        m = label_metrics(lm.predict(L_eval[:, keep]), y, task.cardinality)
        return {"accuracy": m["accuracy"], "coverage": m["coverage"]}

    everything = list(range(len(names)))
    base = score(everything)
    rows = [{"lf": "(all LFs)", **base, "delta_accuracy": 0.0, "delta_coverage": 0.0}]
    for j, name in enumerate(names):
        without = score([k for k in everything if k != j]) if len(names) > 1 else {"accuracy": 0.0, "coverage": 0.0}
        rows.append(
            {
                "lf": name,
                "accuracy_without": without["accuracy"],
                "coverage_without": without["coverage"],
                "delta_accuracy": base["accuracy"] - without["accuracy"],
                "delta_coverage": base["coverage"] - without["coverage"],
            }
        )
    return rows


def show(
    ds: Dataset, rows: Sequence[int] | np.ndarray, columns: Sequence[str] | None = None, width: int = 100
) -> list[dict[str, Any]]:
    """The given rows as dicts of readable values: text as is (cut at ``width``), media as their path."""
    cols = list(columns) if columns else [c for c in ds.column_names if not c.endswith(("_votes", "_probs"))]
    sub = ds.select([int(r) for r in rows]).select_columns(cols)
    table = sub.data.table if sub._indices is None else sub.flatten_indices().data.table
    out = []
    for i, rec in enumerate(table.to_pylist()):
        item: dict[str, Any] = {"row": int(rows[i])}
        for c in cols:
            v = rec[c]
            if isinstance(v, Mapping) and ("path" in v or "bytes" in v):  # Image / Audio cells
                v = v.get("path") or f"<{len(v.get('bytes') or b'')} bytes>"
            elif isinstance(v, str) and len(v) > width:
                v = v[: width - 1] + "…"
            item[c] = v
        out.append(item)
    return out
