"""Work shared by every LF that runs on the same batch: decode once, embed once.

``apply_lfs`` runs all pending LFs of a split on each batch in turn. Expensive derived values — a
decoded image, audio resampled to 16 kHz, a CLIP embedding — are the same for every LF that reads the
same column with the same settings, so LFs fetch them through :func:`memo` instead of computing them
themselves. The memo lives for exactly one batch (it is opened by the batch runner, and lives in a
context variable so it also works inside ``num_proc`` workers); outside ``apply_lfs`` (an LF called by
hand) ``memo`` simply computes.

>>> calls = []
>>> def decode():
...     calls.append(1)
...     return "decoded"
>>> with batch_scope():
...     memo(("audio", "clip", 16000), decode), memo(("audio", "clip", 16000), decode)
('decoded', 'decoded')
>>> len(calls)
1
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Callable, Hashable, Iterable, Iterator, TypeVar

T = TypeVar("T")

_FAULTS: contextvars.ContextVar[set[int] | None] = contextvars.ContextVar("mmweak_lf_faults", default=None)
_CURRENT: contextvars.ContextVar[dict[Hashable, Any] | None] = contextvars.ContextVar("mmweak_batch_memo", default=None)


@contextlib.contextmanager
def batch_scope() -> Iterator[dict[Hashable, Any]]:
    """Open a fresh memo for one batch; values computed inside are dropped on exit."""
    store: dict[Hashable, Any] = {}
    token = _CURRENT.set(store)
    try:
        yield store
    finally:
        _CURRENT.reset(token)


def memo(key: Hashable, compute: Callable[[], T]) -> T:
    """Return the value stored under ``key`` for the current batch, computing it on first use.

    Keys must identify everything the value depends on (column, model fingerprint, sample rate...),
    since every LF of the batch shares one namespace. Without an open :func:`batch_scope` the value is
    computed and not kept.
    """
    store = _CURRENT.get()
    if store is None:
        return compute()
    if key not in store:
        store[key] = compute()
    return store[key]


@contextlib.contextmanager
def fault_scope() -> Iterator[set[int]]:
    """Collect the batch positions one LF call reports through :func:`note_faults`.

    ``apply_lfs`` opens one around every LF call and counts the positions as that LF's faults, which is
    how an LF that abstains on an undecodable clip still shows up in ``ApplyReport.faults()``.
    """
    noted: set[int] = set()
    token = _FAULTS.set(noted)
    try:
        yield noted
    finally:
        _FAULTS.reset(token)


def note_faults(positions: Iterable[int]) -> None:
    """Report rows (positions within the current batch) the running LF abstained on because of bad input.

    Outside ``apply_lfs`` this does nothing, so LFs can call it unconditionally.

    >>> with fault_scope() as noted:
    ...     note_faults([2, 0])
    >>> sorted(noted)
    [0, 2]
    """
    noted = _FAULTS.get()
    if noted is not None:
        noted.update(int(p) for p in positions)


def in_batch_scope() -> bool:
    """True while an ``apply_lfs`` batch (or an explicit :func:`batch_scope`) is open."""
    return _CURRENT.get() is not None


__all__ = ["batch_scope", "fault_scope", "in_batch_scope", "memo", "note_faults"]
