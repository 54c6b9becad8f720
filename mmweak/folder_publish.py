"""A folder written whole or not at all: built beside its target, then moved into place in one step.

Writing a dataset takes minutes; anything can happen to the target meanwhile (another save, a user's file) and
the writer can die at any point. The folder is filled under a temporary name that says whose it is (host,
process), the target is checked again at the move, and the old folder is replaced by one atomic exchange where
the system has one, so a reader sees the old folder or the new one, never none and never half of one.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import re
import shutil
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from .errors import CuratedDatasetError


def publish_folder(
    target: Path, fill: Callable[[Path], Any], *, overwrite: bool = False, replaceable: Callable[[Path], bool],
) -> Path:
    """Build a folder with ``fill(tmp)`` in a temporary sibling of ``target``, then move it into place.

    Callers check ``target`` first, but filling takes long, so it is checked again at the move: without
    ``overwrite`` a folder that appeared meanwhile (another save, a user's) is a ``FileExistsError``; with it, a
    folder ``replaceable`` no longer accepts (a user added a file to a curated folder) is refused, before and
    after it is moved aside. The swap is one atomic exchange where the system has one (Linux), so no
    moment leaves ``target`` missing; elsewhere a kill between the two renames leaves the old folder aside, and
    the next save there puts it back. A failure leaves no trace, and temporary folders of writers that died are
    removed by the next save to the same place.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    clear_leftovers(target)
    tmp = target.parent / f".{target.name}.tmp-{_writer_tag()}"
    tmp.mkdir()
    try:
        fill(tmp)
        if not target.exists():
            os.rename(tmp, target)  # onto a folder made meanwhile: refused unless it is empty
        elif not overwrite:
            raise FileExistsError(f"{target} appeared while the dataset was written; pass overwrite=True to replace it")
        else:
            _swap_in(tmp, target, replaceable)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and exc.errno in (errno.ENOTEMPTY, errno.EEXIST) and not overwrite:
            raise FileExistsError(f"{target} appeared while the dataset was written; pass overwrite=True to "
                                  "replace it") from exc
        raise
    return target


def _host() -> str:
    """This host, as a short digest (host names differing only in punctuation or after 40 characters differ)."""
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:12]


def _writer_tag() -> str:
    """Host, process and a random part: whose temporary folder this is, so leftovers of dead writers can be told."""
    return f"{_host()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


#: A leftover is cleared only when untouched this long too (a writer in another process namespace on this host
#: looks dead by its process id): a swap takes a moment; a folder being filled changes as shards are added.
_IDLE_SECONDS = {"old": 60, "tmp": 600}


def clear_leftovers(target: Path) -> None:
    """Remove temporary folders of writers to ``target`` that died on this host; an old folder moved aside by a
    swap cut short goes back to ``target`` when that is missing. Called before a save checks ``target``."""
    if not target.parent.is_dir():
        return
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(tmp|old)-{_host()}-(\d+)-[0-9a-f]{{8}}")
    now = time.time()
    for p in target.parent.iterdir():
        m = pattern.fullmatch(p.name)
        if not m or not p.is_dir() or p.is_symlink() or _alive(int(m[2])):
            continue
        try:  # an old folder was moved aside at its ctime; a temporary one changes as its files are written
            touched = p.stat().st_ctime if m[1] == "old" else _last_write(p)
        except OSError:
            continue
        if now - touched < _IDLE_SECONDS[m[1]]:
            continue
        if m[1] == "old" and not target.exists():
            os.rename(p, target)
        else:
            shutil.rmtree(p, ignore_errors=True)


def _last_write(folder: Path) -> float:
    """The latest modification time of ``folder`` and of everything in it (a dataset folder holds a few files)."""
    latest = folder.stat().st_mtime
    for root, dirs, files in os.walk(folder):
        for name in (*dirs, *files):
            latest = max(latest, os.lstat(os.path.join(root, name)).st_mtime)
    return latest


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return True


def _swap_in(tmp: Path, target: Path, replaceable: Callable[[Path], bool]) -> None:
    """Put the finished folder ``tmp`` at ``target`` and delete the old one, checking that the old one is still
    ``replaceable`` before moving it and after (a file a user added meanwhile is not deleted)."""
    if not replaceable(target):
        raise CuratedDatasetError(f"{target} changed while the dataset was written and is no longer only a curated "
                                  "dataset; nothing was replaced")
    if _exchange(tmp, target):
        old = tmp  # the old folder now sits at the temporary name
    else:
        old = target.parent / f".{target.name}.old-{_writer_tag()}"
        os.replace(target, old)
        try:
            os.replace(tmp, target)
        except BaseException:  # the old folder goes back: a failed save loses nothing
            os.replace(old, target)
            raise
    if not replaceable(old):  # changed between the check and the move: put it back, keep the new one aside
        aside = target.parent / f"{target.name}.new-{uuid.uuid4().hex[:8]}"
        os.replace(target, aside)
        os.replace(old, target)
        raise CuratedDatasetError(f"{target} changed while the dataset was written; it was left as it was, and the "
                                  f"new dataset is in {aside}")
    shutil.rmtree(old, ignore_errors=True)


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); ``False`` where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except Exception:  # noqa: BLE001 - no C library to load, or one without renameat2 (glibc < 2.28, musl)
        return False
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM):
        return False  # the filesystem or kernel cannot: the two-rename swap
    raise OSError(code, os.strerror(code), str(a), None, str(b))


__all__ = ["clear_leftovers", "publish_folder"]
