"""RegexLF: a class when a regular expression matches."""

from __future__ import annotations

import re
from typing import Any

from mmweak.task import Task

from ..labels import resolve_label
from .base import PatternRuleLF, try_translate


class RegexLF(PatternRuleLF):
    """Votes ``label`` when ``re.search(pattern, cell, flags)`` matches, else abstains.

    ``flags`` defaults to ``re.IGNORECASE``; pass ``0`` for case-sensitive matching. The pattern keeps
    Python's meaning exactly. At construction it is translated to RE2 and runs vectorized; a pattern
    RE2 cannot express (look-arounds, back-references, ...) runs on Python ``re``, and ``spec()`` says
    which and why.

    >>> import mmweak
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lf = RegexLF("link", task=spam, label=1, pattern=r"https?://|www\\.|\\.com\\b")
    >>> lf({"text": ["go to WWW.example.org", "great song", "spam.com rocks"]})
    [1, -1, 1]
    >>> lf.spec()["engine"], RegexLF("after", task=spam, label=1, pattern=r"(?<=buy )now").spec()["engine"]
    ('re2 (pyarrow.compute)', 'python re')
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
        super().__init__(name, task=task, column=column, version=version)
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
        self._re2, self._python_reason = try_translate(self.pattern, self.flags)

    def config(self) -> dict[str, Any]:
        return {"label": self.label, "pattern": self.pattern, "flags": self.flags, "column": self.column}
