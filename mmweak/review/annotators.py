"""Annotators as a label source: a column of ``{annotator, label}`` lists becomes one "LF" per annotator.

Several people labelling the same rows disagree, like LFs do, and the label models aggregate them the same
way (Dawid–Skene and EBCC were made for exactly this). :func:`add_annotator_votes` appends one vote column
per annotator to the task's ``T_votes`` (abstain where that person did not answer the row), records each
as an LF of modality ``human``, and drops the task's earlier label-model outputs, which no longer match
the votes: run :func:`mmweak.aggregate` next.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any, Mapping

import numpy as np
from datasets import ClassLabel, Dataset, DatasetDict

from ..columns import read_matrix, replace_columns, split_dict
from ..crowd_files import id_order
from ..fingerprint import stable_hash
from ..gold import class_label_order
from ..provenance import HUMAN_KIND, read_record, task_record, unrecorded_lfs, write_record
from ..task import Task
from .answers import answers_column
from .errors import AnnotationError

#: ``kind`` of the LF entries this module records (how it, and apply_lfs, recognise its columns).
KIND = HUMAN_KIND


def _label(value: Any, task: Task, where: str, reading: "_Reading") -> int:
    if isinstance(value, str):
        k = task.class_of(value)  # names compare as gold's do: a crowd's "Positive" is the task's "positive"
        if k is not None:
            return k
        raise AnnotationError(f"{where}: label {value!r} is not a class of task {task.name!r} ({list(task.labels)})")
    if isinstance(value, float) and value.is_integer():  # 1.0, as pandas writes a column with a missing value
        value = int(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and -1 <= int(value) < len(reading.order):
        if reading.ambiguous and int(value) != -1:
            try:
                task.check_integer_labels(f"{where}: label {int(value)!r}: the answers")
            except ValueError as exc:
                raise AnnotationError(str(exc)) from None
        return -1 if int(value) == -1 else int(reading.order[int(value)])
    raise AnnotationError(f"{where}: label {value!r} is not a class of task {task.name!r} "
                          f"(0..{task.cardinality - 1} or a class name)")


class _Reading:
    """How an answers column's integer labels map to the task's classes: through its ``ClassLabel``'s names where
    it has one in another order (as gold is read), else as indices; ``ambiguous`` where plain integers meet a task
    that names its classes by other numbers ("1".."5")."""

    def __init__(self, feature: Any, task: Task, column: str) -> None:
        item = getattr(feature, "feature", feature)  # List(struct) or [struct]
        if isinstance(item, list) and item:
            item = item[0]
        label = item.get("label") if isinstance(item, Mapping) else None
        self.ambiguous = task.numbers_name_classes and not isinstance(label, ClassLabel)
        self.order: Any = np.arange(task.cardinality)
        if isinstance(label, ClassLabel):
            try:
                self.order = class_label_order(
                    task, label.names, f"answers column {column!r}, whose labels share some classes but not all")
            except ValueError as exc:
                raise AnnotationError(str(exc)) from None


def _when(item: Mapping[str, Any]) -> dt.datetime:
    t = item.get("time")
    if isinstance(t, dt.datetime):
        return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def add_annotator_votes(
    ds: Dataset | DatasetDict,
    task: Task,
    column: str | None = None,
    *,
    prefix: str = "annotator:",
) -> Dataset | DatasetDict:
    """Append one vote column per annotator of ``column`` to ``T_votes`` (created if absent).

    Args:
        ds: dataset whose ``column`` holds, per row, a list of ``{"annotator": ..., "label": ...}``
            (label: class index or class name, compared without case as gold is; other keys are ignored).
            ``{"worker": ..., "label": ...}`` items, as :func:`mmweak.sources.read_crowd` writes them, are read
            the same way. Default column: ``T_answers``.
        task: the task the labels answer.
        column: the answers column.
        prefix: LF name prefix (``annotator:<id>``).

    Returns:
        A new dataset: ``T_votes`` gains one column per annotator (the same annotators, sorted, in every
        split); the task's ``T_probs``/``T_label``/``T_confidence`` are dropped until re-aggregated.
        Re-running on the same column replaces the annotator columns it added before; another answers
        column's annotators are kept (give it another ``prefix`` where the same people answered both). When an
        annotator answered a row twice, the later answer (by ``time``, else list order) counts.

    Raises:
        ValueError: the column is missing.
        AnnotationError: a label is not a class of the task, an answer has no annotator id (messages name
            split, row and annotator), or a new column's name is taken by another LF or answers column.

    >>> import datasets, mmweak
    >>> dog = mmweak.Task("dog", ["cat", "dog"])
    >>> ds = datasets.Dataset.from_dict({"crowd": [
    ...     [{"annotator": "a", "label": "dog"}, {"annotator": "b", "label": "dog"}],
    ...     [{"annotator": "b", "label": "cat"}]]})
    >>> ds = add_annotator_votes(ds, dog, "crowd")
    >>> list(ds["dog_votes"]), [lf["name"] for lf in mmweak.provenance.read_record(ds)["tasks"]["dog"]["lfs"]]
    ([[1, 1], [-1, 0]], ['annotator:a', 'annotator:b'])
    """
    col = column or answers_column(task)
    splits = split_dict(ds)
    for name, d in splits.items():
        if col not in d.column_names:
            raise ValueError(f"split {name!r} has no column {col!r} of annotator answers")
    per_split: dict[str, list[dict[str, int]]] = {}
    who: set[str] = set()
    conflicts = 0  # an annotator answering one row twice with two labels
    for name, d in splits.items():
        rows = []
        reading = _Reading(d.features[col], task, col)
        for i, items in enumerate(d[col]):
            row: dict[str, tuple[tuple[dt.datetime, int], int]] = {}  # annotator -> ((time, position), label)
            for pos, item in enumerate(items or []):
                who_key = "annotator" if isinstance(item, Mapping) and "annotator" in item else "worker"
                if not isinstance(item, Mapping) or who_key not in item or "label" not in item:
                    raise AnnotationError(
                        f"split {name!r}, row {i}, column {col!r}: expected "
                        f"{{'annotator', 'label'}} (or {{'worker', 'label'}}) items, got {item!r}"
                    )
                if item[who_key] is None or str(item[who_key]).strip() == "":
                    raise AnnotationError(f"split {name!r}, row {i}, column {col!r}: an answer without an {who_key} "
                                          f"id ({item!r}); anonymous answers cannot be told apart as people")
                a = str(item[who_key])
                label = _label(item["label"], task, f"split {name!r}, row {i}, annotator {a!r}", reading)
                key = (_when(item), pos)
                if a in row and row[a][1] != label:
                    conflicts += 1
                if a not in row or key >= row[a][0]:
                    row[a] = (key, label)
            rows.append({a: v[1] for a, v in row.items()})
            who.update(row)
        per_split[name] = rows
    if conflicts:
        warnings.warn(f"column {col!r}: {conflicts} time(s) an annotator answered a row again with another label; "
                      "the later answer (by time, else list order) is the one counted", stacklevel=2)
    # Numbered annotators in number order (2 before 10), as a crowd folder's worker columns; then the named ones.
    annotators = sorted(who, key=id_order)
    if not annotators:
        raise AnnotationError(f"column {col!r} holds no answers in any split: there are no annotators to add")
    column_of = {a: j for j, a in enumerate(annotators)}
    record = read_record(ds)
    entry = task_record(record, task.name)
    entry.setdefault("task", task.to_dict())
    lfs = entry.get("lfs", [])
    widths = {read_matrix(d, task.votes_column).shape[1]
              for d in splits.values() if task.votes_column in d.column_names}
    if not lfs and widths and max(widths):  # votes a user brought: their columns need entries before ours follow
        lfs = unrecorded_lfs(task.name, task.votes_column, max(widths))
    # Re-adding a column replaces its people; those another answers column added stay.
    keep = [j for j, lf in enumerate(lfs) if lf.get("kind") != KIND or list(lf.get("inputs") or []) != [col]]
    taken = {lfs[j]["name"] for j in keep} & {f"{prefix}{a}" for a in annotators}
    if taken:
        raise AnnotationError(f"task {task.name!r} already has a vote column named {sorted(taken)[0]!r} (from another "
                              f"LF or answers column): add the answers in {col!r} with another prefix")
    out = {}
    for name, d in splits.items():
        if task.votes_column in d.column_names:
            old = read_matrix(d, task.votes_column)[:, keep] if lfs else read_matrix(d, task.votes_column)
        else:
            old = np.zeros((len(d), 0), dtype=np.int8)
        new = np.full((len(d), len(annotators)), -1, dtype=np.int8)
        for i, latest in enumerate(per_split[name]):
            for a, vote in latest.items():
                new[i, column_of[a]] = vote
        L = np.concatenate([old.astype(np.int8), new], axis=1)
        stale = [c for c in task.output_columns if c in d.column_names]
        if stale:
            d = d.remove_columns(stale)
        fp = stable_hash("annotator-votes", d._fingerprint, task.to_dict(), col, prefix, annotators)
        out[name] = replace_columns(d, {task.votes_column: (L, task.votes_feature(L.shape[1]))}, fingerprint=fp)
    entry["lfs"] = [lfs[j] for j in keep] + [
        {
            "name": f"{prefix}{a}",
            "modality": "human",
            "inputs": [col],
            "code_hash": stable_hash(KIND, a),
            "version": "1",
            "kind": KIND,
        }
        for a in annotators
    ]
    entry.pop("label_model", None)
    result: Dataset | DatasetDict = DatasetDict(out) if isinstance(ds, DatasetDict) else out[next(iter(out))]
    write_record(result, record)
    return result
