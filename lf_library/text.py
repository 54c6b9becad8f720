"""Ready-made labeling functions for text columns.

Every LF here subclasses :class:`mmweak.lf.LabelingFunction`, so it is batched, picklable for
``num_proc`` workers and fingerprinted by its class source plus :meth:`config` (the keyword list,
pattern, lookup table... — change one and only that LF is recomputed).

* :class:`KeywordLF` — a label when any keyword or phrase occurs;
* :class:`RegexLF` — a label when a regular expression matches;
* :class:`LookupLF` — distant supervision from a term → class table (a knowledge base);
* :class:`LengthLF` — a label for short (or long) texts, by word count.

``label`` arguments accept a class index (``0..K-1``) or a class name of the task. Cells that are
not strings (``None``, numbers) always abstain.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

from mmweak.lf import ABSTAIN, Batch, LabelingFunction
from mmweak.task import Task

__all__ = ["KeywordLF", "LengthLF", "LookupLF", "RegexLF", "resolve_label"]

_HEADER_TERMS = {"term", "key", "entity", "phrase", "keyword", "text", "name"}
_HEADER_LABELS = {"label", "class", "target", "category"}


def resolve_label(task: Task, label: int | str, *, lf: str = "?") -> int:
    """Class index of ``label`` (an index ``0..K-1`` or a class name of ``task``).

    Names match exactly first, then case-insensitively; anything else raises ``ValueError``.

    >>> import mmweak
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> resolve_label(spam, "SPAM"), resolve_label(spam, 0)
    (1, 0)
    """
    names = list(task.labels)
    if isinstance(label, bool):
        raise ValueError(f"LF {lf!r}: label must be a class index or name of task {task.name!r}, got {label!r}")
    if isinstance(label, int) or (hasattr(label, "__index__") and not isinstance(label, str)):
        idx = int(label)
        if 0 <= idx < len(names):
            return idx
        raise ValueError(
            f"LF {lf!r}: label {label!r} is out of range for task {task.name!r}; "
            f"use 0..{len(names) - 1} or one of {names}"
        )
    if isinstance(label, str):
        if label in names:
            return names.index(label)
        folded = [n.casefold() for n in names]
        if label.strip().casefold() in folded:
            return folded.index(label.strip().casefold())
        if label.strip().lstrip("-").isdigit():  # e.g. "1" read from a CSV file
            return resolve_label(task, int(label.strip()), lf=lf)
        raise ValueError(f"LF {lf!r}: unknown label {label!r} for task {task.name!r}; classes are {names}")
    raise ValueError(
        f"LF {lf!r}: label must be a class index or name of task {task.name!r}, got {type(label).__name__}"
    )


def _phrase_pattern(phrase: str) -> str:
    """Escaped phrase where any run of whitespace matches any run of whitespace."""
    words = phrase.split()
    if not words:
        raise ValueError("empty keyword")
    return r"\s+".join(re.escape(w) for w in words)


def _alternation(terms: Sequence[str], *, whole_word: bool, case_sensitive: bool) -> re.Pattern[str]:
    # Longest first so that "check out my channel" wins over "check out" at the same position.
    parts = []
    for term in sorted({" ".join(t.split()) for t in terms}, key=lambda t: (-len(t), t)):
        body = _phrase_pattern(term)
        if whole_word:
            # A term may not be glued to letters/digits where its own edge is a letter/digit:
            # "win" misses "window", while ".com" still matches "site.com" and "$$$" matches "$$$5".
            if re.match(r"\w", term):
                body = r"(?<!\w)" + body
            if re.search(r"\w$", term):
                body = body + r"(?!\w)"
        parts.append(body)
    return re.compile("|".join(parts), 0 if case_sensitive else re.IGNORECASE)


def _normalize(term: str, case_sensitive: bool) -> str:
    term = " ".join(term.split())
    return term if case_sensitive else term.casefold()


class KeywordLF(LabelingFunction):
    """Votes ``label`` when any of ``keywords`` occurs in ``column``, else abstains.

    Keywords may be phrases (inner whitespace matches any whitespace). With ``whole_word=True``
    (default) a keyword must not be glued to other letters or digits: ``"win"`` does not fire on
    ``"window"`` (edges that are punctuation, as in ``".com"``, need no boundary). Matching ignores
    case unless ``case_sensitive=True``.

    >>> import mmweak
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lf = KeywordLF("subscribe", task=spam, label="spam", keywords=["subscribe", "my channel"])
    >>> lf({"text": ["Please SUBSCRIBE!", "visit my   channel", "subscribers rule", None]})
    [1, 1, -1, -1]
    """

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        label: int | str,
        keywords: str | Sequence[str],
        column: str = "text",
        case_sensitive: bool = False,
        whole_word: bool = True,
        version: str = "1",
    ) -> None:
        super().__init__(name, task=task, inputs=[column], modality="text", version=version)
        if isinstance(keywords, str):
            keywords = [keywords]
        keywords = [str(k) for k in keywords]
        if not keywords or any(not k.split() for k in keywords):
            raise ValueError(f"LF {name!r}: keywords must be a non-empty list of non-blank strings")
        self.label = resolve_label(task, label, lf=name)
        self.keywords = sorted({" ".join(k.split()) for k in keywords})
        self.column = column
        self.case_sensitive = bool(case_sensitive)
        self.whole_word = bool(whole_word)
        self._regex = _alternation(self.keywords, whole_word=self.whole_word, case_sensitive=self.case_sensitive)

    def label_batch(self, batch: Batch) -> list[int]:
        search = self._regex.search
        return [self.label if isinstance(t, str) and search(t) else ABSTAIN for t in batch[self.column]]

    def config(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "keywords": list(self.keywords),
            "column": self.column,
            "case_sensitive": self.case_sensitive,
            "whole_word": self.whole_word,
        }


class RegexLF(LabelingFunction):
    """Votes ``label`` when ``re.search(pattern, cell, flags)`` matches, else abstains.

    ``flags`` defaults to ``re.IGNORECASE``; pass ``0`` for case-sensitive matching.

    >>> import mmweak
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lf = RegexLF("link", task=spam, label=1, pattern=r"https?://|www\\.|\\.com\\b")
    >>> lf({"text": ["go to WWW.example.org", "great song", "spam.com rocks"]})
    [1, -1, 1]
    """

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        label: int | str,
        pattern: str | re.Pattern[str],
        column: str = "text",
        flags: int | re.RegexFlag = re.IGNORECASE,
        version: str = "1",
    ) -> None:
        super().__init__(name, task=task, inputs=[column], modality="text", version=version)
        self.label = resolve_label(task, label, lf=name)
        if isinstance(pattern, re.Pattern):
            if not isinstance(pattern.pattern, str):
                raise ValueError(f"LF {name!r}: pattern must be a str pattern, not bytes")
            self._regex = pattern
        else:
            try:
                self._regex = re.compile(str(pattern), int(flags))
            except re.error as exc:
                raise ValueError(f"LF {name!r}: invalid regular expression {pattern!r}: {exc}") from exc
        self.pattern = self._regex.pattern
        # re.UNICODE is implied for str patterns; keep only the flags that were asked for.
        self.flags = int(self._regex.flags) & ~int(re.UNICODE)
        self.column = column

    def label_batch(self, batch: Batch) -> list[int]:
        search = self._regex.search
        return [self.label if isinstance(t, str) and search(t) else ABSTAIN for t in batch[self.column]]

    def config(self) -> dict[str, Any]:
        return {"label": self.label, "pattern": self.pattern, "flags": self.flags, "column": self.column}


class LookupLF(LabelingFunction):
    """Distant supervision: a table maps terms (entities, phrases) to classes of the task.

    ``table`` is a mapping ``term -> class`` (index or class name) or a path to a file with term and
    label pairs: ``.csv`` / ``.tsv`` (two columns, optional ``term,label`` header) or ``.json`` (an
    object ``{term: label}`` or a list of ``[term, label]`` pairs or ``{"term":..., "label":...}``).

    * ``mode="exact"``: the cell (whitespace-collapsed, case-folded unless ``case_sensitive``) must
      equal a term;
    * ``mode="contains"`` (default): every term occurring in the cell as a whole word or phrase votes
      its class.

    When the matched terms disagree on the class the LF abstains.

    >>> import mmweak
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lf = LookupLF("kb", task=spam, table={"katy perry": "ham", "free iphone": "spam"})
    >>> lf({"text": ["Katy  Perry rocks", "win a FREE iPhone", "katy perry free iphone", "hello"]})
    [0, 1, -1, -1]
    """

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        table: Mapping[str, int | str] | str | os.PathLike,
        column: str = "text",
        mode: str = "contains",
        case_sensitive: bool = False,
        version: str = "1",
    ) -> None:
        super().__init__(name, task=task, inputs=[column], modality="text", version=version)
        if mode not in ("contains", "exact"):
            raise ValueError(f"LF {name!r}: mode must be 'contains' or 'exact', got {mode!r}")
        self.mode = mode
        self.column = column
        self.case_sensitive = bool(case_sensitive)
        pairs = _read_table(table, name) if isinstance(table, (str, os.PathLike)) else _pairs(table, name)
        lookup: dict[str, int] = {}
        for term, label in pairs:
            if not isinstance(term, str) or not term.split():
                raise ValueError(f"LF {name!r}: lookup terms must be non-blank strings, got {term!r}")
            key = _normalize(term, self.case_sensitive)
            cls = resolve_label(task, label, lf=name)
            if lookup.get(key, cls) != cls:
                raise ValueError(
                    f"LF {name!r}: term {term!r} is mapped to two classes "
                    f"({task.labels[lookup[key]]!r} and {task.labels[cls]!r})"
                )
            lookup[key] = cls
        if not lookup:
            raise ValueError(f"LF {name!r}: the lookup table is empty")
        self.table = dict(sorted(lookup.items()))
        self._regex = (
            _alternation(list(self.table), whole_word=True, case_sensitive=self.case_sensitive)
            if mode == "contains" else None
        )

    def _vote_one(self, text: Any) -> int:
        if not isinstance(text, str):
            return ABSTAIN
        if self.mode == "exact":
            return self.table.get(_normalize(text, self.case_sensitive), ABSTAIN)
        found = {self._class_of(m) for m in self._regex.findall(text)}
        found.discard(ABSTAIN)
        return found.pop() if len(found) == 1 else ABSTAIN

    def _class_of(self, match: str) -> int:
        cls = self.table.get(_normalize(match, self.case_sensitive))
        if cls is not None:
            return cls
        # Case-insensitive regex matching and casefold() disagree on a few characters (e.g. the
        # Turkish dotted capital I): find the term that matches this text the way the regex did.
        flags = 0 if self.case_sensitive else re.IGNORECASE
        for term, cls in self.table.items():
            if re.fullmatch(_phrase_pattern(term), match, flags):
                return cls
        return ABSTAIN

    def label_batch(self, batch: Batch) -> list[int]:
        return [self._vote_one(t) for t in batch[self.column]]

    def config(self) -> dict[str, Any]:
        return {
            "table": [[k, v] for k, v in self.table.items()],
            "mode": self.mode,
            "column": self.column,
            "case_sensitive": self.case_sensitive,
        }


class LengthLF(LabelingFunction):
    """Votes ``label`` by word count: at most ``max_words`` and/or at least ``min_words``.

    >>> import mmweak
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> short = LengthLF("short", task=spam, label="ham", max_words=3)
    >>> short({"text": ["nice song", "please check out my new channel", ""]})
    [0, -1, 0]
    """

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        label: int | str,
        max_words: int | None = None,
        min_words: int | None = None,
        column: str = "text",
        version: str = "1",
    ) -> None:
        super().__init__(name, task=task, inputs=[column], modality="text", version=version)
        if max_words is None and min_words is None:
            raise ValueError(f"LF {name!r}: give max_words, min_words or both")
        if max_words is not None and min_words is not None and min_words > max_words:
            raise ValueError(f"LF {name!r}: min_words ({min_words}) > max_words ({max_words})")
        self.label = resolve_label(task, label, lf=name)
        self.max_words = None if max_words is None else int(max_words)
        self.min_words = None if min_words is None else int(min_words)
        self.column = column

    def _vote_one(self, text: Any) -> int:
        if not isinstance(text, str):
            return ABSTAIN
        n = len(text.split())
        if self.max_words is not None and n > self.max_words:
            return ABSTAIN
        if self.min_words is not None and n < self.min_words:
            return ABSTAIN
        return self.label

    def label_batch(self, batch: Batch) -> list[int]:
        return [self._vote_one(t) for t in batch[self.column]]

    def config(self) -> dict[str, Any]:
        return {"label": self.label, "max_words": self.max_words, "min_words": self.min_words, "column": self.column}


# -- lookup tables ---------------------------------------------------------------------------------
def _pairs(table: Any, name: str) -> list[tuple[Any, Any]]:
    if isinstance(table, Mapping):
        return list(table.items())
    if isinstance(table, (list, tuple)):
        out = []
        for item in table:
            if isinstance(item, Mapping):
                term = next((item[k] for k in ("term", "key", "entity", "phrase") if k in item), None)
                label = next((item[k] for k in ("label", "class") if k in item), None)
                if term is None or label is None:
                    raise ValueError(f"LF {name!r}: table entries need 'term' and 'label' keys, got {dict(item)}")
                out.append((term, label))
            elif isinstance(item, (list, tuple)) and len(item) == 2:
                out.append((item[0], item[1]))
            else:
                raise ValueError(f"LF {name!r}: table entries must be [term, label] pairs, got {item!r}")
        return out
    raise ValueError(f"LF {name!r}: table must be a mapping, a list of pairs or a file path, got {type(table).__name__}")


def _read_table(path: str | os.PathLike, name: str) -> list[tuple[Any, Any]]:
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"LF {name!r}: lookup table file {str(p)!r} does not exist")
    suffix = p.suffix.lower()
    if suffix == ".json":
        with open(p, encoding="utf-8") as f:
            return _pairs(json.load(f), name)
    if suffix not in (".csv", ".tsv", ".txt"):
        raise ValueError(f"LF {name!r}: lookup table {str(p)!r} must be .csv, .tsv or .json")
    delimiter = "\t" if suffix == ".tsv" else ","
    out: list[tuple[Any, Any]] = []
    with open(p, encoding="utf-8", newline="") as f:
        for i, row in enumerate(csv.reader(f, delimiter=delimiter)):
            if not row or all(not c.strip() for c in row) or row[0].lstrip().startswith("#"):
                continue
            if len(row) != 2:
                raise ValueError(f"LF {name!r}: line {i + 1} of {str(p)!r} must have 2 columns (term, label), got {row}")
            term, label = row[0].strip(), row[1].strip()
            if not out and term.lower() in _HEADER_TERMS and label.lower() in _HEADER_LABELS:
                continue  # header
            out.append((term, label))
    return out
