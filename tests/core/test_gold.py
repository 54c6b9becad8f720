"""Gold labels are read against the task's classes: a ClassLabel in another order, class names as text, nulls.

Read by position, a validation ``ClassLabel(["spam", "ham"])`` for a task ``["ham", "spam"]`` fed the label model
inverted dev labels and scored every LF against them (an LF right on every row reported 0 % accuracy).
"""

import json
import warnings

import numpy as np
import pytest
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

import mmweak
from mmweak import labeling_function
from mmweak.gold import read_gold
from mmweak.review import add_annotator_votes
from mmweak.sources import read_crowd

SPAM = mmweak.Task("spam", ["ham", "spam"])
TEXTS = ["free money", "hello", "free gift", "see you", "free", "lunch?"] * 5
TRUTH = [1, 0, 1, 0, 1, 0] * 5  # in the task's order: 1 = spam


def _curated(gold, feature) -> DatasetDict:
    free = labeling_function(task=SPAM, inputs="text", name="free")(
        lambda b: [1 if "free" in t else -1 for t in b["text"]])
    hello = labeling_function(task=SPAM, inputs="text", name="greeting")(
        lambda b: [0 if "free" not in t else -1 for t in b["text"]])
    dev = Dataset.from_dict({"text": TEXTS, "label": gold}, features=Features({"text": Value("string"), "label": feature}))
    dd = DatasetDict({"train": Dataset.from_dict({"text": TEXTS}), "validation": dev})
    return mmweak.aggregate(mmweak.apply_lfs(dd, [free, hello]), gold="label")


@pytest.mark.parametrize("gold,feature", [
    ([1 - t for t in TRUTH], ClassLabel(names=["spam", "ham"])),  # the same truth, its classes in the other order
    (TRUTH, ClassLabel(names=["ham", "spam"])),
    (["spam" if t else "ham" for t in TRUTH], Value("string")),
    ([float(t) for t in TRUTH], Value("float64")),
])
def test_every_way_of_writing_the_same_gold_gives_the_same_labels_and_scores(gold, feature):
    out = _curated(gold, feature)
    summary = mmweak.analyze(out, SPAM, split="validation")
    assert [r["empirical_accuracy"] for r in summary.rows] == [1.0, 1.0]
    np.testing.assert_array_equal(read_gold(out["validation"], "label", SPAM, split="validation"), TRUTH)


@pytest.mark.parametrize("values,message", [
    ([0, 1, 2], r"gold column 'y' of split 'dev', row 2: 2 is not a class index -1..1 of task 'spam'"),
    ([0, 0.5], r"row 1: 0.5 is not a class index"),
    (["ham", "eggs"], r"row 1: 'eggs' is not a class of task 'spam' \['ham', 'spam'\]"),
])
def test_gold_that_is_not_a_class_names_column_split_and_row(values, message):
    with pytest.raises(ValueError, match=message):
        read_gold(Dataset.from_dict({"y": values}), "y", SPAM, split="dev")


def test_a_class_label_sharing_some_names_is_refused_and_one_sharing_none_is_read_by_position():
    ds = Dataset.from_dict({"y": [0]}, features=Features({"y": ClassLabel(names=["ham", "eggs"])}))
    with pytest.raises(ValueError, match=r"its ClassLabel \['ham', 'eggs'\] and task 'spam' \['ham', 'spam'\] share "):
        read_gold(ds, "y", SPAM)
    other = Dataset.from_dict({"y": [1, 0, -1]}, features=Features({"y": ClassLabel(names=["0", "1"])}))
    assert read_gold(other, "y", SPAM).tolist() == [1, 0, -1]
    upper = Dataset.from_dict({"y": [0, 1]}, features=Features({"y": ClassLabel(names=["SPAM", "HAM"])}))
    assert read_gold(upper, "y", SPAM).tolist() == [1, 0]  # WRENCH's youtube writes HAM and SPAM


def test_named_crowd_answers_follow_the_task_whatever_its_class_order(tmp_path):
    (tmp_path / "label.csv").write_text("item,worker,label\n0,a,spam\n0,b,spam\n1,a,ham\n1,b,ham\n")
    ds = read_crowd(tmp_path)["train"]  # classes sorted: ham = 0, spam = 1
    reversed_task = mmweak.Task("spam", ["spam", "ham"])
    votes = add_annotator_votes(ds, reversed_task, "answers")
    assert np.asarray(votes["spam_votes"]).tolist() == [[0, 0], [1, 1]]  # spam is this task's class 0


def test_aggregate_checks_every_splits_gold_before_it_fits():
    """A train-only dataset's gold is no dev gold, so aggregate never read it: a value that is no class passed, and
    the error came only from save_curated or analyze, after the fit. It now fails at once, naming split and row."""
    free = labeling_function(task=SPAM, inputs="text", name="free")(
        lambda b: [1 if "free" in t else -1 for t in b["text"]])
    voted = mmweak.apply_lfs(DatasetDict({"train": Dataset.from_dict(
        {"text": TEXTS, "label": ["spam" if t else "ham" for t in TRUTH[:-1]] + ["eggs"]})}), [free])
    with pytest.raises(ValueError, match=r"gold column 'label' of split 'train', row 29: 'eggs' is not a class of "
                                         r"task 'spam'"):
        mmweak.aggregate(voted, gold="label")
    mended = voted.map(lambda r, i: {"label": None if i == 29 else r["label"]}, with_indices=True)
    out = mmweak.aggregate(mended, gold={"spam": "label"}, model="majority")  # a missing gold value is no gold
    assert out["train"]["spam_label"][:2] == [1, -1]


@pytest.mark.parametrize("values", [TRUTH, ["spam" if t else "ham" for t in TRUTH], [float(t) for t in TRUTH]])
def test_gold_follows_the_rows_of_a_shuffled_selected_or_filtered_dataset(values):
    """Plain number and text columns were read in storage order, ignoring the index mapping select/shuffle/filter
    keep: a shuffled dev split fitted with gold on the wrong rows, a filtered one failed with an IndexError."""
    ds = Dataset.from_dict({"y": values, "row": list(range(len(values)))})
    for view in (ds.shuffle(seed=3), ds.select([5, 0, 2]), ds.filter(lambda r: r["row"] % 3 == 0)):
        assert read_gold(view, "y", SPAM).tolist() == [TRUTH[r] for r in view["row"]]


def test_a_dev_split_that_is_missing_or_the_fit_split_is_refused():
    """dev_split='nope' raised a bare KeyError; dev_split='train' (the fit split) was accepted, though its gold
    would score the rows it was fitted to."""
    out = _curated(TRUTH, ClassLabel(names=["ham", "spam"]))
    with pytest.raises(ValueError, match=r"dev_split 'nope' not in splits \['train', 'validation'\]"):
        mmweak.aggregate(out, gold="label", dev_split="nope")
    with pytest.raises(ValueError, match=r"dev_split 'train' is the split the label model is fitted on"):
        mmweak.aggregate(out, gold="label", dev_split="train")


def test_pos_label_takes_a_class_name_and_refuses_what_is_no_class():
    out = _curated(TRUTH, ClassLabel(names=["ham", "spam"]))
    by_name = mmweak.aggregate(out, gold="label", objective="f1", pos_label="SPAM")  # case as gold is read
    by_index = mmweak.aggregate(out, gold="label", objective="f1", pos_label=1)
    assert by_name["train"]["spam_label"] == by_index["train"]["spam_label"]
    assert mmweak.aggregate(out, gold="label", objective="f1", pos_label=1.0)["train"]["spam_label"] == \
        by_index["train"]["spam_label"]  # a whole float, as YAML or JSON may give it
    mmweak.aggregate(out, gold="label", pos_label="eggs")  # unused by the accuracy rule: another task's class, say
    for bad in ("eggs", 2, 1.5):
        with pytest.raises(ValueError, match=r"pos_label .*(is not a class|must be a class) of task 'spam'"):
            mmweak.aggregate(out, gold="label", objective="f1", pos_label=bad)


STARS = mmweak.Task("stars", ["1", "2", "3"])  # a rating: its classes are named by numbers that are not positions


def test_integer_labels_of_classes_named_by_other_numbers_are_refused_as_ambiguous():
    # Read as indices, a rating of 1 was class "2" and gold shifted the same way hid it: refused, names read
    with pytest.raises(ValueError, match=r"gold column 'y' holds integer labels, which are class indices \(1 is class "
                                         r"'2'\), but task 'stars' names its classes by other numbers"):
        read_gold(Dataset.from_dict({"y": [1, 2, 0]}), "y", STARS)
    with pytest.raises(ValueError, match=r"gold column 'y' \(row 1: 1\) holds integer labels"):
        read_gold(Dataset.from_dict({"y": [None, 1]}), "y", STARS)  # with a null: the per-row reading
    with pytest.raises(ValueError, match=r"row 0: '0' is not a class of task 'stars'"):
        read_gold(Dataset.from_dict({"y": ["0"]}), "y", STARS)
    assert read_gold(Dataset.from_dict({"y": ["1", None, "3", " 2"]}), "y", STARS).tolist() == [0, -1, 2, 1]
    assert read_gold(Dataset.from_dict({"y": [-1, -1]}), "y", STARS).tolist() == [-1, -1]  # no gold is no label
    typed = Dataset.from_dict({"y": [0, 2]}, features=Features({"y": ClassLabel(names=["1", "2", "3"])}))
    assert read_gold(typed, "y", STARS).tolist() == [0, 2]  # a ClassLabel's integers are its positions
    # classes named "0".."K-1" in order: index and name agree, integers read as before
    assert read_gold(Dataset.from_dict({"y": [1, 0]}), "y", mmweak.Task("t", ["0", "1"])).tolist() == [1, 0]


def test_integer_answers_of_a_rating_are_refused_and_named_answers_read(tmp_path):
    (tmp_path / "label.csv").write_text("item,worker,label\na,w1,1\na,w2,1\nb,w1,2\n")
    with pytest.raises(mmweak.review.AnnotationError, match=r"row 0, annotator 'w1': label 1: the answers holds "
                                                             r"integer labels, which are class indices"):
        add_annotator_votes(read_crowd(tmp_path)["train"], STARS, "answers")
    ratings = read_crowd(tmp_path, numbers_as_names=True)["train"]  # the way out the message names
    assert add_annotator_votes(ratings, STARS, "answers")["stars_votes"] == [[0, 0], [1, -1]]
    named = Dataset.from_dict({"answers": [[{"worker": "w1", "label": "1"}, {"worker": "w2", "label": "3"}]]})
    assert add_annotator_votes(named, STARS, "answers")["stars_votes"] == [[0, 2]]
    # bluebird-style answers 0..K-1 with labels_from: classes "0".."K-1", indices as ever
    ds = add_annotator_votes(read_crowd(tmp_path)["train"], mmweak.Task("t", ["0", "1", "2"]), "answers")
    assert ds["t_votes"] == [[1, 1], [2, -1]]


def test_pos_label_of_classes_named_by_other_numbers_is_a_name_and_an_integer_is_refused():
    lf = labeling_function(task=STARS, inputs="n", name="n")(lambda b: [n % 3 for n in b["n"]])
    ds = mmweak.apply_lfs(Dataset.from_dict({"n": list(range(30))}), [lf])
    for ambiguous in (1, np.int64(2)):
        with pytest.raises(ValueError, match=r"pos_label .* of task 'stars' is ambiguous: its classes \['1', '2', "
                                             r"'3'\] are named by numbers, and .* is class '.' by index but class "
                                             r"'.' by name"):
            mmweak.aggregate(ds, model="majority", objective="f1", pos_label=ambiguous)
    with pytest.raises(ValueError, match=r"pos_label '0' of task 'stars' names no class"):  # text reads by name
        mmweak.aggregate(ds, model="majority", objective="f1", pos_label="0")
    # where both readings agree, or only one exists, an integer is no riddle
    assert mmweak.provenance.read_record(mmweak.aggregate(ds, model="majority", objective="f1", pos_label=0))[
        "tasks"]["stars"]["label_model"]["fit"]["pos_label"] == 0  # no class is named "0": index 0
    polar = mmweak.Task("polar", ["-1", "1"])
    lf2 = labeling_function(task=polar, inputs="n", name="n2")(lambda b: [n % 2 for n in b["n"]])
    two = mmweak.apply_lfs(Dataset.from_dict({"n": list(range(30))}), [lf2])
    assert mmweak.provenance.read_record(mmweak.aggregate(two, model="majority", objective="f1", pos_label=1))[
        "tasks"]["polar"]["label_model"]["fit"]["pos_label"] == 1  # "1" by name and by index
    out = mmweak.aggregate(ds, model="majority", objective="f1", pos_label="1")
    assert mmweak.provenance.read_record(out)["tasks"]["stars"]["label_model"]["fit"]["pos_label"] == 0
    mmweak.aggregate(ds, model="majority", pos_label=1)  # unused by the accuracy rule: not refused


def test_a_model_template_set_for_the_f1_rule_keeps_it_unless_aggregate_says_otherwise():
    # aggregate's own defaults reset such a template to argmax labels of class 1, without a word
    out = _curated(TRUTH, ClassLabel(names=["ham", "spam"]))
    template = mmweak.labelmodels.create("auto", cardinality=2, objective="f1", pos_label=0)
    fit = mmweak.provenance.read_record(mmweak.aggregate(out, model=template, gold="label"))["tasks"]["spam"]
    assert (fit["label_model"]["fit"]["objective"], fit["label_model"]["fit"]["pos_label"]) == ("f1", 0)
    assert (fit["label_model"]["params"]["objective"], fit["label_model"]["params"]["pos_label"]) == ("f1", 0)
    said = mmweak.aggregate(out, model=template, gold="label", objective="accuracy")
    assert mmweak.provenance.read_record(said)["tasks"]["spam"]["label_model"]["fit"]["objective"] == "accuracy"
    assert template.get_params()["objective"] == "f1"  # the template itself is left as it was


def test_an_annotator_answering_a_row_twice_with_two_labels_is_warned_about():
    ds = Dataset.from_dict({"answers": [[{"annotator": "a", "label": "ham"}, {"annotator": "a", "label": "spam"}],
                                        [{"annotator": "a", "label": "ham"}, {"annotator": "a", "label": "ham"}]]})
    with pytest.warns(UserWarning, match=r"1 time\(s\) an annotator answered a row again with another label"):
        out = add_annotator_votes(ds, SPAM, "answers")
    assert out["spam_votes"] == [[1], [0]]  # the later answer counts


def test_a_class_label_with_a_class_the_task_lacks_names_that_class():
    ds = Dataset.from_dict({"y": [0, 2]}, features=Features({"y": ClassLabel(names=["ham", "spam", "Poodle"])}))
    with pytest.raises(ValueError, match=r"share \['ham', 'spam'\] but not every class \(\['Poodle'\] are not classes "
                                         r"of the task\)"):
        read_gold(ds, "y", SPAM)


def test_a_class_label_holding_some_of_the_tasks_classes_is_read_by_name():
    """A task with a class the gold column lacks (an 'other' added to the task) was refused with "share ['ham',
    'spam'] but not every class ([] are not classes of the task)"."""
    ds = Dataset.from_dict({"y": [0, 1, -1]}, features=Features({"y": ClassLabel(names=["spam", "ham"])}))
    assert read_gold(ds, "y", mmweak.Task("t", ["ham", "other", "spam"])).tolist() == [2, 0, -1]


def test_a_class_label_naming_other_classes_is_read_by_position_and_said():
    ds = Dataset.from_dict({"y": [0, 1]}, features=Features({"y": ClassLabel(names=["neg", "pos"])}))
    with pytest.warns(UserWarning, match=r"gold column 'y': its ClassLabel \['neg', 'pos'\] names none of the classes "
                                         r"of task 'spam' \['ham', 'spam'\], so it is read by position \('neg' as "
                                         r"'ham', 'pos' as 'spam'\)"):
        assert read_gold(ds, "y", SPAM).tolist() == [0, 1]
    numbered = Dataset.from_dict({"y": [1, 0]}, features=Features({"y": ClassLabel(num_classes=2)}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # datasets' own names "0", "1" are positions: nothing to say
        assert read_gold(numbered, "y", SPAM).tolist() == [1, 0]


def test_answers_typed_with_a_class_label_in_another_order_read_by_name_as_gold_is():
    item = {"annotator": Value("string"), "label": ClassLabel(names=["spam", "ham"])}
    feats = Features({"crowd": [item], "y": ClassLabel(names=["spam", "ham"])})
    ds = Dataset.from_dict({"crowd": [[{"annotator": "a", "label": 0}], [{"annotator": "a", "label": 1.0}]],
                            "y": [0, 1]}, features=feats)
    out = add_annotator_votes(ds, SPAM, "crowd")
    assert out["spam_votes"] == [[1], [0]] and read_gold(out, "y", SPAM).tolist() == [1, 0]  # both: 0 is "spam"
    partial = Features({"crowd": [{"annotator": Value("string"), "label": ClassLabel(names=["spam", "eggs"])}]})
    with pytest.raises(mmweak.review.AnnotationError, match="share some classes but not all"):
        add_annotator_votes(Dataset.from_dict({"crowd": [[{"annotator": "a", "label": 0}]]}, features=partial),
                            SPAM, "crowd")


TOPIC = mmweak.Task("topic", ["promo", "praise", "other"])


def _two_tasks(tmp_path=None):
    s1 = labeling_function(task=SPAM, inputs="text", name="s1")(
        lambda b: [1 if "buy" in t else 0 if "love" in t else -1 for t in b["text"]])
    t1 = labeling_function(task=TOPIC, inputs="text", name="t1")(
        lambda b: [2 if "meh" in t else 1 if "love" in t else -1 for t in b["text"]])
    rows = {"text": ["buy", "love", "meh", "buy love"] * 10, "gold_spam": [1, 0, 0, 1] * 10,
            "gold_topic": [0, 1, 2, 1] * 10}
    dd = DatasetDict(train=Dataset.from_dict(rows), validation=Dataset.from_dict(rows))
    return mmweak.apply_lfs(dd, [s1, t1])


def test_one_gold_column_is_not_read_as_every_tasks_gold():
    """spam's 0/1 read as topic's classes made a row whose only topic vote is "other" come out "promo"."""
    ds = _two_tasks()
    with pytest.raises(ValueError, match=r"gold='gold_spam' names one column for 2 tasks \(spam, topic\); a gold "
                                         r"column holds one task's labels: map each task to its own, e\.g\. "
                                         r"gold=\{'spam': 'gold_spam'\}"):
        mmweak.aggregate(ds, gold="gold_spam")
    out = mmweak.aggregate(ds, gold={"spam": "gold_spam", "topic": "gold_topic"})
    tasks = mmweak.provenance.read_record(out)["tasks"]
    assert (tasks["spam"]["gold_column"], tasks["topic"]["gold_column"]) == ("gold_spam", "gold_topic")
    meh = out["validation"]["text"].index("meh")
    assert out["validation"][meh]["topic_label"] == 2
    # One task at a time, one column is that task's gold.
    one = mmweak.aggregate(ds, tasks=[SPAM], gold="gold_spam")
    assert mmweak.provenance.read_record(one)["tasks"]["spam"]["gold_column"] == "gold_spam"


def test_cli_gold_takes_a_column_per_task(tmp_path, capsys):
    from mmweak.cli import main

    folder = mmweak.save_curated(_two_tasks(), tmp_path / "votes")
    out = tmp_path / "out"
    assert main(["aggregate", str(folder), "--out", str(out), "--gold", "gold_spam"]) == 2
    assert ("--gold 'gold_spam' names one column for 2 tasks (spam, topic); a gold column holds one task's labels: "
            "give --gold spam=gold_spam") in capsys.readouterr().err and not out.exists()
    assert main(["aggregate", str(folder), "--out", str(out), "--gold", "nope=gold_spam"]) == 2
    assert "--gold 'nope=gold_spam': expected TASK=COLUMN with TASK one of ['spam', 'topic']" in capsys.readouterr().err
    assert main(["aggregate", str(folder), "--out", str(out), "--gold", "spam=gold_spam, topic=gold_topic"]) == 0
    tasks = mmweak.provenance.read_record(mmweak.load_curated(out)[0])["tasks"]
    assert (tasks["spam"]["gold_column"], tasks["topic"]["gold_column"]) == ("gold_spam", "gold_topic")
    capsys.readouterr()
    assert main(["report", str(out), "--gold", "gold_spam"]) == 2
    assert main(["report", str(out), "--gold", "topic=gold_topic", "--json"]) == 0
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [d["task"] for d in docs] == ["spam", "topic"]
    assert [(r["lf"], r["correct"], r["empirical_accuracy"]) for r in docs[1]["lfs"]] == [("t1", 30, 1.0)]


def test_cli_buckets_finds_the_task_by_its_lf(tmp_path, capsys):
    from mmweak.cli import main

    folder = mmweak.save_curated(mmweak.aggregate(_two_tasks(), gold={"spam": "gold_spam", "topic": "gold_topic"}),
                                 tmp_path / "two")
    capsys.readouterr()
    assert main(["buckets", str(folder), "--lf", "t1"]) == 0  # only topic has an LF named t1: no --task needed
    assert "t1=other, label_model=other: 10 rows" in capsys.readouterr().out
