"""The dense prediction view and the dense co-vote product give what the sparse view gives."""

from __future__ import annotations

import numpy as np
import pytest

from mmweak.labelmodels import create
from mmweak.labelmodels import dense_votes as DV
from mmweak.labelmodels import loglinear as LL
from mmweak.labelmodels.dense_votes import DenseVotes, dense_is_cheaper, prediction_view
from mmweak.labelmodels.votes import SparseVotes


def _votes(n: int, m: int, K: int, coverage: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    L = rng.integers(0, K, size=(n, m)).astype(np.int8 if K <= 127 else np.int16)
    L[rng.random((n, m)) > coverage] = -1
    return L


@pytest.mark.parametrize(
    ("m", "K", "S", "coverage"), [(50, 2, 2, 0.35), (10, 5, 15, 1.0), (7, 3, 3, 0.05), (1, 2, 2, 0.5), (50, 2, 20, 0.35)]
)
def test_dense_scores_match_sparse_scores(m, K, S, coverage):
    L = _votes(3000, m, K, coverage, seed=m + K)
    rng = np.random.default_rng(1)
    W, bias = rng.normal(size=(m, K, S)), rng.normal(size=S)
    dense = DenseVotes(L, K).scores(W, bias)
    sparse = SparseVotes.from_dense(L, K).scores(W, bias)
    assert dense.shape == (3000, S) and dense.dtype == np.float64
    np.testing.assert_allclose(dense, sparse, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(DenseVotes(L, K).voted, SparseVotes.from_dense(L, K).voted)
    rows = np.array([5, 0, 2999])
    np.testing.assert_allclose(DenseVotes(L, K).take(rows).scores(W, bias), sparse[rows], atol=1e-12)


def test_dense_scores_with_minus_infinity_take_the_sparse_path():
    """An abstain must not touch its LF's weights: 0 * -inf would be NaN."""
    L = np.array([[0, -1], [-1, 1], [1, 1]], dtype=np.int8)
    W = np.zeros((2, 2, 2))
    W[1, 1, 0] = -np.inf  # LF 1 voting 1 rules out class 0
    out = DenseVotes(L, 2).scores(W, np.zeros(2))
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(out, SparseVotes.from_dense(L, 2).scores(W, np.zeros(2)))
    assert out[1, 0] == -np.inf and out[0, 0] == 0.0


def test_prediction_view_picks_dense_for_dense_lfs_and_sparse_for_sparse_crowds():
    assert isinstance(prediction_view(_votes(500, 50, 2, 0.35, 0), 2, 2), DenseVotes)
    assert isinstance(prediction_view(_votes(500, 1000, 5, 0.003, 0), 5, 5), SparseVotes)
    assert isinstance(prediction_view(_votes(500, 20, 20, 1.0, 0), 20, 20), SparseVotes)
    assert isinstance(prediction_view(np.zeros((0, 4), dtype=np.int8), 2, 2), SparseVotes)
    assert dense_is_cheaper(50, 2, 2, 2.5) and not dense_is_cheaper(1000, 5, 5, 5.0)


@pytest.mark.parametrize("name", ["auto", "dawid_skene", "one_coin", "ebcc", "majority"])
def test_predictions_do_not_depend_on_the_view(name, monkeypatch):
    """Forcing every block through the sparse view changes no probability beyond float rounding."""
    L = _votes(4000, 12, 3, 0.6, seed=7)
    model = create(name, cardinality=3).fit(L)
    dense = model.predict_proba(L)
    monkeypatch.setattr(DV, "dense_is_cheaper", lambda *a: False)
    sparse = model.predict_proba(L)
    assert not np.isnan(dense).any()
    np.testing.assert_allclose(dense, sparse, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(model.predict(L), create(name, cardinality=3).fit(L).predict(L))


def test_predict_in_chunks_uses_the_dense_view_on_dense_votes(monkeypatch):
    seen = []
    real = DV.prediction_view

    def spy(L, K, width):
        view = real(L, K, width)
        seen.append(type(view).__name__)
        return view

    monkeypatch.setattr(LL, "prediction_view", spy)
    L = _votes(2000, 30, 2, 0.5, seed=3)
    create("dawid_skene").fit(L).predict_proba(L)
    assert seen and set(seen) == {"DenseVotes"}


@pytest.mark.parametrize(("m", "K", "coverage"), [(30, 2, 0.9), (8, 4, 1.0), (40, 3, 0.02)])
def test_co_votes_dense_and_sparse_products_agree_exactly(m, K, coverage):
    L = _votes(5000, m, K, coverage, seed=11)
    V = SparseVotes.from_dense(L, K, np.arange(5000) % 3 + 1.0)  # weighted rows, as collapsed patterns are
    C = V.co_votes()
    Xd = V.X.toarray()
    expected = (Xd.T @ (Xd * V.weight[:, None])).reshape(m, K, m, K)
    np.testing.assert_array_equal(C, expected)  # counts are integers: both paths are exact
    # LF 0 voting class 0 together with itself: the weighted number of its class-0 votes.
    assert C[0, 0, 0, 0] == V.weight[L[:, 0] == 0].sum()


@pytest.mark.parametrize(("n", "m", "K", "coverage"), [(70_000, 30, 2, 0.9), (5000, 8, 4, 1.0), (3000, 40, 3, 0.02)])
def test_co_votes_of_unit_rows_are_exact_counts(n, m, K, coverage):
    """Unit rows take the float32 symmetric product: still the exact integer counts of the float64 one."""
    L = _votes(n, m, K, coverage, seed=12)
    V = SparseVotes.from_dense(L, K)
    C = V.co_votes()
    assert C.dtype == np.float64
    onehot = np.concatenate([(L[:, [j]] == np.arange(K)).astype(np.int64) for j in range(m)], axis=1)
    np.testing.assert_array_equal(C, (onehot.T @ onehot).reshape(m, K, m, K))
    np.testing.assert_array_equal(C, np.swapaxes(np.swapaxes(C, 0, 2), 1, 3))  # symmetric, as counts are


def test_fit_sample_rows_are_the_sorted_seeded_choice():
    from mmweak.labelmodels.votes import fit_sample, sorted_sample

    L = np.arange(50_000, dtype=np.int64).reshape(-1, 2) % 7 - 1
    rows = np.sort(np.random.default_rng(5).choice(25_000, 1000, replace=False))
    np.testing.assert_array_equal(sorted_sample(np.random.default_rng(5), 25_000, 1000), rows)
    np.testing.assert_array_equal(fit_sample(L, 1000, 5), L[rows])
    assert fit_sample(L, 25_000, 5) is L  # nothing to sample: the matrix itself


def test_predictions_from_user_threads_at_once_equal_the_serial_ones():
    """Block pools started from several user threads at once share nothing but the fitted model."""
    import threading

    L = _votes(300_000, 10, 2, 0.5, seed=5)
    model = create("dawid_skene").fit(L[:5000])
    expected = model.predict_proba(L)
    results: list[np.ndarray] = []

    def predict() -> None:
        results.append(model.predict_proba(L))

    workers = [threading.Thread(target=predict) for _ in range(3)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(120)
    assert len(results) == 3 and all(np.array_equal(r, expected) for r in results)


@pytest.mark.parametrize(("m", "S"), [(50, 2), (50, 20), (200, 2), (3, 60), (1, 1), (5000, 30)])
def test_dense_products_stay_in_cache_and_under_the_blas_threading_threshold(m, S):
    """Each product is small enough that OpenBLAS runs it on the calling (block) thread."""
    rows = DV.rows_per_product(m, S)
    assert rows >= 1
    assert rows == 1 or (rows * m * S <= DV._BLAS_ONE_THREAD and rows * (m + S) <= DV._CELLS_PER_STEP)


@pytest.mark.parametrize(("m", "K", "coverage"), [(40, 2, 0.4), (6, 300, 0.9), (3, 5, 0.01)])
def test_weighted_class_counts_agree_and_majority_needs_no_m_k_k_matrix(m, K, coverage):
    L = _votes(3000, m, K, coverage, seed=K)
    w = np.random.default_rng(0).uniform(0.2, 2.0, size=m)
    dense = DenseVotes(L, K).weighted_class_counts(w)
    sparse = SparseVotes.from_dense(L, K).weighted_class_counts(w)
    expected = np.stack([((L == k) * w).sum(axis=1) for k in range(K)], axis=1)
    np.testing.assert_allclose(dense, expected, atol=1e-12)
    np.testing.assert_allclose(sparse, expected, atol=1e-12)
    model = create("majority", cardinality=K, dedupe_copies=False).fit(L)  # every LF weighs 1
    proba = model.predict_proba(L)
    votes = np.stack([(L == k).sum(axis=1) for k in range(K)], axis=1).astype(np.float64)
    voted = votes.sum(axis=1) > 0
    np.testing.assert_allclose(proba[voted], votes[voted] / votes[voted].sum(axis=1, keepdims=True), atol=1e-12)


@pytest.mark.parametrize(("m", "K", "coverage"), [(40, 2, 0.4), (7, 9, 0.9), (1, 2, 0.3)])
def test_sparse_class_counts_are_the_same_sums_with_the_weights_dense_or_sparse(monkeypatch, m, K, coverage):
    """Small weight tables are multiplied as a dense matrix (faster); the sums must be the sparse ones, bit for bit."""
    import mmweak.labelmodels.votes as votes_module

    L = _votes(3000, m, K, coverage, seed=m)
    V = SparseVotes.from_dense(L, K, np.random.default_rng(1).integers(1, 4, size=3000).astype(np.float64))
    for w in (np.ones(m), np.random.default_rng(2).uniform(1e-3, 1e3, size=m)):
        dense_weights = V.weighted_class_counts(w)
        monkeypatch.setattr(votes_module, "_DENSE_CELLS", 0)  # every table sparse
        sparse_weights = V.weighted_class_counts(w)
        monkeypatch.undo()
        np.testing.assert_array_equal(dense_weights, sparse_weights)
        expected = np.stack([((L == k) * w).sum(axis=1) for k in range(K)], axis=1)  # per row: row weights unused
        np.testing.assert_allclose(dense_weights, expected, rtol=1e-12)
