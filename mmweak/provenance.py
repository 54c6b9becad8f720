"""The weak-supervision record that travels with a dataset from ``apply_lfs`` to the card.

It lives in ``DatasetInfo.description`` behind a marker, because that is the one free field that
``datasets`` carries through ``map``/``filter``/``select``/``save_to_disk``; the user's own description
is kept in front of it and restored when the card is written.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from datasets import Dataset, DatasetDict

_MARK = "\n<!-- mmweak:weak_supervision "
_END = " -->"


def _split_description(text: str) -> tuple[str, dict[str, Any]]:
    i = text.find(_MARK)
    if i < 0:
        return text, {}
    j = text.find(_END, i + len(_MARK))
    payload = text[i + len(_MARK): j if j >= 0 else len(text)]
    try:
        return text[:i], json.loads(payload)
    except json.JSONDecodeError:
        return text[:i], {}


def read_record(ds: Dataset | DatasetDict) -> dict[str, Any]:
    """The record (``{"tasks": {name: {...}}}``) carried by ``ds``; empty if none.

    >>> import datasets
    >>> read_record(datasets.Dataset.from_dict({"x": [1]}))
    {}
    """
    first = next(iter(ds.values())) if isinstance(ds, DatasetDict) else ds
    return copy.deepcopy(_split_description(first.info.description or "")[1])


def user_description(ds: Dataset | DatasetDict) -> str:
    """The dataset's own description, without mmweak's record."""
    first = next(iter(ds.values())) if isinstance(ds, DatasetDict) else ds
    return _split_description(first.info.description or "")[0]


def write_record(ds: Dataset | DatasetDict, record: dict[str, Any]) -> None:
    """Attach ``record`` to ``ds`` (every split), in place; datasets that mmweak just created only."""
    splits = ds.values() if isinstance(ds, DatasetDict) else [ds]
    for d in splits:
        own = _split_description(d.info.description or "")[0]
        d.info.description = own + _MARK + json.dumps(record, sort_keys=True) + _END


def task_record(record: dict[str, Any], name: str) -> dict[str, Any]:
    """The entry for task ``name`` (created if absent)."""
    return record.setdefault("tasks", {}).setdefault(name, {})
