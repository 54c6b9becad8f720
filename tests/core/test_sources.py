"""Reading WRENCH and crowdsourcing folders as users have them: the benchmarks' own files and the ways exported
files differ from them. Whatever cannot be read is a SourceError naming the file and line (or split and id)."""

import json

import numpy as np
import PIL.Image
import pytest

import mmweak
from mmweak.errors import MMWeakError, SourceError
from mmweak.sources import load_source, read_crowd, read_wrench


def _crowd(folder, label: str, truth: str | None = None, encoding: str = "utf-8"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "label.csv").write_bytes(label.encode(encoding))
    if truth is not None:
        (folder / "truth.csv").write_bytes(truth.encode(encoding))
    return folder


def _rows(folder):
    ds = read_crowd(folder)["train"]
    return ds["item"], [[(a["worker"], a["label"]) for a in r] for r in ds["answers"]], ds["label"]


PLAIN = ("item,worker,label\n0,0,1\n0,1,1\n2,0,0\n", "item,truth\n0,1\n2,0\n")


def test_rows_are_the_items_the_files_name_in_id_order(tmp_path):
    items, answers, gold = _rows(_crowd(tmp_path / "c", *PLAIN))
    assert items == [0, 2]  # nobody wrote item 1: no row for it
    assert answers == [[(0, 1), (1, 1)], [(0, 0)]] and gold == [1, 0]
    # 1-based ids make no empty item 0, ids in the millions no million empty rows
    items, _, gold = _rows(_crowd(tmp_path / "one", "item,worker,label\n1,0,1\n2,0,0\n", "item,truth\n2,0\n"))
    assert items == [1, 2] and gold == [-1, 0]
    items, _, _ = _rows(_crowd(tmp_path / "far", "item,worker,label\n1000099,0,1\n1000000,0,0\n"))
    assert items == [1000000, 1000099]


def test_ids_written_otherwise_than_as_plain_integers_stay_as_written(tmp_path):
    # 007, 7 and 7.0 are three items (and 01 and 1 two workers): merging them would join answers of other things
    items, answers, _ = _rows(_crowd(tmp_path / "c", "item,worker,label\n007,01,1\n7,1,0\n7.0,1,1\n7,01,0\n"))
    assert items == ["007", "7", "7.0"]  # equal numbers in the order of their spelling, so the same on every run
    assert answers == [[("01", 1)], [("1", 0), ("01", 0)], [("1", 1)]]


def test_a_line_with_more_cells_than_the_header_is_refused(tmp_path):
    # "cat, big" unquoted would silently become "cat": two classes merged
    with pytest.raises(SourceError, match=r"label.csv, line 3: 4 cells, but the header has 3 \(quote values"):
        read_crowd(_crowd(tmp_path / "c", "item,worker,label\na,w1,dog\na,w2,cat, big\n"))
    # a trailing separator, as spreadsheets export lines, holds nothing: read
    items, answers, _ = _rows(_crowd(tmp_path / "t", "item,worker,label\na,w1,dog,\na,w2,cat,,\n"))
    assert answers == [[("w1", "dog"), ("w2", "cat")]]


def test_gold_for_an_item_nobody_answered_is_warned_about(tmp_path):
    with pytest.warns(UserWarning, match=r"truth.csv: 1 item\(s\) with gold have no answer in label.csv \('b'\)"):
        items, _, gold = _rows(_crowd(tmp_path / "c", "item,worker,label\na,w,1\n", "item,truth\na,1\nb,0\n"))
    assert items == ["a", "b"] and gold == [1, 0]


def test_class_names_in_two_unicode_forms_are_one_class(tmp_path):
    ds = read_crowd(_crowd(tmp_path / "c", "item,worker,label\n0,a,Caf\u00e9\n0,b,Cafe\u0301\n1,a,tea\n1,c,Caf\u00e9\n"))
    assert ds["train"].features["label"].names == ["Caf\u00e9", "tea"]  # spelt as most write it
    assert [[a["label"] for a in r] for r in ds["train"]["answers"]] == [["Caf\u00e9", "Caf\u00e9"], ["tea", "Caf\u00e9"]]


@pytest.mark.parametrize("label,truth,encoding", [
    ("\ufeffitem,worker,label\r\n0,0,1\r\n0,1,1\r\n2,0,0\r\n\r\n", "\ufeffitem,truth\r\n0,1\r\n2,0\r\n", "utf-8"),
    ("item\tworker\tlabel\n0\t0\t1\n0\t1\t1\n2\t0\t0\n", "item\ttruth\n0\t1\n2\t0\n", "utf-8"),
    ("item; worker; label\n0; 0; 1\n0; 1; 1\n2; 0; 0\n", "item; truth\n0; 1.0\n2; 0.0\n", "utf-8"),
    ("Label,Item,Worker,note\n1,0,0,\"a, b\"\n1,0,1,x\n0,2,0,y\n\n\n", "truth,item\n1,0\n0,2\n", "utf-8"),
])
def test_exported_files_read_like_the_benchmarks_own(tmp_path, label, truth, encoding):
    assert _rows(_crowd(tmp_path / "c", label, truth, encoding)) == _rows(_crowd(tmp_path / "plain", *PLAIN))


def test_ids_that_are_names_or_far_apart_give_one_row_per_item(tmp_path):
    with pytest.warns(UserWarning, match="'img_c'"):
        items, answers, gold = _rows(_crowd(tmp_path / "names", "item,worker,label\nimg_b,ann,1\nimg_a,bob,0\nimg_b,bob,1\n",
                                            "item,truth\nimg_b,1\nimg_c,0\n"))
    assert items == ["img_a", "img_b", "img_c"] and gold == [-1, 1, 0]
    assert answers == [[("bob", 0)], [("ann", 1), ("bob", 1)], []]
    items, answers, gold = _rows(_crowd(tmp_path / "far", "item,worker,label\n5000000000,3,1\n7,3,0\n", "item,truth\n7,0\n"))
    assert items == [7, 5000000000] and answers == [[(3, 0)], [(3, 1)]] and gold == [0, -1]


def test_labels_that_are_class_names_become_a_class_label(tmp_path):
    ds = read_crowd(_crowd(tmp_path / "c", "item,worker,label\n0,a,dog\n0,b,cat\n1,a,cat\n", "item,truth\n0,dog\n"))["train"]
    assert ds.features["label"].names == ["cat", "dog"] and ds["label"] == [1, -1]
    assert [[a["label"] for a in r] for r in ds["answers"]] == [["dog", "cat"], ["cat"]]  # names: the task maps them


def test_labels_in_other_digits_or_with_an_exponent_are_names_not_class_numbers(tmp_path):
    # int("١") is 1 and float("1e0") is 1.0 in Python; a file that writes them means a name
    ds = read_crowd(_crowd(tmp_path / "c", "item,worker,label\n0,a,١\n0,b,1e0\n1,a,٢\n",
                           "item,truth\n0,١\n"))["train"]
    assert ds.features["label"].names == ["١", "٢", "1e0"] and ds["label"] == [0, -1]


def test_class_names_that_differ_in_case_are_one_class_spelt_as_most_write_it(tmp_path):
    ds = read_crowd(_crowd(tmp_path / "c", "item,worker,label\n0,a,dog\n0,b,DOG\n1,a,cat\n1,c,dog\n",
                           "item,truth\n0,Dog\n1,cat\n"))["train"]
    assert ds.features["label"].names == ["cat", "dog"] and ds["label"] == [1, 0]
    assert [[a["label"] for a in r] for r in ds["answers"]] == [["dog", "dog"], ["cat", "dog"]]


@pytest.mark.parametrize("label,truth,message", [
    ("item,worker,label\n0,0,1\n0,,1\n", None, r"label.csv, line 3: column 'worker' is empty"),
    ("item,worker,answer\n0,0,1\n", None, r"label.csv: no column 'label' in its header \['item', 'worker', 'answer'\]"),
    ("item,worker,label\n0,0,1\n1,0,cat\n", None, r"label.csv, line 3: label 'cat' mixes with labels like '1'"),
    ("item,worker,label\n0,0,1\n", "item,truth\n0,1\n0,0\n", r"truth.csv, line 3: item '0' has gold '0', but line 2"),
])
def test_unreadable_crowd_files_name_file_and_line(tmp_path, label, truth, message):
    with pytest.raises(SourceError, match=message) as caught:
        read_crowd(_crowd(tmp_path / "c", label, truth))
    assert isinstance(caught.value, (MMWeakError, ValueError))


def _wrench(folder, labels=("ham", "spam"), rows=None, splits=("train", "valid", "test")):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "label.json").write_text(json.dumps(labels if isinstance(labels, list) else dict(enumerate(labels))))
    rows = rows or {"0": {"label": 1, "weak_labels": [1, -1]}, "1": {"label": 0, "weak_labels": [0, 0]}}
    for split in splits:
        (folder / f"{split}.json").write_text(json.dumps(rows))
    return folder


def test_wrench_folders_in_the_shapes_wrench_ships(tmp_path):
    rows = {"10": {"label": None, "weak_labels": [1, -1]}, "9": {"label": "1", "weak_labels": ["0", 0.0]},
            "a": {"label": 0.0, "weak_labels": [-1, -1]}}
    ds = read_wrench(_wrench(tmp_path / "w", ["ham", "spam"], rows, splits=("train", "test")))
    assert set(ds) == {"train", "test"}  # no valid.json: no validation split
    assert ds["train"]["label"] == [1, -1, 0]  # ids 9, 10, then the id that is not a number; null is "no gold"
    assert ds["train"].features["label"].names == ["ham", "spam"]
    assert np.array(ds["test"]["weak_labels"]).tolist() == [[0, 0], [1, -1], [-1, -1]]
    assert load_source(tmp_path / "w")["train"].num_rows == 3


@pytest.mark.parametrize("labels,rows,message", [
    (["O", "PER"], {"0": {"label": ["O", "PER"], "weak_labels": [[0, 1]]}}, r"id '0': label \['O', 'PER'\] is a sequence label"),
    (["a", "b"], {"0": {"label": 2, "weak_labels": [0]}}, r"train.json, id '0': label 2 is not a class index -1..1"),
    (["a", "b"], {"0": {"label": 1, "weak_labels": [0, 1]}, "1": {"label": 1, "weak_labels": [0]}},
     r"id '1': 1 weak labels, but the split's first row has 2"),
    ({"1": "a", "2": "b"}, None, r"label.json: expected class names keyed 0..1 or a list of names, got keys \['1', '2'\]"),
    (["a", "a"], None, r"class names must differ \(case and outer spaces aside\), got \['a', 'a'\]"),
    (["Spam", "spam "], None, r"class names must differ \(case and outer spaces aside\), got \['Spam', 'spam '\]"),
    (["a", "b"], {"0": {"label": 1, "weak_labels": [0, 0.7]}}, r"id '0': weak label 1 is 0.7, not a class index -1..1"),
    (["a", "b"], {"0": {"label": 1, "weak_labels": [None, 0]}}, r"id '0': weak label 0 is None"),
    (["a", "b"], {"0": {"label": 1, "weak_labels": [300, 0]}}, r"id '0': weak label 0 is 300"),
    (["a", "b"], {"0": {"label": 1, "weak_labels": [0, [1]]}}, r"id '0': weak label 1 is \[1\]"),
    (["a", "b"], {"0": {"label": 1, "weak_labels": [[0], [1]]}}, r"id '0': weak label 0 is \[0\]"),  # not flattened
    (["a", "b"], {"0": {"label": 1, "weak_labels": [[0, 1], [1, 0]]}}, r"id '0': weak label 0 is \[0, 1\]"),
])
def test_unreadable_wrench_folders_name_file_and_row(tmp_path, labels, rows, message):
    folder = _wrench(tmp_path / "w", ["a", "b"], rows)
    (folder / "label.json").write_text(json.dumps(labels))
    with pytest.raises(SourceError, match=message):
        read_wrench(folder)


def test_a_folder_missing_the_file_its_format_is_known_by_says_which(tmp_path):
    """Without label.json a WRENCH folder was read as plain JSON (its row ids as thousands of columns); a cut-short
    split ended in a JSONDecodeError naming no file; a crowd folder without label.csv in "no split has column
    'answers'"."""
    rows = {"0": {"label": 1, "weak_labels": [0, 1]}, "1": {"label": 0, "weak_labels": [0, -1]}}
    folder = _wrench(tmp_path / "w", ["a", "b"], rows)
    with pytest.raises(SourceError, match=r"is one split of the WRENCH folder .*: give the folder as the source"):
        load_source(folder / "train.json")
    text = (folder / "train.json").read_text()
    (folder / "train.json").write_text(text[: len(text) // 2])
    with pytest.raises(SourceError, match=r"train\.json: not readable as JSON \(JSONDecodeError: .*\); the file may "
                                          r"be cut short"):
        load_source(folder)
    (folder / "label.json").unlink()
    with pytest.raises(SourceError, match=r"holds train\.json.* like a WRENCH folder but no label\.json \(the class "
                                          r"names\)"):
        load_source(folder)
    crowd = _crowd(tmp_path / "c", *PLAIN)
    (crowd / "label.csv").unlink()
    with pytest.raises(SourceError, match=r"holds truth\.csv like a crowd folder but no label\.csv"):
        load_source(crowd)


def test_an_empty_split_and_a_set_without_lfs_read_as_empty(tmp_path):
    rows = {"0": {"label": 1, "weak_labels": [1, -1], "data": {"text": "hi"}}}
    folder = _wrench(tmp_path / "w", ["a", "b"], rows, splits=("train", "test"))
    (folder / "valid.json").write_text("{}")
    ds = read_wrench(folder)
    assert ds["validation"].num_rows == 0 and ds["validation"].features == ds["train"].features
    late = _wrench(tmp_path / "late", ["a", "b"], rows, splits=("valid",))  # an empty train takes valid's shape
    (late / "train.json").write_text("{}")
    assert read_wrench(late)["train"].features == read_wrench(late)["validation"].features
    none = _wrench(tmp_path / "n", ["a", "b"], {"0": {"label": 1, "weak_labels": []}}, splits=("train",))
    assert read_wrench(none)["train"]["weak_labels"] == [[]]


def test_negative_and_mixed_ids_sort_as_numbers_then_names(tmp_path):
    items, _, gold = _rows(_crowd(tmp_path / "neg", "item,worker,label\n-5,0,1\n0,0,0\n1,0,1\n", "item,truth\n-5,1\n"))
    assert items == [-5, 0, 1] and gold == [1, -1, -1]
    items, _, _ = _rows(_crowd(tmp_path / "mixed", "item,worker,label\nb,0,1\n10,0,0\n9,0,1\n"))
    assert items == ["9", "10", "b"]


def test_a_crowd_folder_without_answers_is_named_when_made_into_votes(tmp_path):
    import mmweak
    from mmweak.review import AnnotationError, add_annotator_votes

    with pytest.warns(UserWarning, match="have no answer"):
        ds = read_crowd(_crowd(tmp_path / "c", "item,worker,label\n", "item,truth\n0,1\n"))["train"]
    with pytest.raises(AnnotationError, match="column 'answers' holds no answers in any split"):
        add_annotator_votes(ds, mmweak.Task("t", ["a", "b"]), "answers")


def test_one_answers_file_with_its_own_column_names_and_a_gold_file(tmp_path):
    answers = tmp_path / "export.csv"
    answers.write_text("Task ID,annotator,answer,comment\nq1,ann,cat,\"sure, cat\"\nq1,bob,dog,x\nq2,bob,cat,y\n")
    gold = tmp_path / "gold.csv"
    gold.write_text("task id,gold\nq2,cat\n")
    names = {"item": "task id", "worker": "Annotator", "label": "answer", "truth": "gold"}
    ds = read_crowd(answers, columns=names, truth=gold)["train"]
    assert list(ds["item"]) == ["q1", "q2"] and ds["label"] == [-1, 0]
    assert [[(a["worker"], a["label"]) for a in r] for r in ds["answers"]] == [[("ann", "cat"), ("bob", "dog")],
                                                                              [("bob", "cat")]]
    same = load_source(answers, format="crowd", params={"columns": names, "truth": str(gold)})["train"]
    assert same["answers"] == ds["answers"] and same["label"] == ds["label"]
    with pytest.raises(SourceError, match=r"export.csv: no column 'worker', 'label' in its header .* name the file's columns"):
        read_crowd(answers, columns={"item": "task id"})
    with pytest.raises(SourceError, match=r"\['answer'\] are not crowd columns"):
        read_crowd(answers, columns={"answer": "label"})
    with pytest.raises(SourceError, match=r"format 'crowd' takes params 'columns', 'truth' and 'numbers_as_names', "
                                          r"not \['sep'\]"):
        load_source(answers, format="crowd", params={"sep": ","})
    with pytest.raises(SourceError, match=r"no gold file"):
        read_crowd(answers, columns=names, truth=tmp_path / "nope.csv")


def test_a_recipe_reads_a_ratings_export_with_its_gold_beside_the_recipe(tmp_path, monkeypatch):
    from mmweak.cli import main

    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "answers.tsv").write_text("task\tannotator\tstars\nq1\ta\t1\nq1\tb\t1\nq2\ta\t3\nq2\tb\t3\n"
                                               "q3\ta\t2\nq3\tb\t2\n")
    (tmp_path / "r" / "gold.csv").write_text("task,gold\nq1,1\nq2,3\nq3,2\n")
    (tmp_path / "r" / "stars.yaml").write_text("""
version: 1
name: stars
data:
  source: ${recipe_dir}/answers.tsv
  format: crowd
  params:
    columns: {item: task, worker: annotator, label: stars, truth: gold}
    truth: ${recipe_dir}/gold.csv
    numbers_as_names: true
tasks:
  stars: {labels: ["1", "2", "3"]}
annotators:
  - {task: stars, column: answers}
aggregate:
  gold: label
label_model:
  name: majority
output:
  folder: ${recipe_dir}/out
""")
    monkeypatch.chdir(tmp_path)  # not the recipe's folder: ${recipe_dir} finds its files
    assert main(["curate", "r/stars.yaml"]) == 0
    ds, _ = mmweak.load_curated(tmp_path / "r" / "out")
    assert list(ds["train"]["item"]) == ["q1", "q2", "q3"] and ds["train"]["stars_label"] == [0, 2, 1]


def test_a_folder_with_a_named_builder_is_its_data_dir(tmp_path):
    """`format: csv` (or imagefolder) on a folder said the existing folder could not be found."""
    folder = tmp_path / "csvs"
    folder.mkdir()
    (folder / "train.csv").write_text("text,label\nbuy now,1\nhello,0\n")
    (folder / "test.csv").write_text("text,label\nfree,1\n")
    ds = load_source(folder, format="csv")
    assert sorted(ds) == ["test", "train"] and ds["train"]["text"] == ["buy now", "hello"]
    images = tmp_path / "images"
    for cls, shade in (("cat", 0), ("dog", 255)):
        (images / "train" / cls).mkdir(parents=True)
        PIL.Image.new("RGB", (4, 4), (shade,) * 3).save(images / "train" / cls / "a.png")
    pics = load_source(images, format="imagefolder")
    assert pics["train"].features["label"].names == ["cat", "dog"] and len(pics["train"]) == 2
    assert load_source(folder / "train.csv", format="csv")["train"]["label"] == [1, 0]  # a file is data_files still
