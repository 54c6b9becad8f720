"""People's names in what a curated dataset publishes: finding e-mail addresses, and renaming annotators.

Label Studio names the people who answered by their e-mail address, and those names travel: into the answers
column (``T_answers``), and, once :func:`~mmweak.review.add_annotator_votes` made each person an LF, into the
LF list of the record and the card. :func:`annotator_emails` finds them (the Hub push refuses to publish them
unless told to); :func:`rename_annotators` replaces them everywhere at once, with names of the user's choosing
or with :func:`pseudonyms`, keyed hashes that stay the same from one round to the next without the key being
published.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any, Callable, Mapping

from datasets import Dataset, DatasetDict

from .columns import split_dict, struct_list_field
from .fingerprint import stable_hash
from .provenance import HUMAN_KIND, read_record, task_record, write_record
from .task import Task

#: An e-mail address as people type them into Label Studio (the local part and a dotted domain).
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_WHO_KEYS = ("annotator", "worker")  # how answers name their person (review answers, read_crowd's workers)


def _answer_columns(entry: Mapping[str, Any], task_name: str, columns: list[str]) -> list[str]:
    """Columns of the task's human answers: those its annotator LFs read, its review's, and ``T_answers``."""
    found = [c for lf in entry.get("lfs", []) if lf.get("kind") == HUMAN_KIND for c in lf.get("inputs") or []]
    review = (entry.get("review") or {}).get("answers_column")
    found += [review] if review else []
    found.append(f"{task_name}_answers")  # answers_column's name, read before any LF used it
    return [c for c in dict.fromkeys(found) if c in columns]


def _people_columns(splits: Mapping[str, Dataset]) -> list[str]:
    """Columns shaped as answers, whoever reads them: lists of structs naming an annotator or a worker (a crowd
    folder's ``answers`` before any task made its people LFs)."""
    found = [c for d in splits.values() for c, kind in zip(d.column_names, d.features.arrow_schema.types)
             if any(struct_list_field(kind, key) is not None for key in _WHO_KEYS)]
    return list(dict.fromkeys(found))


def _claimed(record: Mapping[str, Any], columns: list[str]) -> dict[str, str]:
    """Answers column -> the task whose record names it (its people LFs read it, or its review stored it)."""
    return {c: name for name, entry in (record.get("tasks") or {}).items()
            for c in _answer_columns(entry, name, columns)}


def annotator_emails(ds: Dataset | DatasetDict) -> list[str]:
    """Where the people of a curated dataset are named by e-mail address: one line per annotator LF so named (in
    the record and the card) and per answers column and split holding such names (with the first row). Answers
    columns are those the record names and any list of ``{annotator, ...}`` or ``{worker, ...}`` items.

    >>> import datasets, mmweak
    >>> dog = mmweak.Task("dog", ["cat", "dog"])
    >>> ds = datasets.Dataset.from_dict({"dog_answers": [[{"annotator": "ann@lab.org", "label": "dog"}]]})
    >>> ds = mmweak.review.add_annotator_votes(ds, dog)
    >>> annotator_emails(ds)
    ["task 'dog': LF 'annotator:ann@lab.org'", "split 'train', column 'dog_answers', row 0: 'ann@lab.org' (1 row)"]
    """
    record = read_record(ds)
    splits = split_dict(ds)
    found = [f"task {name!r}: LF {lf['name']!r}" for name, entry in (record.get("tasks") or {}).items()
             for lf in entry.get("lfs", []) if lf.get("kind") == HUMAN_KIND and EMAIL.search(str(lf.get("name", "")))]
    columns = sorted({c for d in splits.values() for c in d.column_names})
    people = list(_claimed(record, columns)) + _people_columns(splits)
    for col in dict.fromkeys(people):
        for split, d in splits.items():
            if col not in d.column_names:
                continue
            rows = [i for i, items in enumerate(d[col]) if any(
                EMAIL.search(str(_who(x) or "")) for x in items or [])]
            if rows:
                first = next(str(_who(x)) for x in d[rows[0]][col] if EMAIL.search(str(_who(x) or "")))
                found.append(f"split {split!r}, column {col!r}, row {rows[0]}: {first!r} ({len(rows)} "
                             f"row{'s' if len(rows) != 1 else ''})")
    return found


def _who(item: Any) -> Any:
    if isinstance(item, Mapping):
        for key in _WHO_KEYS:
            if key in item:
                return item[key]
    return None


def pseudonyms(key: str | bytes, prefix: str = "annotator-") -> Callable[[str], str]:
    """A renaming for :func:`rename_annotators`: each name becomes ``prefix`` + 12 hex digits of its HMAC-SHA256
    under ``key``. The same key gives the same pseudonym in every round, so a person's answers stay one person's;
    without the key (keep it out of the dataset) a pseudonym cannot be tried against a list of addresses.

    >>> rename = pseudonyms("our team's secret")
    >>> rename("ann@lab.org") == rename("ann@lab.org") != rename("bob@lab.org"), rename("ann@lab.org")[:10]
    (True, 'annotator-')
    """
    secret = key.encode() if isinstance(key, str) else bytes(key)
    if not secret:
        raise ValueError("pseudonyms need a non-empty key: without one, anyone can hash a list of addresses and "
                         "match them")

    def rename(name: str) -> str:
        return prefix + hmac.new(secret, str(name).encode(), hashlib.sha256).hexdigest()[:12]

    return rename


def rename_annotators(
    ds: Dataset | DatasetDict,
    task: Task,
    names: Mapping[str, str] | Callable[[str], str],
) -> Dataset | DatasetDict:
    """Rename the people of ``task`` everywhere they are named: in its answers columns (``T_answers``, any column
    its annotator LFs read, and answers no other task claims, such as a crowd folder's ``answers``) and in the
    names of its annotator LFs.

    Votes, labels, probabilities and the fitted label model stay as they are (LFs are columns by position), so
    this can run just before publishing. Rename the copy you publish: later imports from Label Studio name
    people by e-mail again, and match stored answers by those names.

    Args:
        ds: a dataset holding the task's answers or annotator votes.
        task: whose people to rename.
        names: old name -> new name (names not in it are kept), or a function of the old name, such as
            :func:`pseudonyms`.

    Returns:
        A new dataset; the input is not modified.

    Raises:
        ValueError: two people would share a name (their votes would merge), a new name is empty or not text, or
            the task has no people to rename.

    >>> import datasets, mmweak
    >>> dog = mmweak.Task("dog", ["cat", "dog"])
    >>> ds = datasets.Dataset.from_dict({"dog_answers": [[{"annotator": "ann@lab.org", "label": "dog"}]]})
    >>> ds = rename_annotators(mmweak.review.add_annotator_votes(ds, dog), dog, {"ann@lab.org": "ann"})
    >>> ds[0]["dog_answers"][0]["annotator"], mmweak.provenance.read_record(ds)["tasks"]["dog"]["lfs"][0]["name"]
    ('ann', 'annotator:ann')
    >>> annotator_emails(ds)
    []
    """
    record = read_record(ds)
    splits = split_dict(ds)
    entry = task_record(record, task.name)
    every = sorted({c for d in splits.values() for c in d.column_names})
    claimed = _claimed(record, every)
    # the task's own answers columns, and answers no task claims yet (a crowd folder's, before its people LFs)
    columns = list(dict.fromkeys(_answer_columns(entry, task.name, every)
                                 + [c for c in _people_columns(splits) if c not in claimed]))
    people = [j for j, lf in enumerate(entry.get("lfs", [])) if lf.get("kind") == HUMAN_KIND]
    if not columns and not people:
        raise ValueError(f"task {task.name!r} has no answers column and no annotator LFs: there is no one to rename")
    old: set[str] = set()
    for d in splits.values():
        for col in columns:
            if col in d.column_names:
                old.update(str(_who(x)) for items in d[col] for x in items or [] if _who(x) is not None)
    lf_person = {j: _person(entry["lfs"][j], old) for j in people}
    old.update(p for p in lf_person.values() if p is not None)
    new_of = {}
    for a in old:
        b = names(a) if callable(names) else names.get(a, a)
        if not isinstance(b, str) or not b.strip():
            raise ValueError(f"task {task.name!r}: {a!r} would be renamed {b!r}; a person's name is non-empty text "
                             "(answers without one cannot be told apart as people)")
        new_of[a] = b
    merged: dict[str, list[str]] = {}
    for a, b in new_of.items():
        merged.setdefault(b, []).append(a)
    clash = sorted((new, sorted(olds)) for new, olds in merged.items() if len(olds) > 1)
    if clash:
        shared, olds = clash[0]
        raise ValueError(f"task {task.name!r}: {olds[0]!r} and {olds[1]!r} would both be named {shared!r}, and their "
                         "answers would merge into one person's: give each person their own name")
    out = {}
    for split, d in splits.items():
        for col in columns:
            if col in d.column_names:
                d = d.map(_renamer(col, new_of), batched=True, features=d.features, desc=f"renaming ({split})",
                          new_fingerprint=stable_hash("rename-annotators", d._fingerprint, col, sorted(new_of.items())))
        out[split] = d
    for j, person in lf_person.items():
        if person is not None:
            lf = entry["lfs"][j]
            lf["name"] = lf["name"][: len(lf["name"]) - len(person)] + new_of[person]
            lf["code_hash"] = stable_hash(HUMAN_KIND, new_of[person])
    result: Dataset | DatasetDict = DatasetDict(out) if isinstance(ds, DatasetDict) else out[next(iter(out))]
    write_record(result, record)
    return result


def _person(lf: Mapping[str, Any], known: set[str]) -> str | None:
    """The person an annotator LF stands for: the longest known name its name ends with, else what follows the
    ``annotator:`` prefix :func:`~mmweak.review.add_annotator_votes` gives by default."""
    name = str(lf.get("name", ""))
    ends = [a for a in known if a and name.endswith(a)]
    if ends:
        return max(ends, key=len)
    return name.split(":", 1)[1] if ":" in name else None


def _renamer(col: str, new_of: Mapping[str, str]) -> Callable[[dict], dict]:
    def rename(batch: dict) -> dict:
        def one(x: Any) -> Any:
            if not isinstance(x, Mapping):
                return x
            return {k: (new_of.get(str(v), v) if k in _WHO_KEYS and v is not None else v) for k, v in x.items()}
        return {col: [None if items is None else [one(x) for x in items] for items in batch[col]]}
    return rename


__all__ = ["EMAIL", "annotator_emails", "pseudonyms", "rename_annotators"]
