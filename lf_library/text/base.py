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

from mmweak.batch_memo import memo
from mmweak.errors import LFError
from mmweak.lf import ABSTAIN, Batch, LabelingFunction, Resources
from mmweak.task import Task

from .re2 import Translation, Untranslatable, translate


def is_string_type(t: pa.DataType) -> bool:
    """Arrow types whose cells are Python ``str``."""
    return (
        pa.types.is_string(t) or pa.types.is_large_string(t)
        or (hasattr(pa.types, "is_string_view") and pa.types.is_string_view(t))
    )


def _search(strings: pa.ChunkedArray | pa.Array, re2_pattern: str) -> np.ndarray:
    hit = pc.fill_null(pc.match_substring_regex(strings, re2_pattern), False)
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


def code_points_present(strings: pa.ChunkedArray) -> np.ndarray:
    """Sorted code points that may occur in ``strings``: all of ASCII plus every other one found.

    Decoded straight from the UTF-8 buffers with numpy (lead bytes and their continuation bytes), so it
    costs one pass over the bytes and no Python per row; only the bytes around lead bytes are widened.

    >>> code_points_present(pa.chunked_array([["caf\u00e9", None, "\u2665 x"]]))[128:].tolist()
    [233, 9829]
    """
    found = [np.arange(128, dtype=np.int64)]
    for chunk in strings.chunks:
        if len(chunk) == 0 or chunk.buffers()[2] is None:
            continue
        large = pa.types.is_large_string(chunk.type)
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64 if large else np.int32)
        lo, hi = int(offsets[chunk.offset]), int(offsets[chunk.offset + len(chunk)])
        b = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)[lo:hi]
        lead = np.flatnonzero(b >= 0xC0)
        if not len(lead):
            continue
        # Bytes past the end read as 0: a truncated sequence only adds a code point that cannot match.
        around = lead[:, None] + np.arange(4)
        g = np.where(around < len(b), b[np.minimum(around, len(b) - 1)], 0).astype(np.int64)
        first, c1, c2, c3 = g[:, 0], g[:, 1] & 0x3F, g[:, 2] & 0x3F, g[:, 3] & 0x3F
        cp = np.where(
            first < 0xE0, ((first & 0x1F) << 6) | c1,
            np.where(first < 0xF0, ((first & 0x0F) << 12) | (c1 << 6) | c2,
                     ((first & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3),
        )
        found.append(np.unique(cp))
    return np.unique(np.concatenate(found))


class Strings:
    """A batch's string column with what every LF on it shares: the code points present, ASCII rows.

    Each translated pattern is rendered with its classes cut down to the code points present in the
    batch (exact for these strings, and a small, fast RE2 program); the rendering is cached per batch.
    """

    def __init__(self, strings: pa.ChunkedArray) -> None:
        if strings.num_chunks > 1:
            # pyarrow compiles a regex once per chunk, and a dataset read from Parquet arrives in
            # row-group chunks (often 1,000 rows): one contiguous copy per batch, shared by every LF,
            # costs less than compiling every LF's pattern once per chunk.
            strings = pa.chunked_array([strings.combine_chunks()], type=strings.type)
        self.strings = strings
        self.n = len(strings)
        self.present = code_points_present(strings)
        self.key = self.present.tobytes()
        self._is_ascii: np.ndarray | None = None

    @classmethod
    def of(cls, column: str, strings: pa.ChunkedArray) -> "Strings":
        # Within an apply_lfs batch every LF on ``column`` gets the same object.
        return memo(("text-strings", column, len(strings)), lambda: cls(strings))

    @property
    def is_ascii(self) -> np.ndarray:
        if self._is_ascii is None:
            mask = pc.fill_null(pc.string_is_ascii(self.strings), True)
            self._is_ascii = np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)
        return self._is_ascii

    def matches(self, t: Translation) -> np.ndarray:
        """Rows where the translated pattern occurs."""
        return _search(self.strings, t.for_text(self.present, self.key)[0])

    def risky(self, t: Translation) -> np.ndarray | None:
        """Rows the pattern may misjudge (to re-vote in Python), or ``None`` when there are none."""
        pattern = t.for_text(self.present, self.key)[1]
        return None if pattern is None else _search(self.strings, pattern)


def try_translate(pattern: str, flags: int) -> tuple[Translation | None, str | None]:
    """The RE2 translation of a Python pattern, or ``(None, why not)``."""
    try:
        return translate(pattern, flags), None
    except Untranslatable as exc:
        return None, str(exc)


class TextRuleLF(LabelingFunction):
    """Base class of the rule LFs over one text column (see the module docstring)."""

    #: Rule LFs cost little per row and a fixed regex compile per batch (their patterns are rendered for
    #: the code points each batch holds), so they run in larger batches than other vectorized LFs.
    resources = Resources(batch_size=50_000)
    # Compiled forms of the config (Python regexes, RE2 translations): derived, so not fingerprinted.
    _fingerprint_exclude = ("_regex", "_re2", "_by_class", "_re2_by_class", "_too_many", "_enough", "_python_reason")

    def __init__(self, name: str, *, task: Task, column: str, version: str) -> None:
        super().__init__(name, task=task, inputs=[column], modality="text", version=version)
        self.column = column

    # -- what subclasses implement ------------------------------------------------------------------
    def vote_text(self, text: str) -> int:
        """The reference vote on one string."""
        raise NotImplementedError

    def vote_strings(self, strings: Strings) -> tuple[np.ndarray, np.ndarray | None]:
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
        if not (is_string_type(strings.type) or pa.types.is_null(strings.type)):
            # Every cell would abstain (a number or a list is not text): a wrong column, not an LF with no opinion.
            raise LFError(f"LF {self.name!r} is a text rule but column {self.column!r} holds {strings.type}, not "
                          "strings: point it at a text column (or join the list into one string first)",
                          lf=self.name, column=self.column, batch_level=True)
        if self.engine()[0] != "re2" or not is_string_type(strings.type):
            return self.label_batch({self.column: strings.to_pylist()})
        votes, redo = self.vote_strings(Strings.of(self.column, strings))
        if strings.null_count:  # a null cell is not a string: abstain, as the Python path does
            votes[np.asarray(pc.is_null(strings).to_numpy(zero_copy_only=False), dtype=bool)] = ABSTAIN
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


class PatternRuleLF(TextRuleLF):
    """A rule LF that votes ``label`` where one pattern matches (keywords, a regex).

    A subclass sets ``label``, ``_regex`` (the compiled Python pattern: the reference) and, through
    :func:`try_translate`, ``_re2`` and ``_python_reason`` in its ``__init__``.
    """

    label: int
    _regex: re.Pattern[str]
    _re2: Translation | None
    _python_reason: str | None

    def vote_text(self, text: str) -> int:
        return self.label if self._regex.search(text) else ABSTAIN

    def vote_strings(self, strings: Strings) -> tuple[np.ndarray, np.ndarray | None]:
        assert self._re2 is not None
        return votes_where(strings.matches(self._re2), self.label), strings.risky(self._re2)

    def engine(self) -> tuple[str, str | None]:
        if self._re2 is None:
            return "python", self._python_reason
        return "re2", self._re2.risky_reason


def votes_where(mask: np.ndarray, label: int) -> np.ndarray:
    """``label`` where ``mask`` holds, abstain elsewhere (int8)."""
    return np.where(mask, np.int8(label), np.int8(ABSTAIN)).astype(np.int8)


def ascii_whitespace_class() -> str:
    """RE2 class of the ASCII characters ``str.split()`` splits on (``\\t``..``\\r``, ``\\x1c``..``\\x1f``, space)."""
    return "[" + "".join(f"\\x{{{c:X}}}" for c in range(128) if chr(c).isspace()) + "]"


