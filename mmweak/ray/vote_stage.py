"""Votes of a group of LFs on one Ray block, from the vote cache where present, else computed and stored.

A block is the unit of work and of caching. Its key per LF is the local engine's cache key
(:func:`mmweak.vote_cache.votes_key`): the LF's fingerprint and the content digests of the columns it
reads in this block. A rerun after a crash or a cancelled job therefore finds every block that was
finished, whichever worker wrote it, and a changed LF (new fingerprint) or changed rows (new digest)
miss. Computing reuses the local engine's :class:`~mmweak.batch_runner.BatchRunner` on the block's
Arrow columns, in passes by batch size (:func:`mmweak.apply._passes`), so LFs on the same media column
share one decode per batch exactly as locally.

The cache directory must be reachable by every worker under the same path: a shared filesystem, or an
fsspec URL of an object store (``s3://bucket/votes``), where each file is written in one request.
"""

from __future__ import annotations

import io
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
from datasets import Features

from ..apply import _pass_batch_size, _passes, raw_media_features
from ..batch_runner import BatchRunner, OnError
from ..errors import LFError
from ..input_digest import arrow_digest
from ..lf import LabelingFunction
from ..vote_cache import read_votes, serves, votes_from_table, votes_key, votes_table, write_votes
from .meta import ROW_COLUMN

#: Name of the temporary column holding LF slot ``i``'s votes between stages.
VOTE_COLUMN = "__mmweak_v{}"
#: Split index of a block when the eager pass runs the splits of a call through one operator.
SPLIT_COLUMN = "__mmweak_split"
#: Columns of the statistics table an eager pass returns per block and LF.
STATS = ("split", "slot", "first_row", "rows", "computed", "faults", "seconds")


class VoteStore:
    """Vote files under a local folder or an fsspec URL, in the local engine's format (int8 + fault count)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = str(root)
        self.remote = "://" in self.root and not self.root.startswith("file://")
        if not self.remote:
            self.root = os.path.abspath(self.root.removeprefix("file://"))

    def _fs(self) -> Any:
        import fsspec

        return fsspec.core.url_to_fs(self.root)[0]

    def get(self, key: str, rows: int) -> tuple[np.ndarray, int, bool] | None:
        """The votes stored for ``key`` on a block of ``rows`` rows; ``None`` when none are, or they are damaged
        (warned about; a local file is removed) and the LFs must run again."""
        if not self.remote:
            local = Path(self.root) / f"{key}.arrow"
            return read_votes(local, rows) if local.exists() else None
        fs, path = self._fs(), f"{self.root.rstrip('/')}/{key}.arrow"
        if not fs.exists(path):
            return None
        try:
            with fs.open(path, "rb") as f:
                stored = votes_from_table(pa.ipc.open_file(pa.BufferReader(f.read())).read_all())
        except (OSError, pa.ArrowException, KeyError, ValueError, TypeError) as exc:
            warnings.warn(f"cached votes {path!r} are damaged ({type(exc).__name__}: {exc}); the LF runs again",
                          stacklevel=2)
            return None
        return stored if len(stored[0]) == rows else None

    def put(self, key: str, votes: np.ndarray, faults: int, raised_none: bool) -> None:
        if not self.remote:
            write_votes(Path(self.root) / f"{key}.arrow", votes, faults, raised_none)
            return
        table = votes_table(votes, faults, raised_none)
        sink = io.BytesIO()
        with pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        try:
            with self._fs().open(f"{self.root.rstrip('/')}/{key}.arrow", "wb") as f:
                f.write(sink.getvalue())
        except OSError as exc:  # the votes are kept for this run either way
            warnings.warn(f"votes are not cached: cannot write to {self.root!r} ({type(exc).__name__}: {exc})",
                          stacklevel=2)


@dataclass
class VoteStage:
    """Everything a worker needs to vote one block with a group of LFs (picklable; models load lazily).

    Args:
        lfs: the LFs of this stage; ``slots[i]`` is ``lfs[i]``'s position among all LFs of the call.
        fingerprints: each LF's fingerprint (taken once, on the driver), ``None`` when it cannot be hashed.
        features: the ``datasets`` features of each split's columns (for decoding, digests); a block belongs
            to split :data:`SPLIT_COLUMN` (when the eager pass runs all splits in one operator), else to split 0.
        emit: ``"votes"`` appends a :data:`VOTE_COLUMN` per LF to the block; ``"stats"`` returns one row of
            :data:`STATS` per LF instead (the eager pass, which only fills the cache).
    """

    lfs: Sequence[LabelingFunction]
    slots: Sequence[int]
    fingerprints: Sequence[str | None]
    features: Sequence[Features]
    on_error: OnError
    store: VoteStore
    batch_size: int | None
    use_cache: bool
    emit: str = "votes"
    split_names: Sequence[str | None] = ()  # per split index: names an LF's error as the local engine does

    def __call__(self, table: pa.Table) -> pa.Table:
        n = table.num_rows
        split = 0
        if SPLIT_COLUMN in table.column_names:
            split = int(table.column(SPLIT_COLUMN)[0].as_py()) if n else 0
            table = table.drop_columns([SPLIT_COLUMN])
        features = self.features[split]
        rows = table.column(ROW_COLUMN).to_numpy()
        digests: dict[tuple[str, bool], str] = {}

        def digest(col: str, paths: bool) -> str:
            if (col, paths) not in digests:
                digests[col, paths] = arrow_digest(col, features[col], table.column(col).chunks, paths=paths)
            return digests[col, paths]

        keys = [None if fp is None else votes_key(fp, [digest(c, c in lf.path_inputs()) for c in lf.inputs])
                for lf, fp in zip(self.lfs, self.fingerprints)]
        votes: dict[int, np.ndarray] = {}
        faults: dict[int, int] = {}
        seconds: dict[int, float] = {}
        computed: set[int] = set()
        for i, key in enumerate(keys):
            if self.use_cache and key is not None:
                t0 = time.perf_counter()
                hit = self.store.get(key, n)
                if hit is not None and serves(hit[1], hit[2], self.on_error):
                    votes[i], faults[i] = hit[0], hit[1]
                    seconds[i] = time.perf_counter() - t0
        todo = [i for i in range(len(self.lfs)) if i not in votes]
        by_lf = {id(self.lfs[i]): i for i in todo}
        for group in _passes([self.lfs[i] for i in todo], self.batch_size):
            try:
                results = self._compute(table, rows, group, features)
            except LFError as exc:  # "row 1" of which split, where the call has several
                name = self.split_names[split] if split < len(self.split_names) else None
                if name is None:
                    raise
                raise LFError(f"split {name!r}: {exc}", lf=exc.lf, column=exc.column, row=exc.row,
                              batch_level=exc.batch_level) from exc
            for lf, (v, f, sec) in zip(group, results):
                i = by_lf[id(lf)]
                votes[i], faults[i], seconds[i] = v, f, sec
                computed.add(i)
                key = keys[i]
                if key is not None:
                    self.store.put(key, v, f, raised_none=self.on_error == "raise")
        if self.emit == "stats":
            k = len(self.lfs)
            first = int(rows[0]) if n else -1
            return pa.table({
                "split": pa.array([split] * k, pa.int32()),
                "slot": pa.array(self.slots, pa.int32()),
                "first_row": pa.array([first] * k, pa.int64()),
                "rows": pa.array([n] * k, pa.int64()),
                "computed": pa.array([i in computed for i in range(k)]),
                "faults": pa.array([faults[i] for i in range(k)], pa.int64()),
                "seconds": pa.array([seconds[i] for i in range(k)], pa.float64()),
            })
        for i, slot in enumerate(self.slots):
            table = table.append_column(VOTE_COLUMN.format(slot), pa.array(votes[i], pa.int8()))
        return table

    def _compute(self, table: pa.Table, rows: np.ndarray, group: list[LabelingFunction], all_features: Features
                 ) -> list[tuple[np.ndarray, int, float]]:
        """Votes, fault count and own seconds of each LF of ``group`` on the block, batch by batch."""
        inputs = list(dict.fromkeys(c for lf in group for c in lf.inputs))
        features = Features({c: all_features[c] for c in inputs})
        features.update(raw_media_features(features, group))
        runner = BatchRunner(group, self.on_error, features)
        sub = table.select(inputs)
        size = _pass_batch_size(group, self.batch_size)
        parts: list[pa.Table] = []
        for start in range(0, sub.num_rows, size):
            parts.append(runner(sub.slice(start, size), rows[start: start + size].tolist()))
        out = []
        for j in range(len(group)):
            if parts:
                v = np.concatenate([p.column(f"v{j}").to_numpy() for p in parts]).astype(np.int8, copy=False)
                f = int(sum(int(p.column(f"f{j}").to_numpy().sum()) for p in parts))
            else:
                v, f = np.zeros(0, np.int8), 0
            out.append((v, f, float(runner.seconds[j])))
        return out


class VoteActor:
    """The actor-pool form of :class:`VoteStage`: the LFs (and the models they load) live as long as the actor."""

    def __init__(self, stage: VoteStage) -> None:
        self.stage = stage

    def __call__(self, table: pa.Table) -> pa.Table:
        return self.stage(table)


def vote_stage_fn(table: pa.Table, stage: VoteStage) -> pa.Table:
    """The task form of :class:`VoteStage` (``map_batches`` with a function)."""
    return stage(table)
