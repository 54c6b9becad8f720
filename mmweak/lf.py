"""Labeling functions: batched callables that vote a class (or abstain) for every row of a batch.

Two ways to write one:

* decorate a function with :func:`labeling_function` (batched by default; ``batched=False`` for a
  function of one row), or
* subclass :class:`LabelingFunction` and implement :meth:`LabelingFunction.label_batch` — what the
  ready-made LFs in ``lf_library`` do.

Either way the LF declares its task, modality and the input columns it reads; mmweak validates what
it returns and fingerprints what it *is* (code + config + version) for caching.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, ClassVar, Iterable, Literal, Mapping, Sequence

import numpy as np

from ._version import __version__
from .errors import LFError
from .fingerprint import code_digest, stable_hash
from .task import Task

ABSTAIN = -1
Modality = Literal["text", "image", "audio", "multimodal"]
MODALITIES = ("text", "image", "audio", "multimodal")
Batch = Mapping[str, Sequence[Any]]


class LabelingFunction:
    """Base class for labeling functions.

    Subclasses implement :meth:`label_batch` and may override :meth:`config` (JSON-able settings that
    change what the LF votes; they enter the fingerprint). Attributes named in ``_lazy_attrs`` hold
    expensive resources (models, clients): they are dropped when the LF is pickled to ``num_proc``
    workers and re-created on first use in each worker.

    >>> import mmweak
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> class Shouting(LabelingFunction):
    ...     def label_batch(self, batch):
    ...         return [1 if t.isupper() else ABSTAIN for t in batch["text"]]
    >>> Shouting("shouting", task=spam, inputs=["text"])({"text": ["BUY NOW", "hello"]})
    [1, -1]
    """

    _lazy_attrs: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        inputs: str | Sequence[str],
        modality: Modality = "text",
        version: str = "1",
    ) -> None:
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

    def config(self) -> dict[str, Any]:
        """Settings that change the votes (thresholds, keyword lists...), JSON-able."""
        return {}

    def code_identity(self) -> Any:
        """What counts as this LF's code: the source of its class and its mmweak/lf_library bases."""
        parts = []
        for cls in type(self).__mro__:
            if cls is LabelingFunction or cls is object:
                break
            parts.append(code_digest(cls))
        return parts

    # -- identity ---------------------------------------------------------------------------------
    def fingerprint(self) -> str:
        """Cache key of this LF: code, config, version, task, inputs and the mmweak version."""
        return stable_hash(
            "lf", self.name, self.task.to_dict(), self.inputs, self.modality, self.version,
            self.code_identity(), self.config(), __version__,
        )

    @property
    def code_hash(self) -> str:
        """Short hash of the LF's code and config, shown in the dataset card."""
        return stable_hash(self.code_identity(), self.config())[:12]

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

    def vote(self, batch: Batch, indices: Sequence[int] | None = None) -> np.ndarray:
        """Validated int8 votes; ``indices`` are the dataset row numbers used in error messages."""
        n = _batch_len(batch, self.inputs)
        if indices is None:
            indices = range(n)
        missing = [c for c in self.inputs if c not in batch]
        if missing:
            raise LFError(
                f"LF {self.name!r} reads column {missing[0]!r}, which the batch does not have "
                f"(columns: {sorted(batch)})",
                lf=self.name, column=missing[0],
            )
        out = self.label_batch(batch)
        return self._validate(out, n, indices, batch)

    def _validate(self, out: Any, n: int, indices: Sequence[int], batch: Batch) -> np.ndarray:
        cols = ", ".join(repr(c) for c in self.inputs)
        K = self.task.cardinality
        if out is None or isinstance(out, (str, bytes, Mapping)) or not hasattr(out, "__len__"):
            raise LFError(
                f"LF {self.name!r} must return a sequence of votes (one per row), got {type(out).__name__} "
                f"for rows {_span(indices)} (input columns {cols})",
                lf=self.name, column=self.inputs[0], row=_first(indices),
            )
        if len(out) != n:
            raise LFError(
                f"LF {self.name!r} returned {len(out)} votes for a batch of {n} rows "
                f"(rows {_span(indices)}, input columns {cols})",
                lf=self.name, column=self.inputs[0], row=_first(indices),
            )
        arr = np.asarray(out)
        if arr.dtype == object:
            arr = np.asarray([ABSTAIN if v is None else v for v in out])
        if arr.dtype.kind == "b":
            raise LFError(
                f"LF {self.name!r} returned booleans for rows {_span(indices)}; return class ids "
                f"0..{K - 1} or -1 to abstain",
                lf=self.name, column=self.inputs[0], row=_first(indices),
            )
        if arr.dtype.kind not in "iu":
            ok = np.zeros(n, dtype=bool)
            if arr.dtype.kind == "f":
                ok = np.isfinite(arr) & (arr == np.round(arr))
            if arr.dtype.kind not in "f" or not ok.all():
                i = int(np.argmin(ok)) if arr.dtype.kind == "f" else 0
                raise self._bad_vote(out[i], i, indices, batch)
        bad = (arr < ABSTAIN) | (arr >= K)
        if bad.any():
            i = int(np.argmax(bad))
            raise self._bad_vote(out[i], i, indices, batch)
        return arr.astype(np.int8)

    def _bad_vote(self, value: Any, i: int, indices: Sequence[int], batch: Batch) -> LFError:
        row = indices[i]
        col = self.inputs[0]
        return LFError(
            f"LF {self.name!r} (task {self.task.name!r}) voted {value!r} on row {row} "
            f"(column {col!r} = {preview(batch[col][i])}); votes must be -1 (abstain) or a class "
            f"0..{self.task.cardinality - 1} of {list(self.task.labels)}",
            lf=self.name, column=col, row=row,
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
    ) -> None:
        super().__init__(name or fn.__name__, task=task, inputs=inputs, modality=modality, version=version)
        self.fn = fn
        self.batched = bool(batched)
        self._config = dict(config or {})
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def label_batch(self, batch: Batch) -> Sequence[int]:
        if self.batched:
            return self.fn(batch)
        n = _batch_len(batch, self.inputs)
        return [self.fn({c: batch[c][i] for c in self.inputs}) for i in range(n)]

    def config(self) -> dict[str, Any]:
        return {"batched": self.batched, **self._config}

    def code_identity(self) -> Any:
        return code_digest(self.fn)


def labeling_function(
    *,
    task: Task,
    inputs: str | Sequence[str],
    modality: Modality = "text",
    name: str | None = None,
    batched: bool = True,
    version: str = "1",
    config: Mapping[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], FunctionLF]:
    """Turn a function into a labeling function.

    Batched (default): the function gets a batch (dict of lists, as ``Dataset.map(batched=True)``
    gives) and returns one vote per row. ``batched=False``: it gets one row (dict) and returns one
    vote. ``-1`` (``mmweak.ABSTAIN``) abstains.

    >>> import mmweak
    >>> spam = mmweak.Task("spam", labels=["ham", "spam"])
    >>> @mmweak.labeling_function(task=spam, inputs=["text"])
    ... def has_link(batch):
    ...     return [1 if "http" in t else mmweak.ABSTAIN for t in batch["text"]]
    >>> has_link({"text": ["see http://x.y", "nice song"]})
    [1, -1]
    """

    def wrap(fn: Callable[..., Any]) -> FunctionLF:
        if not callable(fn):
            raise TypeError("labeling_function decorates a function")
        if batched is False:
            params = inspect.signature(fn).parameters
            if len(params) != 1:
                raise TypeError(f"per-row LF {fn.__name__!r} must take exactly one argument (the row)")
        return FunctionLF(
            fn, name=name, task=task, inputs=inputs, modality=modality,
            batched=batched, version=version, config=config,
        )

    return wrap


def preview(value: Any, limit: int = 60) -> str:
    """Short repr of a cell for error messages (binary payloads are summarised, not dumped)."""
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if isinstance(value, Mapping) and ("bytes" in value or "array" in value):
        return f"<{type(value).__name__} with keys {sorted(value)}>"
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
