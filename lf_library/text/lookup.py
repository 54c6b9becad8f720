"""LookupLF: distant supervision from a term -> class table (a knowledge base)."""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mmweak.lf import ABSTAIN
from mmweak.task import Task

from ..labels import resolve_label
from .base import Strings, TextRuleLF, ascii_whitespace_class, try_translate
from .patterns import keyword_regex, keyword_search_pattern
from .re2 import Translation

_HEADER_TERMS = {"term", "key", "entity", "phrase", "keyword", "text", "name"}
_HEADER_LABELS = {"label", "class", "target", "category"}


def _normalize(term: str, case_sensitive: bool) -> str:
    term = " ".join(term.split())
    return term if case_sensitive else term.casefold()


class LookupLF(TextRuleLF):
    """Distant supervision: a table maps terms (entities, phrases) to classes of the task.

    ``table`` is a mapping ``term -> class`` (index or class name) or a path to a file with term and
    label pairs: ``.csv`` / ``.tsv`` (two columns, optional ``term,label`` header) or ``.json`` (an
    object ``{term: label}`` or a list of ``[term, label]`` pairs or ``{"term":..., "label":...}``).

    * ``mode="exact"``: the cell (whitespace-collapsed, case-folded unless ``case_sensitive``) must
      equal a term;
    * ``mode="contains"`` (default): every term occurring in the cell as a whole word or phrase votes
      its class (occurrences may overlap).

    When the terms found point to more than one class the LF abstains. Both modes run vectorized; in
    exact mode, rows with non-ASCII text are looked up in Python (``str.casefold`` has no Arrow twin).

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
        super().__init__(name, task=task, column=column, version=version)
        if mode not in ("contains", "exact"):
            raise ValueError(f"LF {name!r}: mode must be 'contains' or 'exact', got {mode!r}")
        self.mode = mode
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
        self._by_class: dict[int, re.Pattern[str]] = {}
        self._re2_by_class: dict[int, Translation] = {}
        self._python_reason: str | None = None
        if mode == "contains":
            flags = 0 if self.case_sensitive else re.IGNORECASE
            for cls in sorted(set(self.table.values())):
                terms = [t for t, c in self.table.items() if c == cls]
                self._by_class[cls] = keyword_regex(terms, whole_word=True, case_sensitive=self.case_sensitive)
                translation, why = try_translate(keyword_search_pattern(terms, whole_word=True), flags)
                if translation is None:
                    self._python_reason = why
                else:
                    self._re2_by_class[cls] = translation

    # -- reference ----------------------------------------------------------------------------------
    def vote_text(self, text: str) -> int:
        if self.mode == "exact":
            return self.table.get(_normalize(text, self.case_sensitive), ABSTAIN)
        found = [cls for cls, rx in self._by_class.items() if rx.search(text)]
        return found[0] if len(found) == 1 else ABSTAIN

    # -- vectorized ---------------------------------------------------------------------------------
    def vote_strings(self, strings: Strings) -> tuple[np.ndarray, np.ndarray | None]:
        if self.mode == "exact":
            return self._exact(strings)
        n = strings.n
        hits = np.zeros(n, dtype=np.int16)
        first = np.full(n, ABSTAIN, dtype=np.int8)
        redo = None
        for cls, translation in self._re2_by_class.items():
            hit = strings.matches(translation)
            first[hit & (hits == 0)] = cls
            hits += hit
            risky = strings.risky(translation)
            if risky is not None:
                redo = risky if redo is None else redo | risky
        return np.where(hits == 1, first, np.int8(ABSTAIN)).astype(np.int8), redo

    def _exact(self, split: Strings) -> tuple[np.ndarray, np.ndarray]:
        # ASCII rows: str.split()/" ".join and casefold have exact Arrow twins; the rest go to Python.
        ascii_rows = split.is_ascii
        votes = np.full(split.n, ABSTAIN, dtype=np.int8)
        ascii_strings = split.strings.filter(pa.array(ascii_rows))
        norm = pc.utf8_trim(pc.replace_substring_regex(ascii_strings, ascii_whitespace_class() + "+", " "), " ")
        if not self.case_sensitive:
            norm = pc.ascii_lower(norm)
        keys = pa.array(list(self.table), pa.string())
        classes = np.asarray(list(self.table.values()), dtype=np.int8)
        idx = pc.index_in(norm, value_set=keys)
        pos = np.asarray(pc.fill_null(idx, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
        votes[ascii_rows] = np.where(pos >= 0, classes[np.maximum(pos, 0)], np.int8(ABSTAIN))
        return votes, ~ascii_rows

    def engine(self) -> tuple[str, str | None]:
        if self.mode == "exact":
            return "re2", "exact lookup of text with non-ASCII characters"
        if self._python_reason is not None:
            return "python", self._python_reason
        reasons = sorted({t.risky_reason for t in self._re2_by_class.values() if t.risky_reason})
        return "re2", "; ".join(reasons) or None

    def config(self) -> dict[str, Any]:
        return {
            "table": [[k, v] for k, v in self.table.items()],
            "mode": self.mode,
            "column": self.column,
            "case_sensitive": self.case_sensitive,
        }


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
    raise ValueError(
        f"LF {name!r}: table must be a mapping, a list of pairs or a file path, got {type(table).__name__}")


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
                raise ValueError(
                    f"LF {name!r}: line {i + 1} of {str(p)!r} must have 2 columns (term, label), got {row}"
                )
            term, label = row[0].strip(), row[1].strip()
            if not out and term.lower() in _HEADER_TERMS and label.lower() in _HEADER_LABELS:
                continue  # header
            out.append((term, label))
    return out
