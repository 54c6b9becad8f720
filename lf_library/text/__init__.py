"""Ready-made labeling functions for text columns.

Every LF here is batched, picklable for ``num_proc`` workers and fingerprinted by its code and
settings (change the keyword list and only that LF is recomputed). Each keeps Python's ``re``
semantics exactly and runs **vectorized on Arrow** (RE2 through ``pyarrow.compute``): the few rows or
patterns RE2 cannot judge exactly are voted in Python, and ``spec()`` says which.

* :class:`KeywordLF` — a label when any keyword or phrase occurs;
* :class:`RegexLF` — a label when a regular expression matches;
* :class:`LookupLF` — distant supervision from a term → class table (a knowledge base);
* :class:`LengthLF` — a label for short (or long) texts, by word count.

``label`` arguments accept a class index (``0..K-1``) or a class name of the task. Cells that are
not strings (``None``, numbers) always abstain.
"""

from ..labels import resolve_label
from .keyword import KeywordLF
from .length import LengthLF
from .lookup import LookupLF
from .regex import RegexLF

__all__ = ["KeywordLF", "LengthLF", "LookupLF", "RegexLF", "resolve_label"]
