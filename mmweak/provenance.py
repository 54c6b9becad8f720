"""The weak-supervision record that travels with a dataset from ``apply_lfs`` to the card.

It lives in ``DatasetInfo.description``, the one free field ``datasets`` carries through
``map``/``filter``/``select``/``save_to_disk``, after the user's own description, as one line:

    <!-- mmweak:weak_supervision:v2 <base64 of zlib-compressed JSON> <checksum> -->

The payload is base64, so no user text (a task description holding ``-->``, say) can end the comment
early; the checksum catches a truncated or edited record, which is an error rather than a dataset that
silently has no tasks. ``concatenate_datasets`` joins the descriptions of its inputs, so two different
records in one description are a conflict, reported as such; so are the splits of a ``DatasetDict``
that carry different records.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import warnings
import zlib
from typing import Any

from datasets import Dataset, DatasetDict

from .errors import RecordError

VERSION = 2
_LINE = re.compile(r"\n?<!-- mmweak:weak_supervision:v(\d+) ([A-Za-z0-9+/=]*) ([0-9a-f]{16}) -->")
_ANY = re.compile(r"<!-- mmweak:weak_supervision")
_LEGACY = "\n<!-- mmweak:weak_supervision "  # version 1: raw JSON, readable, never written again


#: Where the record keeps its tasks' order: keys are sorted when it is written (one text per record), and the tasks
#: must come back in the order the user gave them (``load_curated``, the card, every per-task loop).
_TASK_ORDER = "task_order"


def _encode(record: dict[str, Any]) -> str:
    data = dict(record)
    if isinstance(data.get("tasks"), dict):
        data[_TASK_ORDER] = list(data["tasks"])
    payload = base64.b64encode(zlib.compress(json.dumps(data, sort_keys=True).encode(), 6)).decode()
    checksum = hashlib.sha256(payload.encode()).hexdigest()[:16]
    return f"\n<!-- mmweak:weak_supervision:v{VERSION} {payload} {checksum} -->"


def _decode(version: str, payload: str, checksum: str) -> dict[str, Any]:
    if int(version) != VERSION:
        raise RecordError(f"the weak-supervision record has version {version}; this mmweak reads version {VERSION}")
    if hashlib.sha256(payload.encode()).hexdigest()[:16] != checksum:
        raise RecordError("the weak-supervision record is corrupted (checksum mismatch): re-run mmweak.apply_lfs")
    try:
        record = json.loads(zlib.decompress(base64.b64decode(payload)))
    except (ValueError, zlib.error) as exc:
        raise RecordError(f"the weak-supervision record cannot be decoded: {exc}") from None
    if not isinstance(record, dict):
        raise RecordError("the weak-supervision record is not a mapping")
    order = record.pop(_TASK_ORDER, None)
    tasks = record.get("tasks")
    if isinstance(order, list) and isinstance(tasks, dict):
        record["tasks"] = {**{k: tasks[k] for k in order if k in tasks}, **tasks}
    return record


def _split_description(text: str) -> tuple[str, dict[str, Any]]:
    """(the user's own description, the record); an empty record when there is none."""
    found = list(_LINE.finditer(text))
    if found:
        records = [_decode(*m.groups()) for m in found]
        if any(r != records[0] for r in records[1:]):
            raise RecordError(
                f"this dataset carries {len(records)} different weak-supervision records (e.g. concatenate_datasets "
                f"of datasets labelled with different LFs): re-run mmweak.apply_lfs on the combined dataset"
            )
        return _LINE.sub("", text), records[0]
    i = text.find(_LEGACY)
    if i >= 0:
        j = text.rfind(" -->")
        try:
            record = json.loads(text[i + len(_LEGACY): j])
        except json.JSONDecodeError as exc:
            raise RecordError(f"the (version 1) weak-supervision record cannot be read: {exc}") from None
        return text[:i], record
    if _ANY.search(text):
        raise RecordError("the description holds a damaged weak-supervision record: re-run mmweak.apply_lfs")
    return text, {}


def _splits(ds: Dataset | DatasetDict) -> list[tuple[str, Dataset]]:
    if isinstance(ds, DatasetDict):
        return list(ds.items())
    return [("the dataset", ds)]


def read_record(ds: Dataset | DatasetDict) -> dict[str, Any]:
    """The record (``{"tasks": {name: {...}}}``) carried by ``ds``; empty if none.

    Every split of a ``DatasetDict`` must carry the same record (:class:`RecordError` otherwise).

    >>> import datasets
    >>> read_record(datasets.Dataset.from_dict({"x": [1]}))
    {}
    """
    found = [(name, _split_description(d.info.description or "")[1]) for name, d in _splits(ds)]
    first_name, first = found[0]
    for name, record in found[1:]:
        if record != first:
            bare = next((n for n, r in ((first_name, first), (name, record)) if not r), None)
            what = (f"split {bare!r} carries no weak-supervision record (no LF was applied to it)" if bare else
                    f"splits {first_name!r} and {name!r} carry different weak-supervision records")
            raise RecordError(
                f"{what}: apply LFs and aggregate on the whole DatasetDict so every split has the same tasks, LFs "
                f"and label models"
            )
    return copy.deepcopy(first)


def user_description(ds: Dataset | DatasetDict) -> str:
    """The dataset's own description, without mmweak's record."""
    return _split_description(_splits(ds)[0][1].info.description or "")[0]


def write_record(ds: Dataset | DatasetDict, record: dict[str, Any]) -> None:
    """Attach ``record`` to ``ds`` (every split), in place; datasets that mmweak just created only.

    >>> import datasets
    >>> ds = datasets.Dataset.from_dict({"x": [1]})
    >>> ds.info.description = "mine -->"
    >>> write_record(ds, {"tasks": {"t": {"task": {"description": "a --> b"}}}})
    >>> read_record(ds)["tasks"]["t"]["task"]["description"], user_description(ds)
    ('a --> b', 'mine -->')
    """
    line = _encode(record)
    for _, d in _splits(ds):
        d.info.description = _strip(d.info.description or "") + line


def describe(user_text: str, record: dict[str, Any]) -> str:
    """A description holding ``user_text`` and ``record``, as :func:`write_record` stores it.

    Engines that carry the record outside ``DatasetInfo`` (``mmweak.ray`` keeps it in the Arrow schema
    metadata of its blocks) store this text and read it back with :func:`parse_description`.

    >>> parse_description(describe("mine", {"tasks": {}}))
    ('mine', {'tasks': {}})
    """
    return _strip(user_text) + _encode(record)


def parse_description(text: str) -> tuple[str, dict[str, Any]]:
    """``(user description, record)`` of a description; :class:`RecordError` if the record is damaged."""
    return _split_description(text)


def _strip(text: str) -> str:
    """The description without any record, intact or damaged (what a new record replaces)."""
    text = _LINE.sub("", text)
    i = text.find("\n<!-- mmweak:weak_supervision")
    if i < 0:
        i = text.find("<!-- mmweak:weak_supervision")
    return text if i < 0 else text[:i]


#: ``kind`` of the LF entries that hold people's answers (:func:`mmweak.review.add_annotator_votes`): their vote
#: columns come from a dataset column, not from code, so re-applying LFs keeps them (:func:`human_lf_columns`).
HUMAN_KIND = "Annotator"
UNRECORDED_KIND = "unrecorded votes"
#: Kinds of recorded LFs whose input is votes or answers, not the data (precomputed votes, votes a user brought,
#: annotators' answers): what they "read" is never shown to people as the item.
VOTE_READING_KINDS = frozenset({"VoteColumnLF", UNRECORDED_KIND, HUMAN_KIND})


def human_lf_columns(entry: dict[str, Any]) -> list[int]:
    """Positions, in a task's recorded LF list, of the LFs that are people (:data:`HUMAN_KIND`).

    >>> human_lf_columns({"lfs": [{"name": "kw"}, {"name": "annotator:a", "kind": "Annotator"}]})
    [1]
    """
    return [j for j, lf in enumerate(entry.get("lfs", [])) if lf.get("kind") == HUMAN_KIND]


def unrecorded_lfs(task_name: str, votes_column: str, m: int, stacklevel: int = 3) -> list[dict[str, Any]]:
    """LF entries for the ``m`` columns of a votes column ``apply_lfs`` did not write (votes a user brought), one per
    position and named by it, so that the card, ``analyze`` and ``inspect`` can list them (saving such a dataset
    failed on the missing entries); a warning says how to name them.

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     [lf["name"] for lf in unrecorded_lfs("spam", "spam_votes", 2)]
    ['spam_votes_0', 'spam_votes_1']
    """
    warnings.warn(
        f"task {task_name!r}: its votes column {votes_column!r} was not written by apply_lfs, so no LF is recorded "
        f"for its {m} columns: they are recorded as {votes_column}_0..{votes_column}_{m - 1}, without code. To name "
        f"them, keep the votes under another column name and apply "
        f"lf_library.precomputed.precomputed_lfs(ds, task, that_column, names=...)",
        stacklevel=stacklevel,
    )
    return [{"name": f"{votes_column}_{j}", "modality": "text", "inputs": [votes_column], "code_hash": "unrecorded",
             "version": "1", "kind": UNRECORDED_KIND} for j in range(m)]


def task_record(record: dict[str, Any], name: str) -> dict[str, Any]:
    """The entry for task ``name`` (created if absent)."""
    return record.setdefault("tasks", {}).setdefault(name, {})
