"""Run labeling functions over a dataset with ``Dataset.map`` and write one votes column per task.

Batches travel as Arrow tables: vectorized LFs (``input_format="arrow"``) read them as they are, Python
LFs get the same dict of lists ``Dataset.map(batched=True)`` would give (decoded once per batch and
shared), and votes come back as Arrow buffers that are read zero-copy — no Python runs per row outside
the LFs themselves. LFs run in passes grouped by the batch size they want (large for vectorized LFs,
small for media models), each pass reading only the columns its LFs need.

Caching is mmweak's own: each LF's votes are stored under a key made of the LF's fingerprint (code,
the values it reads, state and config, see :mod:`mmweak.fingerprint`), the *content* digest of the
columns it reads (:mod:`mmweak.input_digest`) and the mmweak version. So re-applying on the output of
``apply_lfs``/``aggregate``, or after adding or dropping unrelated columns, is a cache hit; changing a
value in a column the LF reads, or anything the LF's code reads, is a miss. An LF that cannot be
fingerprinted is recomputed, with a warning, never served from the cache.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence, overload

import numpy as np
from datasets import Audio as AudioFeature
from datasets import Dataset, DatasetDict, Features
from datasets import Image as ImageFeature
from datasets.features.features import FeatureType
from datasets.utils.logging import is_progress_bar_enabled

from .batch_runner import BatchRunner, OnError
from .columns import read_matrix, replace_columns, split_dict, split_name
from .errors import LFError
from .fingerprint import session as fingerprint_session
from .fingerprint import stable_hash
from .lf import LabelingFunction
from .provenance import RecordError, human_lf_columns, read_record, task_record, write_record
from .task import Task
from .vote_cache import InputDigests, default_cache_dir, read_votes, serves, vote_key, write_votes

logger = logging.getLogger("mmweak.apply")
#: Rows per batch when neither the call nor the LF says: vectorized LFs pay a fixed cost per call.
DEFAULT_BATCH_SIZE = {"arrow": 10_000, "python": 1_000}
@dataclass
class LFRun:
    """What happened to one LF on one split."""

    lf: str
    task: str
    rows: int
    cached: bool
    faults: int
    seconds: float  # this LF's own time inside the batch runner (summed over workers), or the cache read


@dataclass
class ApplyReport:
    """Per-split, per-LF record of an :func:`apply_lfs` call (cache hits, fault counts, time)."""

    runs: dict[str, list[LFRun]] = field(default_factory=dict)
    wall: dict[str, dict[str, float]] = field(default_factory=dict)  # split -> task -> wall seconds

    def faults(self) -> dict[str, int]:
        """Faulty rows per LF, summed over splits."""
        out: dict[str, int] = {}
        for runs in self.runs.values():
            for r in runs:
                out[r.lf] = out.get(r.lf, 0) + r.faults
        return out

    def computed(self) -> list[tuple[str, str]]:
        """``(split, lf)`` pairs that were actually run (cache misses)."""
        return [(s, r.lf) for s, runs in self.runs.items() for r in runs if not r.cached]

    def cached(self) -> list[tuple[str, str]]:
        """``(split, lf)`` pairs served from mmweak's cache."""
        return [(s, r.lf) for s, runs in self.runs.items() for r in runs if r.cached]

    def summary(self) -> list[str]:
        """One line per (task, split): ``spam: 20 LFs on train — 18 cached, 2 computed (1.4 s)``."""
        lines = []
        for split, runs in self.runs.items():
            by_task: dict[str, list[LFRun]] = {}
            for r in runs:
                by_task.setdefault(r.task, []).append(r)
            for task, rs in by_task.items():
                # The split's wall time is one pass over every task's LFs: with several tasks, each line gives the
                # seconds of its own LFs instead (every task got the whole split's time before).
                wall = self.wall.get(split, {}).get(task) if len(by_task) == 1 else None
                took = f"{wall:.1f} s" if wall is not None else f"{sum(r.seconds for r in rs):.1f} s in its LFs"
                faults = sum(r.faults for r in rs)
                line = (f"{task}: {len(rs)} LF{'s' if len(rs) != 1 else ''} on {split} — "
                        f"{self._cache_words(split, rs)} ({took})")
                # faults are counted per LF: a row that breaks 5 LFs is 5 faults, not 5 faulty rows
                faulty = sum(r.faults > 0 for r in rs)
                lines.append(line + (f", {faults} row fault{'s' if faults != 1 else ''} in {faulty} LF"
                                     f"{'s' if faulty != 1 else ''}" if faults else ""))
        return lines

    def _cache_words(self, split: str, runs: list[LFRun]) -> str:
        hits = sum(r.cached for r in runs)
        return f"{hits} cached, {len(runs) - hits} computed"

    def __str__(self) -> str:
        lines = [f"{'split':<12}{'lf':<28}{'rows':>8}{'cached':>8}{'faults':>8}{'seconds':>9}"]
        for s, runs in self.runs.items():
            for r in runs:
                lines.append(f"{s:<12}{r.lf:<28}{r.rows:>8}{str(r.cached):>8}{r.faults:>8}{r.seconds:>9.2f}")
        return "\n".join(lines)


@overload
def apply_lfs(
    dataset: Dataset | DatasetDict, lfs: Sequence[LabelingFunction], *, batch_size: int | None = ...,
    num_proc: int | None = ..., on_error: OnError = ..., cache_dir: str | os.PathLike | None = ...,
    use_cache: bool = ..., return_report: Literal[False] = ...,
) -> Dataset | DatasetDict: ...


@overload
def apply_lfs(
    dataset: Dataset | DatasetDict, lfs: Sequence[LabelingFunction], *, batch_size: int | None = ...,
    num_proc: int | None = ..., on_error: OnError = ..., cache_dir: str | os.PathLike | None = ...,
    use_cache: bool = ..., return_report: Literal[True],
) -> tuple[Dataset | DatasetDict, ApplyReport]: ...


def apply_lfs(
    dataset: Dataset | DatasetDict,
    lfs: Sequence[LabelingFunction],
    *,
    batch_size: int | None = None,
    num_proc: int | None = None,
    on_error: OnError = "raise",
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    return_report: bool = False,
) -> Dataset | DatasetDict | tuple[Dataset | DatasetDict, ApplyReport]:
    """Apply ``lfs`` to every row and write ``<task>_votes`` (``List(Value("int8"), length=m)``) per task.

    LF order within a task is the order given here; it is recorded with the dataset and in the card.
    Columns written by an earlier :func:`mmweak.aggregate` for these tasks are dropped, since they
    no longer match the votes.

    Args:
        dataset: a ``Dataset`` or ``DatasetDict`` (every split is labelled).
        lfs: labeling functions; names must be unique within a task.
        batch_size: rows per ``Dataset.map`` batch for every LF; ``None`` (default) lets each LF's
            ``resources.batch_size`` decide (10,000 rows for vectorized LFs, 1,000 for Python ones),
            running LFs that want different sizes in separate passes.
        num_proc: worker processes for ``Dataset.map``.
        on_error: ``"raise"`` stops at the first LF failure with an error naming the LF, column and
            row; ``"abstain"`` turns each failing row into an abstain and counts it in the report.
        cache_dir: where per-LF votes are cached (default: see :func:`default_cache_dir`).
        use_cache: set False to recompute (and refresh) every LF.
        return_report: also return an :class:`ApplyReport`.

    >>> import datasets, mmweak
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> @mmweak.labeling_function(task=spam, inputs="text")
    ... def has_link(batch):
    ...     return [1 if "http" in t else -1 for t in batch["text"]]
    >>> ds = datasets.Dataset.from_dict({"text": ["http://spam", "hi"]})
    >>> list(mmweak.apply_lfs(ds, [has_link])["spam_votes"])
    [[1], [-1]]

    What happened is logged (logger ``mmweak.apply``, and printed while progress bars are on) as one
    line per task and split, e.g. ``spam: 20 LFs on train — 18 cached, 2 computed (1.4 s)``.
    """
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
    if num_proc is not None and (isinstance(num_proc, bool) or not isinstance(num_proc, (int, np.integer))
                                 or num_proc < 1):
        raise ValueError(f"num_proc must be a positive int or None, got {num_proc!r}")
    if on_error not in ("raise", "abstain"):
        raise ValueError(f"on_error must be 'raise' or 'abstain', got {on_error!r}")
    by_task = _group_by_task(lfs)
    report = ApplyReport()
    with fingerprint_session():  # LFs of one class share the walk of that class and its helpers
        result = _apply_all(dataset, by_task, batch_size, num_proc, on_error, cache_dir, use_cache, report)
    for line in report.summary():
        logger.info(line)
        if is_progress_bar_enabled() and not return_report:  # a caller who asked for the report shows it
            print(line, file=sys.stderr)
    return (result, report) if return_report else result


def _apply_all(
    dataset: Dataset | DatasetDict,
    by_task: "OrderedDict[Task, list[LabelingFunction]]",
    batch_size: int | None,
    num_proc: int | None,
    on_error: OnError,
    cache_dir: str | os.PathLike | None,
    use_cache: bool,
    report: ApplyReport,
) -> Dataset | DatasetDict:
    if not isinstance(dataset, (Dataset, DatasetDict)):
        raise TypeError(f"apply_lfs expects a datasets.Dataset or DatasetDict, got {type(dataset).__name__}")
    for split, ds in split_dict(dataset).items():
        if ds.format["type"] == "custom":  # the LFs read the stored columns: the transform's output would be ignored
            raise ValueError(
                f"split {split!r} has a with_transform/set_transform, which apply_lfs does not apply (LFs read the "
                f"stored columns): make its output columns with ds.map(...) first, or drop it with ds.reset_format()"
            )
    people = _people(dataset, by_task)
    _check_output_names(dataset, by_task)
    if isinstance(dataset, DatasetDict):
        out = {}
        for split, ds in dataset.items():
            try:
                out[split] = _apply_split(
                    ds, split, by_task, batch_size, num_proc, on_error, cache_dir, use_cache, report, people
                )
            except LFError as exc:  # "row 1" of which split: the row numbers are the split's own
                raise LFError(f"split {split!r}: {exc}", lf=exc.lf, column=exc.column, row=exc.row,
                              batch_level=exc.batch_level) from exc
        result: Dataset | DatasetDict = DatasetDict(out)
    else:
        split = split_name(dataset)
        result = _apply_split(
            dataset, split, by_task, batch_size, num_proc, on_error, cache_dir, use_cache, report, people
        )
    _record(result, by_task, report, {t: specs for t, (_, specs) in people.items()})
    return result


def refuse_lfs_reading_outputs(by_task: "OrderedDict[Task, list[LabelingFunction]]") -> None:
    """The columns of these tasks' votes and outputs are rewritten by the call: no LF of it may read one (both
    engines check this before anything runs)."""
    owner = {c: t for t in by_task for c in (t.votes_column, *t.output_columns)}
    for task, group in by_task.items():
        for lf in group:
            for col in lf.inputs:
                if owner.get(col) == task:
                    raise LFError(
                        f"LF {lf.name!r} (task {task.name!r}) reads column {col!r}, which apply_lfs rewrites (task "
                        f"{task.name!r}'s votes and labels go there): rename the column, e.g. "
                        f"ds.rename_column({col!r}, {col + '_given'!r}), and read that",
                        lf=lf.name, column=col,
                    )
                if col in owner:  # another task of this call: its labels are rewritten here, not read
                    raise LFError(
                        f"LF {lf.name!r} (task {task.name!r}) reads column {col!r}, an output of task "
                        f"{owner[col].name!r}, which this call applies too (so that column is rewritten, not read): "
                        f"apply and aggregate task {owner[col].name!r} first, then apply task {task.name!r} in a "
                        f"second call", lf=lf.name, column=col,
                    )


def _check_output_names(dataset: Dataset | DatasetDict, by_task) -> None:
    """The columns of these tasks' votes and outputs are rewritten: no LF may read one, and one that no mmweak
    record says mmweak wrote (a user's gold column named ``spam_label``, say) is dropped with a warning."""
    refuse_lfs_reading_outputs(by_task)
    for split, ds in split_dict(dataset).items():
        try:  # each split by its own record: splits whose records disagree are still checked (_record warns of them)
            recorded = set(read_record(ds).get("tasks", {}))
        except RecordError:
            recorded = set()
        foreign = [c for t in by_task if t.name not in recorded
                   for c in (t.votes_column, *t.output_columns) if c in ds.column_names]
        if foreign:
            warnings.warn(
                f"apply_lfs replaces column(s) {foreign} of split {split!r}: mmweak writes these tasks' votes and "
                f"labels under those names, and no mmweak record says it wrote them. If one is yours (a gold "
                f"column, say), rename it first and apply again; a curated folder read with datasets.load_dataset "
                f"has no record: read it with mmweak.load_curated",
                stacklevel=4,
            )


def _people(dataset: Dataset | DatasetDict, by_task) -> dict[str, tuple[list[int], list[dict]]]:
    try:
        record = read_record(dataset)
    except RecordError:
        return {}
    return people_in_record(record, by_task)


def people_in_record(record: dict, by_task) -> dict[str, tuple[list[int], list[dict]]]:
    """Per task, the recorded vote columns that are people's answers (``add_annotator_votes``) and their entries.

    Their votes come from a dataset column, not from an LF, so new votes are written next to them (after the LFs'
    columns, in the same order on every engine), not over them. An LF named like a person is refused.
    """
    out = {}
    for task in by_task:
        entry = record.get("tasks", {}).get(task.name) or {}
        columns = human_lf_columns(entry)
        if columns:
            clash = {lf.name for lf in by_task[task]} & {entry["lfs"][j]["name"] for j in columns}
            if clash:
                raise ValueError(f"LF name {sorted(clash)[0]!r} of task {task.name!r} is already an annotator's "
                                 "column (add_annotator_votes): rename the LF")
            out[task.name] = (columns, [entry["lfs"][j] for j in columns])
    return out


def _group_by_task(lfs: Sequence[LabelingFunction]) -> "OrderedDict[Task, list[LabelingFunction]]":
    if isinstance(lfs, LabelingFunction):
        lfs = [lfs]
    if not lfs:
        raise ValueError("apply_lfs needs at least one labeling function")
    by_task: OrderedDict[Task, list[LabelingFunction]] = OrderedDict()
    names_by_task: dict[str, Task] = {}
    for lf in lfs:
        if not isinstance(lf, LabelingFunction):
            raise TypeError(
                f"{lf!r} is not a labeling function; decorate it with @mmweak.labeling_function(...)"
            )
        other = names_by_task.setdefault(lf.task.name, lf.task)
        if other != lf.task:
            raise ValueError(f"two different tasks are named {lf.task.name!r}: {other} and {lf.task}")
        group = by_task.setdefault(other, [])
        if any(x.name == lf.name for x in group):
            raise ValueError(f"task {lf.task.name!r} has two LFs named {lf.name!r}; LF names must be unique")
        group.append(lf)
    return by_task


def _apply_split(
    ds: Dataset,
    split: str,
    by_task: "OrderedDict[Task, list[LabelingFunction]]",
    batch_size: int | None,
    num_proc: int | None,
    on_error: OnError,
    cache_dir: str | os.PathLike | None,
    use_cache: bool,
    report: ApplyReport,
    people: dict[str, tuple[list[int], list[dict]]],
) -> Dataset:
    t_start = time.perf_counter()
    lfs = [lf for group in by_task.values() for lf in group]
    for lf in lfs:
        for col in lf.inputs:
            if col not in ds.column_names:
                raise LFError(
                    f"LF {lf.name!r} (task {lf.task.name!r}) reads column {col!r}, which split {split!r} "
                    f"does not have (columns: {ds.column_names})",
                    lf=lf.name, column=col,
                )
    # People's votes ride along after the LFs' (their answers are a column, not code).
    kept = {t: read_matrix(ds, t.votes_column)[:, people[t.name][0]] for t in by_task
            if t.name in people and t.votes_column in ds.column_names}
    # Votes and aggregation outputs of these tasks are rewritten; they are never an LF's input.
    ours = [c for t in by_task for c in (t.votes_column, *t.output_columns) if c in ds.column_names]
    base = ds.remove_columns(ours) if ours else ds
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir(ds)
    digests = InputDigests(base)
    keys = {id(lf): vote_key(lf, digests) for lf in lfs}
    votes: dict[int, np.ndarray] = {}
    faults: dict[int, int] = {}
    seconds: dict[int, float] = {}
    cached: set[int] = set()
    for lf in lfs:
        key = keys[id(lf)]
        path = root / f"{key}.arrow"
        if use_cache and key is not None and path.exists():
            t0 = time.perf_counter()
            stored = read_votes(path, len(base))
            if stored is None:
                continue  # damaged: warned about and removed, run again
            v, f, raised_none = stored
            if not serves(f, raised_none, on_error):
                continue  # faults counted under on_error="abstain": run it, so that the first one raises by row
            votes[id(lf)], faults[id(lf)] = v, f
            seconds[id(lf)] = time.perf_counter() - t0
            cached.add(id(lf))
    todo = [lf for lf in lfs if id(lf) not in cached]
    for group in _passes(todo, batch_size):
        computed = _run(base, group, split, num_proc, on_error, len(cached), len(lfs), batch_size)
        for lf, (v, f, sec) in zip(group, computed):
            votes[id(lf)], faults[id(lf)], seconds[id(lf)] = v, f, sec
            if keys[id(lf)] is not None:
                write_votes(root / f"{keys[id(lf)]}.arrow", v, f, raised_none=on_error == "raise")
    columns = {}
    for task, group in by_task.items():
        L = np.empty((len(base), len(group)), dtype=np.int8)
        for j, lf in enumerate(group):
            L[:, j] = votes[id(lf)]
        if task in kept:
            L = np.concatenate([L, kept[task].astype(np.int8)], axis=1)
        columns[task.votes_column] = (L, task.votes_feature(L.shape[1]))
    fp = stable_hash("apply", base._fingerprint, [keys[id(lf)] or f"uncached-{time.time_ns()}" for lf in lfs])
    result = replace_columns(base, columns, fingerprint=fp)
    report.runs[split] = [
        LFRun(lf.name, lf.task.name, len(base), id(lf) in cached, faults[id(lf)], seconds[id(lf)]) for lf in lfs
    ]
    wall = time.perf_counter() - t_start
    report.wall[split] = {task.name: wall for task in by_task}
    return result


def _passes(lfs: list[LabelingFunction], batch_size: int | None) -> list[list[LabelingFunction]]:
    """LFs grouped into ``map`` passes by the batch size they run with (one pass when the call fixes it)."""
    if not lfs:
        return []
    if batch_size is not None:
        return [lfs]
    groups: OrderedDict[int, list[LabelingFunction]] = OrderedDict()
    for lf in lfs:
        size = lf.resources.batch_size or DEFAULT_BATCH_SIZE[lf.input_format]
        groups.setdefault(size, []).append(lf)
    return [[lf for lf in group] for group in groups.values()]


def _pass_batch_size(lfs: list[LabelingFunction], batch_size: int | None) -> int:
    if batch_size is not None:
        return batch_size
    lf = lfs[0]
    return lf.resources.batch_size or DEFAULT_BATCH_SIZE[lf.input_format]


def _run(
    ds: Dataset,
    lfs: list[LabelingFunction],
    split: str,
    num_proc: int | None,
    on_error: OnError,
    n_cached: int,
    n_total: int,
    batch_size: int | None = None,
) -> list[tuple[np.ndarray, int, float]]:
    """Votes, fault count and own seconds of each LF in ``lfs``, computed in one ``map`` pass."""
    inputs = list(OrderedDict.fromkeys(c for lf in lfs for c in lf.inputs))
    sub = _undecoded_media(ds.select_columns(inputs), lfs)
    if len(sub) == 0:
        return [(np.zeros(0, np.int8), 0, 0.0) for _ in lfs]
    workers = num_proc if num_proc and num_proc > 1 and len(sub) > 1 else None
    stats_dir = tempfile.mkdtemp(prefix="mmweak-lf-seconds-") if workers else None
    runner = BatchRunner(lfs, on_error, sub.features, stats_dir)
    task_names = sorted({lf.task.name for lf in lfs})
    try:
        out = sub.with_format("arrow").map(
            runner,
            batched=True,
            batch_size=_pass_batch_size(lfs, batch_size),
            with_indices=True,
            num_proc=workers,
            remove_columns=inputs,
            features=runner.output_features(),
            keep_in_memory=True,
            load_from_cache_file=False,
            new_fingerprint=stable_hash("run", ds._fingerprint, [lf.name for lf in lfs], time.time_ns()),
            desc=f"mmweak {', '.join(task_names)}: {len(lfs)} of {n_total} LFs on {split} ({n_cached} cached)",
        )
        lf_seconds = BatchRunner.collect_seconds(stats_dir, len(lfs)) if stats_dir else runner.seconds
    finally:
        if stats_dir:
            shutil.rmtree(stats_dir, ignore_errors=True)
    table = out.data
    results = []
    for i in range(len(lfs)):
        v = table.column(f"v{i}").to_numpy()
        f = table.column(f"f{i}").to_numpy()
        results.append((v, int(f.sum()), float(lf_seconds[i])))
    return results


def _undecoded_media(ds: Dataset, lfs: list[LabelingFunction]) -> Dataset:
    """Read ``Image()``/``Audio()`` columns as raw ``{"bytes", "path"}`` when only media LFs use them.

    ``datasets`` decodes such columns while it builds each batch, before any LF runs, so one corrupt
    file would abort the whole ``map``. Media LFs decode cells themselves (once per batch, shared), which
    lets their ``on_decode_error`` policy abstain-and-count or name the bad row instead.
    """
    for col, feature in raw_media_features(ds.features, lfs).items():
        ds = ds.cast_column(col, feature)
    return ds


def raw_media_features(features: Features, lfs: Sequence[LabelingFunction]) -> dict[str, FeatureType]:
    """The undecoded feature of each media column only media LFs read (see :func:`_undecoded_media`)."""
    raw = {lf.inputs[0] for lf in lfs if getattr(lf, "reads_raw_media", False)}
    other = {c for lf in lfs if not getattr(lf, "reads_raw_media", False) for c in lf.inputs}
    out: dict[str, FeatureType] = {}
    for col in sorted(raw - other):
        feature = features.get(col)
        if isinstance(feature, (ImageFeature, AudioFeature)) and feature.decode:
            out[col] = dataclasses.replace(feature, decode=False)
    return out


def _record(result: Dataset | DatasetDict, by_task, report: ApplyReport, people: dict[str, list[dict]]) -> None:
    try:
        record = read_record(result)
    except RecordError as exc:  # the new votes are sound; only what other tasks had recorded is lost
        warnings.warn(f"{exc}; starting a new weak-supervision record for this dataset", stacklevel=3)
        record = {}
    record_lfs(record, by_task, report, people)
    write_record(result, record)


def record_lfs(
    record: dict, by_task: "OrderedDict[Task, list[LabelingFunction]]", report: ApplyReport,
    people: dict[str, list[dict]] | None = None,
) -> None:
    """Enter each task's LFs and fault counts into ``record``, dropping what the new votes invalidate.

    ``people``: per task, the entries of annotator columns kept after the LFs' (see :func:`_people`).
    """
    record.pop("recipe", None)  # new votes: the recorded recipe no longer describes the dataset (curate re-enters it)
    for task, group in by_task.items():
        entry = task_record(record, task.name)
        entry.clear()  # new votes invalidate any earlier label model and analysis
        entry["task"] = task.to_dict()
        entry["lfs"] = [lf.spec() for lf in group] + list((people or {}).get(task.name, []))
        names = {lf.name for lf in group}
        entry["faults"] = {
            split: {r.lf: r.faults for r in runs if r.task == task.name and r.lf in names}
            for split, runs in report.runs.items()
        }
