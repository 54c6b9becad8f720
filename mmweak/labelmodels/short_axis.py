"""Max and sum over a short last axis (a handful of classes), column by column.

numpy reduces along a contiguous axis of 2-7 numbers with a per-row setup that costs far more than the
arithmetic: a row-wise softmax over K=2 classes spent two thirds of its time in the two reductions.
Taking the columns in order with elementwise ufuncs gives the same numbers bit for bit (numpy sums
fewer than 8 numbers left to right, as this does) at a third of the cost. Longer axes go to numpy.
"""

from __future__ import annotations

import numpy as np

#: Below this length numpy's sum is a left-to-right loop, so the column-wise sum matches it exactly.
_SHORT = 8


def max_last(x: np.ndarray) -> np.ndarray:
    """``x.max(axis=-1)``.

    >>> max_last(np.array([[1.0, 3.0], [2.0, -1.0]])).tolist()
    [3.0, 2.0]
    """
    return _by_column(x, np.maximum, np.max)


def sum_last(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=-1)``, bit for bit.

    >>> sum_last(np.array([[1.0, 3.0], [2.0, -1.0]])).tolist()
    [4.0, 1.0]
    """
    return _by_column(x, np.add, np.sum)


def sum_in_order(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=-1)`` added left to right whatever the length: what numpy gives for a column-major 2-D array
    (a boolean column selection makes one), where it adds the columns one after another.

    >>> sum_in_order(np.array([[1.0, 3.0, 2.0]] * 2)).tolist()
    [6.0, 6.0]
    """
    return _by_column(x, np.add, np.sum, short=x.shape[-1] + 1)


def sum_runs(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``np.add.reduceat(x, starts, axis=1)`` bit for bit, for runs of a few entries along the middle axis.

    numpy's ``reduceat`` along a middle axis pays a per-element setup that cost more than the additions on
    the EBCC finalists' few live subtype columns. It adds a run as its first entry plus the sum of the
    rest, and sums that rest left to right when it holds fewer than 8 entries (numpy's pairwise blocks);
    runs that long or longer go to ``reduceat`` itself.

    >>> x = np.arange(10.0).reshape(1, 5, 2)
    >>> sum_runs(x, np.array([0, 3])).tolist() == np.add.reduceat(x, [0, 3], axis=1).tolist()
    True
    """
    ends = np.r_[starts[1:], x.shape[1]]
    out = np.empty((x.shape[0], starts.size, *x.shape[2:]), dtype=x.dtype)
    for i, (a, b) in enumerate(zip(starts.tolist(), ends.tolist())):
        o = out[:, i]
        if b - a > _SHORT:
            o[...] = np.add.reduceat(x[:, a:b], [0], axis=1)[:, 0]
        elif b - a == 1:
            o[...] = x[:, a]
        else:
            o[...] = x[:, a + 1]
            for k in range(a + 2, b):
                o += x[:, k]
            np.add(x[:, a], o, out=o)
    return out


def _by_column(x: np.ndarray, combine: np.ufunc, reduce, short: int = _SHORT) -> np.ndarray:
    n = x.shape[-1]
    if not 1 < n < short:
        return reduce(x, axis=-1)
    out = x[..., 0].copy()
    for k in range(1, n):
        combine(out, x[..., k], out=out)
    return out


__all__ = ["max_last", "sum_in_order", "sum_last", "sum_runs"]
