"""Weighted majority vote: each LF's vote counts by how often it is right when it votes, learned by EM."""

from __future__ import annotations

import numpy as np

from .base import NoVotePolicy, register
from .loglinear import MAX_FIT_ROWS, LogLinearModel
from .validation import check_number
from .votes import log_prior


@register
class WeightedMajorityVote(LogLinearModel):
    """Votes weighted by each LF's learned precision ``a_jv = P(y = v | LF j votes v)``; abstains say nothing.

    A vote for ``v`` multiplies the odds of ``v`` by ``a_jv / pi_v`` and of every other class ``k`` by
    ``(1 - a_jv) / (1 - pi_v)`` (the LF's errors fall on the other classes in proportion to their prior).
    This is the model behind a weighted majority vote, made prior-aware: an LF that fires on 60 % of
    rows and is right 23 % of the time on a 21 % class counts for almost nothing, where plain majority
    vote would let it decide every tie.

    Abstains say nothing here, so an LF's precision is learned only from the rows where it votes together with
    other LFs. An LF that never shares a row with an LF of its own class (one keyword for a rare class among
    several for the other) is judged by its conflicts alone, and EM can drive its precision (and its class's
    share with it) down until its vote alone no longer carries its class: one positive keyword among two negative
    ones, precision 0.17, every row labelled negative, accuracy 0.78 on the voted rows against majority vote's
    0.96 (``tests/labelmodels/test_labelmodels_hostile.py``).
    The default (``auto``) takes it only where gold dev rows show it beating majority vote; for keyword LFs without
    gold, ``dawid_skene`` (abstains as outcomes) reads the silence that identifies them.

    Precisions get a Beta prior (``prior_precision``, ``prior_strength`` pseudo-votes): an LF seen voting
    five times is not trusted like one seen five thousand times. EM starts from the majority vote;
    gold dev rows are clamped.

    >>> import mmweak
    >>> L = [[1, 1, 0], [1, 1, -1], [-1, 0, 0], [1, -1, -1], [0, 0, 0]]
    >>> m = mmweak.labelmodels.create("weighted_majority", cardinality=2).fit(L)
    >>> m.predict(L).tolist()
    [1, 1, 0, 1, 0]
    """

    name = "weighted_majority"
    _state_schema = {**LogLinearModel._state_schema, "precision_": ("m", "K"), "lf_vote_share_": ("m", "K")}

    def __init__(
        self,
        cardinality: int = 2,
        *,
        prior_precision: float = 0.6,
        prior_strength: float = 10.0,
        max_iter: int = 100,
        tol: float = 1e-6,
        dedupe_copies: bool = True,
        max_fit_rows: int | None = MAX_FIT_ROWS,
        no_vote: NoVotePolicy = "prior",
        random_state: int = 0,
    ) -> None:
        super().__init__(cardinality, dedupe_copies=dedupe_copies, max_fit_rows=max_fit_rows, no_vote=no_vote,
                         random_state=random_state)
        self.prior_precision = prior_precision
        self.prior_strength = prior_strength
        self.max_iter = max_iter
        self.tol = tol

    def _check_params(self) -> None:
        super()._check_params()
        check_number("prior_precision", self.prior_precision, low=0, high=1, low_open=True, high_open=True)
        check_number("prior_strength", self.prior_strength, low=0)
        check_number("max_iter", self.max_iter, low=1, integer=True)
        check_number("tol", self.tol, low=0)

    def _fit(self, L, *, dev, prior, seed):
        V, w = self._prepare(L, seed)
        self.lf_vote_share_ = V.votes_per_lf()
        strength, p0 = float(self.prior_strength), float(self.prior_precision)

        def m_step(C: np.ndarray, N: np.ndarray):
            pi = self._class_prior(N, prior)
            right = np.einsum("jvv->jv", C)  # (m, v): mass where LF j voted v and the class is v
            total = C.sum(axis=2)  # (m, v): mass where LF j voted v
            a = (right + strength * p0) / (total + strength)
            a = np.clip(a, 1e-4, 1 - 1e-4)
            # A precision is P(y = v | vote v) among the fit rows, so its evidence is read against their own class
            # mass; a given class_balance enters only as the prior of the rows (a prior shift). Read against the
            # given balance instead, the two disagree wherever the posterior's mass differs from it, and EM drifted
            # to the label-swapped fit from any start, the true balance included (20 of 20 generated sets).
            mass = self._class_prior(N, None)
            if prior is not None:
                mass = np.where(prior > 0, mass, 0.0)
                mass = mass / mass.sum()
            return self._weights(a, mass, w), log_prior(pi), {"precision_": a, "class_balance_": pi}

        self.weights_, self.bias_, extras = self._em(
            V, m_step, dev=dev, prior=prior, max_iter=int(self.max_iter), tol=float(self.tol)
        )
        self.precision_, self.class_balance_ = extras["precision_"], extras["class_balance_"]

    @staticmethod
    def _weights(a: np.ndarray, pi: np.ndarray, w: np.ndarray) -> np.ndarray:
        """``W[j, v, k]``: log-evidence a vote ``v`` of LF ``j`` gives class ``k`` (``a`` is ``(m, v)``)."""
        rest = np.clip(1.0 - pi, 1e-12, None)
        off = np.log((1.0 - a) / rest[None, :])  # evidence for every k != v
        # evidence for k == v; a class of prior 0 is ruled out by its bias (LOG_ZERO), whatever its votes say
        on = np.log(a / np.where(pi > 0, pi, 1.0)[None, :])
        K = pi.size
        W = np.repeat(off[:, :, None], K, axis=2)
        idx = np.arange(K)
        W[:, idx, idx] = on
        return W * w[:, None, None]

    def lf_accuracies(self) -> np.ndarray:
        """Each LF's learned precision, averaged over the classes it votes (weighted by how often)."""
        self._check_fitted()
        a = np.asarray(self.precision_, dtype=np.float64)
        used = np.asarray(self.lf_vote_share_, dtype=np.float64)
        return np.where(used.sum(1) > 0, (a * used).sum(1) / np.maximum(used.sum(1), 1e-12), a.mean(1))


__all__ = ["WeightedMajorityVote"]
