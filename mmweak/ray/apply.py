"""``apply_lfs`` on Ray Data: rule LFs as tasks, model LFs in actor pools, votes cached per block.

The call runs one eager pass per stage that fills the vote cache and brings back only per-block
statistics (fault counts, seconds, cache hits), so LF errors surface here, named as locally, and the
driver never sees a row. It returns a lazy dataset whose vote columns are read back from that cache
(recomputing, and caching, any block a later pass cuts differently, or an LF that cannot be hashed).
"""

from __future__ import annotations

import copy
import logging
import os
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
from datasets import Features
from datasets.utils.logging import is_progress_bar_enabled

from ..apply import ApplyReport, LFRun, _group_by_task, people_in_record, record_lfs, refuse_lfs_reading_outputs
from ..batch_runner import OnError
from ..columns import fixed_list, is_media
from ..errors import LFError, RecordError
from ..fingerprint import session as fingerprint_session
from ..lf import LabelingFunction
from ..task import Task
from ..vote_cache import cache_fingerprint, default_votes_root
from .meta import ROW_COLUMN, Meta, attach, conform, meta_of
from .run import batches, cluster_cpus, cluster_gpus, prepare
from .vote_stage import SPLIT_COLUMN, STATS, VOTE_COLUMN, VoteActor, VoteStage, VoteStore, vote_stage_fn

logger = logging.getLogger("mmweak.ray.apply")


@dataclass
class RayApplyReport(ApplyReport):
    """:class:`mmweak.ApplyReport` plus, per split and LF, how many blocks were computed and how many cached.

    An LF counts as ``cached`` (in :meth:`cached`/:meth:`computed`) only when every block was a cache hit; the
    summary says how many LFs were computed on some blocks only (a resumed run) and how many blocks in all.
    """

    blocks: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)  # split -> lf -> (computed, cached)

    def summary(self) -> list[str]:
        lines = super().summary()
        out = []
        for line, (split, per_lf) in zip(lines, _per_task_blocks(self)):
            done = sum(c for c, _ in per_lf)
            total = sum(c + h for c, h in per_lf)
            out.append(f"{line}; {done} of {total} (LF, block) pairs computed on {split}")
        return out

    def _cache_words(self, split: str, runs: list[LFRun]) -> str:
        blocks = self.blocks.get(split, {})
        hits = sum(r.cached for r in runs)
        partly = sum(1 for r in runs if not r.cached and blocks.get(r.lf, (0, 0))[1] > 0)
        words = f"{hits} cached, {len(runs) - hits - partly} computed"
        return words + (f", {partly} computed on some blocks (the others cached)" if partly else "")


def _per_task_blocks(report: RayApplyReport) -> list[tuple[str, list[tuple[int, int]]]]:
    out: list[tuple[str, list[tuple[int, int]]]] = []
    for split, runs in report.runs.items():
        by_task: OrderedDict[str, list[tuple[int, int]]] = OrderedDict()
        for r in runs:
            by_task.setdefault(r.task, []).append(report.blocks.get(split, {}).get(r.lf, (0, 0)))
        out.extend((split, v) for v in by_task.values())
    return out


@dataclass
class _Stage:
    """LFs that run together: one Ray operator (tasks, or an actor pool for model LFs)."""

    lfs: list[LabelingFunction]
    slots: list[int]
    actors: bool
    num_cpus: float
    num_gpus: float
    concurrency: int | None


def apply_lfs(
    dataset: Any,
    lfs: Sequence[LabelingFunction],
    *,
    batch_size: int | None = None,
    on_error: OnError = "raise",
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    return_report: bool = False,
) -> Any:
    """Apply ``lfs`` to every row of a Ray dataset and add ``<task>_votes`` per task, as :func:`mmweak.apply_lfs`.

    LFs without models run as Ray tasks; LFs that load models (``_lazy_attrs``) or ask for GPUs
    (``resources.num_gpus``) run in an actor pool per resource shape, sized by ``resources.concurrency``
    (default: as many actors as the cluster fits), so each actor loads its models once. LFs reading
    the same media column run in the same operator, so each cell is decoded once per batch. People's votes
    (:func:`mmweak.review.add_annotator_votes`, before :func:`mmweak.ray.read`) are kept after the LFs' votes,
    in the same columns and record entries as :func:`mmweak.apply_lfs` keeps them.

    Args:
        dataset: a ``ray.data.Dataset`` from :func:`mmweak.ray.read` (or derived from one), or a dict of
            them per split.
        lfs: labeling functions; names must be unique within a task.
        batch_size: rows per LF call; ``None`` lets each LF's ``resources.batch_size`` decide.
        on_error: ``"raise"`` stops at the first failure with an :class:`~mmweak.LFError` naming LF,
            column and row; ``"abstain"`` turns failing rows into abstains and counts them (over all
            workers) in the record and the report.
        cache_dir: folder or fsspec URL of the vote cache, reachable by every worker (default
            ``$MMWEAK_CACHE/votes``, the local engine's); votes are stored per block and LF.
        use_cache: set False to recompute (and refresh) every block.
        return_report: also return a :class:`RayApplyReport`.

    Returns:
        The lazy dataset(s) with ``<task>_votes`` columns (``List(Value("int8"), length=m)``), and the report
        when asked.

    Raises:
        LFError: an LF failed (``on_error="raise"``), returned bad votes, or reads a missing column.

    >>> import datasets, mmweak, mmweak.ray as mray
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> @mmweak.labeling_function(task=spam, inputs="text")
    ... def has_link(batch):
    ...     return [1 if "http" in t else -1 for t in batch["text"]]
    >>> rds = mray.read(datasets.Dataset.from_dict({"text": ["http://spam", "hi"]}))
    >>> [row["spam_votes"] for row in mray.apply_lfs(rds, [has_link]).take_all()]
    [[1], [-1]]
    """
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
    if on_error not in ("raise", "abstain"):
        raise ValueError(f"on_error must be 'raise' or 'abstain', got {on_error!r}")
    by_task = _group_by_task(lfs)
    refuse_lfs_reading_outputs(by_task)
    all_lfs = [lf for group in by_task.values() for lf in group]
    splits = dict(dataset) if isinstance(dataset, dict) else {None: dataset}
    metas = {name: meta_of(rds, what=f"split {name!r}" if name else "the dataset") for name, rds in splits.items()}
    record = _one_record(metas)
    people = people_in_record(record, by_task)  # people's votes ride along after the LFs', as locally
    with fingerprint_session():  # LFs of one class share the walk of that class and its helpers
        fingerprints = [cache_fingerprint(lf, stacklevel=3) for lf in all_lfs]
    store = VoteStore(cache_dir if cache_dir is not None else default_votes_root())
    report = RayApplyReport()
    t_start = time.perf_counter()
    bases = {name: _base(rds, metas[name], by_task, all_lfs, people) for name, rds in splits.items()}
    first_features = next(iter(bases.values()))[1]
    seen = _eager(bases, _plan(all_lfs, fingerprints, first_features), fingerprints, store, batch_size, on_error,
                  use_cache)
    lazy = _plan_lazy(all_lfs, fingerprints, first_features)
    out = {}
    # One eager pass runs every split: its wall time is a split's own only when there is one split (with several,
    # each line gives its LFs' own seconds, as a multi-task line does).
    wall = time.perf_counter() - t_start if len(bases) == 1 else None
    for k, (name, (base, features, meta)) in enumerate(bases.items()):
        _report(report, meta.split, all_lfs, by_task, seen[k], wall)
        rows = sum(n for (slot, _first, n) in seen[k] if slot == 0)
        out[name] = _votes_dataset(base, features, meta.evolve(rows=rows), by_task, lazy, fingerprints, store,
                                   batch_size, on_error, people)
    record_lfs(record, by_task, report, {t: specs for t, (_, specs) in people.items()})
    for rds in out.values():
        attach(rds, meta_of(rds).evolve(record=record))
    for line in report.summary():
        logger.info(line)
        if is_progress_bar_enabled():
            print(line, file=sys.stderr)
    result = out if isinstance(dataset, dict) else out[None]
    return (result, report) if return_report else result


def _people_column(task: Task) -> str:
    """Where a task's recorded votes wait, while its LFs run, for the people's among them to be kept."""
    return f"__mmweak_people_{task.name}"


def _base(rds: Any, meta: Meta, by_task: "OrderedDict[Task, list[LabelingFunction]]", lfs: list[LabelingFunction],
          people: dict[str, tuple[list[int], list[dict]]]) -> tuple[Any, Features, Meta]:
    """The split without the columns these tasks rewrite, its features, and its meta; missing inputs are errors.

    A task with people's votes keeps its recorded votes under :func:`_people_column` until they are assembled."""
    for lf in lfs:
        for col in lf.inputs:
            if col not in meta.features:
                raise LFError(
                    f"LF {lf.name!r} (task {lf.task.name!r}) reads column {col!r}, which split {meta.split!r} "
                    f"does not have (columns: {list(meta.features)})",
                    lf=lf.name, column=col,
                )
    # Votes and aggregation outputs of these tasks are rewritten; they are never an LF's input.
    ours = [c for t in by_task for c in (t.votes_column, *t.output_columns) if c in meta.features]
    features = Features({c: f for c, f in meta.features.items() if c not in ours})
    held = {t.votes_column: _people_column(t) for t in by_task if t.name in people and t.votes_column in meta.features}
    gone = [c for c in ours if c not in held]
    out = rds.drop_columns(gone) if gone else rds
    out = out.rename_columns(held) if held else out
    return (prepare(out) if ours else rds), features, meta


Seen = dict[tuple[int, int, int], tuple[bool, int, float]]


def _eager(bases: dict[Any, tuple[Any, Features, Meta]], stages: list["_Stage"], fingerprints: list[str | None],
           store: VoteStore, batch_size: int | None, on_error: OnError, use_cache: bool) -> list[Seen]:
    """Fill the cache stage by stage, every split through one operator (an actor pool starts once per call).

    Returns, per split, ``(slot, first row, rows) -> (computed, faults, seconds)`` of every block, each block
    counted once however often Ray retried it.
    """
    seen: list[Seen] = [{} for _ in bases]
    features = [f for _, f, _ in bases.values()]
    for stage in stages:
        cols = list(dict.fromkeys([*(c for lf in stage.lfs for c in lf.inputs), ROW_COLUMN]))
        parts = [base.select_columns(cols).map_batches(_tag, fn_kwargs={"split": k}, batch_size=None,
                                                       batch_format="pyarrow", zero_copy_batch=True,
                                                       udf_modifying_row_count=False)
                 for k, (base, _, _) in enumerate(bases.values())]
        joined = prepare(parts[0].union(*parts[1:]) if len(parts) > 1 else prepare(parts[0]))
        runner = VoteStage(stage.lfs, stage.slots, [fingerprints[s] for s in stage.slots], features, on_error,
                           store, batch_size, use_cache, "stats", split_names=list(bases))
        for table in batches(_map(joined, stage, runner)):
            for split, slot, first, n, comp, faults, sec in zip(*(table.column(k).to_pylist() for k in STATS)):
                seen[split].setdefault((slot, first, n), (comp, faults, sec))
    return seen


def _tag(table: pa.Table, split: int) -> pa.Table:
    return table.append_column(SPLIT_COLUMN, pa.array(np.full(table.num_rows, split, np.int32)))


def _report(report: RayApplyReport, split: str, lfs: list[LabelingFunction],
            by_task: "OrderedDict[Task, list[LabelingFunction]]", seen: Seen, wall: float | None) -> None:
    totals = {slot: [0, 0, 0, 0.0, 0] for slot in range(len(lfs))}  # rows, faults, computed, seconds, cached
    for (slot, _first, n), (comp, faults, sec) in seen.items():
        t = totals[slot]
        t[0] += n
        t[1] += faults
        t[2] += int(comp)
        t[3] += sec
        t[4] += int(not comp)
    report.runs[split] = [
        LFRun(lf.name, lf.task.name, int(totals[i][0]), totals[i][2] == 0, int(totals[i][1]), float(totals[i][3]))
        for i, lf in enumerate(lfs)
    ]
    report.blocks[split] = {lf.name: (int(totals[i][2]), int(totals[i][4])) for i, lf in enumerate(lfs)}
    if wall is not None:
        report.wall[split] = {task.name: wall for task in by_task}


def _votes_dataset(base: Any, features: Features, meta: Meta, by_task: "OrderedDict[Task, list[LabelingFunction]]",
                   stages: list["_Stage"], fingerprints: list[str | None], store: VoteStore,
                   batch_size: int | None, on_error: OnError, people: dict[str, tuple[list[int], list[dict]]]) -> Any:
    """The lazy result: votes read back from the cache, gathered into one column per task."""
    out = base
    for stage in stages:
        runner = VoteStage(stage.lfs, stage.slots, [fingerprints[s] for s in stage.slots], [features], on_error,
                           store, batch_size, True, "votes")
        out = _map(out, stage, runner, same_rows=True)
    out_features = Features(features)
    slots_by_task = []
    i = 0
    held = set(meta.features)
    for task, group in by_task.items():
        kept = people[task.name][0] if task.name in people and task.votes_column in held else []
        out_features[task.votes_column] = task.votes_feature(len(group) + len(kept))
        slots_by_task.append((task.votes_column, list(range(i, i + len(group))),
                              (_people_column(task), kept) if kept else None))
        i += len(group)
    out_meta = meta.evolve(features=out_features)
    out = out.map_batches(_assemble, fn_kwargs={"meta": out_meta, "tasks": slots_by_task}, batch_size=None,
                          batch_format="pyarrow", zero_copy_batch=True, udf_modifying_row_count=False)
    return attach(prepare(out), out_meta)


def _plan_lazy(lfs: list[LabelingFunction], fingerprints: list[str | None], features: Features) -> list["_Stage"]:
    """Stages of the returned dataset. A cached LF is a file read, so every hashable LF joins one task stage
    (a block cut differently from the eager pass is recomputed there, its models loaded in the task); LFs
    that cannot be hashed are computed on every pass, in the stages :func:`_plan` gives them."""
    hashable = [i for i, fp in enumerate(fingerprints) if fp is not None]
    stages = []
    if hashable:
        stages.append(_Stage([lfs[i] for i in hashable], hashable, False, 1.0, 0.0, None))
    rest = [i for i, fp in enumerate(fingerprints) if fp is None]
    if rest:
        for stage in _plan([lfs[i] for i in rest], [None] * len(rest), features):
            stage.slots = [rest[k] for k in stage.slots]
            stages.append(stage)
    return stages


def _one_record(metas: dict[Any, Meta]) -> dict[str, Any]:
    """The record every split carries (a copy); :class:`RecordError` when splits disagree, as locally."""
    items = list(metas.items())
    first_name, first = items[0]
    for name, meta in items[1:]:
        if meta.record != first.record:
            raise RecordError(
                f"splits {first_name!r} and {name!r} carry different weak-supervision records: apply LFs and "
                f"aggregate on all splits together so every split has the same tasks, LFs and label models"
            )
    return copy.deepcopy(first.record)


def _plan(lfs: list[LabelingFunction], fingerprints: list[str | None], features: Features) -> list[_Stage]:
    """Stages: one actor pool per resource shape of model LFs (with the rule LFs that share their media
    columns, so a cell is decoded once), then one task stage for the remaining rule LFs."""
    def is_model(lf: LabelingFunction) -> bool:
        return bool(lf._lazy_attrs) or lf.resources.num_gpus > 0

    media = {c for c, f in features.items() if is_media(f)}
    pools: OrderedDict[tuple, _Stage] = OrderedDict()
    for slot, lf in enumerate(lfs):
        if is_model(lf):
            r = lf.resources
            key = (r.num_cpus, r.num_gpus, r.concurrency)
            stage = pools.setdefault(key, _Stage([], [], True, r.num_cpus, r.num_gpus, r.concurrency))
            stage.lfs.append(lf)
            stage.slots.append(slot)
    rules = _Stage([], [], False, 1.0, 0.0, None)
    for slot, lf in enumerate(lfs):
        if is_model(lf):
            continue
        shared = set(lf.inputs) & media
        home = next((s for s in pools.values() if shared & {c for x in s.lfs for c in x.inputs}), None)
        stage = home or rules
        stage.lfs.append(lf)
        stage.slots.append(slot)
        if home is None:
            rules.num_cpus = max(rules.num_cpus, lf.resources.num_cpus)
            if lf.resources.concurrency is not None:
                rules.concurrency = min(rules.concurrency or lf.resources.concurrency, lf.resources.concurrency)
    stages = list(pools.values())
    if rules.lfs:
        stages.append(rules)
    for stage in stages:  # keep each stage's LFs in call order (votes columns follow it anyway)
        order = sorted(range(len(stage.slots)), key=lambda k: stage.slots[k])
        stage.lfs = [stage.lfs[k] for k in order]
        stage.slots = [stage.slots[k] for k in order]
    return stages


def _map(rds: Any, stage: _Stage, runner: VoteStage, *, same_rows: bool = False) -> Any:
    import ray.data

    common: dict[str, Any] = dict(batch_size=None, batch_format="pyarrow", zero_copy_batch=True,
                                  num_cpus=stage.num_cpus, udf_modifying_row_count=not same_rows)
    if stage.num_gpus:
        common["num_gpus"] = stage.num_gpus
    if stage.actors:
        most = stage.concurrency or max(1, int(cluster_gpus() // stage.num_gpus if stage.num_gpus
                                               else cluster_cpus() // max(stage.num_cpus, 1e-9)))
        return rds.map_batches(VoteActor, fn_constructor_kwargs={"stage": runner},
                               compute=ray.data.ActorPoolStrategy(min_size=1, max_size=most), **common)
    if stage.concurrency is not None:
        common["compute"] = ray.data.TaskPoolStrategy(size=stage.concurrency)
    return rds.map_batches(vote_stage_fn, fn_kwargs={"stage": runner}, **common)


def _assemble(table: pa.Table, meta: Meta,
              tasks: list[tuple[str, list[int], tuple[str, list[int]] | None]]) -> pa.Table:
    """Gather the per-LF vote columns of each task into its ``<task>_votes`` fixed-size list column, the people's
    recorded votes (if any) after them."""
    for column, slots, kept in tasks:
        if slots:
            matrix = np.stack([table.column(VOTE_COLUMN.format(s)).to_numpy() for s in slots], axis=1)
        else:
            matrix = np.zeros((table.num_rows, 0), np.int8)
        if kept is not None:
            held = table.column(kept[0]).combine_chunks()
            votes = held.flatten().to_numpy(zero_copy_only=False).reshape(table.num_rows, held.type.list_size)
            matrix = np.concatenate([matrix.astype(np.int8, copy=False), votes[:, kept[1]].astype(np.int8)], axis=1)
        table = table.append_column(column, fixed_list(matrix.astype(np.int8, copy=False)))
    temp = [c for c in table.column_names if c.startswith(("__mmweak_v", "__mmweak_people_"))]
    return conform(table.drop_columns(temp), meta)
