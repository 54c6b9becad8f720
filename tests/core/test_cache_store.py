"""`mmweak cache`: what $MMWEAK_CACHE holds, and clearing it (all of it, one store, or files unused for N days)."""

from __future__ import annotations

import os
import time

import datasets

import mmweak
from mmweak.cache_store import store_root, usage
from mmweak.cli import main


def test_cache_shows_and_clears_the_stores_and_a_cleared_vote_is_computed_again(spam, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MMWEAK_CACHE", str(tmp_path / "cache"))
    lfs = [mmweak.labeling_function(task=spam, inputs="text", name="link")(
               lambda b: [1 if "http" in t else -1 for t in b["text"]]),
           mmweak.labeling_function(task=spam, inputs="text", name="short")(
               lambda b: [0 if len(t) < 6 else -1 for t in b["text"]])]
    ds = datasets.Dataset.from_dict({"text": ["see http://a", "hi", "long words", "ok"]})
    first = mmweak.apply_lfs(ds, lfs)
    assert [u.files for u in usage()] == [2, 0, 0]
    assert main(["cache"]) == 0
    shown = capsys.readouterr().out
    assert "votes" in shown and str(store_root("votes")) in shown

    # Only files unused for longer than asked go; the others stay and still hit.
    old = next(store_root("votes").iterdir())
    month_ago = time.time() - 40 * 86400
    os.utime(old, (month_ago, month_ago))
    assert main(["cache", "--clear", "--older-than", "30"]) == 0
    assert capsys.readouterr().out.startswith("removed 1 files unused for 30 days (")
    assert usage(["votes"])[0].files == 1
    _, rep = mmweak.apply_lfs(ds, lfs, return_report=True)
    assert len(rep.cached()) == 1 and len(rep.computed()) == 1

    assert main(["cache", "--clear", "--store", "votes"]) == 0
    assert usage(["votes"])[0].files == 0 and not any(store_root("votes").rglob("*"))
    again, rep = mmweak.apply_lfs(ds, lfs, return_report=True)
    assert rep.cached() == [] and again["spam_votes"] == first["spam_votes"]  # computed again, the same votes

    for args, said in ((["cache", "--store", "nope"], "--store: unknown store 'nope'"),
                       (["cache", "--older-than", "3"], "--older-than goes with --clear")):
        assert main(args) == 2
        assert said in capsys.readouterr().err


def test_an_embedding_store_open_during_a_clear_writes_its_next_vectors_to_a_new_file(tmp_path, monkeypatch):
    # A curate running in one terminal while `mmweak cache --clear` runs in another: the open connection would keep
    # writing into the removed (unlinked) file, and every vector computed after the clear would be lost.
    import numpy as np

    from lf_library.embed_cache import EmbeddingStore
    from mmweak.cache_store import clear

    monkeypatch.setenv("MMWEAK_CACHE", str(tmp_path / "cache"))
    store = EmbeddingStore("minilm")
    store.put(["a"], np.ones((1, 3)))
    assert clear(["embeddings"]).files >= 1 and not store.path.exists()
    store.put(["b"], np.full((1, 3), 2.0))
    assert store.path.exists()
    assert sorted(store.get(["a", "b"])) == ["b"]  # "a" went with the clear; "b" is on disk
    assert sorted(EmbeddingStore("minilm").get(["a", "b"])) == ["b"]  # and another process would see it
