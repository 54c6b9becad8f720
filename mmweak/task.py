"""A Task is one labelling question (name + class names); it names the columns written for it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from datasets import ClassLabel, List, Value

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


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
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(f"task name must be an identifier (letters, digits, _), got {self.name!r}")
        labels = tuple(str(x) for x in self.labels)
        if len(labels) < 2:
            raise ValueError(f"task {self.name!r} needs at least 2 labels, got {labels}")
        if len(set(labels)) != len(labels):
            raise ValueError(f"task {self.name!r} has duplicate labels: {labels}")
        object.__setattr__(self, "labels", labels)

    @property
    def cardinality(self) -> int:
        """Number of classes K."""
        return len(self.labels)

    @property
    def votes_column(self) -> str:
        return f"{self.name}_votes"

    @property
    def probs_column(self) -> str:
        return f"{self.name}_probs"

    @property
    def label_column(self) -> str:
        return f"{self.name}_label"

    @property
    def confidence_column(self) -> str:
        return f"{self.name}_confidence"

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
