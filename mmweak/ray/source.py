"""Reading data into Ray without collecting it on the driver: ``datasets`` objects, Parquet files, Hub repos.

Every source becomes a list of *shards* (a row range of a ``Dataset``, or row groups of one Parquet
file) planned on the driver from metadata only (Parquet footers, ``len``), and a Ray datasource that
reads each shard in a worker. Blocks are at most ``shard_rows`` rows, numbered by :data:`ROW_COLUMN`
in source order, so the same source always yields the same blocks: that is what lets the vote cache
recognise them on a rerun.

``hf://`` paths go through ``huggingface_hub.HfFileSystem`` (token from ``HF_TOKEN``/``token=``, endpoint
from ``HF_ENDPOINT``); workers open the files themselves, so they need the same environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Dataset, DatasetDict, Features

from ..columns import split_name
from ..errors import MMWeakError
from ..provenance import read_record, user_description
from .meta import ROW_COLUMN, Meta, attach, conform
from .run import prepare

#: Rows per block when the source does not say: small enough to spread over workers and to redo after a
#: crash, large enough that per-block costs (cache files, task launch) stay small.
DEFAULT_SHARD_ROWS = 50_000

Source = Any


def read(
    source: Source,
    *,
    split: str | None = None,
    shard_rows: int = DEFAULT_SHARD_ROWS,
    token: str | None = None,
) -> Any:
    """A Ray dataset (or a dict of them, one per split) over ``source``, read lazily by Ray workers.

    Args:
        source: a ``datasets.Dataset`` or ``DatasetDict``; a Parquet file, folder or glob (local or any
            fsspec URL), or a list of them; ``"hf://datasets/<owner>/<name>[@<revision>][/<path or glob>]"``;
            or a mapping split -> any of these paths. Folders and Hub repos are split as
            ``datasets.load_dataset`` splits them (:func:`split_files`), else all is ``train``.
        split: keep only this split (a single dataset is returned).
        shard_rows: the most rows per block; blocks are the unit of work and of the vote cache.
        token: Hub token for ``hf://`` paths (default: ``HF_TOKEN`` / the saved login).

    Returns:
        A ``dict`` split -> ``ray.data.Dataset`` for a ``DatasetDict``, a mapping, a folder or a repo; else one
        ``ray.data.Dataset`` (a ``Dataset``, files, globs). Each has the source's columns plus
        :data:`ROW_COLUMN`, and the ``datasets`` features and weak-supervision record attached.

    Raises:
        FileNotFoundError: no Parquet file matches a path.
        MMWeakError: files of one split disagree on their columns, or ``split`` is not in the source.

    >>> import datasets, mmweak.ray as mray
    >>> rds = mray.read(datasets.Dataset.from_dict({"text": ["a", "b", "c"]}), shard_rows=2)
    >>> rds.count(), rds.schema().names
    (3, ['text', '__mmweak_row'])
    """
    if not isinstance(shard_rows, int) or shard_rows < 1:
        raise ValueError(f"shard_rows must be a positive int, got {shard_rows!r}")
    if isinstance(source, DatasetDict):
        splits = {name: _from_dataset(ds, name, shard_rows) for name, ds in source.items()}
    elif isinstance(source, Dataset):
        name = split_name(source)
        splits = {name: _from_dataset(source, name, shard_rows)}
    else:
        groups, by_split = _file_groups(source, token)
        record = _curated_record(source, token)
        splits = {name: _from_parquet(files, fs, name, shard_rows, record) for name, (fs, files) in groups.items()}
    if split is not None:
        if split not in splits:
            raise MMWeakError(f"split {split!r} is not in the source (splits: {sorted(splits)})")
        return splits[split]
    if isinstance(source, Dataset) or not (isinstance(source, DatasetDict) or by_split):
        return next(iter(splits.values()))
    return splits


# -- shards -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _DatasetShard:
    """Rows ``[start, stop)`` of a memory-mapped ``Dataset`` (pickled by file reference), or a table in Ray's store."""

    data: Any  # a Dataset, or an ObjectRef of a pa.Table holding exactly these rows
    start: int
    stop: int
    nbytes: int

    def read(self) -> list[pa.Table]:
        if isinstance(self.data, Dataset):
            return [self.data.with_format("arrow")[self.start: self.stop]]
        import ray

        return [ray.get(self.data)]


@dataclass(frozen=True)
class _ParquetShard:
    """Row groups of one Parquet file; ``start`` is the row number of their first row in the split."""

    fs: Any
    path: str
    row_groups: tuple[int, ...]
    start: int
    stop: int
    nbytes: int
    shard_rows: int

    def read(self) -> list[pa.Table]:
        with _open(self.fs, self.path) as f:
            table = pq.ParquetFile(f).read_row_groups(list(self.row_groups))
        if table.num_rows != self.stop - self.start:
            raise MMWeakError(f"{self.path} changed while it was read: expected {self.stop - self.start} rows in "
                              f"row groups {list(self.row_groups)}, found {table.num_rows}")
        return [table.slice(i, self.shard_rows) for i in range(0, table.num_rows, self.shard_rows)]


def _read_shard(shard: Any, meta: Meta) -> list[pa.Table]:
    out, first = [], shard.start
    for table in shard.read():
        rows = pa.array(np.arange(first, first + table.num_rows, dtype=np.int64))
        first += table.num_rows
        try:
            out.append(conform(table.append_column(ROW_COLUMN, rows), meta))
        except (pa.ArrowInvalid, pa.ArrowTypeError, KeyError, ValueError) as exc:
            where = getattr(shard, "path", "the dataset")
            raise MMWeakError(f"{where} does not match the columns of split {meta.split!r} "
                              f"({meta.features.arrow_schema}): {exc}") from exc
    return out


class _ShardSource:
    """A Ray datasource with one read task per shard (built lazily to keep ``ray`` out of import time)."""

    @staticmethod
    def build(shards: Sequence[Any], meta: Meta) -> Any:
        from ray.data import Datasource, ReadTask
        from ray.data.block import BlockMetadata

        class MmweakShards(Datasource):
            def estimate_inmemory_data_size(self) -> int:
                return sum(s.nbytes for s in shards)

            def get_read_tasks(self, parallelism: int, per_task_row_limit: int | None = None,
                               data_context: Any = None) -> list[Any]:
                tasks = []
                for shard in shards:
                    path = getattr(shard, "path", None)
                    md = BlockMetadata(num_rows=shard.stop - shard.start, size_bytes=shard.nbytes,
                                       input_files=(str(path),) if path is not None else None, exec_stats=None)

                    def read(shard: Any = shard) -> Any:
                        return _read_shard(shard, meta)

                    tasks.append(ReadTask(read, md, schema=meta.schema(), per_task_row_limit=per_task_row_limit))
                return tasks

        return MmweakShards()


def _dataset_from_shards(shards: Sequence[Any], meta: Meta) -> Any:
    import ray.data

    if not shards:  # an empty split: one empty block, so the schema still travels
        shards = [_DatasetShard(_put(meta.features.arrow_schema.empty_table()), 0, 0, 0)]
    rds = ray.data.read_datasource(_ShardSource.build(shards, meta), override_num_blocks=len(shards))
    return attach(prepare(rds), meta.evolve(rows=shards[-1].stop))


def _put(table: pa.Table) -> Any:
    import ray

    return ray.put(table)


# -- datasets objects --------------------------------------------------------------------------------------

def _from_dataset(ds: Dataset, split: str, shard_rows: int) -> Any:
    if ROW_COLUMN in ds.column_names:
        raise MMWeakError(f"the dataset already has a {ROW_COLUMN!r} column, which mmweak.ray reserves")
    meta = Meta(split=split, features=ds.features, record=read_record(ds), description=user_description(ds))
    n = len(ds)
    per_row = ds.data.nbytes / max(len(ds.data), 1)
    mapped = _memory_mapped(ds)
    shards = []
    for start in range(0, n, shard_rows):
        stop = min(n, start + shard_rows)
        data = ds if mapped else _put(ds.with_format("arrow")[start:stop])
        shards.append(_DatasetShard(data, start, stop, int(per_row * (stop - start))))
    return _dataset_from_shards(shards, meta)


def _memory_mapped(ds: Dataset) -> bool:
    """True when pickling ``ds`` ships file references only (its table and index mapping are memory-mapped)."""
    from datasets.table import ConcatenationTable, MemoryMappedTable

    def mapped(table: Any) -> bool:
        if isinstance(table, MemoryMappedTable):
            return True
        if isinstance(table, ConcatenationTable):
            return all(isinstance(t, MemoryMappedTable) for row in table.blocks for t in row)
        return False

    return mapped(ds._data) and (ds._indices is None or mapped(ds._indices))


# -- Parquet files -----------------------------------------------------------------------------------------

def _file_groups(source: Any, token: str | None) -> tuple[dict[str, tuple[Any, list[str]]], bool]:
    """Split name -> (filesystem, Parquet files in order), and whether the source is organised by split
    (a mapping, a folder or a repo: a dict is returned even for one split, as ``load_dataset`` would)."""
    if isinstance(source, Mapping):
        out = {}
        for split, paths in source.items():
            fs, files = _expand(paths, token)
            out[str(split)] = (fs, files)
        return out, True
    fs, files, folder = _expand_with_root(source, token)
    if folder is None:
        return {"train": (fs, files)}, False
    groups = split_files({f[len(folder):].lstrip("/"): f for f in files}, where=str(source))
    return {name: (fs, paths) for name, paths in groups.items()}, True


def split_files(files: Mapping[str, str], where: str = "the folder") -> dict[str, list[str]]:
    """Split name -> files, by the rules ``datasets.load_dataset`` splits a folder or repo with (``files``: path
    relative to the folder -> the path to read), so that both engines see the same splits.

    The Hub's shard names first (``data/<split>-00000-of-00002*.parquet``), then split words in folder names, then
    in file names (``train``/``training``, ``validation``/``valid``/``dev``/``val``, ``test``/``testing``/``eval``),
    else every file is ``train``. A file no split's rule takes is left out, as ``load_dataset`` leaves it (said).

    >>> split_files({n: n for n in ["train.parquet", "test.parquet"]})
    {'train': ['train.parquet'], 'test': ['test.parquet']}
    >>> split_files({n: n for n in ["data/train-00000-of-00001-7c3d.parquet", "data/test-00000-of-00001-1a2b.parquet"]})
    {'train': ['data/train-00000-of-00001-7c3d.parquet'], 'test': ['data/test-00000-of-00001-1a2b.parquet']}
    >>> split_files({n: n for n in ["valid/0.parquet", "a/part-0.parquet"]})  # a/part-0: no split (warned)
    {'validation': ['valid/0.parquet']}
    >>> split_files({"x/part-0.parquet": "x/part-0.parquet"})
    {'train': ['x/part-0.parquet']}
    """
    import warnings

    from datasets.data_files import _get_data_files_patterns

    rel = sorted(files)

    def resolve(pattern: str) -> list[str]:
        return [r for r in rel if _glob_match(r, pattern)]

    try:
        patterns = _get_data_files_patterns(resolve)
    except FileNotFoundError:
        return {"train": [files[r] for r in rel]} if rel else {}
    out: dict[str, list[str]] = {}
    taken: set[str] = set()
    for split, pats in patterns.items():
        mine = [r for r in rel if r not in taken and any(_glob_match(r, p) for p in pats)]
        taken.update(mine)
        if mine:
            out[str(split)] = [files[r] for r in mine]
    left = [r for r in rel if r not in taken]
    if left:
        warnings.warn(f"{len(left)} Parquet file(s) of {where} belong to no split by the names datasets.load_dataset "
                      f"splits by ({left[:3]}{'...' if len(left) > 3 else ''}), and are left out as it leaves them; "
                      "pass a mapping split -> files to read them", stacklevel=4)
    return out


def _glob_match(path: str, pattern: str) -> bool:
    """fsspec's glob on a relative path: ``**`` spans any number of folders (none too), other parts as fnmatch."""
    from fnmatch import fnmatchcase

    def match(parts: list[str], pats: list[str]) -> bool:
        if not pats:
            return not parts
        if pats[0] == "**":
            return any(match(parts[i:], pats[1:]) for i in range(len(parts) + 1))
        return bool(parts) and fnmatchcase(parts[0], pats[0]) and match(parts[1:], pats[1:])

    return match(path.split("/"), pattern.split("/"))


def _expand(paths: Any, token: str | None) -> tuple[Any, list[str]]:
    fs, files, _ = _expand_with_root(paths, token)
    return fs, files


def _expand_with_root(paths: Any, token: str | None) -> tuple[Any, list[str], str | None]:
    """(filesystem, sorted Parquet files, the folder when ``paths`` is one folder)."""
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not items:
        raise FileNotFoundError("no Parquet paths given")
    fs = _filesystem(str(items[0]), token)
    files: list[str] = []
    folder = None
    for item in items:
        path = _strip_protocol(fs, str(item))
        if any(ch in path for ch in "*?["):
            found = sorted(fs.glob(path))
        elif fs.isdir(path):
            found = sorted(p for p in fs.find(path) if p.endswith(".parquet"))
            if len(items) == 1:
                folder = path.rstrip("/")
        else:
            found = [path] if fs.exists(path) else []
        if not found:
            raise FileNotFoundError(f"no Parquet file matches {item!r}")
        other = [f for f in found if not f.endswith(".parquet")]
        if other:  # read as Parquet, a CSV failed deep in planning with "Parquet magic bytes not found"
            kind = os.path.splitext(other[0])[1].lstrip(".") or "file"
            raise MMWeakError(f"mmweak.ray.read reads Parquet files, and {other[0]!r} is not one: load it with "
                              f"datasets first, mray.read(datasets.load_dataset({kind!r}, data_files=...)), or "
                              "convert it to Parquet")
        files.extend(found)
    return fs, files, folder


def _filesystem(path: str, token: str | None) -> Any:
    if path.startswith("hf://"):
        from huggingface_hub import HfFileSystem

        return HfFileSystem(token=token)
    import fsspec

    return fsspec.core.url_to_fs(path)[0]


def _strip_protocol(fs: Any, path: str) -> str:
    return fs._strip_protocol(path) if "://" in path else os.path.abspath(path)


def _open(fs: Any, path: str) -> Any:
    return fs.open(path, "rb")


def _curated_record(source: Any, token: str | None) -> dict[str, Any]:
    """The weak-supervision record of a curated folder or repo, from its card and label-model files (empty for
    any other source). Read from the Parquet files alone, a curated folder lost its tasks: aggregate said "run
    apply_lfs first", and a new apply dropped the annotators' votes the record names."""
    if not isinstance(source, (str, os.PathLike)):
        return {}
    from huggingface_hub import DatasetCard

    from ..curated import record_with_models

    fs = _filesystem(str(source), token)
    root = _strip_protocol(fs, str(source)).rstrip("/")
    if any(ch in root for ch in "*?[") or not fs.isfile(f"{root}/README.md"):
        return {}
    card = DatasetCard(fs.cat_file(f"{root}/README.md").decode("utf-8"))
    if not (card.data.to_dict().get("weak_supervision") or {}).get("tasks"):
        return {}
    return record_with_models(card, lambda rel: fs.cat_file(f"{root}/{rel}").decode("utf-8"))[0]


def _from_parquet(files: list[str], fs: Any, split: str, shard_rows: int, record: dict[str, Any] | None = None) -> Any:
    shards: list[_ParquetShard] = []
    features: Features | None = None
    start = 0
    for path in files:
        with _open(fs, path) as f:
            pf = pq.ParquetFile(f)
            md, schema = pf.metadata, pf.schema_arrow
        file_features = Features.from_arrow_schema(schema)
        if features is None:
            features = file_features
        elif file_features.arrow_schema.names != features.arrow_schema.names:
            raise MMWeakError(f"{path} has columns {schema.names}, but the first file of split {split!r} has "
                              f"{features.arrow_schema.names}")
        group: list[int] = []
        rows = nbytes = 0
        for i in range(md.num_row_groups):
            rg = md.row_group(i)
            if group and rows + rg.num_rows > shard_rows:
                shards.append(_ParquetShard(fs, path, tuple(group), start, start + rows, nbytes, shard_rows))
                start, group, rows, nbytes = start + rows, [], 0, 0
            group.append(i)
            rows += rg.num_rows
            nbytes += rg.total_byte_size
        if group:
            shards.append(_ParquetShard(fs, path, tuple(group), start, start + rows, nbytes, shard_rows))
            start += rows
    assert features is not None
    if ROW_COLUMN in features:
        raise MMWeakError(f"split {split!r} already has a {ROW_COLUMN!r} column, which mmweak.ray reserves")
    return _dataset_from_shards(shards, Meta(split=split, features=features, record=dict(record or {})))
