"""The worlds added after the default's last change (benchmarks/worlds.py, ``LATE_WORLDS``; issue #14).

They were written to be measured, not tuned on: each must draw what its docstring says, and the default's
numbers on them (recorded in benchmarks/results/fresh_draws.md) must reproduce.
"""

import sys

import numpy as np
import pytest
from paths import ROOT

from mmweak.labelmodels import create

sys.path.insert(0, str(ROOT / "benchmarks"))
import lodo  # noqa: E402
import worlds  # noqa: E402


@pytest.mark.parametrize("world, K, late", [
    ("model_confusions", 10, worlds.LATE_WORLDS), ("mixed_quality", 2, worlds.LATE_WORLDS),
    ("topic_lengths", 4, worlds.LATE_WORLDS), ("dense_and_keywords", 2, worlds.LATE_WORLDS),
    ("strong_model", 4, worlds.LATE_WORLDS), ("fine_grained", 20, worlds.LATE_WORLDS),
    ("sarcasm", 2, worlds.LATE_WORLDS_2), ("partial_copies", 3, worlds.LATE_WORLDS_2),
    ("confident_only", 3, worlds.LATE_WORLDS_2), ("weak_dense_many", 2, worlds.LATE_WORLDS_2),
    ("noisy_gold", 4, worlds.LATE_WORLDS_2),
])
def test_each_late_world_is_seeded_and_draws_votes_in_its_classes(world, K, late):
    L, y, k = worlds.WORLDS[world](300)
    assert world in late and k == K
    assert not set(worlds.LATE_WORLDS) & set(worlds.LATE_WORLDS_2)
    assert L.dtype == np.int8 and L.shape[0] == y.shape[0] and L.min() >= -1 and L.max() <= K - 1
    assert set(np.unique(y).tolist()) == set(range(K))
    again, _, _ = worlds.WORLDS[world](300)
    other, _, _ = worlds.WORLDS[world](301)
    assert np.array_equal(L, again) and not np.array_equal(L, other)


def test_fine_grained_errors_stay_inside_the_true_group():
    L, y, _ = worlds.fine_grained(300)
    voted = L >= 0
    wrong = voted & (L != y[:, None])
    same_group = (L // 4) == (y // 4)[:, None]
    assert (wrong & same_group).sum() / wrong.sum() > 0.6  # 60-90 % of each model's errors, by construction


@pytest.mark.parametrize("world, n_dev, default, mv", [
    ("dense_and_keywords", 0, 94.05, 92.46),
    ("dense_and_keywords", 200, 94.13, 92.51),
    ("mixed_quality", 0, 78.48, 67.82),  # 78.74 with one-coin before the pooled Dawid-Skene member, now chosen
    ("fine_grained", 200, 85.85, 85.08),
])
def test_the_default_reproduces_its_recorded_margin_over_majority_vote(world, n_dev, default, mv):
    case = worlds.case(world, 0, n_dev)
    kw = {} if case.dev is None else {"L_dev": case.dev[0], "y_dev": case.dev[1]}
    model = create(cardinality=case.K).fit(case.L_train, **kw)
    # Ties to the class balance, as the benchmark breaks them (predict's default tie-break abstains).
    labels = lodo._labels(case, model.predict_proba(case.L_test), model.predict_proba(case.L_train), model.class_balance_)
    acc = lodo.score(case, labels)
    assert acc == pytest.approx(default, abs=0.005)
    assert lodo.mv_ties_split(case) == pytest.approx(mv, abs=0.005)
    assert acc - mv > 0.5


def test_sarcasm_lexicon_lfs_err_together():
    L, y, _ = worlds.sarcasm(300)
    lex = L[:, :6]
    wrong = (lex >= 0) & (lex != y[:, None])
    voted = lex >= 0
    # Where one lexicon LF is wrong another is wrong more often than on average (independent errors: as often; here
    # 41 % against 31 %, about 4 standard errors apart).
    both = (wrong[:, 0] & voted[:, 1])
    assert wrong[both, 1].mean() > 1.2 * wrong[voted[:, 1], 1].mean()


def test_confident_only_models_abstain_more_on_the_rare_classes():
    L, y, _ = worlds.confident_only(300)
    rate = np.array([(L[y == c, :5] >= 0).mean() for c in range(3)])
    assert rate[0] > 2 * rate[1] and rate[0] > 2 * rate[2]
    assert (L[:, 5:] >= 0).all()  # the two weak models vote on every row


def test_partial_copies_follow_their_source_on_most_rows():
    L, _, _ = worlds.partial_copies(300)
    for j in range(6):
        source, follower = L[:, j % 2], L[:, 4 + j]
        assert 0.7 < (follower == source).mean() < 0.85  # 70 % copied, plus chance agreement elsewhere


def test_noisy_gold_corrupts_only_the_dev_labels():
    L, y, _ = worlds.noisy_gold(300)
    case = worlds.case("noisy_gold", 0, 200)
    wrong = case.dev[1] != y[:200]
    assert 0.08 < wrong.mean() < 0.25 and np.array_equal(case.dev[0], L[:200])
    assert np.array_equal(case.y_test, y[200:])  # the rows scored keep their true labels
    clean = worlds.case("weak_dense_many", 0, 200)
    assert np.array_equal(clean.dev[1], worlds.weak_dense_many(300)[1][:200])


def _default_and_mv(world: str, n_dev: int) -> tuple[float, float, str]:
    case = worlds.case(world, 0, n_dev)
    kw = {} if case.dev is None else {"L_dev": case.dev[0], "y_dev": case.dev[1]}
    model = create(cardinality=case.K).fit(case.L_train, **kw)
    labels = lodo._labels(case, model.predict_proba(case.L_test), model.predict_proba(case.L_train), model.class_balance_)
    return lodo.score(case, labels), lodo.mv_ties_split(case), model.selected_


@pytest.mark.parametrize("world, n_dev, default, mv, member", [
    ("confident_only", 0, 92.37, 86.41, "dawid_skene"),
    ("noisy_gold", 200, 89.69, 83.50, "ebcc"),  # 15 % of the dev labels wrong
    ("partial_copies", 200, 71.85, 71.48, "majority+weighted_majority"),
])
def test_second_round_worlds_reproduce_their_recorded_margins(world, n_dev, default, mv, member):
    acc, mv_acc, selected = _default_and_mv(world, n_dev)
    assert acc == pytest.approx(default, abs=0.005) and mv_acc == pytest.approx(mv, abs=0.005)
    assert selected == member and acc > mv_acc - 0.5


def test_partial_copies_without_gold_is_the_recorded_open_case():
    # Eight of ten LFs in two dependent groups and no gold: every member's labels follow the groups and predict
    # their held-out votes better than majority vote, so the default leaves it and loses 4 points (benchmarks/
    # README.md). Recorded so that a change that fixes or worsens it shows here.
    acc, mv_acc, selected = _default_and_mv("partial_copies", 0)
    assert selected == "dawid_skene_pooled"  # 67.40 with Dawid-Skene without abstains before it joined the family
    assert acc == pytest.approx(67.46, abs=0.005) and mv_acc == pytest.approx(71.47, abs=0.005)
