"""Generated crowds and LF sets that break what the default's members assume, scored against majority vote.

The LODO families (``synthetic.FAMILIES``) all draw LFs that err independently given the class. Real
crowds and LF sets do not, so this script draws worlds that each break one assumption, and scores the
default without gold (the crowd protocol) against majority vote with ties split and against every
outcome the default could have reached. None of them was used to choose a constant.

* ``spammers``: 40 % of 60 workers answer at random and 5 % are adversarial.
* ``class_bias``: binary, 80/20, each worker with its own sensitivity and specificity.
* ``ordinal``: 4 ordered classes; 300 workers confuse neighbouring classes, each with a bias.
* ``item_difficulty``: skill against item difficulty (GLAD); wrong answers pile on one confusable class.
* ``hard_items``: binary, 3 answers per item, many items near chance.
* ``small_dense``: 300 items, 10 workers who answer everything, 4 classes.
* ``colluders``: 15 of 50 workers mostly copy one shared answer that is right half the time.
* ``colluders_mild``: 10 of 50 workers mostly copy a shared answer that is right 70 % of the time.
* ``shared_base``: 6 of 12 dense LFs mostly repeat one weak upstream model (the same backbone).
* ``shared_base3``: 4 of 10, three classes.
* ``keywords``: 12 keyword LFs over 3 unbalanced classes (``synthetic.generate_keyword``), each voting one
  class at a class-dependent rate and firing often off its class too (what they say is *whether* they fire).
* ``default_negative``: binary, 12 % positives; one LF votes negative on almost every row and falls
  silent more often on positives, one weak model votes on every row, two rare keyword LFs vote positive.
* ``tiny_crowd``: binary, 600 workers who answer 2-8 items each (a third of them one class only, by chance).
* ``small_crowd``: 100 binary items, 10 answers each from 38 workers whose activity is skewed, 10 % of them
  spammers stuck on one answer: the shape of the small affect-annotation crowd sets (ties are frequent).
* ``busy_crowd``: 10 classes, 700 items, 4 answers each from 44 workers, a few of whom answer most items; accuracy
  0.3-0.85, 5 % spammers (the shape of music-genre crowd sets).
* ``rare_crowd``: binary, 10 % positives, 5 answers per item from 60 workers, 10 % spammers.
* ``sparse_workers``: 300 items, 5 skewed classes, 6 answers each from 461 workers, most of whom answer a handful
  of items (the shape of tweet-sentiment crowd sets collected on CrowdFlower).
* ``dense_answers``: 500 binary items with 20 answers each from 143 workers, 10 % spammers (sentence-polarity
  sets re-collected with many answers per item).
* ``entity_linking``: 2,040 binary items (75 / 25), 5 answers each from 78 workers, 20 % spammers (the shape of the
  ZenCrowd entity-linking sets).
* ``many_keywords``: 26 keyword LFs over 10 classes (the shape of relation-extraction LF sets).
* ``sparse_keywords``: 164 rare keyword LFs over 9 classes, most rows hit by one or two.
* ``positive_keywords``: binary, 30 % positives, 33 keyword LFs of which two thirds vote the positive class
  (chemical-disease relation LF sets); scored by F1 of class 1 with the F1 rule, as WRENCH scores such sets.
* ``rare_keywords``: binary, 8 % positives, 9 keyword LFs (spouse-relation LF sets); F1 of class 1.
* ``rare_dense``: binary, 15 % positives, 6 detector LFs that vote on most rows (video-event LF sets); F1 of class 1.
* ``grouped_keywords``: binary; keyword LFs in topic groups of 2-4 that fire together (a review that mentions
  the topic trips all of them), plus two weak models that vote either class (the shape of review-sentiment LF
  sets: keyword lists next to a sentiment lexicon).
* ``detectors``: binary keep / drop; one-class detectors that each catch one kind of defect (an item has at
  most one), two of them reading the same defect (text), and one LF that votes "keep" on most clean items and
  on text, which it cannot see: the shape of the image demo's quality LFs.

Added on 2026-12-05, after every constant and rule of the default was fixed, and measured without changing
anything (``--only`` them; ``LATE_WORLDS``):

* ``model_confusions``: 10 classes; four dense pretrained classifiers that mix up the same look-alike class
  pairs, next to 12 one-class heuristics of 70-95 % precision.
* ``mixed_quality``: binary; five good LFs of both polarities drowned by ten near-random LFs of high coverage.
* ``topic_lengths``: 4 balanced classes, 9 one-class keyword LFs that fire more on long texts (news-topic LF sets).
* ``dense_and_keywords``: binary, 30 % positives; three dense models with uneven sensitivity and specificity and
  six rare keyword LFs (spam-detection LF sets).
* ``strong_model``: 4 classes; one dense model right 85-90 % of the time, 15 keyword LFs of 55-85 % precision.
* ``fine_grained``: 20 classes in 5 groups of 4; six models right 50-70 %, wrong mostly inside the true group.

Added later on 2026-12-05 (second round, ``LATE_WORLDS_2``), after the votes' second opinion and the EBCC
acceleration measurements, and measured once without changing anything:

* ``sarcasm``: binary; six lexicon LFs of both polarities that all read the opposite polarity on the 15 % of
  sarcastic rows (errors shared on a hidden subset), and three precise one-class keyword LFs that do not.
* ``partial_copies``: 3 classes; four independent LFs, and six that follow the first or the second on 70 % of rows
  and answer on their own otherwise (dependence short of a copy).
* ``confident_only``: 3 unbalanced classes; five models that vote only when confident, and are confident less
  often on the rarer classes (abstaining depends on the class), next to two weak dense LFs.
* ``weak_dense_many``: binary, 60 / 40; thirty dense LFs each 50-70 % sensitive and specific.
* ``noisy_gold``: 4 classes, eight LFs whose errors lean to a neighbouring class; with ``--dev``, 15 % of the gold
  dev rows carry a wrong label (``DEV_LABEL_NOISE``), while the rows scored keep their true labels.

``--dev N`` gives the default N gold dev rows instead (the WRENCH protocol; half the rows of a world
that has no more than N).

Usage::

    .venv/bin/python benchmarks/worlds.py                 # about 1 minute, no gold
    .venv/bin/python benchmarks/worlds.py --dev 200       # with 200 gold dev rows
    .venv/bin/python benchmarks/worlds.py --first-seed 3  # draws 3-5: seeds no rule was chosen on
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lodo as LO  # noqa: E402
import synthetic as S  # noqa: E402


def _wrong(y: np.ndarray, K: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random class other than ``y`` (elementwise)."""
    return (y + 1 + rng.integers(0, K - 1, y.shape)) % K


def _assign(n: int, W: int, per_item: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, per_item)`` distinct workers for every item."""
    return np.argsort(rng.random((n, W)), axis=1)[:, :per_item]


def _matrix(n: int, W: int, who: np.ndarray, votes: np.ndarray) -> np.ndarray:
    L = np.full((n, W), -1, dtype=np.int8)
    L[np.arange(n)[:, None], who] = votes
    return L


def _classes(n: int, balance: list[float], rng: np.random.Generator) -> np.ndarray:
    return rng.choice(len(balance), size=n, p=np.asarray(balance) / np.sum(balance))


def spammers(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    K, n, W = 3, 2000, 60
    acc = rng.uniform(0.6, 0.85, W)
    kind = rng.random(W)
    acc[kind < 0.4] = 1.0 / K
    acc[(kind >= 0.4) & (kind < 0.45)] = 0.15
    y = _classes(n, [1, 1, 1], rng)
    who = _assign(n, W, 6, rng)
    Y = np.repeat(y[:, None], who.shape[1], axis=1)
    votes = np.where(rng.random(who.shape) < acc[who], Y, _wrong(Y, K, rng))
    return _matrix(n, W, who, votes), y, K


def class_bias(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n, W = 2000, 20
    sens, spec = rng.uniform(0.45, 0.95, W), rng.uniform(0.6, 0.98, W)
    y = _classes(n, [0.8, 0.2], rng)
    who = _assign(n, W, 5, rng)
    p1 = np.where(y[:, None] == 1, sens[who], 1.0 - spec[who])
    return _matrix(n, W, who, (rng.random(who.shape) < p1).astype(np.int8)), y, 2


def ordinal(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    K, n, W = 4, 3000, 300
    sharp, bias = rng.uniform(0.5, 3.0, W), rng.normal(0.0, 0.5, W)
    y = _classes(n, [0.4, 0.3, 0.2, 0.1], rng)
    who = _assign(n, W, 5, rng)
    logit = -sharp[who][..., None] * np.abs(np.arange(K)[None, None, :] - (y[:, None] + bias[who])[..., None])
    p = np.exp(logit - logit.max(axis=2, keepdims=True))
    cdf = np.cumsum(p / p.sum(axis=2, keepdims=True), axis=2)
    votes = (rng.random(who.shape)[..., None] > cdf).sum(axis=2).clip(0, K - 1)
    return _matrix(n, W, who, votes), y, K


def item_difficulty(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    K, n, W = 3, 1500, 40
    skill, difficulty = rng.uniform(0.3, 3.0, W), rng.lognormal(0.0, 0.8, n)
    y = _classes(n, [1, 1, 1], rng)
    confusable = _wrong(y, K, rng)  # the wrong class an item's errors pile on
    who = _assign(n, W, 5, rng)
    right = 1.0 / K + (1.0 - 1.0 / K) / (1.0 + np.exp(-skill[who] / difficulty[:, None]))
    Y = np.repeat(y[:, None], who.shape[1], axis=1)
    wrong = np.where(rng.random(who.shape) < 0.8, confusable[:, None], _wrong(Y, K, rng))
    return _matrix(n, W, who, np.where(rng.random(who.shape) < right, Y, wrong)), y, K


def hard_items(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n, W = 2000, 30
    skill, difficulty = rng.uniform(0.0, 2.0, W), rng.lognormal(0.3, 1.0, n)
    y = _classes(n, [0.65, 0.35], rng)
    who = _assign(n, W, 3, rng)
    right = 0.05 + 0.9 / (1.0 + np.exp(-skill[who] / difficulty[:, None]))
    Y = np.repeat(y[:, None], who.shape[1], axis=1)
    return _matrix(n, W, who, np.where(rng.random(who.shape) < right, Y, 1 - Y)), y, 2


def small_dense(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    K, n, W = 4, 300, 10
    acc = rng.uniform(0.35, 0.8, W)
    y = _classes(n, [1, 1, 1, 1], rng)
    Y = np.repeat(y[:, None], W, axis=1)
    L = np.where(rng.random((n, W)) < acc[None, :], Y, _wrong(Y, K, rng)).astype(np.int8)
    return L, y, K


def _colluding(seed: int, K: int, group: int, shared_right: float, follow: float) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n, W = 2000, 50
    acc = rng.uniform(0.55, 0.85, W) if K > 2 else rng.uniform(0.6, 0.85, W)
    y = _classes(n, [1] * K, rng)
    shared = np.where(rng.random(n) < shared_right, y, _wrong(y, K, rng))
    who = _assign(n, W, 7, rng)
    Y = np.repeat(y[:, None], who.shape[1], axis=1)
    own = np.where(rng.random(who.shape) < acc[who], Y, _wrong(Y, K, rng))
    copy = (who < group) & (rng.random(who.shape) < follow)
    return _matrix(n, W, who, np.where(copy, shared[:, None], own)), y, K


def colluders(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    return _colluding(seed, 3, 15, 0.5, 0.9)


def colluders_mild(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    return _colluding(seed, 2, 10, 0.7, 0.8)


def _shared_base(seed: int, group: int, m: int, K: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n = 10_000
    y = _classes(n, [0.6, 0.4] if K == 2 else [1] * K, rng)
    acc, coverage = rng.uniform(0.6, 0.85, m), rng.uniform(0.3, 0.9, m)
    base = np.where(rng.random(n) < rng.uniform(0.6, 0.7), y, _wrong(y, K, rng))
    follow = np.r_[rng.uniform(0.8, 0.95, group), np.zeros(m - group)]
    Y = np.repeat(y[:, None], m, axis=1)
    own = np.where(rng.random((n, m)) < acc[None, :], Y, _wrong(Y, K, rng))
    votes = np.where(rng.random((n, m)) < follow[None, :], base[:, None], own)
    return np.where(rng.random((n, m)) < coverage[None, :], votes, -1).astype(np.int8), y, K


def shared_base(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    return _shared_base(seed, 6, 12, 2)


def shared_base3(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    return _shared_base(seed, 4, 10, 3)


def keywords(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    L, y = S.generate_keyword(10_000, 12, 3, seed=seed, fire_on_class=(0.2, 0.5), fire_off_class=(0.05, 0.3))
    return L, y, 3


def default_negative(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n = 10_000
    y = (rng.random(n) < 0.12).astype(np.int64)
    cols = [np.where(rng.random(n) < np.where(y == 0, 0.97, rng.uniform(0.75, 0.9)), 0, -1),
            np.where(rng.random(n) < rng.uniform(0.65, 0.8), y, 1 - y)]
    cols += [np.where(rng.random(n) < np.where(y == 1, rng.uniform(0.05, 0.2), 0.005), 1, -1) for _ in range(2)]
    return np.stack(cols, axis=1).astype(np.int8), y, 2


def tiny_crowd(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n, W = 3000, 600
    y = _classes(n, [0.6, 0.4], rng)
    acc = rng.uniform(0.55, 0.9, W)
    L = np.full((n, W), -1, dtype=np.int8)
    for w in range(W):
        items = rng.choice(n, size=int(rng.integers(2, 9)), replace=False)
        L[items, w] = np.where(rng.random(items.size) < acc[w], y[items], 1 - y[items])
    return L, y, 2


def _skewed_crowd(seed: int, n: int, W: int, per_item: int, balance: list[float], acc: tuple[float, float],
                  spam: float, activity: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Workers of Pareto(``activity``) activity answer ``per_item`` items each; a ``spam`` share answer one
    class of their own 70 % of the time and at random otherwise."""
    rng = np.random.default_rng(seed)
    K = len(balance)
    y = _classes(n, balance, rng)
    accuracy, spammer, favourite = rng.uniform(*acc, W), rng.random(W) < spam, rng.integers(0, K, W)
    weight = rng.pareto(activity, W) + 0.1
    # Gumbel top-k: per_item distinct workers per item, drawn in proportion to their activity.
    who = np.argsort(-(np.log(weight)[None, :] + rng.gumbel(size=(n, W))), axis=1)[:, :per_item]
    Y = np.repeat(y[:, None], per_item, axis=1)
    honest = np.where(rng.random(who.shape) < accuracy[who], Y, _wrong(Y, K, rng))
    stuck = np.where(rng.random(who.shape) < 0.7, favourite[who], rng.integers(0, K, who.shape))
    return _matrix(n, W, who, np.where(spammer[who], stuck, honest)), y, K


def small_crowd(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    return _skewed_crowd(seed, 100, 38, 10, [0.6, 0.4], (0.5, 0.85), 0.1, 1.0)


def busy_crowd(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    return _skewed_crowd(seed, 700, 44, 4, [1.0] * 10, (0.3, 0.85), 0.05, 1.0)


def rare_crowd(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    return _skewed_crowd(seed, 1000, 60, 5, [0.9, 0.1], (0.6, 0.95), 0.1, 1.0)


def sparse_workers(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    return _skewed_crowd(seed, 300, 461, 6, [0.3, 0.25, 0.2, 0.15, 0.1], (0.3, 0.9), 0.1, 0.5)


def dense_answers(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    return _skewed_crowd(seed, 500, 143, 20, [0.5, 0.5], (0.5, 0.95), 0.1, 1.0)


def entity_linking(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    return _skewed_crowd(seed, 2040, 78, 5, [0.75, 0.25], (0.5, 0.9), 0.2, 0.8)


def many_keywords(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    L, y = S.generate_keyword(12_000, 26, 10, seed=seed, skew=0.5, fire_on_class=(0.1, 0.4),
                              fire_off_class=(0.005, 0.05))
    return L, y, 10


def sparse_keywords(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    L, y = S.generate_keyword(2_500, 164, 9, seed=seed, skew=0.5, fire_on_class=(0.02, 0.12),
                              fire_off_class=(0.0005, 0.005))
    return L, y, 9


def _one_class_keywords(seed: int, n: int, m: int, positives: float,
                        negative_every: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Keyword LFs on a binary task: every ``negative_every``-th LF votes 0, the others 1, each firing at its own
    rate on rows of its class and rarely elsewhere."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < positives).astype(np.int64)
    label = np.where(np.arange(m) % negative_every == 0, 0, 1)
    on, off = rng.uniform(0.05, 0.3, m), rng.uniform(0.002, 0.05, m)
    fires = rng.random((n, m)) < np.where(y[:, None] == label[None, :], on[None, :], off[None, :])
    return np.where(fires, label[None, :], -1).astype(np.int8), y, 2


def positive_keywords(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    return _one_class_keywords(seed, 8000, 33, 0.3, 3)


def rare_keywords(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    return _one_class_keywords(seed, 20_000, 9, 0.08, 3)


def rare_dense(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n, m = 8000, 6
    y = (rng.random(n) < 0.15).astype(np.int64)
    sens, spec, coverage = rng.uniform(0.6, 0.9, m), rng.uniform(0.7, 0.98, m), rng.uniform(0.5, 1.0, m)
    vote = (rng.random((n, m)) < np.where(y[:, None] == 1, sens[None, :], 1.0 - spec[None, :])).astype(np.int8)
    return np.where(rng.random((n, m)) < coverage[None, :], vote, -1).astype(np.int8), y, 2


def grouped_keywords(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n = 6000
    y = (rng.random(n) < rng.uniform(0.3, 0.6)).astype(np.int64)
    cols = []
    for c in (0, 1):  # per class two topics; a topic's 2-4 keyword LFs fire together when the row mentions it
        for _ in range(2):
            on, off = rng.uniform(0.2, 0.5), rng.uniform(0.02, 0.1)
            topic = rng.random(n) < np.where(y == c, on, off)
            for _ in range(int(rng.integers(2, 5))):
                cols.append(np.where(topic & (rng.random(n) < 0.8), c, -1))
    for _ in range(2):  # two weak models that vote either class (sentiment-lexicon LFs)
        coverage, accuracy = rng.uniform(0.3, 0.6), rng.uniform(0.65, 0.75)
        cols.append(np.where(rng.random(n) < coverage, np.where(rng.random(n) < accuracy, y, 1 - y), -1))
    return np.stack(cols, axis=1).astype(np.int8), y, 2


def detectors(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n, kinds = 3000, 7  # kind 6 is "has text": two LFs read it (two OCR rules), and the keep LF cannot see it
    y = _classes(n, [0.55, 0.45], rng)
    defect = np.where(y == 1, rng.integers(0, kinds, n), -1)
    catch, false_alarm = rng.uniform(0.5, 0.9, kinds), rng.uniform(0.005, 0.03, kinds)
    rate = np.where(defect[:, None] == np.arange(kinds)[None, :], catch[None, :], false_alarm[None, :])
    fired = rng.random((n, kinds)) < rate
    second = fired[:, 6] & (rng.random(n) < 0.9)  # the second text rule mostly fires with the first
    drop = np.column_stack([fired, second])
    keep_rate = np.where(y == 0, rng.uniform(0.7, 0.9), np.where(defect == 6, 0.8, rng.uniform(0.1, 0.25)))
    keep = np.where(rng.random(n) < keep_rate, 0, -1)
    return np.column_stack([np.where(drop, 1, -1), keep]).astype(np.int8), y, 2


# -- Added on 2026-12-05, after every constant and rule of the default was fixed; measured, never tuned on. --


def model_confusions(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n, K = 6000, 10
    y = _classes(n, [0.14] * 5 + [0.06] * 5, rng)
    order = rng.permutation(K)  # classes in fixed look-alike pairs, the same pairs for every model
    partner = np.empty(K, dtype=np.int64)
    partner[order[::2]], partner[order[1::2]] = order[1::2], order[::2]
    cols = []
    for _ in range(4):
        accuracy, look_alike = rng.uniform(0.45, 0.75), rng.uniform(0.4, 0.8)
        wrong = np.where(rng.random(n) < look_alike, partner[y], rng.integers(0, K, n))
        cols.append(np.where(rng.random(n) < accuracy, y, wrong))
    for j in range(12):
        c, precision, on = j % K, rng.uniform(0.7, 0.95), rng.uniform(0.05, 0.3)
        fires = rng.random(n) < np.where(y == c, on, on * 0.15 * (1 - precision) / precision)
        cols.append(np.where(fires, c, -1))
    return np.stack(cols, axis=1).astype(np.int8), y, K


def mixed_quality(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n = 5000
    y = _classes(n, [0.6, 0.4], rng)
    cols = []
    for coverage, accuracy in [(rng.uniform(0.1, 0.4), rng.uniform(0.75, 0.92)) for _ in range(5)] + \
            [(rng.uniform(0.3, 0.8), rng.uniform(0.48, 0.58)) for _ in range(10)]:
        cols.append(np.where(rng.random(n) < coverage, np.where(rng.random(n) < accuracy, y, 1 - y), -1))
    return np.stack(cols, axis=1).astype(np.int8), y, 2


def topic_lengths(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n, K = 8000, 4
    y, length = rng.integers(0, K, n), rng.gamma(2.0, 1.0, n)
    cols = []
    for j in range(9):
        c, on, off = j % K, rng.uniform(0.1, 0.35), rng.uniform(0.01, 0.06)
        fires = rng.random(n) < np.clip(np.where(y == c, on, off) * length / 2, 0, 0.95)
        cols.append(np.where(fires, c, -1))
    return np.stack(cols, axis=1).astype(np.int8), y, K


def dense_and_keywords(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n = 4000
    y = _classes(n, [0.7, 0.3], rng)
    cols = []
    for sensitivity, specificity in [(0.85, 0.8), (0.6, 0.95), (0.95, 0.55)]:
        sens, spec = sensitivity + rng.uniform(-0.05, 0.05), specificity + rng.uniform(-0.05, 0.05)
        cols.append(np.where(y == 1, rng.random(n) < sens, rng.random(n) > spec).astype(np.int64))
    for _ in range(6):
        c, on, off = int(rng.integers(0, 2)), rng.uniform(0.05, 0.25), rng.uniform(0.002, 0.03)
        cols.append(np.where(rng.random(n) < np.where(y == c, on, off), c, -1))
    return np.stack(cols, axis=1).astype(np.int8), y, 2


def strong_model(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n, K = 6000, 4
    y = _classes(n, [0.4, 0.3, 0.2, 0.1], rng)
    cols = [np.where(rng.random(n) < rng.uniform(0.85, 0.9), y, _wrong(y, K, rng))]
    for j in range(15):
        c, precision, coverage = j % K, rng.uniform(0.55, 0.85), rng.uniform(0.03, 0.15)
        says = np.where(rng.random(n) < precision, y, _wrong(y, K, rng))
        cols.append(np.where((rng.random(n) < coverage) & (says == c), c, -1))
    return np.stack(cols, axis=1).astype(np.int8), y, K


def fine_grained(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n, K = 8000, 20
    y = rng.integers(0, K, n)
    cols = []
    for _ in range(6):
        accuracy, inside, coverage = rng.uniform(0.5, 0.7), rng.uniform(0.6, 0.9), rng.uniform(0.6, 1.0)
        same_group = (y // 4) * 4 + (y % 4 + rng.integers(1, 4, n)) % 4
        wrong = np.where(rng.random(n) < inside, same_group, _wrong(y, K, rng))
        cols.append(np.where(rng.random(n) < coverage, np.where(rng.random(n) < accuracy, y, wrong), -1))
    return np.stack(cols, axis=1).astype(np.int8), y, K


# -- Added on 2026-12-05 (second round), after the second opinion and the EBCC measurements; measured once. --


def sarcasm(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n = 6000
    y = _classes(n, [0.5, 0.5], rng)
    flipped = rng.random(n) < 0.15  # sarcastic rows: every lexicon LF reads the opposite polarity
    cols = []
    for _ in range(6):
        coverage, accuracy = rng.uniform(0.3, 0.6), rng.uniform(0.75, 0.85)
        says = np.where(rng.random(n) < accuracy, y, 1 - y)
        cols.append(np.where(rng.random(n) < coverage, np.where(flipped, 1 - says, says), -1))
    for j in range(3):
        c, on = j % 2, rng.uniform(0.05, 0.15)
        fires = rng.random(n) < np.where(y == c, on, on * 0.1)
        cols.append(np.where(fires, c, -1))
    return np.stack(cols, axis=1).astype(np.int8), y, 2


def partial_copies(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n, K = 5000, 3
    y = _classes(n, [0.45, 0.35, 0.2], rng)
    cols = []
    for _ in range(4):
        coverage, accuracy = rng.uniform(0.5, 0.9), rng.uniform(0.6, 0.75)
        cols.append(np.where(rng.random(n) < coverage, np.where(rng.random(n) < accuracy, y, _wrong(y, K, rng)), -1))
    for j in range(6):  # each follows LF 0 or LF 1 on 70 % of rows, otherwise answers on its own
        source = cols[j % 2]
        own = np.where(rng.random(n) < 0.55, y, _wrong(y, K, rng))
        cols.append(np.where(rng.random(n) < 0.7, source, np.where(rng.random(n) < 0.6, own, -1)))
    return np.stack(cols, axis=1).astype(np.int8), y, K


def confident_only(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n, K = 6000, 3
    y = _classes(n, [0.5, 0.3, 0.2], rng)
    cols = []
    for _ in range(5):  # models that vote only when confident, and are less often confident on the rarer classes
        vote_rate = np.array([rng.uniform(0.6, 0.8), rng.uniform(0.2, 0.4), rng.uniform(0.1, 0.3)])
        accuracy = rng.uniform(0.8, 0.9)
        says = np.where(rng.random(n) < accuracy, y, _wrong(y, K, rng))
        cols.append(np.where(rng.random(n) < vote_rate[y], says, -1))
    for _ in range(2):
        cols.append(np.where(rng.random(n) < rng.uniform(0.55, 0.65), y, _wrong(y, K, rng)))
    return np.stack(cols, axis=1).astype(np.int8), y, K


def weak_dense_many(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n, m = 3000, 30
    y = _classes(n, [0.6, 0.4], rng)
    sens, spec = rng.uniform(0.5, 0.7, m), rng.uniform(0.5, 0.7, m)
    right = rng.random((n, m)) < np.where(y[:, None] == 1, sens[None, :], spec[None, :])
    return np.where(right, y[:, None], 1 - y[:, None]).astype(np.int8), y, 2


def noisy_gold(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n, K = 6000, 4
    y = _classes(n, [0.35, 0.3, 0.2, 0.15], rng)
    confusable = (y + 1) % K  # each class's errors lean to its neighbour
    cols = []
    for _ in range(8):
        coverage, accuracy, lean = rng.uniform(0.3, 0.7), rng.uniform(0.55, 0.8), rng.uniform(0.3, 0.7)
        wrong = np.where(rng.random(n) < lean, confusable, _wrong(y, K, rng))
        cols.append(np.where(rng.random(n) < coverage, np.where(rng.random(n) < accuracy, y, wrong), -1))
    return np.stack(cols, axis=1).astype(np.int8), y, K


WORLDS: dict[str, Callable[[int], tuple[np.ndarray, np.ndarray, int]]] = {
    "spammers": spammers,
    "class_bias": class_bias,
    "ordinal": ordinal,
    "item_difficulty": item_difficulty,
    "hard_items": hard_items,
    "small_dense": small_dense,
    "colluders": colluders,
    "colluders_mild": colluders_mild,
    "shared_base": shared_base,
    "shared_base3": shared_base3,
    "keywords": keywords,
    "default_negative": default_negative,
    "tiny_crowd": tiny_crowd,
    "detectors": detectors,
    "small_crowd": small_crowd,
    "busy_crowd": busy_crowd,
    "rare_crowd": rare_crowd,
    "sparse_workers": sparse_workers,
    "dense_answers": dense_answers,
    "entity_linking": entity_linking,
    "many_keywords": many_keywords,
    "sparse_keywords": sparse_keywords,
    "positive_keywords": positive_keywords,
    "rare_keywords": rare_keywords,
    "rare_dense": rare_dense,
    "grouped_keywords": grouped_keywords,
    "model_confusions": model_confusions,
    "mixed_quality": mixed_quality,
    "topic_lengths": topic_lengths,
    "dense_and_keywords": dense_and_keywords,
    "strong_model": strong_model,
    "fine_grained": fine_grained,
    "sarcasm": sarcasm,
    "partial_copies": partial_copies,
    "confident_only": confident_only,
    "weak_dense_many": weak_dense_many,
    "noisy_gold": noisy_gold,
}
#: Worlds added after every constant and rule of the default was fixed (2026-12-05); measured, never tuned on.
LATE_WORLDS = ("model_confusions", "mixed_quality", "topic_lengths", "dense_and_keywords", "strong_model",
               "fine_grained")
#: The second round, added after the votes' second opinion (2026-12-05); measured once, never tuned on.
LATE_WORLDS_2 = ("sarcasm", "partial_copies", "confident_only", "weak_dense_many", "noisy_gold")
#: Share of the gold dev rows given a wrong label (uniformly among the other classes) where a world says so: a
#: hurried annotator's gold. The rows scored keep their true labels.
DEV_LABEL_NOISE = {"noisy_gold": 0.15}
#: Worlds scored by F1 of class 1 (the default's labels with its F1 rule), as WRENCH scores its rare-class sets.
F1_WORLDS = ("positive_keywords", "rare_keywords", "rare_dense")


def case(world: str, seed: int, n_dev: int = 0) -> LO.Case:
    """World ``world`` drawn with ``seed``; ``n_dev`` of its rows become gold dev rows (scored on the rest; half of
    the rows where ``n_dev`` would leave none)."""
    L, y, K = WORLDS[world](300 + seed)
    n_dev = n_dev if n_dev < L.shape[0] else L.shape[0] // 2  # small_crowd has 100 items
    y_dev = y[:n_dev].copy()
    if world in DEV_LABEL_NOISE and n_dev:
        rng = np.random.default_rng(900 + seed)
        noisy = rng.random(n_dev) < DEV_LABEL_NOISE[world]
        y_dev[noisy] = _wrong(y_dev[noisy], K, rng)
    dev = (L[:n_dev], y_dev) if n_dev else None
    metric = "f1" if world in F1_WORLDS else "accuracy"
    return LO.Case(f"{world}/{seed}", "synthetic", K, metric, L[n_dev:], L[n_dev:], y[n_dev:], dev)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="draws first-seed .. first-seed+seeds-1 (3 and up: draws no rule was developed on)")
    ap.add_argument("--dev", type=int, default=0, help="gold dev rows given to the default (0: none)")
    ap.add_argument("--only", nargs="+", choices=sorted(WORLDS))
    ap.add_argument("--try-member", nargs="+", default=[], help="registered models to add to the family (measurement)")
    args = ap.parse_args(argv)
    LO.try_members(args.try_member)
    start = time.perf_counter()
    print(f"### Generated worlds, {'no gold' if not args.dev else f'{args.dev} gold dev rows'} (accuracy %; F1 % of class 1 for "
          f"{', '.join(F1_WORLDS)})\n")
    print("| world | default (member) | MV ties split | default − MV | best reachable | members: majority / DS / DS no abstain "
          "/ one-coin / EBCC |")
    print("|---|--:|--:|--:|--:|---|")
    margins = {}
    for world in args.only or list(WORLDS):
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            r = LO.evaluate(case(world, seed, args.dev))
            o = r["outcomes"]
            margins[f"{world}/{seed}"] = r["default"] - r["mv"]
            print(f"| {world}/{seed} | {r['default']:.2f} ({r['selected']}) | {r['mv']:.2f} | {r['default'] - r['mv']:+.2f} "
                  f"| {max(o.values()):.2f} | {LO.member_scores(o)} |", flush=True)
    print(f"\n{LO.margin_summary(margins)} {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
