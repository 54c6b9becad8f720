"""Label models behind one scikit-learn-style interface.

>>> from mmweak import labelmodels
>>> labelmodels.available()
['auto', 'dawid_skene', 'ebcc', 'majority', 'metal', 'one_coin', 'triplet', 'weighted_majority']
>>> model = labelmodels.create(cardinality=2)          # the recommended default
>>> model.fit([[1, -1, 1], [0, 0, -1], [1, 1, 1]]).predict([[1, 1, -1]]).tolist()
[1]
"""

from __future__ import annotations

from typing import Any

from .base import ABSTAIN, LabelModel, check_votes
from .auto import AutoLabelModel
from .dawid_skene import DawidSkene
from .ebcc import EBCC
from .majority import MajorityVote
from .metal import MeTaL
from .one_coin import OneCoinDawidSkene
from .triplet import Triplet
from .votes import collapse_rows as collapse_patterns
from .weighted_vote import WeightedMajorityVote
from .base import _REGISTRY

#: What ``create()`` builds when no name is given.
DEFAULT_MODEL = "auto"


def available() -> list[str]:
    """Names accepted by :func:`create`, sorted."""
    return sorted(_REGISTRY)


def create(name: str | None = None, cardinality: int = 2, **params: Any) -> LabelModel:
    """Build a label model by name (``None`` = the recommended default) with hyper-parameters.

    >>> create("majority", cardinality=3)
    MajorityVote(cardinality=3, no_vote='prior')
    """
    key = DEFAULT_MODEL if name is None else name
    if key not in _REGISTRY:
        raise ValueError(f"unknown label model {name!r}; available: {available()}")
    return _REGISTRY[key](cardinality=cardinality, **params)


def load(path: str) -> LabelModel:
    """Load any label model saved with ``model.save(path)``."""
    return LabelModel.load(path)


__all__ = [
    "ABSTAIN", "AutoLabelModel", "DEFAULT_MODEL", "DawidSkene", "EBCC", "MeTaL", "OneCoinDawidSkene", "Triplet", "WeightedMajorityVote", "LabelModel", "MajorityVote",
    "available", "check_votes", "collapse_patterns", "create", "load",
]
