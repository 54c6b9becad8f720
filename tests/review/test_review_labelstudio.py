"""The Label Studio round trip against a real server (tests/labelstudio_server.py) through label-studio-sdk."""

from __future__ import annotations

import io

import datasets
import numpy as np
import pytest

import mmweak
from mmweak import review
from mmweak.review import AnnotationError, LabelStudioError

pytest.importorskip("label_studio_sdk", reason="label-studio-sdk is the review extra: pip install 'mmweak[review]'")

TEXTS = ["check out my channel http://x.y", "great song", "subscribe please", "love it", "free money at www.win.com",
         "nice", "plz subscribe to my channel http://a.b", "best video ever", "visit www.deals.com now", "so good",
         "subscribe for more", "this song is my childhood"]
GOLD = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0]


@pytest.fixture(scope="module")
def spam_task():
    return mmweak.Task("spam", ["ham", "spam"])


@pytest.fixture(scope="module")
def curated(spam_task):
    lfs = [
        mmweak.labeling_function(task=spam_task, inputs="text", name="link")(
            lambda b: [1 if ("http" in t or "www" in t) else -1 for t in b["text"]]),
        mmweak.labeling_function(task=spam_task, inputs="text", name="subscribe")(
            lambda b: [1 if "subscribe" in t else -1 for t in b["text"]]),
        mmweak.labeling_function(task=spam_task, inputs="text", name="short")(
            lambda b: [0 if len(t) < 25 else -1 for t in b["text"]]),
    ]
    ds = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": TEXTS, "label": GOLD})})
    return mmweak.aggregate(mmweak.apply_lfs(ds, lfs))


def _annotate(client, task_id, choice, *, user=None, cancelled=False):
    kw = {"completed_by": user} if user is not None else {}
    return client.annotations.create(
        id=task_id, was_cancelled=cancelled,
        result=[] if cancelled else [{"from_name": "spam", "to_name": "text", "type": "choices",
                                      "value": {"choices": [choice]}}], **kw)


def test_round_trip_through_a_real_server(label_studio, curated, spam_task):
    url, token = label_studio.url, label_studio.token
    sel = review.select(curated, spam_task, 6, strategy="entropy")
    ref = review.to_label_studio(sel, spam_task, url=url, api_key=token)
    assert (ref.created, ref.imported, ref.already_there, ref.title) == (True, 6, 0, "mmweak spam")
    client = review.connect(url, token)

    # The project's config is derived from the task: a Text tag for the LF input, single choice of the classes.
    config = client.projects.get(id=ref.id).label_config
    assert '<Text name="text" value="$text"/>' in config
    assert '<Choices name="spam" toName="text" choice="single"' in config
    assert '<Choice value="ham"/>' in config and '<Choice value="spam"/>' in config

    tasks = sorted(client.tasks.list(project=ref.id, fields="all"), key=lambda t: t.data["mmweak"]["row"])
    assert len(tasks) == 6
    rows = list(sel["review_row"])
    labels = list(curated["train"]["spam_label"])
    conf = list(curated["train"]["spam_confidence"])
    for t in tasks:
        m = t.data["mmweak"]
        i = rows.index(m["row"])
        assert t.data["text"] == TEXTS[m["row"]]
        assert (m["strategy"], m["reason"], m["round"]) == ("entropy", sel["review_reason"][i], 1)
        # The label model's label is the pre-annotation, its confidence the prediction score; rows the
        # model leaves unlabelled (no LF voted) get none.
        k = labels[m["row"]]
        assert [p.result[0]["value"]["choices"] for p in t.predictions] == ([] if k < 0 else [[spam_task.labels[k]]])
        if k >= 0:
            assert t.predictions[0].score == pytest.approx(conf[m["row"]], abs=1e-6)
    assert sum(bool(t.predictions) for t in tasks) >= 4

    # Two annotators: the admin answers the gold label everywhere; bob agrees on three rows, contradicts
    # the fourth, skips the fifth.
    bob = client.users.create(email="bob@mmweak.test", username="bob")
    for k, t in enumerate(tasks):
        gold = spam_task.labels[GOLD[t.data["mmweak"]["row"]]]
        _annotate(client, t.id, gold)
        if k < 3:
            _annotate(client, t.id, gold, user=bob.id)
        elif k == 3:
            _annotate(client, t.id, spam_task.labels[1 - GOLD[t.data["mmweak"]["row"]]], user=bob.id)
        elif k == 4:
            _annotate(client, t.id, None, user=bob.id, cancelled=True)

    out, report = review.from_label_studio(curated, spam_task, url=url, api_key=token, return_report=True)
    assert (report.stored, report.rows, report.skipped) == (10, 6, {"cancelled": 1})
    train = out["train"]
    gold_col = list(train["spam_gold"])
    contested = tasks[3].data["mmweak"]["row"]
    for t in tasks:
        r = t.data["mmweak"]["row"]
        answers = train[r]["spam_answers"]
        server = {a.id: a for a in client.annotations.list(id=t.id)}
        assert {a["annotator"] for a in answers} <= {label_studio.email, "bob@mmweak.test"}
        for a in answers:
            ann_id = int(a["source"].rsplit(" ", 1)[1])
            assert a["source"] == f"label-studio {url}/projects/{ref.id} annotation {ann_id}"
            assert a["time"] == server[ann_id].updated_at
            assert (a["strategy"], a["round"], a["model_label"]) == ("entropy", 1, labels[r])  # -1: unlabelled
        assert gold_col[r] == (-1 if r == contested else GOLD[r])  # a 1-1 tie has no majority
    assert sum(g >= 0 for g in gold_col) == 5
    assert curated["train"].column_names == ["text", "label", "spam_votes", "spam_probs", "spam_label",
                                             "spam_confidence"]  # the input is never modified

    # The answers feed the label model: reviewed rows are clamped dev rows and keep their human label.
    refit = mmweak.aggregate(out)
    fit = mmweak.provenance.read_record(refit)["tasks"]["spam"]["label_model"]["fit"]
    assert fit["reviewed_rows"] == 5
    for r, g in enumerate(gold_col):
        if g >= 0:
            assert refit["train"][r]["spam_label"] == g and refit["train"][r]["spam_confidence"] == 1.0
    # The server names people by e-mail: a push would refuse them until renamed (pseudonyms keyed by the team)
    assert mmweak.review.annotator_emails(refit) == [
        f"split 'train', column 'spam_answers', row {min(t.data['mmweak']['row'] for t in tasks)}: "
        f"{train[min(t.data['mmweak']['row'] for t in tasks)]['spam_answers'][0]['annotator']!r} (6 rows)"]
    hidden = review.rename_annotators(refit, spam_task, review.pseudonyms("key"))
    assert review.annotator_emails(hidden) == [] and hidden["train"]["spam_gold"] == refit["train"]["spam_gold"]
    assert {a["annotator"] for r in hidden["train"]["spam_answers"] for a in r or []} == {
        review.pseudonyms("key")(label_studio.email), review.pseudonyms("key")("bob@mmweak.test")}

    # Pulling again stores nothing twice; sending the same rows again imports nothing twice.
    again, report2 = review.from_label_studio(out, spam_task, url=url, api_key=token, return_report=True)
    assert report2.stored == 0 and report2.skipped == {"duplicate": 10, "cancelled": 1}
    assert again["train"]["spam_answers"] == out["train"]["spam_answers"]
    ref2 = review.to_label_studio(sel, spam_task, url=url, api_key=token)
    assert (ref2.id, ref2.created, ref2.imported, ref2.already_there) == (ref.id, False, 0, 6)

    # The 1-1 tie goes to one more person: a task of its own in the same project (the row is there already, with
    # the answers that tie), sent once however often it is asked for; dave's answer settles the row.
    ties = review.select(out, spam_task, 1, strategy="ties")
    assert list(ties["review_row"]) == [contested] and list(ties["review_round"]) == [2]
    ref3 = review.to_label_studio(ties, spam_task, url=url, api_key=token)
    assert (ref3.id, ref3.imported, ref3.already_there) == (ref.id, 1, 0)
    assert review.to_label_studio(ties, spam_task, url=url, api_key=token).imported == 0
    tie_task = next(t for t in client.tasks.list(project=ref.id, fields="all")
                    if t.data["mmweak"]["strategy"] == "ties")
    dave = client.users.create(email="dave@mmweak.test", username="dave")
    _annotate(client, tie_task.id, spam_task.labels[GOLD[contested]], user=dave.id)
    settled, report_tie = review.from_label_studio(out, spam_task, url=url, api_key=token, return_report=True)
    assert report_tie.stored == 1 and settled["train"][contested]["spam_gold"] == GOLD[contested]
    assert [a["strategy"] for a in settled["train"][contested]["spam_answers"]] == ["entropy", "entropy", "ties"]

    # A row whose content changed since it was sent: its answers are counted, not stored on the wrong row.
    changed_row = tasks[0].data["mmweak"]["row"]
    edited = curated["train"].map(lambda x, i: {"text": x["text"] + " (edited)" if i == changed_row else x["text"]},
                                  with_indices=True)
    edited = datasets.DatasetDict({"train": edited})
    mmweak.provenance.write_record(edited, mmweak.provenance.read_record(curated))
    with pytest.warns(UserWarning, match="content changed since it was sent"):
        _, report3 = review.from_label_studio(edited, spam_task, url=url, api_key=token, return_report=True)
    assert report3.skipped["missing_row"] == 2 and report3.stored == 9  # dave's tie-break included

    # Someone adds a class in Label Studio and uses it: counted (or raised), never stored.
    client.projects.update(id=ref.id, label_config=config.replace('<Choice value="spam"/>',
                                                                  '<Choice value="spam"/><Choice value="eggs"/>'))
    _annotate(client, tasks[5].id, "eggs", user=bob.id)
    with pytest.raises(AnnotationError, match=r"answered 'eggs', which is not a class of task 'spam'"):
        review.from_label_studio(curated, spam_task, url=url, api_key=token, on_invalid="raise")
    with pytest.warns(UserWarning, match="not one of the task's classes"):
        _, report4 = review.from_label_studio(curated, spam_task, url=url, api_key=token, return_report=True)
    assert report4.skipped == {"cancelled": 1, "unknown_class": 1} and report4.stored == 11


def test_unreachable_server_and_bad_token(label_studio, curated, spam_task):
    import labelstudio_server as lss

    sel = review.select(curated, spam_task, 2, strategy="random")
    with pytest.raises(LabelStudioError, match="rejected the API key"):
        review.to_label_studio(sel, spam_task, url=label_studio.url, api_key="not-a-valid-token")
    with pytest.raises(LabelStudioError, match="rejected the API key"):
        review.from_label_studio(curated, spam_task, url=label_studio.url, api_key="0" * 40)
    dead = f"http://127.0.0.1:{lss.free_port()}"
    with pytest.raises(LabelStudioError, match=f"cannot reach Label Studio at {dead}"):
        review.from_label_studio(curated, spam_task, url=dead, api_key=label_studio.token)
    with pytest.raises(LabelStudioError, match="no project titled 'nope'"):
        review.from_label_studio(curated, spam_task, url=label_studio.url, api_key=label_studio.token, project="nope")


@pytest.mark.filterwarnings("ignore:The `parse_obj` method is deprecated:DeprecationWarning")  # inside the SDK
def test_personal_access_token(label_studio):
    client = review.connect(label_studio.url, label_studio.token)
    pat = client.tokens.create().token
    assert pat.count(".") == 2  # a JWT refresh token, not a legacy key
    assert review.connect(label_studio.url, pat).users.whoami().email == label_studio.email


def test_image_and_audio_rows(label_studio, tmp_path):
    """Media columns get Image/Audio tags and travel inline as data: URIs; answers come back to their rows."""
    import PIL.Image
    import soundfile

    pngs, wavs = [], []
    for k in range(4):
        buf = io.BytesIO()
        PIL.Image.new("RGB", (8 + 8 * k, 8), (40 * k, 0, 0)).save(buf, format="PNG")
        pngs.append({"bytes": buf.getvalue(), "path": None})
        buf = io.BytesIO()
        soundfile.write(buf, np.sin(np.arange(800) * (k + 1) / 10).astype(np.float32), 8000, format="WAV")
        wavs.append({"bytes": buf.getvalue(), "path": None})
    ds = datasets.Dataset.from_dict({"image": pngs, "audio": wavs},
                                    features=datasets.Features({"image": datasets.Image(), "audio": datasets.Audio()}))
    wide = mmweak.Task("wide", ["narrow", "wide"], description="Is the picture wider than tall?")
    lf = mmweak.labeling_function(task=wide, inputs=["image", "audio"], name="size")(
        lambda b: [1 if im.size[0] > 16 else -1 for im in b["image"]])
    cur = mmweak.aggregate(mmweak.apply_lfs(ds, [lf]), model="majority")
    sel = review.select(cur, wide, 2, strategy="no_coverage")
    ref = review.to_label_studio(sel, wide, url=label_studio.url, api_key=label_studio.token, project="media review")
    client = review.connect(label_studio.url, label_studio.token)
    config = client.projects.get(id=ref.id).label_config
    assert '<Image name="image" value="$image"/>' in config and '<Audio name="audio" value="$audio"/>' in config
    assert "<Header value=\"Is the picture wider than tall?\"/>" in config
    tasks = list(client.tasks.list(project=ref.id, fields="all"))
    assert len(tasks) == 2
    for t in tasks:
        assert t.data["image"].startswith("data:image/png;base64,")
        assert t.data["audio"].startswith("data:audio/wav;base64,")
        client.annotations.create(id=t.id, result=[{"from_name": "wide", "to_name": "image", "type": "choices",
                                                    "value": {"choices": ["narrow"]}}])
    out = review.from_label_studio(cur, wide, url=label_studio.url, api_key=label_studio.token, project=ref.id)
    assert sorted(i for i, g in enumerate(out["wide_gold"]) if g == 0) == sorted(sel["review_row"])


def test_server_argv_survives_values_that_look_like_options(tmp_path):
    """A generated password that starts with "-" once made Label Studio's own parser refuse to start (CI)."""
    import shutil
    import subprocess

    import labelstudio_server as lss

    reason = lss.unavailable_reason()
    if reason:
        pytest.skip(reason)
    server = lss.LabelStudioServer()
    shutil.rmtree(server.data_dir)  # never started; only its argv is under test
    server.password, server.token = "-Xy_z", "--user-token"
    argv = server.command()
    probe = ("import json, sys; from label_studio.core.argparser import parse_input_args; "
             "a = parse_input_args(sys.argv[1:]); print(json.dumps([a.password, a.user_token, a.username, a.port]))")
    out = subprocess.run([argv[0], "-c", probe, *argv[3:]], capture_output=True, text=True, check=True,
                         env=lss.offline_env(tmp_path), cwd=tmp_path, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == f'["-Xy_z", "--user-token", "{server.email}", {server.port}]'


def _export(label_studio, project_id, fmt, path):
    import urllib.request

    req = urllib.request.Request(f"{label_studio.url}/api/projects/{project_id}/export?exportType={fmt}",
                                 headers={"Authorization": f"Token {label_studio.token}"})
    with urllib.request.urlopen(req, timeout=60) as r:  # noqa: S310 - the local test server
        path.write_bytes(r.read())
    return path


def test_later_rounds_exports_and_edits_through_a_real_server(label_studio, curated, spam_task, tmp_path):
    """What review found going wrong across rounds: a JSON_MIN export imported nothing, the same annotations read
    from the server and from an export counted twice (e-mail vs user:<id>), a task edited in Label Studio kept its
    answer on the row, a later round from another label model came without predictions, and another team's
    project had its labeling config replaced."""
    url, token = label_studio.url, label_studio.token
    client = review.connect(url, token)
    sel = review.select(curated, spam_task, 4, strategy="random", seed=3)
    ref = review.to_label_studio(sel, spam_task, url=url, api_key=token, project="rounds")
    assert client.projects.get(id=ref.id).model_version == "mmweak auto"
    tasks = sorted(client.tasks.list(project=ref.id, fields="all"), key=lambda t: t.data["mmweak"]["row"])
    carol = client.users.create(email="carol@mmweak.test", username="carol")
    for t in tasks:
        _annotate(client, t.id, spam_task.labels[GOLD[t.data["mmweak"]["row"]]], user=carol.id)
    from_server = review.from_label_studio(curated, spam_task, url=url, api_key=token, project=ref.id)

    # the same four annotations from both kinds of export file: already stored, the better name kept
    for fmt in ("JSON", "JSON_MIN"):
        path = _export(label_studio, ref.id, fmt, tmp_path / f"{fmt}.json")
        again, report = review.import_annotations(from_server, spam_task, path, return_report=True)
        assert (report.stored, report.skipped) == (0, {"duplicate": 4}), fmt
        assert again["train"]["spam_answers"] == from_server["train"]["spam_answers"]
        first, report = review.import_annotations(curated, spam_task, path, return_report=True)  # file first
        assert report.stored == 4, fmt
        both = review.from_label_studio(first, spam_task, url=url, api_key=token, project=ref.id)
        names = [a["annotator"] for r in both["train"]["spam_answers"] for a in r]
        assert names == ["carol@mmweak.test"] * 4, (fmt, names)  # one person, named by e-mail once known

    # a task edited in Label Studio after it was sent: its answer is not to the row
    edited = tasks[0]
    client.tasks.update(id=edited.id, data={**edited.data, "text": "EDITED TEXT"})
    _annotate(client, edited.id, "spam")
    with pytest.warns(UserWarning, match="content changed since it was sent"):
        _, report = review.from_label_studio(curated, spam_task, url=url, api_key=token, project=ref.id,
                                             return_report=True)
    assert report.skipped == {"missing_row": 2} and report.stored == 3
    assert sum("the task was edited in Label Studio after it was sent" in p for p in report.problems) == 2

    # a later round made by another label model: the project shows its predictions
    by_majority = mmweak.aggregate(curated, model="majority")
    later = review.select(by_majority, spam_task, 3, strategy="random", seed=5)
    review.to_label_studio(later, spam_task, url=url, api_key=token, project=ref.id, annotators_per_row=3)
    project = client.projects.get(id=ref.id)
    assert (project.model_version, project.maximum_annotations) == ("mmweak majority", 3)  # 3: majorities possible

    # another team's project with its own config is not taken over
    theirs = client.projects.create(title="team boxes", label_config='<View><Image name="img" value="$img"/>'
                                    '<RectangleLabels name="box" toName="img"><Label value="car"/>'
                                    '</RectangleLabels></View>')
    client.projects.import_tasks(id=theirs.id, request=[{"data": {"img": "https://example.invalid/a.png"}}])
    with pytest.raises(LabelStudioError, match=r"holds rows not sent by mmweak and another labeling config"):
        review.to_label_studio(sel, spam_task, url=url, api_key=token, project=theirs.id, annotators_per_row=5)
    untouched = client.projects.get(id=theirs.id)
    assert "RectangleLabels" in untouched.label_config and untouched.maximum_annotations == 1
    with pytest.raises(LabelStudioError, match="no API key for Label Studio"):
        review.connect(url, "")
