"""Review without a server: Label Studio JSON files out, Label Studio JSON exports back in."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Sequence

from datasets import Dataset, DatasetDict

from ..atomic_files import write_text
from ..task import Task
from .answers import ImportReport, OnInvalid, merge_answers
from .labelstudio import answers_from_tasks, build_tasks, read_json
from .selection import resolve_task


def export_tasks(
    selection: Dataset,
    task: Task | str,
    path: str | os.PathLike,
    *,
    columns: Sequence[str] | None = None,
    id_column: str | None = None,
) -> Path:
    """Write the rows of a :func:`mmweak.review.select` result as a Label Studio task file.

    The file is a JSON list of tasks in Label Studio's import format, with the label model's label as each
    task's prediction (pre-annotation); the matching labeling config is written next to it as
    ``<name>.label_config.xml``. Import both in Label Studio (project settings, then Import), annotate,
    export as JSON, and read the answers back with :func:`import_annotations`.

    Args:
        selection: rows chosen by :func:`mmweak.review.select`.
        task: the task (or its name).
        path: the ``.json`` file to write (its folder is created).
        columns: columns to show (default: the inputs of the task's LFs).
        id_column: a column of unique row ids; answers then find their row by id, even after the
            dataset was re-ordered (default: by row number, checked against the row's content).

    Returns:
        The path written.

    Raises:
        ValueError: not a selection, unknown columns, unreadable media (named by row and column).

    >>> import datasets, json, mmweak, os, tempfile
    >>> from mmweak import review
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lf = mmweak.labeling_function(task=spam, inputs="text")(lambda b: [1 if "http" in t else 0 for t in b["text"]])
    >>> ds = mmweak.aggregate(mmweak.apply_lfs(datasets.Dataset.from_dict({"text": ["http://x", "hi"]}), [lf]))
    >>> out = os.path.join(tempfile.mkdtemp(), "t.json")
    >>> path = review.export_tasks(review.select(ds, spam, 1, "random"), spam, out)
    >>> tasks = json.load(open(path))
    >>> sorted(tasks[0]["data"]), tasks[0]["data"]["mmweak"]["strategy"]
    (['mmweak', 'text'], 'random')
    """
    task = resolve_task(selection, task)
    tasks, config = build_tasks(selection, task, columns=columns, id_column=id_column)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text(target, json.dumps(tasks, ensure_ascii=False, indent=1))
    target.with_name(f"{target.stem}.label_config.xml").write_text(config + "\n", encoding="utf-8")
    return target


def import_annotations(
    ds: Dataset | DatasetDict,
    task: Task | str,
    path: str | os.PathLike,
    *,
    on_invalid: OnInvalid = "skip",
    return_report: bool = False,
) -> Dataset | DatasetDict | tuple[Dataset | DatasetDict, ImportReport]:
    """Read a Label Studio JSON export and store its answers in ``T_answers``/``T_gold``.

    Rows are found by the reference :func:`export_tasks` put in each task; a row that no longer exists or
    shows other content, an answer for a class the task does not have, a cancelled or empty annotation, and
    an answer already stored are each counted in the report and warned about (``on_invalid="raise"``
    raises :class:`~mmweak.review.AnnotationError` instead, before anything is stored). ``ds`` itself is
    never modified: a new dataset comes back.

    Args:
        ds: the curated dataset the rows were selected from.
        task: the task (or its name).
        path: Label Studio JSON export (a list of tasks with ``annotations``).
        on_invalid: ``"skip"`` (count) or ``"raise"``.
        return_report: also return the :class:`~mmweak.review.ImportReport`.

    Returns:
        The dataset with the answers (and the report when asked).

    Raises:
        ValueError: the file is not a Label Studio JSON task list.
        AnnotationError: with ``on_invalid="raise"``, the first invalid answer.

    >>> import datasets, json, mmweak, os, tempfile
    >>> from mmweak import review
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lf = mmweak.labeling_function(task=spam, inputs="text")(lambda b: [int("http" in t) for t in b["text"]])
    >>> ds = mmweak.aggregate(mmweak.apply_lfs(datasets.Dataset.from_dict({"text": ["http://x", "hi"]}), [lf]))
    >>> folder = tempfile.mkdtemp()
    >>> tasks = json.load(open(review.export_tasks(review.select(ds, spam, 2, "random"), spam, f"{folder}/t.json")))
    >>> for i, t in enumerate(tasks):  # as Label Studio exports them once someone has answered "spam"
    ...     t["id"], t["annotations"] = i + 1, [{
    ...         "id": i + 1, "completed_by": {"email": "ann@example.org"}, "created_at": "2026-12-01T10:00:00Z",
    ...         "result": [{"from_name": "spam", "to_name": "text", "type": "choices",
    ...                     "value": {"choices": ["spam"]}}]}]
    >>> _ = open(f"{folder}/export.json", "w").write(json.dumps(tasks))
    >>> out, report = import_annotations(ds, spam, f"{folder}/export.json", return_report=True)
    >>> str(report), out["spam_gold"][:], out["spam_answers"][1][0]["annotator"]
    ('2 answers stored (0 replacing older ones) on 2 rows', [1, 1], 'ann@example.org')
    >>> review.review_summary({"train": out}, spam)["model_agreement"]  # the model said ham on "hi"
    0.5
    """
    task = resolve_task(ds, task)
    tasks = read_json(path)
    report = ImportReport()
    answers = answers_from_tasks(
        ds, task, tasks, source=f"file {Path(path).name}", report=report, on_invalid=on_invalid
    )
    if not answers and not report.total_skipped:  # the export of tasks nobody annotated, or another file
        warnings.warn(f"{Path(path).name}: {len(tasks)} tasks read, none with an annotation for task {task.name!r}: "
                      "nothing to store (is this the export from Label Studio, after annotating?)", stacklevel=2)
    out = merge_answers(ds, task, answers, report, on_invalid=on_invalid)
    return (out, report) if return_report else out
