"""Where mmweak keeps what it can compute again, and how big it has grown: ``$MMWEAK_CACHE``.

One folder (default ``~/.cache/mmweak``) holds a store per kind of result, each keyed by content so that any
dataset, engine or process finds what another computed: ``votes`` (each LF's votes, see
:mod:`mmweak.vote_cache`), ``embeddings`` (sentence and CLIP embeddings of ``lf_library``'s model LFs) and
``onnx`` (models exported once for ONNX Runtime). Nothing in them is needed: a removed file is computed again
when next asked for, so clearing a store costs time, never results.

>>> import os, tempfile
>>> before = os.environ.get("MMWEAK_CACHE")
>>> os.environ["MMWEAK_CACHE"] = tempfile.mkdtemp()
>>> (store_root("votes") / "a.arrow").parent.mkdir(parents=True)
>>> _ = (store_root("votes") / "a.arrow").write_bytes(b"12345")
>>> [(s.store, s.files, s.bytes) for s in usage()]
[('votes', 1, 5), ('embeddings', 0, 0), ('onnx', 0, 0)]
>>> clear(["votes"], older_than_days=1).files, clear(["votes"]).files, usage()[0].files
(0, 1, 0)
>>> _ = os.environ.pop("MMWEAK_CACHE") if before is None else os.environ.update(MMWEAK_CACHE=before)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

#: The stores under ``$MMWEAK_CACHE``, each a folder of that name.
STORES = ("votes", "embeddings", "onnx")


def cache_root() -> Path:
    """``$MMWEAK_CACHE``, else ``~/.cache/mmweak`` (read at use time, so workers started later agree)."""
    return Path(os.environ.get("MMWEAK_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "mmweak"))


def store_root(store: str) -> Path:
    """The folder of one store (see :data:`STORES`)."""
    if store not in STORES:
        raise ValueError(f"unknown cache store {store!r}; the stores are {list(STORES)}")
    return cache_root() / store


@dataclass
class StoreUsage:
    """Files and bytes of one store (``oldest``/``newest``: last-use times, Unix seconds; ``None`` when empty)."""

    store: str
    path: Path
    files: int = 0
    bytes: int = 0
    oldest: float | None = None
    newest: float | None = None


def _files(root: Path) -> Iterable[Path]:
    if root.is_dir():
        for p in root.rglob("*"):
            if p.is_file() and not p.is_symlink():
                yield p


def _size_and_last_use(p: Path) -> tuple[int, float]:
    st = p.stat()
    return st.st_size, max(st.st_mtime, st.st_atime)  # a hit reads a file: where access times are kept, it is use


def usage(stores: Iterable[str] = STORES) -> list[StoreUsage]:
    """How many files and bytes each store holds."""
    out = []
    for store in stores:
        u = StoreUsage(store, store_root(store))
        for p in _files(u.path):
            size, used = _size_and_last_use(p)
            u.files += 1
            u.bytes += size
            u.oldest = used if u.oldest is None else min(u.oldest, used)
            u.newest = used if u.newest is None else max(u.newest, used)
        out.append(u)
    return out


@dataclass
class Cleared:
    """What :func:`clear` removed."""

    files: int = 0
    bytes: int = 0


def clear(stores: Iterable[str] = STORES, *, older_than_days: float | None = None) -> Cleared:
    """Remove the files of ``stores`` (only those unused for ``older_than_days`` days, when given).

    Only files inside the named stores' folders are touched; empty folders left behind are removed too.
    """
    if older_than_days is not None and older_than_days < 0:
        raise ValueError(f"older_than_days must be 0 or more, got {older_than_days}")
    cutoff = None if older_than_days is None else time.time() - older_than_days * 86400.0
    done = Cleared()
    for store in stores:
        root = store_root(store)
        for p in list(_files(root)):
            size, used = _size_and_last_use(p)
            if cutoff is not None and used >= cutoff:
                continue
            try:
                p.unlink()
            except FileNotFoundError:  # another process removed or replaced it meanwhile
                continue
            done.files += 1
            done.bytes += size
        if root.is_dir():
            for d in sorted((d for d in root.rglob("*") if d.is_dir()), key=lambda d: -len(d.parts)):
                try:
                    d.rmdir()
                except OSError:  # not empty: kept
                    pass
    return done
