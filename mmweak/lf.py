"""Labeling functions: batched callables that vote a class (or abstain) for every row of a batch.

Two ways to write one:

* decorate a function with :func:`labeling_function` (batched by default; ``batched=False`` for a
  function of one row), or
* subclass :class:`LabelingFunction` and implement :meth:`LabelingFunction.label_batch` — what the
  ready-made LFs in ``lf_library`` do.

Either way the LF declares its task, modality and the input columns it reads; mmweak validates what
it returns and fingerprints what it *is* (code, the values the code reads, config, state, version) for
caching.

An LF may also be **vectorized**: with ``input_format="arrow"`` (decorator) or by implementing
:meth:`LabelingFunction.label_arrow` (subclass), it receives the batch as a ``pyarrow.Table`` of its input
columns — no Python objects per row — and returns one vote per row as a numpy or Arrow array. Rule LFs
written with ``pyarrow.compute`` run tens of times faster than per-row Python.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Literal, Mapping, Sequence

import numpy as np
import pyarrow as pa

from ._version import __version__
from .errors import LFError
from .fingerprint import Unhashable, digest
from .task import ABSTAIN, Task

Modality = Literal["text", "image", "audio", "multimodal"]
MODALITIES = ("text", "image", "audio", "multimodal")
InputFormat = Literal["python", "arrow"]
Batch = Mapping[str, Sequence[Any]]
#: Attributes every LF has; they enter the fingerprint explicitly (or not at all), not as instance state.
_BOOLS = frozenset({bool, np.bool_})  # a vote of True is a bug, however numpy would read it
_DECLARED = ("name", "task", "inputs", "modality", "version", "resources")


@dataclass(frozen=True)
class Resources:
    """How an LF wants to be run; never changes its votes, so it stays out of the fingerprint.

    Args:
        batch_size: rows per ``Dataset.map`` / Ray batch; ``None`` lets the engine choose (large for
            vectorized LFs, which pay a fixed cost per call; moderate for Python ones).
        num_cpus, num_gpus: what one worker running this LF holds (Ray schedules by it).
        concurrency: how many such workers at most (``None``: as many as the cluster allows).

    >>> Resources(batch_size=32, num_gpus=1)
    Resources(batch_size=32, num_cpus=1.0, num_gpus=1.0, concurrency=None)
    """

    batch_size: int | None = None
    num_cpus: float = 1.0
    num_gpus: float = 0.0
    concurrency: int | None = None

    def __post_init__(self) -> None:
        if self.batch_size is not None and (not isinstance(self.batch_size, int) or self.batch_size < 1):
            raise ValueError(f"batch_size must be a positive int or None, got {self.batch_size!r}")
        for name in ("num_cpus", "num_gpus"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a non-negative number, got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.concurrency is not None and (not isinstance(self.concurrency, int) or self.concurrency < 1):
            raise ValueError(f"concurrency must be a positive int or None, got {self.concurrency!r}")


class UndeclaredColumn(KeyError):
    """An LF read a column of its batch (or row) that is not among its declared ``inputs``."""


class DeclaredColumns(dict):
    """An LF's batch (or row): the columns it declared, by name; reading another raises :class:`UndeclaredColumn`.

    >>> DeclaredColumns({"text": ["hi"]})["title"]
    Traceback (most recent call last):
    mmweak.lf.UndeclaredColumn: 'title'
    """

    def __missing__(self, key: Any) -> Any:
        raise UndeclaredColumn(key)

    def get(self, key: Any, default: Any = None) -> Any:
        # ``b.get("title")`` would quietly read None where the batch used to hold an undeclared column
        return self[key]


class LabelingFunction:
    """Base class for labeling functions.

    Subclasses implement :meth:`label_batch` (a dict of lists in, one vote per row out) and, to run
    vectorized, :meth:`label_arrow` (a ``pyarrow.Table`` in, an array of votes out). They may override
    :meth:`config` (JSON-able settings shown in the card). The cache fingerprint covers the class's code
    (all of its bases and helpers), the config *and* the instance's state, so an attribute that changes
    votes can never serve stale ones. Attributes named in ``_lazy_attrs`` hold expensive resources
    (models, clients): they are dropped when the LF is pickled to ``num_proc`` workers, re-created on
    first use in each worker, and left out of the fingerprint, as are those in ``_fingerprint_exclude``
    (bookkeeping that does not change votes).

    >>> import mmweak
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> class Shouting(LabelingFunction):
    ...     def label_batch(self, batch):
    ...         return [1 if t.isupper() else ABSTAIN for t in batch["text"]]
    >>> Shouting("shouting", task=spam, inputs=["text"])({"text": ["BUY NOW", "hello"]})
    [1, -1]
    """

    _lazy_attrs: ClassVar[tuple[str, ...]] = ()
    _fingerprint_exclude: ClassVar[tuple[str, ...]] = ()
    #: How the LF wants to be run (batch size, CPUs/GPUs); set per class or per instance.
    resources: Resources = Resources()

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        inputs: str | Sequence[str],
        modality: Modality = "text",
        version: str = "1",
    ) -> None:
        if not isinstance(name, str) or not name.strip() or not name.isprintable():  # cards, caches, errors name it
            raise ValueError(f"an LF needs a name: a non-empty printable str, got {name!r}")
        if not isinstance(task, Task):
            raise TypeError(f"LF {name!r}: task must be a mmweak.Task, got {type(task).__name__}")
        if modality not in MODALITIES:
            raise ValueError(f"LF {name!r}: modality must be one of {MODALITIES}, got {modality!r}")
        inputs = [inputs] if isinstance(inputs, str) else list(inputs)
        if not inputs:
            raise ValueError(f"LF {name!r}: declare at least one input column")
        self.name = str(name)
        self.task = task
        self.inputs = tuple(inputs)
        self.modality = modality
        self.version = str(version)

    # -- what subclasses implement ----------------------------------------------------------------
    def label_batch(self, batch: Batch) -> Sequence[int]:
        """Return one vote per row of ``batch`` (a dict of equal-length lists); ``-1`` abstains."""
        raise NotImplementedError

    def label_arrow(self, table: pa.Table) -> Any:
        """Vectorized votes: ``table`` holds the LF's input columns for one batch (Arrow, undecoded).

        Return one vote per row (numpy integer array, Arrow integer array or a list). Implementing it
        makes :func:`mmweak.apply_lfs` call this instead of :meth:`label_batch`.
        """
        raise NotImplementedError

    @property
    def input_format(self) -> InputFormat:
        """``"arrow"`` when the LF is vectorized (implements :meth:`label_arrow`), else ``"python"``."""
        return "arrow" if type(self).label_arrow is not LabelingFunction.label_arrow else "python"

    def config(self) -> dict[str, Any]:
        """Settings that change the votes (thresholds, keyword lists...), JSON-able; shown in the card."""
        return {}

    def path_inputs(self) -> tuple[str, ...]:
        """Input columns whose text cells name files this LF opens: their files' sizes and modification times
        join the vote cache's key (a replaced file is a new input). Media LFs name their media column."""
        return ()

    def code_identity(self) -> Any:
        """What counts as this LF's code: its class, walked with every base, method and helper it reads."""
        return type(self)

    def identity_state(self) -> dict[str, Any]:
        """Instance attributes that enter the fingerprint (all but declared, lazy and excluded ones)."""
        skip = {*_DECLARED, *self._lazy_attrs, *self._fingerprint_exclude}
        return {k: v for k, v in vars(self).items() if k not in skip}

    # -- identity ---------------------------------------------------------------------------------
    def fingerprint(self) -> str:
        """Cache key of this LF: code, state, config, version, task, inputs and the mmweak version.

        Raises :class:`mmweak.fingerprint.Unhashable` (naming the attribute) when something the LF
        reads cannot be hashed; :func:`mmweak.apply_lfs` then warns and recomputes instead of caching.
        """
        return digest({
            "lf": self.name, "task": self.task.to_dict(), "inputs": list(self.inputs),
            "modality": self.modality, "version": self.version, "mmweak": __version__,
            "code": self.code_identity(), "config": self.config(), "state": self.identity_state(),
        })

    @property
    def code_hash(self) -> str:
        """Short hash of the LF's code, state and config, shown in the dataset card ("?" if unhashable)."""
        try:
            return digest({"code": self.code_identity(), "config": self.config(), "state": self.identity_state()})[:12]
        except Unhashable:
            return "unhashable"

    def spec(self) -> dict[str, Any]:
        """Machine-readable description written to the card's ``weak_supervision`` block."""
        return {
            "name": self.name,
            "modality": self.modality,
            "inputs": list(self.inputs),
            "code_hash": self.code_hash,
            "version": self.version,
            "kind": type(self).__qualname__,
        }

    # -- calling ----------------------------------------------------------------------------------
    def __call__(self, batch: Batch, indices: Sequence[int] | None = None) -> list[int]:
        """Votes for ``batch`` as a list of ints, validated (bad votes raise :class:`LFError`)."""
        return self.vote(batch, indices).tolist()

    def vote(self, batch: Batch | pa.Table, indices: Sequence[int] | None = None) -> np.ndarray:
        """Validated int8 votes; ``indices`` are the dataset row numbers used in error messages.

        ``batch`` is a dict of lists (calls :meth:`label_batch`) or, for a vectorized LF, a
        ``pyarrow.Table`` (calls :meth:`label_arrow`).
        """
        if isinstance(batch, pa.Table):
            names, n = batch.column_names, batch.num_rows
        else:
            names, n = list(batch), _batch_len(batch, self.inputs)
        if indices is None:
            indices = range(n)
        missing = [c for c in self.inputs if c not in names]
        if missing:
            raise LFError(
                f"LF {self.name!r} reads column {missing[0]!r}, which the batch does not have "
                f"(columns: {sorted(names)})",
                lf=self.name, column=missing[0],
            )
        if isinstance(batch, pa.Table):
            out = self.label_arrow(batch.select(list(self.inputs)))
        else:
            out = self.label_batch(batch)
        return self._validate(out, n, indices, batch)

    def _validate(self, out: Any, n: int, indices: Sequence[int], batch: Batch) -> np.ndarray:
        cols = ", ".join(repr(c) for c in self.inputs)
        K = self.task.cardinality
        if isinstance(out, (pa.Array, pa.ChunkedArray)):
            out = out.to_numpy(zero_copy_only=False) if out.null_count == 0 else out.to_pylist()
        if (out is None or isinstance(out, (str, bytes, Mapping, set, frozenset)) or not hasattr(out, "__len__")
                or (isinstance(out, np.ndarray) and out.ndim == 0)):  # a set has no row order; a 0-d array no rows
            raise LFError(
                f"LF {self.name!r} must return a sequence of votes (one per row), got {type(out).__name__} "
                f"for rows {_span(indices)} (input columns {cols})",
                lf=self.name, column=self.inputs[0], row=_first(indices), batch_level=True,
            )
        if len(out) != n:
            raise LFError(
                f"LF {self.name!r} returned {len(out)} votes for a batch of {n} rows "
                f"(rows {_span(indices)}, input columns {cols}); it must return exactly one vote per row",
                lf=self.name, column=self.inputs[0], row=_first(indices), batch_level=True,
            )
        try:
            arr = np.asarray(out)
        except ValueError:  # ragged nested sequences
            arr = np.asarray(out, dtype=object)
        if arr.ndim != 1 and not (arr.dtype == object and arr.ndim == 0):
            raise LFError(
                f"LF {self.name!r} returned votes of shape {arr.shape} for a batch of {n} rows "
                f"(rows {_span(indices)}, input columns {cols}); it must return a flat sequence, one vote per row",
                lf=self.name, column=self.inputs[0], row=_first(indices), batch_level=True,
            )
        if arr.dtype.kind in "iu" and isinstance(out, (list, tuple)) and not _BOOLS.isdisjoint(map(type, out)):
            i = next(i for i, v in enumerate(out) if type(v) in _BOOLS)  # numpy read [True, -1] as [1, -1]
            raise self._bad_vote(out[i], i, indices, batch, hint="booleans are not class ids")
        if arr.dtype == object:
            missing = [i for i, v in enumerate(out) if v is None]
            if missing:  # abstaining is -1; a None is almost always a forgotten return
                i = missing[0]
                raise self._bad_vote(None, i, indices, batch, hint="return -1 (mmweak.ABSTAIN) to abstain, not None")
            bad = [i for i, v in enumerate(out)
                   if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer))]
            if bad:
                raise self._bad_vote(out[bad[0]], bad[0], indices, batch)
            arr = arr.astype(np.int64)
        if arr.dtype.kind == "b":  # the LF's type, not a row's value: no row of it can be used
            err = self._bad_vote(out[0], 0, indices, batch, hint=f"booleans are not class ids: return class ids "
                                 f"0..{K - 1} or -1 to abstain (e.g. 1 if ... else -1)")
            err.batch_level = True
            raise err
        if arr.dtype.kind not in "iu":
            ok = np.zeros(n, dtype=bool)
            if arr.dtype.kind == "f":
                ok = np.isfinite(arr) & (arr == np.round(arr))
            if arr.dtype.kind not in "f" or not ok.all():
                i = int(np.argmin(ok)) if arr.dtype.kind == "f" else 0
                raise self._bad_vote(out[i], i, indices, batch)
        out_of_range = (arr < ABSTAIN) | (arr >= K)
        if out_of_range.any():
            i = int(np.argmax(out_of_range))
            raise self._bad_vote(out[i], i, indices, batch)
        return arr.astype(np.int8)

    def _bad_vote(
        self, value: Any, i: int, indices: Sequence[int], batch: Batch | pa.Table, hint: str | None = None
    ) -> LFError:
        row = indices[i]
        col = self.inputs[0]
        cell = batch.column(col)[i].as_py() if isinstance(batch, pa.Table) else batch[col][i]
        if isinstance(value, np.generic):  # np.int64(7) reads as 7 to the user
            value = value.item()
        return LFError(
            f"LF {self.name!r} (task {self.task.name!r}) voted {value!r} on row {row} "
            f"(column {col!r} = {preview(cell)}); votes must be -1 (abstain) or a class "
            f"0..{self.task.cardinality - 1} of {list(self.task.labels)}" + (f"; {hint}" if hint else ""),
            lf=self.name,
            column=col,
            row=row,
        )

    # -- pickling for num_proc workers -----------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for attr in self._lazy_attrs:
            state[attr] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} task={self.task.name!r} inputs={list(self.inputs)}>"


class FunctionLF(LabelingFunction):
    """An LF made from a plain function (see :func:`labeling_function`)."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        task: Task,
        inputs: str | Sequence[str],
        modality: Modality = "text",
        batched: bool = True,
        version: str = "1",
        config: Mapping[str, Any] | None = None,
        input_format: InputFormat = "python",
    ) -> None:
        super().__init__(_lf_name(fn, name), task=task, inputs=inputs, modality=modality,
                         version=version)
        if input_format not in ("python", "arrow"):
            raise ValueError(f"LF {self.name!r}: input_format must be 'python' or 'arrow', got {input_format!r}")
        if input_format == "arrow" and not batched:
            raise ValueError(f"LF {self.name!r}: input_format='arrow' LFs are batched (they get a pyarrow.Table)")
        self.fn = fn
        self.batched = bool(batched)
        self._input_format: InputFormat = input_format
        self._config = dict(config or {})
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    @property
    def input_format(self) -> InputFormat:
        return self._input_format

    def label_batch(self, batch: Batch) -> Sequence[int]:
        if self._input_format == "arrow":  # called by hand with a dict of lists
            return self.label_arrow(pa.table({c: list(batch[c]) for c in self.inputs}))
        if self.batched:
            return self.fn(batch)
        n = _batch_len(batch, self.inputs)
        return [self.fn(DeclaredColumns({c: batch[c][i] for c in self.inputs})) for i in range(n)]

    def label_arrow(self, table: pa.Table) -> Any:
        return self.fn(table)

    def config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"batched": self.batched, **self._config}
        if self._input_format != "python":
            out["input_format"] = self._input_format
        return out

    def code_identity(self) -> Any:
        return self.fn

    def identity_state(self) -> dict[str, Any]:
        state = super().identity_state()
        for attr in ("fn", "__wrapped__", "__doc__"):  # the function enters as code_identity
            state.pop(attr, None)
        return state


def labeling_function(
    *,
    task: Task,
    inputs: str | Sequence[str],
    modality: Modality = "text",
    name: str | None = None,
    batched: bool = True,
    version: str = "1",
    config: Mapping[str, Any] | None = None,
    input_format: InputFormat = "python",
) -> Callable[[Callable[..., Any]], FunctionLF]:
    """Turn a function into a labeling function.

    Batched (default): the function gets a batch (dict of lists, as ``Dataset.map(batched=True)``
    gives) and returns one vote per row. ``batched=False``: it gets one row (dict) and returns one
    vote. ``input_format="arrow"``: it gets a ``pyarrow.Table`` of its input columns and returns an
    array of votes — write it with ``pyarrow.compute`` and no Python runs per row. ``-1``
    (``mmweak.ABSTAIN``) abstains.

    >>> import mmweak
    >>> spam = mmweak.Task("spam", labels=["ham", "spam"])
    >>> @mmweak.labeling_function(task=spam, inputs=["text"])
    ... def has_link(batch):
    ...     return [1 if "http" in t else mmweak.ABSTAIN for t in batch["text"]]
    >>> has_link({"text": ["see http://x.y", "nice song"]})
    [1, -1]

    Vectorized, on Arrow:

    >>> import pyarrow.compute as pc
    >>> @mmweak.labeling_function(task=spam, inputs="text", input_format="arrow")
    ... def has_link_fast(table):
    ...     return pc.if_else(pc.match_substring(table["text"], "http"), 1, -1)
    >>> has_link_fast({"text": ["see http://x.y", "nice song"]})
    [1, -1]
    """

    def wrap(fn: Callable[..., Any]) -> FunctionLF:
        if not callable(fn):
            raise TypeError("labeling_function decorates a function")
        lf_name = _lf_name(fn, name)
        if batched is False:
            params = inspect.signature(fn).parameters.values()
            positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            required = [p for p in params if p.default is p.empty and p.kind in positional]
            keyword_only = [p for p in params if p.default is p.empty and p.kind is inspect.Parameter.KEYWORD_ONLY]
            takes_row = len(required) == 1 or (not required and any(
                p.kind in positional or p.kind is p.VAR_POSITIONAL for p in params))
            if not takes_row or keyword_only:
                raise TypeError(f"per-row LF {lf_name!r} must take one argument, the row (any other needs a default)")
        return FunctionLF(
            fn,
            name=lf_name,
            task=task,
            inputs=inputs,
            modality=modality,
            batched=batched,
            version=version,
            config=config,
            input_format=input_format,
        )

    return wrap


def _lf_name(fn: Callable[..., Any], name: str | None) -> str:
    if name is not None:
        return name
    if not isinstance(getattr(fn, "__name__", None), str):
        raise TypeError(f"{fn!r} has no __name__ (a functools.partial or a callable object): give the LF a name=")
    return fn.__name__


def preview(value: Any, limit: int = 60) -> str:
    """Short repr of a cell for error messages (binary payloads are summarised, not dumped; a media cell names
    its file, which is what a user looks for).

    >>> preview({"bytes": b"\\x89PNG" * 100, "path": "photos/cat.png"}), preview(b"abc"), preview("x" * 80)[-5:]
    ("<image or audio: 400 bytes, path 'photos/cat.png'>", '<3 bytes>', 'xx...')
    """
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if isinstance(value, Mapping) and ("bytes" in value or "array" in value):
        parts = [f"{len(value['bytes'])} bytes" if isinstance(value.get("bytes"), (bytes, bytearray)) else None,
                 f"{len(value['array'])} samples" if value.get("array") is not None else None,
                 f"path {value['path']!r}" if value.get("path") else None]
        shown = ", ".join(p for p in parts if p)
        return f"<image or audio: {shown}>" if shown else f"<{type(value).__name__} with keys {sorted(value)}>"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _batch_len(batch: Batch, inputs: Iterable[str]) -> int:
    for c in inputs:
        if c in batch:
            return len(batch[c])
    for v in batch.values():
        return len(v)
    return 0


def _span(indices: Sequence[int]) -> str:
    if len(indices) == 0:
        return "(none)"
    return f"{indices[0]}..{indices[-1]}" if len(indices) > 1 else str(indices[0])


def _first(indices: Sequence[int]) -> int | None:
    return indices[0] if len(indices) else None
