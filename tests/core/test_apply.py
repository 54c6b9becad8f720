import importlib.util
import re
import warnings

import datasets
import numpy as np
import pytest
from datasets import Dataset, DatasetDict, List, Value

import mmweak
from mmweak import LFError, labeling_function
from mmweak.card import unsealed

LF_MODULE = '''
import mmweak
TASK = mmweak.Task("spam", labels=["ham", "spam"])
COUNTER = {counter!r}

def _count(name, n):
    with open(COUNTER, "a") as f:
        f.write(f"{{name}}:{{n}}\\n")

@mmweak.labeling_function(task=TASK, inputs="text")
def has_link(batch):
    _count("has_link", len(batch["text"]))
    return [1 if {link_test} else -1 for t in batch["text"]]

@mmweak.labeling_function(task=TASK, inputs="text")
def short(batch):
    _count("short", len(batch["text"]))
    return [0 if len(t) < 12 else -1 for t in batch["text"]]
'''


def _load(tmp_path, version, link_test):
    counter = tmp_path / "calls.txt"
    path = tmp_path / f"lfs_v{version}.py"
    path.write_text(LF_MODULE.format(counter=str(counter), link_test=link_test))
    spec = importlib.util.spec_from_file_location(f"lfs_v{version}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod, counter


def _calls(counter):
    if not counter.exists():
        return {}
    out = {}
    for line in counter.read_text().split():
        name, n = line.split(":")
        out[name] = out.get(name, 0) + int(n)
    counter.unlink()
    return out


def test_votes_column_type_and_values(texts, spam, tmp_path):
    @labeling_function(task=spam, inputs="text")
    def link(batch):
        return [1 if ("http" in t or "www" in t) else -1 for t in batch["text"]]

    ds = mmweak.apply_lfs(texts, [link], cache_dir=tmp_path)
    assert ds.features["spam_votes"] == List(Value("int8"), length=1)
    assert [v[0] for v in ds["spam_votes"]] == [1, -1, -1, -1, 1, -1, -1, -1]
    assert ds.column_names == ["text", "label", "spam_votes"]


def test_rerun_is_cache_hit_and_editing_one_lf_recomputes_only_it(texts, tmp_path):
    mod, counter = _load(tmp_path, 1, '"http" in t')
    cache = tmp_path / "cache"
    ds1, rep1 = mmweak.apply_lfs(texts, [mod.has_link, mod.short], cache_dir=cache, return_report=True)
    assert _calls(counter) == {"has_link": 8, "short": 8}
    assert rep1.cached() == []

    mod_again, _ = _load(tmp_path, 2, '"http" in t')  # same code, reloaded: still a hit
    ds2, rep2 = mmweak.apply_lfs(texts, [mod_again.has_link, mod_again.short], cache_dir=cache, return_report=True)
    assert _calls(counter) == {}
    assert sorted(lf for _, lf in rep2.cached()) == ["has_link", "short"]
    assert ds2["spam_votes"] == ds1["spam_votes"]
    assert ds2._fingerprint == ds1._fingerprint

    edited, _ = _load(tmp_path, 3, '("http" in t or "www" in t)')  # edit has_link's body only
    ds3, rep3 = mmweak.apply_lfs(texts, [edited.has_link, edited.short], cache_dir=cache, return_report=True)
    assert _calls(counter) == {"has_link": 8}
    assert rep3.computed() == [("train", "has_link")] and rep3.cached() == [("train", "short")]
    assert [v[0] for v in ds3["spam_votes"]][4] == 1 and [v[0] for v in ds1["spam_votes"]][4] == -1
    assert ds3._fingerprint != ds1._fingerprint

    _, rep4 = mmweak.apply_lfs(texts, [edited.has_link, edited.short], cache_dir=cache, use_cache=False,
                               return_report=True)
    assert _calls(counter) == {"has_link": 8, "short": 8} and rep4.cached() == []


def test_the_default_cache_hits_on_the_same_rows_from_any_source(texts, tmp_path, monkeypatch):
    """Kept next to each dataset's cache files, the votes of rows read from a CSV missed when the same rows came
    from memory or from a curated folder's parquet, though the key is their content."""
    monkeypatch.setenv("MMWEAK_CACHE", str(tmp_path / "cache"))
    texts.save_to_disk(str(tmp_path / "ds"))
    texts.to_csv(str(tmp_path / "t.csv"), index=False)
    mod, counter = _load(tmp_path, 1, '"http" in t')
    mmweak.apply_lfs(datasets.load_from_disk(str(tmp_path / "ds")), [mod.has_link])
    assert _calls(counter) == {"has_link": len(texts)} and any((tmp_path / "cache" / "votes").iterdir())
    assert not (tmp_path / "ds" / "mmweak_votes").exists()
    for again in (datasets.load_from_disk(str(tmp_path / "ds")), datasets.Dataset.from_dict(texts.to_dict()),
                  datasets.load_dataset("csv", data_files=str(tmp_path / "t.csv"))["train"]):
        _, rep = mmweak.apply_lfs(again, [mod.has_link], return_report=True)
        assert rep.cached() == [("train", "has_link")] and _calls(counter) == {}


def test_num_proc_2_gives_identical_votes(tmp_path):
    rng = np.random.default_rng(0)
    words = np.array(["free", "song", "http", "love", "win", "nice", "plz", "the"])
    texts = [" ".join(rng.choice(words, 5)) for _ in range(400)]
    ds = Dataset.from_dict({"text": texts})
    task = mmweak.Task("spam", ["ham", "spam"])
    from lf_library.text import KeywordLF

    lfs = [KeywordLF("spammy", task=task, label=1, keywords=["free", "win", "http"]),
           KeywordLF("hammy", task=task, label=0, keywords=["song", "love"])]
    one = mmweak.apply_lfs(ds, lfs, num_proc=1, batch_size=32, cache_dir=tmp_path / "a")
    two = mmweak.apply_lfs(ds, lfs, num_proc=2, batch_size=32, cache_dir=tmp_path / "b")
    assert one["spam_votes"] == two["spam_votes"]
    assert sum(v != -1 for r in two["spam_votes"] for v in r) > 100


def test_datasetdict_all_splits(texts, spam, tmp_path):
    dd = DatasetDict({"train": texts, "test": texts.select(range(3))})
    lf = labeling_function(task=spam, inputs="text", name="all_spam")(lambda b: [1] * len(b["text"]))
    out = mmweak.apply_lfs(dd, [lf], cache_dir=tmp_path)
    assert out["train"]["spam_votes"] == [[1]] * 8 and out["test"]["spam_votes"] == [[1]] * 3


def test_two_tasks_get_two_columns(texts, spam, tmp_path):
    topic = mmweak.Task("music", ["no", "yes"])
    a = labeling_function(task=spam, inputs="text", name="a")(lambda b: [1] * len(b["text"]))
    b = labeling_function(task=topic, inputs="text", name="b")(lambda b: [0] * len(b["text"]))
    c = labeling_function(task=topic, inputs="text", name="c")(lambda b: [-1] * len(b["text"]))
    out = mmweak.apply_lfs(texts, [a, b, c], cache_dir=tmp_path)
    assert out.features["music_votes"] == List(Value("int8"), length=2)
    assert out["music_votes"][0] == [0, -1] and out["spam_votes"][0] == [1]


def _crashy(batch):
    return [1 if len(t) > 0 and 1 / (len(t) - 4) else -1 for t in batch["text"]]  # "nice" has 4 chars


def test_exception_names_lf_column_and_row(texts, spam, tmp_path):
    lf = labeling_function(task=spam, inputs="text", name="crashy")(_crashy)
    with pytest.raises(LFError) as e:
        mmweak.apply_lfs(texts, [lf], cache_dir=tmp_path)
    assert "crashy" in str(e.value) and "ZeroDivisionError" in str(e.value)
    assert "row 5" in str(e.value) and "'nice'" in str(e.value) and "'text'" in str(e.value)
    assert (e.value.lf, e.value.column, e.value.row) == ("crashy", "text", 5)


def test_exception_in_worker_process_is_reported(texts, spam, tmp_path):
    lf = labeling_function(task=spam, inputs="text", name="crashy")(_crashy)
    with pytest.raises(LFError, match="row 5"):
        mmweak.apply_lfs(texts, [lf], cache_dir=tmp_path, num_proc=2, batch_size=2)


def test_fault_tolerant_mode_counts_faults_per_lf(texts, spam, tmp_path):
    crashy = labeling_function(task=spam, inputs="text", name="crashy")(_crashy)
    fine = labeling_function(task=spam, inputs="text", name="fine")(lambda b: [0] * len(b["text"]))
    ds, rep = mmweak.apply_lfs(texts, [crashy, fine], on_error="abstain", cache_dir=tmp_path, return_report=True)
    assert rep.faults() == {"crashy": 1, "fine": 0}
    assert rep.summary()[0].endswith(", 1 row fault in 1 LF")  # counted per LF: not "1 faulty row" for 5 LFs
    votes = [v[0] for v in ds["spam_votes"]]
    assert votes[5] == -1 and votes.count(1) == 7  # only the failing row abstains
    summary = mmweak.analyze(ds, spam)
    assert [r["faults"] for r in summary.rows] == [1, 0]
    silent = labeling_function(task=spam, inputs="text", name="silent")(lambda b: [-1] * len(b["text"]))
    quiet = mmweak.analyze(mmweak.apply_lfs(texts, [silent, fine], cache_dir=tmp_path), spam)
    assert str(quiet).splitlines()[2].split()[:2] == ["silent", "(no"]  # said, not an empty list "[]"
    # faults are cached with the votes
    _, rep2 = mmweak.apply_lfs(texts, [crashy, fine], on_error="abstain", cache_dir=tmp_path, return_report=True)
    assert rep2.faults() == {"crashy": 1, "fine": 0} and len(rep2.cached()) == 2
    # ... but not served to on_error="raise", which would have passed silently on the abstained row
    with pytest.raises(LFError, match="crashy.*row 5"):
        mmweak.apply_lfs(texts, [crashy, fine], cache_dir=tmp_path)
    _, rep3 = mmweak.apply_lfs(texts, [fine], cache_dir=tmp_path, return_report=True)
    assert rep3.cached() == [("train", "fine")]  # an LF without faults is still a hit under "raise"


def test_fault_counts_survive_a_saved_folder_loaded_and_saved_again(texts, spam, tmp_path):
    """The card's faults column read the in-memory record only: a folder loaded again (to push it, refit it or
    render its card) showed "-" for every LF, as if none had been counted."""
    crashy = labeling_function(task=spam, inputs="text", name="crashy")(_crashy)
    fine = labeling_function(task=spam, inputs="text", name="fine")(lambda b: [0] * len(b["text"]))
    ds = mmweak.aggregate(mmweak.apply_lfs(texts, [crashy, fine], on_error="abstain", cache_dir=tmp_path))
    first = mmweak.save_curated(ds, tmp_path / "first")
    back, _ = mmweak.load_curated(first)
    assert mmweak.provenance.read_record(back)["tasks"]["spam"]["faults"] == {"train": {"crashy": 1, "fine": 0}}
    assert [r["faults"] for r in mmweak.analyze(back, spam).rows] == [1, 0]
    again = (mmweak.save_curated(back, tmp_path / "again") / "README.md").read_text()
    # the same card but for the folder named in it (and so its seal)
    assert unsealed(again) == unsealed((first / "README.md").read_text().replace(str(first), str(tmp_path / "again")))
    assert re.search(r"\| `crashy` \|.*\| 1 \|\n", again) and re.search(r"\| `fine` \|.*\| 0 \|\n", again)


def test_faults_an_lf_reports_itself_are_served_from_the_cache_under_raise(texts, spam, tmp_path):
    """A media LF counts an image it cannot decode as a fault without raising (on_decode_error="abstain"): its votes
    must not be recomputed on every raising run, only checked once by one."""
    from mmweak.batch_memo import note_faults

    def careful(b):
        note_faults([i for i, t in enumerate(b["text"]) if "love" in t])  # judged unreadable, abstains
        return [-1 if "love" in t else 0 for t in b["text"]]

    lf = labeling_function(task=spam, inputs="text", name="careful")(careful)
    for on_error, computed in (("abstain", True), ("raise", True), ("raise", False), ("abstain", False)):
        _, rep = mmweak.apply_lfs(texts, [lf], cache_dir=tmp_path, on_error=on_error, return_report=True)
        assert rep.faults()["careful"] > 0 and bool(rep.computed()) == computed, (on_error, rep.computed())


def test_the_summary_line_of_each_task_gives_its_own_time(texts, spam, tmp_path):
    qtype = mmweak.Task("qtype", ["short", "long"])
    slow = labeling_function(task=spam, inputs="text", name="slow")(
        lambda b: (__import__("time").sleep(0.3), [-1] * len(b["text"]))[1])
    quick = labeling_function(task=qtype, inputs="text", name="quick")(lambda b: [0] * len(b["text"]))
    _, rep = mmweak.apply_lfs(texts, [slow, quick], cache_dir=tmp_path, return_report=True, batch_size=100)
    spam_line, qtype_line = rep.summary()
    assert spam_line.startswith("spam: 1 LF on train") and "s in its LFs)" in spam_line
    assert float(spam_line.split("(")[1].split(" s")[0]) >= 0.3 > float(qtype_line.split("(")[1].split(" s")[0])


def test_bad_vote_in_dataset_names_row(texts, spam, tmp_path):
    lf = labeling_function(task=spam, inputs="text", name="three")(
        lambda b: [3 if "love" in t else -1 for t in b["text"]])
    with pytest.raises(LFError, match=r"voted 3 on row 3 \(column 'text' = 'love it'\)"):
        mmweak.apply_lfs(texts, [lf], cache_dir=tmp_path)


def test_missing_column_and_bad_lf_list(texts, spam, tmp_path):
    lf = labeling_function(task=spam, inputs="body", name="reads_body")(lambda b: [1] * len(b["body"]))
    with pytest.raises(LFError, match="reads column 'body'.*columns: \\['text', 'label'\\]"):
        mmweak.apply_lfs(texts, [lf], cache_dir=tmp_path)
    with pytest.raises(ValueError, match="at least one"):
        mmweak.apply_lfs(texts, [])
    with pytest.raises(ValueError, match="num_proc must be a positive int or None, got '2'"):
        mmweak.apply_lfs(texts, [lf], num_proc="2")
    with pytest.raises(TypeError, match="not a labeling function"):
        mmweak.apply_lfs(texts, [lambda b: b])
    dup = labeling_function(task=spam, inputs="text", name="reads_body")(lambda b: [1] * len(b["text"]))
    with pytest.raises(ValueError, match="two LFs named"):
        mmweak.apply_lfs(texts, [dup, dup])


def test_reapply_drops_stale_aggregation_columns(texts, spam, tmp_path):
    a = labeling_function(task=spam, inputs="text", name="a")(lambda b: [1] * len(b["text"]))
    ds = mmweak.aggregate(mmweak.apply_lfs(texts, [a], cache_dir=tmp_path), [spam], model="majority")
    assert "spam_probs" in ds.column_names
    b = labeling_function(task=spam, inputs="text", name="b")(lambda b: [0] * len(b["text"]))
    again = mmweak.apply_lfs(ds, [a, b], cache_dir=tmp_path)
    assert "spam_probs" not in again.column_names and again["spam_votes"][0] == [1, 0]


def test_empty_dataset(spam, tmp_path):
    empty = Dataset.from_dict({"text": []}, features=datasets.Features({"text": Value("string")}))
    lf = labeling_function(task=spam, inputs="text", name="a")(lambda b: [1] * len(b["text"]))
    out = mmweak.apply_lfs(empty, [lf], cache_dir=tmp_path)
    assert len(out) == 0 and out.features["spam_votes"] == List(Value("int8"), length=1)


def test_an_lf_that_edits_its_batch_changes_no_other_lfs_votes(spam, tmp_path):
    """Python LFs of a pass shared one dict of lists: an LF that upper-cased its texts in place turned the next LF's
    votes wrong, and those were cached under the next LF's own key; one that popped a row left the next with a
    short batch. Each LF gets its own lists now."""
    def shout(b):
        b["text"][:] = [t.upper() for t in b["text"]]
        return [1 if "HTTP" in t else -1 for t in b["text"]]

    def shrink(b):
        n = len(b["text"])
        b["text"].pop()
        return [-1] * n

    link = labeling_function(task=spam, inputs="text", name="link")(
        lambda b: [1 if "http" in t else -1 for t in b["text"]])
    ds = Dataset.from_dict({"text": ["http://a", "bb", "c", "HTTP://d"]})
    alone = mmweak.apply_lfs(ds, [link], use_cache=False)["spam_votes"]
    lfs = [labeling_function(task=spam, inputs="text", name="shout")(shout),
           labeling_function(task=spam, inputs="text", name="shrink")(shrink), link]
    together = mmweak.apply_lfs(ds, lfs, cache_dir=tmp_path / "c")["spam_votes"]
    assert [row[2] for row in together] == [row[0] for row in alone] == [1, -1, -1, -1]
    assert mmweak.apply_lfs(ds, [link], cache_dir=tmp_path / "c")["spam_votes"] == alone  # its cached votes too



@pytest.mark.parametrize("batched", [True, False, "get"])
@pytest.mark.parametrize("on_error", ["raise", "abstain"])
def test_an_lf_reading_a_column_it_did_not_declare_is_refused_by_name(spam, tmp_path, batched, on_error):
    """It used to see every column of its pass: with another LF declaring ``title`` it ran, its cache key did not
    hold ``title``, and a changed title served its old votes (alone it failed with a bare KeyError)."""
    if batched == "get":
        def sloppy(b):
            return [1 if "x" in t + (ti or "") else -1 for t, ti in zip(b["text"], b.get("title") or [None] * 2)]
    elif batched:
        def sloppy(b):
            return [1 if "x" in t + ti else -1 for t, ti in zip(b["text"], b["title"])]
    else:
        def sloppy(row):
            return 1 if "x" in row["text"] + row["title"] else -1
    lfs = [labeling_function(task=spam, inputs="text", name="sloppy", batched=bool(batched))(sloppy),
           labeling_function(task=spam, inputs="title", name="on_title")(lambda b: [-1] * len(b["title"]))]
    ds = Dataset.from_dict({"text": ["a", "b"], "title": ["x", ""]})
    with pytest.raises(LFError, match=r"LF 'sloppy' \(task 'spam'\) read column 'title' on row 0, which it does not "
                                      r"declare: add it to its inputs \(\['text'\] now\)") as err:
        mmweak.apply_lfs(ds, lfs, cache_dir=tmp_path / "c", on_error=on_error)
    assert (err.value.lf, err.value.column, err.value.row) == ("sloppy", "title", 0)


def test_a_users_column_named_like_an_output_is_not_dropped_silently(spam, tmp_path):
    """apply_lfs drops the task's votes and label columns to rewrite them; a user's own `spam_label` (a natural
    name for gold) went without a word, and an LF reading `spam_probs` failed with a bare KeyError."""
    lf = labeling_function(task=spam, inputs="text", name="a")(lambda b: [1] * len(b["text"]))
    ds = Dataset.from_dict({"text": ["x", "y"], "spam_label": [1, 0]})
    with pytest.warns(UserWarning, match=r"replaces column\(s\) \['spam_label'\] of split 'train'.*rename it first"):
        out = mmweak.apply_lfs(ds, [lf], cache_dir=tmp_path)
    assert "spam_label" not in out.column_names
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # mmweak's own columns, on its own output: no warning
        mmweak.apply_lfs(mmweak.aggregate(out, [spam], model="majority"), [lf], cache_dir=tmp_path)
    other = mmweak.Task("other", ["x", "y"])  # splits whose records differ are each checked by their own
    o = labeling_function(task=other, inputs="text", name="o")(lambda b: [0] * len(b["text"]))
    mixed = DatasetDict({"train": mmweak.apply_lfs(Dataset.from_dict({"text": ["x"]}), [o], cache_dir=tmp_path),
                         "test": ds})
    with pytest.warns(UserWarning, match=r"replaces column\(s\) \['spam_label'\] of split 'test'"):
        mmweak.apply_lfs(mixed, [lf], cache_dir=tmp_path)
    reads = labeling_function(task=spam, inputs="spam_probs", name="reads")(lambda b: [1] * len(b["spam_probs"]))
    with pytest.raises(LFError, match=r"LF 'reads' .* reads column 'spam_probs', which apply_lfs rewrites"):
        mmweak.apply_lfs(ds, [reads])


def test_a_dataset_with_a_transform_is_refused_not_read_untransformed(spam):
    lf = labeling_function(task=spam, inputs="text", name="shouts")(
        lambda b: [1 if t.isupper() else -1 for t in b["text"]])
    ds = Dataset.from_dict({"text": ["a", "b"]}).with_transform(lambda b: {"text": [t.upper() for t in b["text"]]})
    with pytest.raises(ValueError, match=r"split 'train' has a with_transform/set_transform.*ds\.map\(\.\.\.\) first"):
        mmweak.apply_lfs(ds, [lf])


def test_an_lf_reading_another_tasks_labels_applied_in_the_same_call_is_told_to_split_the_call(spam, tmp_path):
    quality = mmweak.Task("quality", ["keep", "drop"])
    link = labeling_function(task=spam, inputs="text", name="link")(lambda b: [1 if "http" in t else 0 for t in b["text"]])
    drop_spam = labeling_function(task=quality, inputs="spam_label", name="drop_spam")(
        lambda b: [1 if y == 1 else -1 for y in b["spam_label"]])
    ds = Dataset.from_dict({"text": ["http://x", "hi"]})
    ds = mmweak.aggregate(mmweak.apply_lfs(ds, [link], cache_dir=tmp_path), [spam])
    with pytest.raises(LFError, match=r"LF 'drop_spam' \(task 'quality'\) reads column 'spam_label', an output of task "
                                      r"'spam', which this call applies too .* apply task 'quality' in a second call"):
        mmweak.apply_lfs(ds, [link, drop_spam], cache_dir=tmp_path)  # was a bare KeyError: 'spam_label'
    assert mmweak.apply_lfs(ds, [drop_spam], cache_dir=tmp_path)["quality_votes"] == [[1], [-1]]
