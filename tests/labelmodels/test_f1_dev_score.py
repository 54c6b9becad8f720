"""With objective="f1" the default's dev score measures the F1 its labels will be judged by (#14)."""

import warnings

import datasets
import numpy as np
import pytest

import mmweak
from mmweak.labelmodels import create
from mmweak.labelmodels.auto import f1_pseudo_values


def _f1(y, pred, pos=1):
    tp = ((pred == pos) & (y == pos)).sum()
    return 2 * tp / max((pred == pos).sum() + (y == pos).sum(), 1)


def test_pseudo_values_average_to_the_f1_and_their_paired_spread_is_its_standard_error():
    rng = np.random.default_rng(3)
    y = (rng.random(400) < 0.15).astype(int)
    a = np.where(rng.random(400) < 0.8, y, 1 - y)
    b = np.where(rng.random(400) < 0.7, y, 1 - y)
    va, vb = f1_pseudo_values(y, a), f1_pseudo_values(y, b)
    assert va.mean() == pytest.approx(_f1(y, a)) and vb.mean() == pytest.approx(_f1(y, b))
    d = va - vb
    se = d.std(ddof=1) / np.sqrt(d.size)
    boot = rng.integers(0, y.size, (2000, y.size))
    spread = np.std([_f1(y[i], a[i]) - _f1(y[i], b[i]) for i in boot])
    assert se == pytest.approx(spread, rel=0.15)  # the delta method against the bootstrap
    assert (f1_pseudo_values(y, a, pos_label=0).mean()) == pytest.approx(_f1(y, a, pos=0))
    assert not f1_pseudo_values(np.zeros(5, int), np.zeros(5, int)).any()  # no positive anywhere: no score


def _rare_votes(n, seed):
    # 8 % positives; two detectors that fire on most positives and on some negatives, one LF that votes
    # negative on most rows: ties between a detector and that LF are common, and mostly positive.
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.08).astype(int)
    L = np.full((n, 3), -1)
    for j in range(2):
        fire = np.where(y == 1, rng.random(n) < 0.7, rng.random(n) < 0.04)
        L[fire, j] = 1
    L[rng.random(n) < np.where(y == 1, 0.5, 0.9), 2] = 0
    return L, y


def test_the_f1_objective_changes_only_the_dev_score():
    L, y = _rare_votes(6000, 0)
    dev = (L[:300], y[:300])
    acc = create(cardinality=2).fit(L[300:], L_dev=dev[0], y_dev=dev[1])
    f1 = create(cardinality=2, objective="f1").fit(L[300:], L_dev=dev[0], y_dev=dev[1])
    assert acc.selection_by_ == f1.selection_by_ == "dev"
    assert set(acc.cv_scores_) == set(f1.cv_scores_) and acc.cv_scores_ != f1.cv_scores_
    # The F1 gains are F1 differences of the cross-fitted dev labels: a gain of 0.1 is 10 F1 points.
    assert all(abs(mean) < 1 for mean, _ in f1.cv_scores_.values())
    blind_acc, blind_f1 = create(cardinality=2).fit(L), create(cardinality=2, objective="f1").fit(L)
    assert blind_acc.cv_scores_ == blind_f1.cv_scores_  # without gold there is no F1 to take
    assert blind_acc.selected_ == blind_f1.selected_
    test_f1 = _f1(y[300:], f1.predict(L[300:], objective="f1"))
    mv_f1 = _f1(y[300:], create("majority", cardinality=2).fit(L[300:]).predict(L[300:], objective="f1"))
    assert test_f1 >= mv_f1 - 0.005


def test_aggregate_passes_its_objective_to_the_default(tmp_path):
    L, y = _rare_votes(2000, 1)
    task = mmweak.Task("rare", ["common", "rare"])
    lfs = [mmweak.labeling_function(task=task, inputs="v", name=f"lf{j}")(lambda b, j=j: [r[j] for r in b["v"]])
           for j in range(3)]
    ds = datasets.DatasetDict({
        "train": datasets.Dataset.from_dict({"v": L[400:].tolist(), "gold": [-1] * 1600}),
        "validation": datasets.Dataset.from_dict({"v": L[:400].tolist(), "gold": y[:400].tolist()}),
    })
    voted = mmweak.apply_lfs(ds, lfs, cache_dir=tmp_path / "c")
    for objective in ("accuracy", "f1"):
        out = mmweak.aggregate(voted, [task], gold="gold", objective=objective)
        entry = mmweak.provenance.read_record(out["train"])["tasks"]["rare"]["label_model"]
        assert entry["params"]["objective"] == objective and entry["fit"]["objective"] == objective
        assert entry["state"]["selection_by_"] == "dev"
        mmweak.save_curated(out, tmp_path / objective)
        card = (tmp_path / objective / "README.md").read_text()
        f1_sentence = "on gold dev rows held out from its fit (the F1 of `rare` of the labels its F1 rule gives them"
        assert (f1_sentence in card) == (objective == "f1")
        assert ("half accuracy, half one minus half the Brier score" in card) == (objective == "accuracy")
    with pytest.raises(ValueError, match="objective must be 'accuracy' or 'f1', got 'auc'"):
        create(cardinality=2, objective="auc").fit(L)


def test_dev_rows_without_a_positive_leave_the_choice_to_the_votes():
    L, y = _rare_votes(4000, 2)
    negatives = np.flatnonzero(y == 0)[:200]
    with_dev = create(cardinality=2, objective="f1").fit(L, L_dev=L[negatives], y_dev=y[negatives])
    blind = create(cardinality=2, objective="f1").fit(L)
    assert with_dev.selection_by_ == "heldout"  # no F1 can be taken on rows of one class
    assert with_dev.cv_scores_ == blind.cv_scores_ and with_dev.selected_ == blind.selected_
    scored = create(cardinality=2).fit(L, L_dev=L[negatives], y_dev=y[negatives])
    assert scored.selection_by_ == "dev"  # accuracy can be, so that objective keeps the dev score


def test_only_a_model_that_selects_by_the_objective_is_told_it():
    from mmweak.aggregate import task_options

    task = mmweak.Task("rare", ["common", "rare"])

    def built(model, objective, pos_label):
        return task_options(task, model, None, None, objective, pos_label)[0]

    told = built(None, "f1", 1)
    assert told.get_params()["objective"] == "f1" and told.get_params()["pos_label"] == 1
    template = create(cardinality=2, z=1.0)
    assert built(template, "f1", 0).get_params()["pos_label"] == 0
    assert template.get_params()["objective"] == "accuracy"  # the user's template is cloned, never changed
    assert "objective" not in built("dawid_skene", "f1", 1).get_params()
    # what aggregate is not told comes from the template (it was reset to argmax labels of class 1)
    own = built(create(cardinality=2, objective="f1", pos_label=0), None, None).get_params()
    assert (own["objective"], own["pos_label"]) == ("f1", 0)


def test_rows_filled_for_want_of_a_vote_take_the_most_likely_class_under_the_f1_objective():
    # fill_abstains="prior" promises the most likely class of the probabilities written beside it; with the default
    # model aggregate(objective="f1") made predict-style defaults follow the F1 rule there.
    from lf_library.precomputed import precomputed_lfs

    rng = np.random.default_rng(11)
    n = 2000
    y = (rng.random(n) < 0.4).astype(int)

    def lf(acc, cov, cls=None):
        v = np.where(rng.random(n) < acc, y, 1 - y)
        keep = rng.random(n) < cov
        return np.where(keep & (v == cls) if cls is not None else keep, v, -1)

    L = np.stack([lf(0.9, 0.7, 0), lf(0.85, 0.7, 0), lf(0.8, 0.5, 1), lf(0.7, 0.3)], axis=1)
    task = mmweak.Task("t", ["neg", "pos"])
    ds = datasets.Dataset.from_dict({"v": L.tolist()})
    ds = mmweak.apply_lfs(ds, precomputed_lfs(ds, task, "v"))
    silent = (L == -1).all(1)
    for model in (None, "dawid_skene"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = mmweak.aggregate(ds, [task], model=model, objective="f1", pos_label=1, fill_abstains="prior")
        probs, labels = np.asarray(out["t_probs"])[silent], np.asarray(out["t_label"])[silent]
        assert silent.sum() > 300 and (labels == probs.argmax(axis=1)).all(), model
