"""Fit one label model per task on the training split and write probabilities, labels and confidence."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import Dataset, DatasetDict, Value
from sklearn.base import clone

from .columns import arrow_column, read_column, replace_columns, struct_list_field
from .columns import read_matrix as _votes
from .crowd_files import class_index
from .errors import MajorityFallbackWarning, OneClassLabelsWarning
from .fingerprint import stable_hash
from .gold import read_gold
from .labelmodels import LabelModel, create
from .labelmodels.decision import Objective, TieBreak
from .labelmodels.lf_estimates import estimated_lf_accuracies
from .labelmodels.loglinear import MAX_FIT_ROWS
from .labelmodels.votes import fit_sample
from .provenance import read_record, task_record, unrecorded_lfs, write_record
from .task import Task

ModelSpec = str | LabelModel | None
DEV_SPLITS = ("validation", "valid", "dev")


def aggregate(
    dataset: Dataset | DatasetDict,
    tasks: Sequence[Task | str] | Task | str | None = None,
    model: ModelSpec | Mapping[str, ModelSpec] = None,
    *,
    fit_split: str | None = None,
    dev_split: str | None = None,
    gold: str | Mapping[str, str] | None = None,
    class_balance: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
    seed: int | None = None,
    tie_break: TieBreak = "prior",
    objective: Objective | Mapping[str, Objective] | None = None,
    pos_label: int | str | Mapping[str, int | str] | None = None,
    reviewed: bool = True,
    fill_abstains: Literal["prior"] | None = None,
) -> Dataset | DatasetDict:
    """Fit a label model per task and write ``T_probs``, ``T_label`` and ``T_confidence`` to every split.

    Args:
        dataset: output of :func:`mmweak.apply_lfs` (has ``T_votes`` columns).
        tasks: tasks (or names) to aggregate; default: every task ``apply_lfs`` recorded.
        model: a label-model name, an unfitted model used as a template, a mapping task name ->
            either, or ``None`` for the recommended default.
        fit_split: split the models are fitted on (default ``train``, else the first split).
        dev_split: split whose ``gold`` labels are passed to ``fit`` as ``L_dev``/``y_dev``
            (default: the first of validation/valid/dev present with a gold column). Gold labels of
            the fit split itself are never used for fitting.
        gold: name of the gold-label column (or mapping task -> column), where one exists.
        class_balance: known class prior (or mapping task -> prior).
        seed: fit seed and tie-break seed (default: the ``random_state`` of the model template, where one is
            given, else 0; see :func:`resolve_seed`).
        tie_break: how ``T_label`` resolves tied top classes: ``"prior"`` (the tied class with the largest
            class balance), ``"random"`` (seeded) or ``"abstain"``.
            Rows where no LF voted are always ``-1``.
        objective: what ``T_label`` optimises (or mapping task -> objective): ``"accuracy"`` (the most
            likely class) or ``"f1"`` (the F1 of ``pos_label``: it is labelled wherever its probability
            reaches the cut the model learned on the fit split; right for rare classes whose F1 matters).
            The default model with gold dev rows also chooses its member by that F1, so its ``T_probs`` can
            differ; every other model's ``T_probs`` is the same either way. Default: a model template's own
            ``objective`` (``create("auto", objective="f1")``), else ``"accuracy"``.
        pos_label: the class whose F1 ``objective="f1"`` maximises, by name or index (or mapping task -> class).
            Default: a model template's own ``pos_label``, else class index 1. With ``objective="f1"`` and classes
            named by other numbers (ratings ``"1"``..``"5"``) an integer that is one class by index and another by
            name is refused as ambiguous: give the name as text.
        reviewed: use human review answers (the ``T_gold`` column that :mod:`mmweak.review` writes) of the
            fit split: those rows leave the unlabelled rows and join the gold dev rows, so the model fits with
            their labels clamped, and their ``T_probs``/``T_label``/``T_confidence`` become the human label
            (probability 1). Set False to fit on the votes alone.
        fill_abstains: ``"prior"`` labels rows where no LF voted with the most likely class of the label
            model's probabilities for such rows (its class balance, unless gold dev rows without a vote or its
            model of which LFs fall silent say otherwise), instead of ``-1``, as WRENCH scores them; the card
            says so, which class and how many rows.

    >>> import datasets, mmweak
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lf = mmweak.labeling_function(task=spam, inputs="text")(
    ...     lambda b: [1 if "http" in t else 0 for t in b["text"]])
    >>> ds = mmweak.apply_lfs(datasets.Dataset.from_dict({"text": ["http://x", "hi"]}), [lf])
    >>> list(mmweak.aggregate(ds, [spam], model="majority")["spam_label"])
    [1, 0]
    """
    record = read_record(dataset)
    task_list = resolve_tasks(record, tasks)
    splits = dict(dataset) if isinstance(dataset, DatasetDict) else {"train": dataset}
    columns = {name: d.column_names for name, d in splits.items()}
    fit_name = fit_split_name(fit_split, columns)
    if fill_abstains not in (None, "prior"):
        raise ValueError(f"fill_abstains must be None or 'prior', got {fill_abstains!r}")
    check_options(task_list, columns, model=model, gold=gold, class_balance=class_balance, objective=objective,
                  pos_label=pos_label)
    seed = resolve_seed(model, seed)
    for task in task_list:  # a gold value that is no class fails here, before any fit, not when the labels are saved
        gold_col = gold_column_of(gold, task)
        for name, d in splits.items():
            if gold_col is not None and gold_col in columns[name]:
                read_gold(d, gold_col, task, split=name)

    for task in task_list:  # a refit that silently loses the dev rows the labels were fitted with changes them
        before = (record.get("tasks", {}).get(task.name) or {}).get("gold_column")
        if before and gold_column_of(gold, task) is None:
            warnings.warn(f"task {task.name!r} was fitted with the gold dev rows of column {before!r}; this refit has "
                          f"no gold for it, so its labels may change: pass gold={{{task.name!r}: {before!r}}} to keep "
                          "them (or tasks=[...] to refit only the others)", stacklevel=2)
    out = dict(splits)
    options = {t.name: task_options(t, model, gold, class_balance, objective, pos_label) for t in task_list}
    for task in task_list:  # every task's options were checked above, before any model is fitted
        col = task.votes_column
        lm, gold_col, prior, decide = options[task.name]
        L = _votes(splits[fit_name], col)
        dev_name = dev_split_name(dev_split, columns, fit_name, gold_col)
        lm.set_params(random_state=seed)
        L_dev = y_dev = None
        n_dev = 0
        if dev_name is not None and gold_col is not None:
            y_dev = read_gold(splits[dev_name], gold_col, task, split=dev_name)
            keep = y_dev >= 0
            L_dev, y_dev = _votes(splits[dev_name], col)[keep], y_dev[keep]
            n_dev = int(keep.sum())
        review_col = human_gold_column(record.get("tasks", {}).get(task.name, {}), splits[fit_name], task)
        human = np.full(L.shape[0], -1, dtype=np.int64)
        if reviewed and review_col is not None:
            human = read_column(splits[fit_name], review_col, np.int64)
        rows = np.flatnonzero(human >= 0)
        _warn_reviews_outside_fit(record.get("tasks", {}).get(task.name, {}), splits, task, fit_name, reviewed)
        check_fit_rows(task.name, fit_name, L.shape[0], n_dev)
        if not (L != -1).any() and not n_dev and not rows.size:
            warnings.warn(f"task {task.name!r}: no LF voted on any row of the fit split {fit_name!r} "
                          f"({L.shape[0]} rows) and there are no gold dev rows: the label model learns nothing, and "
                          "every probability it writes is its prior", stacklevel=2)
        unseen = _classes_without_evidence(task, L, L_dev, y_dev, human[rows])
        if unseen:
            warnings.warn(
                f"task {task.name!r}: no LF votes class{'es' if len(unseen) > 1 else ''} {unseen} on the fit split "
                f"{fit_name!r}, and no gold or reviewed row holds {'them' if len(unseen) > 1 else 'it'}: only which "
                "LFs stay silent can point to such a class, and a model that reads abstains as evidence (Dawid–Skene, "
                "members of the default) may give it the rows of some pattern of silence. If the class is real, an LF "
                "for it (or a few gold rows) makes it learnable; if not, leave it out of the task's labels",
                stacklevel=2)
        at_random = drawn_at_random(record.get("tasks", {}).get(task.name, {}), splits[fit_name], task, rows)
        with warnings_name_task(task.name, fit_name):
            fit_with_reviews(lm, L, L_dev=L_dev, y_dev=y_dev, reviewed_rows=rows, reviewed_labels=human[rows],
                             class_balance=prior, reviewed_at_random=at_random)

        filled: dict[str, int] = {}
        # The class of the model's own probabilities for a row without votes, so a filled label never contradicts
        # the probability column next to it (the class balance, or what gold dev rows and the model say of them).
        silent_class = silent_label(lm, L.shape[1])
        for name in out:
            Ls = L if name == fit_name else _votes(splits[name], col)
            new = output_columns(task, lm, Ls, tie_break=tie_break, seed=seed, decide=decide)
            proba, labels = new[task.probs_column][0], new[task.label_column][0]
            if fill_abstains == "prior":
                empty = (Ls == -1).all(axis=1)
                labels[empty] = silent_class
                filled[name] = int(empty.sum())
            if name == fit_name and rows.size:  # reviewed rows carry their human label (clamped)
                proba[rows] = np.eye(task.cardinality, dtype=proba.dtype)[human[rows]]
                labels[rows] = human[rows]
                new[task.confidence_column][0][rows] = 1.0
            if name == fit_name and decide["objective"] == "f1":
                counts = np.bincount(labels[labels >= 0], minlength=task.cardinality)
                warn_if_f1_labels_everything(task, counts, int(decide["pos_label"]), fit_name)
            fp = stable_hash("aggregate", out[name]._fingerprint, task.name, lm.to_dict(), tie_break, seed, decide,
                             fill_abstains, rows.tolist() if name == fit_name else None)
            out[name] = replace_columns(out[name], new, fingerprint=fp)
        record_label_model(record, task, lm, fit_sample(L, MAX_FIT_ROWS, seed), gold_col=gold_col, split=fit_name,
                           rows=int(L.shape[0]), seed=seed,
                           tie_break=tie_break, decide=decide, dev_split=dev_name if n_dev else None, dev_rows=n_dev,
                           prior=prior, reviewed_rows=int(rows.size),
                           reviewed_chosen_rows=int((~at_random).sum()), fill_abstains=fill_abstains,
                           filled_rows=filled if fill_abstains else None,
                           filled_class=silent_class if fill_abstains else None)

    result: Dataset | DatasetDict = DatasetDict(out) if isinstance(dataset, DatasetDict) else out["train"]
    write_record(result, record)
    return result


#: Share of the fit split's rows the F1 rule may give its class before the labels are said to carry no ranking.
ALL_POSITIVE_SHARE = 0.99


def labels_everything(counts: Any, pos_label: int) -> float | None:
    """The share of labelled rows that hold ``pos_label`` when it is at least :data:`ALL_POSITIVE_SHARE`, else None.

    >>> labels_everything([3, 997], 1), labels_everything([300, 700], 1)
    (0.997, None)
    """
    c = np.asarray(counts, dtype=np.float64)
    share = float(c[pos_label] / c.sum()) if c.sum() else 0.0
    return share if share >= ALL_POSITIVE_SHARE else None


def warn_if_f1_labels_everything(task: Task, counts: Any, pos_label: int, split: str, stacklevel: int = 3) -> None:
    """Warn when the F1 rule gave ``pos_label`` to (nearly) every labelled row of ``split`` (``counts``: labels
    per class there; the local engine counts them as it writes them, the Ray engine when it measures the split).

    Labelling every row positive scores an F1 of 2p/(1+p) on a class of share p, which beats a label model whose
    ranking is poor (WRENCH's basketball: 18.3 on test, above every published method), so the F1 rule can pick it;
    such labels say nothing about which rows are positive, and a user training on them should know.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_if_f1_labels_everything(Task("event", ("no", "yes")), [0, 500], 1, "train")
    ...     warn_if_f1_labels_everything(Task("event", ("no", "yes")), [400, 100], 1, "train")
    >>> [str(w.message)[:62] for w in caught]
    ["task 'event': the F1 rule labels 100.0% of split 'train' 'yes'"]
    """
    share = labels_everything(counts, pos_label)
    if share is not None:
        warnings.warn(
            f"task {task.name!r}: the F1 rule labels {share:.1%} of split {split!r} {task.labels[pos_label]!r}: no cut "
            f"of the label model's probabilities gives a better F1 than labelling (nearly) every row "
            f"{task.labels[pos_label]!r}, so these labels do not tell which rows are {task.labels[pos_label]!r}. "
            "Argmax labels (objective='accuracy') or better LFs may serve training better", stacklevel=stacklevel)


def _classes_without_evidence(task: Task, L: np.ndarray, L_dev: np.ndarray | None, y_dev: np.ndarray | None,
                              reviewed: np.ndarray) -> list[str]:
    """Names of the classes nothing in the fit votes for or labels, where at least two others are voted (a binary
    task whose LFs name one class leaves the other to silence by design: no warning there)."""
    seen = np.zeros(task.cardinality, dtype=bool)
    for values in (L, L_dev, y_dev, reviewed):
        if values is not None and np.size(values):
            v = np.asarray(values).ravel()
            seen[np.unique(v[(v >= 0) & (v < task.cardinality)])] = True
    voted = np.zeros(task.cardinality, dtype=bool)
    v = np.asarray(L).ravel()
    voted[np.unique(v[v >= 0])] = True
    if task.cardinality < 3 or voted.sum() < 2:
        return []
    return [str(task.labels[int(k)]) for k in np.flatnonzero(~seen)]


def human_gold_column(entry: Mapping[str, Any], ds: Dataset, task: Task | str) -> str | None:
    """The column holding human review labels of ``task`` in ``ds`` (see :mod:`mmweak.review`), if any.

    The review record names it; without one (e.g. after ``apply_lfs`` renewed the record), the column
    ``T_gold`` counts only next to its ``T_answers`` column, so a user's own gold column is never mistaken
    for human review.
    """
    names = (entry.get("review") or {})
    name = task if isinstance(task, str) else task.name
    gold = names.get("gold_column") or f"{name}_gold"
    answers = names.get("answers_column") or f"{name}_answers"
    if gold in ds.column_names and (names.get("gold_column") or answers in ds.column_names):
        return gold
    return None


def _warn_reviews_outside_fit(entry: Mapping[str, Any], splits: Mapping[str, Dataset], task: Task, fit_name: str,
                              reviewed: bool) -> None:
    """Say that reviewed rows of splits other than the fit split teach nothing: only the fit split's human labels
    are clamped (``mmweak review --split test`` then ``mmweak answers`` stored 20 answers and refitted to the same
    labels, without a word)."""
    if not reviewed:
        return
    outside = {}
    for name, d in splits.items():
        col = human_gold_column(entry, d, task) if name != fit_name else None
        if col is not None:
            n = int((read_column(d, col, np.int64) >= 0).sum())
            if n:
                outside[name] = n
    if outside:
        where = ", ".join(f"{n} in split {s!r}" for s, n in outside.items())
        warnings.warn(f"task {task.name!r}: reviewed rows outside the fit split {fit_name!r} ({where}) do not teach "
                      "the label model, and their labels stay the model's: only the fit split's reviewed rows are "
                      "clamped (review rows of the fit split, or fit on the split that holds them)", stacklevel=3)


def drawn_at_random(entry: Mapping[str, Any], ds: Dataset, task: Task, rows: np.ndarray) -> np.ndarray:
    """Per reviewed row of ``rows``, whether it counts as drawn at random, read from the answers' strategies.

    A row one of whose answers was chosen by the ``random`` strategy was drawn at random; a row whose answers
    name another strategy (``entropy``, ``impact``...) was chosen for being hard; a row whose answers name none
    (answers not made by :func:`mmweak.review.select`) is taken as drawn at random, as every reviewed row was
    before strategies were recorded. A tie-break answer (``ties``) was asked of a row already chosen, so it does
    not change how that row was chosen.

    >>> import datasets
    >>> spam = Task("spam", ["ham", "spam"])
    >>> answers = [[{"strategy": "random"}], [{"strategy": "entropy"}], [{"strategy": ""}], [],
    ...            [{"strategy": ""}, {"strategy": "ties"}], [{"strategy": "entropy"}, {"strategy": "ties"}]]
    >>> ds = datasets.Dataset.from_dict({"spam_answers": answers})
    >>> drawn_at_random({}, ds, spam, np.array([0, 1, 2, 4, 5])).tolist()
    [True, False, True, True, False]
    """
    names = entry.get("review") or {}
    column = names.get("answers_column") or f"{task.name}_answers"
    at_random = np.ones(rows.size, dtype=bool)
    if column not in ds.column_names or not rows.size:
        return at_random
    data = arrow_column(ds, column).take(pa.array(rows))
    kind = struct_list_field(data.type, "strategy")
    # A column of another shape (a user's own, or all nulls) records no strategy: every row counts, as before.
    if not data.num_chunks or kind is None or not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return at_random
    answers = data.combine_chunks()
    flat = pc.list_flatten(answers)
    parent = pc.list_parent_indices(answers).to_numpy()
    strategy = pc.fill_null(flat.field("strategy"), "").to_numpy(zero_copy_only=False)
    named = np.bincount(parent, weights=(strategy != "") & (strategy != "ties"), minlength=rows.size) > 0
    random = np.bincount(parent, weights=(strategy == "random"), minlength=rows.size) > 0
    return random | ~named


def fit_with_reviews(
    model: LabelModel,
    L: np.ndarray,
    *,
    L_dev: np.ndarray | None = None,
    y_dev: np.ndarray | None = None,
    reviewed_rows: Sequence[int] | np.ndarray | None = None,
    reviewed_labels: Sequence[int] | np.ndarray | None = None,
    class_balance: Sequence[float] | None = None,
    reviewed_at_random: bool | Sequence[bool] | np.ndarray = True,
) -> LabelModel:
    """Fit ``model`` on the votes ``L`` with the human-reviewed rows clamped to their labels.

    Reviewed rows leave the unlabelled rows and join the gold dev rows (``L_dev``/``y_dev``), so each is
    counted once, with its posterior fixed to the human label; :func:`aggregate` and
    :func:`mmweak.review.simulate` fit through here.

    Args:
        model: an unfitted label model (fitted in place and returned).
        L: ``(n, m)`` votes of the fit split.
        L_dev, y_dev: gold dev rows from another split, if any.
        reviewed_rows: row numbers of ``L`` that people labelled; reviewed_labels: their labels.
        class_balance: passed to ``model.fit`` (the seed is the model's ``random_state``).
        reviewed_at_random: whether the reviewed rows were drawn at random (one flag, or one per row). Every
            reviewed label is clamped, but only rows drawn at random (and the dev rows) judge the fit
            (``dev_representative`` of :meth:`~mmweak.labelmodels.LabelModel.fit`): rows chosen for being hard
            are where majority vote does badly, and a fit judged on them looks better than it is.

    Returns:
        The fitted ``model``.

    Raises:
        ValueError: reviewed rows and labels differ in length, or a label is not a class of the model.

    Two LFs that always conflict: the votes alone cannot say which one to trust, three reviews can.

    >>> from mmweak.labelmodels import create
    >>> L = np.array([[1, 0]] * 6 + [[1, -1]] * 3 + [[-1, 0]] * 3)
    >>> create("dawid_skene").fit(L).predict_proba([[1, 0]]).round(2).tolist()
    [[0.5, 0.5]]
    >>> m = fit_with_reviews(create("dawid_skene"), L, reviewed_rows=[0, 1, 2], reviewed_labels=[1, 1, 1])
    >>> m.predict_proba([[1, 0]]).round(2).tolist()
    [[0.0, 1.0]]
    """
    rows = np.asarray([] if reviewed_rows is None else reviewed_rows, dtype=np.int64).ravel()
    labels = np.asarray([] if reviewed_labels is None else reviewed_labels, dtype=np.int64).ravel()
    if rows.size != labels.size:
        raise ValueError(f"{rows.size} reviewed rows but {labels.size} reviewed labels")
    if labels.size and (labels.min() < 0 or labels.max() >= model.cardinality):
        raise ValueError(
            f"reviewed labels must be classes 0..{model.cardinality - 1}, got {sorted(set(labels.tolist()))}")
    at_random = np.asarray(reviewed_at_random)
    if at_random.ndim > 1 or (at_random.ndim and at_random.shape != rows.shape) or (
            at_random.size and (at_random.dtype.kind not in "bui" or not np.isin(at_random, (0, 1)).all())):
        raise ValueError(f"reviewed_at_random must be True/False or one such flag per reviewed row ({rows.size}), got "
                         f"{reviewed_at_random!r}")
    at_random = np.broadcast_to(at_random.astype(bool), rows.shape)
    representative = None
    if rows.size:
        keep = np.ones(L.shape[0], dtype=bool)
        keep[rows] = False
        if keep.any():  # every row reviewed: the votes still describe the LFs, so keep them unlabelled too
            L_fit = L[keep]
        else:
            L_fit = L
        Ld, yd = L[rows], labels
        representative = at_random
        if L_dev is not None and y_dev is not None and len(y_dev):
            Ld, yd = np.concatenate([np.asarray(L_dev), Ld]), np.concatenate([np.asarray(y_dev, dtype=np.int64), yd])
            representative = np.concatenate([np.ones(len(y_dev), dtype=bool), at_random])
        L, L_dev, y_dev = L_fit, Ld, yd
    kwargs: dict[str, Any] = {"class_balance": class_balance}
    if L_dev is not None and y_dev is not None and len(y_dev):
        kwargs.update(L_dev=L_dev, y_dev=y_dev)
        if representative is not None and not representative.all():
            kwargs.update(dev_representative=representative)
    return model.fit(L, **kwargs)


def resolve_tasks(record: Mapping[str, Any], tasks: Sequence[Task | str] | Task | str | None) -> list[Task]:
    """The tasks to aggregate: those given (names looked up in ``record``), else every recorded one."""
    known = record.get("tasks", {})
    if tasks is None:
        if not known:
            raise ValueError("no tasks to aggregate: run mmweak.apply_lfs first or pass tasks=[...]")
        return [Task.from_dict(known[name]["task"]) for name in known]
    items = [tasks] if isinstance(tasks, (Task, str)) else list(tasks)
    task_list = []
    for t in items:
        if isinstance(t, str):
            if t not in known:
                raise ValueError(f"unknown task {t!r}; recorded tasks: {sorted(known)}")
            t = Task.from_dict(known[t]["task"])
        elif t.name in known and "task" in known[t.name]:
            recorded = Task.from_dict(known[t.name]["task"])
            if tuple(recorded.labels) != tuple(t.labels):  # its votes' class indices mean the recorded classes
                raise ValueError(f"task {t.name!r} has classes {list(t.labels)}, but its votes were written for "
                                 f"{list(recorded.labels)}: pass the task's name, or its classes in their order")
        task_list.append(t)
    return task_list


def fit_split_name(fit_split: str | None, columns: Mapping[str, Sequence[str]]) -> str:
    """The split label models are fitted on (default ``train``, else the first)."""
    fit_name = fit_split or ("train" if "train" in columns else next(iter(columns)))
    if fit_name not in columns:
        raise ValueError(f"fit_split {fit_name!r} not in splits {list(columns)}")
    return fit_name


def check_options(
    task_list: Sequence[Task], columns: Mapping[str, Sequence[str]], **options: Any
) -> None:
    """Per-task options name known tasks, gold columns exist, and every split has each task's votes."""
    names = {t.name for t in task_list}
    for what, value in options.items():
        if isinstance(value, Mapping) and not set(value) <= names:
            raise ValueError(f"{what} names unknown task(s) {sorted(set(value) - names)}; tasks are {sorted(names)}")
    gold = options.get("gold")
    if isinstance(gold, str) and len(task_list) > 1:
        # one task's gold read as another's: its class indices mean other classes there, and the fit and the scores
        # of that task follow them without a word
        raise ValueError(f"gold={gold!r} names one column for {len(task_list)} tasks ({', '.join(sorted(names))}); "
                         f"a gold column holds one task's labels: map each task to its own, e.g. "
                         f"gold={{{task_list[0].name!r}: {gold!r}}} (a task left out fits without gold)")
    for task in task_list:
        gold_col = gold_column_of(options.get("gold"), task)
        if gold_col is not None and not any(gold_col in cols for cols in columns.values()):
            raise ValueError(
                f"gold column {gold_col!r} (task {task.name!r}) is in no split; columns: "
                f"{sorted({c for cols in columns.values() for c in cols})}"
            )
    for task in task_list:
        for name, cols in columns.items():
            if task.votes_column not in cols:
                raise ValueError(
                    f"split {name!r} has no {task.votes_column!r} column; run mmweak.apply_lfs with the LFs of task "
                    f"{task.name!r} first"
                )


def gold_column_of(gold: str | Mapping[str, str] | None, task: Task) -> str | None:
    """The gold column of ``task`` that ``aggregate``'s ``gold`` names (one column for every task, or per task).

    >>> spam = Task("spam", ["ham", "spam"])
    >>> gold_column_of("y", spam), gold_column_of({"spam": "spam_y"}, spam), gold_column_of({"other": "y"}, spam)
    ('y', 'spam_y', None)
    """
    return gold.get(task.name) if isinstance(gold, Mapping) else gold


def _class_index(value: Any, task: Task) -> int | None:
    """``value`` as a class index of ``task``: an index, a whole float, a class name or an index written as text;
    ``None`` when it is none of them.

    >>> t = Task("spam", ["ham", "spam"])
    >>> [_class_index(v, t) for v in (1, 1.0, "SPAM", " 0 ", "1.0", "eggs", 2, 1.5, True, "¹", np.int8(1))]
    [1, 1, 1, 0, 1, None, None, None, None, None, 1]
    """
    named = task.class_of(value) if isinstance(value, str) else None
    if named is not None or value is None:
        return named
    number = class_index(value.item() if isinstance(value, np.generic) else value)  # as gold and votes are read
    return number if number is not None and 0 <= number < task.cardinality else None


def silent_label(lm: LabelModel, n_lfs: int) -> int:
    """The class a fitted label model finds most likely for a row without votes (``fill_abstains="prior"``): its
    own probabilities for such a row, so a filled label never contradicts the probability column beside it."""
    silent = lm.predict_proba(np.full((1, n_lfs), -1))
    return int(lm.labels_from_proba(silent, None, objective="accuracy")[0])  # "the most likely class", whatever model


def resolve_seed(model: Any, seed: int | None) -> int:
    """The fit and tie-break seed: ``seed``, else the ``random_state`` of the model template(s) given, else 0.

    A template configured with its own ``random_state`` keeps it, as its other settings are kept; templates that
    disagree need ``seed`` (one aggregate draws one fit sample and breaks ties with one seed).

    >>> from mmweak.labelmodels import create
    >>> resolve_seed(create("ebcc", random_state=7), None), resolve_seed(create("ebcc", random_state=7), 3)
    (7, 3)
    >>> resolve_seed("ebcc", None), resolve_seed({"spam": create("ebcc", random_state=2), "topic": "majority"}, None)
    (0, 2)
    """
    if seed is not None:
        return int(seed)
    given = model.values() if isinstance(model, Mapping) else [model]
    states = sorted({int(m.get_params()["random_state"]) for m in given if isinstance(m, LabelModel)})
    if len(states) > 1:
        raise ValueError(f"the model templates have different random_state values {states}: pass seed=... (one "
                         "aggregate fits with one seed)")
    return states[0] if states else 0


def task_options(
    task: Task, model: Any, gold: Any, class_balance: Any, objective: Any, pos_label: Any
) -> tuple[LabelModel, str | None, Any, dict[str, Any]]:
    """An unfitted label model, the gold column, the prior and the decision rule of one task."""
    gold_col = gold_column_of(gold, task)
    prior = class_balance.get(task.name) if isinstance(class_balance, Mapping) else class_balance
    goal = objective.get(task.name) if isinstance(objective, Mapping) else objective
    given = pos_label.get(task.name) if isinstance(pos_label, Mapping) else pos_label
    lm = _build(model.get(task.name) if isinstance(model, Mapping) else model, task)
    # What is not given comes from the model template, as its own predict does: a template configured for the
    # F1 rule was otherwise reset to argmax labels without a word.
    own = lm.get_params() if "objective" in lm.get_params() else {}
    goal = goal if goal is not None else own.get("objective") or "accuracy"
    if given is None:
        pos: int | None = int(own["pos_label"]) if own.get("pos_label") is not None else 1
    else:
        number = class_index(given.item() if isinstance(given, np.generic) else given)
        if goal == "f1" and task.numbers_name_classes and number is not None:
            if isinstance(given, str) and task.class_of(given) is None:  # text is read by name, and names none
                raise ValueError(f"pos_label {given!r} of task {task.name!r} names no class of {list(task.labels)}")
            named = task.class_of(str(number))
            if not isinstance(given, str) and named is not None and named != number and 0 <= number < task.cardinality:
                raise ValueError(f"pos_label {given!r} of task {task.name!r} is ambiguous: its classes "
                                 f"{list(task.labels)} are named by numbers, and {given!r} is class "
                                 f"{task.labels[number]!r} by index but class {task.labels[named]!r} by name; give "
                                 f"the class's name as text (pos_label={task.labels[named]!r} or "
                                 f"{task.labels[number]!r})")
        pos = _class_index(given, task)
    if pos is None and goal == "f1":
        raise ValueError(f"pos_label must be a class of task {task.name!r} {list(task.labels)} (a name or index "
                         f"0..{task.cardinality - 1}), got {given!r}")
    decide = {"objective": goal, "pos_label": 1 if pos is None else pos}  # unused unless the F1 rule decides
    if own:
        lm.set_params(objective=goal, pos_label=decide["pos_label"])
    return lm, gold_col, prior, decide


@contextmanager
def warnings_name_task(task: str, fit_name: str) -> Iterator[None]:
    """Prefix a label model's :class:`~mmweak.OneClassLabelsWarning` (and :class:`~mmweak.MajorityFallbackWarning`)
    with the task and fit split it was fitted
    for: the model's own message names the model only, and one aggregate fits one model per task (both engines).

    >>> import warnings
    >>> from mmweak.errors import OneClassLabelsWarning
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     with warnings_name_task("spam", "train"):
    ...         warnings.warn("EBCC labels every voted row ...", OneClassLabelsWarning)
    >>> str(caught[0].message)
    "task 'spam', fit split 'train': EBCC labels every voted row ..."
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", OneClassLabelsWarning)
        warnings.simplefilter("always", MajorityFallbackWarning)
        yield
    for w in caught:  # outside the block, so each goes to the filters the caller set
        if issubclass(w.category, (OneClassLabelsWarning, MajorityFallbackWarning)):
            warnings.warn(f"task {task!r}, fit split {fit_name!r}: {w.message}", w.category, stacklevel=3)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def check_fit_rows(task: str, fit_name: str, n_rows: int, n_dev: int) -> None:
    """Refuse a fit split without rows when there are no gold dev rows either: a label model fitted on nothing would
    label every other split from its starting values (a row whose only vote is 1 came out 0).

    >>> check_fit_rows("spam", "train", 0, 0)
    Traceback (most recent call last):
    ValueError: task 'spam': the fit split 'train' has no rows and there are no gold dev rows, so there is nothing \
to fit its label model on; pass fit_split= a split with rows, or gold dev rows (gold=, dev_split=)
    """
    if n_rows == 0 and n_dev == 0:
        raise ValueError(f"task {task!r}: the fit split {fit_name!r} has no rows and there are no gold dev rows, so "
                         f"there is nothing to fit its label model on; pass fit_split= a split with rows, or gold dev "
                         f"rows (gold=, dev_split=)")


def dev_split_name(
    dev_split: str | None, columns: Mapping[str, Sequence[str]], fit_name: str, gold_col: str | None
) -> str | None:
    """The split whose gold rows are passed to ``fit`` (the given one, else the first of :data:`DEV_SPLITS`)."""
    if dev_split is not None and dev_split not in columns:
        raise ValueError(f"dev_split {dev_split!r} not in splits {list(columns)}")
    if dev_split is not None and dev_split == fit_name:
        raise ValueError(f"dev_split {dev_split!r} is the split the label model is fitted on: its gold would be "
                         f"scored on the rows it was fitted to; give a held-out split (or review answers, "
                         f"reviewed=True, for the fit split's own gold)")
    name = dev_split or next(
        (s for s in DEV_SPLITS if s in columns and s != fit_name and gold_col in columns[s]), None
    )
    if name is not None and gold_col is not None and gold_col not in columns[name]:
        raise ValueError(f"dev split {name!r} has no gold column {gold_col!r}")
    return name


def output_columns(
    task: Task, lm: LabelModel, L: np.ndarray, *, tie_break: TieBreak, seed: int, decide: Mapping[str, Any]
) -> dict[str, tuple[np.ndarray, Any]]:
    """``T_probs``, ``T_label`` and ``T_confidence`` of rows with votes ``L`` (values and features)."""
    proba = lm.predict_proba(L)
    labels = lm.labels_from_proba(proba, L, tie_break=tie_break, seed=seed, **decide)
    return {
        task.probs_column: (proba.astype(np.float32), task.probs_feature()),
        task.label_column: (labels.astype(np.int64), task.class_label()),
        task.confidence_column: (proba.max(axis=1).astype(np.float32), Value("float32")),
    }


def record_label_model(
    record: dict[str, Any], task: Task, lm: LabelModel, votes: np.ndarray, *, gold_col: str | None, split: str,
    rows: int, seed: int,
    tie_break: str, decide: Mapping[str, Any], dev_split: str | None, dev_rows: int, prior: Any,
    **fit_extra: Any,
) -> None:
    """Enter a fitted label model (parameters, fit settings, estimates) into the task's record entry; ``votes``
    (the rows the models fit on: the fit split, or its seeded sample) give each LF's estimated accuracy."""
    # A recipe's entry says how the labels were made; refitted outside it, its rebuild command would make other ones.
    # (curate enters its recipe after its own aggregate.)
    record.pop("recipe", None)
    decide = dict(decide)
    entry = task_record(record, task.name)
    entry.setdefault("task", task.to_dict())
    if "lfs" not in entry:
        entry["lfs"] = unrecorded_lfs(task.name, task.votes_column, int(lm.n_lfs_), stacklevel=4)  # aggregate's caller
    est = estimated_lf_accuracies(lm, votes)  # where each LF votes, comparable with its accuracy on gold rows
    if decide["objective"] == "f1":  # the card states the cut without needing the model file
        cuts = getattr(lm, "f1_thresholds_", None)
        if cuts is not None:
            decide["f1_threshold"] = float(np.asarray(cuts, dtype=float)[decide["pos_label"]])
    entry["label_model"] = {
        **lm.to_dict(),
        "fit": {
            "split": split, "rows": rows, "seed": seed, "tie_break": tie_break, **decide,
            "dev_split": dev_split, "dev_rows": dev_rows, "class_balance_given": prior is not None, **fit_extra,
        },
        "class_balance": np.asarray(lm.class_balance_, dtype=float).tolist(),
        "lf_accuracies": est,
    }
    if gold_col is not None:
        entry["gold_column"] = gold_col


def _build(spec: ModelSpec, task: Task) -> LabelModel:
    """A fresh model for ``task``."""
    if spec is None or isinstance(spec, str):
        lm = create(spec, cardinality=task.cardinality)
    elif isinstance(spec, LabelModel):
        if spec.cardinality != task.cardinality:
            raise ValueError(
                f"label model {spec!r} has cardinality {spec.cardinality} but task {task.name!r} "
                f"has {task.cardinality} classes"
            )
        lm = clone(spec)  # a fresh copy per task: the template is never fitted in place
    else:
        raise TypeError(f"model must be a name, a LabelModel or None, got {type(spec).__name__}")
    return lm

