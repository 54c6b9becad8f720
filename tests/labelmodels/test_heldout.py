"""The gold-free score's reading of one-class (keyword) LFs: what they say is whether they fire."""

import sys

import numpy as np
import pytest
from paths import ROOT

from mmweak.labelmodels import create
from mmweak.labelmodels.heldout import (
    GenerativeTable,
    majority_table,
    posterior_table,
    pseudo_loglik,
    with_class_firing,
)

sys.path.insert(0, str(ROOT / "benchmarks"))
import synthetic as S  # noqa: E402


def test_firing_lf_is_scored_on_every_row_by_hand():
    # Two states, uniform prior. LF 0 fires with rate 0.8 in state 0 and 0.2 in state 1; LF 1 is a
    # bipolar LF with accuracy 0.9 that always votes (so its firing carries nothing).
    lo = np.empty((2, 2, 3))
    lo[0, :, 0] = lo[0, :, 1] = np.log([0.8, 0.2])
    lo[0, :, 2] = np.log([0.2, 0.8])
    lo[1, :, :2] = np.log([[0.9, 0.1], [0.1, 0.9]])
    lo[1, :, 2] = np.log(1e-300)
    table = GenerativeTable(np.log([0.5, 0.5]), lo, np.array([True, False]))
    got = pseudo_loglik(table, np.array([[0, 0], [-1, 0]]))
    # Row 1: LF 0 fires; given LF 1's vote 0, P(state 0) = 0.9, so P(fires) = 0.9*0.8 + 0.1*0.2 = 0.74.
    # LF 1's vote 0 given LF 0 fired: P(state 0) = 0.8, P(vote 0) = 0.8*0.9 + 0.2*0.1 = 0.74.
    # Row 2: LF 0 abstains: P = 0.9*0.2 + 0.1*0.8 = 0.26; LF 1's vote given the abstain: P(state 0) = 0.2,
    # P(vote 0) = 0.2*0.9 + 0.8*0.1 = 0.26.
    np.testing.assert_allclose(got, [2 * np.log(0.74), 2 * np.log(0.26)], rtol=1e-12)


def test_firing_rates_follow_the_posteriors_and_leave_other_lfs_alone():
    L = np.array([[0, 1], [0, 0], [-1, 1], [-1, 0]] * 10, dtype=np.int8)
    T = np.eye(2)[[0, 0, 1, 1] * 10]
    plain = posterior_table(L, T, confusion_prior=(4.0, 1.0))
    table = posterior_table(L, T, confusion_prior=(4.0, 1.0), firing=np.array([True, False]))
    np.testing.assert_allclose(np.exp(table.log_outcome[0, :, 2]), [1 / 22, 21 / 22])  # (0+1)/(20+2), (20+1)/22
    np.testing.assert_allclose(np.exp(table.log_outcome[0, :, 0]), [21 / 22, 1 / 22])
    np.testing.assert_array_equal(table.log_outcome[1], plain.log_outcome[1])
    assert plain.firing is None and with_class_firing(plain, L, T, np.zeros(2, bool)) is plain
    mv = majority_table(L, 2, firing=np.array([True, False]))
    assert mv.firing.tolist() == [True, False] and np.isfinite(mv.log_outcome).all()


def test_keyword_lfs_without_gold_are_no_longer_a_blind_choice():
    # Keyword LFs, a 9 % rare class, no gold. Every LF votes one class, so predicting vote values gave
    # every labelling the same score (all paired gains exactly 0) and majority vote stayed, its ties
    # broken by whichever member sorted first. Scored on firing, Dawid-Skene with abstains as outcomes,
    # the family's model of "silence is informative", is measured to predict held-out firing better.
    L, y = S.generate_keyword(20_000, 8, 2, seed=600, skew=0.1)
    model = create(cardinality=2).fit(L)
    assert model.selection_by_ == "heldout"
    assert model.selected_ == "dawid_skene", model.cv_scores_
    mean, se = model.cv_scores_["dawid_skene"]
    assert mean - 0.5 * se > 0 and se > 0
    assert all(np.abs(d).max() > 0 for d in model._selection_diffs.values())
    labels = model.labels_from_proba(model.predict_proba(L), None, objective="f1")
    mv = create("majority").fit(L)
    mv_labels = mv.labels_from_proba(mv.predict_proba(L), None, objective="f1")
    f1, f1_mv = _f1(y, labels), _f1(y, mv_labels)
    assert f1 > f1_mv + 0.10, (f1, f1_mv)


def _f1(y, pred):
    tp = float(((pred == 1) & (y == 1)).sum())
    return 2 * tp / max(float((pred == 1).sum() + (y == 1).sum()), 1.0)


@pytest.mark.parametrize("K", [2, 3])
def test_bipolar_lfs_score_as_before(K):
    # No LF votes a single class: the firing reading is never used, so the score is the vote-value one.
    rng = np.random.default_rng(K)
    L = np.where(rng.random((400, 6)) < 0.7, rng.integers(0, K, (400, 6)), -1).astype(np.int8)
    T = np.eye(K)[rng.integers(0, K, 400)]
    a = posterior_table(L, T, confusion_prior=(4.0, 1.0))
    b = posterior_table(L, T, confusion_prior=(4.0, 1.0), firing=np.zeros(6, bool))
    np.testing.assert_array_equal(pseudo_loglik(a, L), pseudo_loglik(b, L))


def test_a_sparse_crowd_worker_with_answers_of_one_class_is_not_read_as_a_keyword_lf():
    # 600 workers with 2-6 answers each: about a third answered one class only, by chance. Reading their
    # firing (who answered) as evidence let one-coin clear the bound at 1.7 points below majority vote.
    from mmweak.labelmodels.auto import one_class_lfs

    L, y = S._votes(S.generate(3000, 600, 2, seed=800, coverage=(0.0007, 0.002), copy_pairs=0))
    L = L[:, (L != -1).any(axis=0)]
    counts = np.stack([(L == c).sum(axis=0) for c in range(2)])
    assert ((counts > 0).sum(axis=0) == 1).mean() > 0.25
    assert not one_class_lfs(counts).any()
    model = create(cardinality=2).fit(L)
    assert model.selected_.startswith("majority"), model.cv_scores_
    # Keyword LFs with hundreds of votes are, and an LF with both classes never is.
    assert one_class_lfs(np.array([[300, 0, 40], [0, 250, 35]])).tolist() == [True, True, False]
