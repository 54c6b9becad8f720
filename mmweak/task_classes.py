"""A task's classes read from the data, so one recipe serves every folder of a format.

A WRENCH folder names its classes in ``label.json`` (read as a ``ClassLabel``); a crowd folder of integer answers
names none, and its classes are the ids ``0..K-1`` its answers and truth use. :func:`classes_from_data` reads
either from one or more columns, in every split that has them, naming the classes as gold and answers name them (which
values a row may hold is for the reader of that column to say: gold refuses empty text, which names no class here):

* a ``ClassLabel`` (also as the ``label`` field of a list of answers ``{annotator|worker, label}``): its names, in
  its order, which every other ``ClassLabel`` read must repeat exactly;
* class ids, as integers, whole-number floats or whole-number text (``"2"``): the classes ``"0"`` .. ``"K-1"``
  with ``K`` one more than the largest id (``-1``, nulls and empty text are "no label"), so a class that no row
  holds and that sits above every held id cannot be known: list such classes in the recipe instead;
* class names: the distinct names, sorted, names that differ only in case or spaces folded into one spelt as most
  rows spell it (as :func:`mmweak.sources.read_crowd` reads a crowd folder).

Anything else is refused with the column, split and what it holds, as are ids and names mixed, fewer than two
classes and more than :data:`~mmweak.task.MAX_CLASSES`. Next to a ``ClassLabel``, ids must be its class ids and
names its names.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, NamedTuple, Sequence

import pyarrow as pa
import pyarrow.compute as pc
from datasets import ClassLabel

from .columns import arrow_column, split_dict
from .crowd_files import as_int, spelled_classes
from .task import MAX_CLASSES, class_key

_HINT = "name the classes in the recipe ('labels')"


class DataClasses(NamedTuple):
    """Class names read from the data and a phrase saying from where (printed when a recipe runs)."""

    names: tuple[str, ...]
    how: str


class _Seen:
    """What the columns read so far hold: a ClassLabel, the largest class id, the names written."""

    def __init__(self) -> None:
        self.named: tuple[str, ...] | None = None
        self.named_at = self.named_col = ""
        self.top_id, self.top_at = -1, ""
        self.spellings: Counter[str] = Counter()
        self.name_at: dict[str, str] = {}

    def class_label(self, label: ClassLabel, at: str, col: str) -> None:
        if self.named is None:
            self.named, self.named_at, self.named_col = tuple(label.names), at, col
        elif tuple(label.names) != self.named:
            raise ValueError(f"{at} is a ClassLabel of {list(label.names)}, but {self.named_at} is one of "
                             f"{list(self.named)}: {_HINT}")

    def ids(self, low: Any, high: Any, at: str) -> None:
        if low is not None and low < -1:
            raise ValueError(f"{at} holds {low}, which is no class id (ids are 0..K-1, -1 for none)")
        if high is not None and high >= MAX_CLASSES:  # refused before any name is made for it
            raise ValueError(f"{at} holds class id {high}, but a task has at most {MAX_CLASSES} classes (votes are "
                             f"stored as int8): {_HINT}, or map the ids to fewer classes")
        if high is not None and high > self.top_id:
            self.top_id, self.top_at = int(high), at

    def text(self, values: pa.ChunkedArray, at: str) -> None:
        counts = pc.value_counts(values)
        for value, count in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist()):
            if value is None or not value.strip():
                continue
            number = as_int(value)
            if number is not None:  # whole-number text is an id, as gold and answers read it
                self.ids(number, number, at)
            else:
                self.spellings[value] += count
                self.name_at.setdefault(value, at)


def classes_from_data(dataset: Any, columns: str | Sequence[str]) -> DataClasses:
    """The class names the data's ``columns`` hold (see the module text for the rules).

    ``dataset`` is a ``datasets.DatasetDict`` or a ``Dataset``.

    Raises:
        ValueError: no split has a column, a column holds neither class ids nor names, ``ClassLabel``\\ s that
            disagree, ids and names together, fewer than 2 or more than 127 classes (each message names the
            column and split).

    >>> import datasets
    >>> ds = datasets.DatasetDict({"train": datasets.Dataset.from_dict(
    ...     {"answers": [[{"worker": 3, "label": 2}], [{"worker": 1, "label": 0}]], "label": [-1, 1]})})
    >>> classes_from_data(ds, ["answers", "label"]).names
    ('0', '1', '2')
    >>> y = datasets.ClassLabel(names=["HAM", "SPAM"])
    >>> classes_from_data(datasets.Dataset.from_dict({"label": [1, 0]},
    ...                   features=datasets.Features({"label": y})), "label")
    DataClasses(names=('HAM', 'SPAM'), how="the names of ClassLabel 'label'")
    """
    cols = [columns] if isinstance(columns, str) else list(columns)
    if not cols or not all(isinstance(c, str) and c for c in cols):
        raise ValueError(f"name the column(s) whose classes to read, got {columns!r}")
    splits = split_dict(dataset)
    seen = _Seen()
    for col in cols:
        having = [(s, d) for s, d in splits.items() if col in d.column_names]
        if not having:
            first = next(iter(splits.values()), None)
            raise ValueError(f"no split has column {col!r} to read classes from "
                             f"(columns: {first.column_names if first is not None else []})")
        for split, d in having:
            at = f"column {col!r} of split {split!r}"
            label = _class_label(d.features[col])
            if label is not None:
                seen.class_label(label, at, col)
                continue
            values = _leaf_values(arrow_column(d, col), at)
            if pa.types.is_floating(values.type):  # ids through pandas (a NaN made the column float)
                values = pc.drop_null(pc.if_else(pc.is_nan(values), None, values))
                whole = pc.and_(pc.is_finite(values), pc.equal(values, pc.round(values)))
                if not pc.all(whole).as_py():
                    raise ValueError(f"{at} holds numbers that are not whole, which are neither class ids nor class "
                                     f"names: {_HINT}")
            if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
                low, high = (pc.min_max(values)[k].as_py() for k in ("min", "max"))
                seen.ids(None if low is None else int(low), None if high is None else int(high), at)
            elif pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
                seen.text(values, at)
            elif values.null_count < len(values):
                raise ValueError(f"{at} holds {values.type} values, which are neither class ids nor class names: "
                                 f"{_HINT}")
    return _decide(seen, ", ".join(repr(c) for c in cols))


def _decide(seen: _Seen, quoted: str) -> DataClasses:
    if seen.named is not None:
        names = seen.named
        if seen.top_id >= len(names):
            raise ValueError(f"{seen.top_at} holds class id {seen.top_id}, but {seen.named_at} names only "
                             f"{len(names)} classes {list(names)}")
        keys = {class_key(n) for n in names}
        stray = next((n for n in seen.spellings if class_key(n) not in keys), None)
        if stray is not None:
            raise ValueError(f"{seen.name_at[stray]} holds {stray!r}, which is not a class of {seen.named_at} "
                             f"{list(names)}")
        found = DataClasses(names, f"the names of ClassLabel {seen.named_col!r}")
    elif seen.spellings and seen.top_id >= 0:
        name = next(iter(seen.spellings))
        raise ValueError(f"{seen.name_at[name]} holds class names ({name!r}) and {seen.top_at} class ids "
                         f"({seen.top_id}): {_HINT}")
    elif seen.spellings:
        found = DataClasses(tuple(spelled_classes(seen.spellings)), f"the distinct names in {quoted}, sorted")
    else:
        found = DataClasses(tuple(str(k) for k in range(seen.top_id + 1)),
                            f"class ids 0..{seen.top_id} in {quoted} (one more than the largest id)")
    if len(found.names) < 2:
        held = f"only the class {found.names[0]!r}" if found.names else "no class"
        raise ValueError(f"{quoted}: {held} in any split, and a task needs two or more: {_HINT}")
    if len(found.names) > MAX_CLASSES:
        raise ValueError(f"{quoted}: {len(found.names)} class names, but a task has at most {MAX_CLASSES} "
                         f"classes (votes are stored as int8): {_HINT}")
    return found


def _class_label(feature: Any) -> ClassLabel | None:
    """The ``ClassLabel`` a column holds: itself, inside lists, or as the ``label`` field of answer records."""
    while True:
        if isinstance(feature, ClassLabel):
            return feature
        if isinstance(feature, dict):
            if "label" not in feature:
                return None
            feature = feature["label"]
        elif hasattr(feature, "feature"):  # List / LargeList / Sequence
            feature = feature.feature
        else:
            return None


def _leaf_values(column: pa.ChunkedArray, at: str) -> pa.ChunkedArray:
    """The values a column holds, lists flattened and answer records read at their ``label`` field."""
    out = column
    while True:
        t = out.type
        if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
            out = pc.list_flatten(out)
        elif pa.types.is_struct(t):
            if t.get_field_index("label") < 0:
                raise ValueError(f"{at} holds records without a 'label' field ({t}): read classes from the column "
                                 "that holds them")
            out = pc.struct_field(out, "label")  # a null record reads as a null label
        else:
            return out


__all__ = ["DataClasses", "classes_from_data"]
