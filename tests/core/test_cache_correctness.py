"""The vote cache hits whenever an LF and its input are the same, and never when they are not.

Every way an LF can depend on something is edited between two runs in *fresh processes* (the real
notebook/script workflow), with an unedited control for each: a stale hit or a spurious miss fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import datasets
import numpy as np
import pytest
from paths import ROOT

import mmweak

# Each case: module source with {v} where the edit goes; LF objects are listed in LFS. Version 1 and 2
# vote differently on TEXTS, so a stale hit shows as wrong votes, not only as a wrong cache report.
HEADER = """
import functools, re
import numpy as np
import mmweak
from mmweak import labeling_function, LabelingFunction
T = mmweak.Task("spam", ["ham", "spam"])
"""
CASES = {
    "numpy_constant": """
WEIGHTS = np.array([0, {v}])
@labeling_function(task=T, inputs="text")
def lf(b):
    return [int(WEIGHTS[1] == 1) if "free" in t else -1 for t in b["text"]]
LFS = [lf]
""",
    "set_constant": """
WORDS = {{"free" if {v} == 1 else "hello", "zzz", "yyy"}}
@labeling_function(task=T, inputs="text")
def lf(b):
    return [1 if set(t.split()) & WORDS else -1 for t in b["text"]]
LFS = [lf]
""",
    "dict_tuple_keys": """
TABLE = {{("free", "now"): {v} - 1}}
@labeling_function(task=T, inputs="text")
def lf(b):
    return [TABLE.get(tuple(t.split()[:2]), -1) for t in b["text"]]
LFS = [lf]
""",
    "compiled_regex": """
RX = re.compile("free" if {v} == 1 else "now")
@labeling_function(task=T, inputs="text")
def lf(b):
    return [1 if RX.search(t) else -1 for t in b["text"]]
LFS = [lf]
""",
    "object_with_state": """
class Matcher:
    def __init__(self, word):
        self.word = word
    def hit(self, t):
        return self.word in t
M = Matcher("free" if {v} == 1 else "now")
@labeling_function(task=T, inputs="text")
def lf(b):
    return [1 if M.hit(t) else -1 for t in b["text"]]
LFS = [lf]
""",
    "helper_of_helper": """
def deep(t):
    return t.startswith("free" if {v} == 1 else "hello")
def helper(t):
    return deep(t)
@labeling_function(task=T, inputs="text")
def lf(b):
    return [1 if helper(t) else -1 for t in b["text"]]
LFS = [lf]
""",
    "helper_class_method": """
class Rules:
    @staticmethod
    def check(t):
        return len(t) > (3 if {v} == 1 else 100)
@labeling_function(task=T, inputs="text")
def lf(b):
    return [0 if Rules.check(t) else -1 for t in b["text"]]
LFS = [lf]
""",
    "base_class_and_mixin": """
class Base(LabelingFunction):
    def word(self):
        return "free" if {v} == 1 else "now"
class Mixin:
    def label(self):
        return 1
class MyLF(Base, Mixin):
    def label_batch(self, b):
        return [self.label() if self.word() in t else -1 for t in b["text"]]
class Later(LabelingFunction, Mixin):  # the mixin comes after LabelingFunction in the MRO
    def label_batch(self, b):
        return [self.label() if "hello" in t else -1 for t in b["text"]]
Mixin.label = lambda self: {v} - 1
LFS = [MyLF("mine", task=T, inputs="text"), Later("later", task=T, inputs="text")]
""",
    "lambdas_in_a_loop": """
WORDS = ["free", "now" if {v} == 1 else "hello"]
LFS = [labeling_function(task=T, inputs="text", name=f"kw{{i}}")(lambda b, w=w: [1 if w in t else -1 for t in b["text"]])
       for i, w in enumerate(WORDS)]
""",
    "functools_partial": """
def vote(b, word):
    return [1 if word in t else -1 for t in b["text"]]
LFS = [labeling_function(task=T, inputs="text", name="p")(functools.partial(vote, word="free" if {v} == 1 else "now"))]
""",
    "exec_defined": """
ns = {{"T": T, "labeling_function": labeling_function}}
exec(compile('''
@labeling_function(task=T, inputs="text")
def lf(b):
    return [1 if "free" in t else ({v} - 2) for t in b["text"]]
''', "<notebook-cell>", "exec"), ns)
LFS = [ns["lf"]]
""",
    "closure_factory": """
def make(word):
    def lf(b):
        return [1 if word in t else -1 for t in b["text"]]
    return labeling_function(task=T, inputs="text", name="c")(lf)
LFS = [make("free" if {v} == 1 else "hello")]
""",
    "lf_subclass_state": """
class Threshold(LabelingFunction):
    def __init__(self, name, limit):
        super().__init__(name, task=T, inputs="text")
        self.limit = limit
    def label_batch(self, b):
        return [0 if len(t) < self.limit else -1 for t in b["text"]]
LFS = [Threshold("th", 9 if {v} == 1 else 30)]
""",
    "lru_cache_helper": """
@functools.lru_cache(maxsize=None)
def words():
    return frozenset({{"free" if {v} == 1 else "hello"}})
@labeling_function(task=T, inputs="text")
def lf(b):
    return [1 if set(t.split()) & words() else -1 for t in b["text"]]
LFS = [lf]
""",
    "lru_cache_method": """
class Rules(LabelingFunction):
    @functools.lru_cache(maxsize=None)
    def word(self):
        return "free" if {v} == 1 else "now"
    def label_batch(self, b):
        return [1 if self.word() in t else -1 for t in b["text"]]
LFS = [Rules("rules", task=T, inputs="text")]
""",
    "module_attribute_chain": """
import chain_utils  # chain_utils' own source never changes: the words it imports from chain_words do
@labeling_function(task=T, inputs="text")
def lf(b):
    return [1 if chain_utils.is_spam(t) else -1 for t in b["text"]]
LFS = [lf]
""",
    "module_value_set_at_run_time": """
import run_cfg
run_cfg.LIMIT = 9 if {v} == 1 else 30  # what a script does with its command line
@labeling_function(task=T, inputs="text")
def lf(b):
    return [0 if len(t) < run_cfg.LIMIT else -1 for t in b["text"]]
LFS = [lf]
""",
    "environment_variable": """
import os
os.environ["MMW_CASE_LIMIT"] = "9" if {v} == 1 else "30"  # what `export MMW_CASE_LIMIT=...` before a run does
@labeling_function(task=T, inputs="text")
def lf(b):
    return [0 if len(t) < int(os.environ["MMW_CASE_LIMIT"]) else -1 for t in b["text"]]
LFS = [lf]
""",
    "environment_variable_named_by_a_constant": """
import os
VAR = "MMW_CONST_LIMIT"
os.environ[VAR] = "9" if {v} == 1 else "30"
@labeling_function(task=T, inputs="text")
def lf(b):
    return [0 if len(t) < int(os.environ[VAR]) else -1 for t in b["text"]]
LFS = [lf]
""",
    "environment_variable_in_a_helper": """
import os
import env_limits  # its source never changes: the variable its helper reads does
os.environ["MMW_HELPER_LIMIT"] = "9" if {v} == 1 else "30"
@labeling_function(task=T, inputs="text")
def lf(b):
    return [0 if len(t) < env_limits.limit() else -1 for t in b["text"]]
LFS = [lf]
""",
}
#: Modules the cases import (``{v}`` edited the same way); the importing case's own source does not change with them.
HELPERS = {
    "chain_words": "WORDS = {{'free' if {v} == 1 else 'hello'}}\n",
    "chain_utils": "from chain_words import WORDS\n\ndef is_spam(t):\n    return bool(set(t.split()) & WORDS)\n",
    "run_cfg": "LIMIT = 3\n",
    "env_limits": "from os import getenv\n\ndef limit():\n    return int(getenv('MMW_HELPER_LIMIT', '3'))\n",
}

TEXTS = ["free now", "hello there world", "now free!", "hi", "free", "nothing here at all"]

RUNNER = """
import json, sys
import datasets, mmweak
sys.path.insert(0, sys.argv[1])
datasets.disable_progress_bars()
out = {}
ds = datasets.Dataset.from_dict({"text": json.loads(sys.argv[3])})
for case in json.loads(sys.argv[4]):
    mod = __import__(case)
    res, rep = mmweak.apply_lfs(ds, mod.LFS, cache_dir=sys.argv[2], return_report=True)
    out[case] = {"cached": [lf for _, lf in rep.cached()], "votes": res.data.column("spam_votes").to_pylist()}
print(json.dumps(out))
"""


def _run(tmp_path: Path, version: int, cache: Path) -> dict:
    src = tmp_path / f"v{version}"
    src.mkdir(exist_ok=True)
    for case, body in CASES.items():
        (src / f"{case}.py").write_text(HEADER + textwrap.dedent(body).format(v=version))
    for name, body in HELPERS.items():
        (src / f"{name}.py").write_text(body.format(v=version))
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(src), str(cache), json.dumps(TEXTS), json.dumps(list(CASES))],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_every_edit_misses_and_every_control_hits_across_fresh_processes(tmp_path):
    cache = tmp_path / "cache"
    first = _run(tmp_path, 1, cache)
    again = _run(tmp_path, 1, cache)  # unedited control, fresh process
    edited = _run(tmp_path, 2, cache)  # every case edited, fresh process
    fresh = _run(tmp_path, 2, tmp_path / "empty-cache")  # what version 2 really votes
    for case in CASES:
        n_lfs = len(first[case]["votes"][0])
        assert first[case]["cached"] == [], case
        assert len(again[case]["cached"]) == n_lfs, f"{case}: identical code missed the cache (spurious miss)"
        assert again[case]["votes"] == first[case]["votes"], case
        # only what the edit touched recomputes: in the loop, the first lambda's word did not change
        untouched = ["kw0"] if case == "lambdas_in_a_loop" else []
        assert edited[case]["cached"] == untouched, f"{case}: stale hit or spurious miss after the edit"
        assert edited[case]["votes"] == fresh[case]["votes"], f"{case}: stale votes after the edit"
        assert edited[case]["votes"] != first[case]["votes"], f"{case}: the edit should change the votes"


def test_unhashable_dependency_warns_once_and_is_never_served_from_cache(tmp_path):
    spam = mmweak.Task("spam", ["ham", "spam"])
    handle = open(tmp_path / "words.txt", "w+")  # an open file: nothing sensible to hash
    calls = []

    @mmweak.labeling_function(task=spam, inputs="text")
    def reads_file(b):
        calls.append(handle.name)
        return [1] * len(b["text"])

    ds = datasets.Dataset.from_dict({"text": ["a", "b"]})
    with pytest.warns(UserWarning, match="cannot be fingerprinted.*TextIOWrapper"):
        _, rep = mmweak.apply_lfs(ds, [reads_file], cache_dir=tmp_path / "c", return_report=True)
    _, rep2 = mmweak.apply_lfs(ds, [reads_file], cache_dir=tmp_path / "c", return_report=True)
    assert rep.cached() == rep2.cached() == [] and len(calls) == 2
    assert not list((tmp_path / "c").glob("*.arrow")) if (tmp_path / "c").exists() else True
    handle.close()


@pytest.fixture
def spam_lfs():
    spam = mmweak.Task("spam", ["ham", "spam"])
    seen: list[int] = []

    # Bookkeeping the LFs reach would enter their fingerprints (and change on every call): marked as
    # infrastructure, it counts by name only.
    @mmweak.fingerprint.infrastructure
    def count(n):
        seen.append(n)

    @mmweak.labeling_function(task=spam, inputs="text")
    def link(b):
        count(len(b["text"]))
        return [1 if "http" in t else -1 for t in b["text"]]

    @mmweak.labeling_function(task=spam, inputs="n")
    def big(b):
        count(len(b["n"]))
        return [0 if n > 2 else -1 for n in b["n"]]

    return spam, [link, big], seen


def test_notebook_style_reapply_and_unrelated_columns_are_hits(spam_lfs, tmp_path):
    spam, lfs, seen = spam_lfs
    ds = datasets.Dataset.from_dict({"text": ["http://a", "b", "c"], "n": [1, 2, 3]})
    ds = mmweak.apply_lfs(ds, lfs, cache_dir=tmp_path)
    assert len(seen) == 2
    ds = mmweak.apply_lfs(ds, lfs, cache_dir=tmp_path)  # on its own output
    ds = mmweak.aggregate(ds, model="majority")
    ds, rep = mmweak.apply_lfs(ds, lfs, cache_dir=tmp_path, return_report=True)  # after aggregate
    assert len(rep.cached()) == 2
    assert "spam_probs" not in ds.column_names  # new votes drop the stale aggregate columns
    ds = ds.add_column("other", ["x", "y", "z"]).add_column("gone", [1, 2, 3]).remove_columns(["gone"])
    ds, rep = mmweak.apply_lfs(ds, lfs, cache_dir=tmp_path, return_report=True)
    assert len(rep.cached()) == 2 and len(seen) == 2
    shuffled = ds.select([0, 1, 2])  # an index mapping over the same rows
    _, rep = mmweak.apply_lfs(shuffled, lfs, cache_dir=tmp_path, return_report=True)
    assert len(rep.cached()) == 2


def test_changing_a_read_value_misses_only_that_lf(spam_lfs, tmp_path):
    spam, lfs, seen = spam_lfs
    ds = datasets.Dataset.from_dict({"text": ["http://a", "b", "c"], "n": [1, 2, 3]})
    mmweak.apply_lfs(ds, lfs, cache_dir=tmp_path)
    changed = ds.map(lambda r: {"n": r["n"] + (10 if r["n"] == 1 else 0)})
    out, rep = mmweak.apply_lfs(changed, lfs, cache_dir=tmp_path, return_report=True)
    assert [lf for _, lf in rep.computed()] == ["big"] and [lf for _, lf in rep.cached()] == ["link"]
    assert out.data.column("spam_votes").to_pylist() == [[1, 0], [-1, -1], [-1, 0]]
    reordered = ds.select([2, 1, 0])  # same values, other order: other votes per row
    out, rep = mmweak.apply_lfs(reordered, lfs, cache_dir=tmp_path, return_report=True)
    assert rep.cached() == [] and out.data.column("spam_votes").to_pylist()[2] == [1, -1]


def test_one_line_summary_is_logged(spam_lfs, tmp_path, caplog):
    _, lfs, _ = spam_lfs
    ds = datasets.Dataset.from_dict({"text": ["http://a", "b"], "n": [1, 3]})
    mmweak.apply_lfs(ds, lfs[:1], cache_dir=tmp_path)
    with caplog.at_level("INFO", logger="mmweak.apply"):
        _, rep = mmweak.apply_lfs(ds, lfs, cache_dir=tmp_path, return_report=True)
    assert rep.summary()[0].startswith("spam: 2 LFs on train — 1 cached, 1 computed (")
    assert any(r.getMessage().startswith("spam: 2 LFs on train — 1 cached, 1 computed") for r in caplog.records)


def test_per_lf_seconds_are_measured_per_lf(tmp_path):
    import time

    spam = mmweak.Task("spam", ["ham", "spam"])

    @mmweak.labeling_function(task=spam, inputs="text")
    def slow(b):
        time.sleep(0.2)
        return [-1] * len(b["text"])

    @mmweak.labeling_function(task=spam, inputs="text")
    def fast(b):
        return [-1] * len(b["text"])

    ds = datasets.Dataset.from_dict({"text": ["a"] * 10})
    for num_proc in (None, 2):
        _, rep = mmweak.apply_lfs(ds, [slow, fast], cache_dir=tmp_path / str(num_proc), num_proc=num_proc,
                                  batch_size=5, return_report=True)
        runs = {r.lf: r.seconds for r in rep.runs["train"]}
        assert runs["slow"] >= 0.39 and runs["fast"] < 0.1, (num_proc, runs)


def test_library_lf_fingerprints_are_stable_across_processes():
    code = """
import json, re
from benchmarks.text_lfs import mmweak_lfs
print(json.dumps({lf.name: lf.fingerprint() for lf in mmweak_lfs()}))
"""
    runs = [
        json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                                  check=True, env={**__import__("os").environ, "PYTHONHASHSEED": str(seed)})
                   .stdout.strip().splitlines()[-1])
        for seed in (1, 2)
    ]
    assert runs[0] == runs[1] and len(set(runs[0].values())) == 20
    assert np.all([len(v) == 32 for v in runs[0].values()])


def test_a_replaced_file_behind_a_text_path_is_a_new_input_for_a_media_lf(tmp_path):
    """A media LF opens the file a text cell names, but only the string was hashed, so a photo replaced on disk
    kept its old votes; the file's size and modification time are part of the key now (as for path-only Image()
    cells), and an LF that reads the same column as text is not affected."""
    import os

    from PIL import Image

    from lf_library.image import BrightnessLF

    q = mmweak.Task("q", ["keep", "drop"])
    photo = tmp_path / "x.png"
    dark = BrightnessLF("dark", task=q, label="drop", below=0.2, otherwise="keep")
    name = mmweak.labeling_function(task=q, inputs="image", name="png")(
        lambda b: [0 if p.endswith(".png") else -1 for p in b["image"]])
    ds = datasets.Dataset.from_dict({"image": [str(photo)]})

    def run():
        out, rep = mmweak.apply_lfs(ds, [dark, name], cache_dir=tmp_path / "c", return_report=True)
        return out["q_votes"][0], sorted(lf for _, lf in rep.computed())

    Image.new("RGB", (64, 64), "white").save(photo)
    os.utime(photo, ns=(1_000_000_000, 1_000_000_000))
    assert run() == ([0, 0], ["dark", "png"])
    assert run() == ([0, 0], [])  # unchanged: both hit
    Image.new("RGB", (64, 64), "black").save(photo)
    os.utime(photo, ns=(2_000_000_000, 2_000_000_000))
    assert run() == ([1, 0], ["dark"])  # the photo's LF recomputes, the string's hits


def test_an_lf_that_reads_its_tasks_description_misses_when_it_changes(tmp_path):
    # A zero-shot LF may prompt with the task's description: it is part of every LF's key (a review proposed dropping
    # it to spare recomputing on an edit of the prose; that served such an LF's old votes).
    class Prompt(mmweak.LabelingFunction):  # reads its task through self.task, which is not instance state
        def label_batch(self, b):
            return [1 if "advert" in self.task.description else 0 for _ in b["text"]]

    def prompt_lf(task):
        return Prompt("prompt", task=task, inputs="text")

    ds = datasets.Dataset.from_dict({"text": ["a", "b"]})
    ads = mmweak.Task("spam", ["ham", "spam"], description="an advert")
    talk = mmweak.Task("spam", ["ham", "spam"], description="a comment")
    assert mmweak.apply_lfs(ds, [prompt_lf(ads)], cache_dir=tmp_path)["spam_votes"] == [[1], [1]]
    out, rep = mmweak.apply_lfs(ds, [prompt_lf(talk)], cache_dir=tmp_path, return_report=True)
    assert out["spam_votes"] == [[0], [0]] and rep.cached() == []


def test_only_the_environment_variables_an_lf_reads_by_name_join_its_key(monkeypatch):
    import os

    spam = mmweak.Task("spam", ["ham", "spam"])

    @mmweak.labeling_function(task=spam, inputs="text")
    def reads(b):
        return [0 if len(t) < int(os.environ.get("MMW_FP_LIMIT", "3")) else -1 for t in b["text"]]

    @mmweak.labeling_function(task=spam, inputs="text")
    def authenticates(b):  # a credential read to call a service, and cache places: changing them changes no vote
        _ = os.getenv("MMW_FP_API_KEY"), os.environ.get("MMWEAK_CACHE"), os.getenv("HF_HOME")
        return ["_".join(t.split()).count("PWD") - 1 for t in b["text"]]  # "_" and "PWD" are only strings here

    @mmweak.labeling_function(task=spam, inputs="text")
    def checks(b):  # other ways of naming a variable; and settings whose names merely contain "key" or "token"
        on = "MMW_FP_FLAG" in os.environ and os.environ.setdefault("MMW_FP_MODE", "a") == "a"
        return [int(on) if os.getenv("SPAM_KEYWORDS", "x") in t or os.getenv("TOKENIZER_NAME") else -1
                for t in b["text"]]

    def fp(lf):
        return lf.fingerprint()

    first = fp(checks)
    for name in ("MMW_FP_FLAG", "MMW_FP_MODE", "SPAM_KEYWORDS", "TOKENIZER_NAME"):
        monkeypatch.setenv(name, "changed")
        assert fp(checks) != first, name
        first = fp(checks)

    base = {lf.name: fp(lf) for lf in (reads, authenticates)}
    for name, value in (("_", "/usr/bin/other"), ("PWD", "/elsewhere"), ("MMW_FP_API_KEY", "rotated"),
                        ("MMWEAK_CACHE", "/elsewhere/cache"), ("HF_HOME", "/elsewhere/hf")):
        monkeypatch.setenv(name, value)
    assert {lf.name: fp(lf) for lf in (reads, authenticates)} == base  # no spurious miss
    monkeypatch.setenv("MMW_FP_LIMIT", "30")
    assert fp(reads) != base["reads"] and fp(authenticates) == base["authenticates"]
