"""Class labels given by index or by name, resolved against a task — the one place every LF does it."""

from __future__ import annotations

from mmweak.task import Task

__all__ = ["resolve_label"]


def resolve_label(task: Task, label: int | str, *, lf: str = "?") -> int:
    """Class index of ``label`` (an index ``0..K-1`` or a class name of ``task``).

    Names match exactly first, then case-insensitively; anything else raises ``ValueError``.

    >>> import mmweak
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> resolve_label(spam, "SPAM"), resolve_label(spam, 0)
    (1, 0)
    """
    names = list(task.labels)
    if isinstance(label, bool):
        raise ValueError(f"LF {lf!r}: label must be a class index or name of task {task.name!r}, got {label!r}")
    if isinstance(label, int) or (hasattr(label, "__index__") and not isinstance(label, str)):
        idx = int(label)
        if 0 <= idx < len(names):
            return idx
        raise ValueError(
            f"LF {lf!r}: label {label!r} is out of range for task {task.name!r}; "
            f"use 0..{len(names) - 1} or one of {names}"
        )
    if isinstance(label, str):
        if label in names:
            return names.index(label)
        folded = [n.casefold() for n in names]
        if label.strip().casefold() in folded:
            return folded.index(label.strip().casefold())
        if label.strip().lstrip("-").isdigit():  # e.g. "1" read from a CSV file
            return resolve_label(task, int(label.strip()), lf=lf)
        raise ValueError(f"LF {lf!r}: unknown label {label!r} for task {task.name!r}; classes are {names}")
    raise ValueError(
        f"LF {lf!r}: label must be a class index or name of task {task.name!r}, got {type(label).__name__}"
    )
