"""The twenty rules of :mod:`benchmarks.text_rules`, built with ``lf_library.text`` as an mmweak user writes them."""

from __future__ import annotations

import mmweak
from lf_library.text import KeywordLF, LengthLF, LookupLF, RegexLF

try:
    from benchmarks.text_rules import (
        HAM,
        KEYWORDS,
        LONG_WORDS,
        LOOKUP,
        ORDER,
        PLAIN,
        REGEXES,
        SHORT_WORDS,
        SPAM_,
        corpus,
        real_texts,
    )
except ImportError:  # run as a script from benchmarks/
    from text_rules import (  # type: ignore
        HAM,
        KEYWORDS,
        LONG_WORDS,
        LOOKUP,
        ORDER,
        PLAIN,
        REGEXES,
        SHORT_WORDS,
        SPAM_,
        corpus,
        real_texts,
    )

SPAM = mmweak.Task("spam", ["ham", "spam"])
__all__ = ["PLAIN", "SPAM", "corpus", "mmweak_lfs", "real_texts"]


def mmweak_lfs(n: int = 20, *, edit: str | None = None) -> list[mmweak.LabelingFunction]:
    """The first ``n`` LFs built with ``lf_library.text``; ``edit`` names one whose keywords/pattern change."""
    lfs: list[mmweak.LabelingFunction] = []
    for name, label, pattern, flags in REGEXES:
        if name == edit:
            pattern = pattern + "|xyzzy"
        lfs.append(RegexLF(name, task=SPAM, label=label, pattern=pattern, flags=flags))
    for name, label, words in KEYWORDS:
        if name == edit:
            words = [*words, "xyzzy"]
        lfs.append(KeywordLF(name, task=SPAM, label=label, keywords=words))
    lfs.append(LookupLF("artist", task=SPAM, table=dict(LOOKUP, **({"xyzzy": HAM} if edit == "artist" else {}))))
    lfs.append(LengthLF("short", task=SPAM, label=HAM, max_words=SHORT_WORDS + (edit == "short")))
    lfs.append(LengthLF("long", task=SPAM, label=SPAM_, min_words=LONG_WORDS))
    order = ORDER
    by_name = {lf.name: lf for lf in lfs}
    return [by_name[name] for name in order[:n]]
