"""Real tables with threshold rules (benchmarks/tabular.py): the rules are what the docstring says, and the
default's numbers on this data nothing was tuned on hold."""

import warnings

import numpy as np
import pytest
from sklearn import datasets

from benchmarks import lodo, tabular


def _evaluate(case: lodo.Case) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lodo.evaluate(case)


def test_rules_vote_as_written_on_the_rows_they_were_written_from():
    X, y = datasets.load_wine(return_X_y=True)
    for two_sided in (False, True):
        rules = tabular.write_rules(X, y, 3, two_sided, 25)
        L = tabular.votes(rules, X)
        assert L.dtype == np.int8 and L.shape == (len(y), len(rules)) and 3 <= len(rules) <= 25
        assert len({(r.feature, r.above) for r in rules}) == len(rules)  # one rule per feature and class
        for j, r in enumerate(rules):
            fires = L[:, j] == r.above
            assert (y[fires] == r.above).mean() >= 0.6  # the precision floor of three classes
            if two_sided:
                assert (L[:, j] != -1).all() and r.below not in (-1, r.above)
            else:
                assert set(np.unique(L[:, j])) <= {-1, r.above}


def test_cases_skip_rule_sets_that_repeat():
    names = [c.name for c in tabular.cases(0, seeds=1)]
    assert "iris/0/one_class_8" in names and "iris/0/one_class_25" not in names  # iris has fewer than 25 rules
    assert len(names) == len(set(names)) == 10


def test_default_on_real_tables_with_and_without_gold():
    by_name = {c.name: c for c in tabular.cases(0, seeds=1)}
    r = _evaluate(by_name["wine/0/two_sided_25"])
    # 89.86 with Dawid-Skene without abstains before the pooled member joined the family (a cost of one item of 69)
    assert r["selected"] == "dawid_skene_pooled"
    assert r["default"] == pytest.approx(88.41, abs=0.01) and r["mv"] == pytest.approx(56.88, abs=0.01)
    # The known shortfall (issue #14): eight "benign" rules on correlated measurements, no gold. Every rule
    # votes one class, so the gold-free score is blind and majority vote stays; the 20.8 % of rows no rule
    # fires on are all malignant, and the class balance sends them to "benign", where ties split at random
    # would get half of them. With 50 gold dev rows Dawid-Skene with abstains is chosen at 90.89.
    r = _evaluate(by_name["breast_cancer/0/one_class_8"])
    assert r["selected"] == "majority+dawid_skene"
    assert r["default"] == pytest.approx(61.62, abs=0.01) and r["mv"] == pytest.approx(72.04, abs=0.01)
    margins = [r["default"] - r["mv"] for r in map(_evaluate, tabular.cases(50, seeds=1)[:4])]
    assert min(margins) >= -0.5 and margins[0] == pytest.approx(90.89 - 72.78, abs=0.01)


def test_a_fit_the_gold_shows_beating_majority_vote_is_not_replaced_by_it():
    # wine/1/one_class_8 with 50 gold dev rows: Dawid-Skene disagrees with majority vote on most decisive rows (the
    # label-swap rule replaced it by majority vote, 36.36), yet the gold shows it right (benchmarks/README.md).
    (case,) = [c for c in tabular.cases(50, seeds=2) if c.name == "wine/1/one_class_8"]
    r = _evaluate(case)
    assert r["selected"] == "dawid_skene" and r["default"] == pytest.approx(79.55, abs=0.01)
    assert r["mv"] == pytest.approx(36.36, abs=0.01)
