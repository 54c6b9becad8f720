"""Shared engine of the naive-Bayes family: a row's log-posterior is ``bias + sum of per-vote weights``.

Dawid–Skene, one-coin DS, the weighted vote, MeTaL and the triplet method differ only in how they
estimate the per-(LF, vote, class) weights ``W`` (shape ``(m, K, K)``) and the class bias ``b``; they
all predict with the same sparse product (:class:`~mmweak.labelmodels.votes.SparseVotes`), persist the
same two arrays, and — for the models fitted by EM — share :meth:`LogLinearModel._em`.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, ClassVar

import numpy as np

from ..errors import MajorityFallbackWarning
from .base import LabelModel, NoVotePolicy
from .copies import COPY_EXCESS, copy_groups, copy_weights
from .decision import SELECTION_Z, lower_bound, tie_split_credit
from .dense_votes import DenseVotes, prediction_view
from .threads import for_each_block
from .validation import check_number
from .votes import ABSTAIN, LOG_ZERO, SparseVotes, fit_sample, normalize_log, prepare_fit, vote_share

#: Fit on at most this many rows (a seeded sample); see :func:`~mmweak.labelmodels.votes.fit_sample`.
MAX_FIT_ROWS = 100_000

#: Rows per prediction block: small enough that a block's scratch stays in cache-friendly sizes and that
#: the blocks of a 1M-row matrix spread over the cores (:mod:`~mmweak.labelmodels.threads`).
PREDICT_CHUNK_ROWS = 1 << 16

Params = tuple[np.ndarray, np.ndarray]  # (W (m, K, K), bias (K,))
#: An M-step: expected counts ``(C, N)`` -> ``(W, bias, extras)``; ``extras`` are the model's own
#: learned quantities (class balance, precisions, ...) that the caller stores once EM has finished.
MStep = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, dict[str, Any]]]


def run_em(
    V: SparseVotes,
    m_step: MStep,
    *,
    fixed: tuple[np.ndarray, np.ndarray] | None = None,
    init: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-6,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any], int]:
    """Expectation–maximisation from the vote-share posterior; a pure function of its inputs.

    ``m_step(C, N)``: ``C[j, v, k]`` is the posterior mass of rows where LF j voted v and the class is
    k, ``N[k]`` the class mass (``fixed`` gold dev statistics included). Stops when no row's posterior
    moves by more than ``tol``.

    Returns:
        ``(W, bias, extras, n_iter)`` of the last M-step.

    >>> V = SparseVotes.from_dense(np.array([[0, 0], [1, 1], [0, -1]], dtype=np.int8), 2)
    >>> step = lambda C, N: (np.log(C + 1.0), np.log(N + 1.0), {"N": N})
    >>> W, bias, extras, n_iter = run_em(V, step, max_iter=3)
    >>> W.shape, n_iter <= 3
    ((2, 2, 2), True)
    """
    T = vote_share(V) if init is None else init
    result: tuple[np.ndarray, np.ndarray, dict[str, Any]] | None = None
    n_iter = 0
    for it in range(max(1, max_iter)):
        C = V.vote_class_counts(T)
        N = T.T @ V.weight
        if fixed is not None:
            C = C + fixed[0]
            N = N + fixed[1]
        result = m_step(C, N)
        T_new = normalize_log(V.scores(result[0], result[1]))
        n_iter = it + 1
        delta = float(np.abs(T_new - T).max()) if T.size else 0.0
        T = T_new
        if delta <= tol:
            break
    assert result is not None
    return result[0], result[1], result[2], n_iter


def predict_in_chunks(
    L: np.ndarray, cardinality: int, models: list["LogLinearModel"], weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Average posterior of ``models`` (``weights``-weighted, equal by default) and the voted-row mask,
    one block of rows at a time.

    The view of a block (dense or sparse, whichever is cheaper: :mod:`~mmweak.labelmodels.dense_votes`)
    is built once and shared by every model; blocks bound the scratch
    memory, so a 10M x 100 matrix costs little beyond itself and the ``(n, K)`` output, and they run
    on every core (:func:`~mmweak.labelmodels.threads.for_each_block`; the result does not depend on
    the number of threads).
    """
    n = L.shape[0]
    proba = np.empty((n, cardinality))
    voted = np.empty(n, dtype=bool)
    width = max(model.score_columns() for model in models)

    def one_block(start: int) -> None:
        # One block is L itself, not a slice of it: the sparse view the fit already made of L is then reused.
        V = prediction_view(L if n <= PREDICT_CHUNK_ROWS else L[start: start + PREDICT_CHUNK_ROWS], cardinality, width)
        if weights is None:
            block = models[0].proba_from_votes(V)
            for model in models[1:]:
                block += model.proba_from_votes(V)
            if len(models) > 1:
                block /= len(models)
        else:
            block = weights[0] * models[0].proba_from_votes(V)
            for w, model in zip(weights[1:], models[1:]):
                block += w * model.proba_from_votes(V)
        proba[start: start + V.n] = block
        voted[start: start + V.n] = V.voted

    for_each_block(one_block, range(0, n, PREDICT_CHUNK_ROWS))
    return proba, voted


class LogLinearModel(LabelModel):
    """Base for models that predict ``softmax(bias_ + sum_j weights_[j, vote_j])``.

    Subclasses implement ``_fit`` and set ``weights_`` and ``bias_``; copies of an LF (see
    :mod:`~mmweak.labelmodels.copies`) are already folded into ``weights_`` by ``dedupe_copies``.
    """

    _state_schema: ClassVar[dict[str, Any]] = {
        "weights_": ("m", "K", "K"), "bias_": ("K",), "lf_weights_": ("m",), "n_iter_": "int", "fallback_": "str",
    }
    weights_: np.ndarray  # learned by fit (declared for the checker only: unfitted models have no weights_)

    def __init__(
        self,
        cardinality: int = 2,
        *,
        dedupe_copies: bool = True,
        max_fit_rows: int | None = MAX_FIT_ROWS,
        no_vote: NoVotePolicy = "prior",
        random_state: int = 0,
    ) -> None:
        super().__init__(cardinality, no_vote=no_vote, random_state=random_state)
        self.dedupe_copies = dedupe_copies
        self.max_fit_rows = max_fit_rows

    def _check_params(self) -> None:
        if not isinstance(self.dedupe_copies, (bool, np.bool_)):
            raise ValueError(f"dedupe_copies must be True or False, got {self.dedupe_copies!r}")
        if self.max_fit_rows is not None:
            check_number("max_fit_rows", self.max_fit_rows, low=1, integer=True)

    # -- prediction (shared) --------------------------------------------------------------------
    def _predict_proba(self, L: np.ndarray) -> np.ndarray:
        return self._predict_proba_voted(L)[0]

    def _predict_proba_voted(self, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return predict_in_chunks(L, self.cardinality, [self])

    def score_columns(self) -> int:
        """Width of the scores a prediction computes (it picks the cheaper view of the votes)."""
        return int(np.shape(self.weights_)[2])

    def proba_from_votes(self, V: SparseVotes | DenseVotes) -> np.ndarray:
        """Posteriors for an already-built view of the votes (no no-vote policy applied)."""
        return normalize_log(V.scores(np.asarray(self.weights_, dtype=np.float64), np.asarray(self.bias_)))

    def _after_fit(
        self, L: np.ndarray, seed: int, dev: tuple[np.ndarray, np.ndarray] | None, prior: np.ndarray | None
    ) -> None:
        """Refuse a label-swapped fit: predict as majority vote when the model is anti-aligned with it.

        A latent-class model names its classes only through the votes. When the data are symmetric
        under swapping two classes (an LF next to its exact negation), the likelihood cannot tell the
        right fit from the swapped one, and a fit can land on the swapped optimum: worse than chance.
        Majority vote cannot swap. So if the model agrees with majority vote on fewer than ``1/K`` of
        the rows where majority vote is decisive (half, for two classes), or majority vote is never
        decisive, the classes are not identified from these votes and the model predicts as majority
        vote does (``fallback_`` says so); otherwise it is left alone.

        Two things the votes alone do not know overrule that. Gold dev rows: a fit that is more accurate on
        the dev rows with votes than majority vote is kept, since majority vote is what would replace it (LFs
        worse than chance that the gold exposes make a right fit disagree with majority vote). A fixed
        ``class_balance`` that rules a class out (a zero share): rows where majority vote picks that class do
        not count, as a fit that obeys the prior there is not anti-aligned.
        """
        self.fallback_ = ""
        K = int(self.cardinality)
        sample = fit_sample(L, 20_000, seed)
        V = SparseVotes.from_dense(sample, K)
        counts = V.weighted_class_counts(np.ones(V.n_lfs))  # votes per row and class (whole numbers)
        top = counts.max(axis=1)
        decisive = (top > 0) & ((counts == top[:, None]).sum(axis=1) == 1)
        ruled_out = decisive & (prior[counts.argmax(axis=1)] <= 0) if prior is not None else np.zeros_like(decisive)
        decisive &= ~ruled_out
        if not sample.shape[0] or not V.X.nnz:
            return
        if decisive.any():
            ours = self._predict_proba_voted(sample[decisive])[0].argmax(axis=1)
            agree = float((ours == counts[decisive].argmax(axis=1)).mean())
            if agree >= (0.5 if K == 2 else 1.0 / K):
                return
            reason = f"agreed with majority vote on {agree:.0%} of its decisive rows: label-swapped fit"
        elif ruled_out.any():
            reason = "majority vote is decisive only for classes class_balance rules out: classes not identified"
        else:
            reason = "majority vote is never decisive: classes not identified by these votes"
        if dev is not None and dev[1].size and self._beats_majority_on(dev):
            return
        self._to_majority(reason, prior)

    def _beats_majority_on(self, dev: tuple[np.ndarray, np.ndarray]) -> bool:
        """Whether the fit is more accurate than majority vote on the gold dev rows with votes (ties split), by the
        margin the default asks of a challenger (:data:`~.decision.SELECTION_Z` paired standard errors): one lucky
        dev row must not keep a swapped fit."""
        L_dev, y_dev = dev
        voted = (L_dev != ABSTAIN).any(axis=1)
        if voted.sum() < 2:
            return False
        Ld, yd = L_dev[voted], y_dev[voted]
        ours = tie_split_credit(self._predict_proba_voted(Ld)[0], yd)
        majority = tie_split_credit(vote_share(SparseVotes.from_dense(Ld, int(self.cardinality))), yd)
        return lower_bound(ours - majority, SELECTION_Z) > 0

    def _to_majority(self, reason: str, prior: np.ndarray | None = None) -> None:
        """Predict as majority vote does from now on (every vote one unit of its class's score); a class a fixed
        ``prior`` rules out keeps its zero."""
        K = int(self.cardinality)
        W = np.zeros_like(np.asarray(self.weights_, dtype=np.float64))
        S = W.shape[2]
        for k in range(K):  # a vote for k adds one to every state of class k (subtypes included)
            W[:, k, k * (S // K): (k + 1) * (S // K)] = 1.0
        self.weights_ = W * np.asarray(self.lf_weights_)[:, None, None]
        ruled_out = np.zeros(K, dtype=bool) if prior is None else np.asarray(prior) <= 0
        self.bias_ = np.repeat(np.where(ruled_out, LOG_ZERO, 0.0), S // K)
        self.fallback_ = f"majority vote ({reason})"
        warnings.warn(f"{self.name} predicts as majority vote does ({reason}; fallback_ says so, and its "
                      "lf_accuracies() describe the fit it set aside)", MajorityFallbackWarning, stacklevel=4)

    # -- helpers for subclasses -----------------------------------------------------------------
    def _prepare(self, L: np.ndarray, seed: int) -> tuple[SparseVotes, np.ndarray]:
        """Fit rows as sparse (possibly collapsed) votes, and each LF's copy weight."""
        V = prepare_fit(L, self.cardinality, self.max_fit_rows, seed)
        w = copy_weights(V, COPY_EXCESS, seed) if self.dedupe_copies and V.n_lfs > 1 else np.ones(V.n_lfs)
        self.lf_weights_ = w
        return V, w

    def _prepare_representatives(self, L: np.ndarray, seed: int) -> tuple[SparseVotes, np.ndarray, np.ndarray]:
        """Fit rows restricted to one LF per copy group, each LF's group index, and each LF's copy weight.

        For models estimated from LF overlaps (moments, triplets) a copy is not merely double-counted
        evidence: its perfect agreement with its source corrupts the estimates of everything else, so
        they are fitted on representatives and each copy then gets its representative's parameters.
        """
        V = prepare_fit(L, self.cardinality, self.max_fit_rows, seed)
        if self.dedupe_copies and V.n_lfs > 1:
            gid = copy_groups(V, COPY_EXCESS, seed)
        else:
            gid = np.arange(V.n_lfs)
        w = 1.0 / np.bincount(gid)[gid]
        self.lf_weights_ = w
        reps = np.array([int(np.flatnonzero(gid == g)[0]) for g in range(int(gid.max()) + 1)]) if gid.size else gid
        return V.select_lfs(reps), gid, w

    def _dev_counts(self, dev: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray] | None:
        """Gold dev rows as fixed EM statistics (their posterior is clamped to the gold class)."""
        if dev is None or not dev[1].size:
            return None
        Vd = SparseVotes.from_dense(dev[0], self.cardinality)
        Y = np.eye(self.cardinality)[dev[1]]
        return Vd.vote_class_counts(Y), Y.sum(axis=0)

    def _em(self, V: SparseVotes, m_step: MStep, *, dev, prior=None, init=None, max_iter: int = 100,
            tol: float = 1e-6):
        """:func:`run_em` with the gold dev rows as fixed statistics, from :meth:`_em_start` unless ``init`` is
        given; stores ``n_iter_``, returns ``(W, bias, extras)``."""
        W, bias, extras, self.n_iter_ = run_em(
            V, m_step, fixed=self._dev_counts(dev), init=self._em_start(V, prior) if init is None else init,
            max_iter=max_iter, tol=tol,
        )
        return W, bias, extras

    def _em_start(self, V: SparseVotes, prior: np.ndarray | None) -> np.ndarray:
        """Where EM starts: each row's share of the votes; a row without a vote at the class balance the fit was
        given, else that of the representative gold dev rows (one pseudo-count per class), else uniform.

        A row without a vote says nothing about its class, and the uniform start claims the classes are equally
        common: where most rows have no vote and one class is rare (a relation LF set firing on a quarter of the
        rows, 7 % positive), the first class mass is mostly that guess, and with abstains as outcomes EM needed
        well over its 100 iterations to walk away from it (3 of 5 dev folds stopped at F1 7 instead of 79). Known
        shares start it where the gold says, and it converges in about 30. Without gold the start stays uniform:
        the vote shares would follow how many LFs vote each class, not how many rows are in it.
        """
        T = vote_share(V)
        balance = prior if prior is not None else self._dev_prior(getattr(self, "_fair_dev", None),
                                                                  int(self.cardinality))
        if balance is not None:
            T[~V.voted] = balance
        return T

    def _prior_from_votes(self, V: SparseVotes, prior: np.ndarray | None) -> np.ndarray:
        """The given prior, else the majority-vote class mass (for models fitted without EM)."""
        return self._class_prior(vote_share(V).T @ V.weight, prior)

    def _class_prior(self, N: np.ndarray, prior: np.ndarray | None) -> np.ndarray:
        """The given prior, else the EM class mass with one pseudo-count per class."""
        if prior is not None:
            return prior
        return (N + 1.0) / (N.sum() + int(self.cardinality))


__all__ = ["LogLinearModel", "MAX_FIT_ROWS", "MStep", "predict_in_chunks", "run_em", "vote_share"]
