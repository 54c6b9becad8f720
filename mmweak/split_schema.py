"""One schema for every split of a curated dataset, as the Hub's loader needs.

``datasets.load_dataset`` reads a folder or Hub repo with one set of features for all its splits. A user's
``DatasetDict`` often has more: the gold ``label`` column only on ``validation``, or a ``ClassLabel`` there and
plain integers in ``train``. Saved as they are, such splits write fine and then fail to load (a cast error), or
load with the class names gone. :func:`aligned_splits` gives every split the union of the columns, in the first
split's order: a column a split lacks is added to it empty (nulls; ``-1``, "no gold", for a class label), and
integers next to a ``ClassLabel`` of the same column take that class label when they are class indices. Any
other disagreement is a :class:`~mmweak.errors.CuratedDatasetError` naming the column and the splits, before
anything is written. A split without rows cannot be loaded back by ``datasets`` and is refused the same way.
"""

from __future__ import annotations

from typing import Any

from datasets import ClassLabel, DatasetDict, Features, Value

from .columns import read_column
from .errors import CuratedDatasetError

_INTEGERS = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}


def check_rows(rows: dict[str, int]) -> None:
    """Refuse a split without rows (split -> row count): ``datasets`` cannot load one back."""
    for name, n in rows.items():
        if n == 0:
            raise CuratedDatasetError(f"split {name!r} has no rows: datasets cannot load an empty split back "
                                      "from a saved folder or the Hub; drop it before saving")


def one_schema(features: dict[str, Features]) -> Features:
    """The features every split is saved with (split -> its features): the union of the columns in first-seen
    order, each column's one type (:func:`aligned_splits`), or a :class:`~mmweak.errors.CuratedDatasetError`.

    >>> one_schema({"train": Features({"text": Value("string")}),
    ...             "validation": Features({"text": Value("string"), "label": ClassLabel(names=["x", "y"])})})
    {'text': Value('string'), 'label': ClassLabel(names=['x', 'y'])}
    """
    order: list[str] = []
    for f in features.values():
        order += [c for c in f if c not in order]
    return Features({c: _merged(c, {s: f[c] for s, f in features.items() if c in f}) for c in order})


def missing_column(feature: Any, rows: int) -> Any:
    """The values a split without the column gets: ``-1`` (no label) for a class label, else nulls."""
    return [-1] * rows if isinstance(feature, ClassLabel) else [None] * rows


def _merged(column: str, features: dict[str, Any]) -> Any:
    """The one feature of ``column`` for every split (``features``: split -> that split's feature)."""
    kinds = list(features.values())
    if all(f == kinds[0] for f in kinds):
        return kinds[0]
    labels = [f for f in kinds if isinstance(f, ClassLabel)]
    if labels and all(f == labels[0] for f in labels) and all(
            isinstance(f, ClassLabel) or (isinstance(f, Value) and f.dtype in _INTEGERS) for f in kinds):
        return labels[0]
    shown = ", ".join(f"{s}: {f}" for s, f in features.items())
    raise CuratedDatasetError(f"column {column!r} has different types in different splits ({shown}); "
                              "a saved dataset has one type per column: cast them to one first")


def aligned_splits(dd: DatasetDict) -> DatasetDict:
    """``dd`` with one schema for all splits (see the module docstring); ``dd`` itself when they already share it.

    >>> import datasets
    >>> dd = DatasetDict({"train": datasets.Dataset.from_dict({"text": ["a"]}),
    ...                   "validation": datasets.Dataset.from_dict({"text": ["b"], "label": [1]},
    ...                       features=Features({"text": Value("string"), "label": ClassLabel(names=["x", "y"])}))})
    >>> out = aligned_splits(dd)
    >>> list(out["train"]["label"]), out["train"].features["label"].names
    ([-1], ['x', 'y'])
    """
    check_rows({name: len(d) for name, d in dd.items()})
    first = list(next(iter(dd.values())).features.items())
    if all(list(d.features.items()) == first for d in dd.values()):
        return dd
    schema = one_schema({name: d.features for name, d in dd.items()})
    order = list(schema)
    out = {}
    for name, d in dd.items():
        for c in order:
            if c not in d.column_names:
                d = d.add_column(c, missing_column(schema[c], len(d)), feature=schema[c])
            elif isinstance(schema[c], ClassLabel) and not isinstance(d.features[c], ClassLabel):
                values = read_column(d, c)
                if values.size and (values.min() < -1 or values.max() >= schema[c].num_classes):
                    raise CuratedDatasetError(f"split {name!r}, column {c!r}: values {int(values.min())}.."
                                              f"{int(values.max())} are not classes of the other splits' class label "
                                              f"{schema[c].names}")
        out[name] = d.select_columns(order).cast(schema) if d.features != schema else d
    return DatasetDict(out)


__all__ = ["aligned_splits", "check_rows", "missing_column", "one_schema"]
