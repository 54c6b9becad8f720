"""Recipes as data: a YAML file that says where the data is, the tasks, the LFs, the label model and the outputs.

A recipe is validated before anything runs, and every error names the place in the file
(``recipe.yaml:14: lfs[2].lf: unknown LF 'KeywordLf' (did you mean 'KeywordLF'?)``). The schema:

.. code-block:: yaml

    version: 1
    data:                       # where the rows come from (mmweak.sources.load_source)
      source: ../shared/data/wrench/youtube     # a folder, file, Hub id, or module:function
      format: wrench            # optional: wrench, crowd, python, csv, json, parquet, imagefolder, ...
      params: {}                # optional: for load_dataset or the function
      columns: [text, label]    # optional: keep only these columns
    tasks:
      spam: {labels: [ham, spam], description: "Is a comment spam?"}
      # or: spam: {labels_from: label}  -- the classes the data names (mmweak.task_classes)
    lfs:
      - lf: KeywordLF           # a name from lf_library's catalog, or any module:attribute
        name: please            # the remaining keys are the LF's own arguments;
        task: spam              #   `task` names a task above
        label: spam
        keywords: [please, plz]
      - ref: recipes.youtube_spam:no_promotion     # an existing LF, a list of LFs, or a function making them
        params: {}                                  # (arguments for such a function)
      - ref: precomputed_lfs                       # votes already in the data (WRENCH's weak_labels), one LF each
        params: {task: spam, column: weak_labels}
    annotators:                 # optional: people's answers ({annotator|worker, label} lists), one vote column
      - {task: spam, column: answers}              #   per person (mmweak.review.add_annotator_votes)
    apply: {num_proc: null, batch_size: null, on_error: raise}
    label_model: {name: null, params: {}}          # null: the default label model
    aggregate: {gold: label, fit_split: train, dev_split: validation, seed: 0, tie_break: prior,
                objective: accuracy, pos_label: 1, fill_abstains: null}   # fill_abstains: prior
    post_aggregate:                                # optional: functions run on the aggregated data, in order
      - ref: lf_library.media_columns:decode_media   # e.g. decode media columns again before saving
        params: {columns: [image]}
    report: {split: validation}                    # LF analysis printed for this split
    output:
      folder: out/youtube_curated
      overwrite: true
      pretty_name: YouTube spam comments
      license: other
      task_categories: [text-classification]
      push_to_hub: {repo: null, private: false, revision: null, create_pr: false}

Arguments whose value is a mapping with a ``new`` key build an object (``encoder: {new: SentenceEncoder}``),
by catalog name or ``module:attribute``, with the mapping's other keys as its arguments. ``${recipe_dir}`` in a
string is the folder holding the recipe, ``${source_name}`` the last part of ``data.source`` (so a recipe run on
many folders names its outputs, and describes its tasks, after each); other relative paths are relative to the
working directory.
A recipe needs ``lfs``, ``annotators`` or both. A ``post_aggregate`` function gets the aggregated
``DatasetDict`` as ``dataset`` (and the recipe's ``tasks`` and ``lfs`` where its signature names them) and
returns the ``DatasetDict`` that is reported and saved.

>>> r = parse_recipe('''
... data: {source: x}
... tasks: {spam: {labels: [ham, spam]}}
... lfs: [{lf: KeywordLF, name: kw, task: spam, label: spam, keywords: [free]}]
... ''')
>>> [lf.name for lf in r.build_lfs()], r.tasks["spam"].labels
(['kw'], ('ham', 'spam'))
>>> parse_recipe("data: {source: x}\\ntasks: {spam: {labels: [a, b]}}\\nlfs: [{lf: KeywordLf}]").build_lfs()
Traceback (most recent call last):
...
mmweak.recipe.RecipeError: <recipe>:3: lfs[0].lf: unknown LF 'KeywordLf' (did you mean 'KeywordLF'?)
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from ._version import __version__
from .errors import MMWeakError
from .lf import LabelingFunction
from .provenance import HUMAN_KIND, read_record
from .sources import SourceError, resolve_object
from .task import Task, check_task_name, class_key

VERSION = 1
#: lf_library's catalog of ready-made LFs and helpers (name -> "module:attribute"), read lazily by name.
CATALOG_REF = "lf_library:CATALOG"
SECTIONS = {
    "version": None,
    "name": None,
    "description": None,
    "data": {"source", "format", "params", "columns", "splits"},
    "tasks": None,
    "lfs": None,
    "annotators": None,
    "apply": {"num_proc", "batch_size", "on_error"},
    "label_model": {"name", "params"},
    "aggregate": {"gold", "fit_split", "dev_split", "seed", "tie_break", "objective", "pos_label", "fill_abstains"},
    "post_aggregate": None,
    "report": {"split"},
    "output": {"folder", "overwrite", "pretty_name", "license", "task_categories", "push_to_hub"},
}
_PUSH_KEYS = {"repo", "private", "revision", "create_pr", "commit_message", "annotator_emails"}


class RecipeError(MMWeakError, ValueError):
    """A recipe is malformed; the message starts with ``file:line: where:``."""


class _Lines:
    """Line numbers of every mapping key and list item, by path (``("lfs", 2, "label")``)."""

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple, int] = {}
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            node = None
        if node is not None:
            self._walk(node, ())

    def _walk(self, node: yaml.Node, path: tuple) -> None:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = path + (k.value,)
                self.lines[key] = k.start_mark.line + 1
                self._walk(v, key)
                self.lines[key] = k.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                self._walk(v, path + (i,))

    def line(self, path: tuple) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


def _where(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "recipe"


@dataclass
class Recipe:
    """A parsed, validated recipe; :func:`mmweak.curate.curate` runs it."""

    raw: dict[str, Any]
    text: str
    file: str = "<recipe>"
    tasks: dict[str, Task] = field(default_factory=dict)
    #: Tasks whose classes come from the data (``labels_from``): name -> (columns, description). Each load of
    #: the data reads them again (:meth:`resolve_tasks`); ``tasks`` holds them from the last read on.
    data_tasks: dict[str, tuple[list[str], str]] = field(default_factory=dict)
    #: The ``--set`` assignments applied since the file was read, in order (the card's rebuild command repeats them).
    overrides: list[str] = field(default_factory=list)
    _lines: _Lines | None = None
    _dataset: Any = None

    # -- errors -------------------------------------------------------------------------------------------
    def error(self, path: tuple, message: str) -> RecipeError:
        line = self._lines.line(path) if self._lines else None
        return RecipeError(f"{self.file}:{line if line is not None else '?'}: {_where(path)}: {message}")

    @property
    def sha256(self) -> str:
        """Hash of what ran: the recipe text and the ``--set`` assignments after it, recorded in the card.

        The text stays as it was read (the card shows it to be saved as a file) and the assignments are hashed after
        it in a form no recipe text can take (a NUL, then their JSON list), so a rebuild from the card's text and
        command has the same hash as the run, and no file ending in a ``# --set`` comment has the hash of a run.

        >>> r = parse_recipe("data: {source: x}\\ntasks: {t: {labels: [a, b]}}\\nlfs: [{ref: m:f}]")
        >>> before = r.sha256
        >>> set_value(r, "data.source=y")
        >>> r.sha256 != before, r.text.endswith("[{ref: m:f}]")
        (True, True)
        """
        ran = self.text if not self.overrides else self.text + "\0" + json.dumps(self.overrides)
        return hashlib.sha256(ran.encode()).hexdigest()

    def section(self, name: str) -> dict[str, Any]:
        value = self.raw.get(name) or {}
        return dict(value)

    @property
    def folder(self) -> Path:
        return Path(self.file).resolve().parent if self.file != "<recipe>" else Path.cwd()

    def record_entry(self) -> dict[str, Any]:
        """The ``recipe`` entry of the weak-supervision record: how to rebuild the dataset with this mmweak.

        >>> r = parse_recipe("data: {source: x}\\ntasks: {t: {labels: [a, b]}}\\nlfs: [{ref: m:f}]")
        >>> set_value(r, "data.source=other")
        >>> entry = r.record_entry(); entry["file"], entry["overrides"]
        ('<recipe>', ['data.source=other'])
        """
        entry: dict[str, Any] = {"sha256": self.sha256, "mmweak_version": __version__, "file": Path(self.file).name,
                                 "text": self.text}
        if self.overrides:
            entry["overrides"] = list(self.overrides)
        return entry

    @property
    def task_names(self) -> list[str]:
        """Every task the recipe declares, in its order, whether or not its classes are known yet."""
        return [str(name) for name in self.raw.get("tasks") or {}]

    # -- tasks whose classes the data names ------------------------------------------------------------------
    def resolve_tasks(self, dataset: Any) -> list[str]:
        """Read the classes of every ``labels_from`` task from ``dataset`` (again at every call, so the recipe can
        run on other data); one line per task saying what was read. All tasks are read before any changes.

        >>> import datasets
        >>> y = datasets.ClassLabel(names=["HAM", "SPAM"])
        >>> ds = datasets.Dataset.from_dict({"label": [0, 1]}, features=datasets.Features({"label": y}))
        >>> r = parse_recipe("data: {source: x}\\ntasks: {spam: {labels_from: label}}\\nlfs: [{ref: m:f}]")
        >>> r.resolve_tasks(datasets.DatasetDict({"train": ds})), r.tasks["spam"].labels
        (["spam: classes ['HAM', 'SPAM'] from the names of ClassLabel 'label'"], ('HAM', 'SPAM'))
        """
        from .task_classes import classes_from_data

        read: dict[str, Task] = {}
        lines = []
        for name, (columns, description) in self.data_tasks.items():
            path = ("tasks", name, "labels_from")
            try:
                found = classes_from_data(dataset, columns)
            except ValueError as exc:
                raise self.error(path, str(exc)) from None
            try:
                read[name] = Task(name, found.names, description=description)
            except ValueError as exc:
                raise self.error(path, f"the classes read from {found.how} make no task: {exc}; name the classes "
                                       "in the recipe ('labels')") from None
            lines.append(f"{name}: classes {list(found.names)} from {found.how}")
        merged = {**self.tasks, **read}
        self.tasks = {n: merged[n] for n in self.task_names if n in merged}  # the recipe's order
        return lines

    # -- LFs ----------------------------------------------------------------------------------------------
    def build_lfs(self, dataset: Any = None) -> list[LabelingFunction]:
        """Every LF of the recipe, constructed; errors name the LF's place in the file.

        A ``ref`` function with a ``dataset`` parameter gets the recipe's loaded data (e.g. to calibrate
        thresholds on the validation split).
        """
        self._dataset = dataset
        if dataset is not None and any(n not in self.tasks for n in self.data_tasks):
            self.resolve_tasks(dataset)
        out: list[LabelingFunction] = []
        for i, spec in enumerate(self.raw.get("lfs") or []):
            path = ("lfs", i)
            if not isinstance(spec, Mapping):
                raise self.error(path, f"an LF is a mapping with 'lf' or 'ref', got {type(spec).__name__}")
            if ("lf" in spec) == ("ref" in spec):
                raise self.error(path, "give exactly one of 'lf' (build one) or 'ref' (existing LFs)")
            made = self._build_one(spec, path) if "lf" in spec else self._ref(spec, path)
            for lf in made:
                self._check_task(lf, path)
            out.extend(made)
        names: dict[tuple[str, str], int] = {}
        for lf in out:
            key = (lf.task.name, lf.name)
            if key in names:
                raise self.error(("lfs",), f"two LFs of task {lf.task.name!r} are named {lf.name!r}")
            names[key] = 1
        if not out and not self.raw.get("annotators"):
            raise self.error(("lfs",), "the recipe has no LFs")
        return out

    # -- people's answers ----------------------------------------------------------------------------------
    def add_annotators(self, dataset: Any, lfs: Iterable[LabelingFunction] = ()) -> Any:
        """``dataset`` with one vote column per person of each ``annotators`` entry (before the LFs run).

        Errors (an answer that is not a class, a column name an LF of ``lfs`` already has) name the entry.
        """
        from .review.annotators import add_annotator_votes

        lf_names = {(lf.task.name, lf.name) for lf in lfs}
        for i, spec in enumerate(self.raw.get("annotators") or []):
            task = self.tasks[spec["task"]]
            try:
                dataset = add_annotator_votes(dataset, task, spec["column"],
                                              **({"prefix": spec["prefix"]} if "prefix" in spec else {}))
            except MMWeakError as exc:
                raise self.error(("annotators", i), str(exc)) from None
            people = [lf["name"] for lf in read_record(dataset)["tasks"][task.name]["lfs"]
                      if lf.get("kind") == HUMAN_KIND and lf.get("inputs") == [spec["column"]]]
            clash = sorted({(task.name, p) for p in people} & lf_names)
            if clash:
                raise self.error(("annotators", i), f"LF {clash[0][1]!r} of task {task.name!r} has the name of an "
                                                    f"annotator of {spec['column']!r}: rename the LF or set 'prefix'")
        return dataset

    def _build_one(self, spec: Mapping[str, Any], path: tuple) -> list[LabelingFunction]:
        params = {k: v for k, v in spec.items() if k != "lf"}
        if "task" in params:
            params["task"] = self._task(params["task"], path + ("task",))
        params = {k: self._value(v, path + (k,)) for k, v in params.items()}
        cls = self._resolve(spec["lf"], path + ("lf",), "LF")
        lf = self._call(cls, params, path)
        if not isinstance(lf, LabelingFunction):
            raise self.error(path + ("lf",), f"{spec['lf']!r} made a {type(lf).__name__}, not a labeling function")
        return [lf]

    def _ref(self, spec: Mapping[str, Any], path: tuple) -> list[LabelingFunction]:
        extra = set(spec) - {"ref", "params"}
        if extra:
            raise self.error(path + (sorted(extra)[0],), f"unknown key {sorted(extra)[0]!r} (a 'ref' takes 'params')")
        obj = self._resolve(spec["ref"], path + ("ref",), "object")
        params = {k: self._value(v, path + ("params", k)) for k, v in (spec.get("params") or {}).items()}
        if "task" in params:
            params["task"] = self._task(params["task"], path + ("params", "task"))
        if callable(obj) and not isinstance(obj, LabelingFunction):
            if _accepts(obj, "dataset") and "dataset" not in params:
                if self._dataset is None:
                    raise self.error(path + ("ref",), f"{spec['ref']!r} needs the recipe's data")
                params["dataset"] = self._dataset
            obj = self._call(obj, params, path)
        elif params:
            raise self.error(path + ("params",), f"{spec['ref']!r} is not callable, so it takes no params")
        items = [obj] if isinstance(obj, LabelingFunction) else list(obj) if isinstance(obj, (list, tuple)) else None
        if items is None or not all(isinstance(x, LabelingFunction) for x in items):
            raise self.error(path + ("ref",), f"{spec['ref']!r} is not an LF, a list of LFs or a function making them")
        return items

    def check_lf_names(self) -> None:
        """Parameter names of every ``lf:`` entry against what its class takes, before any data is loaded: a typo
        (``keyword:`` for ``keywords:``) stops the run at its line with the nearest name, not after the data."""
        for i, spec in enumerate(self.raw.get("lfs") or []):
            if isinstance(spec, Mapping) and "lf" in spec and "ref" not in spec:
                cls = self._resolve(spec["lf"], ("lfs", i, "lf"), "LF")
                self._check_names(cls, [k for k in spec if k != "lf"], ("lfs", i))

    def _check_names(self, fn: Any, names: Iterable[str], path: tuple) -> None:
        import inspect

        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            return
        if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
            return
        takes = [n for n, p in sig.parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        for name in names:
            if name not in takes:
                close = difflib.get_close_matches(str(name), takes, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else f"; it takes {sorted(takes)}"
                raise self.error(path + (name,), f"unknown parameter {name!r} of "
                                                 f"{getattr(fn, '__name__', type(fn).__name__)}{hint}")

    def _call(self, fn: Any, params: dict[str, Any], path: tuple) -> Any:
        self._check_names(fn, params, path)
        for name, value in params.items():
            want = _expected_type(fn, name)
            if want is not None and not _conforms(value, want):
                raise self.error(path + (name,), f"bad parameter {name!r}: expected {_describe(want)}, got "
                                                 f"{value!r} ({type(value).__name__})")
        try:
            return fn(**params)
        except TypeError as exc:
            bad = next((k for k in params if f"'{k}'" in str(exc)), None)
            raise self.error(path + ((bad,) if bad else ()), f"bad parameter: {exc}") from None
        except (ValueError, KeyError) as exc:
            bad = next((k for k in params if f"{k}" in str(exc).split(":")[0]), None)
            raise self.error(path + ((bad,) if bad else ()), f"{exc}") from None

    @property
    def source_name(self) -> str:
        """The last part of ``data.source`` without a file extension (``../wrench/trec`` -> ``trec``,
        ``user/reviews`` -> ``reviews``, ``rows.csv`` -> ``rows``): what ``${source_name}`` stands for, so that one
        recipe run on many folders names its outputs after each.

        >>> parse_recipe("data: {source: ../shared/data/wrench/trec/}\\ntasks: {t: {labels: [a, b]}}\\n"
        ...              "lfs: [{ref: m:f}]").source_name
        'trec'
        """
        source = str((self.raw.get("data") or {}).get("source") or "").replace("${recipe_dir}", str(self.folder))
        last = re.split(r"[/\\:]", source.rstrip("/\\"))[-1]
        stem, dot, ext = last.rpartition(".")
        return stem if dot and stem and ext.isalnum() and not ext.isdigit() else last

    def _value(self, value: Any, path: tuple) -> Any:
        if isinstance(value, str):
            value = value.replace("${recipe_dir}", str(self.folder))
            return value.replace("${source_name}", self.source_name) if "${source_name}" in value else value
        if isinstance(value, list):
            return [self._value(v, path + (i,)) for i, v in enumerate(value)]
        if isinstance(value, Mapping):
            if "new" in value:
                args = {k: self._value(v, path + (k,)) for k, v in value.items() if k != "new"}
                return self._call(self._resolve(value["new"], path + ("new",), "object"), args, path)
            return {k: self._value(v, path + (k,)) for k, v in value.items()}
        return value

    def _task(self, name: Any, path: tuple) -> Task:
        if isinstance(name, Task):
            return name
        name = self._task_name(name, path)
        if name not in self.tasks:
            raise self.error(path, f"task {name!r} takes its classes from the data ('labels_from'), which is not "
                                   "loaded yet: build the LFs with the recipe's data")
        return self.tasks[name]

    def _task_name(self, name: Any, path: tuple) -> str:
        """``name`` if the recipe declares such a task (its classes may not be known yet), else an error."""
        known = sorted(self.task_names)
        if not isinstance(name, str):
            raise self.error(path, f"expected a task name, got {name!r}; the recipe's tasks are {known}")
        if name not in known:
            raise self.error(path, f"unknown task {name!r}; the recipe's tasks are {known}")
        return name

    def _check_task(self, lf: LabelingFunction, path: tuple) -> None:
        mine = self.tasks.get(lf.task.name)
        if mine is None:
            raise self.error(path, f"LF {lf.name!r} is for task {lf.task.name!r}, which the recipe does not declare")
        if tuple(mine.labels) != tuple(lf.task.labels):
            same = [class_key(c) for c in mine.labels] == [class_key(c) for c in lf.task.labels]
            hint = (f": they differ only in case, so write 'labels: {list(lf.task.labels)}' for the task in the "
                    "recipe" + (" instead of 'labels_from'" if lf.task.name in self.data_tasks else "")) if same else ""
            raise self.error(path, f"LF {lf.name!r} has task {lf.task.name!r} with classes {list(lf.task.labels)}, "
                                   f"but the recipe declares {list(mine.labels)}{hint}")

    def _resolve(self, name: Any, path: tuple, what: str) -> Any:
        if not isinstance(name, str) or not name:
            raise self.error(path, f"expected the name of an {what}, got {name!r}")
        if ":" in name or "." in name:
            try:
                return resolve_object(name, search=[self.folder, self.folder.parent, Path.cwd()])
            except SourceError as exc:
                raise self.error(path, str(exc)) from None
        catalog = _catalog()
        if name not in catalog:
            close = difflib.get_close_matches(name, list(catalog), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else " (use module:attribute for your own)"
            raise self.error(path, f"unknown {what} {name!r}{hint}")
        try:
            return resolve_object(catalog[name])
        except SourceError as exc:
            raise self.error(path, f"{name!r} is in the catalog but cannot be loaded: {exc}") from None

    # -- after aggregation ---------------------------------------------------------------------------------
    def post_steps(self) -> list[tuple[Any, dict[str, Any], tuple]]:
        """The ``post_aggregate`` functions, resolved, with their params and their place in the file."""
        steps = []
        for i, spec in enumerate(self.raw.get("post_aggregate") or []):
            path = ("post_aggregate", i)
            fn = self._resolve(spec["ref"], path + ("ref",), "function")
            if not callable(fn):
                raise self.error(path + ("ref",), f"{spec['ref']!r} is not a function")
            params = {k: self._value(v, path + ("params", k)) for k, v in (spec.get("params") or {}).items()}
            reserved = sorted({"dataset", "tasks", "lfs"} & set(params))
            if reserved:
                raise self.error(path + ("params", reserved[0]), f"{reserved[0]!r} is given by mmweak, not by params")
            steps.append((fn, params, path))
        return steps

    def post_aggregate(self, dataset: Any, lfs: list[LabelingFunction]) -> Any:
        """Run the ``post_aggregate`` functions on ``dataset`` in order; each returns the next dataset."""
        from datasets import DatasetDict

        for fn, params, path in self.post_steps():
            given = dict(params, dataset=dataset)
            if _accepts(fn, "tasks"):
                given["tasks"] = list(self.tasks.values())
            if _accepts(fn, "lfs"):
                given["lfs"] = list(lfs)
            dataset = self._call(fn, given, path + ("params",))
            if not isinstance(dataset, DatasetDict):
                raise self.error(path + ("ref",), f"{self.raw['post_aggregate'][path[1]]['ref']!r} returned "
                                                  f"{type(dataset).__name__!r}, not a DatasetDict")
        return dataset

    # -- data checks ---------------------------------------------------------------------------------------
    def check_data(self, splits: Iterable[str], columns: Mapping[str, list[str]], lfs: list[LabelingFunction]) -> None:
        """Errors for LF inputs, answer columns, gold columns and split names the data does not have."""
        splits = list(splits)
        specs = self.raw.get("lfs") or []
        for lf in lfs:
            for col in lf.inputs:
                missing = [s for s in splits if col not in columns[s]]
                if missing:
                    i = next((i for i, sp in enumerate(specs) if isinstance(sp, Mapping) and sp.get("name") == lf.name),
                             None)
                    where = ("lfs", i, "column") if i is not None and "column" in specs[i] else (
                        ("lfs", i) if i is not None else ("lfs",))
                    raise self.error(where, f"LF {lf.name!r} reads column {col!r}, which split {missing[0]!r} does not "
                                            f"have (columns: {columns[missing[0]]})")
        voted = {lf.task.name for lf in lfs} | {str(spec["task"]) for spec in self.raw.get("annotators") or []}
        for name in self.task_names:
            if name not in voted:  # aggregate would stop later, on a votes column that was never written
                raise self.error(("tasks", name), f"no LF and no annotators vote for task {name!r} (tasks with votes: "
                                                  f"{sorted(voted)}); give it LFs or remove it")
        for i, spec in enumerate(self.raw.get("annotators") or []):
            missing = [s for s in splits if spec["column"] not in columns[s]]
            if missing:
                raise self.error(("annotators", i, "column"), f"split {missing[0]!r} has no column {spec['column']!r} "
                                                              f"of answers (columns: {columns[missing[0]]})")
        agg = self.section("aggregate")
        for key in ("fit_split", "dev_split"):
            if agg.get(key) is not None and agg[key] not in splits:
                raise self.error(("aggregate", key), f"unknown split {agg[key]!r}; the data has {splits}")
        split = self.section("report").get("split")
        if split is not None and split not in splits:
            raise self.error(("report", "split"), f"unknown split {split!r}; the data has {splits}")
        gold = agg.get("gold")
        golds = gold.items() if isinstance(gold, Mapping) else ([(None, gold)] if gold is not None else [])
        for task, col in golds:
            if task is not None and task not in self.task_names:
                raise self.error(("aggregate", "gold", task), f"unknown task {task!r}; tasks are "
                                                              f"{sorted(self.task_names)}")
            if not any(col in columns[s] for s in splits):
                place: tuple = ("aggregate", "gold", task) if task else ("aggregate", "gold")
                raise self.error(place, f"gold column {col!r} is in no split")


def _expected_type(fn: Any, name: str) -> Any:
    """The annotation of parameter ``name`` of ``fn`` (a class: its ``__init__``), or None if unknown."""
    import typing

    target = fn.__init__ if isinstance(fn, type) else fn  # type: ignore[misc]  # read for its annotations only
    try:
        return typing.get_type_hints(target).get(name)
    except Exception:  # noqa: BLE001 - unresolvable annotations: no check, the call itself will judge
        return None


def _conforms(value: Any, hint: Any) -> bool:
    """Whether a YAML value can be given where ``hint`` is expected (only plain data types are judged)."""
    import collections.abc as abc
    import types
    import typing

    origin = typing.get_origin(hint)
    if hint is typing.Any or hint is object:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, h) for h in typing.get_args(hint))
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin in (list, tuple, abc.Sequence, abc.Iterable) or hint in (list, tuple):
        return isinstance(value, (list, tuple))
    if origin in (dict, abc.Mapping) or hint in (dict,):
        return isinstance(value, dict)
    if hint is os.PathLike or origin is os.PathLike:
        return isinstance(value, (str, os.PathLike))
    return True  # classes of objects (a Task, an encoder): built by the recipe, judged by the call


def _describe(hint: Any) -> str:
    import typing

    if typing.get_origin(hint) in (typing.Union, __import__("types").UnionType):
        return " or ".join(_describe(h) for h in typing.get_args(hint))
    if hint is type(None):
        return "null"
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def _accepts(fn: Any, name: str) -> bool:
    import inspect

    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _catalog() -> dict[str, str]:
    try:
        return dict(resolve_object(CATALOG_REF))
    except SourceError:
        return {}


def parse_recipe(text: str, *, file: str = "<recipe>") -> Recipe:
    """Parse and validate recipe text (structure and tasks; LFs are built by :meth:`Recipe.build_lfs`)."""
    lines = _Lines(text)
    recipe = Recipe({}, text, file, _lines=lines)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else "?"
        raise RecipeError(f"{file}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise RecipeError(f"{file}:1: a recipe is a YAML mapping of sections {sorted(SECTIONS)}")
    recipe.raw = copy.deepcopy(raw)
    for key, value in raw.items():
        unknown = _unknown_key(key)
        if unknown:
            raise recipe.error((key,), unknown)
        if SECTIONS[key] is not None:
            if value is not None and not isinstance(value, dict):
                raise recipe.error((key,), f"{key!r} must be a mapping, got {type(value).__name__}")
            for sub in value or {}:
                unknown = _unknown_key(key, sub)
                if unknown:
                    raise recipe.error((key, sub), unknown)
    if raw.get("version", VERSION) != VERSION:
        raise recipe.error(("version",), f"this mmweak reads recipe version {VERSION}, not {raw['version']!r}")
    if not raw.get("data") or not raw["data"].get("source"):
        raise recipe.error(("data",), "give data.source (a folder, file, Hub id or module:function)")
    recipe.tasks, recipe.data_tasks = _parse_tasks(recipe)
    _check_annotators(recipe)
    if raw.get("annotators") and raw.get("lfs") in (None, []):
        recipe.raw["lfs"] = []
    elif not isinstance(raw.get("lfs"), list) or not raw["lfs"]:
        raise recipe.error(("lfs",), "list the LFs under 'lfs' (or people's answers under 'annotators')")
    _check_post_aggregate(recipe)
    _check_types(recipe)
    _check_gold(recipe)
    return recipe


def _check_gold(recipe: Recipe) -> None:
    """One gold column for several tasks is refused: its class indices would be read as each task's classes."""
    gold = recipe.section("aggregate").get("gold")
    tasks = sorted(recipe.task_names)
    if isinstance(gold, str) and len(tasks) > 1:
        raise recipe.error(("aggregate", "gold"), f"gold column {gold!r} for {len(tasks)} tasks ({', '.join(tasks)}): "
                                                  f"a gold column holds one task's labels; map each task to its own, "
                                                  f"e.g. gold: {{{tasks[0]}: {gold}}}")


def _description(recipe: Recipe, spec: Mapping[str, Any]) -> str:
    """A task's description, ``${source_name}`` and ``${recipe_dir}`` filled in as in every other recipe string."""
    text = spec.get("description")
    return str(recipe._value(text, ())) if isinstance(text, str) else str(text or "")


def _unknown_key(section: Any, key: Any = None) -> str | None:
    """Why ``section`` (or its ``key``) is not part of a recipe, with the closest name; ``None`` when it is."""
    if section not in SECTIONS:
        close = difflib.get_close_matches(str(section), list(SECTIONS), n=1)
        return f"unknown section {section!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
    allowed = SECTIONS[section]
    if key is None or allowed is None or key in allowed:
        return None
    close = difflib.get_close_matches(str(key), list(allowed), n=1)
    return f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else f"; allowed: {sorted(allowed)}")


def _parse_tasks(recipe: Recipe) -> tuple[dict[str, Task], dict[str, tuple[list[str], str]]]:
    """The tasks with their classes written out, and those whose classes the data names (``labels_from``)."""
    tasks = recipe.raw.get("tasks")
    if not isinstance(tasks, dict) or not tasks:
        raise recipe.error(("tasks",), "declare at least one task: {name: {labels: [...]}}")
    out: dict[str, Task] = {}
    from_data: dict[str, tuple[list[str], str]] = {}
    for name, spec in tasks.items():
        if isinstance(spec, dict) and "labels" in spec and "labels_from" in spec:
            raise recipe.error(("tasks", name, "labels_from"), "give only one of 'labels' (class names) and "
                                                               "'labels_from' (the column(s) whose classes to read)")
        if not isinstance(spec, dict) or not ("labels" in spec or "labels_from" in spec):
            raise recipe.error(("tasks", name), "a task is a mapping with 'labels' (class names) or 'labels_from' (a "
                                                "column, or columns, whose classes the data names), and an optional "
                                                "'description'")
        extra = set(spec) - {"labels", "labels_from", "description"}
        if extra:
            raise recipe.error(("tasks", name, sorted(extra)[0]), f"unknown key {sorted(extra)[0]!r}")
        if "labels_from" in spec:
            cols = spec["labels_from"]
            cols = [cols] if isinstance(cols, str) else cols
            if not isinstance(cols, list) or not cols or not all(isinstance(c, str) and c for c in cols):
                raise recipe.error(("tasks", name, "labels_from"), "labels_from is a column name or a list of them, "
                                                                   f"got {spec['labels_from']!r}")
            try:
                check_task_name(name)
            except ValueError as exc:
                raise recipe.error(("tasks", name), str(exc)) from None
            from_data[str(name)] = (list(cols), _description(recipe, spec))
            continue
        if not isinstance(spec["labels"], list):
            raise recipe.error(("tasks", name, "labels"), "labels must be a list of class names")
        try:
            out[str(name)] = Task(str(name), spec["labels"], description=_description(recipe, spec))
        except ValueError as exc:
            raise recipe.error(("tasks", name), str(exc)) from None
    return out, from_data


def _entries(recipe: Recipe, section: str, required: tuple[str, ...], optional: tuple[str, ...],
             shape: str) -> list[tuple[tuple, dict]]:
    """``(path, mapping)`` of each entry of a list section, its keys checked; ``shape`` describes an entry."""
    entries = recipe.raw.get(section)
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise recipe.error((section,), f"{section} is a list of mappings {shape}")
    out = []
    for i, spec in enumerate(entries):
        path = (section, i)
        if not isinstance(spec, dict) or any(k not in spec for k in required):
            raise recipe.error(path, f"an entry of {section} is a mapping {shape}")
        extra = set(spec) - set(required) - set(optional)
        if extra:
            raise recipe.error(path + (sorted(extra)[0],), f"unknown key {sorted(extra)[0]!r}; allowed: "
                                                           f"{sorted(required + optional)}")
        out.append((path, spec))
    return out


def _check_annotators(recipe: Recipe) -> None:
    for path, spec in _entries(recipe, "annotators", ("task", "column"), ("prefix",),
                               "with 'task' and 'column' (and optional 'prefix')"):
        recipe._task_name(spec["task"], path + ("task",))
        for key in ("column", "prefix"):
            if key in spec and (not isinstance(spec[key], str) or not spec[key]):
                raise recipe.error(path + (key,), f"{key} must be a non-empty string, got {spec[key]!r}")


def _check_post_aggregate(recipe: Recipe) -> None:
    for path, spec in _entries(recipe, "post_aggregate", ("ref",), ("params",),
                               "with 'ref' (module:function) and optional 'params'"):
        if spec.get("params") is not None and not isinstance(spec["params"], dict):
            raise recipe.error(path + ("params",), f"params must be a mapping, got {type(spec['params']).__name__}")


def _check_types(recipe: Recipe) -> None:
    checks = {
        ("apply", "num_proc"): (int, type(None)),
        ("apply", "batch_size"): (int, type(None)),
        ("apply", "on_error"): ("raise", "abstain"),
        ("aggregate", "seed"): (int,),
        ("aggregate", "tie_break"): ("prior", "random", "abstain"),
        ("aggregate", "objective"): ("accuracy", "f1"),
        ("aggregate", "pos_label"): (int, str),
        ("aggregate", "fill_abstains"): (None, "prior"),
        ("output", "overwrite"): (bool,),
        ("aggregate", "gold"): (str, dict, type(None)),
        ("label_model", "params"): (dict, type(None)),
        ("data", "columns"): (list, type(None)),
        ("data", "params"): (dict, type(None)),
    }
    for (sec, key), allowed in checks.items():
        value = (recipe.raw.get(sec) or {}).get(key, _MISSING)
        if value is _MISSING:
            continue
        types = tuple(a for a in allowed if isinstance(a, type))
        values = tuple(a for a in allowed if not isinstance(a, type))
        ok = (types and isinstance(value, types) and not (isinstance(value, bool) and bool not in types)) or (
            value in values
        )
        if not ok:
            want = " or ".join(
                [t.__name__ for t in types if t is not type(None)]
                + [repr(v) for v in values]
                + (["null"] if type(None) in types else [])
            )
            raise recipe.error((sec, key), f"expected {want}, got {value!r} ({type(value).__name__})")
    push = (recipe.raw.get("output") or {}).get("push_to_hub")
    if push is not None:
        if not isinstance(push, dict):
            raise recipe.error(("output", "push_to_hub"), "push_to_hub is a mapping with 'repo' (and options)")
        extra = set(push) - _PUSH_KEYS
        if extra:
            raise recipe.error(("output", "push_to_hub", sorted(extra)[0]), f"unknown key {sorted(extra)[0]!r}")
        if push.get("annotator_emails", "refuse") not in ("refuse", "publish"):
            raise recipe.error(("output", "push_to_hub", "annotator_emails"),
                               f"expected 'refuse' or 'publish', got {push['annotator_emails']!r}")


_MISSING = object()
_CLASS_KEYS = ("labels", "labels_from")
#: Keys whose ``--set`` values never reach the record or the card (they are published with the dataset).
_SECRET_KEY = re.compile(r"(?i)(token|secret|password|passwd|api_?key|credential|authorization)")
#: Values that are credentials whatever key they are set under (Hub and API tokens, HTTP bearer headers).
_SECRET_VALUE = re.compile(r"(?i)(\bhf_[a-z0-9]{6,}|\bsk-[a-z0-9_-]{8,}|\bbearer\s+\S+)")


def _redacted(assignment: str) -> str:
    """``assignment`` as the record keeps it: a value that looks like a secret replaced by ``<redacted>`` (a key
    on its path that names one, a mapping value holding such a key at any depth, or a token-shaped value).

    >>> _redacted("data.params.token=hf_abc"), _redacted("output.folder=out/x")
    ('data.params.token=<redacted>', 'output.folder=out/x')
    >>> _redacted("data.params={token: abc}"), _redacted("data.params.token.value=abc")
    ('data.params=<redacted>', 'data.params.token.value=<redacted>')
    >>> _redacted("data.params.headers.X=Bearer abc"), _redacted("data.params.auth=hf_abcdef12")
    ('data.params.headers.X=<redacted>', 'data.params.auth=<redacted>')
    """
    key, _, value = assignment.partition("=")
    secret = any(_SECRET_KEY.search(part) for part in key.split(".")) or bool(_SECRET_VALUE.search(value))
    if not secret:
        try:
            secret = _holds_secret_key(yaml.safe_load(value))
        except yaml.YAMLError:  # not YAML: set_value refuses it before it is recorded
            pass
    return f"{key}=<redacted>" if secret else assignment


def _holds_secret_key(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_SECRET_KEY.search(str(k)) or _holds_secret_key(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_secret_key(v) for v in value)
    return False


def load_recipe(path: str | os.PathLike) -> Recipe:
    """Read and validate a recipe file.

    Raises :class:`RecipeError` (``file:line: where: what``) or ``FileNotFoundError``.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no recipe file {str(p)!r}")
    return parse_recipe(p.read_text(encoding="utf-8"), file=str(p))


def set_value(recipe: Recipe, assignment: str) -> None:
    """Apply a ``section.key=value`` override (the value is read as YAML), e.g. ``output.folder=out/x``.

    A number indexes a list: ``lfs.0.params.min_prob=0.4`` sets a parameter of the first LF entry. Setting a
    task's ``labels`` drops its ``labels_from`` and the other way round (both say what the classes are).

    >>> r = parse_recipe("data: {source: x}\\ntasks: {t: {labels: [a, b]}}\\nlfs: [{ref: m:f, params: {k: 1}}]")
    >>> set_value(r, "lfs.0.params.k=[2, 3]"); set_value(r, "tasks.t.labels=[a, b, c]")
    >>> r.raw["lfs"][0]["params"]["k"], r.tasks["t"].labels
    ([2, 3], ('a', 'b', 'c'))
    >>> set_value(r, "aggregate.objectiv=f1")
    Traceback (most recent call last):
    mmweak.recipe.RecipeError: --set aggregate.objectiv: unknown key 'objectiv' (did you mean 'objective'?)
    """
    key, sep, value = assignment.partition("=")
    if not sep or not key:
        raise RecipeError(f"--set takes section.key=value, got {assignment!r}")
    parts = key.split(".")
    # A misspelt name would otherwise add a key nothing reads: the run would go on without the setting.
    unknown = _unknown_key(parts[0], parts[1] if len(parts) > 1 else None)
    if unknown:
        raise RecipeError(f"--set {key}: {unknown}")
    before = (copy.deepcopy(recipe.raw), dict(recipe.tasks), dict(recipe.data_tasks))  # a refused one changes nothing
    try:
        target: Any = recipe.raw
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(target, list):  # an item of a list section: lfs.0.params.x=...
                if not part.isdigit() or int(part) >= len(target):
                    raise RecipeError(
                        f"--set {key}: {'.'.join(parts[:i]) or 'recipe'} is a list of {len(target)} "
                        f"items; {part!r} is not an index into it"
                    )
                if last:
                    target[int(part)] = yaml.safe_load(value)
                else:
                    target = target[int(part)]
            elif isinstance(target, dict):
                if last:
                    target[part] = yaml.safe_load(value)
                else:
                    target = target.setdefault(part, {})
            else:
                raise RecipeError(f"--set {key}: {'.'.join(parts[:i])!r} is neither a mapping nor a list")
        if len(parts) == 3 and parts[0] == "tasks" and parts[2] in _CLASS_KEYS and isinstance(target, dict):
            # `labels` and `labels_from` are two ways to give the classes: setting one replaces the other
            target.pop(next(k for k in _CLASS_KEYS if k != parts[2]), None)
        if parts[0] == "tasks":  # tasks are built when the recipe is parsed: build them again
            recipe.tasks, recipe.data_tasks = _parse_tasks(recipe)
        elif parts[0] == "data":  # other data may name other classes (read again when it loads), or another name
            recipe.tasks, recipe.data_tasks = _parse_tasks(recipe)
        elif parts[0] == "post_aggregate":
            _check_post_aggregate(recipe)
    except (RecipeError, yaml.YAMLError) as exc:
        recipe.raw, recipe.tasks, recipe.data_tasks = before
        if isinstance(exc, yaml.YAMLError):
            raise RecipeError(f"--set {key}: the value is not valid YAML: {getattr(exc, 'problem', exc)}") from None
        raise
    recipe.overrides.append(_redacted(assignment))
