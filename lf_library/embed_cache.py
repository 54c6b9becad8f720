"""Embeddings computed once per row and kept across runs: a persistent, content-addressed vector store.

Embedding LFs (CLIP images and prompts, sentence embeddings) are the expensive part of a weak
supervision run. Votes are cached per LF, but editing a threshold or adding an LF makes that LF run
again — and it would re-encode every row. :class:`EmbeddingStore` keeps each vector under

* a **namespace** naming what produced it (model weights identity, precision, preprocessing, what is
  embedded), one SQLite file per namespace, and
* a **content key**: a hash of the row's content (:func:`content_key` — the text, or the decoded
  pixels), so the same image stored as a path, as bytes or as a decoded ``datasets.Image`` cell hits
  the same entry, duplicates are encoded once, and a changed row can never be served a stale vector.

Within one ``apply_lfs`` batch, LFs share the vectors through :func:`mmweak.batch_memo.memo`
(:func:`batch_embeddings`); across batches, runs and worker processes they share them through the store.
The store lives under ``$MMWEAK_CACHE/embeddings`` (default ``~/.cache/mmweak/embeddings``) unless a
root is given.

>>> import numpy as np, tempfile
>>> store = EmbeddingStore("demo-model/text", root=tempfile.mkdtemp())
>>> calls = []
>>> def encode(texts):
...     calls.append(list(texts))
...     return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)
>>> texts = ["hi", "hello", "hi"]
>>> store.embed(texts, [content_key(t) for t in texts], encode).tolist()
[[2.0, 1.0], [5.0, 1.0], [2.0, 1.0]]
>>> store.embed(["hello"], [content_key("hello")], encode).tolist()   # second run: served from disk
[[5.0, 1.0]]
>>> calls
[['hi', 'hello']]
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, Callable, Hashable, Sequence

import numpy as np

from mmweak.batch_memo import memo
from mmweak.cache_store import store_root

#: Bumped when the stored format changes; part of every database file name.
FORMAT_VERSION = "1"
_CHUNK = 500  # SQLite limits the number of bound parameters per statement


def default_root() -> Path:
    """``$MMWEAK_CACHE/embeddings``, else ``~/.cache/mmweak/embeddings`` (read at use time, so workers agree)."""
    return store_root("embeddings")


def content_key(value: Any) -> str:
    """Hash of a row's content: text, bytes, a numpy array or a PIL image (by mode, size and pixels).

    Strings are hashed as text (a path is *not* opened: decode media first). Arrays and images hash
    their dtype/mode and shape too, so equal bytes of different shapes never collide.

    >>> content_key("free money") == content_key("free money"), content_key("a") == content_key(b"a")
    (True, False)
    """
    h = hashlib.blake2b(digest_size=16)
    if isinstance(value, str):
        h.update(b"s\x00" + value.encode("utf-8"))
    elif isinstance(value, (bytes, bytearray, memoryview)):
        h.update(b"b\x00" + bytes(value))
    elif isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        h.update(f"a\x00{arr.dtype.str}\x00{arr.shape}\x00".encode())
        h.update(arr.data)
    elif hasattr(value, "tobytes") and hasattr(value, "mode") and hasattr(value, "size"):  # PIL.Image
        h.update(f"i\x00{value.mode}\x00{tuple(value.size)}\x00".encode())
        h.update(value.tobytes())
        if value.mode in ("P", "PA"):  # palette images: the same indices can mean other colours
            h.update(bytes(value.getpalette() or []))
    else:
        raise TypeError(f"content_key: cannot hash a {type(value).__name__}; pass text, bytes, an array or an image")
    return h.hexdigest()


class EmbeddingStore:
    """Vectors of one namespace, keyed by :func:`content_key`, in ``<root>/<namespace>.v1.sqlite``.

    Safe to share between ``num_proc`` workers (SQLite WAL; each process opens its own connection;
    pickling drops the connection). ``persist=False`` keeps nothing on disk; :meth:`embed` still
    encodes each distinct key of a call once. ``hits``/``misses``/``encoded`` count rows served from
    disk, rows looked up and not found, and rows actually encoded, in this process.
    """

    def __init__(self, namespace: str, root: str | os.PathLike | None = None, *, persist: bool = True) -> None:
        if not namespace or any(c in namespace for c in "\\\x00") or ".." in namespace:
            raise ValueError(f"bad embedding-cache namespace {namespace!r}")
        self.namespace = namespace
        self.root = None if root is None else Path(root)
        self.persist = bool(persist)
        self.hits = self.misses = self.encoded = 0
        self._conn: sqlite3.Connection | None = None
        self._pid: int | None = None
        self._opened: tuple[int, int] | None = None  # the database file the connection opened
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        """The database file (created on first write)."""
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.namespace)
        return (self.root or default_root()) / f"{safe}.v{FORMAT_VERSION}.sqlite"

    def _db(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid() and self._file_id() != self._opened:
            # ``mmweak cache --clear`` (or a user's rm) removed the file under this connection: writes would go
            # to the unlinked file and be lost when the process ends, so the store starts a new file instead.
            self._conn.close()
            self._conn = None
        if self._conn is None or self._pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=120, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, dim INTEGER, vec BLOB) WITHOUT ROWID"
            )
            self._conn, self._pid, self._opened = conn, os.getpid(), self._file_id()
        return self._conn

    def _file_id(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_dev, st.st_ino

    def get(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of ``keys`` (missing keys are simply absent from the result)."""
        if not self.persist or not keys:
            return {}
        out: dict[str, np.ndarray] = {}
        wanted = list(dict.fromkeys(keys))
        with self._lock:
            db = self._db()
            for i in range(0, len(wanted), _CHUNK):
                part = wanted[i : i + _CHUNK]
                rows = db.execute(
                    f"SELECT key, dim, vec FROM vectors WHERE key IN ({','.join('?' * len(part))})", part
                ).fetchall()
                for key, dim, blob in rows:
                    vec = np.frombuffer(blob, dtype=np.float32)
                    if vec.size == dim:  # a torn write is treated as a miss and rewritten
                        out[key] = vec
        return out

    def put(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Store ``vectors[i]`` under ``keys[i]`` (first write wins: equal keys mean equal content)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(keys):
            raise ValueError(f"put: expected {len(keys)} vectors as a 2-D array, got shape {vectors.shape}")
        if not self.persist or not len(keys):
            return
        rows = [(k, int(v.size), np.ascontiguousarray(v).tobytes()) for k, v in zip(keys, vectors)]
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT OR IGNORE INTO vectors (key, dim, vec) VALUES (?, ?, ?)", rows)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def embed(self, items: Sequence[Any], keys: Sequence[str], encode: Callable[[list[Any]], np.ndarray]) -> np.ndarray:
        """Vectors of ``items`` as a float32 ``(n, d)`` array: stored ones read, the rest encoded once and stored.

        ``encode`` gets the items that miss (each distinct key once) and returns one row per item.
        """
        if len(items) != len(keys):
            raise ValueError(f"embed: {len(items)} items but {len(keys)} keys")
        if not len(items):
            return np.zeros((0, 0), dtype=np.float32)
        found = self.get(keys)
        self.hits += sum(1 for k in keys if k in found)
        todo: dict[str, int] = {}
        for i, k in enumerate(keys):
            if k not in found and k not in todo:
                todo[k] = i
        self.misses += len(todo)
        if todo:
            fresh = np.asarray(encode([items[i] for i in todo.values()]), dtype=np.float32)
            if fresh.ndim != 2 or len(fresh) != len(todo):
                raise ValueError(
                    f"embedding function returned shape {fresh.shape} for {len(todo)} items "
                    f"(namespace {self.namespace!r})"
                )
            self.encoded += len(todo)
            self.put(list(todo), fresh)
            found.update(zip(todo, fresh))
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_conn"] = state["_pid"] = state["_opened"] = None
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"EmbeddingStore({self.namespace!r}, path={str(self.path)!r}, persist={self.persist})"


def batch_embeddings(
    key: Hashable,
    store: EmbeddingStore,
    items: Sequence[Any],
    encode: Callable[[list[Any]], np.ndarray],
    key_fn: Callable[[Any], str] = content_key,
) -> np.ndarray:
    """:meth:`EmbeddingStore.embed` of ``items``, shared by every LF of the current ``apply_lfs`` batch.

    ``key`` must name the column and the decoding that produced ``items`` (the store's namespace is
    added), so all LFs on the same column and model get the very same array: content keys are hashed
    and rows encoded once per batch, and not at all when the store already has them.

    >>> import numpy as np, tempfile
    >>> from mmweak.batch_memo import batch_scope
    >>> store, calls = EmbeddingStore("m/text", root=tempfile.mkdtemp()), []
    >>> enc = lambda xs: calls.append(len(xs)) or np.ones((len(xs), 2), np.float32)
    >>> with batch_scope():
    ...     a = batch_embeddings(("text",), store, ["x", "y"], enc)
    ...     b = batch_embeddings(("text",), store, ["x", "y"], enc)
    >>> a is b, calls
    (True, [2])
    """
    return memo(("mmweak.embed", store.namespace, key), lambda: store.embed(items, [key_fn(x) for x in items], encode))


__all__ = ["EmbeddingStore", "batch_embeddings", "content_key", "default_root"]
