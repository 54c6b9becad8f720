"""The per-LF vote cache: one Arrow IPC file of int8 votes per (LF, input content, mmweak version).

Files are written to a temporary name of their own (process, thread and a random part) and renamed into place,
so a crash never leaves a partial file that a later run would read, and two writers never take each other's file;
reads are memory-mapped, so a cached LF costs a file open, not a copy. The cache never costs a run its votes: a
file that cannot be read, or holds another number of rows, is a miss (warned about and removed), and a folder
that cannot be written to leaves the votes uncached (warned about once). A file damaged inside its votes with
its structure intact is not detected (as for ``datasets``' own cache files).
"""

from __future__ import annotations

import errno
import os
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
from datasets import Dataset

from ._version import __version__
from .atomic_files import temp_name
from .cache_store import store_root
from .fingerprint import Unhashable, stable_hash
from .input_digest import column_digest
from .lf import LabelingFunction

_warned: set[tuple[str, str]] = set()


def default_cache_dir(ds: Dataset) -> Path:
    """Where LF votes are cached: ``$MMWEAK_CACHE/votes`` (default ``~/.cache/mmweak/votes``), for every dataset.

    The key is the LF's fingerprint and a digest of the content it reads, so one store serves the same rows read
    from a CSV, from memory or from a curated folder's parquet (and the Ray engine, which uses the same store).
    Kept next to each dataset's own cache files, as it once was, the same content read from another source missed.
    """
    return default_votes_root()


def default_votes_root() -> Path:
    """``$MMWEAK_CACHE/votes`` (default ``~/.cache/mmweak/votes``); ``mmweak cache`` shows and clears it."""
    return store_root("votes")


class InputDigests:
    """Content digests of a dataset's columns, each computed at most once."""

    def __init__(self, ds: Dataset) -> None:
        self.ds = ds
        self._done: dict[tuple[str, bool], str] = {}

    def get(self, column: str, *, paths: bool = False) -> str:
        """The column's digest; with ``paths``, of the files its text cells name too."""
        if (column, paths) not in self._done:
            self._done[column, paths] = column_digest(self.ds, column, paths=paths)
        return self._done[column, paths]

    def __getitem__(self, column: str) -> str:
        return self.get(column)


def vote_key(lf: LabelingFunction, inputs: InputDigests) -> str | None:
    """Cache key of ``lf``'s votes on these inputs, or ``None`` (with a warning, once) if it cannot be hashed."""
    fp = cache_fingerprint(lf, stacklevel=5)
    files = set(lf.path_inputs())
    return None if fp is None else votes_key(fp, [inputs.get(c, paths=c in files) for c in lf.inputs])


def votes_key(fingerprint: str, input_digests: list[str]) -> str:
    """Cache key of the votes of the LF with ``fingerprint`` on rows whose input columns have these digests.

    Both engines use it: a Ray batch is keyed exactly like a ``Dataset`` holding the same rows.
    """
    return stable_hash("votes", fingerprint, input_digests, __version__)


def cache_fingerprint(lf: LabelingFunction, *, stacklevel: int = 4) -> str | None:
    """``lf.fingerprint()``, or ``None`` with a warning (once per LF and reason) when it cannot be hashed."""
    try:
        return lf.fingerprint()
    except Unhashable as exc:
        reason = str(exc)
        if (lf.name, reason) not in _warned:
            _warned.add((lf.name, reason))
            warnings.warn(
                f"LF {lf.name!r} (task {lf.task.name!r}) cannot be fingerprinted, so its votes are recomputed "
                f"on every run and never cached: {reason}. Make what it reads hashable (plain data, or an object "
                f"with a fingerprint() method) to cache it.",
                stacklevel=stacklevel,
            )
        return None


def votes_table(votes: np.ndarray, faults: int, raised_none: bool) -> pa.Table:
    """The stored form of an LF's votes: int8 votes, their fault count, and whether the run that counted them
    raised on every exception (``on_error="raise"``), so that none of the faults is one."""
    meta = {"faults": str(faults), "raised_none": "1" if raised_none else "0"}
    return pa.table({"vote": pa.array(votes, pa.int8())}).replace_schema_metadata(meta)


def votes_from_table(table: pa.Table) -> tuple[np.ndarray, int, bool]:
    """``(votes, faults, raised_none)`` of a :func:`votes_table` (files from before the flag count as not checked)."""
    meta = table.schema.metadata
    return table.column("vote").to_numpy(), int(meta[b"faults"]), meta.get(b"raised_none") == b"1"


def serves(faults: int, raised_none: bool, on_error: str) -> bool:
    """Whether stored votes may answer a run with ``on_error``: under ``"raise"`` not when some of their faults may
    be exceptions counted under ``"abstain"`` (the run must raise on them); faults an LF reports itself (an image it
    cannot decode, with ``on_decode_error="abstain"``) are served either way once a raising run has counted them.

    >>> serves(0, False, "raise"), serves(2, False, "raise"), serves(2, True, "raise"), serves(2, False, "abstain")
    (True, False, True, True)
    """
    return not faults or raised_none or on_error != "raise"


def read_votes(path: Path, rows: int | None = None) -> tuple[np.ndarray, int, bool] | None:
    """Votes, fault count and ``raised_none`` stored at ``path`` (memory-mapped; see :func:`votes_table`), or
    ``None`` when there is no such file, or it cannot be read or holds other than ``rows`` votes: such a file
    (truncated, emptied by a crash, overwritten) is warned about and removed, and the LF runs again."""
    try:
        with pa.memory_map(str(path)) as source:
            stored = votes_from_table(pa.ipc.open_file(source).read_all())
        if rows is not None and len(stored[0]) != rows:
            raise ValueError(f"{len(stored[0])} votes for {rows} rows")
        return stored
    except FileNotFoundError:
        return None
    except OSError as exc:
        # refused (permissions, file limits, memory): readable later or by others, so kept; anything else is damage
        if isinstance(exc, (PermissionError, BlockingIOError)) or exc.errno in _NOT_THE_FILE:
            warnings.warn(f"cannot read cached votes {str(path)!r} ({exc}); the LF runs again", stacklevel=3)
        else:
            _damaged(path, exc)
        return None
    except (pa.ArrowException, KeyError, ValueError, TypeError) as exc:
        _damaged(path, exc)
        return None


_NOT_THE_FILE = (errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.EIO)


def _damaged(path: Path, exc: BaseException) -> None:
    """Warn that cached votes cannot be used, and remove them (the LF's run writes them again)."""
    warnings.warn(f"cached votes {str(path)!r} are damaged ({type(exc).__name__}: {exc}); they are removed and "
                  "the LF runs again", stacklevel=4)
    try:
        path.unlink()
    except OSError:
        pass


def write_votes(path: Path, votes: np.ndarray, faults: int, raised_none: bool) -> bool:
    """Store votes atomically (a temporary file of this writer's own + rename); ``False``, with a warning once per
    folder, when the folder cannot be written to (the run keeps its votes; they are just not cached)."""
    table = votes_table(votes, faults, raised_none)
    tmp = temp_name(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        os.replace(tmp, path)
        return True
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        where = str(path.parent)
        if ("write", where) not in _warned:
            _warned.add(("write", where))
            warnings.warn(f"votes are not cached: cannot write to {where!r} ({type(exc).__name__}: {exc}); pass "
                          "cache_dir= a folder you can write to (or set MMWEAK_CACHE) to cache them", stacklevel=3)
        return False
