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

from dataclasses import dataclass
from typing import Any, Literal, Mapping, Sequence

import numpy as np
from datasets import Dataset

from .aggregate import silent_label
from .columns import read_column, read_matrix
from .errors import FIT_FIRST
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
                f"no {task.label_column!r} column to compare with: {FIT_FIRST}"
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


@dataclass(frozen=True)
class RefitSettings:
    """How :func:`marginal_value` refits: the label model template and the decision rule of the labels.

    From a dataset's record (:meth:`recorded`) they are those its labels were made with, so the ``(all LFs)`` row
    scores the same kind of labels as the curated ones (without their gold dev rows).
    """

    model: Any  # a label-model name (None: the default) or an unfitted LabelModel template
    seed: int = 0
    tie_break: str = "prior"
    objective: str = "accuracy"
    pos_label: int = 1
    fill_abstains: str | None = None
    class_balance: Any = None

    @classmethod
    def recorded(cls, ds: Dataset, task: Task, model: str | None = None, seed: int | None = None) -> "RefitSettings":
        """The settings ``ds``'s labels of ``task`` were made with; ``model``/``seed`` replace the recorded ones.

        >>> import datasets
        >>> spam = Task("spam", ["ham", "spam"])
        >>> RefitSettings.recorded(datasets.Dataset.from_dict({"x": [1]}), spam, seed=3)  # nothing recorded
        RefitSettings(model=None, seed=3, tie_break='prior', objective='accuracy', pos_label=1, fill_abstains=None, \
class_balance=None)
        """
        from .labelmodels import create

        lm = (read_record(ds).get("tasks", {}).get(task.name) or {}).get("label_model") or {}
        fit = lm.get("fit") or {}
        template: Any = model
        if model is None and lm.get("model"):
            template = create(lm["model"], **(lm.get("params") or {}))  # name and parameters as recorded
        return cls(
            model=template, seed=int(fit.get("seed", 0) if seed is None else seed),
            tie_break=str(fit.get("tie_break", "prior")), objective=str(fit.get("objective", "accuracy")),
            pos_label=int(fit.get("pos_label", 1)), fill_abstains=fit.get("fill_abstains"),
            class_balance=lm.get("class_balance") if fit.get("class_balance_given") else None,
        )

    def build(self, cardinality: int) -> Any:
        from sklearn.base import clone

        from .labelmodels import create

        lm = (create(self.model, cardinality=cardinality) if self.model is None or isinstance(self.model, str)
              else clone(self.model))
        lm.set_params(random_state=self.seed)
        if "objective" in lm.get_params():  # a model that selects by its labels' metric is told theirs
            lm.set_params(objective=self.objective, pos_label=self.pos_label)
        return lm

    def labels(self, lm: Any, L: np.ndarray) -> np.ndarray:
        """Hard labels of ``L`` as ``aggregate`` decides them with these settings."""
        labels = lm.labels_from_proba(lm.predict_proba(L), L, tie_break=self.tie_break, seed=self.seed,
                                      objective=self.objective, pos_label=self.pos_label)
        if self.fill_abstains == "prior":
            labels[(L == ABSTAIN).all(axis=1)] = silent_label(lm, L.shape[1])
        return labels


def marginal_value(
    fit: Dataset,
    task: Task | str,
    *,
    evaluate: Dataset,
    gold: str | None = None,
    model: str | None = None,
    seed: int | None = None,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """What each LF adds: the label model refitted without it, scored on ``evaluate``'s gold.

    The model is the one the labels were made with (its recorded name and parameters, seed, tie-break, decision
    rule and ``fill_abstains``), unless ``model`` names another; ``gold`` defaults to the recorded gold column.
    One row per LF after a first row ``(all LFs)``: accuracy and coverage of the labels, their change when that LF
    is left out (positive ``delta_accuracy`` = the LF helps) with its standard error over the gold rows (the
    change in right answers is paired row by row), ``f1``/``delta_f1`` of the F1 rule's class where the labels
    are decided for it, and ``member``, what the default chose in that refit (a change of member moves the
    figures too). Accuracy counts unlabelled rows as wrong, as the card does. Every fit sees ``fit``'s votes
    alone, no gold dev rows, so ``evaluate``'s gold is scored and never fitted: where the curated labels used that
    gold as dev rows, their accuracy can be higher than the ``(all LFs)`` row.

    >>> import datasets, mmweak
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> rules = {"link": lambda t: 1 if "http" in t else -1, "short": lambda t: 0 if len(t) < 8 else -1}
    >>> lfs = [mmweak.labeling_function(task=spam, inputs="text", name=n)(lambda b, f=f: [f(t) for t in b["text"]])
    ...        for n, f in rules.items()]
    >>> ds = mmweak.apply_lfs(datasets.Dataset.from_dict({"text": ["http://a", "hi", "long text", "http"] * 5,
    ...                                                   "y": [1, 0, 0, 1] * 5}), lfs)
    >>> rows = marginal_value(ds, spam, evaluate=ds, gold="y", model="majority")
    >>> rows[0]["accuracy"], [(r["lf"], r["delta_accuracy"], r["rows"]) for r in rows[:1]]
    (0.5, [('(all LFs)', 0.0, 20)])
    >>> [(r["lf"], r["accuracy_without"], r["delta_accuracy"]) for r in rows[1:]]  # "http" ties: prior, ham
    [('link', 0.25, 0.25), ('short', 0.5, 0.0)]
    """
    from tqdm.auto import tqdm

    from .analysis import label_metrics

    task = _task(fit, task)
    names = lf_names(fit, task)
    settings = RefitSettings.recorded(fit, task, model, seed)
    if gold is None:
        gold = (read_record(fit).get("tasks", {}).get(task.name) or {}).get("gold_column")
        if gold is None:
            raise ValueError(f"task {task.name!r} records no gold column: name one with gold=")
    if gold not in evaluate.column_names:
        raise ValueError(f"no gold column {gold!r} in the evaluation split; its columns: {evaluate.column_names}")
    L_fit = read_matrix(fit, task.votes_column)
    L_eval = read_matrix(evaluate, task.votes_column)
    y = read_gold(evaluate, gold, task)
    known = y >= 0
    if not known.any():
        raise ValueError(f"gold column {gold!r} has no gold label in the evaluation split ({len(y)} rows)")
    f1_of = settings.pos_label if settings.objective == "f1" else None
    bar = tqdm(total=len(names) + 1, desc=f"mmweak value ({task.name})", disable=not progress)

    def score(keep: Sequence[int]) -> dict[str, Any]:
        if not keep:  # nothing left to vote: every row unlabelled
            labels = np.full(L_eval.shape[0], ABSTAIN, dtype=np.int64)
            member = None
        else:
            lm = settings.build(task.cardinality).fit(L_fit[:, keep], class_balance=settings.class_balance)
            labels = settings.labels(lm, L_eval[:, keep])
            member = getattr(lm, "selected_", None)
        bar.update(1)
        m = label_metrics(labels, y, task.cardinality)
        return {"accuracy": m["accuracy"], "coverage": m["coverage"], "member": member,
                "f1": None if f1_of is None else m["f1"][f1_of], "right": labels[known] == y[known]}

    everything = list(range(len(names)))
    with bar:
        base = score(everything)
        rows = [{"lf": "(all LFs)", "accuracy": base["accuracy"], "coverage": base["coverage"], "f1": base["f1"],
                 "member": base["member"], "rows": int(known.sum()), "delta_accuracy": 0.0, "delta_se": 0.0,
                 "delta_coverage": 0.0}]
        for j, name in enumerate(names):
            without = score([k for k in everything if k != j])
            diff = base["right"].astype(np.float64) - without["right"]
            rows.append({
                "lf": name,
                "accuracy_without": without["accuracy"],
                "coverage_without": without["coverage"],
                "member": without["member"],
                "delta_accuracy": base["accuracy"] - without["accuracy"],
                "delta_se": float(diff.std(ddof=1) / np.sqrt(diff.size)) if diff.size > 1 else 0.0,
                "delta_coverage": base["coverage"] - without["coverage"],
                **({} if f1_of is None else {"f1_without": without["f1"], "delta_f1": base["f1"] - without["f1"]}),
            })
    return rows


def show(
    ds: Dataset, rows: Sequence[int] | np.ndarray, columns: Sequence[str] | None = None, width: int = 100
) -> list[dict[str, Any]]:
    """The given rows as dicts of readable values: text and lists as is (cut at ``width`` characters), class labels
    by name (``None`` for -1), media as their path.

    >>> import datasets
    >>> ds = datasets.Dataset.from_dict({"text": ["a" * 200, "b"], "y": [1, -1]},
    ...     features=datasets.Features({"text": datasets.Value("string"), "y": datasets.ClassLabel(names=["1", "2"])}))
    >>> [(len(r["text"]), r["y"]) for r in show(ds, [0, 1])]
    [(100, '2'), (1, None)]
    """
    from datasets import ClassLabel

    cols = list(columns) if columns else [c for c in ds.column_names if not c.endswith(("_votes", "_probs"))]
    # Arrow rows of just these rows: no progress bar and no copy of the rest (select + flatten_indices made both)
    table = ds.select_columns(cols).with_format("arrow")[[int(r) for r in rows]] if len(rows) else None
    out = []
    for i, rec in enumerate(table.to_pylist() if table is not None else []):
        item: dict[str, Any] = {"row": int(rows[i])}
        for c in cols:
            v = rec[c]
            feature = ds.features.get(c)
            if isinstance(feature, ClassLabel) and isinstance(v, int):
                v = feature.names[v] if 0 <= v < len(feature.names) else None
            elif isinstance(v, Mapping) and ("path" in v or "bytes" in v):  # Image / Audio cells
                v = v.get("path") or f"<{len(v.get('bytes') or b'')} bytes>"
            elif isinstance(v, str) and len(v) > width:
                v = v[: width - 1] + "…"
            elif isinstance(v, list) and len(repr(v)) > width:
                v = repr(v)[: width - 1] + "…"
            item[c] = v
        out.append(item)
    return out
