"""The real-data benchmarks score every set in the data folder, not only the twelve they name: a new WRENCH or
crowd folder is found, read as the EBCC authors read crowd answers, scored by the metric the folder's README gives,
and shown next to the published numbers the README lists."""

import json
import sys

import numpy as np
import pytest
from paths import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import accuracy  # noqa: E402
import lodo  # noqa: E402
import realdata as R  # noqa: E402

README = """# data

| dataset | classes | LFs | metric |
|---|---|---|---|
| spam2 | 2 | 3 | F1 of class 1 |
| trec | 2 | 3 | accuracy |

| dataset (metric) | MV | DS |
|---|---|---|
| spam2 (F1) | 41.50 | 38.00 |

| dataset | classes | items | workers | answers | EBCC | BWA |
|---|---|---|---|---|---|---|
| dup | 2 | 4 | 3 | 9 | 0.7500 | 0.5000 |
"""


def _wrench(folder, seed: int) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    (folder / "label.json").write_text(json.dumps({"0": "ham", "1": "spam"}))
    for split, n in (("train", 120), ("valid", 30), ("test", 40)):
        y = (rng.random(n) < 0.3).astype(int)
        votes = np.where(rng.random((n, 3)) < 0.8, y[:, None], 1 - y[:, None])
        votes[rng.random((n, 3)) < 0.3] = -1
        rows = {str(i): {"label": int(y[i]), "weak_labels": votes[i].tolist(), "data": {}} for i in range(n)}
        (folder / f"{split}.json").write_text(json.dumps(rows))


def _crowd(folder, answers: str, truth: str) -> None:
    folder.mkdir(parents=True)
    (folder / "label.csv").write_text("item,worker,label\n" + answers)
    (folder / "truth.csv").write_text("item,truth\n" + truth)


@pytest.fixture
def data(tmp_path, monkeypatch):
    _wrench(tmp_path / "wrench" / "spam2", 0)
    _wrench(tmp_path / "wrench" / "trec", 1)  # a WRENCH name ...
    _crowd(tmp_path / "crowd" / "trec", "0,0,1\n0,1,1\n1,0,0\n1,1,0\n", "0,1\n1,0\n")  # ... and a crowd set's
    # item 0: worker 0 twice with the same answer (counted once); item 1: worker 1 answers 0, then 1 (both kept).
    _crowd(tmp_path / "crowd" / "dup", "0,0,1\n0,0,1\n0,1,1\n1,1,0\n1,1,1\n1,2,0\n2,0,0\n3,2,1\n3,1,1\n",
           "0,1\n1,0\n2,0\n3,1\n")
    (tmp_path / "README.md").write_text(README)
    monkeypatch.setattr(R, "DATA", tmp_path)
    return tmp_path


def test_every_folder_is_found_and_a_name_clash_is_told_apart(data):
    assert R.wrench_names() == ["trec", "spam2"]  # the sets realdata names first, then the rest by name
    assert R.crowd_names() == ["dup", "trec-crowd"]
    assert R.crowd_folder("trec-crowd") == data / "crowd" / "trec"
    assert R.load_crowd("trec-crowd").votes.L.tolist() == [[1, 1], [0, 0]]


def test_crowd_answers_are_read_as_the_ebcc_authors_read_them(data):
    c = R.load_crowd("dup")
    # Three workers, plus one column for worker 1's second, different answer on item 1.
    assert c.votes.L.shape == (4, 4) and c.cardinality == 2
    assert c.votes.L.tolist() == [[1, 1, -1, -1], [-1, 0, 0, 1], [0, -1, -1, -1], [-1, 1, 1, -1]]
    assert int((c.votes.L >= 0).sum()) == 8  # nine lines, one a verbatim repeat
    assert c.votes.y.tolist() == [1, 0, 0, 1]


def test_worker_ids_with_gaps_do_not_become_empty_columns(data):
    _crowd(data / "crowd" / "gaps", "0,7,1\n1,100000,0\n1,0,1\n", "0,1\n1,0\n")
    assert R.load_crowd("gaps").votes.L.tolist() == [[-1, 1, -1], [1, -1, 0]]  # workers 0, 7, 100000


def test_metric_and_published_numbers_come_from_the_readme(data):
    assert R.is_f1("spam2") and not R.is_f1("trec")
    assert R.is_f1("basketball") and R.is_f1("cdr")  # named here / WRENCH's convention for a set it does not list
    assert R.published_wrench("spam2") == {"MV": 41.5, "DS": 38.0}
    assert R.published_wrench("trec") == R.WRENCH_PUBLISHED["trec"]  # the numbers named here win
    assert R.published_crowd("dup") == {"EBCC": 0.75, "BWA": 0.5}
    assert R.published_crowd("trec-crowd") == {}


def test_accuracy_py_scores_every_set(data, capsys):
    accuracy.main(["--no-anchors", "--no-lodo", "--models", "default", "majority"])
    out = capsys.readouterr().out
    tables = {part.splitlines()[0]: {line.split(" | ")[0].lstrip("| "): line for line in part.splitlines()
                                     if line.startswith("| ")} for part in out.split("### ")[1:]}
    wrench = tables[next(t for t in tables if t.startswith("WRENCH test split, every row"))]
    crowd = tables[next(t for t in tables if t.startswith("Crowdsourcing sets"))]
    assert "F1 % of class 1 for spam2," in out and {"trec", "spam2"} <= set(wrench) and {"dup", "trec-crowd"} <= set(crowd)
    assert "| 41.50 | – | 38.00 | – | – | – | 41.50 |" in wrench["spam2"]  # MV, DS (trec also has WMV, DP...), best
    assert "| 75.00 | 50.00 | 75.00 |" in crowd["dup"]
    assert "| – | – | – | – |" in crowd["trec-crowd"]  # no published numbers: shown as such, not skipped
    names = [c.name for c in lodo.cases(seeds=())]
    assert names == ["trec", "spam2", "dup", "trec-crowd"]
    assert [c.metric for c in lodo.cases(seeds=())] == ["accuracy", "f1", "accuracy", "accuracy"]


def test_a_set_that_cannot_be_read_or_scored_is_reported_and_the_rest_still_run(data, capsys):
    no_gold = data / "crowd" / "duck"
    no_gold.mkdir()
    (no_gold / "label.csv").write_text("item,worker,label\n0,0,1\n0,1,1\n1,0,0\n")
    broken = data / "wrench" / "ner"
    broken.mkdir()
    (broken / "label.json").write_text(json.dumps({"0": "O", "1": "PER"}))
    (broken / "train.json").write_text(json.dumps({"0": {"label": ["O", "PER"], "weak_labels": [[0, 1]]}}))
    _wrench(data / "wrench" / "nodev", 2)
    (data / "wrench" / "nodev" / "valid.json").unlink()
    accuracy.main(["--no-anchors", "--no-lodo", "--models", "default", "majority"])
    out = capsys.readouterr().out
    left_out = out.split("Sets left out of every table above:")[1]
    assert "- duck: not scored: no item has a gold label" in left_out
    assert "- ner: failed: SourceError: " in left_out and "is a sequence label" in left_out
    assert "| nodev | " in out and "| spam2 | " in out and "nan" not in out  # no dev rows: fitted without gold
    assert [c.name for c in lodo.cases(seeds=())] == ["trec", "nodev", "spam2", "dup", "trec-crowd"]  # by name


def test_dev_rows_are_the_valid_rows_with_gold(data):
    valid = data / "wrench" / "spam2" / "valid.json"
    rows = json.loads(valid.read_text())
    rows["0"]["label"], rows["1"]["label"] = None, -1
    valid.write_text(json.dumps(rows))
    w = R.load_wrench("spam2")
    assert w.valid.y.size == 28 and (w.valid.y >= 0).all() and w.valid.L.shape == (28, 3)


def test_a_model_that_cannot_run_on_a_set_leaves_a_dash_not_a_hole(data, capsys):
    # 2,001 workers x 2 classes: MeTaL refuses more than 4,000 LF-class columns; the default and the rest still run.
    answers = "".join(f"{w % 4},{w},{(w % 4) % 2 if w % 5 else 1 - (w % 4) % 2}\n" for w in range(2001))
    _crowd(data / "crowd" / "wide", answers, "0,0\n1,1\n2,0\n3,1\n")
    accuracy.main(["--no-anchors", "--no-lodo", "--models", "default", "metal", "majority", "--only", "wide"])
    out = capsys.readouterr().out
    crowd = out.split("### Crowdsourcing sets")[1]
    head = next(line for line in crowd.splitlines() if line.startswith("| dataset |"))
    assert head.startswith("| dataset | default | majority | MV ties split |")  # no set has a metal cell here
    assert next(line for line in crowd.splitlines() if line.startswith("| wide |")).startswith("| wide | 100.00 | 100.00 |")
    assert "Models that did not run" in out and "wide metal: ValueError: " in out


def test_majority_vote_with_ties_split_is_scored_at_its_exact_expectation():
    """accuracy.py's and lodo.py's "MV ties split" is the figure `mmweak curate` prints for majority vote
    (`mmweak.analysis.majority_accuracy`), and the mean over many random tie-breaks converges to it; F1 keeps draws."""
    from mmweak.analysis import majority_accuracy

    rng = np.random.default_rng(1)
    L = rng.integers(-1, 3, size=(300, 3))
    L[:20] = -1
    y = rng.integers(0, 3, size=300)
    exact = 100 * majority_accuracy(L, y, 3)
    metric = lambda yy, pred: 100 * float((pred == yy).mean())  # noqa: E731
    proba = accuracy.majority_proba(L, 3)
    assert accuracy.ties_split(metric, y, proba, accuracy=True) == pytest.approx(exact, abs=1e-9)
    case = lodo.Case("c", "synthetic", 3, "accuracy", L, L, y, None)
    assert lodo.mv_ties_split(case) == pytest.approx(exact, abs=1e-9)
    draws = [metric(y, lab) for lab in (accuracy.hard_labels(proba, np.ones(3), tie_break="random", seed=s)
                                         for s in range(2000))]
    assert abs(np.mean(draws) - exact) < 3 * np.std(draws) / np.sqrt(len(draws))
    assert accuracy.ties_split(metric, y, proba) == pytest.approx(np.mean(draws[:accuracy.DRAWS]))  # the F1 path


def test_rows_without_gold_count_as_wrong_for_majority_vote_as_for_every_labelling():
    L = np.array([[1, 1], [0, 1], [1, -1], [0, 0]])
    y = np.array([1, 0, -1, -1])
    metric = lambda yy, pred: 100 * float((pred == yy).mean())  # noqa: E731
    draws = np.mean([metric(y, accuracy.hard_labels(accuracy.majority_proba(L, 2), np.ones(2), tie_break="random",
                                                    seed=s)) for s in range(4000)])
    exact = accuracy.ties_split(metric, y, accuracy.majority_proba(L, 2), accuracy=True)
    assert exact == pytest.approx(37.5) and abs(draws - 37.5) < 1.0
    assert lodo.mv_ties_split(lodo.Case("c", "synthetic", 2, "accuracy", L, L, y, None)) == pytest.approx(37.5)


@pytest.mark.skipif(not (R.DATA / "wrench" / "youtube").is_dir(), reason=f"WRENCH data not at {R.DATA}")
def test_the_read_speed_benchmark_prints_its_table(capsys):
    import read_speed

    read_speed.main(["--set", "youtube", "--rows", "300", "--repeat", "1"])
    out = capsys.readouterr().out
    assert "youtube, train repeated to 300 rows" in out and "| read_wrench |" in out and "| 1.00 |" in out


def _fake_anchor(key: str, fit_predict):
    from benchmarks.anchors import Anchor

    def load():
        return key

    load.__name__ = f"load_{key}"  # run_set caches one library per loader name
    return Anchor(key, key, load, lambda L: L, fit_predict)


def test_anchor_results_carry_the_files_they_were_computed_on_and_a_bad_anchor_is_left_out(data, tmp_path,
                                                                                          monkeypatch):
    import anchor_realdata

    from benchmarks.anchors import _hyperlm_fit

    class ShortHyperLM:  # as the Hyper Label Model does: no output after the last row with a vote
        def infer(self, L, return_probs):
            return np.full((L.shape[0] - 3, 2), 0.5)

    def uniform(lib, L, n, K):
        return np.full((n, K), 1.0 / K), ""

    def out_of_memory(lib, L, n, K):
        raise MemoryError

    fakes = {
        "snorkel_mv": _fake_anchor("snorkel_mv", uniform),
        "hyperlm": _fake_anchor("hyperlm", lambda lib, L, n, K: _hyperlm_fit(ShortHyperLM(), L, n, K)),
        "crowdkit_ds": _fake_anchor("crowdkit_ds", out_of_memory),
        "crowdkit_glad": _fake_anchor("crowdkit_glad", lambda lib, L, n, K: (np.full((n + 1, K), 0.5), "")),
    }
    monkeypatch.setattr(anchor_realdata, "ANCHORS", fakes)
    out = tmp_path / "anchors"
    out.mkdir()
    anchor_realdata.run_set("spam2", list(fakes), out, timeout=60)
    meta = json.loads((out / "spam2.json").read_text())
    assert meta["hyperlm"]["note"] == "3 trailing rows w/o votes -> uniform"
    assert meta["crowdkit_ds"] == {"error": "out of memory (over --max-memory)"}
    # Transductive: fitted on the 120 train and 40 test rows, its last 40 + 1 rows read back as the test rows'.
    assert meta["crowdkit_glad"]["error"] == "ValueError: its probabilities are 41 x 2, the scored rows 40 x 2 classes"
    assert accuracy.anchor_errors(out, ["spam2", "trec"]) == [
        "spam2 ck DS: out of memory (over --max-memory)",
        "spam2 ck GLAD: ValueError: its probabilities are 41 x 2, the scored rows 40 x 2 classes"]
    assert accuracy.anchor_errors(out, ["trec"]) == []  # only the sets of this run are reported
    saved = accuracy.load_anchors(out, "spam2")
    assert sorted(saved) == ["hyperlm", "snorkel_mv"] and saved["hyperlm"].shape == (40, 2)
    assert np.allclose(saved["hyperlm"][-3:], 0.5)
    # The same name in another data folder (or this one's files edited) is not the set they were computed on.
    test_file = data / "wrench" / "spam2" / "test.json"
    test_file.write_text(test_file.read_text().replace('"weak_labels": [', '"weak_labels": [ ', 1))
    assert accuracy.load_anchors(out, "spam2") == {}
    errors: list[str] = []
    kept = accuracy.fitting_anchors({"snorkel_mv": np.full((39, 2), 0.5), "hyperlm": np.full((40, 2), 0.5)}, 40, 2,
                                    errors)
    assert list(kept) == ["HyperLM"]
    assert errors == ["Snorkel MV: saved probabilities are 39 x 2, the scored rows 40 x 2"]
