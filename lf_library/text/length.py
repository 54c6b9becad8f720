"""LengthLF: a class by word count."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mmweak.lf import ABSTAIN
from mmweak.task import Task

from ..labels import resolve_label
from .base import TextRuleLF, votes_where
from .charsets import complement, ranges_of, re2_class


class LengthLF(TextRuleLF):
    """Votes ``label`` by word count (``len(text.split())``): at most ``max_words`` and/or at least ``min_words``.

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
        super().__init__(name, task=task, column=column, version=version)
        if max_words is None and min_words is None:
            raise ValueError(f"LF {name!r}: give max_words, min_words or both")
        if max_words is not None and min_words is not None and min_words > max_words:
            raise ValueError(f"LF {name!r}: min_words ({min_words}) > max_words ({max_words})")
        self.label = resolve_label(task, label, lf=name)
        self.max_words = None if max_words is None else int(max_words)
        self.min_words = None if min_words is None else int(min_words)
        # A word is a maximal run of what str.split() does not split on (Python's Unicode whitespace).
        self._word = re2_class(complement(ranges_of(r"\s"))) + "+"

    def _ok(self, n: Any) -> Any:
        ok = True
        if self.max_words is not None:
            ok = ok & (n <= self.max_words)
        if self.min_words is not None:
            ok = ok & (n >= self.min_words)
        return ok

    def vote_text(self, text: str) -> int:
        return self.label if self._ok(len(text.split())) else ABSTAIN

    def vote_strings(self, strings: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray | None]:
        counts = pc.count_substring_regex(strings, self._word)
        n = np.asarray(pc.fill_null(counts, -1).to_numpy(zero_copy_only=False))
        ok = np.asarray(self._ok(n), dtype=bool) & (n >= 0)
        return votes_where(ok, self.label), None

    def config(self) -> dict[str, Any]:
        return {"label": self.label, "max_words": self.max_words, "min_words": self.min_words, "column": self.column}
