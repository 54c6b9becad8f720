"""From class probabilities to hard labels: argmax with a tie policy, or the cut that maximises F1.

Argmax maximises expected accuracy. When what matters is the F1 of one (usually rare) class, argmax is
the wrong rule: a class that is never the most likely one for any vote pattern is never predicted, and
its F1 is 0 even when the votes rank rows by how likely they are to belong to it. The F1-optimal rule
labels a row ``k`` when ``P(k) >= t_k``, where ``t_k`` is the cut of the model's own probabilities that
maximises the expected F1 of ``k`` (for calibrated probabilities ``t_k`` = half the best reachable F1,
Lipton et al. 2014). The cut is learned from the training rows at fit time, without gold labels, so
every later ``predict`` call decides each row the same way.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .votes import ABSTAIN, vote_counts

TieBreak = Literal["abstain", "random", "prior"]
Objective = Literal["accuracy", "f1"]

#: Training rows the F1 cuts are estimated on (a seeded sample beyond this).
#: How many paired standard errors a measured gain over majority vote must clear (its mean minus ``z`` standard
#: errors above 0) before majority vote gives way: the default's ``z``, chosen by leave-one-dataset-out.
SELECTION_Z = 0.5
THRESHOLD_ROWS = 20_000
#: :func:`settled_on_one_class`: labels with this many times fewer rows outside their main class than rows whose votes
#: say otherwise are taken as settled on one class (an order of magnitude: the collapses seen put 0-2 % of such rows
#: outside, legitimate labellings most of them).
SETTLED_RATIO = 10
#: A cut no probability reaches: the class is never worth predicting for F1.
NEVER = float(np.nextafter(1.0, 2.0))


def labels_against_votes(L: np.ndarray, labels: np.ndarray, K: int, prior: np.ndarray | None = None
                         ) -> tuple[int, int, int]:
    """``(main, outside, against)`` for the voted rows of ``L``: the class ``labels`` give most of them, how many
    they label otherwise, and how many have a strict majority of their votes for a class other than ``main``. A class
    the given class balance ``prior`` rules out (share 0) counts for nothing: the user asked for that.

    >>> L = np.array([[1, -1], [-1, 0], [1, 1], [-1, -1]])
    >>> labels_against_votes(L, np.array([0, 0, 0, 1]), 2)  # the unvoted row is not counted
    (0, 0, 2)
    """
    voted = (L != ABSTAIN).any(axis=1)
    main = int(np.bincount(labels[voted], minlength=K).argmax())
    counts = vote_counts(L, K)
    top = counts.max(axis=1)
    strict = (counts == top[:, None]).sum(axis=1) == 1
    top_class = counts.argmax(axis=1)
    possible = np.ones(K, dtype=bool) if prior is None else np.asarray(prior) > 0
    against = int((voted & strict & (top_class != main) & possible[top_class]).sum())
    return main, int((voted & (labels != main)).sum()), against


def one_class_against_votes(L: np.ndarray, labels: np.ndarray, K: int, prior: np.ndarray | None = None
                            ) -> tuple[int, int] | None:
    """``(class, rows)`` when ``labels`` put every voted row of ``L`` in one class while ``rows`` of them have a
    strict majority of their votes for another class; ``None`` otherwise (majority vote itself never is). See
    :func:`labels_against_votes`.

    >>> L = np.array([[1, -1], [-1, 0], [1, 1], [-1, -1]])
    >>> one_class_against_votes(L, np.array([0, 0, 0, 1]), 2), one_class_against_votes(L, np.array([1, 0, 1, 0]), 2)
    ((0, 2), None)
    """
    return all_in_one_class(labels_against_votes(L, labels, K, prior))


def all_in_one_class(counts: tuple[int, int, int]) -> tuple[int, int] | None:
    """``(class, rows against)`` when labels with :func:`labels_against_votes` ``counts`` put every voted row in one
    class while some rows' votes are mostly for another (what :class:`~mmweak.errors.OneClassLabelsWarning` says);
    ``None`` otherwise.

    >>> all_in_one_class((0, 0, 2)), all_in_one_class((0, 1, 2)), all_in_one_class((1, 0, 0))
    ((0, 2), None, None)
    """
    main, outside, against = counts
    return (main, against) if outside == 0 and against else None


def settled_on_one_class(counts: tuple[int, int, int]) -> bool:
    """Whether labels with :func:`labels_against_votes` ``counts`` settled on one class: they put at least ten times
    fewer voted rows outside their main class than there are rows whose votes are mostly for another class. Such
    labels carry little beyond a class prior, however well that explains the votes.

    >>> settled_on_one_class((1, 2, 2042)), settled_on_one_class((0, 300, 2042)), settled_on_one_class((0, 0, 0))
    (True, False, False)
    """
    _, outside, against = counts
    return outside * SETTLED_RATIO < against


def expected_f1_thresholds(proba: np.ndarray) -> np.ndarray:
    """Per class ``k``, the probability cut that maximises the expected F1 of ``k`` over these rows.

    Labelling the ``r`` rows with the largest ``P(k)`` as ``k`` has expected F1 close to
    ``2 * sum(top r P(k)) / (r + sum(all P(k)))`` (exact as the number of rows grows); the cut is placed
    only between distinct probabilities, so equally likely rows are decided alike.

    >>> p1 = np.array([0.05] * 50 + [0.2] * 30 + [0.4] * 5)
    >>> expected_f1_thresholds(np.stack([1 - p1, p1], axis=1)).round(2).tolist()
    [0.6, 0.2]
    """
    proba = np.asarray(proba, dtype=np.float64)
    n, K = proba.shape
    out = np.full(K, NEVER)
    if n == 0:
        return out
    ranked = -np.sort(-proba, axis=0)  # each column descending
    top_mass = np.cumsum(ranked, axis=0)
    total = top_mass[-1]
    r = np.arange(1, n + 1, dtype=np.float64)[:, None]
    ef1 = 2.0 * top_mass / (r + total[None, :])
    last_of_run = np.ones_like(ranked, dtype=bool)
    last_of_run[:-1] = ranked[1:] < ranked[:-1]
    ef1 = np.where(last_of_run, ef1, -1.0)
    best = ef1.argmax(axis=0)
    found = ef1[best, np.arange(K)] > 0
    out[found] = ranked[best, np.arange(K)][found]
    return out


def hard_labels(
    proba: np.ndarray,
    prior: np.ndarray,
    *,
    tie_break: TieBreak = "prior",
    seed: int = 0,
    objective: Objective = "accuracy",
    pos_label: int = 1,
    thresholds: np.ndarray | None = None,
) -> np.ndarray:
    """Hard labels from ``(n, K)`` probabilities (no abstain handling: that is the caller's policy).

    ``objective="accuracy"``: the most likely class; tied top classes are resolved by ``tie_break``:
    ``"prior"`` (the tied class with the largest ``prior``, then the lowest index), ``"random"``
    (seeded) or ``"abstain"`` (-1). ``objective="f1"``: ``pos_label`` wherever its probability reaches
    ``thresholds[pos_label]``, the most likely other class elsewhere.

    >>> p = np.array([[0.7, 0.3], [0.5, 0.5], [0.9, 0.1]])
    >>> hard_labels(p, np.array([0.4, 0.6])).tolist()
    [0, 1, 0]
    >>> hard_labels(p, np.array([0.4, 0.6]), objective="f1", thresholds=np.array([1.0, 0.25])).tolist()
    [1, 1, 0]
    """
    if tie_break not in ("abstain", "random", "prior"):
        raise ValueError(f"tie_break must be 'abstain', 'random' or 'prior', got {tie_break!r}")
    if objective not in ("accuracy", "f1"):
        raise ValueError(f"objective must be 'accuracy' or 'f1', got {objective!r}")
    n, K = proba.shape
    positive = np.zeros(n, dtype=bool)
    if objective == "f1":
        if not 0 <= int(pos_label) < K:
            raise ValueError(f"pos_label must be a class in 0..{K - 1}, got {pos_label!r}")
        if thresholds is None:
            raise ValueError("no F1 cuts were learned at fit time (a model saved by an older mmweak?): refit it")
        positive = proba[:, pos_label] >= thresholds[pos_label]
        proba = proba.copy()
        proba[:, pos_label] = -np.inf  # elsewhere: the best of the other classes
    top = proba.max(axis=1, keepdims=True)
    tied = proba >= top - 1e-9
    labels = proba.argmax(axis=1).astype(np.int64)
    multi = tied.sum(axis=1) > 1
    if multi.any():
        if tie_break == "abstain":
            labels[multi] = ABSTAIN
        elif tie_break == "prior":
            labels[multi] = np.where(tied[multi], prior[None, :], -np.inf).argmax(axis=1)
        else:
            u = np.random.default_rng(seed).random((int(multi.sum()), K))
            labels[multi] = np.where(tied[multi], u, -1.0).argmax(axis=1)
    labels[positive] = pos_label
    return labels


def tie_split_credit(scores: np.ndarray, y: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Per row, how right the argmax of ``scores`` is with its ties broken uniformly at random, in expectation:
    ``1/t`` when class ``y`` is among the ``t`` classes within ``tol`` of the row's top (``hard_labels``' ties),
    else 0. ``y`` holds classes (the caller drops or scores rows without gold).

    >>> tie_split_credit(np.array([[0.2, 0.8], [0.5, 0.5], [2, 2]]), np.array([1, 0, 1])).tolist()
    [1.0, 0.5, 0.5]
    """
    s = np.asarray(scores, dtype=np.float64)
    tied = s >= s.max(axis=1, keepdims=True) - tol
    return tied[np.arange(len(y)), y] / np.maximum(tied.sum(axis=1), 1)


def mean_se(d: np.ndarray) -> tuple[float, float]:
    """Mean and standard error of per-row differences (an infinite error under two rows).

    >>> mean_se(np.array([1.0, 3.0])), mean_se(np.array([2.0]))
    ((2.0, 1.0), (2.0, inf))
    """
    d = np.asarray(d, dtype=np.float64)
    if d.size < 2:
        return float(d.mean()) if d.size else 0.0, float("inf")
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size))


def lower_bound(d: np.ndarray, z: float) -> float:
    """``mean - z * standard error`` of per-row differences :func:`mean_se` measures."""
    mean, se = mean_se(d)
    return mean - z * se


__all__ = ["ABSTAIN", "NEVER", "SETTLED_RATIO", "Objective", "SELECTION_Z", "THRESHOLD_ROWS", "TieBreak",
           "all_in_one_class", "expected_f1_thresholds", "hard_labels", "labels_against_votes", "lower_bound",
           "mean_se", "one_class_against_votes", "settled_on_one_class", "tie_split_credit"]
