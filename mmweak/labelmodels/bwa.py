"""Bayesian weighted average (BWA; Li, Rubinstein & Cohn, WWW 2019): a crowd model built for many sparse workers.

For each class ``k`` separately, a row's truth ``z_ik`` in ``[0, 1]`` is estimated as the average of
its answers' indicators ``[vote_ij = k]``, each weighted by its worker's precision ``v_jk``. A
worker's precision is the posterior mean of a Gamma prior updated by how far their indicators fall
from the current ``z``: ``v_jk = (a + N_j) / (b_k + sum_i (z_ik - [vote_ij = k])^2)`` over the rows
they answered, and ``z_ik = (lambda * mu_k + sum_j v_jk [vote_ij = k]) / (lambda + sum_j v_jk)``, with
``mu_k`` the mean of ``z_.k``. The prior (``a`` pseudo-answers at the spread of majority vote) keeps a
worker seen a handful of times near the crowd's average precision, which is what makes it robust
on highly redundant annotations (web: 82.25 % where EBCC has 76.86 %).

The updates are the authors' (each class iterated until no row moves by more than ``tol`` relative,
then frozen), so the published accuracies are reproduced on all six crowdsourcing sets in
``../shared/data``. The model is not a member of the default's family: added to it, the default's mean
margin over majority vote fell on the 66 real-based sets and one more of them fell below majority vote
(``benchmarks/stress.py --lodo --try-member bwa``; ``benchmarks/README.md``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from .base import LabelModel, NoVotePolicy, register
from .copies import COPY_EXCESS, copy_weights
from .threads import for_each_block
from .validation import MAX_PSEUDO_COUNT, check_number
from .votes import SparseVotes, prepare_fit

_PREDICT_ROWS = 1 << 16
#: Rows the fit reads at most (a seeded sample beyond): precisions are per worker, so more rows add little.
MAX_FIT_ROWS = 1_000_000


@register
class BayesianWeightedAverage(LabelModel):
    """Per-class precision-weighted average of the votes, worker precisions shrunk towards the crowd's.

    Args:
        cardinality: number of classes.
        precision_prior: ``a``, pseudo-answers of the Gamma prior on every worker's precision (the
            authors' 15).
        mean_prior: ``lambda``, weight of the class mean ``mu_k`` in every row's estimate (the authors' 1).
        prior_correction: scale the prior's spread by ``4 (1 - 1/K)`` as the authors do for ``K > 2``.
        max_iter: iterations per class at most.
        tol: relative change of every row's ``z`` below which a class is converged (numpy's ``allclose``).
        max_fit_rows: rows the fit reads at most (a seeded sample beyond); ``None`` reads every row.
        dedupe_copies: copies of an LF (:mod:`~mmweak.labelmodels.copies`) share one LF's weight in every
            row's average (the authors' BWA has none; their figures are reproduced either way).
        no_vote: probabilities of rows without votes (``"prior"`` or ``"uniform"``).
        random_state: seed of the row sample.

    Gold dev rows are clamped to their classes; ``class_balance`` fixes ``mu``.
    ``predict_proba`` normalises the per-class ``z`` of a row to sum to one.

    >>> import mmweak
    >>> L = [[0, 0, 1, -1], [1, 1, 1, 0], [0, -1, 0, 0], [1, 1, -1, 1], [0, 0, 0, 1]]
    >>> m = mmweak.labelmodels.create("bwa", cardinality=2).fit(L)
    >>> m.predict(L).tolist(), m.precision_.shape
    ([0, 1, 0, 1, 0], (4, 2))
    """

    name = "bwa"
    _state_schema: ClassVar[dict[str, Any]] = {
        "precision_": ("m", "K"),
        "class_mean_": ("K",),
        "lf_weights_": ("m",),
        "lf_accuracy_": ("m",),
    }

    def __init__(
        self,
        cardinality: int = 2,
        *,
        precision_prior: float = 15.0,
        mean_prior: float = 1.0,
        prior_correction: bool = True,
        max_iter: int = 500,
        tol: float = 1e-3,
        max_fit_rows: int | None = MAX_FIT_ROWS,
        dedupe_copies: bool = True,
        no_vote: NoVotePolicy = "prior",
        random_state: int = 0,
    ) -> None:
        super().__init__(cardinality, no_vote=no_vote, random_state=random_state)
        self.precision_prior = precision_prior
        self.mean_prior = mean_prior
        self.prior_correction = prior_correction
        self.max_iter = max_iter
        self.tol = tol
        self.max_fit_rows = max_fit_rows
        self.dedupe_copies = dedupe_copies

    def _check_params(self) -> None:
        check_number("precision_prior", self.precision_prior, low=0, low_open=True, high=MAX_PSEUDO_COUNT)
        check_number("mean_prior", self.mean_prior, low=0, low_open=True, high=MAX_PSEUDO_COUNT)
        if not isinstance(self.prior_correction, (bool, np.bool_)):
            raise ValueError(f"prior_correction must be True or False, got {self.prior_correction!r}")
        check_number("max_iter", self.max_iter, low=1, integer=True)
        check_number("tol", self.tol, low=0)
        if not isinstance(self.dedupe_copies, (bool, np.bool_)):
            raise ValueError(f"dedupe_copies must be True or False, got {self.dedupe_copies!r}")
        if self.max_fit_rows is not None:
            check_number("max_fit_rows", self.max_fit_rows, low=1, integer=True)

    # -- fitting ----------------------------------------------------------------------------------
    def _fit(self, L, *, dev, prior, seed):
        K = int(self.cardinality)
        V = prepare_fit(L, K, None if self.max_fit_rows is None else int(self.max_fit_rows), seed)
        V = V.take(np.flatnonzero(V.voted))  # a row nobody answered says nothing about the workers
        copies = np.ones(V.n_lfs)
        if self.dedupe_copies and V.n_lfs > 1 and V.n:
            copies = copy_weights(V, COPY_EXCESS, seed)
        self.lf_weights_ = copies
        n_train = V.n
        gold = None
        if dev is not None and dev[1].size:
            Vd = SparseVotes.from_dense(dev[0], K)
            V = V.stacked(Vd)
            gold = np.eye(K)[dev[1]]
        m, w = V.n_lfs, V.weight
        fixed_mu = None if prior is None else np.asarray(prior, dtype=np.float64)
        if V.n == 0:  # no row to learn from: every worker at the same precision, classes even (or as given)
            self.precision_ = np.ones((m, K))
            self.class_mean_ = fixed_mu if fixed_mu is not None else np.full(K, 1.0 / K)
            self.class_balance_ = self.class_mean_
            self.lf_accuracy_ = np.full(m, 1.0 / K)
            return
        answered = _answered(V.X, m, K)  # (n, m) 0/1: who answered each row
        per_row = answered @ copies  # answers per row, a group of copies counted once
        per_worker = answered.T @ w  # N_j
        XT = V.X.T.tocsr()
        hits = V.votes_per_lf()  # N_jk: answers of class k (weighted by repeated rows)
        counts = V.weighted_class_counts(copies)
        # Majority vote's shares start every class, unsmoothed as in the authors' code (copies counted once).
        z = np.divide(counts, counts.sum(axis=1, keepdims=True), out=np.full_like(counts, 1.0 / K),
                      where=counts.sum(axis=1, keepdims=True) > 0)
        if gold is not None:
            z[n_train:] = gold
        a, lam = float(self.precision_prior), float(self.mean_prior)
        # The prior's spread: majority vote's per-answer variance, scaled for K > 2 by the authors' correction.
        spread = (w * per_row) @ (z * (1.0 - z)) / max(float(w @ per_row), 1e-300)
        b = a * spread * (4.0 * (1.0 - 1.0 / K) if self.prior_correction else 1.0)
        b = np.maximum(b, 1e-12)  # a class every answer agrees on has no spread: keep the precision finite
        precision = np.ones((m, K))
        mu = np.zeros(K)
        active = np.ones(K, dtype=bool)
        for _ in range(int(self.max_iter)):
            mu_now = (w @ z) / w.sum() if fixed_mu is None else fixed_mu
            mu = np.where(active, mu_now, mu)
            # sum_i (z_ik - y_ijk)^2 over the rows j answered, expanded so each term is one sparse product.
            squares = answered.T @ (w[:, None] * z * z) - 2.0 * _own_class(XT @ (w[:, None] * z), m, K) + hits
            v = (a + per_worker[:, None]) / (b[None, :] + np.maximum(squares, 0.0))
            precision[:, active] = v[:, active]
            counted = precision * copies[:, None]
            z_new = (lam * mu[None, :] + V.X @ _by_vote(counted, K)) / (lam + answered @ counted)
            if gold is not None:
                z_new[n_train:] = gold
            still = ~np.all(np.abs(z_new - z) <= 1e-8 + float(self.tol) * np.abs(z_new), axis=0)
            z[:, active] = z_new[:, active]
            active &= still
            if not active.any():
                break
        self.precision_, self.class_mean_ = precision, mu
        # How often each LF's vote is the class the fit labels the row with (ties split): BWA itself learns
        # precisions of indicators, which are not probabilities of being right, and its normalised z are
        # shrunk towards the class mean, so they would understate the spread of the LFs' accuracies.
        top = (z >= z.max(axis=1, keepdims=True)).astype(np.float64)
        agree = _own_class(XT @ (w[:, None] * top / top.sum(axis=1, keepdims=True)), m, K).sum(axis=1)
        self.lf_accuracy_ = np.divide(agree, per_worker, out=np.full(m, 1.0 / K), where=per_worker > 0)
        self.class_balance_ = fixed_mu if fixed_mu is not None else mu / max(float(mu.sum()), 1e-300)

    # -- prediction -------------------------------------------------------------------------------
    def _predict_proba(self, L):
        return self._predict_proba_voted(L)[0]

    def _predict_proba_voted(self, L):
        K, m = int(self.cardinality), L.shape[1]
        precision = np.asarray(self.precision_, dtype=np.float64) * np.asarray(self.lf_weights_)[:, None]
        mu = np.asarray(self.class_mean_, dtype=np.float64)
        lam = float(self.mean_prior)
        by_vote = _by_vote(precision, K)
        out = np.empty((L.shape[0], K))
        voted = np.empty(L.shape[0], dtype=bool)

        def block(start: int) -> None:
            V = SparseVotes.from_dense(L[start : start + _PREDICT_ROWS], K)
            num = lam * mu[None, :] + V.X @ by_vote
            den = lam + _answered(V.X, m, K) @ precision
            z = np.maximum(num / den, 1e-300)  # every class keeps some mass: rows always normalise
            out[start : start + V.n] = z / z.sum(axis=1, keepdims=True)
            voted[start : start + V.n] = V.voted

        for_each_block(block, range(0, L.shape[0], _PREDICT_ROWS))
        return out, voted

    def lf_accuracies(self) -> np.ndarray:
        """How often each LF's vote matched the fitted labels on the fit rows (``1/K`` for an LF that never voted)."""
        self._check_fitted()
        return np.asarray(self.lf_accuracy_, dtype=np.float64)


def _answered(X: sp.csr_matrix, m: int, K: int) -> sp.csr_matrix:
    """``(n, m)`` indicator of the LFs that voted on each row, from the ``(n, m*K)`` one-hot votes."""
    return sp.csr_matrix((np.ones(X.nnz), X.indices // K, X.indptr), shape=(X.shape[0], m))


def _by_vote(precision: np.ndarray, K: int) -> np.ndarray:
    """``(m*K, K)``: row ``(j, v)`` carries ``precision[j, v]`` in column ``v`` (a vote counts for its own class)."""
    m = precision.shape[0]
    out = np.zeros((m, K, K))
    idx = np.arange(K)
    out[:, idx, idx] = precision
    return out.reshape(m * K, K)


def _own_class(per_vote: np.ndarray, m: int, K: int) -> np.ndarray:
    """From ``(m*K, K)`` sums indexed ``[(j, v), k]``, the ``(m, K)`` entries where ``v == k``."""
    return np.einsum("jkk->jk", per_vote.reshape(m, K, K))


__all__ = ["BayesianWeightedAverage", "MAX_FIT_ROWS"]
