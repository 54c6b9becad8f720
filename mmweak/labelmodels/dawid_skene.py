"""Dawid–Skene: per-LF class-conditional confusion matrices fitted by expectation–maximisation."""

from __future__ import annotations

import numpy as np

from .base import NoVotePolicy, register
from .loglinear import MAX_FIT_ROWS, LogLinearModel


@register
class DawidSkene(LogLinearModel):
    """Dawid & Skene (1979): LF ``j`` has a confusion matrix ``P(vote_j = v | y = k)``, fitted by EM.

    ``abstain_as_outcome=True`` (the default) makes abstaining one of the outcomes: an LF that only ever
    votes "spam" then carries information when it stays silent, which keeps EM from collapsing onto one
    class when every LF is unipolar (typical of keyword/regex LFs). Set it to False for crowdsourcing-style
    data, where who answered says nothing about the answer: abstains are then ignored, as in the
    original model. EM starts from the majority-vote posterior (fixing the label permutation); gold dev
    rows, when given, are clamped to their labels; ``smoothing`` is an add-``s`` prior on every cell.

    >>> import mmweak
    >>> L = [[1, 1, -1], [0, 0, 0], [1, -1, 1], [0, 0, -1]]
    >>> m = mmweak.labelmodels.create("dawid_skene", cardinality=2).fit(L)
    >>> m.predict(L).tolist()
    [1, 0, 1, 0]
    """

    name = "dawid_skene"

    def __init__(
        self,
        cardinality: int = 2,
        *,
        abstain_as_outcome: bool = True,
        smoothing: float = 0.01,
        max_iter: int = 100,
        tol: float = 1e-6,
        dedupe_copies: bool = True,
        max_fit_rows: int | None = MAX_FIT_ROWS,
        no_vote: NoVotePolicy = "prior",
    ) -> None:
        super().__init__(cardinality, dedupe_copies=dedupe_copies, max_fit_rows=max_fit_rows, no_vote=no_vote)
        self.abstain_as_outcome = bool(abstain_as_outcome)
        self.smoothing = float(smoothing)
        self.max_iter = int(max_iter)
        self.tol = float(tol)

    def _fit(self, L, *, dev, prior, seed):
        V, w = self._prepare(L, seed)
        s = self.smoothing

        def m_step(C: np.ndarray, N: np.ndarray):
            pi = self._class_prior(N, prior)
            voted = C.sum(axis=1)  # (m, K): mass of class k where LF j voted
            if self.abstain_as_outcome:
                abstain = np.maximum(N[None, :] - voted, 0.0)
                denom = N[None, :] + s * (self.cardinality + 1)
                log_conf = np.log((C + s) / denom[:, None, :])  # (m, v, k)
                log_abs = np.log((abstain + s) / denom)  # (m, k)
                W = (log_conf - log_abs[:, None, :]) * w[:, None, None]
                bias = np.log(pi) + (log_abs * w[:, None]).sum(axis=0)
            else:
                W = np.log((C + s) / (voted + s * self.cardinality)[:, None, :]) * w[:, None, None]
                bias = np.log(pi)
            self.class_balance_ = pi
            return W, bias

        self.weights_, self.bias_ = self._em(V, m_step, dev=dev, max_iter=self.max_iter, tol=self.tol)

    def confusion(self) -> np.ndarray:
        """``(m, K, K)`` estimated ``P(vote = v | y = k, LF votes)`` indexed ``[lf, k, v]``."""
        self._check_fitted()
        W = np.asarray(self.weights_) / np.asarray(self.lf_weights_)[:, None, None]
        # W[j, v, k] = log P(v|k) - log P(abstain|k) (or log P(v|k, voted)); normalise over v per k.
        P = np.exp(W - W.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        return P.transpose(0, 2, 1)

    def lf_accuracies(self) -> np.ndarray:
        """P(vote = y | LF votes), averaged over the learned class balance."""
        conf = self.confusion()
        pi = np.asarray(self.class_balance_)
        return np.einsum("k,jkk->j", pi, conf)


__all__ = ["DawidSkene"]
