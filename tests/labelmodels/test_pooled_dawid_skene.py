"""Dawid–Skene with a pooled (hierarchical) confusion prior."""

import numpy as np
import pytest

from mmweak.labelmodels import create


def _crowd(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """300 binary items, 12 workers who answer everything at 80 %, and one who answered 3 items, all wrong (with
    seed 0 all three items are of class 1)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 300)
    L = np.where(rng.random((300, 12)) < 0.8, y[:, None], 1 - y[:, None])
    sparse = np.full(300, -1)
    sparse[:3] = 1 - y[:3]
    return np.column_stack([L, sparse]), y


def _accuracy(model) -> np.ndarray:
    conf = model.confusion()  # [lf, true class, vote]
    return conf[:, [0, 1], [0, 1]].mean(axis=1)


def test_pooling_reads_a_worker_with_three_answers_like_the_crowd_and_a_busy_one_by_its_own():
    L, _ = _crowd()
    plain = create("dawid_skene", abstain_as_outcome=False).fit(L)
    pooled = create("dawid_skene", abstain_as_outcome=False, pooling=2.0).fit(L)
    # Three wrong answers on class 1 make plain Dawid–Skene read the worker as always wrong there; two pseudo-answers
    # of the crowd's ~80 % confusion pull that row back towards the crowd.
    assert plain.confusion()[12, 1, 1] < 0.01
    assert pooled.confusion()[12, 1, 1] > 0.25
    # 300 answers each: the busy workers barely move.
    np.testing.assert_allclose(_accuracy(pooled)[:12], _accuracy(plain)[:12], atol=0.01)


def test_pooling_with_abstains_as_outcomes_keeps_every_probability_finite_and_normalised():
    L, y = _crowd(1)
    model = create("dawid_skene", pooling=5.0).fit(L)
    proba = model.predict_proba(L)
    assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1.0)
    assert (proba.argmax(axis=1) == y).mean() > 0.95


def test_pooling_is_a_parameter_like_the_others():
    model = create("dawid_skene", pooling=2.0)
    assert model.get_params()["pooling"] == 2.0
    with pytest.raises(ValueError, match="pooling"):
        create("dawid_skene", pooling=-1.0).fit([[0, 1], [1, 1]])
    fitted = create("dawid_skene", abstain_as_outcome=False, pooling=2.0).fit(_crowd()[0])
    again = type(fitted).from_dict(fitted.to_dict())
    np.testing.assert_array_equal(again.predict_proba(_crowd()[0]), fitted.predict_proba(_crowd()[0]))
