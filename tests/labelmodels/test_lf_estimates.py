"""The card's "est. acc." is each LF's accuracy where it votes, as the label model estimates it: comparable with
its accuracy on gold rows for every model (Dawid-Skene's class-averaged parameter gave a one-class LF the prior
of its class: 0.49 for LFs right 90 % of the time)."""

import datasets
import numpy as np
import pytest

import mmweak
from mmweak.labelmodels.lf_estimates import estimated_lf_accuracies


def _one_class_lfs(seed=0, n=3000):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    L = np.full((n, 7), -1)
    for j in range(6):  # three LFs per class, each firing on 40 % of its class's rows and on 4 % of the other's
        k = j % 2
        fire = np.where(y == k, rng.random(n) < 0.4, rng.random(n) < 0.04)
        L[fire, j] = k
    return L, y  # LF 6 never votes


def test_every_model_estimates_an_lfs_accuracy_where_it_votes():
    L, y = _one_class_lfs()
    truth = [float((y[L[:, j] != -1] == L[L[:, j] != -1, j]).mean()) for j in range(6)]
    # (EBCC and one-coin ignore abstains: one-class LFs tell them nothing, and their estimate says so, ~0.5)
    for name in ("dawid_skene", "majority", "auto"):
        m = mmweak.labelmodels.create(name, cardinality=2).fit(L)
        est = estimated_lf_accuracies(m, L)
        assert est[6] is None, name
        np.testing.assert_allclose(est[:6], truth, atol=0.06, err_msg=name)
    ds_param = mmweak.labelmodels.create("dawid_skene", cardinality=2).fit(L).lf_accuracies()
    assert np.all(np.abs(ds_param[:6] - 0.5) < 0.1)  # the class-averaged parameter: the class prior, not this


def test_the_card_shows_the_estimate_and_a_dash_for_an_lf_that_never_votes(tmp_path):
    L, y = _one_class_lfs(1, 600)
    task = mmweak.Task("t", ["a", "b"])
    ds = datasets.Dataset.from_dict({"t_votes": L.tolist(), "y": y.tolist()})
    with pytest.warns(UserWarning, match="was not written by apply_lfs"):
        out = mmweak.aggregate(ds, task, model="dawid_skene", gold="y")
    lm = mmweak.provenance.read_record(out)["tasks"]["t"]["label_model"]
    assert lm["lf_accuracies"][6] is None and min(lm["lf_accuracies"][:6]) > 0.8
    card = (mmweak.save_curated(out, tmp_path / "c") / "README.md").read_text()
    row6 = next(line for line in card.splitlines() if line.startswith("| 6 |"))
    assert row6.split("|")[-3].strip() == "-"  # est. acc. of the LF that never voted


def test_report_describes_the_cards_split_and_prints_no_figures_without_gold(tmp_path, capsys):
    from mmweak.cli import main

    L, y = _one_class_lfs(2, 300)
    task = mmweak.Task("t", ["a", "b"])
    rows = {"t_votes": L.tolist(), "y": [-1] * len(y)}  # a gold column without a gold row
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_dict(rows), "other": datasets.Dataset.from_dict(rows)})
    with pytest.warns(UserWarning, match="was not written by apply_lfs"):
        out = mmweak.aggregate(dd, task, model="dawid_skene", fit_split="other")
    folder = mmweak.save_curated(out, tmp_path / "c")
    assert "measured on the `other` split" in (folder / "README.md").read_text()
    assert main(["report", str(folder), "--gold", "y"]) == 0
    text = capsys.readouterr().out
    assert "split 'other'" in text  # the split the card's LF table describes, not train
    assert "vs gold on 0 rows" not in text  # no gold row: no accuracy, coverage or F1 to print
