"""The synthetic vote generator and its oracles (benchmarks/synthetic.py); no anchor library needed."""

import numpy as np
import pytest

from benchmarks import synthetic as syn


def test_same_seed_same_matrix_other_seed_other_matrix():
    a, b = syn.generate(5000, 12, 4, seed=7), syn.generate(5000, 12, 4, seed=7)
    assert np.array_equal(a.L, b.L) and np.array_equal(a.y, b.y)
    assert np.array_equal(a.own_coverage, b.own_coverage) and np.array_equal(a.confusion, b.confusion)
    c = syn.generate(5000, 12, 4, seed=8)
    assert (a.L != c.L).mean() > 0.2


def test_shape_dtype_values_and_class_balance():
    d = syn.generate(40_000, 12, 5, seed=1)
    assert d.L.shape == (40_000, 12) and d.L.dtype == np.int8 and d.L.flags.c_contiguous
    assert d.y.shape == (40_000,) and d.y.dtype == np.int64
    assert set(np.unique(d.L).tolist()) == {-1, 0, 1, 2, 3, 4}
    assert np.allclose(d.class_balance, syn.skewed_balance(5))
    assert d.class_balance[0] > 0.4 and np.all(np.diff(d.class_balance) < 0)  # skewed, class 0 first
    freq = np.bincount(d.y, minlength=5) / d.y.size
    assert np.abs(freq - d.class_balance).max() < 0.01


def test_coverage_and_accuracy_match_the_parameters():
    d = syn.generate(50_000, 10, 3, seed=2)
    assert np.all((d.own_coverage >= 0.1) & (d.own_coverage <= 0.6))
    assert np.all((d.own_accuracy >= 0.55) & (d.own_accuracy <= 0.9))
    fired = d.L != -1
    assert np.abs(fired.mean(axis=0) - d.coverage).max() < 0.01
    emp_acc = np.array([(d.L[fired[:, j], j] == d.y[fired[:, j]]).mean() for j in range(10)])
    assert np.abs(emp_acc - d.accuracy).max() < 0.02
    # Independent LFs keep their own parameters; copiers' marginals mix in their source.
    assert np.allclose(d.coverage[6:], d.own_coverage[6:])
    assert np.allclose(d.accuracy[6:], d.own_accuracy[6:])
    # Wrong votes are spread over the wrong classes, not stuck on one.
    wrong = fired[:, 9] & (d.L[:, 9] != d.y)
    offsets = (d.L[wrong, 9] - d.y[wrong]) % 3
    assert abs((offsets == 1).mean() - 0.5) < 0.05


def test_copied_pairs_agree_as_intended():
    d = syn.generate(50_000, 10, 2, seed=3, copy_pairs=3, copy_prob=0.9)
    assert d.copies == ((0, 1), (2, 3), (4, 5))
    own = syn.lf_confusion(d.own_coverage, d.own_accuracy, 2)
    for src, dst in d.copies:
        # P(same outcome, abstain included) = q + (1 - q) * sum_y pi_y sum_v P_src(v|y) P_own(v|y)
        chance = np.einsum("y,yv,yv->", d.class_balance, own[src], own[dst])
        expected = 0.9 + 0.1 * chance
        assert abs((d.L[:, src] == d.L[:, dst]).mean() - expected) < 0.01
        assert expected > 0.9
    # LFs outside any pair agree only by chance.
    assert (d.L[:, 6] == d.L[:, 7]).mean() < 0.75
    assert syn.generate(100, 3, 2, copy_pairs=3).copies == ((0, 1),)  # as many as m allows
    assert syn.generate(100, 6, 2, copy_pairs=0).copies == ()


def test_oracle_beats_majority_vote():
    d = syn.generate(20_000, 8, 3, seed=5, copy_pairs=0)
    oracle = syn.accuracy(syn.oracle_proba(d.L, d.confusion, d.class_balance), d.y)
    mv = syn.accuracy(syn.majority_proba(d.L, 3), d.y)
    assert oracle > mv + 0.01, (oracle, mv)
    # Without copies the naive-Bayes oracle is the exact posterior.
    assert np.allclose(syn.bayes_proba(d), syn.oracle_proba(d.L, d.confusion, d.class_balance))


def test_exact_posterior_beats_naive_bayes_and_majority_when_lfs_copy():
    d = syn.generate(20_000, 8, 3, seed=5, copy_pairs=3)
    bayes = syn.accuracy(syn.bayes_proba(d), d.y)
    oracle = syn.accuracy(syn.oracle_proba(d.L, d.confusion, d.class_balance), d.y)
    mv = syn.accuracy(syn.majority_proba(d.L, 3), d.y)
    assert bayes > oracle + 0.01 and bayes > mv + 0.03, (bayes, oracle, mv)


def test_oracle_is_the_bayes_posterior_on_a_hand_checked_example():
    # LF0: coverage .5, accuracy .8; LF1: coverage .4, accuracy .6; balance (.7, .3).
    cm = syn.lf_confusion(np.array([0.5, 0.4]), np.array([0.8, 0.6]), 2)
    assert np.allclose(cm[0], [[0.5, 0.4, 0.1], [0.5, 0.1, 0.4]])
    assert np.allclose(cm[1], [[0.6, 0.24, 0.16], [0.6, 0.16, 0.24]])
    L = np.array([[1, -1], [-1, -1], [0, 0], [1, 1]], dtype=np.int8)
    p = syn.oracle_proba(L, cm, np.array([0.7, 0.3]))
    # [1, -1]: y0 .7*.1*.6 = .042, y1 .3*.4*.6 = .072  ->  P(y1) = 12/19
    # [-1, -1]: abstains are class-blind here, so the prior
    # [0, 0]:  y0 .7*.4*.24 = .0672, y1 .3*.1*.16 = .0048  ->  P(y0) = 14/15
    # [1, 1]:  y0 .7*.1*.16 = .0112, y1 .3*.4*.24 = .0288  ->  P(y1) = .72
    expected = [[7 / 19, 12 / 19], [0.7, 0.3], [14 / 15, 1 / 15], [0.28, 0.72]]
    assert np.allclose(p, expected, atol=1e-12)


def test_exact_posterior_ignores_a_perfect_copy():
    d = syn.generate(3000, 6, 3, seed=4, copy_pairs=2, copy_prob=1.0)
    assert np.array_equal(d.L[:, 0], d.L[:, 1]) and np.array_equal(d.L[:, 2], d.L[:, 3])
    keep = [0, 2, 4, 5]
    assert np.allclose(syn.bayes_proba(d), syn.oracle_proba(d.L[:, keep], d.confusion[keep], d.class_balance))


def test_ties_go_to_the_lowest_class_for_everyone():
    p = np.array([[0.25, 0.25, 0.5], [0.4, 0.2, 0.4], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5 - 1e-12, 0.0]])
    assert syn.hard_labels(p).tolist() == [2, 0, 0, 0]
    assert syn.accuracy(p, np.array([2, 0, 1, 0])) == 0.75


def test_bad_parameters_get_clear_errors():
    with pytest.raises(ValueError, match="cardinality must be in 2..127"):
        syn.generate(10, 3, 1)
    with pytest.raises(ValueError, match="coverage and accuracy ranges"):
        syn.generate(10, 3, 2, accuracy=(0.5, 1.0))
    with pytest.raises(ValueError, match=r"L must be \(n, 2\)"):
        syn.oracle_proba(np.zeros((3, 4), dtype=np.int8), syn.lf_confusion(np.ones(2) / 2, np.ones(2) / 2, 2),
                         np.array([0.5, 0.5]))


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(syn)
    assert result.attempted >= 7 and result.failed == 0
