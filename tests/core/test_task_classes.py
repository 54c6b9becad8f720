"""A task's classes read from the data (`labels_from` in a recipe, `classes_from_data` in Python)."""

from __future__ import annotations

import datasets
import pytest
from datasets import ClassLabel, Dataset, DatasetDict, Features, List, Value

from mmweak.task_classes import classes_from_data

YN = ClassLabel(names=["no", "yes"])


def _dd(**splits: Dataset) -> DatasetDict:
    return DatasetDict(splits)


def test_a_class_label_gives_its_names_in_its_order_wherever_it_sits():
    plain = Dataset.from_dict({"y": [1, 0]}, features=Features({"y": ClassLabel(names=["z", "a"])}))
    assert classes_from_data(plain, "y").names == ("z", "a")  # not sorted: the ClassLabel's order is the classes'
    answers = Features({"answers": List({"worker": Value("string"), "label": YN})})
    nested = Dataset.from_dict({"answers": [[{"worker": "w1", "label": 1}], []]}, features=answers)
    found = classes_from_data(nested, "answers")
    assert found.names == ("no", "yes") and found.how == "the names of ClassLabel 'answers'"


def test_class_ids_are_counted_over_every_column_and_split_with_nulls_and_minus_one_as_none():
    ds = _dd(train=Dataset.from_dict({"answers": [[{"worker": 1, "label": 0}], None, [{"worker": 2, "label": None}]],
                                      "label": [-1, None, 1]}),
             test=Dataset.from_dict({"answers": [[{"worker": 1, "label": 1}]], "label": [3]}))
    found = classes_from_data(ds, ["answers", "label"])
    assert found.names == ("0", "1", "2", "3")  # 2 is held by no row, yet lies below the largest id
    assert found.how == "class ids 0..3 in 'answers', 'label' (one more than the largest id)"
    with pytest.raises(ValueError, match=r"'answers': only the class '0' in any split, and a task needs two or more"):
        classes_from_data(ds["train"], ["answers"])
    floats = Dataset.from_dict({"y": [1.0, float("nan"), None, 2.0]})  # what pandas makes of ids with a gap
    assert classes_from_data(floats, "y").names == ("0", "1", "2")


def test_rows_a_selection_left_out_have_no_say():
    ds = Dataset.from_dict({"y": [0, 1, 5]})
    assert classes_from_data(ds.select([0, 1]), "y").names == ("0", "1")


def test_names_are_sorted_as_class_encode_column_sorts_them():
    ds = Dataset.from_dict({"y": ["pos", "neg", None, "neutral", "pos", ""]})  # empty text is no label
    assert classes_from_data(ds, "y").names == ("neg", "neutral", "pos")
    assert classes_from_data(ds, "y").names == tuple(ds.filter(lambda r: bool(r["y"])).class_encode_column("y")
                                                    .features["y"].names)


def test_names_differing_only_in_case_are_one_class_spelt_as_most_rows_spell_it():
    ds = Dataset.from_dict({"y": ["pos", "neg", "NEG", "neg ", "neg", "pos", "Pos"]})
    assert classes_from_data(ds, "y").names == ("neg", "pos")  # as read_crowd folds a crowd folder's names


def test_whole_number_text_is_a_class_id_as_gold_and_answers_read_it():
    answers = Dataset.from_dict({"answers": [[{"worker": "a", "label": "10"}, {"worker": "b", "label": "2"}]],
                                 "gold": [2]})
    found = classes_from_data(answers, ["answers", "gold"])
    assert found.names == tuple(str(k) for k in range(11)) and found.how.startswith("class ids 0..10")
    assert classes_from_data(Dataset.from_dict({"y": ["1", "-1", "0.0"]}), "y").names == ("0", "1")
    with pytest.raises(ValueError, match=r"column 'y' of split 'train' holds class names \('cat'\) and column 'y' "
                                         r"of split 'train' class ids \(1\)"):
        classes_from_data(Dataset.from_dict({"y": ["1", "cat"]}), "y")


def test_ids_and_names_next_to_a_class_label_must_be_its_own():
    y = Dataset.from_dict({"y": [0, 1]}, features=Features({"y": YN}))
    ok = _dd(train=y.add_column("votes", [[0, -1], [1, 1]]))
    assert classes_from_data(ok, ["y", "votes"]).names == ("no", "yes")
    with pytest.raises(ValueError, match=r"column 'votes' of split 'train' holds class id 2, but column 'y' of split "
                                         r"'train' names only 2 classes \['no', 'yes'\]"):
        classes_from_data(_dd(train=y.add_column("votes", [[0, 2], [1, 1]])), ["y", "votes"])
    assert classes_from_data(_dd(train=y.add_column("said", ["YES", "no"])), ["y", "said"]).names == ("no", "yes")
    with pytest.raises(ValueError, match=r"column 'said' of split 'train' holds 'maybe', which is not a class of "
                                         r"column 'y' of split 'train' \['no', 'yes'\]"):
        classes_from_data(_dd(train=y.add_column("said", ["maybe", "no"])), ["y", "said"])


def test_class_labels_that_disagree_are_refused_naming_both_places():
    a = Dataset.from_dict({"y": [0]}, features=Features({"y": YN}))
    b = Dataset.from_dict({"y": [0]}, features=Features({"y": ClassLabel(names=["yes", "no"])}))
    with pytest.raises(ValueError, match=r"column 'y' of split 'test' is a ClassLabel of \['yes', 'no'\], but column "
                                         r"'y' of split 'train' is one of \['no', 'yes'\]: name the classes"):
        classes_from_data(_dd(train=a, test=b), "y")


@pytest.mark.parametrize("values, message", [
    ({"y": [0.5, 1.0]}, r"column 'y' of split 'train' holds numbers that are not whole"),
    ({"y": [True, False]}, r"column 'y' of split 'train' holds bool values, which are neither class ids nor class"),
    ({"y": [-2, 1]}, r"column 'y' of split 'train' holds -2, which is no class id"),
    ({"y": [None, None]}, r"'y': no class in any split, and a task needs two or more: name the classes in the"),
    ({"y": [[{"worker": 1}]]}, r"column 'y' of split 'train' holds records without a 'label' field"),
])
def test_columns_that_hold_no_classes_are_refused(values, message):
    with pytest.raises(ValueError, match=message):
        classes_from_data(_dd(train=Dataset.from_dict(values)), "y")


def test_ids_in_one_column_and_names_in_another_are_refused_and_a_missing_column_is_named():
    ds = _dd(train=Dataset.from_dict({"a": [0, 1], "b": ["x", "y"]}))
    with pytest.raises(ValueError, match=r"column 'b' of split 'train' holds class names \('x'\) and column 'a' of "
                                         r"split 'train' class ids \(1\)"):
        classes_from_data(ds, ["a", "b"])
    with pytest.raises(ValueError, match=r"no split has column 'c' to read classes from \(columns: \['a', 'b'\]\)"):
        classes_from_data(ds, ["a", "c"])
    with pytest.raises(ValueError, match=r"name the column\(s\) whose classes to read, got \[\]"):
        classes_from_data(ds, [])


@pytest.mark.parametrize("values", [[0, 200], [0, 3_000_000_000], [0.0, 1e300], ["0", "5000000000"]])
def test_an_id_past_what_votes_can_hold_is_refused_before_any_class_is_made(values):
    with pytest.raises(ValueError, match=r"column 'y' of split 'train' holds class id \d+, but a task has at most "
                                         r"127 classes \(votes are stored as int8\)"):
        classes_from_data(Dataset.from_dict({"y": values}), "y")
    assert len(classes_from_data(Dataset.from_dict({"y": [0, 126]}), "y").names) == 127


def test_more_names_than_votes_can_hold_are_refused():
    with pytest.raises(ValueError, match=r"'y': 130 class names, but a task has at most 127 classes"):
        classes_from_data(Dataset.from_dict({"y": [f"c{i}" for i in range(130)]}), "y")


def test_datasets_features_of_the_answers_reader_are_understood():
    # datasets writes Sequence({...}) as a mapping of lists; the label field is still found
    feats = Features({"answers": datasets.Sequence({"worker": Value("int64"), "label": YN})})
    ds = Dataset.from_dict({"answers": [{"worker": [1], "label": [1]}]}, features=feats)
    assert classes_from_data(ds, "answers").names == ("no", "yes")
