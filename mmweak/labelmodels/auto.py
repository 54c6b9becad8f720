"""The recommended default: pick the right model for the vote matrix, and let gold dev rows overrule it.

No single label model wins everywhere (WRENCH's own table shows majority vote, Dawid–Skene and data
programming each winning somewhere). Two properties of the votes decide most of it:

* **Who votes how.** Keyword/regex LFs are mostly *unipolar* (each votes one class, abstains otherwise):
  then votes must be weighted by precision and abstains mostly ignored (``weighted_majority``).
  Crowd workers are *bipolar* (they answer with any class; who answered is unrelated to the answer):
  then per-worker confusion matrices with abstains ignored are right (``dawid_skene`` without abstain).
* **Whether silence is informative.** Some LF sets fire more often on one class (sentiment lexicons);
  Dawid–Skene with abstain as an outcome uses that, and averaging it with the weighted vote is often
  the best of both.

Without gold, :class:`AutoLabelModel` chooses by the first property. With a gold dev set it also scores
every candidate by 5-fold cross-validation on the dev rows (each fold's model is fitted with the other
folds clamped) and switches away from the structural choice only when a challenger is better by more
than two standard errors on *both* accuracy and class-balanced accuracy — so a challenger cannot win by
predicting the majority class more often, and noise on a small dev set does not flip the choice. The
chosen configuration is then refitted with every dev row clamped.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .base import LabelModel, NoVotePolicy, register
from .dawid_skene import DawidSkene
from .loglinear import MAX_FIT_ROWS, LogLinearModel, predict_in_chunks
from .votes import ABSTAIN, fit_sample
from .weighted_vote import WeightedMajorityVote

#: Candidate configurations: name -> list of (model class, params); several entries = probability average.
CANDIDATES: dict[str, list[tuple[type[LabelModel], dict[str, Any]]]] = {
    "weighted_majority": [(WeightedMajorityVote, {})],
    "dawid_skene": [(DawidSkene, {"abstain_as_outcome": True})],
    "dawid_skene_no_abstain": [(DawidSkene, {"abstain_as_outcome": False})],
    "weighted_majority+dawid_skene": [(WeightedMajorityVote, {}), (DawidSkene, {"abstain_as_outcome": True})],
}
_FOLDS = 5
_MIN_DEV_FOR_SELECTION = 50  # below this, cross-validation is noise: keep the structural choice


def unipolar_vote_share(L: np.ndarray, cardinality: int) -> float:
    """Share of all votes cast by LFs that only ever vote one class.

    >>> unipolar_vote_share(np.array([[1, 0, -1], [1, 1, 0]]), 2)
    0.6
    """
    votes = np.zeros((L.shape[1], cardinality), dtype=np.int64)  # (m, K), counted in row blocks
    for start in range(0, L.shape[0], 1 << 20):
        block = L[start: start + (1 << 20)]
        for k in range(cardinality):
            votes[:, k] += (block == k).sum(axis=0)
    total = votes.sum()
    if total == 0:
        return 1.0
    unipolar = (votes > 0).sum(axis=1) <= 1
    return float(votes[unipolar].sum() / total)


@register
class AutoLabelModel(LabelModel):
    """The default label model (``labelmodels.create()``): structural choice, overruled by dev gold.

    After ``fit``, ``selected_`` names the configuration used and ``cv_scores_`` holds the
    cross-validated dev accuracy / balanced accuracy of every candidate (empty without a dev set).

    >>> import mmweak
    >>> L = [[1, -1, 0], [1, 1, -1], [-1, 0, 0], [1, -1, -1], [0, 0, -1]]
    >>> m = mmweak.labelmodels.create(cardinality=2).fit(L)
    >>> m.selected_, m.predict(L).tolist()
    ('dawid_skene_no_abstain', [1, 1, 0, 1, 0])
    """

    name = "auto"
    _state_schema: ClassVar[dict[str, Any]] = {"selected_": "str", "members_": "models", "cv_scores_": "scores"}

    def __init__(self, cardinality: int = 2, *, no_vote: NoVotePolicy = "prior", random_state: int = 0) -> None:
        super().__init__(cardinality, no_vote=no_vote, random_state=random_state)

    def _fit(self, L, *, dev, prior, seed):
        K = self.cardinality
        # The polarity of the LFs is plain from the rows the members are fitted on; no need to scan all of L.
        share = unipolar_vote_share(fit_sample(L, MAX_FIT_ROWS, seed), K)
        structural = "weighted_majority" if share >= 0.5 else "dawid_skene_no_abstain"
        self.selected_ = structural
        self.cv_scores_: dict[str, list[float]] = {}
        if dev is not None and dev[1].size >= _MIN_DEV_FOR_SELECTION:
            self.selected_ = self._select(L, dev, prior, seed, structural)
        members = self._fit_config(self.selected_, L, dev, prior, seed)
        self.members_ = {str(i): m.to_dict() for i, m in enumerate(members)}
        self._built = members
        self.class_balance_ = np.mean([m.class_balance_ for m in members], axis=0)

    def _fit_config(self, config: str, L, dev, prior, seed) -> list[LabelModel]:
        out = []
        for cls, params in CANDIDATES[config]:
            model = cls(self.cardinality, no_vote=self.no_vote, random_state=seed, **params)
            kw: dict[str, Any] = {"class_balance": prior}
            if dev is not None and dev[1].size:
                kw.update(L_dev=dev[0], y_dev=dev[1])
            out.append(model.fit(L, **kw))
        return out

    def _select(self, L, dev, prior, seed, incumbent: str) -> str:
        L_dev, y_dev = dev
        folds = np.random.default_rng(seed).permutation(y_dev.size) % _FOLDS
        correct: dict[str, np.ndarray] = {}
        for config in CANDIDATES:
            pred = np.empty(y_dev.size, dtype=np.int64)
            for f in range(_FOLDS):
                held = folds == f
                members = self._fit_config(config, L, (L_dev[~held], y_dev[~held]), prior, seed)
                proba = np.mean([m.predict_proba(L_dev[held]) for m in members], axis=0)
                pred[held] = proba.argmax(axis=1)
            correct[config] = pred == y_dev
        # Per-row scores whose mean is the accuracy / the class-balanced accuracy, for paired tests.
        present = np.bincount(y_dev, minlength=self.cardinality)
        balance_w = (1.0 / np.maximum(present, 1))[y_dev] * (y_dev.size / max((present > 0).sum(), 1))
        for config, c in correct.items():
            self.cv_scores_[config] = [float(c.mean()), float((c * balance_w).mean())]
        best, best_gain = incumbent, 0.0
        base = correct[incumbent].astype(float)
        for config, c in correct.items():
            if config == incumbent:
                continue
            wins = []
            for weights in (np.ones_like(base), balance_w):
                diff = (c - base) * weights
                se = diff.std(ddof=1) / np.sqrt(diff.size) if diff.size > 1 else np.inf
                wins.append(diff.mean() > 2 * se and diff.mean() > 0)
            gain = float((c - base).mean())
            if all(wins) and gain > best_gain:
                best, best_gain = config, gain
        return best

    # -- prediction ------------------------------------------------------------------------------
    def _members(self) -> list[LabelModel]:
        built = getattr(self, "_built", None)
        if built is None:
            built = [LabelModel.from_dict(self.members_[k]) for k in sorted(self.members_, key=int)]
            self._built = built
        return built

    def _predict_proba(self, L):
        return self._predict_proba_voted(L)[0]

    def _predict_proba_voted(self, L):
        members = self._members()
        if all(isinstance(m, LogLinearModel) for m in members):
            return predict_in_chunks(L, self.cardinality, members)  # one sparse view shared by all
        return np.mean([m.predict_proba(L) for m in members], axis=0), (L != ABSTAIN).any(axis=1)

    def lf_accuracies(self) -> np.ndarray | None:
        accs = [a for a in (m.lf_accuracies() for m in self._members()) if a is not None]
        return np.mean(accs, axis=0) if accs else None

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_built", None)
        return state


__all__ = ["AutoLabelModel", "CANDIDATES", "unipolar_vote_share"]
