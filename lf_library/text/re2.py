"""Translate a Python ``re`` pattern into an RE2 pattern that finds a match in exactly the same strings.

The rule LFs only ask *whether* a pattern occurs (``re.search`` is not ``None``), so the translation
needs to preserve that and nothing else: groups become non-capturing, and every character class,
case-insensitive letter and ``.`` is spelled out as the code points Python's own ``re`` matches
(:mod:`lf_library.text.charsets`), because RE2's ``\\w``, ``\\d``, ``\\s`` and case folding differ.

Three Python constructs have no exact RE2 spelling, yet differ only on recognisable strings. Their rows
are flagged by a second, *risky* RE2 pattern and voted by Python ``re`` instead, which keeps the votes
identical while the rest run vectorized:

* ``\\b``/``\\B`` are ASCII in RE2: they agree with Python on strings without non-ASCII word characters;
* ``$`` (without MULTILINE) also matches before a final newline in Python: it agrees on strings that do
  not end with ``\\n``;
* ``\\B`` matches the empty string in RE2 and not in Python 3.11's ``re``, and RE2 also finds it between the
  UTF-8 bytes of one non-ASCII character: it agrees on non-empty ASCII strings.

Patterns RE2 cannot run at all (look-arounds, back-references, atomic groups, possessive repeats,
repeat counts above 1000, a compiled program over RE2's memory budget) raise :class:`Untranslatable`;
their LF runs on Python ``re`` throughout and says so in its ``spec()``.

>>> t = translate(r"\\bfree\\b", re.IGNORECASE)
>>> t.risky_reason
'\\\\b/\\\\B on text with non-ASCII word characters'
>>> translate(r"(?<=a)b", 0)
Traceback (most recent call last):
...
lf_library.text.re2.Untranslatable: look-around assertions have no RE2 equivalent
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mmweak.fingerprint import infrastructure

from .charsets import Ranges, _to_ranges, complement, python_escape, ranges_of, re2_class

if TYPE_CHECKING:  # typeshed describes the regex parser only under its pre-3.11 module names
    import sre_constants as C
    import sre_parse
else:
    try:  # Python 3.11+
        from re import _constants as C
        from re import _parser as sre_parse
    except ImportError:  # pragma: no cover - Python 3.10
        import sre_constants as C
        import sre_parse

RE2_MAX_REPEAT = 1000
_CATEGORY = {
    C.CATEGORY_DIGIT: r"\d", C.CATEGORY_NOT_DIGIT: r"\D",
    C.CATEGORY_SPACE: r"\s", C.CATEGORY_NOT_SPACE: r"\S",
    C.CATEGORY_WORD: r"\w", C.CATEGORY_NOT_WORD: r"\W",
}
_CLASS_FLAGS = re.IGNORECASE | re.ASCII  # the only flags that change which characters a class matches
_UNSUPPORTED = {
    C.ASSERT: "look-around assertions have no RE2 equivalent",
    C.ASSERT_NOT: "look-around assertions have no RE2 equivalent",
    C.GROUPREF: "back-references have no RE2 equivalent",
    C.GROUPREF_EXISTS: "conditional groups have no RE2 equivalent",
}
for _name, _why in (("ATOMIC_GROUP", "atomic groups have no RE2 equivalent"),
                    ("POSSESSIVE_REPEAT", "possessive repeats have no RE2 equivalent")):
    if hasattr(C, _name):
        _UNSUPPORTED[getattr(C, _name)] = _why


class Untranslatable(ValueError):
    """The pattern cannot run on RE2 with Python's meaning; the message says why."""


@dataclass(frozen=True)
class CharClass:
    """A set of code points inside a translated pattern, kept as ranges until it is rendered."""

    ranges: Ranges


Template = tuple  # of str fragments and CharClass items


@dataclass(frozen=True)
class Translation:
    """An RE2 pattern with Python's search semantics, plus the rows RE2 may get wrong.

    The pattern is kept as a template whose character classes are rendered on demand: :attr:`re2`
    spells every class in full; :meth:`for_text` keeps only the code points that occur in the strings
    about to be searched (plus ASCII), which is exact for those strings and gives RE2 a small program
    — the full Unicode classes make it compile and run several times slower.

    Attributes:
        template: the pattern (search semantics, as ``pyarrow.compute.match_substring_regex`` uses).
        risky: templates of the strings on which the pattern may disagree with Python (one per reason).
        risky_reason: what those strings are, for the LF's ``spec()``.
    """

    template: Template
    risky: tuple[Template, ...] = ()
    risky_reason: str | None = None

    @property
    def re2(self) -> str:
        return render(self.template, None)

    def for_text(self, present: np.ndarray | None, key: bytes = b"") -> tuple[str, str | None]:
        """(pattern, risky pattern or None) for strings whose code points are all in ``present``.

        ``present`` is a sorted array of code points; ``key`` identifies it for the render cache.
        """
        pattern = _render_cached(self.template, present, key)
        # A risky part that renders as the empty class cannot occur in these strings (e.g. there are no
        # non-ASCII word characters): leave it out, and skip the search when nothing is left.
        parts = [r for r in (_render_cached(t, present, key) for t in self.risky) if r != _NEVER]
        return pattern, ("|".join(f"(?:{r})" for r in parts) or None)

    @property
    def risky_re2(self) -> str | None:
        """The risky rows' pattern with every class in full (``None`` if nothing is risky)."""
        return self.for_text(None)[1]


_NEVER = "[^\\x{0}-\\x{10FFFF}]"
_CACHE: dict[tuple[Template, bytes], str] = {}


@infrastructure  # a per-process render cache: it never changes a vote, so it stays out of fingerprints
def _render_cached(template: Template, present: np.ndarray | None, key: bytes) -> str:
    if present is None:
        return render(template, None)
    k = (template, key)
    hit = _CACHE.get(k)
    if hit is None:
        if len(_CACHE) > 4096:
            _CACHE.clear()
        hit = _CACHE[k] = render(template, present)
    return hit


def render(template: Template, present: np.ndarray | None) -> str:
    """RE2 text of ``template``; with ``present``, each class keeps only the code points listed there."""
    out = []
    for part in template:
        if isinstance(part, CharClass):
            ranges = part.ranges if present is None else _restrict(part.ranges, present)
            out.append(re2_class(ranges))
        else:
            out.append(part)
    return "".join(out)


def _restrict(ranges: Ranges, present: np.ndarray) -> Ranges:
    if not ranges:
        return ()
    r = np.asarray(ranges, dtype=np.int64)
    lo = np.searchsorted(present, r[:, 0], side="left")
    hi = np.searchsorted(present, r[:, 1], side="right")
    keep = [present[a:b] for a, b in zip(lo.tolist(), hi.tolist()) if b > a]
    if not keep:
        return ()
    return _to_ranges(np.concatenate(keep))


def translate(pattern: str, flags: int = 0) -> Translation:
    """The RE2 translation of ``re.compile(pattern, flags)`` (see the module docstring).

    Raises :class:`Untranslatable` when RE2 cannot express it.
    """
    if not isinstance(pattern, str):
        raise Untranslatable("only str patterns are translated")
    if flags & re.LOCALE:
        raise Untranslatable("re.LOCALE depends on the C locale")
    try:
        parsed = sre_parse.parse(pattern, flags)
    except re.error as exc:
        raise Untranslatable(f"not a valid Python pattern: {exc}") from None
    emitter = _Emitter()
    body = _merge(emitter.sequence(parsed, parsed.state.flags))
    risky = tuple(_merge(part) for part in emitter.risky.values())
    translation = Translation(body, risky, "; ".join(emitter.risky) or None)
    _check_compiles(translation)
    return translation


def _merge(parts: list) -> Template:
    """Adjacent string fragments joined, so rendering walks few items."""
    out: list = []
    for part in parts:
        if isinstance(part, str) and out and isinstance(out[-1], str):
            out[-1] += part
        else:
            out.append(part)
    return tuple(out)


def _check_compiles(t: Translation) -> None:
    probe = pa.array([""], pa.string())
    for pat in (t.re2, t.risky_re2):
        if pat is None:
            continue
        try:
            pc.match_substring_regex(probe, pat)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise Untranslatable(f"RE2 refuses the translated pattern: {exc}") from None


class _Emitter:
    """Turns a parsed Python pattern into a template: RE2 text fragments and character classes."""

    def __init__(self) -> None:
        self.risky: dict[str, list] = {}  # reason -> template of the strings RE2 may misjudge

    def sequence(self, items: object, flags: int) -> list:
        out: list = []
        for op, av in items:  # type: ignore[attr-defined]
            out += self.item(op, av, flags)
        return out

    def item(self, op: object, av: object, flags: int) -> list:  # noqa: C901 - one case per opcode
        if op in _UNSUPPORTED:
            raise Untranslatable(_UNSUPPORTED[op])
        if op is C.LITERAL:
            if not flags & re.IGNORECASE:
                return [_escape_literal(av)]  # type: ignore[arg-type]
            return [self.charset(python_escape(av), flags)]  # type: ignore[arg-type]
        if op is C.NOT_LITERAL:
            return [self.charset(f"[^{python_escape(av)}]", flags)]  # type: ignore[arg-type]
        if op is C.IN:
            return [self.charset(_render_class(av), flags)]  # type: ignore[arg-type]
        if op is C.ANY:
            return ["(?s:.)" if flags & re.DOTALL else "[^\\n]"]
        if op is C.BRANCH:
            out: list = ["(?:"]
            for i, alt in enumerate(av[1]):  # type: ignore[index]
                out += (["|"] if i else []) + self.sequence(alt, flags)
            return out + [")"]
        if op is C.SUBPATTERN:
            _group, add, remove, sub = cast("tuple[int | None, int, int, Any]", av)  # the payload's shape follows op
            return ["(?:", *self.sequence(sub, (flags | add) & ~remove), ")"]
        if op in (C.MAX_REPEAT, C.MIN_REPEAT):
            lo, hi, sub = cast("tuple[int, int, Any]", av)
            return ["(?:", *self.sequence(sub, flags), ")" + _quantifier(lo, hi, lazy=op is C.MIN_REPEAT)]
        if op is C.AT:
            return [self.anchor(av, flags)]
        raise Untranslatable(f"the pattern uses {op}, which the RE2 translation does not cover")

    def charset(self, python_class: str, flags: int) -> CharClass:
        return CharClass(_class_ranges(python_class, flags & _CLASS_FLAGS))

    def anchor(self, at: object, flags: int) -> str:
        multiline = bool(flags & re.MULTILINE)
        if at is C.AT_BEGINNING:
            return "(?m:^)" if multiline else "\\A"
        if at is C.AT_BEGINNING_STRING:
            return "\\A"
        if at is C.AT_END_STRING:
            return "\\z"
        if at is C.AT_END:
            if multiline:
                return "(?m:$)"
            self.risky["$ on text ending with a newline"] = ["\\n\\z"]
            return "\\z"
        if at in (C.AT_BOUNDARY, C.AT_NON_BOUNDARY):
            if not flags & re.ASCII:
                wide_word = tuple((max(lo, 0x80), hi) for lo, hi in ranges_of(r"\w", 0) if hi > 0x7F)
                self.risky["\\b/\\B on text with non-ASCII word characters"] = [CharClass(wide_word)]
            if at is C.AT_NON_BOUNDARY:  # RE2 finds \B in "", Python 3.11's re does not; and RE2 searches UTF-8
                # bytes, so \B also holds between the bytes of one non-ASCII character, where re has no position
                self.risky["\\B on the empty string"] = ["\\A\\z"]
                self.risky["\\B on text with non-ASCII characters"] = [CharClass(((0x80, 0xD7FF), (0xE000, 0x10FFFF)))]
            return "\\b" if at is C.AT_BOUNDARY else "\\B"
        raise Untranslatable(f"the anchor {at} has no RE2 equivalent")


def _class_ranges(python_class: str, flags: int) -> Ranges:
    # A negated class is the complement of its positive twin, which is far cheaper to enumerate.
    if python_class.startswith("[^"):
        return complement(ranges_of("[" + python_class[2:], flags))
    return ranges_of(python_class, flags)


def _render_class(items: list) -> str:
    negate = False
    parts = []
    for op, av in items:
        if op is C.NEGATE:
            negate = True
        elif op is C.LITERAL:
            parts.append(python_escape(av))
        elif op is C.RANGE:
            parts.append(f"{python_escape(av[0])}-{python_escape(av[1])}")
        elif op is C.CATEGORY:
            if av not in _CATEGORY:
                raise Untranslatable(f"the class category {av} has no RE2 equivalent")
            parts.append(_CATEGORY[av])
        else:
            raise Untranslatable(f"the class item {op} has no RE2 equivalent")
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


def _escape_literal(cp: int) -> str:
    ch = chr(cp)
    if ch.isascii() and (ch.isalnum() or ch in " _"):
        return ch
    return f"\\x{{{cp:X}}}"


def _quantifier(lo: int, hi: int, *, lazy: bool) -> str:
    unbounded = hi is C.MAXREPEAT or hi == C.MAXREPEAT
    if lo > RE2_MAX_REPEAT or (not unbounded and hi > RE2_MAX_REPEAT):
        raise Untranslatable(f"repeat counts above {RE2_MAX_REPEAT} exceed RE2's limit")
    if unbounded:
        q = "*" if lo == 0 else "+" if lo == 1 else f"{{{lo},}}"
    elif lo == hi:
        q = f"{{{lo}}}"
    elif (lo, hi) == (0, 1):
        q = "?"
    else:
        q = f"{{{lo},{hi}}}"
    return q + ("?" if lazy else "")
