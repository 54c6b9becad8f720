"""Which rows should people label next? Selection strategies, each giving every chosen row its reason.

Strategies (``STRATEGIES``):

* ``random`` — a seeded uniform draw: the baseline, and the only choice whose answers are an unbiased
  sample (use it to *measure* label quality).
* ``random_then_entropy`` — ``random`` until :data:`RANDOM_FIRST` reviewed rows were drawn at random, then
  ``entropy``. Every reviewed label is clamped in the next fit, but only rows drawn at random *judge* it (the
  default's choice of member, whether a fit may leave majority vote: :func:`mmweak.aggregate.fit_with_reviews`),
  since a fit judged on rows chosen for being hard looks better than it is. Each row records which of the two chose it.
* ``entropy`` / ``margin`` — rows where the label model is least sure (highest entropy of ``T_probs``,
  smallest gap between the two most likely classes).
* ``disagreement`` — rows where the LFs vote for different classes (highest entropy of the votes).
* ``no_coverage`` — rows no LF voted on (in seeded random order): what the LFs miss entirely.
* ``impact`` — expected impact on the label model's labels. The model labels rows by their vote pattern,
  so every row with the same votes gets the same label: a pattern shared by ``c`` unreviewed rows at
  confidence ``q`` holds an expected ``c (1 - q)`` wrong labels. Rows are taken from the patterns with
  the most expected errors, the ``j``-th row of one pattern counting ``1/j`` of its pattern's errors, so a
  batch covers many patterns before it doubles up on one.
* ``diverse`` — k-center greedy over an embedding within the ``pool x n`` most uncertain rows (by
  ``base``): each next row is the one farthest from every row already chosen or reviewed, so a batch is
  not 50 near-duplicates. The embedding is a column of vectors or an array, e.g. the sentence or CLIP
  embeddings ``lf_library`` LFs already computed (``lf_library.models.SentenceEncoder(...).embed(texts)``
  serves them from mmweak's embedding store); without one, the rows' LF vote patterns.
* ``ties`` — rows already reviewed whose answers tie for the top class (one says spam, one says ham), fewest
  answers first: a tie gives no consensus label, so the row neither teaches nor judges the label model until
  one more person answers. The new answer keeps the row's first strategy (a row drawn at random still judges).
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from datasets import Dataset, DatasetDict, Value

from ..aggregate import drawn_at_random, human_gold_column
from ..columns import read_column, read_matrix, replace_columns, split_dict
from ..errors import FIT_FIRST
from ..fingerprint import stable_hash
from ..labelmodels.validation import check_number
from ..provenance import read_record, write_record
from ..task import Task
from .answers import ROW_STRATEGIES, Answer, answer_counts, next_round, reviewed_mask, tied_mask

STRATEGIES = ("random", "random_then_entropy", *ROW_STRATEGIES[1:])
#: Strategies that read the label model's probabilities (``T_probs``); the others need only the votes
#: (``random_then_entropy`` only once its random rows are drawn).
NEEDS_PROBS = ("entropy", "margin", "impact", "diverse")
#: Reviewed rows drawn at random before ``random_then_entropy`` turns to the least sure rows. Only rows drawn at
#: random judge a fit, and the default label model judges its members with gold from 30 such rows
#: (``AutoLabelModel(min_dev=30)``); 30 was measured first and one census seed's F1 fell from 56 to 38 on a member
#: chosen by a lucky score on those 30 rows, so the judges are 50 (``benchmarks/README.md``).
RANDOM_FIRST = 50
SELECTION_COLUMNS = ("review_split", "review_row", "review_strategy", "review_reason", "review_score", "review_round")


@dataclass
class Picks:
    """Rows chosen by a strategy, best first, with a score and a readable reason each."""

    rows: np.ndarray
    scores: np.ndarray
    reasons: list[str]
    #: How each row was chosen, where a strategy mixes two (``random_then_entropy``); else None: all by the strategy.
    chosen_by: list[str] | None = None

    def strategies(self, strategy: str) -> list[str]:
        """The strategy that chose each row (``random`` for the random rows of ``random_then_entropy``)."""
        return list(self.chosen_by) if self.chosen_by is not None else [strategy] * int(self.rows.size)


def entropy(probs: np.ndarray) -> np.ndarray:
    """Row-wise entropy (nats) of class probabilities.

    >>> entropy(np.array([[0.5, 0.5], [1.0, 0.0]])).round(3).tolist()
    [0.693, 0.0]
    """
    p = np.clip(np.asarray(probs, dtype=np.float64), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, -p * np.log(p), 0.0).sum(axis=1)


def pick_rows(
    strategy: str,
    *,
    votes: np.ndarray,
    probs: np.ndarray | None,
    labels: Sequence[str],
    n: int,
    candidates: np.ndarray | None = None,
    seed: int = 0,
    embedding: np.ndarray | None = None,
    reviewed: np.ndarray | None = None,
    pool: int = 4,
    base: str = "entropy",
    reviewed_at_random: int = 0,
    answers: np.ndarray | None = None,
) -> Picks:
    """Choose up to ``n`` of the ``candidates`` rows with ``strategy`` (see the module docstring).

    Args:
        strategy: one of :data:`STRATEGIES`.
        votes: ``(rows, LFs)`` vote matrix of the split (``-1`` = abstain).
        probs: ``(rows, K)`` label-model probabilities (needed by :data:`NEEDS_PROBS`).
        labels: class names, for the reasons.
        n: how many rows to choose.
        candidates: boolean mask of rows that may be chosen (default: all).
        seed: seed of every random choice (draws and ties).
        embedding: ``(rows, d)`` vectors for ``diverse`` (default: one-hot LF vote patterns).
        reviewed: boolean mask of rows already reviewed (``diverse`` keeps away from them too).
        pool: ``diverse`` chooses within the ``pool * n`` best rows by ``base``.
        base: the uncertainty ``diverse`` starts from: ``entropy`` or ``margin``.
        reviewed_at_random: reviewed rows already drawn at random (``random_then_entropy`` draws up to
            :data:`RANDOM_FIRST` of them before it takes the least sure rows).
        answers: ``(rows, K)`` human answers per class (:func:`~mmweak.review.answers.answer_counts`), for ``ties``.

    Returns:
        :class:`Picks`; fewer than ``n`` rows when the strategy has fewer (e.g. rows without votes).

    Raises:
        ValueError: unknown strategy, or probabilities missing or misshapen.

    >>> L = np.array([[1, 0], [1, 1], [-1, -1], [0, 0]])
    >>> P = np.array([[0.5, 0.5], [0.1, 0.9], [0.6, 0.4], [0.8, 0.2]])
    >>> p = pick_rows("entropy", votes=L, probs=P, labels=["ham", "spam"], n=2)
    >>> p.rows.tolist(), p.reasons[0]
    ([0, 2], 'label-model entropy 0.693 nats (max 0.693): P(ham)=0.50, P(spam)=0.50')
    >>> pick_rows("no_coverage", votes=L, probs=None, labels=["ham", "spam"], n=5).rows.tolist()
    [2]
    >>> pick_rows("random_then_entropy", votes=L, probs=P, labels=["ham", "spam"], n=2,
    ...           reviewed_at_random=RANDOM_FIRST - 1).chosen_by
    ['random', 'entropy']
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown selection strategy {strategy!r}; choose one of {list(STRATEGIES)}")
    if strategy == "random_then_entropy":
        return _random_then_entropy(votes=votes, probs=probs, labels=labels, n=n, candidates=candidates, seed=seed,
                                    reviewed_at_random=reviewed_at_random)
    votes = np.asarray(votes)
    n_rows: int = votes.shape[0]
    K = len(labels)
    if strategy in NEEDS_PROBS:
        if probs is None:
            raise ValueError(f"strategy {strategy!r} needs the label model's probabilities: {FIT_FIRST}")
        probs = np.asarray(probs, dtype=np.float64)
        if probs.shape != (n_rows, K):
            raise ValueError(f"probabilities have shape {probs.shape}, expected ({n_rows}, {K})")
    cand = np.ones(n_rows, dtype=bool) if candidates is None else np.asarray(candidates, dtype=bool)
    idx = np.flatnonzero(cand)
    rng = np.random.default_rng(seed)
    n = int(n)
    if n <= 0 or idx.size == 0:
        return Picks(np.zeros(0, np.int64), np.zeros(0), [])
    jitter = rng.random(n_rows) * 1e-9  # seeded tie-break among equal scores

    if strategy == "random":
        rows = rng.permutation(idx)[:n]
        return Picks(rows, np.full(rows.size, np.nan), [f"random draw (seed {seed})"] * rows.size)

    if strategy == "ties":
        if answers is None or np.shape(answers) != (n_rows, K):
            raise ValueError(f"strategy 'ties' needs the human answers per class, shape ({n_rows}, {K}); got "
                             f"{None if answers is None else np.shape(answers)}")
        counts = np.asarray(answers, dtype=np.int64)
        tied = idx[tied_mask(counts[idx])]
        total = counts[tied].sum(axis=1)
        rows = tied[np.lexsort((jitter[tied], total))][:n]  # fewest answers first: one more answer settles them
        reasons = []
        for r in rows:
            parts = sorted(((int(counts[r, k]), labels[k]) for k in range(K) if counts[r, k]), reverse=True)
            reasons.append("annotators tie: " + ", ".join(f"{c} answered {name}" for c, name in parts))
        return Picks(rows, counts[rows].sum(axis=1).astype(np.float64), reasons)

    if strategy == "no_coverage":
        empty = idx[(votes[idx] == -1).all(axis=1)]
        rows = rng.permutation(empty)[:n]
        return Picks(rows, np.full(rows.size, np.nan), ["no LF voted on this row"] * rows.size)

    if strategy in ("entropy", "margin"):
        assert probs is not None  # checked above: these strategies are in NEEDS_PROBS
        score = _uncertainty(strategy, probs)
        rows = idx[np.argsort(-(score[idx] + jitter[idx]), kind="stable")][:n]
        silent = (votes[rows] == -1).all(axis=1)  # their probabilities are the model's guess for rows nobody voted on
        reasons = [("no LF voted; " if q else "") + _uncertainty_reason(strategy, probs[r], labels)
                   for r, q in zip(rows, silent)]
        return Picks(rows, score[rows], reasons)

    if strategy == "disagreement":
        counts = np.stack([(votes[idx] == k).sum(axis=1) for k in range(K)], axis=1)
        total = counts.sum(axis=1)
        conflict = (counts > 0).sum(axis=1) >= 2
        share = counts / np.maximum(total, 1)[:, None]
        h = entropy(share)
        # More votes in conflict is more evidence about which LFs err: it breaks ties in vote entropy.
        key = h + 1e-6 * total + jitter[idx]
        order = np.argsort(-key, kind="stable")
        order = order[conflict[order]][:n]
        rows = idx[order]
        reasons = []
        for o in order:
            parts = sorted(((int(counts[o, k]), labels[k]) for k in range(K) if counts[o, k]), reverse=True)
            reasons.append("LFs disagree: " + ", ".join(f"{c} vote {name}" for c, name in parts))
        return Picks(rows, h[order], reasons)

    assert probs is not None  # checked above: impact and diverse are in NEEDS_PROBS
    if strategy == "impact":
        return _impact(votes, probs, labels, idx, n, rng)

    # diverse
    if base not in ("entropy", "margin"):
        raise ValueError(f"base must be 'entropy' or 'margin', got {base!r}")
    score = _uncertainty(base, probs)
    ranked = idx[np.argsort(-(score[idx] + jitter[idx]), kind="stable")]
    pool_rows = ranked[: max(n, int(pool) * n)]
    emb = _vote_embedding(votes, K) if embedding is None else np.asarray(embedding, dtype=np.float64)
    if emb.ndim != 2 or emb.shape[0] != n_rows:
        raise ValueError(f"embedding has shape {emb.shape}, expected ({n_rows}, d)")
    emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    done = np.flatnonzero(np.asarray(reviewed, dtype=bool)) if reviewed is not None else np.zeros(0, np.int64)
    chosen, dists = _k_center(emb, pool_rows, done, n)
    rank = {int(r): i + 1 for i, r in enumerate(pool_rows)}
    reasons = [
        f"{base} {score[r]:.3f} (rank {rank[int(r)]} of the {pool_rows.size} most uncertain rows); "
        + ("the most uncertain row, first of the batch" if not math.isfinite(d)
           else f"distance {d:.3f} to the nearest row already chosen or reviewed")
        for r, d in zip(chosen, dists)
    ]
    return Picks(chosen, np.where(np.isfinite(dists), dists, np.nan), reasons)


def _random_then_entropy(*, votes, probs, labels, n, candidates, seed, reviewed_at_random) -> Picks:
    """Random rows until :data:`RANDOM_FIRST` reviewed rows were drawn at random, then the least sure rows.

    Rows chosen for being hard teach the label model but cannot judge it (a fit judged on them looks better than
    it is); rows drawn at random can. So the first rows reviewed are drawn at random, enough for the default to
    judge its members with gold, and every later row is one the model is least sure of.
    """
    check_number("reviewed_at_random", reviewed_at_random, low=0, integer=True)
    votes = np.asarray(votes)
    cand = np.ones(votes.shape[0], dtype=bool) if candidates is None else np.asarray(candidates, dtype=bool).copy()
    k = int(min(max(RANDOM_FIRST - int(reviewed_at_random), 0), max(int(n), 0)))
    drawn = pick_rows("random", votes=votes, probs=None, labels=labels, n=k, candidates=cand, seed=seed)
    cand[drawn.rows] = False
    rest = Picks(np.zeros(0, np.int64), np.zeros(0), [])
    if int(n) > drawn.rows.size and cand.any():
        if probs is None:
            raise ValueError(f"strategy 'random_then_entropy' has its {RANDOM_FIRST} rows drawn at random and now "
                             f"picks the least sure rows: it needs the label model's probabilities; {FIT_FIRST}")
        rest = pick_rows("entropy", votes=votes, probs=probs, labels=labels, n=int(n) - drawn.rows.size,
                         candidates=cand, seed=seed)
    return Picks(np.concatenate([drawn.rows, rest.rows]).astype(np.int64), np.concatenate([drawn.scores, rest.scores]),
                 drawn.reasons + rest.reasons, ["random"] * drawn.rows.size + ["entropy"] * rest.rows.size)


def _uncertainty(kind: str, probs: np.ndarray) -> np.ndarray:
    if kind == "entropy":
        return entropy(probs)
    top2 = np.sort(probs, axis=1)[:, -2:]
    return 1.0 - (top2[:, 1] - top2[:, 0])  # higher = closer call


def _uncertainty_reason(kind: str, p: np.ndarray, labels: Sequence[str]) -> str:
    order = np.argsort(-p, kind="stable")
    if kind == "entropy":
        shown = ", ".join(f"P({labels[k]})={p[k]:.2f}" for k in order[:3])
        return f"label-model entropy {entropy(p[None])[0]:.3f} nats (max {math.log(len(labels)):.3f}): {shown}"
    a, b = order[0], order[1]
    return f"margin {p[a] - p[b]:.3f} between {labels[a]} ({p[a]:.2f}) and {labels[b]} ({p[b]:.2f})"


def _impact(votes: np.ndarray, probs: np.ndarray, labels: Sequence[str], idx: np.ndarray, n: int,
            rng: np.random.Generator) -> Picks:
    _, inverse, counts = np.unique(votes[idx], axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    conf = np.zeros(counts.size)
    conf[inverse] = probs[idx].max(axis=1)  # one value per pattern: the model labels by votes alone
    expected = counts * (1.0 - conf)
    members: list[list[int]] = [[] for _ in range(counts.size)]
    for pos in rng.permutation(idx.size):
        members[inverse[pos]].append(idx[pos])
    # Diminishing returns: the j-th row of a pattern is worth 1/j of its expected errors.
    depth = np.minimum(counts, n)
    pat = np.repeat(np.arange(counts.size), depth)
    j = np.concatenate([np.arange(1, d + 1) for d in depth]) if depth.size else np.zeros(0, int)
    value = expected[pat] / j
    order = np.lexsort((j, -value))[:n]
    rows, scores, reasons = [], [], []
    for o in order:
        p, jj = pat[o], int(j[o])
        r = members[p][jj - 1]
        k = int(np.argmax(probs[r]))
        voting = int((votes[r] != -1).sum())
        what = "rows no LF voted on" if voting == 0 else f"unreviewed rows with the same votes ({voting} LFs voting)"
        text = (f"{counts[p]} {what} get {labels[k]} at label-model confidence {conf[p]:.2f}: "
                f"an expected {expected[p]:.1f} of them are mislabelled")
        if jj > 1:
            text += f" (row {jj} of this vote pattern in the batch)"
        rows.append(r)
        scores.append(value[o])
        reasons.append(text)
    return Picks(np.asarray(rows, dtype=np.int64), np.asarray(scores, dtype=np.float64), reasons)


def _vote_embedding(votes: np.ndarray, K: int) -> np.ndarray:
    """One-hot LF votes (abstain is its own value): rows with the same vote pattern coincide."""
    n, m = votes.shape
    out = np.zeros((n, m * (K + 1)), dtype=np.float32)
    cols = np.arange(m) * (K + 1) + (votes.astype(np.int64) + 1)
    out[np.arange(n)[:, None], cols] = 1.0
    return out


def _k_center(emb: np.ndarray, pool_rows: np.ndarray, done: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Greedy k-center: repeatedly the pool row farthest from all centers (reviewed rows are centers too)."""
    P = emb[pool_rows]
    nearest = np.full(pool_rows.size, np.inf)
    for start in range(0, done.size, 4096):
        C = emb[done[start: start + 4096]]
        nearest = np.minimum(nearest, np.sqrt(np.maximum(_sq_dist(P, C), 0.0)).min(axis=1))
    chosen, dists = [], []
    taken = np.zeros(pool_rows.size, dtype=bool)
    for _ in range(min(n, pool_rows.size)):
        # Ties (e.g. no centers yet, all distances infinite) go to the most uncertain: the pool is ranked.
        masked = np.where(taken, -1.0, nearest)
        i = int(np.argmax(masked))
        chosen.append(pool_rows[i])
        dists.append(nearest[i])
        taken[i] = True
        nearest = np.minimum(nearest, np.sqrt(np.maximum(_sq_dist(P, P[i: i + 1])[:, 0], 0.0)))
    return np.asarray(chosen, dtype=np.int64), np.asarray(dists, dtype=np.float64)


def _sq_dist(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T


def resolve_task(ds: Dataset | DatasetDict, task: Task | str) -> Task:
    """The :class:`Task` object for ``task`` (a name is looked up in the dataset's weak-supervision record)."""
    if isinstance(task, Task):
        return task
    known = read_record(ds).get("tasks", {})
    if task not in known:
        raise ValueError(f"unknown task {task!r}; recorded tasks: {sorted(known)}")
    return Task.from_dict(known[task]["task"])


def default_split(ds: Dataset | DatasetDict, task: Task) -> str:
    """The split people review by default: the one the label model was fitted on, else ``train``/the first."""
    splits = split_dict(ds)
    fitted = ((read_record(ds).get("tasks", {}).get(task.name) or {}).get("label_model") or {}).get("fit", {})
    if fitted.get("split") in splits:
        return fitted["split"]
    return "train" if "train" in splits else next(iter(splits))


def select(
    ds: Dataset | DatasetDict,
    task: Task | str,
    n: int,
    strategy: str = "random_then_entropy",
    *,
    split: str | None = None,
    seed: int = 0,
    embedding: str | np.ndarray | None = None,
    include_reviewed: bool = False,
    pool: int = 4,
    base: str = "entropy",
) -> Dataset:
    """Choose ``n`` rows of one split for human review of ``task``, each with the reason it was chosen.

    Args:
        ds: a curated dataset (``T_votes``; ``T_probs`` from :func:`mmweak.aggregate` for the
            strategies that read probabilities).
        task: the task (or its name).
        n: how many rows.
        strategy: one of :data:`STRATEGIES` (see :mod:`mmweak.review.selection`). The default,
            ``random_then_entropy`` (:data:`RANDOM_FIRST` rows drawn at random, then the least sure rows), is the
            strategy with the highest mean gain over the learning curve among those never more than a point below
            no review, with each WRENCH set held out in turn (``benchmarks/review_curve.py``): reviewed rows drawn
            at random judge the default label model's fit, the others only teach it, so it first draws the rows
            that judge. The strategies that choose hard rows from the start never judge with gold: they gain less
            on average (more on youtube, nothing on trec).
        split: which split (default: the label model's fit split, else ``train``).
        seed: seed for random draws and ties.
        embedding: for ``diverse``: a column of vectors, or a ``(rows, d)`` array (default: vote patterns).
        include_reviewed: also consider rows that already carry human answers (default: skip them; ``ties``
            takes only such rows).
        pool, base: see :func:`pick_rows`.

    Returns:
        The chosen rows (all columns of the split), best first, plus ``review_split``, ``review_row`` (row
        number in the split), ``review_strategy``, ``review_reason``, ``review_score`` and ``review_round``
        (the round these answers will belong to). Fewer than ``n`` rows, with a warning, when the
        strategy has fewer to offer.

    Raises:
        ValueError: unknown task, split or strategy, or no probabilities where the strategy needs them.

    >>> import datasets, mmweak
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lfs = [mmweak.labeling_function(task=spam, inputs="text", name="link")(
    ...            lambda b: [1 if "http" in t else -1 for t in b["text"]]),
    ...        mmweak.labeling_function(task=spam, inputs="text", name="short")(
    ...            lambda b: [0 if len(t) < 12 else -1 for t in b["text"]])]
    >>> ds = datasets.Dataset.from_dict({"text": ["http://a.b", "nice song", "see http://x.y now", "hello"]})
    >>> ds = mmweak.aggregate(mmweak.apply_lfs(ds, lfs), model="majority")
    >>> picked = select(ds, spam, 1, strategy="disagreement")
    >>> list(picked["review_row"]), list(picked["review_reason"])
    ([0], ['LFs disagree: 1 vote spam, 1 vote ham'])
    """
    task = resolve_task(ds, task)
    check_number("n", n, low=1, integer=True)
    check_number("seed", seed, low=0, integer=True)
    splits = split_dict(ds)
    name = split or default_split(ds, task)
    if name not in splits:
        raise ValueError(f"split {name!r} not in {list(splits)}")
    d = splits[name]
    if task.votes_column not in d.column_names:
        raise ValueError(f"split {name!r} has no {task.votes_column!r} column: run mmweak.apply_lfs first")
    if strategy in NEEDS_PROBS and task.probs_column not in d.column_names:
        raise ValueError(f"strategy {strategy!r} reads {task.probs_column!r}, which split {name!r} lacks: {FIT_FIRST}")
    votes = read_matrix(d, task.votes_column)
    probs = read_matrix(d, task.probs_column).astype(np.float64) if task.probs_column in d.column_names else None
    done = reviewed_mask(d, task)
    counts = answer_counts(d, task) if strategy == "ties" else None
    emb = None
    if strategy == "diverse" and embedding is not None:
        emb = read_matrix(d, embedding) if isinstance(embedding, str) else np.asarray(embedding)
    at_random = 0
    if strategy == "random_then_entropy":  # rows with a majority answer judge the fit; a tie judges nothing
        entry = read_record(ds).get("tasks", {}).get(task.name, {})
        gold = human_gold_column(entry, d, task)
        judged = np.flatnonzero(read_column(d, gold, np.int64) >= 0) if gold is not None else np.zeros(0, np.int64)
        at_random = int(drawn_at_random(entry, d, task, judged).sum())
    picks = pick_rows(strategy, votes=votes, probs=probs, labels=task.labels, n=n,
                      candidates=np.ones(len(d), bool) if include_reviewed or strategy == "ties" else ~done,
                      seed=seed, embedding=emb, reviewed=done, pool=pool, base=base, reviewed_at_random=at_random,
                      answers=counts)
    if picks.rows.size < n:
        warnings.warn(f"strategy {strategy!r} found {picks.rows.size} rows of split {name!r} for task "
                      f"{task.name!r}, fewer than the {n} asked for", stacklevel=2)
    out = d.select(picks.rows.tolist())
    k = picks.rows.size
    rnd = next_round(ds, task)
    fp = stable_hash("review-select", d._fingerprint, task.name, strategy, picks.rows.tolist(), seed, rnd)
    out = replace_columns(out, {
        "review_split": (np.array([name] * k, dtype=object), Value("string")),
        "review_row": (picks.rows.astype(np.int64), Value("int64")),
        "review_strategy": (np.array(picks.strategies(strategy), dtype=object), Value("string")),
        "review_reason": (np.array(picks.reasons, dtype=object), Value("string")),
        "review_score": (picks.scores.astype(np.float64), Value("float64")),
        "review_round": (np.full(k, rnd, dtype=np.int32), Value("int32")),
    }, fingerprint=fp)
    write_record(out, read_record(ds))
    return out


def selection_meta(selection: Dataset) -> list[dict[str, Any]]:
    """The ``review_*`` columns of a :func:`select` result as one dict per row."""
    missing = [c for c in SELECTION_COLUMNS if c not in selection.column_names]
    if missing:
        raise ValueError(f"not a review selection: columns {missing} are missing; build it with mmweak.review.select")
    # one Arrow read per column: indexing datasets' lazy columns cell by cell cost 19 s for 10,000 rows
    rows = selection.select_columns(list(SELECTION_COLUMNS)).with_format("arrow")[:].to_pylist()
    return [{c[len("review_"):]: r[c] for c in SELECTION_COLUMNS} for r in rows]


def answers_for(
    selection: Dataset,
    task: Task,
    labels: Sequence[int | str],
    annotator: str,
    *,
    time: dt.datetime | None = None,
    source: str = "",
) -> list[Answer]:
    """One :class:`Answer` per row of a :func:`~mmweak.review.select` result, carrying how and why it was chosen.

    Split, row, strategy, reason and round come from the selection's ``review_*`` columns and the label model's
    label from ``T_label`` when the selection has it, so the answers keep what :func:`mmweak.aggregate` (which rows
    judge the fit) and the card (agreement with the model) read.

    Args:
        selection: rows chosen by :func:`~mmweak.review.select`.
        task: the task answered.
        labels: one answer per row, as class indices or class names.
        annotator: who answered.
        time: when (default: now, UTC).
        source: where the answers came from (free text).

    Raises:
        ValueError: not a selection, a number of labels that is not one per row, or a label that is no class.

    >>> import datasets, mmweak
    >>> from mmweak import review
    >>> spam = Task("spam", ["ham", "spam"])
    >>> link = mmweak.labeling_function(task=spam, inputs="text")(
    ...     lambda b: [1 if "http" in t else -1 for t in b["text"]])
    >>> ds = mmweak.aggregate(mmweak.apply_lfs(datasets.Dataset.from_dict({"text": ["http://x", "hi", "ok"]}), [link]))
    >>> picked = review.select(ds, spam, 2)
    >>> answers = answers_for(picked, spam, ["spam", "ham"], "me")
    >>> [(a.row, a.label, a.strategy, a.round) for a in answers]
    [(2, 1, 'random', 1), (0, 0, 'random', 1)]
    >>> list(review.merge_answers(ds, spam, answers)["spam_gold"])
    [0, -1, 1]
    """
    if not isinstance(selection, Dataset):
        raise ValueError(f"a selection is the one Dataset that review.select returns, got {type(selection).__name__}")
    meta = selection_meta(selection)
    labels = list(labels)
    if any(isinstance(y, (int, np.integer)) and not isinstance(y, bool) for y in labels):
        task.check_integer_labels("answers_for's labels")  # 1 would be class '2' of classes named '1', '2', ...
    if len(labels) != len(meta):
        raise ValueError(f"{len(labels)} labels for the {len(meta)} rows of the selection: give one per row")
    model = (read_column(selection, task.label_column, np.int64) if task.label_column in selection.column_names
             else np.full(len(meta), -1, dtype=np.int64))
    classes = []
    for i, y in enumerate(labels):
        k = task.class_of(y) if isinstance(y, str) else y
        if k is None or isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < task.cardinality:
            raise ValueError(f"label {i} is {y!r}, not a class of task {task.name!r} (one of 0..{task.cardinality - 1} "
                             f"or {list(task.labels)})")
        classes.append(int(k))
    when = time if time is not None else dt.datetime.now(dt.timezone.utc)
    return [Answer(m["split"], int(m["row"]), annotator, y, when, source=source, strategy=m["strategy"] or "",
                   reason=m["reason"] or "", round=int(m["round"] or 0), model_label=int(model[i]))
            for i, (m, y) in enumerate(zip(meta, classes))]

