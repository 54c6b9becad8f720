"""Pick an LF's vote threshold from a small labelled dev set, for a target precision or coverage.

Score-based LFs (CLIP zero-shot and alignment, sentence similarity, image statistics, pipeline
confidence) vote when a score passes a threshold. Hand-picked thresholds are guesses; with a few dozen
labelled rows :func:`calibrate_threshold` picks the threshold that

* maximises coverage while keeping the precision of the votes at or above ``target_precision``, or
* reaches ``target_coverage`` (fraction of dev rows voted on) with the highest threshold.

LFs with a ``calibrated(dev, ...)`` method collect their scores on the dev rows (:func:`dev_scores`)
and return a copy with the chosen threshold (:func:`calibrated_copy`: a new config, hence a new
fingerprint and fresh votes); :func:`calibrate_lf` is the whole round for LFs that vote their ``pred``
when one score passes one threshold. Text, image, audio and model LFs all calibrate through this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from mmweak.columns import read_column

__all__ = [
    "Calibration", "calibrate_lf", "calibrate_threshold", "calibrated_copy", "collect_scores", "dev_scores",
    "gold_labels",
]


@dataclass(frozen=True)
class Calibration:
    """A chosen threshold and what it achieves on the dev rows (vote when ``score >= threshold``)."""

    threshold: float
    precision: float
    coverage: float
    votes: int
    rows: int
    target: str
    met: bool
    why: str = ""  # why the target was not met

    def __str__(self) -> str:
        status = "met" if self.met else "NOT met" + (f" ({self.why})" if self.why else "")
        return (f"threshold {self.threshold:.4g}: precision {self.precision:.3f}, coverage {self.coverage:.3f} "
                f"({self.votes}/{self.rows} dev rows); target {self.target} {status}")


def calibrate_threshold(
    scores: ArrayLike,
    predicted: int | ArrayLike,
    gold: ArrayLike,
    *,
    target_precision: float | None = None,
    target_coverage: float | None = None,
    min_votes: int = 1,
) -> Calibration:
    """Threshold on ``scores`` for one of the two targets (exactly one must be given).

    Args:
        scores: one score per dev row; higher means more confident. NaN never votes.
        predicted: the class the LF votes when the score passes (one per row, or one for all rows);
            ``-1`` marks rows the LF cannot vote on whatever the threshold.
        gold: gold classes; rows with ``-1`` are ignored.
        target_precision: smallest acceptable precision of the votes; the threshold with the most
            votes that reaches it wins. If none reaches it, the most precise one is returned, ``met=False``.
        target_coverage: fraction of (gold-labelled) rows to vote on; the highest threshold reaching it wins.
        min_votes: a precision is only trusted on at least this many votes.

    The threshold sits halfway between the last score voted on and the next one down, so the dev
    rows are split exactly as reported and unseen scores get some slack.

    >>> scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    >>> gold   = [1,   1,   1,   0,   1,   0]
    >>> c = calibrate_threshold(scores, 1, gold, target_precision=0.8)
    >>> round(c.threshold, 3), round(c.precision, 2), c.votes, c.met
    (0.45, 0.8, 5, True)
    >>> calibrate_threshold(scores, 1, gold, target_coverage=0.5).votes
    3
    >>> print(calibrate_threshold([0.9, 0.8, 0.7, 0.6], 1, [1, 1, 1, 1], target_precision=0.9, min_votes=5))
    threshold 0.6: precision 1.000, coverage 1.000 (4/4 dev rows); target precision>=0.9 NOT met (reached, but on \
fewer than min_votes=5 dev votes)
    """
    if (target_precision is None) == (target_coverage is None):
        raise ValueError("give exactly one of target_precision and target_coverage")
    target = target_precision if target_precision is not None else target_coverage
    assert target is not None  # exactly one of the two was given
    if not 0.0 < float(target) <= 1.0:
        raise ValueError(f"targets are fractions in (0, 1], got {target}")
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(gold, dtype=np.int64).ravel()
    p = np.broadcast_to(np.asarray(predicted, dtype=np.int64), s.shape)
    if len(y) != len(s):
        raise ValueError(f"{len(s)} scores but {len(y)} gold labels")
    keep = y >= 0
    s, y, p = s[keep], y[keep], p[keep]
    n = len(s)
    if n == 0:
        raise ValueError("no gold-labelled dev rows to calibrate on")
    cand = (p >= 0) & np.isfinite(s)
    order = np.argsort(-s[cand], kind="stable")
    cs, correct = s[cand][order], (p[cand] == y[cand])[order]
    m = len(cs)
    what = f"precision>={target_precision}" if target_precision is not None else f"coverage>={target_coverage}"
    if m == 0:
        return Calibration(math.inf, 0.0, 0.0, 0, n, what, False, "the LF can vote on no dev row")
    # Only cut between distinct scores: a threshold cannot separate equal scores.
    ends = np.flatnonzero(np.r_[cs[1:] != cs[:-1], True])  # last index of each run of equal scores
    k = ends + 1  # votes when cutting after that run
    prec = np.cumsum(correct)[ends] / k
    cov = k / n
    why = ""
    if target_precision is not None:
        reached = prec >= target_precision - 1e-12
        ok = reached & (k >= min_votes)
        if ok.any():
            j, met = int(np.flatnonzero(ok)[-1]), True
        else:
            trusted = k >= min(min_votes, m)
            best = np.where(trusted, prec, -1.0)
            j, met = int(np.flatnonzero(best == best.max())[-1]), False
            why = (f"reached, but on fewer than min_votes={min_votes} dev votes" if reached.any() else
                   f"no threshold reaches it; the most precise with at least {min(min_votes, m)} votes is kept")
    else:
        ok = cov >= target - 1e-12
        j, met = (int(np.flatnonzero(ok)[0]), True) if ok.any() else (len(k) - 1, False)
        why = "" if met else f"the LF can vote on {m} of the {n} dev rows only"
    last = cs[ends[j]]
    nxt = cs[ends[j] + 1] if ends[j] + 1 < m else None
    # Below every voted score: the lowest score itself still votes, also once negated (``sim < below``).
    threshold = float(np.nextafter(last, -np.inf) if nxt is None else (last + nxt) / 2.0)
    return Calibration(threshold, float(prec[j]), float(cov[j]), int(k[j]), n, what, met, why)


def collect_scores(
    dataset: Any, columns: Sequence[str], score_batch: Callable[[Mapping[str, list]], Any], *, batch_size: int = 64
) -> list[Any]:
    """Run ``score_batch`` over a ``Dataset`` (or a dict of lists) in batches, sharing decoding and
    embeddings between LFs within each batch; returns the per-batch results in order.

    >>> collect_scores({"x": [1, 2, 3]}, ["x"], lambda b: sum(b["x"]), batch_size=2)
    [3, 3]
    """
    from mmweak.batch_memo import batch_scope

    if isinstance(dataset, Mapping):
        n = len(dataset[columns[0]])
        batches = ({c: list(dataset[c][i: i + batch_size]) for c in columns} for i in range(0, n, batch_size))
    else:
        batches = dataset.select_columns(list(columns)).iter(batch_size=batch_size)
    out = []
    for batch in batches:
        with batch_scope():
            out.append(score_batch(batch))
    return out


def gold_labels(dev: Any, column: str, task: Any = None) -> np.ndarray:
    """The gold class indices of a dev ``Dataset`` (or dict of lists), ``-1`` = unlabelled. With the LF's ``task``,
    gold may be class names (or a ``ClassLabel`` in another order) as :func:`mmweak.aggregate` reads it.

    >>> from mmweak import Task
    >>> gold_labels({"y": ["spam", None, "ham"]}, "y", Task("spam", ["ham", "spam"])).tolist()
    [1, -1, 0]
    """
    from datasets import Dataset

    try:
        if task is not None:
            from mmweak.gold import read_gold

            ds = dev if isinstance(dev, Dataset) else Dataset.from_dict({column: list(dev[column])})
            return read_gold(ds, column, task)
        if hasattr(dev, "data") and hasattr(dev, "column_names"):  # a datasets.Dataset: read through Arrow
            return read_column(dev, column, np.int64)
        return np.asarray(dev[column], dtype=np.int64)
    except KeyError:
        raise ValueError(f"calibration needs a gold column {column!r} in the dev set") from None
    except ValueError as exc:
        raise ValueError(f"calibration needs a gold column {column!r} of classes in the dev set: {exc}") from None


def calibrated_copy(lf: Any, attr: str, cal: Calibration) -> Any:
    """A copy of ``lf`` with threshold attribute ``attr`` set from ``cal`` and ``lf.calibration = cal``.

    The threshold is part of the LF's config, so the copy has its own fingerprint and fresh votes.

    >>> class Toy:
    ...     name, cut = "toy", 0.5
    >>> new = calibrated_copy(Toy(), "cut", Calibration(0.7, 1.0, 0.4, 2, 5, "precision>=0.9", True))
    >>> new.cut, new.calibration.met
    (0.7, True)
    """
    import copy

    if not math.isfinite(cal.threshold):
        raise ValueError(f"LF {lf.name!r}: calibration found no dev row it could vote on ({cal})")
    new = copy.copy(lf)
    setattr(new, attr, cal.threshold)
    new.calibration = cal
    return new


def dev_scores(lf: Any, dev: Any, *, batch_size: int = 64) -> dict[str, np.ndarray]:
    """``lf.scores(batch)`` over every ``dev`` row, each key's per-batch arrays joined into one.

    Args:
        lf: an LF with ``inputs`` and a ``scores(batch)`` method returning a dict of per-row arrays.
        dev: a ``Dataset`` or a dict of lists holding the LF's input columns.
        batch_size: rows per call (decoding and embeddings are shared between LFs within a batch).

    Returns:
        Key -> one array with a value per dev row.

    Raises:
        ValueError: ``dev`` has no rows.

    >>> class Toy:
    ...     inputs = ("x",)
    ...     def scores(self, batch):
    ...         return {"score": np.asarray(batch["x"], dtype=float)}
    >>> dev_scores(Toy(), {"x": [1, 2, 3]}, batch_size=2)["score"].tolist()
    [1.0, 2.0, 3.0]
    """
    parts = collect_scores(dev, lf.inputs, lf.scores, batch_size=batch_size)
    if not parts:
        raise ValueError(f"LF {getattr(lf, 'name', lf)!r}: the dev set has no rows to calibrate on")
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def calibrate_lf(
    lf: Any, attr: str, dev: Any, *, gold: str = "label", score: str = "score",
    target_precision: float | None = None, target_coverage: float | None = None, min_votes: int = 1,
    batch_size: int = 64,
) -> Any:
    """A copy of ``lf`` whose threshold ``attr`` is chosen on labelled ``dev`` rows.

    For LFs whose ``scores(batch)`` return ``pred`` (the class voted, ``-1`` where none) and a
    ``score`` that must reach the threshold ``attr`` for the vote to count.

    Args:
        lf: the LF to calibrate (it is not changed).
        attr: name of its threshold attribute (``"min_score"``, ``"min_similarity"``...).
        dev: a ``Dataset`` or dict of lists with the LF's input columns and ``gold``.
        gold: the column of gold class indices (``-1`` = unlabelled).
        score: the key of ``scores(batch)`` compared with the threshold.
        target_precision, target_coverage, min_votes: as in :func:`calibrate_threshold`.
        batch_size: rows per scoring call.

    Returns:
        The copy, with ``calibration`` (a :class:`Calibration`) set.

    Raises:
        ValueError: no dev rows, no gold column, no gold-labelled row, or no row the LF could vote on.

    >>> class Toy:
    ...     name, inputs, cut = "toy", ("x",), 0.0
    ...     def scores(self, batch):
    ...         return {"pred": np.ones(len(batch["x"]), np.int64), "score": np.asarray(batch["x"], float)}
    >>> dev = {"x": [0.9, 0.8, 0.3, 0.2], "label": [1, 1, 0, 0]}
    >>> new = calibrate_lf(Toy(), "cut", dev, target_precision=1.0)
    >>> round(new.cut, 2), new.calibration.votes
    (0.55, 2)
    """
    s = dev_scores(lf, dev, batch_size=batch_size)
    cal = calibrate_threshold(s[score], s["pred"], gold_labels(dev, gold, getattr(lf, "task", None)),
                              target_precision=target_precision,
                              target_coverage=target_coverage, min_votes=min_votes)
    return calibrated_copy(lf, attr, cal)
