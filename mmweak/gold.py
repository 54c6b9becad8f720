"""Gold labels read against a task's classes, whatever the column holds.

A gold column can be a ``ClassLabel`` whose names come in another order than the task's (``["spam", "ham"]``
for a task ``["ham", "spam"]``), class names as strings, integers, floats that are whole numbers, or nulls.
Read by position alone, a reordered ``ClassLabel`` silently swaps the classes the label model learns from and
is scored against. :func:`read_gold` maps names to the task's class indices (ignoring case), takes nulls (and
``-1``) as "no gold", and raises a ``ValueError`` naming the column, the split and the first bad row otherwise. A
``ClassLabel`` whose names share none with the task's is another naming of the same classes and is read by
position; one that shares some names but not all is refused, since neither reading is safe.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import ClassLabel, Dataset

from .columns import arrow_column
from .crowd_files import class_index
from .task import Task, class_key


def read_gold(ds: Dataset, column: str, task: Task, *, split: str | None = None) -> np.ndarray:
    """``(n,)`` int64 class indices of ``task`` from gold column ``column`` of ``ds``; ``-1`` where there is none.

    Raises:
        ValueError: a class name the task does not have, a value outside ``-1..K-1``, a fraction or text in an
            integer column (the message names column, split and row).

    >>> import datasets
    >>> spam = Task("spam", ["ham", "spam"])
    >>> ds = datasets.Dataset.from_dict({"y": [0, 1, -1]}, features=datasets.Features(
    ...     {"y": ClassLabel(names=["spam", "ham"])}))
    >>> read_gold(ds, "y", spam).tolist()  # the column's class 0 is the task's class 1
    [1, 0, -1]
    >>> read_gold(datasets.Dataset.from_dict({"y": ["spam", None, "ham"]}), "y", spam).tolist()
    [1, -1, 0]
    """
    where = f"gold column {column!r}" + (f" of split {split!r}" if split else "")
    # in the rows' order: select/shuffle/filter keep an index mapping
    return gold_from_arrow(arrow_column(ds, column), ds.features[column], task, where)


def gold_from_arrow(values: pa.Array | pa.ChunkedArray, feature: Any, task: Task, where: str) -> np.ndarray:
    """:func:`read_gold` on a column's values and ``datasets`` feature (a Ray block's column reads the same way).

    >>> gold_from_arrow(pa.array([1, 0, None]), ClassLabel(names=["spam", "ham"]), Task("s", ["ham", "spam"]), "y")
    array([ 0,  1, -1])
    """
    if isinstance(feature, ClassLabel):
        order = class_label_order(task, feature.names, where)
        if len(order) != task.cardinality or (order != np.arange(task.cardinality)).any():
            raw = pc.fill_null(values, -1).to_numpy(zero_copy_only=False).astype(np.int64)
            return np.append(order, -1)[raw]  # the task's classes, reordered; -1 (no gold) stays -1
    rule = f"is not a class index -1..{task.cardinality - 1} of task {task.name!r} (or one of its class names)"
    # A ClassLabel's integers are its own positions; plain ones are class indices, ambiguous where the task names
    # its classes by other numbers (a rating "1".."5"): refused there, as text names are read by name.
    ambiguous = task.numbers_name_classes and not isinstance(feature, ClassLabel)
    arrow = values
    if (pa.types.is_integer(arrow.type) or pa.types.is_floating(arrow.type)) and arrow.null_count == 0:
        raw = arrow.to_numpy()  # the common case, numbers without nulls, without a Python loop
        if ambiguous and (raw != -1).any():
            task.check_integer_labels(where)
        bad = (raw < -1) | (raw >= task.cardinality)
        if raw.dtype.kind == "f":
            bad |= ~np.isfinite(raw) | (raw != np.round(raw))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{where}, row {i}: {raw[i].item()!r} {rule}")
        return raw.astype(np.int64)
    out = np.empty(len(arrow), dtype=np.int64)
    for i, v in enumerate(arrow.to_pylist()):
        named = task.class_of(v) if isinstance(v, str) else None
        if named is not None:
            out[i] = named
            continue
        number = -1 if isinstance(v, float) and np.isnan(v) else class_index(v)  # also "1", as a CSV reader leaves it
        if ambiguous and number is not None and number != -1:
            if isinstance(v, str):  # text that names no class: its number would be read as an index
                raise ValueError(f"{where}, row {i}: {v!r} is not a class of task {task.name!r} {list(task.labels)}")
            task.check_integer_labels(f"{where} (row {i}: {v!r})")
        if number is None or not -1 <= number < task.cardinality:
            raise ValueError(f"{where}, row {i}: {v!r} " + (
                f"is not a class of task {task.name!r} {list(task.labels)}" if isinstance(v, str) else rule))
        out[i] = number
    return out


def class_label_order(task: Task, names: Sequence[str], where: str) -> np.ndarray:
    """The task's index of each class of a ``ClassLabel`` with ``names`` that labels are read through (gold,
    answers): by name where each name is a class of the task (in any order; a task may have classes the column
    never holds); by position where they share none (another naming of the classes: ``["0", "1"]``,
    ``["neg", "pos"]``; said in a warning unless the names are ``datasets``' own ``"0".."n-1"``). ``ValueError``
    where they share some but not all, since by position or by name would both be a guess.

    >>> t = Task("spam", ["ham", "spam"])
    >>> class_label_order(t, ["SPAM", "ham"], "y").tolist(), class_label_order(t, ["0", "1"], "y").tolist()
    ([1, 0], [0, 1])
    >>> class_label_order(Task("spam", ["ham", "spam", "other"]), ["spam", "ham"], "y").tolist()
    [1, 0]
    """
    order = task_order(task, names)
    if order is not None:
        return order
    named = [task.class_of(n) for n in names]
    if names and all(k is not None for k in named) and len(set(named)) == len(named):
        return np.array(named, dtype=np.int64)  # some of the task's classes, by name
    shared = sorted(class_key(n) for n in names if task.class_of(n) is not None)
    if shared:
        extra = [n for n in names if task.class_of(n) is None]
        raise ValueError(f"{where}: its ClassLabel {list(names)} and task {task.name!r} {list(task.labels)} share "
                         f"{shared} but not every class ({extra} are not classes of the task): rename one side so the "
                         "classes match, or add them to the task's labels")
    if list(names) != [str(i) for i in range(len(names))]:
        pairs = ", ".join(f"{n!r} as {c!r}" for n, c in zip(names, task.labels))
        warnings.warn(f"{where}: its ClassLabel {list(names)} names none of the classes of task {task.name!r} "
                      f"{list(task.labels)}, so it is read by position ({pairs}); if that is not the same classes in "
                      "the same order, give the task the column's class names", stacklevel=3)
    return np.arange(task.cardinality)


def task_order(task: Task, names: Sequence[str]) -> np.ndarray | None:
    """The task's index of each of ``names`` when they name every class of ``task`` once (by :func:`class_key`).

    ``None`` when they do not: another set of classes, a class missing or named twice.

    >>> task_order(Task("spam", ["ham", "spam"]), ["SPAM", "Ham"]).tolist()
    [1, 0]
    >>> task_order(Task("spam", ["ham", "spam"]), ["spam", "eggs"]) is None
    True
    """
    order = [task.class_of(n) for n in names]
    found = [k for k in order if k is not None]
    if len(found) < len(order) or sorted(found) != list(range(task.cardinality)):
        return None
    return np.array(found, dtype=np.int64)


__all__ = ["class_key", "class_label_order", "gold_from_arrow", "read_gold", "task_order"]
