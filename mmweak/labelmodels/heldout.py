"""How well a fitted label model predicts votes it has not seen: the gold-free score the default selects by.

Every member of the default's family, read as a generative model of the vote matrix, is a naive-Bayes
model over latent *states* ``s`` (the classes; for EBCC, (class, subtype) pairs): a log prior over
states and, per LF, ``log P(outcome | s)`` where the outcome is a class vote or an abstain (the last
column). Models that ignore abstains (crowd-style) get a class-independent firing rate per LF, so every
member describes the same data: the whole vote matrix, abstains included.

The score of a row is its leave-one-LF-out pseudo-log-likelihood,
``sum_j log P(L_ij | the row's other outcomes)``: each LF's outcome predicted from the others through the
model's posterior over states. Scored on rows the model was not fitted on, it rewards the model whose
account of the LFs generalises, without a single gold label, and penalises over-fitted ones. It does
not need the model to be right about who voted as such: a model gains only where its picture of the
LFs' errors makes the held-out votes more predictable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .short_axis import max_last, sum_last
from .votes import ABSTAIN, SparseVotes

_CHUNK_CELLS = 1 << 22  # rows x LFs x states per block of the pseudo-likelihood


@dataclass(frozen=True)
class GenerativeTable:
    """``log_prior`` ``(S,)`` over latent states and ``log_outcome`` ``(m, S, K + 1)``; column K = abstain."""

    log_prior: np.ndarray
    log_outcome: np.ndarray


def firing_rates(L: np.ndarray | SparseVotes) -> np.ndarray:
    """Each LF's share of rows it votes on, add-one smoothed: ``(m,)``; from a dense matrix or its sparse votes.

    >>> firing_rates(np.array([[0, -1], [1, -1]])).round(2).tolist()
    [0.75, 0.25]
    >>> firing_rates(SparseVotes.from_dense(np.array([[0, -1], [1, -1]]), 2)).round(2).tolist()
    [0.75, 0.25]
    """
    if isinstance(L, SparseVotes):  # whole counts either way, so the same numbers
        return (L.votes_per_lf().sum(axis=1) + 1.0) / (L.weight.sum() + 2.0)
    return ((L != ABSTAIN).sum(axis=0) + 1.0) / (L.shape[0] + 2.0)


def class_independent_abstain(conf: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """``log_outcome`` from ``P(vote v | state, LF votes)`` ``(m, S, K)`` and a class-independent firing rate."""
    m, S, K = conf.shape
    out = np.empty((m, S, K + 1))
    out[:, :, :K] = np.log(np.clip(conf, 1e-12, None)) + np.log(rate)[:, None, None]
    out[:, :, K] = np.log1p(-np.minimum(rate, 1 - 1e-12))[:, None]
    return out


def posterior_table(
    L: np.ndarray, T: np.ndarray, *, confusion_prior: tuple[float, float] = (1.0, 1.0)
) -> GenerativeTable:
    """The Dawid–Skene table one M-step makes of class posteriors ``T`` ``(n, K)`` on rows ``L``.

    Each LF's confusion rows are its posterior-weighted vote counts plus ``confusion_prior``
    ``(diagonal, off-diagonal)`` Dirichlet pseudo-counts; its firing rate is one per LF, independent of the
    class, so only what the posteriors say about the vote *values* is in the table.

    >>> L = np.array([[0, 0], [1, 1], [1, -1]])
    >>> t = posterior_table(L, np.eye(2)[[0, 1, 1]], confusion_prior=(4.0, 1.0))
    >>> t.log_outcome.shape, bool(np.allclose(np.exp(t.log_outcome).sum(axis=2), 1))
    ((2, 2, 3), True)
    >>> np.exp(t.log_outcome[0, 0, :2] - np.logaddexp(*t.log_outcome[0, 0, :2])).round(3).tolist()  # 5 : 1
    [0.833, 0.167]
    """
    n, m = L.shape
    K = T.shape[1]
    # (m, class, vote) posterior-weighted counts, from the sparse votes: a wide crowd matrix is mostly abstains.
    V = SparseVotes.from_dense(L, K)
    conf = V.vote_class_counts(T).transpose(0, 2, 1).copy()
    beta = np.full((K, K), float(confusion_prior[1]))
    np.fill_diagonal(beta, float(confusion_prior[0]))
    conf += beta[None]
    conf /= conf.sum(axis=2, keepdims=True)
    prior = np.log((T.sum(axis=0) + 1.0) / (n + K))
    return GenerativeTable(prior, class_independent_abstain(conf, firing_rates(V)))


def majority_table(L: np.ndarray, K: int, n_iter: int = 30) -> GenerativeTable:
    """Majority vote as a generative model: one shared accuracy for every LF, uniform prior, firing class-free.

    Its posterior ranks classes by vote counts exactly as majority vote does; the shared accuracy is
    fitted by expectation-maximisation, so the model is as well calibrated as that assumption allows.

    >>> t = majority_table(np.array([[0, 0, 1], [1, 1, -1]] * 20), 2)
    >>> np.exp(t.log_outcome[0, 0, :2]).round(2).tolist()
    [0.53, 0.44]
    """
    V = SparseVotes.from_dense(np.asarray(L), K)
    counts = V.weighted_class_counts(np.ones(V.n_lfs))  # votes per row and class, from the votes alone
    total = counts.sum()
    a = 0.7
    for _ in range(n_iter):
        logit = counts * np.log(a * (K - 1) / (1 - a))
        T = np.exp(logit - logit.max(axis=1, keepdims=True))
        T /= T.sum(axis=1, keepdims=True)
        a = float(np.clip(((T * counts).sum() + 1.0) / (total + 2.0), 1.0 / K + 1e-3, 1 - 1e-3))
    m = L.shape[1]
    conf = np.full((m, K, K), (1 - a) / (K - 1))
    conf[:, np.arange(K), np.arange(K)] = a
    return GenerativeTable(np.full(K, -np.log(K)), class_independent_abstain(conf, firing_rates(V)))


def pseudo_loglik(
    table: GenerativeTable, L: np.ndarray, scored: np.ndarray | None = None, lf_weight: np.ndarray | None = None
) -> np.ndarray:
    """Per row, ``sum_j log P(vote_ij | LF j voted, the row's other outcomes)`` over its votes ``(n,)``.

    The posterior over states uses every other outcome of the row, abstains included, as the model
    sees them; what is predicted is the *value* of each vote, the part of the data a label is about
    (who answered is the nuisance part: predicting it well says nothing about the labels).
    ``scored`` ``(m,)`` restricts the sum to some LFs (default: all). ``lf_weight`` ``(m,)`` counts each
    LF's evidence that many times, both in the posterior the others give and in the sum (default: once;
    :func:`~mmweak.labelmodels.dependence.evidence_weights` counts a group of dependent LFs about once).

    >>> L = np.array([[0, 0, 0], [0, 1, -1]])
    >>> good = majority_table(np.array([[0, 0, 0], [1, 1, 1]] * 5), 2)
    >>> pseudo_loglik(good, L).round(2).tolist()
    [-0.1, -5.61]
    """
    m = L.shape[1]
    keep = np.ones(m, dtype=bool) if scored is None else np.asarray(scored, dtype=bool)
    w = np.ones(m) if lf_weight is None else np.asarray(lf_weight, dtype=np.float64)
    return (_votes_only if silence_is_class_free(table) else _every_outcome)(table, np.asarray(L), keep, w)


def _codes(L: np.ndarray, K: int) -> np.ndarray:
    """Votes as outcome indices, abstain = ``K`` (one block at a time: int64 is eight times an int8 matrix)."""
    return np.where(L == ABSTAIN, K, L).astype(np.int64)


def _every_outcome(table: GenerativeTable, L: np.ndarray, keep: np.ndarray, w: np.ndarray) -> np.ndarray:
    """:func:`pseudo_loglik` over the dense ``(rows, LFs, states)`` array: abstains may depend on the state."""
    n, m = L.shape
    K = table.log_outcome.shape[2] - 1
    S = table.log_prior.size
    out = np.empty(n)
    step = max(1, _CHUNK_CELLS // max(1, m * S))
    lo = table.log_outcome  # (m, S, K+1)
    log_fires = np.log(np.clip(-np.expm1(lo[:, :, K]), 1e-300, None))  # (m, S): log P(LF j votes | s)
    for start in range(0, n, step):
        c = _codes(L[start : start + step], K)
        G = lo[np.arange(m)[None, :], :, c]  # (rows, m, S): log P(L_ij | s)
        wG = G * w[None, :, None]
        rest = (table.log_prior[None, :] + wG.sum(axis=1))[:, None, :] - wG  # (rows, m, S): the others' evidence
        # log P(v | voted, rest) = LSE_s(rest + G_j) - LSE_s(rest + log P(j votes | s))
        term = _lse(rest + G) - _lse(rest + log_fires[None])
        out[start : start + step] = (np.where((c != K) & keep[None, :], term, 0.0) * w[None, :]).sum(axis=1)
    return out


def silence_is_class_free(table: GenerativeTable) -> bool:
    """Whether every LF abstains at one rate whatever the state (true of every table the default builds).

    >>> silence_is_class_free(majority_table(np.array([[0, 1], [1, -1]] * 5), 2))
    True
    """
    a = table.log_outcome[:, :, -1]
    return bool((a == a[:, :1]).all())


def _votes_only(table: GenerativeTable, L: np.ndarray, keep: np.ndarray, w: np.ndarray) -> np.ndarray:
    """:func:`pseudo_loglik` when abstaining says nothing about the state, from the votes alone.

    An abstain then adds one constant to every state's log joint, which cancels in each posterior, and an LF's
    chance of voting is one number, so predicting a vote's value needs only the row's other *votes*: the cost
    is the number of votes, not rows x LFs (a crowd of 2,000 workers with 6 answers per item is 300 times
    sparser than its dense matrix). The same numbers as the dense sum up to rounding.
    """
    K = table.log_outcome.shape[2] - 1
    S = table.log_prior.size
    lo = table.log_outcome
    log_fires = np.log(np.clip(-np.expm1(lo[:, 0, K]), 1e-300, None))  # (m,): log P(LF j votes), any state
    V = SparseVotes.from_dense(L, K)  # row-major, LFs in order within a row: the order np.nonzero gives
    indptr = V.X.indptr
    out = np.zeros(V.n)
    # Blocks of about the same number of votes: every number is per row, so blocks change no result.
    cuts = np.searchsorted(indptr, np.arange(0, int(indptr[-1]), max(1, _CHUNK_CELLS // max(1, S))), side="right") - 1
    edges = np.unique(np.r_[cuts, V.n])
    for start, stop in zip(edges[:-1], edges[1:]):
        lo_vote, hi_vote = int(indptr[start]), int(indptr[stop])
        if hi_vote == lo_vote:
            continue
        rows = np.repeat(np.arange(stop - start), np.diff(indptr[start : stop + 1]))
        cols, vals = np.divmod(V.X.indices[lo_vote:hi_vote].astype(np.int64), K)
        G = lo[cols, :, vals]  # (votes, S): log P(vote | s)
        wG = G * w[cols, None]
        whole = np.empty((stop - start, S))
        for s in range(S):
            whole[:, s] = np.bincount(rows, weights=wG[:, s], minlength=stop - start)
        rest = table.log_prior[None, :] + whole[rows] - wG  # the row's other votes' evidence, per vote
        term = _lse(rest + G) - _lse(rest) - log_fires[cols]
        out[start:stop] = np.bincount(rows, weights=np.where(keep[cols], term, 0.0) * w[cols], minlength=stop - start)
    return out


def _lse(x: np.ndarray) -> np.ndarray:
    """Log-sum-exp over the last axis."""
    top = max_last(x)
    return top + np.log(sum_last(np.exp(x - top[..., None])))


__all__ = [
    "GenerativeTable",
    "class_independent_abstain",
    "firing_rates",
    "majority_table",
    "posterior_table",
    "pseudo_loglik",
    "silence_is_class_free",
]
