"""One-coin Dawid–Skene: one accuracy per LF, errors spread evenly over the other classes."""

from __future__ import annotations

import numpy as np

from .base import NoVotePolicy, register
from .loglinear import MAX_FIT_ROWS, LogLinearModel
from .validation import check_number
from .votes import log_prior


@register
class OneCoinDawidSkene(LogLinearModel):
    """Each LF votes the true class with probability ``a_j`` and any other class with ``(1 - a_j)/(K - 1)``.

    The crowdsourcing classic (one parameter per worker); abstains are ignored. With unipolar LFs
    (each voting a single class) EM can explain every vote by the class prior and flip an LF's meaning —
    prefer ``weighted_majority`` or ``dawid_skene`` there; a fit that ends with every row in one class raises
    :class:`~mmweak.errors.OneClassLabelsWarning`. ``smoothing`` adds pseudo-votes at accuracy
    0.7 so rarely firing LFs stay moderate.

    >>> import mmweak
    >>> L = [[1, 1, 0], [0, 0, 0], [1, 1, 1], [0, 1, 0]]
    >>> mmweak.labelmodels.create("one_coin", cardinality=2).fit(L).predict(L).tolist()
    [1, 0, 1, 0]
    """

    name = "one_coin"
    _state_schema = {**LogLinearModel._state_schema, "accuracy_": ("m",)}

    def __init__(
        self,
        cardinality: int = 2,
        *,
        smoothing: float = 2.0,
        max_iter: int = 100,
        tol: float = 1e-6,
        dedupe_copies: bool = True,
        max_fit_rows: int | None = MAX_FIT_ROWS,
        no_vote: NoVotePolicy = "prior",
        random_state: int = 0,
    ) -> None:
        super().__init__(cardinality, dedupe_copies=dedupe_copies, max_fit_rows=max_fit_rows, no_vote=no_vote,
                         random_state=random_state)
        self.smoothing = smoothing
        self.max_iter = max_iter
        self.tol = tol

    def _check_params(self) -> None:
        super()._check_params()
        check_number("smoothing", self.smoothing, low=0)
        check_number("max_iter", self.max_iter, low=1, integer=True)
        check_number("tol", self.tol, low=0)

    def _fit(self, L, *, dev, prior, seed):
        V, w = self._prepare(L, seed)
        K, smoothing = int(self.cardinality), float(self.smoothing)

        def m_step(C: np.ndarray, N: np.ndarray):
            pi = self._class_prior(N, prior)
            right = np.einsum("jvv->j", C)
            total = C.sum(axis=(1, 2))
            a = np.clip((right + 0.7 * smoothing) / (total + smoothing), 1e-4, 1 - 1e-4)
            W = np.repeat(np.log((1 - a) / (K - 1))[:, None], K * K, axis=1).reshape(-1, K, K)
            idx = np.arange(K)
            W[:, idx, idx] = np.log(a)[:, None]
            return W * w[:, None, None], log_prior(pi), {"accuracy_": a, "class_balance_": pi}

        self.weights_, self.bias_, extras = self._em(
            V, m_step, dev=dev, prior=prior, max_iter=int(self.max_iter), tol=float(self.tol)
        )
        self.accuracy_, self.class_balance_ = extras["accuracy_"], extras["class_balance_"]

    def lf_accuracies(self) -> np.ndarray:
        self._check_fitted()
        return np.asarray(self.accuracy_, dtype=np.float64)


__all__ = ["OneCoinDawidSkene"]
