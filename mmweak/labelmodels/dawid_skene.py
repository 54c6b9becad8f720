"""Dawid–Skene: per-LF class-conditional confusion matrices fitted by expectation–maximisation."""

from __future__ import annotations

import numpy as np

from .base import NoVotePolicy, register
from .loglinear import MAX_FIT_ROWS, LogLinearModel
from .validation import check_number
from .votes import log_prior, normalize_log


@register
class DawidSkene(LogLinearModel):
    """Dawid & Skene (1979): LF ``j`` has a confusion matrix ``P(vote_j = v | y = k)``, fitted by EM.

    ``abstain_as_outcome=True`` (the default) makes abstaining one of the outcomes: an LF that only ever
    votes "spam" then carries information when it stays silent, which keeps EM from collapsing onto one
    class when every LF is unipolar (typical of keyword/regex LFs). Set it to False for crowdsourcing-style
    data, where who answered says nothing about the answer: abstains are then ignored, as in the
    original model. With abstains as outcomes, a row on which every LF abstained gets the model's
    posterior for that pattern (mostly the classes the LFs cover least), not the class balance. EM starts
    from the majority-vote posterior (fixing the label permutation); gold dev rows, when given, are
    clamped to their labels; ``smoothing`` is an add-``s`` prior on every cell.

    ``pooling`` adds that many pseudo-answers of the crowd's pooled confusion matrix (every LF's counts
    summed) to each LF's own: a hierarchical prior, the remedy for sparse crowds. A worker with a handful of
    answers is then read mostly as the crowd's typical worker and one with hundreds by its own answers, where
    plain Dawid–Skene fits a full confusion matrix to five answers and one-coin gives every worker a single
    accuracy. ``0`` (the default) is the original model.

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
        pooling: float = 0.0,
        max_iter: int = 100,
        tol: float = 1e-6,
        dedupe_copies: bool = True,
        max_fit_rows: int | None = MAX_FIT_ROWS,
        no_vote: NoVotePolicy = "prior",
        random_state: int = 0,
    ) -> None:
        super().__init__(cardinality, dedupe_copies=dedupe_copies, max_fit_rows=max_fit_rows, no_vote=no_vote,
                         random_state=random_state)
        self.abstain_as_outcome = abstain_as_outcome
        self.smoothing = smoothing
        self.pooling = pooling
        self.max_iter = max_iter
        self.tol = tol

    def _check_params(self) -> None:
        super()._check_params()
        if not isinstance(self.abstain_as_outcome, (bool, np.bool_)):
            raise ValueError(f"abstain_as_outcome must be True or False, got {self.abstain_as_outcome!r}")
        check_number("smoothing", self.smoothing, low=0, low_open=True)
        check_number("pooling", self.pooling, low=0)
        check_number("max_iter", self.max_iter, low=1, integer=True)
        check_number("tol", self.tol, low=0)

    def _fit(self, L, *, dev, prior, seed):
        V, w = self._prepare(L, seed)
        s, K, a = float(self.smoothing), int(self.cardinality), float(self.pooling)

        abstain_as_outcome = bool(self.abstain_as_outcome)

        def pooled(counts: np.ndarray) -> np.ndarray:
            # The crowd's confusion: every LF's counts summed (a copy group once), each class's column normalised.
            total = np.tensordot(w, counts, axes=1) + s
            return total / total.sum(axis=0, keepdims=True)

        def m_step(C: np.ndarray, N: np.ndarray):
            pi = self._class_prior(N, prior)
            voted = C.sum(axis=1)  # (m, K): mass of class k where LF j voted
            if abstain_as_outcome:
                abstain = np.maximum(N[None, :] - voted, 0.0)
                pool = pooled(np.concatenate([C, abstain[:, None, :]], axis=1)) if a else np.zeros((K + 1, K))
                denom = N[None, :] + s * (K + 1) + a
                log_conf = np.log((C + s + a * pool[None, :K]) / denom[:, None, :])  # (m, v, k)
                log_abs = np.log((abstain + s + a * pool[None, K]) / denom)  # (m, k)
                W = (log_conf - log_abs[:, None, :]) * w[:, None, None]
                bias = log_prior(pi) + (log_abs * w[:, None]).sum(axis=0)
            else:
                pool = pooled(C) if a else np.zeros((K, K))
                W = np.log((C + s + a * pool[None]) / (voted + s * K + a)[:, None, :]) * w[:, None, None]
                bias = log_prior(pi)
            return W, bias, {"class_balance_": pi}

        self.weights_, self.bias_, extras = self._em(
            V, m_step, dev=dev, prior=prior, max_iter=int(self.max_iter), tol=float(self.tol)
        )
        self.class_balance_ = extras["class_balance_"]

    def silence_loglik(self) -> np.ndarray | None:
        """``(K,)`` log-likelihood of a row on which every LF abstains, per class (None without abstain outcomes, or
        when the fit fell back to majority vote).

        >>> import mmweak
        >>> L = [[1, -1], [1, 1], [0, -1], [-1, -1]] * 10
        >>> m = mmweak.labelmodels.create("dawid_skene").fit(L)
        >>> bool(m.silence_loglik()[0] > m.silence_loglik()[1])  # the LFs fire more often on class 1
        True
        """
        self._check_fitted()
        if not self.abstain_as_outcome or str(getattr(self, "fallback_", "")):
            return None  # a fit replaced by majority vote has no model of abstains left
        # bias_ is log pi + sum_j w_j log P(abstain_j | k): the silent row's log joint.
        balance = np.maximum(np.asarray(self.class_balance_, dtype=np.float64), 1e-300)
        return np.asarray(self.bias_, dtype=np.float64) - np.log(balance)

    def silent_posterior(self, class_balance: np.ndarray | None = None) -> np.ndarray | None:
        """``(K,)`` class probabilities of a row on which every LF abstains (None without abstain outcomes).

        Bayes' rule with :meth:`silence_loglik` and ``class_balance`` (default: the model's own, which gives
        exactly the model's posterior of that row).

        >>> import mmweak
        >>> L = [[1, -1], [1, 1], [0, -1], [-1, -1]] * 10
        >>> m = mmweak.labelmodels.create("dawid_skene").fit(L)
        >>> m.silent_posterior().round(2).tolist()  # class 1 rows always get a vote here
        [1.0, 0.0]
        >>> m.silent_posterior([0.001, 0.999]).round(2).tolist()  # unless class 1 were 999 times as common
        [0.5, 0.5]
        """
        silence = self.silence_loglik()
        if silence is None:
            return None
        if class_balance is None:  # log pi + silence is bias_ itself: use it, not a rounded copy
            return normalize_log(np.asarray(self.bias_, dtype=np.float64)[None, :])[0]
        balance = np.maximum(np.asarray(class_balance, dtype=np.float64), 1e-300)
        return normalize_log((np.log(balance) + silence)[None, :])[0]

    def _silent_prior(self) -> np.ndarray:
        # With abstains as outcomes a row without votes is evidence too: each LF's abstain rate per class
        # (keyword LFs cover some classes more than others), so it gets the model's posterior of that pattern.
        posterior = self.silent_posterior()
        return super()._silent_prior() if posterior is None else posterior

    def confusion(self) -> np.ndarray:
        """``(m, K, K)`` estimated ``P(vote = v | y = k, LF votes)`` indexed ``[lf, k, v]``."""
        self._check_fitted()
        W = np.asarray(self.weights_) / np.asarray(self.lf_weights_)[:, None, None]
        # W[j, v, k] = log P(v|k) - log P(abstain|k) (or log P(v|k, voted)); normalise over v per k.
        P = np.exp(W - W.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        return P.transpose(0, 2, 1)

    def lf_accuracies(self) -> np.ndarray:
        """Each LF's class-conditional accuracy ``P(vote = k | y = k, LF votes)`` averaged over the learned class
        balance: how often it would be right if it voted on rows of every class. For an LF that votes one class
        only this is that class's prior, whatever its precision; its accuracy where it votes (what the card's
        "est. acc." shows) is :func:`~mmweak.labelmodels.lf_estimates.estimated_lf_accuracies`."""
        conf = self.confusion()
        pi = np.asarray(self.class_balance_)
        return np.einsum("k,jkk->j", pi, conf)


__all__ = ["DawidSkene"]
