"""Fingerprints of what an LF *is*: its code, the values its code reads, its config and versions.

``datasets`` hashes functions from importable modules by reference, so an edited LF body would reuse
a stale cache. mmweak hashes the source instead, plus the module-level constants and helper
functions the code refers to (editing a keyword list changes the fingerprint too).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
import textwrap
import types
from typing import Any

_SIMPLE = (str, int, float, bool, bytes, type(None))


def stable_hash(*parts: Any) -> str:
    """16-hex-digit hash of JSON-able parts (order matters)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(json.dumps(p, sort_keys=True, default=_default).encode())
        h.update(b"\x00")
    return h.hexdigest()[:16]


def _default(obj: Any) -> Any:
    if isinstance(obj, re.Pattern):
        return {"regex": obj.pattern, "flags": obj.flags}
    if isinstance(obj, (set, frozenset)):
        return sorted(map(repr, obj))
    if isinstance(obj, bytes):
        return hashlib.sha256(obj).hexdigest()
    if hasattr(obj, "fingerprint") and callable(obj.fingerprint):
        return obj.fingerprint()
    return repr(obj)


def _value_digest(value: Any, depth: int) -> Any:
    """A hashable description of a value an LF's code refers to, or None when it should not count."""
    if isinstance(value, _SIMPLE) or isinstance(value, re.Pattern):
        return value if not isinstance(value, bytes) else _default(value)
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        try:
            return json.loads(json.dumps(value, sort_keys=True, default=_default))
        except (TypeError, ValueError):
            return repr(type(value))
    if isinstance(value, types.FunctionType) and depth > 0:
        return code_digest(value, depth - 1)
    if isinstance(value, types.ModuleType):
        return None  # modules are versioned through package versions, not hashed
    return None


def source_of(obj: Any) -> str:
    """Dedented source of a function or class; bytecode + constants when the source is unavailable."""
    try:
        return textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError):
        code = getattr(obj, "__code__", None)
        if code is None:
            return repr(obj)
        return repr((code.co_code, code.co_consts, code.co_names))


def _names(code: types.CodeType) -> set[str]:
    """Global names read by ``code`` and the comprehensions/lambdas nested in it."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def code_digest(fn: Any, depth: int = 2) -> dict:
    """Source of ``fn`` plus digests of the globals and closure values it reads."""
    out: dict[str, Any] = {"source": source_of(fn)}
    code = getattr(fn, "__code__", None)
    if code is not None:
        refs = {}
        g = getattr(fn, "__globals__", {})
        for name in sorted(_names(code)):
            if name in g:
                d = _value_digest(g[name], depth)
                if d is not None:
                    refs[name] = d
        if fn.__closure__:
            for name, cell in zip(code.co_freevars, fn.__closure__):
                try:
                    d = _value_digest(cell.cell_contents, depth)
                except ValueError:  # empty cell
                    d = None
                if d is not None:
                    refs[name] = d
        out["refs"] = refs
    return out


def code_hash(fn: Any) -> str:
    """Short hash of an LF's code, shown in cards so readers can tell LF versions apart."""
    return stable_hash(code_digest(fn))[:12]
