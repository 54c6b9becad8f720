"""Selection strategies: what each one picks, why, and what it refuses."""

from __future__ import annotations

import datasets
import numpy as np
import pytest

from mmweak import review
from mmweak.review.selection import entropy, pick_rows

LABELS = ["ham", "spam"]


def test_uncertainty_strategies_pick_the_least_sure_rows():
    P = np.array([[0.9, 0.1], [0.5, 0.5], [0.7, 0.3], [0.45, 0.55], [0.99, 0.01]])
    L = np.zeros((5, 2), dtype=np.int8)
    p = pick_rows("entropy", votes=L, probs=P, labels=LABELS, n=3)
    assert p.rows.tolist() == [1, 3, 2]
    assert p.scores == pytest.approx(entropy(P[[1, 3, 2]]))
    m = pick_rows("margin", votes=L, probs=P, labels=LABELS, n=2)
    assert m.rows.tolist() == [1, 3]
    assert m.reasons[1] == "margin 0.100 between spam (0.55) and ham (0.45)"
    # Three classes: the reason names the three most likely.
    P3 = np.array([[0.2, 0.3, 0.5]])
    r = pick_rows("entropy", votes=np.zeros((1, 1), np.int8), probs=P3, labels=["a", "b", "c"], n=1).reasons[0]
    assert r == "label-model entropy 1.030 nats (max 1.099): P(c)=0.50, P(b)=0.30, P(a)=0.20"
    # A row no LF voted on is uncertain because nobody voted: the reason says so first.
    silent = pick_rows("entropy", votes=np.array([[-1], [0]], np.int8), probs=np.array([[0.6, 0.4], [0.9, 0.1]]),
                       labels=LABELS, n=2)
    assert silent.reasons[0].startswith("no LF voted; label-model entropy") and silent.reasons[1].startswith("label")


def test_disagreement_counts_conflicting_votes_only():
    L = np.array([[1, 0, -1, -1], [1, 1, 1, -1], [1, 0, 0, 1], [-1, -1, -1, -1], [0, 1, -1, -1]], dtype=np.int8)
    p = pick_rows("disagreement", votes=L, probs=None, labels=LABELS, n=5)
    # Rows 0, 2, 4 conflict; equal vote entropy is broken by more votes in conflict (row 2 first), then by seed.
    assert p.rows[0] == 2 and sorted(p.rows[1:].tolist()) == [0, 4]
    assert p.reasons[0] == "LFs disagree: 2 vote spam, 2 vote ham"


def test_no_coverage_is_random_among_rows_without_votes():
    L = np.array([[-1, -1]] * 6 + [[1, -1]] * 4, dtype=np.int8)
    a = pick_rows("no_coverage", votes=L, probs=None, labels=LABELS, n=4, seed=1)
    b = pick_rows("no_coverage", votes=L, probs=None, labels=LABELS, n=4, seed=1)
    c = pick_rows("no_coverage", votes=L, probs=None, labels=LABELS, n=4, seed=2)
    assert a.rows.tolist() == b.rows.tolist() != c.rows.tolist()
    assert set(a.rows) <= set(range(6)) and a.reasons == ["no LF voted on this row"] * 4
    assert pick_rows("no_coverage", votes=L, probs=None, labels=LABELS, n=10).rows.size == 6


def test_impact_weighs_pattern_size_by_expected_errors_and_spreads_over_patterns():
    # Pattern A: 50 rows at confidence 0.6 (20 expected errors); B: 10 rows at 0.5 (5); C: 100 rows at 0.99 (1).
    L = np.array([[1, 0]] * 50 + [[1, -1]] * 10 + [[0, 0]] * 100, dtype=np.int8)
    P = np.array([[0.4, 0.6]] * 50 + [[0.5, 0.5]] * 10 + [[0.99, 0.01]] * 100)
    p = pick_rows("impact", votes=L, probs=P, labels=LABELS, n=5, seed=0)
    pattern = lambda r: "A" if r < 50 else "B" if r < 60 else "C"  # noqa: E731
    # Values: A 20, 10, 6.7, 5, 4; B 5, 2.5; C 1 -> A, A, A, (A or B at 5), ...
    assert [pattern(r) for r in p.rows][:3] == ["A", "A", "A"]
    assert sorted(pattern(r) for r in p.rows) == ["A", "A", "A", "A", "B"]
    assert len(set(p.rows.tolist())) == 5
    assert p.reasons[0] == ("50 unreviewed rows with the same votes (2 LFs voting) get spam at label-model confidence "
                            "0.60: an expected 20.0 of them are mislabelled")
    assert p.reasons[1].endswith("(row 2 of this vote pattern in the batch)")
    assert p.scores[:3] == pytest.approx([20.0, 10.0, 20.0 / 3])


def test_diverse_spreads_a_batch_over_the_embedding():
    rng = np.random.default_rng(0)
    centers = np.eye(4) * 10
    emb = np.concatenate([c + rng.normal(0, 0.01, (10, 4)) for c in centers])  # 4 tight clusters of 10
    P = np.tile([[0.7, 0.3]], (40, 1))
    P[:10] = [0.5, 0.5]  # the first cluster is the most uncertain: entropy alone picks only from it
    L = np.zeros((40, 1), np.int8)
    alone = pick_rows("entropy", votes=L, probs=P, labels=LABELS, n=4)
    assert all(r < 10 for r in alone.rows)
    d = pick_rows("diverse", votes=L, probs=P, labels=LABELS, n=4, embedding=emb, pool=10)
    assert sorted(r // 10 for r in d.rows) == [0, 1, 2, 3]
    assert d.reasons[0].endswith("the most uncertain row, first of the batch")
    assert "to the nearest row already chosen or reviewed" in d.reasons[1]
    assert d.scores[1] == pytest.approx(np.sqrt(2), abs=0.01)  # unit vectors of different clusters
    # Rows already reviewed count as centers: a reviewed row in cluster 0 pushes the first pick elsewhere.
    reviewed = np.zeros(40, bool)
    reviewed[[0, 10, 20]] = True
    d2 = pick_rows("diverse", votes=L, probs=P, labels=LABELS, n=1, embedding=emb, pool=40,
                   candidates=~reviewed, reviewed=reviewed)
    assert d2.rows[0] // 10 == 3
    # Without an embedding: vote patterns, so identical votes are never picked twice while others remain.
    Lp = np.array([[1, 0]] * 20 + [[1, 1]] * 2 + [[0, 0]] * 2, np.int8)
    Pp = np.tile([[0.5, 0.5]], (24, 1))
    d3 = pick_rows("diverse", votes=Lp, probs=Pp, labels=LABELS, n=3, pool=8)
    assert len({tuple(Lp[r]) for r in d3.rows}) == 3


def test_random_is_seeded_and_candidates_are_respected():
    L = np.zeros((100, 1), np.int8)
    cand = np.arange(100) % 2 == 0
    a = pick_rows("random", votes=L, probs=None, labels=LABELS, n=10, seed=3, candidates=cand)
    assert a.rows.tolist() == pick_rows("random", votes=L, probs=None, labels=LABELS, n=10, seed=3,
                                        candidates=cand).rows.tolist()
    assert all(r % 2 == 0 for r in a.rows) and a.reasons[0] == "random draw (seed 3)"


def test_errors_name_what_is_wrong():
    L = np.zeros((3, 1), np.int8)
    with pytest.raises(ValueError, match="unknown selection strategy 'loudest'"):
        pick_rows("loudest", votes=L, probs=None, labels=LABELS, n=1)
    with pytest.raises(ValueError, match="needs the label model's probabilities"):
        pick_rows("entropy", votes=L, probs=None, labels=LABELS, n=1)
    with pytest.raises(ValueError, match=r"shape \(2, 2\), expected \(3, 2\)"):
        pick_rows("margin", votes=L, probs=np.ones((2, 2)) / 2, labels=LABELS, n=1)


def test_select_on_a_dataset(texts, spam):
    import mmweak

    lfs = [mmweak.labeling_function(task=spam, inputs="text", name="link")(
               lambda b: [1 if ("http" in t or "www" in t) else -1 for t in b["text"]]),
           mmweak.labeling_function(task=spam, inputs="text", name="short")(
               lambda b: [0 if len(t) < 12 else -1 for t in b["text"]])]
    votes_only = mmweak.apply_lfs(texts, lfs)
    with pytest.raises(ValueError, match=r"strategy 'impact' reads 'spam_probs'.*fit a label model first "
                                         r"\(mmweak.aggregate, or `mmweak aggregate FOLDER"):
        review.select(votes_only, spam, 2, strategy="impact")
    # The default draws at random (a fair sample for the label model's dev score), so votes alone are enough.
    drawn = review.select(votes_only, spam, 2)
    assert set(drawn["review_strategy"]) == {"random"} and len(set(drawn["review_row"])) == 2
    assert list(drawn["review_row"]) == list(review.select(votes_only, spam, 2)["review_row"])  # seeded
    ds = mmweak.aggregate(votes_only)
    sel = review.select(ds, "spam", 3, strategy="entropy")
    assert sel.column_names == texts.column_names + ["spam_votes", "spam_probs", "spam_label", "spam_confidence",
                                                     *review.selection.SELECTION_COLUMNS]
    rows = list(sel["review_row"])
    assert [sel[i]["text"] for i in range(3)] == [texts[r]["text"] for r in rows]
    assert set(sel["review_split"]) == {"train"} and set(sel["review_round"]) == {1}
    assert list(sel["review_score"]) == sorted(sel["review_score"], reverse=True)
    with pytest.warns(UserWarning, match="found 3 rows of split 'train' for task 'spam', fewer than the 5"):
        few = review.select(ds, spam, 5, strategy="no_coverage")
    assert sorted(texts[r]["text"] for r in few["review_row"]) == [
        "best video ever", "plz subscribe to my channel", "subscribe please"]
    with pytest.raises(ValueError, match="unknown task 'topic'"):
        review.select(ds, "topic", 2)
    with pytest.raises(ValueError, match="split 'test' not in"):
        review.select(ds, spam, 2, split="test")


def test_random_then_entropy_draws_the_rows_that_judge_first_then_the_least_sure():
    from mmweak.review.selection import RANDOM_FIRST

    rng = np.random.default_rng(0)
    P = rng.dirichlet([1, 1], 200)
    L = np.zeros((200, 1), np.int8)
    n = RANDOM_FIRST + 10
    first = pick_rows("random_then_entropy", votes=L, probs=P, labels=LABELS, n=n, seed=3)
    assert first.chosen_by == ["random"] * RANDOM_FIRST + ["entropy"] * 10
    assert first.rows[:RANDOM_FIRST].tolist() == pick_rows("random", votes=L, probs=None, labels=LABELS,
                                                           n=RANDOM_FIRST, seed=3).rows.tolist()
    assert len(set(first.rows.tolist())) == n
    assert first.scores[RANDOM_FIRST:] == pytest.approx(
        np.sort(entropy(np.delete(P, first.rows[:RANDOM_FIRST], axis=0)))[::-1][:10])
    later = pick_rows("random_then_entropy", votes=L, probs=P, labels=LABELS, n=5, reviewed_at_random=RANDOM_FIRST)
    assert later.chosen_by == ["entropy"] * 5
    assert later.rows.tolist() == pick_rows("entropy", votes=L, probs=P, labels=LABELS, n=5).rows.tolist()
    # Random rows need only the votes; the least sure rows need the model's probabilities.
    assert pick_rows("random_then_entropy", votes=L, probs=None, labels=LABELS, n=10).chosen_by == ["random"] * 10
    with pytest.raises(ValueError, match=f"'random_then_entropy' has its {RANDOM_FIRST} rows drawn at random and now "
                                         "picks the least sure rows: it needs the label model's probabilities"):
        pick_rows("random_then_entropy", votes=L, probs=None, labels=LABELS, n=RANDOM_FIRST + 1)
    with pytest.raises(ValueError, match="reviewed_at_random"):
        pick_rows("random_then_entropy", votes=L, probs=P, labels=LABELS, n=1, reviewed_at_random=-1)


def test_select_counts_the_reviewed_rows_drawn_at_random_from_their_answers(texts, spam):
    import datetime as dt

    import mmweak
    from mmweak.review import Answer
    from mmweak.review.selection import RANDOM_FIRST

    rng = np.random.default_rng(1)
    big = texts.select(rng.integers(0, len(texts), 120).tolist())
    lfs = [mmweak.labeling_function(task=spam, inputs="text", name="link")(
               lambda b: [1 if ("http" in t or "www" in t) else -1 for t in b["text"]]),
           mmweak.labeling_function(task=spam, inputs="text", name="short")(
               lambda b: [0 if len(t) < 12 else -1 for t in b["text"]])]
    ds = mmweak.aggregate(mmweak.apply_lfs(big, lfs))
    first = review.select(ds, spam, RANDOM_FIRST - 5, strategy="random_then_entropy")
    assert list(first["review_strategy"]) == ["random"] * (RANDOM_FIRST - 5)
    t0 = dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)
    answers = [Answer("train", r, "ann", 1, t0, strategy=s) for r, s in zip(first["review_row"],
                                                                          first["review_strategy"])]
    # 5 more reviewed rows chosen for being hard: they do not count towards the rows drawn at random.
    hard = review.select(ds, spam, 5, strategy="entropy", seed=9)
    answers += [Answer("train", r, "ann", 0, t0, strategy="entropy") for r in hard["review_row"]
                if r not in set(first["review_row"])]
    answered = mmweak.aggregate(review.merge_answers(ds, spam, answers))
    second = review.select(answered, spam, 10)  # the default strategy
    assert list(second["review_strategy"]) == ["random"] * 5 + ["entropy"] * 5
    assert not set(second["review_row"]) & {a.row for a in answers}


def test_random_then_entropy_returns_what_is_left_without_probabilities():
    # Fewer candidates than asked on votes alone: the rows there are, as random did (it raised before).
    L = np.zeros((20, 1), np.int8)
    p = pick_rows("random_then_entropy", votes=L, probs=None, labels=LABELS, n=10, candidates=np.arange(20) < 3)
    assert sorted(p.rows.tolist()) == [0, 1, 2] and p.chosen_by == ["random"] * 3


def test_answers_for_copies_how_each_row_was_chosen(texts, spam):
    import mmweak

    lfs = [mmweak.labeling_function(task=spam, inputs="text", name="link")(
        lambda b: [1 if ("http" in t or "www" in t) else -1 for t in b["text"]])]
    ds = mmweak.aggregate(mmweak.apply_lfs(texts, lfs))
    picked = review.select(ds, spam, 3, strategy="entropy")
    answers = review.answers_for(picked, spam, ["spam", 0, "HAM"], "me")
    assert [(a.row, a.label, a.strategy, a.round) for a in answers] == [
        (r, y, "entropy", 1) for r, y in zip(picked["review_row"], [1, 0, 0])]
    assert [a.model_label for a in answers] == list(picked["spam_label"])
    assert [a.reason for a in answers] == list(picked["review_reason"])
    with pytest.raises(ValueError, match="2 labels for the 3 rows of the selection"):
        review.answers_for(picked, spam, [1, 0], "me")
    with pytest.raises(ValueError, match=r"label 2 is 'eggs', not a class of task 'spam' \(one of 0..1 or"):
        review.answers_for(picked, spam, [1, 0, "eggs"], "me")
    out = mmweak.aggregate(review.merge_answers(ds, spam, answers))
    fit = mmweak.provenance.read_record(out)["tasks"]["spam"]["label_model"]["fit"]
    assert (fit["reviewed_rows"], fit["reviewed_chosen_rows"]) == (3, 3)


def test_rows_drawn_at_random_count_only_when_their_answers_settle_a_label(texts, spam, monkeypatch):
    import datetime as dt

    import mmweak
    from mmweak.review import Answer

    lfs = [mmweak.labeling_function(task=spam, inputs="text", name="link")(
        lambda b: [1 if ("http" in t or "www" in t) else -1 for t in b["text"]])]
    ds = mmweak.aggregate(mmweak.apply_lfs(texts, lfs))
    t0 = dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)
    # Two people disagree on row 0 (a tie: no label, so it judges nothing); row 1 has an answer.
    tied = review.merge_answers(ds, spam, [Answer("train", 0, "a", 0, t0, strategy="random"),
                                           Answer("train", 0, "b", 1, t0, strategy="random"),
                                           Answer("train", 1, "a", 1, t0, strategy="random")])
    from mmweak.review import selection

    counted = {}
    real = selection.pick_rows

    def spy(*args, **kw):
        counted.setdefault("n", kw.get("reviewed_at_random"))  # select's own call comes first
        return real(*args, **kw)

    monkeypatch.setattr(selection, "pick_rows", spy)
    review.select(tied, spam, 1)
    assert counted["n"] == 1


def test_an_answers_column_of_another_shape_counts_every_row_as_drawn_at_random(spam):
    import datasets

    from mmweak.aggregate import drawn_at_random

    nulls = datasets.Dataset.from_dict({"spam_answers": [[{"strategy": None}], [{"strategy": None}]]})
    text = datasets.Dataset.from_dict({"spam_answers": ["random", "entropy"]})
    for ds in (nulls, text):
        assert drawn_at_random({}, ds, spam, np.array([0, 1])).tolist() == [True, True]


def test_reviewed_at_random_takes_flags_only():
    from mmweak.aggregate import fit_with_reviews
    from mmweak.labelmodels import create

    L = np.array([[1, 0], [0, 0], [1, 1]] * 5)
    for bad in (["random", "entropy"], [0.5, 1], [[True, False]]):
        with pytest.raises(ValueError, match="reviewed_at_random must be True/False or one such flag per reviewed row"):
            fit_with_reviews(create("majority"), L, reviewed_rows=[0, 1], reviewed_labels=[1, 0],
                             reviewed_at_random=bad)
    with pytest.raises(ValueError, match="reviewed_at_random must be"):
        fit_with_reviews(create("majority"), L, reviewed_rows=[0, 1], reviewed_labels=[1, 0],
                         reviewed_at_random=[True])


def test_answers_for_refuses_integer_labels_where_classes_are_named_by_other_numbers(texts):
    import mmweak

    stars = mmweak.Task("stars", ["1", "2"])
    lf = mmweak.labeling_function(task=stars, inputs="text", name="long")(lambda b: [int(len(t) > 12) for t in b["text"]])
    picked = review.select(mmweak.aggregate(mmweak.apply_lfs(texts, [lf])), stars, 2)
    with pytest.raises(ValueError, match="answers_for's labels holds integer labels, which are class indices"):
        review.answers_for(picked, stars, [1, 2], "me")
    assert [a.label for a in review.answers_for(picked, stars, ["1", "2"], "me")] == [0, 1]
    with pytest.raises(ValueError, match="a selection is the one Dataset that review.select returns, got DatasetDict"):
        review.answers_for(datasets.DatasetDict({"train": picked}), stars, ["1", "2"], "me")


def test_answers_columns_of_another_shape_hold_no_round_and_no_review(spam):
    from mmweak.review.answers import next_round, reviewed_mask

    for column in ([None, None], ["a", "b"], [1, 2]):
        ds = datasets.Dataset.from_dict({"spam_answers": column})
        assert next_round(ds, spam) == 1 and reviewed_mask(ds, spam).tolist() == [False, False]
