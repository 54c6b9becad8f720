"""Co-vote counts of the LF pairs that voted together, as a list of pairs rather than an ``m x m`` grid.

Copy detection (:mod:`.copies`) and evidence weights (:mod:`.dependence`) judge each pair of LFs by the rows
both voted on, and only pairs with at least :data:`MIN_SHARED_ROWS` such rows can show anything. A table of
keyword LFs has every pair over that line, but a crowd of thousands of workers shares rows in a few of its
``m^2`` pairs: a dense ``(m*K)^2`` co-vote grid and the dozen ``m x m`` arrays computed from it took 37 of a
100,000 x 5,000 crowd's 56 s fit and most of its 6.7 GB, and could not be built at all for 20,000 workers.
The counts here cost memory in the pairs that pass, computed from the same product.

Counts are sums of row weights, whole numbers (1, or a collapsed pattern's multiplicity), so every total
taken from them is exact in float64 whatever the order of the additions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .votes import SparseVotes

#: Pairs of LFs need this many shared rows to count: below it no agreement rate is pinned down.
MIN_SHARED_ROWS = 20


@dataclass(frozen=True)
class PairVotes:
    """Co-votes of every ordered pair ``(a, b)``, ``a != b``, that shares at least ``min_shared`` weighted rows.

    Both orders of a pair are listed (as rows and columns of the symmetric grid), sorted by ``a`` then ``b``.

    Attributes:
        a, b: ``(P,)`` LF indices of the pairs.
        counts: ``(P, K, K)`` weighted rows where LF ``a`` voted ``v`` and LF ``b`` voted ``u``.
        class_votes: ``(m, K)`` weighted votes of each LF per class.
        n: total row weight.

    >>> L = np.array([[0, 0, -1], [1, 1, 1], [1, 0, -1]] * 10, dtype=np.int8)
    >>> P = pair_votes(SparseVotes.from_dense(L, 2), min_shared=20)
    >>> P.a.tolist(), P.b.tolist(), P.both.tolist(), P.same.tolist()
    ([0, 1], [1, 0], [30.0, 30.0], [20.0, 20.0])
    >>> P.cover.tolist(), P.one_class.tolist()
    ([30.0, 30.0, 10.0], [False, False, True])
    """

    a: np.ndarray
    b: np.ndarray
    counts: np.ndarray
    class_votes: np.ndarray
    n: float

    @property
    def both(self) -> np.ndarray:
        """``(P,)`` weighted rows both LFs voted on."""
        return self.counts.sum(axis=(1, 2))

    @property
    def same(self) -> np.ndarray:
        """``(P,)`` weighted rows on which both cast the same vote."""
        return np.einsum("pvv->p", self.counts)

    @property
    def cover(self) -> np.ndarray:
        """``(m,)`` weighted rows each LF voted on."""
        return self.class_votes.sum(axis=1)

    @property
    def one_class(self) -> np.ndarray:
        """``(m,)`` LFs that voted at most one class: their agreement where two of them vote is 1 by construction."""
        return (self.class_votes > 0).sum(axis=1) <= 1

    def grid(self, values: np.ndarray) -> np.ndarray:
        """``(m, m)`` array holding ``values`` ``(P,)`` at the pairs, 0 elsewhere: for reading, not for fitting."""
        m = self.class_votes.shape[0]
        out = np.zeros((m, m))
        out[self.a, self.b] = values
        return out


def pair_votes(V: SparseVotes, min_shared: float = MIN_SHARED_ROWS) -> PairVotes:
    """The co-votes of ``V``'s LF pairs that share at least ``min_shared`` weighted rows (see :class:`PairVotes`)."""
    m, K = V.n_lfs, V.cardinality
    n = float(V.weight.sum())
    floor = max(min_shared, 1e-300)  # a pair must share some row even when min_shared is 0
    if V.co_votes_are_dense():  # every pair shares rows: the blocked dense grid is the fast one
        co = V.co_votes()
        lfs = np.arange(m)
        class_votes = np.einsum("ivv->iv", co[lfs, :, lfs, :])
        both = co.sum(axis=(1, 3))
        np.fill_diagonal(both, 0.0)
        a, b = np.nonzero(both >= floor)
        return PairVotes(a.astype(np.int64), b.astype(np.int64), co[a, :, b, :], class_votes, n)
    C = V.co_votes_sparse().tocoo()  # each (a, v, b, u) cell once
    row, col, val = C.row.astype(np.int64), C.col.astype(np.int64), np.asarray(C.data, dtype=np.float64)
    lf_a, v = np.divmod(row, K)
    lf_b, u = np.divmod(col, K)
    diag = lf_a == lf_b
    class_votes = np.zeros((m, K))
    on = diag & (v == u)
    class_votes[lf_a[on], v[on]] = val[on]
    off = ~diag
    key = lf_a[off] * m + lf_b[off]
    pairs, where = np.unique(key, return_inverse=True)
    both = np.bincount(where, weights=val[off], minlength=pairs.size)
    keep = both >= floor
    index = np.full(pairs.size, -1, dtype=np.int64)
    index[keep] = np.arange(int(keep.sum()))
    slot = index[where]
    counts = np.zeros((int(keep.sum()), K, K))
    hit = slot >= 0
    counts[slot[hit], v[off][hit], u[off][hit]] = val[off][hit]
    a, b = np.divmod(pairs[keep], m)
    return PairVotes(a, b, counts, class_votes, n)


__all__ = ["MIN_SHARED_ROWS", "PairVotes", "pair_votes"]
