"""The memo of sparse views a model selection shares: one conversion per live matrix, nothing kept alive."""

from __future__ import annotations

import gc
import weakref

import numpy as np

from mmweak.labelmodels import create
from mmweak.labelmodels import votes as votes_module
from mmweak.labelmodels.copies import copy_groups
from mmweak.labelmodels.votes import SparseVotes, prepare_fit, shared_views


def test_a_live_matrix_is_converted_once_and_a_dead_one_leaves_the_memo():
    rng = np.random.default_rng(0)
    L = rng.integers(-1, 2, (500, 8)).astype(np.int8)
    with shared_views() as memo:
        V = SparseVotes.from_dense(L, 2)
        assert SparseVotes.from_dense(L, 2) is V and prepare_fit(L, 2, None, 0) is prepare_fit(L, 2, None, 0)
        groups = copy_groups(V)
        assert copy_groups(V) is groups
        assert len(memo) == 3
        fold = L[::2].copy()  # a selection fold: converted, then dropped when its step ends
        SparseVotes.from_dense(fold, 2)
        alive = weakref.ref(fold)
        del fold
        gc.collect()
        assert alive() is None and len(memo) == 3  # the memo neither kept the fold nor its entry
    assert np.array_equal(SparseVotes.from_dense(L, 2).X.toarray(), SparseVotes.from_dense(L.copy(), 2).X.toarray())


def test_the_default_fits_the_same_whether_or_not_conversions_are_shared(monkeypatch):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 1500)
    L = np.where(rng.random((1500, 12)) < 0.7, y[:, None], rng.integers(0, 3, (1500, 12)))
    L = np.where(rng.random(L.shape) < 0.4, L, -1).astype(np.int8)
    shared = create(cardinality=3).fit(L).predict_proba(L)
    monkeypatch.setattr(votes_module, "recall", lambda memo, key, source: None)  # every lookup misses
    np.testing.assert_array_equal(create(cardinality=3).fit(L).predict_proba(L), shared)
