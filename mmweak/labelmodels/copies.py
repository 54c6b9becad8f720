"""Find LFs that (nearly) copy each other, so a model does not count the same evidence twice.

Real LF sets are full of near-duplicates: the same keyword list in two LFs, a regex and its
case-insensitive twin. Naive-Bayes-style models assume LFs are independent given the label, so three
copies of one LF outvote two honest ones. We group LFs whose votes agree on most rows where either
fires and give each member of a group of size ``g`` a weight of ``1/g``: the group then speaks once.
"""

from __future__ import annotations

import numpy as np

from .votes import SparseVotes

#: Two LFs are copies when they cast the same vote on at least this share of the rows where either votes.
COPY_AGREEMENT = 0.95
_MAX_ROWS = 50_000  # agreement statistics converge long before this; keeps the m^2 product cheap


def copy_groups(V: SparseVotes, threshold: float = COPY_AGREEMENT, seed: int = 0) -> np.ndarray:
    """Group id per LF (connected components of the "agrees at least ``threshold``" graph).

    >>> L = np.array([[1, 1, 0], [0, 0, -1], [1, 1, 1], [-1, -1, 0]], dtype=np.int8)
    >>> copy_groups(SparseVotes.from_dense(L, 2)).tolist()
    [0, 0, 1]
    """
    m, K = V.n_lfs, V.cardinality
    if V.n > _MAX_ROWS:
        V = V.take(np.sort(np.random.default_rng(seed).choice(V.n, _MAX_ROWS, replace=False)))
    Xw = V.X.multiply(V.weight[:, None]).tocsr()
    co = np.asarray((V.X.T @ Xw).todense()).reshape(m, K, m, K)
    same = np.einsum("ivjv->ij", co)  # rows where LF i and LF j cast the same vote
    both = co.sum(axis=(1, 3))  # rows where both vote
    cover = np.diag(both)
    either = cover[:, None] + cover[None, :] - both
    agree = np.divide(same, either, out=np.zeros_like(same), where=either > 0)
    adj = (agree >= threshold) & (cover[:, None] > 0) & (cover[None, :] > 0)
    group = np.arange(m)
    for i in range(m):  # tiny union-find: m is at most a few hundred
        for j in np.flatnonzero(adj[i, i + 1:]) + i + 1:
            a, b = _root(group, i), _root(group, j)
            if a != b:
                group[max(a, b)] = min(a, b)
    roots = np.array([_root(group, i) for i in range(m)])
    _, ids = np.unique(roots, return_inverse=True)
    return ids.ravel()


def copy_weights(V: SparseVotes, threshold: float = COPY_AGREEMENT, seed: int = 0) -> np.ndarray:
    """``1 / size of the LF's copy group`` for every LF (1.0 for LFs with no copy)."""
    ids = copy_groups(V, threshold, seed)
    return 1.0 / np.bincount(ids)[ids]


def _root(group: np.ndarray, i: int) -> int:
    while group[i] != i:
        i = group[i]
    return int(i)


__all__ = ["COPY_AGREEMENT", "copy_groups", "copy_weights"]
