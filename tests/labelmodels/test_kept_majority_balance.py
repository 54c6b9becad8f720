"""When the default keeps majority vote, the rows it has no evidence on take its tie-breaker's class balance (#14)."""

import sys

import numpy as np
from paths import ROOT

from mmweak.labelmodels import create

sys.path.insert(0, str(ROOT / "benchmarks"))
import lodo  # noqa: E402
import worlds  # noqa: E402


def test_rows_without_a_vote_follow_the_tie_breakers_balance_not_the_share_of_votes():
    # 33 keyword LFs, two thirds of them voting the positive class, 30 % positives, no gold: every LF votes one
    # class, so the gold-free score cannot rank the members and majority vote is kept with Dawid-Skene breaking ties.
    case = worlds.case("positive_keywords", 0)
    L, y = case.L_train, case.y_test
    model = create(cardinality=2).fit(L)
    assert model.selected_ == "majority+dawid_skene" and model.selection_by_ == "heldout"
    majority, tie_breaker = model._members()
    share = np.asarray(majority.class_balance_)
    assert share[1] > y.mean() + 0.1  # the share of votes counts LFs: 0.43 positive against 0.30 true
    np.testing.assert_array_equal(model.class_balance_, tie_breaker.class_balance_)
    assert abs(model.class_balance_[1] - y.mean()) < 0.03
    silent = ~(L != -1).any(axis=1)
    proba = model.predict_proba(L)
    # Rows without a vote take the class balance: every LF votes one class, so no member's gain over majority vote
    # clears the bound, Dawid-Skene's included, and its model of silence is not used (test_silent_rows.py).
    np.testing.assert_allclose(proba[silent], np.tile(model.class_balance_, (int(silent.sum()), 1)))
    f1_labels = model.predict(L, objective="f1")
    assert (f1_labels[silent] == -1).all()  # predict leaves rows without a vote unlabelled
    # Scored as WRENCH scores such sets (every row, the F1 rule): the share of votes put every silent row above the
    # F1 cut, 7.4 points below majority vote with ties split; the tie-breaker's balance keeps them below it.
    labels = model.labels_from_proba(proba, None, objective="f1")
    assert (labels[silent] == 0).all()
    f1 = lodo.score(case, labels)
    assert f1 > lodo.mv_ties_split(case) - 1.0, f1


def test_a_given_class_balance_is_kept_when_majority_vote_is():
    L = worlds.case("positive_keywords", 1).L_train
    model = create(cardinality=2).fit(L, class_balance=[0.6, 0.4])
    assert model.selected_.startswith("majority+")
    np.testing.assert_allclose(model.class_balance_, [0.6, 0.4])


def test_worlds_first_seed_draws_worlds_no_rule_was_chosen_on(capsys):
    worlds.main(["--first-seed", "3", "--seeds", "2", "--only", "spammers"])
    out = capsys.readouterr().out
    assert "| spammers/3 |" in out and "| spammers/4 |" in out and "| spammers/0 |" not in out
    assert not np.array_equal(worlds.case("spammers", 3).L_train, worlds.case("spammers", 0).L_train)


def test_a_blind_score_leaves_the_ties_to_dawid_skene_whatever_the_family_is_named(monkeypatch):
    # Every LF votes one class and there is no gold, so every member's gold-free gain is exactly 0 and the mean gains
    # tie. The tie-breaker is then Dawid-Skene with abstains by rule (auto.BLIND_TIE_BREAKER, chosen by holding each
    # of 13 sources of blind cases out), not by the order of the names: "bwa" sorts first and was taken before.
    from mmweak.labelmodels import auto

    monkeypatch.setattr(auto, "CANDIDATES", dict(auto.CANDIDATES))
    monkeypatch.setattr(auto, "GENERATIVE", auto.GENERATIVE)
    lodo.try_members(["bwa"])
    case = worlds.case("positive_keywords", 0)
    model = create(cardinality=2).fit(case.L_train)
    assert set(model.cv_scores_) == {"bwa", "dawid_skene", "dawid_skene_no_abstain", "dawid_skene_pooled", "one_coin",
                                     "ebcc"}
    assert all(mean == 0.0 for mean, _ in model.cv_scores_.values())
    assert model.selected_ == "majority+dawid_skene"
