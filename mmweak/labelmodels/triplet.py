"""FlyingSquid-style closed-form triplet method (Fu et al. 2020): LF accuracies from pairwise agreement."""

from __future__ import annotations

import numpy as np

from .base import register
from .loglinear import LogLinearModel
from .votes import log_prior

_MAX_TRIPLETS_PER_LF = 64


@register
class Triplet(LogLinearModel):
    """With votes as ``s = +1`` (the class) / ``-1`` (another class) / ``0`` (abstain) and LFs independent
    given the label, ``E[s_i s_j | both vote] = a_i a_j`` where ``a_i = 2 acc_i - 1``. Any three LFs
    then give ``|a_i| = sqrt(|M_ij M_ik / M_jk|)`` in closed form — no iterations. Binary tasks use it
    directly; ``K > 2`` runs one-vs-rest per class. Accuracies are assumed better than chance (the sign
    of ``a``), and LFs that never co-vote with two others fall back to 0.7.

    Like FlyingSquid it needs LFs that vote both ways: on unipolar LF sets (every LF votes one class)
    the moments are degenerate, so prefer ``weighted_majority`` there.

    >>> import mmweak
    >>> L = [[1, 1, 0], [0, 0, 0], [1, 1, 1], [0, 1, 0], [1, 0, 1], [0, 0, 1]]
    >>> mmweak.labelmodels.create("triplet", cardinality=2).fit(L).predict(L).tolist()
    [1, 0, 1, 0, 1, 0]
    """

    name = "triplet"
    _state_schema = {**LogLinearModel._state_schema, "accuracy_": ("m",)}

    def _fit(self, L, *, dev, prior, seed):
        V, gid, w = self._prepare_representatives(L, seed)
        m, K = V.n_lfs, V.cardinality
        co = V.co_votes()
        both = co.sum(axis=(1, 3))
        rng = np.random.default_rng(seed)
        classes = [1] if K == 2 else list(range(K))
        acc = np.full((m, K), 0.7)
        for k in classes:
            agree = co[:, k, :, k] + (
                co.sum(axis=(1, 3)) - co[:, k, :, :].sum(axis=2) - co[:, :, :, k].sum(axis=1) + co[:, k, :, k]
            )
            M = np.divide(2 * agree - both, both, out=np.zeros_like(both), where=both > 0)  # E[s_i s_j | both vote]
            a = self._triplet_accuracies(M, both > 0, rng)
            acc[:, k] = np.clip((1 + a) / 2, 0.5 + 1e-3, 1 - 1e-3)
        if K == 2:
            acc[:, 0] = acc[:, 1]
        pi = self._prior_from_votes(V, prior)
        acc = acc[gid]  # every copy gets its representative's accuracy
        m = gid.size
        logit = np.log(acc / (1 - acc))  # (m, k)
        # One-vs-rest log-odds: a vote for v adds logit to class v and subtracts it from the others.
        W = -np.repeat(logit[:, None, :], K, axis=1)
        idx = np.arange(K)
        W[:, idx, idx] = logit
        if K == 2:
            W = W / 2  # both one-vs-rest problems are the same binary problem: count it once
        self.accuracy_ = acc.mean(axis=1) if K > 2 else acc[:, 1]
        self.class_balance_ = pi
        self.weights_ = W * w[:, None, None]
        self.bias_ = log_prior(pi)
        self.n_iter_ = 0

    @staticmethod
    def _triplet_accuracies(M: np.ndarray, ok: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        m = M.shape[0]
        a = np.full(m, 0.4)
        usable = ok & (np.abs(M) > 1e-6)
        for i in range(m):
            others = np.flatnonzero(usable[i])
            others = others[others != i]
            # Pairs (j, k), j < k, of LFs that both co-vote with i and with each other, in lexicographic order;
            # built as a mask, not a Python list, since 300 LFs make 45,000 pairs per LF.
            j, k = np.nonzero(np.triu(usable[np.ix_(others, others)], 1))
            if not j.size:
                continue
            if j.size > _MAX_TRIPLETS_PER_LF:
                pick = rng.choice(j.size, _MAX_TRIPLETS_PER_LF, replace=False)
                j, k = j[pick], k[pick]
            j, k = others[j], others[k]
            a[i] = float(np.median(np.sqrt(np.minimum(np.abs(M[i, j] * M[i, k] / M[j, k]), 1.0))))
        return a

    def lf_accuracies(self) -> np.ndarray:
        self._check_fitted()
        return np.asarray(self.accuracy_, dtype=np.float64)


__all__ = ["Triplet"]
