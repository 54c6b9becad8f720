"""Publishing to the Hub, against the local Hub-protocol server of ``tests/fakes/hub_server.py``.

``tests/conftest.py`` points ``HF_ENDPOINT`` at the server's socket before huggingface_hub is imported;
the ``hub`` fixture starts it (once per session) and turns offline mode off for one test. Every test
works in its own fresh repo.
"""

import json
import logging
import traceback
import uuid
from pathlib import Path

import datasets
import huggingface_hub
import huggingface_hub.constants
import numpy as np
import pytest
from datasets import ClassLabel, DatasetDict, List, Value
from fakes import hub_server as hubsrv
from huggingface_hub import CommitOperationAdd, DatasetCard, HfApi
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from paths import SHARED

import mmweak
import mmweak.hub as hub_mod
from mmweak import labeling_function

# huggingface_hub's basic LFS upload passes the file as `data=`, which httpx2 deprecates; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")

SPAM = mmweak.Task("spam", labels=["ham", "spam"])
TITLE = f"Upload curated dataset (mmweak {mmweak.__version__})"
TEXTS = ["check out my channel http://x.y", "great song", "subscribe please", "love it",
         "free money at www.win.com", "nice", "plz subscribe to my channel", "best video ever"]


@labeling_function(task=SPAM, inputs="text")
def link(batch):
    return [1 if ("http" in t or "www" in t) else -1 for t in batch["text"]]


@labeling_function(task=SPAM, inputs="text")
def subscribe(batch):
    return [1 if "subscribe" in t else -1 for t in batch["text"]]


@labeling_function(task=SPAM, inputs="text")
def praise(batch):
    return [0 if any(w in t for w in ("great", "love", "nice", "best")) else -1 for t in batch["text"]]


@labeling_function(task=SPAM, inputs="text")
def channel(batch):
    return [1 if "channel" in t else -1 for t in batch["text"]]


def curate(tmp_path, lfs=(link, subscribe, praise), splits=("train", "validation", "test")):
    base = datasets.Dataset.from_dict({"text": TEXTS, "label": [1, 0, 1, 0, 1, 0, 1, 0]})
    base = base.cast_column("label", ClassLabel(names=["ham", "spam"]))
    parts = {"train": base, "validation": base.select(range(4)), "test": base.select(range(4, 8))}
    dd = DatasetDict({s: parts[s] for s in splits})
    dd = mmweak.apply_lfs(dd, list(lfs), cache_dir=tmp_path / f"cache-{uuid.uuid4().hex[:6]}")
    return mmweak.aggregate(dd, [SPAM], gold="label" if "validation" in splits else None, seed=3)


@pytest.fixture
def repo_id(request):
    return f"{hubsrv.DEFAULT_USER}/{request.node.name.replace('_', '-')[:40]}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setattr(hub_mod, "_RETRY_WAIT", 0.0)


def assert_same(loaded, curated):
    assert set(loaded) == set(curated)
    for split in curated:
        assert loaded[split].features == curated[split].features
        assert loaded[split].to_dict() == curated[split].to_dict()


def card_meta(hub, repo_id, revision="main"):
    return DatasetCard(hub.files(repo_id, revision)["README.md"].decode()).data.to_dict()


# --- round trip ----------------------------------------------------------------------------------------------

def test_push_then_load_dataset_round_trip(hub, repo_id, tmp_path):
    dd = curate(tmp_path)
    mark = len(hub.requests)
    result = mmweak.push_curated(dd, repo_id, license="cc-by-4.0")

    assert result.commit_oid == hub.head(repo_id) and result.revision == "main"
    assert result.repo_url == f"{hub.url}/datasets/{repo_id}"
    assert result.commit_url.endswith(f"/datasets/{repo_id}/commit/{result.commit_oid}")
    assert [c.title for c in hub.history(repo_id)] == [TITLE, "initial commit"]  # one commit for everything
    files = hub.files(repo_id)
    assert set(result.files) == set(files) - {".gitattributes"}
    assert {"README.md", "label_models/spam.json", "data/train-00000-of-00001.parquet",
            "data/validation-00000-of-00001.parquet", "data/test-00000-of-00001.parquet"} <= set(result.files)
    blobs = hub.repo(repo_id).commits[result.commit_oid].files
    assert blobs["data/train-00000-of-00001.parquet"].lfs_oid is not None  # parquet went through LFS
    assert blobs["README.md"].lfs_oid is None and blobs["label_models/spam.json"].lfs_oid is None
    assert hub.count("validate_yaml", status=200, since=mark) == 1  # the card passed the Hub's YAML check

    loaded = datasets.load_dataset(repo_id)
    assert_same(loaded, dd)
    assert loaded["train"].features["spam_probs"] == List(Value("float32"), length=2)
    assert loaded["train"].features["spam_label"] == ClassLabel(names=["ham", "spam"])
    assert loaded["train"].features["spam_votes"] == List(Value("int8"), length=3)

    meta = DatasetCard.load(repo_id, repo_type="dataset").data.to_dict()
    assert meta["license"] == "cc-by-4.0" and meta["annotations_creators"] == ["machine-generated"]
    assert meta["configs"] == [{"config_name": "default", "data_files": [
        {"split": s, "path": f"data/{s}-*"} for s in ("train", "validation", "test")]}]
    ws = meta["weak_supervision"]["tasks"][0]
    assert ws["labels"] == ["ham", "spam"] and [lf["name"] for lf in ws["lfs"]] == ["link", "subscribe", "praise"]
    assert ws["label_model"]["file"] == "label_models/spam.json"
    local = DatasetCard.load(mmweak.save_curated(dd, tmp_path / "local") / "README.md").data.to_dict()
    for key in ("weak_supervision", "dataset_info", "configs", "size_categories", "tags"):
        assert meta[key] == local[key]  # the Hub card carries the same metadata as a local save
    assert f'mmweak.load_curated({repo_id!r})' in files["README.md"].decode()  # "how to load" names the repo

    back, tasks = mmweak.load_curated(repo_id)
    assert tasks == [SPAM]
    assert_same(back, dd)
    # datasets offline, the Hub client not: the card came and the data did not, said as such (a raw ConnectionError)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(datasets.config, "HF_HUB_OFFLINE", True)
        mp.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "empty-cache")  # nothing cached to fall back on
        with pytest.raises(mmweak.CuratedDatasetError, match=r"was read but its data could not be .*HF_DATASETS_OFFLINE"):
            mmweak.load_curated(repo_id, revision="main")
    (tmp_path / "spam.json").write_bytes(files["label_models/spam.json"])
    model = mmweak.labelmodels.load(str(tmp_path / "spam.json"))
    np.testing.assert_allclose(model.predict_proba(np.array(dd["test"]["spam_votes"])),
                               np.array(dd["test"]["spam_probs"]), rtol=1e-6)
    snapshot = huggingface_hub.snapshot_download(repo_id, repo_type="dataset", local_dir=tmp_path / "snap")
    assert {p: (Path(snapshot) / p).read_bytes() for p in files} == files  # every file, byte for byte
    assert hub.cdn_requests_with_auth == 0  # LFS content moved through the CDN origin without the Hub token


def test_repush_replaces_data_and_merges_the_card(hub, repo_id, tmp_path):
    first = curate(tmp_path)
    mmweak.push_curated(first, repo_id, max_shard_bytes=300)  # several shards per split
    old_files = set(hub.files(repo_id))
    assert len([p for p in old_files if p.startswith("data/train-")]) > 1

    # the owner edits the card on the Hub and adds a second config of their own
    api = HfApi()
    readme = hub.files(repo_id)["README.md"].decode()
    head, body = readme.split("\n---\n", 1)
    head = head.replace("license: other", "license: mit") + "\nlanguage:\n- en"
    head = head.replace("configs:\n", "configs:\n- config_name: raw\n  data_files: raw/*.parquet\n")
    edited = f"{head}\n---\n## Notes from the owner\n\nCollected in 2015; see the paper.\n{body}\nThanks, reviewers!\n"
    raw_file = tmp_path / "comments.parquet"
    datasets.Dataset.from_dict({"text": ["hello"], "label": [0]}).to_parquet(str(raw_file))
    api.create_commit(repo_id, [CommitOperationAdd("README.md", edited.encode()),
                                CommitOperationAdd("raw/comments.parquet", str(raw_file)),
                                CommitOperationAdd("plots/my_figure.png", b"owner's figure"),
                                CommitOperationAdd("label_models/notes.json", b"{}")],
                      commit_message="Owner edits", repo_type="dataset")

    changed = curate(tmp_path, lfs=(link, subscribe, praise, channel), splits=("train", "test"))
    result = mmweak.push_curated(changed, repo_id, commit_message="Re-curate with a fourth LF")

    files = hub.files(repo_id)
    assert [c.title for c in hub.history(repo_id)][:2] == ["Re-curate with a fourth LF", "Owner edits"]
    new_shards = {p for p in files if p.startswith("data/")}
    assert new_shards == {"data/train-00000-of-00001.parquet", "data/test-00000-of-00001.parquet"}
    # stale shards, the dropped split's shards and plots that need gold (no validation split any more) go
    assert set(result.deleted) == {p for p in old_files - set(files) if p.startswith(("data/", "plots/"))}
    assert {"data/validation-00000-of-00001.parquet", "data/train-00001-of-00002.parquet"} <= set(result.deleted)
    assert files["raw/comments.parquet"] == raw_file.read_bytes()  # the owner's files are not ours to delete,
    assert files["plots/my_figure.png"] == b"owner's figure" and "label_models/notes.json" in files  # even in ours
    assert result.summary().endswith("; deleted 4 stale files: data/train-00000-of-00002.parquet, data/train-00001-"
                                     "of-00002.parquet, data/validation-00000-of-00001.parquet, "
                                     "plots/spam_reliability.png")  # said, as they leave the tip of the branch

    card = files["README.md"].decode()
    assert "## Notes from the owner" in card and "Collected in 2015" in card and "Thanks, reviewers!" in card
    assert card.count(hub_mod.CARD_BEGIN) == 1 and card.count("## Notes from the owner") == 1
    meta = DatasetCard(card).data.to_dict()
    assert meta["license"] == "mit" and meta["language"] == ["en"]  # owner's metadata kept
    assert {c["config_name"] for c in meta["configs"]} == {"default", "raw"}
    default = next(c for c in meta["configs"] if c["config_name"] == "default")
    assert default["data_files"] == [{"split": "train", "path": "data/train-*"},
                                     {"split": "test", "path": "data/test-*"}]
    assert [lf["name"] for lf in meta["weak_supervision"]["tasks"][0]["lfs"]] == ["link", "subscribe", "praise",
                                                                                  "channel"]
    errors, _ = hubsrv.validate_card_yaml(card)
    assert errors == []

    loaded = datasets.load_dataset(repo_id)  # the default config: the new curation, new features
    assert_same(loaded, changed)
    assert loaded["train"].features["spam_votes"] == List(Value("int8"), length=4)
    raw = datasets.load_dataset(repo_id, "raw")
    assert raw["train"]["text"] == ["hello"]

    again = mmweak.push_curated(changed, repo_id)  # nothing changed: no new commit
    assert again.commit_oid == result.commit_oid and hub.head(repo_id) == result.commit_oid
    assert not again.changed and again.deleted == () and "already holds this curation" in again.summary()


def test_a_repo_whose_own_config_is_the_default_is_refused_not_made_unloadable(hub, repo_id, tmp_path):
    """datasets loads a config named "default" by default, so adding mmweak's next to another marked default made
    every load_dataset of the repo fail ('several default configs'); the push now stops first and says why."""
    raw_file = tmp_path / "raw.parquet"
    datasets.Dataset.from_dict({"text": ["hello"], "x": [1]}).to_parquet(str(raw_file))
    card = "---\nconfigs:\n- config_name: raw\n  default: true\n  data_files: raw/*.parquet\n---\n# Mine\n"
    api = HfApi()
    api.create_repo(repo_id, repo_type="dataset")
    api.create_commit(repo_id, [CommitOperationAdd("README.md", card.encode()),
                                CommitOperationAdd("raw/a.parquet", str(raw_file))],
                      commit_message="mine", repo_type="dataset")
    before = hub.head(repo_id)
    with pytest.raises(mmweak.HubPushError, match=r"marks config 'raw' as the default.*Remove `default: true` from "
                                                  r"'raw'"):
        mmweak.push_curated(curate(tmp_path, splits=("train", "test")), repo_id)
    assert hub.head(repo_id) == before and datasets.load_dataset(repo_id)["train"]["text"] == ["hello"]


def test_the_push_command_carries_the_folders_title_and_licence(hub, repo_id, tmp_path, capsys, monkeypatch):
    """`mmweak push FOLDER REPO` published the card with the default title and `license: other`, whatever the
    folder's card said; `mmweak card REPO` wrote a local folder named like the repo id."""
    from mmweak.cli import main

    folder = mmweak.save_curated(curate(tmp_path), tmp_path / "titled", pretty_name="My spam comments",
                                 license="cc-by-4.0")
    assert main(["push", str(folder), repo_id, "--commit-message", "First curation"]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"pushed to {hub.url}/datasets/{repo_id} (main): ")
    meta = card_meta(hub, repo_id)
    assert meta["pretty_name"] == "My spam comments" and meta["license"] == "cc-by-4.0"
    assert meta["task_categories"] == ["text-classification"]
    assert [c.title for c in hub.history(repo_id)][0] == "First curation"
    monkeypatch.chdir(tmp_path)
    assert main(["card", repo_id]) == 2
    said = capsys.readouterr().err
    assert f"no curated folder at {repo_id!r}; if it is a Hub repo id, write its card and data to a folder with " \
        "--out FOLDER" in said and not (tmp_path / repo_id).exists()
    assert main(["card", str(tmp_path / "nowhere")]) == 2  # a path no Hub id can be: no Hub advice
    assert capsys.readouterr().err.strip().endswith(f"no curated folder at {str(tmp_path / 'nowhere')!r}")


def test_a_card_edited_by_hand_is_not_replaced_or_dropped_without_a_word(hub, repo_id, tmp_path, capsys):
    """Prose added to a folder's README.md vanished on `mmweak push` (the Hub got the card mmweak renders), and
    `mmweak card FOLDER` rewrote it in place, without a word either time."""
    from mmweak.cli import main

    folder = mmweak.save_curated(curate(tmp_path), tmp_path / "edited")
    readme = folder / "README.md"
    written = readme.read_text()
    assert mmweak.card.card_edited(written) is False
    readme.write_text(written.replace("**The labels are\nmachine-generated**", "**The labels are\nmachine-generated**"
                                      " (we checked 50 of them by hand)"))
    assert mmweak.card.card_edited(readme.read_text()) is True
    assert main(["push", str(folder), repo_id]) == 0
    err = capsys.readouterr().err
    assert f"note: {readme} was edited by hand since mmweak wrote it; the push publishes the card mmweak renders" in err
    assert main(["card", str(folder)]) == 2
    assert "was edited by hand since mmweak wrote it, and rendering it again in place would replace those edits" in \
        capsys.readouterr().err
    assert "we checked 50 of them" in readme.read_text()  # refused: nothing replaced
    with pytest.warns(UserWarning, match=r"README\.md was edited by hand since mmweak wrote it: overwrite=True "
                                         r"replaces it"):
        assert main(["card", str(folder), "--discard-edits"]) == 0
    assert mmweak.card.card_edited(readme.read_text()) is False and "we checked 50" not in readme.read_text()


def test_people_named_by_e_mail_are_not_published_unless_renamed_or_allowed(hub, repo_id, tmp_path, capsys):
    """Label Studio names people by e-mail; as annotator LFs and in the answers column those names would reach a
    public card and parquet. The push refuses before any request, says where they are, and publishes pseudonyms
    once renamed (or the addresses themselves when told to)."""
    from mmweak.cli import main

    people = ["ann@lab.org", "bob.smith@mail.example.com", "user:7"]
    answers = [[{"annotator": people[(i + j) % 3], "label": int((i + j) % 5 != 0)} for j in range(2)]
               for i in range(len(TEXTS))]
    base = datasets.Dataset.from_dict({"text": TEXTS, "spam_answers": answers})
    dd = mmweak.aggregate(mmweak.review.add_annotator_votes(
        mmweak.apply_lfs(DatasetDict({"train": base}), [link, subscribe], cache_dir=tmp_path / "c"), SPAM), seed=0)
    assert mmweak.review.annotator_emails(dd) == [
        "task 'spam': LF 'annotator:ann@lab.org'", "task 'spam': LF 'annotator:bob.smith@mail.example.com'",
        "split 'train', column 'spam_answers', row 0: 'ann@lab.org' (8 rows)"]
    mark = len(hub.requests)
    with pytest.raises(mmweak.errors.CuratedDatasetError, match=r"names 3 place\(s\) of its people by e-mail .*"
                       r"first: task 'spam': LF 'annotator:ann@lab.org'.*rename_annotators.*Nothing was pushed"):
        mmweak.push_curated(dd, repo_id)
    folder = mmweak.save_curated(dd, tmp_path / "folder")  # a local folder keeps them; the push command refuses too
    assert main(["push", str(folder), repo_id]) != 0 and "annotator_emails='publish'" in capsys.readouterr().err
    assert len(hub.requests) == mark  # refused before anything reached the Hub
    with pytest.raises(ValueError, match="annotator_emails must be 'refuse' or 'publish', got 'yes'"):
        mmweak.push_curated(dd, repo_id, annotator_emails="yes")

    renamed = mmweak.review.rename_annotators(dd, SPAM, mmweak.review.pseudonyms("team key"))
    assert mmweak.review.annotator_emails(renamed) == [] and mmweak.review.annotator_emails(dd)  # input untouched
    mmweak.push_curated(renamed, repo_id)
    files = hub.files(repo_id)
    published = b"".join(files.values())
    assert not any(p.encode() in published for p in people[:2])
    names = [lf["name"] for lf in card_meta(hub, repo_id)["weak_supervision"]["tasks"][0]["lfs"]]
    pseudo = mmweak.review.pseudonyms("team key")
    assert names == ["link", "subscribe"] + [f"annotator:{pseudo(p)}" for p in people]  # order and votes kept
    loaded = datasets.load_dataset(repo_id)["train"]
    assert loaded["spam_votes"] == dd["train"]["spam_votes"] and loaded["spam_probs"] == dd["train"]["spam_probs"]
    assert [a["annotator"] for a in loaded[0]["spam_answers"]] == [pseudo(people[0]), pseudo(people[1])]

    mmweak.push_curated(dd, repo_id, annotator_emails="publish")  # the people agreed
    assert b"ann@lab.org" in hub.files(repo_id)["README.md"]
    with pytest.raises(ValueError, match=r"'ann@lab.org' and 'bob.smith@mail.example.com' would both be named 'x'"):
        mmweak.review.rename_annotators(dd, SPAM, lambda name: "x")


# --- access, branches, pull requests ----------------------------------------------------------------------------

def test_private_repo_needs_the_token(hub, repo_id, tmp_path, monkeypatch):
    dd = curate(tmp_path, splits=("train", "test"))
    mmweak.push_curated(dd, repo_id, private=True)
    assert hub.repo(repo_id).private

    monkeypatch.delenv("HF_TOKEN")  # anonymous (first, so no cached copy can answer instead of the Hub)
    with pytest.raises(datasets.exceptions.DatasetNotFoundError, match="doesn't exist on the Hub or cannot be"):
        datasets.load_dataset(repo_id)
    with pytest.raises(RepositoryNotFoundError) as anon:
        HfApi().dataset_info(repo_id)
    assert anon.value.response.status_code == 401 and anon.value.response.headers["X-Error-Code"] == "RepoNotFound"
    with pytest.raises(mmweak.HubPushError, match="could not create or open"):
        mmweak.push_curated(dd, repo_id)
    with pytest.raises(RepositoryNotFoundError) as other:
        HfApi(token=hubsrv.OTHER_TOKEN).dataset_info(repo_id)
    assert other.value.response.status_code == 404
    assert_same(datasets.load_dataset(repo_id, token=hubsrv.DEFAULT_TOKEN), dd)

    login = Path(huggingface_hub.constants.HF_TOKEN_PATH)  # what `hf auth login` writes
    login.parent.mkdir(parents=True, exist_ok=True)
    login.write_text(hubsrv.DEFAULT_TOKEN)
    try:
        changed = curate(tmp_path, lfs=(link, praise), splits=("train", "test"))
        assert mmweak.push_curated(changed, repo_id).commit_oid == hub.head(repo_id)
    finally:
        login.unlink()
    monkeypatch.setenv("HF_TOKEN", hubsrv.DEFAULT_TOKEN)
    assert_same(datasets.load_dataset(repo_id), changed)  # HF_TOKEN from the environment

    public = repo_id + "-pub"
    HfApi(token=hubsrv.DEFAULT_TOKEN).create_repo(public, repo_type="dataset")
    before = hub.head(public)
    with pytest.raises(mmweak.HubPushError, match="exists and is public"):
        mmweak.push_curated(dd, public, private=True, token=hubsrv.DEFAULT_TOKEN)
    assert hub.head(public) == before


def test_push_to_a_branch_and_as_a_pull_request(hub, repo_id, tmp_path):
    dd = curate(tmp_path, splits=("train", "test"))
    on_branch = mmweak.push_curated(dd, repo_id, revision="curation-v2")
    assert on_branch.revision == "curation-v2" and hub.head(repo_id, "curation-v2") == on_branch.commit_oid
    assert set(hub.files(repo_id)) == {".gitattributes"}  # main untouched
    assert_same(datasets.load_dataset(repo_id, revision="curation-v2"), dd)
    back, tasks = mmweak.load_curated(repo_id, revision="curation-v2")
    assert tasks == [SPAM] and back["test"].to_dict() == dd["test"].to_dict()
    card = hub.files(repo_id, "curation-v2")["README.md"].decode()  # its loading lines name the branch, not main
    assert f"ds, tasks = mmweak.load_curated('{repo_id}', revision='curation-v2')" in card
    from mmweak.cli import main  # and the CLI reads a branch too

    assert main(["inspect", repo_id, "--revision", "curation-v2"]) == 0
    assert main(["report", repo_id, "--revision", "curation-v2", "--split", "test"]) == 0
    # review reads a branch as well (rows are sent from, and answers brought back to, that revision)
    assert main(["review", repo_id, "--revision", "curation-v2", "--n", "2", "--strategy", "random",
                 "--out", str(tmp_path / "sent.json")]) == 0
    sent = json.loads((tmp_path / "sent.json").read_text())
    assert len(sent) == 2 and {t["data"]["mmweak"]["split"] for t in sent} == {"train"}

    single = mmweak.push_curated(dd["test"], repo_id, revision="only-test")  # a Dataset without a split name
    assert single.files == ("README.md", "data/train-00000-of-00001.parquet", "label_models/spam.json",
                            *[p for p in single.files if p.startswith("plots/")])
    assert_same(datasets.load_dataset(repo_id, revision="only-test"), DatasetDict({"train": dd["test"]}))

    pr = mmweak.push_curated(dd, repo_id, create_pr=True, commit_message="Propose the curated labels")
    assert pr.pr_url == f"{hub.url}/datasets/{repo_id}/discussions/1" and pr.pr_revision == "refs/pr/1"
    assert pr.summary().startswith(f"opened a pull request on {hub.url}/datasets/{repo_id} against main: ")
    assert set(hub.files(repo_id)) == {".gitattributes"}  # still untouched until the PR is merged
    assert hub.head(repo_id, "refs/pr/1") == pr.commit_oid
    assert f"mmweak.load_curated('{repo_id}')" in hub.files(repo_id, "refs/pr/1")["README.md"].decode()  # once merged
    with pytest.raises(ValueError, match="is a commit id; a push needs a branch"):  # not a branch named like it
        mmweak.push_curated(dd, repo_id, revision=pr.commit_oid)
    assert_same(datasets.load_dataset(repo_id, revision="refs/pr/1"), dd)


# --- failures -------------------------------------------------------------------------------------------------

def test_offline_mode_is_a_clear_error(tmp_path):  # the suite runs with HF_HUB_OFFLINE=1; no `hub` here
    with pytest.raises(mmweak.HubPushError, match="HF_HUB_OFFLINE"):
        mmweak.push_curated(curate(tmp_path, splits=("train",)), f"{hubsrv.DEFAULT_USER}/offline")
    with pytest.raises(mmweak.CuratedDatasetError, match="apply_lfs"):
        mmweak.push_curated(datasets.Dataset.from_dict({"text": ["a"]}), f"{hubsrv.DEFAULT_USER}/plain")


def test_commit_500_fails_cleanly_then_a_retry_succeeds(hub, repo_id, tmp_path, fast_retries):
    dd = curate(tmp_path, splits=("train", "test"))
    HfApi().create_repo(repo_id, repo_type="dataset")
    before, start = hub.head(repo_id), len(hub.requests)
    hub.inject("commit", "500", times=3)
    with pytest.raises(mmweak.HubPushError) as err:
        mmweak.push_curated(dd, repo_id, commit_retries=2)
    message = str(err.value)
    assert "failed 3 time(s)" in message and f"unchanged at {before[:12]}" in message and "500" in message
    assert hub.head(repo_id) == before and set(hub.files(repo_id)) == {".gitattributes"}  # no data, no card
    uploads = hub.count("lfs_upload", status=200, since=start)
    assert hub.count("commit", status=500, since=start) == 3

    mark = len(hub.requests)
    hub.inject("commit", "500", times=1)
    result = mmweak.push_curated(dd, repo_id)  # one more 500: retried within the push
    assert result.attempts == 2 and hub.head(repo_id) == result.commit_oid
    assert hub.count("lfs_upload", since=mark) == 0  # the Hub kept the uploaded LFS objects
    assert uploads == len(lfs_paths(hub, repo_id)) >= 2  # each uploaded once although committed 5 times
    assert_same(datasets.load_dataset(repo_id), dd)


def lfs_paths(hub, repo_id, revision="main"):
    return sorted(p for p, b in hub.repo(repo_id).commits[hub.head(repo_id, revision)].files.items() if b.lfs_oid)


def test_commit_that_lands_without_an_answer_is_not_duplicated(hub, repo_id, tmp_path, fast_retries):
    dd = curate(tmp_path, splits=("train", "test"))
    hub.inject("commit", "apply_then_500")
    result = mmweak.push_curated(dd, repo_id)
    history = hub.history(repo_id)
    assert [c.title for c in history] == [TITLE, "initial commit"]
    assert result.commit_oid == history[0].oid and result.attempts == 1

    other = curate(tmp_path, lfs=(link, praise), splits=("train", "test"))
    hub.inject("commit", "apply_then_drop")  # connection dropped after the commit landed
    result = mmweak.push_curated(other, repo_id)
    assert len(hub.history(repo_id)) == 3 and result.commit_oid == hub.head(repo_id)
    assert_same(datasets.load_dataset(repo_id), other)


def test_concurrent_commit_is_merged_not_overwritten(hub, repo_id, tmp_path):
    dd = curate(tmp_path, splits=("train", "test"))
    HfApi().create_repo(repo_id, repo_type="dataset")
    hub.inject("commit", "concurrent_commit")
    result = mmweak.push_curated(dd, repo_id)
    assert [c.title for c in hub.history(repo_id)][:2] == [TITLE, "Concurrent edit"]
    assert result.attempts == 2 and "NOTES.md" in hub.files(repo_id) and hub.count("commit", status=412) == 1


def test_a_card_that_cannot_be_read_fails_the_push_as_a_push_error(hub, repo_id, tmp_path, fast_retries):
    # the README download failing (20 x 500) ended as huggingface_hub's "cannot find the requested files in the local
    # cache", no HubPushError, and no word that nothing was pushed
    dd = curate(tmp_path, splits=("train", "test"))
    mmweak.push_curated(dd, repo_id)
    before = hub.head(repo_id)
    hub.inject("resolve", "500", times=20)
    with pytest.raises(mmweak.HubPushError, match=r"could not read the card \(README\.md\) of dataset repo .*nothing "
                                                  r"was pushed, the repo is unchanged"):
        mmweak.push_curated(curate(tmp_path, lfs=(link, praise), splits=("train", "test")), repo_id)
    assert hub.head(repo_id) == before


def test_dropped_lfs_upload_is_retried(hub, repo_id, tmp_path):
    dd = curate(tmp_path, splits=("train", "test"))
    mark = len(hub.requests)
    hub.inject("lfs_upload", "drop")
    result = mmweak.push_curated(dd, repo_id)
    assert hub.count("lfs_upload", status=-1, since=mark) == 1  # dropped once, then huggingface_hub retried
    assert hub.count("lfs_upload", status=200, since=mark) == len(lfs_paths(hub, repo_id))
    assert result.commit_oid == hub.head(repo_id)
    assert_same(datasets.load_dataset(repo_id), dd)


def test_card_the_hub_refuses_fails_before_any_upload(hub, repo_id, tmp_path):
    dd = curate(tmp_path, splits=("train", "test"))
    mark = len(hub.requests)
    refused = r"before anything was committed.*Invalid metadata in README.md.*license.*my-own-license"
    with pytest.raises(mmweak.HubPushError, match=refused):
        mmweak.push_curated(dd, repo_id, license="my-own-license")
    assert hub.count("validate_yaml", status=400, since=mark) == 1
    assert hub.count("lfs_upload", since=mark) == 0 and hub.count("commit", since=mark) == 0
    assert set(hub.files(repo_id)) == {".gitattributes"}


def test_failed_lfs_upload_fails_cleanly(hub, repo_id, tmp_path):
    dd = curate(tmp_path, splits=("train", "test"))
    mmweak.push_curated(dd, repo_id)
    before = hub.head(repo_id)
    changed = curate(tmp_path, lfs=(link, praise), splits=("train", "test"))
    mark = len(hub.requests)
    hub.inject("lfs_upload", "403", times=4)  # an expired upload URL is not retried
    with pytest.raises(mmweak.HubPushError, match="before anything was committed: the repo is unchanged"):
        mmweak.push_curated(changed, repo_id)
    assert hub.count("commit", since=mark) == 0 and hub.head(repo_id) == before
    assert_same(datasets.load_dataset(repo_id), dd)  # data and card still agree
    hub.inject("lfs_upload", "403", times=4)  # a first push into a new repo: the repo exists now, empty, and is said so
    with pytest.raises(mmweak.HubPushError, match=r"failed before anything was committed: it is empty\..*The repo "
                                                  r"'.*-new' was created for this push and holds no data"):
        mmweak.push_curated(dd, repo_id + "-new")
    assert set(hub.files(repo_id + "-new")) <= {".gitattributes"}


BAD_TOKEN = "hf_" + "notAValidButStillSecret0123456789"  # split so no source line shown in a traceback holds it


def test_token_never_leaks(hub, repo_id, tmp_path, caplog, capsys, fast_retries, monkeypatch):
    for name in (None, "mmweak", "huggingface_hub", "datasets", "httpx2", "httpcore2", "fsspec"):
        caplog.set_level(logging.DEBUG, logger=name)
    monkeypatch.setattr(huggingface_hub.constants, "HF_DEBUG", True)  # huggingface_hub logs each request as curl
    token = hubsrv.DEFAULT_TOKEN
    dd = curate(tmp_path, splits=("train", "test"))
    result = mmweak.push_curated(dd, repo_id, token=token, private=True)
    hub.inject("commit", "500", times=2)
    with pytest.raises(mmweak.HubPushError) as failed:
        mmweak.push_curated(curate(tmp_path, lfs=(link,), splits=("train",)), repo_id, token=token, commit_retries=1)
    with pytest.raises(mmweak.HubPushError) as refused:
        mmweak.push_curated(dd, repo_id, token=BAD_TOKEN)
    assert "401" in str(refused.value) and "Invalid credentials" in str(refused.value)
    seen = {"result": repr(result), "logs": caplog.text, "output": "".join(capsys.readouterr())}
    for name, exc in (("failed", failed.value), ("refused", refused.value)):
        seen[name] = str(exc) + repr(exc) + "".join(traceback.format_exception(exc))
    seen.update({path: v.decode("utf-8", "replace") for path, v in hub.files(repo_id).items()})
    for name, text in seen.items():
        for secret in (token, BAD_TOKEN):
            at = text.find(secret)
            assert at < 0, f"token found in {name}: ...{text[max(0, at - 300):at + 50]}"
    assert "pushing" in caplog.text and "curl" in caplog.text and "HTTP Request: POST" in caplog.text


# --- the recipe ----------------------------------------------------------------------------------------------

YOUTUBE = SHARED / "data" / "wrench" / "youtube"


@pytest.mark.skipif(not (YOUTUBE / "test.json").is_file(), reason=f"WRENCH youtube data not found at {YOUTUBE}")
def test_youtube_recipe_pushes_to_the_hub(hub, repo_id, tmp_path, capsys):
    from recipes import youtube_spam as recipe

    with pytest.raises(SystemExit):
        recipe.parse_args(["--private"])  # Hub options without --push-to-hub are a usage error
    metrics = recipe.main(["--out", str(tmp_path / "yt"), "--text-only",  # no MiniLM: keep this test fast
                           "--push-to-hub", repo_id, "--private", "--revision", "weak-labels"])
    assert "pushed to" in capsys.readouterr().out
    assert hub.repo(repo_id).private and metrics["push"]["commit_oid"] == hub.head(repo_id, "weak-labels")
    ds, tasks = mmweak.load_curated(repo_id, revision="weak-labels")
    assert [t.name for t in tasks] == ["spam"] and {s: len(d) for s, d in ds.items()} == {
        "train": 1686, "validation": 120, "test": 250}
    local, _ = mmweak.load_curated(tmp_path / "yt")  # the Hub repo holds what --out holds
    assert_same(ds, local)
    assert ds["test"].features["spam_probs"] == List(Value("float32"), length=2)
    assert recipe.curated_accuracy(ds, "test") == pytest.approx(metrics["curated"]["test"])
    meta = card_meta(hub, repo_id, "weak-labels")
    assert meta["pretty_name"] == recipe.PRETTY_NAME and meta["task_categories"] == ["text-classification"]
    assert len(meta["weak_supervision"]["tasks"][0]["lfs"]) == len(recipe.TEXT_LFS)


# --- the server behaves like the Hub where it matters ---------------------------------------------------------

def test_server_speaks_the_hub_protocol(hub, repo_id):
    api = HfApi()
    assert api.whoami()["name"] == hubsrv.DEFAULT_USER
    api.create_repo(repo_id, repo_type="dataset")
    with pytest.raises(HfHubHTTPError) as conflict:
        api.create_repo(repo_id, repo_type="dataset")
    assert conflict.value.response.status_code == 409
    assert conflict.value.response.json() == {"error": "You already created this dataset repo",
                                              "url": f"{hub.url}/datasets/{repo_id}"}
    first = api.upload_file(path_or_fileobj=b"a" * 1000, path_in_repo="blob.bin", repo_id=repo_id,
                            repo_type="dataset")
    with pytest.raises(HfHubHTTPError) as stale:
        api.create_commit(repo_id, [CommitOperationAdd("x.txt", b"x")], commit_message="stale",
                          repo_type="dataset", parent_commit=hub.history(repo_id)[1].oid)
    assert stale.value.response.status_code == 412 and hub.head(repo_id) == first.oid
    with pytest.raises(RevisionNotFoundError):
        api.hf_hub_download(repo_id, "blob.bin", repo_type="dataset", revision="nope")
    with pytest.raises(EntryNotFoundError):
        api.hf_hub_download(repo_id, "missing.txt", repo_type="dataset")
    with pytest.raises(RepositoryNotFoundError):
        api.dataset_info(repo_id + "-missing")

    import httpx2

    url = f"{hub.url}/datasets/{repo_id}/resolve/main/blob.bin"
    head = httpx2.head(url)
    assert head.headers["X-Linked-Size"] == "1000" and head.headers["X-Repo-Commit"] == first.oid
    if hub.cdn_redirects:  # LFS content lives on another origin, as on the Hub ("localhost" resolves here)
        assert head.status_code == 302 and head.headers["Location"].startswith(hub.cdn_url)
    part = httpx2.get(head.headers.get("Location", url), headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == b"a" * 10 and part.headers["Content-Range"] == "bytes 10-19/1000"

    hub.tree_page = 2
    try:
        for i in range(3):
            api.upload_file(path_or_fileobj=f"{i}".encode(), path_in_repo=f"d/{i}.txt", repo_id=repo_id,
                            repo_type="dataset")
        tree = list(api.list_repo_tree(repo_id, repo_type="dataset", recursive=True))  # paginated by 2
    finally:
        hub.tree_page = hubsrv.TREE_PAGE
    assert [e.path for e in tree] == [".gitattributes", "blob.bin", "d", "d/0.txt", "d/1.txt", "d/2.txt"]
    info = api.get_paths_info(repo_id, ["blob.bin", "d", "nope"], repo_type="dataset", expand=True)
    assert [i.path for i in info] == ["blob.bin", "d"] and info[0].lfs.size == 1000
    assert info[0].last_commit.oid == first.oid

    bad = httpx2.post(f"{hub.url}/api/validate-yaml",
                      json={"content": "---\nlicense: my-own\n---\n", "repoType": "dataset"})
    assert bad.status_code == 400 and "license" in bad.json()["errors"][0]["message"]
