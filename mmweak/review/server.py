"""Review on a Label Studio server through ``label-studio-sdk`` (``pip install mmweak[review]``).

:func:`to_label_studio` creates (or finds and updates) a project whose labeling config is derived from the
task, and imports the selected rows with the label model's labels as predictions; :func:`from_label_studio`
pulls the completed annotations back into ``T_answers``/``T_gold``. Rows already in the project are not
imported twice, and answers already stored are not stored twice, so both calls can be repeated safely.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from datasets import Dataset, DatasetDict

from ..task import Task
from .answers import ImportReport, OnInvalid, merge_answers
from .errors import LabelStudioError
from .labelstudio import META, answers_from_tasks, build_tasks
from .selection import resolve_task


@dataclass
class ProjectRef:
    """Where the rows went: the project's id, title and web address, and what the import did."""

    id: int
    title: str
    url: str
    created: bool
    config_updated: bool
    imported: int
    already_there: int


def connect(url: str, api_key: str, *, timeout: float = 30.0) -> Any:
    """A ``label_studio_sdk.LabelStudio`` client, checked against the server before use.

    Both token kinds work: a legacy token, or a personal access token (a JWT refresh token the SDK
    exchanges for access tokens).

    Raises:
        ImportError: ``label-studio-sdk`` is not installed.
        LabelStudioError: the server cannot be reached, or it rejects the key.
    """
    try:
        from label_studio_sdk import LabelStudio
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("Label Studio review needs label-studio-sdk: pip install 'mmweak[review]'") from exc
    base = url.rstrip("/")
    if not isinstance(api_key, str) or not api_key.strip():
        raise LabelStudioError(f"no API key for Label Studio at {base}: pass api_key= (Account & Settings > "
                               "Access Token)")
    try:
        client = LabelStudio(base_url=base, api_key=api_key, timeout=timeout)
        client.users.whoami()
    except Exception as exc:  # noqa: BLE001 - the SDK raises httpx, ApiError and token errors alike
        raise _error(exc, base, "connect") from exc
    return client


def _error(exc: Exception, url: str, action: str) -> LabelStudioError:
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", None)
    if status == 401:
        return LabelStudioError(f"Label Studio at {url} rejected the API key (HTTP 401) while trying to "
                                f"{action}: check the token (Account & Settings > Access Token): {body}")
    if status == 403:
        return LabelStudioError(f"Label Studio at {url} says the API key may not {action} (HTTP 403): use the "
                                f"token of a project manager or administrator: {body}")
    if status is not None:
        return LabelStudioError(f"Label Studio at {url} refused to {action} (HTTP {status}): {body}")
    import httpx

    if isinstance(exc, httpx.TransportError):
        return LabelStudioError(f"cannot reach Label Studio at {url} to {action}: {type(exc).__name__}: {exc}")
    return LabelStudioError(f"Label Studio at {url} failed to {action}: {type(exc).__name__}: {exc}")


def _call(url: str, action: str, fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - mapped to one error type with the server and the action
        raise _error(exc, url, action) from exc


def _find_project(client: Any, url: str, project: int | str) -> Any | None:
    if isinstance(project, int):
        return _call(url, f"read project {project}", client.projects.get, id=project)
    matches = [p for p in _call(url, "list projects", lambda: list(client.projects.list(title=project)))
               if p.title == project]
    if len(matches) > 1:
        raise LabelStudioError(f"Label Studio at {url} has {len(matches)} projects titled {project!r}: pass its id")
    return _call(url, f"read project {matches[0].id}", client.projects.get, id=matches[0].id) if matches else None


def _row_ref(m: Mapping[str, Any]) -> tuple[str, str, int, str, int]:
    """What makes a sent row new to a project: the row as sent, and for a tie-break (``ties``) its round, since
    that row is already there with the answers that tie and needs a task of its own for one more person."""
    again = int(m.get("round") or 0) if m.get("strategy") == "ties" else 0
    return str(m.get("task")), str(m.get("split")), int(m.get("row", -1)), str(m.get("key")), again


def _row_refs(client: Any, url: str, project_id: int) -> tuple[set[tuple[str, str, int, str, int]], set[str]]:
    """The mmweak rows already in a project, and the tasks it holds rows of (``""`` for rows not sent by mmweak)."""
    refs, owners = set(), set()
    for t in _call(url, f"list the tasks of project {project_id}",
                   lambda: list(client.tasks.list(project=project_id, fields="all"))):
        m = (t.data or {}).get(META)
        if isinstance(m, dict):
            refs.add(_row_ref(m))
        owners.add(str(m.get("task")) if isinstance(m, dict) else "")
    return refs, owners


#: Most bytes of tasks sent in one import request: Label Studio refuses bodies past 250 MB
#: (``DATA_UPLOAD_MAX_MEMORY_SIZE``), and media travel inline.
MAX_IMPORT_BYTES = 64 * 1024 * 1024
#: Most tasks in one import request.
MAX_IMPORT_TASKS = 200


def import_chunks(tasks: Sequence[dict[str, Any]], max_bytes: int = MAX_IMPORT_BYTES,
                  max_tasks: int = MAX_IMPORT_TASKS) -> list[list[dict[str, Any]]]:
    """``tasks`` in consecutive requests of at most ``max_tasks`` tasks and ``max_bytes`` of JSON (a task larger
    than that alone goes alone).

    >>> [len(c) for c in import_chunks([{"data": {"x": "a" * 100}}] * 5, max_bytes=250, max_tasks=4)]
    [2, 2, 1]
    """
    chunks: list[list[dict[str, Any]]] = []
    size = 0
    for t in tasks:
        n = len(json.dumps(t))
        if not chunks or len(chunks[-1]) >= max_tasks or size + n > max_bytes:
            chunks.append([])
            size = 0
        chunks[-1].append(t)
        size += n
    return chunks


def to_label_studio(
    selection: Dataset,
    task: Task | str,
    *,
    url: str,
    api_key: str,
    project: int | str | None = None,
    columns: Sequence[str] | None = None,
    id_column: str | None = None,
    annotators_per_row: int | None = None,
) -> ProjectRef:
    """Send the rows of a :func:`mmweak.review.select` result to a Label Studio project for annotation.

    Args:
        selection: rows chosen by :func:`mmweak.review.select`.
        task: the task (or its name).
        url: the server, e.g. ``http://localhost:8080``.
        api_key: a legacy token or a personal access token.
        project: a project id, or a title (found, else created); default ``"mmweak <task>"``.
        columns, id_column: as in :func:`mmweak.review.export_tasks`.
        annotators_per_row: how many people Label Studio's queue gives each row (its ``maximum_annotations``;
            default: the project's, 1 for a new one). Two or more make a majority (``T_gold``) and agreement
            between people possible; a 1-1 tie then waits for a third answer.

    Returns:
        A :class:`ProjectRef` (rows already in the project are counted in ``already_there``, not re-imported).

    Raises:
        LabelStudioError: unreachable server, rejected key, a project id that does not exist, a config
            change the server refuses (it would invalidate existing annotations).

    >>> ref = to_label_studio(selection, "spam", url="http://localhost:8080", api_key=TOKEN)  # doctest: +SKIP
    >>> ref.imported                                                                         # doctest: +SKIP
    25
    """
    task = resolve_task(selection, task)
    if annotators_per_row is not None and (isinstance(annotators_per_row, bool) or not isinstance(
            annotators_per_row, int) or annotators_per_row < 1):
        raise ValueError(f"annotators_per_row must be an int >= 1, got {annotators_per_row!r}")
    tasks, config = build_tasks(selection, task, columns=columns, id_column=id_column)
    base = url.rstrip("/")
    client = connect(base, api_key)
    title = project if isinstance(project, str) else f"mmweak {task.name}"
    found = _find_project(client, base, project if project is not None else title)
    created = updated = False
    if found is None:
        if isinstance(project, int):  # pragma: no cover - projects.get raised already
            raise LabelStudioError(f"Label Studio at {base} has no project {project}")
        found = _call(base, f"create project {title!r}", client.projects.create, title=title, label_config=config,
                      description=f"mmweak review of task {task.name!r}: {', '.join(task.labels)}")
        created = True
    there, owners = (set(), set()) if created else _row_refs(client, base, found.id)
    if not created and _normalise(found.label_config) != _normalise(config):
        others = sorted(owners - {task.name})
        if others:  # the config is another task's (or a team's own project): replacing it would break theirs
            held = ", ".join("rows not sent by mmweak" if o == "" else f"task {o!r}" for o in others)
            raise LabelStudioError(f"project {found.id} ({found.title!r}) at {base} holds {held} and another "
                                   f"labeling config: pass another project, or none to use 'mmweak {task.name}'")
        _call(base, f"update the labeling config of project {found.id}", client.projects.update, id=found.id,
              label_config=config)
        updated = True
    if annotators_per_row is not None and getattr(found, "maximum_annotations", None) != annotators_per_row:
        _call(base, f"set the annotators per row of project {found.id}", client.projects.update, id=found.id,
              maximum_annotations=annotators_per_row)
    new = [t for t in tasks if _row_ref(t["data"][META]) not in there]
    if new:
        for chunk in import_chunks(new):
            _call(base, f"import {len(new)} tasks into project {found.id}", client.projects.import_tasks,
                  id=found.id, request=chunk, return_task_ids=True)
        # Annotators see the predictions of the project's model version only: a later round made by another
        # label model would otherwise come without them.
        version = next((p["model_version"] for t in new for p in t.get("predictions") or []), None)
        if version is not None and getattr(found, "model_version", None) != version:
            _call(base, f"set the model version of project {found.id}", client.projects.update, id=found.id,
                  model_version=version)
    return ProjectRef(id=int(found.id), title=str(found.title), url=f"{base}/projects/{found.id}", created=created,
                      config_updated=updated, imported=len(new), already_there=len(tasks) - len(new))


def _normalise(config: str | None) -> str:
    return "".join((config or "").split())


def from_label_studio(
    ds: Dataset | DatasetDict,
    task: Task | str,
    *,
    url: str,
    api_key: str,
    project: int | str | None = None,
    on_invalid: OnInvalid = "skip",
    return_report: bool = False,
) -> Dataset | DatasetDict | tuple[Dataset | DatasetDict, ImportReport]:
    """Pull the annotations of a Label Studio project into ``T_answers``/``T_gold`` of ``ds``.

    Annotators are named by their e-mail on the server. Bad answers (unknown class, vanished or changed
    row, cancelled, empty) and answers already stored are counted in the report, as in
    :func:`mmweak.review.import_annotations`. Nothing is changed unless the whole pull succeeds.

    Args:
        ds: the curated dataset the rows were selected from.
        task: the task (or its name).
        url, api_key, project: as in :func:`to_label_studio`.
        on_invalid: ``"skip"`` (count) or ``"raise"``.
        return_report: also return the :class:`~mmweak.review.ImportReport`.

    Returns:
        The dataset with the answers (and the report when asked).

    Raises:
        LabelStudioError: unreachable server, rejected key, or no such project.

    >>> ds = from_label_studio(ds, "spam", url="http://localhost:8080", api_key=TOKEN)  # doctest: +SKIP
    """
    task = resolve_task(ds, task)
    base = url.rstrip("/")
    client = connect(base, api_key)
    title = project if project is not None else f"mmweak {task.name}"
    found = _find_project(client, base, title)
    if found is None:
        raise LabelStudioError(f"Label Studio at {base} has no project titled {title!r}")
    names = {int(u.id): str(u.email or u.username or f"user:{u.id}")
             for u in _call(base, "list users", client.users.list)}
    raw = _call(base, f"list the tasks of project {found.id}",
                lambda: list(client.tasks.list(project=found.id, fields="all", only_annotated=True)))
    tasks = [{"id": t.id, "data": t.data, "annotations": [_plain(a) for a in (t.annotations or [])]} for t in raw]
    report = ImportReport()
    answers = answers_from_tasks(ds, task, tasks, source=f"label-studio {base}/projects/{found.id}",
                                 report=report, on_invalid=on_invalid, annotator_names=names)
    out = merge_answers(ds, task, answers, report, on_invalid=on_invalid)
    return (out, report) if return_report else out


def _plain(annotation: Any) -> dict[str, Any]:
    if isinstance(annotation, dict):
        return annotation
    if hasattr(annotation, "model_dump"):
        return json.loads(json.dumps(annotation.model_dump(), default=str))
    return dict(annotation)
