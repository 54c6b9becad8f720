"""Majority vote: the baseline every weak-supervision paper reports, and often a hard one to beat."""

from __future__ import annotations

import numpy as np

from .base import LabelModel, NoVotePolicy, register, vote_counts
from .votes import ABSTAIN


@register
class MajorityVote(LabelModel):
    """Each row's probabilities are the share of non-abstaining LFs voting each class.

    Ties keep equal probabilities, so :meth:`predict` resolves them by the ``tie_break`` policy rather
    than by array order. The class balance (for the ``"prior"`` tie-break and rows with no votes) is
    the one given to ``fit``, else the average vote share.

    >>> import mmweak
    >>> m = mmweak.labelmodels.create("majority", cardinality=3).fit([[0, 0, 2], [1, -1, -1]])
    >>> m.predict_proba([[0, 0, 2]]).round(2).tolist()
    [[0.67, 0.0, 0.33]]
    """

    name = "majority"

    def __init__(self, cardinality: int = 2, *, no_vote: NoVotePolicy = "prior", random_state: int = 0) -> None:
        super().__init__(cardinality, no_vote=no_vote, random_state=random_state)

    def _fit(self, L, *, dev, prior, seed):
        if prior is None:
            prior = self._dev_prior(dev, self.cardinality)
        if prior is None:
            share = self._predict_proba(L)
            voted = (L != ABSTAIN).any(axis=1)
            if voted.any():
                prior = (share[voted].sum(axis=0) + 1.0) / (voted.sum() + self.cardinality)
        self.class_balance_ = prior

    def _predict_proba(self, L):
        counts = vote_counts(L, self.cardinality)
        total = counts.sum(axis=1, keepdims=True)
        return np.divide(counts, total, out=np.full_like(counts, 1.0 / self.cardinality), where=total > 0)
