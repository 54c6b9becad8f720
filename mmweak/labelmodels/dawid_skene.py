"""Dawid–Skene: per-LF class-conditional confusion matrices fitted by expectation–maximisation."""

from __future__ import annotations

import numpy as np

from .base import ABSTAIN, LabelModel, NoVotePolicy, collapse_patterns, normalize_log, register, vote_counts


@register
class DawidSkene(LabelModel):
    """Dawid & Skene (1979) EM over distinct vote patterns.

    Each LF ``j`` has a confusion matrix ``P(vote_j = o | y = k)``. With ``abstain_as_outcome=True``
    (the default) abstaining is one of the outcomes ``o``: an LF that only ever votes "spam" then
    carries information when it stays silent, which is what keeps EM from collapsing onto one class
    on datasets whose LFs are all unipolar. EM starts from the majority-vote posterior (which fixes
    the label permutation), and gold dev rows, when given, are clamped to their labels.

    Work per iteration grows with the number of distinct vote patterns, not rows.

    >>> import mmweak
    >>> L = [[1, 1, -1], [0, 0, 0], [1, -1, 1], [0, 0, -1]]
    >>> m = mmweak.labelmodels.create("dawid_skene", cardinality=2).fit(L)
    >>> m.predict(L).tolist()
    [1, 0, 1, 0]
    """

    name = "dawid_skene"
    _state_keys = ("log_conf_", "n_iter_")

    def __init__(
        self,
        cardinality: int = 2,
        *,
        abstain_as_outcome: bool = True,
        max_iter: int = 200,
        tol: float = 1e-7,
        smoothing: float = 0.01,
        no_vote: NoVotePolicy = "prior",
    ) -> None:
        super().__init__(cardinality, no_vote=no_vote)
        self.abstain_as_outcome = bool(abstain_as_outcome)
        self.max_iter = int(max_iter)
        self.tol = float(tol)
        self.smoothing = float(smoothing)

    # Outcome index: 0 = abstain, 1..K = class k-1.
    def _fit(self, L, *, dev, prior, seed):
        K = self.cardinality
        m = L.shape[1]
        clamp_rows = 0
        if dev is not None:
            L = np.vstack([L, dev[0]])
            clamp_rows = dev[0].shape[0]
        P, inverse, counts = collapse_patterns(L)
        w = counts.astype(np.float64)
        clamp = None
        if clamp_rows:
            # Dev rows share patterns with train rows, so clamp them as separate weighted evidence.
            dev_idx = inverse[-clamp_rows:]
            np.subtract.at(w, dev_idx, 1.0)
            clamp = (dev_idx, dev[1])
        outcomes = P.astype(np.int64) + 1  # (u, m)

        # Clamped dev rows enter the class prior as fixed counts, once.
        gold_counts = np.bincount(clamp[1], minlength=K).astype(np.float64) if clamp is not None else 0.0
        T = vote_counts(P, K) + 1e-3
        T /= T.sum(axis=1, keepdims=True)
        fixed_prior = prior
        prev_ll = -np.inf
        self.n_iter_ = 0
        for it in range(self.max_iter):
            # M-step: class prior and confusion matrices from weighted posteriors.
            wT = T * w[:, None]
            if fixed_prior is None:
                pi = wT.sum(axis=0) + gold_counts + 1.0
                pi /= pi.sum()
            else:
                pi = fixed_prior
            conf = np.empty((m, K, K + 1))
            for j in range(m):
                for k in range(K):
                    conf[j, k] = np.bincount(outcomes[:, j], weights=wT[:, k], minlength=K + 1)
                if clamp is not None:
                    np.add.at(conf[j], (clamp[1], outcomes[clamp[0], j]), 1.0)
            conf += self.smoothing
            if not self.abstain_as_outcome:
                conf[:, :, 0] = 0.0
                conf /= conf[:, :, 1:].sum(axis=2, keepdims=True)
                conf[:, :, 0] = 1.0  # abstain then contributes log(1) = 0
            else:
                conf /= conf.sum(axis=2, keepdims=True)
            log_conf = np.log(conf)
            # E-step.
            logT = self._log_joint(outcomes, log_conf, np.log(pi))
            ll = float((w * _logsumexp(logT)).sum())
            T = normalize_log(logT)
            self.n_iter_ = it + 1
            if abs(ll - prev_ll) <= self.tol * max(1.0, abs(ll)):
                break
            prev_ll = ll
        self.log_conf_ = log_conf
        self.class_balance_ = np.asarray(pi, dtype=np.float64)

    @staticmethod
    def _log_joint(outcomes: np.ndarray, log_conf: np.ndarray, log_pi: np.ndarray) -> np.ndarray:
        logT = np.tile(log_pi, (outcomes.shape[0], 1))
        for j in range(outcomes.shape[1]):
            logT += log_conf[j][:, outcomes[:, j]].T
        return logT

    def _predict_proba(self, L):
        P, inverse, _ = collapse_patterns(L)
        outcomes = P.astype(np.int64) + 1
        log_conf = np.asarray(self.log_conf_, dtype=np.float64)
        logT = self._log_joint(outcomes, log_conf, np.log(np.maximum(self.class_balance_, 1e-300)))
        return normalize_log(logT)[inverse]

    def lf_accuracies(self) -> np.ndarray:
        """P(vote = y | LF votes), averaged over the learned class balance."""
        self._check_fitted()
        conf = np.exp(np.asarray(self.log_conf_, dtype=np.float64))
        pi = np.asarray(self.class_balance_)
        correct = np.einsum("k,jkk->j", pi, conf[:, :, 1:])
        voted = np.einsum("k,jk->j", pi, conf[:, :, 1:].sum(axis=2))
        return np.divide(correct, voted, out=np.zeros_like(correct), where=voted > 0)


def _logsumexp(a: np.ndarray) -> np.ndarray:
    mx = a.max(axis=1)
    return mx + np.log(np.exp(a - mx[:, None]).sum(axis=1))


__all__ = ["DawidSkene", "ABSTAIN"]
