"""What a model's outputs depend on, as a hashable identity: weights on disk by content, Hub models by id.

LF fingerprints and embedding-store namespaces are built from these, so retrained weights at the same
path never reuse old votes or vectors, while moving a weights folder does not invalidate them.

>>> model_identity("org/some-model", revision="v1")
{'hub': 'org/some-model', 'revision': 'v1'}
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from mmweak.fingerprint import infrastructure

__all__ = ["files_digest", "model_identity"]

_FILE_DIGESTS: dict[tuple[str, int, int], str] = {}


# A per-process cache of digests: LF fingerprints must not walk it (its contents grow as files are
# hashed), and what it computes enters them anyway, through the models' identity values.
@infrastructure
def files_digest(path: str | os.PathLike) -> str:
    """Content hash of a weights file, or of every file in a model folder (names included).

    Used to name the cache namespace of a model loaded from disk, so retrained weights at the same path
    never reuse old embeddings. Results are remembered per (path, size, mtime) within the process.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "w.bin").write_bytes(b"weights")
    >>> files_digest(d) == files_digest(d), files_digest(d) == files_digest(d / "w.bin")
    (True, False)
    """
    p = Path(path)
    if p.is_dir():
        h = hashlib.blake2b(digest_size=16)
        for f in sorted(x for x in p.rglob("*") if x.is_file() and not _hidden(x.relative_to(p))):
            h.update(str(f.relative_to(p).as_posix()).encode() + b"\x00" + files_digest(f).encode() + b"\x00")
        return h.hexdigest()
    if not p.is_file():
        raise FileNotFoundError(f"no weights file or folder at {p}")
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _FILE_DIGESTS:
        h = hashlib.blake2b(digest_size=16)
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                h.update(block)
        _FILE_DIGESTS[key] = h.hexdigest()
    return _FILE_DIGESTS[key]


def _hidden(rel: Path) -> bool:
    # Hub download folders carry lock files and metadata next to the weights.
    return any(part.startswith(".") or part == "__pycache__" for part in rel.parts)


def model_identity(model: str | os.PathLike, revision: str | None = None) -> dict[str, Any]:
    """What a model's outputs depend on: a content hash for a local folder or file, else Hub id + revision.

    Args:
        model: a local weights file or folder, or a Hub model id.
        revision: the Hub revision (branch, tag or commit); ignored for local paths.

    Returns:
        ``{"local": digest}`` for a path that exists, else ``{"hub": id, "revision": revision}``.

    >>> model_identity("org/some-model", revision="v1")
    {'hub': 'org/some-model', 'revision': 'v1'}
    """
    if os.path.exists(model):
        return {"local": files_digest(model)}
    return {"hub": str(model), "revision": revision}
