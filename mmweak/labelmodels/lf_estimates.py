"""Each LF's accuracy where it votes, as a fitted label model estimates it from the votes alone.

Models parametrise LFs differently (a one-coin accuracy, a confusion matrix per class, subtypes per class), and
the class-conditional parameters answer "how often is the LF right on a row of class k", not "how often is it
right when it votes": for an LF that only ever votes "spam", the class-averaged figure is the prior of spam,
however precise the LF is. What a user compares with an LF's accuracy on gold rows is the second, and every
model gives it the same way: the model's probability of the class the LF voted, averaged over the rows it
voted on.
"""

from __future__ import annotations

import numpy as np

from .base import LabelModel
from .votes import ABSTAIN


def estimated_lf_accuracies(model: LabelModel, L: np.ndarray) -> list[float | None]:
    """Per LF, the mean of ``model``'s probability of the LF's vote over the rows of ``L`` it votes on (``None``
    for an LF that votes on none of them). ``aggregate`` passes the rows the label models fit on (a seeded sample
    of the fit split past :data:`~mmweak.labelmodels.loglinear.MAX_FIT_ROWS`), the same rows on either engine.

    >>> from mmweak.labelmodels import create
    >>> L = np.array([[1, 1, -1], [0, 0, -1], [1, 1, 0], [0, 0, -1]])
    >>> m = create("majority", cardinality=2).fit(L)
    >>> [None if a is None else round(a, 2) for a in estimated_lf_accuracies(m, L)]
    [0.92, 0.92, 0.33]
    """
    L = np.asarray(L)
    if L.shape[0] == 0:
        return [None] * L.shape[1]
    P = model.predict_proba(L)
    voted = L != ABSTAIN
    hit = np.take_along_axis(P, np.where(voted, L, 0).astype(np.int64), axis=1)
    counts = voted.sum(axis=0)
    sums = np.where(voted, hit, 0.0).sum(axis=0)
    return [float(s / c) if c else None for s, c in zip(sums, counts)]


__all__ = ["estimated_lf_accuracies"]
