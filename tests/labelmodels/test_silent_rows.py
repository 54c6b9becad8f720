"""Rows no LF votes on take the classes of a model of how often each LF fires, not the class balance (#14)."""

import numpy as np

from mmweak.labelmodels import create


def _keyword_votes(n: int = 6000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Balanced classes; two LFs fire far more often on class 1, so 7 of 8 silent rows are class 0.

    Fire rates (class 0, class 1): (0.2, 0.8), (0.3, 0.6), then four LFs at (0.5, 0.5); accuracies 0.9, 0.85,
    0.8, 0.6, 0.55, 0.55 (unequal, so Dawid-Skene's fit beats majority vote on held-out votes).
    P(silent | 0) = 0.8 * 0.7 * 0.5**4 = 0.035, P(silent | 1) = 0.2 * 0.4 * 0.5**4 = 0.005.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    fire = [(0.2, 0.8), (0.3, 0.6)] + [(0.5, 0.5)] * 4
    accuracy = (0.9, 0.85, 0.8, 0.6, 0.55, 0.55)
    L = np.full((n, len(fire)), -1, dtype=np.int8)
    for j, (rates, acc) in enumerate(zip(fire, accuracy)):
        fires = rng.random(n) < np.asarray(rates)[y]
        right = rng.random(n) < acc
        L[fires, j] = np.where(right, y, 1 - y)[fires]
    return L, y


def test_dawid_skene_with_abstains_labels_silent_rows_by_who_stays_silent():
    L, y = _keyword_votes()
    silent = ~(L != -1).any(axis=1)
    assert 0.8 < (y[silent] == 0).mean() < 0.95
    model = create("dawid_skene", cardinality=2).fit(L)
    p = model.predict_proba(np.full((1, 6), -1))[0]
    assert 0.83 < p[0] < 0.92, p  # the true posterior is 0.035 / (0.035 + 0.005) = 0.875
    np.testing.assert_allclose(model.no_vote_proba_, p)
    assert abs(model.class_balance_[0] - 0.5) < 0.05  # not the class balance
    np.testing.assert_allclose(model.predict_proba(L)[silent], np.tile(p, (int(silent.sum()), 1)))
    # Without abstain outcomes the model says nothing about silence: the class balance, as before.
    blind = create("dawid_skene", cardinality=2, abstain_as_outcome=False).fit(L)
    np.testing.assert_allclose(blind.predict_proba(np.full((1, 6), -1))[0], blind.class_balance_)
    uniform = create("dawid_skene", cardinality=2, no_vote="uniform").fit(L)
    assert uniform.predict_proba(np.full((1, 6), -1)).tolist() == [[0.5, 0.5]]


def test_the_default_labels_silent_rows_by_dawid_skenes_silence_whichever_member_it_keeps():
    L, y = _keyword_votes()
    silent = ~(L != -1).any(axis=1)
    model = create(cardinality=2).fit(L)
    mean, se = model.cv_scores_["dawid_skene"]
    assert mean - model.z * se > 0  # Dawid-Skene with abstains describes these votes: its silence model is used
    # Bayes' rule with the default's own class balance and Dawid-Skene's likelihood of silence.
    joint = np.log(model.class_balance_) + create("dawid_skene", cardinality=2).fit(L).silence_loglik()
    np.testing.assert_allclose(model.no_vote_proba_, np.exp(joint) / np.exp(joint).sum())
    labels = model.labels_from_proba(model.predict_proba(L), None)
    assert (labels[silent] == 0).all()
    assert (labels[silent] == y[silent]).mean() > 0.85  # the class balance's label would be right on ~12 %
    # ... and it travels with the saved model.
    again = type(model).from_dict(model.to_dict())
    np.testing.assert_array_equal(again.predict_proba(L[silent][:3]), model.predict_proba(L[silent][:3]))


def test_the_class_balance_where_dawid_skene_is_not_shown_to_fit(monkeypatch):
    from mmweak.labelmodels import auto

    L, _ = _keyword_votes()
    # Not a candidate: nothing measured it, so the class balance, as for every other model.
    restricted = create(cardinality=2, candidates=("one_coin",)).fit(L)
    np.testing.assert_allclose(restricted.no_vote_proba_, restricted.class_balance_)
    # Scored but not clearing the bound (a crowd it does not fit: its silence rates would follow its wrong labels).
    monkeypatch.setattr(auto, "lower_bound", lambda d, z: -1.0)
    model = create(cardinality=2).fit(L)
    assert "dawid_skene" in model.cv_scores_
    np.testing.assert_allclose(model.no_vote_proba_, model.class_balance_)


def test_gold_dev_rows_without_a_vote_correct_the_estimate():
    L, y = _keyword_votes()
    L_dev, y_dev = _keyword_votes(2000, seed=1)
    silent_dev = ~(L_dev != -1).any(axis=1)
    y_dev = y_dev.copy()
    y_dev[silent_dev] = 1  # the gold says otherwise: the dev rows win, shrunk towards the model by K pseudo-rows
    reference = create("dawid_skene", cardinality=2).fit(L, L_dev=L_dev, y_dev=y_dev)
    for name in ("dawid_skene", "auto"):
        model = create(name, cardinality=2).fit(L, L_dev=L_dev, y_dev=y_dev)
        joint = np.log(model.class_balance_) + reference.silence_loglik()
        prior = np.exp(joint) / np.exp(joint).sum()
        n = int(silent_dev.sum())
        np.testing.assert_allclose(model.no_vote_proba_, (np.array([0.0, n]) + 2 * prior) / (n + 2))
        assert model.predict(np.full((1, 6), -1), tie_break="prior").tolist() == [-1]  # predict leaves them unlabelled
        assert model.labels_from_proba(model.predict_proba(np.full((1, 6), -1)), None).tolist() == [1]


def test_no_extra_fit_when_every_row_has_a_vote(monkeypatch):
    from mmweak.labelmodels import auto

    L, _ = _keyword_votes()
    L = L[(L != -1).any(axis=1)]
    calls = []
    original = auto.AutoLabelModel._silent_estimate
    monkeypatch.setattr(auto.AutoLabelModel, "_silent_estimate",
                        lambda self, *a, **k: calls.append(original(self, *a, **k)) or calls[-1])
    model = create(cardinality=2).fit(L)
    assert calls == [None]  # no silent row among the training rows: nothing to estimate, no extra fit
    np.testing.assert_allclose(model.no_vote_proba_, model.class_balance_)


def _spouse_shaped(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Binary, 7 % positives, 9 LFs of one polarity each (both classes voted), three quarters of the rows silent:
    the shape of WRENCH's spouse set, drawn as ``benchmarks/hidden_shapes.py`` draws it."""
    import sys

    from paths import ROOT

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import hidden_shapes as H

    rng = np.random.default_rng(seed)
    prior = np.array([0.93, 0.07])
    lfs = H.make_lfs(rng, 2, 9, prior, "uni", (0.3, 0.8))
    n = 12000
    y = rng.choice(2, size=n, p=prior)
    activity = rng.gamma(2.0, 0.5, size=n)
    lo, hi = 1e-4, 5.0
    for _ in range(22):  # the firing scale that leaves about a quarter of the rows with a vote
        mid = np.sqrt(lo * hi)
        cover = (H.apply_lfs(np.random.default_rng(seed + 1), lfs, y, 2, prior, mid, activity) >= 0).any(1).mean()
        lo, hi = (mid, hi) if cover < 0.26 else (lo, mid)
    return H.apply_lfs(rng, lfs, y, 2, prior, np.sqrt(lo * hi), activity).astype(np.int8), y


def test_a_blind_binary_fit_does_not_give_the_silent_rows_the_rare_class():
    """Without gold, every LF voting one class makes the gold-free score blind: majority vote is kept with
    Dawid–Skene breaking its ties, and its balance (from its unscored model of silence) put 95 % of the rows in
    the rare class, so the silent three quarters were labelled positive: 19 % accuracy against majority vote's 55 %."""
    from mmweak.labelmodels.decision import tie_split_credit

    for seed in (0, 1):
        L, y = _spouse_shaped(seed)
        model = create(cardinality=2).fit(L)
        assert model.selected_ == "majority+dawid_skene"  # blind: every gain exactly 0
        assert model.class_balance_[0] > 0.5 and create("dawid_skene").fit(L).class_balance_[0] < 0.5
        counts = np.stack([(L == k).sum(axis=1) for k in range(2)], axis=1)
        default = tie_split_credit(model.predict_proba(L), y).mean()
        assert default > tie_split_credit(counts, y).mean() + 0.2, seed  # silent rows: negative, not a coin
