"""What every rule LF over one text column shares: a per-row Python reference and a vectorized path.

A subclass writes :meth:`TextRuleLF.vote_text` (one string in, one vote out: the reference semantics,
used for rows called by hand, for non-string columns and for the rows RE2 cannot be trusted with) and
:meth:`TextRuleLF.vote_strings` (a whole Arrow string column in, votes out, plus the rows to re-vote
in Python). Both give the same votes on every input; the test suite checks it on real text.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mmweak.lf import ABSTAIN, Batch, LabelingFunction
from mmweak.task import Task

from .re2 import Translation, Untranslatable, translate


def is_string_type(t: pa.DataType) -> bool:
    """Arrow types whose cells are Python ``str``."""
    return (
        pa.types.is_string(t) or pa.types.is_large_string(t)
        or (hasattr(pa.types, "is_string_view") and pa.types.is_string_view(t))
    )


def matches(strings: pa.ChunkedArray | pa.Array, re2_pattern: str) -> np.ndarray:
    """Boolean numpy mask: does ``re2_pattern`` occur in each string (nulls: False)."""
    hit = pc.fill_null(pc.match_substring_regex(strings, re2_pattern), False)
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


def try_translate(pattern: str, flags: int) -> tuple[Translation | None, str | None]:
    """The RE2 translation of a Python pattern, or ``(None, why not)``."""
    try:
        return translate(pattern, flags), None
    except Untranslatable as exc:
        return None, str(exc)


class TextRuleLF(LabelingFunction):
    """Base class of the rule LFs over one text column (see the module docstring)."""

    def __init__(self, name: str, *, task: Task, column: str, version: str) -> None:
        super().__init__(name, task=task, inputs=[column], modality="text", version=version)
        self.column = column

    # -- what subclasses implement ------------------------------------------------------------------
    def vote_text(self, text: str) -> int:
        """The reference vote on one string."""
        raise NotImplementedError

    def vote_strings(self, strings: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray | None]:
        """Vectorized votes on a string column and a mask of rows to re-vote with :meth:`vote_text`."""
        raise NotImplementedError

    def engine(self) -> tuple[str, str | None]:
        """``("re2", rows voted in Python or None)`` when vectorized, ``("python", why)`` otherwise."""
        return "re2", None

    # -- the LF protocol ----------------------------------------------------------------------------
    def label_batch(self, batch: Batch) -> list[int]:
        vote = self.vote_text
        return [vote(t) if isinstance(t, str) else ABSTAIN for t in batch[self.column]]

    def label_arrow(self, table: pa.Table) -> np.ndarray | list[int]:
        strings = table.column(self.column)
        if self.engine()[0] != "re2" or not is_string_type(strings.type):
            return self.label_batch({self.column: strings.to_pylist()})
        votes, redo = self.vote_strings(strings)
        if redo is not None and redo.any():
            rows = np.flatnonzero(redo)
            texts = strings.take(pa.array(rows)).to_pylist()
            votes[rows] = [self.vote_text(t) if isinstance(t, str) else ABSTAIN for t in texts]
        return votes

    def spec(self) -> dict[str, Any]:
        engine, detail = self.engine()
        out = {**super().spec(), "engine": "re2 (pyarrow.compute)" if engine == "re2" else "python re"}
        if engine == "re2" and detail:
            out["python_rows"] = detail
        elif engine != "re2":
            out["python_reason"] = detail
        return out


def votes_where(mask: np.ndarray, label: int) -> np.ndarray:
    """``label`` where ``mask`` holds, abstain elsewhere (int8)."""
    return np.where(mask, np.int8(label), np.int8(ABSTAIN)).astype(np.int8)


def ascii_whitespace_class() -> str:
    """RE2 class of the ASCII characters ``str.split()`` splits on (``\\t``..``\\r``, ``\\x1c``..``\\x1f``, space)."""
    return "[" + "".join(f"\\x{{{c:X}}}" for c in range(128) if chr(c).isspace()) + "]"


