"""BWA: the authors' updates, their published numbers, dev clamping and a fixed class mean."""

import sys

import numpy as np
import pytest
from paths import ROOT

from mmweak.labelmodels import create, load

sys.path.insert(0, str(ROOT / "benchmarks"))
import realdata as R  # noqa: E402

needs_crowd = pytest.mark.skipif(not (R.DATA / "crowd" / "rte").is_dir(), reason=f"crowd data not at {R.DATA}")


def reference_bwa(L: np.ndarray, K: int, a: float = 15.0, lam: float = 1.0, iters: int = 500) -> np.ndarray:
    """The paper's per-class iteration on dense arrays, squares summed directly (rows nobody answered dropped)."""
    L = L[(L != -1).any(axis=1)]
    answered = (L != -1).astype(float)
    n_j, w_i = answered.sum(axis=0), answered.sum(axis=1)
    Z = np.empty((L.shape[0], K))
    for k in range(K):
        y = (L == k).astype(float)
        z = y.sum(axis=1) / w_i
        b = a * (w_i @ (z * (1 - z))) / answered.sum() * 4 * (1 - 1 / K)
        for _ in range(iters):
            last, mu = z.copy(), z.mean()
            v = (a + n_j) / (b + (answered * (z[:, None] - y) ** 2).sum(axis=0))
            z = (lam * mu + y @ v) / (lam + answered @ v)
            if np.allclose(last, z, rtol=1e-3):
                break
        Z[:, k] = z
    return Z / Z.sum(axis=1, keepdims=True), L


def crowd(seed: int, n: int, m: int, K: int, per_row: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, n)
    acc = rng.uniform(0.3, 0.95, m)
    L = np.full((n, m), -1, dtype=np.int8)
    for i in range(n):
        who = rng.choice(m, per_row, replace=False)
        right = rng.random(per_row) < acc[who]
        L[i, who] = np.where(right, y[i], (y[i] + rng.integers(1, K, per_row)) % K)
    return L, y


@pytest.mark.parametrize("K", [2, 3, 5])
def test_matches_the_papers_iteration(K):
    L, _ = crowd(K, 400, 30, K, 4)
    L[:50] = L[50:100]  # repeated rows: the fit collapses them into weighted patterns
    L[100:110] = -1  # rows nobody answered
    expected, voted_rows = reference_bwa(L, K)
    got = create("bwa", cardinality=K).fit(L).predict_proba(voted_rows)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_trusts_accurate_workers_over_the_majority():
    L, y = crowd(0, 3000, 40, 3, 5)
    bwa = create("bwa", cardinality=3).fit(L)
    mv = create("majority", cardinality=3).fit(L)
    accuracy = {name: float((m.predict(L) == y).mean()) for name, m in (("bwa", bwa), ("mv", mv))}
    assert accuracy["bwa"] > accuracy["mv"] + 0.02, accuracy
    rng = np.random.default_rng(0)  # the same draw as crowd(0, ...): the workers' true accuracies
    rng.integers(0, 3, 3000)
    true_acc = rng.uniform(0.3, 0.95, 40)
    assert np.corrcoef(bwa.precision_.mean(axis=1), true_acc)[0, 1] > 0.8
    assert np.abs(bwa.lf_accuracies() - true_acc).mean() < 0.05


def test_dev_rows_are_clamped_and_move_the_precisions():
    L, y = crowd(1, 600, 12, 2, 3)
    liar = np.where(L[:, 0] >= 0, 1 - y, -1)  # worker 0 always wrong: majority vote cannot tell
    L[:, 0] = liar
    L_dev, y_dev, L_train = L[:200], y[:200], L[200:]
    free = create("bwa").fit(L_train)
    clamped = create("bwa").fit(L_train, L_dev=L_dev, y_dev=y_dev)
    assert clamped.precision_[0].mean() < free.precision_[0].mean()
    assert np.isfinite(clamped.predict_proba(L)).all()


def test_class_balance_fixes_the_class_mean():
    L, _ = crowd(2, 300, 10, 3, 3)
    m = create("bwa", cardinality=3).fit(L, class_balance=[0.5, 0.3, 0.2])
    np.testing.assert_allclose(m.class_mean_, [0.5, 0.3, 0.2])
    np.testing.assert_allclose(m.class_balance_, [0.5, 0.3, 0.2])


def test_save_load_round_trip_is_exact(tmp_path):
    L, _ = crowd(3, 300, 10, 4, 3)
    m = create("bwa", cardinality=4).fit(L)
    m.save(tmp_path / "bwa.json")
    assert np.array_equal(load(tmp_path / "bwa.json").predict_proba(L), m.predict_proba(L))


@pytest.mark.parametrize(
    "params, message",
    [({"precision_prior": 0}, "precision_prior"), ({"mean_prior": -1}, "mean_prior"),
     ({"prior_correction": "yes"}, "prior_correction"), ({"max_iter": 0}, "max_iter"), ({"tol": -1}, "tol")],
)
def test_bad_hyper_parameters_are_rejected(params, message):
    with pytest.raises(ValueError, match=message):
        create("bwa", **params).fit([[0, 1], [1, 1]])


@needs_crowd
@pytest.mark.parametrize("name", sorted(R.CROWD_PUBLISHED))
def test_reproduces_the_published_bwa_figures(name):
    c = R.load_crowd(name)
    proba = create("bwa", cardinality=c.cardinality).fit(c.votes.L).predict_proba(c.votes.L)
    assert round(100 * R.crowd_accuracy(c.votes.y, proba), 2) == round(100 * R.CROWD_PUBLISHED[name]["BWA"], 2)
