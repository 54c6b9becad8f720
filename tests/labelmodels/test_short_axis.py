"""The column-wise reductions give numpy's numbers bit for bit, so swapping them in changed no result."""

from __future__ import annotations

import numpy as np
import pytest

from mmweak.labelmodels.heldout import _lse
from mmweak.labelmodels.short_axis import max_last, sum_last, sum_runs
from mmweak.labelmodels.votes import normalize_log


@pytest.mark.parametrize(
    "shape", [(500, 1), (500, 2), (500, 3), (500, 7), (500, 8), (500, 20), (40, 30, 2), (40, 30, 5)]
)
def test_reductions_equal_numpy_exactly(shape):
    x = np.random.default_rng(sum(shape)).normal(size=shape) * 50
    x.flat[::17] = -np.inf
    np.testing.assert_array_equal(max_last(x), x.max(axis=-1))
    np.testing.assert_array_equal(sum_last(x), x.sum(axis=-1))


@pytest.mark.parametrize("K", [2, 3, 5, 7, 9])
def test_normalize_log_matches_the_plain_softmax_and_never_returns_nan(K):
    rng = np.random.default_rng(K)
    logp = rng.normal(size=(2000, K)) * 30
    logp[::5, 0] = -np.inf
    logp[3] = -np.inf  # a row nobody can explain: uniform
    logp[4, 1] = np.inf
    p = normalize_log(logp)
    ref = np.where(np.isfinite(logp), logp, -1e300)
    ref = np.exp(ref - ref.max(axis=1, keepdims=True))
    ref /= ref.sum(axis=1, keepdims=True)
    np.testing.assert_array_equal(p, ref)
    assert not np.isnan(p).any()
    np.testing.assert_allclose(p[3], np.full(K, 1.0 / K))
    assert normalize_log(np.zeros((0, K))).shape == (0, K)


def test_log_sum_exp_over_states():
    x = np.log(np.array([[[1.0, 3.0], [2.0, 2.0]]]))
    np.testing.assert_allclose(_lse(x), np.log([[4.0, 4.0]]))
    y = np.random.default_rng(0).normal(size=(30, 12, 3))
    top = y.max(axis=2, keepdims=True)
    np.testing.assert_array_equal(_lse(y), (top + np.log(np.exp(y - top).sum(axis=2, keepdims=True)))[..., 0])


def test_run_sums_are_reduceat_bit_for_bit():
    # Runs of every length up to 40 (numpy switches to pairwise blocks at 8), widely spread magnitudes so
    # that any other order of the additions shows in the last bits.
    rng = np.random.default_rng(0)
    for _ in range(400):
        B, C, n = int(rng.integers(1, 5)), int(rng.integers(1, 41)), int(rng.integers(0, 300))
        x = rng.random((B, C, n)) * np.exp(rng.normal(0, 5, (B, C, n)))
        k = int(rng.integers(1, min(C, 6) + 1))
        starts = np.r_[0, np.sort(rng.choice(np.arange(1, C), size=k - 1, replace=False))].astype(np.intp)
        np.testing.assert_array_equal(sum_runs(x, starts), np.add.reduceat(x, starts, axis=1))
