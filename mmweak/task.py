"""A Task is one labelling question (name + class names); it names the columns written for it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple, Sequence

from datasets import ClassLabel, List, Value

#: The vote that means "this LF has no opinion on this row" (the data contract: classes are 0..K-1).
ABSTAIN = -1

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_WHOLE = re.compile(r"^\s*[+-]?[0-9]+\s*$")  # a class named by a whole number


class TaskColumns(NamedTuple):
    """The columns a task owns in a dataset."""

    votes: str
    probs: str
    label: str
    confidence: str


def task_columns(task: "Task | str") -> TaskColumns:
    """The column names of a task, from the task or only its name (as read back from a curated dataset).

    >>> task_columns("spam")
    TaskColumns(votes='spam_votes', probs='spam_probs', label='spam_label', confidence='spam_confidence')
    """
    name = task.name if isinstance(task, Task) else str(task)
    return TaskColumns(f"{name}_votes", f"{name}_probs", f"{name}_label", f"{name}_confidence")


def class_key(name: str) -> str:
    """How class names compare: without case and outer spaces (WRENCH's youtube writes ``HAM``, a task ``ham``),
    and in one Unicode form (NFC), so "Café" typed composed and "Café" exported decomposed (as macOS writes it) are
    one class; compatibility forms stay apart ("m2" and "m²", "CO2" and "CO₂" are other names).

    >>> class_key(" HAM ") == class_key("ham"), class_key("Caf\u00e9") == class_key("Cafe\u0301")
    (True, True)
    """
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", str(name)).strip().casefold())


def check_task_name(name: Any) -> None:
    """Raise ``ValueError`` unless ``name`` can name a task (its columns are ``<name>_votes`` and so on).

    >>> check_task_name("spam"); check_task_name("2spam")
    Traceback (most recent call last):
    ...
    ValueError: task name must be an identifier (letters, digits, _), got '2spam'
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"task name must be an identifier (letters, digits, _), got {name!r}")


#: Most classes a task can have: ``T_votes`` holds int8 class ids (and -1).
MAX_CLASSES = 127


@dataclass(frozen=True)
class Task:
    """One classification question answered by weak supervision.

    ``labels`` are the class names; classes are ``0..K-1`` in that order and ``-1`` means abstain.

    >>> spam = Task("spam", labels=["ham", "spam"])
    >>> spam.cardinality, spam.votes_column, spam.probs_column
    (2, 'spam_votes', 'spam_probs')
    """

    name: str
    labels: Sequence[str]
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        check_task_name(self.name)
        labels = tuple(str(x) for x in self.labels)
        if len(labels) < 2:
            raise ValueError(f"task {self.name!r} needs at least 2 labels, got {labels}")
        if len(set(labels)) != len(labels):
            raise ValueError(f"task {self.name!r} has duplicate labels: {labels}")
        folded: dict[str, str] = {}
        for label in labels:  # names compare without case wherever they are read (gold, answers, stored votes)
            other = folded.setdefault(class_key(label), label)
            if other != label:
                raise ValueError(f"task {self.name!r} has labels {other!r} and {label!r}, which differ only in case, "
                                 "spaces or Unicode form; class names are compared without them")
        if len(labels) > MAX_CLASSES:  # votes are int8 columns (the data contract): a larger class id would wrap
            raise ValueError(f"task {self.name!r} has {len(labels)} labels; votes are stored as int8, so a task "
                             f"has at most {MAX_CLASSES} classes")
        object.__setattr__(self, "labels", labels)

    def class_of(self, name: Any) -> int | None:
        """The index of the class called ``name`` (compared by :func:`class_key`), or ``None``.

        >>> Task("spam", ["ham", "spam"]).class_of(" SPAM"), Task("spam", ["ham", "spam"]).class_of("eggs")
        (1, None)
        """
        return self._class_index.get(class_key(name))

    @cached_property
    def _class_index(self) -> dict[str, int]:
        return {class_key(label): k for k, label in enumerate(self.labels)}

    @cached_property
    def numbers_name_classes(self) -> bool:
        """Whether the classes are named by whole numbers other than their own indices (``"1"``..``"5"`` for a
        rating, ``"-1"``, ``"0"``, ``"1"`` for a polarity). Plain integers in gold or answers are class indices
        (the data contract, as for votes), so for such a task they are ambiguous: a 1 is class ``"2"``, which a
        user who wrote the rating 1 did not mean. Gold and answers refuse them (see :meth:`check_integer_labels`).

        >>> Task("stars", ["1", "2", "3"]).numbers_name_classes, Task("y", ["0", "1"]).numbers_name_classes
        (True, False)
        """
        return any(_WHOLE.match(label) and int(label) != k for k, label in enumerate(self.labels))

    def check_integer_labels(self, where: str) -> None:
        """Raise ``ValueError`` when integer labels at ``where`` (a gold column, an answers column) cannot be read
        safely as class indices because the classes are named by other numbers (:attr:`numbers_name_classes`).

        >>> try:
        ...     Task("stars", ["1", "2", "3"]).check_integer_labels("gold column 'y'")
        ... except ValueError as exc:
        ...     print(str(exc)[:78])
        gold column 'y' holds integer labels, which are class indices (1 is class '2')
        """
        if self.numbers_name_classes:
            raise ValueError(
                f"{where} holds integer labels, which are class indices (1 is class {self.labels[1]!r}), but task "
                f"{self.name!r} names its classes by other numbers {list(self.labels)}: give the labels as class names "
                f"(text, or a ClassLabel; a crowd folder: read_crowd(..., numbers_as_names=True), in a recipe "
                f"data.params.numbers_as_names: true), or name the classes by their indices "
                f"({', '.join(repr(str(k)) for k in range(self.cardinality))})")

    @property
    def cardinality(self) -> int:
        """Number of classes K."""
        return len(self.labels)

    @property
    def votes_column(self) -> str:
        return task_columns(self).votes

    @property
    def probs_column(self) -> str:
        return task_columns(self).probs

    @property
    def label_column(self) -> str:
        return task_columns(self).label

    @property
    def confidence_column(self) -> str:
        return task_columns(self).confidence

    @property
    def output_columns(self) -> tuple[str, str, str]:
        """Columns :func:`mmweak.aggregate` writes."""
        return (self.probs_column, self.label_column, self.confidence_column)

    def class_label(self) -> ClassLabel:
        """The ``ClassLabel`` feature of ``T_label`` (``-1`` is stored as abstain)."""
        return ClassLabel(names=list(self.labels))

    def votes_feature(self, n_lfs: int) -> List:
        return List(Value("int8"), length=n_lfs)

    def probs_feature(self) -> List:
        return List(Value("float32"), length=self.cardinality)

    def to_dict(self) -> dict:
        return {"name": self.name, "labels": list(self.labels), "description": self.description}

    @classmethod
    def from_dict(cls, data: dict) -> "Task":
        return cls(data["name"], labels=data["labels"], description=data.get("description", ""))
