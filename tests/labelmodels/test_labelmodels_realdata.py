"""The default label model against the published numbers on the real benchmark data (skipped without it).

These are the headline claims of ``benchmarks/accuracy.py``, kept as regression tests: one default
configuration, the WRENCH protocol (fit on train, valid gold as dev, score every test row, the decision
rule set by the metric), and the crowd sets scored on gold items with ties split.
"""

import sys

import numpy as np
import pytest
from paths import ROOT

from mmweak.labelmodels import create

sys.path.insert(0, str(ROOT / "benchmarks"))
import realdata as R  # noqa: E402

needs_wrench = pytest.mark.skipif(not (R.DATA / "wrench" / "census").is_dir(), reason=f"WRENCH data not at {R.DATA}")
needs_crowd = pytest.mark.skipif(not (R.DATA / "crowd" / "rte").is_dir(), reason=f"crowd data not at {R.DATA}")


def fitted(name: str, model: str | None = None, **params):
    """``model`` fitted as ``benchmarks/accuracy.py`` fits it: train votes, valid gold as dev, and for the default
    the set's metric as its objective (what ``aggregate(objective=...)`` passes)."""
    w = R.load_wrench(name)
    lm = create(model, cardinality=w.cardinality, **params)
    if "objective" in lm.get_params() and "objective" not in params:
        lm.set_params(objective="f1" if name in R.WRENCH_F1 else "accuracy")
    return w, lm.fit(w.train.L, L_dev=w.valid.L, y_dev=w.valid.y)


def wrench_score(name: str, model: str | None = None, **params) -> float:
    w, lm = fitted(name, model, **params)
    objective = "f1" if name in R.WRENCH_F1 else "accuracy"
    return R.wrench_score(name, w.test.y, lm.labels_from_proba(lm.predict_proba(w.test.L), None, objective=objective))


@needs_wrench
@pytest.mark.parametrize("name", sorted(R.WRENCH_PUBLISHED))
def test_default_beats_every_published_label_model_on_wrench(name):
    best = max(R.WRENCH_PUBLISHED[name].values())
    assert wrench_score(name) > best


@needs_wrench
def test_basketball_needs_the_f1_rule_and_argmax_does_not_reach_it():
    w, lm = fitted("basketball")
    argmax = lm.labels_from_proba(lm.predict_proba(w.test.L), None, objective="accuracy")
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


#: The default's accuracy on the crowd sets (items right on gold items, ties split), and the member chosen. Since
#: the pooled Dawid–Skene member (2026-12-07) bluebird, dog, rte and web take it: the same items right on three,
#: dog one item fewer (679 with EBCC), still the published EBCC's 84.01 % (benchmarks/README.md).
CROWD_DEFAULT = {
    "bluebird": (97.0, "dawid_skene_pooled"), "dog": (678.0, "dawid_skene_pooled"),
    "rte": (742.0, "dawid_skene_pooled"), "web": (2180.0, "dawid_skene_pooled"),
    "sentiment1k": (960.0, "dawid_skene_no_abstain"), "product": (7816.0, "dawid_skene_no_abstain"),
}


@needs_crowd
@pytest.mark.parametrize("name", sorted(CROWD_DEFAULT))
def test_default_on_crowd_sets(name):
    right, member = CROWD_DEFAULT[name]
    c = R.load_crowd(name)
    model = create(cardinality=c.cardinality).fit(c.votes.L)
    assert model.selected_ == member and model.selection_by_ == "heldout"
    acc = R.crowd_accuracy(c.votes.y, model.predict_proba(c.votes.L))
    assert acc * int((c.votes.y >= 0).sum()) == pytest.approx(right, abs=0.51)
    mv = R.crowd_accuracy(c.votes.y, create("majority", cardinality=c.cardinality).fit(c.votes.L).predict_proba(c.votes.L))
    assert acc >= mv - 0.005  # never below majority vote (ties split for both)


@needs_crowd
def test_ebcc_reproduces_the_published_figures_without_copy_handling():
    # The authors' EBCC has no copy handling; with it off ours reproduces their saved outputs (EBCC's
    # 0.9313 on rte is 745/800 rounded). Copy handling is on by default; it no longer flags crowd workers
    # who merely shared a batch of 20 items (it used to down-weight 70 of rte's 164 workers and 20 of
    # sentiment1k's 85).
    for name, right in {"rte": 745, "sentiment1k": 961, "dog": 678, "bluebird": 93}.items():
        c = R.load_crowd(name)
        proba = create("ebcc", cardinality=c.cardinality, dedupe_copies=False).fit(c.votes.L).predict_proba(c.votes.L)
        assert round(R.crowd_accuracy(c.votes.y, proba) * int((c.votes.y >= 0).sum())) == right, name


@needs_wrench
@needs_crowd
def test_default_is_deterministic_on_real_data():
    w = R.load_wrench("youtube")
    a = create(cardinality=2).fit(w.train.L, L_dev=w.valid.L, y_dev=w.valid.y).predict_proba(w.test.L)
    b = create(cardinality=2).fit(w.train.L, L_dev=w.valid.L, y_dev=w.valid.y).predict_proba(w.test.L)
    np.testing.assert_array_equal(a, b)
    c = R.load_crowd("bluebird")
    p = create().fit(c.votes.L).predict_proba(c.votes.L)
    np.testing.assert_array_equal(p, create().fit(c.votes.L).predict_proba(c.votes.L))


@needs_wrench
@needs_crowd
def test_the_default_gives_the_same_bits_whatever_the_machines_thread_counts(monkeypatch):
    """The numbers asserted here must hold on a 16-core machine as on a 2-core one: BLAS on one thread, and
    mmweak's row blocks and EBCC's work split for one or for sixteen threads, give the same probabilities to the
    last bit (trec: the dev score, K=6; dog: EBCC chosen without gold, K=4). All 12 sets were checked so once
    (2026-12-06, BLAS on 1 or 2 threads, mmweak on 1, 2 or 16)."""
    from threadpoolctl import threadpool_limits

    from mmweak.labelmodels import ebcc, loglinear, majority, threads

    def run() -> list[np.ndarray]:
        w = R.load_wrench("trec")
        out = [create(cardinality=6).fit(w.train.L, L_dev=w.valid.L, y_dev=w.valid.y).predict_proba(w.test.L)]
        c = R.load_crowd("dog")
        out.append(create(cardinality=c.cardinality).fit(c.votes.L).predict_proba(c.votes.L))
        return out

    base = run()
    # These sets are small: cut them into many blocks so that every threaded path runs on them.
    monkeypatch.setattr(ebcc, "_THREAD_MIN_CELLS", 0)
    monkeypatch.setattr(loglinear, "PREDICT_CHUNK_ROWS", 97)
    monkeypatch.setattr(majority, "_PREDICT_ROWS", 97)
    for n in (1, 16):
        for module in (threads, ebcc):
            monkeypatch.setattr(module, "available_threads", lambda n=n: n)
        with threadpool_limits(limits=1 if n == 1 else None):
            for a, b in zip(base, run()):
                np.testing.assert_array_equal(a, b)


@needs_wrench
@pytest.mark.parametrize("name,expected,member", [
    ("youtube", 84.40, "dawid_skene"), ("trec", 65.20, "weighted_majority"), ("imdb", 71.52, "dawid_skene_no_abstain"),
    ("yelp", 73.47, "dawid_skene_no_abstain"), ("basketball", 18.29, "ebcc"), ("census", 62.12, "weighted_majority"),
])
def test_default_numbers_on_wrench(name, expected, member):
    w, model = fitted(name)
    assert model.selected_ == member and model.selection_by_ == "dev"
    objective = "f1" if name in R.WRENCH_F1 else "accuracy"
    got = R.wrench_score(name, w.test.y, model.labels_from_proba(model.predict_proba(w.test.L), None, objective=objective))
    assert got == pytest.approx(expected, abs=0.005)
    assert got >= R.WRENCH_PUBLISHED[name]["MV"] - 0.5
    assert got >= max(R.WRENCH_PUBLISHED[name].values()) - 1.0  # at most a point below the best published


@needs_wrench
@needs_crowd
def test_stress_variants_of_the_real_sets():
    import lodo
    import stress  # benchmarks/stress.py: the default on variants nothing was tuned on

    youtube, bluebird = lodo.cases((), ["youtube", "bluebird"])
    names = {v.name: v for v in stress.variants(youtube)}
    assert sorted(names) == ["youtube~dev50", "youtube~lf0", "youtube~lf1", "youtube~nodev"]
    assert names["youtube~lf0"].L_train.shape == (youtube.L_train.shape[0], 5)
    assert names["youtube~lf0"].dev[0].shape[1] == 5 and names["youtube~dev50"].dev[1].size == 50
    assert names["youtube~nodev"].dev is None
    sparse = stress.variants(bluebird)[-1]
    assert sparse.name == "bluebird~sparse" and sparse.L_test.shape == (108, bluebird.L_train.shape[1])
    kept = (sparse.L_train >= 0).sum() / (bluebird.L_train >= 0).sum()
    assert 0.62 < kept < 0.71  # a third of the answers dropped
    r = lodo.evaluate(sparse)  # the default stays far above majority vote with a third of the answers gone
    assert r["default"] == pytest.approx(89.81, abs=0.005) and r["mv"] < 77.0


def test_stress_with_no_real_set_says_so(tmp_path, monkeypatch):
    import stress

    monkeypatch.setattr(stress.LO.R, "DATA", tmp_path)  # an empty data folder: no WRENCH or crowd set in it
    with pytest.raises(SystemExit, match="no real set to vary under .* named nosuchset"):
        stress.main(["--only", "nosuchset"])


@needs_wrench
def test_fresh_stress_draws_differ_from_the_committed_ones_and_keep_their_shape(capsys):
    import lodo
    import stress

    (trec,) = lodo.cases((), ["trec"])
    committed = {v.name: v for v in stress.variants(trec)}
    fresh = {v.name: v for v in stress.variants(trec, 9)}
    assert sorted(fresh) == sorted(committed)
    assert fresh["trec~lf0"].L_train.shape == committed["trec~lf0"].L_train.shape == (trec.L_train.shape[0], 34)
    assert not np.array_equal(fresh["trec~lf0"].L_train, committed["trec~lf0"].L_train)  # another half of the LFs
    assert not np.array_equal(fresh["trec~dev50"].dev[1], committed["trec~dev50"].dev[1])
    assert np.array_equal(fresh["trec~nodev"].L_train, committed["trec~nodev"].L_train)  # no draw in it
    # The fresh-draw miss quoted in benchmarks/README.md: trec's valid rows are not drawn like its test rows, so
    # the weighted vote the full dev split picks is below majority vote on the test rows.
    r = lodo.evaluate(fresh["trec~lf0"])
    assert r["selected"] == "weighted_majority" and r["default"] == pytest.approx(40.60, abs=0.005)
    assert r["mv"] == pytest.approx(46.70, abs=0.01)  # its exact expected value (46.40 over 20 draws)


@needs_wrench
def test_with_a_rare_class_and_50_dev_rows_the_f1_dev_score_keeps_the_rare_class():
    import lodo
    import stress

    (basketball,) = lodo.cases((), ["basketball"])
    case = next(v for v in stress.variants(basketball, 8) if v.name == "basketball~dev50")
    assert int(case.dev[1].sum()) <= 6  # a handful of positive dev rows
    r = lodo.evaluate(case)  # scored by F1 of the rare class, so the default is fitted with objective="f1"
    # Dawid-Skene without abstains leads on the dev rows; the held-out votes prefer EBCC, which clears the dev
    # bound too: the same F1.
    assert r["selected"] == "ebcc" and r["default"] == pytest.approx(17.39, abs=0.01)
    assert r["outcomes"]["dawid_skene_no_abstain"] == pytest.approx(17.39, abs=0.01)
    assert r["default"] >= r["mv"] - 0.5
    # Scored by accuracy, the dev rows favour one-coin, whose ties go to the common class (F1 4.88 when it was
    # taken); the held-out votes' second opinion moves that choice to Dawid-Skene (F1 13.79), still short of the
    # F1 dev score's 17.39.
    acc = create(cardinality=2).fit(case.L_train, L_dev=case.dev[0], y_dev=case.dev[1])
    assert acc.dev_leader_ == "one_coin" and acc.selected_ == "dawid_skene"
    assert R.wrench_score("basketball", case.y_test, acc.predict(case.L_test, objective="f1")) < 14.0


@needs_wrench
def test_rows_without_a_vote_on_yelp_take_the_class_its_lfs_cover_least():
    # Without gold. 611 of yelp's 3,800 test rows have no vote, 65 % of them negative; the class balance says
    # positive. Dawid-Skene with abstains' posterior of a silent row says negative, and the default uses it because
    # Dawid-Skene's gold-free gain over majority vote clears the bound (benchmarks/README.md, 2026-12-05).
    w = R.load_wrench("yelp")
    silent = ~(w.test.L != -1).any(axis=1)
    assert silent.sum() == 611 and 0.6 < (w.test.y[silent] == 0).mean() < 0.7
    ds = create("dawid_skene", cardinality=2).fit(w.train.L)
    assert ds.predict_proba(w.test.L[silent][:1])[0, 0] > 0.7 and ds.class_balance_[0] < 0.5
    default = create(cardinality=2).fit(w.train.L)
    mean, se = default.cv_scores_["dawid_skene"]
    assert mean - default.z * se > 0
    labels = default.labels_from_proba(default.predict_proba(w.test.L), None)
    assert (labels[silent] == 0).all()
    assert 100 * float((labels == w.test.y).mean()) == pytest.approx(67.61, abs=0.005)  # 62.89 before


@needs_wrench
def test_train_splits_record_where_the_dev_rows_are_not_drawn_like_the_train_rows():
    """benchmarks/train_splits.py: the train splits' gold, which no protocol uses. youtube and basketball are below
    majority vote there (and above it on test), as benchmarks/results/train_splits.md records; a change that fixes or
    worsens them shows here."""
    import train_splits

    yt, bb = train_splits.scores("youtube")["splits"], train_splits.scores("basketball")["splits"]
    assert yt["train"]["score"] == pytest.approx(76.93, abs=0.005) and yt["train"]["mv"] == pytest.approx(81.49, abs=0.005)
    assert yt["test"]["score"] - yt["test"]["mv"] == pytest.approx(2.80, abs=0.005)
    assert yt["valid"]["class1_silent"] == pytest.approx(0.60, abs=0.005) and yt["train"]["class1_silent"] < 0.25
    assert bb["train"]["labelled_1"] == 1.0  # the F1 rule labels every row positive
    assert bb["train"]["score"] == pytest.approx(20.28, abs=0.005) and bb["train"]["mv"] == pytest.approx(28.79, abs=0.01)
