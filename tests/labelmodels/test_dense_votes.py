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
    L = rng.integers(0, K, size=(n, m)).astype(np.int8)
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


def test_blocks_run_blas_on_one_thread_each_and_restore_it(monkeypatch):
    """Our block threads fill the cores; BLAS threads of their own would spin on the same cores."""
    from threadpoolctl import threadpool_info

    from mmweak.labelmodels.threads import for_each_block

    def blas_threads() -> list[int]:
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    before = blas_threads()
    seen: list[list[int]] = []
    monkeypatch.setenv("MMWEAK_NUM_THREADS", "2")
    monkeypatch.setattr("mmweak.labelmodels.threads.available_threads", lambda: 2)
    for_each_block(lambda start: seen.append(blas_threads()), range(4))
    assert len(seen) == 4 and all(threads and set(threads) == {1} for threads in seen)
    assert blas_threads() == before
