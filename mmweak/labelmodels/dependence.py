"""How much independent evidence each LF carries, judged by how it agrees with the others.

The gold-free score of the default (:mod:`~mmweak.labelmodels.heldout`) is a likelihood that treats
LFs as independent given the class. A group of LFs that share their errors (crowd workers who copy
one answer, LFs built on one upstream model) breaks that: their votes predict each other, so a
labelling that follows the group explains the held-out votes best even when the group is wrong
and majority vote is right (issue #14: 15 colluding workers out of 50 moved the default 17–20
points below majority vote in ``benchmarks/worlds.py``).

Without gold, one pattern separates good LFs from dependent ones. If LFs err independently, the
chance-corrected agreement of two of them (Cohen's kappa on the rows both voted on) is about the
product of one number per LF, ``s_i * s_j``, its reliability. Two accurate LFs agree a lot, and
each of them also agrees a lot with everyone else. Two dependent LFs agree with each other far
more than their agreement with everyone else allows.

So the reliabilities are fitted by weighted least squares, with each pair weighted by its shared
rows. Pairs already more than halfway from that fit towards identical are left out, so a dependent
group cannot pull the fit towards itself. A pair's *excess* is
``(kappa_lower - s_i * s_j) / (1 - s_i * s_j)``:

* ``kappa_lower`` is computed from the lower 95 % Wilson bound of the pair's agreement, so a
  handful of shared rows shows nothing;
* the excess is 0 when the pair is as independent as the fit expects, and 1 for verbatim copies.

Each LF's evidence weight is ``1 / (1 + its summed excess)``. That is the design effect of
correlated votes: ``g`` LFs that are pairwise ``rho`` beyond independence carry
``g / (1 + (g - 1) * rho)`` LFs' worth of evidence.

The weights are only used to score members, never to fit them. Applied inside the models, they
cost 0.6 points on average over the 66 real sets and their variants (``benchmarks/README.md``):
real LF sets carry many pairs that are dependent in this sense but harmless.

LFs that vote a single class are left out (their agreement where both vote is fixed by
construction), as are pairs with fewer than ``MIN_SHARED_ROWS`` shared rows.

What this cannot do: when the dependent group is about half the LFs or more, "a group of excellent
LFs" explains the agreements better than "a group with shared errors". Without gold nothing in the
votes tells the two apart; gold dev rows do (``benchmarks/worlds.py``).
"""

from __future__ import annotations

import numpy as np

from .copies import wilson_lower
from .pairs import MIN_SHARED_ROWS, pair_votes
from .votes import PAIR_STAT_ROWS, SparseVotes

#: A pair at least this far from the fit towards "identical" is left out of the fit (halfway, as for copies).
OUTLIER_EXCESS = 0.5
#: Normal quantile of the Wilson bound on a pair's agreement (two-sided 95 %).
AGREEMENT_Z = 1.96


def excess_over_reliability(V: SparseVotes, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(m, m)`` excess agreement of every LF pair beyond the one-number-per-LF fit, and that fit ``(m,)``.

    The grid is for reading; :func:`evidence_weights` works on the pairs (:func:`dependence_pairs`).

    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 3000)
    >>> def lf(acc): return np.where(rng.random(3000) < acc, y, 1 - y)
    >>> shared = lf(0.6)  # one weak upstream answer
    >>> own = [np.where(rng.random(3000) < 0.9, shared, lf(0.8)) for _ in range(2)]
    >>> L = np.stack(own + [lf(0.8) for _ in range(4)], axis=1).astype(np.int8)
    >>> excess, reliability = excess_over_reliability(SparseVotes.from_dense(L, 2))
    >>> bool(excess[0, 1] > 0.5), bool(excess[2:, 2:].max() < 0.1)
    (True, True)
    """
    a, b, excess, s = dependence_pairs(V, seed)
    grid = np.zeros((V.n_lfs, V.n_lfs))
    grid[a, b] = excess
    return grid, s


def dependence_pairs(V: SparseVotes, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(a, b, excess, reliability)``: the LF pairs that can count (both orders), each one's excess agreement
    beyond the fit, and the fit ``(m,)``. Every pair not listed has excess 0.

    >>> L = np.array([[0, 0, 1], [1, 1, 1], [0, 1, 0], [1, 0, 0]] * 10, dtype=np.int8)
    >>> a, b, excess, reliability = dependence_pairs(SparseVotes.from_dense(L, 2))
    >>> a.tolist(), b.tolist()
    ([0, 0, 1, 1, 2, 2], [1, 2, 0, 2, 0, 1])
    """
    m = V.n_lfs
    V = V.capped(PAIR_STAT_ROWS, seed)
    pairs = pair_votes(V, MIN_SHARED_ROWS)
    a, b = pairs.a, pairs.b
    same, both = pairs.same, pairs.both
    share_a = pairs.counts.sum(axis=2) / both[:, None]  # (P, v): LF a's votes on the rows LF b voted on
    share_b = pairs.counts.sum(axis=1) / both[:, None]
    chance = (share_a * share_b).sum(axis=1)
    one_class = pairs.one_class
    ok = ~one_class[a] & ~one_class[b] & (chance < 1.0 - 1e-9)
    nothing = np.zeros(0, dtype=np.int64)
    if not ok.any():
        return nothing, nothing, np.zeros(0), np.zeros(m)
    a, b, same, both, chance = a[ok], b[ok], same[ok], both[ok], chance[ok]
    kappa = (same / both - chance) / (1.0 - chance)
    kappa_low = (wilson_lower(same, both, AGREEMENT_Z) - chance) / (1.0 - chance)

    def row_sums(values: np.ndarray) -> np.ndarray:
        return np.bincount(a, weights=values, minlength=m)

    s = np.sqrt(np.clip(row_sums(both * kappa) / np.maximum(row_sums(both), 1e-12), 1e-3, 1.0))
    inlier = np.ones(a.size)
    for _ in range(100):
        w = both * inlier
        s_new = np.clip(row_sums(w * kappa * s[b]) / np.maximum(row_sums(w * s[b] * s[b]), 1e-12), -1.0, 1.0)
        converged = bool(np.abs(s_new - s).max() <= 1e-6)
        s = s_new
        inlier = np.where(_relative(kappa, s[a] * s[b]) > OUTLIER_EXCESS, 0.0, 1.0)
        if converged:
            break
    return a, b, np.clip(_relative(kappa_low, s[a] * s[b]), 0.0, None), s


def evidence_weights(V: SparseVotes, seed: int = 0) -> np.ndarray:
    """``(m,)`` weight of each LF's evidence: ``1 / (1 + its summed excess agreement)``; 1 for independent LFs.

    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 3000)
    >>> def lf(acc): return np.where(rng.random(3000) < acc, y, 1 - y)
    >>> shared = lf(0.6)  # two LFs that mostly repeat one weak upstream answer, four independent ones
    >>> L = np.stack([np.where(rng.random(3000) < 0.9, shared, lf(0.8)) for _ in range(2)]
    ...              + [lf(0.8) for _ in range(4)], axis=1).astype(np.int8)
    >>> evidence_weights(SparseVotes.from_dense(L, 2)).round(1).tolist()
    [0.6, 0.6, 0.9, 0.9, 0.9, 0.9]
    """
    if V.n_lfs < 2:
        return np.ones(V.n_lfs)
    a, _, excess, _ = dependence_pairs(V, seed)
    return 1.0 / (1.0 + np.bincount(a, weights=excess, minlength=V.n_lfs))


def _relative(observed: np.ndarray, fit: np.ndarray) -> np.ndarray:
    """How far ``observed`` is from ``fit`` towards 1 (perfect agreement)."""
    return (observed - fit) / np.maximum(1.0 - fit, 1e-9)


__all__ = ["dependence_pairs", "evidence_weights", "excess_over_reliability"]
