"""LengthLF: a class by word count."""

from __future__ import annotations

from typing import Any

import numpy as np

from mmweak.lf import ABSTAIN
from mmweak.task import Task

from ..labels import resolve_label
from .base import Strings, TextRuleLF, try_translate, votes_where
from .re2 import Translation


def at_least_words(k: int) -> str:
    """A Python pattern that finds a match exactly in strings with at least ``k`` words (``str.split()``).

    Counting words is slow in RE2 (one match per word); whether there are at least ``k`` is one search.
    """
    if k <= 0:
        return ""
    return r"\A\s*" + (rf"(?:\S+\s+){{{k - 1}}}" if k > 1 else "") + r"\S"


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
        # "at most m words" is "not at least m + 1 words".
        self._too_many: Translation | None = None
        self._enough: Translation | None = None
        self._python_reason: str | None = None
        for attr, k in (("_too_many", self.max_words), ("_enough", self.min_words)):
            if k is None or (attr == "_too_many" and k < 0):
                continue
            translation, why = try_translate(at_least_words(k + 1 if attr == "_too_many" else k), 0)
            if translation is None:
                self._python_reason = why
            setattr(self, attr, translation)

    def _ok(self, n: int) -> bool:
        if self.max_words is not None and n > self.max_words:
            return False
        return self.min_words is None or n >= self.min_words

    def vote_text(self, text: str) -> int:
        return self.label if self._ok(len(text.split())) else ABSTAIN

    def vote_strings(self, strings: Strings) -> tuple[np.ndarray, np.ndarray | None]:
        ok = np.ones(strings.n, dtype=bool)
        if self.max_words is not None:
            ok &= ~strings.matches(self._too_many) if self._too_many is not None else self.max_words >= 0
        if self._enough is not None:
            ok &= strings.matches(self._enough)
        return votes_where(ok, self.label), None

    def engine(self) -> tuple[str, str | None]:
        if self._python_reason is not None:
            return "python", self._python_reason
        return "re2", None

    def config(self) -> dict[str, Any]:
        return {"label": self.label, "max_words": self.max_words, "min_words": self.min_words, "column": self.column}
