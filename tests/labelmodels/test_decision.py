"""Hard labels from probabilities: the F1-optimal cut for rare classes, and the tie policies."""

import itertools
import json

import numpy as np
import pytest

import datasets
import mmweak
from mmweak.labelmodels import create
from mmweak.labelmodels.decision import NEVER, expected_f1_thresholds, hard_labels


def f1(y, pred, pos=1):
    tp = ((pred == pos) & (y == pos)).sum()
    return 2 * tp / max((pred == pos).sum() + (y == pos).sum(), 1)


def rare_class_votes(n=30000, seed=0):
    """An 8 % class whose LFs only shift its odds: no vote pattern makes it the most likely class."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.08).astype(int)
    L = np.full((n, 3), -1, dtype=np.int8)
    # LF0 says "negative" on most rows; LF1/LF2 fire "positive" 2-2.5x more often on positives.
    L[:, 0] = np.where(rng.random(n) < np.where(y == 1, 0.75, 0.85), 0, -1)
    L[:, 1] = np.where(rng.random(n) < np.where(y == 1, 0.4, 0.2), 1, -1)
    L[:, 2] = np.where(rng.random(n) < np.where(y == 1, 0.25, 0.1), 1, -1)
    return L, y


def test_expected_f1_cut_matches_brute_force():
    rng = np.random.default_rng(1)
    values = rng.random(12)
    p = values[rng.integers(0, 12, 400)]
    proba = np.stack([1 - p, p], axis=1)
    best, best_t = -1.0, None
    for t in np.unique(p):  # every cut between distinct values
        pick = p >= t
        ef1 = 2 * p[pick].sum() / (pick.sum() + p.sum())
        if ef1 > best:
            best, best_t = ef1, t
    assert expected_f1_thresholds(proba)[1] == best_t


def test_expected_f1_cut_edge_cases():
    assert expected_f1_thresholds(np.zeros((0, 3))).tolist() == [NEVER] * 3
    never = np.array([[1.0, 0.0]] * 5)
    t = expected_f1_thresholds(never)
    assert t[1] == NEVER and t[0] == 1.0  # a class with no probability mass is never worth predicting
    flat = np.full((7, 2), 0.5)
    assert expected_f1_thresholds(flat).tolist() == [0.5, 0.5]  # no information: predict it everywhere


def test_f1_objective_beats_argmax_for_a_rare_class():
    L, y = rare_class_votes()
    L_test, y_test = rare_class_votes(seed=1)
    # The Bayes-optimal F1 on this generator is about 0.24; argmax labels almost nothing positive.
    for name in ("dawid_skene", "majority"):
        m = create(name, cardinality=2).fit(L)
        argmax = m.predict(L_test)
        cut = m.predict(L_test, objective="f1")
        assert (argmax == 1).mean() < 0.08 and (cut == 1).mean() > 0.2, name
        assert 0 < m.f1_thresholds_[1] <= 0.5
        assert f1(y_test, cut) > 0.23 and f1(y_test, cut) > f1(y_test, argmax) + 0.02, name
        # The cut learned on the training rows is the best one on the test rows too, within noise.
        p = m.predict_proba(L_test)[:, 1]
        best = max(f1(y_test, (p >= t).astype(int)) for t in np.unique(p))
        assert f1(y_test, cut) > best - 0.005, name


def test_f1_cut_is_saved_and_reloaded(tmp_path):
    L, _ = rare_class_votes(n=5000)
    m = create("auto", cardinality=2).fit(L)
    m.save(tmp_path / "m.json")
    back = mmweak.labelmodels.load(tmp_path / "m.json")
    np.testing.assert_array_equal(back.f1_thresholds_, m.f1_thresholds_)
    assert (back.predict(L, objective="f1") == m.predict(L, objective="f1")).all()
    data = json.loads((tmp_path / "m.json").read_text())
    del data["state"]["f1_thresholds_"]
    old = mmweak.labelmodels.LabelModel.from_dict(data)
    assert (old.predict(L) == m.predict(L)).all()
    with pytest.raises(ValueError, match="no F1 cuts .*refit"):
        old.predict(L, objective="f1")


def test_f1_objective_with_many_classes_keeps_argmax_elsewhere():
    proba = np.array([[0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.6, 0.1, 0.3], [0.1, 0.2, 0.7]])
    labels = hard_labels(proba, np.ones(3), objective="f1", pos_label=1, thresholds=np.array([1, 0.25, 1]))
    assert labels.tolist() == [1, 1, 0, 2]
    with pytest.raises(ValueError, match="pos_label must be a class in 0..2"):
        hard_labels(proba, np.ones(3), objective="f1", pos_label=3, thresholds=np.ones(3))
    with pytest.raises(ValueError, match="objective must be 'accuracy' or 'f1'"):
        hard_labels(proba, np.ones(3), objective="recall")


@pytest.mark.parametrize("tie_break", ["prior", "abstain", "random"])
def test_tie_policies_do_not_depend_on_class_order(tie_break):
    proba = np.array([[0.4, 0.4, 0.2]] * 500)
    prior = np.array([0.2, 0.5, 0.3])
    labels = hard_labels(proba, prior, tie_break=tie_break, seed=4)
    if tie_break == "prior":
        assert set(labels) == {1}
    elif tie_break == "abstain":
        assert set(labels) == {-1}
    else:
        share = np.bincount(labels, minlength=3) / 500
        assert abs(share[0] - 0.5) < 0.07 and share[2] == 0
        assert (hard_labels(proba, prior, tie_break="random", seed=4) == labels).all()


def test_aggregate_writes_f1_labels_and_the_card_says_so(tmp_path):
    L, y = rare_class_votes(n=3000)
    task = mmweak.Task("rare", ["common", "rare"])
    lfs = [
        mmweak.labeling_function(task=task, inputs="v", name=f"lf{j}")(
            lambda b, j=j: [row[j] for row in b["v"]]
        )
        for j, _ in itertools.product(range(3), [0])
    ]
    ds = datasets.Dataset.from_dict({"v": L.tolist(), "gold": y.tolist()})
    voted = mmweak.apply_lfs(datasets.DatasetDict({"train": ds}), lfs, cache_dir=tmp_path / "c")
    plain = mmweak.aggregate(voted, [task], model="dawid_skene")
    tuned = mmweak.aggregate(voted, [task], model="dawid_skene", objective="f1")
    assert plain["train"]["rare_probs"] == tuned["train"]["rare_probs"]
    got_plain = np.array(plain["train"]["rare_label"])
    got_f1 = np.array(tuned["train"]["rare_label"])
    assert f1(y, got_f1) > f1(y, got_plain) + 0.02
    model = mmweak.labelmodels.create("dawid_skene", cardinality=2).fit(L)
    assert (got_f1 == model.predict(L, objective="f1")).all()
    mmweak.save_curated(tuned, tmp_path / "out")
    card = (tmp_path / "out" / "README.md").read_text()
    t = model.f1_thresholds_[1]
    assert f"`rare_label` maximises the F1 of `rare`: that class is assigned wherever its probability reaches {t:.3f}" in card
    assert "maximises the F1" not in _card_text(plain, tmp_path / "plain")


def _card_text(ds, path):
    mmweak.save_curated(ds, path)
    return (path / "README.md").read_text()
