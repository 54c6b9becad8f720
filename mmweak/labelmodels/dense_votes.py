"""Predicting straight from a dense block of votes, when that is cheaper than building the sparse view.

A log-linear label model scores a row as ``bias + sum_j W[j, vote_j]``. The sparse one-hot view
(:class:`~mmweak.labelmodels.votes.SparseVotes`) makes that one product over the votes, but building it
(find every vote, split its offset into row and column) costs about 20 ns a vote. When LFs vote on
most rows and the classes are few, the same scores are ``sum_k (L == k) @ W[:, k, :]``: K comparisons
and K small dense products that stream the block through the cache once, 5-10x cheaper per row. With
many sparse LFs (crowds of thousands of workers, three votes a row) the dense form would touch every
abstain, and the sparse view wins by orders of magnitude; :func:`prediction_view` picks between them
per block from its measured costs. The two give the same scores up to the order of a float sum
(~1e-15), far inside the 1e-9 tolerance every tie test in the package uses.
"""

from __future__ import annotations

import numpy as np

from ..task import ABSTAIN
from .votes import SparseVotes

#: Cells per inner product (rows x (LFs + score columns)): a class's float64 indicator and its product
#: stay ~2 MB, inside the cache of one core; blocks 8x larger ran 3x slower at m=50.
_CELLS_PER_STEP = 1 << 18

#: Multiply-adds below which OpenBLAS runs a product on the calling thread only (its SMP threshold).
_BLAS_ONE_THREAD = 1 << 18

#: Rows whose votes decide a block's kernel.
_PROBE_ROWS = 2048


class DenseVotes:
    """A prediction-only view of an ``(n, m)`` int vote block (``-1`` = abstain) with classes ``0..K-1``.

    It offers what prediction needs from :class:`~mmweak.labelmodels.votes.SparseVotes` (``n``,
    ``voted``, ``take``, ``scores`` and ``weighted_class_counts``), so a model's ``proba_from_votes``
    accepts either.

    >>> L = np.array([[0, -1], [1, 1], [-1, -1]], dtype=np.int8)
    >>> W = np.array([[[1.0, 0.0], [0.0, 2.0]], [[0.5, 0.0], [0.0, 0.5]]])
    >>> DenseVotes(L, 2).scores(W, np.zeros(2)).tolist()
    [[1.0, 0.0], [0.0, 2.5], [0.0, 0.0]]
    >>> DenseVotes(L, 2).voted.tolist()
    [True, True, False]
    """

    def __init__(self, L: np.ndarray, cardinality: int) -> None:
        self.L = L
        self.n_lfs = int(L.shape[1])
        self.cardinality = int(cardinality)

    @property
    def n(self) -> int:
        return int(self.L.shape[0])

    @property
    def voted(self) -> np.ndarray:
        """Rows with at least one vote."""
        return (self.L != ABSTAIN).any(axis=1)

    def take(self, rows: np.ndarray) -> "DenseVotes":
        """The block's given rows."""
        return DenseVotes(self.L[rows], self.cardinality)

    def scores(self, W: np.ndarray, bias: np.ndarray) -> np.ndarray:
        """``bias + sum_j W[j, vote_j]`` for ``W`` of shape ``(m, K, S)`` -> ``(n, S)``."""
        W = np.asarray(W, dtype=np.float64)
        if not np.isfinite(W).all():
            # An abstain multiplies its weights by zero here, and 0 * -inf is NaN: the sparse view
            # never touches an abstain's weights.
            return SparseVotes.from_dense(self.L, self.cardinality).scores(W, bias)
        K = self.cardinality
        per_class = [np.ascontiguousarray(W[:, k, :]) for k in range(K)]
        out = np.empty((self.n, W.shape[2]))
        step = rows_per_product(self.n_lfs, W.shape[2])
        for start in range(0, self.n, step):
            block = self.L[start: start + step]
            acc = (block == 0).astype(np.float64) @ per_class[0]
            for k in range(1, K):
                acc += (block == k).astype(np.float64) @ per_class[k]
            out[start: start + block.shape[0]] = acc
        out += bias
        return out

    def weighted_class_counts(self, lf_weight: np.ndarray) -> np.ndarray:
        """``(n, K)``: per row and class, the summed ``lf_weight`` of the LFs voting that class.

        >>> DenseVotes(np.array([[0, 1, 1], [-1, -1, 0]], dtype=np.int8), 2).weighted_class_counts(
        ...     np.array([1.0, 0.5, 2.0])).tolist()
        [[1.0, 2.5], [2.0, 0.0]]
        """
        w = np.asarray(lf_weight, dtype=np.float64)
        out = np.empty((self.n, self.cardinality))
        step = max(1, _CELLS_PER_STEP // max(self.n_lfs, 1))
        for start in range(0, self.n, step):
            block = self.L[start: start + step]
            for k in range(self.cardinality):
                out[start: start + block.shape[0], k] = (block == k).astype(np.float64) @ w
        return out


def rows_per_product(n_lfs: int, width: int) -> int:
    """Rows of one dense product ``(rows, m) @ (m, S)``.

    An indicator and its product stay in one core's cache, and the product stays under OpenBLAS's
    threading threshold (2^18 multiply-adds), so it runs on the calling thread: the block threads
    already fill the cores, and BLAS threads of its own spun on the same cores (a 1M-row EBCC predict
    ran 0.9 s with them, 0.5 s without).

    >>> rows_per_product(50, 2), rows_per_product(50, 20)
    (2621, 262)
    """
    m, S = max(int(n_lfs), 1), max(int(width), 1)
    return max(1, min(_CELLS_PER_STEP // (m + S), _BLAS_ONE_THREAD // (m * S)))


def dense_is_cheaper(n_lfs: int, cardinality: int, width: int, votes_per_row: float) -> bool:
    """Whether scoring a dense block beats building its sparse view, from measured costs.

    The rule is a log-linear fit of the two kernels' time ratio over 275 shapes (m = 3-200 LFs,
    K = 2-20 classes, S = K or 3K score columns, 1-100 % coverage; one BLAS thread, as blocks run): the
    dense kernel wins with more votes per row, and loses with more LFs, classes and columns, each of
    which widens the dense products while the sparse one only sees votes. ``benchmarks/predict_kernels.py``
    remeasures it on 380 shapes, adding EBCC's S = 10K that the fit never saw: the picked kernel takes
    on average 1.02-1.03x the faster one's time (worst 2.0-2.6x over runs), against 1.7x (worst
    16-18x) for always building the sparse view.

    >>> dense_is_cheaper(50, 2, 2, 17.5), dense_is_cheaper(1000, 5, 5, 5.0), dense_is_cheaper(20, 20, 20, 20.0)
    (True, False, False)
    """
    m, K, S = max(int(n_lfs), 1), max(int(cardinality), 1), max(int(width), 1)
    if votes_per_row <= 0:
        return False
    log_ratio = 2.29 + 0.45 * np.log(votes_per_row) - 0.37 * np.log(m) - 0.77 * np.log(K) - 0.41 * np.log(S)
    return bool(log_ratio > 0)


def prediction_view(L: np.ndarray, cardinality: int, width: int) -> DenseVotes | SparseVotes:
    """The cheaper view of a dense vote block for scoring with weights ``width`` columns wide.

    >>> type(prediction_view(np.zeros((4, 3), dtype=np.int8), 2, 2)).__name__
    'DenseVotes'
    """
    n, m = L.shape
    if n == 0 or m == 0:
        return SparseVotes.from_dense(L, cardinality)
    head = L[:_PROBE_ROWS]  # the block's first rows estimate its coverage: a full count costs a scan of it
    if dense_is_cheaper(m, cardinality, width, float(np.count_nonzero(head != ABSTAIN)) / head.shape[0]):
        return DenseVotes(L, cardinality)
    return SparseVotes.from_dense(L, cardinality)


__all__ = ["DenseVotes", "dense_is_cheaper", "prediction_view"]
