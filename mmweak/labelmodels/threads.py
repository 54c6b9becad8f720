"""Run independent row blocks on the machine's cores.

Predicting is a pure function of each row's votes, so the blocks of a large matrix can be scored in
any order on any thread; numpy and scipy's sparse products release the GIL, so threads use every
core without copying the votes into other processes. Each block writes its own rows of the output,
so the result is bit-for-bit the same as a serial loop, whatever the number of threads.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable

#: Environment variable that caps the threads (``1`` = serial). Without it ``OMP_NUM_THREADS`` caps them,
#: which Ray sets to a task's CPUs in its workers, so packed tasks do not oversubscribe a node.
THREADS_ENV = "MMWEAK_NUM_THREADS"
_FALLBACK_ENV = "OMP_NUM_THREADS"


def available_threads() -> int:
    """Cores this process may run on, capped by ``MMWEAK_NUM_THREADS`` (else ``OMP_NUM_THREADS``) when set.

    >>> available_threads() >= 1
    True
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    cap = os.environ.get(THREADS_ENV, "").strip()
    if cap:
        try:
            return max(1, min(cores, int(cap)))
        except ValueError:
            raise ValueError(f"{THREADS_ENV} must be a whole number of threads, got {cap!r}") from None
    # OpenMP's variable is not ours to police: it may list one count per nesting level ("4,2"), so the
    # outer level counts, and a value OpenMP itself would reject is ignored rather than raised on.
    outer = os.environ.get(_FALLBACK_ENV, "").split(",")[0].strip()
    if outer.isdigit():
        return max(1, min(cores, int(outer)))
    return max(1, cores)


def for_each_block(work: Callable[[int], None], starts: Iterable[int]) -> None:
    """Call ``work(start)`` for every block start, on up to :func:`available_threads` threads.

    ``work`` must only write rows of its own block. An exception in any block is raised here.

    >>> import numpy as np
    >>> out = np.zeros(10)
    >>> def fill(start):
    ...     out[start:start + 4] = np.arange(start, min(start + 4, 10))
    >>> for_each_block(fill, range(0, 10, 4)); out.tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    """
    starts = list(starts)
    workers = min(len(starts), available_threads())
    if workers <= 1:
        for start in starts:
            work(start)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mmweak-block") as pool:
        for _ in pool.map(work, starts):  # consuming the results re-raises a block's exception
            pass


__all__ = ["THREADS_ENV", "available_threads", "for_each_block"]
