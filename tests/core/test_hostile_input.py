"""Careless and hostile input (issue 12, engine side): clear errors, nothing of the user's deleted, a record
user text cannot break, cards safe to render and to copy from, Hub split names."""

from __future__ import annotations

import ast
import re
import warnings

import datasets
import numpy as np
import pytest
from datasets import DatasetDict
from huggingface_hub import DatasetCard
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import mmweak
from mmweak import LFError, labeling_function
from mmweak.curated import write_repo_folder
from mmweak.errors import CuratedDatasetError, RecordError
from mmweak.provenance import read_record, user_description

SPAM = mmweak.Task("spam", ["ham", "spam"])


def curated(texts=("http://a", "b", "c", "http://d"), task=SPAM, name="link", column="text"):
    lf = labeling_function(task=task, inputs=column, name=name)(
        lambda b: [1 if "http" in str(t) else 0 for t in b[column]])
    ds = datasets.Dataset.from_dict({column: list(texts), "gold": [1, 0, 0, 1][: len(texts)]})
    return mmweak.aggregate(mmweak.apply_lfs(ds, [lf]), model="majority")


# -- 1. silent acceptance and misleading errors --------------------------------------------------------
def test_none_votes_are_counted_as_faults_when_tolerant(tmp_path):
    lf = labeling_function(task=SPAM, inputs="text", name="forgetful")(
        lambda b: [1 if t.startswith("h") else None for t in b["text"]])
    ds = datasets.Dataset.from_dict({"text": ["h", "x", "h", "y"]})
    with pytest.raises(LFError, match=r"voted None on row 1"):
        mmweak.apply_lfs(ds, [lf], cache_dir=tmp_path)
    out, rep = mmweak.apply_lfs(ds, [lf], cache_dir=tmp_path, on_error="abstain", return_report=True)
    assert rep.faults() == {"forgetful": 2}
    assert out.data.column("spam_votes").to_pylist() == [[1], [-1], [1], [-1]]


@pytest.mark.parametrize("on_error", ["raise", "abstain"])
def test_wrong_number_of_votes_names_the_batch_not_a_row(tmp_path, on_error):
    lf = labeling_function(task=SPAM, inputs="text", name="short_by_one")(lambda b: [1] * (len(b["text"]) - 1))
    ds = datasets.Dataset.from_dict({"text": ["a"] * 256})
    with pytest.raises(LFError, match=r"returned 255 votes for a batch of 256 rows \(rows 0\.\.255"):
        mmweak.apply_lfs(ds, [lf], cache_dir=tmp_path, batch_size=256, on_error=on_error)


@pytest.mark.parametrize("on_error", ["raise", "abstain"])
def test_votes_as_a_column_vector_name_the_lf_and_the_batch(tmp_path, on_error):
    lf = labeling_function(task=SPAM, inputs="text", name="column")(lambda b: [[1] for _ in b["text"]])
    with pytest.raises(LFError, match=r"LF 'column' returned votes of shape \(4, 1\) for a batch of 4 rows"):
        mmweak.apply_lfs(datasets.Dataset.from_dict({"text": list("abcd")}), [lf], cache_dir=tmp_path, on_error=on_error)


@pytest.mark.parametrize("returned, kind", [(lambda n: np.array(1), "ndarray"), (lambda n: {1, -1}, "set")])
def test_a_scalar_array_or_a_set_is_no_sequence_of_votes(tmp_path, returned, kind):
    """np.array(1) and a set were reported as the LF raising TypeError (len() of unsized object), an error of
    mmweak's own validation; they are a batch-level LFError naming what came back."""
    lf = labeling_function(task=SPAM, inputs="text", name="odd")(lambda b: returned(len(b["text"])))
    with pytest.raises(LFError, match=rf"LF 'odd' must return a sequence of votes \(one per row\), got {kind}"):
        mmweak.apply_lfs(datasets.Dataset.from_dict({"text": ["a", "b"]}), [lf], use_cache=False, on_error="abstain")
    for bad in (" ", "\u200b", None, b"x", 0):  # an explicit name that is no printable text (0 fell back)
        with pytest.raises(ValueError, match="an LF needs a name: a non-empty printable str"):
            mmweak.LabelingFunction(bad, task=SPAM, inputs="text")
    with pytest.raises(ValueError, match="an LF needs a name"):
        labeling_function(task=SPAM, inputs="text", name=0)(lambda b: [1] * len(b["text"]))


def test_a_true_among_votes_is_not_read_as_class_1(tmp_path):
    lf = labeling_function(task=SPAM, inputs="text", name="flag")(lambda b: [True if t == "b" else -1 for t in b["text"]])
    with pytest.raises(LFError, match=r"LF 'flag' \(task 'spam'\) voted True on row 1 \(column 'text' = 'b'\).*"
                                      r"booleans are not class ids"):
        mmweak.apply_lfs(datasets.Dataset.from_dict({"text": list("abcd")}), [lf], cache_dir=tmp_path)
    # an LF of booleans alone: named by column and row too, and never counted as row faults
    flags = labeling_function(task=SPAM, inputs="text", name="flags")(lambda b: [t == "b" for t in b["text"]])
    with pytest.raises(LFError, match=r"LF 'flags' \(task 'spam'\) voted False on row 0 \(column 'text' = 'a'\)"):
        mmweak.apply_lfs(datasets.Dataset.from_dict({"text": list("abcd")}), [flags], use_cache=False,
                         on_error="abstain")
    # a fixed list whatever the batch: the batch's error (row 2), not the one-row rerun's "4 votes for 1 row"
    fixed = labeling_function(task=SPAM, inputs="text", name="fixed")(lambda b: [0, 1, 2, -1])
    for policy in ("raise", "abstain"):
        with pytest.raises(LFError, match=r"LF 'fixed' \(task 'spam'\) voted 2 on row 2 \(column 'text' = 'c'\)"):
            mmweak.apply_lfs(datasets.Dataset.from_dict({"text": list("abcd")}), [fixed], use_cache=False,
                             on_error=policy)
    # an LF that fails on the batch and cannot run on one row at all: said so, whatever on_error
    def squeezed(b):
        lengths = np.array([len(t) for t in b["text"]])  # TypeError on the None row
        return (lengths > 3).astype(int).squeeze()  # a one-row batch gives a 0-d array
    sq = labeling_function(task=SPAM, inputs="text", name="sq")(squeezed)
    for policy in ("raise", "abstain"):
        with pytest.raises(LFError, match=r"LF 'sq' \(task 'spam'\) raised TypeError: .* on a batch of 4 rows "
                                          r"\(column 'text'\), and it cannot be rerun row by row to find the row"):
            mmweak.apply_lfs(datasets.Dataset.from_dict({"text": ["hello", "hi", None, "abcdef"]}), [sq],
                             use_cache=False, on_error=policy)
    # row 1 of which split: named where there are several
    splits = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": ["a"]}),
                                   "test": datasets.Dataset.from_dict({"text": list("abcd")})})
    with pytest.raises(LFError, match=r"^split 'test': LF 'flag' \(task 'spam'\) voted True on row 1") as info:
        mmweak.apply_lfs(splits, [lf], use_cache=False)
    assert (info.value.lf, info.value.column, info.value.row) == ("flag", "text", 1)


def test_unknown_gold_column_is_an_error():
    with pytest.raises(ValueError, match=r"gold column 'typo' \(task 'spam'\) is in no split; columns: .*'gold'"):
        mmweak.aggregate(curated(), gold="typo")
    with pytest.raises(ValueError, match="gold names unknown task"):
        mmweak.aggregate(curated(), gold={"sapm": "gold"})


@pytest.mark.parametrize("labels", [["spam", "ham"], ["ham", "spam", "eggs"]])
def test_a_task_whose_classes_differ_from_its_votes_is_refused(labels):
    with pytest.raises(ValueError, match=r"task 'spam' has classes .* but its votes were written for \['ham', 'spam'\]"):
        mmweak.aggregate(curated(), [mmweak.Task("spam", labels)])
    assert list(mmweak.aggregate(curated(), [SPAM])["spam_label"]) == [1, 0, 0, 1]


def test_vote_lists_of_different_lengths_are_refused_even_when_their_total_fits_a_matrix():
    # 2 + 3 + 1 = 6 votes = 3 rows x 2: read by the total alone, row 2's lone vote would become row 1's last
    task = mmweak.Task("t", ["a", "b"])
    ds = datasets.Dataset.from_dict({"t_votes": [[0, 1], [1, 1, 1], [0]]})
    with pytest.raises(ValueError, match=r"column 't_votes' has rows of different lengths \(row 0 holds 2 values, "
                                         r"row 1 holds 3\)"):
        mmweak.aggregate(ds, [task], model="majority")


# -- 2. nothing of the user's is ever deleted ----------------------------------------------------------
def test_overwrite_refuses_a_folder_mmweak_did_not_write(tmp_path):
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    with pytest.raises(CuratedDatasetError, match=r"refusing to replace .*thesis.tex"):
        mmweak.save_curated(curated(), mine, overwrite=True)
    assert (mine / "thesis.tex").read_text() == "years of work"
    # a curated folder is replaced; once someone adds a file to it, it is theirs
    out = tmp_path / "out"
    mmweak.save_curated(curated(), out)
    mmweak.save_curated(curated(), out, overwrite=True)
    (out / "notes.md").write_text("mine")
    with pytest.raises(CuratedDatasetError, match="notes.md"):
        mmweak.save_curated(curated(), out, overwrite=True)
    assert (out / "notes.md").exists() and (out / "README.md").exists()
    plain = tmp_path / "file.txt"
    plain.write_text("x")
    with pytest.raises(CuratedDatasetError, match="is a file"):
        mmweak.save_curated(curated(), plain, overwrite=True)


def test_working_directory_and_its_parents_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("x")
    for path in (".", "..", str(tmp_path)):
        with pytest.raises(CuratedDatasetError, match="working directory"):
            mmweak.save_curated(curated(), path, overwrite=True)
    assert (tmp_path / "keep.txt").exists()


def test_demo_writes_only_inside_out(tmp_path, monkeypatch):
    from recipes.demo import main as demo

    out = tmp_path / "demo"
    out.mkdir()
    (out / "thesis.tex").write_text("mine")
    (tmp_path / "sibling").mkdir()
    (tmp_path / "sibling" / "a.txt").write_text("mine")
    monkeypatch.chdir(tmp_path)
    assert demo.main(["--out", str(out), "--rows", "200", "--audio-rows", "0", "--image-rows", "0"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo", "sibling"]
    assert sorted(p.name for p in out.iterdir()) == ["text", "thesis.tex"]
    assert demo.main(["--out", str(out), "--rows", "200", "--audio-rows", "0", "--image-rows", "0"]) == 0  # rerun
    assert (out / "thesis.tex").read_text() == "mine" and (tmp_path / "sibling" / "a.txt").exists()


# -- 3. the weak-supervision record ---------------------------------------------------------------------
def test_record_survives_comment_terminators_in_user_text():
    task = mmweak.Task("spam", ["ham", "spam"], description="ends a comment --> and <!-- opens one")
    ds = curated(task=task)
    assert read_record(ds)["tasks"]["spam"]["task"]["description"] == task.description
    ds.info.description = "my own --> text\n" + ds.info.description
    assert user_description(ds) == "my own --> text\n" and read_record(ds)["tasks"]


def test_corrupted_and_conflicting_records_are_errors():
    ds = curated()
    broken = ds.info.description[:-30] + "x" + ds.info.description[-29:]
    ds.info.description = broken
    with pytest.raises(RecordError, match="corrupted|damaged"):
        read_record(ds)
    a, b = curated(), curated(name="other_lf")
    with pytest.raises(RecordError, match="2 different weak-supervision records"):
        read_record(datasets.concatenate_datasets([a, b]))
    same = datasets.concatenate_datasets([a, curated()])
    assert read_record(same) == read_record(a)
    with pytest.raises(RecordError, match="splits 'train' and 'test' carry different"):
        read_record(DatasetDict({"train": a, "test": b}))
    with pytest.raises(RecordError, match="split 'test' carries no weak-supervision record \\(no LF was applied"):
        read_record(DatasetDict({"train": a, "test": datasets.Dataset.from_dict({"text": ["x"], "gold": [0]})}))
    # re-applying LFs replaces a damaged record (with a warning), the votes being sound
    ds = datasets.Dataset.from_dict({"text": ["a"]})
    ds.info.description = "<!-- mmweak:weak_supervision:v2 AAAA 0123456789abcdef -->"
    lf = labeling_function(task=SPAM, inputs="text", name="x")(lambda b: [0] * len(b["text"]))
    with pytest.warns(UserWarning, match="starting a new weak-supervision record"):
        out = mmweak.apply_lfs(ds, [lf])
    assert list(read_record(out)["tasks"]) == ["spam"]


# -- 5. split names --------------------------------------------------------------------------------------
def test_split_names_follow_the_hub_rule(tmp_path):
    ds = curated()
    out = mmweak.save_curated(DatasetDict({"train.v2": ds}), tmp_path / "v2")
    back, _ = mmweak.load_curated(out)
    assert list(back) == ["train.v2"] and len(back["train.v2"]) == 4
    for bad in ("my split", "a/b", "..", "", "x" * 300, "train."):
        with pytest.raises(CuratedDatasetError, match="split name .* is not allowed: a split name is letters"):
            mmweak.save_curated(DatasetDict({bad: ds}), tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


# -- 4. cards safe to render and to copy from -------------------------------------------------------------
HOSTILE = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "{{ 7*7 }}", "{% raw %}x", "[x](javascript:alert(1))",
    "- &a [*a]", "yes", "null", "\u202egnp.exe", "# Heading\n## two", "a|b|c", "```\nimport os\n```", "'; os.system('x'); '",
]


def _body(card_text: str) -> str:
    return card_text.split("---", 2)[2]


def _outside_code(body: str) -> str:
    """The body without the fenced snippet and code spans, which show their text literally."""
    body = re.sub(r"^(`{3,})python\n.*?^\1$", "", body, flags=re.S | re.M)
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", body)


def _assert_inert(body: str) -> None:
    body = _outside_code(body)
    assert "<script" not in body and "<img" not in body and "](javascript" not in body
    assert "{{" not in body and "{%" not in body and "\u202e" not in body
    assert not re.search(r"^#+ Heading", body, re.M) and not re.search(r"^## two", body, re.M)


def _snippet(body: str) -> str:
    m = re.search(r"^(`{3,})python\n(.*?)^\1$", body, re.S | re.M)
    assert m, "the card has its Python snippet"
    return m.group(2)


def test_hostile_names_are_inert_in_the_card_and_the_snippet(tmp_path):
    task = mmweak.Task("spam", [HOSTILE[0], HOSTILE[1]], description=" ".join(HOSTILE))
    ds = curated(task=task, name=HOSTILE[4], column=HOSTILE[2])
    ds.info.description = "user text <b>bold</b> [ok](javascript:evil())\n" + ds.info.description
    path = tmp_path / "weird: path #1 - &a [*a] yes"  # YAML specials in the folder name
    mmweak.save_curated(ds, path, pretty_name=HOSTILE[9])
    text = (path / "README.md").read_text()
    card = DatasetCard.load(path / "README.md")  # the YAML parses
    assert card.data.to_dict()["weak_supervision"]["tasks"][0]["labels"] == list(task.labels)
    body = _body(text)
    _assert_inert(body)
    tree = ast.parse(_snippet(body))  # valid Python, and the path is a string literal, not code
    literals = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert str(path) in literals and "spam" in literals
    back, tasks = mmweak.load_curated(path)
    assert tasks[0].labels == task.labels and tasks[0].description == task.description
    assert back["train"].column_names == ds.column_names


def test_f1_card_renders_after_a_round_trip(tmp_path):
    ds = curated(texts=["http://a", "b", "c", "d"])
    ds = mmweak.aggregate(ds, model="dawid_skene", objective="f1", pos_label=1)
    first = mmweak.save_curated(ds, tmp_path / "one")
    back, _ = mmweak.load_curated(first)
    again = mmweak.save_curated(back, tmp_path / "two")
    text = (again / "README.md").read_text()
    assert "maximises the F1 of `spam`" in text and (again / "label_models" / "spam.json").exists()


names = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=30)


def _structure(body: str) -> list[tuple[str, str]]:
    """The markup of a card body as CommonMark+tables sees it: block and inline token kinds, text runs merged."""
    from markdown_it import MarkdownIt

    out: list[tuple[str, str]] = []
    for tok in MarkdownIt("commonmark").enable("table").parse(body):
        for t in [tok, *(tok.children or [])]:
            if t.type == "inline":
                continue
            kind = (t.type, t.tag)
            if kind == ("text", "") and out and out[-1] == kind:
                continue  # escapes and entities may split a run of text; it is still text
            out.append(kind)
            href = t.attrGet("href") if t.type == "link_open" else None
            assert href is None or not re.match(r"\s*(javascript|vbscript|data):", str(href), re.I), href
    return out


def _card_body(folder, labels, desc, lf, pretty, column) -> str:
    task = mmweak.Task("t", labels, description=desc)
    write_repo_folder(curated(task=task, name=lf, column=column), folder, pretty_name=pretty, plots=False)
    return _body((folder / "README.md").read_text())


@settings(max_examples=int(__import__("os").environ.get("MMWEAK_HYPOTHESIS_EXAMPLES", "20")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(labels=st.lists(names, min_size=2, max_size=3, unique_by=lambda s: s.strip()), desc=names, lf=names,
       pretty=names, column=names.filter(lambda c: c.strip() and c not in ("gold",)))
@example(labels=["0", "\xa0"], desc="0", lf="0", pretty="0", column="0")  # a table cell trimmed U+00A0 away
def test_any_unicode_names_render_parse_and_round_trip(tmp_path_factory, labels, desc, lf, pretty, column):
    """Whatever the names, the card has exactly the markup of a card with plain names, its YAML reads back
    every name exactly, its snippet parses, and load_curated rebuilds the tasks."""
    try:
        folder = tmp_path_factory.mktemp("card")
        body = _card_body(folder, labels, desc, lf, pretty, column)
    except (ValueError, datasets.table.CastError):
        return  # labels Task refuses, or a column name datasets itself cannot hold (NUL...): not ours to test
    plain = _card_body(tmp_path_factory.mktemp("plain"), [f"c{i}" for i in range(len(labels))], "d", "lf", "p", "col")
    assert _structure(body) == _structure(plain)
    data = DatasetCard.load(folder / "README.md").data.to_dict()
    ws = data["weak_supervision"]["tasks"][0]
    assert ws["labels"] == [str(x) for x in labels] and ws["description"] == desc
    assert ws["lfs"][0]["name"] == lf and ws["lfs"][0]["inputs"] == [column] and data["pretty_name"] == pretty
    ast.parse(_snippet(body))
    back, tasks = mmweak.load_curated(folder)
    assert tasks[0].labels == tuple(str(x) for x in labels)
    assert back["train"].data.column("t_votes").to_pylist() == [[1], [0], [0], [1]]


def test_a_fit_split_without_any_vote_is_said_not_hidden():
    lf = labeling_function(task=SPAM, inputs="text", name="never")(lambda b: [-1] * len(b["text"]))
    ds = mmweak.apply_lfs(datasets.Dataset.from_dict({"text": ["a", "b"]}), [lf])
    with pytest.warns(UserWarning, match=r"task 'spam': no LF voted on any row of the fit split 'train' \(2 rows\)"):
        out = mmweak.aggregate(ds)
    assert [list(p) for p in out["spam_probs"]] == [[0.5, 0.5]] * 2


def test_a_class_no_lf_votes_is_said_where_only_silence_could_point_to_it():
    """A class declared before any LF covers it: a model reading abstains can make it a cluster of some silence
    pattern (Dawid–Skene put 13 % of YouTube's test rows in such a third class). Said, not changed: silence is a
    class's real evidence in other designs (positive-only LFs in a binary task, an 'other' class)."""
    three = mmweak.Task("kind", ["ham", "spam", "other"])
    texts = ["buy now", "hello", "buy", "hi there", "call me", "buy buy"]
    lfs = [labeling_function(task=three, inputs="text", name=n)(f) for n, f in (
        ("buy", lambda b: [1 if "buy" in t else -1 for t in b["text"]]),
        ("greeting", lambda b: [0 if t.startswith("h") else -1 for t in b["text"]]))]
    base = datasets.Dataset.from_dict({"text": texts, "y": [1, 0, 1, 0, 2, 1]})
    ds = mmweak.apply_lfs(datasets.DatasetDict({"train": base, "validation": base}), lfs)
    with pytest.warns(UserWarning, match=r"task 'kind': no LF votes class \['other'\] on the fit split 'train', and "
                                         r"no gold or reviewed row holds it.*leave it out of the task's labels"):
        mmweak.aggregate(ds)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        mmweak.aggregate(ds, gold="y")  # a gold dev row of the class: its evidence
        spam = mmweak.Task("spam", ["ham", "spam"])  # binary, one class voted: the other is silence by design
        one = labeling_function(task=spam, inputs="text", name="buy")(lambda b: [1 if "buy" in t else -1
                                                                                 for t in b["text"]])
        mmweak.aggregate(mmweak.apply_lfs(datasets.Dataset.from_dict({"text": texts}), [one]))


def test_an_empty_fit_split_without_dev_rows_is_refused_naming_task_and_split():
    # Fitted on no rows, the model labelled the other splits from its starting values (a row voted 1 came out 0).
    lf = labeling_function(task=SPAM, inputs="text", name="link")(lambda b: [1 if "http" in t else -1 for t in b["text"]])
    base = datasets.Dataset.from_dict({"text": ["http://x", "hello", "see http://y"]})
    dd = mmweak.apply_lfs(datasets.DatasetDict({"train": base.select([]), "test": base}), [lf])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused before the "learns nothing" warning, which no longer applies
        with pytest.raises(ValueError, match=r"task 'spam': the fit split 'train' has no rows and there are no gold "
                                             r"dev rows, so there is nothing to fit .* pass fit_split="):
            mmweak.aggregate(dd)
    out = mmweak.aggregate(dd, fit_split="test")
    assert [int(np.argmax(p)) for p in out["test"]["spam_probs"]][::2] == [1, 1]


def test_a_model_that_settles_on_one_class_is_named_with_its_task_and_split():
    # The lone-keyword matrix of test_labelmodels_hostile.py: the weighted vote labels every voted row class 0.
    rng = np.random.default_rng(0)
    n = 2000
    y = (rng.random(n) < 0.2).astype(int)
    votes = np.full((n, 3), -1)
    votes[(y == 1) & (rng.random(n) < 0.5), 0] = 1
    votes[(y == 0) & (rng.random(n) < 0.02), 0] = 1
    votes[(y == 0) & (rng.random(n) < 0.3), 1] = 0
    votes[(y == 1) & (rng.random(n) < 0.05), 1] = 0
    votes[(y == 0) & (rng.random(n) < 0.3), 2] = 0
    lfs = [labeling_function(task=SPAM, inputs=f"v{j}", name=f"lf{j}")(lambda b, j=j: list(b[f"v{j}"]))
           for j in range(3)]
    ds = mmweak.apply_lfs(datasets.Dataset.from_dict({f"v{j}": votes[:, j].tolist() for j in range(3)}), lfs)
    with pytest.warns(mmweak.OneClassLabelsWarning, match=r"^task 'spam', fit split 'train': WeightedMajorityVote "
                                                          r"labels every voted row of its fit class 0, though \d+ of"):
        out = mmweak.aggregate(ds, model="weighted_majority")
    assert set(np.asarray(out["spam_probs"]).argmax(axis=1)[(votes != -1).any(axis=1)].tolist()) == {0}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default does not settle there
        mmweak.aggregate(ds)
