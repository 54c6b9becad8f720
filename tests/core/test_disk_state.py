"""What is on disk stays right when the disk or other writers misbehave: a damaged or unwritable vote cache, two
threads writing one cache entry or one model file, a save racing a user's file or another save, a writer killed
part-way. Nothing of the user's is deleted, no result is lost, and no half-written file is ever read."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import datasets
import pytest

import mmweak
import mmweak.folder_publish as pub
from mmweak import CuratedDatasetError, labeling_function

SPAM = mmweak.Task("spam", ["ham", "spam"])
TEXTS = ["free money", "hello", "free gift", "see you", "free", "lunch?"] * 4


@labeling_function(task=SPAM, inputs="text")
def free(b):
    return [1 if "free" in t else -1 for t in b["text"]]


@labeling_function(task=SPAM, inputs="text")
def greeting(b):
    return [0 if t in ("hello", "see you") else -1 for t in b["text"]]


def _apply(cache, **kw):
    return mmweak.apply_lfs(datasets.Dataset.from_dict({"text": TEXTS}), [free, greeting], cache_dir=cache,
                            return_report=True, **kw)


def _votes(ds):
    return ds.data.column("spam_votes").to_pylist()


@pytest.mark.parametrize("damage", ["truncate", "empty", "garbage", "other_rows"])
def test_a_damaged_cache_file_is_a_warned_miss_and_is_replaced(tmp_path, damage):
    cache = tmp_path / "cache"
    good, _ = _apply(cache)
    files = sorted(cache.glob("*.arrow"))
    assert len(files) == 2
    f = files[0]
    if damage == "truncate":
        f.write_bytes(f.read_bytes()[: len(f.read_bytes()) // 2])
    elif damage == "empty":
        f.write_bytes(b"")
    elif damage == "garbage":
        f.write_bytes(os.urandom(500))
    else:  # a well-formed file of another length (a copied cache, a hash collision)
        import numpy as np

        from mmweak.vote_cache import write_votes

        write_votes(f, np.zeros(3, dtype=np.int8), 0, False)
    with pytest.warns(UserWarning, match=r"cached votes .* are damaged .* removed and the LF runs again"):
        again, report = _apply(cache)
    assert _votes(again) == _votes(good)
    assert len(report.cached()) == 1  # the other LF's file was fine
    third, report = _apply(cache)
    assert _votes(third) == _votes(good) and len(report.cached()) == 2  # rewritten whole


@pytest.mark.parametrize("use_cache", [True, False])
def test_a_cache_folder_that_cannot_be_written_keeps_the_votes(tmp_path, use_cache):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    with pytest.warns(UserWarning, match=r"votes are not cached: cannot write to .*not-a-folder"):
        ds, report = _apply(blocked, use_cache=use_cache)
    assert _votes(ds) == _votes(_apply(tmp_path / "ok")[0])
    assert blocked.read_text().startswith("a file")


def test_threads_writing_the_same_cache_entries_never_fail(tmp_path):
    cache, errors = tmp_path / "cache", []

    def run():
        try:
            for _ in range(5):
                _apply(cache, use_cache=False)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(p.suffix for p in cache.iterdir()) == [".arrow", ".arrow"]  # no temporary file left


def test_two_threads_saving_one_model_file_never_leave_half_a_model(tmp_path):
    L = [[1, 0, 1], [0, 0, -1], [1, 1, 1], [0, -1, 0]] * 50
    models = [mmweak.labelmodels.create("dawid_skene", cardinality=2).fit(L),
              mmweak.labelmodels.create("majority", cardinality=2).fit(L)]
    path, errors = tmp_path / "model.json", []

    def save(m):
        try:
            for _ in range(100):
                m.save(path)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(m,)) for m in models]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert type(mmweak.labelmodels.LabelModel.load(path)).__name__ in {"DawidSkene", "MajorityVote", "Majority"}
    assert os.listdir(tmp_path) == ["model.json"]


@pytest.fixture
def curated():
    ds = mmweak.apply_lfs(datasets.Dataset.from_dict({"text": TEXTS}), [free, greeting], use_cache=False)
    return mmweak.aggregate(ds, model="majority")


def test_a_folder_that_appears_while_saving_is_not_replaced(curated, tmp_path):
    target = tmp_path / "out"
    real = pub._swap_in

    def user_writes_meanwhile(tmp: Path, fill):
        def filling(folder):
            fill(folder)
            target.mkdir()
            (target / "my_notes.txt").write_text("mine")
        return filling

    orig_publish = pub.publish_folder

    def publish(t, fill, **kw):
        return orig_publish(t, user_writes_meanwhile(t, fill), **kw)

    import mmweak.curated as cur

    cur.publish_folder, saved = publish, cur.publish_folder
    try:
        with pytest.raises(FileExistsError, match="appeared while the dataset was written"):
            mmweak.save_curated(curated, target)
    finally:
        cur.publish_folder = saved
    assert (target / "my_notes.txt").read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left
    assert real is pub._swap_in


def test_overwrite_refuses_a_curated_folder_a_user_added_files_to(curated, tmp_path):
    target = mmweak.save_curated(curated, tmp_path / "out")
    mmweak.save_curated(curated, target, overwrite=True)  # ours: replaced
    for extra in ("plots/annotator_agreement.png", "label_models/my_tuned_model.json",
                  "data/extra-00000-of-00001.parquet"):
        (target / extra).write_bytes(b"the user's")
        with pytest.raises(CuratedDatasetError, match="refusing to replace"):
            mmweak.save_curated(curated, target, overwrite=True)
        assert (target / extra).read_bytes() == b"the user's"
        (target / extra).unlink()
    mmweak.save_curated(curated, target, overwrite=True)


def test_a_user_file_added_during_an_overwrite_is_kept(curated, tmp_path, monkeypatch):
    target = mmweak.save_curated(curated, tmp_path / "out")
    real_fill_check = pub._swap_in

    def swap_after_user_edit(tmp, tgt, replaceable):
        (tgt / "plots" / "mine.png").write_bytes(b"x")  # between the first check and the swap
        return real_fill_check(tmp, tgt, replaceable)

    monkeypatch.setattr(pub, "_swap_in", swap_after_user_edit)
    with pytest.raises(CuratedDatasetError, match="changed while the dataset was written"):
        mmweak.save_curated(curated, target, overwrite=True)
    assert (target / "plots" / "mine.png").read_bytes() == b"x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("exchange", [True, False])
def test_leftovers_of_a_killed_writer_are_cleared_and_an_old_folder_put_back(curated, tmp_path, monkeypatch,
                                                                              exchange):
    if not exchange:
        monkeypatch.setattr(pub, "_exchange", lambda a, b: False)
    target = mmweak.save_curated(curated, tmp_path / "out")
    dead = 2**22 + 12345  # no such process
    while True:
        try:
            os.kill(dead, 0)
            dead += 1
        except ProcessLookupError:
            break
    host = pub._writer_tag().rsplit("-", 2)[0]
    # A writer killed between moving the old folder aside and moving the new one in: the target is missing
    old = tmp_path / f".out.old-{host}-{dead}-0123abcd"
    os.rename(target, old)
    leftovers = [old, tmp_path / f".out.tmp-{host}-{dead}-4567cdef",
                 tmp_path / f".out.tmp-{host}-{os.getpid()}-89abcdef",  # a live writer's: left alone
                 tmp_path / f".out.tmp-{host}-{dead}-fedcba98",  # a dead writer's, but written to a minute ago
                 tmp_path / f".out.tmp-0123456789ab-{dead}-76543210",  # another host's (shared storage)
                 tmp_path / f".out.v2.tmp-{host}-{dead}-01234567"]  # another target's
    for p in leftovers[1:]:
        p.mkdir()
    writing = tmp_path / f".out.tmp-{host}-{dead}-aaaaaaaa"  # its folders idle, a shard inside still growing
    (writing / "data").mkdir(parents=True)
    (writing / "data" / "train-00000-of-00001.parquet").write_bytes(b"...")
    leftovers.append(writing)
    now = time.time()
    os.utime(leftovers[3], (now + 3590, now + 3590))  # an hour from now, it was written to a minute ago
    os.utime(writing / "data" / "train-00000-of-00001.parquet", (now + 3590, now + 3590))
    monkeypatch.setattr(pub.time, "time", lambda: now + 3600)
    # without overwrite the old folder is back before the check: "exists", not "appeared" after the whole write
    with pytest.raises(FileExistsError, match="exists; pass overwrite=True"):
        mmweak.save_curated(curated, target)
    mmweak.save_curated(curated, target, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out", *(p.name for p in leftovers[2:])])
    assert mmweak.load_curated(target) is not None


def test_a_user_file_added_while_the_folders_are_swapped_is_kept(curated, tmp_path, monkeypatch):
    target = mmweak.save_curated(curated, tmp_path / "out")
    real = pub._exchange

    def exchange_after_user_edit(a, b):  # after the check before the swap: only the check after it can see it
        (b / "plots" / "mine.png").write_bytes(b"x")
        return real(a, b)

    monkeypatch.setattr(pub, "_exchange", exchange_after_user_edit)
    with pytest.raises(CuratedDatasetError, match=r"left as it was, and the new dataset is in .*out\.new-"):
        mmweak.save_curated(curated, target, overwrite=True)
    assert (target / "plots" / "mine.png").read_bytes() == b"x"
    assert sorted(p.name.split("-")[0] for p in tmp_path.iterdir()) == ["out", "out.new"]
