"""Find LFs that (nearly) copy each other, so a model does not count the same evidence twice.

Real LF sets are full of near-duplicates: the same keyword list in two LFs, a regex and its
case-insensitive twin. Naive-Bayes-style models assume LFs are independent given the label, so three
copies of one LF outvote two honest ones.

Raw agreement cannot tell a copy from two good LFs (two 90 %-accurate annotators agree ~82 % of the
time). So we compare how often two LFs agree with how often they would if they were independent given
the label, using each LF's class-conditional outputs under the majority-vote posterior: the *excess
agreement* ``(observed - expected) / (1 - expected)`` on the full outputs, abstain included, is 0 for
independent LFs and 1 for verbatim copies. Because LFs that merely fire on the same rows (crowd workers
given the same batch) also show excess there, a pair must in addition cast the same vote on at least
``COPY_VOTE_AGREEMENT`` of the rows where both vote, and the shared rows must show it: the lower 95 %
Wilson bound of that agreement has to reach the share. Two good crowd workers who did one batch of 20
items together and agreed on 19 are not shown to be copies (bound 0.76); two LFs that agree on 1,000 of
1,000 shared rows are. Pairs of LFs that each vote one class only are exempt from the bound: their
agreement where both vote is 1 by construction, so only the excess of their firing pattern can tell. LFs
linked by an excess of at least ``threshold`` form a group; each member of a group of size ``g`` gets
weight ``1/g``, so the group speaks once.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .pairs import MIN_SHARED_ROWS, PairVotes, pair_votes
from .votes import PAIR_STAT_ROWS, SparseVotes, recall, remember, view_memo, vote_share

#: Two LFs are copies when they are at least this far from "independent given the label" towards "identical".
COPY_EXCESS = 0.5
#: ... and cast the same vote on at least this share of the rows where both vote.
COPY_VOTE_AGREEMENT = 0.9
#: Normal quantile of the Wilson bound on that agreement (two-sided 95 %).
COPY_AGREEMENT_Z = 1.96


def excess_agreement(V: SparseVotes, seed: int = 0) -> np.ndarray:
    """``(m, m)`` excess agreement of every LF pair (diagonal 0), for reading; the groups use :func:`copy_pairs`.

    >>> L = np.array([[1, 1, 0], [0, 0, -1], [1, 1, 1], [-1, -1, 0]] * 20, dtype=np.int8)
    >>> excess_agreement(SparseVotes.from_dense(L, 2))[0, 1].round(2)
    np.float64(1.0)
    """
    pairs, excess = copy_pairs(V, seed)
    return pairs.grid(excess)


def copy_pairs(V: SparseVotes, seed: int = 0) -> tuple[PairVotes, np.ndarray]:
    """The LF pairs that share enough rows to count and each one's excess agreement ``(P,)``.

    Only pairs with :data:`~mmweak.labelmodels.pairs.MIN_SHARED_ROWS` shared rows are listed: every other pair's
    excess is 0 (a crowd of thousands of workers shares rows in few of its m^2 pairs).

    >>> L = np.array([[1, 1, 0], [0, 0, -1], [1, 1, 1], [-1, -1, 0]] * 20, dtype=np.int8)
    >>> pairs, excess = copy_pairs(SparseVotes.from_dense(L, 2))
    >>> pairs.a.tolist(), pairs.b.tolist(), (excess >= COPY_EXCESS).tolist()
    ([0, 0, 1, 1, 2, 2], [1, 2, 0, 2, 0, 1], [True, False, True, False, False, False])
    """
    V = V.capped(PAIR_STAT_ROWS, seed)
    pairs = pair_votes(V, MIN_SHARED_ROWS)
    a, b, n = pairs.a, pairs.b, pairs.n
    if n <= 0 or not a.size:
        return pairs, np.zeros(a.size)
    same, both, cover = pairs.same, pairs.both, pairs.cover
    observed = (same + n - cover[a] - cover[b] + both) / n  # same vote, or both abstain

    T = vote_share(V)
    N = T.T @ V.weight  # class mass
    C = V.vote_class_counts(T)  # (j, v, k)
    P_vote = C / np.maximum(N, 1e-12)[None, None, :]  # P(vote v | class k)
    P_abs = np.clip(1.0 - P_vote.sum(axis=1), 0.0, 1.0)  # (j, k)
    pi = N / n
    expected = np.einsum("k,pvk,pvk->p", pi, P_vote[a], P_vote[b]) + np.einsum("k,pk,pk->p", pi, P_abs[a], P_abs[b])
    # Excess over independence on the full outputs (abstain included), for pairs whose votes also
    # coincide where both vote: co-firing alone (crowd workers doing the same batch) is not copying.
    agree_when_both = wilson_lower(same, both, COPY_AGREEMENT_Z)
    one_class = pairs.one_class
    trivial = one_class[a] & one_class[b]
    agree_when_both[trivial] = same[trivial] / both[trivial]
    return pairs, _excess(observed, expected) * (agree_when_both >= COPY_VOTE_AGREEMENT)


def wilson_lower(successes: np.ndarray, trials: np.ndarray, z: float) -> np.ndarray:
    """Lower Wilson score bound of ``successes / trials`` (0 where there are no trials).

    >>> wilson_lower(np.array([19.0, 1000.0]), np.array([20.0, 1000.0]), 1.96).round(3).tolist()
    [0.764, 0.996]
    """
    n = np.maximum(trials, 1e-12)
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return np.where(trials > 0, (centre - spread) / (1 + z * z / n), 0.0)


def _excess(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """``(observed - expected) / (1 - expected)``; where independence already predicts agreement on every row (two
    LFs that each always give the same output, e.g. a constant LF pasted twice), outputs identical on every row are
    verbatim copies (1), else 0.

    >>> _excess(np.array([0.9, 1.0, 1.0, 0.99]), np.array([0.8, 0.8, 1.0, 1.0])).round(2).tolist()
    [0.5, 1.0, 1.0, 0.0]
    """
    degenerate = expected >= 1 - 1e-9
    ratio = np.divide(observed - expected, 1.0 - expected, out=np.zeros_like(observed), where=~degenerate)
    return np.where(degenerate & (observed >= 1 - 1e-9), 1.0, ratio)


def copy_groups(V: SparseVotes, threshold: float = COPY_EXCESS, seed: int = 0) -> np.ndarray:
    """Group id per LF: connected components of the "excess agreement >= ``threshold``" graph.

    >>> L = np.array([[1, 1, 0], [0, 0, -1], [1, 1, 1], [-1, -1, 0]] * 20, dtype=np.int8)
    >>> copy_groups(SparseVotes.from_dense(L, 2)).tolist()
    [0, 0, 1]
    """
    memo = view_memo()
    key = ("copy_groups", id(V), float(threshold), int(seed))
    known = recall(memo, key, V)
    if known is not None:
        return known
    pairs, excess = copy_pairs(V, seed)
    link = excess >= threshold
    m = V.n_lfs
    adjacency = sp.csr_matrix((np.ones(int(link.sum())), (pairs.a[link], pairs.b[link])), shape=(m, m))
    # Components are numbered in the order of their first LF, as the groups always were.
    ids = connected_components(adjacency, directed=False)[1].astype(np.int64)
    if memo is not None:
        remember(memo, key, V, ids)
    return ids


def copy_weights(V: SparseVotes, threshold: float = COPY_EXCESS, seed: int = 0) -> np.ndarray:
    """``1 / size of the LF's copy group`` for every LF (1.0 for LFs with no copy)."""
    ids = copy_groups(V, threshold, seed)
    return 1.0 / np.bincount(ids)[ids]


__all__ = ["COPY_EXCESS", "copy_groups", "copy_pairs", "copy_weights", "excess_agreement", "wilson_lower"]
