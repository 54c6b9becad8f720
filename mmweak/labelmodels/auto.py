"""The recommended default: the member of the family that beats majority vote on this data, or majority vote.

No single label model wins everywhere: majority vote, a precision-weighted vote, Dawid–Skene with and
without abstains as outcomes, Dawid–Skene with every worker shrunk towards the crowd's pooled confusion matrix
(for sparse crowds) and EBCC each win somewhere, and each loses badly somewhere else. Which
one is right is a property of the data at hand, so :class:`AutoLabelModel` measures it on the data,
with **majority vote as the incumbent** that a challenger has to beat (plain majority vote: every LF
counts once, copies included, as in the baseline users compare against):

* **With gold dev rows**, every member is scored on dev rows held out from its fit (k-fold over the
  dev rows; the other folds are clamped to their gold labels, as they are in the final fit). The
  per-row score is half argmax correctness (ties split fractionally) and half one minus the half
  Brier score (a proper score of the probabilities), averaged with its class-balanced version, so a
  challenger cannot win by predicting the majority class more often, and better probabilities count
  where the argmax agrees. They cannot buy worse labels: a challenger whose dev accuracy (ties split) is shown
  below majority vote's by the same bound is not taken (:func:`choose_above_floor`). When the labels are for the
  F1 of a rare class (``objective="f1"``), the score
  is that F1 of each member's F1-rule labels instead: accuracy rewards sending the rare class's ties to
  the common class, which is what F1 punishes.
* **Without gold**, the generative members (majority vote read as "every LF equally accurate", one-coin,
  Dawid–Skene with and without abstains as outcomes, pooled Dawid–Skene, EBCC) are scored by how well they predict votes
  they were not fitted on: k-fold over rows, leave-one-LF-out pseudo-log-likelihood of each held-out
  row (:mod:`~mmweak.labelmodels.heldout`); on a small matrix the k-fold is repeated on fresh splits and
  each row's scores averaged, so the luck of one split does not pick the member. The challengers are
  compared on the same vote model: each one's class posteriors on the training folds go through one
  shared Dawid–Skene M-step (a fixed confusion prior), so what is scored is the labels, not each
  member's own way of modelling and regularising the LFs (a member's own vote model can predict
  held-out votes better with worse labels: EBCC's subtypes on a crowd set with 177 workers, issue
  #14). The score counts each LF's evidence by how independent it is
  (:mod:`~mmweak.labelmodels.dependence`): a group of LFs that share their errors would otherwise let
  a labelling that follows the group explain its own held-out votes, and be taken over majority vote
  (15 colluding workers of 50: 17–20 points below it).

Either way the score is paired per row against majority vote. A challenger is taken only when the
lower confidence bound of its mean gain, ``gain - z * standard error``, is above zero; among several,
the one with the highest bound wins. A small dev set or a small matrix widens the bound, so noise
cannot buy a switch. With gold dev rows the held-out votes then give a second opinion: among the members
that clear the dev bound, the default moves from the dev leader to one whose held-out vote score beats the
leader's by the same bound (a few hundred dev rows rank members a point or two apart only roughly; every
training row's votes are a second measurement, and the move never leaves the members the dev rows showed
to beat majority vote). (An optional one-standard-error rule prefers the simplest member within noise of
the winner; off by default: the 24-set and the 66-set leave-one-dataset-out pick it on no fold since the pooled
member joined the family, on 23 of 24 folds before, and both scored the shipped setting within 0.02 points.) When
no challenger clears the bound, majority vote is kept and its ties (frequent with few LFs) are broken by the
challenger with the largest mean gain instead of by the class prior; that challenger's class balance is the
default's (majority vote's own is a share of votes, which follows how many LFs vote each class, not how many rows
are in it). The chosen member is then refitted on every row, dev rows clamped to their gold labels. Without gold,
a member whose refitted labels settled on one class (:func:`~mmweak.labelmodels.decision.settled_on_one_class`:
ten times fewer rows outside their main class than rows whose votes are mostly for another) is passed over for the
next one that clears the bound.
Through the shared vote model such labels predict each worker's answers by that worker's own answer shares, which
beats majority vote's one shared accuracy on crowds of lazy, biased or near-chance workers whatever the labels are
(120 generated crowds: below majority vote by 0.5 on 3 -> 1; ``benchmarks/README.md``).

EBCC joins the family while its confusion cells (LFs x classes x classes x subtypes) stay under
:data:`EBCC_MAX_CELLS`; past that (hundreds of classes) the default leaves it out and warns.

**Rows no LF votes on** are labelled apart from that choice: which member labels the voted rows best says
nothing about them. Keyword LFs cover some classes more than others, so such rows are mostly of the classes
they cover least (65 % of yelp's are negative where the class balance says positive). Dawid–Skene with
abstain outcomes is the one member that models how often each LF fires on each class; where its own gain
over majority vote clears the same bound, the rows take Bayes' rule with the default's class balance and its
likelihood of silence, otherwise the class balance (its silence rates are only as good as its labels: on a
crowd it does not fit they pointed the wrong way). With gold dev rows, the dev rows without a vote correct
either (:meth:`LabelModel.fit`).

Why this should hold on data it has never seen: nothing in it refers to a dataset. The
constants (``z`` and whether the one-standard-error rule applies) were chosen by leave-one-dataset-out
over the 12 real sets and 12 generated ones (``benchmarks/lodo.py``: fitted on all sets but one, scored
on that one, for each set in turn); every other decision is a measurement on the data being
labelled, compared with the same measurement for majority vote on the same rows. Scores are
out-of-sample (held-out dev folds, held-out rows), so a member cannot win by fitting noise, and the
comparison is always against majority vote on the same rows, so the default leaves majority vote only
where the data themselves show a gain. Keeping majority vote is not quite plain majority vote, though: the
best challenger breaks its ties and gives the classes of rows without a vote, and where that challenger is
wrong about them the default lands below plain majority vote (trec and yelp without gold dev rows: −1.70 and
−2.00 points, ``benchmarks/README.md``); ``create("majority")`` is plain majority vote.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import numpy as np

from ..errors import MajorityFallbackWarning, OneClassLabelsWarning
from .base import LabelModel, NoVotePolicy, register
from .dawid_skene import DawidSkene
from .decision import (
    SELECTION_Z,
    THRESHOLD_ROWS,
    Objective,
    lower_bound,
    mean_se,
    settled_on_one_class,
    tie_split_credit,
)
from .dependence import evidence_weights
from .ebcc import EBCC
from .heldout import (
    GenerativeTable,
    majority_table,
    posterior_table,
    pseudo_loglik,
)
from .loglinear import LogLinearModel, predict_in_chunks
from .majority import MajorityVote
from .one_coin import OneCoinDawidSkene
from .validation import check_number
from .votes import ABSTAIN, SparseVotes, fit_sample, shared_views, sorted_sample
from .weighted_vote import WeightedMajorityVote

#: Pseudo-answers of the crowd's pooled confusion matrix in the pooled Dawid–Skene member (``DawidSkene(pooling=)``).
#: Leave-one-shape-out over 135 crowds picks 5 of 1, 2, 5, 10, 20 (``benchmarks/README.md``); at 5 the real web set
#: loses 1.32 points (1.40 below its best published figure) and rte 0.50, at 2 the six real crowd sets move one item.
POOLED_ANSWERS = 2.0
#: The family: name -> (model class, hyper-parameters). EBCC runs with fewer restarts here than alone.
#: The incumbent is plain majority vote, every LF counted once even when it copies another: that is the baseline
#: a user compares against, so the "never below majority vote" guarantee is about it, and copy handling has to
#: earn its place as part of a challenger like any other modelling choice. Counting copies once inside the
#: incumbent cost trec 2.2 points and census 2.3 F1, where keyword LFs that fire together were taken for copies.
CANDIDATES: dict[str, tuple[type[LabelModel], dict[str, Any]]] = {
    "majority": (MajorityVote, {"dedupe_copies": False}),
    "weighted_majority": (WeightedMajorityVote, {}),
    "dawid_skene": (DawidSkene, {"abstain_as_outcome": True}),
    "dawid_skene_no_abstain": (DawidSkene, {"abstain_as_outcome": False}),
    "dawid_skene_pooled": (DawidSkene, {"abstain_as_outcome": False, "pooling": POOLED_ANSWERS}),
    "one_coin": (OneCoinDawidSkene, {}),
    "ebcc": (EBCC, {"n_restarts": 4, "n_finalists": 1, "screen_iter": 20, "max_iter": 300}),
}
#: Members the dev score leaves out of the default family. Pooling reads workers as draws from one crowd, which
#: is what the gold-free score needs on sparse crowds; with gold dev rows it only added one more near-copy of
#: Dawid–Skene for the dev folds' noise to pick (measured: ``benchmarks/README.md``, "A pooled Dawid–Skene member").
GOLD_FREE_ONLY = ("dawid_skene_pooled",)
#: Members that are generative models of the votes (scored without gold). The weighted vote is not one.
GENERATIVE = ("majority", "dawid_skene", "dawid_skene_no_abstain", "dawid_skene_pooled", "one_coin", "ebcc")
INCUMBENT = "majority"
#: Members from fewest to most parameters (for the one-standard-error rule in :func:`choose`).
COMPLEXITY = ("majority", "one_coin", "weighted_majority", "dawid_skene_pooled", "dawid_skene_no_abstain",
              "dawid_skene", "ebcc")
#: Lighter EBCC settings for the many fits of the gold-free score (the chosen member gets the full ones).
#: On a selection sample of ~1000 rows a VB iteration costs ~0.7 ms of fixed numpy overhead, so the cap is
#: the cost; 40 iterations (from 150) changed 2 of the 66 real-based outcomes, both up (web~sparse +4.8,
#: product~sparse +0.1), and 1 of 30 generated worlds, up (+0.85): the score reads the labelling, which
#: settles long before VB's subtypes do.
_SELECTION_PARAMS = {"ebcc": {"n_restarts": 1, "max_iter": 40}}
#: EBCC's cost grows with votes x states: its final fit sees a seeded sample of about this many votes
#: (every row of the crowdsourcing sets; ~1000 rows of a 50-LF matrix, plenty for its m x K x K x M parameters).
EBCC_FIT_VOTES = 50_000
#: Most confusion cells (LFs x classes x classes x subtypes) with which EBCC joins the family on its own: every VB
#: iteration takes digamma of each of them, so past this the default's EBCC fits alone took half a minute on a
#: 300 x 8 matrix of 200 classes (7 s at 100 classes, 1 s without EBCC). A crowd of 1,000 workers on 10 classes is
#: 1,000,000. ``candidates=(..., "ebcc")`` includes it anyway.
EBCC_MAX_CELLS = 2_000_000
#: Dirichlet pseudo-counts (diagonal, off-diagonal) of the shared vote model the challengers are scored through
#: without gold: EBCC's published confusion prior ("an LF is likelier right than any one wrong answer").
SHARED_CONFUSION_PRIOR = (4.0, 1.0)
#: The gold-free score's sample grows past ``selection_votes`` (to keep ``min_lf_votes`` per LF) at most this many
#: times: its cost grows with the votes it reads.
MAX_SELECTION_GROWTH = 10
#: Weight of the best challenger's probabilities when majority vote is kept: enough to break its ties, never to
#: overrule it.
TIE_BREAK_WEIGHT = 1e-3
#: The tie-breaker when the challengers' mean gains tie exactly, which happens when the gold-free score is blind (every
#: LF seen voting one class: no vote value to score, every gain 0). Dawid–Skene with abstains is the one member
#: whose model reads the only thing such a matrix shows, which LFs fire on which rows. Chosen over the 75 blind
#: cases of 13 sources without gold (``benchmarks/README.md``): every source held out in turn, the other 12 pick it,
#: by mean margin over majority vote and by fewest misses.
BLIND_TIE_BREAKER = "dawid_skene"


def choose(diffs: dict[str, np.ndarray], z: float, one_se_rule: bool = False) -> tuple[str, str | None]:
    """Pick a member from its per-row score minus majority vote's (rows paired).

    1. Each challenger's lower confidence bound ``mean - z * se`` of its gain over majority vote; the
       highest, if above zero, is the leader; otherwise majority vote stays.
    2. With ``one_se_rule``: the simplest member (see :data:`COMPLEXITY`) whose paired difference to
       the leader is within one standard error (and which itself clears the bound) is taken instead.
    3. When majority vote stays, its ties go to the challenger with the largest mean gain; among challengers
       whose mean gains tie exactly (a blind score), to :data:`BLIND_TIE_BREAKER` if it is one of them.

    Args:
        diffs: member -> per-row score minus majority vote's score (same rows for every member).
        z: confidence multiplier.

    Returns:
        ``(chosen, tie_breaker)``; ``tie_breaker`` is ``None`` unless majority vote is chosen.

    >>> rng = np.random.default_rng(0)
    >>> noise = rng.normal(0, 0.1, (2, 400))
    >>> choose({"dawid_skene": 0.05 + noise[0], "ebcc": 0.051 + noise[1]}, 1.645, one_se_rule=True)
    ('dawid_skene', None)
    >>> choose({"dawid_skene": noise[0]}, 1.645)
    ('majority', 'dawid_skene')
    >>> blind = {name: np.zeros(400) for name in ("bwa", "dawid_skene", "ebcc")}  # every gain exactly 0
    >>> choose(blind, 0.5)  # not the first name
    ('majority', 'dawid_skene')
    """
    stats = {k: mean_se(v) for k, v in diffs.items()}
    lcb = {k: m - z * se for k, (m, se) in stats.items()}
    leader = max(sorted(lcb), key=lambda k: lcb[k], default=None)
    if leader is not None and lcb[leader] > 0:
        return (_simplest_near(leader, diffs, allowed=lambda k: lcb[k] > 0) if one_se_rule else leader), None
    runner = max(sorted(stats), key=lambda k: (stats[k][0], k == BLIND_TIE_BREAKER), default=None)
    if runner is not None and one_se_rule:
        runner = _simplest_near(runner, diffs, allowed=lambda k: True)
    return INCUMBENT, runner


def below_floor_removed(diffs: dict[str, np.ndarray], hits: dict[str, np.ndarray], z: float
                        ) -> dict[str, np.ndarray]:
    """``diffs`` without the members whose dev accuracy is shown below majority vote's: the upper confidence bound
    ``mean + z * se`` of their per-row accuracy gain ``hits`` (ties split) is below zero.

    >>> list(below_floor_removed({"a": np.ones(4), "b": np.ones(4)}, {"a": np.array([-1.0, -1.0, 0.0, -1.0])}, 0.5))
    ['b']
    """
    worse = {k for k, h in hits.items() if k in diffs and -lower_bound(-h, z) < 0}
    return {k: v for k, v in diffs.items() if k not in worse}


def choose_above_floor(diffs: dict[str, np.ndarray], hits: dict[str, np.ndarray], z: float,
                       one_se_rule: bool = False) -> tuple[str, str | None]:
    """:func:`choose`, except that a challenger whose dev accuracy is shown below majority vote's is not taken.

    The dev score is half accuracy and half Brier score, so that better probabilities count where the labels
    agree; but it let calibration outweigh labels: on a semeval-shaped generated set (164 keyword LFs, 178 dev rows)
    the weighted vote won the score with dev accuracy 96.63 against majority vote's 98.31 (Brier 0.057 against
    0.185), and labelled the test rows at 92.50 against 95.12. ``hits`` holds each member's per-row dev accuracy
    minus majority vote's (empty without accuracy to measure, e.g. when the dev score is F1's); a challenger is
    ruled out when the upper bound ``mean + z * se`` of that is below zero, and the rule runs on the rest. If that
    leaves majority vote, the challenger ruled out still breaks its ties when no other is left to (its probabilities
    were the better ones). The 12 visible sets, the 42 stressed variants and 109 of 111 generated worlds with dev
    rows choose as before; the two others rise (+10.03 and +0.14 points).

    >>> rng = np.random.default_rng(0)
    >>> better_brier = {"weighted_majority": 0.05 + rng.normal(0, 0.1, 300)}
    >>> worse_labels = {"weighted_majority": -0.02 + rng.normal(0, 0.1, 300)}
    >>> choose(better_brier, 0.5), choose_above_floor(better_brier, worse_labels, 0.5)
    (('weighted_majority', None), ('majority', 'weighted_majority'))
    """
    chosen, runner = choose(diffs, z, one_se_rule)
    kept = below_floor_removed(diffs, hits, z)
    if chosen not in diffs or chosen in kept:
        return chosen, runner
    chosen_kept, runner_kept = choose(kept, z, one_se_rule) if kept else (INCUMBENT, None)
    if chosen_kept == INCUMBENT and runner_kept is None:
        runner_kept = chosen
    return chosen_kept, (runner_kept if chosen_kept == INCUMBENT else None)


def second_opinion(leader: str, dev_diffs: dict[str, np.ndarray], vote_diffs: dict[str, np.ndarray], z: float) -> str:
    """The member to take when the dev score's leader is ``leader``: the leader, or another member that also beats
    majority vote on the dev rows and predicts held-out votes better than the leader.

    The dev score decides *whether* to leave majority vote; between two members that both clear its bound, a few
    hundred dev rows separate labellings a point or two apart only roughly, while the held-out votes of every
    training row are a second, independent measurement of which labelling explains the data. A member replaces
    the leader only when it clears the dev bound itself and its held-out vote score beats the leader's by the same
    bound, paired over the same rows (``vote_diffs``: per-row gains over majority vote, see
    :meth:`AutoLabelModel._heldout_gains`): no new constant, and never a member the dev rows did not show to beat
    majority vote. A leader without a vote score (the weighted vote is no model of the votes) stays.

    >>> rng = np.random.default_rng(0)
    >>> dev = {"dawid_skene": 0.05 + rng.normal(0, 0.1, 300), "ebcc": 0.04 + rng.normal(0, 0.1, 300)}
    >>> votes = {"dawid_skene": rng.normal(0, 0.1, 500)}
    >>> votes["ebcc"] = votes["dawid_skene"] + 0.02 + rng.normal(0, 0.05, 500)
    >>> second_opinion("dawid_skene", dev, votes, 0.5)
    'ebcc'
    >>> second_opinion("dawid_skene", dev, {"dawid_skene": votes["dawid_skene"]}, 0.5)
    'dawid_skene'
    """
    if leader not in vote_diffs:
        return leader
    safe = _also_clearing(leader, dev_diffs, z, vote_diffs)
    bounds = {k: lower_bound(vote_diffs[k] - vote_diffs[leader], z) for k in safe}
    best = max(safe, key=lambda k: bounds[k], default=leader)
    return best if best != leader and bounds[best] > 0 else leader


def _also_clearing(leader: str, dev_diffs: dict[str, np.ndarray], z: float, among) -> list[str]:
    """The members of ``among`` other than ``leader`` whose dev gain over majority vote clears the bound."""
    return [k for k in sorted(dev_diffs) if k != leader and k in among and lower_bound(dev_diffs[k], z) > 0]


def f1_pseudo_values(y: np.ndarray, labels: np.ndarray, pos_label: int = 1) -> np.ndarray:
    """Per-row values whose mean is the F1 of ``pos_label`` and whose spread gives its delta-method variance.

    F1 = N / D with N = 2 TP and D = 2 TP + FP + FN, both sums over rows; row i's value is
    ``F1 + (n_i - F1 * d_i) / mean(d)``. Paired between two labellings of the same rows, their differences
    have the F1 difference as mean and its standard error as standard error, so :func:`choose` bounds an F1
    gain the way it bounds any per-row score. No row in the F1 (no positive, none predicted): all zero.

    >>> y = np.array([1, 1, 0, 0, 0])
    >>> v = f1_pseudo_values(y, np.array([1, 0, 1, 0, 0]))
    >>> round(float(v.mean()), 3)  # 2 TP / (2 TP + FP + FN) = 2 / 4
    0.5
    """
    pos, hit = y == pos_label, labels == pos_label
    d = 2.0 * (pos & hit) + (hit & ~pos) + (pos & ~hit)
    if d.sum() == 0:
        return np.zeros(y.size)
    f1 = 2.0 * (pos & hit).sum() / d.sum()
    return f1 + (2.0 * (pos & hit) - f1 * d) / d.mean()


def _simplest_near(leader: str, diffs: dict[str, np.ndarray], allowed) -> str:
    rank = {name: i for i, name in enumerate(COMPLEXITY)}
    for name in sorted(diffs, key=lambda k: rank.get(k, len(rank))):
        if rank.get(name, len(rank)) >= rank.get(leader, len(rank)):
            break
        mean, se = mean_se(diffs[name] - diffs[leader])
        if allowed(name) and mean >= -se:
            return name
    return leader


@register
class AutoLabelModel(LabelModel):
    """The default label model (``labelmodels.create()``): majority vote unless a member provably beats it.

    Args:
        cardinality: number of classes.
        no_vote: probabilities of rows without votes (``"prior"`` or ``"uniform"``).
        random_state: seed of the selection folds and of every member's fit.
        z: confidence multiplier of the lower bound a challenger must clear, chosen by leave-one-dataset-out
            over z in 0, 0.5, 1, 1.645, 2, 3 (``benchmarks/lodo.py``, ``benchmarks/stress.py``): the folds
            pick 0.5 (24 sets) or mostly 1 (66 grouped sets) and score the shipped 0.5 within 0.03 points of
            their own picks (+6.26 against +6.25 on the 24, +6.58 against +6.56 on the 66).
        one_se_rule: among members within one standard error of the leader, take the simplest.
            Off by default: it trades the leader for a simpler member whose probabilities rank a rare
            class far worse (F1 17 instead of 68 on a generated rare-class set at z = 0.5), and at
            z = 0.5 it lowers the mean margin over majority vote on the 66 real-based sets from +6.3 to +5.2.
        min_dev: fewest gold dev rows for dev scoring; below it the gold-free score is used.
        selection_votes: about how many votes (a seeded sample of rows) the gold-free score is computed on.
        min_lf_votes: votes the LF casting the median vote should keep in that sample. A sample of
            ``selection_votes`` gives each of 2,000 crowd workers about 10 answers, on which no member can
            estimate a worker, so every member predicts held-out answers worse than majority vote's one shared
            accuracy though on all the answers they predict them better (and label up to 4 points better). The sample
            then grows until that LF has ``min_lf_votes`` (or all its votes), to at most
            :data:`MAX_SELECTION_GROWTH` times ``selection_votes``. 0 turns it off. 500, not the 100 that first
            cured majority vote's win: the score ranks labellings *fitted on the sample* while the chosen member is
            refitted on every row, and with about 100 answers a worker the members that estimate a confusion
            matrix per worker are still low on their learning curve, so one-coin won where Dawid–Skene and EBCC
            label better on all the answers (75 generated crowds, ``benchmarks/hidden_crowds.py``: mean over majority
            vote +6.80 -> +7.28, below it by 0.5 on 2 -> 1, no crowd down; leave-one-shape-out picks 500 from 100,
            200, 300, 500 and 1,000 on 14 of 15 folds; 45 fresh crowds: +6.33 -> +7.03, all 7 that move up). It
            binds only where the median worker is sparse in the sample: the 12 visible sets, the stressed variants,
            the generated worlds and tables choose as before.
        folds: folds of the gold-free score.
        folds_dev: folds of the dev score.
        max_repeats: most repetitions of the gold-free k-fold on fresh splits (each row's scores averaged).
            A matrix gets as many as ``selection_votes`` covers, so only small ones (crowd sets of a few
            thousand answers) are repeated; one split of 100 items moved the choice with the seed.
        candidates: members to consider (default: all of :data:`CANDIDATES`, the dev score leaving out those in
            :data:`GOLD_FREE_ONLY`; a member listed here is scored either way); ``majority`` is always one.
            Rows without a vote use Dawid–Skene's model of silence only if ``dawid_skene`` is listed.
        objective: what the labels will be judged by, so what the dev score measures: ``"accuracy"`` (half
            the argmax decision, half the probabilities, plain and class-balanced) or ``"f1"`` (the F1 of
            ``pos_label`` of each member's F1-rule labels). ``aggregate(objective=...)`` sets it. Without gold
            it changes nothing: the gold-free score has no labels to take an F1 of; neither do dev rows without
            a row of ``pos_label``, so then the gold-free score chooses.
        pos_label: the class whose F1 ``objective="f1"`` measures.

    After ``fit``: ``selected_`` names the configuration (``"majority+<tie-breaker>"`` when majority vote
    is kept with a tie-breaker), ``cv_scores_`` holds each member's mean gain over majority vote and its
    standard error, ``selection_by_`` says which score chose (``"dev"`` or ``"heldout"``),
    ``selection_repeats_`` how many k-fold splits the gold-free score averaged (0 when it did not run), and
    ``dev_leader_`` the member the dev score alone would have taken when the held-out votes' second opinion
    moved the choice (``""`` otherwise), and ``passed_over_`` the members (comma-separated) the gold-free score
    ranked first but whose labels settled on one class (``""`` otherwise).

    >>> import mmweak
    >>> L = [[1, -1, 0], [1, 1, -1], [-1, 0, 0], [1, -1, -1], [0, 0, -1]]
    >>> m = mmweak.labelmodels.create(cardinality=2).fit(L)
    >>> m.selected_.split("+")[0], m.predict(L).tolist()
    ('majority', [0, 1, 0, 1, 0])
    """

    name = "auto"
    # the base advice points to this model: say what its choice rests on instead
    _one_class_advice = ("it chose the member whose labels these are on its evidence (gold dev rows too few or "
                         "unlike the fit rows can mislead it); compare majority vote (model='majority')")
    _state_schema: ClassVar[dict[str, Any]] = {
        "selected_": "str",
        "selection_by_": "str",
        "selection_repeats_": "int",
        "dev_leader_": "str",
        "passed_over_": "str",
        "below_floor_": "str",
        "members_": "models",
        "member_weights_": ("n_members",),
        "cv_scores_": "scores",
    }

    def __init__(
        self,
        cardinality: int = 2,
        *,
        no_vote: NoVotePolicy = "prior",
        random_state: int = 0,
        z: float = SELECTION_Z,
        one_se_rule: bool = False,
        min_dev: int = 30,
        selection_votes: int = 20_000,
        min_lf_votes: int = 500,
        folds: int = 3,
        folds_dev: int = 5,
        max_repeats: int = 5,
        candidates: tuple[str, ...] | None = None,
        objective: Objective = "accuracy",
        pos_label: int = 1,
    ) -> None:
        super().__init__(cardinality, no_vote=no_vote, random_state=random_state)
        self.z = z
        self.one_se_rule = one_se_rule
        self.min_dev = min_dev
        self.selection_votes = selection_votes
        self.min_lf_votes = min_lf_votes
        self.folds = folds
        self.folds_dev = folds_dev
        self.max_repeats = max_repeats
        self.candidates = candidates
        self.objective = objective
        self.pos_label = pos_label

    def _check_params(self) -> None:
        check_number("z", self.z, low=0)
        if not isinstance(self.one_se_rule, (bool, np.bool_)):
            raise ValueError(f"one_se_rule must be True or False, got {self.one_se_rule!r}")
        check_number("min_dev", self.min_dev, low=1, integer=True)
        check_number("selection_votes", self.selection_votes, low=100, integer=True)
        check_number("min_lf_votes", self.min_lf_votes, low=0, integer=True)
        check_number("folds", self.folds, low=2, high=20, integer=True)
        check_number("folds_dev", self.folds_dev, low=2, high=20, integer=True)
        check_number("max_repeats", self.max_repeats, low=1, high=50, integer=True)
        if self.objective not in ("accuracy", "f1"):
            raise ValueError(f"objective must be 'accuracy' or 'f1', got {self.objective!r}")
        check_number("pos_label", self.pos_label, low=0, high=int(self.cardinality) - 1, integer=True)
        if self.candidates is not None:
            names = list(self.candidates) if not isinstance(self.candidates, str) else [self.candidates]
            unknown = [c for c in names if c not in CANDIDATES]
            if unknown or isinstance(self.candidates, str):
                raise ValueError(f"candidates must be a sequence of {sorted(CANDIDATES)}, got {self.candidates!r}")

    def _member_names(self) -> list[str]:
        names = list(CANDIDATES) if self.candidates is None else [INCUMBENT, *self.candidates]
        return list(dict.fromkeys(names))

    def _build(self, name: str, seed: int, light: bool = False) -> LabelModel:
        cls, params = CANDIDATES[name]
        if light:
            params = {**params, **_SELECTION_PARAMS.get(name, {})}
        return cls(self.cardinality, no_vote=self.no_vote, random_state=seed, **params)

    def _build_for(self, name: str, seed: int, L: np.ndarray) -> LabelModel:
        """Member ``name`` as it is fitted on ``L``: EBCC on its capped sample (the dev score fits it the same way)."""
        model = self._build(name, seed)
        if name == "ebcc":
            model.set_params(max_fit_rows=max(1000, int(EBCC_FIT_VOTES / _votes_per_row(L))))
        return model

    # -- fitting ----------------------------------------------------------------------------------
    def _fit(self, L, *, dev, prior, seed):
        with shared_views(), _members_quiet():  # shared views: convert the rows and find copies once
            self._fit_members(L, dev=dev, prior=prior, seed=seed)

    def _fit_members(self, L, *, dev, prior, seed):
        self._evidence_weights = None  # set by the gold-free score only; never left over from an earlier fit
        self._dev_hit_diffs: dict[str, np.ndarray] = {}  # set by the dev score only
        self._silent = None
        self.selection_repeats_ = 0
        self._selection_rows = 0
        names = self._member_names()
        subtypes = int(CANDIDATES["ebcc"][1].get("n_subtypes", EBCC().n_subtypes))
        cells = L.shape[1] * int(self.cardinality) ** 2 * subtypes
        if self.candidates is None and cells > EBCC_MAX_CELLS:
            names.remove("ebcc")
            warnings.warn(f"the default leaves EBCC out of its choice: with {L.shape[1]} LFs and {self.cardinality} "
                          f"classes its {cells:,} confusion cells would take half a minute or more to fit (the limit "
                          f"is {EBCC_MAX_CELLS:,}); pass candidates=(..., 'ebcc') to include it", stacklevel=4)
        z = float(self.z)
        fair = self._fair_dev
        # An F1 needs a gold row of its class: dev rows without one measure nothing, and the votes still can.
        measurable = self.objective != "f1" or (fair is not None and bool((fair[1] == int(self.pos_label)).any()))
        if fair is not None and fair[1].size >= int(self.min_dev) and measurable:
            scored = names if self.candidates is not None else [n for n in names if n not in GOLD_FREE_ONLY]
            gains = self._dev_gains(scored, L, dev, prior, seed)
            self.selection_by_ = "dev"
        else:
            gains = self._heldout_gains([n for n in names if n in GENERATIVE], L, prior, seed)
            self.selection_by_ = "heldout"
        self._selection_diffs = gains  # per-row differences, kept in memory only (benchmarks read them)
        self.cv_scores_ = {k: list(mean_se(v)) for k, v in gains.items()}
        chosen, runner = choose_above_floor(gains, self._dev_hit_diffs, z, bool(self.one_se_rule))
        # said with the choice: a challenger the score ranks first may be out for labelling the dev rows worse
        self.below_floor_ = ",".join(sorted(set(gains) - set(below_floor_removed(gains, self._dev_hit_diffs, z))))
        self.dev_leader_ = ""
        if self.selection_by_ == "dev" and runner is None and not self.one_se_rule:
            second = self._votes_second_opinion(chosen, below_floor_removed(gains, self._dev_hit_diffs, z), L, prior,
                                                seed)
            if second != chosen:
                self.dev_leader_, chosen = chosen, second
        kw: dict[str, Any] = {"class_balance": prior}
        if dev is not None and dev[1].size:
            kw.update(L_dev=dev[0], y_dev=dev[1], dev_representative=self._representative(dev))
        settled: list[str] = []
        while True:
            configs = [chosen] if runner is None else [chosen, runner]
            members = [self._build_for(name, seed, L).fit(L, **kw) for name in configs]
            # The gold-free score can rank first a labelling that puts (nearly) every row in one class: through the
            # shared vote model it predicts each worker's answers by that worker's own answer shares, which beats
            # majority vote's one shared accuracy on crowds of lazy, biased or near-chance workers. Such labels
            # carry little beyond a class prior, so the next member that clears the bound is taken instead (the dev
            # score needs no such rule: it measures the labels).
            if (self.selection_by_ != "heldout" or runner is not None or chosen == INCUMBENT
                    or not settled_on_one_class(members[0]._labels_against_votes)):
                break
            settled.append(chosen)
            chosen, runner = choose({k: v for k, v in gains.items() if k not in settled}, z)
        weights = [1.0] if runner is None else [1.0, TIE_BREAK_WEIGHT]
        self.selected_ = "+".join(configs)
        self.passed_over_ = ",".join(settled)
        self.members_ = {str(i): m.to_dict() for i, m in enumerate(members)}
        self.member_weights_ = np.asarray(weights) / np.sum(weights)
        self._built = members
        # Majority vote's class balance is its share of the votes, which counts LFs, not rows: where two thirds of
        # the LFs vote one class, that class looks twice as common as it is, and the rows without a vote (and the
        # F1 cut read off them) follow. When majority vote is kept, its tie-breaker, a model of the classes, gives
        # the balance instead (it is the user's class_balance whenever one was given; in a blind two-class fit
        # without gold, EBCC's where the two disagree on the majority class).
        self.class_balance_ = members[-1].class_balance_
        if runner is not None and prior is None and self.selection_by_ == "heldout":
            self.class_balance_ = self._blind_binary_balance(L, gains, kw, seed)
        if "dawid_skene" in gains and lower_bound(gains["dawid_skene"], z) > 0:
            self._silent = self._silent_estimate(L, configs, members, kw, seed)

    def _blind_binary_balance(self, L, gains, fit_kw, seed) -> np.ndarray:
        """The class balance of a two-class fit where majority vote is kept because the gold-free score is blind
        (every LF votes one class: every gain exactly 0) though LFs vote both classes, and no gold says anything.

        The tie-breaker's balance is then Dawid–Skene's, which there comes from its model of which LFs stay silent,
        a model no score has checked. On spouse- and SMS-shaped sets (three quarters of the rows silent, a rare
        positive class) it put the silent mass in the rare class: the rows without a vote were labelled positive
        and the default fell 25 to 37 points below majority vote on every one of 16 draws. EBCC, whose prior has
        every LF better than chance, reads the same votes the other way, and so does majority vote's share of the
        votes. Where the two models name different majority classes, EBCC's balance is taken; where they agree,
        Dawid–Skene's stays, and so it does where the LFs vote one class only (silence is then the only sign of
        the other). In tasks of three or more classes Dawid–Skene's balance did better than EBCC's on every set
        measured (agnews-shaped draws, topic-length worlds), so it is left alone there (``benchmarks/README.md``).
        """
        balance = self._built[-1].class_balance_
        if int(self.cardinality) != 2 or any(float(np.abs(v).max(initial=0.0)) > 0.0 for v in gains.values()):
            return balance
        if not ((L == 0).any() and (L == 1).any()):  # one class voted: silence is the other's only sign
            return balance
        other = self._build_for("ebcc", seed, L).fit(L, **fit_kw).class_balance_
        return other if int(np.argmax(other)) != int(np.argmax(balance)) else balance

    def _representative(self, dev: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Which of the dev rows ``fit`` was given are representative (see :meth:`LabelModel.fit`)."""
        mask = getattr(self, "_dev_mask", None)
        return np.ones(dev[1].size, dtype=bool) if mask is None else mask

    def _silent_estimate(self, L, configs, members, fit_kw, seed) -> np.ndarray | None:
        """The classes of rows without a vote, from the one member that models whether LFs fire.

        Which member labels the voted rows best says nothing about the rows no LF voted on; Dawid–Skene with
        abstain outcomes is the member whose model covers them (an LF's abstain rate differs by class). Its
        likelihood of silence, with the default's class balance, gives their classes whichever member was
        chosen. It is only used where that member's own fit has been shown to describe the data (it clears
        the bound a challenger must clear): on a crowd of answers it does not fit, its silence rates follow
        its wrong labels.
        """
        if "dawid_skene" in configs:
            ds = members[configs.index("dawid_skene")]
        elif (fit_sample(L, THRESHOLD_ROWS, seed) != ABSTAIN).any(axis=1).all():  # too few silent rows to matter
            return None
        else:
            ds = self._build_for("dawid_skene", seed, L).fit(L, **fit_kw)
        return ds.silent_posterior(self.class_balance_)

    def _silent_prior(self) -> np.ndarray:
        silent = getattr(self, "_silent", None)
        return super()._silent_prior() if silent is None else np.asarray(silent, dtype=np.float64)

    def _dev_gains(self, names, L, dev, prior, seed) -> dict[str, np.ndarray]:
        """Per member, its per-row dev score minus majority vote's.

        Each dev row is scored by a model fitted on every training row with the *other* dev folds
        clamped to their gold labels, which is how the chosen member is used afterwards. With
        ``objective="f1"`` the score is the F1 of the labels the F1 rule gives (:func:`f1_pseudo_values`):
        a member that wins accuracy by sending a rare class's ties to the common class must not win there.
        """
        L_all, y_all = dev
        representative = self._representative(dev)
        L_dev, y_dev = L_all[representative], y_all[representative]
        chosen = (L_all[~representative], y_all[~representative])  # clamped in every fold, never scored
        K = int(self.cardinality)
        k = int(min(self.folds_dev, y_dev.size))
        fold = np.random.default_rng(seed).permutation(y_dev.size) % k
        present = np.bincount(y_dev, minlength=K)
        # Per-row weights whose mean is the class-balanced accuracy (classes present on the dev rows).
        balance = (1.0 / np.maximum(present, 1))[y_dev] * (y_dev.size / max(int((present > 0).sum()), 1))
        scores, hits = {}, {}
        for name in names:
            right = np.empty(y_dev.size)
            hits[name] = np.empty(y_dev.size)
            labels = np.empty(y_dev.size, dtype=np.int64)
            for f in range(k):
                held = fold == f
                clamped = np.concatenate([L_dev[~held], chosen[0]]), np.concatenate([y_dev[~held], chosen[1]])
                model = self._build_for(name, seed, L).fit(
                    L, L_dev=clamped[0], y_dev=clamped[1], class_balance=prior,
                    dev_representative=np.arange(clamped[1].size) < int((~held).sum()))
                proba = model.predict_proba(L_dev[held])
                if self.objective == "f1":
                    labels[held] = model.labels_from_proba(proba, None, objective="f1", pos_label=int(self.pos_label))
                    continue
                hit = tie_split_credit(proba, y_dev[held])
                hits[name][held] = hit
                brier = ((proba - np.eye(K)[y_dev[held]]) ** 2).sum(axis=1)
                # Half the argmax decision, half the probabilities themselves (a proper score, so a
                # model whose ranking is better where the argmax agrees still shows it: the F1 rule
                # and every downstream use of the probabilities depend on it).
                right[held] = 0.5 * hit + 0.5 * (1.0 - brier / 2.0)
            scores[name] = (f1_pseudo_values(y_dev, labels, int(self.pos_label)) if self.objective == "f1"
                            else 0.5 * right + 0.5 * right * balance)
        # in memory only: each member's dev accuracy (ties split) minus majority vote's, row by row
        self._dev_hit_diffs = {} if self.objective == "f1" else _paired_diffs(hits)
        return _paired_diffs(scores)

    def _votes_second_opinion(self, leader: str, gains: dict[str, np.ndarray], L, prior, seed) -> str:
        """:func:`second_opinion` on this fit: the held-out vote scores of the leader and of the generative
        members that also clear the dev bound (computed only when there is such a member)."""
        z = float(self.z)
        safe = _also_clearing(leader, gains, z, GENERATIVE)
        if leader not in GENERATIVE or not safe:
            return leader
        return second_opinion(leader, gains, self._heldout_gains([INCUMBENT, leader, *safe], L, prior, seed), z)

    def _heldout_gains(self, names, L, prior, seed) -> dict[str, np.ndarray]:
        """Per generative member, its held-out pseudo-log-likelihood per row minus majority vote's."""
        rng = np.random.default_rng(seed)
        n = L.shape[0]
        size = int(min(n, max(200, int(self.selection_votes) / _votes_per_row(L))))
        S = np.take(L, sorted_sample(rng, n, size), axis=0) if size < n else L
        grown = rows_for_lf_votes(S, n, int(self.min_lf_votes), MAX_SELECTION_GROWTH * int(self.selection_votes))
        if grown > S.shape[0]:
            S = np.take(L, sorted_sample(rng, n, grown), axis=0) if grown < n else L
        self._selection_rows = S.shape[0]  # in memory only, for inspection
        K = int(self.cardinality)
        VS = SparseVotes.from_dense(S, K)
        if S.shape[0] < 2 * int(self.folds) or not VS.X.nnz:
            return {}
        # LFs that share their errors would let a labelling that follows them explain each other's
        # held-out votes: their evidence is counted about once between them (the members' fits are untouched).
        weight = evidence_weights(VS, seed)
        self._evidence_weights = weight  # in memory only, for inspection
        # On a small matrix the fold split itself moves the score as much as the rows do (100 crowd items:
        # the chosen member changed with the seed), so the k-fold is repeated on fresh splits and each row's
        # scores averaged, as far as the vote budget of one split allows: large matrices keep one split.
        repeats = int(np.clip(int(self.selection_votes) // max(int(VS.X.nnz), 1), 1, self.max_repeats))
        self.selection_repeats_ = repeats
        scores = {name: np.zeros(S.shape[0]) for name in names}
        for _ in range(repeats):
            fold = rng.permutation(S.shape[0]) % int(self.folds)
            for f in range(int(self.folds)):
                train, held = S[fold != f], S[fold == f]
                # An LF seen voting one class only has a vote value every member predicts from its
                # identity alone: its votes say nothing about which member labels better.
                bipolar = (SparseVotes.from_dense(train, K).votes_per_lf() > 0).sum(axis=1) > 1
                for name in names:
                    table = self._table(name, train, prior, seed)
                    scores[name][fold == f] += pseudo_loglik(table, held, bipolar, weight) / repeats
        return _paired_diffs(scores)

    def _table(self, name: str, L: np.ndarray, prior, seed: int) -> GenerativeTable:
        """Member ``name`` fitted on ``L``, as a generative table of the whole vote matrix.

        Majority vote is read as its own model (every LF equally accurate). Every challenger is read
        through one shared vote model: the Dawid–Skene M-step of *its class posteriors* on ``L``, with
        the confusion prior :data:`SHARED_CONFUSION_PRIOR`. The challengers then differ only in the
        labels they give the training rows, not in how each one models or regularises the LFs: a member
        cannot win by predicting the votes of sparse LFs better, or by latent structure beyond the class
        (EBCC's subtypes), without its labels explaining the held-out votes better.
        """
        K = int(self.cardinality)
        if name == "majority":
            return majority_table(L, K)
        with _members_quiet():
            model = self._build(name, seed, light=True).fit(L, class_balance=prior)
        return posterior_table(L, model.predict_proba(L), confusion_prior=SHARED_CONFUSION_PRIOR)

    # -- prediction ------------------------------------------------------------------------------
    def _members(self) -> list[LabelModel]:
        built = getattr(self, "_built", None)
        if built is None:
            built = [LabelModel.from_dict(self.members_[k]) for k in sorted(self.members_, key=int)]
            self._built = built
        return built

    def _predict_proba(self, L):
        return self._predict_proba_voted(L)[0]

    def _predict_proba_voted(self, L):
        members = self._members()
        weights = np.asarray(self.member_weights_, dtype=np.float64)
        if all(isinstance(m, LogLinearModel) for m in members):  # one sparse view per block for all members
            return predict_in_chunks(L, int(self.cardinality), members, weights)
        proba = members[0].predict_proba(L) * weights[0]
        for w, m in zip(weights[1:], members[1:]):
            proba += w * m.predict_proba(L)
        return proba, (L != ABSTAIN).any(axis=1)

    def lf_accuracies(self) -> np.ndarray | None:
        """The chosen member's LF accuracy estimates (majority vote has none: then its tie-breaker's)."""
        self._check_fitted()
        for member in self._members():
            acc = member.lf_accuracies()
            if acc is not None:
                return acc
        return None

    def _check_loaded_state(self) -> None:
        from .schema import ModelFileError

        names = self.selected_.split("+")
        if not all(n in CANDIDATES for n in names) or len(names) != len(self.members_):
            raise ModelFileError(f"auto model file: selected_ {self.selected_!r} does not match its members")
        if len(self.member_weights_) != len(self.members_) or np.any(self.member_weights_ < 0):
            raise ModelFileError("auto model file: member_weights_ must be one non-negative weight per member")

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_built", None)
        state.pop("_silent", None)  # only read during fit; no_vote_proba_ keeps what it gave
        # per-row scores of the selection, for inspection in this process: one entry per dev row (or sampled row)
        for key in ("_selection_diffs", "_dev_hit_diffs", "_evidence_weights"):
            state.pop(key, None)
        return state


def rows_for_lf_votes(S: np.ndarray, n: int, target: int, max_votes: int) -> int:
    """Rows a uniform sample of an ``n``-row matrix needs so that the LF casting its median vote keeps ``target``
    votes, judged on ``S``, such a sample; never fewer than ``S`` has, nor more than ``n`` or ``max_votes`` votes.

    The median is taken over votes, not LFs: a crowd's thousand one-off workers cast few of its answers.

    >>> S = np.where((np.arange(500)[:, None] - np.arange(200)) % 50 == 0, 1, -1)  # 200 LFs, 10 votes each
    >>> rows_for_lf_votes(S, 10_000, 100, 10**6)  # S is 500 of 10,000 rows: ten times as many
    5000
    >>> rows_for_lf_votes(S, 10_000, 100, 4_000)  # at most 4,000 votes: twice the rows
    1000
    >>> rows_for_lf_votes(S, 10_000, 5, 10**6)  # already there
    500
    """
    have = S.shape[0]
    total = int((S != ABSTAIN).sum())
    if have >= n or target <= 0 or total == 0:
        return have
    median = median_voter_votes(S)
    if median >= target:
        return have
    rows = min(have * target / median, have * max_votes / total)
    return int(min(n, max(have, rows)))


def median_voter_votes(L: np.ndarray) -> int:
    """Votes of the LF that casts the median vote of ``L`` (the median over votes, not over LFs; 0 without votes).

    >>> median_voter_votes(np.array([[0, 1, -1], [1, -1, -1], [0, -1, 1]]))  # LF 0 casts 3 of the 5 votes
    3
    """
    counts = np.sort((L != ABSTAIN).sum(axis=0))
    if counts.sum() == 0:
        return 0
    return int(counts[np.searchsorted(np.cumsum(counts), counts.sum() / 2)])


def _votes_per_row(L: np.ndarray) -> float:
    head = L[: min(L.shape[0], 10_000)]
    return max(float((head != ABSTAIN).sum(axis=1).mean()) if head.size else 1.0, 1.0)


@contextmanager
def _members_quiet() -> Iterator[None]:
    """Members that settle on one class are what the choice is there to avoid: the default warns for its own
    labels only (:meth:`LabelModel.fit`), not for each member it tries."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OneClassLabelsWarning)
        warnings.simplefilter("ignore", MajorityFallbackWarning)  # a member that falls back is scored as it predicts
        yield


def _paired_diffs(scores: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    base = scores[INCUMBENT]
    return {name: s - base for name, s in scores.items() if name != INCUMBENT}


__all__ = [
    "AutoLabelModel", "CANDIDATES", "COMPLEXITY", "GENERATIVE", "GOLD_FREE_ONLY", "below_floor_removed", "choose",
    "choose_above_floor", "median_voter_votes", "rows_for_lf_votes", "second_opinion",
]
