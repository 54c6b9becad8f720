"""Fingerprints of what an LF *is*: its code, every value its code reads, its config and versions.

``datasets`` hashes functions from importable modules by reference, so an edited LF body would reuse
a stale cache. mmweak walks what the code can see instead and hashes it by value:

* functions (user code): canonical bytecode and constants (no line numbers), default arguments,
  closure cells and every global name the body (or a comprehension/lambda inside it) reads —
  recursively, so helpers of helpers count;
* classes (user code): every attribute and method (methods as functions), and the user-code bases;
  instances: their class plus their state (``__reduce_ex__``, as pickle sees it);
* containers, numpy arrays, compiled regexes, ``functools.partial``, bound methods, enums and plain
  scalars by value; sets in a process-independent order;
* wrappers (``functools.lru_cache``, objects with ``__wrapped__``) by the code they wrap and their state;
* user modules by their source and by the attributes the code names (``utils.is_spam``, ``cfg.LIMIT``), by
  value: what a module imports from another, or is given at run time, is not in its own source;
* installed libraries (stdlib, site-packages) by name and version, not by walking their code;
* objects that define ``fingerprint()`` (LFs, model specs) by what it returns.

Objects code only *uses* (locks, loggers, context variables) are left out of the digest: they never carry what
votes depend on. What cannot be hashed (an open file, a value too large to walk) raises :class:`Unhashable`;
callers warn and skip the cache rather than risk a stale hit (a helper that only manages such resources can be
marked :func:`infrastructure`). The digest never depends on memory
addresses, ``PYTHONHASHSEED`` or how a function was defined (``def``, ``lambda``, ``exec``, a notebook
cell), so identical code hits the cache from a fresh process.

>>> import re
>>> digest({"words": {"b", "a"}, "rx": re.compile("x+")}) == digest({"rx": re.compile("x+"), "words": {"a", "b"}})
False
>>> digest([1, 2.0, "x"]) == digest([1, 2.0, "x"])
True
"""

from __future__ import annotations

import contextlib
import contextvars
import dis
import enum
import functools
import hashlib
import importlib.metadata
import json
import os
import re
import sys
import sysconfig
import types
import weakref
from typing import Any, Iterator

import numpy as np
import xxhash

_SCALARS = (str, int, float, bool, bytes, type(None))
#: What ``functools.update_wrapper`` copies onto a wrapper: the wrapped function's, walked with it.
_WRAPPER_METADATA = frozenset({"__wrapped__", "__module__", "__name__", "__qualname__", "__doc__", "__dict__",
                               "__annotations__", "__type_params__"})
#: Values an LF reads are walked up to this many nodes; beyond, the LF is not cached (and a warning says why).
MAX_NODES = 1_000_000


def _neutral_types() -> tuple[type, ...]:
    """Objects code may *use* (locks, loggers, context variables) that never carry what votes depend on."""
    import contextvars
    import logging
    import threading

    return (
        type(threading.Lock()), type(threading.RLock()), threading.Condition, threading.Event,
        threading.Semaphore, threading.local, logging.Logger, logging.LoggerAdapter, contextvars.ContextVar,
        weakref.ref, weakref.WeakValueDictionary, weakref.WeakKeyDictionary, weakref.WeakSet,
    )


_NEUTRAL = _neutral_types()


def infrastructure(fn: Any) -> Any:
    """Mark a function that manages resources (loads, caches, locks) without changing any vote.

    LF fingerprints walk every helper an LF's code can reach; a helper that keeps a per-process cache
    or reads the process id would make fingerprints differ between processes (never a cache hit) or fail
    on a loaded model. Marked functions count by their qualified name only.

    >>> @infrastructure
    ... def load_once(key):
    ...     return key
    >>> digest(load_once) == digest(load_once)
    True
    """
    fn.__mmweak_fingerprint__ = f"infrastructure:{fn.__module__}.{fn.__qualname__}"
    return fn


_NO_KEY = object()


class Unhashable(Exception):
    """A value an LF depends on cannot be fingerprinted; the message says which and why."""


def stable_hash(*parts: Any) -> str:
    """16-hex-digit hash of JSON-able parts (order matters).

    >>> stable_hash("a", 1) == stable_hash("a", 1) != stable_hash("a", 2)
    True
    """
    h = hashlib.sha256()
    for p in parts:
        h.update(json.dumps(p, sort_keys=True, default=_json_default).encode())
        h.update(b"\x00")
    return h.hexdigest()[:16]


def _json_default(obj: Any) -> Any:
    if isinstance(obj, re.Pattern):
        return {"regex": obj.pattern, "flags": obj.flags}
    if isinstance(obj, (set, frozenset)):
        return sorted(map(repr, obj))
    if isinstance(obj, bytes):
        return hashlib.sha256(obj).hexdigest()
    if isinstance(obj, np.generic):
        return obj.item()
    if hasattr(obj, "fingerprint") and callable(obj.fingerprint):
        return obj.fingerprint()
    return repr(obj)


def digest(value: Any) -> str:
    """32-hex-digit digest of ``value`` and everything it refers to (see the module docstring).

    Raises :class:`Unhashable` when part of it cannot be hashed.

    >>> def helper(t):
    ...     return t.upper()
    >>> def lf(batch):
    ...     return [helper(t) for t in batch]
    >>> len(digest(lf))
    32
    """
    return _Walker(_SESSION.get()).run(value)


def code_digest(fn: Any) -> str:
    """Digest of a function's or class's code and the values it reads (for cards and keys)."""
    return digest(fn)


# -- what counts as the user's code -------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _library_roots() -> tuple[str, ...]:
    roots = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.realpath(path))
    for path in sys.path:
        if path.endswith(("site-packages", "dist-packages")):
            roots.add(os.path.realpath(path))
    return tuple(sorted(roots))


@functools.lru_cache(maxsize=4096)
def _module_is_library(name: str) -> bool:
    """Installed code (stdlib, site-packages, builtins) is identified by version, not walked."""
    if name in sys.builtin_module_names or name in ("builtins", "__builtin__"):
        return True
    if name == "mmweak" or name.startswith("mmweak."):
        return True  # the engine is identified by its version, which every cache key carries
    module = sys.modules.get(name)
    file = getattr(module, "__file__", None)
    if module is None:
        return False  # loaded without registering (importlib spec, exec): user code, walk it
    if file is None:
        return name != "__main__"  # namespace/builtin modules; __main__ without a file is an interactive session
    real = os.path.realpath(file)
    return any(real.startswith(root + os.sep) for root in _library_roots())


@functools.lru_cache(maxsize=1024)
def _package_version(module_name: str) -> str:
    top = module_name.split(".")[0]
    if top in sys.builtin_module_names or top in sys.stdlib_module_names:
        return f"python-{sys.version_info.major}.{sys.version_info.minor}"
    if top == "mmweak":
        from ._version import __version__

        return __version__
    try:
        return importlib.metadata.version(top)
    except importlib.metadata.PackageNotFoundError:
        pass
    # Before the distribution map: building it reads every installed package's file list (~0.5 s per
    # process in a large environment), which would dominate a fully cached apply_lfs.
    version = getattr(sys.modules.get(top), "__version__", None)
    if isinstance(version, str) and version:
        return version
    for dist in _distributions().get(top, []):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return str(version) if version is not None else "unknown"


@functools.lru_cache(maxsize=1)
def _distributions() -> dict[str, list[str]]:
    return dict(importlib.metadata.packages_distributions())


_SESSION: contextvars.ContextVar[dict[Any, tuple[Any, str]] | None] = contextvars.ContextVar(
    "mmweak_fingerprint_session", default=None
)


@contextlib.contextmanager
def session() -> Iterator[None]:
    """Share the digests of functions and classes between the fingerprints taken inside.

    Twenty LFs of one class walk the same class and helpers; within one ``apply_lfs`` call nothing they
    read can change, so each is walked once. Digests are the same with or without a session.
    """
    token = _SESSION.set({})
    try:
        yield
    finally:
        _SESSION.reset(token)


def _code_names(code: types.CodeType) -> list[str]:
    """Global names read by ``code`` and by the comprehensions/lambdas nested in it (sorted)."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names.update(_code_names(const))
    return sorted(names)


#: Names through which code reads environment variables.
_ENV_READERS = frozenset({"environ", "getenv"})
#: Variables that hold credentials, not settings (a word of the name: OPENAI_API_KEY, HF_TOKEN, DB_PASSWORD; not
#: SPAM_KEYWORDS or TOKENIZER_NAME): not read into fingerprints.
_SECRET_NAME = re.compile(r"(?i)(?:^|_)(?:api_?key|key|token|secret|password|passwd|credentials?|auth)(?:_|$)")
#: Variables that say where caches live (MMWEAK_CACHE, HF_DATASETS_CACHE, HF_HOME): where a result is kept is not
#: what an LF answers, and users sharing one vote store keep their caches in different places.
_CACHE_PLACE = re.compile(r"(?i)(?:^|_)cache(?:_|$)|^(?:hf|torch)_home$")
_LOADS = frozenset({"LOAD_ATTR", "LOAD_GLOBAL", "LOAD_METHOD", "LOAD_NAME", "LOAD_DEREF", "LOAD_FAST"})
#: ``environ`` methods that take the variable's name first.
_BY_NAME = frozenset({"get", "setdefault", "pop"})
_SKIPPED = frozenset({"CACHE", "PRECALL", "PUSH_NULL", "NOP", "EXTENDED_ARG", "KW_NAMES"})


def _env_names(code: types.CodeType, g: dict[str, Any]) -> set[str]:
    """Names of the environment variables ``code`` (and the code nested in it) reads: the constant, or the
    module-level string, right after ``environ`` / ``environ.get`` / ``getenv``.

    >>> import os
    >>> sorted(_env_names((lambda t: os.environ["A"] + os.environ.get("B", "") + os.getenv("C") + "_".join(t)).__code__,
    ...                   {}))
    ['A', 'B', 'C']
    """
    out: set[str] = set()

    def name_at(ins: dis.Instruction) -> None:
        if ins.opname == "LOAD_CONST" and isinstance(ins.argval, str):
            out.add(ins.argval)
        elif ins.opname in ("LOAD_GLOBAL", "LOAD_NAME") and isinstance(g.get(ins.argval), str):
            out.add(g[ins.argval])

    ops = [i for i in dis.get_instructions(code) if i.opname not in _SKIPPED]
    for k, ins in enumerate(ops):
        if ins.opname not in _LOADS or ins.argval not in _ENV_READERS:
            continue
        nxt = ops[k + 1: k + 3]
        method = nxt and nxt[0].opname in ("LOAD_ATTR", "LOAD_METHOD") and nxt[0].argval in _BY_NAME
        if ins.argval == "environ" and method:
            nxt = nxt[1:]
        if nxt:
            name_at(nxt[0])
            if ins.argval == "environ" and nxt[0].opname == "CONTAINS_OP":  # "NAME" in os.environ
                back = k - 1 if ins.opname != "LOAD_ATTR" else k - 2
                if back >= 0:
                    name_at(ops[back])
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            out |= _env_names(const, g)
    return out


class _Walker:
    """One traversal: a streaming hash, a node budget and back-references for cycles."""

    def __init__(self, memo: dict[Any, tuple[Any, str]] | None = None, busy: set[int] | None = None) -> None:
        self.h = xxhash.xxh3_128()
        self.seen: dict[int, int] = {}
        self.keep: list[Any] = []  # holds visited objects so their ids stay unique during the walk
        self.nodes = 0
        self.path: list[tuple[str, Any]] = []
        # Functions and classes are digested as units, each by its own walker, and remembered in
        # ``memo`` unless their digest depended on where the walk came from (a cycle was cut).
        self.memo = memo if memo is not None else {}
        self.busy = busy if busy is not None else set()
        self.cut = False

    def unit(self, obj: Any, kind: str, walk: Any) -> None:
        key = id(obj)
        hit = self.memo.get(key)
        if hit is not None and hit[0] is obj:
            self.tag(kind, hit[1])
            return
        if key in self.busy:  # a cycle (a recursive helper, a class whose method names it)
            self.tag(f"{kind}-cycle", getattr(obj, "__qualname__", type(obj).__name__))
            self.cut = True
            return
        # A unit whose walk cut a cycle has a digest that depends only on which units were being
        # walked when it was entered, so it is remembered under that context too (a class whose
        # methods name the class is one: every LF of that class would walk it again otherwise).
        context = (key, frozenset(self.busy))
        hit = self.memo.get(context)
        if hit is not None and hit[0] is obj:
            self.tag(kind, hit[1])
            self.cut = True
            return
        sub = _Walker(self.memo, self.busy)
        sub.nodes, sub.path = self.nodes, list(self.path)
        self.busy.add(key)
        try:
            walk(sub, obj)
        finally:
            self.busy.discard(key)
        self.nodes = sub.nodes
        out = sub.h.hexdigest()
        if sub.cut:
            self.cut = True
            self.memo[context] = (obj, out)
        else:
            self.memo[key] = (obj, out)
        self.tag(kind, out)

    def run(self, value: Any) -> str:
        self.visit(value)
        return self.h.hexdigest()

    # -- output ---------------------------------------------------------------------------------
    def tag(self, tag: str, payload: bytes | str = b"") -> None:
        if isinstance(payload, str):
            payload = payload.encode("utf-8", "surrogatepass")
        self.h.update(tag.encode())
        self.h.update(len(payload).to_bytes(8, "little"))
        self.h.update(payload)

    def fail(self, what: str) -> Unhashable:
        where = "".join(label if key is _NO_KEY else f"[{key!r}]" for label, key in self.path) or "the value"
        return Unhashable(f"{where}: {what}")

    def sub_digest(self, value: Any) -> str:
        """Digest of one element on its own (for order-free containers), sharing the node budget."""
        sub = _Walker()
        sub.nodes = self.nodes
        sub.path = list(self.path)
        out = sub.run(value)
        self.nodes = sub.nodes
        return out

    # -- traversal ------------------------------------------------------------------------------
    def visit(self, obj: Any) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(f"more than {MAX_NODES} values to fingerprint")
        if obj is None or isinstance(obj, (bool, int, float, complex, str)) and type(obj) in (
            bool, int, float, complex, str,
        ):
            self.tag(type(obj).__name__, repr(obj))
            return
        if isinstance(obj, (bytes, bytearray, memoryview)):
            self.tag("bytes", bytes(obj))
            return
        key = id(obj)
        if key in self.seen:
            self.tag("ref", str(self.seen[key]))
            return
        self.seen[key] = len(self.seen)
        self.keep.append(obj)
        self._visit_object(obj)

    def _visit_object(self, obj: Any) -> None:  # noqa: C901 - one dispatch table, read top to bottom
        if isinstance(obj, _NEUTRAL):
            self.tag("neutral", type(obj).__qualname__)
        elif isinstance(obj, enum.Enum):
            self.tag("enum")
            self.visit(type(obj))
            self.visit(obj.value)
        elif isinstance(obj, (str, int, float, complex)):  # subclasses of scalars (IntEnum handled above)
            self.tag("scalar-sub")
            self.visit(type(obj))
            self.tag("value", repr(obj))
        elif isinstance(obj, re.Pattern):
            self.tag("regex")
            self.visit(obj.pattern)
            self.visit(obj.flags)
        elif isinstance(obj, np.ndarray):
            self._array(obj)
        elif isinstance(obj, np.generic):
            self.tag("np-scalar", obj.dtype.str)
            self.tag("data", obj.tobytes())
        elif type(obj) in (list, tuple) and all(type(x) in _SCALARS for x in obj):
            self.tag("flat-" + type(obj).__name__, repr(obj))  # one C-level pass for big literal tables
        elif type(obj) is dict and all(type(k) in _SCALARS and type(v) in _SCALARS for k, v in obj.items()):
            self.tag("flat-dict", repr(list(obj.items())))
        elif isinstance(obj, (list, tuple)):
            self.tag(type(obj).__name__ if type(obj) in (list, tuple) else "seq", str(len(obj)))
            if type(obj) not in (list, tuple):
                self.visit(type(obj))
            for i, item in enumerate(obj):
                self._step("", item, key=i)
        elif isinstance(obj, (dict, types.MappingProxyType)):
            self.tag("dict", str(len(obj)))
            if type(obj) not in (dict, types.MappingProxyType):
                self.visit(type(obj))
                factory = getattr(obj, "default_factory", None)
                if factory is not None:
                    self._step(".default_factory", factory)
            for k, v in obj.items():  # insertion order: deterministic for the same code
                self._step("{key}", k)
                self._step("", v, key=k)
        elif isinstance(obj, (set, frozenset)) and all(type(x) in _SCALARS for x in obj):
            self.tag("flat-set", "\x00".join(sorted(type(x).__name__ + repr(x) for x in obj)))
        elif isinstance(obj, (set, frozenset)):
            parts = sorted(self.sub_digest(item) for item in obj)
            self.tag("set", "".join(parts))
        elif isinstance(obj, functools.partial):
            self.tag("partial")
            self._step(".func", obj.func)
            self._step(".args", obj.args)
            self._step(".keywords", dict(obj.keywords))
        elif isinstance(obj, types.MethodType):
            self.tag("method")
            self._step(".__func__", obj.__func__)
            self._step(".__self__", obj.__self__)
        elif isinstance(obj, types.FunctionType):
            self.unit(obj, "function-unit", _Walker._function)
        elif isinstance(obj, (types.BuiltinFunctionType, types.BuiltinMethodType)):
            owner = getattr(obj, "__self__", None)
            self.tag("builtin", f"{getattr(obj, '__module__', None)}.{obj.__qualname__}")
            if owner is not None and not isinstance(owner, types.ModuleType):
                self._step(".__self__", owner)  # e.g. WORDS.__contains__ reads WORDS
        elif isinstance(obj, types.ModuleType):
            self._module(obj)
        elif isinstance(obj, type):
            self.unit(obj, "class-unit", _Walker._class)
        elif isinstance(obj, types.CodeType):
            self._code(obj)
        elif isinstance(obj, (staticmethod, classmethod)):
            self.tag(type(obj).__name__)
            self.visit(obj.__func__)
        elif isinstance(obj, property):
            self.tag("property")
            for part in (obj.fget, obj.fset, obj.fdel):
                self.visit(part)
        elif callable(getattr(obj, "fingerprint", None)) and not isinstance(obj, type):
            fp = obj.fingerprint()
            if not isinstance(fp, str):
                raise self.fail(f"{type(obj).__qualname__}.fingerprint() returned {type(fp).__name__}, not str")
            self.tag("fingerprinted", fp)
            self.visit(type(obj))
        elif callable(obj) and hasattr(obj, "__wrapped__"):
            self._wrapper(obj)
        elif type(obj).__module__.startswith("torch") and hasattr(obj, "detach"):
            self._array(obj.detach().cpu().numpy())
        elif type(obj).__module__.startswith("pyarrow") and hasattr(obj, "to_pylist"):
            self.tag("arrow", str(getattr(obj, "type", getattr(obj, "schema", ""))))
            self.visit(obj.to_pylist())
        else:
            self._instance(obj)

    def _step(self, label: str, value: Any, key: Any = None) -> None:
        # The path is only read to explain a failure, so keys are formatted then, not on every step.
        self.path.append((label, _NO_KEY if key is None else key))
        try:
            self.visit(value)
        finally:
            self.path.pop()

    def _array(self, arr: np.ndarray) -> None:
        self.tag("ndarray", f"{arr.dtype.str}{arr.shape}")
        if arr.dtype.hasobject:
            for i, item in enumerate(arr.ravel()):
                self._step("", item, key=i)
        else:
            self.tag("data", np.ascontiguousarray(arr).tobytes())

    def _function(self, fn: types.FunctionType) -> None:
        marked = getattr(fn, "__mmweak_fingerprint__", None)
        if isinstance(marked, str):
            self.tag("marked", marked)
            return
        module = getattr(fn, "__module__", None) or ""
        if module and _module_is_library(module) and module != "__main__":
            self.tag("lib-function", f"{module}.{fn.__qualname__}@{_package_version(module)}")
            return
        # Canonical bytecode, constants and names say what the function does (comments and layout do
        # not count); it is the same for def, lambda, exec and notebook cells, in every process.
        self.tag("function", fn.__qualname__)
        self._code(fn.__code__)
        if fn.__defaults__:
            self._step(".__defaults__", fn.__defaults__)
        if fn.__kwdefaults__:
            self._step(".__kwdefaults__", dict(fn.__kwdefaults__))
        g = fn.__globals__
        builtins = g.get("__builtins__")
        names = _code_names(fn.__code__)
        if _ENV_READERS.intersection(names):
            self._environment(fn.__code__, g)
        for name in names:
            if name in g:
                self.tag("global", name)
                self._step(f"->{name}", g[name])
                if isinstance(g[name], types.ModuleType):
                    self._module_reads(g[name], names, f"->{name}", set())
            elif not (isinstance(builtins, dict) and name in builtins) and not hasattr(builtins, name):
                self.tag("unbound", name)  # an attribute name, or a global defined later
        if fn.__closure__:
            for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
                try:
                    value = cell.cell_contents
                except ValueError:  # an empty cell: the name is assigned after the function is made
                    self.tag("empty-cell", name)
                    continue
                self.tag("closure", name)
                self._step(f"->{name}", value)

    def _environment(self, code: types.CodeType, g: dict[str, Any]) -> None:
        """The values of the environment variables the code reads by name (``os.environ["LIMIT"]``,
        ``os.environ.get("LIMIT")`` / ``setdefault`` / ``pop``, ``"LIMIT" in os.environ``, ``getenv("LIMIT")``, or a
        module-level constant holding the name; not a name computed at run time or an alias of ``environ``): ``os`` is
        installed code and hashes by version, so without them a changed variable served old votes. Credentials
        (names holding KEY, TOKEN, SECRET, PASSWORD...) are left out: rotating one does not change what an LF
        answers, and a published card's code hash should not follow it; so are cache places (MMWEAK_CACHE,
        HF_HOME...)."""
        for name in sorted(_env_names(code, g)):
            if not _SECRET_NAME.search(name) and not _CACHE_PLACE.search(name):
                self.tag("env", f"{name}={os.environ.get(name)!r}")

    def _code(self, code: types.CodeType) -> None:
        """Bytecode without line numbers or file names, so moving code does not change it."""
        self.tag("code", code.co_name)
        self.tag("co_code", code.co_code)
        self.tag("names", "\x00".join(code.co_names))
        self.tag("vars", "\x00".join((*code.co_varnames, "|", *code.co_freevars, "|", *code.co_cellvars)))
        self.tag("flags", str((code.co_argcount, code.co_kwonlyargcount, code.co_flags)))
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                self._code(const)
            else:
                self.visit(const)

    def _module(self, module: types.ModuleType) -> None:
        name = module.__name__
        if _module_is_library(name):
            self.tag("lib-module", f"{name}@{_package_version(name)}")
            return
        file = getattr(module, "__file__", None)
        if not file or not os.path.exists(file):
            raise self.fail(f"module {name!r} has no source file to fingerprint")
        with open(file, "rb") as f:  # the whole module: an LF may read any of its names
            self.tag("user-module", f"{name}:{hashlib.sha256(f.read()).hexdigest()}")

    def _module_reads(self, module: types.ModuleType, names: list[str], label: str, walked: set[int]) -> None:
        """The attributes of a user module that code reading ``names`` can reach (``utils.is_spam``,
        ``cfg.THRESHOLD``), by value: the module's own source says nothing of the modules *it* imports from,
        nor of a value set on it at run time (``cfg.THRESHOLD = args.threshold``)."""
        if _module_is_library(module.__name__) or id(module) in walked:
            return
        walked.add(id(module))
        space = vars(module)
        for attr in names:
            if attr in space and not (attr.startswith("__") and attr.endswith("__")):
                value = space[attr]
                self.tag("module-attr", attr)
                self._step(f"{label}.{attr}", value)
                if isinstance(value, types.ModuleType):  # pkg.sub.f: the submodule's names too
                    self._module_reads(value, names, f"{label}.{attr}", walked)

    def _wrapper(self, obj: Any) -> None:
        """A callable wrapping another (``functools.lru_cache``, ``functools.wraps`` objects): the wrapped code
        and the wrapper's own state, not the wrapper's pickle, which names the function only."""
        self.tag("wrapper")
        self._step("<class>", type(obj))
        self._step(".__wrapped__", obj.__wrapped__)
        state = getattr(obj, "__dict__", None)
        if isinstance(state, dict):
            for key, value in sorted((k, v) for k, v in state.items() if k not in _WRAPPER_METADATA):
                self.tag("attr", key)
                self._step(f".{key}", value)

    def _class(self, cls: type) -> None:
        module = getattr(cls, "__module__", "") or ""
        if _module_is_library(module):
            self.tag("lib-class", f"{module}.{cls.__qualname__}@{_package_version(module)}")
            return
        self.tag("class", f"{module}.{cls.__qualname__}")
        for base in cls.__mro__[1:]:
            self._step(f"<{base.__qualname__}>", base)
        for name, value in sorted(vars(cls).items()):
            if name in ("__dict__", "__weakref__", "__module__", "__doc__", "__qualname__", "__firstlineno__",
                        "__static_attributes__", "_abc_impl", "__parameters__", "__orig_bases__",
                        "__dataclass_fields__", "__dataclass_params__", "__match_args__", "__slotnames__"):
                continue
            self.tag("attr", name)
            self._step(f".{name}", value)

    def _instance(self, obj: Any) -> None:
        cls = type(obj)
        self.tag("instance")
        self._step("<class>", cls)
        try:
            reduced = obj.__reduce_ex__(4)
        except Exception as exc:  # noqa: BLE001 - anything unpicklable is unhashable
            raise self.fail(f"a {cls.__qualname__} cannot be fingerprinted ({type(exc).__name__}: {exc})") from None
        if isinstance(reduced, str):  # a global singleton, pickled by name
            self.tag("global-name", reduced)
            return
        parts = list(reduced) + [None] * (6 - len(reduced))
        rebuild, args, state, listitems, dictitems = parts[:5]
        if rebuild is not None and getattr(rebuild, "__name__", "") != "__newobj__":
            self._step(".<rebuild>", rebuild)
        self._step(".<args>", args)
        self._step(".<state>", state)
        if listitems is not None:
            self._step(".<items>", list(listitems))
        if dictitems is not None:
            self._step(".<dictitems>", list(dictitems))
