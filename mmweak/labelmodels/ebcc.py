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

from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.special import digamma, gammaln

from .base import NoVotePolicy, register
from .loglinear import MAX_FIT_ROWS, LogLinearModel
from .votes import SparseVotes, vote_share

_BLOCK_CELLS = 1 << 22

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
    across seeds. Abstains are ignored (crowdsourcing-style: who answered says nothing about the answer),
    so like ``one_coin`` it is meant for bipolar annotators, not unipolar keyword LFs. Gold dev rows keep
    their class fixed; their subtype stays latent. ``dedupe_copies`` is off by default: the subtypes are
    this model's own account of correlated workers.

    Cost per iteration is O(votes * K * M) time and O(rows * K * M) memory (rows capped at
    ``max_fit_rows``), times ``n_restarts``: for K near 100 lower ``n_restarts`` or ``n_subtypes``.

    >>> import mmweak
    >>> L = [[1, 1, -1], [0, 0, 0], [1, -1, 1], [0, 0, -1]]
    >>> m = mmweak.labelmodels.create("ebcc", cardinality=2).fit(L)
    >>> m.predict(L).tolist()
    [1, 0, 1, 0]
    """

    name = "ebcc"
    _state_keys: ClassVar[tuple[str, ...]] = LogLinearModel._state_keys + ("confusion_", "elbo_")

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
        max_iter: int = 500,
        tol: float = 1e-3,
        dedupe_copies: bool = False,
        max_fit_rows: int | None = MAX_FIT_ROWS,
        no_vote: NoVotePolicy = "prior",
    ) -> None:
        super().__init__(cardinality, dedupe_copies=dedupe_copies, max_fit_rows=max_fit_rows, no_vote=no_vote)
        if int(n_subtypes) < 1 or int(n_restarts) < 1:
            raise ValueError(f"n_subtypes and n_restarts must be >= 1, got {n_subtypes} and {n_restarts}")
        if min(subtype_prior, diag_prior, offdiag_prior) <= 0:
            raise ValueError("subtype_prior, diag_prior and offdiag_prior must be > 0")
        self.n_subtypes = int(n_subtypes)
        self.subtype_prior = float(subtype_prior)
        self.diag_prior = float(diag_prior)
        self.offdiag_prior = float(offdiag_prior)
        self.empirical_class_prior = bool(empirical_class_prior)
        self.n_restarts = int(n_restarts)
        self.max_iter = int(max_iter)
        self.tol = float(tol)

    # -- fitting ----------------------------------------------------------------------------------
    def _fit(self, L, *, dev, prior, seed):
        K, M = self.cardinality, self.n_subtypes
        V, w = self._prepare(L, seed)
        V = V.take(np.flatnonzero(V.voted))  # rows nobody voted on say nothing about the workers
        T0 = vote_share(V)
        clamp = None
        if dev is not None and dev[1].size:
            Vd = SparseVotes.from_dense(dev[0], K)
            V = SparseVotes(sp.vstack([V.X, Vd.X], format="csr"), V.n_lfs, K, np.r_[V.weight, Vd.weight])
            Y = np.eye(K)[dev[1]]
            T0 = np.vstack([T0, Y])
            # Additive log-mask: a dev row's (class, subtype) cells outside its gold class are impossible.
            clamp = np.zeros((V.n, K))
            clamp[V.n - Y.shape[0]:] = np.where(Y > 0, 0.0, -np.inf)
            clamp = np.repeat(clamp, M, axis=1)
        # Class prior of the authors' "empirical prior" (majority-vote class mass), one pseudo-count added
        # so a class nobody voted for keeps a finite expected log-weight.
        alpha = (T0.T @ V.weight if self.empirical_class_prior else np.zeros(K)) + 1.0
        rng = np.random.default_rng(seed)
        best = None
        for _ in range(self.n_restarts):
            R0 = rng.dirichlet(np.ones(M), size=(V.n, K)) * T0[:, :, None]
            elbo, stats, pi, n_iter = self._vb(V, w, R0.reshape(V.n, K * M), alpha, prior, clamp)
            if best is None or elbo > best[0]:
                best = (elbo, stats, pi, n_iter)
        assert best is not None
        self.elbo_, (self.weights_, self.bias_, self.confusion_), self.class_balance_, self.n_iter_ = best

    def _vb(
        self, V: SparseVotes, w: np.ndarray, R: np.ndarray, alpha: np.ndarray, prior: np.ndarray | None,
        clamp: np.ndarray | None,
    ) -> tuple[float, Stats, np.ndarray, int]:
        """Mean-field VB from responsibilities ``R`` (rows x K*M).

        Returns the ELBO, the prediction parameters, the class prior and the number of iterations.
        """
        K, M, m = self.cardinality, self.n_subtypes, V.n_lfs
        beta = np.full((K, K), self.offdiag_prior)
        np.fill_diagonal(beta, self.diag_prior)
        beta_lkm = np.broadcast_to(beta.T[None, :, :, None], (m, K, K, M))  # indexed [lf, vote, class, subtype]
        a_pi = np.full((K, M), self.subtype_prior / M)
        z = R.reshape(V.n, K, M).sum(axis=2)
        n_iter = 0
        for it in range(max(1, self.max_iter)):
            # Variational M-step: Dirichlet posteriors = prior + expected counts.
            mu = V.vote_class_counts(R).reshape(m, K, K, M) + beta_lkm
            eta = a_pi + (V.weight @ R).reshape(K, M)
            nu = alpha + eta.sum(axis=1) - a_pi.sum(axis=1)
            Elog_v = digamma(mu) - digamma(mu.sum(axis=1, keepdims=True))
            Elog_pi = digamma(eta) - digamma(eta.sum(axis=1, keepdims=True))
            Elog_tau = np.log(np.maximum(prior, 1e-300)) if prior is not None else digamma(nu) - digamma(nu.sum())
            W = Elog_v.reshape(m, K, K * M) * w[:, None, None]
            bias = (Elog_tau[:, None] + Elog_pi).ravel()
            # E-step: q(class, subtype) of every row.
            S = V.scores(W, bias)
            if clamp is not None:
                S += clamp
            log_norm = _logsumexp(S)
            R = np.exp(S - log_norm[:, None])
            z_new = R.reshape(V.n, K, M).sum(axis=2)
            n_iter = it + 1
            delta = float(np.abs(z_new - z).max()) if z.size else 0.0
            z = z_new
            if delta <= self.tol:
                break
        elbo = float(V.weight @ log_norm)  # E_q[log p(votes, class, subtype | .)] + entropy of q, at the E-step optimum
        elbo -= _dirichlet_kl(mu, beta_lkm, axis=1) + _dirichlet_kl(eta, a_pi, axis=1)
        if prior is None:
            elbo -= _dirichlet_kl(nu, alpha, axis=0)
        class_balance = prior if prior is not None else nu / nu.sum()
        pi_mean = eta / eta.sum(axis=1, keepdims=True)
        v_mean = mu / mu.sum(axis=1, keepdims=True)
        confusion = np.einsum("km,jlkm->jkl", pi_mean, v_mean)  # P(vote l | class k), subtypes marginalised
        return elbo, (W, bias, confusion), class_balance, n_iter

    # -- prediction -------------------------------------------------------------------------------
    def proba_from_votes(self, V: SparseVotes) -> np.ndarray:
        """Class posteriors: the joint (class, subtype) posterior summed over subtypes."""
        K = self.cardinality
        W = np.asarray(self.weights_, dtype=np.float64)
        bias = np.asarray(self.bias_, dtype=np.float64)
        out = np.empty((V.n, K))
        # The joint scores are K*M wide (1000 columns at K=100): bound them to ~32 MB per block.
        step = max(1, _BLOCK_CELLS // bias.size)
        for start in range(0, V.n, step):
            rows = np.arange(start, min(V.n, start + step))
            S = V.take(rows).scores(W, bias).reshape(rows.size, K, -1)
            p = np.exp(S - S.max(axis=(1, 2), keepdims=True)).sum(axis=2)
            out[rows] = p / p.sum(axis=1, keepdims=True)
        return out

    def confusion(self) -> np.ndarray:
        """``(m, K, K)`` expected ``P(vote = v | y = k, LF votes)`` indexed ``[lf, k, v]``, subtypes marginalised."""
        self._check_fitted()
        return np.asarray(self.confusion_, dtype=np.float64)

    def lf_accuracies(self) -> np.ndarray:
        """P(vote = y | LF votes), averaged over the learned class balance."""
        return np.einsum("k,jkk->j", np.asarray(self.class_balance_), self.confusion())


def _logsumexp(S: np.ndarray) -> np.ndarray:
    """Row-wise log-sum-exp that tolerates rows of -inf entries (then returns a finite very small number)."""
    top = S.max(axis=1) if S.shape[1] else np.zeros(S.shape[0])
    top = np.where(np.isfinite(top), top, -1e300)
    return top + np.log(np.exp(S - top[:, None]).sum(axis=1))


def _dirichlet_kl(post: np.ndarray, prior: np.ndarray, axis: int) -> float:
    """Summed KL(Dir(post) || Dir(prior)) over all Dirichlets whose components lie along ``axis``."""
    p0, q0 = post.sum(axis=axis), prior.sum(axis=axis)
    elog = digamma(post) - np.expand_dims(digamma(p0), axis)
    kl = gammaln(p0) - gammaln(q0) - (gammaln(post) - gammaln(prior)).sum(axis=axis)
    kl += ((post - prior) * elog).sum(axis=axis)
    return float(kl.sum())


__all__ = ["EBCC"]
