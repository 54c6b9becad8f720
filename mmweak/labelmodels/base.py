"""The one interface every label model implements.

A label model turns an ``(n, m)`` vote matrix ``L`` (``-1`` = abstain, classes ``0..K-1``) into an
``(n, K)`` matrix of class probabilities. The API follows scikit-learn estimators: hyper-parameters go
to ``__init__``, learned state ends in an underscore, ``fit`` returns ``self``.

Models persist as JSON (parameters + learned arrays), never pickle, so a saved model is safe to load
from an untrusted dataset repo and reproduces predictions bit for bit.
"""

from __future__ import annotations

import json
import os
from typing import Any, ClassVar, Literal

import numpy as np

from ..errors import VoteMatrixError
from .decision import ABSTAIN, THRESHOLD_ROWS, Objective, TieBreak, expected_f1_thresholds, hard_labels
from .votes import fit_sample

NoVotePolicy = Literal["uniform", "prior"]

_REGISTRY: dict[str, type["LabelModel"]] = {}


def register(cls: type["LabelModel"]) -> type["LabelModel"]:
    """Class decorator that makes a model reachable through :func:`mmweak.labelmodels.create`."""
    _REGISTRY[cls.name] = cls
    return cls


def check_votes(L: Any, cardinality: int, *, what: str = "L") -> np.ndarray:
    """Validate a vote matrix and return it as a C-contiguous int8/int16 array.

    Raises :class:`~mmweak.errors.VoteMatrixError` naming the first offending row and LF column.

    >>> check_votes([[0, -1], [1, 1]], 2).shape
    (2, 2)
    """
    arr = np.asarray(L)
    if arr.ndim != 2:
        raise VoteMatrixError(f"{what} must be a 2-D (rows x LFs) vote matrix, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            bad = np.argwhere(~np.isfinite(arr) | (arr != np.round(arr)))[0]
            raise VoteMatrixError(
                f"{what}[{bad[0]}, {bad[1]}] = {arr[bad[0], bad[1]]!r} is not an integer vote "
                f"(row {bad[0]}, LF column {bad[1]})"
            )
    if arr.size:
        lo, hi = arr.min(), arr.max()
        if lo < ABSTAIN or hi >= cardinality:
            bad = np.argwhere((arr < ABSTAIN) | (arr >= cardinality))[0]
            raise VoteMatrixError(
                f"{what}[{bad[0]}, {bad[1]}] = {int(arr[bad[0], bad[1]])} is outside -1..{cardinality - 1} "
                f"(row {bad[0]}, LF column {bad[1]}; -1 = abstain, cardinality {cardinality})"
            )
    dtype = np.int8 if cardinality <= 127 else np.int16
    return np.ascontiguousarray(arr, dtype=dtype)


def vote_counts(L: np.ndarray, cardinality: int) -> np.ndarray:
    """``(n, K)`` number of LFs voting each class per row."""
    counts = np.zeros((L.shape[0], cardinality), dtype=np.float64)
    for k in range(cardinality):
        counts[:, k] = (L == k).sum(axis=1)
    return counts


def normalize_log(logp: np.ndarray) -> np.ndarray:
    """Row-wise softmax of log scores that never produces NaN (rows of -inf become uniform)."""
    logp = np.where(np.isfinite(logp), logp, -1e300)
    logp = logp - logp.max(axis=1, keepdims=True)
    p = np.exp(logp)
    p /= p.sum(axis=1, keepdims=True)
    return p


class LabelModel:
    """Base class: validation, tie-breaking, no-vote policy and JSON persistence.

    Subclasses set ``name``, implement ``_fit(L, ...)`` and ``_predict_proba(L)`` and list their learned
    arrays in ``_state_keys``.

    >>> from mmweak.labelmodels import create
    >>> model = create("majority", cardinality=2).fit([[1, 1, -1], [0, -1, -1]])
    >>> model.predict([[1, 1, -1], [-1, -1, -1]]).tolist()
    [1, -1]
    """

    name: ClassVar[str] = "base"
    _state_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, cardinality: int = 2, *, no_vote: NoVotePolicy = "prior") -> None:
        if int(cardinality) < 2:
            raise ValueError(f"cardinality must be >= 2, got {cardinality}")
        if no_vote not in ("uniform", "prior"):
            raise ValueError(f"no_vote must be 'uniform' or 'prior', got {no_vote!r}")
        self.cardinality = int(cardinality)
        self.no_vote = no_vote
        self.class_balance_: np.ndarray | None = None
        self.n_lfs_: int | None = None
        self.seed_: int = 0
        self.f1_thresholds_: np.ndarray | None = None

    # -- public API -------------------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """Hyper-parameters as passed to ``__init__`` (scikit-learn convention)."""
        import inspect

        sig = inspect.signature(type(self).__init__)
        return {p: getattr(self, p) for p in sig.parameters if p != "self" and hasattr(self, p)}

    def fit(
        self,
        L: Any,
        *,
        L_dev: Any = None,
        y_dev: Any = None,
        class_balance: Any = None,
        seed: int = 0,
    ) -> "LabelModel":
        """Learn from the unlabelled vote matrix ``L`` (n x m); optionally a gold dev set.

        ``class_balance`` fixes the class prior; otherwise the model estimates it (from ``L`` and,
        where the model uses it, the gold dev rows).
        """
        K = self.cardinality
        L = check_votes(L, K)
        dev = None
        if L_dev is not None or y_dev is not None:
            if L_dev is None or y_dev is None:
                raise ValueError("L_dev and y_dev must be given together")
            L_dev = check_votes(L_dev, K, what="L_dev")
            y_dev = np.asarray(y_dev, dtype=np.int64).ravel()
            if L_dev.shape[0] != y_dev.shape[0]:
                raise ValueError(f"L_dev has {L_dev.shape[0]} rows but y_dev has {y_dev.shape[0]}")
            if L_dev.shape[1] != L.shape[1]:
                raise ValueError(f"L_dev has {L_dev.shape[1]} LFs but L has {L.shape[1]}")
            if y_dev.size and (y_dev.min() < 0 or y_dev.max() >= K):
                raise ValueError(f"y_dev must hold classes 0..{K - 1}")
            dev = (L_dev, y_dev)
        prior = None
        if class_balance is not None:
            prior = np.asarray(class_balance, dtype=np.float64).ravel()
            if prior.shape != (K,) or np.any(prior < 0) or not np.isfinite(prior).all() or prior.sum() <= 0:
                raise ValueError(f"class_balance must be {K} non-negative numbers, got {class_balance!r}")
            prior = prior / prior.sum()
        self.n_lfs_ = L.shape[1]
        self.seed_ = int(seed)
        self._fit(L, dev=dev, prior=prior, seed=int(seed))
        if self.class_balance_ is None:
            self.class_balance_ = prior if prior is not None else np.full(K, 1.0 / K)
        # The F1 cuts are a property of the training distribution, so they are fixed here, once.
        self.f1_thresholds_ = expected_f1_thresholds(self._proba_checked(fit_sample(L, THRESHOLD_ROWS, seed)))
        return self

    def predict_proba(self, L: Any) -> np.ndarray:
        """``(n, K)`` float64 class probabilities; rows sum to 1, never NaN."""
        return self._proba_checked(check_votes(L, self.cardinality))

    def _proba_checked(self, L: np.ndarray) -> np.ndarray:
        self._check_fitted()
        if L.shape[1] != self.n_lfs_:
            raise VoteMatrixError(f"model was fitted on {self.n_lfs_} LFs but L has {L.shape[1]} columns")
        proba, voted = self._predict_proba_voted(L)
        no_votes = ~voted
        if no_votes.any():
            proba[no_votes] = self._no_vote_proba()
        return proba

    def predict(
        self,
        L: Any,
        *,
        tie_break: TieBreak = "prior",
        seed: int | None = None,
        objective: Objective = "accuracy",
        pos_label: int = 1,
    ) -> np.ndarray:
        """Hard labels; rows where no LF voted are ``-1``.

        ``objective="accuracy"`` (default) predicts the most likely class; ties among top classes are
        broken by ``tie_break``: ``"abstain"`` returns -1, ``"random"`` picks among the tied classes with a
        seeded generator (``seed`` defaults to the fit seed), ``"prior"`` picks the tied class with the
        largest class balance (then the lowest index). ``objective="f1"`` maximises the F1 of
        ``pos_label`` instead: it is predicted wherever its probability reaches the cut learned at fit
        time (``f1_thresholds_``), which for a rare class is usually well below 0.5.

        >>> from mmweak.labelmodels import create
        >>> L = [[0, -1]] * 60 + [[0, 1]] * 30 + [[-1, 1]] * 10
        >>> m = create("majority", cardinality=2).fit(L)
        >>> m.predict([[0, 1], [-1, 1]]).tolist(), m.predict([[0, 1], [-1, 1]], objective="f1").tolist()
        ([0, 1], [1, 1])
        """
        L = check_votes(L, self.cardinality)
        proba = self._proba_checked(L)
        return self.labels_from_proba(
            proba, L, tie_break=tie_break, seed=self.seed_ if seed is None else seed, objective=objective, pos_label=pos_label
        )

    def labels_from_proba(
        self,
        proba: np.ndarray,
        L: np.ndarray | None,
        *,
        tie_break: TieBreak = "prior",
        seed: int = 0,
        objective: Objective = "accuracy",
        pos_label: int = 1,
    ) -> np.ndarray:
        """Hard labels from probabilities, with the policies of :meth:`predict`.

        Rows of ``L`` without a vote become ``-1``; pass ``L=None`` to decide them from their
        (no-vote policy) probabilities like any other row.
        """
        prior = self.class_balance_ if self.class_balance_ is not None else np.ones(self.cardinality)
        labels = hard_labels(
            proba, np.asarray(prior, dtype=np.float64), tie_break=tie_break, seed=seed, objective=objective,
            pos_label=pos_label, thresholds=self.f1_thresholds_,
        )
        if L is not None:
            labels[~(L != ABSTAIN).any(axis=1)] = ABSTAIN
        return labels

    def lf_accuracies(self) -> np.ndarray | None:
        """Estimated accuracy of each LF when it votes, if the model learns one (else ``None``)."""
        return None

    # -- persistence ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description: model name, hyper-parameters and learned arrays."""
        self._check_fitted()
        keys = ("class_balance_", "n_lfs_", "seed_", "f1_thresholds_", *self._state_keys)
        state = {k: _to_json(getattr(self, k)) for k in keys}
        return {"model": self.name, "params": _to_json(self.get_params()), "state": state}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "LabelModel":
        """Rebuild a model saved by :meth:`to_dict` (the class is chosen by ``data["model"]``)."""
        target = _REGISTRY.get(data["model"])
        if target is None:
            raise ValueError(f"unknown label model {data['model']!r}; known: {sorted(_REGISTRY)}")
        model = target(**data["params"])
        for k, v in data["state"].items():
            setattr(model, k, np.asarray(v, dtype=np.float64) if isinstance(v, list) else v)
        return model

    def save(self, path: str | os.PathLike) -> None:
        """Write the model as JSON (floats are written with full precision, so predictions round-trip exactly)."""
        tmp = f"{os.fspath(path)}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "LabelModel":
        """Load a model written by :meth:`save`."""
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    # -- for subclasses ---------------------------------------------------------------------------
    def _fit(self, L: np.ndarray, *, dev: tuple[np.ndarray, np.ndarray] | None, prior: np.ndarray | None, seed: int) -> None:
        raise NotImplementedError

    def _predict_proba(self, L: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _predict_proba_voted(self, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and the mask of rows with at least one vote (models with a sparse view override)."""
        return self._predict_proba(L), (L != ABSTAIN).any(axis=1)

    @staticmethod
    def _dev_prior(dev: tuple[np.ndarray, np.ndarray] | None, K: int) -> np.ndarray | None:
        """Class shares of the gold dev labels (add-one smoothed), or None without a dev set."""
        if dev is None or not dev[1].size:
            return None
        return (np.bincount(dev[1], minlength=K) + 1.0) / (dev[1].size + K)

    def _no_vote_proba(self) -> np.ndarray:
        if self.no_vote == "prior" and self.class_balance_ is not None:
            return np.asarray(self.class_balance_, dtype=np.float64)
        return np.full(self.cardinality, 1.0 / self.cardinality)

    def _check_fitted(self) -> None:
        if self.n_lfs_ is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call fit(L) first")

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


def _to_json(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    return value
