"""The one line `mmweak curate` and `mmweak aggregate` print about the default label model's choice."""

from __future__ import annotations

from mmweak.card import rebuild_command, selection_line


def _lm(**state):
    return {"model": "auto", "params": {"z": 0.5}, "state": {
        "selection_by_": "dev", "cv_scores_": {"dawid_skene": [0.05, 0.02], "ebcc": [0.04, 0.01]}, **state}}


def test_each_kind_of_choice_is_said_with_its_evidence():
    assert selection_line("t", _lm(selected_="dawid_skene")) == (
        "t: the default label model chose dawid_skene on gold dev rows (gain over majority vote +0.0500 ± 0.0200 "
        "per row)")
    assert selection_line("t", _lm(selected_="ebcc", dev_leader_="dawid_skene")).endswith(
        "(gain over majority vote +0.0400 ± 0.0100 per row), preferred to dawid_skene by the held-out votes' "
        "second opinion")
    assert selection_line("t", _lm(selected_="majority+ebcc", selection_by_="heldout")) == (
        "t: the default label model kept majority vote, ties broken by ebcc, on held-out votes (best challenger "
        "dawid_skene +0.0500 ± 0.0200 nats per row, not 0.5 standard errors clear of zero)")
    unscored = _lm(selected_="majority", selection_by_="heldout", cv_scores_={"ebcc": [0.0, 0.0]})
    assert selection_line("t", unscored) == (
        "t: the default label model kept majority vote on held-out votes (no member could be scored: no LF votes "
        "more than one class, and there are no gold dev rows)")
    few = {**unscored, "params": {**unscored["params"], "min_dev": 30}, "fit": {"dev_rows": 4}}
    assert selection_line("t", few).endswith(  # gold dev rows were given, too few to score with: not "no gold"
        "(no member could be scored: no LF votes more than one class, and its 4 gold dev rows are fewer than the 30 "
        "it scores members with)")
    assert selection_line("t", {"model": "majority", "params": {}, "state": {}}) is None
    assert selection_line("t", None) is None


def test_a_challenger_out_for_its_dev_accuracy_is_said_so_not_called_unclear():
    """census: the weighted vote's gain (+0.0652 ± 0.0072) is 0.5 standard errors clear of zero, yet majority vote
    was kept because its dev labels are less accurate; the line said "not 0.5 standard errors clear of zero"."""
    kept = _lm(selected_="majority+dawid_skene", below_floor_="dawid_skene")
    assert selection_line("t", kept) == (
        "t: the default label model kept majority vote, ties broken by dawid_skene, on gold dev rows (best challenger "
        "dawid_skene +0.0500 ± 0.0200 per row, ruled out: its dev accuracy shown below majority vote's; next ebcc "
        "+0.0400 ± 0.0100, not 0.5 standard errors clear of zero)")
    all_out = _lm(selected_="majority+dawid_skene", below_floor_="dawid_skene,ebcc")
    assert selection_line("t", all_out).endswith("ruled out: its dev accuracy shown below majority vote's)")
    assert selection_line("t", _lm(selected_="ebcc", below_floor_="dawid_skene")).endswith(
        "(gain over majority vote +0.0400 ± 0.0100 per row), passing over dawid_skene (its dev accuracy shown below "
        "majority vote's)")


def test_the_default_records_which_challengers_its_dev_accuracy_floor_ruled_out():
    import sys

    import numpy as np
    from paths import ROOT

    from mmweak.labelmodels import LabelModel, create
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import realdata as R

    if not (R.DATA / "wrench" / "census").is_dir():
        import pytest
        pytest.skip("WRENCH data missing")
    w = R.load_wrench("census")
    model = create(cardinality=2).fit(w.train.L, L_dev=w.valid.L, y_dev=w.valid.y)
    assert model.selected_ == "majority+weighted_majority" and "weighted_majority" in model.below_floor_.split(",")
    line = selection_line("target", model.to_dict())
    assert "best challenger weighted_majority +0.0652 ± 0.0072 per row, ruled out" in line
    back = LabelModel.from_dict(model.to_dict())  # the new state saves and loads
    assert back.below_floor_ == model.below_floor_
    assert np.array_equal(back.predict_proba(w.test.L), model.predict_proba(w.test.L))


def test_the_rebuild_command_quotes_what_a_shell_would_misread():
    cmd = rebuild_command(["output.pretty_name=a `b` | c", "data.source=x y", "output.pretty_name=l1\nl2"])
    assert cmd == ("mmweak curate RECIPE.yaml --set 'output.pretty_name=a `b` | c' --set 'data.source=x y' "
                   "--set 'output.pretty_name=l1\nl2'")
    assert rebuild_command([], "my recipe.yaml") == "mmweak curate 'my recipe.yaml'"


def test_too_few_gold_dev_rows_are_said_as_such_in_the_line_and_the_card(tmp_path):
    import datasets

    import mmweak
    from mmweak.card import selection_lines
    from mmweak.provenance import read_record

    t = mmweak.Task("t", ["a", "b"])
    only_a = mmweak.labeling_function(task=t, inputs="x", name="only_a")(
        lambda b: [0 if v % 2 else -1 for v in b["x"]])
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"x": list(range(50))}),
                               "validation": datasets.Dataset.from_dict({"x": list(range(4)), "g": ["b", "a"] * 2})})
    ds = mmweak.aggregate(mmweak.apply_lfs(dd, [only_a]), t, gold="g")
    assert selection_lines(read_record(ds), [t])[0].endswith(
        "and its 4 gold dev rows are fewer than the 30 it scores members with)")
    card = (mmweak.save_curated(ds, tmp_path / "c") / "README.md").read_text()
    assert "its 4 gold dev rows are fewer than the 30 that would decide instead" in card
