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
    assert selection_line("t", {"model": "majority", "params": {}, "state": {}}) is None
    assert selection_line("t", None) is None


def test_the_rebuild_command_quotes_what_a_shell_would_misread():
    cmd = rebuild_command(["output.pretty_name=a `b` | c", "data.source=x y", "output.pretty_name=l1\nl2"])
    assert cmd == ("mmweak curate RECIPE.yaml --set 'output.pretty_name=a `b` | c' --set 'data.source=x y' "
                   "--set 'output.pretty_name=l1\nl2'")
    assert rebuild_command([], "my recipe.yaml") == "mmweak curate 'my recipe.yaml'"
