import numpy as np
import pytest

import mmweak
from mmweak import ABSTAIN, LFError, labeling_function


def test_batched_and_per_row_lfs_vote_alike(spam):
    @labeling_function(task=spam, inputs="text")
    def batched(batch):
        return [1 if "http" in t else ABSTAIN for t in batch["text"]]

    @labeling_function(task=spam, inputs=["text"], batched=False, name="per_row")
    def row_fn(row):
        return 1 if "http" in row["text"] else ABSTAIN

    batch = {"text": ["see http://a", "hello"]}
    assert batched(batch) == row_fn(batch) == [1, -1]
    assert row_fn.name == "per_row" and batched.name == "batched"
    assert batched.modality == "text" and batched.inputs == ("text",)


def test_votes_are_validated_with_lf_column_and_row(spam):
    @labeling_function(task=spam, inputs="text")
    def bad(batch):
        return [0, 7]

    with pytest.raises(LFError) as e:
        bad.vote({"text": ["a", "b"]}, indices=[10, 11])
    msg = str(e.value)
    assert "'bad'" in msg and "row 11" in msg and "'text'" in msg and "7" in msg
    assert (e.value.lf, e.value.column, e.value.row) == ("bad", "text", 11)


@pytest.mark.parametrize(
    "returned, fragment",
    [([1], "returned 1 votes for a batch of 2 rows"), ("11", "must return a sequence"),
     ([True, False], "voted True on row 0"), ([0.5, 1], "voted 0.5 on row 0"), ([-2, 0], "voted -2 on row 0")],
)
def test_bad_returns(spam, returned, fragment):
    lf = labeling_function(task=spam, inputs="text", name="lf_x")(lambda b: returned)
    with pytest.raises(LFError, match=fragment.replace("(", r"\(")):
        lf.vote({"text": ["a", "b"]})


def test_none_votes_raise_and_numpy_votes_are_accepted(spam):
    # -1 abstains; None is a forgotten return, named with its row (on_error="abstain" counts it as a fault)
    lf = labeling_function(task=spam, inputs="text", name="n")(lambda b: [-1, None])
    with pytest.raises(LFError, match=r"voted None on row 1 \(column 'text' = 'b'\).*return -1 \(mmweak.ABSTAIN\)"):
        lf({"text": ["a", "b"]})
    assert labeling_function(task=spam, inputs="text", name="m")(lambda b: [-1, np.int64(1)])({"text": ["a", "b"]}) == [-1, 1]
    lf2 = labeling_function(task=spam, inputs="text", name="f")(lambda b: np.array([1.0, -1.0]))
    assert lf2({"text": ["a", "b"]}) == [1, -1]


def test_missing_column_named(spam):
    lf = labeling_function(task=spam, inputs="body", name="reads_body")(lambda b: [1] * len(b["body"]))
    with pytest.raises(LFError, match="reads column 'body'"):
        lf.vote({"text": ["a"]})


def test_declaration_errors(spam):
    with pytest.raises(ValueError, match="modality"):
        labeling_function(task=spam, inputs="text", modality="video")(lambda b: b)
    with pytest.raises(TypeError, match="mmweak.Task"):
        labeling_function(task="spam", inputs="text")(lambda b: b)
    with pytest.raises(TypeError, match="must take one argument, the row"):
        labeling_function(task=spam, inputs="text", batched=False)(lambda a, b: 1)
    with pytest.raises(ValueError, match="at least 2 labels"):
        mmweak.Task("t", labels=["only"])
    with pytest.raises(ValueError, match="identifier"):
        mmweak.Task("has space", labels=["a", "b"])
    for bad in (lambda row, *, strict: 1, lambda: 1, lambda a, b: 1):
        with pytest.raises(TypeError, match=r"must take one argument, the row \(any other needs a default\)"):
            labeling_function(task=spam, inputs="text", batched=False)(bad)
    assert labeling_function(task=spam, inputs="text", batched=False, name="d")(lambda row=None: 0)({"text": ["a"]}) == [0]


def test_partials_callable_objects_and_defaulted_parameters(spam):
    import functools

    def long_text(row, limit=3):
        return 1 if len(row["text"]) > limit else -1

    rows = {"text": ["ab", "abcd", "abcdefg"]}
    assert labeling_function(task=spam, inputs="text", batched=False)(long_text)(rows) == [-1, 1, 1]
    strict = labeling_function(task=spam, inputs="text", batched=False, name="long5")(
        functools.partial(long_text, limit=5))
    assert strict(rows) == [-1, -1, 1] and strict.name == "long5"

    class Shout:
        def __call__(self, batch):
            return [1 if t.isupper() else -1 for t in batch["text"]]

    # both had no __name__: an AttributeError, raised from inside the decorator
    for nameless in (functools.partial(long_text, limit=5), Shout()):
        with pytest.raises(TypeError, match="has no __name__ .* give the LF a name="):
            labeling_function(task=spam, inputs="text")(nameless)
    assert labeling_function(task=spam, inputs="text", name="shout")(Shout())({"text": ["HI", "hi"]}) == [1, -1]


KEYWORDS = ["free", "win"]


def _kw(batch):
    return [1 if any(k in t for k in KEYWORDS) else -1 for t in batch["text"]]


def test_fingerprint_follows_code_constants_and_config(spam):
    global KEYWORDS
    a = labeling_function(task=spam, inputs="text", name="kw")(_kw)
    fp = a.fingerprint()
    assert labeling_function(task=spam, inputs="text", name="kw")(_kw).fingerprint() == fp
    KEYWORDS = ["free", "win", "cash"]
    try:
        assert labeling_function(task=spam, inputs="text", name="kw")(_kw).fingerprint() != fp
    finally:
        KEYWORDS = ["free", "win"]
    assert labeling_function(task=spam, inputs="text", name="kw", version="2")(_kw).fingerprint() != fp
    assert labeling_function(task=spam, inputs="text", name="kw", config={"t": 1})(_kw).fingerprint() != fp
    other = labeling_function(task=spam, inputs="text", name="kw")(lambda b: [1] * len(b["text"]))
    assert other.fingerprint() != fp
    assert len(a.code_hash) == 12


class WithModel(mmweak.LabelingFunction):
    _lazy_attrs = ("_model",)

    def __init__(self, task):
        super().__init__("m", task=task, inputs="text")
        self._model = None

    def label_batch(self, batch):
        if self._model is None:
            self._model = lambda t: 0  # stands in for an unpicklable model
        return [self._model(t) for t in batch["text"]]


def test_lazy_resources_are_not_pickled(spam):
    import pickle

    lf = WithModel(spam)
    lf({"text": ["a"]})
    assert lf._model is not None
    clone = pickle.loads(pickle.dumps(lf))
    assert clone._model is None and clone({"text": ["b"]}) == [0]


def test_lf_error_survives_pickling():
    import pickle

    e = pickle.loads(pickle.dumps(LFError("boom", lf="x", column="c", row=3)))
    assert (str(e), e.lf, e.column, e.row) == ("boom", "x", "c", 3)


def test_library_versions_are_read_without_scanning_every_installed_package():
    # The distribution map reads every package's file list (~0.5 s per process): a cached rerun must not pay it.
    import importlib.metadata

    import yaml

    from mmweak import fingerprint as F

    F._package_version.cache_clear()
    F._distributions.cache_clear()
    assert F._package_version("numpy.linalg") == importlib.metadata.version("numpy")
    assert F._package_version("yaml") == importlib.metadata.version("PyYAML") == yaml.__version__
    assert F._package_version("re") == "python-{}.{}".format(*__import__("sys").version_info[:2])
    assert F._distributions.cache_info().currsize == 0


def test_a_class_that_names_itself_is_walked_once_per_session_with_the_same_digest(spam, monkeypatch):
    from mmweak import fingerprint as F

    class Loud(mmweak.LabelingFunction):
        def label_batch(self, batch):
            return [Loud.vote(t) for t in batch["text"]]  # names its own class: a cycle the walk cuts

        @staticmethod
        def vote(t):
            return 1 if t.isupper() else ABSTAIN

    lfs = [Loud(f"loud{i}", task=spam, inputs="text") for i in range(3)]
    alone = [lf.fingerprint() for lf in lfs]
    walks = []
    real = F._Walker._class
    monkeypatch.setattr(F._Walker, "_class", lambda self, cls: (walks.append(cls), real(self, cls))[1])
    with F.session():
        shared = [lf.fingerprint() for lf in lfs]
    assert shared == alone and len(set(alone)) == 3
    assert walks.count(Loud) == 1
