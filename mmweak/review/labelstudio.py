"""Label Studio's formats, without a server: the labeling config, tasks to import, and annotations to read back.

A task's ``data`` holds the record's columns as Label Studio shows them (text as ``Text``, ``Image()``
columns as ``Image``, ``Audio()`` columns as ``Audio``; local media travel as ``data:`` URIs) and an
``mmweak`` entry that identifies the row (task, split, row number, an optional id column's value and a
key hashed from the data shown) and says why it was chosen (strategy, reason, score, round) and what
the LFs and the label model said. The label model's label is also the task's *prediction*, so
annotators start from a pre-annotation. Reading answers back checks that the row still exists and still
shows the same content before it trusts the row number.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import mimetypes
import os
import re
import warnings
from collections import OrderedDict
from typing import Any, Iterable, Mapping, Sequence
from xml.sax.saxutils import quoteattr

import numpy as np
from datasets import Audio, Dataset, DatasetDict, Features, Image, Value

from ..columns import read_column, read_matrix, split_dict
from ..fingerprint import stable_hash
from ..provenance import VOTE_READING_KINDS, read_record
from ..task import Task
from .answers import Answer, ImportReport, OnInvalid
from .selection import SELECTION_COLUMNS, selection_meta

#: Key of the mmweak entry in every task's ``data``.
META = "mmweak"
_TEXT_TYPES = ("string", "large_string")


def _tag(feature: Any) -> str:
    if isinstance(feature, Image):
        return "Image"
    if isinstance(feature, Audio):
        return "Audio"
    return "Text"


def _key(column: str, taken: set[str]) -> str:
    """A Label Studio variable/tag name for a column: letters, digits and ``_`` only, unique."""
    key = re.sub(r"\W", "_", column) or "data"
    if not key[0].isalpha():
        key = "c_" + key
    base, i = key, 2
    while key in taken or key == META:
        key, i = f"{base}_{i}", i + 1
    taken.add(key)
    return key


def display_columns(ds: Dataset | DatasetDict, task: Task, columns: Sequence[str] | None = None) -> list[str]:
    """Which columns annotators see: ``columns`` if given, else the inputs of the task's LFs (not the votes that
    precomputed LFs, or answers that annotators' columns, read), else the first text, image or audio column.

    Raises:
        ValueError: a named column is missing, or no column can be shown.
    """
    first = next(iter(split_dict(ds).values()))
    names = first.column_names
    if columns is not None:
        missing = [c for c in columns if c not in names]
        if missing:
            raise ValueError(f"columns {missing} are not in the dataset (columns: {names})")
        if not columns:
            raise ValueError("columns must name at least one column to show")
        return list(columns)
    entry = read_record(ds).get("tasks", {}).get(task.name, {})
    inputs = list(OrderedDict.fromkeys(c for lf in entry.get("lfs", []) if lf.get("kind") not in VOTE_READING_KINDS
                                       for c in lf.get("inputs", []) if c in names))
    if inputs:
        return inputs
    for c in names:
        f = first.features[c]
        if isinstance(f, (Image, Audio)) or (isinstance(f, Value) and f.dtype in _TEXT_TYPES):
            return [c]
    raise ValueError(f"no text, image or audio column to show for task {task.name!r}: pass columns=[...]")


def _layout(features: Features, task: Task, columns: Sequence[str]) -> list[tuple[str, str, str]]:
    """``(column, key, tag)`` per shown column; keys avoid the task's own tag name."""
    taken = {task.name}
    return [(c, _key(c, taken), _tag(features[c])) for c in columns]


def labeling_config(task: Task, features: Features, columns: Sequence[str]) -> str:
    """Label Studio labeling config for ``task``: one object tag per shown column, one single-choice
    ``Choices`` named after the task with the task's class names.

    >>> from datasets import Features, Value, Image
    >>> spam = Task("spam", ["ham", "spam"])
    >>> print(labeling_config(spam, Features({"text": Value("string"), "img": Image()}), ["text", "img"]))
    <View>
      <Text name="text" value="$text"/>
      <Image name="img" value="$img"/>
      <Choices name="spam" toName="text" choice="single" showInline="true">
        <Choice value="ham"/>
        <Choice value="spam"/>
      </Choices>
    </View>
    """
    layout = _layout(features, task, columns)
    lines = ["<View>"]
    if task.description:
        lines.append(f"  <Header value={quoteattr(task.description)}/>")
    for _, key, tag in layout:
        lines.append(f'  <{tag} name="{key}" value="${key}"/>')
    lines.append(f'  <Choices name="{task.name}" toName="{layout[0][1]}" choice="single" showInline="true">')
    lines += [f"    <Choice value={quoteattr(label)}/>" for label in task.labels]
    lines += ["  </Choices>", "</View>"]
    return "\n".join(lines)


def _media_uri(cell: Any, column: str, row: int, kind: str) -> str | None:
    """A URL Label Studio can load for an undecoded Image/Audio cell: http(s) as is, else a ``data:`` URI."""
    if cell is None:
        return None
    data, path = cell.get("bytes"), cell.get("path")
    if data is None and path:
        if re.match(r"^https?://", str(path)):
            return str(path)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise ValueError(f"column {column!r}, row {row}: cannot read {kind} file {path!r}: {exc}") from exc
    if data is None:
        return None
    return f"data:{_mime(data, path, kind)};base64,{base64.b64encode(data).decode('ascii')}"


def _mime(data: bytes, path: str | None, kind: str) -> str:
    try:
        if kind == "image":
            import PIL.Image

            with PIL.Image.open(io.BytesIO(data)) as im:
                return PIL.Image.MIME.get(im.format or "", "image/png")
        import soundfile

        fmt = soundfile.info(io.BytesIO(data)).format
        return {"WAV": "audio/wav", "FLAC": "audio/flac", "OGG": "audio/ogg", "MP3": "audio/mpeg"}.get(fmt, "audio/wav")
    except Exception:  # noqa: BLE001 - unreadable by the sniffer: fall back to the file name
        guess = mimetypes.guess_type(path or "")[0]
        return guess or ("image/png" if kind == "image" else "audio/wav")


def row_data(ds: Dataset, layout: Sequence[tuple[str, str, str]], offset: int = 0) -> list[dict[str, Any]]:
    """The shown data of every row of ``ds`` (``offset`` numbers rows in error messages)."""
    raw = ds.select_columns([c for c, _, _ in layout])
    for c, _, tag in layout:
        f = raw.features[c]
        if isinstance(f, (Image, Audio)) and f.decode:
            raw = raw.cast_column(c, type(f)(decode=False) if isinstance(f, Image) else Audio(decode=False))
    cols = {c: raw[c] for c, _, _ in layout}
    out = []
    for i in range(len(raw)):
        item = {}
        for c, key, tag in layout:
            v = cols[c][i]
            if tag in ("Image", "Audio"):
                v = _media_uri(v, c, offset + i, tag.lower())
            elif v is not None and not isinstance(v, str):
                v = json.dumps(v, default=str) if isinstance(v, (list, dict)) else str(v)
            item[key] = v
        out.append(item)
    return out


def data_key(data: Mapping[str, Any]) -> str:
    """Hash of the data a task shows (the ``mmweak`` entry excluded): a changed row gets another key.

    >>> data_key({"text": "hi", "mmweak": {"row": 1}}) == data_key({"text": "hi"})
    True
    """
    return stable_hash("review-row", {k: v for k, v in data.items() if k != META})


def build_tasks(
    selection: Dataset,
    task: Task,
    *,
    columns: Sequence[str] | None = None,
    id_column: str | None = None,
) -> tuple[list[dict[str, Any]], str]:
    """Label Studio tasks (JSON-ready) for the rows of a :func:`mmweak.review.select` result, and the config.

    Returns:
        ``(tasks, labeling_config)``.

    Raises:
        ValueError: not a selection, missing columns, or an unreadable media file (named by row and column).

    >>> import datasets, mmweak
    >>> from mmweak import review
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lf = mmweak.labeling_function(task=spam, inputs="text")(lambda b: [int("http" in t) for t in b["text"]])
    >>> ds = mmweak.aggregate(mmweak.apply_lfs(datasets.Dataset.from_dict({"text": ["http://x", "hi"]}), [lf]))
    >>> tasks, config = build_tasks(review.select(ds, spam, 1, "random"), spam)
    >>> tasks[0]["data"]["text"], tasks[0]["predictions"][0]["result"][0]["value"], '<Choice value="spam"/>' in config
    ('hi', {'choices': ['ham']}, True)
    """
    meta = selection_meta(selection)
    shown = display_columns(selection, task, columns)
    shown = [c for c in shown if c not in SELECTION_COLUMNS]
    if id_column is not None and id_column not in selection.column_names:
        raise ValueError(f"id_column {id_column!r} is not a column (columns: {selection.column_names})")
    layout = _layout(selection.features, task, shown)
    config = labeling_config(task, selection.features, shown)
    record = read_record(selection).get("tasks", {}).get(task.name, {})
    lf_names = [lf["name"] for lf in record.get("lfs", [])]
    lm = record.get("label_model") or {}
    votes = read_matrix(selection, task.votes_column) if task.votes_column in selection.column_names else None
    probs = read_matrix(selection, task.probs_column) if task.probs_column in selection.column_names else None
    has_labels = task.label_column in selection.column_names
    labels = read_column(selection, task.label_column, np.int64) if has_labels else None
    ids = list(selection[id_column]) if id_column else None
    datas = row_data(selection, layout)
    tasks = []
    for i, (m, data) in enumerate(zip(meta, datas)):
        if m["row"] is None or m["row"] < 0:
            raise ValueError(f"selection row {i} has no source row number")
        model_label = int(labels[i]) if labels is not None else -1
        entry = {
            "task": task.name,
            "split": m["split"],
            "row": int(m["row"]),
            "key": data_key(data),
            "id_column": id_column,
            "id": _jsonable(ids[i]) if ids is not None else None,
            "columns": {key: c for c, key, _ in layout},
            "strategy": m["strategy"],
            "reason": m["reason"],
            "score": None if m["score"] is None or not np.isfinite(m["score"]) else float(m["score"]),
            "round": int(m["round"]),
            "model_label": model_label,
            "model": lm.get("model"),
            "probs": None if probs is None else {t: float(p) for t, p in zip(task.labels, probs[i])},
            "votes": None
            if votes is None
            else {
                (lf_names[j] if j < len(lf_names) else f"lf_{j}"): task.labels[int(v)]
                for j, v in enumerate(votes[i])
                if v >= 0
            },
        }
        item: dict[str, Any] = {"data": {**data, META: entry}}
        if model_label >= 0:
            item["predictions"] = [
                {
                    "model_version": f"mmweak {lm.get('model', 'label model')}",
                    "score": float(probs[i].max()) if probs is not None else None,
                    "result": [
                        {
                            "from_name": task.name,
                            "to_name": layout[0][1],
                            "type": "choices",
                            "value": {"choices": [task.labels[model_label]]},
                        }
                    ],
                }
            ]
        tasks.append(item)
    return tasks, config


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


def _annotator(
    annotation: Mapping[str, Any], names: Mapping[int, str] | None, task_id: Any = "?", at: int = 0
) -> str:
    """An annotator's id: the e-mail where known, else ``user:<id>``.

    An annotation that names nobody (no ``completed_by``, as in hand-made exports) is its own annotator,
    ``anonymous:<annotation id>``: merged into one person, two such answers on a row would replace each other and
    the label model would take strangers for one reliable voter.
    """
    completed_by = annotation.get("completed_by")
    if isinstance(completed_by, Mapping):
        return str(completed_by.get("email") or completed_by.get("username") or f"user:{completed_by.get('id')}")
    if completed_by is None or completed_by == "":
        ident = annotation.get("id")
        return f"anonymous:{ident}" if ident is not None else f"anonymous:task-{task_id}-{at}"
    if isinstance(completed_by, str) and not completed_by.isdigit():
        return completed_by
    if names and int(completed_by) in names:
        return names[int(completed_by)]
    return f"user:{completed_by}"


def _time(annotation: Mapping[str, Any], where: str = "") -> dt.datetime:
    """When an annotation was last made: its ``updated_at``, else ``created_at`` (ISO 8601 as Label Studio writes
    it, or Unix seconds as some hand-made exports do); naive times are UTC."""
    for k in ("updated_at", "created_at"):
        t = annotation.get(k)
        if isinstance(t, dt.datetime):
            return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)
        if isinstance(t, (int, float)) and not isinstance(t, bool):
            return dt.datetime.fromtimestamp(float(t), tz=dt.timezone.utc)
        if t:
            try:
                parsed = dt.datetime.fromisoformat(str(t).replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(f"{where + ': ' if where else ''}annotation with id {annotation.get('id')!r} has "
                                 f"{k} {t!r}, which is not an ISO 8601 time (as Label Studio writes them: "
                                 "'2026-01-01T12:00:00Z') nor Unix seconds") from None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    raise ValueError(f"{where + ': ' if where else ''}annotation with id {annotation.get('id')!r} has no "
                     "created_at/updated_at time (Label Studio's exports carry both; a hand-made one needs one)")


def answers_from_tasks(
    ds: Dataset | DatasetDict,
    task: Task,
    tasks: Iterable[Mapping[str, Any]],
    *,
    source: str,
    report: ImportReport,
    on_invalid: OnInvalid = "skip",
    annotator_names: Mapping[int, str] | None = None,
) -> list[Answer]:
    """The answers held by Label Studio tasks (an export file or the API), each tied to its row.

    A task whose row no longer exists or shows other content, an answer outside the task's classes, a
    cancelled annotation or one without exactly one choice is counted in ``report`` (or raises
    :class:`~mmweak.review.AnnotationError` with ``on_invalid="raise"``).
    """
    splits = split_dict(ds)
    items = list(tasks)
    located: list[tuple[Mapping[str, Any], str, int] | None] = []
    id_index: dict[tuple[str, str], dict[Any, list[int]]] = {}
    for t in items:
        m = (t.get("data") or {}).get(META)
        where = f"Label Studio task {t.get('id', '?')}"
        if not isinstance(m, Mapping):
            for _ in t.get("annotations") or []:
                report.skip(
                    "missing_row", f"{where} carries no mmweak row reference: it was not exported by mmweak", on_invalid
                )
            located.append(None)
            continue
        if m.get("task") != task.name:
            for _ in t.get("annotations") or []:
                report.skip("other_task", f"{where} belongs to task {m.get('task')!r}, not {task.name!r}", on_invalid)
            located.append(None)
            continue
        split, row = str(m.get("split")), m.get("row")
        d = splits.get(split)
        if m.get("id_column") and d is not None:
            key = (split, str(m["id_column"]))
            if key not in id_index:
                id_index[key] = _id_index(d, key[1])
            hits = id_index[key].get(m.get("id"), [])
            # a repeated id cannot find its row alone: the row number sent, if it holds that id (content checked)
            row = hits[0] if len(hits) == 1 else (int(row) if isinstance(row, int) and row in hits else None)
        if d is None or row is None or not 0 <= int(row) < len(d):
            for k, a in enumerate(t.get("annotations") or []):
                ident = f" ({m['id_column']} = {m.get('id')!r})" if m.get("id_column") else ""
                report.skip(
                    "missing_row",
                    f"task {task.name!r}: {where} refers to split {split!r} row "
                    f"{m.get('row')}{ident}, which no longer exists "
                    f"(annotator {_annotator(a, annotator_names, t.get('id', '?'), k)!r})",
                    on_invalid,
                )
            located.append(None)
            continue
        located.append((m, split, int(row)))
    current = _current_keys(splits, located)
    out: list[Answer] = []
    anonymous = 0
    for t, loc in zip(items, located):
        if loc is None:
            continue
        m, split, row = loc
        where = f"task {task.name!r}, split {split!r}, row {row} (Label Studio task {t.get('id', '?')})"
        anns = t.get("annotations") or []
        data = t.get("data") or {}
        shown = list((m.get("columns") or {}).keys())
        if shown and all(k in data for k in shown) and data_key({k: data[k] for k in shown}) != m.get("key"):
            # the row is as sent, but the task was edited in Label Studio: the answer is to that
            for k, a in enumerate(anns):
                report.skip(
                    "missing_row",
                    f"{where}: the task was edited in Label Studio after it was sent, so the answer is not to the "
                    f"row (annotator {_annotator(a, annotator_names, t.get('id', '?'), k)!r})",
                    on_invalid,
                )
            continue
        if current.get((split, row, _layout_id(m))) != m.get("key"):
            for k, a in enumerate(anns):
                report.skip(
                    "missing_row",
                    f"{where}: the row changed since it was sent for review (annotator "
                    f"{_annotator(a, annotator_names, t.get('id', '?'), k)!r})",
                    on_invalid,
                )
            continue
        for k, a in enumerate(anns):
            who = _annotator(a, annotator_names, t.get("id", "?"), k)
            if a.get("was_cancelled"):
                report.skip("cancelled", f"{where}: annotator {who!r} skipped the row")
                continue
            choices = [
                c
                for r in a.get("result") or []
                if r.get("from_name") == task.name
                for c in (r.get("value") or {}).get("choices") or []
            ]
            if len(choices) != 1:
                report.skip(
                    "no_choice",
                    f"{where}: annotator {who!r} gave {len(choices)} choices for {task.name!r}, expected 1",
                    on_invalid,
                )
                continue
            chosen = task.class_of(choices[0]) if isinstance(choices[0], str) else None
            if chosen is None:  # names compare as everywhere (case, spaces, Unicode form)
                report.skip(
                    "unknown_class",
                    f"{where}: annotator {who!r} answered {choices[0]!r}, which is not a "
                    f"class of task {task.name!r} ({list(task.labels)})",
                    on_invalid,
                )
                continue
            model_label = m.get("model_label")
            anonymous += a.get("completed_by") in (None, "")
            out.append(
                Answer(
                    split=split,
                    row=row,
                    annotator=who,
                    label=chosen,
                    time=_time(a, where),
                    source=f"{source} annotation {a.get('id')}",
                    strategy=str(m.get("strategy") or ""),
                    reason=str(m.get("reason") or ""),
                    round=int(m.get("round") or 0),
                    model_label=-1 if model_label is None else int(model_label),
                )
            )
    if anonymous:
        warnings.warn(
            f"{source}: {anonymous} answer(s) for task {task.name!r} name no annotator (no completed_by); each is "
            "counted as its own annotator ('anonymous:<annotation id>'), so the label model gives them no "
            "track record. Export with annotators (Label Studio's JSON export has completed_by) to weigh them.",
            stacklevel=3,
        )
    return out


def _id_index(d: Dataset, column: str) -> dict[Any, list[int]]:
    out: dict[Any, list[int]] = {}
    if column in d.column_names:
        for i, v in enumerate(d[column]):
            out.setdefault(_jsonable(v), []).append(i)
    return out


def _layout_id(m: Mapping[str, Any]) -> str:
    return json.dumps(m.get("columns") or {}, sort_keys=True)


def _current_keys(splits: Mapping[str, Dataset], located) -> dict[tuple[str, int, str], str]:
    """The data key each referenced row has now, computed with the columns it was exported with."""
    groups: dict[tuple[str, str], set[int]] = {}
    for loc in located:
        if loc is not None:
            groups.setdefault((loc[1], _layout_id(loc[0])), set()).add(loc[2])
    out: dict[tuple[str, int, str], str] = {}
    for (split, lid), rows in groups.items():
        d = splits[split]
        columns = json.loads(lid)
        if not columns or any(c not in d.column_names for c in columns.values()):
            continue  # a shown column is gone: no row can match, each answer is counted as missing_row
        layout = [(c, k, _tag(d.features[c])) for k, c in columns.items()]
        order = sorted(rows)
        for r, data in zip(order, row_data(d.select(order), layout)):
            out[(split, r, lid)] = data_key(data)
    return out


def read_json(path: str | os.PathLike) -> list[dict[str, Any]]:
    """A Label Studio JSON file: a list of tasks (a single task object is accepted too), or a JSON_MIN export.

    JSON_MIN writes one flat item per annotation (the shown data, ``mmweak``, each control's answer under its
    name, ``annotator``, ``annotation_id``, times); its items are read back as tasks of one annotation each.

    Raises:
        ValueError: the file is not JSON, or not a task list.

    >>> import json, tempfile
    >>> item = {"text": "hi", "mmweak": {"task": "spam", "columns": {"text": "text"}}, "id": 7, "spam": "ham",
    ...         "annotator": 2, "annotation_id": 5, "created_at": "2026-01-01T00:00:00Z"}
    >>> with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
    ...     json.dump([item], f)
    >>> t = read_json(f.name)[0]
    >>> t["data"]["text"], t["annotations"][0]["completed_by"], t["annotations"][0]["result"]
    ('hi', 2, [{'from_name': 'spam', 'value': {'choices': ['ham']}}])
    """
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not a Label Studio JSON file: {exc}") from exc
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(t, Mapping) for t in data):
        raise ValueError(f"{path} is not a Label Studio JSON task list")
    return [_from_json_min(t) if "data" not in t and isinstance(t.get(META), Mapping) else t for t in data]


#: Keys of a JSON_MIN item that are not the shown data or a control's answer.
_MIN_KEYS = ("id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time", "drafts", "predictions")


def _from_json_min(item: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON_MIN item (an mmweak task flattened with one annotation) as a task with that annotation."""
    m = item[META]
    shown = set((m.get("columns") or {}).keys())
    # a shown column named like one of JSON_MIN's own keys ("id") was overwritten by it: left out, so the row is
    # checked against the dataset alone rather than taken for an edited task
    data = {k: item[k] for k in shown if k in item and k not in _MIN_KEYS}
    task: dict[str, Any] = {"id": item.get("id"), "data": {**data, META: m}}
    answers = {k: v for k, v in item.items() if k not in shown and k != META and k not in _MIN_KEYS}
    if item.get("annotation_id") is not None or item.get("annotator") is not None:  # null: an unannotated task
        task["annotations"] = [{
            "id": item.get("annotation_id"), "completed_by": item.get("annotator"),
            "created_at": item.get("created_at"), "updated_at": item.get("updated_at"),
            "result": [{"from_name": k, "value": {"choices": _min_choices(v)}} for k, v in answers.items()],
        }]
    return task


def _min_choices(value: Any) -> list[Any]:
    """The choices of one JSON_MIN answer: a name, a list of names, or ``{"choices": [...]}`` for several."""
    if isinstance(value, Mapping) and "choices" in value:
        value = value["choices"]
    return list(value) if isinstance(value, list) else [value]
