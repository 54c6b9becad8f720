import struct
import zlib

import numpy as np
import pytest

from mmweak.analysis import label_metrics, majority_accuracy, voted_rows_accuracy
from mmweak.calibration import (
    bin_edges,
    brier_score,
    calibration_report,
    expected_calibration_error,
    reliability,
    top_label,
)

# Six gold rows whose numbers are worked out by hand below, plus one row without gold (skipped).
PROBS = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.45, 0.55], [0.5, 0.5], [0.99, 0.01]]
GOLD = [0, 1, 1, 0, 1, 0, -1]
# confidence: .9 .8 .7 .6 .55 .5 ; correct: 1 0 1 0 1 .5 (the tie gets half the credit)


def test_top_label_confidence_and_tie_credit():
    conf, correct = top_label(PROBS, GOLD)
    np.testing.assert_allclose(conf, [0.9, 0.8, 0.7, 0.6, 0.55, 0.5])
    assert correct.tolist() == [1.0, 0.0, 1.0, 0.0, 1.0, 0.5]
    _, correct3 = top_label([[0.4, 0.4, 0.2], [0.4, 0.4, 0.2]], [1, 2])
    assert correct3.tolist() == [0.5, 0.0]


def test_ece_equal_width_by_hand():
    r = reliability(PROBS, GOLD, n_bins=10, binning="width")
    assert r.rows == 6
    got = [(b.lower, b.upper, b.count) for b in r.nonempty()]
    assert got == [(0.5, 0.6, 2), (0.6, 0.7, 1), (0.7, 0.8, 1), (0.8, 0.9, 1), (0.9, 1.0, 1)]
    first = r.nonempty()[0]
    assert first.confidence == pytest.approx(0.525) and first.accuracy == pytest.approx(0.75)
    assert first.gap == pytest.approx(0.225)
    # (2 * .225 + .6 + .3 + .8 + .1) / 6
    assert r.ece == pytest.approx(0.375)
    assert r.mce == pytest.approx(0.8)
    assert len(r.bins) == 10 and sum(b.count for b in r.bins) == 6
    assert expected_calibration_error(PROBS, GOLD) == pytest.approx(0.375)


def test_ece_equal_mass_by_hand():
    # Quantile edges of [.5 .55 .6 .7 .8 .9] at 1/3 and 2/3: 0.58333 and 0.73333.
    r = reliability(PROBS, GOLD, n_bins=3, binning="mass")
    assert [b.count for b in r.bins] == [2, 2, 2]
    assert r.bins[1].lower == pytest.approx(0.583333333) and r.bins[2].lower == pytest.approx(0.733333333)
    # gaps .225, |.5 - .65| = .15, |.5 - .85| = .35, equal weights
    assert r.ece == pytest.approx((0.225 + 0.15 + 0.35) / 3)
    assert expected_calibration_error(PROBS, GOLD, n_bins=3, binning="mass") == pytest.approx(0.241666667)


def test_equal_mass_bins_hold_equal_rows_and_keep_ties_together():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.5, 1.0, size=1000)
    probs = np.stack([conf, 1 - conf], axis=1)
    r = reliability(probs, np.zeros(1000, dtype=int), n_bins=10, binning="mass")
    assert [b.count for b in r.bins] == [100] * 10
    # identical confidences: every row lands in one bin, never split by index order
    same = np.tile([[0.7, 0.3]], (50, 1))
    edges = bin_edges(np.full(50, 0.7), 10, "mass")
    assert edges.tolist() == [0.0, 0.7, 1.0]
    r2 = reliability(same, [0] * 35 + [1] * 15, n_bins=10, binning="mass")
    assert [b.count for b in r2.nonempty()] == [50]
    assert r2.ece == pytest.approx(0.0)  # 70% correct at 0.7 confidence: perfectly calibrated


def test_perfect_and_overconfident():
    probs = [[0.8, 0.2]] * 10
    assert expected_calibration_error(probs, [0] * 8 + [1] * 2) == pytest.approx(0.0)
    assert expected_calibration_error(probs, [0] * 5 + [1] * 5) == pytest.approx(0.3)
    assert expected_calibration_error([[1.0, 0.0]] * 4, [0, 0, 0, 0]) == pytest.approx(0.0)  # 1.0 is in the last bin


def test_brier_by_hand_and_matches_label_metrics():
    # (.02 + 1.28 + .18 + .72 + .405 + .5) / 6
    assert brier_score(PROBS, GOLD) == pytest.approx(0.5175)
    assert brier_score([[0.0, 1.0]], [0]) == pytest.approx(2.0)
    assert brier_score([[1 / 3] * 3], [2]) == pytest.approx(2 / 3)
    labels = np.asarray(PROBS).argmax(1)
    m = label_metrics(labels, GOLD, 2, probs=PROBS)
    assert m["brier"] == pytest.approx(0.5175) and m["ece"] == pytest.approx(0.375)


def test_report_and_dict():
    rep = calibration_report(PROBS, GOLD, n_bins=10)
    assert rep.rows == 6 and rep.brier == pytest.approx(0.5175)
    assert rep.ece("width") == pytest.approx(0.375)
    d = rep.to_dict()
    assert set(d) >= {"rows", "brier", "ece_width", "ece_mass", "mce_width", "mce_mass", "n_bins", "bins_width"}
    assert [b["count"] for b in d["bins_width"]] == [2, 1, 1, 1, 1]
    assert d["bins_width"][0] == {"lower": 0.5, "upper": 0.6, "count": 2, "confidence": 0.525, "accuracy": 0.75}


def test_no_gold_and_bad_input():
    rep = calibration_report([[0.5, 0.5]], [-1])
    assert rep.rows == 0 and rep.brier is None and rep.ece("width") is None
    with pytest.raises(ValueError, match="2 rows but y has 1"):
        brier_score([[0.5, 0.5], [1, 0]], [0])
    with pytest.raises(ValueError, match=r"gold y\[1\] = 2 is outside 0..1"):
        brier_score([[0.5, 0.5], [1, 0]], [0, 2])
    with pytest.raises(ValueError, match="row 1 .* not finite"):
        reliability([[0.5, 0.5], [np.nan, 0.5]], [0, 1])
    with pytest.raises(ValueError, match="binning must be one of"):
        reliability(PROBS, GOLD, binning="quantile")
    with pytest.raises(ValueError, match=r"\(n, K\) matrix"):
        brier_score([0.5, 0.5], [0, 1])


# -- plots -------------------------------------------------------------------------------------------

def _png_size_and_text(png: bytes) -> tuple[tuple[int, int], list[bytes]]:
    """(width, height) from IHDR and the keys of every tEXt/iTXt/zTXt chunk."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, size, keys = 8, None, []
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        assert zlib.crc32(kind + data) == struct.unpack(">I", png[pos + 8 + length:pos + 12 + length])[0]
        if kind == b"IHDR":
            size = struct.unpack(">II", data[:8])
        elif kind in (b"tEXt", b"iTXt", b"zTXt"):
            keys.append(data.split(b"\0", 1)[0])
        elif kind == b"tIME":
            keys.append(b"tIME")
        pos += 12 + length
    return size, keys


def test_plots_are_deterministic_fixed_size_and_carry_no_metadata():
    from mmweak import plots

    curves = {"test": reliability(PROBS, GOLD), "validation": reliability(PROBS[:4], GOLD[:4])}
    a = plots.reliability_png(curves, title="t")
    assert a == plots.reliability_png(curves, title="t")
    size, keys = _png_size_and_text(a)
    assert size == (800, 560)  # 8 x 5.6 inches at 100 dpi
    assert b"Software" not in keys and b"tIME" not in keys and b"Creation Time" not in keys
    bars = plots.lf_bars_png(["a", "b", "c"], [0.5, 0.2, 0.1], [0.1, 0.1, 0], [0, 0.1, 0], [0.9, 0.7, None], None)
    assert _png_size_and_text(bars)[0] == (800, round((1.8 + 0.38 * 3) * 100))
    balance = plots.class_balance_png(["ham", "spam"], {"estimated": [0.4, 0.6], "gold": [0.5, 0.5]})
    assert _png_size_and_text(balance)[0] == (800, 360)
    assert bars != balance


def test_the_lf_chart_of_a_wide_crowd_draws_the_lfs_voting_most_and_says_so():
    from mmweak import plots

    m = plots.MAX_PLOTTED_LFS + 124  # a crowd of 164 workers drew a 64-inch chart in 3 s
    lfs = [{"name": f"w{j}", "coverage": (j % 50) / 50, "overlaps": 0.0, "conflicts": 0.0} for j in range(m)]
    task = {"name": "t", "labels": ["a", "b"], "stats_split": "train", "lfs": lfs, "columns": {"probs": "t_probs"}}
    png = plots.task_plots(task)["lfs"]
    assert _png_size_and_text(png)[0] == (800, round((1.8 + 0.38 * plots.MAX_PLOTTED_LFS) * 100))
    chosen, said = plots.plotted_lfs(lfs)
    assert said == f" ({plots.MAX_PLOTTED_LFS} of {m} LFs, those voting on the most rows)"
    cut = sorted((lf["coverage"] for lf in lfs), reverse=True)[plots.MAX_PLOTTED_LFS - 1]
    assert all(lf["coverage"] >= cut for lf in chosen) and [lf["name"] for lf in chosen] == [
        lf["name"] for lf in lfs if lf in chosen]  # the most voting, in the card's order
    small = dict(task, lfs=lfs[:3])
    assert _png_size_and_text(plots.task_plots(small)["lfs"])[0] == (800, round((1.8 + 0.38 * 3) * 100))


def test_plots_leave_matplotlib_state_alone():
    import matplotlib

    from mmweak import plots

    backend = matplotlib.get_backend()
    with matplotlib.rc_context({"lines.linewidth": 7.0}):
        png = plots.reliability_png({"test": reliability(PROBS, GOLD)})
        assert matplotlib.rcParams["lines.linewidth"] == 7.0
    # a user's style does not change our pixels
    assert png == plots.reliability_png({"test": reliability(PROBS, GOLD)})
    assert matplotlib.get_backend() == backend


def test_majority_accuracy_is_the_mean_over_every_coin_for_its_ties():
    """The card's majority-vote figure: the exact mean of majority vote's accuracy over random tie-breaks (rows
    without a vote tied between all K classes), rows without gold skipped."""
    rng = np.random.default_rng(0)
    L = rng.integers(-1, 3, size=(400, 4))
    L[:30] = -1  # rows without a vote
    y = rng.integers(-1, 3, size=400)
    counts = np.stack([(L == k).sum(axis=1) for k in range(3)], axis=1)
    top = counts == counts.max(axis=1, keepdims=True)
    draws = []
    for _ in range(4000):  # majority vote with its ties broken by a coin, scored as a user's labels would be
        pick = np.argmax(np.where(top, rng.random(top.shape), -1.0), axis=1)
        draws.append((pick == y)[y >= 0].mean())
    exact = majority_accuracy(L, y, 3)
    assert abs(exact - np.mean(draws)) < 3 * np.std(draws) / np.sqrt(len(draws))
    assert exact == pytest.approx(np.mean([top[i, y[i]] / top[i].sum() for i in np.flatnonzero(y >= 0)]))
    assert majority_accuracy(L, np.full(400, -1), 3) is None  # no gold, no figure


def test_majority_accuracy_counts_rows_the_labels_leave_unlabelled_as_wrong_for_both():
    """Labels that are plain majority vote with ties abstaining score exactly majority vote's figure."""
    L = np.array([[1, 1, 0], [0, 1, -1], [-1, -1, -1], [0, 0, 1]])
    y = np.array([1, 0, 1, 0])
    labels = np.array([1, -1, -1, 0])  # majority vote, abstaining on its tie and on the row without a vote
    assert majority_accuracy(L, y, 2, labels) == label_metrics(labels, y, 2)["accuracy"] == 0.5
    assert majority_accuracy(L, [1, 0, 5, -3], 2) == pytest.approx((1 + 0.5 + 0) / 3)  # 5 is no class: wrong


def test_voted_rows_accuracy_scores_both_on_the_gold_rows_with_a_vote_only():
    """The covered-rows half of the curate line and the card: rows without a vote (or gold) leave both figures, and
    the gold rows without a vote that the labels fill are counted."""
    L = np.array([[1, 1, 0], [0, 1, -1], [-1, -1, -1], [2, 2, 0], [-1, -1, -1], [2, -1, -1]])
    y = np.array([1, 0, 0, 0, -1, 1])
    labels = np.array([1, 0, 0, -1, 2, 2])  # the silent gold row is filled (right), the third voted row abstains
    got = voted_rows_accuracy(L, y, 3, labels)
    # gold rows 0, 1, 2, 3, 5; with a vote 0, 1, 3, 5: labels right on 0, 1; majority vote right on 0, half on 1,
    # and row 3 counts 0 for it as for the labels (they leave it unlabelled)
    assert got == {"share": 0.8, "accuracy": 0.5, "majority_accuracy": pytest.approx(1.5 / 4), "filled": 1}
    assert voted_rows_accuracy(L, np.full(6, -1), 3, labels) is None  # no gold
    assert voted_rows_accuracy(L[[2, 4]], [0, 1], 3, [0, 1]) is None  # no gold row has a vote
    no_class = voted_rows_accuracy(L, [1, 0, 0, 7, 1, 1], 3, labels)  # 7 is no class: wrong for both
    assert no_class == {"share": pytest.approx(4 / 6), "accuracy": 0.5, "majority_accuracy": pytest.approx(1.5 / 4),
                        "filled": 2}  # rows 2 and 4: gold, no vote, labelled
