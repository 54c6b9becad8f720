"""Votes that exist before mmweak runs: WRENCH's ``weak_labels`` as LFs and crowd answers as annotators, from a recipe."""

from __future__ import annotations

import json
import re
import shlex
import warnings

import datasets
import numpy as np
import pytest
import yaml
from huggingface_hub import DatasetCard
from paths import ROOT, SHARED

import mmweak
from lf_library.precomputed import VoteColumnLF, precomputed_lfs
from mmweak.cli import main
from mmweak.curate import curate
from mmweak.errors import LFError
from mmweak.labelmodels import create
from mmweak.recipe import RecipeError, load_recipe, parse_recipe, set_value
from mmweak.review import add_annotator_votes
from mmweak.sources import read_crowd, read_wrench

RECIPES = ROOT / "recipes"
SPAM = mmweak.Task("spam", ["ham", "spam"])


def _shared(*parts: str):
    path = SHARED.joinpath("data", *parts)
    if not path.is_dir():
        pytest.skip(f"{path} is not here")
    return path


# -- lf_library.precomputed ----------------------------------------------------------------------------------
def test_one_lf_per_position_reads_the_votes_bit_for_bit_with_nulls_abstaining():
    ds = datasets.DatasetDict({
        "train": datasets.Dataset.from_dict({"v": [[1, -1, 0], None, [None, 1, 1]]}),
        "test": datasets.Dataset.from_dict({"v": [[0, 0, -1]]}),
    })
    lfs = precomputed_lfs(ds, SPAM, "v", names=["a", "b", "c"])
    assert [lf.name for lf in lfs] == ["a", "b", "c"] and [lf.index for lf in lfs] == [0, 1, 2]
    out = mmweak.apply_lfs(ds, lfs)
    assert out["train"]["spam_votes"] == [[1, -1, 0], [-1, -1, -1], [-1, 1, 1]]
    assert out["test"]["spam_votes"] == [[0, 0, -1]]
    assert out["train"].features["spam_votes"] == datasets.List(datasets.Value("int8"), length=3)
    lf_rec = mmweak.provenance.read_record(out)["tasks"]["spam"]["lfs"]
    assert [(r["name"], r["inputs"]) for r in lf_rec] == [("a", ["v"]), ("b", ["v"]), ("c", ["v"])]


def test_a_column_of_single_votes_is_one_lf():
    ds = datasets.Dataset.from_dict({"model_vote": [1, None, 0]})
    (lf,) = precomputed_lfs(ds, SPAM, "model_vote")
    assert lf.name == "model_vote" and lf.index is None
    assert mmweak.apply_lfs(ds, [lf])["spam_votes"] == [[1], [-1], [0]]


def test_votes_written_as_class_names_are_read_as_gold_is():
    ds = datasets.Dataset.from_dict({"pred": ["SPAM", None, " ham", "spam"], "both": [["ham", "spam"]] * 4})
    (lf,) = precomputed_lfs(ds, SPAM, "pred")
    out = mmweak.apply_lfs(ds, [lf, *precomputed_lfs(ds, SPAM, "both")])
    assert list(out["spam_votes"]) == [[1, 0, 1], [-1, 0, 1], [0, 0, 1], [1, 0, 1]]
    bad = datasets.Dataset.from_dict({"pred": ["spam", "ham", "eggs"]})
    with pytest.raises(LFError, match=r"LF 'pred' .*the vote 'eggs' in column 'pred' is not a class of task 'spam' "
                                      r"\['ham', 'spam'\] \(null abstains\) on row 2"):
        mmweak.apply_lfs(bad, [lf])



def test_a_votes_column_brought_without_lfs_is_aggregated_saved_and_loaded(tmp_path):
    # A T_votes column per the data contract, not written by apply_lfs: aggregate gave labels, then save_curated
    # failed with KeyError: 'lfs'. Its columns are recorded by position now, and a warning says how to name them.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    L = np.where(rng.random((200, 3)) < 0.7, np.where(rng.random((200, 3)) < 0.85, y[:, None], 1 - y[:, None]), -1)
    feats = datasets.Features({"spam_votes": datasets.List(datasets.Value("int8"), length=3),
                               "label": datasets.ClassLabel(names=["ham", "spam"])})
    ds = datasets.Dataset.from_dict({"spam_votes": L.tolist(), "label": y.tolist()}, features=feats)
    with pytest.warns(UserWarning, match=r"'spam_votes' was not written by apply_lfs.* spam_votes_0..spam_votes_2") as w:
        out = mmweak.aggregate(ds, [SPAM])
    assert [r.filename for r in w if "apply_lfs" in str(r.message)] == [__file__]  # the user's line, not mmweak's
    assert (np.asarray(out["spam_label"]) == y).mean() > 0.85
    summary = mmweak.analyze(out, SPAM, gold="label")
    assert [r["lf"] for r in summary.rows] == ["spam_votes_0", "spam_votes_1", "spam_votes_2"]
    mmweak.save_curated(out, tmp_path / "c")
    back, tasks = mmweak.load_curated(tmp_path / "c")
    assert tasks == [SPAM] and back["train"]["spam_label"] == out["spam_label"]
    card = (tmp_path / "c" / "README.md").read_text()
    assert "spam_votes_2" in card
    # annotators added to such votes follow them (the record held the annotator alone, for four columns)
    answers = [[{"annotator": "ann", "label": int(v)}] if i % 4 == 0 else [] for i, v in enumerate(y)]
    with pytest.warns(UserWarning, match="not written by apply_lfs") as w:
        people = add_annotator_votes(ds.add_column("spam_answers", answers), SPAM)
    assert [r.filename for r in w if "apply_lfs" in str(r.message)] == [__file__]
    summary = mmweak.analyze(mmweak.aggregate(people, [SPAM]), SPAM)
    assert [r["lf"] for r in summary.rows] == ["spam_votes_0", "spam_votes_1", "spam_votes_2", "annotator:ann"]


def test_bad_vote_columns_are_refused_naming_split_row_and_column():
    ragged = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"v": [[1, 0], [1], [0, 0]]})})
    with pytest.raises(ValueError, match=r"split 'train', row 1: column 'v' holds 1 votes where row 0 holds 2"):
        precomputed_lfs(ragged, SPAM, "v")
    split_disagree = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"v": [[1, 0]]}),
                                           "test": datasets.Dataset.from_dict({"v": [[1, 0, 1]]})})
    with pytest.raises(ValueError, match=r"splits disagree .*'v': train: 2 per row, test: 3 per row"):
        precomputed_lfs(split_disagree, SPAM, "v")
    with pytest.raises(ValueError, match=r"split 'train' has no column 'weak_labels'"):
        precomputed_lfs(datasets.Dataset.from_dict({"v": [[1]]}), SPAM)
    with pytest.raises(ValueError, match=r"names must give one name per vote in column 'v' \(2\), got 1"):
        precomputed_lfs(split_disagree["train"], SPAM, "v", names=["x"])
    with pytest.raises(ValueError, match="holds empty vote lists"):
        precomputed_lfs(datasets.Dataset.from_dict({"v": [[], []]}), SPAM, "v")
    with pytest.raises(ValueError, match="index must be a position"):
        VoteColumnLF(SPAM, "v", -1)


def test_bad_votes_at_apply_time_name_the_lf_and_the_row():
    lf = VoteColumnLF(SPAM, "v", 1)
    short = datasets.Dataset.from_dict({"v": [[0, 1], [0, 1], [1]]})
    with pytest.raises(LFError, match=r"LF 'v_1' .*has no position 1 \(it holds 1 votes\) on row 2"):
        mmweak.apply_lfs(short, [lf])
    out, report = mmweak.apply_lfs(short, [lf], on_error="abstain", return_report=True)
    assert list(out["spam_votes"]) == [[1], [1], [-1]] and report.faults() == {"v_1": 1}
    with pytest.raises(LFError, match=r"LF 'v_1'.*row 1.*votes must be -1 \(abstain\) or a class"):
        mmweak.apply_lfs(datasets.Dataset.from_dict({"v": [[0, 1], [0, 7]]}), [lf])
    with pytest.raises(LFError, match=r"column 'v' holds double votes; votes are class indices \(0\.\.1.* or class names"):
        mmweak.apply_lfs(datasets.Dataset.from_dict({"v": [[0.0, 1.0]]}), [lf])
    with pytest.raises(LFError, match=r"column 'v' holds string, not lists of votes"):
        mmweak.apply_lfs(datasets.Dataset.from_dict({"v": ["0,1"]}), [lf])


@pytest.mark.parametrize("name", ["youtube", "yelp", "census"])
def test_wrench_weak_labels_become_the_same_vote_matrix(name):
    ds = read_wrench(_shared("wrench", name))
    task = mmweak.Task("t", [n.lower() for n in ds["train"].features["label"].names])
    lfs = precomputed_lfs(ds, task)
    assert len(lfs) == len(ds["train"][0]["weak_labels"])
    out = mmweak.apply_lfs(ds, lfs)
    for split in ds:
        assert np.array_equal(np.asarray(out[split]["t_votes"]), np.asarray(ds[split]["weak_labels"])), split


def test_votes_in_another_class_order_are_read_by_name_or_refused(tmp_path, capsys):
    folder = _shared("wrench", "youtube")
    ds = read_wrench(folder)
    flipped = mmweak.Task("spam", ["spam", "ham"])
    with pytest.raises(ValueError, match=r"column 'label' lists the classes as \['HAM', 'SPAM'\], task 'spam' as "
                                         r"\['spam', 'ham'\]: which order .*Pass classes=\['HAM', 'SPAM'\]"):
        precomputed_lfs(ds, flipped)
    with pytest.raises(ValueError, match=r"must name each class of task 'spam' \['spam', 'ham'\] once"):
        precomputed_lfs(ds, flipped, classes=["ham", "eggs"])
    out = mmweak.apply_lfs(ds, precomputed_lfs(ds, flipped, classes=["HAM", "SPAM"]))
    L = np.asarray(ds["test"]["weak_labels"])
    assert np.array_equal(np.asarray(out["test"]["spam_votes"]), np.where(L >= 0, 1 - L, -1))
    recipe = tmp_path / "r.yaml"
    recipe.write_text((RECIPES / "wrench_votes.yaml").read_text()
                      .replace("${recipe_dir}", str(RECIPES)).replace("labels_from: label", "labels: [spam, ham]")
                      .replace("{task: target, column: weak_labels}", "{task: target, column: weak_labels, "
                                                                     "classes: [HAM, SPAM]}"))
    assert main(["curate", str(recipe), "--set", f"output.folder={tmp_path / 'out'}"]) == 0
    assert "test accuracy 0.8440 vs majority vote 0.8160 (coverage 1.000; on the 92.8 %" in capsys.readouterr().out  # the same labels, named alike


# -- recipes ---------------------------------------------------------------------------------------------------
def test_the_wrench_votes_recipe_gives_the_default_label_models_benchmark_labels(tmp_path, capsys):
    folder = _shared("wrench", "youtube")
    assert main(["curate", str(RECIPES / "wrench_votes.yaml"), "--set", f"output.folder={tmp_path / 'out'}"]) == 0
    printed = capsys.readouterr().out
    assert "target: classes ['HAM', 'SPAM'] from the names of ClassLabel 'label'" in printed  # label.json's
    # next to plain majority vote's expected accuracy on the same rows (accuracy.md's "MV ties split", 81.60), and
    # both on the rows with a vote (its covered-rows table: 86.64 and 84.05)
    assert "10 LFs for target" in printed and ("test accuracy 0.8440 vs majority vote 0.8160 (coverage 1.000; on the "
                                               "92.8 % of gold rows with a vote: accuracy 0.8664 vs majority vote "
                                               "0.8405)") in printed
    assert "target: the default label model chose dawid_skene on gold dev rows (gain over majority vote +0.0292 ± " \
           "0.0167 per row)" in printed  # as the card says, and as benchmarks/results/accuracy.md has it
    ds, tasks = mmweak.load_curated(tmp_path / "out")
    assert tasks[0].labels == ("HAM", "SPAM")
    wrench = read_wrench(folder)
    L = {s: np.asarray(wrench[s]["weak_labels"]) for s in wrench}
    y = {s: np.asarray(wrench[s]["label"]) for s in wrench}
    model = create(cardinality=2).fit(L["train"], L_dev=L["validation"], y_dev=y["validation"])
    for split in ("train", "validation", "test"):
        assert np.array_equal(np.asarray(ds[split]["target_votes"]), L[split])
        np.testing.assert_array_equal(np.asarray(ds[split]["target_probs"], dtype=np.float64),
                                      np.asarray(model.predict_proba(L[split]), dtype=np.float32))
    card = (tmp_path / "out" / "README.md").read_text()
    assert "`weak_labels_9`" in card and "wrench_votes.yaml" in card
    # the gold table: accuracy, then what majority vote of the same votes scores on those rows (ties by a fair coin)
    assert "| test | 250 | 0.844 | 0.816 | 0.844 | 1.000 |" in card
    assert "| validation † | 120 |" in card and "majority vote's accuracy" in card
    # 7.2 % of test's rows have no vote: the covered-rows figures follow (accuracy.md's 86.64 and 84.05)
    assert "`test` (92.8% of its gold rows) accuracy 0.866 against majority vote's 0.841" in card
    # the rebuild command repeats what the run was given, not only the file
    assert f"\nmmweak curate wrench_votes.yaml --set output.folder={tmp_path / 'out'}\n" in card  # a code block
    # the default data.source is written from the recipe's folder: the command alone would not find it elsewhere
    assert "Its paths that start with `${recipe_dir}` are relative to the folder the file is saved in" in card
    header = yaml.safe_load(card.split("---")[1])
    assert header["weak_supervision"]["recipe"]["overrides"] == [f"output.folder={tmp_path / 'out'}"]


def test_the_crowd_recipe_aggregates_workers_answers_without_lfs(tmp_path, capsys):
    folder = _shared("crowd", "bluebird")
    assert main(["curate", str(RECIPES / "crowd_answers.yaml"), "--set", f"output.folder={tmp_path / 'out'}"]) == 0
    printed = capsys.readouterr().out
    assert "target: classes ['0', '1'] from class ids 0..1 in 'answers', 'label'" in printed
    assert "the answers in 'answers' for target" in printed and "39 annotators; answers per row: train 39.00" in printed
    assert "train accuracy 0.8981" in printed
    assert "target: the default label model chose dawid_skene_pooled on held-out votes (gain over majority " \
           "vote +5.71" in printed
    ds, _ = mmweak.load_curated(tmp_path / "out")
    task = mmweak.Task("target", ["0", "1"])
    by_hand = mmweak.aggregate(add_annotator_votes(read_crowd(folder), task, "answers"), task)
    assert ds["train"]["target_votes"] == by_hand["train"]["target_votes"]
    assert ds["train"]["target_label"] == by_hand["train"]["target_label"]
    lfs = mmweak.provenance.read_record(ds)["tasks"]["target"]["lfs"]
    assert len(lfs) == 39 and {lf["kind"] for lf in lfs} == {mmweak.provenance.HUMAN_KIND}


MIXED = """\
version: 1
data: {{source: {source}}}
tasks:
  spam: {{labels: [ham, spam]}}
lfs:
  - lf: KeywordLF
    name: free
    task: spam
    label: spam
    keywords: [free]
  - ref: precomputed_lfs
    params: {{task: spam, column: model_vote}}
annotators:
  - {{task: spam, column: people, prefix: "rater:"}}
aggregate: {{gold: label}}
output: {{folder: {out}}}
"""


def _mixed_data(tmp_path):
    rows = {"text": ["free money", "hello", "free stuff now", "see you"] * 10,
            "model_vote": [1, 0, -1, 0] * 10,
            "people": [[{"annotator": "ann", "label": "spam"}], [{"annotator": "bo", "label": "ham"}], [], []] * 10,
            "label": [1, 0, 1, 0] * 10}
    path = tmp_path / "data.parquet"
    datasets.Dataset.from_dict(rows).to_parquet(str(path))
    return path


def test_lfs_precomputed_votes_and_annotators_in_one_recipe(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(MIXED.format(source=_mixed_data(tmp_path), out=tmp_path / "out"))
    result = curate(recipe, say=lambda line: None)
    votes = np.asarray(result.dataset["train"]["spam_votes"])
    names = [lf["name"] for lf in mmweak.provenance.read_record(result.dataset)["tasks"]["spam"]["lfs"]]
    assert names == ["free", "model_vote", "rater:ann", "rater:bo"]
    assert votes[:4].tolist() == [[1, 1, 1, -1], [-1, 0, -1, 0], [1, -1, -1, -1], [-1, 0, -1, -1]]
    assert result.metrics["spam"]["train"]["accuracy"] == 1.0


def test_annotators_in_a_recipe_are_checked_before_anything_runs(tmp_path):
    base = "data: {source: x}\ntasks: {spam: {labels: [ham, spam]}}\n"
    with pytest.raises(RecipeError, match=r"<recipe>:3: annotators\[0\]\.task: unknown task 'sapm'"):
        parse_recipe(base + "annotators: [{task: sapm, column: a}]\n")
    with pytest.raises(RecipeError, match=r"<recipe>:3: annotators\[0\]: an entry of annotators is a mapping "
                                          r"with 'task' and 'column'"):
        parse_recipe(base + "annotators: [{task: spam}]\n")
    with pytest.raises(RecipeError, match=r"annotators\[0\]\.colum: unknown key 'colum'"):
        parse_recipe(base + "annotators: [{task: spam, column: a, colum: b}]\n")
    with pytest.raises(RecipeError, match=r"list the LFs under 'lfs' \(or people's answers under 'annotators'\)"):
        parse_recipe(base)
    assert parse_recipe(base + "annotators: [{task: spam, column: a}]\n").build_lfs() == []
    people = base + "annotators: [{task: spam, column: a}]\noutput: {push_to_hub: {repo: me/x, annotator_emails: %s}}\n"
    with pytest.raises(RecipeError, match=r"output\.push_to_hub\.annotator_emails: expected 'refuse' or 'publish', "
                                          r"got 'maybe'"):
        parse_recipe(people % "maybe")
    assert parse_recipe(people % "publish").section("output")["push_to_hub"]["annotator_emails"] == "publish"
    recipe = tmp_path / "r.yaml"
    recipe.write_text(MIXED.format(source=_mixed_data(tmp_path), out=tmp_path / "out").replace("column: people",
                                                                                               "column: raters"))
    with pytest.raises(RecipeError, match=r"r\.yaml:14: annotators\[0\]\.column: split 'train' has no column 'raters'"):
        curate(recipe, say=lambda line: None)
    assert not (tmp_path / "out").exists()  # (the Ray engine runs annotators too: tests/ray)


def test_the_apply_stage_adds_annotators_and_reads_precomputed_votes(tmp_path, capsys):
    crowd, wrench = _shared("crowd", "bluebird"), _shared("wrench", "youtube")
    assert main(["apply", str(crowd), "--recipe", str(RECIPES / "crowd_answers.yaml"), "--out", str(tmp_path / "c")]) == 0
    assert main(["apply", str(wrench), "--recipe", str(RECIPES / "wrench_votes.yaml"), "--out", str(tmp_path / "w")]) == 0
    assert "target: 10 LFs on test" in capsys.readouterr().out
    c, _ = mmweak.load_curated(tmp_path / "c")
    w, _ = mmweak.load_curated(tmp_path / "w")
    assert np.asarray(c["train"]["target_votes"]).shape == (108, 39)
    assert w["test"]["target_votes"] == read_wrench(wrench)["test"]["weak_labels"]
    assert main(["aggregate", str(tmp_path / "c"), "--out", str(tmp_path / "c2"), "--gold", "label"]) == 0
    printed = capsys.readouterr().out
    assert "target: the default label model chose dawid_skene_pooled on held-out votes" in printed
    # --gold: scored as curate scores it, next to majority vote's (the crowd table's "MV ties split", 75.93)
    assert "target: train accuracy 0.8981 vs majority vote 0.7593 (coverage 1.000)" in printed
    assert main(["aggregate", str(tmp_path / "w"), "--out", str(tmp_path / "w2"), "--gold", "label",
                 "--objective", "f1"]) == 0
    assert re.search(r"target: .*test accuracy 0\.\d{4} vs majority vote 0\.\d{4}, F1 of 'SPAM' 0\.\d{4} vs majority "
                     r"vote 0\.\d{4} \(coverage",
                     capsys.readouterr().out)
    labels = np.asarray(mmweak.load_curated(tmp_path / "c2")[0]["train"]["target_label"])
    assert round(float((labels == np.asarray(c["train"]["label"])).mean()), 4) == 0.8981  # as `mmweak curate`
    for bad, said in ((["--model", "dawid_skeen"], "--model: unknown label model 'dawid_skeen'"),
                      (["--objective", "auc"], "--objective must be 'accuracy' or 'f1'"),
                      (["--fill-abstains", "zero"], "--fill-abstains must be 'prior'")):  # bad usage: exit 2
        assert main(["aggregate", str(tmp_path / "c"), "--out", str(tmp_path / "c3"), *bad]) == 2
        assert said in capsys.readouterr().err and not (tmp_path / "c3").exists()


def test_aggregate_with_the_f1_objective_on_many_classes_names_its_class(tmp_path, capsys):
    """`mmweak aggregate --objective f1` on a six-class folder optimised the F1 of class index 1 without a word,
    and the command had no way to name another class."""
    trec = _shared("wrench", "trec")
    assert main(["apply", str(trec), "--recipe", str(RECIPES / "wrench_votes.yaml"), "--out", str(tmp_path / "t")]) == 0
    capsys.readouterr()
    assert main(["aggregate", str(tmp_path / "t"), "--out", str(tmp_path / "t2"), "--objective", "f1"]) == 2
    assert ("--objective f1 on task 'target' (classes ['DESC', 'ENTY', 'HUM', 'ABBR', 'LOC', 'NUM']) needs "
            "--pos-label") in capsys.readouterr().err and not (tmp_path / "t2").exists()
    assert main(["aggregate", str(tmp_path / "t"), "--out", str(tmp_path / "t2"), "--objective", "f1",
                 "--pos-label", "LOC", "--gold", "label"]) == 0
    assert re.search(r"test accuracy 0\.\d{4} vs majority vote 0\.\d{4}, F1 of 'LOC' 0\.\d{4}",
                     capsys.readouterr().out)


def test_aggregate_refits_a_curated_folder_as_it_was_fitted_unless_told(tmp_path, capsys):
    """`mmweak aggregate FOLDER` dropped the gold dev rows and the filling the folder was fitted with, so a plain
    refit of the same votes gave other labels (a spouse-shaped folder: 0.97 -> 0.18); `mmweak answers` kept them."""
    out = tmp_path / "yt"
    assert main(["curate", str(RECIPES / "wrench_votes.yaml"), "--set", f"output.folder={out}"]) == 0
    capsys.readouterr()
    assert main(["aggregate", str(out), "--out", str(tmp_path / "again")]) == 0
    said = capsys.readouterr().out
    assert "gold dev rows as the folder was fitted: column label" in said
    assert "rows without a vote filled as the folder was fitted: fill_abstains prior" in said
    # report --json gives the covered-rows figure the curate line gives (its accuracy_covered is all rows here)
    assert main(["report", str(out), "--split", "test", "--json"]) == 0
    labels = json.loads(capsys.readouterr().out.splitlines()[-1])["labels"]
    assert labels["accuracy_covered"] == labels["accuracy"] == 0.844
    assert (round(labels["accuracy_voted_rows"], 4), round(labels["voted_rows_share"], 3)) == (0.8664, 0.928)
    first, again = (mmweak.load_curated(p)[0]["test"]["target_label"] for p in (out, tmp_path / "again"))
    assert again == first  # the same model, gold and filling: the same labels
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["aggregate", str(out), "--out", str(tmp_path / "alone"), "--votes-only"]) == 0
    assert not [w for w in caught if "was fitted with the gold dev rows" in str(w.message)]  # asked for: not warned
    said = capsys.readouterr().out
    assert "as the folder was fitted" not in said and "on held-out votes" in said  # no gold: the gold-free score
    # plain majority vote next to "majority vote" with another number: the line says which ties differ, and how
    assert main(["aggregate", str(out), "--out", str(tmp_path / "mv"), "--model", "majority"]) == 0
    said = capsys.readouterr().out
    assert re.search(r"test accuracy (0\.\d{4}) vs majority vote (?!\1)0\.\d{4}", said), said
    assert ("target: the 'majority vote' figures break ties by a fair coin (at its expected value); these labels give "
            "a tie the tied class most common by the gold dev rows' class shares (tie_break 'prior')") in said
    # --pos-label goes with the F1 rule only: with accuracy it would be ignored
    assert main(["aggregate", str(out), "--out", str(tmp_path / "pl"), "--objective", "accuracy",
                 "--pos-label", "SPAM"]) == 2
    assert "with --objective accuracy it would be ignored" in capsys.readouterr().err
    # In Python the same refit is warned about: it is easy to lose the dev rows without asking to.
    ds = mmweak.load_curated(out)[0]
    with pytest.warns(UserWarning, match=r"task 'target' was fitted with the gold dev rows of column 'label'; this "
                                         r"refit has no gold for it, so its labels may change: pass "
                                         r"gold=\{'target': 'label'\} to keep them"):
        mmweak.aggregate(ds)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        mmweak.aggregate(ds, gold="label", fill_abstains="prior")
    assert -1 in mmweak.load_curated(tmp_path / "alone")[0]["test"]["target_label"]  # silent rows left unlabelled


def test_annotators_answers_name_classes_as_gold_does():
    ds = datasets.Dataset.from_dict({"crowd": [[{"worker": 1, "label": "SPAM"}, {"worker": 2, "label": " Ham "}],
                                               [{"worker": 2, "label": "spam"}]]})
    assert list(add_annotator_votes(ds, SPAM, "crowd")["spam_votes"]) == [[1, 0], [-1, 1]]
    bad = datasets.Dataset.from_dict({"crowd": [[{"worker": 1, "label": "eggs"}]]})
    with pytest.raises(mmweak.review.AnnotationError, match=r"row 0, annotator '1': label 'eggs' is not a class"):
        add_annotator_votes(bad, SPAM, "crowd")


# -- the recipe path is the benchmark's path ---------------------------------------------------------------------
CROWD_RECIPE = """version: 1
data: {{source: {src}}}
tasks: {{t: {{labels: {labels}}}}}
annotators: [{{task: t, column: answers}}]
aggregate: {{gold: label}}
"""


def _benchmarks():
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import realdata

    return realdata


@pytest.mark.parametrize("name", ["youtube", "trec", "imdb", "yelp", "basketball", "census",
                                  "bluebird", "dog", "rte", "web", "sentiment1k", "product"])
def test_a_recipe_fits_what_the_benchmark_fits_on_every_visible_set(name):
    """`benchmarks/accuracy.py` reads the folders into matrices itself; a user's recipe must get the same model.

    The two shipped recipes run as they are on every folder, only `data.source` set: their tasks take the classes
    the folder names (`labels_from`), so no class list is typed for any set.
    """
    R = _benchmarks()
    if name in R.WRENCH_PUBLISHED:
        recipe, task = load_recipe(RECIPES / "wrench_votes.yaml"), "target"
        objective = "f1" if name in R.WRENCH_F1 else "accuracy"
        overrides = [f"data.source={_shared('wrench', name)}", f"aggregate.objective={objective}",
                     "output.folder=null"]
        result = curate(recipe, overrides=overrides, say=lambda line: None)
        w = R.load_wrench(name)
        assert result.dataset["train"].features[f"{task}_label"].names == list(w.classes)
        if objective == "f1":  # what `mmweak curate` prints is the F1 results/accuracy.md has for the default
            assert round(100 * result.metrics[task]["test"]["f1"], 2) == {"basketball": 18.29, "census": 62.12}[name]
            # and majority vote's, as accuracy.md's "MV ties split" column has it
            assert round(100 * result.metrics[task]["test"]["majority_f1"], 2) == \
                {"basketball": 16.58, "census": 33.34}[name]
        model = create(cardinality=w.cardinality, objective=objective).fit(w.train.L, L_dev=w.valid.L, y_dev=w.valid.y)
        L, split = w.test.L, "test"
    else:
        recipe, task = load_recipe(RECIPES / "crowd_answers.yaml"), "target"
        result = curate(recipe, overrides=[f"data.source={_shared('crowd', name)}", "output.folder=null"],
                        say=lambda line: None)
        c = R.load_crowd(name)
        assert result.dataset["train"].features[f"{task}_label"].names == [str(k) for k in range(c.cardinality)]
        model = create(cardinality=c.cardinality).fit(c.votes.L)
        L, split = c.votes.L, "train"
    ds = result.dataset[split]
    assert np.array_equal(np.asarray(ds[f"{task}_votes"])[: len(L)], L)
    np.testing.assert_array_equal(np.asarray(ds[f"{task}_probs"], dtype=np.float32)[: len(L)],
                                  model.predict_proba(L).astype(np.float32))


# -- edge input (found by fuzzing the paths above) ----------------------------------------------------------------
def test_two_answer_columns_keep_both_sets_of_people_and_re_adding_one_replaces_it():
    ds = datasets.Dataset.from_dict({
        "ans1": [[{"annotator": "a", "label": "spam"}, {"annotator": "b", "label": "ham"}], []],
        "ans2": [[{"annotator": "c", "label": "spam"}], [{"annotator": "a", "label": "ham"}]],
    })
    one = add_annotator_votes(ds, SPAM, "ans1")
    with pytest.raises(mmweak.review.AnnotationError, match=r"already has a vote column named 'annotator:a' .*"
                                                             r"add the answers in 'ans2' with another prefix"):
        add_annotator_votes(one, SPAM, "ans2")
    both = add_annotator_votes(one, SPAM, "ans2", prefix="second:")
    names = [lf["name"] for lf in mmweak.provenance.read_record(both)["tasks"]["spam"]["lfs"]]
    assert names == ["annotator:a", "annotator:b", "second:a", "second:c"]
    assert list(both["spam_votes"]) == [[1, 0, -1, 1], [-1, -1, 0, -1]]
    again = add_annotator_votes(both, SPAM, "ans1")  # replaces ans1's people, keeps ans2's
    assert [lf["name"] for lf in mmweak.provenance.read_record(again)["tasks"]["spam"]["lfs"]] == [
        "second:a", "second:c", "annotator:a", "annotator:b"]
    flipped = add_annotator_votes(ds, mmweak.Task("spam", ["spam", "ham"]), "ans1")
    assert flipped._fingerprint != one._fingerprint  # the votes differ, so a later map must not reuse one's cache
    anonymous = datasets.Dataset.from_dict({"ans": [[{"annotator": None, "label": "spam"}]]})
    with pytest.raises(mmweak.review.AnnotationError, match=r"row 0, column 'ans': an answer without an annotator id"):
        add_annotator_votes(anonymous, SPAM, "ans")


def test_tasks_refuse_class_ids_votes_cannot_hold_and_names_that_only_differ_in_case():
    with pytest.raises(ValueError, match=r"task 'big' has 200 labels; votes are stored as int8, so a task has at most "
                                         r"127 classes"):
        mmweak.Task("big", [f"c{i}" for i in range(200)])
    with pytest.raises(ValueError, match=r"labels 'Spam' and 'spam', which differ only in case"):
        mmweak.Task("c", ["Spam", "spam"])
    assert mmweak.Task("ok", [f"c{i}" for i in range(127)]).cardinality == 127


def test_splits_without_any_vote_list_have_no_say_in_how_many_lfs_there_are():
    full = datasets.Dataset.from_dict({"v": [[1, 0], [0, -1]]})
    ds = datasets.DatasetDict({"train": full, "validation": full.select([]),
                               "test": datasets.Dataset.from_dict({"v": [None, None]},
                                                                  features=full.features)})
    lfs = precomputed_lfs(ds, SPAM, "v")
    assert len(lfs) == 2
    out = mmweak.apply_lfs(ds, lfs)
    assert list(out["test"]["spam_votes"]) == [[-1, -1], [-1, -1]] and len(out["validation"]) == 0
    with pytest.raises(ValueError, match=r"column 'v' holds no vote lists in any split"):
        precomputed_lfs(ds["test"], SPAM, "v")


def test_annotators_entries_are_checked_with_their_place_even_in_a_dry_run(tmp_path, capsys):
    base = "data: {source: x}\ntasks: {spam: {labels: [ham, spam]}}\n"
    with pytest.raises(RecipeError, match=r"annotators\[0\]\.task: expected a task name, got \['spam'\]"):
        parse_recipe(base + "annotators: [{task: [spam], column: a}]\n")
    with pytest.raises(RecipeError, match=r"annotators is a list of mappings with 'task' and 'column'"):
        parse_recipe(base + "annotators: {task: spam, column: a}\n")
    assert parse_recipe(base + "lfs: []\nannotators: [{task: spam, column: a}]\n").build_lfs() == []
    recipe = tmp_path / "r.yaml"
    text = MIXED.format(source=_mixed_data(tmp_path), out=tmp_path / "out")
    recipe.write_text(text.replace("name: free", "name: 'rater:ann'"))
    assert main(["curate", str(recipe), "--dry-run"]) == 2
    assert re.search(r"r\.yaml:14: annotators\[0\]: LF 'rater:ann' of task 'spam' has the name of an annotator of "
                     r"'people': rename the LF or set 'prefix'", capsys.readouterr().err)
    bad = tmp_path / "bad.parquet"
    datasets.Dataset.from_dict({"text": ["a"], "model_vote": [1], "label": [1],
                                "people": [[{"annotator": "ann", "label": "eggs"}]]}).to_parquet(str(bad))
    recipe.write_text(MIXED.format(source=bad, out=tmp_path / "out"))
    assert main(["curate", str(recipe), "--dry-run"]) == 2
    assert re.search(r"r\.yaml:14: annotators\[0\]: split 'train', row 0, annotator 'ann': label 'eggs' is not a class",
                     capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


def test_a_crowd_folder_with_named_classes_gives_the_same_labels_in_either_task_order(tmp_path):
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 60)
    names = ["neg", "pos"]
    lines = ["item,worker,label"]
    for i, y in enumerate(truth):
        for w in range(7):
            if rng.random() < 0.6:
                vote = names[y if rng.random() < 0.75 else 1 - y]
                lines.append(f"q{i},w{w},{vote.upper() if w == 3 else vote}")  # one worker shouts
    folder = tmp_path / "named"
    folder.mkdir()
    (folder / "label.csv").write_text("\n".join(lines) + "\n")
    (folder / "truth.csv").write_text("item,truth\n" + "".join(f"q{i},{names[y]}\n" for i, y in enumerate(truth)))
    labelled = {}
    for order in (["neg", "pos"], ["pos", "neg"]):
        result = curate(parse_recipe(CROWD_RECIPE.format(src=folder, labels=order)), say=lambda line: None)
        ds = result.dataset["train"]
        labelled[tuple(order)] = ([order[k] for k in ds["t_label"]], result.metrics["t"]["train"]["accuracy"])
    assert labelled[("neg", "pos")] == labelled[("pos", "neg")]
    assert labelled[("neg", "pos")][1] > 0.75
    said: list[str] = []  # the shipped recipe reads the names itself, the shouting worker's folded in
    result = curate(load_recipe(RECIPES / "crowd_answers.yaml"),
                    overrides=[f"data.source={folder}", "output.folder=null"], say=said.append)
    assert "target: classes ['neg', 'pos'] from the names of ClassLabel 'label'" in said
    ds = result.dataset["train"]
    assert ([["neg", "pos"][k] for k in ds["target_label"]], result.metrics["target"]["train"]["accuracy"]) == \
        labelled[("neg", "pos")]


# -- classes named by the data (labels_from) ------------------------------------------------------------------------
def test_labels_from_is_checked_when_parsed_and_when_the_data_loads(tmp_path, capsys):
    head = "data: {source: x}\nlfs: [{ref: precomputed_lfs, params: {task: spam}}]\n"
    for tasks, message in [
        ("{spam: {labels: [a, b], labels_from: y}}", r"<recipe>:3: tasks\.spam\.labels_from: give only one of "
                                                     r"'labels' \(class names\) and 'labels_from'"),
        ("{spam: {description: d}}", r"<recipe>:3: tasks\.spam: a task is a mapping with 'labels' \(class names\) or "
                                     r"'labels_from'"),
        ("{spam: {labels_from: 3}}", r"<recipe>:3: tasks\.spam\.labels_from: labels_from is a column name or a list "
                                     r"of them, got 3"),
        ("{spam: {labels_from: []}}", r"tasks\.spam\.labels_from: labels_from is a column name or a list"),
        ("{2spam: {labels_from: y}}", r"tasks\.2spam: task name must be an identifier"),
    ]:
        with pytest.raises(RecipeError, match=message):
            parse_recipe(head + "tasks: " + tasks + "\n")
    r = parse_recipe(head + "tasks: {spam: {labels_from: label}}\n")
    with pytest.raises(RecipeError, match=r"<recipe>:2: lfs\[0\]\.params\.task: task 'spam' takes its classes from "
                                          r"the data \('labels_from'\), which is not loaded yet"):
        r.build_lfs()
    bad = tmp_path / "r.yaml"
    bad.write_text((RECIPES / "wrench_votes.yaml").read_text().replace("${recipe_dir}", str(RECIPES))
                   .replace("labels_from: label", "labels_from: [label, text]"))
    assert main(["curate", str(bad), "--dry-run"]) == 2  # youtube's text is no class column
    assert re.search(r"r\.yaml:\d+: tasks\.target\.labels_from: column 'text' of split 'train' holds .*, which is not "
                     r"a class of column 'label' of split 'train' \['HAM', 'SPAM'\]", capsys.readouterr().err)
    assert main(["curate", str(RECIPES / "wrench_votes.yaml"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "target: classes ['HAM', 'SPAM'] from the names of ClassLabel 'label'" in out and "dry run" in out


def test_set_labels_replaces_labels_from_and_the_other_way_round(tmp_path, capsys):
    r = load_recipe(RECIPES / "wrench_votes.yaml")
    assert r.data_tasks == {"target": (["label"], "The classes of youtube's label.json")} and not r.tasks
    set_value(r, "tasks.target.labels=[ham, spam]")
    assert "labels_from" not in r.raw["tasks"]["target"] and r.tasks["target"].labels == ("ham", "spam")
    assert not r.data_tasks and r.tasks["target"].description == "The classes of youtube's label.json"
    set_value(r, "tasks.target.labels_from=label")
    assert "labels" not in r.raw["tasks"]["target"] and r.data_tasks and not r.tasks
    set_value(r, f"data.source={_shared('wrench', 'trec')}")  # ${source_name} in the description follows the data
    assert r.data_tasks["target"][1] == "The classes of trec's label.json"
    # typed names in label.json's order, in another case, read the same votes and give the same labels
    code = main(["curate", str(RECIPES / "wrench_votes.yaml"), "--set", "tasks.target.labels=[ham, spam]",
                 "--set", f"output.folder={tmp_path / 'out'}"])
    assert code == 0 and "test accuracy 0.8440 vs majority vote 0.8160 (coverage 1.000; on the 92.8 %" in capsys.readouterr().out
    # a model the user named needs no account of a choice
    code = main(["curate", str(RECIPES / "wrench_votes.yaml"), "--set", "label_model.name=majority",
                 "--set", f"output.folder={tmp_path / 'mv'}"])
    printed = capsys.readouterr().out
    assert code == 0 and "default label model" not in printed and "test accuracy" in printed


def test_one_recipe_object_reads_each_datas_classes_again(tmp_path):
    """`curate(recipe, overrides=[data.source=...])` on one Recipe, set after set: the classes follow the data."""
    said: list[str] = []
    r = load_recipe(RECIPES / "wrench_votes.yaml")
    for name, classes in [("youtube", ["HAM", "SPAM"]), ("trec", ["DESC", "ENTY", "HUM", "ABBR", "LOC", "NUM"])]:
        result = curate(r, overrides=[f"data.source={_shared('wrench', name)}", "output.folder=null"], say=said.append)
        assert result.dataset["test"].features["target_label"].names == classes, name
    # trec's default figure, as benchmarks report it, next to plain majority vote's expected accuracy on the same rows
    assert said[-1].endswith("test accuracy 0.6520 vs majority vote 0.6110 (coverage 1.000; on the 96.2 % of gold rows "
                             "with a vote: accuracy 0.6715 vs majority vote 0.6286)")  # accuracy.md's covered rows
    r = load_recipe(RECIPES / "crowd_answers.yaml")
    for name, k in [("bluebird", 2), ("web", 5)]:
        set_value(r, f"data.source={_shared('crowd', name)}")
        assert "target" not in r.tasks  # to be read from the data that will load
        assert len(curate(r, overrides=["output.folder=null"], say=said.append).dataset["train"]
                   .features["target_label"].names) == k


def test_an_lf_whose_classes_differ_from_the_datas_only_in_case_is_told_how_to_fix_it(tmp_path, capsys):
    code = main(["curate", str(RECIPES / "youtube_spam.yaml"), "--set", "tasks.spam.labels_from=label", "--dry-run"])
    assert code == 2
    assert re.search(r"youtube_spam\.yaml:\d+: lfs\[\d+\]: LF '\w+' has task 'spam' with classes \['ham', 'spam'\], but "
                     r"the recipe declares \['HAM', 'SPAM'\]: they differ only in case, so write 'labels: \['ham', "
                     r"'spam'\]' for the task in the recipe instead of 'labels_from'", capsys.readouterr().err)


def test_a_crowd_folder_without_its_truth_says_the_labels_are_not_scored(tmp_path, capsys):
    """The crowd recipe asks for `gold: label`; a folder without truth.csv ran to the end with no accuracy and no word
    of why."""
    folder = tmp_path / "crowd"
    folder.mkdir()
    (folder / "label.csv").write_text("item,worker,label\n" + "".join(
        f"{i},{w},{(i + (w == 2)) % 2}\n" for i in range(40) for w in range(3)))
    assert main(["curate", str(RECIPES / "crowd_answers.yaml"), "--set", f"data.source={folder}",
                 "--set", "output.folder=null"]) == 0
    assert ("target: gold column 'label' holds no gold label in any split, so the labels are not scored (a crowd "
            "folder's gold comes from its truth.csv)") in capsys.readouterr().out


def test_a_recipe_run_on_many_folders_names_its_outputs_after_each(tmp_path, capsys):
    out = tmp_path / "${source_name}_votes"
    for name in ("youtube", "trec"):
        code = main(["curate", str(RECIPES / "wrench_votes.yaml"), "--set", f"data.source={_shared('wrench', name)}",
                     "--set", f"output.folder={out}", "--set", "output.pretty_name=${source_name} - a | b"])
        assert code == 0, capsys.readouterr().err
        card = (tmp_path / f"{name}_votes" / "README.md").read_text()
        assert f"pretty_name: {name} - a | b\n" in card
        assert f"description: The classes of {name}'s label.json\n" in card  # ${source_name} in the task's words
        # the rebuild command pastes back into a shell as it was run (quoted, no Markdown escapes)
        assert "--set 'output.pretty_name=${source_name} - a | b'" in card
    assert main(["inspect", str(tmp_path / "trec_votes")]) == 0
    assert "rebuild: mmweak curate wrench_votes.yaml --set data.source=" in capsys.readouterr().out
    # a card rendered again from the folder (a new mmweak, another title) still says how it was built
    assert main(["card", str(tmp_path / "trec_votes"), "--pretty-name", "again"]) == 0
    card = (tmp_path / "trec_votes" / "README.md").read_text()
    assert "This dataset was built by `mmweak curate`" in card and "--set 'output.pretty_name=" in card


def test_labels_refitted_outside_the_recipe_drop_its_rebuild_command_and_keep_the_title(tmp_path, capsys):
    """`mmweak aggregate` on a curated folder makes other labels than the recorded recipe did: its card must not say
    the recipe rebuilds them. The title stays, as it does when `mmweak card` renders the card again."""
    out = tmp_path / "trec"
    assert main(["curate", str(RECIPES / "wrench_votes.yaml"), "--set", f"data.source={_shared('wrench', 'trec')}",
                 "--set", f"output.folder={out}"]) == 0
    assert "This dataset was built by `mmweak curate`" in (out / "README.md").read_text()
    assert main(["aggregate", str(out), "--out", str(tmp_path / "again"), "--gold", "label"]) == 0
    card = (tmp_path / "again" / "README.md").read_text()
    assert "pretty_name: trec (WRENCH LF votes, aggregated)\n" in card and "\n# trec \\(WRENCH LF votes, aggregated\\)\n" in card
    assert "mmweak curate" not in card and "recipe:" not in card.split("---")[1]
    capsys.readouterr()
    assert main(["inspect", str(tmp_path / "again")]) == 0
    assert "rebuild:" not in capsys.readouterr().out
    assert main(["card", str(out)]) == 0  # rendered again in place: the same title, the recipe still its own
    card = (out / "README.md").read_text()
    assert "\n# trec \\(WRENCH LF votes, aggregated\\)\n" in card and "This dataset was built by `mmweak curate`" in card


def test_a_run_rebuilt_from_its_card_records_the_same_recipe(tmp_path, capsys):
    """Save the card's recipe text as the file it names, run the card's command: the same text, assignments and hash."""
    out = tmp_path / "out"
    assert main(["curate", str(RECIPES / "wrench_votes.yaml"), "--set", f"data.source={_shared('wrench', 'youtube')}",
                 "--set", f"output.folder={out}", "--set", "output.pretty_name=a | b"]) == 0
    capsys.readouterr()

    def recorded() -> dict:
        return yaml.safe_load((out / "README.md").read_text().split("---")[1])["weak_supervision"]["recipe"]

    first = recorded()
    assert first["text"] == (RECIPES / "wrench_votes.yaml").read_text()  # the file as read; the command has the --set
    rebuild = tmp_path / "again" / first["file"]
    rebuild.parent.mkdir()
    rebuild.write_text(first["text"])
    command = (out / "README.md").read_text().split("```bash\n")[1].split("\n```")[0]
    args = shlex.split(command)
    assert args[:3] == ["mmweak", "curate", "wrench_votes.yaml"]  # the name the card says to save it under
    assert main(["curate", str(rebuild), *args[3:]]) == 0, capsys.readouterr().err
    again = recorded()
    assert {k: again[k] for k in ("sha256", "text", "overrides")} == {k: first[k] for k in ("sha256", "text", "overrides")}
    # the hash still tells the run apart from one with other assignments, or none
    plain = load_recipe(rebuild)
    assert plain.sha256 != first["sha256"]
    for o in first["overrides"]:
        set_value(plain, o)
    assert plain.sha256 == first["sha256"]


def test_the_recipe_hash_tells_a_set_from_a_comment_and_secrets_stay_out_of_the_record():
    text = "data: {source: x}\ntasks: {t: {labels: [a, b]}}\nlfs: [{ref: m:f}]"
    run = parse_recipe(text)
    set_value(run, "data.source=y")
    assert parse_recipe(text + "\n# --set data.source=y").sha256 != run.sha256  # a comment is not an assignment
    for assignment in ("data.params={token: hf_abcdefgh}", "data.params.token.value=x",
                       "data.params.headers.X=Bearer abc", "data.params.key=hf_abcdefgh12"):
        r = parse_recipe(text)
        set_value(r, assignment)
        assert r.overrides == [assignment.partition("=")[0] + "=<redacted>"], assignment
        assert "abc" not in r.record_entry().get("overrides", [""])[0]


def test_the_f1_rule_asked_through_the_model_or_a_class_name_is_the_one_said(tmp_path):
    """A recipe's label model set for the F1 rule kept it (aggregate reset it to argmax), and the F1 printed is of
    the class the record says was fitted for, however ``pos_label`` named it."""
    said: list[str] = []
    by_model = curate(load_recipe(RECIPES / "wrench_votes.yaml"), say=said.append,
                      overrides=[f"data.source={_shared('wrench', 'census')}", "label_model.params.objective=f1",
                                 "output.folder=null"])
    by_name = curate(load_recipe(RECIPES / "wrench_votes.yaml"), say=lambda line: None,
                     overrides=[f"data.source={_shared('wrench', 'census')}", "aggregate.objective=f1",
                                "aggregate.pos_label=positive", "output.folder=null"])
    assert by_model.metrics["target"]["test"]["f1"] == by_name.metrics["target"]["test"]["f1"]
    assert round(100 * by_model.metrics["target"]["test"]["f1"], 2) == 62.12  # the default's F1 in accuracy.md
    assert any("F1 of 'positive' 0.6212" in line for line in said)


def test_an_f1_rule_that_labels_every_row_positive_is_said_so(tmp_path, capsys):
    """basketball: EBCC's F1 cut sits below every row's probability, so the F1 rule labels all 17,970 training rows
    positive (an F1 of 2p/(1+p), 18.29 on test, above every published method): aggregate warns, the card says it."""
    with pytest.warns(UserWarning, match=r"the F1 rule labels 100\.0% of split 'train' 'positive'.*do not tell"):
        result = curate(load_recipe(RECIPES / "wrench_votes.yaml"), say=lambda line: None,
                        overrides=[f"data.source={_shared('wrench', 'basketball')}", "aggregate.objective=f1",
                                   f"output.folder={tmp_path / 'bb'}"])
    assert set(np.asarray(result.dataset["train"]["target_label"]).tolist()) == {1}
    card = (tmp_path / "bb" / "README.md").read_text()
    assert "**On the fit split it labels 100.0% of the rows `positive`**" in card
    assert main(["inspect", str(tmp_path / "bb")]) == 0  # the F1 the labels were fitted for, as curate printed it
    test_row = next(line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("test"))
    f1 = round(result.metrics["target"]["test"]["f1"], 4)
    assert f1 == 0.1829 and f"{f1:.4f}" in test_row.split()  # next to accuracy, not macro-F1
    # the F1 baseline curate prints: majority vote's F1 as results/train_splits.md and accuracy.md have it
    assert [round(100 * result.metrics["target"][s]["majority_f1"], 2) for s in ("train", "validation", "test")] == \
        [28.79, 16.11, 16.58]
    # each beside majority vote's, whole however narrow the terminal (a pipe is 80 columns)
    assert [c.strip() for c in test_row.split("│")][2:6] == ["0.1007", "0.7046", "0.1829", "0.1658"]
    # and the card, in its table and its YAML, next to the labels' F1 (not only majority vote's accuracy)
    assert "| F1 (positive) | majority vote's F1 |" in card and "| test | 1222 | 0.101 | 0.705 | 0.101 | 1.000 | " \
        "0.091 | 0.183 | 0.166 |" in card
    quality = DatasetCard.load(tmp_path / "bb" / "README.md").data.weak_supervision["tasks"][0]["quality"]["splits"]
    assert [round(quality[s]["majority_vote_f1"], 4) for s in ("train", "validation", "test")] == \
        [0.2879, 0.1611, 0.1658]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # census's F1 labels rank its rows: no such warning
        curate(load_recipe(RECIPES / "wrench_votes.yaml"), say=lambda line: None,
               overrides=[f"data.source={_shared('wrench', 'census')}", "aggregate.objective=f1", "output.folder=null"])


def test_one_gold_column_for_two_tasks_is_refused_at_the_recipe_line():
    base = ("data: {source: x}\ntasks: {spam: {labels: [ham, spam]}, topic: {labels: [a, b, c]}}\n"
            "annotators: [{task: spam, column: a}, {task: topic, column: b}]\naggregate: {gold: %s}\n")
    with pytest.raises(RecipeError, match=r"<recipe>:4: aggregate\.gold: gold column 'label' for 2 tasks \(spam, "
                                          r"topic\): a gold column holds one task's labels; map each task to its own, "
                                          r"e\.g\. gold: \{spam: label\}"):
        parse_recipe(base % "label")
    assert parse_recipe(base % "{spam: label}").section("aggregate")["gold"] == {"spam": "label"}


def test_a_refit_as_recorded_keeps_the_model_objective_and_class_the_folder_was_fitted_with(tmp_path, capsys):
    """A basketball folder fitted with EBCC for the F1 of 'positive' came back from `mmweak aggregate FOLDER` as the
    default's argmax labels (test accuracy 0.10 -> 0.86, another member), though it said it refitted "as the folder
    was fitted"; `mmweak value` did keep them."""
    out = tmp_path / "bb"
    assert main(["curate", str(RECIPES / "wrench_votes.yaml"), "--set", f"data.source={_shared('wrench', 'basketball')}",
                 "--set", "aggregate.objective=f1", "--set", "label_model.name=ebcc", "--set",
                 f"output.folder={out}"]) == 0
    capsys.readouterr()
    assert main(["aggregate", str(out), "--out", str(tmp_path / "again")]) == 0
    assert ("fit settings as the folder was fitted: target: model ebcc, objective f1 of class 'positive'"
            in capsys.readouterr().out)
    (first, _), (again, _) = (mmweak.load_curated(p) for p in (out, tmp_path / "again"))
    for split in first:
        assert again[split]["target_label"] == first[split]["target_label"]
        assert again[split]["target_probs"] == first[split]["target_probs"]
    fit = mmweak.provenance.read_record(again)["tasks"]["target"]["label_model"]
    assert (fit["model"], fit["fit"]["objective"], fit["fit"]["pos_label"]) == ("ebcc", "f1", 1)
    # what the command line gives wins; --votes-only takes the defaults
    assert main(["aggregate", str(out), "--out", str(tmp_path / "acc"), "--objective", "accuracy"]) == 0
    acc = mmweak.provenance.read_record(mmweak.load_curated(tmp_path / "acc")[0])["tasks"]["target"]["label_model"]
    assert (acc["model"], acc["fit"]["objective"]) == ("ebcc", "accuracy")
    assert main(["aggregate", str(out), "--out", str(tmp_path / "plain"), "--votes-only"]) == 0
    plain = mmweak.provenance.read_record(mmweak.load_curated(tmp_path / "plain")[0])["tasks"]["target"]
    assert (plain["label_model"]["model"], plain["label_model"]["fit"]["objective"]) == ("auto", "accuracy")
