"""Label models are scikit-learn estimators: params, clone, fit-time validation, learned state only after fit."""

import inspect
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError

from mmweak import labelmodels
from mmweak.labelmodels import LabelModel, NotFittedError, create, register
from mmweak.labelmodels.base import _REGISTRY

L = np.array([[0, 0, 1, -1], [1, 1, 1, 0], [0, -1, 0, 0], [1, 1, -1, 1], [0, 0, 0, 1]] * 20, dtype=np.int8)
NAMES = labelmodels.available()


@pytest.mark.parametrize("name", NAMES)
def test_get_set_params_and_clone(name):
    model = create(name, cardinality=3)
    params = model.get_params(deep=True)
    assert params == model.get_params(deep=False)
    sig = inspect.signature(type(model).__init__)
    assert set(params) == {p for p in sig.parameters if p != "self"}
    assert params["cardinality"] == 3 and params["random_state"] == 0
    assert model.set_params(random_state=7) is model and model.random_state == 7
    twin = clone(model)
    assert type(twin) is type(model) and twin is not model and twin.get_params() == model.get_params()
    with pytest.raises(ValueError, match="Invalid parameter"):
        model.set_params(not_a_param=1)


@pytest.mark.parametrize("name", NAMES)
def test_learned_state_only_after_fit_and_clone_drops_it(name):
    model = create(name, cardinality=2)
    learned = [k for k in vars(model) if k.endswith("_")]
    assert learned == []
    with pytest.raises(NotFittedError, match="not fitted"):
        model.predict_proba(L)
    with pytest.raises(SklearnNotFittedError):  # also sklearn's, so sklearn code recognises it
        model.predict(L)
    with pytest.raises(NotFittedError, match="not fitted"):  # was an AttributeError for ebcc and auto
        model.lf_accuracies()
    model.fit(L)
    assert hasattr(model, "n_lfs_") and hasattr(model, "class_balance_")
    fresh = clone(model)
    assert not any(k.endswith("_") for k in vars(fresh))
    np.testing.assert_array_equal(fresh.fit(L).predict_proba(L), model.predict_proba(L))


@pytest.mark.parametrize("name", NAMES)
def test_settings_are_stored_as_given_and_checked_in_fit(name):
    model = create(name, cardinality=2)
    model.set_params(no_vote="sometimes")  # stored as given ...
    assert model.no_vote == "sometimes"
    with pytest.raises(ValueError, match="no_vote must be one of"):  # ... refused by fit
        model.fit(L)
    model.set_params(no_vote="prior", cardinality=2.0)
    with pytest.raises(ValueError, match="cardinality must be a whole number"):
        model.fit(L)


def test_model_specific_settings_are_validated_in_fit():
    cases = [
        ("dawid_skene", {"smoothing": -1}, "smoothing must be a number > 0"),
        ("dawid_skene", {"max_iter": 2.5}, "max_iter must be an integer"),
        ("weighted_majority", {"prior_precision": 1.0}, "prior_precision must be a number > 0 and < 1"),
        ("ebcc", {"n_restarts": 0}, "n_restarts must be an integer >= 1"),
        ("metal", {"lr": 0}, "lr must be a number > 0"),
        ("one_coin", {"tol": float("nan")}, "tol must be a number"),
        ("majority", {"random_state": -3}, "random_state must be a non-negative int"),
        ("dawid_skene", {"dedupe_copies": "yes"}, "dedupe_copies must be True or False"),
    ]
    for name, params, message in cases:
        model = create(name)
        model.set_params(**params)
        with pytest.raises(ValueError, match=message):
            model.fit(L)
        with pytest.raises(ValueError, match=message):  # create() checks too, at the call that set it
            create(name, **params)


def test_random_state_replaces_fit_seed_which_still_works_with_a_warning():
    a = create("ebcc", n_restarts=2, random_state=3).fit(L).predict_proba(L)
    with pytest.warns(DeprecationWarning, match="random_state"):
        b = create("ebcc", n_restarts=2).fit(L, seed=3).predict_proba(L)
    np.testing.assert_array_equal(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        create("ebcc", n_restarts=2, random_state=3).fit(L)  # no warning without seed=


def test_em_steps_are_pure():
    from mmweak.labelmodels.loglinear import run_em
    from mmweak.labelmodels.votes import SparseVotes

    model = create("dawid_skene")
    model.fit(L)
    before = {k: np.copy(v) if isinstance(v, np.ndarray) else v for k, v in vars(model).items()}
    V = SparseVotes.from_dense(L, 2)
    calls = []

    def step(C, N):
        calls.append(1)
        return np.log(C + 1.0), np.log(N + 1.0), {"N": N}

    W1, b1, extras, n1 = run_em(V, step, max_iter=5)
    W2, b2, _, n2 = run_em(V, step, max_iter=5)
    np.testing.assert_array_equal(W1, W2)
    assert n1 == n2 and "N" in extras
    after = vars(model)
    assert set(after) == set(before)
    for k, v in before.items():
        np.testing.assert_array_equal(np.asarray(after[k], dtype=object), np.asarray(v, dtype=object))


def test_register_refuses_a_class_without_its_own_name():
    class Unnamed(labelmodels.DawidSkene):
        pass

    with pytest.raises(TypeError, match="must set its own class attribute `name`"):
        register(Unnamed)
    assert _REGISTRY["dawid_skene"] is labelmodels.DawidSkene

    class Clash(labelmodels.DawidSkene):
        name = "majority"

    with pytest.raises(ValueError, match="already registered"):
        register(Clash)
    with pytest.raises(TypeError, match="only LabelModel subclasses"):
        register(dict)


def test_aggregate_clones_the_template_and_uses_random_state():
    import datasets

    import mmweak

    task, other = mmweak.Task("t", ["a", "b"]), mmweak.Task("u", ["a", "b"])

    def make(t):
        return [mmweak.labeling_function(task=t, inputs="x", name=f"{t.name}{j}")(
            (lambda j: lambda b: [int(v) if (i + j) % 3 else -1 for i, v in enumerate(b["x"])])(j)) for j in range(3)]

    lfs = make(task)
    ds = mmweak.apply_lfs(datasets.Dataset.from_dict({"x": [0, 1] * 30}), lfs)
    template = create("ebcc", n_restarts=2)
    out = mmweak.aggregate(ds, [task], model=template, seed=5)
    assert not hasattr(template, "n_lfs_")  # never fitted in place
    record = mmweak.provenance.read_record(out)["tasks"]["t"]["label_model"]
    assert record["params"]["random_state"] == 5 and record["params"]["n_restarts"] == 2
    # without seed=, the template's own random_state is kept, as its other settings are (it was reset to 0)
    own = mmweak.aggregate(ds, [task], model=create("ebcc", n_restarts=2, random_state=5))
    assert mmweak.provenance.read_record(own)["tasks"]["t"]["label_model"] == record
    assert own["t_probs"][:] == out["t_probs"][:]
    with pytest.raises(ValueError, match=r"different random_state values \[1, 2\]: pass seed="):
        mmweak.aggregate(mmweak.apply_lfs(ds, [*lfs, *make(other)]),
                         model={"t": create("ebcc", random_state=1), "u": create("ebcc", random_state=2)})


def test_one_abstain_for_the_label_models():
    from mmweak.labelmodels import base, decision, votes

    assert labelmodels.ABSTAIN is votes.ABSTAIN and decision.ABSTAIN is votes.ABSTAIN and base.ABSTAIN is votes.ABSTAIN
    src = "".join(inspect.getsource(m) for m in (base, decision))
    assert "ABSTAIN = " not in src


def test_auto_uses_only_its_members_public_interface():
    import mmweak.labelmodels.auto as auto

    assert "._proba" not in inspect.getsource(auto) and "_proba_checked" not in inspect.getsource(auto)


def test_label_model_is_a_base_estimator():
    from sklearn.base import BaseEstimator

    assert issubclass(LabelModel, BaseEstimator)
    assert repr(create("dawid_skene", cardinality=3, smoothing=0.5)) == "DawidSkene(cardinality=3, smoothing=0.5)"


@pytest.mark.parametrize("name", NAMES)
def test_changing_the_classes_after_fit_asks_for_a_refit(name):
    model = create(name, cardinality=2).fit(L)
    model.set_params(cardinality=3)  # scikit-learn style: stored, not refitted (predicting gave an IndexError)
    with pytest.raises(NotFittedError, match="fitted with cardinality 2 but cardinality is now 3"):
        model.predict_proba(L)
    assert model.fit(L).predict_proba(L).shape == (L.shape[0], 3)
