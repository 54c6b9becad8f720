import json

import numpy as np
import pytest

from mmweak import labelmodels
from mmweak.labelmodels import EBCC, create


def crowd(n, acc, *, K=2, cov=1.0, seed=0, prior=None):
    """Votes of workers whose accuracy depends on the item's latent subtype.

    ``acc`` is ``(subtypes, workers)``: each item draws a subtype uniformly; worker ``j`` answers it
    correctly with ``acc[s, j]``, otherwise with a uniformly chosen wrong class. One row of ``acc`` is the
    independent (Dawid–Skene) model.
    """
    rng = np.random.default_rng(seed)
    acc = np.atleast_2d(acc)
    S, m = acc.shape
    y = rng.choice(K, size=n, p=prior)
    sub = rng.integers(0, S, n)
    right = rng.random((n, m)) < acc[sub]
    wrong = (y[:, None] + rng.integers(1, K, (n, m))) % K
    L = np.where(right, y[:, None], wrong)
    L[rng.random((n, m)) >= np.broadcast_to(cov, (m,))] = -1
    return L.astype(np.int8), y


def accuracy(model, L, y):
    return float((model.predict(L) == y).mean())


@pytest.mark.parametrize("K", [2, 3])
def test_recovers_known_worker_accuracies(K):
    acc = np.array([0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55])
    L, y = crowd(4000, acc, K=K, cov=0.6, seed=K)
    model = create("ebcc", cardinality=K, n_restarts=4).fit(L, seed=0)
    est = model.lf_accuracies()
    assert est.shape == (8,)
    # The Dirichlet priors shrink the estimates a little towards the middle (by up to ~0.03 here).
    assert np.abs(est - acc).max() < 0.05, (est.round(3), acc)
    assert np.corrcoef(est, acc)[0, 1] > 0.99
    conf = model.confusion()
    assert conf.shape == (8, K, K)
    np.testing.assert_allclose(conf.sum(axis=2), 1.0)
    assert np.abs(model.class_balance_ - 1 / K).max() < 0.03
    covered = (L != -1).any(1)
    majority = create("majority", cardinality=K).fit(L)
    assert (model.predict(L) == y)[covered].mean() > (majority.predict(L) == y)[covered].mean()


def test_beats_random_weights_and_reaches_the_oracle():
    acc = np.array([0.9, 0.85, 0.8, 0.6, 0.55, 0.55, 0.55, 0.55, 0.55, 0.55])
    L, y = crowd(6000, acc, cov=0.5, seed=3)
    w = np.random.default_rng(0).uniform(0, 1, L.shape[1])
    random_acc = (np.stack([((L == k) * w).sum(1) for k in range(2)], 1).argmax(1) == y).mean()
    logodds = np.log(acc / (1 - acc))
    logit = np.where(L == 1, logodds, np.where(L == 0, -logodds, 0)).sum(1)
    decided = logit != 0
    oracle = ((logit > 0) == y)[decided].mean()  # naive Bayes with the true accuracies
    got = (create("ebcc", n_restarts=4).fit(L).predict(L) == y)[decided].mean()
    assert got > random_acc + 0.05, (got, random_acc)
    assert got > oracle - 0.01, (got, oracle)


def test_subtype_structure_beats_dawid_skene():
    # Two kinds of item: on kind a workers 0-2 are experts and 3-7 are misled (35 % right); on kind b
    # it is the other way round. Each worker is 65 % right overall, but errors are correlated within a
    # group. Dawid–Skene's independence assumption makes "class xor kind" the better latent class, so it
    # lands near chance; EBCC gives each (class, subtype) its own confusion matrices and finds the class.
    acc = np.array([[0.95] * 3 + [0.35] * 5, [0.35] * 3 + [0.95] * 5])
    L, y = crowd(3000, acc, seed=0)
    ebcc = accuracy(create("ebcc", n_restarts=10).fit(L, seed=0), L, y)
    ds = accuracy(create("dawid_skene", abstain_as_outcome=False).fit(L), L, y)
    mv = accuracy(create("majority").fit(L), L, y)
    assert ds < 0.6, ds
    assert ebcc > 0.85 and ebcc > ds + 0.25 and ebcc > mv + 0.04, (ebcc, ds, mv)


def test_deterministic_under_seed_and_seed_matters():
    L, _ = crowd(1500, [0.8, 0.7, 0.75, 0.6, 0.65], K=3, cov=0.7, seed=9)
    a = create("ebcc", cardinality=3, n_restarts=3).fit(L, seed=1)
    b = create("ebcc", cardinality=3, n_restarts=3).fit(L, seed=1)
    np.testing.assert_array_equal(a.predict_proba(L), b.predict_proba(L))
    assert a.elbo_ == b.elbo_
    c = create("ebcc", cardinality=3, n_restarts=1).fit(L, seed=2)
    assert c.elbo_ != a.elbo_  # the seed drives the random subtype start
    # Rows that do not repeat are not collapsed, so the random start is tied to the row and LF order
    # does not matter. (Repeated rows are merged into patterns whose order follows the LF order.)
    L, _ = crowd(600, np.linspace(0.6, 0.85, 30), K=3, cov=0.9, seed=9)
    perm = np.random.default_rng(0).permutation(L.shape[1])
    e = create("ebcc", cardinality=3, n_restarts=3).fit(L, seed=1)
    f = create("ebcc", cardinality=3, n_restarts=3).fit(L[:, perm], seed=1)
    np.testing.assert_allclose(f.predict_proba(L[:, perm]), e.predict_proba(L), atol=1e-9)


@pytest.mark.parametrize(
    "L",
    [np.array([[1], [0], [1], [-1]]), np.array([[0, -1, 1], [1, -1, 1], [0, -1, -1], [-1, -1, -1]]),
     np.full((6, 3), -1), np.ones((5, 2), dtype=int)],
    ids=["one-lf", "never-fires-lf", "all-unvoted", "unanimous"],
)
def test_degenerate_inputs_stay_finite(L):
    model = create("ebcc", n_restarts=2).fit(L)
    p = model.predict_proba(L)
    assert p.shape == (L.shape[0], 2) and np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(1), 1.0)
    assert np.isfinite(model.elbo_) and np.isfinite(model.confusion()).all()
    unvoted = ~(L != -1).any(1)
    np.testing.assert_allclose(p[unvoted], np.broadcast_to(model.class_balance_, p[unvoted].shape))
    assert (model.predict(L)[unvoted] == -1).all()


def test_hundred_classes_stay_finite_and_accurate():
    prior = np.r_[0.5, np.full(99, 0.5 / 99)]
    L, y = crowd(600, np.full(8, 0.8), K=100, cov=0.6, seed=6, prior=prior)
    L[:5] = -1
    model = create("ebcc", cardinality=100, n_restarts=1, n_subtypes=3).fit(L)
    p = model.predict_proba(L)
    assert p.shape == (600, 100) and np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(1), 1.0)
    covered = (L != -1).any(1)
    assert (p.argmax(1) == y)[covered].mean() > 0.9
    np.testing.assert_allclose(p[:5], np.broadcast_to(model.class_balance_, (5, 100)))


def test_dev_rows_are_clamped():
    # Two always-firing workers cannot be told apart without gold: where they disagree, either could be
    # right. Clamped gold rows pin down who is the 90 % one.
    rng = np.random.default_rng(0)
    n = 3000
    y = rng.integers(0, 2, n)
    L = np.stack([np.where(rng.random(n) < a, y, 1 - y) for a in (0.9, 0.65)], 1).astype(np.int8)
    plain = create("ebcc", n_restarts=5).fit(L[300:], seed=0)
    dev = create("ebcc", n_restarts=5).fit(L[300:], L_dev=L[:300], y_dev=y[:300], seed=0)
    assert np.abs(dev.lf_accuracies() - [0.9, 0.65]).max() < 0.03, dev.lf_accuracies()
    assert np.abs(plain.lf_accuracies() - [0.9, 0.65]).max() > 0.06, plain.lf_accuracies()
    assert accuracy(dev, L[300:], y[300:]) > 0.89
    fixed = create("ebcc", n_restarts=2).fit(L, class_balance=[0.3, 0.7])
    np.testing.assert_allclose(fixed.class_balance_, [0.3, 0.7])


def test_save_load_round_trip_is_exact(tmp_path):
    L, y = crowd(1200, [[0.9, 0.6, 0.8, 0.7], [0.6, 0.9, 0.7, 0.8]], K=3, cov=0.8, seed=5)
    model = create("ebcc", cardinality=3, n_restarts=3, n_subtypes=4).fit(L[100:], L_dev=L[:100], y_dev=y[:100], seed=4)
    path = tmp_path / "ebcc.json"
    model.save(path)
    data = json.loads(path.read_text())
    assert data["model"] == "ebcc" and data["params"]["n_subtypes"] == 4
    back = labelmodels.load(str(path))
    assert isinstance(back, EBCC) and back.get_params() == model.get_params()
    assert back.elbo_ == model.elbo_ and back.n_iter_ == model.n_iter_
    np.testing.assert_array_equal(back.predict_proba(L), model.predict_proba(L))
    np.testing.assert_array_equal(back.predict(L), model.predict(L))
    np.testing.assert_array_equal(back.lf_accuracies(), model.lf_accuracies())


def test_bad_hyper_parameters_are_rejected():
    with pytest.raises(ValueError, match="n_subtypes must be an integer >= 1"):
        create("ebcc", n_subtypes=0)
    with pytest.raises(ValueError, match="diag_prior must be a number > 0"):
        create("ebcc", diag_prior=0.0)


def _unpruned_proba(model, L):
    """Prediction over every (class, subtype) column, as before columns were pruned."""
    K = model.cardinality
    W, bias = np.asarray(model.weights_), np.asarray(model.bias_)
    from mmweak.labelmodels.votes import SparseVotes

    V = SparseVotes.from_dense(np.asarray(L, dtype=np.int8), K)
    S = V.scores(W, bias)
    p = np.exp(S - S.max(axis=1, keepdims=True)).reshape(V.n, K, -1).sum(axis=2)
    return p / p.sum(axis=1, keepdims=True)


def test_prediction_skips_empty_subtypes_without_changing_a_probability():
    # Independent accurate workers: one subtype per class is enough, the sparse subtype prior empties the rest.
    L, y = crowd(3000, np.full(50, 0.8), cov=0.35, seed=4)
    model = create("ebcc", cardinality=2, n_restarts=4).fit(L)
    live = model.live_columns()
    assert 2 <= live.size <= 4 and set((live // 10).tolist()) == {0, 1}
    assert model.score_columns() == live.size
    np.testing.assert_allclose(model.predict_proba(L), _unpruned_proba(model, L), rtol=0, atol=1e-14)
    loaded = EBCC.from_dict(json.loads(json.dumps(model.to_dict())))  # the full weights are what is saved
    assert np.shape(loaded.weights_) == (50, 2, 20) and np.array_equal(loaded.live_columns(), live)
    assert np.array_equal(loaded.predict_proba(L), model.predict_proba(L))


@pytest.mark.parametrize("name", ["ebcc", "auto"])
def test_a_class_no_fit_row_holds_is_not_ruled_out_on_rows_that_vote_for_it(name):
    # Three classes declared, only 0 and 1 voted on the fit split: each empty subtype's expected log weight under
    # the sparse subtype prior is about -90 nats, so a test row on which all five LFs vote 2 came out class 0 or 1
    # with probability 1 (Dawid-Skene and majority vote: 2).
    L, _ = crowd(1000, np.full(5, 0.8), K=2, cov=0.6, seed=1)
    model = create(name, cardinality=3).fit(L)
    new = np.array([[2, 2, 2, 2, 2], [2, 2, 2, -1, -1], [0, 0, 1, -1, -1]], dtype=np.int8)
    proba = model.predict_proba(new)
    assert proba[0, 2] > 0.99 and proba[1].argmax() == 2 and proba[2].argmax() == 0
    assert model.class_balance_[2] < 0.01  # the class stays rare: its prior is what a row it never saw gives it
    voted = (L != -1).any(axis=1)
    assert model.predict_proba(L[voted])[:, 2].max() < 0.01  # the fit rows, which never vote 2, stay out of it


def test_prediction_sums_several_live_subtypes_per_class():
    # Two kinds of items (each worker group good on one): classes keep two or more subtype columns each, and
    # the class posterior is their sum.
    L, y = crowd(3000, [[0.9] * 10 + [0.55] * 10, [0.55] * 10 + [0.9] * 10], K=3, cov=0.5, seed=1)
    model = create("ebcc", cardinality=3, n_restarts=4).fit(L)
    live = model.live_columns()
    assert all(((live // 10) == k).sum() >= 2 for k in range(3)), live
    p = model.predict_proba(L)
    np.testing.assert_allclose(p, _unpruned_proba(model, L), rtol=0, atol=1e-14)
    assert (p.argmax(1) == y).mean() > 0.95
    # Bit for bit what numpy's reductions over the live columns give (the formula before the column-wise sums),
    # here and after three iterations, when every class still has 8 or more live columns.
    from mmweak.labelmodels.votes import SparseVotes

    V = SparseVotes.from_dense(L, 3)
    early = create("ebcc", cardinality=3, n_restarts=1, screen_iter=3, max_iter=3).fit(L)
    assert min(np.bincount(early.live_columns() // 10, minlength=3)) >= 8
    for fitted in (model, early):
        cols = fitted.live_columns()
        S = V.scores(np.asarray(fitted.weights_)[:, :, cols], np.asarray(fitted.bias_)[cols])
        S = np.exp(S - S.max(axis=1, keepdims=True))
        mass = np.stack([S[:, cols // 10 == k].sum(axis=1) for k in range(3)], axis=1)
        assert np.array_equal(fitted.proba_from_votes(V), mass / mass.sum(axis=1, keepdims=True))


def test_negligible_columns_certificate_holds_on_every_possible_row():
    from itertools import product

    from mmweak.labelmodels.ebcc import _NEGLIGIBLE_NATS, negligible_columns

    rng = np.random.default_rng(0)
    K, M, m = 2, 4, 4
    W = rng.normal(0, 8, (30, m, K, K * M))
    bias = rng.normal(0, 40, (30, K * M))
    batched = negligible_columns(W, bias, K)  # 30 models at once (leading axes are batch axes)
    assert 0 < batched.sum() < batched.size
    for trial in range(30):
        dead = negligible_columns(W[trial], bias[trial], K)
        assert np.array_equal(dead, batched[trial])
        live = np.flatnonzero(~dead)
        assert all(((live // M) == k).any() for k in range(K))  # every class keeps a column
        for row in product(range(-1, K), repeat=m):  # every vote row, abstains included
            s = bias[trial] + sum(W[trial, j, v] for j, v in enumerate(row) if v >= 0)
            for c in np.flatnonzero(dead):
                same = live[live // M == c // M]
                assert s[c] <= s[same].max() - _NEGLIGIBLE_NATS + 1e-9, (trial, row, c)
    # Columns that are never far behind are all kept: a fallback model's equal columns, for one.
    assert not negligible_columns(np.ones((3, 2, 20)), np.zeros(20), 2).any()


@pytest.mark.parametrize("dev", [False, True])
def test_fit_skips_ruled_out_subtypes_with_the_fit_every_column_gives(monkeypatch, dev):
    # The fit scores only the columns the certificate cannot rule out; holding the others at zero must give the
    # fit that scores all of them (the reference: the certificate switched off), bit for bit.
    import mmweak.labelmodels.ebcc as ebcc_module

    L, y = crowd(2500, np.full(40, 0.75), K=3, cov=0.3, seed=7)
    kw = dict(L_dev=L[:200], y_dev=y[:200]) if dev else {}
    scored: list[int] = []
    real_e_step = ebcc_module._VB._e_step

    def counting(self, W, bias, cols):
        scored.append(int(cols.size))
        return real_e_step(self, W, bias, cols)

    monkeypatch.setattr(ebcc_module._VB, "_e_step", counting)
    pruned = create("ebcc", cardinality=3, n_restarts=3, n_finalists=2, random_state=1).fit(L[200:], **kw)
    assert min(scored) < 3 * 10 and scored[0] == 3 * 10  # columns were dropped, after starting from all
    monkeypatch.setattr(ebcc_module, "negligible_columns", lambda W, bias, K: np.zeros(bias.shape, dtype=bool))
    scored.clear()
    full = create("ebcc", cardinality=3, n_restarts=3, n_finalists=2, random_state=1).fit(L[200:], **kw)
    assert min(scored) == 3 * 10
    assert pruned.n_iter_ == full.n_iter_ and pruned.elbo_ == full.elbo_
    np.testing.assert_array_equal(pruned.weights_, full.weights_)
    np.testing.assert_array_equal(pruned.bias_, full.bias_)
    np.testing.assert_array_equal(pruned.confusion_, full.confusion_)
    assert accuracy(pruned, L[200:], y[200:]) > 0.9


@pytest.mark.parametrize("dev", [False, True])
def test_fit_on_several_threads_is_the_serial_fit_bit_for_bit(monkeypatch, dev):
    # Row blocks of the E-step and (LF, vote) blocks of the M-step's product run on threads; each part is computed
    # as the whole would be, so weights, ELBO and iterations equal the one-thread fit exactly (screening, pruned
    # finalists and the dev rows' clamp included).
    import mmweak.labelmodels.ebcc as ebcc_module

    L, y = crowd(2500, np.full(40, 0.75), K=3, cov=0.3, seed=7)
    kw = dict(L_dev=L[:200], y_dev=y[:200]) if dev else {}
    monkeypatch.setattr(ebcc_module, "_THREAD_MIN_CELLS", 1)
    handoffs: list[int] = []
    real = ebcc_module.for_each_block

    def counting(work, starts):
        starts = list(starts)
        handoffs.append(len(starts))
        real(work, starts)

    monkeypatch.setattr(ebcc_module, "for_each_block", counting)
    fits = {}
    for threads in (1, 3):
        monkeypatch.setattr(ebcc_module, "available_threads", lambda threads=threads: threads)
        handoffs.clear()
        fits[threads] = create("ebcc", cardinality=3, n_restarts=3, n_finalists=2, random_state=1).fit(L[200:], **kw)
        assert (max(handoffs, default=0) > 1) == (threads > 1)  # the threaded path ran only when asked to
    serial, threaded = fits[1], fits[3]
    assert serial.n_iter_ == threaded.n_iter_ and serial.elbo_ == threaded.elbo_
    np.testing.assert_array_equal(serial.weights_, threaded.weights_)
    np.testing.assert_array_equal(serial.bias_, threaded.bias_)
    np.testing.assert_array_equal(serial.confusion_, threaded.confusion_)
    np.testing.assert_array_equal(serial.predict_proba(L), threaded.predict_proba(L))
    assert accuracy(threaded, L[200:], y[200:]) > 0.9


def test_accelerated_fit_reaches_the_plain_fixed_point_in_fewer_iterations():
    # Independent accurate workers: the sparse subtype prior drains the redundant subtypes a little per plain
    # iteration (about 500 of them here); the SQUAREM cycles get to the same subtypes and labels in under half.
    L, y = crowd(3000, np.full(50, 0.8), cov=0.35, seed=4)
    plain = create("ebcc", cardinality=2, n_restarts=4, max_iter=3000).fit(L)
    fast = create("ebcc", cardinality=2, n_restarts=4, max_iter=3000, accelerate=True).fit(L)
    assert plain.get_params()["accelerate"] is False  # off by default
    assert plain.n_iter_ < 3000 and fast.n_iter_ < 0.6 * plain.n_iter_
    assert fast.elbo_ >= plain.elbo_ - 1e-6 * abs(plain.elbo_)
    np.testing.assert_array_equal(fast.live_columns(), plain.live_columns())
    np.testing.assert_allclose(fast.predict_proba(L), plain.predict_proba(L), rtol=0, atol=0.01)
    assert np.array_equal(fast.predict(L), plain.predict(L)) and accuracy(fast, L, y) > 0.99


def test_a_jump_that_lowers_the_elbo_is_never_kept(monkeypatch):
    # Jumps to nonsense statistics lower the ELBO, are retried shorter and then dropped: what is left is the
    # plain path, so the fit is the plain fit bit for bit (its iterations count the failed jumps too).
    import mmweak.labelmodels.ebcc as ebcc_module

    L, y = crowd(2000, np.full(30, 0.8), cov=0.3, seed=4)
    plain = create("ebcc", cardinality=2, n_restarts=3, n_finalists=2, max_iter=3000).fit(L)
    tried: list[float] = []

    def nonsense(th0, r, v, length):
        tried.extend(length.tolist())
        return tuple(np.full_like(t, 1e4) for t in th0)

    monkeypatch.setattr(ebcc_module, "_jump", nonsense)
    sabotaged = create("ebcc", cardinality=2, n_restarts=3, n_finalists=2, max_iter=3000, accelerate=True).fit(L)
    assert len(tried) > 100 and min(tried) > ebcc_module._SHORTEST_JUMP
    assert sabotaged.n_iter_ > plain.n_iter_ and sabotaged.elbo_ == plain.elbo_
    np.testing.assert_array_equal(sabotaged.weights_, plain.weights_)
    np.testing.assert_array_equal(sabotaged.bias_, plain.bias_)


def test_accelerate_must_be_a_bool():
    with pytest.raises(ValueError, match="accelerate must be True or False, got 'yes'"):
        create("ebcc", accelerate="yes").fit([[0, 1], [1, 1]])


@pytest.mark.parametrize("fit_kw", ["plain", "dev", "prior"])
def test_the_elbo_that_judges_jumps_is_the_elbo_the_fit_reports(monkeypatch, fit_kw):
    import mmweak.labelmodels.ebcc as ebcc_module

    L, y = crowd(1500, np.full(30, 0.8), K=3, cov=0.3, seed=4)
    real_finish = ebcc_module._VB._finish
    gaps: list[float] = []

    def finish(self, R, n_iter, converged, mu, eta, nu, W, bias, log_norm):
        run = real_finish(self, R, n_iter, converged, mu, eta, nu, W, bias, log_norm)
        batched = self._elbos((mu[None], eta[None], nu[None], W[None], bias[None], log_norm[None]))[0]
        gaps.append(abs(batched - run.elbo))
        return run

    monkeypatch.setattr(ebcc_module._VB, "_finish", finish)
    kw = {"plain": {}, "dev": dict(L_dev=L[:150], y_dev=y[:150]), "prior": dict(class_balance=[0.3, 0.3, 0.4])}[fit_kw]
    create("ebcc", cardinality=3, n_restarts=3, accelerate=True).fit(L[150:], **kw)
    assert len(gaps) == 6 and max(gaps) == 0.0  # three restarts screened, then run on as finalists
