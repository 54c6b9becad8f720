"""Run labeling functions over a dataset with ``Dataset.map`` and write one votes column per task.

Caching is mmweak's own: each LF's votes on a given input are stored under a key made of the LF's
fingerprint (code + config + version, see :mod:`mmweak.fingerprint`), the input dataset's fingerprint
and the mmweak version. A rerun loads every unchanged LF from its file; only new or edited LFs run,
all of them together in a single ``map`` pass so per-row decoding is shared.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np
import pyarrow as pa
from datasets import Audio as AudioFeature
from datasets import Dataset, DatasetDict, Features, Value
from datasets import Image as ImageFeature

from ._version import __version__
from .columns import replace_columns
from .errors import LFError
from .fingerprint import stable_hash
from .batch_memo import batch_scope, fault_scope
from .lf import ABSTAIN, LabelingFunction, preview
from .provenance import read_record, task_record, write_record
from .task import Task

OnError = Literal["raise", "abstain"]


@dataclass
class LFRun:
    """What happened to one LF on one split."""

    lf: str
    task: str
    rows: int
    cached: bool
    faults: int
    seconds: float


@dataclass
class ApplyReport:
    """Per-split, per-LF record of an :func:`apply_lfs` call (cache hits, fault counts, time)."""

    runs: dict[str, list[LFRun]] = field(default_factory=dict)

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

    def __str__(self) -> str:
        lines = [f"{'split':<12}{'lf':<28}{'rows':>8}{'cached':>8}{'faults':>8}{'seconds':>9}"]
        for s, runs in self.runs.items():
            for r in runs:
                lines.append(f"{s:<12}{r.lf:<28}{r.rows:>8}{str(r.cached):>8}{r.faults:>8}{r.seconds:>9.2f}")
        return "\n".join(lines)


def default_cache_dir(ds: Dataset) -> Path:
    """Where LF votes are cached: next to the dataset's own cache files, else ``$MMWEAK_CACHE``
    (default ``~/.cache/mmweak``)."""
    if ds.cache_files:
        return Path(ds.cache_files[0]["filename"]).parent / "mmweak_votes"
    root = os.environ.get("MMWEAK_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "mmweak")
    return Path(root) / "votes"


def apply_lfs(
    dataset: Dataset | DatasetDict,
    lfs: Sequence[LabelingFunction],
    *,
    batch_size: int = 256,
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
        batch_size, num_proc: passed to ``Dataset.map``.
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
    """
    if on_error not in ("raise", "abstain"):
        raise ValueError(f"on_error must be 'raise' or 'abstain', got {on_error!r}")
    by_task = _group_by_task(lfs)
    report = ApplyReport()
    if isinstance(dataset, DatasetDict):
        out = {}
        for split, ds in dataset.items():
            out[split], report.runs[split] = _apply_split(
                ds, split, by_task, batch_size, num_proc, on_error, cache_dir, use_cache
            )
        result: Dataset | DatasetDict = DatasetDict(out)
    elif isinstance(dataset, Dataset):
        split = str(dataset.split) if dataset.split is not None else "train"
        result, report.runs[split] = _apply_split(
            dataset, split, by_task, batch_size, num_proc, on_error, cache_dir, use_cache
        )
    else:
        raise TypeError(f"apply_lfs expects a datasets.Dataset or DatasetDict, got {type(dataset).__name__}")
    _record(result, by_task, report)
    return (result, report) if return_report else result


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
    batch_size: int,
    num_proc: int | None,
    on_error: OnError,
    cache_dir: str | os.PathLike | None,
    use_cache: bool,
) -> tuple[Dataset, list[LFRun]]:
    lfs = [lf for group in by_task.values() for lf in group]
    for lf in lfs:
        for col in lf.inputs:
            if col not in ds.column_names:
                raise LFError(
                    f"LF {lf.name!r} (task {lf.task.name!r}) reads column {col!r}, which split {split!r} "
                    f"does not have (columns: {ds.column_names})",
                    lf=lf.name, column=col,
                )
    # Votes and aggregation outputs of these tasks are rewritten, so they never feed the input key.
    ours = [c for t in by_task for c in (t.votes_column, *t.output_columns) if c in ds.column_names]
    base = ds.remove_columns(ours) if ours else ds
    in_fp = base._fingerprint
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir(ds)
    keys = {id(lf): stable_hash("votes", lf.fingerprint(), in_fp, len(base), __version__) for lf in lfs}
    votes: dict[int, np.ndarray] = {}
    faults: dict[int, int] = {}
    seconds: dict[int, float] = {}
    cached: set[int] = set()
    for lf in lfs:
        path = root / f"{keys[id(lf)]}.arrow"
        if use_cache and path.exists():
            t0 = time.perf_counter()
            votes[id(lf)], faults[id(lf)] = _read_votes(path)
            seconds[id(lf)] = time.perf_counter() - t0
            cached.add(id(lf))
    todo = [lf for lf in lfs if id(lf) not in cached]
    if todo:
        t0 = time.perf_counter()
        computed = _run(base, todo, split, batch_size, num_proc, on_error, [keys[id(lf)] for lf in todo])
        elapsed = (time.perf_counter() - t0) / len(todo)
        for lf, (v, f) in zip(todo, computed):
            votes[id(lf)], faults[id(lf)], seconds[id(lf)] = v, f, elapsed
            _write_votes(root / f"{keys[id(lf)]}.arrow", v, f)
    columns = {}
    for task, group in by_task.items():
        L = np.stack([votes[id(lf)] for lf in group], axis=1) if len(base) else np.zeros((0, len(group)), np.int8)
        columns[task.votes_column] = (L, task.votes_feature(len(group)))
    fp = stable_hash("apply", in_fp, [keys[id(lf)] for lf in lfs])
    result = replace_columns(base, columns, fingerprint=fp)
    runs = [
        LFRun(lf.name, lf.task.name, len(base), id(lf) in cached, faults[id(lf)], seconds[id(lf)]) for lf in lfs
    ]
    return result, runs


class _BatchRunner:
    """The function handed to ``Dataset.map``: every pending LF on one batch. Picklable for num_proc."""

    def __init__(self, lfs: list[LabelingFunction], on_error: OnError) -> None:
        self.lfs = lfs
        self.on_error = on_error

    def __call__(self, batch: dict[str, list], indices: list[int]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        # One memo per batch: LFs on the same column share decoding and embeddings (batch_memo).
        with batch_scope():
            for i, lf in enumerate(self.lfs):
                v, f = _vote_guarded(lf, batch, indices, self.on_error)
                out[f"v{i}"] = v
                out[f"f{i}"] = f
        return out


def _vote_guarded(lf: LabelingFunction, batch: dict[str, list], indices: list[int], on_error: OnError):
    n = len(indices)
    try:
        fault = np.zeros(n, dtype=np.int8)
        with fault_scope() as noted:
            votes = lf.vote(batch, indices)
        fault[[p for p in noted if 0 <= p < n]] = 1
        return votes, fault
    except Exception as batch_exc:  # noqa: BLE001 - narrowed below, row by row
        batch_error = batch_exc
    # Re-run row by row: find the row to blame (strict) or keep every row that works (tolerant).
    votes = np.full(n, ABSTAIN, dtype=np.int8)
    fault = np.zeros(n, dtype=np.int8)
    for r in range(n):
        row = {c: batch[c][r: r + 1] for c in batch}
        try:
            # Memoised values belong to the whole batch, not to this row.
            with batch_scope(), fault_scope() as noted:
                votes[r] = lf.vote(row, indices[r: r + 1])[0]
            fault[r] = 1 if noted else 0
        except Exception as exc:  # noqa: BLE001 - an LF may raise anything
            if on_error == "raise":
                raise _blame(lf, exc, batch, r, indices[r]) from exc
            fault[r] = 1
    if on_error == "raise":  # every row works alone: the LF fails on the batch as a whole
        raise _blame(lf, batch_error, batch, None, None) from batch_error
    return votes, fault


def _blame(lf: LabelingFunction, exc: Exception, batch: dict[str, list], r: int | None, row: int | None) -> LFError:
    if isinstance(exc, LFError):
        if exc.row is None and row is not None:  # the LF only knew its batch position: name the row
            return LFError(f"{exc} (row {row})", lf=exc.lf, column=exc.column, row=row)
        return exc
    col = lf.inputs[0]
    where = (
        f"on row {row} (column {col!r} = {preview(batch[col][r])})"
        if r is not None
        else f"on a batch of {len(batch[col])} rows, though not on any row alone (column {col!r})"
    )
    return LFError(
        f"LF {lf.name!r} (task {lf.task.name!r}) raised {type(exc).__name__}: {exc} {where}; "
        f"pass on_error='abstain' to count such rows as faults instead",
        lf=lf.name, column=col, row=row,
    )


def _run(
    ds: Dataset,
    lfs: list[LabelingFunction],
    split: str,
    batch_size: int,
    num_proc: int | None,
    on_error: OnError,
    keys: list[str],
) -> list[tuple[np.ndarray, int]]:
    inputs = list(OrderedDict.fromkeys(c for lf in lfs for c in lf.inputs))
    sub = _undecoded_media(ds.select_columns(inputs), lfs)
    if len(sub) == 0:
        return [(np.zeros(0, np.int8), 0) for _ in lfs]
    features = Features({k: Value("int8") for i in range(len(lfs)) for k in (f"v{i}", f"f{i}")})
    out = sub.map(
        _BatchRunner(lfs, on_error),
        batched=True,
        batch_size=batch_size,
        with_indices=True,
        num_proc=num_proc if num_proc and num_proc > 1 and len(sub) > 1 else None,
        remove_columns=inputs,
        features=features,
        keep_in_memory=True,
        load_from_cache_file=False,
        new_fingerprint=stable_hash("run", ds._fingerprint, keys),
        desc=f"mmweak: {len(lfs)} LF{'s' if len(lfs) > 1 else ''} on {split}",
    )
    table = out.with_format("numpy")
    return [
        (np.asarray(table[f"v{i}"], dtype=np.int8), int(np.asarray(table[f"f{i}"]).sum())) for i in range(len(lfs))
    ]


def _undecoded_media(ds: Dataset, lfs: list[LabelingFunction]) -> Dataset:
    """Read ``Image()``/``Audio()`` columns as raw ``{"bytes", "path"}`` when only media LFs use them.

    ``datasets`` decodes such columns while it builds each batch, before any LF runs, so one corrupt
    file would abort the whole ``map``. Media LFs decode cells themselves (once per batch, shared), which
    lets their ``on_decode_error`` policy abstain-and-count or name the bad row instead.
    """
    raw = {lf.inputs[0] for lf in lfs if getattr(lf, "reads_raw_media", False)}
    other = {c for lf in lfs if not getattr(lf, "reads_raw_media", False) for c in lf.inputs}
    for col in sorted(raw - other):
        feature = ds.features.get(col)
        if isinstance(feature, (ImageFeature, AudioFeature)) and feature.decode:
            ds = ds.cast_column(col, dataclasses.replace(feature, decode=False))
    return ds


def _read_votes(path: Path) -> tuple[np.ndarray, int]:
    with pa.memory_map(str(path)) as source:
        table = pa.ipc.open_file(source).read_all()
    return table.column("vote").to_numpy().astype(np.int8), int(table.schema.metadata[b"faults"])


def _write_votes(path: Path, votes: np.ndarray, faults: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({"vote": pa.array(votes, pa.int8())}).replace_schema_metadata({"faults": str(faults)})
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    os.replace(tmp, path)


def _record(result: Dataset | DatasetDict, by_task, report: ApplyReport) -> None:
    record = read_record(result)
    for task, group in by_task.items():
        entry = task_record(record, task.name)
        entry.clear()  # new votes invalidate any earlier label model and analysis
        entry["task"] = task.to_dict()
        entry["lfs"] = [lf.spec() for lf in group]
        names = {lf.name for lf in group}
        entry["faults"] = {
            split: {r.lf: r.faults for r in runs if r.task == task.name and r.lf in names}
            for split, runs in report.runs.items()
        }
    write_record(result, record)
