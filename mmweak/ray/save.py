"""``save_curated`` on Ray Data: the Hub-layout folder of :func:`mmweak.save_curated`, written by actors.

Two passes per split. The first aggregates the card's measurements from the blocks
(:mod:`mmweak.ray.measure`) and gives the split's rows and in-memory size, hence its shard count and
the shards' row ranges — the ones ``Dataset.shard(contiguous=True)`` cuts locally. The second walks the
blocks in order as object references (the driver never fetches one) and hands each shard's rows to a
writer actor on the driver's node, which streams them into ``data/<split>-0000i-of-0000n.parquet``
with ``datasets``' Parquet settings. Label models, plots and the card come from the code the local
engine uses. The folder is assembled beside the target and moved into place in one rename.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Features

from ..card import SplitSize
from ..curated import (
    DEFAULT_SHARD_BYTES,
    check_split_name,
    check_target,
    curated_record,
    is_curated_folder,
    shard_bounds,
    shard_count,
    shard_path,
    write_repo_extras,
)
from ..folder_publish import clear_leftovers, publish_folder
from ..split_schema import check_rows, missing_column, one_schema
from .apply import _one_record
from .measure import measure_split, task_measures
from .meta import ROW_COLUMN, meta_of
from .run import prepare, raise_unwrapped

#: Write calls in flight before the driver waits for the writers (bounds what the object store holds for them).
_IN_FLIGHT = 8


def save_curated(
    dataset: Any,
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    pretty_name: str | None = None,
    license: str | list[str] = "other",
    task_categories: Sequence[str] | None = None,
    max_shard_bytes: int = DEFAULT_SHARD_BYTES,
) -> Path:
    """Write a Ray dataset as the Hub-layout folder :func:`mmweak.save_curated` writes, with the same card.

    Args:
        dataset: output of :func:`mmweak.ray.aggregate` (or :func:`~mmweak.ray.apply_lfs`), or a dict per split.
        path: the folder to create, on the driver's machine (writers run on the driver's node).
        overwrite, pretty_name, license, task_categories, max_shard_bytes: as :func:`mmweak.save_curated`.

    Returns:
        The folder's path.

    Raises:
        CuratedDatasetError: the dataset has no weak-supervision record, a split name is not allowed, or
            ``path`` is a folder :func:`mmweak.save_curated` did not write (with ``overwrite=True``).
        FileExistsError: ``path`` exists and ``overwrite`` is False.

    >>> import datasets, mmweak, mmweak.ray as mray, tempfile, os
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lf = mmweak.labeling_function(task=spam, inputs="text")(lambda b: [1] * len(b["text"]))
    >>> rds, _ = mray.aggregate(mray.apply_lfs(mray.read(datasets.Dataset.from_dict({"text": ["a"]})), [lf]))
    >>> out = mray.save_curated(rds, os.path.join(tempfile.mkdtemp(), "curated"))
    >>> sorted(p.name for p in out.iterdir())
    ['README.md', 'data', 'label_models', 'plots']
    """
    target = Path(path)
    clear_leftovers(target)
    check_target(target, overwrite)
    single = not isinstance(dataset, dict)
    splits = {meta_of(dataset).split: dataset} if single else dict(dataset)
    for split in splits:
        check_split_name(split)
    metas = {name: meta_of(rds, what=f"split {name!r}") for name, rds in splits.items()}
    record = curated_record(_one_record(metas))
    names = list(splits)
    stats = {name: measure_split(rds, metas[name], record, names) for name, rds in splits.items()}
    sizes = {name: SplitSize(s["rows"], s["nbytes"]) for name, s in stats.items()}
    # one schema for every split, or a refusal, before anything is written (as the local engine does: a split with
    # gold only on validation, or without rows, was written and then could not be loaded)
    check_rows({name: size.rows for name, size in sizes.items()})
    features = one_schema({name: meta.features for name, meta in metas.items()})
    measures = {task: task_measures(entry, stats) for task, entry in record["tasks"].items()}

    def fill(tmp: Path) -> None:
        import ray

        (tmp / "data").mkdir()
        writers = _writers()
        try:
            for name, rds in splits.items():
                _write_split(writers, rds, features, tmp, name, sizes[name], max_shard_bytes)
        finally:
            ray.kill(writers)
        write_repo_extras(
            tmp, record, sizes=sizes, features=features, measures=measures,
            user_description=next(iter(metas.values())).description, pretty_name=pretty_name, license=license,
            task_categories=task_categories, load_path=str(target),
        )

    return publish_folder(target, fill, overwrite=overwrite, replaceable=is_curated_folder)


class ShardWriter:
    """One Parquet shard, written in row order from the blocks it is handed."""

    def __init__(self, path: str, features: Features, rows: int, nbytes: int) -> None:
        from datasets import config
        from datasets.arrow_writer import (
            get_parquet_column_options,
            get_writer_batch_size_from_data_size,
            get_writer_batch_size_from_features,
        )

        self.features, self.schema = features, features.arrow_schema
        # Row groups as ``Dataset.to_parquet`` cuts them, with its column options and content-defined chunking.
        self.group = (get_writer_batch_size_from_features(features)
                      or get_writer_batch_size_from_data_size(rows, nbytes))
        self.cdc = config.DEFAULT_CDC_OPTIONS
        self.writer = pq.ParquetWriter(path, schema=self.schema, use_content_defined_chunking=self.cdc,
                                       write_page_index=True, **get_parquet_column_options(features, self.schema))
        self.pending: list[pa.Table] = []
        self.pending_rows = 0

    def write(self, block: pa.Table, start: int, stop: int) -> None:
        part = block.slice(start, stop - start).drop_columns([ROW_COLUMN])
        for name in self.schema.names:  # a column another split has: empty here (-1 for a class label)
            if name not in part.column_names:
                empty = missing_column(self.features[name], part.num_rows)
                part = part.append_column(name, pa.array(empty, type=self.schema.field(name).type))
        self.pending.append(part.select(self.schema.names).cast(self.schema))
        self.pending_rows += stop - start
        while self.pending_rows >= self.group:
            self._flush(self.group)

    def _flush(self, rows: int) -> None:
        table = pa.concat_tables(self.pending)
        self.writer.write_table(table.slice(0, rows))
        rest = table.slice(rows)
        self.pending, self.pending_rows = ([rest], rest.num_rows) if rest.num_rows else ([], 0)

    def close(self) -> None:
        if self.pending_rows:
            self._flush(self.pending_rows)
        self.writer.add_key_value_metadata({"content_defined_chunking": json.dumps(self.cdc)})
        self.writer.close()


class ShardWriters:
    """The Ray actor that writes every shard of a save, on the driver's node (its folder is local there)."""

    def __init__(self) -> None:
        self.open: dict[str, ShardWriter] = {}

    def start(self, path: str, features: Features, rows: int, nbytes: int) -> None:
        self.open[path] = ShardWriter(path, features, rows, nbytes)

    def write(self, path: str, block: pa.Table, start: int, stop: int) -> None:
        self.open[path].write(block, start, stop)

    def close(self, path: str) -> None:
        self.open.pop(path).close()


def _writers() -> Any:
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    return ray.remote(ShardWriters).options(num_cpus=0, scheduling_strategy=here).remote()


def _write_split(writers: Any, rds: Any, features: Features, root: Path, split: str, size: SplitSize,
                 max_shard_bytes: int) -> None:
    """Hand each block's rows to the shards they belong to, in order; the driver only passes references."""
    import ray

    n = shard_count(size.rows, size.nbytes, max_shard_bytes)
    bounds = shard_bounds(size.rows, n)
    paths = [str(root / shard_path(split, i, n)) for i in range(n)]
    calls = [writers.start.remote(p, features, b - a, size.nbytes * (b - a) // max(size.rows, 1))
             for p, (a, b) in zip(paths, bounds)]
    pos = 0
    try:
        for bundle in prepare(rds).iter_internal_ref_bundles():
            slices = getattr(bundle, "slices", None) or [None] * len(bundle.blocks)
            for entry, cut in zip(bundle.blocks, slices):
                first = cut.start_offset if cut is not None else 0
                k = (cut.end_offset if cut is not None else entry.metadata.num_rows) - first
                for path, (a, b) in zip(paths, bounds):
                    lo, hi = max(a, pos), min(b, pos + k)
                    if lo < hi:
                        calls.append(writers.write.remote(path, entry.ref, first + lo - pos, first + hi - pos))
                pos += k
                if len(calls) > _IN_FLIGHT:  # bound the blocks waiting in the object store for the writer
                    done, calls = ray.wait(calls, num_returns=len(calls) - _IN_FLIGHT)
                    ray.get(done)
    except Exception as exc:  # noqa: BLE001 - mmweak's errors come back as themselves
        raise_unwrapped(exc)
    if pos != size.rows:
        raise RuntimeError(f"split {split!r} had {size.rows} rows when measured and {pos} when written: did its "
                           f"source change? Re-read it with mmweak.ray.read")
    ray.get(calls + [writers.close.remote(p) for p in paths])
