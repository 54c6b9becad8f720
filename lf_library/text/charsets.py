"""Python's own character classes, as explicit code-point sets an RE2 pattern can spell out.

RE2 (the regex engine behind ``pyarrow.compute``) reads ``\\w``, ``\\d``, ``\\s`` and ``\\b`` as ASCII,
and its case folding and Unicode tables are not Python's. To vote exactly as Python's ``re`` does, the
translator never hands RE2 a class or a case-insensitive letter: it asks Python itself which code
points a one-character pattern matches (one scan of a string holding every code point, cached per
process) and writes that set out as ranges. Whatever Python version runs, the sets are its own.

>>> ranges_of(r"k", re.IGNORECASE)  # k, K and the Kelvin sign
((75, 75), (107, 107), (8490, 8490))
>>> re2_class(ranges_of(r"\\d", re.ASCII))
'[\\\\x{30}-\\\\x{39}]'
"""

from __future__ import annotations

import functools
import re

import numpy as np

MAX_CODE_POINT = 0x10FFFF
_SURROGATES = (0xD800, 0xDFFF)  # not encodable in UTF-8: never in Arrow strings, never in RE2 classes
Ranges = tuple[tuple[int, int], ...]


@functools.lru_cache(maxsize=1)
def _every_code_point() -> str:
    return "".join(map(chr, range(MAX_CODE_POINT + 1)))


@functools.lru_cache(maxsize=4096)
def ranges_of(pattern: str, flags: int = 0) -> Ranges:
    """Code points (as inclusive ranges, surrogates left out) that the one-character ``pattern`` matches.

    The scan matches runs of consecutive code points (``(?:pattern)+``), not one code point at a time: a class
    like ``.`` or ``\\W`` holds a million code points in a few runs, and a match object each took 0.2 s.

    >>> ranges_of("[a-cx]"), ranges_of("k", re.IGNORECASE)
    (((97, 99), (120, 120)), ((75, 75), (107, 107), (8490, 8490)))
    """
    lo_s, hi_s = _SURROGATES
    out: list[tuple[int, int]] = []
    for m in re.compile(f"(?:{pattern})+", flags).finditer(_every_code_point()):
        lo, hi = m.start(), m.end() - 1
        if lo < lo_s:
            out.append((lo, min(hi, lo_s - 1)))
        if hi > hi_s:
            out.append((max(lo, hi_s + 1), hi))
    return tuple(out)


def _to_ranges(points: np.ndarray) -> Ranges:
    points = points[(points < _SURROGATES[0]) | (points > _SURROGATES[1])]
    if not len(points):
        return ()
    breaks = np.flatnonzero(np.diff(points) != 1)
    starts = np.r_[points[0], points[breaks + 1]]
    ends = np.r_[points[breaks], points[-1]]
    return tuple(zip(starts.tolist(), ends.tolist()))


def complement(ranges: Ranges) -> Ranges:
    """Every encodable code point not in ``ranges``."""
    out = []
    nxt = 0
    edges = sorted([*ranges, _SURROGATES])
    for lo, hi in edges:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = max(nxt, hi + 1)
    if nxt <= MAX_CODE_POINT:
        out.append((nxt, MAX_CODE_POINT))
    return tuple(out)


def _escape(cp: int) -> str:
    return f"\\x{{{cp:X}}}"


def re2_class(ranges: Ranges) -> str:
    """RE2 syntax for exactly the code points in ``ranges`` (a class, or a never-matching empty set)."""
    if not ranges:
        return "[^\\x{0}-\\x{10FFFF}]"
    if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
        return _escape(ranges[0][0])
    body = "".join(_escape(lo) if lo == hi else f"{_escape(lo)}-{_escape(hi)}" for lo, hi in ranges)
    return f"[{body}]"


def python_escape(cp: int) -> str:
    """A code point as a Python ``re`` escape that works inside and outside classes."""
    return f"\\U{cp:08x}"
