"""Answers flow back: clamped refits, annotators as a label source, per-LF accuracy on reviewed rows, the card,
and the simulated loop on real WRENCH data."""

from __future__ import annotations

import csv
import datetime as dt
import re
import sys
import warnings

import datasets
import numpy as np
import pytest
from paths import ROOT

import mmweak
from mmweak import review
from mmweak.aggregate import drawn_at_random
from mmweak.review import AnnotationError, Answer

sys.path.insert(0, str(ROOT / "benchmarks"))
import realdata as R  # noqa: E402

needs_wrench = pytest.mark.skipif(not (R.DATA / "wrench" / "youtube").is_dir(), reason=f"WRENCH data not at {R.DATA}")
needs_crowd = pytest.mark.skipif(not (R.DATA / "crowd" / "bluebird").is_dir(), reason=f"crowd data not at {R.DATA}")
T0 = dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)


def _conflicting(spam):
    """Two LFs that always disagree where both vote: votes alone cannot tell which to trust."""
    a = mmweak.labeling_function(task=spam, inputs="x", name="a")(lambda b: [v[0] for v in b["x"]])
    c = mmweak.labeling_function(task=spam, inputs="x", name="c")(lambda b: [v[1] for v in b["x"]])
    x = [[1, 0]] * 6 + [[1, -1]] * 3 + [[-1, 0]] * 3
    return mmweak.apply_lfs(datasets.Dataset.from_dict({"x": x, "label": [1] * 9 + [0] * 3}), [a, c])


def test_aggregate_clamps_reviewed_rows_and_learns_from_them(spam):
    ds = _conflicting(spam)
    before = mmweak.aggregate(ds, model="dawid_skene")
    assert before["spam_probs"][0] == pytest.approx([0.5, 0.5])  # a coin flip on the conflicting rows
    reviewed = review.merge_answers(ds, spam, [Answer("train", r, "ann", 1, T0, strategy="disagreement")
                                               for r in (0, 1, 2)])
    after = mmweak.aggregate(reviewed, model="dawid_skene")
    # The three answers teach the model that LF `a` is right: the other conflicting rows flip to spam.
    assert [p[1] > 0.99 for p in after["spam_probs"][3:6]] == [True] * 3
    assert list(after["spam_label"][:3]) == [1, 1, 1] and list(after["spam_confidence"][:3]) == [1.0] * 3
    fit = mmweak.provenance.read_record(after)["tasks"]["spam"]["label_model"]["fit"]
    assert (fit["reviewed_rows"], fit["dev_rows"]) == (3, 0)
    ignored = mmweak.aggregate(reviewed, model="dawid_skene", reviewed=False)
    assert ignored["spam_probs"][3] == pytest.approx([0.5, 0.5])
    # A user's own column named like ours is gold, not review, unless it comes with answers.
    own = ds.add_column("spam_gold", [1] * 12)
    mmweak.provenance.write_record(own, mmweak.provenance.read_record(ds))
    assert mmweak.provenance.read_record(mmweak.aggregate(own))["tasks"]["spam"]["label_model"]["fit"]["reviewed_rows"] == 0


def test_analysis_shows_lf_accuracy_on_reviewed_rows(spam):
    ds = _conflicting(spam)
    answers = [Answer("train", r, "ann", y, T0) for r, y in ((0, 1), (1, 1), (6, 1), (9, 0), (10, 1))]
    out = mmweak.aggregate(review.merge_answers(ds, spam, answers))
    summary = mmweak.analyze(out, spam)
    a, c = summary.rows
    # LF a votes spam on rows 0, 1, 6 (right 3 times); c votes ham on 0, 1, 9, 10 (right once: row 9).
    assert (a["reviewed_accuracy"], a["reviewed_votes"]) == (1.0, 3)
    assert (c["reviewed_accuracy"], c["reviewed_votes"]) == (0.25, 4)
    assert "rev.acc" in str(summary)


def test_consensus_and_several_annotators(spam):
    ds = _conflicting(spam)
    answers = [Answer("train", 0, "a", 1, T0), Answer("train", 0, "b", 1, T0), Answer("train", 0, "c", 0, T0),
               Answer("train", 1, "a", 1, T0), Answer("train", 1, "b", 0, T0)]
    out = review.merge_answers(ds, spam, answers)
    assert list(out["spam_gold"][:3]) == [1, -1, -1]  # 2 of 3; a tie; nobody
    summary = review.review_summary({"train": out}, spam)
    assert summary["annotator_agreement"] == pytest.approx(1 / 4)  # row 0: (a,b) agree, (a,c) (b,c) not; row 1 not
    assert summary["splits"] == [{"split": "train", "rows": 2, "answers": 5, "annotators": 3, "consensus": 1}]
    with pytest.raises(AnnotationError, match=re.escape("row 0: annotator 'x' answered 5, not a class of the task "
                                                        "(one of 0..1 or ['ham', 'spam'])")):
        review.merge_answers(ds, spam, [Answer("train", 0, "x", 5, T0)], on_invalid="raise")
    with pytest.raises(AnnotationError, match="answered 'eggs', not a class of the task"):
        review.merge_answers(ds, spam, [Answer("train", 0, "x", "eggs", T0)], on_invalid="raise")
    # A class name is an answer too (it was a TypeError comparing 'SPAM' with 0).
    named = review.merge_answers(ds, spam, [Answer("train", 2, "x", " SPAM", T0, strategy="random")])
    assert named["spam_gold"][2] == 1 and named[2]["spam_answers"][0]["label"] == 1


def test_how_a_row_was_chosen_is_checked_and_a_random_draw_is_never_forgotten(spam):
    ds = _conflicting(spam)
    # The strategy a user asked select for is not how each row was chosen (random_then_entropy rows say which): the
    # answer is kept, never lost, and its row counts as chosen for being hard, with a warning.
    with pytest.warns(UserWarning, match=r"strategies that choose no row \('random_then_entropy' x1, 'RANDOM' x1\): "
                                         "stored, and their rows count as chosen for being hard"):
        odd = review.merge_answers(ds, spam, [Answer("train", 0, "x", 1, T0, strategy="random_then_entropy"),
                                              Answer("train", 1, "x", 0, T0, strategy="RANDOM")])
    assert list(odd["spam_gold"][:2]) == [1, 0]
    assert drawn_at_random({}, odd, spam, np.array([0, 1])).tolist() == [False, False]
    with pytest.warns(UserWarning, match="2 answers name no strategy, so their rows count as drawn at random"):
        unnamed = review.merge_answers(ds, spam, [Answer("train", r, "x", 1, T0, strategy=None) for r in (0, 1)])
    assert drawn_at_random({}, unnamed, spam, np.array([0, 1])).tolist() == [True, True]
    with warnings.catch_warnings():  # the same answers again store nothing, so nothing to warn about
        warnings.simplefilter("error")
        review.merge_answers(unnamed, spam, [Answer("train", r, "x", 1, T0) for r in (0, 1)])
    # Row 0 chosen as hard, later drawn at random and answered the same; row 1 drawn at random, later re-answered
    # differently when sent as hard: both stay judges of the fit.
    later = T0 + dt.timedelta(days=1)
    first = review.merge_answers(ds, spam, [Answer("train", 0, "x", 1, T0, strategy="entropy"),
                                            Answer("train", 1, "x", 1, T0, strategy="random")])
    again = review.merge_answers(first, spam, [Answer("train", 0, "x", 1, later, strategy="random"),
                                               Answer("train", 1, "x", 0, later, strategy="entropy")])
    rows = np.array([0, 1])
    assert drawn_at_random({}, first, spam, rows).tolist() == [False, True]
    assert drawn_at_random({}, again, spam, rows).tolist() == [True, True]
    assert list(again["spam_gold"][:2]) == [1, 0]
    # How a row was chosen is part of what the datasets cache keys: the same answer marked otherwise is another column.
    marked = [review.merge_answers(ds, spam, [Answer("train", 0, "x", 1, T0, strategy=s)]) for s in ("entropy", "random")]
    assert marked[0]._fingerprint != marked[1]._fingerprint


@needs_crowd
def test_annotators_as_a_label_source_on_real_crowd_data():
    """bluebird: 39 workers label 108 images; one "LF" per worker reproduces the label models on the raw matrix."""
    c = R.load_crowd("bluebird")
    rows = [[] for _ in range(c.votes.L.shape[0])]
    with open(R.DATA / "crowd" / "bluebird" / "label.csv", newline="") as f:
        for r in csv.DictReader(f):
            rows[int(r["item"])].append({"annotator": f"worker{int(r['worker']):02d}", "label": int(r["label"])})
    bird = mmweak.Task("bird", ["0", "1"])
    ds = datasets.Dataset.from_dict({"crowd": rows})
    ds = review.add_annotator_votes(ds, bird, "crowd")
    entry = mmweak.provenance.read_record(ds)["tasks"]["bird"]
    assert len(entry["lfs"]) == 39 and {lf["modality"] for lf in entry["lfs"]} == {"human"}
    assert ds.features["bird_votes"].length == 39
    for model, published in (("ebcc", 0.8611), ("dawid_skene", None)):
        out = mmweak.aggregate(ds, [bird], model=model)
        acc = R.crowd_accuracy(c.votes.y, np.asarray(out["bird_probs"]))
        direct = mmweak.labelmodels.create(model, cardinality=2, random_state=0).fit(c.votes.L).predict_proba(c.votes.L)
        assert acc == pytest.approx(R.crowd_accuracy(c.votes.y, direct), abs=1e-9)
        if published:
            assert acc == pytest.approx(published, abs=1e-4)  # the EBCC authors' number
    # Re-running replaces the annotator columns; bad labels are named.
    again = review.add_annotator_votes(out, bird, "crowd")
    assert again.features["bird_votes"].length == 39 and "bird_probs" not in again.column_names
    bad = datasets.Dataset.from_dict({"crowd": [[{"annotator": "w", "label": "eagle"}]]})
    with pytest.raises(AnnotationError, match="split 'train', row 0, annotator 'w': label 'eagle' is not a class"):
        review.add_annotator_votes(bad, bird, "crowd")


def test_plain_answers_under_the_review_name_are_saved_with_their_card(tmp_path):
    """`T_answers` in the plain {annotator, label} form, class names as labels (add_annotator_votes' default
    column): saving the curated folder summarised them as review answers and failed on the missing `time`."""
    dog = mmweak.Task("dog", ["cat", "dog"])
    answers = [[{"annotator": "a", "label": "dog"}, {"annotator": "b", "label": "Dog"}],
               [{"annotator": "b", "label": "cat"}], [], [{"annotator": "a", "label": "cat"}]]
    ds = mmweak.aggregate(review.add_annotator_votes(datasets.Dataset.from_dict({"dog_answers": answers}), dog))
    card = (mmweak.save_curated(ds, tmp_path / "out") / "README.md").read_text()
    summary = review.review_summary({"train": ds}, dog)
    assert summary["splits"] == [{"split": "train", "rows": 3, "answers": 4, "annotators": 2, "consensus": 3}]
    assert [s["strategy"] for s in summary["strategies"]] == ["(unknown)"] and "People reviewed 3 rows" in card


@needs_crowd
def test_a_crowd_folder_read_by_mmweak_aggregates_like_the_benchmark():
    # The user's path: read_crowd's {worker, label} answers -> one vote column per worker -> the default.
    from mmweak.sources import read_crowd

    c = R.load_crowd("bluebird")
    bird = mmweak.Task("bird", ["0", "1"])
    ds = review.add_annotator_votes(read_crowd(R.crowd_folder("bluebird"))["train"], bird, "answers")
    np.testing.assert_array_equal(np.asarray(ds["bird_votes"]), c.votes.L)  # workers 0..38 in number order
    out = mmweak.aggregate(ds, [bird])
    direct = mmweak.labelmodels.create(None, cardinality=2, random_state=0).fit(c.votes.L).predict_proba(c.votes.L)
    np.testing.assert_array_equal(np.asarray(out["bird_probs"]), direct.astype(np.float32))  # stored as float32
    assert 100 * R.crowd_accuracy(c.votes.y, direct) == pytest.approx(89.81, abs=0.01)  # accuracy.md's default


def test_review_answers_become_annotator_votes_next_to_the_lfs(spam):
    ds = _conflicting(spam)
    answers = [Answer("train", 0, "ann", 1, T0), Answer("train", 0, "bob", 1, T0), Answer("train", 4, "bob", 0, T0)]
    out = review.add_annotator_votes(review.merge_answers(ds, spam, answers), spam)
    assert [lf["name"] for lf in mmweak.provenance.read_record(out)["tasks"]["spam"]["lfs"]] == [
        "a", "c", "annotator:ann", "annotator:bob"]
    assert list(out["spam_votes"][0]) == [1, 0, 1, 1] and list(out["spam_votes"][4]) == [1, 0, -1, 0]
    assert list(mmweak.aggregate(out)["spam_label"]) and "spam_probs" not in out.column_names


@needs_wrench
def test_simulate_on_youtube_matches_the_dataset_path(tmp_path):
    from review_curve import wrench_dataset

    ds, task = wrench_dataset("youtube")
    curve = review.simulate(ds, task, gold="label", strategies=["random", "entropy"], batch_sizes=[25], budget=50,
                            seeds=[0], progress=False)
    assert [(p["strategy"], p["reviewed"]) for p in curve.points] == [
        ("random", 0), ("random", 25), ("random", 50), ("entropy", 0), ("entropy", 25), ("entropy", 50)]
    again = review.simulate(ds, task, gold="label", strategies=["entropy"], batch_sizes=[25], budget=50, seeds=[0],
                            progress=False)
    assert again.mean("entropy", 25) == curve.mean("entropy", 25)

    # Zero reviews = the default label model fitted on the train votes, scored on every test row.
    w = R.load_wrench("youtube")
    lm = mmweak.labelmodels.create(None, cardinality=2, random_state=0).fit(w.train.L)
    zero = float((lm.labels_from_proba(lm.predict_proba(w.test.L), None) == w.test.y).mean())
    assert curve.mean("entropy", 25)[0] == pytest.approx(zero)

    # Two rounds through the datasets: select, answer with gold, aggregate -> the same scores as the simulation.
    refit = mmweak.aggregate(ds, [task])
    gold = list(refit["train"]["label"])
    for rnd, reviewed in enumerate((25, 50)):
        picked = review.select(refit, task, 25, strategy="entropy", seed=rnd)
        answers = [Answer("train", r, "gold", gold[r], T0, strategy="entropy") for r in picked["review_row"]]
        refit = mmweak.aggregate(review.merge_answers(refit, task, answers), [task])
        probs = np.asarray(refit["test"]["youtube_probs"])
        assert float((probs.argmax(1) == w.test.y).mean()) == pytest.approx(curve.mean("entropy", 25)[reviewed])
    fit = mmweak.provenance.read_record(refit)["tasks"]["youtube"]["label_model"]["fit"]
    assert (fit["reviewed_rows"], fit["reviewed_chosen_rows"]) == (50, 50)
    # Rows chosen for being hard teach the model but do not judge it: judged on them, a fit labelling every row spam
    # beat majority vote and was kept (47.2 % after 50 entropy rows, against 82.8 % with none).
    assert curve.mean("entropy", 25)[50] >= curve.mean("entropy", 25)[0] - 0.005

    # The curve goes on the card: a table, the goal line and a PNG.
    curve.dataset = "WRENCH youtube"
    curve.attach(refit)
    folder = mmweak.save_curated(refit, tmp_path / "yt")
    card = (folder / "README.md").read_text()
    assert "Does reviewing pay? A simulation of this loop on WRENCH youtube" in card
    assert f"| entropy | 25 | {100 * curve.mean('entropy', 25)[0]:.2f} |" in card
    assert "50 of them were chosen for being hard (not drawn at random): they taught the model but did not judge" in card
    assert "`random` reaches" in card and (folder / "plots" / "youtube_review_curve.png").read_bytes()[:4] == b"\x89PNG"
    back, _ = mmweak.load_curated(folder)
    again_card = mmweak.card.render_card(dict(back), mmweak.provenance.read_record(back), data_files={}, model_files={})
    assert "Does reviewing pay?" in str(again_card)  # the curve survives the round trip through the card


def test_learning_curve_bookkeeping():
    curve = review.LearningCurve(task="t", metric="accuracy", eval_split="test", fit_split="train", model="auto")
    for seed, scores in ((0, [0.5, 0.6, 0.8]), (1, [0.5, 0.7, 0.8])):
        for k, s in enumerate(scores):
            curve.points.append({"strategy": "entropy", "batch": 10, "seed": seed, "reviewed": 10 * k, "score": s})
    assert curve.mean("entropy", 10) == pytest.approx({0: 0.5, 10: 0.65, 20: 0.8})
    assert curve.rows_to_reach("entropy", 10, 0.65) == 10 and curve.rows_to_reach("entropy", 10, 0.9) is None
    assert review.LearningCurve.from_dict(curve.to_dict()) == curve
    assert "| entropy | 10 | 50.00 | 65.00 | 80.00 |" in curve.to_markdown()
    with pytest.raises(ValueError, match="unknown selection strategy 'loud'"):
        review.simulate(_conflicting(mmweak.Task("spam", ["ham", "spam"])), "spam", gold="label",
                        strategies=["loud"], fit_split="train", eval_split="train")


def test_applying_lfs_again_keeps_the_annotators_votes(spam):
    ds = _conflicting(spam)
    answers = [Answer("train", 0, "ann", 1, T0), Answer("train", 4, "bob", 0, T0)]
    with_people = review.add_annotator_votes(review.merge_answers(ds, spam, answers), spam)
    before = np.asarray(with_people["spam_votes"])
    a = mmweak.labeling_function(task=spam, inputs="x", name="a")(lambda b: [v[0] for v in b["x"]])
    c = mmweak.labeling_function(task=spam, inputs="x", name="c")(lambda b: [v[1] for v in b["x"]])
    both = mmweak.labeling_function(task=spam, inputs="x", name="both")(
        lambda b: [1 if v[0] == 1 and v[1] == 0 else -1 for v in b["x"]])
    again = mmweak.apply_lfs(with_people, [a, c, both])  # an LF added later, the people's answers already in
    after = np.asarray(again["spam_votes"])
    assert [lf["name"] for lf in mmweak.provenance.read_record(again)["tasks"]["spam"]["lfs"]] == [
        "a", "c", "both", "annotator:ann", "annotator:bob"]
    np.testing.assert_array_equal(after[:, [0, 1, 3, 4]], before)  # the LFs' and the people's votes, unchanged
    assert after[:, 2].tolist() == [1] * 6 + [-1] * 6
    assert list(mmweak.aggregate(again)["spam_label"])  # and they aggregate as one matrix
    clash = mmweak.labeling_function(task=spam, inputs="x", name="annotator:ann")(lambda b: [-1] * len(b["x"]))
    with pytest.raises(ValueError, match="LF name 'annotator:ann' of task 'spam' is already an annotator's column"):
        mmweak.apply_lfs(with_people, [clash])
