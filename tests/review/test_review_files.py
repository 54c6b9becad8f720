"""Label Studio JSON files: export -> (Label Studio export) -> import round-trips every field; bad input is counted."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re

import datasets
import numpy as np
import pytest

import mmweak
from mmweak import review
from mmweak.review import AnnotationError

TEXTS = ["check out my channel http://x.y", "great song", "subscribe please", "love it", "free money at www.win.com",
         "nice", "plz subscribe to my channel", "best video ever", "visit www.deals.com", "this is my childhood song"]
GOLD = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0]


@pytest.fixture
def curated(spam):
    lfs = [
        mmweak.labeling_function(task=spam, inputs="text", name="link")(
            lambda b: [1 if ("http" in t or "www" in t) else -1 for t in b["text"]]),
        mmweak.labeling_function(task=spam, inputs="text", name="subscribe")(
            lambda b: [1 if "subscribe" in t else -1 for t in b["text"]]),
        mmweak.labeling_function(task=spam, inputs="text", name="short")(
            lambda b: [0 if len(t) < 20 else -1 for t in b["text"]]),
    ]
    ds = datasets.Dataset.from_dict({"text": TEXTS, "label": GOLD, "uid": [f"c{i:03d}" for i in range(10)]})
    return mmweak.aggregate(mmweak.apply_lfs(ds, lfs))


def _as_label_studio_export(tasks, answers):
    """What Label Studio's JSON export holds after annotation: ids, and each task's annotations."""
    out = copy.deepcopy(tasks)
    for k, t in enumerate(out):
        t["id"] = 100 + k
        t["annotations"] = [
            {"id": 1000 + 10 * k + j, "completed_by": who, "was_cancelled": False, "lead_time": 3.5,
             "result": [{"from_name": "spam", "to_name": "text", "type": "choices", "value": {"choices": [label]}}],
             "created_at": f"2026-03-0{j + 1}T10:00:00.000000Z", "updated_at": f"2026-03-0{j + 1}T10:0{k}:00.500000Z"}
            for j, (who, label) in enumerate(answers(k, t))
        ]
    return out


def test_export_then_import_round_trips_every_field(curated, spam, tmp_path):
    sel = review.select(curated, spam, 4, strategy="margin")
    path = review.export_tasks(sel, spam, tmp_path / "batch1.json")
    tasks = json.loads(path.read_text())
    assert (tmp_path / "batch1.label_config.xml").read_text().startswith('<View>\n  <Text name="text" value="$text"/>')

    # Every selection field is in the file, unchanged.
    rows = list(sel["review_row"])
    labels = list(curated["spam_label"])
    probs = list(curated["spam_probs"])
    votes = list(curated["spam_votes"])
    for t, i in zip(tasks, range(len(sel))):
        m = t["data"]["mmweak"]
        r = rows[i]
        assert t["data"]["text"] == TEXTS[r]
        assert (m["task"], m["split"], m["row"], m["strategy"], m["reason"], m["round"]) == (
            "spam", "train", r, "margin", sel["review_reason"][i], 1)
        assert m["score"] == pytest.approx(sel["review_score"][i])
        assert m["model_label"] == labels[r] and m["model"] == "auto"
        assert m["probs"] == pytest.approx({"ham": probs[r][0], "spam": probs[r][1]}, abs=1e-6)
        names = ["link", "subscribe", "short"]
        assert m["votes"] == {names[j]: spam.labels[v] for j, v in enumerate(votes[r]) if v >= 0}
        if labels[r] >= 0:
            assert t["predictions"][0]["result"][0]["value"]["choices"] == [spam.labels[labels[r]]]

    # Label Studio adds ids and annotations; completed_by is a user id or an expanded user object.
    exported = _as_label_studio_export(tasks, lambda k, t: [
        ({"id": 3, "email": "ann@lab.org"}, spam.labels[GOLD[t["data"]["mmweak"]["row"]]]),
        (7, spam.labels[GOLD[t["data"]["mmweak"]["row"]]]),
    ])
    (tmp_path / "export.json").write_text(json.dumps(exported))
    out, report = review.import_annotations(curated, spam, tmp_path / "export.json", return_report=True)
    assert (report.stored, report.updated, report.rows, report.skipped) == (8, 0, 4, {})
    for k, t in enumerate(exported):
        r = t["data"]["mmweak"]["row"]
        stored = out[r]["spam_answers"]
        assert [a["annotator"] for a in stored] == ["ann@lab.org", "user:7"]
        for j, a in enumerate(stored):
            ann = t["annotations"][j]
            assert a == {
                "annotator": ["ann@lab.org", "user:7"][j], "label": GOLD[r],
                "time": dt.datetime(2026, 3, j + 1, 10, k, 0, 500000, tzinfo=dt.timezone.utc),
                "source": f"file export.json annotation {ann['id']}", "strategy": "margin",
                "reason": t["data"]["mmweak"]["reason"], "round": 1, "model_label": labels[r],
            }
        assert out[r]["spam_gold"] == GOLD[r]
    assert sum(g >= 0 for g in out["spam_gold"]) == 4
    assert out.features["spam_answers"] == review.answers_feature(spam)

    # The next selection skips reviewed rows and belongs to round 2.
    nxt = review.select(out, spam, 3, strategy="random")
    assert not set(nxt["review_row"]) & set(rows) and set(nxt["review_round"]) == {2}

    # Saved and loaded back, the answers and their types survive.
    folder = mmweak.save_curated(mmweak.aggregate(out), tmp_path / "curated")
    back, _ = mmweak.load_curated(folder)
    assert back["train"]["spam_answers"] == list(out["spam_answers"])
    card = (folder / "README.md").read_text()
    assert "#### Human review" in card and "| margin | 4 |" in card
    scored = sum(labels[r] >= 0 for r in rows)  # rows the model labelled when they were sent
    assert re.search(rf"\| 1 \| margin \| 4 \| [0-9.]+ \({scored} rows\) \|", card)  # the round says its base too
    # The margin rows came back through the file with their strategy: they taught the model, not judged it.
    assert "4 of them were chosen for being hard (not drawn at random)" in card


def test_bad_annotations_are_counted_or_raised_and_nothing_is_lost(curated, spam, tmp_path):
    sel = review.select(curated, spam, 4, strategy="entropy")
    tasks = json.loads(review.export_tasks(sel, spam, tmp_path / "t.json").read_text())
    exported = _as_label_studio_export(tasks, lambda k, t: [("a@x.io", spam.labels[GOLD[t["data"]["mmweak"]["row"]]])])
    exported[0]["annotations"][0]["result"][0]["value"]["choices"] = ["eggs"]           # unknown class
    exported[1]["annotations"].append({**exported[1]["annotations"][0], "id": 9})      # exact duplicate
    exported[2]["annotations"][0]["was_cancelled"] = True                              # skipped by the person
    exported[3]["annotations"].append({**exported[3]["annotations"][0], "id": 11, "result": []})  # no choice
    stray = {"id": 5, "data": {"text": "not ours"}, "annotations": [exported[1]["annotations"][0]]}
    other = copy.deepcopy(exported[1])
    other["data"]["mmweak"]["task"] = "topic"
    gone = copy.deepcopy(exported[1])
    gone["data"]["mmweak"]["row"] = 99
    (tmp_path / "bad.json").write_text(json.dumps(exported + [stray, other, gone]))

    before = curated["spam_label"]
    with pytest.raises(AnnotationError, match="Label Studio task 5 carries no mmweak row reference"):
        review.import_annotations(curated, spam, tmp_path / "bad.json", on_invalid="raise")
    (tmp_path / "eggs.json").write_text(json.dumps(exported[:1]))
    with pytest.raises(AnnotationError, match=r"row \d+ \(Label Studio task 100\): annotator 'a@x.io' answered 'eggs'"):
        review.import_annotations(curated, spam, tmp_path / "eggs.json", on_invalid="raise")
    with pytest.warns(UserWarning, match="not one of the task's classes"):
        out, report = review.import_annotations(curated, spam, tmp_path / "bad.json", return_report=True)
    assert report.stored == 2
    assert report.skipped == {"unknown_class": 1, "duplicate": 1, "cancelled": 1, "no_choice": 1,
                              "missing_row": 3, "other_task": 2}  # counted per annotation
    assert any("row 99, which no longer exists" in p for p in report.problems)
    assert list(curated["spam_label"]) == list(before) and "spam_answers" not in curated.column_names

    # A later, different answer of the same person replaces the earlier one; an older one does not.
    row1 = exported[1]["data"]["mmweak"]["row"]
    exported[1]["annotations"] = [{**exported[1]["annotations"][0], "id": 12, "updated_at": "2026-04-01T00:00:00Z",
                                   "result": [{"from_name": "spam", "value": {"choices": [spam.labels[1 - GOLD[row1]]]}}]}]
    flipped = spam.labels[1 - GOLD[exported[3]["data"]["mmweak"]["row"]]]
    exported[3]["annotations"] = [{**exported[3]["annotations"][0], "id": 13, "updated_at": "2020-01-01T00:00:00Z",
                                   "result": [{"from_name": "spam", "value": {"choices": [flipped]}}]}]
    (tmp_path / "later.json").write_text(json.dumps(exported[1:2] + exported[3:4]))
    out2, report2 = review.import_annotations(out, spam, tmp_path / "later.json", return_report=True)
    assert (report2.stored, report2.updated, report2.skipped) == (1, 1, {"stale": 1})
    assert [a["label"] for a in out2[row1]["spam_answers"]] == [1 - GOLD[row1]] and out2[row1]["spam_gold"] == 1 - GOLD[row1]


def test_rows_found_by_id_after_reordering(curated, spam, tmp_path):
    sel = review.select(curated, spam, 3, strategy="random", seed=4)
    tasks = json.loads(review.export_tasks(sel, spam, tmp_path / "t.json", id_column="uid").read_text())
    exported = _as_label_studio_export(tasks, lambda k, t: [("a@x.io", "spam")])
    (tmp_path / "e.json").write_text(json.dumps(exported))
    shuffled = curated.shuffle(seed=1)
    mmweak.provenance.write_record(shuffled, mmweak.provenance.read_record(curated))
    out = review.import_annotations(shuffled, spam, tmp_path / "e.json")
    got = sorted(u for u, g in zip(out["uid"], out["spam_gold"]) if g == 1)
    assert got == sorted(sel["uid"])
    # Without the id the shuffled rows no longer match their content: counted, not misplaced.
    tasks2 = json.loads(review.export_tasks(sel, spam, tmp_path / "t2.json").read_text())
    (tmp_path / "e2.json").write_text(json.dumps(_as_label_studio_export(tasks2, lambda k, t: [("a@x.io", "spam")])))
    with pytest.warns(UserWarning, match="no longer exists"):
        out2, rep = review.import_annotations(shuffled, spam, tmp_path / "e2.json", return_report=True)
    placed = [i for i, g in enumerate(out2["spam_gold"]) if g >= 0]
    assert all(out2["uid"][i] in sel["uid"] for i in placed)  # whatever was stored sits on its own row
    assert rep.stored + rep.skipped["missing_row"] == 3


def test_a_repeated_id_falls_back_to_the_row_number_sent(curated, spam, tmp_path):
    # an id column that is not unique found no row, and every answer was lost as "no longer exists"
    repeated = curated.map(lambda x, i: {"vid": i % 3}, with_indices=True)
    mmweak.provenance.write_record(repeated, mmweak.provenance.read_record(curated))
    sel = review.select(repeated, spam, 4, strategy="random", seed=4)
    tasks = json.loads(review.export_tasks(sel, spam, tmp_path / "t.json", id_column="vid").read_text())
    (tmp_path / "e.json").write_text(json.dumps(_as_label_studio_export(tasks, lambda k, t: [("a@x.io", "spam")])))
    out, report = review.import_annotations(repeated, spam, tmp_path / "e.json", return_report=True)
    assert report.stored == 4 and not report.skipped
    assert sorted(i for i, g in enumerate(out["spam_gold"]) if g == 1) == sorted(sel["review_row"])


def _as_json_min(exported):
    """Label Studio's JSON_MIN of a JSON export: one flat item per annotation, null ones for unannotated tasks."""
    out = []
    for t in exported:
        base = {**{k: v for k, v in t["data"].items()}, "id": t["id"]}
        for a in t.get("annotations") or [{"id": None, "completed_by": None}]:
            item = {**base, "annotator": a["completed_by"], "annotation_id": a["id"],
                    "created_at": a.get("created_at"), "updated_at": a.get("updated_at"), "lead_time": None}
            for r in a.get("result", []):
                choices = r["value"]["choices"]
                item[r["from_name"]] = choices[0] if len(choices) == 1 else {"choices": choices}
            out.append(item)
    return out


def test_json_min_exports_and_two_teams_exports_of_one_row(curated, spam, tmp_path):
    sel = review.select(curated, spam, 3, strategy="random", seed=2)
    tasks = json.loads(review.export_tasks(sel, spam, tmp_path / "t.json").read_text())
    exported = _as_label_studio_export(tasks, lambda k, t: [] if k == 2 else [(7, "spam")])
    items = _as_json_min(exported)
    items[1]["spam"] = {"choices": ["ham", "spam"]}  # two choices: counted as such, not as an unknown class
    (tmp_path / "min.json").write_text(json.dumps(items))
    with pytest.warns(UserWarning, match="no choice \\(or several\\)"):
        out, report = review.import_annotations(curated, spam, tmp_path / "min.json", return_report=True)
    assert report.stored == 1 and report.skipped == {"no_choice": 1}  # the unannotated task (nulls) is no answer
    assert any("gave 2 choices" in p for p in report.problems)
    # two teams' exports of one row, each from its own server: their annotation ids collide, their people do not
    one = _as_label_studio_export(tasks[:1], lambda k, t: [(1, "spam")])
    two = _as_label_studio_export(tasks[:1], lambda k, t: [(2, "ham")])
    two[0]["annotations"][0]["updated_at"] = "2026-03-02T10:00:00.000000Z"
    assert one[0]["annotations"][0]["id"] == two[0]["annotations"][0]["id"]
    (tmp_path / "a.json").write_text(json.dumps(one))
    (tmp_path / "b.json").write_text(json.dumps(two))
    both = review.import_annotations(review.import_annotations(curated, spam, tmp_path / "a.json"), spam,
                                     tmp_path / "b.json")
    row = tasks[0]["data"]["mmweak"]["row"]
    assert [(a["annotator"], a["label"]) for a in both[row]["spam_answers"]] == [("user:1", 1), ("user:2", 0)]


def test_one_annotation_read_again_under_another_name_is_one_answer(curated, spam, tmp_path):
    tasks = json.loads(review.export_tasks(review.select(curated, spam, 2, strategy="random"), spam,
                                           tmp_path / "t.json").read_text())
    rows = [t["data"]["mmweak"]["row"] for t in tasks]
    named = _as_label_studio_export(tasks, lambda k, t: [({"id": 1, "email": "ann@lab.org"}, "spam")])
    (tmp_path / "named.json").write_text(json.dumps(named))
    first = review.import_annotations(curated, spam, tmp_path / "named.json")
    # 1. The people renamed for publishing, then the same project's full export (e-mails again) brought back: every
    #    earlier answer was stored a second time under the e-mail, two people where there was one.
    hidden = review.rename_annotators(first, spam, review.pseudonyms("key"))
    again, report = review.import_annotations(hidden, spam, tmp_path / "named.json", return_report=True)
    assert report.stored == 0
    for r in rows:
        assert [a["annotator"] for a in again[r]["spam_answers"]] == [hidden[r]["spam_answers"][0]["annotator"]]
        assert not again[r]["spam_answers"][0]["annotator"].endswith("@lab.org")  # the pseudonym stays
    # 2. The same annotation edited in Label Studio a day later, read from an export that names people by id: the
    #    newer answer replaces the first (it was a second person, and the row a tie without consensus).
    edited = _as_label_studio_export(tasks, lambda k, t: [(1, "ham")])
    for t in edited:
        t["annotations"][0]["updated_at"] = "2026-03-05T10:00:00.000000Z"
    (tmp_path / "edited.json").write_text(json.dumps(edited))
    after = review.import_annotations(first, spam, tmp_path / "edited.json")
    for r in rows:
        assert [(a["annotator"], a["label"]) for a in after[r]["spam_answers"]] == [("ann@lab.org", 0)]
        assert after[r]["spam_gold"] == 0


def test_answers_on_a_split_the_model_is_not_fitted_on_are_said_to_teach_nothing(spam, tmp_path):
    lf = mmweak.labeling_function(task=spam, inputs="text", name="link")(
        lambda b: [1 if "http" in t else -1 for t in b["text"]])
    dd = datasets.DatasetDict({s: datasets.Dataset.from_dict({"text": TEXTS}) for s in ("train", "test")})
    ds = mmweak.aggregate(mmweak.apply_lfs(dd, [lf]))
    tasks = json.loads(review.export_tasks(review.select(ds, spam, 3, strategy="random", split="test"), spam,
                                           tmp_path / "t.json").read_text())
    (tmp_path / "e.json").write_text(json.dumps(_as_label_studio_export(tasks, lambda k, t: [(1, "spam")])))
    answered = review.import_annotations(ds, spam, tmp_path / "e.json")
    with pytest.warns(UserWarning, match=r"task 'spam': reviewed rows outside the fit split 'train' \(3 in split "
                                         r"'test'\) do not teach the label model"):
        again = mmweak.aggregate(answered)
    assert again["train"]["spam_probs"] == ds["train"]["spam_probs"]


def test_labeling_config_follows_the_column_types():
    from datasets import Audio, Features, Image, Value

    task = mmweak.Task("kind", ["speech", "music", "noise"], description='Which "kind"?')
    cfg = review.labeling_config(task, Features({"clip": Audio(), "caption": Value("string"), "kind": Image()}),
                                 ["clip", "caption", "kind"])
    assert cfg == "\n".join([
        "<View>",
        '  <Header value=\'Which "kind"?\'/>',
        '  <Audio name="clip" value="$clip"/>',
        '  <Text name="caption" value="$caption"/>',
        '  <Image name="kind_2" value="$kind_2"/>',
        '  <Choices name="kind" toName="clip" choice="single" showInline="true">',
        '    <Choice value="speech"/>', '    <Choice value="music"/>', '    <Choice value="noise"/>',
        "  </Choices>",
        "</View>",
    ])


def test_annotators_see_the_text_not_the_precomputed_votes_lfs_read(spam):
    # Precomputed LFs (and the LFs recorded for votes a user brought) "read" a votes column: it was shown to
    # annotators as the text to label.
    from lf_library.precomputed import precomputed_lfs
    from mmweak.review.labelstudio import display_columns

    ds = datasets.Dataset.from_dict({"text": TEXTS, "weak": [[1, -1]] * 10})
    voted = mmweak.aggregate(mmweak.apply_lfs(ds, precomputed_lfs(ds, spam, "weak")))
    assert display_columns(voted, spam) == ["text"]
    with pytest.warns(UserWarning, match="not written by apply_lfs"):
        brought = mmweak.aggregate(datasets.Dataset.from_dict(
            {"text": TEXTS, "spam_votes": [[1, -1]] * 10},
            features=datasets.Features({"text": datasets.Value("string"),
                                        "spam_votes": datasets.List(datasets.Value("int8"), length=2)})), [spam])
    assert display_columns(brought, spam) == ["text"]
    # ... while the numbers a tabular LF reads are shown as they were
    rows = datasets.Dataset.from_dict({"age": [30, 70] * 5, "note": ["a", "b"] * 5})
    old = mmweak.labeling_function(task=spam, inputs="age", name="old")(lambda b: [1 if a > 60 else -1 for a in b["age"]])
    assert display_columns(mmweak.apply_lfs(rows, [old]), spam) == ["age"]


def test_not_a_selection_and_not_a_task_file(curated, spam, tmp_path):
    with pytest.raises(ValueError, match="not a review selection"):
        review.export_tasks(curated, spam, tmp_path / "x.json")
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(ValueError, match="is not a Label Studio JSON file"):
        review.import_annotations(curated, spam, tmp_path / "junk.json")
    (tmp_path / "num.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a Label Studio JSON task list"):
        review.import_annotations(curated, spam, tmp_path / "num.json")


def test_cli_review_writes_label_studio_tasks(curated, spam, tmp_path, capsys):
    from mmweak.cli import main

    folder = mmweak.save_curated(curated, tmp_path / "cur")
    assert main(["review", str(folder), "--out", str(tmp_path / "batch.json"), "--n", "3", "--strategy", "entropy"]) == 0
    printed = capsys.readouterr().out
    assert "3 rows of split 'train', task 'spam' (entropy) written to" in printed
    assert f"next: import both into a Label Studio project, annotate, export as JSON, then `mmweak answers {folder}" \
        in printed
    tasks = json.loads((tmp_path / "batch.json").read_text())
    assert [t["data"]["mmweak"]["strategy"] for t in tasks] == ["entropy"] * 3
    assert (tmp_path / "batch.label_config.xml").exists()
    assert main(["review", str(folder), "--out", str(tmp_path / "x.json"), "--strategy", "loudest"]) == 2
    assert main(["review", str(folder), "--out", str(tmp_path / "x.json"), "--n", "-5"]) == 2
    assert "n must be an integer >= 1, got -5" in capsys.readouterr().err
    # The default says how many rows each half of it chose.
    assert main(["review", str(folder), "--out", str(tmp_path / "d.json"), "--n", "3"]) == 0
    assert "3 rows of split 'train', task 'spam' (random_then_entropy: 3 random) written to" in capsys.readouterr().out
    # nothing tied: said, and no empty task file to import (it said "0 rows of split None" and wrote `[]`)
    with pytest.warns(UserWarning, match="strategy 'ties' found 0 rows"):
        assert main(["review", str(folder), "--out", str(tmp_path / "ties.json"), "--strategy", "ties"]) == 0
    assert "no row of task 'spam' to send for strategy 'ties': nothing written" in capsys.readouterr().out
    assert not (tmp_path / "ties.json").exists()
    # Importing the file that was sent (nobody annotated it yet) stores nothing, and says so.
    with pytest.warns(UserWarning, match=r"d.json: 3 tasks read, none with an annotation for task 'spam': nothing"):
        review.import_annotations(mmweak.load_curated(folder)[0], spam, tmp_path / "d.json")

    # The loop closes on the command line: the annotated export comes back, the labels are refitted, the card says so.
    sent = json.loads((tmp_path / "batch.json").read_text())
    export = tmp_path / "export.json"
    export.write_text(json.dumps(_as_label_studio_export(sent, lambda k, t: [
        ("ann@lab.org", spam.labels[GOLD[t["data"]["mmweak"]["row"]]])])))
    back = tmp_path / "cur2"
    assert main(["answers", str(folder), str(export), "--out", str(back)]) == 0
    printed = capsys.readouterr().out
    assert "task 'spam': 3 answers stored (0 replacing older ones) on 3 rows" in printed
    assert f"written to {back}" in printed
    ds = mmweak.load_curated(back)[0]["train"]
    rows = [t["data"]["mmweak"]["row"] for t in sent]
    assert [ds[r]["spam_gold"] for r in rows] == [GOLD[r] for r in rows]
    assert [ds[r]["spam_label"] for r in rows] == [GOLD[r] for r in rows]  # reviewed rows carry the human label
    fit = mmweak.provenance.read_record(ds)["tasks"]["spam"]["label_model"]["fit"]
    assert (fit["reviewed_rows"], fit["reviewed_chosen_rows"]) == (3, 3)  # entropy rows: they teach, not judge
    assert "#### Human review" in (back / "README.md").read_text()
    assert main(["inspect", str(back)]) == 0
    assert ("human review: 3 rows of train (1 annotator); 3 clamped in the fit, 0 drawn at random judging it, 3 "
            "chosen for being hard teaching it only") in capsys.readouterr().out
    assert main(["answers", str(folder), str(tmp_path / "none.json"), "--out", str(tmp_path / "x")]) == 2
    # Bad usage is refused before any work, and nothing is written: an existing --out, an export with nothing new.
    assert main(["answers", str(folder), str(export), "--out", str(back)]) == 2
    assert f"{back} exists; pass --overwrite to replace it" in capsys.readouterr().err
    assert main(["answers", str(back), str(export), "--out", str(tmp_path / "again")]) == 2
    assert ("no new answer to store, so nothing was refitted or written (is it the export of annotated tasks, and "
            "not one already brought back?)") in capsys.readouterr().err
    # answers that are all skipped for another reason are not sent looking for a second import that never was
    moved = json.loads(export.read_text())
    for t in moved:
        t["data"]["text"] += " (edited since)"
    (tmp_path / "moved.json").write_text(json.dumps(moved))
    with pytest.warns(UserWarning):
        assert main(["answers", str(folder), str(tmp_path / "moved.json"), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "no new answer to store, so nothing was refitted or written (every answer was skipped, as said above" in err
    with pytest.warns(UserWarning, match="none with an annotation"):
        assert main(["answers", str(folder), str(tmp_path / "d.json"), "--out", str(tmp_path / "empty")]) == 2
    assert not (tmp_path / "again").exists() and not (tmp_path / "empty").exists()
    # Run as the command line, a warning is one line of its output (it was a file path, a class and a source line).
    import subprocess
    import sys

    from paths import ROOT

    run = subprocess.run([sys.executable, "-m", "mmweak", "answers", str(folder), str(tmp_path / "d.json"), "--out",
                          str(tmp_path / "empty")], capture_output=True, text=True, cwd=str(ROOT))
    assert run.returncode == 2
    assert "mmweak: warning: d.json: 3 tasks read, none with an annotation for task 'spam'" in run.stderr
    assert "UserWarning" not in run.stderr and "cli.py" not in run.stderr


def test_answers_spelt_in_another_case_or_unicode_form_are_the_task_class(curated, spam, tmp_path):
    # Label Studio writes the choice as the person's browser sent it; names compare as everywhere else
    sel = review.select(curated, spam, 2, strategy="random")
    tasks = json.loads(review.export_tasks(sel, spam, tmp_path / "t.json").read_text())
    exported = _as_label_studio_export(tasks, lambda k, t: [("a@x.io", " SPAM" if k == 0 else "Ham")])
    (tmp_path / "e.json").write_text(json.dumps(exported))
    out, report = review.import_annotations(curated, spam, tmp_path / "e.json", return_report=True)
    assert report.stored == 2 and not report.skipped
    assert sorted(a[0]["label"] for a in out["spam_answers"] if a) == [0, 1]


def test_cli_answers_refits_with_the_gold_the_folder_was_fitted_with(spam, tmp_path, capsys):
    from mmweak.cli import main

    lfs = [mmweak.labeling_function(task=spam, inputs="text", name="link")(
               lambda b: [1 if ("http" in t or "www" in t) else -1 for t in b["text"]]),
           mmweak.labeling_function(task=spam, inputs="text", name="short")(
               lambda b: [0 if len(t) < 20 else -1 for t in b["text"]])]
    split = {s: datasets.Dataset.from_dict({"text": TEXTS, "label": GOLD}) for s in ("train", "validation")}
    ds = mmweak.aggregate(mmweak.apply_lfs(datasets.DatasetDict(split), lfs), model="dawid_skene", gold="label",
                          fill_abstains="prior")
    folder = mmweak.save_curated(ds, tmp_path / "cur")
    assert main(["review", str(folder), "--out", str(tmp_path / "b.json"), "--n", "2"]) == 0
    sent = json.loads((tmp_path / "b.json").read_text())
    (tmp_path / "e.json").write_text(json.dumps(_as_label_studio_export(sent, lambda k, t: [
        ("ann@lab.org", spam.labels[GOLD[t["data"]["mmweak"]["row"]]])])))
    capsys.readouterr()
    # Without --gold the validation gold stayed out of the refit: the folder lost its dev rows without a word.
    assert main(["answers", str(folder), str(tmp_path / "e.json"), "--out", str(tmp_path / "back")]) == 0
    said = capsys.readouterr().out
    assert "gold dev rows as the folder was fitted: column label" in said
    # ...and so did the filled rows and the model (20 correct answers lowered a WRENCH folder's test accuracy from
    # 0.844 to 0.808: its rows without a vote went back to -1, and the default replaced its model)
    assert "rows without a vote filled as the folder was fitted: fill_abstains prior" in said
    assert "fit settings as the folder was fitted: spam: model dawid_skene" in said
    back = mmweak.load_curated(tmp_path / "back")[0]
    lm = mmweak.provenance.read_record(back)["tasks"]["spam"]["label_model"]
    fit = lm["fit"]
    assert (fit["dev_split"], fit["dev_rows"], fit["reviewed_rows"]) == ("validation", 10, 2)
    assert (lm["model"], fit["fill_abstains"]) == ("dawid_skene", "prior") and -1 not in back["train"]["spam_label"]
    # the card's † on train says why: its reviewed rows (the footnote named the dev split only, "trust the others")
    card = (tmp_path / "back" / "README.md").read_text()
    assert ("† The label model saw the gold labels of `validation` while fitting, and the 2 reviewed rows of `train` "
            "carry people's labels, which the fit was clamped to, so those splits' numbers are optimistic") in card
    assert "over the rows it had labelled (rows no LF voted on included: these labels fill them" in card


def test_an_annotation_without_a_time_names_its_row(curated, spam, tmp_path):
    sel = review.select(curated, spam, 1, strategy="random")
    tasks = _as_label_studio_export(json.loads(review.export_tasks(sel, spam, tmp_path / "t.json").read_text()),
                                    lambda k, t: [("a@x.io", "spam")])
    for a in tasks[0]["annotations"]:
        del a["created_at"], a["updated_at"]
    (tmp_path / "e.json").write_text(json.dumps(tasks))
    row = sel["review_row"][0]
    with pytest.raises(ValueError, match=rf"row {row} \(Label Studio task 100\): annotation with id 1000 has no "
                                         r"created_at/updated_at time"):
        review.import_annotations(curated, spam, tmp_path / "e.json")
    for when, ok in ((1767225600, True), ("yesterday", False)):  # Unix seconds read; free text named, not guessed
        tasks[0]["annotations"][0]["created_at"] = when
        (tmp_path / "e.json").write_text(json.dumps(tasks))
        if ok:
            out = review.import_annotations(curated, spam, tmp_path / "e.json")
            stored = out[row]["spam_answers"]
            assert stored[0]["time"].isoformat().startswith("2026-01-01T00:00:00")
        else:
            with pytest.raises(ValueError, match=rf"row {row} \(Label Studio task 100\): annotation with id 1000 has "
                                                 r"created_at 'yesterday', which is not an ISO 8601 time"):
                review.import_annotations(curated, spam, tmp_path / "e.json")


def test_annotations_that_name_nobody_are_each_their_own_annotator(curated, spam, tmp_path):
    """A hand-made export without completed_by: merged into one "unknown" person, the second answer on a row
    replaced the first (an answer lost) and strangers were weighed as one voter with a track record."""
    sel = review.select(curated, spam, 2, strategy="random")
    tasks = _as_label_studio_export(json.loads(review.export_tasks(sel, spam, tmp_path / "t.json").read_text()),
                                    lambda k, t: [(None, "spam"), (None, "ham")])
    for t in tasks:
        for a in t["annotations"]:
            del a["completed_by"]
    (tmp_path / "e.json").write_text(json.dumps(tasks))
    with pytest.warns(UserWarning, match=r"file e\.json: 4 answer\(s\) for task 'spam' name no annotator .* each "
                                         r"is counted as its own annotator \('anonymous:<annotation id>'\)"):
        out, report = review.import_annotations(curated, spam, tmp_path / "e.json", return_report=True)
    assert (report.stored, report.updated, report.rows) == (4, 0, 2)
    for k, r in enumerate(sel["review_row"]):
        stored = out[r]["spam_answers"]
        assert [(a["annotator"], a["label"]) for a in stored] == [
            (f"anonymous:{1000 + 10 * k}", 1), (f"anonymous:{1000 + 10 * k + 1}", 0)]
        assert out[r]["spam_gold"] == -1  # one answer each way: a tie, no consensus
    # The same export again changes nothing: the names come from the annotation ids, not from the order read.
    with pytest.warns(UserWarning, match="name no annotator"):
        again, report2 = review.import_annotations(out, spam, tmp_path / "e.json", return_report=True)
    assert report2.stored == 0 and list(again["spam_answers"]) == list(out["spam_answers"])


def test_rows_whose_annotators_tie_go_to_one_more_person_and_keep_how_they_were_chosen(curated, spam, tmp_path):
    sel = review.select(curated, spam, 4, strategy="random")
    rows = list(sel["review_row"])
    tasks = json.loads(review.export_tasks(sel, spam, tmp_path / "t.json").read_text())
    # Rows 0 and 1 of the batch get one answer each way (a tie); rows 2 and 3 get two matching answers.
    exported = _as_label_studio_export(tasks, lambda k, t: [("a@x.io", "spam"), ("b@x.io", "ham" if k < 2 else "spam")])
    (tmp_path / "e1.json").write_text(json.dumps(exported))
    out = review.import_annotations(curated, spam, tmp_path / "e1.json")
    assert review.tied_mask(review.answer_counts(out, spam)).nonzero()[0].tolist() == sorted(rows[:2])
    assert [out[r]["spam_gold"] for r in rows] == [-1, -1, 1, 1]

    # The usual strategies skip reviewed rows, ties included; `ties` takes only the tied rows, fewest answers first.
    assert not set(review.select(out, spam, 6, strategy="random")["review_row"]) & set(rows)
    with pytest.warns(UserWarning, match="strategy 'ties' found 2 rows"):
        again = review.select(out, spam, 5, strategy="ties")
    assert sorted(again["review_row"]) == sorted(rows[:2]) and set(again["review_round"]) == {2}
    assert set(again["review_reason"]) == {"annotators tie: 1 answered spam, 1 answered ham"}

    # A third person settles them; the rows were drawn at random, and still judge the fit.
    third = _as_label_studio_export(json.loads(review.export_tasks(again, spam, tmp_path / "t2.json").read_text()),
                                    lambda k, t: [("c@x.io", "spam")])
    for k, t in enumerate(third):  # ids Label Studio would give a second project
        t["id"] = 200 + k
        t["annotations"][0]["id"] = 2000 + k
    (tmp_path / "e2.json").write_text(json.dumps(third))
    settled, report = review.import_annotations(out, spam, tmp_path / "e2.json", return_report=True)
    assert (report.stored, report.rows) == (2, 2)
    assert [settled[r]["spam_gold"] for r in rows] == [1, 1, 1, 1]
    assert [a["strategy"] for a in settled[rows[0]]["spam_answers"]] == ["random", "random", "ties"]
    assert not review.tied_mask(review.answer_counts(settled, spam)).any()
    from mmweak.aggregate import drawn_at_random
    assert drawn_at_random({}, settled, spam, np.array(rows)).all()
    # A simulated review answers once per row: nothing can tie there.
    with pytest.raises(ValueError, match="unknown selection strategy 'ties' for a simulated review"):
        review.simulate(settled, spam, gold="label", strategies=["ties"], fit_split="train", eval_split="train")


def test_cli_answers_says_which_rows_tie_and_review_sends_them_again(curated, spam, tmp_path, capsys):
    from mmweak.cli import main

    folder = mmweak.save_curated(curated, tmp_path / "cur")
    assert main(["review", str(folder), "--out", str(tmp_path / "b.json"), "--n", "3", "--strategy", "random"]) == 0
    sent = json.loads((tmp_path / "b.json").read_text())
    (tmp_path / "e.json").write_text(json.dumps(_as_label_studio_export(
        sent, lambda k, t: [("a@lab.org", "spam"), ("b@lab.org", "ham" if k else "spam")])))
    capsys.readouterr()
    assert main(["answers", str(folder), str(tmp_path / "e.json"), "--out", str(tmp_path / "back")]) == 0
    said = capsys.readouterr().out
    assert (f"2 reviewed rows of task 'spam' tie between annotators (no consensus label: they neither teach nor judge "
            f"the fit); `mmweak review {tmp_path / 'back'} --strategy ties --n 2 --out TASKS.json` sends them to one "
            "more person") in said
    assert main(["review", str(tmp_path / "back"), "--out", str(tmp_path / "t.json"), "--strategy", "ties",
                 "--n", "2"]) == 0
    again = json.loads((tmp_path / "t.json").read_text())
    assert sorted(t["data"]["mmweak"]["row"] for t in again) == sorted(t["data"]["mmweak"]["row"] for t in sent[1:])
    assert {t["data"]["mmweak"]["strategy"] for t in again} == {"ties"}


def test_a_users_own_column_named_like_the_answers_is_no_review(spam, tmp_path):
    """A `spam_answers` column of strings crashed save_curated with "'str' object is not a mapping"."""
    link = mmweak.labeling_function(task=spam, inputs="text", name="link")(
        lambda b: [1 if "http" in t else 0 for t in b["text"]])
    ds = datasets.Dataset.from_dict({"text": TEXTS, "spam_answers": ["x"] * len(TEXTS)})
    folder = mmweak.save_curated(mmweak.aggregate(mmweak.apply_lfs(ds, [link])), tmp_path / "cur")
    assert "#### Human review" not in (folder / "README.md").read_text()
    assert review.review_summary({"train": ds}, spam) is None
