"""A crowdsourcing folder's two CSV files read into rows: ``label.csv`` (item, worker, label) and ``truth.csv``.

The truth-inference benchmarks ship comma-separated files with 0-indexed integer ids and labels. Files exported
from elsewhere differ: a byte-order mark, tabs or semicolons, spaces after the separators, Windows line ends,
columns in another order, ids that are names (``img_0073``), ids in the billions, labels that are class names
(``cat``) or written as ``1.0``. Each of those is read here. Anything that cannot be read (an empty cell, a label
that is neither a class index nor a name, a gold label given twice with two values) is a
:class:`~mmweak.errors.SourceError` naming the file, line and column.

Rows: one per item either file names, in id order (numbers in number order, then names). The benchmarks' ids are
``0..n-1``, so row ``i`` is item ``i`` there, as their code indexes them; ids with gaps (``1..n``, ids in the
millions) make no rows for the ids nobody wrote. Ids are integers only where every id is written as one (``7``,
``-5``); otherwise all are kept as written, so ``007`` and ``7`` stay two items. The ``item`` column holds the
file's id. A worker's ids are read the same way.
"""

from __future__ import annotations

import csv
import re
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from .errors import SourceError
from .task import class_key


@dataclass
class CrowdRows:
    """What a crowd folder holds, one entry per row: the item's id, its answers and its gold (``-1``: none)."""

    items: list[Any]
    answers: list[list[dict[str, Any]]]  # {"worker", "label"}: the label a class index, or its name where named
    gold: list[int]  # class indices (into ``classes`` where named)
    classes: list[str] | None  # the class names, sorted, where the files name classes instead of numbering them


def read_table(path: Path, columns: tuple[str, ...], names: Mapping[str, str] | None = None
               ) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, {column: stripped cell})`` for each non-blank line of a CSV/TSV file with a header; ``names``
    maps a column to the header's name for it where that differs (``{"item": "task_id"}``), compared without case."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        head = f.readline()
        try:
            dialect: Any = csv.Sniffer().sniff(head, delimiters=",\t;")
        except csv.Error:
            dialect = csv.excel
        f.seek(0)  # utf-8-sig skips a byte-order mark again after the seek
        reader = csv.reader(f, dialect)
        header = [h.strip().lower() for h in next(reader, [])]
        wanted = {c: str((names or {}).get(c, c)).strip().lower() for c in columns}
        missing = [h for h in wanted.values() if h not in header]
        if missing:
            raise SourceError(f"{path}: no column {', '.join(map(repr, missing))} in its header {header} "
                              f"(expected {', '.join(wanted.values())}; name the file's columns with "
                              f"columns={{'item': ..., 'worker': ..., 'label': ..., 'truth': ...}})")
        where = {c: header.index(h) for c, h in wanted.items()}
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            line = reader.line_num
            if any(cell.strip() for cell in row[len(header):]):  # "a,w1,cat, big": a separator inside a value
                raise SourceError(f"{path}, line {line}: {len(row)} cells, but the header has {len(header)} "
                                  f"(quote values that hold the separator {dialect.delimiter!r})")
            cells = {}
            for c, j in where.items():
                cell = row[j].strip() if j < len(row) else ""
                if not cell:
                    raise SourceError(f"{path}, line {line}: column {wanted[c]!r} is empty")
                cells[c] = cell
            yield line, cells


def as_int(cell: str) -> int | None:
    """``cell`` as an integer (``"3"``, ``"-1"``, ``"3.0"``), or None.

    Only ASCII digits with an optional all-zero fraction count: Python's ``int`` would also read other scripts'
    digits (``"١"``) and ``float`` an exponent (``"1e0"``), which a crowd file means as names.

    >>> as_int("3"), as_int(" 3.0"), as_int("3.5"), as_int("img_3"), as_int("١"), as_int("1e0")
    (3, 3, None, None, None, None)
    """
    match = _INTEGER_TEXT.fullmatch(cell.strip())
    if match is None or (match.group(2) or "0").strip("0"):
        return None
    return int(match.group(1))


_INTEGER_TEXT = re.compile(r"([+-]?[0-9]+)(?:\.([0-9]*))?")


def class_index(value: Any) -> int | None:
    """A gold label or vote as written (a number, whole-number text, null) as an integer, or None if it is not one.

    Null is ``-1`` (no label); the range ``-1..K-1`` is the caller's to check.

    >>> class_index(None), class_index("2"), class_index(1.0), class_index(0.7), class_index(True), class_index("cat")
    (-1, 2, 1, None, None, None)
    """
    if value is None:
        return -1
    if isinstance(value, str):
        return as_int(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
        return None
    return int(value)


def id_order(key: Any) -> tuple[int, int, str]:
    """Sort key for ids written as text or numbers: whole numbers in number order (2 before 10; ``007`` before ``7``),
    then the rest.

    >>> sorted(["10", "b", "2", "a", "02", "²"], key=id_order)
    ['02', '2', '10', 'a', 'b', '²']
    """
    text = str(key)
    return (0, int(text), text) if text.isdecimal() else (1, 0, text)


def _ids(cells: list[str]) -> list[Any]:
    """Integer ids where every id is written as one (``7``, ``-5``), else the ids as written: ``007``, ``7.0`` or
    ``1e3`` next to ``7`` and ``1000`` are other ids, and a user joins back on what the file wrote.

    >>> _ids(["2", "10"]), _ids(["007", "7"]), _ids(["7.0", "7"])
    ([2, 10], ['007', '7'], ['7.0', '7'])
    """
    numbers = [as_int(c) for c in cells]
    if any(v is None or str(v) != c for v, c in zip(numbers, cells)):
        return cells
    return numbers


def spelled_classes(spellings: Mapping[str, int]) -> list[str]:
    """Sorted class names from names as written and how often each is: names that differ only in case, spaces or
    Unicode form are one class, as everywhere names are read (:func:`~mmweak.task.class_key`), spelt as most write
    it, so "pos" from most workers and "POS" from one stay one class "pos".

    >>> spelled_classes({"pos": 9, "POS": 1, "neg": 4})
    ['neg', 'pos']
    """
    by_key: dict[str, str] = {}
    for name, _count in sorted(spellings.items(), key=lambda kv: (-kv[1], kv[0])):
        by_key.setdefault(class_key(name), name)
    return sorted(by_key.values(), key=id_order)  # numbers read as names in number order: "2" before "10"


def _labels(answers: list[tuple[Path, int, str]], gold: list[tuple[Path, int, str]], numbers_as_names: bool = False
            ) -> tuple[list[int], list[int], list[str] | None]:
    """Class indices of every answer and gold cell: integers as written, or class names in sorted order (numbers
    too with ``numbers_as_names``: a rating 1..5 is the classes "1".."5", not indices)."""
    cells = [*answers, *gold]
    numbers = [None if numbers_as_names else as_int(c) for _, _, c in cells]
    named = [v is None for v in numbers]
    if any(named) and not all(named):
        path, line, cell = cells[named.index(not named[0])]
        first = cells[0]
        raise SourceError(f"{path}, line {line}: label {cell!r} mixes with labels like {first[2]!r} "
                     f"({first[0].name}, line {first[1]}): labels are all class indices or all class names")
    if not any(named):
        values = [int(v) for v in numbers if v is not None]
        return values[: len(answers)], values[len(answers):], None
    classes = spelled_classes(Counter(c for _, _, c in cells))
    index = {class_key(c): i for i, c in enumerate(classes)}
    values = [index[class_key(c)] for _, _, c in cells]
    return values[: len(answers)], values[len(answers):], classes


#: The columns of a crowd file, as the benchmarks name them (``columns=`` maps them to a file's own names).
COLUMNS = ("item", "worker", "label", "truth")


def read_crowd_rows(answers_path: Path, truth_path: Path | None = None,
                    columns: Mapping[str, str] | None = None, numbers_as_names: bool = False) -> CrowdRows:
    """Read a file of answers (``item, worker, label``) and, where given, one of gold (``item, truth``); see the
    module docstring. ``columns`` names the files' columns where they differ (``{"item": "task_id"}``);
    ``numbers_as_names`` reads labels that are numbers as class names (ratings), not class indices."""
    unknown = sorted(set(columns or {}) - set(COLUMNS))
    if unknown:
        raise SourceError(f"columns={dict(columns or {})}: {unknown} are not crowd columns (those are {list(COLUMNS)})")
    answer_rows = list(read_table(answers_path, ("item", "worker", "label"), columns))
    truth_rows = list(read_table(truth_path, ("item", "truth"), columns)) if truth_path is not None else []
    truth_path = truth_path or answers_path
    item_cells = [r["item"] for _, r in answer_rows] + [r["item"] for _, r in truth_rows]
    items = _ids(item_cells)
    workers = _ids([r["worker"] for _, r in answer_rows])
    answer_labels, gold_labels, classes = _labels(
        [(answers_path, line, r["label"]) for line, r in answer_rows],
        [(truth_path, line, r["truth"]) for line, r in truth_rows],
        numbers_as_names,
    )
    distinct = set(items)
    numbers = all(isinstance(i, int) for i in distinct)
    order: list[Any] = sorted(distinct) if numbers else sorted(distinct, key=id_order)
    row = {item: i for i, item in enumerate(order)}
    answers: list[list[dict[str, Any]]] = [[] for _ in order]
    n_answers = len(answer_rows)
    # Named classes stay names in the answers: add_annotator_votes maps a name to the task's own class index, so a
    # task that lists the classes in another order than the sorted one still gets each answer right.
    answer_values: list[Any] = answer_labels if classes is None else [classes[k] for k in answer_labels]
    for item, worker, label in zip(items[:n_answers], workers, answer_values):
        answers[row[item]].append({"worker": worker, "label": label})
    gold = [-1] * len(order)
    seen: dict[Any, int] = {}
    for (line, cells), item, label in zip(truth_rows, items[n_answers:], gold_labels):
        r = row[item]
        if r in seen and gold[r] != label:
            raise SourceError(f"{truth_path}, line {line}: item {cells['item']!r} has gold {cells['truth']!r}, "
                         f"but line {seen[r]} gave it another")
        gold[r], seen[r] = label, line
    unanswered = [order[r] for r in sorted(seen) if not answers[r]]
    if unanswered:  # often a typo in an id: such a row has no votes, so it is scored on the label model's prior alone
        warnings.warn(f"{truth_path}: {len(unanswered)} item(s) with gold have no answer in {answers_path.name} "
                      f"({', '.join(map(repr, unanswered[:5]))}{', ...' if len(unanswered) > 5 else ''}); "
                      "their rows have no votes", stacklevel=2)
    return CrowdRows(order, answers, gold, classes)


__all__ = ["COLUMNS", "CrowdRows", "as_int", "class_index", "id_order", "read_crowd_rows", "read_table"]
