"""KeywordLF: a class when any keyword or phrase occurs in the text."""

from __future__ import annotations

import re
from typing import Any, Sequence

from mmweak.task import Task

from ..labels import resolve_label
from .base import PatternRuleLF, try_translate
from .patterns import keyword_regex, keyword_search_pattern


class KeywordLF(PatternRuleLF):
    """Votes ``label`` when any of ``keywords`` occurs in ``column``, else abstains.

    Keywords may be phrases (inner whitespace matches any whitespace). With ``whole_word=True``
    (default) a keyword must not be glued to other letters or digits: ``"win"`` does not fire on
    ``"window"`` (edges that are punctuation, as in ``".com"``, need no boundary). Matching ignores
    case unless ``case_sensitive=True``; "letter", "digit", "whitespace" and "same letter in another
    case" mean what they mean to Python's ``re`` (Unicode). Runs vectorized on RE2 with exactly these
    semantics.

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
        super().__init__(name, task=task, column=column, version=version)
        if isinstance(keywords, str):
            keywords = [keywords]
        keywords = [str(k) for k in keywords]
        if not keywords or any(not k.split() for k in keywords):
            raise ValueError(f"LF {name!r}: keywords must be a non-empty list of non-blank strings")
        self.label = resolve_label(task, label, lf=name)
        self.keywords = sorted({" ".join(k.split()) for k in keywords})
        self.case_sensitive = bool(case_sensitive)
        self.whole_word = bool(whole_word)
        self._regex = keyword_regex(self.keywords, whole_word=self.whole_word, case_sensitive=self.case_sensitive)
        self._re2, self._python_reason = try_translate(
            keyword_search_pattern(self.keywords, whole_word=self.whole_word),
            0 if self.case_sensitive else re.IGNORECASE,
        )

    def config(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "keywords": list(self.keywords),
            "column": self.column,
            "case_sensitive": self.case_sensitive,
            "whole_word": self.whole_word,
        }
