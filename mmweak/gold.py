"""Gold labels read against a task's classes, whatever the column holds.

A gold column can be a ``ClassLabel`` whose names come in another order than the task's (``["spam", "ham"]``
for a task ``["ham", "spam"]``), class names as strings, integers, floats that are whole numbers, or nulls.
Read by position alone, a reordered ``ClassLabel`` silently swaps the classes the label model learns from and
is scored against. :func:`read_gold` maps names to the task's class indices, takes nulls (and ``-1``) as "no
gold", and raises a ``ValueError`` naming the column, the split and the first bad row otherwise.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from datasets import ClassLabel, Dataset

from .columns import read_column
from .task import Task


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
    feature = ds.features[column]
    index = {name: k for k, name in enumerate(task.labels)}
    if isinstance(feature, ClassLabel):
        missing = [n for n in feature.names if n not in index]
        if missing:
            raise ValueError(f"{where}: class {missing[0]!r} of its ClassLabel {feature.names} is not a class of task "
                             f"{task.name!r} {list(task.labels)}")
        if list(feature.names) == list(task.labels):
            return read_column(ds, column, np.int64)
        to_task = np.array([index[n] for n in feature.names] + [-1], dtype=np.int64)  # -1 (no gold) maps to -1
        return to_task[read_column(ds, column, np.int64)]
    rule = f"is not a class index -1..{task.cardinality - 1} of task {task.name!r} (or one of its class names)"
    arrow = ds.data.column(column)
    if (pa.types.is_integer(arrow.type) or pa.types.is_floating(arrow.type)) and arrow.null_count == 0:
        raw = arrow.to_numpy()  # the common case, numbers without nulls, without a Python loop
        bad = (raw < -1) | (raw >= task.cardinality)
        if raw.dtype.kind == "f":
            bad |= ~np.isfinite(raw) | (raw != np.round(raw))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{where}, row {i}: {raw[i].item()!r} {rule}")
        return raw.astype(np.int64)
    out = np.empty(len(arrow), dtype=np.int64)
    for i, v in enumerate(arrow.to_pylist()):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            out[i] = -1
        elif isinstance(v, str) and v in index:
            out[i] = index[v]
        elif isinstance(v, str):
            raise ValueError(f"{where}, row {i}: {v!r} is not a class of task {task.name!r} {list(task.labels)}")
        elif isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v) or not -1 <= v < task.cardinality:
            raise ValueError(f"{where}, row {i}: {v!r} {rule}")
        else:
            out[i] = int(v)
    return out


__all__ = ["read_gold"]
