"""MeTaL-style moment matching (Ratner et al. 2019; Snorkel's ``LabelModel``): fit P(vote | class) to LF overlaps."""

from __future__ import annotations

import numpy as np

from .base import NoVotePolicy, register
from .loglinear import MAX_FIT_ROWS, LogLinearModel
from .validation import check_number
from .votes import log_prior

_MAX_FEATURES = 4000  # m*K; the overlap matrix is (m*K)^2 floats


@register
class MeTaL(LogLinearModel):
    """Matches the observed LF overlap matrix ``O = E[psi psi^T]`` (``psi`` = one-hot votes) to
    ``mu diag(pi) mu^T`` on the off-diagonal LF blocks, where ``mu[j*K + v, k] = P(vote_j = v | y = k)``.

    No EM and no pass over rows after ``O`` is formed: the fit is a small gradient descent on an
    ``(m*K) x K`` matrix. Overlaps alone do not pin ``mu`` down when LFs vote only one class (the
    usual case for keyword LFs), so, as in Snorkel, ``mu`` starts from "each vote is 70 % precise" at
    the LF's observed per-class vote rate and ``l2`` keeps it near that start. Predictions use
    ``P(abstain | y)`` too (``abstain_as_outcome=False`` ignores abstains, as Snorkel does). The class
    prior is the given one, else the gold dev rows' shares, else the vote-share estimate (Snorkel
    assumes uniform, which hurts on imbalanced data). Fitted on a matrix with no rows and gold dev rows,
    it reads the overlaps off the dev rows' votes (overlaps need no labels).

    >>> import mmweak
    >>> L = [[1, 1, -1], [0, 0, 0], [1, -1, 1], [0, 0, -1], [1, 1, 1]]
    >>> mmweak.labelmodels.create("metal", cardinality=2).fit(L).predict(L).tolist()
    [1, 0, 1, 0, 1]
    """

    name = "metal"
    _state_schema = {**LogLinearModel._state_schema, "mu_": ("m", "K", "K")}

    def __init__(
        self,
        cardinality: int = 2,
        *,
        n_steps: int = 500,
        lr: float = 0.01,
        l2: float = 0.001,
        init_precision: float = 0.7,
        abstain_as_outcome: bool = True,
        dedupe_copies: bool = True,
        max_fit_rows: int | None = MAX_FIT_ROWS,
        no_vote: NoVotePolicy = "prior",
        random_state: int = 0,
    ) -> None:
        super().__init__(cardinality, dedupe_copies=dedupe_copies, max_fit_rows=max_fit_rows, no_vote=no_vote,
                         random_state=random_state)
        self.n_steps = n_steps
        self.lr = lr
        self.l2 = l2
        self.init_precision = init_precision
        self.abstain_as_outcome = abstain_as_outcome

    def _check_params(self) -> None:
        super()._check_params()
        check_number("n_steps", self.n_steps, low=1, integer=True)
        check_number("lr", self.lr, low=0, low_open=True)
        check_number("l2", self.l2, low=0)
        check_number("init_precision", self.init_precision, low=0, high=1, low_open=True, high_open=True)
        if not isinstance(self.abstain_as_outcome, (bool, np.bool_)):
            raise ValueError(f"abstain_as_outcome must be True or False, got {self.abstain_as_outcome!r}")

    def _fit(self, L, *, dev, prior, seed):
        K = self.cardinality
        if L.shape[1] * K > _MAX_FEATURES:
            raise ValueError(
                f"metal needs an (m*K)^2 overlap matrix; m*K = {L.shape[1] * K} exceeds {_MAX_FEATURES}: "
                "use 'weighted_majority' or 'dawid_skene' for this many LFs/classes"
            )
        if L.shape[0] == 0 and dev is not None:
            # Overlaps need no labels, and the dev rows are the only votes there are: without them every LF's
            # vote rate is 0 and the fit would label every row uniformly.
            L = dev[0]
        V, gid, w = self._prepare_representatives(L, seed)
        m = V.n_lfs
        n = max(V.weight.sum(), 1.0)
        overlap = V.co_votes().reshape(m * K, m * K) / n
        block = np.kron(1 - np.eye(m), np.ones((K, K)))  # only overlaps between different LFs are modelled
        pi = self._prior_from_votes(V, prior if prior is not None else self._dev_prior(self._fair_dev, K))
        mu = self._initial_mu(V, n, pi).reshape(m * K, K)
        mu0 = mu.copy()
        # Adam on the masked squared error; fixed steps keep it deterministic.
        g2 = np.zeros_like(mu)
        g1 = np.zeros_like(mu)
        for t in range(1, int(self.n_steps) + 1):
            R = block * (mu @ (pi[:, None] * mu.T) - overlap)
            grad = 4 * R @ (mu * pi[None, :]) + 2 * self.l2 * (mu - mu0)
            g1 = 0.9 * g1 + 0.1 * grad
            g2 = 0.999 * g2 + 0.001 * grad * grad
            mu -= self.lr * (g1 / (1 - 0.9**t)) / (np.sqrt(g2 / (1 - 0.999**t)) + 1e-8)
            mu = np.clip(mu, 1e-6, 1.0)
            col = mu.reshape(m, K, K).sum(axis=1)  # P(LF votes | y) must stay below 1
            over = np.maximum(col / 0.999, 1.0)
            mu = (mu.reshape(m, K, K) / over[:, None, :]).reshape(m * K, K)
        self.n_iter_ = int(self.n_steps)
        mu3 = mu.reshape(m, K, K)[gid]  # (j, v, k): every copy gets its representative's parameters
        self.mu_ = mu3
        self.class_balance_ = pi
        self.weights_ = np.log(mu3) * w[:, None, None]
        self.bias_ = log_prior(pi)
        if self.abstain_as_outcome:
            abstain = np.log(np.clip(1.0 - mu3.sum(axis=1), 1e-6, 1.0))  # (j, k)
            self.weights_ -= abstain[:, None, :] * w[:, None, None]
            self.bias_ = self.bias_ + (abstain * w[:, None]).sum(axis=0)

    def _initial_mu(self, V, n: float, pi: np.ndarray) -> np.ndarray:
        """``(m, K, K)`` start: a share ``init_precision`` of each vote's rate on its own class, the rest
        spread over the other classes; votes an LF never casts start (and stay near) zero."""
        K = self.cardinality
        rate = V.votes_per_lf() / n  # P(vote_j = v)
        p = self.init_precision
        # P(vote v, y = k) = rate_v * p on the diagonal, rate_v * (1 - p) / (K - 1) elsewhere; / pi_k.
        joint = rate[:, :, None] * np.full((K, K), (1.0 - p) / max(K - 1, 1))[None]
        diag = np.arange(K)
        joint[:, diag, diag] = rate * p
        # A class the class balance rules out (pi 0) starts at the clip's top, as its division by 0 did, without NaN.
        mu = np.divide(joint, pi[None, None, :], out=np.ones_like(joint), where=pi[None, None, :] > 0)
        return np.clip(mu, 1e-6, 1.0)

    def lf_accuracies(self) -> np.ndarray:
        self._check_fitted()
        mu = np.asarray(self.mu_)
        pi = np.asarray(self.class_balance_)
        right = np.einsum("k,jkk->j", pi, mu)
        voted = np.einsum("k,jvk->j", pi, mu)
        return np.divide(right, voted, out=np.zeros_like(right), where=voted > 0)


__all__ = ["MeTaL"]
