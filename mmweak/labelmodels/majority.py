"""Majority vote: the baseline every weak-supervision paper reports, and often a hard one to beat."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .base import LabelModel, NoVotePolicy, register
from .copies import COPY_EXCESS, copy_weights
from .dense_votes import prediction_view
from .threads import for_each_block
from .votes import ABSTAIN, fit_sample, prepare_fit

_COPY_ROWS = 50_000  # rows the copy detection looks at
_PREDICT_ROWS = 1 << 16
_PRIOR_ROWS = 200_000  # rows the class prior is estimated from


@register
class MajorityVote(LabelModel):
    """Each row's probabilities are the share of non-abstaining LFs voting each class.

    Copies of an LF (:mod:`~mmweak.labelmodels.copies`) count once between them (``dedupe_copies``):
    an LF pasted twenty times would otherwise outvote every other LF. Ties keep equal probabilities, so
    :meth:`predict` resolves them by the ``tie_break`` policy rather than by array order. The class
    balance (for the ``"prior"`` tie-break and rows with no votes) is the one given to ``fit``, else
    the gold dev rows' shares, else the average vote share.

    Args:
        cardinality: number of classes.
        dedupe_copies: count each group of copied LFs as one LF.
        no_vote: probabilities of rows without votes (``"prior"`` or ``"uniform"``).
        random_state: seed of the row sample the copy detection reads.

    >>> import mmweak
    >>> m = mmweak.labelmodels.create("majority", cardinality=3).fit([[0, 0, 2], [1, -1, -1]])
    >>> m.predict_proba([[0, 0, 2]]).round(2).tolist()
    [[0.67, 0.0, 0.33]]
    """

    name = "majority"
    _state_schema: ClassVar[dict[str, Any]] = {"lf_weights_": ("m",)}

    def __init__(self, cardinality: int = 2, *, dedupe_copies: bool = True, no_vote: NoVotePolicy = "prior",
                 random_state: int = 0) -> None:
        super().__init__(cardinality, no_vote=no_vote, random_state=random_state)
        self.dedupe_copies = dedupe_copies

    def _check_params(self) -> None:
        if not isinstance(self.dedupe_copies, (bool, np.bool_)):
            raise ValueError(f"dedupe_copies must be True or False, got {self.dedupe_copies!r}")

    def _fit(self, L, *, dev, prior, seed):
        m = L.shape[1]
        self.lf_weights_ = np.ones(m)
        if self.dedupe_copies and m > 1 and L.shape[0]:
            self.lf_weights_ = copy_weights(prepare_fit(L, int(self.cardinality), _COPY_ROWS, seed), COPY_EXCESS, seed)
        if prior is None:
            prior = self._dev_prior(self._fair_dev, int(self.cardinality))
        if prior is None:  # the vote share of a seeded sample: 200k rows pin a prior to ~0.001
            S = fit_sample(L, _PRIOR_ROWS, seed)
            share = self._predict_proba(S)
            voted = (S != ABSTAIN).any(axis=1)
            if voted.any():
                prior = (share[voted].sum(axis=0) + 1.0) / (voted.sum() + int(self.cardinality))
        self.class_balance_ = prior

    def _predict_proba(self, L):
        K = int(self.cardinality)
        w = np.asarray(getattr(self, "lf_weights_", None) if getattr(self, "lf_weights_", None) is not None
                       else np.ones(L.shape[1]), dtype=np.float64)
        counts = np.zeros((L.shape[0], K))

        def one_block(start: int) -> None:  # blocks bound the scratch, and use every core
            block = L[start: start + _PREDICT_ROWS]
            counts[start: start + block.shape[0]] = prediction_view(block, K, K).weighted_class_counts(w)

        for_each_block(one_block, range(0, L.shape[0], _PREDICT_ROWS))
        total = counts.sum(axis=1, keepdims=True)
        return np.divide(counts, total, out=np.full_like(counts, 1.0 / K), where=total > 0)
