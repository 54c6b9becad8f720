"""Keyword and phrase patterns, in the two spellings the text LFs need.

* :func:`keyword_regex` — the Python reference: an alternation whose whole-word edges are
  look-arounds, so ``"win"`` misses ``"window"`` while ``".com"`` still matches ``"site.com"``;
* :func:`keyword_search_pattern` — the same question with *consuming* edges (a non-word character or
  the end of the text), which RE2 can run. For "does any keyword occur?" the two agree on every
  string: a look-around occurrence at one position is a consuming match starting one character
  earlier.

>>> rx = keyword_regex(["win", ".com"], whole_word=True, case_sensitive=False)
>>> bool(rx.search("Window")), bool(rx.search("WIN big")), bool(rx.search("site.com"))
(False, True, True)
"""

from __future__ import annotations

import re
from typing import Sequence

__all__ = ["keyword_regex", "keyword_search_pattern", "phrase_pattern"]


def phrase_pattern(phrase: str) -> str:
    """Escaped phrase where any run of whitespace matches any run of whitespace."""
    words = phrase.split()
    if not words:
        raise ValueError("empty keyword")
    return r"\s+".join(re.escape(w) for w in words)


def _terms(terms: Sequence[str]) -> list[str]:
    # Longest first so that "check out my channel" wins over "check out" at the same position.
    return sorted({" ".join(t.split()) for t in terms}, key=lambda t: (-len(t), t))


def keyword_regex(terms: Sequence[str], *, whole_word: bool, case_sensitive: bool) -> re.Pattern[str]:
    """Compiled alternation of ``terms`` with look-around word edges (the Python reference)."""
    parts = []
    for term in _terms(terms):
        body = phrase_pattern(term)
        if whole_word:
            # A term may not be glued to letters/digits where its own edge is a letter/digit.
            if re.match(r"\w", term):
                body = r"(?<!\w)" + body
            if re.search(r"\w$", term):
                body = body + r"(?!\w)"
        parts.append(body)
    return re.compile("|".join(parts), 0 if case_sensitive else re.IGNORECASE)


def keyword_search_pattern(terms: Sequence[str], *, whole_word: bool) -> str:
    """The same alternation with consuming word edges, for existence tests on RE2 (no look-arounds)."""
    parts = []
    for term in _terms(terms):
        body = phrase_pattern(term)
        if whole_word:
            if re.match(r"\w", term):
                body = r"(?:\A|\W)" + body
            if re.search(r"\w$", term):
                body = body + r"(?:\W|\Z)"
        parts.append(body)
    return "|".join(parts)
