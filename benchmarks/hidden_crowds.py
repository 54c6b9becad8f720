"""Generate crowd sets in the shapes of the public truth-inference sets that are *not* in ``../shared/data``.

``hidden_shapes.py`` draws every crowd from Dawid–Skene's own model: each worker answers from a confusion matrix,
independently of the others given the class. Real crowds break that in ways that decide which label model wins:

* **hard items**: on some items many workers make the *same* mistake (a shared decoy class), so their errors
  are correlated and agreement overstates how sure the crowd is;
* **ordinal classes** (relevance grades, sentiment 1-5, adult ratings): mistakes go to the neighbouring grade;
* **lazy and biased workers**: some answer one favourite class whatever the item, some pull a share of every
  answer towards one class;
* **heavy-tailed activity**: a few workers give most answers and most give a handful.

This writes, into a data folder of the shared layout (``crowd/<name>/{label,truth}.csv``), one crowd per public
set's published shape (classes, items, workers, answers, how many items have gold): CF and CF_amt, MS, SP and
SP_amt, the three ZenCrowd sets (``zc_all`` is ``zc_in`` and ``zc_us`` together, as the real one is), Face,
AdultContent, Relevance, fact_eval, the CrowdScale sentiment set, TREC 2011 and temp. Sizes come from the papers
that describe those sets; every answer is generated. The folder's README has no published numbers, so only
"default − MV" and the member columns mean anything. Written after the rules they test, not to tune them.

    .venv/bin/python benchmarks/hidden_crowds.py /tmp/hidden-crowds            # about 15 s, 13 MB
    MMWEAK_SHARED_DATA=/tmp/hidden-crowds .venv/bin/python benchmarks/accuracy.py --no-anchors --no-lodo \
        --models default majority one_coin dawid_skene ebcc weighted_majority   # about 6 min
    .venv/bin/python benchmarks/hidden_crowds.py /tmp/fresh-crowds --seed-offset 100   # fresh draws
    .venv/bin/python benchmarks/hidden_crowds.py /tmp/weak-crowds --hard       # workers barely above chance

Results: ``benchmarks/results/hidden_crowds.md``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import hidden_shapes  # noqa: E402

#: Shares of lazy workers (one favourite class whatever the item) and biased ones (a share pulled to one class).
LAZY, BIASED = 0.08, 0.15
README = """# Generated crowd data (SYNTHETIC; no published numbers)

## crowd/ — crowd sets in the shapes of public truth-inference sets, answers generated

| dataset | classes | items | workers | answers |
|---|---|---|---|---|
"""

#: name: classes, items, workers, answers, items with gold (None = all), ordinal, class prior (None = uniform)
SHAPES: dict[str, tuple] = {
    "cf": (5, 300, 461, 1720, None, False, [0.3, 0.25, 0.2, 0.15, 0.1]),
    "cf_amt": (5, 300, 110, 6030, None, False, [0.3, 0.25, 0.2, 0.15, 0.1]),
    "ms": (10, 700, 44, 2945, None, False, None),
    "sp": (2, 4999, 203, 27746, None, False, None),
    "sp_amt": (2, 500, 143, 10000, None, False, None),
    "face": (4, 584, 27, 5242, None, False, [0.35, 0.3, 0.2, 0.15]),
    "adult": (4, 11040, 825, 92721, 1517, True, [0.6, 0.2, 0.12, 0.08]),
    "relevance": (4, 20232, 766, 98453, 3276, True, [0.5, 0.3, 0.15, 0.05]),
    "fact_eval": (3, 42624, 57, 216725, 576, False, [0.6, 0.35, 0.05]),
    "csent": (5, 98980, 1960, 569375, 300, True, [0.1, 0.2, 0.35, 0.25, 0.1]),
    "trec2011": (2, 19033, 762, 88385, 2275, False, [0.6, 0.4]),
    "temp": (2, 462, 76, 4620, None, False, None),
}


def confusions(rng: np.random.Generator, K: int, W: int, ordinal: bool, quality: float, hard: bool = False
               ) -> np.ndarray:
    """One (K, K) answer table per worker: most skilled, some lazy (one favourite class), some biased."""
    C = np.zeros((W, K, K))
    grades = np.arange(K)
    for w in range(W):
        if hard:  # barely above chance: the regime of the real Relevance and Face sets, where MV is near 55-65 %
            acc = float(np.clip(rng.beta(quality * 4, 2), 1.0 / K + 0.02, 0.99))
        else:
            acc = float(np.clip(1.0 / K + (1 - 1.0 / K) * rng.beta(quality * 6, 2), 0.0, 0.99))
        for k in range(K):
            if ordinal:
                off = np.exp(-np.abs(grades - k) / rng.uniform(0.5, 1.5))
                off[k] = 0.0
                off /= off.sum()
            else:
                off = np.insert(rng.dirichlet(np.ones(K - 1)), k, 0.0)
            C[w, k] = off * (1 - acc)
            C[w, k, k] = acc
        kind = rng.random()
        if kind < LAZY:  # lazy: a favourite class whatever the item
            C[w] = rng.dirichlet(np.full(K, 0.3))[None, :]
        elif kind < LAZY + BIASED:  # biased: a share of every answer pulled to one class
            pull, share = rng.integers(K), rng.uniform(0.2, 0.5)
            C[w] *= 1 - share
            C[w, :, pull] += share
    return C


def crowd(rng: np.random.Generator, K: int, n: int, W: int, answers: int, ordinal: bool, prior, quality: float,
          workers: np.ndarray | None = None, y: np.ndarray | None = None, hard: tuple | None = None,
          weak: bool = False):
    """(items, workers, labels) answer arrays for ``n`` items and the truth; ``workers`` offsets the worker ids;
    ``weak`` draws the ``--hard`` regime (``hard`` is the items' shared mistakes, drawn when ``None``)."""
    prior = np.full(K, 1.0 / K) if prior is None else np.asarray(prior, float) / np.sum(prior)
    y = rng.choice(K, size=n, p=prior) if y is None else y
    if hard is None:
        difficulty = rng.beta(0.6, 4.0, size=n) if weak else rng.beta(0.5, 6.0, size=n)  # most items easy, a tail where workers share one mistake
        shift = rng.choice([-1, 1], size=n) if ordinal else rng.integers(1, K, size=n)
        decoy = np.clip(y + shift, 0, K - 1) if ordinal else (y + shift) % K
        decoy = np.where(decoy == y, (y + 1) % K, decoy)
        hard = (difficulty, decoy)
    difficulty, decoy = hard
    C = confusions(rng, K, W, ordinal, quality, weak)
    activity = rng.pareto(1.2, size=W) + 0.05  # heavy-tailed: a few workers give most answers
    per_item = np.maximum(1, rng.poisson(answers / n, size=n))
    per_item = np.minimum(per_item, W)
    p = activity / activity.sum()
    items, who = [], []
    for i in range(n):
        items.append(np.full(per_item[i], i))
        who.append(rng.choice(W, size=per_item[i], replace=False, p=p))
    items_a, who_a = np.concatenate(items), np.concatenate(who)
    rows = C[who_a, y[items_a]]
    drawn = (rows.cumsum(axis=1) < rng.random(len(items_a))[:, None]).sum(axis=1)
    drawn = np.minimum(drawn, K - 1)
    shared = rng.random(len(items_a)) < difficulty[items_a]
    labels = np.where(shared, decoy[items_a], drawn)
    offset = 0 if workers is None else int(workers)
    return (items_a, who_a + offset, labels), y, hard


def write(name: str, answers, y: np.ndarray, gold: int | None, rng: np.random.Generator, K: int, W: int) -> str:
    items, who, labels = answers
    order = np.lexsort((who, items))
    rows = list(zip(items[order].tolist(), who[order].tolist(), labels[order].tolist()))
    answered = np.unique(items)
    gold_items = answered if gold is None else np.sort(rng.choice(answered, size=gold, replace=False))
    hidden_shapes.write_crowd(name, rows, [(int(i), int(y[i])) for i in gold_items])
    return f"| {name} | {K} | {len(answered)} | {W} | {len(rows)} |\n"


def draw(name: str, seed_offset: int = 0, hard: bool = False) -> tuple[tuple, np.ndarray, np.random.Generator]:
    """One crowd of :data:`SHAPES` as ``main`` draws it: its answers, the truth of every item, and the generator
    (``main`` goes on drawing the gold items from it)."""
    s = list(SHAPES).index(name)
    K, n, W, answers, _, ordinal, prior = SHAPES[name]
    rng = np.random.default_rng(seed_offset + 100 + s)
    quality = rng.uniform(0.6, 1.0) if hard else rng.uniform(0.4, 1.0)
    ans, y, _ = crowd(rng, K, n, W, answers, ordinal, prior, quality, weak=hard)
    return ans, y, rng


def vote_matrix(answers, n: int, W: int) -> np.ndarray:
    """The (items, workers) int8 vote matrix of ``(items, workers, labels)`` answers, -1 where a worker is silent.

    >>> vote_matrix((np.array([0, 1]), np.array([1, 0]), np.array([2, 0])), 2, 2).tolist()
    [[-1, 2], [0, -1]]
    """
    items, who, labels = answers
    L = np.full((n, W), -1, dtype=np.int8)
    L[items, who] = labels
    return L


def crowd_matrix(name: str, seed_offset: int = 0, hard: bool = False) -> tuple[np.ndarray, np.ndarray, int]:
    """``(L, y, K)``: the vote matrix of :func:`draw`'s crowd, the truth of every item and the number of classes."""
    answers, y, _ = draw(name, seed_offset, hard)
    K, n, W = SHAPES[name][:3]
    return vote_matrix(answers, n, W), y, K


def main(out: Path, seed_offset: int, hard: bool = False) -> None:
    hidden_shapes.OUT = out
    if out.exists():
        shutil.rmtree(out)
    (out / "crowd").mkdir(parents=True)
    (out / "wrench").mkdir()
    table = README
    for name, (K, n, W, answers, gold, ordinal, prior) in SHAPES.items():
        ans, y, rng = draw(name, seed_offset, hard)
        table += write(name, ans, y, gold, rng, K, W)
    # ZenCrowd: the same 2,040 items answered by an Indian pool (25 workers, weaker) and a US pool (74); zc_all is
    # both pools' answers together, as the published zc_all is.
    rng = np.random.default_rng(seed_offset + 200)
    a_in, y, shared = crowd(rng, 2, 2040, 25, 11205, False, [0.75, 0.25], 0.6 if hard else 0.4, weak=hard)
    a_us, _, _ = crowd(rng, 2, 2040, 74, 12190, False, [0.75, 0.25], 0.85, workers=25, y=y, hard=shared, weak=hard)
    table += write("zc_in", a_in, y, None, rng, 2, 25)
    table += write("zc_us", a_us, y, None, rng, 2, 74)
    both = tuple(np.concatenate([a, b]) for a, b in zip(a_in, a_us))
    table += write("zc_all", both, y, None, rng, 2, 99)
    (out / "README.md").write_text(table, encoding="utf-8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="/tmp/hidden-crowds", help="data folder to write (replaced)")
    parser.add_argument("--hard", action="store_true", help="weak workers and more shared mistakes")
    parser.add_argument("--seed-offset", type=int, default=0, help="draw fresh sets of the same shapes")
    args = parser.parse_args()
    main(Path(args.out), args.seed_offset, args.hard)
