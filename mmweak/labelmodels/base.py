"""The one interface every label model implements.

A label model turns an ``(n, m)`` vote matrix ``L`` (``-1`` = abstain, classes ``0..K-1``) into an
``(n, K)`` matrix of class probabilities. Every model is a scikit-learn estimator: hyper-parameters are
stored by ``__init__`` exactly as given and checked in ``fit``, learned state (names ending in an
underscore) exists only after ``fit``, ``get_params``/``set_params``/``sklearn.base.clone`` work, and
``fit`` returns ``self``.

Models persist as JSON (parameters + learned arrays), never pickle, and loading one is validation, not
trust (:mod:`~mmweak.labelmodels.schema`): a saved model is safe to load from an untrusted dataset repo and
reproduces predictions bit for bit.
"""

from __future__ import annotations

import json
import numbers
import os
import warnings
from typing import Any, ClassVar, Literal

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

from ..atomic_files import write_text
from ..errors import MMWeakError, OneClassLabelsWarning, VoteMatrixError
from .decision import (
    THRESHOLD_ROWS,
    Objective,
    TieBreak,
    all_in_one_class,
    expected_f1_thresholds,
    hard_labels,
    labels_against_votes,
)
from .validation import (
    _check_choice,
    check_cardinality,
    check_labels,
    check_lf_names,
    check_votes,
    lf_names,
    what_shape,
)
from .votes import ABSTAIN, fit_sample

NoVotePolicy = Literal["uniform", "prior"]

_REGISTRY: dict[str, type["LabelModel"]] = {}


class NotFittedError(MMWeakError, _SklearnNotFittedError):
    """A label model was used before ``fit`` (also a :class:`sklearn.exceptions.NotFittedError`)."""


def register(cls: type["LabelModel"]) -> type["LabelModel"]:
    """Class decorator that makes a model reachable through :func:`mmweak.labelmodels.create`.

    Args:
        cls: a :class:`LabelModel` subclass that sets its own ``name`` class attribute.

    Returns:
        ``cls`` unchanged.

    Raises:
        TypeError: ``cls`` is not a label model, or inherits ``name`` instead of setting its own (it
            would silently replace its parent in the registry).
        ValueError: another class already uses that name.

    >>> class Mine(LabelModel):
    ...     pass
    >>> register(Mine)
    Traceback (most recent call last):
    TypeError: Mine must set its own class attribute `name` to be registered (it inherits 'base')
    """
    if not (isinstance(cls, type) and issubclass(cls, LabelModel)):
        raise TypeError(f"only LabelModel subclasses can be registered, got {cls!r}")
    name = cls.__dict__.get("name")
    if not isinstance(name, str) or not name:
        raise TypeError(
            f"{cls.__name__} must set its own class attribute `name` to be registered (it inherits {cls.name!r})"
        )
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"label model name {name!r} is already registered by {_REGISTRY[name].__name__}")
    _REGISTRY[name] = cls
    return cls


class LabelModel(BaseEstimator):
    """Base class: validation, tie-breaking, no-vote policy and JSON persistence.

    Subclasses set ``name``, implement ``_fit(L, ...)`` and ``_predict_proba(L)``, check their own
    hyper-parameters in ``_check_params`` and describe their learned arrays in ``_state_schema`` (see
    :mod:`~mmweak.labelmodels.schema`).

    Args:
        cardinality: number of classes ``K`` (an int >= 2).
        no_vote: probabilities for rows where no LF voted: ``"prior"`` (the learned class balance, or for a
            model of how often each LF fires on each class, its posterior of a row where every LF abstained;
            with gold dev rows, the classes of the dev rows no LF voted on, shrunk towards it:
            ``no_vote_proba_``) or ``"uniform"``.
        random_state: seed of every random choice the fit makes (samples, restarts) and of random
            tie-breaks; the same seed gives the same model.

    >>> from mmweak.labelmodels import create
    >>> model = create("majority", cardinality=2).fit([[1, 1, -1], [0, -1, -1]])
    >>> model.predict([[1, 1, -1], [-1, -1, -1]]).tolist()
    [1, -1]
    """

    name: ClassVar[str] = "base"
    #: Learned attributes every model has after ``fit`` (besides those in its ``_state_schema``).
    _base_state: ClassVar[tuple[str, ...]] = ("class_balance_", "n_lfs_", "seed_", "f1_thresholds_", "no_vote_proba_")
    #: What to try instead, said where a fit's labels settled on one class.
    _one_class_advice: ClassVar[str] = "majority vote or the default (labelmodels.create()) do not do this"
    #: Learned attribute -> shape spec, checked when a saved model is loaded.
    _state_schema: ClassVar[dict[str, Any]] = {}

    def __init__(self, cardinality: int = 2, *, no_vote: NoVotePolicy = "prior", random_state: int = 0) -> None:
        self.cardinality = cardinality
        self.no_vote = no_vote
        self.random_state = random_state

    # -- public API -------------------------------------------------------------------------------
    def fit(
        self,
        L: Any,
        y: None = None,
        *,
        L_dev: Any = None,
        y_dev: Any = None,
        class_balance: Any = None,
        seed: int | None = None,
        dev_representative: Any = None,
    ) -> "LabelModel":
        """Learn from the unlabelled vote matrix ``L``; optionally a gold dev set.

        Args:
            L: ``(n, m)`` votes, ``-1`` = abstain: an array, a list of rows or a pandas DataFrame (whose column
                names are then recorded as ``feature_names_in_`` and checked on every later matrix).
            y: must be ``None``; it is there so a label model can be the last step of a scikit-learn
                ``Pipeline`` (label models learn from votes without labels: gold rows go in ``L_dev``/``y_dev``).
            L_dev: ``(n_dev, m)`` votes of rows with gold labels (given together with ``y_dev``).
            y_dev: their gold classes.
            dev_representative: ``(n_dev,)`` booleans, which dev rows are a fair sample of the data (drawn at
                random); default: all of them. Every dev row's label is clamped in the fit (EM models count it in
                the class mass too), but only representative rows *judge* it: the default's choice of member, the
                gold that keeps a fit majority vote would replace, and the class shares that majority vote and MeTaL
                read off the gold labels. Rows a review strategy chose for being hard are where
                majority vote does badly, so a fit judged on them looks better than it is.
            class_balance: fixes the class prior (``K`` non-negative numbers); otherwise the model
                estimates it (from ``L`` and, where the model uses it, the gold dev rows). Every model gives it to
                the rows without a vote and breaks ties by it (``tie_break="prior"``); the models whose
                probabilities are a Bayes posterior (Dawid–Skene, one-coin, the weighted vote, EBCC, MeTaL, the
                triplet method) weigh every row by it; BWA adds it to every row as its class mean (``mean_prior``
                pseudo-answers); majority vote's probabilities stay its vote shares (and so do the default's where
                it keeps majority vote).
            seed: deprecated, use ``random_state`` in the constructor (or ``set_params``).

        Returns:
            ``self``, fitted.

        Raises:
            ValueError: a hyper-parameter is invalid (named), or the dev set / class balance is malformed.
            VoteMatrixError: a vote matrix is malformed (names the row and LF column), or has no rows (and there
                are no dev rows).
            TypeError: ``y`` was given.

        Warns:
            OneClassLabelsWarning: the fit labels every voted row one class though some rows' votes are mostly
                another (one-coin and EBCC can settle there on LFs that each vote one class); the labels are then
                worthless, and majority vote or the default are the models to use.

        >>> from mmweak.labelmodels import create
        >>> create("dawid_skene").fit([[0, 0, 1], [1, 1, 1]]).n_lfs_
        3
        """
        if y is not None:
            raise TypeError("a label model learns from votes without labels, so fit's y must be None (it exists for "
                            "scikit-learn pipelines); pass gold rows as L_dev=..., y_dev=...")
        self._validate_params()
        K = int(self.cardinality)
        if seed is not None:
            warnings.warn(
                "fit(seed=...) is deprecated: pass random_state to the constructor or set_params(random_state=...)",
                DeprecationWarning, stacklevel=2,
            )
            seed = self._check_seed("seed", seed)
        else:
            seed = self._check_seed("random_state", self.random_state)
        names = lf_names(L)
        L = check_votes(L, K)
        dev = None
        if L_dev is not None or y_dev is not None:
            if L_dev is None or y_dev is None:
                raise ValueError("L_dev and y_dev must be given together")
            check_lf_names(names, L_dev, "L_dev", "L has")
            L_dev = check_votes(L_dev, K, what="L_dev")
            y_dev = check_labels(y_dev, K)
            if L_dev.shape[0] != y_dev.shape[0]:
                raise ValueError(f"L_dev has {L_dev.shape[0]} rows but y_dev has {y_dev.shape[0]}")
            if L_dev.shape[1] != L.shape[1]:
                raise ValueError(f"L_dev has {L_dev.shape[1]} LFs but L has {L.shape[1]}")
            dev = (L_dev, y_dev)
        mask = representative_mask(dev, dev_representative)
        fair = dev
        if dev is not None and mask is not None:
            fair = (dev[0][mask], dev[1][mask]) if mask.any() else None
        prior = None
        if class_balance is not None:
            try:
                prior = np.asarray(class_balance, dtype=np.float64).ravel()
            except (TypeError, ValueError):
                prior = None
            if (prior is None or prior.shape != (K,) or not np.isfinite(prior).all() or np.any(prior < 0)
                    or prior.max() <= 0):
                raise ValueError(
                    f"class_balance must be {K} non-negative numbers with a positive sum, got {class_balance!r}"
                )
            prior = prior / prior.max()  # first, so [1e308, 1e308] cannot overflow its sum to inf
            prior = prior / prior.sum()
        # A refit starts from nothing: no learned attribute of an earlier fit may leak into this one.
        for key in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, key)
        if L.shape[1] == 0:
            raise VoteMatrixError(f"{what_shape(L)} has no LF columns: a label model needs at least one LF's votes")
        if L.shape[0] == 0 and dev is None:  # a fit on nothing would label every row from its starting values
            raise VoteMatrixError("L has no rows and there are no dev rows: nothing to fit the label model on (an "
                                  "empty split or a filter that kept nothing?)")
        self._dev_mask, self._fair_dev = mask, fair  # read by the fit only (auto's dev score, shares off the gold)
        try:
            self._fit(L, dev=dev, prior=prior, seed=seed)
            self.n_lfs_ = L.shape[1]
            self._after_fit(L, seed, self._fair_dev, prior)
        finally:  # read during the fit only: a fitted (or pickled) model carries no dev rows
            del self._fair_dev, self._dev_mask
        self.seed_ = seed
        if names is not None:
            self.feature_names_in_ = names
        if getattr(self, "class_balance_", None) is None:
            self.class_balance_ = prior if prior is not None else np.full(K, 1.0 / K)
        # Every dev row, representative or not: a strategy reading votes or probabilities cannot tell silent rows
        # apart, so the silent rows it picks are a fair sample of the silent rows (not so for ``diverse`` on an
        # embedding, whose silent rows are spread out rather than drawn).
        self.no_vote_proba_ = self._silent_rows_balance(dev)
        # The F1 cuts are a property of the training distribution, so they are fixed here, once.
        rows = fit_sample(L, THRESHOLD_ROWS, seed)
        sample = self._proba(rows)
        if not np.isfinite(sample).all():  # a model must never hand out NaN: refuse the fit instead
            for key in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
                delattr(self, key)
            raise ValueError(f"{type(self).__name__} fit gave non-finite probabilities (NaN or infinity); its "
                             f"hyper-parameters {self.get_params()} are likely too extreme for these votes")
        self.f1_thresholds_ = expected_f1_thresholds(sample)
        # in memory only: how far the labels of the fit sample went against its votes (the default reads it)
        against_votes = labels_against_votes(rows, sample.argmax(axis=1), K, prior)
        self._labels_against_votes = against_votes
        one_class = all_in_one_class(against_votes)
        if one_class is not None:
            main, against = one_class
            warnings.warn(f"{type(self).__name__} labels every voted row of its fit class {main}, though "
                          f"{against} of {rows.shape[0]} rows have most of their votes for another class: its fit "
                          f"settled on one class and its labels carry nothing; {self._one_class_advice}",
                          OneClassLabelsWarning, stacklevel=2)
        return self

    def predict_proba(self, L: Any) -> np.ndarray:
        """``(n, K)`` float64 class probabilities; rows sum to 1, never NaN.

        Args:
            L: ``(n, m)`` votes with the ``m`` LFs the model was fitted on.

        Returns:
            The probabilities; rows where no LF voted follow the ``no_vote`` policy.

        Raises:
            NotFittedError: before ``fit``.
            VoteMatrixError: malformed votes or a different number of LFs.

        >>> from mmweak.labelmodels import create
        >>> create("majority").fit([[0, 1, 1]]).predict_proba([[0, 1, 1]]).round(2).tolist()
        [[0.33, 0.67]]
        """
        self._check_fitted()
        return self._proba(self._votes(L))

    @property
    def n_features_in_(self) -> int:
        """The number of LF columns the model was fitted on (scikit-learn's name for :attr:`n_lfs_`).

        >>> from mmweak.labelmodels import create
        >>> create("majority").fit([[0, 1, 1]]).n_features_in_
        3
        """
        self._check_fitted()
        return int(self.n_lfs_)

    def _votes(self, L: Any) -> np.ndarray:
        """``L`` checked as the votes of the LFs this model was fitted on (names too, for a DataFrame)."""
        check_lf_names(getattr(self, "feature_names_in_", None), L)
        return check_votes(L, self.cardinality)

    def _proba(self, L: np.ndarray) -> np.ndarray:
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
        objective: Objective | None = None,
        pos_label: int | None = None,
    ) -> np.ndarray:
        """Hard labels; rows where no LF voted are ``-1``.

        Args:
            L: ``(n, m)`` votes.
            tie_break: how tied top classes are resolved under ``objective="accuracy"``: ``"abstain"``
                returns -1, ``"random"`` picks among them with a seeded generator, ``"prior"`` picks the
                tied class with the largest class balance (then the lowest index).
            seed: seed of ``"random"`` tie-breaks (default: the fit's ``random_state``).
            objective: ``"accuracy"`` (the most likely class) or ``"f1"``: ``pos_label`` wherever its
                probability reaches the cut learned at fit time (``f1_thresholds_``), which for a rare
                class is usually well below 0.5. Default: the model's own ``objective`` where it has one
                (the default model, ``create(objective="f1")``), else ``"accuracy"``.
            pos_label: the class whose F1 ``objective="f1"`` maximises. Default: the model's own
                ``pos_label`` where it has one, else 1.

        Returns:
            ``(n,)`` int64 labels.

        Raises:
            NotFittedError: before ``fit``.
            ValueError: an unknown policy or objective, a ``pos_label`` that is not a class, a negative seed.

        >>> from mmweak.labelmodels import create
        >>> L = [[0, -1]] * 60 + [[0, 1]] * 30 + [[-1, 1]] * 10
        >>> m = create("majority", cardinality=2).fit(L)
        >>> m.predict([[0, 1], [-1, 1]]).tolist(), m.predict([[0, 1], [-1, 1]], objective="f1").tolist()
        ([0, 1], [1, 1])
        """
        self._check_fitted()
        L = self._votes(L)
        proba = self._proba(L)
        return self.labels_from_proba(
            proba,
            L,
            tie_break=tie_break,
            seed=self.seed_ if seed is None else seed,
            objective=objective,
            pos_label=pos_label,
        )

    def _decision(self, objective: Objective | None, pos_label: Any) -> tuple[Objective, int]:
        """The objective and positive class hard labels follow: those given, else the model's own, else accuracy
        and class 1."""
        K = int(self.cardinality)
        chosen: Objective = objective if objective is not None else (getattr(self, "objective", None) or "accuracy")
        if pos_label is None:
            pos_label = getattr(self, "pos_label", 1)
        if isinstance(pos_label, bool) or not isinstance(pos_label, numbers.Integral) or not 0 <= int(pos_label) < K:
            raise ValueError(f"pos_label must be a class index in 0..{K - 1}, got {pos_label!r}")
        return chosen, int(pos_label)

    def labels_from_proba(
        self,
        proba: np.ndarray,
        L: np.ndarray | None,
        *,
        tie_break: TieBreak = "prior",
        seed: int = 0,
        objective: Objective | None = None,
        pos_label: int | None = None,
    ) -> np.ndarray:
        """Hard labels from probabilities, with the policies (and defaults) of :meth:`predict`.

        ``proba`` is ``(n, K)``: non-negative rows that sum to 1 (as :meth:`predict_proba` and the stored
        ``float32`` probability columns give them). Rows of ``L`` (the same rows' votes, checked as
        :meth:`predict` checks them) without a vote become ``-1``; pass ``L=None`` to decide them from their
        (no-vote policy) probabilities like any other row.

        >>> from mmweak.labelmodels import create
        >>> m = create("majority").fit([[0, 1, 1]])
        >>> m.labels_from_proba(np.array([[0.2, 0.8], [0.5, 0.5]]), None).tolist()
        [1, 1]
        """
        self._check_fitted()
        objective, pos_label = self._decision(objective, pos_label)
        seed = self._check_seed("seed", seed)
        proba = np.asarray(proba, dtype=np.float64)
        K = int(self.cardinality)
        if proba.ndim != 2 or proba.shape[1] != K:
            raise ValueError(f"proba must be (rows, {K}) class probabilities, got shape {proba.shape}")
        if not np.isfinite(proba).all():
            raise ValueError("proba must be finite (no NaN or infinity)")
        if proba.size and (proba.min() < 0 or np.abs(proba.sum(axis=1) - 1.0).max() > 1e-4):
            row = int(np.argmax((proba < 0).any(axis=1) | (np.abs(proba.sum(axis=1) - 1.0) > 1e-4)))
            raise ValueError(f"proba row {row} is not a probability distribution (non-negative, summing to 1): "
                             f"{proba[row].tolist()}")
        if L is not None:
            L = self._votes(L)
            if L.shape[1] != self.n_lfs_:
                raise VoteMatrixError(f"model was fitted on {self.n_lfs_} LFs but L has {L.shape[1]} columns")
            if L.shape[0] != proba.shape[0]:
                raise ValueError(f"L has {L.shape[0]} rows but proba has {proba.shape[0]}")
        labels = hard_labels(
            proba,
            np.asarray(self.class_balance_, dtype=np.float64),
            tie_break=tie_break,
            seed=seed,
            objective=objective,
            pos_label=pos_label,
            thresholds=self.f1_thresholds_,
        )
        if L is not None:
            labels[~(L != ABSTAIN).any(axis=1)] = ABSTAIN
        return labels

    def lf_accuracies(self) -> np.ndarray | None:
        """The model's own accuracy parameter of each LF, if it learns one (else ``None``); models define it
        differently (see each model). The accuracy where each LF votes, for any model, is
        :func:`~mmweak.labelmodels.lf_estimates.estimated_lf_accuracies`.

        >>> from mmweak.labelmodels import create
        >>> create("majority").fit([[0, 1]]).lf_accuracies() is None
        True
        """
        self._check_fitted()
        return None

    # -- persistence ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description: model name, hyper-parameters and learned arrays.

        >>> from mmweak.labelmodels import create
        >>> sorted(create("majority").fit([[0, 1]]).to_dict())
        ['model', 'params', 'state']
        """
        self._check_fitted()
        keys = (*self._base_state, *self._state_schema)
        state = {k: _to_json(getattr(self, k)) for k in keys}
        if getattr(self, "feature_names_in_", None) is not None:
            state["feature_names_in_"] = list(self.feature_names_in_)
        return {"model": self.name, "params": _to_json(self.get_params(deep=False)), "state": state}

    @classmethod
    def from_dict(cls, data: Any) -> "LabelModel":
        """Rebuild a model saved by :meth:`to_dict`, after checking it against the model's schema.

        Raises:
            ModelFileError: unknown model or keys, wrong shapes, non-finite numbers, absurd sizes.

        >>> from mmweak.labelmodels import create
        >>> m = create("majority").fit([[0, 1, 1]])
        >>> LabelModel.from_dict(m.to_dict()).predict([[0, 1, 1]]).tolist()
        [1]
        """
        from .schema import validated_model

        return validated_model(data, _REGISTRY)

    def save(self, path: str | os.PathLike) -> None:
        """Write the model as JSON (floats are written with full precision, so predictions round-trip exactly).

        The file is written next to ``path`` under a name of this writer's own and renamed into place, so neither a
        crash nor two saves at once ever leave half a model.
        """
        text = json.dumps(self.to_dict(), allow_nan=False)  # before any file is opened: a failure leaves nothing
        write_text(path, text)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "LabelModel":
        """Load a model written by :meth:`save` (validated; see :meth:`from_dict`)."""
        from .schema import read_model_file

        return cls.from_dict(read_model_file(path))

    # -- for subclasses ---------------------------------------------------------------------------
    def _validate_params(self) -> None:
        """Check every hyper-parameter (called by ``fit``: scikit-learn estimators check there, not in ``__init__``)."""
        check_cardinality(self.cardinality)
        _check_choice("no_vote", self.no_vote, ("uniform", "prior"))
        self._check_seed("random_state", self.random_state)
        self._check_params()

    def _check_params(self) -> None:
        """Subclass hook: raise ValueError naming a bad hyper-parameter."""

    def _after_fit(
        self, L: np.ndarray, seed: int, dev: tuple[np.ndarray, np.ndarray] | None, prior: np.ndarray | None
    ) -> None:
        """Subclass hook, run once the learned state is complete (before the F1 cuts are learned); ``dev`` and
        ``prior`` are the representative gold dev rows and the fixed class balance ``fit`` was given."""

    def _check_loaded_state(self) -> None:
        """Subclass hook: cross-checks of a loaded model's state beyond shapes (raise ModelFileError)."""

    @staticmethod
    def _check_seed(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= int(value) < 2**63:
            raise ValueError(
                f"{name} must be a non-negative int (the seed that makes the fit repeatable), got {value!r}"
            )
        return int(value)

    def _fit(
        self, L: np.ndarray, *, dev: tuple[np.ndarray, np.ndarray] | None, prior: np.ndarray | None, seed: int
    ) -> None:
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

    def _silent_prior(self) -> np.ndarray:
        """The classes of rows no LF votes on before any gold: the class balance, unless the model knows better.

        A model of whether each LF fires (Dawid–Skene with abstain outcomes) overrides it with its own
        posterior of a row on which every LF abstained.
        """
        return np.asarray(self.class_balance_, dtype=np.float64)

    def _silent_rows_balance(self, dev: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
        """The classes of rows no LF votes on, for the ``"prior"`` no-vote policy: ``(K,)`` shares.

        Such rows are seldom distributed like the rest (keyword LFs cover some classes more than others),
        so the gold dev rows without a vote estimate their classes directly, shrunk towards the model's own
        estimate (:meth:`_silent_prior`) by K pseudo-rows so that a handful of them cannot swing it. Without
        such dev rows it is that estimate. (Shrinking by 1 to 10 pseudo-rows gave the same labels on the 28
        sets with dev rows; 30 or more lost the gain on some: ``benchmarks/README.md``.)
        """
        return corrected_by_silent_dev_rows(self._silent_prior(), dev)

    def _no_vote_proba(self) -> np.ndarray:
        if self.no_vote == "prior" and getattr(self, "no_vote_proba_", None) is not None:
            return np.asarray(self.no_vote_proba_, dtype=np.float64)
        if self.no_vote == "prior" and getattr(self, "class_balance_", None) is not None:
            return np.asarray(self.class_balance_, dtype=np.float64)
        return np.full(int(self.cardinality), 1.0 / int(self.cardinality))

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "n_lfs_")

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit(L) first")
        balance = getattr(self, "class_balance_", None)
        fitted_K = None if balance is None else np.shape(balance)[0]
        if fitted_K is not None and fitted_K != self.cardinality:
            raise NotFittedError(f"{type(self).__name__} was fitted with cardinality {fitted_K} but cardinality is "
                                 f"now {self.cardinality!r} (set_params after fit): fit it again")


def representative_mask(dev: tuple[np.ndarray, np.ndarray] | None, representative: Any) -> np.ndarray | None:
    """``fit``'s ``dev_representative`` checked: ``(n_dev,)`` booleans, or None (every dev row is representative).

    >>> L_dev, y_dev = np.array([[0, 1], [1, 1], [0, 0]]), np.array([0, 1, 0])
    >>> representative_mask((L_dev, y_dev), [True, False, 1]).tolist()
    [True, False, True]
    >>> representative_mask((L_dev, y_dev), [1, 0])
    Traceback (most recent call last):
    ValueError: dev_representative must be 3 booleans (one per dev row), got [1, 0]
    """
    if representative is None:
        return None
    if dev is None:
        raise ValueError("dev_representative needs L_dev and y_dev: it says which of their rows are a fair sample")
    mask = np.asarray(representative)
    if mask.shape != dev[1].shape or (mask.size and (mask.dtype.kind not in "bui" or not np.isin(mask, (0, 1)).all())):
        raise ValueError(f"dev_representative must be {dev[1].size} booleans (one per dev row), got {representative!r}")
    return mask.astype(bool)


def corrected_by_silent_dev_rows(estimate: np.ndarray, dev: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """Class shares of rows without a vote: ``estimate`` ``(K,)``, corrected by the gold dev rows without a vote.

    Their gold counts are added to ``estimate`` weighted as K pseudo-rows, so a handful cannot swing it.

    >>> corrected_by_silent_dev_rows(np.array([0.7, 0.3]), (np.array([[-1, -1], [0, -1]]), np.array([1, 0])))
    array([0.4666..., 0.5333...])
    """
    estimate = np.asarray(estimate, dtype=np.float64)
    if dev is None:
        return estimate
    K = estimate.size
    silent = ~(np.asarray(dev[0]) != ABSTAIN).any(axis=1)
    counts = np.bincount(np.asarray(dev[1])[silent], minlength=K).astype(np.float64)
    return (counts + K * estimate) / (float(silent.sum()) + K)


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
