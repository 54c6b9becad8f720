"""Votes someone already computed, as LFs: a column of vote lists (WRENCH's ``weak_labels``) or of single votes.

Benchmarks, older pipelines and other tools hand over their LF outputs as data rather than as code. Reading
them as LFs lets a recipe aggregate them with no Python (``ref: precomputed_lfs``), next to new LFs, and keeps
what the rest of mmweak relies on: one recorded LF per vote column, votes validated row by row, and a cache
keyed by the column's content. Each LF reads its cell with ``pyarrow.compute``, so a thousand of them over a
fixed-size list column cost a pass over the column each, not a Python call per row.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import ClassLabel, Dataset, DatasetDict

from mmweak import ABSTAIN, LabelingFunction, Task
from mmweak.errors import LFError
from mmweak.gold import task_order
from mmweak.lf import Modality


class VoteColumnLF(LabelingFunction):
    """The vote stored in ``column`` (``index=None``) or at position ``index`` of its list, as an LF.

    Null cells (and a null list) abstain; a list too short to hold ``index`` is an :class:`~mmweak.LFError`
    naming the row, as is a value that is not a class index of the task (checked by the engine). The stored
    values are class indices in the task's order, or in the order of ``classes`` (every class of the task,
    by name, case aside): votes written against another order are then read by class name. Votes may also be
    class names (a model's predictions saved as text), read as gold is, without case.

    >>> import mmweak, pyarrow as pa
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lf = VoteColumnLF(spam, "weak_labels", 1)
    >>> lf.vote(pa.table({"weak_labels": [[0, 1], [-1, None], None]})).tolist()
    [1, -1, -1]
    >>> lf({"weak_labels": [[-1, 0], [1, 1]]})  # a dict of lists works too
    [0, 1]
    >>> VoteColumnLF(spam, "weak_labels", 1, classes=["SPAM", "HAM"])({"weak_labels": [[-1, 0], [1, 1]]})
    [1, 0]
    >>> VoteColumnLF(spam, "model")({"model": ["Spam", None, "ham"]})
    [1, -1, 0]
    """

    def __init__(self, task: Task, column: str, index: int | None = None, *, name: str | None = None,
                 classes: Sequence[str] | None = None, modality: Modality = "text") -> None:
        if index is not None and (isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0):
            raise ValueError(f"index must be a position (0, 1, ...) in the vote lists of {column!r}, got {index!r}")
        super().__init__(name or (column if index is None else f"{column}_{index}"), task=task, inputs=[column],
                         modality=modality)
        self.column = str(column)
        self.index = None if index is None else int(index)
        self.classes = None if classes is None else [str(c) for c in classes]
        self._order = None if self.classes is None else _task_order(task, self.classes, column)

    def config(self) -> dict[str, Any]:
        return {"column": self.column, "index": self.index, "classes": self.classes}

    def label_batch(self, batch: Any) -> Any:
        return self.label_arrow(pa.table({self.column: pa.array(batch[self.column])}))

    def label_arrow(self, table: pa.Table) -> Any:
        cells = table[self.column].combine_chunks()
        if self.index is not None:
            if not _is_list(cells.type):
                raise LFError(f"LF {self.name!r}: column {self.column!r} holds {cells.type}, not lists of votes",
                              lf=self.name, column=self.column, batch_level=True)
            lengths = pc.fill_null(pc.list_value_length(cells), self.index + 1).to_numpy(zero_copy_only=False)
            if (lengths <= self.index).any():
                # Not batch-level: the engine retries row by row, so the error names the dataset row.
                raise ValueError(f"the vote list in column {self.column!r} has no position {self.index} "
                                 f"(it holds {int(lengths.min())} votes)")
            cells = pc.list_element(cells, self.index)  # a null list gives a null vote
        if pa.types.is_string(cells.type) or pa.types.is_large_string(cells.type):
            return self._named_votes(cells)
        if not (pa.types.is_integer(cells.type) or pa.types.is_null(cells.type)):
            raise LFError(f"LF {self.name!r}: column {self.column!r} holds {cells.type} votes; votes are class "
                          f"indices (0..{self.task.cardinality - 1}; -1 or null to abstain) or class names",
                          lf=self.name, column=self.column, batch_level=True)
        votes = pc.fill_null(cells.cast(pa.int64()), ABSTAIN).to_numpy(zero_copy_only=False)
        if self._order is not None:
            known = (votes >= 0) & (votes < len(self._order))  # anything else stays, for the engine to refuse
            votes = np.where(known, self._order[np.clip(votes, 0, len(self._order) - 1)], votes)
        return votes

    def _named_votes(self, cells: pa.Array) -> np.ndarray:
        """Votes written as class names (an older model's predictions): each distinct name looked up once."""
        coded = pc.dictionary_encode(cells)
        names = coded.dictionary.to_pylist()
        classes = [self.task.class_of(n) for n in names]
        unknown = [n for n, k in zip(names, classes) if k is None]
        if unknown:
            # Not batch-level: the engine retries row by row, so the error names the dataset row.
            raise ValueError(f"the vote {unknown[0]!r} in column {self.column!r} is not a class of task "
                             f"{self.task.name!r} {list(self.task.labels)} (null abstains)")
        lookup = np.array(classes + [ABSTAIN], dtype=np.int64)
        codes = pc.fill_null(coded.indices, len(names)).to_numpy(zero_copy_only=False)
        return lookup[codes]


def _task_order(task: Task, classes: list[str], column: str) -> np.ndarray:
    """Task index of each of ``classes`` (the order a vote column's indices follow), matched by name."""
    order = task_order(task, classes)
    if order is None:
        raise ValueError(f"classes {classes} for the votes in {column!r} must name each class of task "
                         f"{task.name!r} {list(task.labels)} once")
    return order


def _is_list(t: pa.DataType) -> bool:
    return pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)


def precomputed_lfs(
    dataset: Dataset | DatasetDict,
    task: Task,
    column: str = "weak_labels",
    *,
    names: Sequence[str] | None = None,
    classes: Sequence[str] | None = None,
    modality: Modality = "text",
) -> list[VoteColumnLF]:
    """One LF per vote stored in ``column``: per list position for a list column, one LF for a column of votes.

    How many LFs a list column holds is read from the data: the list size of a fixed-size list, else the
    length every row's list shares (null lists abstain). Every split must agree.

    Args:
        dataset: the data the LFs will run on (a recipe passes its own).
        task: the task the votes are for.
        column: the column of vote lists (WRENCH's ``weak_labels``) or of single votes.
        names: one LF name per position (default ``<column>_<position>``).
        classes: the class names the stored indices refer to, in that order, when it is not the task's
            order (a WRENCH folder's ``label`` names them).
        modality: the modality recorded for these LFs.

    Raises:
        ValueError: the column is missing, holds lists of different lengths (naming split and row) or no
            votes at all, splits disagree on the length, or ``names`` does not match it; or, without
            ``classes``, a ``ClassLabel`` column of the data lists the task's classes in another order (the
            votes would be read against the wrong classes: say which order they follow).

    >>> import datasets, mmweak
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> ds = datasets.Dataset.from_dict({"weak_labels": [[1, -1, 0], [-1, -1, 1]]})
    >>> [lf.name for lf in precomputed_lfs(ds, spam)]
    ['weak_labels_0', 'weak_labels_1', 'weak_labels_2']
    >>> list(mmweak.apply_lfs(ds, precomputed_lfs(ds, spam))["spam_votes"])
    [[1, -1, 0], [-1, -1, 1]]
    """
    splits = dataset if isinstance(dataset, DatasetDict) else DatasetDict(
        {str(dataset.split) if dataset.split is not None else "train": dataset})  # named as apply_lfs names it
    sizes: dict[str, int | None] = {}
    for split, d in splits.items():
        if column not in d.column_names:
            raise ValueError(f"split {split!r} has no column {column!r} of precomputed votes "
                             f"(columns: {d.column_names})")
        sizes[split] = _list_size(d, split, column)
    distinct = {m for m in sizes.values() if m != _UNSEEN}  # a split without rows or lists has no say
    sizes = {s: m for s, m in sizes.items() if m != _UNSEEN}
    if len(distinct) > 1:
        raise ValueError(f"the splits disagree on the votes in column {column!r}: " + ", ".join(
            f"{s}: {'one vote per row' if m is None else f'{m} per row'}" for s, m in sizes.items()))
    if not distinct:
        raise ValueError(f"column {column!r} holds no vote lists in any split: there are no LFs to read")
    size = distinct.pop()
    if size == 0:
        raise ValueError(f"column {column!r} holds empty vote lists: there are no LFs to read")
    count = 1 if size is None else size
    if names is not None and (isinstance(names, str) or len(names) != count):
        raise ValueError(f"names must give one name per vote in column {column!r} ({count}), "
                         f"got {len(names) if not isinstance(names, str) else 'a string'}")
    if classes is None:
        _check_class_order(splits, task, column)
    if size is None:
        return [VoteColumnLF(task, column, name=names[0] if names else None, classes=classes, modality=modality)]
    return [VoteColumnLF(task, column, j, name=names[j] if names else None, classes=classes, modality=modality)
            for j in range(size)]


def _check_class_order(splits: DatasetDict, task: Task, column: str) -> None:
    """Refuse votes whose class order is ambiguous: the data names the task's classes in another order."""
    for split, d in splits.items():
        for name, feature in d.features.items():
            order = task_order(task, feature.names) if isinstance(feature, ClassLabel) else None
            if order is not None and (order != np.arange(len(order))).any():
                raise ValueError(
                    f"split {split!r}, column {name!r} lists the classes as {feature.names}, task {task.name!r} as "
                    f"{list(task.labels)}: which order do the indices in {column!r} follow? Pass classes="
                    f"{feature.names} if theirs (a WRENCH folder's votes follow its label.json), or "
                    f"classes={list(task.labels)} if the task's")


#: What :func:`_list_size` says of a list column without a single list (no rows, or only nulls).
_UNSEEN = -1


def _list_size(d: Dataset, split: str, column: str) -> int | None:
    """Votes per row of ``column`` (``None`` for a column of single votes, :data:`_UNSEEN` where no row holds a
    list); ragged lists are an error."""
    kind = d.data.schema.field(column).type
    if pa.types.is_fixed_size_list(kind):
        return int(kind.list_size)
    if not _is_list(kind):
        return None
    lengths = pc.list_value_length(d.with_format("arrow")[column]).to_numpy(zero_copy_only=False)
    lengths = np.asarray(lengths, dtype=np.float64)  # nulls (null lists) are NaN: they take any length
    given = np.flatnonzero(~np.isnan(lengths))
    if not given.size:
        return _UNSEEN
    first = lengths[given[0]]
    odd = given[lengths[given] != first]
    if odd.size:
        raise ValueError(f"split {split!r}, row {int(odd[0])}: column {column!r} holds {int(lengths[odd[0]])} "
                         f"votes where row {int(given[0])} holds {int(first)}; every row needs one per LF")
    return int(first)


__all__ = ["VoteColumnLF", "precomputed_lfs"]
