"""Does the review loop pay? Replay it with gold labels standing in for the annotators.

:func:`simulate` runs the loop a real review would: select a batch with a strategy, "annotate" it with the
gold labels of the fit split, refit the label model with every reviewed row clamped (exactly as
:func:`mmweak.aggregate` does), and score the labels of a held-out split — round after round, per
strategy, batch size and seed. The label model never sees the held-out split's gold.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from datasets import Dataset, DatasetDict
from tqdm.auto import tqdm

from ..aggregate import ModelSpec, _build, fit_with_reviews
from ..columns import read_matrix, split_dict
from ..gold import read_gold
from ..labelmodels.decision import Objective
from ..provenance import read_record, task_record, write_record
from ..task import Task
from .selection import STRATEGIES, pick_rows, resolve_task


@dataclass
class LearningCurve:
    """Scores of the label model against the number of reviewed rows, per strategy, batch size and seed.

    ``points`` holds one dict per measurement: ``strategy``, ``batch``, ``seed``, ``reviewed`` (rows
    reviewed so far) and ``score`` (``metric`` on ``eval_split``, in [0, 1]).
    """

    task: str
    metric: str
    eval_split: str
    fit_split: str
    model: str
    points: list[dict[str, Any]] = field(default_factory=list)
    dataset: str = ""

    def strategies(self) -> list[str]:
        return list(dict.fromkeys(p["strategy"] for p in self.points))

    def batches(self) -> list[int]:
        return sorted({int(p["batch"]) for p in self.points})

    def mean(self, strategy: str, batch: int) -> dict[int, float]:
        """Mean score over seeds at each number of reviewed rows."""
        acc: dict[int, list[float]] = {}
        for p in self.points:
            if p["strategy"] == strategy and int(p["batch"]) == int(batch):
                acc.setdefault(int(p["reviewed"]), []).append(float(p["score"]))
        return {k: float(np.mean(v)) for k, v in sorted(acc.items())}

    def rows_to_reach(self, strategy: str, batch: int, target: float, tol: float = 1e-9) -> int | None:
        """The fewest reviewed rows at which the mean score reaches ``target`` (``None`` if it never does)."""
        for k, v in self.mean(strategy, batch).items():
            if v >= target - tol:
                return k
        return None

    def table(self, reviewed: Sequence[int] | None = None) -> list[dict[str | int, Any]]:
        """Rows of mean scores: one per strategy and batch size, columns = numbers of reviewed rows."""
        out: list[dict[str | int, Any]] = []
        for b in self.batches():
            for s in self.strategies():
                m = self.mean(s, b)
                if not m:
                    continue
                cols = reviewed if reviewed is not None else list(m)
                out.append({"strategy": s, "batch": b, **{int(k): m.get(int(k)) for k in cols}})
        return out

    def to_markdown(self, reviewed: Sequence[int] | None = None) -> str:
        """The :meth:`table` as a Markdown table (scores in percent)."""
        rows = self.table(reviewed)
        cols = [k for k in rows[0] if isinstance(k, int)] if rows else []
        head = "| strategy | batch | " + " | ".join(f"{c} rows" for c in cols) + " |"
        lines = [head, "|---|---:|" + "---:|" * len(cols)]
        for r in rows:
            cells = ["-" if r[c] is None else f"{100 * r[c]:.2f}" for c in cols]
            lines.append(f"| {r['strategy']} | {r['batch']} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def png(self, title: str | None = None) -> bytes:
        """Line plot of mean score vs reviewed rows, one line per strategy (one panel per batch size)."""
        from ..plots import learning_curve_png

        series = {b: {s: self.mean(s, b) for s in self.strategies()} for b in self.batches()}
        label = f"{self.metric} on {self.eval_split}"
        return learning_curve_png(
            series, ylabel=label, title=title or f"{self.dataset or self.task}: review learning curve"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "LearningCurve":
        return cls(
            **{k: data[k] for k in ("task", "metric", "eval_split", "fit_split", "model")},
            points=[dict(p) for p in data.get("points", [])],
            dataset=data.get("dataset", ""),
        )

    def compact(self) -> dict[str, Any]:
        """Mean curves only (JSON/YAML-friendly): what :meth:`attach` records and the card shows."""
        return {
            "task": self.task,
            "dataset": self.dataset,
            "metric": self.metric,
            "eval_split": self.eval_split,
            "fit_split": self.fit_split,
            "model": self.model,
            "seeds": sorted({int(p["seed"]) for p in self.points}),
            "series": [
                {"batch": b, "strategy": s, "reviewed": list(m), "score": [round(v, 6) for v in m.values()]}
                for b in self.batches()
                for s in self.strategies()
                if (m := self.mean(s, b))
            ],
        }

    def attach(self, ds: Dataset | DatasetDict) -> None:
        """Record this curve (its means) with ``ds``, in place, so the card's human-review section shows it."""
        record = read_record(ds)
        entry = task_record(record, self.task)
        entry["review"] = {**(entry.get("review") or {}), "learning_curve": self.compact()}
        write_record(ds, record)


#: Reviewed-row counts shown as columns of the card's learning-curve table (those the curve has).
CARD_COLUMNS = (0, 25, 50, 100, 150, 200, 300, 400)


def curve_context(compact: Mapping[str, Any]) -> dict[str, Any]:
    """What the card shows of an attached curve: the mean table, the plot series, and for each batch size
    the rows the best strategy needed to match what ``random`` reached with the most rows up to 200.

    >>> curve = {"series": [{"batch": 10, "strategy": "random", "reviewed": [0, 10, 20], "score": [.98, .97, .972]},
    ...                     {"batch": 10, "strategy": "entropy", "reviewed": [0, 10, 20], "score": [.98, .96, .975]}]}
    >>> g = curve_context(curve)["goals"][0]  # review lost ground: the shared start at 0 rows matches nothing
    >>> g["random_score"], g["start_score"], g["best"], g["best_rows"]
    (0.972, 0.98, 'entropy', 20)
    """
    series: dict[int, dict[str, dict[int, float]]] = {}
    for item in compact.get("series", []):
        series.setdefault(int(item["batch"]), {})[str(item["strategy"])] = {
            int(r): float(v) for r, v in zip(item["reviewed"], item["score"])
        }
    present = sorted({r for b in series.values() for m in b.values() for r in m})
    cols = [c for c in CARD_COLUMNS if c in present] or present[:8]
    rows, goals = [], []
    for b, by_strategy in sorted(series.items()):
        for s, m in by_strategy.items():
            rows.append({"strategy": s, "batch": b, "scores": [m.get(c) for c in cols]})
        rnd = by_strategy.get("random") or {}
        within = [r for r in rnd if r <= 200]
        if within:
            at = max(within)
            target = rnd[at]
            start = rnd.get(0)
            best = None
            for s, m in by_strategy.items():
                if s == "random":
                    continue
                # Where random review lost ground, every strategy "matches" it at 0 rows, their shared start:
                # only rows that were reviewed count
                need = next((r for r, v in sorted(m.items())
                             if v >= target - 1e-9 and (r > 0 or start is None or target > start)), None)
                if need is not None and (best is None or need < best[1]):
                    best = (s, need)
            goals.append(
                {
                    "batch": b,
                    "random_rows": at,
                    "random_score": target,
                    "start_score": start,
                    "best": best[0] if best else None,
                    "best_rows": best[1] if best else None,
                }
            )
    return {
        "columns": cols,
        "rows": rows,
        "goals": goals,
        "series": series,
        "ylabel": f"{compact.get('metric', 'score')} on {compact.get('eval_split', '?')}",
        **{k: compact.get(k) for k in ("dataset", "metric", "eval_split", "fit_split", "model", "seeds")},
    }


def score_labels(y: np.ndarray, pred: np.ndarray, metric: str, pos_label: int = 1) -> float:
    """Accuracy, or the F1 of ``pos_label``, of ``pred`` on the rows with gold (``y >= 0``).

    >>> score_labels(np.array([1, 0, 1]), np.array([1, 1, 1]), "f1")
    0.8
    """
    known = y >= 0
    y, pred = y[known], pred[known]
    if metric == "accuracy":
        return float((y == pred).mean()) if y.size else math.nan
    if metric != "f1":
        raise ValueError(f"metric must be 'accuracy' or 'f1', got {metric!r}")
    tp = float(((pred == pos_label) & (y == pos_label)).sum())
    fp = float(((pred == pos_label) & (y != pos_label)).sum())
    fn = float(((pred != pos_label) & (y == pos_label)).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def simulate(
    ds: Dataset | DatasetDict,
    task: Task | str,
    *,
    gold: str,
    strategies: Iterable[str] = ("random", "entropy", "impact"),
    batch_sizes: Iterable[int] = (25,),
    budget: int = 200,
    seeds: Iterable[int] = (0, 1, 2),
    fit_split: str = "train",
    eval_split: str = "test",
    model: ModelSpec = None,
    metric: str = "accuracy",
    pos_label: int = 1,
    embedding: np.ndarray | None = None,
    progress: bool = True,
) -> LearningCurve:
    """Replay the review loop with ``gold`` as the annotators and measure the label model after each round.

    Each run starts with no reviewed rows, then repeats: choose ``batch`` unreviewed rows of ``fit_split``
    with the strategy (seed = run seed + round), reveal their gold, refit with all reviewed rows clamped
    (:func:`mmweak.aggregate.fit_with_reviews`), score ``eval_split``. Every eval row is scored; rows no
    LF voted on get the label of their no-vote probabilities (the WRENCH protocol). ``metric="f1"`` labels
    with the model's F1 rule (``objective="f1"``) and scores the F1 of ``pos_label``.

    Args:
        ds: a dataset with ``T_votes`` in ``fit_split`` and ``eval_split`` and the ``gold`` column in both.
        task: the task (or its name).
        gold: the gold-label column (``-1`` = unknown: such rows are never chosen, nor scored).
        strategies: selection strategies to compare (see :mod:`mmweak.review.selection`).
        batch_sizes: rows per round.
        budget: stop once this many rows are reviewed.
        seeds: one run per seed.
        fit_split, eval_split: where rows are reviewed / where labels are scored.
        model: label model (name, template or ``None`` = the default), refitted every round.
        metric: ``"accuracy"`` or ``"f1"``.
        pos_label: the class whose F1 is scored.
        embedding: ``(rows of fit_split, d)`` vectors for ``diverse``.
        progress: show a progress bar.

    Returns:
        A :class:`LearningCurve` (the first point of every run is ``reviewed = 0``).

    Raises:
        ValueError: missing splits or columns, unknown strategy or metric.

    >>> import datasets, mmweak, numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 400)
    >>> votes = np.where(rng.random((400, 3)) < 0.8, y[:, None], 1 - y[:, None])
    >>> t = mmweak.Task("t", ["a", "b"])
    >>> lfs = [mmweak.labeling_function(task=t, inputs="v", name=f"lf{j}")(
    ...            lambda b, j=j: [v[j] for v in b["v"]]) for j in range(3)]
    >>> ds = datasets.DatasetDict({s: datasets.Dataset.from_dict({"v": votes[i].tolist(), "y": y[i].tolist()})
    ...                            for s, i in (("train", slice(0, 300)), ("test", slice(300, 400)))})
    >>> curve = simulate(mmweak.apply_lfs(ds, lfs), t, gold="y", strategies=["random"], batch_sizes=[20],
    ...                  budget=40, seeds=[0], progress=False)
    >>> sorted(curve.mean("random", 20))
    [0, 20, 40]
    """
    task = resolve_task(ds, task)
    splits = split_dict(ds)
    for s in (fit_split, eval_split):
        if s not in splits:
            raise ValueError(f"split {s!r} not in {list(splits)}")
        for c in (task.votes_column, gold):
            if c not in splits[s].column_names:
                raise ValueError(f"split {s!r} has no column {c!r}")
    strategies = list(strategies)
    for s in strategies:
        if s not in STRATEGIES or s == "ties":  # a simulated reviewer answers once per row: nothing ties
            raise ValueError(f"unknown selection strategy {s!r} for a simulated review; choose from "
                             f"{[x for x in STRATEGIES if x != 'ties']}")
    objective: Objective = "f1" if metric == "f1" else "accuracy"
    if metric not in ("accuracy", "f1"):
        raise ValueError(f"metric must be 'accuracy' or 'f1', got {metric!r}")
    L = read_matrix(splits[fit_split], task.votes_column)
    y = read_gold(splits[fit_split], gold, task, split=fit_split)
    L_eval = read_matrix(splits[eval_split], task.votes_column)
    y_eval = read_gold(splits[eval_split], gold, task, split=eval_split)
    if embedding is not None and np.asarray(embedding).shape[0] != L.shape[0]:
        raise ValueError(f"embedding has {np.asarray(embedding).shape[0]} rows, split {fit_split!r} has {L.shape[0]}")
    batch_sizes = [int(b) for b in batch_sizes]
    seeds = [int(s) for s in seeds]
    template = _build(model, task)
    if "objective" in template.get_params():  # a model that selects by its labels' metric is told the curve's
        template.set_params(objective=objective, pos_label=pos_label)
    curve = LearningCurve(
        task=task.name, metric=metric, eval_split=eval_split, fit_split=fit_split, model=template.name
    )
    answerable = y >= 0
    runs = [(s, b, seed) for b in batch_sizes for s in strategies for seed in seeds]
    rounds_total = sum(math.ceil(budget / b) + 1 for _, b, _ in runs)
    bar = tqdm(total=rounds_total, desc=f"mmweak review simulation ({task.name})", disable=not progress)
    K = task.cardinality
    for strategy, batch, seed in runs:
        reviewed = np.zeros(L.shape[0], dtype=bool)
        at_random = np.zeros(L.shape[0], dtype=bool)  # reviewed rows drawn at random: they judge the fit
        rnd = 0
        while True:
            rows = np.flatnonzero(reviewed)
            lm = _build(template, task)
            lm.set_params(random_state=seed)
            lm = fit_with_reviews(lm, L, reviewed_rows=rows, reviewed_labels=y[rows],
                                  reviewed_at_random=at_random[rows])
            proba = lm.predict_proba(L_eval)
            pred = lm.labels_from_proba(proba, None, objective=objective, pos_label=pos_label)
            curve.points.append(
                {
                    "strategy": strategy,
                    "batch": batch,
                    "seed": seed,
                    "reviewed": int(rows.size),
                    "score": score_labels(y_eval, pred, metric, pos_label),
                }
            )
            bar.update(1)
            if rows.size >= budget or not (answerable & ~reviewed).any():
                break
            # Exactly what select() would read from the dataset: float32 T_probs, reviewed rows clamped.
            probs = lm.predict_proba(L).astype(np.float32).astype(np.float64)
            probs[rows] = np.eye(K)[y[rows]]
            picks = pick_rows(
                strategy,
                votes=L,
                probs=probs,
                labels=task.labels,
                n=min(batch, budget - rows.size),
                candidates=answerable & ~reviewed,
                seed=seed * 100_003 + rnd,
                embedding=embedding,
                reviewed=reviewed,
                reviewed_at_random=int(at_random.sum()),
            )
            if picks.rows.size == 0:
                break
            reviewed[picks.rows] = True
            at_random[picks.rows] = np.asarray(picks.strategies(strategy)) == "random"
            rnd += 1
    bar.close()
    return curve
