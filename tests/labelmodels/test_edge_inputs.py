"""Legitimate but unusual input: a class the user rules out, enormous numbers, booleans inside lists, many LFs.

Each case was a failure found by fuzzing every model: a model fitted with a zero in ``class_balance`` could not be
saved (its log-prior was -inf, which JSON cannot hold) and left a ``.tmp`` file behind; ``[1e308, 1e308]``
overflowed to a class balance of zeros; ``[[True, 0], [1, 1]]`` fitted as ``[[1, 0], [1, 1]]``; a Python int past
int64 raised a bare OverflowError; the triplet model listed every pair of LFs for every LF (16 s on 50 x 300).
"""

import itertools
import json
import warnings

import numpy as np
import pytest

from mmweak import VoteMatrixError, labelmodels
from mmweak.labelmodels import LabelModel, create
from mmweak.labelmodels.triplet import _MAX_TRIPLETS_PER_LF, Triplet

NAMES = ["default", *labelmodels.available()]
# Models whose probabilities are a Bayes posterior under the class balance (majority vote and BWA are not).
BAYES = ["dawid_skene", "ebcc", "metal", "one_coin", "triplet", "weighted_majority"]


def _votes(n=300, m=6, K=3, seed=1):
    return np.random.default_rng(seed).integers(-1, K, (n, m))


def _finite(value) -> bool:
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list) and value and not isinstance(value[0], dict):
        return bool(np.isfinite(np.asarray(value, dtype=np.float64)).all())
    return not isinstance(value, float) or np.isfinite(value)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("balance", [[0, 1, 1], [1, 0, 0]])
def test_a_class_ruled_out_by_the_class_balance_saves_and_loads(tmp_path, name, balance):
    L = _votes()
    model = create(None if name == "default" else name, cardinality=3).fit(L, class_balance=balance)
    proba = model.predict_proba(L)
    assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1.0)
    assert _finite(model.to_dict()["state"])
    model.save(tmp_path / "m.json")
    assert list(tmp_path.iterdir()) == [tmp_path / "m.json"]
    np.testing.assert_array_equal(labelmodels.load(tmp_path / "m.json").predict_proba(L), proba)
    if name in BAYES:
        assert (proba[:, np.asarray(balance) == 0] == 0).all()


def test_a_save_that_fails_leaves_no_file(tmp_path, monkeypatch):
    model = create("dawid_skene").fit([[0, 1], [1, 1]])
    monkeypatch.setattr(model, "to_dict", lambda: {"state": float("nan")})
    with pytest.raises(ValueError, match="Out of range float"):
        model.save(tmp_path / "m.json")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", NAMES)
def test_a_huge_class_balance_is_a_balance_not_an_overflow(name):
    model = create(None if name == "default" else name, cardinality=3).fit(_votes(), class_balance=[1e308] * 3)
    np.testing.assert_allclose(model.class_balance_, [1 / 3] * 3)
    assert np.allclose(model.predict_proba([[-1] * 6]).sum(), 1.0)


@pytest.mark.parametrize("bad,message", [
    ([[1, 0], [True, 1]], r"L\[1, 0\] = True \(bool\) is not an integer vote \(row 1, LF column 0\)"),
    ([[1, 0], [1, np.False_]], r"L\[1, 1\] = np.False_ \(bool\) is not an integer vote"),
    (np.array([[0, 2**70]], dtype=object), r"L\[0, 1\] = 1180591620717411303424 is outside -1..1 \(row 0, LF column 1"),
])
def test_booleans_in_lists_and_ints_past_int64_name_their_cell(bad, message):
    with pytest.raises(VoteMatrixError, match=message):
        create("majority").fit(bad)


def _triplet_reference(M, ok, rng):
    """The triplet estimate as first written: every pair of co-voting LFs listed, then sampled."""
    m = M.shape[0]
    a = np.full(m, 0.4)
    for i in range(m):
        others = [j for j in range(m) if j != i and ok[i, j] and abs(M[i, j]) > 1e-6]
        pairs = [(j, k) for j, k in itertools.combinations(others, 2) if ok[j, k] and abs(M[j, k]) > 1e-6]
        if pairs:
            if len(pairs) > _MAX_TRIPLETS_PER_LF:
                pairs = [pairs[t] for t in rng.choice(len(pairs), _MAX_TRIPLETS_PER_LF, replace=False)]
            a[i] = float(np.median([np.sqrt(min(abs(M[i, j] * M[i, k] / M[j, k]), 1.0)) for j, k in pairs]))
    return a


@pytest.mark.parametrize("m,seed", [(5, 0), (14, 1), (40, 2)])
def test_triplet_accuracies_match_the_listed_pairs(m, seed):
    r = np.random.default_rng(seed)
    M = np.where(r.random((m, m)) < 0.1, 0.0, r.uniform(-1, 1, (m, m)))
    M = (M + M.T) / 2
    ok = r.random((m, m)) < 0.8
    ok &= ok.T
    got = Triplet._triplet_accuracies(M, ok, np.random.default_rng(7))
    np.testing.assert_array_equal(got, _triplet_reference(M, ok, np.random.default_rng(7)))


def test_triplet_fits_three_hundred_lfs():
    r = np.random.default_rng(3)
    y = r.integers(0, 5, 50)
    L = np.where(r.random((50, 300)) < 0.5, np.where(r.random((50, 300)) < 0.7, y[:, None], r.integers(0, 5, (50, 300))), -1)
    model = create("triplet", cardinality=5).fit(L)
    assert (model.predict(L) == y).mean() > 0.9
    assert json.loads(json.dumps(model.to_dict()))["model"] == "triplet"
    assert isinstance(LabelModel.from_dict(model.to_dict()), Triplet)


@pytest.mark.parametrize("name", NAMES)
def test_reordered_dataframe_columns_are_refused_not_read_by_position(tmp_path, name):
    # The model reads LF columns by position: a DataFrame with its columns in another order labelled other rows.
    import pandas as pd

    df = pd.DataFrame(_votes(K=2), columns=["kw", "short", "link", "caps", "url", "emoji"])
    model = create(None if name == "default" else name).fit(df)
    assert model.feature_names_in_ == list(df.columns) and model.n_features_in_ == 6
    assert model.predict(df).tolist() == model.predict(df.to_numpy()).tolist()  # arrays are read by position
    with pytest.raises(VoteMatrixError, match=r"L's column 0 is 'link' where the model was fitted on 'kw'"):
        model.predict(df[["link", "short", "kw", "caps", "url", "emoji"]])
    with pytest.raises(VoteMatrixError, match=r"column 5 is missing where the model was fitted on 'emoji'"):
        model.predict_proba(df.iloc[:, :5])
    with pytest.raises(VoteMatrixError, match="L_dev's column 0 is 'short' where L has 'kw'"):
        create(None if name == "default" else name).fit(df, L_dev=df[["short", "kw", "link", "caps", "url", "emoji"]],
                                                       y_dev=np.zeros(len(df), dtype=int))
    unnamed = pd.DataFrame(df.to_numpy())  # columns 0..5: read by position, and the user is told
    with pytest.warns(UserWarning, match=r"L is a DataFrame whose columns are not LF names .* read by position"):
        assert model.predict(unnamed).tolist() == model.predict(df).tolist()
    model.save(tmp_path / "m.json")  # the names travel with the saved model
    loaded = LabelModel.load(tmp_path / "m.json")
    assert loaded.feature_names_in_ == list(df.columns)
    with pytest.raises(VoteMatrixError, match="column 0 is 'link'"):
        loaded.predict(df[["link", "short", "kw", "caps", "url", "emoji"]])
    assert not hasattr(create(None if name == "default" else name).fit(df.to_numpy()), "feature_names_in_")


def test_a_tampered_list_of_lf_names_is_refused(tmp_path):
    import pandas as pd

    data = create("majority").fit(pd.DataFrame({"a": [0, 1], "b": [1, 1]})).to_dict()
    data["state"]["feature_names_in_"] = ["a"]
    with pytest.raises(labelmodels.ModelFileError, match="feature_names_in_ must be a list of 2 LF names"):
        LabelModel.from_dict(data)


@pytest.mark.parametrize("name", NAMES)
def test_an_empty_matrix_is_refused_unless_there_are_dev_rows(name):
    # Fitted on nothing, every model labelled every later row from its starting values (a row voted 1 got 0).
    model = create(None if name == "default" else name)
    with pytest.raises(VoteMatrixError, match="L has no rows and there are no dev rows"):
        model.fit(np.zeros((0, 3), dtype=int))
    L_dev = np.array([[1, 1, -1], [0, 0, 0], [1, -1, 1], [0, -1, 0]] * 5)
    model.fit(np.zeros((0, 3), dtype=int), L_dev=L_dev, y_dev=np.array([1, 0, 1, 0] * 5))
    proba = model.predict_proba([[1, -1, 1], [0, 0, -1]])
    assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1.0)
    assert model.predict([[1, -1, 1], [0, 0, -1]]).tolist() == [1, 0]
    if name == "metal":  # its overlaps need no labels: with no other rows it reads them off the dev rows' votes
        on_dev = create("metal").fit(L_dev, L_dev=L_dev, y_dev=np.array([1, 0, 1, 0] * 5))
        np.testing.assert_array_equal(model.mu_, on_dev.mu_)


def test_fit_takes_a_y_of_none_as_in_scikit_learn_pipelines_and_refuses_labels():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    L = _votes(K=2)
    pipe = make_pipeline(FunctionTransformer(), create()).fit(L)
    assert pipe.predict(L).tolist() == create().fit(L).predict(L).tolist()
    with pytest.raises(TypeError, match="fit's y must be None .* pass gold rows as L_dev=..., y_dev="):
        create().fit(L, np.zeros(len(L), dtype=int))


def test_a_masked_array_is_refused_as_its_masked_cells_would_be_votes():
    L = np.ma.array([[1, 0, 0], [0, 1, 1]], mask=[[0, 1, 1], [1, 0, 0]])
    with pytest.raises(VoteMatrixError, match=r"masked array: pass L.filled\(-1\)"):
        create("majority").fit(L)
    assert create("majority").fit(L.filled(-1)).predict(L.filled(-1)).tolist() == [1, 1]


def test_the_default_leaves_ebcc_out_where_its_confusion_cells_would_take_minutes():
    # 300 x 8 votes on 200 classes: the default's EBCC fits took 31 s of its 33 (7 s of 8 at 100 classes).
    from mmweak.labelmodels.auto import EBCC_MAX_CELLS

    rng = np.random.default_rng(0)
    y = rng.integers(0, 200, 300)
    votes = np.where(rng.random((300, 8)) < 0.7, y[:, None], rng.integers(0, 200, (300, 8)))
    L = np.where(rng.random((300, 8)) < 0.3, votes, -1)
    assert 8 * 200 * 200 * 10 > EBCC_MAX_CELLS >= 1000 * 10 * 10 * 10  # a crowd of 1,000 workers on 10 classes keeps it
    with pytest.warns(UserWarning, match=r"leaves EBCC out .* 8 LFs and 200 classes .* 3,200,000 confusion cells"):
        model = create(cardinality=200).fit(L)
    assert "ebcc" not in model.cv_scores_ and "ebcc" not in model.selected_
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # candidates named by the user: nothing is left out, nothing to say
        create(cardinality=200, candidates=("one_coin",)).fit(L)
        create(cardinality=20).fit(np.where(L >= 0, L % 20, -1))
