"""`mmweak curate recipe.yaml`, the stage commands, recipe validation errors and the LF inner-loop tools."""

from __future__ import annotations

import json
import re
import sys
import uuid

import datasets
import numpy as np
import pytest
from fakes import hub_server as hubsrv
from paths import ROOT

import mmweak
from mmweak.cli import main
from mmweak.lf_tools import coverage_gaps, label_buckets, marginal_value, rows_where, show
from mmweak.recipe import RecipeError, load_recipe, parse_recipe

YOUTUBE = ROOT / "recipes" / "youtube_spam.yaml"
WRENCH_YOUTUBE = ROOT.parent / "shared" / "data" / "wrench" / "youtube"

TEXT_RECIPE = """\
version: 1
data:
  source: {source}
  columns: [text, label]
tasks:
  spam: {{labels: [ham, spam]}}
lfs:
  - lf: KeywordLF
    name: subscribe
    task: spam
    label: spam
    keywords: [subscribe, my channel, check out]
  - lf: RegexLF
    name: link
    task: spam
    label: spam
    pattern: 'https?://|\\.com\\b'
  - lf: LengthLF
    name: short
    task: spam
    label: ham
    max_words: 6
aggregate: {{gold: label}}
output:
  folder: {out}
  overwrite: true
"""


@pytest.fixture(scope="module")
def youtube_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("yt") / "curated"
    code = main(["curate", str(YOUTUBE), "--set", f"output.folder={out}"])
    assert code == 0
    return out


def test_youtube_yaml_builds_exactly_the_scripts_lfs():
    sys.path.insert(0, str(ROOT))
    import recipes.youtube_spam as script

    lfs = load_recipe(YOUTUBE).build_lfs()
    assert [lf.name for lf in lfs] == [lf.name for lf in script.LFS]
    assert [lf.fingerprint() for lf in lfs] == [lf.fingerprint() for lf in script.LFS]


def test_youtube_yaml_through_the_cli_matches_the_script(youtube_run, tmp_path, capsys):
    sys.path.insert(0, str(ROOT))
    import recipes.youtube_spam as script

    capsys.readouterr()
    metrics = script.main(["--out", str(tmp_path / "script"), "--overwrite"])
    printed = capsys.readouterr().out
    # its first table is a fit without gold, its last line the curated labels': the heading says which is which
    assert "auto and majority vote, each fitted on train's votes alone (no gold;" in printed
    assert f"test        coverage 0.988  auto acc {metrics['auto']['test']:.4f}" in printed
    ours, tasks = mmweak.load_curated(youtube_run)
    theirs, _ = mmweak.load_curated(tmp_path / "script")
    for split in ("train", "validation", "test"):
        assert ours[split]["spam_label"] == theirs[split]["spam_label"]
        np.testing.assert_allclose(np.asarray(ours[split]["spam_probs"]), np.asarray(theirs[split]["spam_probs"]))
    strict = mmweak.analysis.label_metrics(ours["test"]["spam_label"], ours["test"]["label"], 2)["accuracy"]
    assert strict == pytest.approx(metrics["curated_strict"]) and strict > 0.95
    card = (youtube_run / "README.md").read_text()
    assert "mmweak curate youtube_spam.yaml" in card and "save it as `youtube_spam.yaml`" in card
    ws = datasets.load_dataset  # noqa: F841  (the folder is a plain Hub-layout dataset too)
    assert len(datasets.load_dataset(str(youtube_run))["test"]) == 250


def test_inspect_and_report_and_lf_tools_on_the_curated_folder(youtube_run, capsys):
    assert main(["inspect", str(youtube_run)]) == 0
    out = capsys.readouterr().out
    assert "task spam: 0=ham, 1=spam" in out and "has_link" in out and "recipe: youtube_spam.yaml" in out
    assert f"--set output.folder={youtube_run}" in out  # the run's overrides, as the card's rebuild command has them
    assert "validation" in out and "test" in out  # quality rows
    assert main(["report", str(youtube_run), "--split", "validation", "--gold", "label"]) == 0
    assert "LF summary — task 'spam', split 'validation'" in capsys.readouterr().out
    assert main(["buckets", str(youtube_run), "--lf", "has_link", "--vs", "label_model", "--split", "test"]) == 0
    out = capsys.readouterr().out
    assert "has_link=spam, label_model=spam" in out and "text=" in out
    assert main(["gaps", str(youtube_run), "--n", "3"]) == 0
    assert "rows (" in capsys.readouterr().out
    assert main(["value", str(youtube_run)]) == 0  # the recorded gold column, label model and seed
    out = capsys.readouterr().out
    assert "label model auto (chose majority+dawid_skene), seed 0, objective accuracy, fitted on train's votes " \
        "alone (no gold); scored on validation's 120 gold rows" in out  # why it can differ from the curated labels
    assert "all LFs: accuracy 0.9583, coverage 0.992" in out
    # the labels used those rows as gold dev rows, the refits do not: said, with the labels' own score there
    assert "note: the folder's labels were fitted with 120 gold dev rows of 'validation' and score 0.9667 on these " \
        "rows; the refits see no gold" in out
    # leaving no_promotion out changes the member too, which the row says; its change is 14 of 120 rows, ± 0.034
    assert re.search(r"no_promotion\s+│ 0\.8417\s+│ \+0\.1167\s+│ 0\.0339 .*│ majority\+ebcc", out), out
    assert main(["value", str(youtube_run), "--model", "majority"]) == 0
    assert "label model majority, seed 0" in (out := capsys.readouterr().out) and "refit chose" not in out
    # the same figures for scripts: one JSON document each
    assert main(["value", str(youtube_run), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["model"], doc["eval_split"], doc["gold"], doc["rows"][0]["accuracy"]) == ("auto", "validation",
                                                                                         "label", 0.9583333333333334)
    promo = next(r for r in doc["rows"] if r["lf"] == "no_promotion")
    assert (round(promo["delta_accuracy"], 4), promo["member"]) == (0.1167, "majority+ebcc")
    assert main(["report", str(youtube_run), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["task"], doc["split"], doc["member"], doc["classes"]) == ("spam", "train", "dawid_skene",
                                                                          ["ham", "spam"])
    assert [r["lf"] for r in doc["lfs"]][:2] == ["has_link", "check_out"] and doc["labels"]["rows"] == 1686
    for args, message in [
        (["value", str(youtube_run), "--eval-split", "dev"],
         "--eval-split: unknown split 'dev'; the dataset has ['train', 'validation', 'test']"),
        (["value", str(youtube_run), "--gold", "nosuch"], "--gold: no column 'nosuch' in any split"),
        (["value", str(youtube_run), "--seed", "-1"], "--seed must be 0 or more, got -1"),
        (["value", str(youtube_run), "--model", "nope"], "--model: unknown label model 'nope'"),
        (["buckets", str(youtube_run), "--lf", "nope"], "--lf: task 'spam' has no LF 'nope'"),
        (["buckets", str(youtube_run), "--lf", "has_link", "--vs", "nope"], "--vs: task 'spam' has no LF 'nope'"),
        (["buckets", str(youtube_run), "--lf", "has_link", "--split", "nosuch"], "--split: unknown split 'nosuch'"),
        (["buckets", str(youtube_run), "--lf", "has_link", "--show", "-1"], "--show must be 0 or more, got -1"),
        (["gaps", str(youtube_run), "--split", "nosuch"], "--split: unknown split 'nosuch'"),
        (["gaps", str(youtube_run), "--n", "-1"], "--n must be 0 or more, got -1"),
        (["report", str(youtube_run), "--split", "nosuch"], "--split: unknown split 'nosuch'"),
        (["report", str(youtube_run), "--gold", "nosuch"], "--gold: split 'train' has no column 'nosuch'"),
        (["inspect", str(youtube_run.parent)], "is no curated folder (it has no README.md dataset card)"),
    ]:
        assert main(args) == 2, args  # bad usage: one line, no traceback
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (args, err)


def test_inspect_marks_the_split_the_label_model_saw_and_names_the_member(youtube_run, capsys):
    assert main(["inspect", str(youtube_run)]) == 0
    out = capsys.readouterr().out
    assert "label model auto (chose dawid_skene) on train (1686 rows, seed 0, objective accuracy)" in out
    assert re.search(r"validation †\s+│ 120 ", out) and "† the label model saw this split's gold" in out
    assert not re.search(r"test †", out)


def test_rerun_after_editing_one_lf_recomputes_only_it(tmp_path, capsys):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(TEXT_RECIPE.format(source=WRENCH_YOUTUBE, out=tmp_path / "out"))
    assert main(["curate", str(recipe)]) == 0
    recipe.write_text(TEXT_RECIPE.format(source=WRENCH_YOUTUBE, out=tmp_path / "out").replace("max_words: 6", "max_words: 7"))
    capsys.readouterr()
    assert main(["curate", str(recipe)]) == 0
    assert "spam: 3 LFs on train — 2 cached, 1 computed" in capsys.readouterr().out


@pytest.mark.parametrize("edit, message", [
    (("KeywordLF", "KeywordLf"), r"r\.yaml:8: lfs\[0\]\.lf: unknown LF 'KeywordLf' \(did you mean 'KeywordLF'\?\)"),
    (("max_words: 6", "max_words: [6]"),
     r"r\.yaml:22: lfs\[2\]\.max_words: bad parameter 'max_words': expected int or null, got \[6\] \(list\)"),
    (("keywords: [subscribe", "kewords: [subscribe"),
     r"r\.yaml:12: lfs\[0\]\.kewords: unknown parameter 'kewords' of KeywordLF \(did you mean 'keywords'\?\)"),
    (("name: link\n    task: spam", "name: link\n    column: body\n    task: spam"),
     r"r\.yaml:15: lfs\[1\]\.column: LF 'link' reads column 'body', which split 'train' does not have"),
    (("aggregate: {gold: label}", "aggregate: {gold: label, fit_split: trian}"),
     r"r\.yaml:23: aggregate\.fit_split: unknown split 'trian'; the data has \['train', 'validation', 'test'\]"),
    (("aggregate: {gold: label}", "aggregate: {gold: label, seed: one}"),
     r"r\.yaml:23: aggregate\.seed: expected int, got 'one'"),
    (("task: spam\n    label: spam\n    keywords", "task: sapm\n    label: spam\n    keywords"),
     r"r\.yaml:10: lfs\[0\]\.task: unknown task 'sapm'"),
    (("version: 1", "version: 1\noutptu: {}"), r"r\.yaml:2: outptu: unknown section 'outptu' \(did you mean 'output'\?\)"),
])
def test_bad_recipes_give_one_line_naming_the_place(tmp_path, capsys, edit, message):
    recipe = tmp_path / "r.yaml"
    text = TEXT_RECIPE.format(source=WRENCH_YOUTUBE, out=tmp_path / "out")
    assert edit[0] in text
    recipe.write_text(text.replace(edit[0], edit[1], 1))
    assert main(["curate", str(recipe), "--dry-run"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    import re

    assert re.search(message, err), err


def test_an_lf_parameter_typo_is_found_before_the_data_is_read(tmp_path, capsys):
    """The data could take minutes (or Hub retries) before a misspelt LF parameter was said, and its error hid it."""
    recipe = tmp_path / "r.yaml"
    text = TEXT_RECIPE.format(source=tmp_path / "nowhere", out=tmp_path / "out")
    recipe.write_text(text.replace("keywords: [subscribe", "kewords: [subscribe", 1))
    assert main(["curate", str(recipe), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "lfs[0].kewords: unknown parameter 'kewords' of KeywordLF (did you mean 'keywords'?)" in err
    assert "nowhere" not in err


def test_dry_run_writes_nothing_and_cli_exit_codes(tmp_path, capsys):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(TEXT_RECIPE.format(source=WRENCH_YOUTUBE, out=tmp_path / "out"))
    assert main(["curate", str(recipe), "--dry-run"]) == 0
    assert "dry run" in capsys.readouterr().out and not (tmp_path / "out").exists()
    # the label model and its decision rule are checked before any LF runs, dry run or not (they failed after
    # the apply step, exit 1, naming no recipe line)
    for setting, said in (("label_model.name=nosuch", r"label_model\.name: unknown label model 'nosuch'"),
                          ("label_model.params={foo: 1}", r"label_model\.params: bad label-model parameter: auto has "
                                                          r"no hyper-parameter 'foo'"),
                          ("aggregate.pos_label=spamm", r"aggregate\.pos_label: pos_label must be a class of task")):
        extra = ["--set", "aggregate.objective=f1"] if "pos_label" in setting else []
        for dry in (["--dry-run"], []):
            assert main(["curate", str(recipe), "--set", setting, *extra, *dry]) == 2, setting
            out, err = capsys.readouterr()
            assert re.search(rf"r\.yaml:\d+: {said}", err), err
            assert "LFs on" not in out and not (tmp_path / "out").exists()  # no LF ran, nothing was written
    assert main(["curate", str(tmp_path / "missing.yaml")]) == 2
    assert main(["no-such-command"]) == 2
    assert main(["--help"]) == 0
    assert "curate" in capsys.readouterr().out
    assert main(["curate", "--help"]) == 0
    assert "--dry-run" in capsys.readouterr().out
    # a job that fails on its data (not the recipe) exits 1
    assert main(["inspect", str(tmp_path)]) in (1, 2)
    assert main(["aggregate", str(tmp_path / "no-such-folder"), "--out", str(tmp_path / "o")]) == 2  # a typo: usage
    assert "no curated folder at" in capsys.readouterr().err
    # a file missing while the job runs fails the job (exit 1, named with its type), it is no bad usage (it was 2)
    import mmweak.curated

    def gone(*args, **kwargs):
        raise FileNotFoundError(2, "No such file or directory", "/data/img/0042.png")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mmweak.curated, "write_repo_folder", gone)
        assert main(["curate", str(recipe)]) == 1
    assert "mmweak: error: FileNotFoundError: [Errno 2] No such file or directory: '/data/img/0042.png'" in (
        capsys.readouterr().err)
    # Ctrl-C is no success (it exited 0, so `mmweak curate ... && mmweak push ...` went on to push)
    import mmweak.curate

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mmweak.curate, "curate", interrupted)
        assert main(["curate", str(recipe)]) == 130
    assert "mmweak: interrupted" in capsys.readouterr().err
    # `python -m mmweak` is the same command line (it was "No module named mmweak.__main__")
    import subprocess

    run = subprocess.run([sys.executable, "-m", "mmweak", "no-such-command"], capture_output=True, text=True,
                         cwd=str(ROOT))
    assert run.returncode == 2 and "No such command 'no-such-command'" in run.stderr


def test_yaml_syntax_error_names_the_line(tmp_path):
    with pytest.raises(RecipeError, match=r"<recipe>:4: not valid YAML"):
        parse_recipe("data: {source: x}\ntasks: {a: {labels: [x, y]}}\nlfs: [\n  - {lf: KeywordLF")


def _toy_lfs():
    spam = mmweak.Task("spam", ["ham", "spam"])
    link = mmweak.labeling_function(task=spam, inputs="text", name="link")(
        lambda b: [1 if "http" in t else -1 for t in b["text"]])
    short = mmweak.labeling_function(task=spam, inputs="text", name="short")(
        lambda b: [0 if len(t) < 6 else -1 for t in b["text"]])
    texts = ["http://a", "hi", "some long text", "http", "yo", "nothing to see"]
    return spam, [link, short], datasets.Dataset.from_dict({"text": texts, "label": [1, 0, 0, 1, 0, 1]})


def _curated_toy():
    spam, lfs, ds = _toy_lfs()
    return spam, mmweak.aggregate(mmweak.apply_lfs(ds, lfs), model="majority")


def test_lf_tools_api():
    spam, ds = _curated_toy()
    assert rows_where(ds, spam, "link", "fires").tolist() == [0, 3]
    assert rows_where(ds, spam, "short", "fires").tolist() == [1, 3, 4]
    assert rows_where(ds, spam, "short", "wrong", gold="label").tolist() == [3]  # "http" is short but spam
    assert rows_where(ds, spam, "link", "disagrees", versus="short").tolist() == [3]
    assert coverage_gaps(ds, spam).tolist() == [2, 5]
    b = label_buckets(ds, spam, "link", versus="gold", gold="label")
    assert b[(1, 1)].tolist() == [0, 3] and b[(-1, 1)].tolist() == [5]
    assert show(ds, [2], ["text"]) == [{"row": 2, "text": "some long text"}]
    value = marginal_value(ds, spam, evaluate=ds, gold="label", model="majority")
    assert value[0]["lf"] == "(all LFs)" and {r["lf"] for r in value[1:]} == {"link", "short"}
    link = next(r for r in value if r["lf"] == "link")
    assert link["delta_coverage"] == pytest.approx(1 / 6)  # without it, row 0 loses its only vote
    with pytest.raises(ValueError, match="has no LF 'nope'"):
        rows_where(ds, spam, "nope", "fires")


def test_marginal_value_refits_the_model_and_rules_the_labels_were_made_with():
    # it refitted the default with argmax labels whatever the dataset's labels were made with
    spam, ds = _curated_toy()
    for kwargs in ({"model": "majority"}, {"model": "majority", "fill_abstains": "prior"},
                   {"model": "one_coin", "tie_break": "abstain"}):
        made = mmweak.aggregate(ds, gold="label", **kwargs)
        labels_acc = mmweak.analysis.label_metrics(made["spam_label"], made["label"], 2)
        value = marginal_value(made, spam, evaluate=made)  # the recorded gold column, model and rules
        assert (value[0]["accuracy"], value[0]["coverage"]) == (labels_acc["accuracy"], labels_acc["coverage"]), kwargs
    assert value[0]["member"] is None and value[0]["rows"] == 6
    auto = marginal_value(mmweak.aggregate(ds, model="auto", gold="label"), spam, evaluate=ds)
    assert all(r["member"] for r in auto)  # what the default chose in each refit
    with pytest.raises(ValueError, match="records no gold column"):
        marginal_value(mmweak.aggregate(ds.remove_columns("label"), model="majority"), spam, evaluate=ds)


def test_fill_abstains_with_the_prior_is_explicit_and_in_the_card(tmp_path):
    spam, ds = _curated_toy()
    filled = mmweak.aggregate(ds, model="majority", fill_abstains="prior")
    labels = np.asarray(filled["spam_label"])
    assert (labels[[2, 5]] >= 0).all() and (np.asarray(ds["spam_label"])[[2, 5]] == -1).all()
    out = mmweak.save_curated(filled, tmp_path / "c")
    card = (out / "README.md").read_text()
    assert "Rows where no LF voted are labelled with the class the label model finds most likely for them (`ham`)" \
        in card and "2 rows in" in card


def test_filled_labels_follow_the_models_probabilities_for_rows_without_a_vote(tmp_path):
    # The dev split is mostly ham, but its rows without a vote are all spam, so the model's probabilities for such rows
    # say spam although its class balance says ham: the filled labels agree with the probability column next to them
    # (they used to take the class balance's ham), and the card names spam.
    from mmweak.provenance import read_record

    _, lfs, train = _toy_lfs()
    dev = datasets.Dataset.from_dict({"text": ["long text number %d" % i for i in range(3)] + ["hi", "yo"] * 4,
                                      "label": [1] * 3 + [0] * 8})
    ds = mmweak.apply_lfs(datasets.DatasetDict({"train": train, "validation": dev}), lfs)
    filled = mmweak.aggregate(ds, model="majority", gold="label", fill_abstains="prior")
    train = filled["train"]
    probs, labels = np.asarray(train["spam_probs"]), np.asarray(train["spam_label"])
    balance = read_record(filled)["tasks"]["spam"]["label_model"]["class_balance"]
    assert probs[2, 1] > 0.5 and balance[0] > balance[1]
    assert labels[[2, 5]].tolist() == [1, 1] and (labels[[2, 5]] == probs[[2, 5]].argmax(axis=1)).all()
    card = (mmweak.save_curated(filled, tmp_path / "c") / "README.md").read_text()
    assert "finds most likely for them (`spam`)" in card


def test_curate_pushes_where_the_command_line_says(youtube_run, hub, tmp_path, capsys):
    repo = f"{hubsrv.DEFAULT_USER}/yt-{uuid.uuid4().hex[:8]}"
    assert main(["curate", str(YOUTUBE), "--set", f"output.folder={tmp_path / 'c'}", "--push-to-hub", repo]) == 0
    assert "pushed to" in capsys.readouterr().out
    files = hub.files(repo)
    assert "README.md" in files and any(f.startswith("data/test-") for f in files)
    assert "youtube_spam.yaml" in files["README.md"].decode()  # the recipe travels with the pushed card


def test_a_votes_only_folder_is_met_with_the_command_to_run_next(tmp_path, capsys):
    """Before any label model: inspect said "no gold labels" and buckets (its default --vs label_model) crashed with
    exit 1 and a Python call to make; both now name `mmweak aggregate`."""
    spam = mmweak.Task("spam", ["ham", "spam"])
    lfs = [mmweak.labeling_function(task=spam, inputs="text", name="link")(
        lambda b: [1 if "http" in t else -1 for t in b["text"]])]
    ds = datasets.Dataset.from_dict({"text": ["http a", "hi", "ok http", "yo"] * 5, "label": [1, 0, 1, 0] * 5})
    folder = mmweak.save_curated(mmweak.apply_lfs(ds, lfs), tmp_path / "votes")
    assert main(["inspect", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"no label model fitted yet: run `mmweak aggregate {folder} --out FOLDER`" in out
    assert "no gold labels" not in out
    assert main(["buckets", str(folder), "--lf", "link"]) == 2
    err = capsys.readouterr().err
    assert ("--vs label_model: split 'train' has no 'spam_label' column; fit a label model first (mmweak.aggregate, "
            "or `mmweak aggregate FOLDER --out NEW_FOLDER` on a saved folder)") in err and "Traceback" not in err
    assert main(["buckets", str(folder), "--lf", "link", "--vs", "gold", "--gold", "label"]) == 0
    assert "link=spam, gold=spam: 10 rows" in capsys.readouterr().out
