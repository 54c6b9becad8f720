"""Synthetic vote matrices from a known generative model, and the posteriors that know it.

The model (all parameters seeded):

* a skewed class balance ``pi_k ∝ skew**k`` (class 0 is the most frequent), because a uniform
  balance would hide the cost of a label model that assumes one;
* each LF ``j`` fires on a row with probability ``coverage_j`` (independent of the class) and, when
  it fires, votes the true class with probability ``accuracy_j``, otherwise a uniformly random
  wrong class;
* a few copy pairs ``(source, copier)``: on each row the copier repeats the source's vote
  (abstains included) with probability ``copy_prob``, else it votes with its own parameters.
  Copies break the conditional independence that naive-Bayes style label models assume.

Two posteriors come with it. :func:`oracle_proba` is the naive-Bayes "oracle": it knows every LF's
true marginal confusion matrix, abstain included as an outcome, and the true class balance; it is
the practical ceiling for any label model that treats LFs as independent. :func:`bayes_proba` is
the exact posterior of the generative model (it also knows which LFs copy which), i.e. the
Bayes-optimal ceiling.

>>> data = generate(1000, 6, 3, seed=1)
>>> data.L.shape, data.L.dtype.name, int(data.L.min()), int(data.L.max())
((1000, 6), 'int8', -1, 2)
>>> bool(accuracy(oracle_proba(data.L, data.confusion, data.class_balance), data.y) > 0.7)
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ABSTAIN = -1  # mmweak.ABSTAIN; this module also runs in the anchors' venv, which has no mmweak

#: Rows generated per step; part of the definition of a seed's output, so never tie it to ``n``.
_CHUNK = 1 << 16


@dataclass(frozen=True)
class SyntheticVotes:
    """A generated vote matrix with the parameters that produced it.

    ``confusion[j, y, v + 1]`` is ``P(LF j votes v | class y)``, with ``v = -1`` (abstain) in
    column 0; copiers' rows are their true marginal (copy mixture), not their own parameters.
    """

    L: np.ndarray  # (n, m) int8, -1 = abstain
    y: np.ndarray  # (n,) int64 true classes
    class_balance: np.ndarray  # (K,)
    own_coverage: np.ndarray  # (m,) firing rate of each LF's own draw
    own_accuracy: np.ndarray  # (m,) accuracy of each LF's own draw when it fires
    copies: tuple[tuple[int, int], ...]  # (source, copier) LF index pairs
    copy_prob: float
    confusion: np.ndarray = field(repr=False)  # (m, K, K + 1)

    @property
    def cardinality(self) -> int:
        return int(self.class_balance.size)

    @property
    def coverage(self) -> np.ndarray:
        """True marginal firing rate of each LF (copiers included)."""
        return 1.0 - self.confusion[:, 0, 0]

    @property
    def accuracy(self) -> np.ndarray:
        """True ``P(vote == y | LF votes)`` of each LF under the class balance (copiers included)."""
        K = self.cardinality
        correct = self.confusion[:, np.arange(K), np.arange(K) + 1] @ self.class_balance
        return correct / self.coverage


def skewed_balance(cardinality: int, skew: float = 0.6) -> np.ndarray:
    """Class balance ``∝ skew**k``: class 0 most frequent (binary, skew 0.6: 0.625 / 0.375).

    >>> skewed_balance(2).round(3).tolist()
    [0.625, 0.375]
    """
    if cardinality < 2:
        raise ValueError(f"cardinality must be >= 2, got {cardinality}")
    if not 0.0 < skew <= 1.0:
        raise ValueError(f"skew must be in (0, 1], got {skew}")
    w = float(skew) ** np.arange(cardinality)
    return w / w.sum()


def lf_confusion(coverage: np.ndarray, accuracy: np.ndarray, cardinality: int) -> np.ndarray:
    """``(m, K, K + 1)`` confusion matrices of independent LFs; column 0 is abstain.

    >>> lf_confusion(np.array([0.5]), np.array([0.8]), 2).round(2).tolist()
    [[[0.5, 0.4, 0.1], [0.5, 0.1, 0.4]]]
    """
    cov = np.asarray(coverage, dtype=np.float64)
    acc = np.asarray(accuracy, dtype=np.float64)
    K = cardinality
    cm = np.empty((cov.size, K, K + 1))
    cm[:, :, 0] = (1.0 - cov)[:, None]
    wrong = cov * (1.0 - acc) / (K - 1)
    cm[:, :, 1:] = wrong[:, None, None]
    cm[:, np.arange(K), np.arange(K) + 1] = (cov * acc)[:, None]
    return cm


def generate(
    n: int,
    m: int,
    cardinality: int,
    *,
    seed: int = 0,
    skew: float = 0.6,
    coverage: tuple[float, float] = (0.1, 0.6),
    accuracy: tuple[float, float] = (0.55, 0.9),
    copy_pairs: int = 3,
    copy_prob: float = 0.9,
) -> SyntheticVotes:
    """Draw an ``(n, m)`` int8 vote matrix and its true labels; same arguments, same arrays.

    LF ``j``'s coverage and accuracy are uniform in the given ranges; pairs ``(0, 1), (2, 3), ...``
    (the first ``copy_pairs`` of them, as many as ``m`` allows) are copy pairs. Vectorized in row
    chunks: one uniform draw per vote decides abstain / correct / which wrong class, so a
    1e6 x 50 matrix takes about a second.

    >>> a, b = generate(50, 4, 2, seed=3), generate(50, 4, 2, seed=3)
    >>> bool((a.L == b.L).all() and (a.y == b.y).all()), a.copies
    (True, ((0, 1), (2, 3)))
    """
    K = int(cardinality)
    if n < 0 or m < 1:
        raise ValueError(f"need n >= 0 rows and m >= 1 LFs, got n={n}, m={m}")
    if not 2 <= K <= 127:
        raise ValueError(f"cardinality must be in 2..127 (int8 votes), got {K}")
    lo_c, hi_c = coverage
    lo_a, hi_a = accuracy
    if not (0.0 < lo_c <= hi_c < 1.0 and 0.0 < lo_a <= hi_a < 1.0):
        raise ValueError(f"coverage and accuracy ranges must lie inside (0, 1), got {coverage}, {accuracy}")
    if not 0.0 <= copy_prob <= 1.0:
        raise ValueError(f"copy_prob must be in [0, 1], got {copy_prob}")
    n, m = int(n), int(m)
    rng = np.random.default_rng(seed)
    balance = skewed_balance(K, skew)
    own_cov = rng.uniform(lo_c, hi_c, m)
    own_acc = rng.uniform(lo_a, hi_a, m)
    pairs = tuple((2 * i, 2 * i + 1) for i in range(min(copy_pairs, m // 2)))
    y = rng.choice(K, size=n, p=balance).astype(np.int64)

    # One uniform u per vote: [0, c*a) correct, [c*a, c) wrong (its position picks the wrong
    # class), [c, 1) abstain. float32 keeps the draw cheap; every band is at least 1e-2 wide.
    correct_hi = (own_cov * own_acc).astype(np.float32)
    wrong_width = (own_cov * (1.0 - own_acc)).astype(np.float32)
    cov32 = own_cov.astype(np.float32)
    L = np.empty((n, m), dtype=np.int8)
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        yc = y[start:stop, None].astype(np.int16)
        u = rng.random((stop - start, m), dtype=np.float32)
        offset = ((u - correct_hi) / wrong_width * (K - 1)).astype(np.int16)
        np.clip(offset, 0, K - 2, out=offset)
        wrong = (yc + 1 + offset) % K
        votes = np.where(u < correct_hi, yc, wrong)
        votes[u >= cov32] = ABSTAIN
        if pairs:
            copied = rng.random((stop - start, len(pairs)), dtype=np.float32) < copy_prob
            for p, (src, dst) in enumerate(pairs):
                votes[copied[:, p], dst] = votes[copied[:, p], src]
        L[start:stop] = votes

    confusion = lf_confusion(own_cov, own_acc, K)
    for src, dst in pairs:
        confusion[dst] = copy_prob * confusion[src] + (1.0 - copy_prob) * confusion[dst]
    return SyntheticVotes(L, y, balance, own_cov, own_acc, pairs, float(copy_prob), confusion)


def _log_posterior_to_proba(logp: np.ndarray) -> np.ndarray:
    logp -= logp.max(axis=1, keepdims=True)
    np.exp(logp, out=logp)
    logp /= logp.sum(axis=1, keepdims=True)
    return logp


def oracle_proba(L: np.ndarray, confusion: np.ndarray, class_balance: np.ndarray) -> np.ndarray:
    """Naive-Bayes posterior ``P(y | votes) ∝ pi_y * prod_j confusion[j, y, vote_j + 1]``.

    Abstain is an observed outcome like any vote, so a row with no votes gets a posterior that
    depends on which LFs stayed silent (here: the class balance, since coverage is class-blind).

    >>> cm = lf_confusion(np.array([0.5, 0.5]), np.array([0.8, 0.6]), 2)
    >>> oracle_proba(np.array([[1, 0]]), cm, np.array([0.5, 0.5])).round(4).tolist()
    [[0.2727, 0.7273]]
    """
    L = np.asarray(L)
    m = confusion.shape[0]
    if L.ndim != 2 or L.shape[1] != m:
        raise ValueError(f"L must be (n, {m}), got shape {L.shape}")
    # (m, K + 1, K): row v + 1 of LF j is the log-likelihood of vote v under every class.
    loglik = np.log(np.maximum(confusion, 1e-300)).transpose(0, 2, 1)
    logp = np.tile(np.log(np.asarray(class_balance, dtype=np.float64)), (L.shape[0], 1))
    for j in range(m):
        logp += loglik[j][L[:, j].astype(np.intp) + 1]
    return _log_posterior_to_proba(logp)


def bayes_proba(data: SyntheticVotes, L: np.ndarray | None = None) -> np.ndarray:
    """Exact posterior of the generative model, copy structure included (Bayes-optimal).

    For a pair ``(s, c)``: ``P(v_s, v_c | y) = P(v_s | y) * (q [v_c = v_s] + (1 - q) P_own(v_c | y))``.
    """
    L = data.L if L is None else np.asarray(L)
    K = data.cardinality
    own = lf_confusion(data.own_coverage, data.own_accuracy, K)
    copiers = {dst: src for src, dst in data.copies}
    independent = [j for j in range(L.shape[1]) if j not in copiers]
    logp = np.log(oracle_proba(L[:, independent], data.confusion[independent], data.class_balance))
    q = data.copy_prob
    for dst, src in copiers.items():
        vd = L[:, dst].astype(np.intp) + 1
        lik = (1.0 - q) * own[dst].T[vd]  # (n, K)
        lik += q * (L[:, dst] == L[:, src])[:, None]
        logp += np.log(np.maximum(lik, 1e-300))
    return _log_posterior_to_proba(logp)


def hard_labels(proba: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Argmax with ties (within ``tol``) going to the lowest class index, for every method alike.

    >>> hard_labels(np.array([[0.5, 0.5], [0.2, 0.8], [0.5 - 1e-12, 0.5]])).tolist()
    [0, 1, 0]
    """
    proba = np.asarray(proba, dtype=np.float64)
    return (proba >= proba.max(axis=1, keepdims=True) - tol).argmax(axis=1)


def accuracy(proba: np.ndarray, y: np.ndarray) -> float:
    """Share of rows whose :func:`hard_labels` equals ``y``; every row counts, voted or not."""
    return float((hard_labels(proba) == np.asarray(y)).mean())


def majority_proba(L: np.ndarray, cardinality: int) -> np.ndarray:
    """Vote shares per row (uniform where nobody voted): the plain majority-vote baseline.

    >>> majority_proba(np.array([[0, 0, 1], [-1, -1, -1]]), 2).round(3).tolist()
    [[0.667, 0.333], [0.5, 0.5]]
    """
    counts = np.stack([(L == k).sum(axis=1) for k in range(cardinality)], axis=1).astype(np.float64)
    total = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, total, out=np.full_like(counts, 1.0 / cardinality), where=total > 0)


def generate_keyword(
    n: int, m: int, cardinality: int, *, seed: int = 0, skew: float = 0.6,
    fire_on_class: tuple[float, float] = (0.15, 0.5), fire_off_class: tuple[float, float] = (0.01, 0.12),
) -> tuple[np.ndarray, np.ndarray]:
    """Keyword-style (unipolar) LFs: LF ``j`` only ever votes class ``j % K`` and abstains otherwise.

    It fires with a rate drawn from ``fire_on_class`` on rows of its class and from ``fire_off_class``
    elsewhere, so silence is informative and precision varies: the regime of WRENCH's keyword sets.

    >>> L, y = generate_keyword(200, 6, 3, seed=1)
    >>> sorted({int(v) for v in L[:, 4]} - {-1}), L.shape
    ([1], (200, 6))
    """
    rng = np.random.default_rng(seed)
    K = int(cardinality)
    y = rng.choice(K, size=n, p=skewed_balance(K, skew)).astype(np.int64)
    on = rng.uniform(*fire_on_class, m)
    off = rng.uniform(*fire_off_class, m)
    cls = np.arange(m) % K
    rate = np.where(y[:, None] == cls[None, :], on[None, :], off[None, :])
    L = np.where(rng.random((n, m)) < rate, cls[None, :], ABSTAIN).astype(np.int8)
    return L, y


#: Generated families for leave-one-dataset-out: name -> (builder(seed) -> (L, y), K, metric, dev rows).
#: Each stresses one assumption a default could silently depend on.
FAMILIES = {
    # LFs copied: three pairs of near-verbatim copies among 10 bipolar LFs.
    "copies": (lambda s: _votes(generate(20_000, 10, 2, seed=s, copy_pairs=3, copy_prob=0.95)), 2, "accuracy", 0),
    # A rare positive class (9 %) scored by its F1, keyword LFs, a gold dev set.
    "rare_class": (lambda s: generate_keyword(20_000, 8, 2, seed=s, skew=0.1), 2, "f1", 300),
    # Crowdsourcing: 150 annotators who each label 1-4 % of the items.
    "sparse_annotators": (lambda s: _votes(generate(3000, 150, 3, seed=s, coverage=(0.01, 0.04), copy_pairs=0)), 3, "accuracy", 0),
    # Three LFs that vote on almost every row.
    "few_dense": (lambda s: _votes(generate(20_000, 3, 2, seed=s, coverage=(0.8, 0.99), copy_pairs=0)), 2, "accuracy", 0),
    # Twenty classes.
    "k20": (lambda s: _votes(generate(10_000, 15, 20, seed=s, copy_pairs=1, skew=0.9)), 20, "accuracy", 0),
    # Keyword-style LFs over 3 classes with a small gold dev set.
    "keyword": (lambda s: generate_keyword(20_000, 12, 3, seed=s), 3, "accuracy", 200),
}


def _votes(data: SyntheticVotes) -> tuple[np.ndarray, np.ndarray]:
    return data.L, data.y
