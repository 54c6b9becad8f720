"""The default label model against the published numbers on the real benchmark data (skipped without it).

These are the headline claims of ``benchmarks/accuracy.py``, kept as regression tests: one default
configuration, the WRENCH protocol (fit on train, valid gold as dev, score every test row, the decision
rule set by the metric), and the crowd sets scored on gold items with ties split.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

from mmweak.labelmodels import create

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import realdata as R  # noqa: E402

needs_wrench = pytest.mark.skipif(not (R.DATA / "wrench" / "census").is_dir(), reason=f"WRENCH data not at {R.DATA}")
needs_crowd = pytest.mark.skipif(not (R.DATA / "crowd" / "rte").is_dir(), reason=f"crowd data not at {R.DATA}")


def wrench_score(name: str, model: str | None = None, **params) -> float:
    w = R.load_wrench(name)
    lm = create(model, cardinality=w.cardinality, **params).fit(w.train.L, L_dev=w.valid.L, y_dev=w.valid.y)
    objective = "f1" if name in R.WRENCH_F1 else "accuracy"
    return R.wrench_score(name, w.test.y, lm.labels_from_proba(lm.predict_proba(w.test.L), None, objective=objective))


@needs_wrench
@pytest.mark.parametrize("name", sorted(R.WRENCH_PUBLISHED))
def test_default_beats_every_published_label_model_on_wrench(name):
    best = max(R.WRENCH_PUBLISHED[name].values())
    assert wrench_score(name) > best


@needs_wrench
def test_basketball_needs_the_f1_rule_and_argmax_does_not_reach_it():
    w = R.load_wrench("basketball")
    lm = create(cardinality=2).fit(w.train.L, L_dev=w.valid.L, y_dev=w.valid.y)
    argmax = lm.labels_from_proba(lm.predict_proba(w.test.L), None)
    assert R.wrench_score("basketball", w.test.y, argmax) < 17.39 < wrench_score("basketball")


@needs_wrench
def test_metal_is_near_snorkels_published_metal():
    # Published MeTaL (Snorkel's LabelModel): census 44.48, imdb 70.96, trec 57.60. The prior-aware start
    # is what keeps census from collapsing (F1 3 with a class-blind start).
    assert wrench_score("census", "metal") > 35
    assert wrench_score("imdb", "metal") > 70.5
    assert wrench_score("trec", "metal") > 50


def crowd_score(name: str, model: str | None = None) -> tuple[float, float]:
    """(accuracy, items right) on gold items, ties split."""
    c = R.load_crowd(name)
    proba = create(model, cardinality=c.cardinality).fit(c.votes.L).predict_proba(c.votes.L)
    assert np.isfinite(proba).all()
    acc = R.crowd_accuracy(c.votes.y, proba)
    return acc, acc * int((c.votes.y >= 0).sum())


@needs_crowd
@pytest.mark.parametrize("name", sorted(set(R.CROWD_PUBLISHED) - {"rte"}))
def test_default_matches_or_beats_ebcc_on_crowd_sets(name):
    assert crowd_score(name)[0] >= R.CROWD_PUBLISHED[name]["EBCC"] - 5e-5  # published to 4 decimals


@needs_crowd
def test_rte_default_is_three_items_short_of_ebcc_which_we_reproduce():
    # EBCC's 0.9313 is 745/800 rounded; our EBCC reproduces it, the default gets 742 (a paired sign test
    # on the 21 items where they differ gives p = 0.66, and EBCC loses on web/product by far more).
    assert round(crowd_score("rte", "ebcc")[1]) == 745
    assert round(crowd_score("rte")[1]) == 742
