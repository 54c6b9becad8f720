"""Files written whole or not at all: each writer's own temporary name beside the target, then one rename.

A fixed temporary name (``model.json.tmp``) is shared by every writer of a target: two threads or processes
saving at once then rename each other's half-written file into place. Names here hold the process, the
thread and a random part, so each writer renames only the file it wrote, and the last complete one wins.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from pathlib import Path


def temp_name(target: str | os.PathLike) -> Path:
    """A hidden name beside ``target`` that no other writer uses.

    >>> p = temp_name("/data/model.json")
    >>> p.parent.as_posix(), p.name.startswith(".model.json.tmp-"), p != temp_name("/data/model.json")
    ('/data', True, True)
    """
    path = Path(target)
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}-{uuid.uuid4().hex[:8]}")


def write_text(target: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` through :func:`temp_name` and a rename; on any failure the target
    is as it was and no temporary file is left.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); write_text(d / "a.txt", "hi"); (d / "a.txt").read_text(), os.listdir(d)
    ('hi', ['a.txt'])
    """
    tmp = temp_name(target)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


__all__ = ["temp_name", "write_text"]
