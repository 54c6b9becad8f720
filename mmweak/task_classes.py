"""A task's classes read from the data, so one recipe serves every folder of a format.

A WRENCH folder names its classes in ``label.json`` (read as a ``ClassLabel``); a crowd folder of integer answers
names none, and its classes are the ids ``0..K-1`` its answers and truth use. :func:`classes_from_data` reads either
from one or more columns, in every split that has them:

* a ``ClassLabel`` (also as the ``label`` field of a list of answers ``{annotator|worker, label}``): its names, in
  its order, which every other ``ClassLabel`` read must repeat exactly;
* integers: the classes ``"0"`` .. ``"K-1"`` with ``K`` one more than the largest id (``-1`` and nulls are "no
  label"), so a class that no row holds and that sits above every held one cannot be known: list such classes
  in the recipe instead;
* strings: the distinct names, sorted, as ``datasets.Dataset.class_encode_column`` orders them.

Anything else is refused with the column, split and what it holds. Next to a ``ClassLabel``, integers must be
its class ids and strings its names.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import pyarrow as pa
import pyarrow.compute as pc
from datasets import ClassLabel

from .task import Task, class_key


class DataClasses(NamedTuple):
    """Class names read from the data and a phrase saying from where (printed when a recipe runs)."""

    names: tuple[str, ...]
    how: str


def classes_from_data(dataset: Any, columns: str | Sequence[str]) -> DataClasses:
    """The class names the data's ``columns`` hold (see the module text for the rules).

    ``dataset`` is a ``datasets.DatasetDict``, a ``Dataset`` or a mapping of split name to ``Dataset``.

    Raises:
        ValueError: no split has a column, a column holds neither class ids nor names, ``ClassLabel``\\ s that
            disagree, or ids and names that do not fit one another (each message names the column and split).

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
    splits = _splits(dataset)
    named: tuple[str, ...] | None = None
    named_at, named_col = "", ""
    top_id, top_at = -1, ""
    strings: dict[str, str] = {}
    where_strings = ""
    for col in cols:
        having = [(s, d) for s, d in splits if col in d.column_names]
        if not having:
            raise ValueError(f"no split has column {col!r} to read classes from "
                             f"(columns: {splits[0][1].column_names if splits else []})")
        for split, d in having:
            at = f"column {col!r} of split {split!r}"
            label = _class_label(d.features[col])
            if label is not None:
                if named is None:
                    named, named_at, named_col = tuple(label.names), at, col
                elif tuple(label.names) != named:
                    raise ValueError(f"{at} is a ClassLabel of {list(label.names)}, but {named_at} is one of "
                                     f"{list(named)}: name the classes in the recipe ('labels')")
                continue
            values = _leaf_values(d.with_format("arrow")[col], at)
            if pa.types.is_floating(values.type):  # ids through pandas (a NaN made the column float)
                finite = pc.drop_null(pc.if_else(pc.is_nan(values), None, values))
                whole = pc.and_(pc.is_finite(finite), pc.equal(finite, pc.round(finite)))
                if not pc.all(whole).as_py():
                    raise ValueError(f"{at} holds numbers that are not whole, which are neither class ids nor class "
                                     "names: name the classes in the recipe ('labels')")
                values = finite.cast(pa.int64())
            if pa.types.is_integer(values.type):
                low, high = (pc.min_max(values)[k].as_py() for k in ("min", "max"))
                if low is not None and low < -1:
                    raise ValueError(f"{at} holds {low}, which is no class id (ids are 0..K-1, -1 for none)")
                if high is not None and high > top_id:
                    top_id, top_at = high, at
            elif pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
                for name in pc.unique(values).to_pylist():
                    if name is not None:
                        strings.setdefault(name, at)
                        where_strings = where_strings or at
            elif values.null_count < len(values):
                raise ValueError(f"{at} holds {values.type} values, which are neither class ids nor class names: "
                                 "name the classes in the recipe ('labels')")
    quoted = ", ".join(repr(c) for c in cols)
    if named is not None:
        if top_id >= len(named):
            raise ValueError(f"{top_at} holds class id {top_id}, but {named_at} names only {len(named)} classes "
                             f"{list(named)}")
        keys = {class_key(n) for n in named}
        stray = next((n for n in strings if class_key(n) not in keys), None)
        if stray is not None:
            raise ValueError(f"{strings[stray]} holds {stray!r}, which is not a class of {named_at} {list(named)}")
        return DataClasses(named, f"the names of ClassLabel {named_col!r}")
    if strings and top_id >= 0:
        raise ValueError(f"{where_strings} holds class names and {top_at} class ids: name the classes in the "
                         "recipe ('labels')")
    if strings:
        return DataClasses(tuple(sorted(strings)), f"the distinct names in {quoted}, sorted")
    if top_id < 0:
        raise ValueError(f"{quoted}: no class in any split: name the classes in the recipe ('labels')")
    return DataClasses(tuple(str(k) for k in range(top_id + 1)),
                       f"class ids 0..{top_id} in {quoted} (one more than the largest id)")


def task_from_data(name: str, dataset: Any, columns: str | Sequence[str], *, description: str = "") -> Task:
    """A :class:`~mmweak.Task` whose classes are those :func:`classes_from_data` reads from ``columns``.

    >>> import datasets
    >>> y = datasets.ClassLabel(names=["HAM", "SPAM"])
    >>> rows = datasets.Dataset.from_dict({"label": [1, 0]}, features=datasets.Features({"label": y}))
    >>> task_from_data("spam", rows, "label").labels
    ('HAM', 'SPAM')
    """
    return Task(name, classes_from_data(dataset, columns).names, description=description)


def _splits(dataset: Any) -> list[tuple[str, Any]]:
    if hasattr(dataset, "column_names") and hasattr(dataset, "features") and not hasattr(dataset, "items"):
        return [("train", dataset)] if getattr(dataset, "split", None) is None else [(str(dataset.split), dataset)]
    return [(str(s), d) for s, d in dataset.items()]


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


__all__ = ["DataClasses", "classes_from_data", "task_from_data"]
