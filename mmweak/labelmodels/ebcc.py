"""Enhanced Bayesian Classifier Combination: per-class subtypes capture correlated workers.

Li, Rubinstein & Cohn (ICML 2019), "Exploiting Worker Correlation for Label Aggregation in
Crowdsourcing". Dawid–Skene assumes workers err independently given the true class. EBCC splits every
class ``k`` into ``M`` latent *subtypes* (items of one class that are easy, or confusable with some other
class, ...); each worker has one confusion matrix per (class, subtype), so workers who fail together on
the same kind of item are explained by the subtype instead of being counted as independent evidence.

Generative model (``j`` worker, ``i`` item, ``l`` vote)::

    tau ~ Dir(alpha)                 z_i ~ Cat(tau)            (true class)
    pi_k ~ Dir(a_pi / M)             g_i ~ Cat(pi_{z_i})        (subtype)
    v_jkm ~ Dir(beta_k)              vote_ij ~ Cat(v_{j, z_i, g_i})

with ``beta_k`` = ``diag_prior`` on the ``k``-th entry and ``offdiag_prior`` elsewhere. Mean-field
variational Bayes alternates the closed-form updates of ``q(z_i, g_i)`` and of the Dirichlet posteriors.
In the joint (class, subtype) space it is a naive-Bayes model with ``K * M`` "classes", so both steps are
the two sparse products of :class:`~mmweak.labelmodels.votes.SparseVotes`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.special import digamma, gammaln

from .base import NoVotePolicy, register
from .dense_votes import DenseVotes
from .loglinear import MAX_FIT_ROWS, LogLinearModel
from .short_axis import max_last, sum_in_order, sum_last, sum_runs
from .threads import available_threads, for_each_block
from .validation import MAX_PSEUDO_COUNT, check_number
from .votes import SparseVotes, csr_rows, vote_share

_BLOCK_CELLS = 1 << 23
#: A (class, subtype) column that scores at least this many nats below its class's top-bias column on every
#: possible row holds under e^-60 (1e-26) of that class's mass: below float64's resolution of the sum, so
#: prediction leaves it out (subtypes the sparse subtype prior has emptied).
_NEGLIGIBLE_NATS = 60.0

Stats = tuple[np.ndarray, np.ndarray, np.ndarray]  # (W (m, K, K*M), bias (K*M,), confusion (m, K, K))


@register
class EBCC(LogLinearModel):
    """EBCC (Li et al., 2019): Bayesian Dawid–Skene with ``n_subtypes`` latent subtypes per class.

    Defaults follow the authors' code: 10 subtypes, subtype prior ``a_pi = 0.1``, confusion prior 4 on the
    diagonal and 1 elsewhere, class prior centred on the majority-vote class counts, at most 500
    iterations, stopping when no item's class posterior moves by more than ``tol``. Subtype
    responsibilities start at random (Dirichlet) splits of the majority-vote posterior, so the fit depends
    on ``seed`` (and, where repeated rows are merged into patterns, on the LF order, as the patterns'
    order follows it); ``n_restarts`` fits from different seeded starts and keeps the one with the highest
    evidence lower bound (``elbo_``); 40 restarts is the authors' protocol and makes the result stable
    across seeds. Restarts are screened: all run ``screen_iter`` iterations together (one wide sparse
    product), and only the ``n_finalists`` best by ELBO run on to convergence. ``accelerate=True`` runs the
    finalists in SQUAREM cycles: two plain iterations, then a jump along their path, kept only where it does
    not lower the ELBO. Where the sparse subtype prior drains a redundant subtype a little per iteration it
    converges in a third to a half of the iterations, to the same fit or one of higher ELBO; but a jump can
    also land in another basin of the ELBO than the plain path, with other labels (on a four-LF world 88.4 %
    instead of 91.7 %), so it is off by default and the default's member never uses it. Abstains are ignored
    (crowdsourcing-style: who answered says nothing about the answer), so like ``one_coin`` it is meant
    for bipolar annotators, not unipolar keyword LFs. Gold dev rows keep their class fixed; their subtype
    stays latent. ``dedupe_copies`` (on by default) makes a group of copied LFs speak once, so twenty
    pastes of one LF cannot outvote the rest; the subtypes account for milder
    correlation. With it off the authors' published accuracies are reproduced exactly.

    Cost per iteration is O(votes * K * M) time and O(rows * K * M) memory (rows capped at
    ``max_fit_rows``), times ``n_restarts``: for K near 100 lower ``n_restarts`` or ``n_subtypes``. The
    finalists' iterations skip the subtypes the prior has provably emptied, so they get cheaper as they go.
    A large iteration runs on every core (``MMWEAK_NUM_THREADS`` caps them), with the same result bit for bit.

    >>> import mmweak
    >>> L = [[1, 1, -1], [0, 0, 0], [1, -1, 1], [0, 0, -1]]
    >>> m = mmweak.labelmodels.create("ebcc", cardinality=2).fit(L)
    >>> m.predict(L).tolist()
    [1, 0, 1, 0]
    """

    name = "ebcc"
    _state_schema: ClassVar[dict[str, Any]] = {
        **LogLinearModel._state_schema,
        "weights_": ("m", "K", "KM"),
        "bias_": ("KM",),
        "confusion_": ("m", "K", "K"),
        "elbo_": "float",
    }

    def __init__(
        self,
        cardinality: int = 2,
        *,
        n_subtypes: int = 10,
        subtype_prior: float = 0.1,
        diag_prior: float = 4.0,
        offdiag_prior: float = 1.0,
        empirical_class_prior: bool = True,
        n_restarts: int = 40,
        n_finalists: int = 4,
        screen_iter: int = 25,
        max_iter: int = 500,
        tol: float = 1e-3,
        accelerate: bool = False,
        dedupe_copies: bool = True,
        max_fit_rows: int | None = MAX_FIT_ROWS,
        no_vote: NoVotePolicy = "prior",
        random_state: int = 0,
    ) -> None:
        super().__init__(
            cardinality,
            dedupe_copies=dedupe_copies,
            max_fit_rows=max_fit_rows,
            no_vote=no_vote,
            random_state=random_state,
        )
        self.n_subtypes = n_subtypes
        self.subtype_prior = subtype_prior
        self.diag_prior = diag_prior
        self.offdiag_prior = offdiag_prior
        self.empirical_class_prior = empirical_class_prior
        self.n_restarts = n_restarts
        self.n_finalists = n_finalists
        self.screen_iter = screen_iter
        self.max_iter = max_iter
        self.tol = tol
        self.accelerate = accelerate

    def _check_params(self) -> None:
        super()._check_params()
        check_number("n_subtypes", self.n_subtypes, low=1, high=1000, integer=True)
        check_number("n_restarts", self.n_restarts, low=1, integer=True)
        check_number("n_finalists", self.n_finalists, low=1, integer=True)
        check_number("screen_iter", self.screen_iter, low=1, integer=True)
        for name in ("subtype_prior", "diag_prior", "offdiag_prior"):  # pseudo-counts: 1e18 made every cell NaN
            check_number(name, getattr(self, name), low=0, low_open=True, high=MAX_PSEUDO_COUNT)
        if not isinstance(self.empirical_class_prior, (bool, np.bool_)):
            raise ValueError(f"empirical_class_prior must be True or False, got {self.empirical_class_prior!r}")
        check_number("max_iter", self.max_iter, low=1, integer=True)
        check_number("tol", self.tol, low=0)
        if not isinstance(self.accelerate, (bool, np.bool_)):
            raise ValueError(f"accelerate must be True or False, got {self.accelerate!r}")

    # -- fitting ----------------------------------------------------------------------------------
    def _fit(self, L, *, dev, prior, seed):
        K, M = int(self.cardinality), int(self.n_subtypes)
        V, w = self._prepare(L, seed)
        V = V.take(np.flatnonzero(V.voted))  # rows nobody voted on say nothing about the workers
        T0 = vote_share(V)
        clamp = None
        if dev is not None and dev[1].size:
            Vd = SparseVotes.from_dense(dev[0], K)
            V = V.stacked(Vd)
            Y = np.eye(K)[dev[1]]
            T0 = np.vstack([T0, Y])
            # Additive log-mask: a dev row's (class, subtype) cells outside its gold class are impossible.
            clamp = np.zeros((V.n, K))
            clamp[V.n - Y.shape[0] :] = np.where(Y > 0, 0.0, -np.inf)
            clamp = np.repeat(clamp, M, axis=1)
        # Class prior of the authors' "empirical prior" (majority-vote class mass), one pseudo-count added
        # so a class nobody voted for keeps a finite expected log-weight.
        alpha = (T0.T @ V.weight if self.empirical_class_prior else np.zeros(K)) + 1.0
        vb = _VB(V, w, K, M, self, alpha, prior, clamp)
        rng = np.random.default_rng(seed)
        n_restarts, max_iter = int(self.n_restarts), max(1, int(self.max_iter))
        screen = min(int(self.screen_iter), max_iter)
        finalists = min(int(self.n_finalists), n_restarts)
        # Screening: every restart runs `screen` iterations, many at once in one wide sparse product
        # (the starts are drawn in the same order as one-by-one restarts would draw them). Restarts
        # that converge within it are finished; the others are ranked by their ELBO so far and only
        # the `finalists` best are run on to convergence. The best final ELBO wins, as in the authors'
        # protocol; a restart that trails after `screen` iterations practically never overtakes.
        # per restart: its responsibilities (rows x K*M) and some ten arrays of its confusion counts and terms
        # (LFs x K x K*M), which dominate with many classes (K = 127 on 200 rows: 1.8 GB when only rows counted)
        batch = max(1, min(n_restarts, _BATCH_CELLS // max(1, V.n * K * M + 8 * V.n_lfs * K * K * M)))
        best_done: _Run | None = None  # the best restart that has finished (converged or hit max_iter)
        open_runs: list[_Run] = []  # at most `finalists` unfinished restarts, best ELBO first
        for first in range(0, n_restarts, batch):
            size = min(batch, n_restarts - first)
            R0 = np.stack([rng.dirichlet(np.ones(M), size=(V.n, K)).reshape(V.n, K * M) for _ in range(size)])
            R0 *= np.repeat(T0, M, axis=1)[None]
            R0 = np.ascontiguousarray(R0.transpose(0, 2, 1))  # (restarts, K*M, rows): see _VB
            for run in vb.run(R0, screen):
                if run.converged or run.n_iter >= max_iter:
                    best_done = run if best_done is None or run.elbo > best_done.elbo else best_done
                else:
                    open_runs.append(run)
            open_runs = sorted(open_runs, key=lambda r: -r.elbo)[:finalists]
            del R0
        finished = [] if best_done is None else [best_done]
        if open_runs:  # the finalists, on to convergence together (all have run `screen` iterations)
            finished.extend(vb.run(np.stack([r.R for r in open_runs]), max_iter - screen, n_iter0=screen, prune=True,
                                   accelerate=bool(self.accelerate)))
        best = max(finished, key=lambda r: r.elbo)
        self.elbo_, self.n_iter_ = best.elbo, best.n_iter
        self.weights_, self.bias_, self.confusion_ = best.W, best.bias, best.confusion
        self.class_balance_ = best.class_balance
        self.bias_ = _empty_classes_from_their_prior(self.bias_, self.class_balance_, K, M)

    # -- prediction -------------------------------------------------------------------------------
    def live_columns(self) -> np.ndarray:
        """Sorted indices of the (class, subtype) columns of ``weights_`` that prediction scores.

        The others are certified negligible (:func:`negligible_columns`); a fit often leaves one or two
        subtypes per class, so prediction costs about what Dawid–Skene's does, with the same results.
        """
        self._check_fitted()
        W, bias = self.weights_, self.bias_
        cached = getattr(self, "_live_cache", None)
        if cached is None or cached[0] is not W or cached[1] is not bias:
            dead = negligible_columns(np.asarray(W, dtype=np.float64), np.asarray(bias, dtype=np.float64),
                                      int(self.cardinality))
            cached = (W, bias, np.flatnonzero(~dead))
            self._live_cache = cached
        return cached[2]

    def score_columns(self) -> int:
        """Columns prediction computes: the live ones (see :meth:`live_columns`)."""
        return int(self.live_columns().size)

    def proba_from_votes(self, V: SparseVotes | DenseVotes) -> np.ndarray:
        """Class posteriors: the joint (class, subtype) posterior summed over subtypes."""
        K = int(self.cardinality)
        live = self.live_columns()
        W = np.asarray(self.weights_, dtype=np.float64)[:, :, live]
        bias = np.asarray(self.bias_, dtype=np.float64)[live]
        # Live columns are sorted, so each class's are one run: [bounds[k], bounds[k + 1]).
        bounds = np.searchsorted(live // (np.shape(self.bias_)[0] // K), np.arange(K + 1))
        one_each = live.size == K  # one column per class, already in class order
        out = np.empty((V.n, K))
        # The joint scores can be K*M wide (1000 columns at K=100): bound them to ~64 MB per block.
        step = max(1, _BLOCK_CELLS // bias.size)
        for start in range(0, V.n, step):
            part = V if step >= V.n else V.take(np.arange(start, min(V.n, start + step)))
            S = part.scores(W, bias)
            S -= max_last(S)[:, None]  # short rows: column by column, the same numbers as numpy's reductions
            np.exp(S, out=S)
            # A class's columns added left to right, as numpy added the column-major copy a boolean mask made.
            p = S if one_each else np.stack([sum_in_order(S[:, bounds[k]: bounds[k + 1]]) for k in range(K)], axis=1)
            out[start : start + part.n] = p / sum_last(p)[:, None]
        return out

    def confusion(self) -> np.ndarray:
        """``(m, K, K)`` expected ``P(vote = v | y = k, LF votes)`` indexed ``[lf, k, v]``, subtypes marginalised."""
        self._check_fitted()
        return np.asarray(self.confusion_, dtype=np.float64)

    def lf_accuracies(self) -> np.ndarray:
        """Each LF's class-conditional accuracy ``P(vote = k | y = k, LF votes)`` averaged over the learned class
        balance: how often it would be right if it voted on rows of every class. For an LF that votes one class
        only this is that class's prior, whatever its precision; its accuracy where it votes (what the card's
        "est. acc." shows) is :func:`~mmweak.labelmodels.lf_estimates.estimated_lf_accuracies`."""
        self._check_fitted()
        return np.einsum("k,jkk->j", np.asarray(self.class_balance_), self.confusion())


def _empty_classes_from_their_prior(bias: np.ndarray, class_balance: np.ndarray, K: int, M: int) -> np.ndarray:
    """``bias`` with each class the fit gave no row scored from its prior's mean instead of VB's expected logs.

    VB weighs a subtype by ``E[log pi]``; of a class no row went to, every subtype keeps the sparse prior
    (``subtype_prior / M`` = 0.01 each), whose expected log is about -90 nats: the class was ruled out on every row
    to come, even where every LF votes for it (a class the fit split's LFs never voted, unanimous on a test row:
    another class, probability 1). A new row's posterior predictive weighs class ``k``, subtype ``s`` by
    ``E[tau_k] E[pi_ks]``; for such a class that is its class balance over ``M``, and its subtypes' votes keep the
    confusion prior. Classes that hold rows are untouched (their top subtype's expected log is within a few nats of
    ``log E[tau_k]``; 20 nats apart means less than a millionth of a row).

    >>> bias = np.log(np.array([0.6, 1e-3, 1e-3, 0.4, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3]))
    >>> bias[6:] = -97.0  # class 2: no row
    >>> np.round(_empty_classes_from_their_prior(bias, np.array([0.6, 0.4, 0.001]), 3, 3), 2).tolist()[6:]
    [-8.01, -8.01, -8.01]
    """
    b = np.array(bias, dtype=np.float64).reshape(K, M)
    top = b.max(axis=1)
    balance = np.asarray(class_balance, dtype=np.float64)
    log_tau = np.log(np.maximum(balance, 1e-300))
    empty = (top < log_tau - 20.0) & (balance > 0)  # a class a given class_balance rules out stays out
    b[empty] = (log_tau - np.log(M))[empty, None]
    return b.reshape(-1)


def negligible_columns(W: np.ndarray, bias: np.ndarray, K: int) -> np.ndarray:
    """Mask of the columns of joint scores ``bias + sum_j W[..., j, vote_j, :]`` that hold no float64-visible
    share of their class's mass on any row (leading axes of ``W`` and ``bias`` are batch axes; columns come
    in ``K`` class blocks of equal width).

    Column ``c`` of class ``k`` is negligible when even the row most in its favour (each LF casting the
    vote that helps ``c`` most against the class's highest-bias column ``t``, or abstaining) leaves it
    :data:`_NEGLIGIBLE_NATS` behind ``t``. ``t`` itself never is, so every class keeps a column.

    >>> W = np.zeros((1, 2, 4)); W[0, 0, 0] = W[0, 1, 2] = 1.0
    >>> negligible_columns(W, np.array([0.0, -100.0, 0.0, -30.0]), 2).tolist()
    [False, True, False, False]
    """
    *batch, m, V, KM = W.shape
    M = KM // K
    W5 = W.reshape(*batch, m, V, K, M)
    b3 = bias.reshape(*batch, K, M)
    top = b3.argmax(axis=-1)[..., None]  # (..., K, 1)
    W_top = np.take_along_axis(W5, top[..., None, None, :, :], axis=-1)
    ahead = np.maximum((W5 - W_top).max(axis=-3), 0.0).sum(axis=-3)  # (..., K, M): best case over the LFs
    gap = b3 - np.take_along_axis(b3, top, axis=-1) + ahead
    return (gap < -_NEGLIGIBLE_NATS).reshape(*batch, KM)


#: Responsibilities (restarts x columns x rows) of an iteration from which it runs on every core: below it a
#: thread hand-off costs more than the products it splits.
_THREAD_MIN_CELLS = 1 << 21
_BATCH_CELLS = 1 << 23  # responsibilities of a screening batch: rows x restarts x K*M (64 MB)
#: Votes x restarts x columns below which the finalists do not prune columns: a certificate costs ~70 us of
#: numpy calls, what the two products take at about this size (0.2-0.5 ns per vote and column, 2 cores).
_PRUNE_MIN_WORK = 1 << 19


class _Run:
    """One restart's state: responsibilities, iterations so far, and (after an E-step) its ELBO and parameters."""

    def __init__(
        self,
        R: np.ndarray,
        n_iter: int,
        converged: bool,
        elbo: float,
        W: np.ndarray,
        bias: np.ndarray,
        confusion: np.ndarray,
        class_balance: np.ndarray,
    ) -> None:
        self.R, self.n_iter, self.converged, self.elbo = R, n_iter, converged, elbo
        self.W, self.bias, self.confusion, self.class_balance = W, bias, confusion, class_balance


class _Step:
    """One VB iteration of a batch of restarts: responsibilities on columns ``cols``, class posteriors ``z``
    ``(B, K, rows)`` and the parameters its E-step used (``mu, eta, nu, W, bias, log_norm``)."""

    def __init__(self, R: np.ndarray, cols: np.ndarray, z: np.ndarray, parts: tuple) -> None:
        self.R, self.cols, self.z, self.parts = R, cols, z, parts


#: A jump shortened to within this factor of a plain step is not tried: the plain path is taken instead.
_SHORTEST_JUMP = 1.01


def _step_length(r: tuple, v: tuple) -> np.ndarray:
    """SQUAREM's step length (scheme S3) per restart (leading axis): ``|r| / |v|``, at least 1, for the first
    difference ``r`` and second difference ``v`` of two plain steps."""
    def norm(parts: tuple) -> np.ndarray:
        return np.sqrt(sum((p.reshape(p.shape[0], -1) ** 2).sum(axis=1) for p in parts))
    rn, vn = norm(r), norm(v)
    return np.maximum(1.0, rn / np.where(vn > 0, vn, np.inf))


def _jump(th0: tuple, r: tuple, v: tuple, length: np.ndarray) -> tuple:
    """Statistics ``th0 + 2a r + a^2 v`` per restart, clipped at zero (they are expected counts); ``a = 1`` is
    exactly the second plain step.

    >>> th0, th1, th2 = (np.array([[1.0]]),), (np.array([[2.0]]),), (np.array([[2.5]]),)
    >>> r, v = (th1[0] - th0[0],), (th2[0] - 2 * th1[0] + th0[0],)
    >>> a = _step_length(r, v)  # a geometric path 1, 2, 2.5, ... heads for 3
    >>> a.tolist(), _jump(th0, r, v, a)[0].tolist(), _jump(th0, r, v, np.ones(1))[0].tolist()
    ([2.0], [[3.0]], [[2.5]])
    """
    out = []
    for t0, ri, vi in zip(th0, r, v):
        a = length.reshape(-1, *[1] * (t0.ndim - 1))
        out.append(np.maximum(t0 + 2 * a * ri + a**2 * vi, 0.0))
    return tuple(out)


class _VB:
    """Mean-field VB updates of EBCC for a batch of restarts at once.

    Responsibilities are held as ``(B, K*M, rows)``: every per-row reduction over the (class, subtype)
    cells then runs along a middle axis with the rows contiguous (one vectorised pass per cell), where the
    ``(rows, B, K*M)`` layout reduced ~20 cells per row in a short inner loop at several times the cost.
    """

    def __init__(
        self,
        V: SparseVotes,
        w: np.ndarray,
        K: int,
        M: int,
        model: "EBCC",
        alpha: np.ndarray,
        prior: np.ndarray | None,
        clamp: np.ndarray | None,
    ) -> None:
        self.V, self.w, self.K, self.M, self.m = V, w, K, M, V.n_lfs
        beta = np.full((K, K), float(model.offdiag_prior))
        np.fill_diagonal(beta, float(model.diag_prior))
        self.beta = np.broadcast_to(beta.T[None, :, :, None], (self.m, K, K, M))  # [lf, vote, class, subtype]
        self.a_pi = np.full((K, M), float(model.subtype_prior) / M)
        self.alpha, self.prior, self.tol = alpha, prior, float(model.tol)
        self.clamp = None if clamp is None else np.ascontiguousarray(clamp.T)  # (K*M, rows)
        self.XT = V.X.T.tocsr()  # the M-step's product, once in row order rather than a CSC view per iteration
        self.unit_weight = bool(np.all(V.weight == 1.0))  # no collapsed patterns: skip a copy per iteration
        # Work split for the cores. Each part is computed exactly as the whole would compute it (the E-step is
        # row by row; the M-step's product is split by its output rows, the (LF, vote) columns, at equal
        # numbers of votes), so the fit is bit for bit the same on any number of threads.
        parts = max(1, min(available_threads(), V.n))
        self.edges = np.linspace(0, V.n, parts + 1).astype(np.int64)
        self.X_rows = [csr_rows(V.X, int(a), int(b)) for a, b in zip(self.edges[:-1], self.edges[1:])]
        cuts = np.searchsorted(self.XT.indptr, self.XT.nnz * np.arange(1, parts) / parts)
        xt_edges = np.unique(np.r_[0, np.clip(cuts, 0, self.XT.shape[0]), self.XT.shape[0]])
        self.XT_rows = [csr_rows(self.XT, int(a), int(b)) for a, b in zip(xt_edges[:-1], xt_edges[1:])]

    def _threaded(self, cells: int) -> bool:
        return len(self.X_rows) > 1 and cells >= _THREAD_MIN_CELLS

    def _stats(self, R: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Expected counts ``(B, K*M, m*K)`` and subtype masses ``(B, K*M)`` of responsibilities ``R``
        ``(B, len(cols), rows)`` held on the (class, subtype) columns ``cols`` (the others at zero)."""
        V, K, M, m = self.V, self.K, self.M, self.m
        B, C = R.shape[0], cols.size
        flat = R.reshape(B * C, V.n)
        wR = flat if self.unit_weight else flat * V.weight[None, :]
        if self._threaded(R.size):
            wRT = np.empty((V.n, B * C))
            edges = self.edges

            def transpose(i: int) -> None:
                wRT[edges[i]: edges[i + 1]] = wR[:, edges[i]: edges[i + 1]].T

            for_each_block(transpose, range(len(self.X_rows)))
            parts: list[np.ndarray] = [np.empty(0)] * len(self.XT_rows)

            def product(i: int) -> None:
                parts[i] = np.asarray(self.XT_rows[i] @ wRT)

            for_each_block(product, range(len(self.XT_rows)))
            live_counts = np.concatenate(parts).T.reshape(B, C, m * K)
        else:
            live_counts = np.asarray(self.XT @ np.ascontiguousarray(wR.T)).T.reshape(B, C, m * K)
        live_mass = wR.sum(axis=1).reshape(B, C)
        if C == K * M:
            return live_counts, live_mass
        counts = np.zeros((B, K * M, m * K))
        counts[:, cols] = live_counts
        mass = np.zeros((B, K * M))
        mass[:, cols] = live_mass
        return counts, mass

    def _params(self, counts: np.ndarray, mass: np.ndarray):
        """Dirichlet posteriors (prior + expected counts) and the E-step's log-weights, per restart."""
        K, M, m = self.K, self.M, self.m
        B = counts.shape[0]
        mu = counts.reshape(B, K, M, m, K).transpose(0, 3, 4, 1, 2) + self.beta[None]  # (B, m, v, k, s)
        eta = mass.reshape(B, K, M) + self.a_pi[None]
        nu = self.alpha[None] + eta.sum(axis=2) - self.a_pi.sum(axis=1)[None]
        Elog_v = digamma(mu) - digamma(mu.sum(axis=2, keepdims=True))
        Elog_pi = digamma(eta) - digamma(eta.sum(axis=2, keepdims=True))
        if self.prior is not None:
            Elog_tau = np.broadcast_to(np.log(np.maximum(self.prior, 1e-300)), (B, K))
        else:
            Elog_tau = digamma(nu) - digamma(nu.sum(axis=1, keepdims=True))
        W = Elog_v.reshape(B, m, K, K * M) * self.w[None, :, None, None]
        bias = (Elog_tau[:, :, None] + Elog_pi).reshape(B, K * M)
        return mu, eta, nu, W, bias

    def _e_step(self, W: np.ndarray, bias: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Responsibilities ``(B, len(cols), rows)`` of the columns ``cols`` and each row's log normaliser
        ``(B, rows)``, from the joint scores ``bias + sum_j W[b, j, vote_j, c]`` (plus the dev rows' clamp).

        Row blocks run on every core when the iteration is large; every row is computed as it is in one block.
        """
        V, K, m = self.V, self.K, self.m
        B, C = bias.shape[0], cols.size
        if C < bias.shape[1]:
            W, bias = W[..., cols], bias[:, cols]
        Wcat = W.transpose(1, 2, 0, 3).reshape(m * K, B * C)
        clamp = None
        if self.clamp is not None:
            clamp = self.clamp if C == self.clamp.shape[0] else self.clamp[cols]

        def block(X, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
            S = np.ascontiguousarray(np.asarray(X @ Wcat).T).reshape(B, C, stop - start)
            S += bias[:, :, None]
            if clamp is not None:
                S += clamp[None, :, start:stop]
            top = S.max(axis=1, keepdims=True)
            top[~np.isfinite(top)] = -1e300  # rows whose every cell is clamped away stay finite
            S -= top
            np.exp(S, out=S)
            total = S.sum(axis=1, keepdims=True)
            S /= total
            return S, (top + np.log(total))[:, 0, :]

        if not self._threaded(B * C * V.n):
            return block(V.X, 0, V.n)
        R, log_norm = np.empty((B, C, V.n)), np.empty((B, V.n))
        edges = self.edges

        def one(i: int) -> None:
            rows = slice(edges[i], edges[i + 1])
            R[:, :, rows], log_norm[:, rows] = block(self.X_rows[i], int(edges[i]), int(edges[i + 1]))

        for_each_block(one, range(len(self.X_rows)))
        return R, log_norm

    def run(
        self, R: np.ndarray, iters: int, n_iter0: int = 0, prune: bool = False, accelerate: bool = False
    ) -> list[_Run]:
        """Run up to ``iters`` VB iterations from responsibilities ``R`` ``(B, K*M, rows)``; one :class:`_Run`
        per restart.

        With ``prune``, each E-step scores only the (class, subtype) columns that :func:`negligible_columns`
        cannot rule out under the M-step just made; a ruled-out column's responsibility, under ``e^-60`` of
        its class's top column on every row, is held at zero instead. That is below float64's resolution
        of every sum it enters (a class's mass, the normaliser, a Dirichlet's prior + counts), so the fit
        is the one every column gives. It pays in the finalists' long run, where the sparse subtype prior
        empties most subtypes (4 of 20 columns left at the end on a 50-LF matrix) and the two products
        cost in proportion to the columns; in the screening batch few die within its iterations, and
        certifying 40 restarts at once cost more than it saved (crowd sets 20-40 % slower).

        With ``accelerate``, iterations go in cycles of three (SQUAREM, Varadhan & Roland 2008): two plain
        ones, then one from statistics extrapolated along the path the two took, kept only where its ELBO
        is at least the plain path's. The sparse subtype prior drains a redundant subtype a little per plain
        iteration, so the plain path can take hundreds of iterations to empty it; the extrapolated step
        covers several of them at once. A jump that lowers the ELBO is retried halfway back towards the plain
        step, then dropped. Every step, retried jumps included, counts as an iteration against ``iters``, and
        convergence is judged on the plain steps only, with the same ``tol``.
        """
        V, K, M = self.V, self.K, self.M
        B, KM = R.shape[0], K * M
        prune = prune and V.X.nnz * B * KM >= _PRUNE_MIN_WORK
        all_cols = np.arange(KM)
        z = R.reshape(B, K, M, V.n).sum(axis=2)
        n_iter = np.full(B, n_iter0)
        done = np.zeros(B, dtype=bool)
        resp: list[tuple[np.ndarray, np.ndarray]] = [(R[b], all_cols) for b in range(B)]
        keep: list[tuple] = [()] * B  # filled for every restart: all are live in the first iteration

        def step(counts: np.ndarray, mass: np.ndarray) -> _Step:
            mu, eta, nu, W, bias = self._params(counts, mass)
            cols = np.flatnonzero(~negligible_columns(W, bias, K).all(axis=0)) if prune else all_cols
            Rc, log_norm = self._e_step(W, bias, cols)
            if cols.size < KM:  # every class keeps its top column, so each class starts one run of columns
                z_new = sum_runs(Rc, np.flatnonzero(np.r_[True, np.diff(cols // M) > 0]))
            else:
                z_new = Rc.reshape(Rc.shape[0], K, M, V.n).sum(axis=2)
            return _Step(Rc, cols, z_new, (mu, eta, nu, W, bias, log_norm))

        def take(ids: np.ndarray, st: _Step, rows: np.ndarray) -> None:
            """Restarts ``ids`` move to rows ``rows`` of step ``st``."""
            z[ids] = st.z[rows]
            for i, b in zip(rows, ids):
                keep[b] = tuple(part[i] for part in st.parts)
                resp[b] = (st.R[i], st.cols)

        def settle(ids: np.ndarray, st: _Step) -> np.ndarray:
            """A plain step for restarts ``ids``: take it, count it, and return which of them converged."""
            delta = np.abs(st.z - z[ids]).max(axis=(1, 2)) if V.n else np.zeros(ids.size)
            take(ids, st, np.arange(ids.size))
            n_iter[ids] += 1
            converged = delta <= self.tol
            done[ids[converged]] = True
            return converged

        budget, used = max(1, iters), 0
        live = np.arange(B)  # restarts still iterating
        src = (R, all_cols)  # the live restarts' responsibilities and their columns, or
        theta: tuple[np.ndarray, np.ndarray] | None = None  # their statistics, once a jump has mixed steps
        while live.size and used < budget:
            th0 = self._stats(*src) if theta is None else theta
            st1 = step(*th0)
            used += 1
            go = ~settle(live, st1)
            if not (accelerate and used + 2 <= budget and go.any()):
                live, src, theta = live[go], (st1.R[go], st1.cols), None
                continue
            th0, live = (th0[0][go], th0[1][go]), live[go]
            th1 = self._stats(st1.R[go], st1.cols)
            st2 = step(*th1)
            used += 1
            go = ~settle(live, st2)
            if not go.any():
                break
            th0, th1, live = (th0[0][go], th0[1][go]), (th1[0][go], th1[1][go]), live[go]
            th2 = self._stats(st2.R[go], st2.cols)
            r = tuple(b - a for a, b in zip(th0, th1))
            v = tuple(c - 2 * b + a for a, b, c in zip(th0, th1, th2))
            length = _step_length(r, v)
            floor = self._elbos(tuple(part[go] for part in st2.parts))
            theta = th2  # restarts whose jumps all fail stay on the plain path
            todo = np.arange(live.size)
            while todo.size and used < budget:
                st3 = step(*_jump(tuple(t[todo] for t in th0), tuple(t[todo] for t in r), tuple(t[todo] for t in v),
                                  length[todo]))
                used += 1
                n_iter[live[todo]] += 1
                ok = self._elbos(st3.parts) >= floor[todo]
                if ok.any():
                    take(live[todo[ok]], st3, np.flatnonzero(ok))
                    for t, t3 in zip(theta, self._stats(st3.R[ok], st3.cols)):
                        t[todo[ok]] = t3
                # A jump that lowered the ELBO is retried halfway back towards the plain path.
                todo = todo[~ok]
                length[todo] = (length[todo] + 1.0) / 2.0
                todo = todo[length[todo] > _SHORTEST_JUMP]
        return [self._finish(self._full(*resp[b]), int(n_iter[b]), bool(done[b]), *keep[b]) for b in range(B)]

    def _elbos(self, parts: tuple) -> np.ndarray:
        """Each restart's ELBO at the E-step of ``parts`` (as :meth:`_finish` computes it)."""
        mu, eta, nu, _W, _bias, log_norm = parts
        elbo = log_norm @ self.V.weight
        elbo -= _dirichlet_kl_each(mu, self.beta[None], axis=2) + _dirichlet_kl_each(eta, self.a_pi[None], axis=2)
        if self.prior is None:
            elbo -= _dirichlet_kl_each(nu, self.alpha[None], axis=1)
        return elbo

    def _full(self, Rc: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """One restart's responsibilities on every column, ruled-out columns at zero."""
        if cols.size == self.K * self.M:
            return Rc.copy()
        R = np.zeros((self.K * self.M, Rc.shape[1]))
        R[cols] = Rc
        return R

    def _finish(self, R, n_iter, converged, mu, eta, nu, W, bias, log_norm) -> _Run:
        # E_q[log p(votes, class, subtype | .)] + entropy of q, at the E-step optimum, minus the KL terms.
        elbo = float(self.V.weight @ log_norm)
        elbo -= _dirichlet_kl(mu, self.beta, axis=1) + _dirichlet_kl(eta, self.a_pi, axis=1)
        if self.prior is None:
            elbo -= _dirichlet_kl(nu, self.alpha, axis=0)
        class_balance = self.prior if self.prior is not None else nu / nu.sum()
        pi_mean = eta / eta.sum(axis=1, keepdims=True)
        v_mean = mu / mu.sum(axis=1, keepdims=True)
        # P(vote l | class k), subtypes marginalised; contiguous, so the einsum sums in one order whatever
        # layout the last M-step left mu in (pruned or not).
        confusion = np.einsum("km,jlkm->jkl", pi_mean, np.ascontiguousarray(v_mean))
        return _Run(R, n_iter, converged, elbo, W, bias, confusion, class_balance)


def _dirichlet_kl(post: np.ndarray, prior: np.ndarray, axis: int) -> float:
    """Summed KL(Dir(post) || Dir(prior)) over all Dirichlets whose components lie along ``axis``."""
    return float(_dirichlet_kl_each(post[None], prior[None], axis + 1)[0])


def _dirichlet_kl_each(post: np.ndarray, prior: np.ndarray, axis: int) -> np.ndarray:
    """:func:`_dirichlet_kl` per entry of the leading (restart) axis."""
    p0, q0 = post.sum(axis=axis), prior.sum(axis=axis)
    elog = digamma(post) - np.expand_dims(digamma(p0), axis)
    kl = gammaln(p0) - gammaln(q0) - (gammaln(post) - gammaln(prior)).sum(axis=axis)
    kl += ((post - prior) * elog).sum(axis=axis)
    return kl.reshape(kl.shape[0], -1).sum(axis=1)


__all__ = ["EBCC", "negligible_columns"]
