"""The vote matrix as label models consume it: sparse one-hot votes, optionally collapsed into patterns.

Every naive-Bayes-style label model scores a row as ``bias + sum over the row's votes of a per-(LF, vote)
weight vector``. With the votes as a sparse one-hot matrix ``X`` (rows x LFs*K, one entry per non-abstain
vote) that is a single sparse product ``X @ W``, and the expectation–maximisation statistics are
``X.T @ posterior``. Both cost O(number of votes), so abstains are free: a 1e6 x 50 matrix at 35 %
coverage is one product over 1.75e7 entries (tens of milliseconds).

When rows repeat (few LFs, low coverage), :meth:`SparseVotes.collapsed` merges identical rows into
weighted patterns first, so fitting cost grows with the number of distinct patterns, not rows.
"""

from __future__ import annotations

import contextlib
import contextvars
import weakref
from typing import Any, Iterator

import numpy as np
import scipy.sparse as sp

from ..task import ABSTAIN
from .short_axis import max_last, sum_last

# Cells per chunk when converting a dense matrix: bounds the mask and index temporaries (a few hundred MB
# at most), whether the matrix is 10M x 100 or a 100,000 x 10,000 crowd.
_CHUNK_CELLS = 1 << 25
# Cells (rows x LF-class columns) of a dense one-hot block: ~2 MB of float64, inside one core's cache.
_DENSE_CELLS = 1 << 18
#: Rows that pairwise LF statistics (copies, dependence) read: they converge long before this, and it keeps the
#: m^2 co-vote product cheap.
PAIR_STAT_ROWS = 50_000


_VIEWS: contextvars.ContextVar[dict | None] = contextvars.ContextVar("mmweak_sparse_views", default=None)


@contextlib.contextmanager
def shared_views() -> Iterator[dict]:
    """While open, sparse views (and what is computed from them, e.g. copy groups) are built once per matrix.

    A model selection fits several members on the same rows; each would otherwise convert them again.
    An entry lives as long as the matrix it was computed from (:func:`remember`), so no key is ever reused by
    another array and no matrix is kept alive by the memo.
    """
    token = _VIEWS.set({})
    try:
        yield _VIEWS.get()  # type: ignore[misc]
    finally:
        _VIEWS.reset(token)


def view_memo() -> dict | None:
    """The open :func:`shared_views` memo, or None."""
    return _VIEWS.get()


def remember(memo: dict, key: Any, source: Any, value: Any) -> None:
    """Memo ``value``, computed from ``source``, for as long as ``source`` lives and no longer.

    The entry holds a weak reference: a selection's folds and samples are dense copies that die when their
    step ends, and holding every one until the whole fit ended kept 7.8 GB on a 100,000 x 10,000 crowd.
    Its key (built from ``id(source)``) leaves the memo with ``source``, before the id can be reused.

    >>> memo, a = {}, np.zeros(3)
    >>> remember(memo, id(a), a, "view of a"); recall(memo, id(a), a)
    'view of a'
    >>> del a; len(memo)
    0
    """
    memo[key] = (weakref.ref(source, lambda _gone: memo.pop(key, None)), value)


def recall(memo: dict | None, key: Any, source: Any) -> Any:
    """The value :func:`remember` stored for ``source`` under ``key``, or None."""
    hit = None if memo is None else memo.get(key)
    return hit[1] if hit is not None and hit[0]() is source else None


class SparseVotes:
    """One-hot non-abstain votes of an ``(n, m)`` matrix with classes ``0..K-1``.

    ``X`` has a 1 at ``(i, j*K + v)`` when LF ``j`` voted ``v`` on row ``i``. ``weight`` is the
    multiplicity of each row (1 unless rows were collapsed into patterns).

    >>> V = SparseVotes.from_dense(np.array([[0, -1], [1, 1]], dtype=np.int8), 2)
    >>> V.X.toarray().astype(int).tolist()
    [[1, 0, 0, 0], [0, 1, 0, 1]]
    >>> V.voted.tolist()
    [True, True]
    """

    def __init__(self, X: sp.csr_matrix, n_lfs: int, cardinality: int, weight: np.ndarray | None = None) -> None:
        self.X = X
        self.n_lfs = int(n_lfs)
        self.cardinality = int(cardinality)
        self.weight = np.ones(X.shape[0]) if weight is None else np.asarray(weight, dtype=np.float64)

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def voted(self) -> np.ndarray:
        """Rows with at least one vote."""
        return np.diff(self.X.indptr) > 0

    @classmethod
    def from_dense(cls, L: np.ndarray, cardinality: int, weight: np.ndarray | None = None) -> "SparseVotes":
        """Convert a validated dense vote matrix (int8/int16, ``-1`` = abstain).

        Inside :func:`shared_views` the same matrix object is converted once, however many models ask.
        """
        memo = _VIEWS.get()
        if memo is not None and weight is None:
            key = (id(L), int(cardinality))
            view = recall(memo, key, L)
            if view is None:
                view = cls._from_dense(L, cardinality, None)
                remember(memo, key, L, view)
            return view
        return cls._from_dense(L, cardinality, weight)

    @classmethod
    def _from_dense(cls, L: np.ndarray, cardinality: int, weight: np.ndarray | None) -> "SparseVotes":
        n, m = L.shape
        K = int(cardinality)
        counts = np.zeros(n, dtype=np.int64)
        col_parts = []
        step = max(1, _CHUNK_CELLS // max(m, 1))
        for start in range(0, n, step):
            block = L[start: start + step]
            flat = block.reshape(-1)
            # Row-major, so entries come out sorted by row; 32-bit offsets (a third faster to divide)
            # whenever the block's cells fit, which they do below ~8000 LFs.
            itype = np.int32 if flat.size < 2**31 else np.int64
            idx: np.ndarray = np.flatnonzero(flat != ABSTAIN).astype(itype)
            rows = idx // itype(m)
            counts[start: start + block.shape[0]] = np.bincount(rows, minlength=block.shape[0])
            col_parts.append(((idx - rows * itype(m)) * itype(K) + flat[idx]).astype(np.int32))
            del idx, rows
        indices = np.concatenate(col_parts) if col_parts else np.zeros(0, np.int32)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        data = np.ones(indices.size, dtype=np.float64)
        X = sp.csr_matrix((data, indices, indptr), shape=(n, m * K))
        return cls(X, m, K, weight)

    def select_lfs(self, lfs: np.ndarray) -> "SparseVotes":
        """The votes of the given LFs only (in that order)."""
        lfs = np.asarray(lfs, dtype=np.int64)
        cols = (lfs[:, None] * self.cardinality + np.arange(self.cardinality)[None, :]).ravel()
        return SparseVotes(self.X[:, cols].tocsr(), lfs.size, self.cardinality, self.weight)

    def stacked(self, other: "SparseVotes") -> "SparseVotes":
        """These rows followed by ``other``'s (same LFs and classes): how gold dev rows join the fit rows.

        >>> a = SparseVotes.from_dense(np.array([[0, 1]]), 2)
        >>> b = SparseVotes.from_dense(np.array([[1, -1], [-1, -1]]), 2)
        >>> both = a.stacked(b); both.n, both.voted.tolist()
        (3, [True, True, False])
        """
        X = sp.vstack([self.X, other.X], format="csr")
        return SparseVotes(X, self.n_lfs, self.cardinality, np.r_[self.weight, other.weight])

    def take(self, rows: np.ndarray) -> "SparseVotes":
        """The sub-matrix of the given rows (weights carried along)."""
        return SparseVotes(self.X[rows], self.n_lfs, self.cardinality, self.weight[rows])

    def capped(self, max_rows: int, seed: int) -> "SparseVotes":
        """All rows, or a seeded sample of ``max_rows`` of them in their order (as :func:`fit_sample` draws).

        >>> V = SparseVotes.from_dense(np.zeros((10, 2), dtype=np.int8), 2)
        >>> V.capped(4, 0).n, V.capped(50, 0) is V
        (4, True)
        """
        if self.n <= max_rows:
            return self
        return self.take(sorted_sample(np.random.default_rng(seed), self.n, int(max_rows)))

    # -- the two products every model is built from ----------------------------------------------
    def scores(self, W: np.ndarray, bias: np.ndarray) -> np.ndarray:
        """``bias + X @ W`` for ``W`` of shape ``(m, K, K)`` (LF, vote, class) -> ``(n, K)``."""
        out = np.asarray(self.X @ W.reshape(self.n_lfs * self.cardinality, -1))
        out += bias
        return out

    def vote_class_counts(self, T: np.ndarray) -> np.ndarray:
        """``(m, K, K)``: weighted mass of rows where LF j voted v, split by the rows' class posterior ``T``."""
        wT = T * self.weight[:, None]
        C = np.asarray(self.X.T @ wT)
        return C.reshape(self.n_lfs, self.cardinality, T.shape[1])

    def co_votes_are_dense(self) -> bool:
        """Whether the co-votes are cheaper as a dense grid (:meth:`co_votes`) than as a sparse product
        (:meth:`co_votes_sparse`).

        The sparse product's cost grows with the square of a row's votes, the dense one with the square of its
        columns; measured over m = 10-200, K = 2-20 at 0.5-100 % coverage, dense wins (1.6-10x) exactly when the
        columns are at most ten times the votes. With integer row weights (collapsed patterns) both paths give
        the exact counts.
        """
        return self.n_lfs * self.cardinality <= 10.0 * self.X.nnz / max(self.n, 1)

    def co_votes_sparse(self) -> sp.csr_matrix:
        """``(m*K, m*K)`` sparse co-votes: only the (LF, vote) pairs that occur together on some row."""
        return (self.X.T @ self.X.multiply(self.weight[:, None]).tocsr()).tocsr()

    def co_votes(self) -> np.ndarray:
        """``(m, K, m, K)`` weighted number of rows where LF i voted v and LF j voted u (i == j: diagonal)."""
        m, K = self.n_lfs, self.cardinality
        if self.co_votes_are_dense():
            C = np.zeros((m * K, m * K))
            step = max(64, _DENSE_CELLS // (m * K))
            # Unit rows: a block's counts stay below 2**24, so float32 one-hots give them exactly, and
            # ``B.T @ B`` of one buffer runs as a symmetric product: together 2-3x faster.
            unit = bool(np.all(self.weight == 1.0))
            X = self.X.astype(np.float32) if unit else self.X
            for start in range(0, self.n, step):
                block = X[start: start + step].toarray()
                C += block.T @ (block if unit else block * self.weight[start: start + step, None])
            return C.reshape(m, K, m, K)
        return np.asarray(self.co_votes_sparse().todense()).reshape(m, K, m, K)

    def weighted_class_counts(self, lf_weight: np.ndarray) -> np.ndarray:
        """``(n, K)``: per row and class, the summed ``lf_weight`` of the LFs voting that class.

        The per-column weights are a dense ``(m*K, K)`` matrix when it is small: a sparse-times-dense product
        is 5-10x faster than sparse-times-sparse, and gives the same sums (each row's votes are added in the
        same order; the other cells add zeros). Past ``_DENSE_CELLS`` cells they stay sparse: a dense one
        would take m*K*K cells (8 GB at 1000 LFs and 1000 classes).
        """
        m, K = self.n_lfs, self.cardinality
        if m * K * K <= _DENSE_CELLS:
            dense = np.zeros((m, K, K))
            dense[:, np.arange(K), np.arange(K)] = np.asarray(lf_weight, dtype=np.float64)[:, None]
            return np.asarray(self.X @ dense.reshape(m * K, K))
        per_column = sp.csr_matrix(
            (np.repeat(np.asarray(lf_weight, dtype=np.float64), K), (np.arange(m * K), np.tile(np.arange(K), m))),
            shape=(m * K, K),
        )
        return np.asarray((self.X @ per_column).toarray())

    def votes_per_lf(self) -> np.ndarray:
        """``(m, K)`` weighted number of votes of each LF for each class."""
        return (self.weight @ self.X).reshape(self.n_lfs, self.cardinality)


def csr_rows(X: sp.csr_matrix, start: int, stop: int) -> sp.csr_matrix:
    """Rows ``start:stop`` of a CSR matrix as a view on its arrays (``X[start:stop]`` copies them).

    >>> X = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0]]))
    >>> csr_rows(X, 1, 3).toarray().tolist()
    [[0.0, 2.0], [3.0, 0.0]]
    """
    indptr = X.indptr[start: stop + 1]
    lo, hi = int(indptr[0]), int(indptr[-1])
    return sp.csr_matrix((X.data[lo:hi], X.indices[lo:hi], indptr - lo), shape=(stop - start, X.shape[1]), copy=False)


def vote_share(V: SparseVotes) -> np.ndarray:
    """Majority-vote posterior (share of votes per class; uniform where nobody voted): the EM start."""
    K = V.cardinality
    counts = V.weighted_class_counts(np.ones(V.n_lfs))
    total = counts.sum(axis=1, keepdims=True)
    return np.divide(counts + 1e-3, total + 1e-3 * K, out=np.full_like(counts, 1.0 / K), where=total > 0)


def collapse_rows(L: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows of ``L``, the index of each row's pattern, and each pattern's count.

    Rows are hashed to 64 bits, grouped, then checked against their group's representative; on the
    (astronomically rare) hash collision it falls back to an exact sort of the rows.

    >>> P, inverse, counts = collapse_rows(np.array([[0, -1], [1, 1], [0, -1]], dtype=np.int8))
    >>> P.tolist(), inverse.tolist(), counts.tolist()
    ([[0, -1], [1, 1]], [0, 1, 0], [2, 1])
    """
    n, m = L.shape
    if n == 0:
        return L.reshape(0, m), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if m == 0:
        return L[:1], np.zeros(n, dtype=np.int64), np.array([n])
    mult = (np.random.default_rng(0x6D6D).integers(1, 2**63 - 1, size=(m,), dtype=np.int64).astype(np.uint64)
            | np.uint64(1))
    h = np.zeros(n, dtype=np.uint64)
    for j in range(m):  # column by column keeps the scratch at one n-vector
        h = h * np.uint64(1_000_003) + (L[:, j].astype(np.int64) + 2).astype(np.uint64) * mult[j]
    _, first, inverse, counts = np.unique(h, return_index=True, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    P = L[first]
    step = max(1, _CHUNK_CELLS // max(m, 1))
    for start in range(0, n, step):
        if not np.array_equal(P[inverse[start: start + step]], L[start: start + step]):
            rows = np.ascontiguousarray(L).view(np.dtype((np.void, L.dtype.itemsize * m))).ravel()
            _, first, inverse, counts = np.unique(rows, return_index=True, return_inverse=True, return_counts=True)
            return L[first], inverse.ravel(), counts
    return P, inverse, counts


def fit_sample(L: np.ndarray, max_rows: int | None, seed: int) -> np.ndarray:
    """Rows to fit on: all of them, or a seeded uniform sample of ``max_rows``.

    Label-model parameters are a few numbers per LF; a few hundred thousand rows pin them down to the
    third decimal, so fitting on more only costs time. Predictions always cover every row.
    """
    n = L.shape[0]
    if max_rows is None or n <= max_rows:
        return L
    # ``take`` gathers whole rows several times faster than fancy indexing does.
    return np.take(L, sorted_sample(np.random.default_rng(seed), n, int(max_rows)), axis=0)


def sorted_sample(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """``np.sort(rng.choice(n, size, replace=False))``, ordered through a mask (cheaper than a sort).

    >>> sorted_sample(np.random.default_rng(0), 10, 4).tolist() == sorted(
    ...     np.random.default_rng(0).choice(10, 4, replace=False).tolist())
    True
    """
    picked = np.zeros(n, dtype=bool)
    picked[rng.choice(n, size=size, replace=False)] = True
    return np.flatnonzero(picked)


def prepare_fit(L: np.ndarray, cardinality: int, max_rows: int | None, seed: int) -> SparseVotes:
    """Sample (if large), collapse repeated rows into weighted patterns, and build the sparse votes."""
    memo = _VIEWS.get()
    key = ("prepare_fit", id(L), int(cardinality), max_rows, int(seed))
    V = recall(memo, key, L)
    if V is None:
        V = _prepare_fit(L, cardinality, max_rows, seed)
        if memo is not None:
            remember(memo, key, L, V)
    return V


def _prepare_fit(L: np.ndarray, cardinality: int, max_rows: int | None, seed: int) -> SparseVotes:
    L = fit_sample(L, max_rows, seed)
    # Collapse only when rows visibly repeat: probe a slice first, since hashing every row of a
    # many-LF matrix whose rows are all distinct would cost more than it saves.
    probe = L[: min(L.shape[0], 4096)]
    if probe.shape[0] and collapse_rows(probe)[0].shape[0] < 0.7 * probe.shape[0]:
        P, _, counts = collapse_rows(L)
        return SparseVotes.from_dense(P, cardinality, counts.astype(np.float64))
    return SparseVotes.from_dense(L, cardinality)


__all__ = ["SparseVotes", "collapse_rows", "csr_rows", "vote_share", "fit_sample", "prepare_fit", "sorted_sample"]


def vote_counts(L: np.ndarray, cardinality: int) -> np.ndarray:
    """``(n, K)`` number of LFs voting each class per row.

    >>> vote_counts(np.array([[0, 1, 1], [-1, -1, 0]]), 2).tolist()
    [[1.0, 2.0], [1.0, 0.0]]
    """
    counts = np.zeros((L.shape[0], cardinality), dtype=np.float64)
    for k in range(cardinality):
        counts[:, k] = (L == k).sum(axis=1)
    return counts


#: The log-probability of a class that cannot happen (a class balance of 0): finite, so it survives JSON and
#: sums without NaN, and so far below any evidence that adding a row's votes to it leaves it where it was.
LOG_ZERO = -1e300


def log_prior(p: np.ndarray) -> np.ndarray:
    """``log(p)`` with :data:`LOG_ZERO` where ``p`` is 0 (a class the user's class balance rules out).

    >>> log_prior(np.array([1.0, 0.0])).tolist()
    [0.0, -1e+300]
    """
    p = np.asarray(p, dtype=np.float64)
    out = np.log(np.where(p > 0, p, 1.0))
    out[p <= 0] = LOG_ZERO
    return out


def normalize_log(logp: np.ndarray) -> np.ndarray:
    """Row-wise softmax of log scores that never produces NaN (rows of -inf become uniform).

    >>> normalize_log(np.array([[0.0, np.log(3.0)], [-np.inf, -np.inf]])).tolist()
    [[0.25, 0.75], [0.5, 0.5]]
    """
    finite = np.isfinite(logp)
    if not finite.all():  # the usual case skips this copy
        logp = np.where(finite, logp, LOG_ZERO)
    if logp.shape[0] == 0 or logp.shape[1] == 0:
        return np.exp(logp)
    p = logp - max_last(logp)[:, None]
    np.exp(p, out=p)
    p /= sum_last(p)[:, None]
    return p
