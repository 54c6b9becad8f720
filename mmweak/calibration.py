"""How well probabilistic labels are calibrated against gold: reliability bins, ECE and Brier score.

A label model that says "0.9 spam" should be right about 90% of the time on such rows. These
functions measure that on the rows where gold is known (gold ``-1`` = unknown, skipped).

Conventions (stated in the card next to every number):

* **confidence** of a row is its top-class probability; the row counts as **correct** when the gold
  class is the top class. When several classes tie for the top, the row gets fractional credit
  ``1 / n_tied`` if gold is among them, so ties are neither rewarded nor punished by index order.
* **ECE** (expected calibration error) is ``sum_b (n_b / n) * |accuracy_b - confidence_b|`` over bins
  ``b`` of the confidence. ``"width"`` bins split ``[0, 1]`` into ``n_bins`` equal-width intervals;
  ``"mass"`` bins put their edges at the confidence quantiles so each holds about ``n / n_bins`` rows
  (rows with identical confidence always share a bin, so ties can leave fewer, unequal bins).
* **Brier score** is ``mean_i sum_k (p_ik - [y_i = k])^2`` (0 is perfect, 2 the worst for any K).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Sequence, cast

import numpy as np

from .labelmodels.decision import tie_split_credit

Binning = Literal["width", "mass"]
BINNINGS: tuple[Binning, ...] = ("width", "mass")
DEFAULT_BINS = 10


def _gold_rows(probs: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validated ``(n, K)`` float64 probabilities and int gold of the rows whose gold is known."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"probs must be an (n, K) matrix with K >= 2, got shape {p.shape}")
    yy = np.asarray(y, dtype=np.int64).ravel()
    if yy.shape[0] != p.shape[0]:
        raise ValueError(f"probs has {p.shape[0]} rows but y has {yy.shape[0]}")
    known = yy >= 0
    if np.any(yy >= p.shape[1]):
        r = int(np.argmax(yy >= p.shape[1]))
        raise ValueError(f"gold y[{r}] = {yy[r]} is outside 0..{p.shape[1] - 1}")
    p, yy = p[known], yy[known]
    if not np.isfinite(p).all():
        r = int(np.argwhere(~np.isfinite(p))[0, 0])
        raise ValueError(f"probs row {r} (among rows with gold) is not finite: {p[r].tolist()}")
    return p, yy


def top_label(probs: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per gold row: the top-class confidence and the (fractional, for ties) correctness.

    >>> conf, correct = top_label([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]], [1, 0, 1])
    >>> conf.tolist(), correct.tolist()
    ([0.8, 0.5, 0.9], [1.0, 0.5, 0.0])
    """
    p, yy = _gold_rows(probs, y)
    if not len(p):
        return np.zeros(0), np.zeros(0)
    return p.max(axis=1), tie_split_credit(p, yy)


def brier_score(probs: Any, y: Any) -> float | None:
    """Multi-class Brier score of ``probs`` against gold ``y`` (rows with ``y == -1`` skipped).

    ``None`` when no row has gold.

    >>> brier_score([[0.2, 0.8], [1.0, 0.0]], [1, 1])
    1.04
    """
    p, yy = _gold_rows(probs, y)
    if not len(yy):
        return None
    onehot = np.eye(p.shape[1])[yy]
    return float(np.round(((p - onehot) ** 2).sum(axis=1).mean(), 12))


def bin_edges(confidence: Any, n_bins: int = DEFAULT_BINS, binning: Binning = "width") -> np.ndarray:
    """Bin edges over ``[0, 1]`` for ``confidence`` values: equal width, or at the quantiles (equal mass).

    >>> bin_edges([0.6, 0.7], 4).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> bin_edges([0.6, 0.6, 0.7, 0.9], 2, "mass").tolist()
    [0.0, 0.65, 1.0]
    """
    if int(n_bins) < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    if binning == "width":
        return np.round(np.linspace(0.0, 1.0, int(n_bins) + 1), 12)
    if binning != "mass":
        raise ValueError(f"binning must be one of {BINNINGS}, got {binning!r}")
    c = np.sort(np.asarray(confidence, dtype=np.float64).ravel())
    if not len(c):
        return np.array([0.0, 1.0])
    inner = np.quantile(c, np.arange(1, int(n_bins)) / int(n_bins))
    # An edge equal to a confidence value would split identical rows only by float noise; keep distinct
    # interior edges strictly inside (0, 1) so every row lands in exactly one bin.
    inner = np.unique(np.round(inner, 12))
    inner = inner[(inner > 0.0) & (inner < 1.0)]
    return np.concatenate([[0.0], inner, [1.0]])


@dataclass(frozen=True)
class ReliabilityBin:
    """One confidence bin: its interval, row count, mean confidence, accuracy and their gap."""

    lower: float
    upper: float
    count: int
    confidence: float | None
    accuracy: float | None

    @property
    def gap(self) -> float | None:
        """``accuracy - confidence``: negative means over-confident."""
        if self.count == 0 or self.accuracy is None or self.confidence is None:
            return None
        return self.accuracy - self.confidence


@dataclass(frozen=True)
class Reliability:
    """A reliability curve plus its summary numbers; ``bins`` includes empty bins (count 0)."""

    binning: Binning
    n_bins: int
    rows: int
    bins: tuple[ReliabilityBin, ...]
    ece: float | None
    mce: float | None

    def nonempty(self) -> list[ReliabilityBin]:
        """The bins that hold at least one row."""
        return [b for b in self.bins if b.count]

    def to_dict(self) -> dict[str, Any]:
        """JSON/YAML-ready form (plain floats and ints)."""
        out = asdict(self)
        out["bins"] = [asdict(b) for b in self.bins]
        return out


def reliability(probs: Any, y: Any, n_bins: int = DEFAULT_BINS, binning: Binning = "width") -> Reliability:
    """Reliability curve of top-label confidence vs accuracy, with ECE and MCE (max gap over bins).

    Bins are half-open ``[lower, upper)`` except the last, which includes 1.0.

    >>> r = reliability([[0.2, 0.8], [0.3, 0.7], [0.9, 0.1], [0.6, 0.4]], [1, 0, 0, 0], n_bins=2)
    >>> [(b.count, b.confidence, b.accuracy) for b in r.nonempty()]
    [(4, 0.75, 0.75)]
    >>> r.ece
    0.0
    """
    conf, correct = top_label(probs, y)
    edges = bin_edges(conf, n_bins, binning)
    idx = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, len(edges) - 2)
    bins = []
    ece, mce = 0.0, 0.0
    n = len(conf)
    for b in range(len(edges) - 1):
        sel = idx == b
        k = int(sel.sum())
        c = float(conf[sel].mean()) if k else None
        a = float(correct[sel].mean()) if k else None
        bins.append(ReliabilityBin(float(edges[b]), float(edges[b + 1]), k, c, a))
        if k:
            assert a is not None and c is not None  # a bin with rows has both
            gap = abs(a - c)
            ece += k / n * gap
            mce = max(mce, gap)
    return Reliability(
        binning=binning, n_bins=int(n_bins), rows=n, bins=tuple(bins),
        ece=float(np.round(ece, 12)) if n else None, mce=float(np.round(mce, 12)) if n else None,
    )


def expected_calibration_error(
    probs: Any, y: Any, n_bins: int = DEFAULT_BINS, binning: Binning = "width"
) -> float | None:
    """ECE of ``probs`` against gold ``y`` (``None`` when no row has gold); see :func:`reliability`.

    >>> expected_calibration_error([[0.1, 0.9], [0.1, 0.9]], [1, 0], n_bins=10)
    0.4
    """
    return reliability(probs, y, n_bins, binning).ece


@dataclass
class CalibrationReport:
    """Calibration of one split's probabilistic labels: Brier score and one reliability curve per binning."""

    rows: int
    brier: float | None
    curves: dict[str, Reliability] = field(default_factory=dict)

    def ece(self, binning: Binning = "width") -> float | None:
        """ECE under ``binning`` (must be one the report was computed with)."""
        return self.curves[binning].ece

    def to_dict(self) -> dict[str, Any]:
        """Compact JSON/YAML-ready summary: rows, Brier, ECE/MCE per binning and the non-empty bins."""
        out: dict[str, Any] = {"rows": self.rows, "brier": self.brier}
        for name, c in self.curves.items():
            out[f"ece_{name}"] = c.ece
            out[f"mce_{name}"] = c.mce
        out["n_bins"] = next(iter(self.curves.values())).n_bins if self.curves else None
        out["bins_width"] = [  # non-empty bins have a confidence and an accuracy
            {"lower": round(b.lower, 6), "upper": round(b.upper, 6), "count": b.count,
             "confidence": round(cast(float, b.confidence), 6), "accuracy": round(cast(float, b.accuracy), 6)}
            for b in self.curves["width"].nonempty()
        ] if "width" in self.curves else []
        return out


def calibration_report(
    probs: Any, y: Any, n_bins: int = DEFAULT_BINS, binnings: Sequence[Binning] = BINNINGS
) -> CalibrationReport:
    """Brier score plus a reliability curve (ECE, MCE) for each binning, on the rows with gold.

    >>> rep = calibration_report([[0.2, 0.8], [0.9, 0.1], [0.4, 0.6]], [1, 0, 0], n_bins=5)
    >>> rep.rows, round(rep.brier, 4), round(rep.ece("width"), 4)
    (3, 0.2733, 0.3)
    """
    conf, _ = top_label(probs, y)
    return CalibrationReport(
        rows=len(conf), brier=brier_score(probs, y),
        curves={b: reliability(probs, y, n_bins, b) for b in binnings},
    )
