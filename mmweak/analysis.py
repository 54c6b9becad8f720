"""How each LF behaves (polarity, coverage, overlaps, conflicts, accuracy) and how good the labels are."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from datasets import Dataset, DatasetDict

from .aggregate import human_gold_column
from .calibration import brier_score, expected_calibration_error
from .columns import read_column, read_matrix
from .gold import read_gold
from .labelmodels.decision import hard_labels, tie_split_credit
from .labelmodels.validation import check_votes
from .provenance import read_record
from .task import ABSTAIN, Task


def lf_summary(
    L: Any,
    cardinality: int,
    *,
    names: Sequence[str] | None = None,
    y: Any = None,
    estimated_accuracy: Sequence[float | None] | None = None,
) -> list[dict[str, Any]]:
    """Per-LF statistics of a vote matrix (one dict per LF, in column order).

    ``coverage``: share of rows the LF votes on; ``overlaps``: share of rows where it and at least one
    other LF vote; ``conflicts``: share where another LF votes a different class (Snorkel's ``LFAnalysis``
    definitions). With gold ``y`` (``-1`` = unknown) also ``correct``, ``incorrect`` and ``empirical_accuracy``,
    which is ``None`` for an LF that votes on no gold row (Snorkel reports 0 there, as if it were always wrong).

    >>> rows = lf_summary([[1, 1], [0, -1], [1, 0]], 2, names=["a", "b"], y=[1, 0, 0])
    >>> rows[0]["coverage"], rows[1]["conflicts"], rows[0]["empirical_accuracy"]
    (1.0, 0.3333333333333333, 0.6666666666666666)
    """
    L = check_votes(L, cardinality).astype(np.int16)
    n, m = L.shape
    names = list(names) if names is not None else [f"lf_{j}" for j in range(m)]
    if len(names) != m:
        raise ValueError(f"{len(names)} names for {m} LF columns")
    rows = lf_rows(lf_counts(L, cardinality), names, estimated_accuracy)
    if y is not None:
        yy = np.asarray(y, dtype=np.int64).ravel()
        if yy.shape[0] != n:
            raise ValueError(f"y has {yy.shape[0]} labels for {n} rows")
        for j, row in enumerate(rows):
            known = (L[:, j] != ABSTAIN) & (yy >= 0)
            correct = int((L[known, j] == yy[known]).sum())
            row["correct"] = correct
            row["incorrect"] = int(known.sum()) - correct
            row["empirical_accuracy"] = float(correct / known.sum()) if known.any() else None
            if estimated_accuracy is not None:  # keep the key order of the table: gold before the estimate
                row["estimated_accuracy"] = row.pop("estimated_accuracy")
    return rows


#: Cells (rows x LFs x classes) of one block of :func:`lf_counts`.
_COUNT_CELLS = 1 << 24


def lf_counts(L: Any, cardinality: int) -> dict[str, np.ndarray]:
    """The integer counts :func:`lf_summary` is made of; counts of row blocks add up to those of their union.

    ``rows`` (n), and per LF ``voted``, ``overlaps`` and ``conflicts`` (rows) and ``polarity`` (votes per
    class, ``(m, K)``). Engines that stream a dataset sum these over batches and call :func:`lf_rows`.

    >>> c = lf_counts([[1, 1], [0, -1]], 2)
    >>> c["voted"].tolist(), c["conflicts"].tolist(), c["polarity"].tolist()
    ([2, 1], [0, 0], [[1, 1], [0, 1]])
    """
    L = check_votes(L, cardinality)
    n, m = L.shape
    out = {"rows": np.array(n, dtype=np.int64), "voted": np.zeros(m, np.int64), "overlaps": np.zeros(m, np.int64),
           "conflicts": np.zeros(m, np.int64), "polarity": np.zeros((m, cardinality), np.int64)}
    step = max(1, _COUNT_CELLS // max(m * max(cardinality, 2), 1))  # whole-matrix passes, in blocks of rows
    for start in range(0, n, step):
        B = L[start: start + step]
        voted = B != ABSTAIN
        n_voting = voted.sum(axis=1)
        per_class = np.stack([(B == k).sum(axis=1) for k in range(cardinality)], axis=1)
        # votes on the row that agree with LF j's own (its own included), where j voted
        own = np.take_along_axis(per_class, np.where(voted, B, 0).astype(np.intp), axis=1)
        # Another LF disagrees when the row has more votes than those agreeing with LF j.
        out["voted"] += voted.sum(axis=0)
        out["overlaps"] += (voted & (n_voting > 1)[:, None]).sum(axis=0)
        out["conflicts"] += (voted & (n_voting[:, None] > own)).sum(axis=0)
        out["polarity"] += np.stack([(B == k).sum(axis=0) for k in range(cardinality)], axis=1)
    return out


def lf_rows(
    counts: dict[str, np.ndarray], names: Sequence[str], estimated_accuracy: Sequence[float | None] | None = None
) -> list[dict[str, Any]]:
    """:func:`lf_summary` rows (without gold) from :func:`lf_counts`, summed over any number of row blocks."""
    denom = max(int(counts["rows"]), 1)
    rows = []
    for j, name in enumerate(names):
        row: dict[str, Any] = {
            "lf": name,
            "polarity": [int(k) for k in np.flatnonzero(counts["polarity"][j])],
            "coverage": float(int(counts["voted"][j]) / denom),
            "overlaps": float(int(counts["overlaps"][j]) / denom),
            "conflicts": float(int(counts["conflicts"][j]) / denom),
        }
        if estimated_accuracy is not None:
            est = estimated_accuracy[j]
            row["estimated_accuracy"] = None if est is None else float(est)
        rows.append(row)
    return rows


def label_metrics(labels: Any, y: Any, cardinality: int, probs: Any = None) -> dict[str, Any]:
    """Quality of hard labels (and probabilities) against gold ``y``; rows with ``y == -1`` are skipped.

    ``accuracy`` counts abstained rows (label ``-1``) as wrong; ``accuracy_covered`` scores only rows
    with a label. ``f1`` is per class (0 for a class neither the gold nor the labels hold); ``macro_f1`` averages
    it over the classes they do hold (scikit-learn's macro average); ``f1_positive`` is class 1's F1 for binary
    tasks. With ``probs`` also ``brier`` and ``ece`` (10 equal-width bins; see :mod:`mmweak.calibration`).

    >>> label_metrics([1, 0, -1], [1, 1, 0], 2)["accuracy"]
    0.3333333333333333
    >>> label_metrics([0, 1], [0, 1], 3)["macro_f1"]  # class 2 is in neither: not averaged in as 0
    1.0
    """
    labels = np.asarray(labels, dtype=np.int64).ravel()
    y = np.asarray(y, dtype=np.int64).ravel()
    known = y >= 0
    labels, y = labels[known], y[known]
    n = int(y.size)
    covered = labels >= 0
    out: dict[str, Any] = {
        "rows": n,
        "coverage": float(covered.mean()) if n else 0.0,
        "accuracy": float((labels == y).mean()) if n else None,
        "accuracy_covered": float((labels[covered] == y[covered]).mean()) if covered.any() else None,
    }
    f1, present = [], []
    for k in range(cardinality):
        tp = int(((labels == k) & (y == k)).sum())
        fp = int(((labels == k) & (y != k)).sum())
        fn = int(((labels != k) & (y == k)).sum())
        f1.append(2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else 0.0)
        present.append(bool(2 * tp + fp + fn))
    out["f1"] = f1
    # over the classes the gold or the labels hold (as scikit-learn's macro average): a class in neither has no F1
    out["macro_f1"] = float(np.mean([f for f, p in zip(f1, present) if p])) if any(present) else None
    if cardinality == 2:
        out["f1_positive"] = f1[1]
    if probs is not None and n:
        p = np.asarray(probs, dtype=np.float64)[known]
        out["brier"] = brier_score(p, y)
        out["ece"] = expected_calibration_error(p, y)
    return out


def majority_accuracy(L: Any, y: Any, cardinality: int, labels: Any = None) -> float | None:
    """Accuracy plain majority vote of the same votes would have against gold ``y`` (rows with a negative ``y``,
    unknown, are skipped; a ``y`` that is no class counts as wrong, as in :func:`label_metrics`).

    Its ties are broken by a fair coin and counted at their expected value (a row tied between two classes, one
    of them gold, counts 1/2), and a row without a vote counts ``1 / cardinality``: what the WRENCH benchmark
    scores majority vote at. With the curated ``labels``, every row they leave unlabelled (``-1``: no vote, or a
    tie their model abstains on) counts 0 for majority vote too, as it does for them, so the two are compared on
    the same rows. It is the figure a label model has to beat on data it did not see. ``None`` without gold rows.

    >>> L = [[1, 1, 0], [0, 1, -1], [-1, -1, -1]]
    >>> majority_accuracy(L, [1, 0, 1], 2)  # right, tied (1/2), no vote (1/2)
    0.6666666666666666
    >>> majority_accuracy(L, [1, 0, 1], 2, labels=[1, 0, -1])  # the labels leave the row without a vote unlabelled
    0.5
    """
    gold = _gold_vote_counts(L, y, cardinality)
    if gold is None:
        return None
    counts, y, known = gold
    K = int(cardinality)
    credit = np.zeros(y.size)
    rows = np.flatnonzero(y < K)
    credit[rows] = tie_split_credit(counts[rows], y[rows])
    if labels is not None:
        credit[np.asarray(labels, dtype=np.int64).ravel()[known] < 0] = 0.0
    return float(credit.mean())


def voted_rows_accuracy(L: Any, y: Any, cardinality: int, labels: Any) -> dict[str, float] | None:
    """The ``labels``' accuracy and plain majority vote's (as :func:`majority_accuracy` scores it) on only the gold
    rows at least one LF voted on, the share of gold rows those are, and how many gold rows without a vote the
    labels label anyway (``filled``); ``None`` without gold rows or when no gold row has a vote.

    Where the labels fill rows without a vote (with the class prior, say), the all-rows figures partly measure that
    fill against majority vote's coin on the same rows, not how well the votes were combined; on a mostly silent
    split, mostly. This is the other half of the picture: the covered-rows figure WRENCH reports next to the full one.

    >>> L = [[1, 1, 0], [0, 1, -1], [-1, -1, -1], [-1, -1, -1]]
    >>> voted_rows_accuracy(L, [1, 0, 0, 0], 2, labels=[1, 1, 0, -1])  # rows 0-1: right, wrong; MV right and 1/2
    {'share': 0.5, 'accuracy': 0.5, 'majority_accuracy': 0.75, 'filled': 1}
    """
    gold = _gold_vote_counts(L, y, cardinality)
    if gold is None:
        return None
    counts, y, known = gold
    voted = counts.sum(axis=1) > 0
    if not voted.any():
        return None
    labels = np.asarray(labels, dtype=np.int64).ravel()[known]
    filled = int((labels[~voted] >= 0).sum())
    labels, y, counts = labels[voted], y[voted], counts[voted]
    credit = np.zeros(y.size)
    rows = np.flatnonzero(y < int(cardinality))
    credit[rows] = tie_split_credit(counts[rows], y[rows])
    credit[labels < 0] = 0.0  # a row the labels leave unlabelled counts 0 for majority vote too
    return {"share": float(voted.mean()), "accuracy": float((labels == y).mean()),
            "majority_accuracy": float(credit.mean()), "filled": filled}


def _gold_vote_counts(L: Any, y: Any, cardinality: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Votes per class ``(rows, K)`` and gold of the rows with gold (``y >= 0``), and which rows those are."""
    L = np.asarray(L)
    y = np.asarray(y, dtype=np.int64).ravel()
    known = y >= 0
    if not known.any():
        return None
    L, y = L[known], y[known]
    return np.stack([(L == k).sum(axis=1) for k in range(int(cardinality))], axis=1), y, known


#: Seeded tie-breaking draws majority vote's F1 is averaged over (F1 is not linear in the rows, so no exact split).
MAJORITY_F1_DRAWS = 20


def majority_f1(L: Any, y: Any, cardinality: int, pos_label: int = 1, labels: Any = None) -> float | None:
    """F1 of ``pos_label`` that plain majority vote of the same votes would have against gold ``y``: the baseline of
    labels fitted for that F1, as :func:`majority_accuracy` is for accuracy.

    Ties (and rows without a vote, tied between every class) are broken uniformly at random, and the F1 is the mean
    over :data:`MAJORITY_F1_DRAWS` seeded draws, as the benchmarks score it. With the curated ``labels``, the rows
    they leave unlabelled are no positive prediction of majority vote either. ``None`` without gold rows.

    >>> L = [[1, 1, 0], [0, 0, -1], [1, -1, -1], [0, 1, -1]]
    >>> majority_f1(L, [1, 0, 0, 1], 2)  # row 3 is a coin: F1 4/5 or 2/4 (0.65 expected; 20 draws)
    0.665
    >>> majority_f1(L, [1, 0, 0, 1], 2, labels=[1, 0, 1, -1])  # row 3 left unlabelled: no positive of either
    0.5
    """
    gold = _gold_vote_counts(L, y, cardinality)
    if gold is None:
        return None
    counts, y, known = gold
    K, pos = int(cardinality), int(pos_label)
    unlabelled = np.zeros(y.size, dtype=bool) if labels is None else np.asarray(labels).ravel()[known] < 0
    scores = []
    for seed in range(MAJORITY_F1_DRAWS):  # the top count's ties are the top share's (a row without a vote: all K)
        pred = hard_labels(counts.astype(np.float64), np.ones(K), tie_break="random", seed=seed) == pos
        pred &= ~unlabelled
        tp, fp, fn = np.sum(pred & (y == pos)), np.sum(pred & (y != pos)), np.sum(~pred & (y == pos))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores))


@dataclass
class LFSummary:
    """LF statistics for one task on one split, plus label quality where gold is known.

    ``rows`` holds one dict per LF (see :func:`lf_summary`); ``labels`` holds :func:`label_metrics`
    of the curated ``T_label`` against gold, when both exist.
    """

    task: str
    split: str
    rows: list[dict[str, Any]]
    lfs: list[dict[str, Any]] = field(default_factory=list)
    labels: dict[str, Any] | None = None
    label_model: str | None = None
    class_names: list[str] | None = None  # for printing polarity by name; rows keep class indices
    member: str | None = None  # what the default label model chose (its ``selected_``)

    def to_pandas(self):
        """The per-LF table as a pandas DataFrame indexed by LF name."""
        import pandas as pd

        return pd.DataFrame(self.rows).set_index("lf")

    def __str__(self) -> str:
        cols = ["lf", "polarity", "coverage", "overlaps", "conflicts"]
        extra = [c for c in ("empirical_accuracy", "estimated_accuracy", "reviewed_accuracy", "reviewed_votes",
                             "faults") if any(c in r for r in self.rows)]
        cols += extra
        width = max([len("lf")] + [len(r["lf"]) for r in self.rows]) + 2
        head = {"empirical_accuracy": "emp.acc", "estimated_accuracy": "est.acc", "reviewed_accuracy": "rev.acc",
                "reviewed_votes": "rev.votes"}
        names = self.class_names

        def cell(c: str, v: Any) -> str:
            if v is None:
                return "-"
            if c == "polarity" and names is not None:  # by name: indices of classes named "1".."5" mislead
                return ",".join(names[k] if 0 <= k < len(names) else str(k) for k in v) or "(no vote)"
            return f"{v:.3f}" if isinstance(v, float) else str(v)

        table = [[cell(c, r.get(c)) for c in cols[1:]] for r in self.rows]
        widths = [max([11, len(head.get(c, c)) + 1] + [len(row[i]) + 1 for row in table])
                  for i, c in enumerate(cols[1:])]  # a wide polarity no longer shifts its row's figures
        lines = [f"LF summary — task {self.task!r}, split {self.split!r}"]
        lines.append(f"{'lf':<{width}}" + "".join(f"{head.get(c, c):>{w}}" for c, w in zip(cols[1:], widths)))
        for r, row in zip(self.rows, table):
            lines.append(f"{r['lf']:<{width}}" + "".join(f"{v:>{w}}" for v, w in zip(row, widths)))
        if self.labels is not None:
            lb = self.labels
            acc = "-" if lb["accuracy"] is None else f"{lb['accuracy']:.4f}"
            line = (
                f"labels ({self.label_model}{f': {self.member}' if self.member else ''}) vs gold on {lb['rows']} rows: "
                f"accuracy {acc}, "
                f"coverage {lb['coverage']:.3f}, macro-F1 "
                + ("-" if lb["macro_f1"] is None else f"{lb['macro_f1']:.4f}")
            )
            if lb.get("brier") is not None:
                line += f", Brier {lb['brier']:.4f}, ECE {lb['ece']:.4f} (10 equal-width bins)"
            lines.append(line)
        return "\n".join(lines)


def analyze(
    dataset: Dataset | DatasetDict,
    task: Task | str,
    *,
    split: str | None = None,
    gold: str | None = None,
) -> LFSummary:
    """LF summary of ``task`` on one split (default: ``train``), with gold accuracies where known.

    Uses the LF names, faults and label-model estimates recorded by :func:`mmweak.apply_lfs` and
    :func:`mmweak.aggregate`; ``gold`` defaults to the gold column given to ``aggregate``. Where people
    reviewed rows of the split (:mod:`mmweak.review`), each LF also gets ``reviewed_accuracy`` (its
    accuracy against the human labels on the reviewed rows it voted on) and ``reviewed_votes``.

    >>> import datasets, mmweak
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lf = mmweak.labeling_function(task=spam, inputs="text")(lambda b: [1] * len(b["text"]))
    >>> ds = mmweak.apply_lfs(datasets.Dataset.from_dict({"text": ["a", "b"]}), [lf])
    >>> mmweak.analyze(ds, spam).rows[0]["coverage"]
    1.0
    """
    record = read_record(dataset)
    name = task if isinstance(task, str) else task.name
    entry = record.get("tasks", {}).get(name)
    if entry is None:
        raise ValueError(f"task {name!r} has no recorded votes; run mmweak.apply_lfs first")
    t = Task.from_dict(entry["task"])
    if isinstance(dataset, DatasetDict):
        split = split or ("train" if "train" in dataset else next(iter(dataset)))
        if split not in dataset:
            raise ValueError(f"unknown split {split!r}; the dataset has {list(dataset)}")
        ds = dataset[split]
    else:
        ds, split = dataset, split or "train"
    if gold and gold not in ds.column_names:  # a misspelt gold column would quietly give no accuracies
        raise ValueError(f"gold column {gold!r} is not in split {split!r}; its columns: {ds.column_names}")
    gold = gold or entry.get("gold_column")
    L = read_matrix(ds, t.votes_column)
    y = read_gold(ds, gold, t, split=split) if gold and gold in ds.column_names else None
    lm = entry.get("label_model") or {}
    rows = lf_summary(
        L, t.cardinality, names=[lf["name"] for lf in entry["lfs"]], y=y,
        estimated_accuracy=lm.get("lf_accuracies"),
    )
    human_col = human_gold_column(entry, ds, t)
    if human_col is not None:
        human = read_column(ds, human_col, np.int64)
        if (human >= 0).any():
            for r, h in zip(rows, lf_summary(L, t.cardinality, names=[lf["name"] for lf in entry["lfs"]], y=human)):
                r["reviewed_accuracy"] = h["empirical_accuracy"]
                r["reviewed_votes"] = h["correct"] + h["incorrect"]
    faults = entry.get("faults", {}).get(split)
    if faults:
        for r in rows:
            r["faults"] = int(faults.get(r["lf"], 0))
    labels = None
    if y is not None and (y >= 0).any() and t.label_column in ds.column_names:  # no gold row: nothing to score
        probs = read_matrix(ds, t.probs_column) if t.probs_column in ds.column_names else None
        hard = read_column(ds, t.label_column, np.int64)
        labels = label_metrics(hard, y, t.cardinality, probs)
        # the covered-rows figure the curate line and the card give where a fill labels rows without a vote:
        # accuracy_covered (rows with a label) is then all rows, and says nothing of how the votes were combined
        voted = voted_rows_accuracy(L, y, t.cardinality, hard)
        if voted is not None:
            labels["accuracy_voted_rows"] = voted["accuracy"]
            labels["voted_rows_share"] = voted["share"]
    return LFSummary(task=name, split=split, rows=rows, lfs=entry["lfs"], labels=labels, label_model=lm.get("model"),
                     class_names=[str(c) for c in t.labels], member=(lm.get("state") or {}).get("selected_"))
