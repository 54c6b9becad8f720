"""Human answers kept with the dataset: per task, every answer (``T_answers``) and their consensus (``T_gold``).

``T_answers`` is a list per row of ``{annotator, label, time, source, strategy, reason, round, model_label}``:
who answered what and when, where the answer came from, why the row was sent for review, in which review
round, and what the label model said when it was sent (so agreement between people and the model is
measured before the model saw the answer). ``T_gold`` is the majority answer (``-1`` = not reviewed, or
tied). Merging new answers never drops old ones: a second answer of the same annotator on the same row
replaces the first only when it is newer and different, and every skipped answer is counted with its reason.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Literal, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import Dataset, DatasetDict, List, Value

from ..aggregate import human_gold_column
from ..columns import arrow_column, read_column, replace_columns, split_dict, struct_list_field
from ..fingerprint import stable_hash
from ..provenance import read_record, task_record, write_record
from ..task import Task
from .errors import AnnotationError

OnInvalid = Literal["skip", "raise"]

#: Why an answer was not stored (the keys of :attr:`ImportReport.skipped`).
SKIP_REASONS = {
    "unknown_class": "the answer is not one of the task's classes",
    "missing_row": "the row no longer exists (or its content changed since it was sent for review)",
    "duplicate": "the same annotator already gave this answer for this row",
    "stale": "the same annotator gave a newer answer for this row",
    "cancelled": "the annotator skipped the row",
    "no_choice": "the annotation holds no choice (or several) for this task",
    "other_task": "the annotation belongs to another task",
}

#: How one reviewed row was chosen (``Answer.strategy``): a strategy of :mod:`.selection` that picks rows of one kind
#: (``random_then_entropy`` records ``random`` or ``entropy`` per row), or ``""`` when unknown. Only ``random`` rows,
#: and rows whose answers name no strategy, judge the label model's fit (:func:`mmweak.aggregate.drawn_at_random`).
#: ``ties`` re-sends rows whose answers tie: it adds an answer to a row chosen before, so it leaves how the row was
#: chosen as it was.
ROW_STRATEGIES = ("random", "entropy", "margin", "disagreement", "no_coverage", "impact", "diverse", "ties")


#: Skips that need no attention (re-importing, a person pressing "skip"): counted, not warned about.
BENIGN = ("duplicate", "stale", "cancelled")


def gold_column(task: Task) -> str:
    """Name of the consensus human label column of ``task``.

    >>> gold_column(Task("spam", ["ham", "spam"]))
    'spam_gold'
    """
    return f"{task.name}_gold"


def answers_column(task: Task) -> str:
    """Name of the per-row list of human answers of ``task``.

    >>> answers_column(Task("spam", ["ham", "spam"]))
    'spam_answers'
    """
    return f"{task.name}_answers"


def answers_feature(task: Task) -> List:
    """The ``datasets`` feature of ``T_answers``: a list of answer structs, labels as the task's ``ClassLabel``.

    >>> import mmweak
    >>> feature = answers_feature(mmweak.Task("spam", ["ham", "spam"]))
    >>> sorted(feature.feature), feature.feature["label"].names
    (['annotator', 'label', 'model_label', 'reason', 'round', 'source', 'strategy', 'time'], ['ham', 'spam'])
    """
    return List({
        "annotator": Value("string"),
        "label": task.class_label(),
        "time": Value("timestamp[us, tz=UTC]"),
        "source": Value("string"),
        "strategy": Value("string"),
        "reason": Value("string"),
        "round": Value("int32"),
        "model_label": task.class_label(),
    })


@dataclass
class Answer:
    """One person's label for one row, with where it came from and why the row was reviewed."""

    split: str
    row: int
    annotator: str
    label: int | str  # a class index, or a class name (stored as its index)
    time: dt.datetime
    source: str = ""
    strategy: str = ""
    reason: str = ""
    round: int = 0
    model_label: int = -1

    def stored(self) -> dict[str, Any]:
        """The struct written into ``T_answers``."""
        return {"annotator": self.annotator, "label": int(self.label), "time": _utc(self.time),
                "source": self.source, "strategy": self.strategy, "reason": self.reason,
                "round": int(self.round), "model_label": int(self.model_label)}


@dataclass
class ImportReport:
    """What an import did: answers stored, rows touched, and every skipped answer counted by reason.

    ``problems`` lists one readable line per skipped answer (task, row, annotator, what was wrong).
    """

    stored: int = 0
    updated: int = 0
    rows: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    #: The first skip that needs attention (not a duplicate, stale or cancelled answer), as the warning shows it.
    first_problem: str = ""

    def skip(self, reason: str, message: str, on_invalid: OnInvalid = "skip") -> None:
        """Count a skipped answer, or raise :class:`AnnotationError` when ``on_invalid="raise"``.

        Duplicates and cancelled annotations are always counted, never raised: importing the same
        export twice is harmless.
        """
        if reason not in SKIP_REASONS:
            raise ValueError(f"unknown skip reason {reason!r}")
        if on_invalid == "raise" and reason not in BENIGN:
            raise AnnotationError(message)
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        self.problems.append(message)
        if reason not in BENIGN and not self.first_problem:
            self.first_problem = message

    @property
    def total_skipped(self) -> int:
        return sum(self.skipped.values())

    def __str__(self) -> str:
        parts = [f"{self.stored} answers stored ({self.updated} replacing older ones) on {self.rows} rows"]
        parts += [f"{n} skipped: {SKIP_REASONS[r]}" for r, n in sorted(self.skipped.items())]
        return "; ".join(parts)


def consensus(labels: Sequence[int]) -> int:
    """The majority label of a row's answers; ``-1`` with no answer or a tie for the top.

    >>> consensus([1, 1, 0]), consensus([0, 1]), consensus([])
    (1, -1, -1)
    """
    counts = Counter(int(x) for x in labels if int(x) >= 0).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return -1
    return counts[0][0]


def read_answers(ds: Dataset, task: Task) -> list[list[dict[str, Any]]]:
    """Every row's stored answers (empty lists where none, or where the column does not exist yet)."""
    col = answers_column(task)
    if col not in ds.column_names:
        return [[] for _ in range(len(ds))]
    return [list(a or []) for a in ds[col]]


def reviewed_mask(ds: Dataset, task: Task) -> np.ndarray:
    """Rows of ``ds`` that already hold a human answer for ``task``."""
    col = answers_column(task)
    if col in ds.column_names and struct_list_field(ds.features.arrow_schema.field(col).type, "label") is not None:
        lengths = pc.list_value_length(ds.with_format("arrow")[col])
        return np.asarray(pc.fill_null(lengths, 0).to_numpy(zero_copy_only=False)) > 0
    gold = human_gold_column(task_record(read_record(ds), task.name), ds, task)
    if gold is not None:
        return read_column(ds, gold, np.int64) >= 0
    return np.zeros(len(ds), dtype=bool)


def answer_counts(ds: Dataset, task: Task) -> np.ndarray:
    """How many stored answers name each class, per row: ``(rows, K)`` (zeros where a row has none).

    >>> spam = Task("spam", ["ham", "spam"])
    >>> t = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    >>> said = [Answer("train", 0, "ann", 1, t), Answer("train", 0, "bob", 0, t), Answer("train", 2, "ann", 1, t)]
    >>> ds = merge_answers(Dataset.from_dict({"text": ["a", "b", "c"]}), spam, said)
    >>> answer_counts(ds, spam).tolist()
    [[1, 1], [0, 0], [0, 1]]
    """
    out = np.zeros((len(ds), task.cardinality), dtype=np.int64)
    col = answers_column(task)
    if col not in ds.column_names or not len(ds):
        return out
    if struct_list_field(ds.features.arrow_schema.field(col).type, "label") is None:
        return out
    data = arrow_column(ds, col).combine_chunks()
    flat = pc.list_flatten(data)
    if not len(flat):
        return out
    parent = np.asarray(pc.list_parent_indices(data).to_numpy(zero_copy_only=False), dtype=np.int64)
    labels = flat.field("label")
    if pa.types.is_integer(labels.type):
        idx = np.asarray(pc.fill_null(labels, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    else:  # the plain {annotator, label} form may name its classes
        idx = np.array([_class_index(x, task) for x in labels.to_pylist()], dtype=np.int64)
    ok = (idx >= 0) & (idx < task.cardinality)
    np.add.at(out, (parent[ok], idx[ok]), 1)
    return out


def tied_mask(counts: np.ndarray) -> np.ndarray:
    """Rows whose answers (:func:`answer_counts`) tie for the top class: reviewed, but with no consensus label.

    >>> tied_mask(np.array([[1, 1], [0, 0], [0, 1], [2, 2]])).tolist()
    [True, False, False, True]
    """
    counts = np.asarray(counts)
    if counts.shape[1] < 2:
        return np.zeros(counts.shape[0], dtype=bool)
    top2 = np.sort(counts, axis=1)[:, -2:]
    return (top2[:, 1] > 0) & (top2[:, 0] == top2[:, 1])


def next_round(ds: Dataset | DatasetDict, task: Task) -> int:
    """The number of the next review round: one more than the highest stored (1 when nothing is stored).

    >>> import datasets
    >>> spam = Task("spam", ["ham", "spam"])
    >>> t = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    >>> ds = datasets.Dataset.from_dict({"text": ["a", "b", "c"]})
    >>> next_round(ds, spam), next_round(merge_answers(ds, spam, [Answer("train", 2, "ann", 1, t, round=4)]), spam)
    (1, 5)
    """
    top = 0
    col = answers_column(task)
    for d in split_dict(ds).values():
        if col not in d.column_names or not len(d):
            continue
        # One Arrow pass: select() asks for the round on every call, and a Python loop over every row's answers
        # took seconds on a few hundred thousand rows.
        data = d.data.column(col)  # rows hidden by select/filter count too: rounds number the dataset's review
        if struct_list_field(data.type, "round") is None:
            continue
        flat = pc.list_flatten(data)
        if len(flat):
            rounds = pc.max(pc.struct_field(flat, "round"))
            top = max(top, int(rounds.as_py() or 0))
    return top + 1


def merge_answers(
    ds: Dataset | DatasetDict,
    task: Task,
    answers: Iterable[Answer],
    report: ImportReport | None = None,
    *,
    on_invalid: OnInvalid = "skip",
) -> Dataset | DatasetDict:
    """Store ``answers`` in ``T_answers`` and recompute ``T_gold``; returns a new dataset (``ds`` is untouched).

    Answers must already name an existing row (callers check row identity first). The same annotator
    answering the same row twice keeps the newer answer when the labels differ (``updated``), and counts
    the other as ``duplicate`` (same label) or ``stale`` (older).

    Args:
        ds: the curated dataset (every split is kept; only splits that receive answers change).
        task: the task answered.
        answers: new answers.
        report: where counts go (a new one if omitted).
        on_invalid: ``"skip"`` counts invalid answers, ``"raise"`` raises :class:`AnnotationError`.

    Returns:
        The dataset with ``T_answers`` and ``T_gold`` in every split.

    >>> import datasets, datetime as dt
    >>> spam = Task("spam", ["ham", "spam"])
    >>> ds = datasets.Dataset.from_dict({"text": ["a", "b"]})
    >>> t = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    >>> out = merge_answers(ds, spam, [Answer("train", 1, "ann", 1, t), Answer("train", 1, "bob", 1, t)])
    >>> list(out["spam_gold"]), [a["annotator"] for a in out[1]["spam_answers"]]
    ([-1, 1], ['ann', 'bob'])
    """
    report = report if report is not None else ImportReport()
    splits = split_dict(ds)
    by_split: dict[str, list[Answer]] = {}
    unnamed = 0  # stored answers that say nothing of how their row was chosen
    odd: dict[str, int] = {}  # strategies that choose no row, by name
    for a in answers:
        where = f"task {task.name!r}, split {a.split!r}, row {a.row}: annotator {a.annotator!r}"
        if a.split not in splits:
            report.skip("missing_row", f"task {task.name!r}: split {a.split!r} does not exist (row {a.row}, "
                        f"annotator {a.annotator!r})", on_invalid)
            continue
        label = task.class_of(a.label) if isinstance(a.label, str) else a.label  # a class name is fine too
        if (label is None or isinstance(label, bool) or not isinstance(label, (int, np.integer))
                or not 0 <= label < task.cardinality):
            report.skip("unknown_class", f"{where} answered {a.label!r}, not a class of the task (one of "
                        f"0..{task.cardinality - 1} or {list(task.labels)})", on_invalid)
            continue
        strategy = a.strategy or ""  # None: not known
        if strategy not in ("", *ROW_STRATEGIES):
            odd.setdefault(strategy, 0)
            odd[strategy] += 1
        by_split.setdefault(a.split, []).append(replace(a, label=int(label), strategy=strategy))
    out = dict(splits)
    record = read_record(ds)
    for name, d in splits.items():
        stored = read_answers(d, task)
        touched: set[int] = set()
        renamed: set[int] = set()
        for a in sorted(by_split.get(name, []), key=lambda x: _utc(x.time)):
            if not 0 <= a.row < len(d):
                report.skip("missing_row", f"task {task.name!r}, split {name!r}: row {a.row} does not exist "
                            f"({len(d)} rows; annotator {a.annotator!r})", on_invalid)
                continue
            row = stored[a.row]
            new = a.stored()
            mine = [i for i, old in enumerate(row) if old["annotator"] == a.annotator]
            if not mine:  # the same Label Studio annotation, its person named otherwise (e-mail vs user:<id>)
                mine = [i for i, old in enumerate(row) if same_annotation(old, new)]
                if mine and str(row[mine[-1]]["annotator"]).startswith("user:") and not new["annotator"].startswith(
                        "user:"):
                    row[mine[-1]]["annotator"] = new["annotator"]  # a name beats a placeholder, whichever came first
                    renamed.add(a.row)
                elif mine:  # a stored name stays: it may be a pseudonym the e-mail of a fresh export must not undo
                    new["annotator"] = row[mine[-1]]["annotator"]
            if mine:
                old = row[mine[-1]]
                # A row drawn at random once is a judge of the fit for good (drawn_at_random reads this field):
                # sent again for another reason, or answered again, it keeps "random".
                once_random = "random" in (old.get("strategy"), new["strategy"])
                if once_random and old.get("strategy") != "random" and (
                        int(old["label"]) == new["label"] or _utc(old["time"]) >= new["time"]):  # kept, marked
                    old["strategy"] = "random"
                    renamed.add(a.row)
                if int(old["label"]) == new["label"]:
                    report.skip("duplicate", f"task {task.name!r}, split {name!r}, row {a.row}: annotator "
                                f"{a.annotator!r} already answered {task.labels[new['label']]!r}")
                    continue
                if _utc(old["time"]) >= new["time"]:
                    report.skip("stale", f"task {task.name!r}, split {name!r}, row {a.row}: annotator "
                                f"{a.annotator!r} has a newer answer ({old['time']:%Y-%m-%d %H:%M:%S} UTC)")
                    continue
                if once_random:
                    new["strategy"] = "random"
                row[mine[-1]] = new
                report.updated += 1
            else:
                row.append(new)
            report.stored += 1
            unnamed += not new["strategy"]
            touched.add(a.row)
        report.rows += len(touched)
        touched |= renamed
        if not touched and answers_column(task) in d.column_names:
            continue
        gold = np.array([consensus([x["label"] for x in r]) for r in stored], dtype=np.int64)
        fp = stable_hash("review-answers", d._fingerprint, task.name, sorted(touched),
                         [[{**x, "time": _utc(x["time"]).isoformat()} for x in stored[i]] for i in sorted(touched)])
        d = replace_columns(d, {gold_column(task): (gold, task.class_label())}, fingerprint=fp + "-gold")
        d = _replace_answers(d, task, stored, fp)
        out[name] = d
    entry = task_record(record, task.name)
    entry.setdefault("task", task.to_dict())
    entry["review"] = {
        **(entry.get("review") or {}),
        "gold_column": gold_column(task),
        "answers_column": answers_column(task),
    }
    result: Dataset | DatasetDict = DatasetDict(out) if isinstance(ds, DatasetDict) else out[next(iter(out))]
    write_record(result, record)
    if any(r not in BENIGN for r in report.skipped):
        warnings.warn(f"review import for task {task.name!r}: {report} (first: {report.first_problem})",
                      stacklevel=3)
    if odd:
        warnings.warn(f"task {task.name!r}: answers name strategies that choose no row "
                      f"({', '.join(f'{k!r} x{n}' for k, n in odd.items())}): stored, and their rows count as chosen "
                      f"for being hard (they teach the label model, they do not judge it). How a row was chosen is one "
                      f"of {list(ROW_STRATEGIES)}, as select's review_strategy column says (random_then_entropy rows "
                      "say random or entropy)", stacklevel=3)
    if unnamed:
        warnings.warn(f"task {task.name!r}: {unnamed} answer{'s name' if unnamed != 1 else ' names'} no strategy, so "
                      "their rows count as drawn at random "
                      "and judge the label model's fit; for rows chosen for being hard, give Answer(strategy=...) "
                      "from select's review_strategy column (review.answers_for does)", stacklevel=3)
    return result


_ANNOTATION = re.compile(r" annotation (\d+)$")


def same_annotation(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether two stored answers on one row are one Label Studio annotation read twice under two names.

    Same annotation id, and either
    * exactly one of the two names is a ``user:<id>`` placeholder (read once from the server or an export that
      names people, once from an export that does not), whatever the times: an annotation edited between the two
      reads keeps its id and changes its time, and was two people who tie;
    * or the same time, names of any kind: a dataset whose people were renamed (``rename_annotators``) and an
      export of the same project, which names them by e-mail again, counted every earlier answer twice.
    Without this every answer counted twice, as two people. Two placeholders never match (two people of one
    export each, or of two servers whose annotation ids repeat), nor two names at two times.

    >>> import datetime as dt
    >>> t = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    >>> a = {"annotator": "bob@x.org", "source": "label-studio http://ls/projects/1 annotation 12", "time": t}
    >>> b = {"annotator": "user:2", "source": "file export.json annotation 12", "time": t}
    >>> same_annotation(a, b), same_annotation(a, {**b, "source": "file export.json annotation 13"})
    (True, False)
    >>> same_annotation(a, {**b, "time": t + dt.timedelta(days=1)})  # edited in Label Studio since
    True
    >>> same_annotation({**a, "annotator": "p-3f9c"}, {**a, "annotator": "bob@x.org"})  # a pseudonym, same time
    True
    >>> same_annotation({**a, "annotator": "user:1"}, b), same_annotation(a, {**a, "annotator": "carol@x.org",
    ...                                                                      "time": t + dt.timedelta(days=1)})
    (False, False)
    """
    one, two = _ANNOTATION.search(str(old.get("source") or "")), _ANNOTATION.search(str(new.get("source") or ""))
    if one is None or two is None or one.group(1) != two.group(1):
        return False
    placeholders = [str(n).startswith("user:") for n in (old.get("annotator"), new.get("annotator"))]
    if all(placeholders):
        return False
    if placeholders[0] != placeholders[1]:
        return True
    return old.get("time") is not None and new.get("time") is not None and _utc(old["time"]) == _utc(new["time"])


def _replace_answers(d: Dataset, task: Task, stored: list[list[dict[str, Any]]], fp: str) -> Dataset:
    col = answers_column(task)
    if col in d.column_names:
        d = d.remove_columns(col, new_fingerprint=f"{fp}-drop-answers")
    return d.add_column(col, stored, feature=answers_feature(task), new_fingerprint=f"{fp}-answers")


def _utc(t: Any) -> dt.datetime:
    """A timezone-aware UTC datetime from a datetime or an ISO-8601 string (naive times are taken as UTC)."""
    if isinstance(t, str):
        t = dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
    if not isinstance(t, dt.datetime):
        raise TypeError(f"expected a datetime or ISO-8601 string, got {t!r}")
    return t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t.astimezone(dt.timezone.utc)


_EARLIEST = dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def _class_index(label: Any, task: Task) -> int:
    """A stored answer's class index: as stored, or (a class name) the task's index of it; -1 if neither."""
    if isinstance(label, str):
        k = task.class_of(label)
        return -1 if k is None else int(k)
    return int(label) if label is not None else -1


def review_summary(splits: Mapping[str, Dataset], task: Task) -> dict[str, Any] | None:
    """Counts behind the card's human-review section, measured on the data (``None`` when nothing was reviewed).

    Per split: reviewed rows, answers, annotators; per strategy and per round: rows and how often the
    label model's label at sending time matched the human consensus; pairwise agreement between
    annotators on rows with several answers.

    (:func:`~mmweak.review.import_annotations` shows one with answers.)

    >>> import datasets, mmweak
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lf = mmweak.labeling_function(task=spam, inputs="text")(lambda b: [int("http" in t) for t in b["text"]])
    >>> ds = mmweak.aggregate(mmweak.apply_lfs(datasets.Dataset.from_dict({"text": ["http://x", "hi"]}), [lf]))
    >>> review_summary({"train": ds}, spam) is None  # nobody has answered yet
    True
    """
    per_split: list[dict[str, Any]] = []
    strategies: dict[str, dict[str, Any]] = {}
    rounds: dict[int, dict[str, Any]] = {}
    agree_model = [0, 0]
    pairs = [0, 0]
    annotators: set[str] = set()
    for name, d in splits.items():
        col = answers_column(task)
        if col not in d.column_names or any(  # a user's own column of that name holds no answers: not a review
                struct_list_field(d.features.arrow_schema.field(col).type, f) is None for f in ("annotator", "label")):
            continue
        # answers a user brought in the plain {annotator, label} form (add_annotator_votes reads it too) lack the
        # review fields and may name their classes: read both as the review loop stores them
        stored = [[{**a, "label": _class_index(a.get("label"), task)} for a in r] for r in read_answers(d, task)]
        gold = [consensus([a["label"] for a in r]) for r in stored]
        rows = [i for i, r in enumerate(stored) if r]
        if not rows:
            continue
        names = {a["annotator"] for i in rows for a in stored[i]}
        annotators |= names
        per_split.append(
            {
                "split": name,
                "rows": len(rows),
                "answers": sum(len(stored[i]) for i in rows),
                "annotators": len(names),
                "consensus": sum(gold[i] >= 0 for i in rows),
            }
        )
        for i in rows:
            first = min(stored[i], key=lambda a: _utc(a["time"]) if a.get("time") else _EARLIEST)
            key = first.get("strategy") or "(unknown)"
            s = strategies.setdefault(key, {"strategy": key, "rows": 0, "agree": 0, "scored": 0})
            r = rounds.setdefault(
                int(first.get("round") or 0),
                {"round": int(first.get("round") or 0), "rows": 0, "agree": 0, "scored": 0, "strategies": set()},
            )
            s["rows"] += 1
            r["rows"] += 1
            r["strategies"].add(key)
            sent = first.get("model_label")
            model_label = -1 if sent is None else int(sent)
            if gold[i] >= 0 and model_label >= 0:
                hit = int(model_label == gold[i])
                for bucket in (s, r):
                    bucket["agree"] += hit
                    bucket["scored"] += 1
                agree_model[0] += hit
                agree_model[1] += 1
            labels = [int(a["label"]) for a in stored[i]]
            for x in range(len(labels)):
                for y in range(x + 1, len(labels)):
                    pairs[0] += int(labels[x] == labels[y])
                    pairs[1] += 1
    if not per_split:
        return None

    def rate(hit: int, n: int) -> float | None:
        return hit / n if n else None

    return {
        "splits": per_split,
        "annotators": sorted(annotators),
        "strategies": [{**s, "agreement": rate(s["agree"], s["scored"])} for s in strategies.values()],
        "rounds": [
            {**r, "strategies": sorted(r["strategies"]), "agreement": rate(r["agree"], r["scored"])}
            for _, r in sorted(rounds.items())
        ],
        "model_agreement": rate(*agree_model),
        "model_agreement_rows": agree_model[1],
        "annotator_agreement": rate(*pairs),
        "annotator_pairs": pairs[1],
    }
