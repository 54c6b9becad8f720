"""Tests for lf_library.text and the YouTube spam recipe's LFs."""

from __future__ import annotations

import json
import pickle
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from paths import ROOT

REPO_ROOT = ROOT

import mmweak  # noqa: E402
from lf_library.text import KeywordLF, LengthLF, LookupLF, RegexLF, resolve_label  # noqa: E402

YOUTUBE = REPO_ROOT.parent / "shared" / "data" / "wrench" / "youtube"

SPAM = mmweak.Task("spam", ["ham", "spam"])
TOPIC = mmweak.Task("topic", ["sports", "politics", "music"])


# -- label resolution ---------------------------------------------------------------------------
def test_label_by_index_and_name():
    assert resolve_label(SPAM, 1) == 1
    assert resolve_label(SPAM, "spam") == 1
    assert resolve_label(SPAM, "HAM") == 0
    assert KeywordLF("k", task=TOPIC, label="music", keywords="song").label == 2
    assert RegexLF("r", task=TOPIC, label=1, pattern="vote").label == 1


@pytest.mark.parametrize("bad", ["eggs", 2, -1, True, 1.5, None])
def test_bad_label_is_a_clear_value_error(bad):
    with pytest.raises(ValueError, match="label"):
        KeywordLF("k", task=SPAM, label=bad, keywords=["x"])
    with pytest.raises(ValueError):
        RegexLF("r", task=SPAM, label=bad, pattern="x")


def test_bad_lookup_label_names_the_lf():
    with pytest.raises(ValueError, match="kb.*eggs"):
        LookupLF("kb", task=SPAM, table={"foo": "eggs"})


# -- KeywordLF ------------------------------------------------------------------------------------
def test_keyword_votes_and_abstains():
    lf = KeywordLF("kw", task=SPAM, label="spam", keywords=["free", "check out"])
    assert lf({"text": ["Totally FREE stuff", "check   out my page", "nice song", None, 3]}) == [1, 1, -1, -1, -1]
    assert lf.modality == "text" and lf.inputs == ("text",)


def test_keyword_whole_word():
    lf = KeywordLF("kw", task=SPAM, label=1, keywords=["win"])
    assert lf({"text": ["you win!", "window", "winner", "(win)", "win."]}) == [1, -1, -1, 1, 1]
    loose = KeywordLF("kw", task=SPAM, label=1, keywords=["win"], whole_word=False)
    assert loose({"text": ["window", "nothing"]}) == [1, -1]


def test_keyword_punctuation_keywords_and_regex_chars_are_literal():
    lf = KeywordLF("kw", task=SPAM, label=1, keywords=["$$$", "a.b", ".com"])
    assert lf({"text": ["get $$$ now", "axb", "a.b", "visit site.com", "x.company", "xa.bx"]}) == [1, -1, 1, 1, -1, -1]


def test_keyword_case():
    lf = KeywordLF("kw", task=SPAM, label=1, keywords=["PSY"], case_sensitive=True)
    assert lf({"text": ["PSY rocks", "psy rocks"]}) == [1, -1]
    lf = KeywordLF("kw", task=SPAM, label=1, keywords=["PSY"])
    assert lf({"text": ["PSY rocks", "psy rocks"]}) == [1, 1]


def test_keyword_other_column_and_empty_keywords():
    lf = KeywordLF("kw", task=SPAM, label=1, keywords="x", column="title")
    assert lf.inputs == ("title",)
    assert lf({"title": ["x y"]}) == [1]
    with pytest.raises(ValueError):
        KeywordLF("kw", task=SPAM, label=1, keywords=[])
    with pytest.raises(ValueError):
        KeywordLF("kw", task=SPAM, label=1, keywords=["  "])


def test_keyword_fingerprint_follows_keywords():
    a = KeywordLF("kw", task=SPAM, label=1, keywords=["free", "win"])
    same = KeywordLF("kw", task=SPAM, label=1, keywords=["win", "free"])
    other = KeywordLF("kw", task=SPAM, label=1, keywords=["free", "win", "cash"])
    assert a.fingerprint() == same.fingerprint()
    assert a.fingerprint() != other.fingerprint()
    assert a.code_hash != other.code_hash
    assert a.fingerprint() != KeywordLF("kw", task=SPAM, label=0, keywords=["free", "win"]).fingerprint()
    assert a.fingerprint() != KeywordLF("kw", task=SPAM, label=1, keywords=["free", "win"], whole_word=False).fingerprint()
    json.dumps(a.config())


def test_keyword_pickles():
    lf = KeywordLF("kw", task=SPAM, label=1, keywords=["free"])
    clone = pickle.loads(pickle.dumps(lf))
    assert clone({"text": ["free", "no"]}) == [1, -1]
    assert clone.fingerprint() == lf.fingerprint()


# -- RegexLF ---------------------------------------------------------------------------------------
def test_regex_votes_flags_and_fingerprint():
    lf = RegexLF("link", task=SPAM, label="spam", pattern=r"https?://")
    assert lf({"text": ["HTTP://x.y", "no link", None]}) == [1, -1, -1]
    strict = RegexLF("link", task=SPAM, label="spam", pattern=r"https?://", flags=0)
    assert strict({"text": ["HTTP://x.y", "http://x"]}) == [-1, 1]
    assert lf.fingerprint() != strict.fingerprint()
    assert lf.fingerprint() != RegexLF("link", task=SPAM, label="spam", pattern=r"https://").fingerprint()
    compiled = RegexLF("c", task=SPAM, label=1, pattern=re.compile("abc", re.I))
    assert compiled({"text": ["xABCx"]}) == [1]
    json.dumps(lf.config())


def test_regex_invalid_pattern():
    with pytest.raises(ValueError, match="invalid regular expression"):
        RegexLF("r", task=SPAM, label=1, pattern="(unclosed")


# -- LookupLF --------------------------------------------------------------------------------------
TABLE = {"katy perry": "ham", "psy": 0, "free iphone": "spam"}


def test_lookup_contains_whole_phrases():
    lf = LookupLF("kb", task=SPAM, table=TABLE)
    texts = ["I love KATY   PERRY", "psycho", "psy!", "win a free iPhone", "nothing here", None]
    assert lf(({"text": texts})) == [0, -1, 0, 1, -1, -1]


def test_lookup_conflicts_abstain_agreement_votes():
    lf = LookupLF("kb", task=SPAM, table=TABLE)
    assert lf({"text": ["katy perry free iphone", "psy and katy perry"]}) == [-1, 0]


def test_lookup_exact_mode():
    lf = LookupLF("kb", task=TOPIC, table={"Real Madrid": "sports", "senate": "politics"}, mode="exact")
    assert lf({"text": ["real  madrid", "Real Madrid won", " SENATE ", "x"]}) == [0, -1, 1, -1]
    cs = LookupLF("kb", task=TOPIC, table={"Real Madrid": "sports"}, mode="exact", case_sensitive=True)
    assert cs({"text": ["real madrid", "Real Madrid"]}) == [-1, 0]


def test_lookup_bad_inputs():
    with pytest.raises(ValueError, match="mode"):
        LookupLF("kb", task=SPAM, table=TABLE, mode="fuzzy")
    with pytest.raises(ValueError, match="two classes"):
        LookupLF("kb", task=SPAM, table={"Psy": "ham", "psy": "spam"})
    with pytest.raises(ValueError, match="empty"):
        LookupLF("kb", task=SPAM, table={})
    with pytest.raises(ValueError, match="does not exist"):
        LookupLF("kb", task=SPAM, table="/nonexistent/table.csv")


def test_lookup_unicode_casefold_mismatch_does_not_crash():
    lf = LookupLF("kb", task=SPAM, table={"eminem": "ham"})
    assert lf({"text": ["EMİNEM FANS", "Eminem"]}) == [0, 0]


@pytest.mark.parametrize("kind", ["csv", "tsv", "json_obj", "json_list"])
def test_lookup_from_file(tmp_path, kind):
    if kind == "csv":
        path = tmp_path / "kb.csv"
        path.write_text("term,label\nkaty perry,ham\n\"free, iphone\",1\n", encoding="utf-8")
    elif kind == "tsv":
        path = tmp_path / "kb.tsv"
        path.write_text("katy perry\tham\nfree, iphone\tspam\n", encoding="utf-8")
    elif kind == "json_obj":
        path = tmp_path / "kb.json"
        path.write_text(json.dumps({"katy perry": "ham", "free, iphone": 1}), encoding="utf-8")
    else:
        path = tmp_path / "kb.json"
        path.write_text(json.dumps([{"term": "katy perry", "label": 0}, ["free, iphone", "spam"]]), encoding="utf-8")
    lf = LookupLF("kb", task=SPAM, table=str(path))
    assert lf({"text": ["katy perry!", "a free, iphone", "neither"]}) == [0, 1, -1]
    from_dict = LookupLF("kb", task=SPAM, table={"katy perry": 0, "free, iphone": 1})
    assert lf.fingerprint() == from_dict.fingerprint()  # identity is the table's content, not its path


def test_lookup_fingerprint_follows_table():
    a = LookupLF("kb", task=SPAM, table={"psy": 0})
    b = LookupLF("kb", task=SPAM, table={"psy": 1})
    c = LookupLF("kb", task=SPAM, table={"psy": 0, "eminem": 0})
    assert len({a.fingerprint(), b.fingerprint(), c.fingerprint()}) == 3
    json.dumps(c.config())


# -- LengthLF --------------------------------------------------------------------------------------
def test_length_lf():
    short = LengthLF("short", task=SPAM, label="ham", max_words=2)
    assert short({"text": ["nice", "very nice song", "", None]}) == [0, -1, 0, -1]
    long = LengthLF("long", task=SPAM, label="spam", min_words=3)
    assert long({"text": ["a b", "a b c"]}) == [-1, 1]
    with pytest.raises(ValueError):
        LengthLF("x", task=SPAM, label=0)
    with pytest.raises(ValueError):
        LengthLF("x", task=SPAM, label=0, min_words=5, max_words=2)


# -- through apply_lfs -----------------------------------------------------------------------------
def test_library_lfs_run_through_apply(tmp_path):
    import datasets

    ds = datasets.Dataset.from_dict({"text": ["check out http://x", "love psy", None, "meh"]})
    lfs = [
        KeywordLF("kw", task=SPAM, label="spam", keywords=["check out"]),
        RegexLF("link", task=SPAM, label="spam", pattern="https?://"),
        LookupLF("kb", task=SPAM, table={"psy": "ham"}),
    ]
    out = mmweak.apply_lfs(ds, lfs, cache_dir=tmp_path)
    assert out["spam_votes"] == [[1, 1, -1], [-1, -1, 0], [-1, -1, -1], [-1, -1, -1]]


# -- the YouTube recipe on the real data -----------------------------------------------------------
@pytest.mark.skipif(not (YOUTUBE / "test.json").is_file(), reason=f"WRENCH youtube data not found at {YOUTUBE}")
def test_youtube_recipe_lfs_beat_published_majority_vote(tmp_path):
    from recipes import youtube_spam as recipe

    assert recipe.SPAM.labels == ("ham", "spam")
    assert len(recipe.LFS) >= 8
    ds = recipe.load_youtube(YOUTUBE)
    assert set(ds) == {"train", "validation", "test"}
    assert len(ds["test"]) == 250
    assert ds["train"].features["label"].names == ["ham", "spam"]
    ds = mmweak.apply_lfs(ds, recipe.LFS, cache_dir=tmp_path)
    L_train = np.asarray(ds["train"]["spam_votes"])
    L_test = np.asarray(ds["test"]["spam_votes"])
    gold = np.asarray(ds["test"]["label"])
    accs = {}
    for name in ("majority", None):
        model = mmweak.labelmodels.create(name, cardinality=2).fit(L_train)
        pred = model.predict(L_test, tie_break="prior")
        pred[pred == -1] = int(np.argmax(model.class_balance_))  # every test row is scored
        accs[name] = float((pred == gold).mean())
    assert max(accs.values()) >= 0.86, accs
    metrics = recipe.evaluate(ds)
    assert metrics[metrics["model"]]["test"] >= 0.86, metrics


@pytest.mark.skipif(not (YOUTUBE / "test.json").is_file(), reason=f"WRENCH youtube data not found at {YOUTUBE}")
def test_youtube_recipe_end_to_end_writes_curated_folder(tmp_path, capsys):
    import datasets
    import yaml

    from recipes import youtube_spam as recipe

    metrics = recipe.main(["--data", str(YOUTUBE), "--out", str(tmp_path / "yt")])
    out = capsys.readouterr().out
    assert metrics["curated"]["test"] > 0.9 and "test accuracy: 0.9" in out
    card = (tmp_path / "yt" / "README.md").read_text()
    meta = yaml.safe_load(card.split("---")[1])
    assert len(meta["weak_supervision"]["tasks"][0]["lfs"]) == len(recipe.LFS)
    assert f"| test | 250 | {metrics['curated_strict']:.3f} |" in card
    back = datasets.load_dataset(str(tmp_path / "yt"))
    assert back["test"].features["spam_label"].names == ["ham", "spam"]
