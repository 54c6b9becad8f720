"""Label models behind one scikit-learn-style interface.

>>> from mmweak import labelmodels
>>> labelmodels.available()
['auto', 'bwa', 'dawid_skene', 'ebcc', 'majority', 'metal', 'one_coin', 'triplet', 'weighted_majority']
>>> model = labelmodels.create(cardinality=2)          # the recommended default
>>> model.fit([[1, -1, 1], [0, 0, -1], [1, 1, 1]]).predict([[1, 1, -1]]).tolist()
[1]
"""

from __future__ import annotations

from typing import Any

from .auto import CANDIDATES as FAMILY
from .auto import AutoLabelModel
from .base import _REGISTRY, LabelModel, NotFittedError, register
from .bwa import BayesianWeightedAverage
from .dawid_skene import DawidSkene
from .ebcc import EBCC
from .majority import MajorityVote
from .metal import MeTaL
from .one_coin import OneCoinDawidSkene
from .schema import ModelFileError
from .triplet import Triplet
from .validation import check_cardinality, check_votes
from .votes import ABSTAIN
from .votes import collapse_rows as collapse_patterns
from .weighted_vote import WeightedMajorityVote

#: What ``create()`` builds when no name is given.
DEFAULT_MODEL = "auto"


def available() -> list[str]:
    """Names accepted by :func:`create`, sorted.

    >>> "majority" in available()
    True
    """
    return sorted(_REGISTRY)


def create(name: str | None = None, cardinality: int = 2, **params: Any) -> LabelModel:
    """Build a label model by name (``None`` = the recommended default) with hyper-parameters.

    Args:
        name: one of :func:`available`, or ``None`` for :data:`DEFAULT_MODEL`.
        cardinality: number of classes (an int >= 2).
        **params: the model's hyper-parameters (see its class).

    Returns:
        An unfitted model.

    Raises:
        ValueError: unknown name, invalid cardinality, or a hyper-parameter the model does not have or
            refuses (named).

    >>> create("majority", cardinality=3)
    MajorityVote(cardinality=3)
    >>> create("majority", cardinality="3")
    Traceback (most recent call last):
    ValueError: cardinality must be a whole number of classes (an int >= 2), got '3' (str)
    >>> create("dawid_skene_no_abstain")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: 'dawid_skene_no_abstain' is the default's name for ...: create('dawid_skene', abstain_as_outcome=False)
    """
    key = DEFAULT_MODEL if name is None else name
    if isinstance(key, str) and key not in _REGISTRY and key in FAMILY:
        cls, family_params = FAMILY[key]
        args = "".join(f", {k}={v!r}" for k, v in family_params.items())
        raise ValueError(f"{key!r} is the default's name for one of its members: create({cls.name!r}{args})")
    if not isinstance(key, str) or key not in _REGISTRY:
        raise ValueError(f"unknown label model {name!r}; available: {available()}")
    check_cardinality(cardinality)
    cls = _REGISTRY[key]
    known = set(cls().get_params(deep=False))
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(
            f"{key} has no hyper-parameter {unknown[0]!r}; it takes {', '.join(sorted(known - {'cardinality'}))}"
        )
    model = cls(cardinality=cardinality, **params)
    model._validate_params()  # fail at the call that set a bad value, not later in fit
    return model


def load(path: str) -> LabelModel:
    """Load any label model saved with ``model.save(path)``; the file is validated first.

    Raises:
        ModelFileError: the file is not a well-formed label model (unknown keys, wrong shapes, ...).

    >>> import numpy as np, os, tempfile
    >>> L = np.array([[0, 0, -1], [1, 1, 0], [1, -1, 1], [0, 1, 0]])
    >>> model = create("dawid_skene", cardinality=2).fit(L)
    >>> path = os.path.join(tempfile.mkdtemp(), "spam.json")
    >>> model.save(path)
    >>> back = load(path)
    >>> type(back).__name__, bool(np.array_equal(back.predict_proba(L), model.predict_proba(L)))
    ('DawidSkene', True)
    """
    return LabelModel.load(path)


__all__ = [
    "ABSTAIN",
    "AutoLabelModel",
    "BayesianWeightedAverage",
    "DEFAULT_MODEL",
    "DawidSkene",
    "EBCC",
    "LabelModel",
    "MajorityVote",
    "MeTaL",
    "ModelFileError",
    "NotFittedError",
    "OneCoinDawidSkene",
    "Triplet",
    "WeightedMajorityVote",
    "available",
    "check_votes",
    "collapse_patterns",
    "create",
    "load",
    "register",
]
