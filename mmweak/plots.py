"""PNG plots for the dataset card: LF coverage/accuracy bars, a reliability diagram, class balance.

matplotlib is imported inside the functions, and figures are drawn on an Agg canvas without pyplot, so
plotting never touches the caller's backend or global state. Every figure uses matplotlib's default style
(whatever the user's rc), a fixed size and dpi, and PNGs are written without the "Software" metadata
entry, so the same numbers give byte-identical files and a re-curation does not churn the repo.
"""

from __future__ import annotations

import io
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from .calibration import Reliability

DPI = 100
WIDTH = 8.0  # inches
#: Most LFs the card's LF chart draws (a bar pair each, 0.38 inch per LF): a crowd of 2,000 workers would make a
#: 760-inch image that takes minutes to draw; the card's LF table lists them all.
MAX_PLOTTED_LFS = 40
_COLORS = {"coverage": "#4C72B0", "overlaps": "#8172B3", "conflicts": "#C44E52",
           "estimated": "#55A868", "empirical": "#DD8452"}
_CYCLE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860")
_STRATEGY_COLORS = ("#333333", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#4C72B0", "#DA8BC3")


@contextmanager
def _figure(height: float) -> Iterator[Any]:
    """A fresh Agg-backed Figure of fixed size, drawn under matplotlib's default style."""
    import matplotlib
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context():
        matplotlib.style.use("default")
        fig = Figure(figsize=(WIDTH, height), dpi=DPI)
        FigureCanvasAgg(fig)
        yield fig


def _png(fig: Any, bottom: float = 0.0) -> bytes:
    """The figure as PNG bytes; ``bottom`` (figure fraction) is kept free for a figure legend."""
    fig.tight_layout(rect=(0.0, bottom, 1.0, 1.0))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _legend_below(fig: Any, axes: Sequence[Any], inches: float = 0.4) -> float:
    """One legend for ``axes`` along the figure's bottom edge; returns the height (in figure units) it takes."""
    handles, labels = [], []
    for ax in axes:
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    return inches / fig.get_figheight() if handles else 0.0


def _num(v: Any) -> float:
    return float("nan") if v is None else float(v)


def lf_bars_png(
    names: Sequence[str],
    coverage: Sequence[float],
    overlaps: Sequence[float],
    conflicts: Sequence[float],
    estimated_accuracy: Sequence[float | None] | None = None,
    empirical_accuracy: Sequence[float | None] | None = None,
    *,
    title: str = "",
) -> bytes:
    """Two panels of horizontal bars per LF: coverage/overlaps/conflicts, and estimated vs empirical accuracy.

    Missing accuracies (``None``) leave their bar out.

    >>> png = lf_bars_png(["a", "b"], [0.5, 0.2], [0.1, 0.1], [0.0, 0.1], [0.9, 0.7], [0.95, None])
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    import numpy as np

    m = len(names)
    with _figure(1.8 + 0.38 * m) as fig:
        left, right = fig.subplots(1, 2, sharey=True)
        y = np.arange(m)
        h = 0.27
        for i, (key, vals) in enumerate((("coverage", coverage), ("overlaps", overlaps), ("conflicts", conflicts))):
            left.barh(y + (i - 1) * h, [_num(v) for v in vals], height=h, color=_COLORS[key], label=key)
        left.set_xlim(0, 1)
        left.set_xlabel("share of rows")
        left.set_title("coverage, overlaps, conflicts", fontsize=10)
        left.set_yticks(y, list(names))
        left.invert_yaxis()
        series = [(key, accs, label) for key, accs, label in (
            ("estimated", estimated_accuracy, "estimated (label model)"),
            ("empirical", empirical_accuracy, "empirical (gold)")) if accs is not None]
        hh = 0.8 / max(len(series), 1)
        for i, (key, accs, label) in enumerate(series):
            right.barh(y + (i - (len(series) - 1) / 2) * hh, [_num(v) for v in accs], height=hh,
                       color=_COLORS[key], label=label)
        right.set_xlim(0, 1)
        right.set_xlabel("accuracy when voting")
        right.set_title("LF accuracy", fontsize=10)
        if not series:
            right.text(0.5, 0.5, "no accuracy available", ha="center", va="center", transform=right.transAxes)
        if title:
            fig.suptitle(title, fontsize=11)
        return _png(fig, _legend_below(fig, [left, right]))


def reliability_png(curves: Mapping[str, Reliability], *, title: str = "") -> bytes:
    """Reliability diagram: accuracy vs mean confidence per bin (one line per split), and rows per bin.

    >>> from mmweak.calibration import reliability
    >>> png = reliability_png({"test": reliability([[0.2, 0.8], [0.9, 0.1]], [1, 1])})
    >>> png[:4] == b"\\x89PNG"
    True
    """
    with _figure(5.6) as fig:
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
        top.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="perfect calibration")
        n = max(len(curves), 1)
        for i, (split, curve) in enumerate(curves.items()):
            color = _CYCLE[i % len(_CYCLE)]
            bins = curve.nonempty()
            ece = "-" if curve.ece is None else f"{curve.ece:.3f}"
            top.plot([b.confidence for b in bins], [b.accuracy for b in bins], marker="o", color=color,
                     label=f"{split} (ECE {ece}, {curve.rows} rows)")
            # Each split gets its own slot inside every bin so the bars of several splits do not overlap.
            widths = [(b.upper - b.lower) / (n + 1) for b in bins]
            lefts = [b.lower + (i + 0.5) * w for b, w in zip(bins, widths)]
            shares = [b.count / curve.rows for b in bins]
            bottom.bar(lefts, shares, width=widths, align="edge", color=color)
        top.set_xlim(0, 1)
        top.set_ylim(0, 1.02)
        top.set_ylabel("accuracy")
        top.set_title("reliability of the top-class probability (equal-width bins)", fontsize=10)
        top.legend(loc="upper left", fontsize=8)
        bottom.set_ylim(0, 1)
        bottom.set_xlabel("confidence (top-class probability)")
        bottom.set_ylabel("share of rows")
        if title:
            fig.suptitle(title, fontsize=11)
        return _png(fig)


def class_balance_png(labels: Sequence[str], series: Mapping[str, Sequence[float]], *, title: str = "") -> bytes:
    """Grouped bars of class shares, one group per class and one bar per series (estimated, gold...).

    >>> class_balance_png(["ham", "spam"], {"estimated": [0.4, 0.6], "gold (test)": [0.5, 0.5]})[:4]
    b'\\x89PNG'
    """
    import numpy as np

    with _figure(3.6) as fig:
        ax = fig.subplots()
        x = np.arange(len(labels))
        w = 0.8 / max(len(series), 1)
        for i, (name, vals) in enumerate(series.items()):
            bars = ax.bar(x + (i - (len(series) - 1) / 2) * w, [_num(v) for v in vals], width=w,
                          color=_CYCLE[i % len(_CYCLE)], label=name)
            ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
        ax.set_xticks(x, list(labels))
        ax.set_ylim(0, 1.1)
        ax.set_ylabel("share of rows")
        ax.set_title("class balance", fontsize=10)
        ax.legend(fontsize=8, loc="upper right")
        if title:
            fig.suptitle(title, fontsize=11)
        return _png(fig)


def learning_curve_png(
    series: Mapping[int, Mapping[str, Mapping[int, float]]], *, ylabel: str = "score", title: str = ""
) -> bytes:
    """Score vs reviewed rows: one panel per batch size, one line per selection strategy (``random`` dashed).

    ``series[batch][strategy]`` maps a number of reviewed rows to the mean score (0..1, shown in percent).

    >>> learning_curve_png({25: {"random": {0: 0.80, 25: 0.82}, "entropy": {0: 0.80, 25: 0.85}}})[:4]
    b'\\x89PNG'
    """
    batches = list(series)
    with _figure(3.4) as fig:
        axes = fig.subplots(1, max(len(batches), 1), sharey=True, squeeze=False)[0]
        for ax, b in zip(axes, batches):
            for i, (strategy, points) in enumerate(series[b].items()):
                if not points:
                    continue
                xs = sorted(points)
                ax.plot(xs, [100 * points[x] for x in xs], marker="o", markersize=3, color=_STRATEGY_COLORS[i % 8],
                        linestyle="--" if strategy == "random" else "-", label=strategy)
            ax.set_xlabel("reviewed rows")
            ax.set_title(f"batches of {b}", fontsize=10)
            ax.grid(alpha=0.3)
        axes[0].set_ylabel(ylabel + " (%)")
        handles, labels = axes[0].get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
        if title:
            fig.suptitle(title, fontsize=11)
        return _png(fig, (0.4 / fig.get_figheight()) if handles else 0.0)


def plotted_lfs(lfs: Sequence[Mapping[str, Any]]) -> tuple[list[Mapping[str, Any]], str]:
    """The LFs the chart draws, in their order: all, or the :data:`MAX_PLOTTED_LFS` with the highest coverage
    (ties: the earlier), and the words the chart's title adds to say which.

    >>> chosen, said = plotted_lfs([{"name": f"w{j}", "coverage": j / 100} for j in range(50)])
    >>> [lf["name"] for lf in chosen][:2], said
    (['w10', 'w11'], ' (40 of 50 LFs, those voting on the most rows)')
    """
    if len(lfs) <= MAX_PLOTTED_LFS:
        return list(lfs), ""
    top = sorted(range(len(lfs)), key=lambda j: -float(lfs[j].get("coverage") or 0.0))[:MAX_PLOTTED_LFS]
    return [lfs[j] for j in sorted(top)], f" ({MAX_PLOTTED_LFS} of {len(lfs)} LFs, those voting on the most rows)"


#: Every kind :func:`task_plots` draws (a push deletes only these of a task an earlier card had).
PLOT_KINDS = ("lfs", "reliability", "class_balance", "review_curve")


def task_plots(task: Mapping[str, Any]) -> dict[str, bytes]:
    """The PNGs for one task of the card (``mmweak.card.task_context``'s dict), keyed by plot kind.

    Kinds: ``lfs`` always, ``reliability`` when some split has gold, ``class_balance`` when a label model
    was fitted, ``review_curve`` when a review learning curve is attached (:mod:`mmweak.review`).
    """
    name = task["name"]
    lfs, shown = plotted_lfs(task["lfs"])
    has_emp = any(lf.get("empirical_accuracy") is not None for lf in lfs)
    has_est = any(lf.get("estimated_accuracy") is not None for lf in lfs)
    out = {
        "lfs": lf_bars_png(
            [lf["name"] for lf in lfs], [lf["coverage"] for lf in lfs], [lf["overlaps"] for lf in lfs],
            [lf["conflicts"] for lf in lfs],
            [lf.get("estimated_accuracy") for lf in lfs] if has_est else None,
            [lf.get("empirical_accuracy") for lf in lfs] if has_emp else None,
            # the gold accuracies come from the gold split (validation, say), the other bars from the stats split
            title=f"task {name}: labeling functions on {task['stats_split']}{shown}"
                  + (f"; gold accuracy on {task['gold_split']}" if has_emp and task.get("gold_split")
                     and task["gold_split"] != task["stats_split"] else ""),
        )
    }
    curves = {
        c["split"] + (", gold used in fit" if c.get("used_in_fit") else ""): c["report"].curves["width"]
        for c in task.get("calibration", []) if c["report"].rows
    }
    if curves:
        out["reliability"] = reliability_png(curves, title=f"task {name}: {task['columns']['probs']} vs gold")
    balance = task.get("class_balance") or {}
    if balance.get("series"):
        out["class_balance"] = class_balance_png(task["labels"], balance["series"], title=f"task {name}")
    curve = (task.get("review") or {}).get("curve")
    if curve:
        out["review_curve"] = learning_curve_png(curve["series"], ylabel=curve["ylabel"],
                                                 title=f"task {name}: label quality vs rows reviewed")
    return out


def write_task_plots(task: Mapping[str, Any], folder: str | os.PathLike, subdir: str = "plots") -> dict[str, str]:
    """Write :func:`task_plots` as ``<subdir>/<task>_<kind>.png`` under ``folder``; returns kind -> relative path.

    >>> import tempfile
    >>> from mmweak.calibration import calibration_report
    >>> task = {"name": "spam", "labels": ["ham", "spam"], "stats_split": "train",
    ...         "columns": {"probs": "spam_probs"},
    ...         "lfs": [{"name": "a", "coverage": 0.5, "overlaps": 0.1, "conflicts": 0.0}],
    ...         "calibration": [{"split": "test", "report": calibration_report([[0.3, 0.7]], [1])}]}
    >>> write_task_plots(task, tempfile.mkdtemp())
    {'lfs': 'plots/spam_lfs.png', 'reliability': 'plots/spam_reliability.png'}
    """
    root = Path(folder)
    written = {}
    for kind, png in task_plots(task).items():
        rel = f"{subdir}/{task['name']}_{kind}.png"
        (root / subdir).mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(png)
        written[kind] = rel
    return written
