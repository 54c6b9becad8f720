"""The leave-one-dataset-out emulation (benchmarks/lodo.py) must reach the outcomes the default itself would."""

import numpy as np
import pytest

from benchmarks import lodo
from mmweak.labelmodels import auto


def _result(name: str, diffs: dict[str, np.ndarray], outcomes: dict[str, float], mv: float = 50.0) -> dict:
    return {"case": lodo.Case(name, "synthetic", 2, "accuracy", None, None, None, None), "diffs": diffs,
            "outcomes": outcomes, "mv": mv, "default": mv}


def _tied_members() -> dict[str, np.ndarray]:
    """EBCC leads one-coin at every z of the grid, by less than one paired standard error (0.0025 < 0.003),
    so the one-SE rule takes one-coin. Patterns instead of random draws keep the margins exact."""
    a = np.tile([0.3, -0.3], 200)  # shared noise: the members' own standard errors are large ...
    b = np.tile([0.06, 0.06, -0.06, -0.06], 100)  # ... their paired difference's is small
    return {"one_coin": 0.05 + a, "ebcc": 0.0525 + a + b}


def test_rule_outcome_applies_the_one_se_rule_like_the_default():
    diffs = _tied_members()
    r = _result("tied", diffs, {"one_coin": 60.0, "ebcc": 61.0})
    assert lodo.rule_outcome(r, 0.5, False) == auto.choose(diffs, 0.5, one_se_rule=False)[0] == "ebcc"
    # An earlier emulation called choose() without the flag, so "one-SE on" silently meant "off".
    assert lodo.rule_outcome(r, 0.5, True) == auto.choose(diffs, 0.5, one_se_rule=True)[0] == "one_coin"
    quiet = {"one_coin": np.r_[np.full(200, 0.01), np.full(200, -0.01)]}
    assert lodo.rule_outcome(_result("q", quiet, {}), 0.5, False) == "majority+one_coin"


def test_constants_are_fitted_on_the_other_sets_only():
    # Three sets where the one-SE rule costs nothing and one where it costs 30 points: held out, the
    # fourth gets the constants the other three chose, and the table shows the loss.
    sets = [_result(f"s{i}", _tied_members(), {"one_coin": 60.0, "ebcc": 60.0}) for i in range(3)]
    sets.append(_result("rare", _tied_members(), {"one_coin": 30.0, "ebcc": 60.0}))
    rows = {row["name"]: row for row in lodo.lodo(sets)}
    assert not any(rows[f"s{i}"]["se_rule"] for i in range(3))  # ties go to the simpler rule (off)
    assert rows["rare"]["se_rule"] is False and rows["rare"]["lodo"] == 60.0
    sets[0]["outcomes"] = {"one_coin": 61.0, "ebcc": 60.0}  # now the others favour the one-SE rule
    rows = {row["name"]: row for row in lodo.lodo(sets)}
    assert rows["rare"]["se_rule"] is True and rows["rare"]["outcome"] == "one_coin" and rows["rare"]["lodo"] == 30.0
    assert rows["s0"]["se_rule"] is False  # held out, s0's own preference is not used


def test_try_members_puts_a_model_into_every_score_of_the_default(monkeypatch):
    import pytest

    from mmweak.labelmodels import create

    monkeypatch.setattr(auto, "CANDIDATES", dict(auto.CANDIDATES))
    monkeypatch.setattr(auto, "GENERATIVE", auto.GENERATIVE)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 600)
    L = np.stack([np.where(rng.random(600) < 0.8, y, 1 - y) for _ in range(6)], axis=1).astype(np.int8)
    assert "bwa" not in create(cardinality=2).fit(L).cv_scores_
    lodo.try_members(["bwa"])
    assert "bwa" in create(cardinality=2).fit(L).cv_scores_  # gold-free score
    assert "bwa" in create(cardinality=2).fit(L[100:], L_dev=L[:100], y_dev=y[:100]).cv_scores_  # dev score
    assert lodo.shipped_summary([_result("a", {}, {}, mv=50.0)]).startswith("Shipped default - MV over 1 sets: mean +0.000")
    for bad in ("ebcc", "auto", "nope"):
        with pytest.raises(ValueError, match="not a registered model outside the family"):
            lodo.try_members([bad])


def test_rows_without_a_vote_are_scored_as_the_default_labels_them_at_each_z():
    # Whether Dawid-Skene's model of silence labels them depends on whether its gain clears the bound at z.
    diffs = {"dawid_skene": np.r_[np.full(200, 0.5), np.full(200, -0.48)]}  # mean 0.01, se 0.025: clears z = 0 only
    r = _result("s", diffs, {})
    r["by_silence"] = {False: {"majority+dawid_skene": 60.0, "dawid_skene": 61.0},
                       True: {"majority+dawid_skene": 64.0, "dawid_skene": 65.0}}
    r["silence_guard"] = {z: auto.lower_bound(diffs["dawid_skene"], z) > 0 for z in lodo.Z_GRID}
    assert r["silence_guard"][0.0] and not r["silence_guard"][0.5]
    assert lodo.rule_outcome(r, 0.0, False) == "dawid_skene" and lodo.rule_score(r, 0.0, False) == 65.0
    assert lodo.rule_outcome(r, 0.5, False) == "majority+dawid_skene"
    assert lodo.rule_score(r, 0.5, False) == 60.0  # majority vote kept, its tie-breaker's class balance
    r["silence_guard"] = dict.fromkeys(lodo.Z_GRID, True)
    assert lodo.rule_score(r, 0.5, False) == 64.0


@pytest.mark.parametrize("accuracies, coverage, silence_used", [
    ((0.9, 0.6), 0.4, (False, True)),
    ((0.9, 0.9, 0.9, 0.6, 0.55, 0.55), 0.3, (True, True)),
])
def test_the_emulated_outcome_is_the_defaults_own_score_on_rows_without_a_vote(accuracies, coverage, silence_used):
    # Keyword LFs that fire more on class 1, so three in four silent rows are class 0 where the class balance says
    # 1, next to either-class LFs. With two and no gold majority vote holds and Dawid-Skene's silence model is not
    # used; with 300 dev rows, or six either-class LFs of unequal accuracy, Dawid-Skene clears the bound and it is.
    rng = np.random.default_rng(3)
    n = 5000
    y = (rng.random(n) < 0.65).astype(np.int64)
    cols = [np.where(rng.random(n) < np.where(y == 1, 0.6, 0.1), 1, -1) for _ in range(3)]
    cols += [np.where(rng.random(n) < np.where(y == 0, 0.3, 0.05), 0, -1) for _ in range(2)]
    cols += [np.where(rng.random(n) < coverage, np.where(rng.random(n) < acc, y, 1 - y), -1) for acc in accuracies]
    L = np.stack(cols, axis=1).astype(np.int8)
    for dev, used in zip((None, (L[:300], y[:300])), silence_used):
        case = lodo.Case("kw", "synthetic", 2, "accuracy", L[300:3000], L[3000:], y[3000:], dev)
        r = lodo.evaluate(case)
        assert r["silence_guard"][0.5] is used
        assert lodo.rule_score(r, 0.5, False) == r["default"]
        assert (~(case.L_test != -1).any(axis=1)).sum() > 50
        if dev is None:  # the two ways of labelling silent rows differ, so the check above can tell them apart
            key = lodo.rule_outcome(r, 0.5, False)
            assert r["by_silence"][True][key] > r["by_silence"][False][key] + 1.0


def test_the_emulated_rule_takes_the_votes_second_opinion_like_the_default():
    import worlds

    r = lodo.evaluate(worlds.case("entity_linking", 3, 200))  # the dev rows lead with EBCC; the votes move it
    assert r["selected"] == "dawid_skene_no_abstain" == lodo.rule_outcome(r, 0.5, False)
    assert lodo.rule_score(r, 0.5, False) == r["default"]
    assert auto.choose(r["diffs"], 0.5)[0] == "ebcc"  # what the emulation gave before it knew the second opinion
    assert lodo.rule_outcome(r, 0.5, True) == auto.choose(r["diffs"], 0.5, one_se_rule=True)[0]  # none with 1-SE
