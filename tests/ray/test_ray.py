"""mmweak.ray on a local two-CPU Ray cluster: the same votes, probabilities, labels and folder as the local
engine, errors named the same way, a resumable vote cache, retried worker crashes, model LFs in actor pools,
and reading Parquet folders and ``hf://`` repos.

The LFs live at module level so Ray workers import them by reference (``tests`` is on their PYTHONPATH).
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasets import ClassLabel, DatasetDict, Features, Value
from paths import ROOT, SHARED

import mmweak
from benchmarks.text_lfs import SPAM, mmweak_lfs
from mmweak import ABSTAIN, LabelingFunction, labeling_function
from mmweak.card import unsealed
from mmweak.columns import read_column, read_matrix
from mmweak.labelmodels import DawidSkene

ray = pytest.importorskip("ray")  # the dev extra installs it; see pyproject.toml
import mmweak.ray as mray  # noqa: E402
from mmweak.ray.run import batches  # noqa: E402

# huggingface_hub's basic LFS upload passes the file as `data=`, which httpx2 deprecates; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")
YOUTUBE_DIR = SHARED / "data" / "wrench" / "youtube"
CRASH_TEXT = "CRASH HERE please subscribe"


def _marker(name: str) -> Path:
    # The same path in the test process and in every Ray worker (MMWEAK_CACHE is set before ray.init).
    root = Path(os.environ["MMWEAK_CACHE"])
    root.mkdir(parents=True, exist_ok=True)
    return root / f"ray-test-{name}"


@labeling_function(task=SPAM, inputs="text")
def exclaims(batch):
    """A plain Python LF (dict of lists in)."""
    return [1 if t.count("!") >= 2 else ABSTAIN for t in batch["text"]]


@labeling_function(task=SPAM, inputs="text")
def flaky(batch):
    """Fails on CRASH_TEXT while the ``flaky`` marker exists: a job that crashes midway."""
    if _marker("flaky").exists() and CRASH_TEXT in batch["text"]:
        raise RuntimeError("the disk went away")
    return [1 if "subscribe" in t else ABSTAIN for t in batch["text"]]


@labeling_function(task=SPAM, inputs="text")
def dies_once(batch):
    """Kills its worker process the first time it sees CRASH_TEXT (an OOM kill, a lost node)."""
    once = _marker("died")
    if CRASH_TEXT in batch["text"] and not once.exists():
        once.touch()
        os._exit(1)
    return [1 if "check" in t.lower() else ABSTAIN for t in batch["text"]]


class WordModelLF(LabelingFunction):
    """A model LF: loads word weights once per process (``_lazy_attrs``) and logs loads and calls."""

    _lazy_attrs = ("_weights",)

    def __init__(self, name, *, log: str | None = None, **kw):
        super().__init__(name, task=SPAM, inputs=["text"], **kw)
        self.log = log
        self._weights = None

    _fingerprint_exclude = ("log",)

    def _note(self, what):
        if self.log:
            with open(self.log, "a") as f:
                f.write(f"{os.getpid()} {what}\n")

    def label_batch(self, batch):
        if self._weights is None:
            self._note("load")
            self._weights = {"subscribe": 2.0, "channel": 1.5, "check": 1.0, "song": -1.5, "love": -1.0}
        self._note("call")
        out = []
        for t in batch["text"]:
            score = sum(w for word, w in self._weights.items() if word in t.lower())
            out.append(1 if score >= 1.5 else 0 if score <= -1 else ABSTAIN)
        return out


def youtube(extra: list[str] = ()) -> DatasetDict:
    """WRENCH YouTube comments (train/validation/test) with gold labels; ``extra`` texts end the train split."""
    feats = Features({"text": Value("string"), "label": ClassLabel(names=["ham", "spam"])})
    out = {}
    for split, stem in (("train", "train"), ("validation", "valid"), ("test", "test")):
        rows = json.loads((YOUTUBE_DIR / f"{stem}.json").read_text())
        texts = [rows[k]["data"]["text"] for k in sorted(rows, key=int)]
        labels = [int(rows[k]["label"]) for k in sorted(rows, key=int)]
        if split == "train" and extra:
            texts, labels = texts + list(extra), labels + [1] * len(extra)
        out[split] = datasets.Dataset.from_dict({"text": texts, "label": labels}, features=feats, split=split)
    return DatasetDict(out)


def table(rds) -> pa.Table:
    return pa.concat_tables(list(batches(rds)))


def ray_votes(rds, task=SPAM) -> np.ndarray:
    t = table(rds)
    return np.asarray(t.column(task.votes_column).combine_chunks().flatten()).reshape(t.num_rows, -1)


LFS = [*mmweak_lfs(20), exclaims]


# --- equivalence ------------------------------------------------------------------------------------------------

def test_votes_probabilities_labels_and_folder_equal_the_local_engine(ray_session, tmp_path):
    dd = youtube()
    lfs = [*LFS, WordModelLF("word_model")]
    local = mmweak.apply_lfs(dd, lfs, cache_dir=tmp_path / "local-votes")
    out, report = mray.apply_lfs(mray.read(dd, shard_rows=300), lfs, cache_dir=tmp_path / "ray-votes",
                                 return_report=True)
    for split in dd:
        np.testing.assert_array_equal(ray_votes(out[split]), read_matrix(local[split], SPAM.votes_column))
    assert report.blocks["train"]["url"] == (6, 0)  # 1686 rows in blocks of 300, all computed
    assert sum(r.rows for r in report.runs["train"]) == 1686 * len(lfs)
    # one eager pass runs every split, so no line gives the whole run's seconds as its split's own
    assert len(dd) > 1 and not report.wall and all("s in its LFs)" in line for line in report.summary())

    for model in ("auto", "dawid_skene", "majority", "triplet", "metal"):
        lres = mmweak.aggregate(local, [SPAM], model, gold="label", seed=3, tie_break="abstain")
        rres, models = mray.aggregate(out, [SPAM], model, gold="label", seed=3, tie_break="abstain")
        recorded = mmweak.provenance.read_record(lres)["tasks"]["spam"]["label_model"]
        saved = {k: recorded[k] for k in ("model", "params", "state")}  # what a label-model file holds
        assert models["spam"].to_dict() == mmweak.labelmodels.LabelModel.from_dict(saved).to_dict()
        assert mray.meta_of(rres["train"]).record == mmweak.provenance.read_record(lres)
        for split in dd:
            t = table(rres[split])
            probs = np.asarray(t.column("spam_probs").combine_chunks().flatten()).reshape(-1, 2)
            np.testing.assert_array_equal(probs, read_matrix(lres[split], "spam_probs"))  # bit for bit
            np.testing.assert_array_equal(t.column("spam_label").to_numpy(), read_column(lres[split], "spam_label"))
            np.testing.assert_array_equal(t.column("spam_confidence").to_numpy(),
                                          read_column(lres[split], "spam_confidence"))

    # objective="f1" reaches the default's dev score on both engines (its record says so, and they agree).
    lres = mmweak.aggregate(local, [SPAM], gold="label", seed=3, objective="f1")
    rres, models = mray.aggregate(out, [SPAM], gold="label", seed=3, objective="f1")
    assert models["spam"].get_params()["objective"] == "f1" and models["spam"].selection_by_ == "dev"
    assert mray.meta_of(rres["train"]).record == mmweak.provenance.read_record(lres)

    # The published folders: same files, same Parquet tables, same label model, same card but for its path.
    lres = mmweak.aggregate(local, [SPAM], gold="label", seed=3)
    rres, _ = mray.aggregate(out, [SPAM], gold="label", seed=3)
    a = mmweak.save_curated(lres, tmp_path / "local")
    b = mray.save_curated(rres, tmp_path / "ray")
    files = sorted(str(p.relative_to(a)) for p in a.rglob("*") if p.is_file())
    assert files == sorted(str(p.relative_to(b)) for p in b.rglob("*") if p.is_file())
    assert "data/train-00000-of-00001.parquet" in files and "label_models/spam.json" in files
    for f in files:
        if f.endswith(".parquet"):
            ta, tb = pq.read_table(a / f), pq.read_table(b / f)
            assert ta.equals(tb) and ta.schema.metadata == tb.schema.metadata, f
        elif f == "README.md":
            # the same card but for the folder named in it (and so its seal)
            assert unsealed((a / f).read_text().replace(str(a), "X")) == unsealed((b / f).read_text().replace(str(b), "X"))
        else:
            assert (a / f).read_bytes() == (b / f).read_bytes(), f
    back, tasks = mmweak.load_curated(b)
    assert tasks == [SPAM] and back["test"].features["spam_label"] == ClassLabel(names=["ham", "spam"])
    assert ray.data.DataContext.get_current() is not None


def test_a_sampled_fit_uses_the_rows_the_local_models_sample(ray_session, tmp_path):
    """Beyond ``sample_rows`` the driver keeps only the rows ``fit_sample`` draws: a model that fits on that many
    rows itself gets the same parameters, so the same probabilities."""
    dd = youtube()
    local = mmweak.apply_lfs(dd, LFS, cache_dir=tmp_path / "votes")
    out = mray.apply_lfs(mray.read(dd, shard_rows=250), LFS, cache_dir=tmp_path / "votes")
    template = DawidSkene(cardinality=2, max_fit_rows=500)
    lres = mmweak.aggregate(local, [SPAM], template, seed=7)
    rres, models = mray.aggregate(out, [SPAM], template, seed=7, sample_rows=500)
    fit = mmweak.provenance.read_record(lres)["tasks"]["spam"]["label_model"]["fit"]
    assert fit["rows"] == 1686
    for split in ("train", "test"):
        t = table(rres[split])
        probs = np.asarray(t.column("spam_probs").combine_chunks().flatten()).reshape(-1, 2)
        np.testing.assert_array_equal(probs, read_matrix(lres[split], "spam_probs"))
    assert mray.meta_of(rres["train"]).record["tasks"]["spam"]["label_model"]["fit"]["sample_rows"] == 500


def test_parquet_folder_in_hub_layout_reads_as_splits(ray_session, tmp_path):
    dd = youtube()
    for split, ds in dd.items():
        ds.to_parquet(str(tmp_path / "src" / "data" / f"{split}-00000-of-00001.parquet"))
    splits = mray.read(tmp_path / "src", shard_rows=500)
    assert sorted(splits) == ["test", "train", "validation"]
    assert mray.meta_of(splits["train"]).features == dd["train"].features  # ClassLabel from the file metadata
    out = mray.apply_lfs(splits, LFS, cache_dir=tmp_path / "votes")
    local = mmweak.apply_lfs(dd, LFS, cache_dir=tmp_path / "local-votes")
    for split in dd:
        np.testing.assert_array_equal(ray_votes(out[split]), read_matrix(local[split], SPAM.votes_column))
    single = mray.read(str(tmp_path / "src" / "data" / "t*.parquet"))  # a glob: both files, one split
    assert single.count() == len(dd["train"]) + len(dd["test"])
    with pytest.raises(FileNotFoundError, match="no Parquet file matches"):
        mray.read(str(tmp_path / "nowhere" / "*.parquet"))
    dd["test"].to_csv(str(tmp_path / "test.csv"))  # said, not "Parquet magic bytes not found in footer"
    with pytest.raises(mmweak.MMWeakError, match=r"reads Parquet files, and '.*test\.csv' is not one: load it with "
                                                 r"datasets first, mray\.read\(datasets\.load_dataset\('csv'"):
        mray.read(str(tmp_path / "test.csv"))
    # the layouts load_dataset splits by name are split alike (the test rows were read into train before)
    layouts = {"flat": "{split}.parquet", "hashed": "data/{split}-00000-of-00001-7c3d2f8a1b2e.parquet",
               "dirs": "{stem}/part-0.parquet"}
    for name, layout in layouts.items():
        for split, ds in dd.items():
            stem = {"validation": "valid"}.get(split, split)
            ds.to_parquet(str(tmp_path / name / layout.format(split=split, stem=stem)))
        theirs = datasets.load_dataset(str(tmp_path / name))
        ours = mray.read(tmp_path / name)
        assert {s: r.count() for s, r in ours.items()} == {s: len(d) for s, d in theirs.items()}, name


def test_splits_with_other_columns_save_as_locally_and_an_empty_split_is_refused(ray_session, tmp_path):
    # gold on validation only: Ray wrote each split with its own columns, and the folder could not be loaded; an empty
    # split was written too, and load_dataset failed on it (the local engine aligns the first and refuses the second)
    dd = youtube()
    mixed = DatasetDict({"train": dd["train"].remove_columns("label"), "validation": dd["validation"]})
    rds, _ = mray.aggregate(mray.apply_lfs(mray.read(mixed), LFS[:5], cache_dir=tmp_path / "c"), [SPAM], gold="label")
    local = mmweak.aggregate(mmweak.apply_lfs(mixed, LFS[:5], cache_dir=tmp_path / "l"), [SPAM], gold="label")
    a, b = mray.save_curated(rds, tmp_path / "ray"), mmweak.save_curated(local, tmp_path / "local")
    back, _ = mmweak.load_curated(a)
    assert back["train"]["label"][:3] == [-1, -1, -1] and back["train"].features == back["validation"].features
    for f in sorted(p.relative_to(b) for p in (b / "data").iterdir()):  # the same columns (order aside) and values
        ours, theirs = pq.read_table(a / f), pq.read_table(b / f)
        assert ours.select(sorted(ours.column_names)).equals(theirs.select(sorted(theirs.column_names))), f
    empty = DatasetDict({"train": dd["train"], "test": dd["test"].select([])})
    rds, _ = mray.aggregate(mray.apply_lfs(mray.read(empty), LFS[:5], cache_dir=tmp_path / "c"), [SPAM])
    with pytest.raises(mmweak.CuratedDatasetError, match="split 'test' has no rows"):
        mray.save_curated(rds, tmp_path / "empty")
    assert not (tmp_path / "empty").exists()


def test_a_curated_folder_read_by_ray_keeps_its_tasks_and_label_models(ray_session, tmp_path):
    # read from its Parquet files alone it lost the record: "no tasks to aggregate: run mmweak.apply_lfs first"
    dd = youtube()
    folder = mmweak.save_curated(mmweak.aggregate(mmweak.apply_lfs(dd, LFS[:5], cache_dir=tmp_path / "c"), [SPAM],
                                                  gold="label"), tmp_path / "cur")
    r = mray.read(folder)
    record = mray.meta_of(r["train"]).record
    back, _ = mmweak.load_curated(folder)
    assert record == mmweak.provenance.read_record(back)  # the tasks, LFs and the fitted models' state
    again, _ = mray.aggregate(r, gold="label")
    local = mmweak.aggregate(back, gold="label")
    np.testing.assert_array_equal(np.asarray(table(again["test"]).column("spam_probs").combine_chunks().flatten()
                                             ).reshape(-1, 2), read_matrix(local["test"], "spam_probs"))


def test_hub_repo_read_through_hf_paths(ray_session, hub, tmp_path):
    from huggingface_hub import HfApi

    dd = youtube()
    repo_id = f"mmweak-tester/ray-read-{uuid.uuid4().hex[:6]}"
    for split, ds in dd.items():
        ds.to_parquet(str(tmp_path / "repo" / "data" / f"{split}-00000-of-00001.parquet"))
    HfApi().create_repo(repo_id, repo_type="dataset")
    HfApi().upload_folder(repo_id=repo_id, repo_type="dataset", folder_path=str(tmp_path / "repo"))

    splits = mray.read(f"hf://datasets/{repo_id}", shard_rows=700)
    assert sorted(splits) == ["test", "train", "validation"]
    out = mray.apply_lfs(splits, LFS, cache_dir=tmp_path / "votes")
    local = mmweak.apply_lfs(dd, LFS, cache_dir=tmp_path / "local-votes")
    for split in dd:
        np.testing.assert_array_equal(ray_votes(out[split]), read_matrix(local[split], SPAM.votes_column))
    test_only = mray.read(f"hf://datasets/{repo_id}/data/test-*.parquet")
    assert test_only.count() == 250


def test_a_large_ray_curated_folder_pushes_and_a_failed_push_resumes(ray_session, hub, tmp_path, monkeypatch):
    """A folder from ``mray.save_curated`` (many shards) is published with :func:`mmweak.push_curated` from its
    memory-mapped :func:`mmweak.load_curated`: the Hub gets the folder's files byte for byte, and a push whose
    commit failed resumes without uploading any Parquet shard again (the Hub kept the LFS objects)."""
    from huggingface_hub import HfApi

    import mmweak.hub

    monkeypatch.setattr(mmweak.hub, "_RETRY_WAIT", 0.01)
    dd = youtube()
    rds, _ = mray.aggregate(mray.apply_lfs(mray.read(dd, shard_rows=300), LFS, cache_dir=tmp_path / "votes"),
                            [SPAM], gold="label", seed=0)
    shard_bytes = 8_000
    folder = mray.save_curated(rds, tmp_path / "curated", max_shard_bytes=shard_bytes)
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    shards = [f for f in files if f.endswith(".parquet")]
    assert len(shards) > 20

    curated, _ = mmweak.load_curated(folder)
    repo_id = f"mmweak-tester/ray-large-{uuid.uuid4().hex[:6]}"
    HfApi().create_repo(repo_id, repo_type="dataset")
    start = len(hub.requests)
    hub.inject("commit", "500", times=3)
    with pytest.raises(mmweak.HubPushError, match="failed 3 time"):
        mmweak.push_curated(curated, repo_id, commit_retries=2, max_shard_bytes=shard_bytes)
    uploaded = hub.count("lfs_upload", status=200, since=start)
    mark = len(hub.requests)
    result = mmweak.push_curated(curated, repo_id, max_shard_bytes=shard_bytes)  # the rerun
    assert hub.count("lfs_upload", since=mark) == 0  # nothing uploaded twice
    lfs = [p for p, b in hub.repo(repo_id).commits[hub.head(repo_id)].files.items() if b.lfs_oid]
    assert set(shards) <= set(lfs) and uploaded == len(lfs)  # each shard uploaded once, by the failed push
    remote = hub.files(repo_id)
    assert sorted(set(remote) - {".gitattributes"}) == files == sorted(result.files)
    for f in shards + [f for f in files if f.startswith("label_models/")]:
        assert remote[f] == (folder / f).read_bytes(), f


# --- errors -----------------------------------------------------------------------------------------------------

@labeling_function(task=SPAM, inputs="text")
def breaks_on_row(batch):
    return [1 // 0 if t == CRASH_TEXT else ABSTAIN for t in batch["text"]]


def test_lf_errors_name_lf_column_and_row_as_locally(ray_session, tmp_path):
    dd = youtube(extra=[CRASH_TEXT])
    ds = dd["train"]
    with pytest.raises(mmweak.LFError) as local:
        mmweak.apply_lfs(ds, [breaks_on_row], cache_dir=tmp_path / "a")
    with pytest.raises(mmweak.LFError) as remote:
        mray.apply_lfs(mray.read(ds, shard_rows=200), [breaks_on_row], cache_dir=tmp_path / "b")
    assert (remote.value.lf, remote.value.column, remote.value.row) == ("breaks_on_row", "text", len(ds) - 1)
    assert str(remote.value) == str(local.value)
    assert "on row 1686" in str(remote.value)

    # on_error="abstain": the faults of every worker add up to the local count
    lres = mmweak.apply_lfs(ds, [breaks_on_row], on_error="abstain", cache_dir=tmp_path / "c")
    rres, report = mray.apply_lfs(mray.read(ds, shard_rows=200), [breaks_on_row], on_error="abstain",
                                  cache_dir=tmp_path / "d", return_report=True)
    local_faults = mmweak.provenance.read_record(lres)["tasks"]["spam"]["faults"]
    assert local_faults == {"train": {"breaks_on_row": 1}}
    assert mray.meta_of(rres).record["tasks"]["spam"]["faults"] == local_faults
    assert report.faults() == {"breaks_on_row": local_faults["train"]["breaks_on_row"]}
    np.testing.assert_array_equal(ray_votes(rres), read_matrix(lres, SPAM.votes_column))

    with pytest.raises(mmweak.LFError, match="reads column 'body', which split 'train' does not have"):
        mray.apply_lfs(mray.read(ds), [labeling_function(task=SPAM, inputs="body")(lambda b: [0])])
    with pytest.raises(mmweak.LFError, match="reads column 'spam_label', which apply_lfs rewrites"):  # as locally
        mray.apply_lfs(mray.read(ds), [labeling_function(task=SPAM, inputs="spam_label")(lambda b: [0])])
    with pytest.raises(ValueError, match="tie_break='random' is not supported on Ray"):
        mray.aggregate(mray.apply_lfs(mray.read(ds), LFS[:2], cache_dir=tmp_path / "e"), tie_break="random")
    # row 0 of which split: named as the local engine names it
    five = labeling_function(task=SPAM, inputs="text", name="five")(lambda b: [5] * len(b["text"]))
    with pytest.raises(mmweak.LFError, match=r"^split '(train|test)': LF 'five' \(task 'spam'\) voted 5 on row 0"):
        mray.apply_lfs({"train": mray.read(ds.select(range(5))), "test": mray.read(ds.select(range(5)))}, [five],
                       cache_dir=tmp_path / "j")

    # Annotators' votes ride along after the LFs' votes, as the local engine keeps them, with the same record.
    from mmweak.review import add_annotator_votes

    crowd = [[{"annotator": "ann", "label": 1}, {"annotator": "bo", "label": 0}], [], [{"annotator": "bo", "label": 1}]]
    small = ds.select(range(20)).add_column("crowd", crowd + [[]] * 17)
    people = add_annotator_votes(mmweak.apply_lfs(small, LFS[:2], cache_dir=tmp_path / "f"), SPAM, "crowd")
    local = mmweak.apply_lfs(people, LFS[2:5], cache_dir=tmp_path / "g")
    remote = mray.apply_lfs(mray.read(people, shard_rows=7), LFS[2:5], cache_dir=tmp_path / "h")
    np.testing.assert_array_equal(ray_votes(remote), read_matrix(local, SPAM.votes_column))
    assert read_matrix(local, SPAM.votes_column)[:3, 3:].tolist() == [[1, 0], [-1, -1], [-1, 1]]  # ann, bo last
    lfs_local = mmweak.provenance.read_record(local)["tasks"]["spam"]["lfs"]
    assert mray.meta_of(remote).record["tasks"]["spam"]["lfs"] == lfs_local
    assert [lf["name"] for lf in lfs_local][3:] == ["annotator:ann", "annotator:bo"]
    with pytest.raises(ValueError, match=r"LF name 'annotator:ann' of task 'spam' is already an annotator's column"):
        mray.apply_lfs(mray.read(people), [labeling_function(task=SPAM, inputs="text", name="annotator:ann")(
            lambda b: [0] * len(b["text"]))], cache_dir=tmp_path / "i")


# --- resume, retries, actor pools ---------------------------------------------------------------------------------

def test_rerun_after_a_crash_recomputes_only_missing_blocks_and_changed_lfs(ray_session, tmp_path):
    dd = youtube(extra=[CRASH_TEXT])
    ds = dd["train"]
    lfs = [*LFS[:5], flaky]
    cache = tmp_path / "votes"
    rds = mray.read(ds, shard_rows=100)  # 17 blocks; CRASH_TEXT is the last row
    n_blocks = 17
    _marker("flaky").touch()
    try:
        with pytest.raises(mmweak.LFError, match="LF 'flaky'.*the disk went away.*on row 1686"):
            mray.apply_lfs(rds, lfs, cache_dir=cache)
    finally:
        _marker("flaky").unlink()
    stored = len(list(cache.glob("*.arrow")))
    assert 0 < stored < n_blocks * len(lfs)  # what finished before the crash is in the cache, the rest is not

    out, report = mray.apply_lfs(rds, lfs, cache_dir=cache, return_report=True)
    computed = sum(c for c, _ in report.blocks["train"].values())
    cached = sum(h for _, h in report.blocks["train"].values())
    assert (computed, cached) == (n_blocks * len(lfs) - stored, stored)  # nothing redone, nothing lost
    # the line says which LFs were resumed, not "0 cached, 6 computed" next to "17 of 102 pairs computed"
    whole = sum(1 for c, h in report.blocks["train"].values() if not h)
    partly = sum(1 for c, h in report.blocks["train"].values() if c and h)
    line = report.summary()[0]
    assert partly and f"— {len(lfs) - whole - partly} cached, {whole} computed, {partly} computed on some blocks" in line
    local = mmweak.apply_lfs(ds, lfs, cache_dir=tmp_path / "local")
    np.testing.assert_array_equal(ray_votes(out), read_matrix(local, SPAM.votes_column))

    edited = [*mmweak_lfs(5, edit="subscribe"), flaky]
    _, report = mray.apply_lfs(rds, edited, cache_dir=cache, return_report=True)
    assert {lf: c for lf, (c, _) in report.blocks["train"].items() if c} == {"subscribe": n_blocks}
    assert report.cached() == [("train", lf.name) for lf in edited if lf.name != "subscribe"]


def test_a_killed_worker_is_retried_and_no_block_is_lost_or_doubled(ray_session, tmp_path):
    dd = youtube(extra=[CRASH_TEXT])
    ds = dd["train"]
    _marker("died").unlink(missing_ok=True)
    out, report = mray.apply_lfs(mray.read(ds, shard_rows=150), [*LFS[:3], dies_once], cache_dir=tmp_path / "v",
                                 return_report=True)
    assert _marker("died").exists()  # the worker did die
    t = table(out)
    assert t.column(mray.ROW_COLUMN).to_pylist() == list(range(len(ds)))
    assert [r.rows for r in report.runs["train"]] == [len(ds)] * 4
    local = mmweak.apply_lfs(ds, [*LFS[:3], dies_once], cache_dir=tmp_path / "local")
    np.testing.assert_array_equal(ray_votes(out), read_matrix(local, SPAM.votes_column))


def test_model_lfs_load_once_per_actor_and_rule_lfs_run_as_tasks(ray_session, tmp_path):
    log = tmp_path / "model.log"
    model = WordModelLF("word_model", log=str(log))
    model.resources = mmweak.lf.Resources(concurrency=1)
    ds = youtube()["train"]
    out, report = mray.apply_lfs(mray.read(ds, shard_rows=200), [*LFS[:3], model],
                                 cache_dir=tmp_path / "v", return_report=True)
    events = [line.split() for line in log.read_text().splitlines()]
    pids = {pid for pid, _ in events}
    assert len(pids) == 1 and sum(e == "load" for _, e in events) == 1  # one actor, one model load
    assert sum(e == "call" for _, e in events) == 9  # ...for all 9 blocks
    assert str(os.getpid()) not in pids
    from mmweak.ray.apply import _plan

    stages = _plan([*LFS[:3], model], [None] * 4, ds.features)
    assert [(s.actors, [lf.name for lf in s.lfs]) for s in stages] == [
        (True, ["word_model"]), (False, ["url", "subscribe", "phone"])]
    local = mmweak.apply_lfs(ds, [*LFS[:3], model], cache_dir=tmp_path / "local")
    np.testing.assert_array_equal(ray_votes(out), read_matrix(local, SPAM.votes_column))


def test_lfs_on_one_media_column_share_an_operator(ray_session):
    from datasets import Image

    from lf_library.image import BlurLF, ResolutionLF  # heuristics: rule LFs
    from mmweak.ray.apply import _plan

    quality = mmweak.Task("quality", ["keep", "drop"])
    feats = Features({"image": Image(), "caption": Value("string")})
    model = WordModelLF("caption_model")
    image_model = WordModelLF("image_model")
    image_model.inputs = ("image",)
    rules = [ResolutionLF("small", task=quality, label="drop", min_side=32),
             BlurLF("blurry", task=quality, label="drop", max_sharpness=50.0)]
    stages = _plan([model, image_model, *rules], [None] * 4, feats)
    # one actor pool holds both model LFs and the image rules (one decode per batch); no rule stage is left
    assert [(s.actors, [lf.name for lf in s.lfs]) for s in stages] == [
        (True, ["caption_model", "image_model", "small", "blurry"])]


# --- the core works without ray ------------------------------------------------------------------------------------

def test_core_imports_without_ray_and_mmweak_ray_names_the_extra():
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "import mmweak, datasets\n"
        "assert 'ray' not in [m.split('.')[0] for m in sys.modules if sys.modules[m] is not None]\n"
        "try:\n"
        "    import mmweak.ray\n"
        "except ImportError as e:\n"
        "    print('ERR', e)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert "ERR mmweak.ray runs on Ray Data, which is not installed: pip install 'mmweak[ray]'" in res.stdout
    # the command line checks a recipe for Ray without Ray (quieting Ray's logs must not need it)
    cli = ("import sys; sys.modules['ray'] = None\nfrom mmweak.cli import main\n"
           f"raise SystemExit(main(['curate', {str(ROOT / 'recipes' / 'youtube_spam.yaml')!r}, '--engine', 'ray', "
           "'--dry-run']))")
    res = subprocess.run([sys.executable, "-c", cli], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert res.returncode == 0 and "dry run" in res.stdout, res.stderr


def test_a_recipe_runs_on_ray_from_the_cli_with_the_local_engines_labels(ray_session, tmp_path, capsys):
    from mmweak.cli import main

    recipe = str(ROOT / "recipes" / "youtube_spam.yaml")
    assert main(["curate", recipe, "--set", f"output.folder={tmp_path / 'local'}"]) == 0
    local = capsys.readouterr().out
    seen: list[logging.LogRecord] = []
    catch = logging.Handler()
    catch.emit = seen.append  # type: ignore[method-assign]
    logging.getLogger("ray.data").addHandler(catch)
    try:
        assert main(["curate", recipe, "--engine", "ray", "--set", f"output.folder={tmp_path / 'ray'}"]) == 0
    finally:
        logging.getLogger("ray.data").removeHandler(catch)
    printed = capsys.readouterr().out
    assert "(Ray engine)" in printed and "spam: train accuracy" in printed
    # Ray Data's plans and progress ticks (INFO, dozens of lines a stage) do not bury the lines mmweak prints
    assert not [r.getMessage() for r in seen if r.levelno < logging.WARNING]
    # the numbers both engines print: the choice, the gold lines and the recipe's report (the LF summary of validation)
    said = [line for line in local.splitlines() if line.startswith(("spam: the default", "spam: train accuracy",
                                                                      "LF summary", "labels (auto"))]
    assert len(said) == 4 and all(line in printed.splitlines() for line in said), said
    ours, tasks = mmweak.load_curated(tmp_path / "ray")
    theirs, _ = mmweak.load_curated(tmp_path / "local")
    assert [t.name for t in tasks] == ["spam"]
    for split in ("train", "validation", "test"):
        assert ours[split]["spam_label"] == theirs[split]["spam_label"]
        assert ours[split]["spam_votes"] == theirs[split]["spam_votes"]
        np.testing.assert_allclose(np.asarray(ours[split]["spam_probs"]), np.asarray(theirs[split]["spam_probs"]),
                                   atol=1e-6)
    card = (tmp_path / "ray" / "README.md").read_text()
    assert "youtube_spam.yaml" in card  # the recipe is recorded on the Ray path too


def test_a_crowd_recipe_runs_on_ray_as_locally(ray_session, tmp_path, capsys):
    from mmweak.cli import main

    recipe = str(ROOT / "recipes" / "crowd_answers.yaml")
    assert main(["curate", recipe, "--set", f"output.folder={tmp_path / 'local'}"]) == 0
    assert main(["curate", recipe, "--engine", "ray", "--set", f"output.folder={tmp_path / 'ray'}"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("target: train accuracy 0.8981") == 2  # bluebird's 39 workers, no LFs
    assert printed.count("target: 39 annotators; answers per row: train 39.00") == 2  # Ray said nothing of them
    ours, _ = mmweak.load_curated(tmp_path / "ray")
    theirs, _ = mmweak.load_curated(tmp_path / "local")
    assert ours["train"]["target_votes"] == theirs["train"]["target_votes"]
    assert ours["train"]["target_label"] == theirs["train"]["target_label"]
    lfs = mmweak.provenance.read_record(ours)["tasks"]["target"]["lfs"]
    assert len(lfs) == 39 and {lf["kind"] for lf in lfs} == {mmweak.provenance.HUMAN_KIND}


def test_precomputed_votes_run_on_ray_as_locally(ray_session, tmp_path):
    from mmweak.cli import main

    recipe = str(ROOT / "recipes" / "wrench_votes.yaml")
    fill = "aggregate.fill_abstains=null"  # a local-engine step; the votes and the fit are what is compared
    assert main(["curate", recipe, "--set", fill, "--set", f"output.folder={tmp_path / 'local'}"]) == 0
    assert main(["curate", recipe, "--engine", "ray", "--set", fill, "--set", f"output.folder={tmp_path / 'ray'}"]) == 0
    ours, _ = mmweak.load_curated(tmp_path / "ray")
    theirs, _ = mmweak.load_curated(tmp_path / "local")
    for split in ("train", "validation", "test"):
        assert ours[split]["target_votes"] == theirs[split]["target_votes"] == ours[split]["weak_labels"]
        assert ours[split]["target_label"] == theirs[split]["target_label"]


def test_an_f1_rule_that_labels_every_row_positive_warns_on_ray_too(ray_session, tmp_path):
    """basketball with the F1 rule: every training row positive (an F1 of 2p/(1+p)). Ray writes its labels lazily, so
    the warning comes when the split is measured for the card, with the local engine's words and the same card line."""
    from mmweak.cli import main

    source = SHARED / "data" / "wrench" / "basketball"
    if not source.is_dir():
        pytest.skip(f"{source} is not here")
    recipe = str(ROOT / "recipes" / "wrench_votes.yaml")
    with pytest.warns(UserWarning, match=r"the F1 rule labels 100\.0% of split 'train' 'positive'.*do not tell"):
        assert main(["curate", recipe, "--engine", "ray", "--set", f"data.source={source}", "--set",
                     "aggregate.objective=f1", "--set", "aggregate.fill_abstains=null", "--set",
                     f"output.folder={tmp_path / 'ray'}"]) == 0
    card = (tmp_path / "ray" / "README.md").read_text()
    assert "**On the fit split it labels 100.0% of the rows `positive`**" in card
    # majority vote's F1 beside the labels', from the gathered gold rows: the local engine's figures
    assert "| test | 1222 | 0.101 | 0.705 | 0.101 | 1.000 | 0.091 | 0.183 | 0.166 |" in card


def test_an_lf_failing_on_ray_is_said_in_one_line_from_the_cli(ray_session, tmp_path, capsys):
    """Ray Data logged two tracebacks (~180 lines) and asked for a Ray bug report before the line naming the LF."""
    from mmweak.cli import main

    (tmp_path / "badlfs.py").write_text(
        "import mmweak\nspam = mmweak.Task('spam', ['ham', 'spam'])\n\n"
        "@mmweak.labeling_function(task=spam, inputs='text')\n"
        "def badvote(batch):\n    return [7 if 'BAD' in t else -1 for t in batch['text']]\n")
    (tmp_path / "train.csv").write_text("text\n" + "\n".join(["fine"] * 30 + ["BAD one"] + ["ok"] * 9) + "\n")
    (tmp_path / "r.yaml").write_text(
        f"version: 1\ndata: {{source: {tmp_path / 'train.csv'}}}\ntasks: {{spam: {{labels: [ham, spam]}}}}\n"
        f"lfs:\n  - ref: badlfs:badvote\noutput: {{folder: {tmp_path / 'out'}}}\n")
    seen: list[logging.LogRecord] = []
    catch = logging.Handler()
    catch.emit = seen.append  # type: ignore[method-assign]
    logging.getLogger("ray.data").addHandler(catch)
    try:
        assert main(["curate", str(tmp_path / "r.yaml"), "--engine", "ray"]) == 1
    finally:
        logging.getLogger("ray.data").removeHandler(catch)
    err = capsys.readouterr().err
    assert "mmweak: error: LFError: split 'train': LF 'badvote' (task 'spam') voted 7 on row 30" in err
    assert "Traceback" not in err and not [r for r in seen if r.levelno >= logging.ERROR]


def test_a_recipe_with_steps_ray_cannot_run_says_so(ray_session, tmp_path, capsys):
    from mmweak.cli import main

    code = main(["curate", str(ROOT / "recipes" / "youtube_spam.yaml"), "--engine", "ray", "--dry-run"])
    assert code == 0 and "dry run" in capsys.readouterr().out  # validating a recipe needs no engine
    bad = tmp_path / "r.yaml"
    bad.write_text((ROOT / "recipes" / "youtube_spam.yaml").read_text().replace(
        "aggregate:\n", "aggregate:\n  fill_abstains: prior\n", 1).replace("${recipe_dir}", str(ROOT / "recipes")))
    assert main(["curate", str(bad), "--engine", "ray", "--set", f"output.folder={tmp_path / 'x'}"]) == 2
    out, err = capsys.readouterr()
    assert "fill_abstains is not available on the Ray engine" in err and "r.yaml:" in err
    assert "use --engine local" in err and "data:" not in out  # refused before any data was read
    assert not (tmp_path / "x").exists()
    # random tie-breaks too (mmweak.ray.aggregate refused them only after every LF had run, exit 1, no line)
    assert main(["curate", str(ROOT / "recipes" / "youtube_spam.yaml"), "--engine", "ray", "--set",
                 "aggregate.tie_break=random", "--set", f"output.folder={tmp_path / 'x'}"]) == 2
    out, err = capsys.readouterr()
    assert re.search(r"youtube_spam\.yaml:\d+: aggregate\.tie_break: tie_break 'random' is not available on the Ray "
                     r"engine", err) and "data:" not in out
    # a step that needs the whole dataset in one process: refused before its data (Hub photos here) is fetched
    assert main(["curate", str(ROOT / "recipes" / "image_curation.yaml"), "--engine", "ray", "--dry-run"]) == 2
    assert "post_aggregate: post_aggregate steps run on a datasets.DatasetDict" in capsys.readouterr().err


def test_gold_in_another_class_order_is_read_by_name_on_ray_as_locally(ray_session):
    # Ray read a gold ClassLabel(["spam", "ham"]) by position for a task ["ham", "spam"]: dev labels inverted
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 600)
    L = np.where(rng.random((600, 4)) < 0.75, y[:, None], 1 - y[:, None])
    L[rng.random((600, 4)) < 0.3] = ABSTAIN
    feats = Features({"spam_votes": datasets.List(Value("int8"), length=4), "label": ClassLabel(names=["spam", "ham"])})

    def split(rows):
        return datasets.Dataset.from_dict({"spam_votes": L[rows].tolist(), "label": (1 - y[rows]).tolist()},
                                          features=feats)

    dd = DatasetDict({"train": split(slice(0, 400)), "validation": split(slice(400, 600))})
    with pytest.warns(UserWarning, match="was not written by apply_lfs"):
        lres = mmweak.aggregate(dd, [SPAM], "dawid_skene", gold="label", seed=0)
    with pytest.warns(UserWarning, match="was not written by apply_lfs"):
        rres, models = mray.aggregate(mray.read(dd), [SPAM], "dawid_skene", gold="label", seed=0)
    for name in dd:
        t = table(rres[name])
        probs = np.asarray(t.column("spam_probs").combine_chunks().flatten()).reshape(-1, 2)
        np.testing.assert_array_equal(probs, read_matrix(lres[name], "spam_probs"))
    assert mray.meta_of(rres["train"]).record == mmweak.provenance.read_record(lres)
    labels = read_column(lres["validation"], "spam_label")
    assert (labels == y[400:]).mean() > 0.8  # in the task's order (1 = spam); inverted dev labels give ~0.2
