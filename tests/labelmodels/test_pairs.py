"""Pair co-vote counts (mmweak.labelmodels.pairs): exact against a brute-force count, on dense keyword-style
votes (the blocked dense product) and on sparse crowds (the sparse product), and never an m x m grid."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from mmweak.labelmodels.copies import copy_groups, copy_pairs, excess_agreement
from mmweak.labelmodels.dependence import dependence_pairs, evidence_weights, excess_over_reliability
from mmweak.labelmodels.pairs import MIN_SHARED_ROWS, pair_votes
from mmweak.labelmodels.votes import SparseVotes, prepare_fit


def brute_force(L: np.ndarray, K: int, weight: np.ndarray) -> np.ndarray:
    """(m, K, m, K) co-votes, one row at a time."""
    m = L.shape[1]
    co = np.zeros((m, K, m, K))
    for row, w in zip(L, weight):
        for i in np.flatnonzero(row >= 0):
            for j in np.flatnonzero(row >= 0):
                co[i, row[i], j, row[j]] += w
    return co


def crowd(seed: int, n: int, workers: int, per: int, K: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    L = np.full((n, workers), -1, dtype=np.int8)
    busy = rng.pareto(1.5, workers) + 1
    for _ in range(per):
        who = rng.choice(workers, n, p=busy / busy.sum())
        L[np.arange(n), who] = rng.integers(0, K, n)
    return L


@pytest.mark.parametrize(
    ("L", "K"),
    [
        (np.random.default_rng(0).integers(-1, 3, (400, 6)).astype(np.int8), 3),  # dense: every pair shares rows
        (crowd(1, 600, 40, 3, 2), 2),  # sparse crowd: few pairs reach 20 shared rows
        (np.repeat(np.array([[0, 1, -1], [1, 1, 0], [-1, 0, 0]], dtype=np.int8), 12, axis=0), 2),  # collapsed
    ],
)
def test_pair_counts_are_the_brute_force_counts(L, K):
    V = prepare_fit(L, K, None, 0)  # the third matrix collapses into 3 patterns of weight 12
    dense_path = V.n_lfs * K <= 10.0 * V.X.nnz / V.n
    assert dense_path == (L.shape[1] < 40)
    one_hot = V.X.toarray().reshape(V.n, V.n_lfs, K)
    co = brute_force(np.where(one_hot.sum(axis=2) > 0, one_hot.argmax(axis=2), -1), K, V.weight)
    P = pair_votes(V)
    both = co.sum(axis=(1, 3))
    np.fill_diagonal(both, 0)
    expected = np.argwhere(both >= MIN_SHARED_ROWS)
    assert expected.size  # the cases are built so that some pairs count
    np.testing.assert_array_equal(np.c_[P.a, P.b], expected)  # both orders, sorted by a then b
    np.testing.assert_array_equal(P.counts, co[P.a, :, P.b, :])
    np.testing.assert_array_equal(P.class_votes, np.einsum("ivv->iv", co[np.arange(V.n_lfs), :, np.arange(V.n_lfs), :]))
    assert P.n == V.weight.sum() == L.shape[0]
    everything = pair_votes(V, min_shared=0)
    assert everything.a.size == int((both > 0).sum()) >= P.a.size


def test_the_grids_hold_the_pair_values_and_nothing_else():
    L = crowd(2, 3000, 60, 4, 3)
    L[:, 1] = L[:, 0]  # worker 1 repeats worker 0
    V = SparseVotes.from_dense(L, 3)
    pairs, excess = copy_pairs(V)
    grid = excess_agreement(V)
    assert np.count_nonzero(grid) <= pairs.a.size < 60 * 59
    np.testing.assert_array_equal(grid[pairs.a, pairs.b], excess)
    assert grid[0, 1] == grid[1, 0] > 0.9 and np.allclose(grid, grid.T)
    groups = copy_groups(V)
    assert groups[0] == groups[1] == 0 and np.unique(groups).size == 59
    a, b, dep, reliability = dependence_pairs(V)
    dep_grid, reliability_again = excess_over_reliability(V)
    np.testing.assert_array_equal(dep_grid[a, b], dep)
    np.testing.assert_array_equal(reliability, reliability_again)
    w = evidence_weights(V)
    np.testing.assert_allclose(w, 1.0 / (1.0 + dep_grid.sum(axis=1)), rtol=1e-12)


def test_a_crowd_of_twenty_thousand_workers_never_builds_a_worker_by_worker_grid():
    """100,000 answers of 20,000 workers: an (m K)^2 float64 co-vote grid alone would take 12.8 GB."""
    rng = np.random.default_rng(3)
    n, core, workers, per, K = 25_000, 30, 20_000, 4, 2
    y = rng.integers(0, K, n)
    # 30 busy workers share the first 3,000 items (about 40 items per pair); worker 1 answers wherever worker 0
    # does, with 0's answer. 19,970 occasional workers answer the other items.
    who = np.where(np.arange(n)[:, None] < 3000, np.argsort(rng.random((n, core)), axis=1)[:, :per],
                   rng.integers(core, workers, (n, per)))
    vote = np.where(rng.random((n, per)) < 0.8, y[:, None], 1 - y[:, None])
    zero = (who == 0).any(axis=1) & ~(who == 1).any(axis=1)
    slot = np.where(who[zero, 0] == 0, 1, 0)  # a slot that is not worker 0's
    who[np.flatnonzero(zero), slot] = 1
    vote[who == 1] = vote[np.flatnonzero((who == 1).any(axis=1)), (who == 0).argmax(axis=1)[(who == 1).any(axis=1)]]
    keep = np.ones(who.shape, dtype=bool)
    for j in range(1, per):  # one answer per worker and item
        keep[:, j] = (who[:, j, None] != who[:, :j]).all(axis=1)
    rows = np.repeat(np.arange(n), per)[keep.ravel()]
    X = sp.csr_matrix((np.ones(rows.size), (rows, (who * K + vote).ravel()[keep.ravel()])), shape=(n, workers * K))
    V = SparseVotes(X, workers, K)
    tracemalloc.start()
    groups = copy_groups(V)
    weights = evidence_weights(V)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 200e6, peak  # one workers x workers float64 array is 3.2 GB
    assert groups.shape == weights.shape == (workers,)
    assert groups[0] == groups[1] == 0 and np.unique(groups).size == workers - 1  # the one copy pair, and no other
    assert weights[0] < 0.7 and weights[1] < 0.7  # their agreement is far beyond their reliabilities
    # Independent busy workers keep most of their weight (pairs of ~40 shared items are noisy); the others all of it.
    assert weights[2:core].mean() > 0.9 and weights[2:core].min() > weights[:2].max() + 0.2
    assert np.all(weights[core:] == 1.0)
