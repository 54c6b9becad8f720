r"""Reading the data a curation starts from, one reader per format, shared by recipes, benchmarks and tests.

* :func:`read_wrench` — a WRENCH folder (``train/valid/test.json``, ``label.json``): ``text`` (where the
  set has it), a gold ``label`` (``ClassLabel``) and the benchmark's own ``weak_labels``;
* :func:`read_crowd` — a crowdsourcing folder (``label.csv`` of item, worker, label; ``truth.csv``):
  one row per item with its ``answers`` (``{worker, label}`` lists) and gold ``label``;
* :func:`load_source` — either of those, or anything ``datasets.load_dataset`` reads (a local
  file or folder, a Hub id), or a ``module:function`` that returns a dataset, as a ``DatasetDict``
  whose split names follow the Hub's conventions (``valid``/``dev`` become ``validation``).

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "label.csv").write_text("item,worker,label\n0,0,1\n0,1,1\n1,0,0\n")
>>> _ = (folder / "truth.csv").write_text("item,truth\n0,1\n")
>>> ds = load_source(folder)
>>> ds["train"]["answers"][0], list(ds["train"]["label"])
([{'worker': 0, 'label': 1}, {'worker': 1, 'label': 1}], [1, -1])
"""

from __future__ import annotations

import gzip
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from datasets import ClassLabel, Dataset, DatasetDict, Features, List, Value, load_dataset

from .columns import fixed_list, split_dict
from .crowd_files import class_index, id_order, read_crowd_rows
from .errors import SourceError
from .task import class_key

SPLIT_ALIASES = {"valid": "validation", "val": "validation", "dev": "validation"}
_WRENCH_FILES = {"train": "train", "validation": "valid", "test": "test"}


def _read_json(path: Path) -> dict:
    gz = path.with_name(path.name + ".gz")
    for file, opener in ((path, open), (gz, gzip.open)):
        if file.exists():
            try:
                with opener(file, "rt", encoding="utf-8") as f:
                    return json.load(f)
            except (json.JSONDecodeError, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as exc:
                raise SourceError(f"{file}: not readable as JSON ({type(exc).__name__}: {exc}); the file may be cut "
                                  "short or not JSON") from None
    raise FileNotFoundError(path)


def is_wrench(folder: str | os.PathLike) -> bool:
    """True for a folder laid out like a WRENCH dataset."""
    p = Path(folder)
    return p.is_dir() and (p / "label.json").is_file() and any(
        (p / f"train.json{gz}").is_file() for gz in ("", ".gz"))


def read_wrench(folder: str | os.PathLike) -> DatasetDict:
    """A WRENCH dataset folder as train/validation/test splits (rows in the files' key order; ``valid`` may be absent).

    Raises:
        SourceError: the folder is not a WRENCH classification set (``label.json`` not a list of class names or a
            map from ``0..K-1``; sequence labels, as in WRENCH's NER sets), or a row is malformed (named by split
            and id: a gold label outside the classes, a different number of weak labels than the split's first row).
    """
    base = Path(folder)
    if not is_wrench(base):
        raise SourceError(f"{str(base)!r} is not a WRENCH folder (label.json and train.json expected)")
    classes = _wrench_classes(base / "label.json")
    files: dict[str, tuple[str, dict]] = {}
    for split, stem in _WRENCH_FILES.items():
        try:
            files[split] = (stem, _read_json(base / f"{stem}.json"))
        except FileNotFoundError:
            if split == "train":
                raise
    # An empty split takes the shape of the first split with rows, so that every split has the same features.
    first = next((next(iter(rows.values())) for _, rows in files.values() if rows), None)
    m_any = len(first["weak_labels"]) if first is not None else 0
    text_any = first is not None and isinstance(first.get("data"), Mapping) and "text" in first["data"]
    out: dict[str, Dataset] = {}
    for split, (stem, rows) in files.items():
        keys = sorted(rows, key=id_order)
        items = [rows[k] for k in keys]
        m = len(items[0]["weak_labels"]) if items else m_any
        labels: list[int] = []
        for key, r in zip(keys, items):
            label = class_index(r.get("label"))
            if label is None or not -1 <= label < len(classes):
                kind = ("a sequence label (WRENCH's NER sets are not classification sets)"
                        if isinstance(r["label"], list)
                        else f"not a class index -1..{len(classes) - 1} ({len(classes)} classes in label.json)")
                raise SourceError(f"{base / stem}.json, id {key!r}: label {r['label']!r} is {kind}")
            labels.append(label)
            if len(r["weak_labels"]) != m:
                raise SourceError(f"{base / stem}.json, id {key!r}: {len(r['weak_labels'])} weak labels, but the "
                                  f"split's first row has {m}")
        columns: dict[str, Any] = {"label": labels}
        features = {"label": ClassLabel(names=classes)}
        if isinstance(items[0].get("data"), Mapping) and "text" in items[0]["data"] if items else text_any:
            columns = {"text": [r["data"].get("text") for r in items], **columns}
            features = {"text": Value("string"), **features}
        ds = Dataset.from_dict(columns, features=Features(features), split=split)
        # The votes go in as one Arrow buffer: from_dict encoded the matrix row by row (4.5 s at 200k x 68).
        L = _weak_labels(items, keys, m, len(classes), f"{base / stem}.json")
        votes = fixed_list(L) if L.size else [row.tolist() for row in L]  # Arrow has no fixed lists of 0 values
        out[split] = ds.add_column("weak_labels", votes, feature=List(Value("int8"), length=m))
    return DatasetDict(out)


def _weak_labels(items: list[dict], keys: list[str], m: int, K: int, where: str) -> np.ndarray:
    """The split's weak labels as an ``(n, m)`` int8 matrix; a vote that is not a class index is a SourceError."""
    try:
        fast = np.array([r["weak_labels"] for r in items])
    except (TypeError, ValueError):  # ragged nested cells: the checks below name the first bad one
        fast = np.zeros((0, 0))
    if fast.shape == (len(items), m) and fast.dtype.kind in "iu" and fast.size and fast.min() >= -1 and fast.max() < K:
        return fast.astype(np.int8)  # plain integers, as WRENCH writes them: no cell needs looking at
    votes = np.empty((len(items), m), dtype=object)  # cell by cell: a nested list stays one (bad) cell
    for i, r in enumerate(items):
        for j, v in enumerate(r["weak_labels"]):
            votes[i, j] = v
    try:
        L = votes.astype(np.int64)
        exact = bool((L == votes).all())  # 0.7 would pass the cast as 0
    except (TypeError, ValueError):
        exact = False
    if exact and (L.size == 0 or (L.min() >= -1 and L.max() < K)):
        return L.astype(np.int8)
    out = np.empty(votes.shape, dtype=np.int8)  # whole numbers written as strings or floats, or an error
    for i, j in np.ndindex(votes.shape):
        index = class_index(votes[i, j])
        if votes[i, j] is None or index is None or not -1 <= index < K:
            raise SourceError(f"{where}, id {keys[i]!r}: weak label {j} is {votes[i, j]!r}, not a class index "
                              f"-1..{K - 1}")
        out[i, j] = index
    return out


def _wrench_classes(path: Path) -> list[str]:
    """Class names from ``label.json``: ``{"0": name, ...}`` as WRENCH writes it, or a plain list of names."""
    names = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(names, list):
        names = {str(k): n for k, n in enumerate(names)}
    if not isinstance(names, dict):
        raise SourceError(f"{path}: expected class names keyed 0..K-1 or a list of names, got a JSON "
                          f"{type(names).__name__}")
    want = [str(k) for k in range(len(names))]
    if sorted(names) != sorted(want):
        raise SourceError(f"{path}: expected class names keyed 0..{len(want) - 1} or a list of names, "
                          f"got keys {sorted(names)}")
    classes = [str(names[k]) for k in want]
    if len({class_key(c) for c in classes}) < len(classes):  # names are compared without case wherever read
        raise SourceError(f"{path}: class names must differ (case and outer spaces aside), got {classes}")
    return classes


def read_crowd(
    source: str | os.PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    truth: str | os.PathLike | None = None,
    numbers_as_names: bool = False,
) -> DatasetDict:
    """Crowd answers as one ``train`` split: per item, its ``answers`` and its gold ``label`` (``-1``: none).

    ``source`` is a crowd folder (``label.csv`` of ``item,worker,label`` and, where present, ``truth.csv`` of
    ``item,truth``, as the truth-inference benchmarks ship them) or one CSV/TSV file of answers in that long
    format (one line per answer), with gold from the file ``truth`` names if any. ``columns`` maps these column
    names to a file's own (``{"item": "task_id", "worker": "annotator", "label": "answer"}``; without case).
    Labels that are numbers are class indices ``0..K-1``, as the benchmarks write them; ``numbers_as_names=True``
    reads them as class names instead (a rating 1..5: the classes "1".."5", no class "0").

    ``item`` holds each row's id as the files write it; where labels are class names, ``label`` is a ``ClassLabel``
    of those names in sorted order and the answers hold the names (``add_annotator_votes`` maps them to the task's
    classes, in whatever order the task lists them). How files that differ from the benchmarks'
    are read, and which rows there are, is said in :mod:`mmweak.crowd_files`.

    Raises:
        SourceError: no answers file, a missing column, an empty cell, or labels that are neither all class
            indices nor all class names (the message names the file and line).

    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "answers.tsv"
    >>> _ = f.write_text("task_id\\tannotator\\tanswer\\nq1\\tann\\tcat\\nq1\\tbob\\tdog\\nq2\\tbob\\tcat\\n")
    >>> ds = read_crowd(f, columns={"item": "task_id", "worker": "annotator", "label": "answer"})["train"]
    >>> list(ds["item"]), ds.features["label"].names, [a["label"] for a in ds["answers"][0]]
    (['q1', 'q2'], ['cat', 'dog'], ['cat', 'dog'])
    """
    base = Path(source)
    if base.is_dir():
        answers = base / "label.csv"
        if not answers.is_file():
            raise SourceError(f"{str(base)!r} is not a crowd folder (label.csv of item,worker,label expected)")
        gold = Path(truth) if truth is not None else (base / "truth.csv" if (base / "truth.csv").is_file() else None)
    elif base.is_file():
        answers, gold = base, None if truth is None else Path(truth)
    else:
        raise SourceError(f"no crowd folder or answers file {str(base)!r}")
    if gold is not None and not gold.is_file():
        raise SourceError(f"no gold file {str(gold)!r} (truth=)")
    rows = read_crowd_rows(answers, gold, columns, bool(numbers_as_names))
    features = None
    if rows.classes is not None:  # the class names go in the features; the rest is typed as from_dict would

        def ids(values: Any) -> Value:
            return Value("string") if any(isinstance(v, str) for v in values) else Value("int64")

        features = Features({
            "item": ids(rows.items),
            "answers": List({"worker": ids(a["worker"] for r in rows.answers for a in r), "label": Value("string")}),
            "label": ClassLabel(names=rows.classes),
        })
    return DatasetDict({"train": Dataset.from_dict(
        {"item": rows.items, "answers": rows.answers, "label": rows.gold}, features=features, split="train")})


def resolve_object(ref: str, *, search: Sequence[str | os.PathLike] = ()) -> Any:
    """The object a ``module:attribute`` (or ``module.attribute``) reference names.

    A module that is not importable as installed is looked for under the ``search`` folders too (a
    recipe's own folder and the working directory), without changing ``sys.path`` for anything else.
    """
    module, sep, attr = ref.partition(":")
    if not sep:
        module, _, attr = ref.rpartition(".")
    if not module or not attr:
        raise SourceError(f"{ref!r} is not a 'module:attribute' reference")
    try:
        obj: Any = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or not module.startswith(exc.name.split(".")[0]):
            raise SourceError(f"cannot import module {module!r} (from {ref!r}): {exc}") from exc
        obj = _import_from(module, [str(p) for p in search], exc)
    except ImportError as exc:
        raise SourceError(f"cannot import module {module!r} (from {ref!r}): {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - the module's own code failed while it was imported
        raise SourceError(f"importing module {module!r} (from {ref!r}) raised {type(exc).__name__}: {exc} "
                          "(--debug shows where)") from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise SourceError(f"module {module!r} has no attribute {attr!r} (from {ref!r})")
        obj = getattr(obj, part)
    return obj


def _import_from(module: str, folders: list[str], first: Exception) -> Any:
    for folder in folders:
        if not folder or not os.path.isdir(folder):
            continue
        sys.path.insert(0, folder)
        try:
            return importlib.import_module(module)
        except ModuleNotFoundError:
            continue
        except Exception as exc:  # noqa: BLE001 - found, but its own code failed while it was imported
            raise SourceError(f"importing module {module!r} (from {folder}) raised {type(exc).__name__}: {exc} "
                              "(--debug shows where)") from exc
        finally:
            sys.path.remove(folder)
    raise SourceError(f"cannot import module {module!r}: {first} (looked in {folders or 'the installed packages'})")


def normalize_splits(ds: Dataset | DatasetDict) -> DatasetDict:
    """A ``DatasetDict`` whose ``valid``/``val``/``dev`` split is called ``validation``."""
    if isinstance(ds, Dataset):
        return DatasetDict(split_dict(ds))
    if not isinstance(ds, DatasetDict):
        raise SourceError(f"a source must give a datasets.Dataset or DatasetDict, got {type(ds).__name__}")
    out = {}
    for name, d in ds.items():
        new = SPLIT_ALIASES.get(name, name)
        if new in out:
            raise SourceError(f"splits {name!r} and {new!r} would both be called {new!r}")
        out[new] = d
    return DatasetDict(out)


def _refuse_part_of_a_known_folder(path: Path) -> None:
    """A WRENCH or crowd folder missing the file its format is known by, or one file of such a folder, would be
    read as plain JSON or CSV (a WRENCH split's row ids as thousands of columns): say what is missing instead."""
    splits = {f"{stem}.json{gz}" for stem in ("train", "valid", "test") for gz in ("", ".gz")}
    if path.is_file() and path.name in splits:
        if is_wrench(path.parent):
            raise SourceError(f"{str(path)!r} is one split of the WRENCH folder {str(path.parent)!r}: give the folder "
                              "as the source (its label.json names the classes)")
    if not path.is_dir():
        return
    names = {p.name for p in path.iterdir()}
    wrench = [f"{stem}.json" for stem in ("train", "valid", "test") if {f"{stem}.json", f"{stem}.json.gz"} & names]
    if wrench and not is_wrench(path):
        missing = "label.json (the class names)" if "label.json" not in names else "train.json"
        raise SourceError(f"{str(path)!r} holds {', '.join(wrench)} like a WRENCH folder but no {missing}; a WRENCH "
                          "folder needs label.json and train.json (valid.json and test.json are optional)")
    if "truth.csv" in names and "label.csv" not in names:
        raise SourceError(f"{str(path)!r} holds truth.csv like a crowd folder but no label.csv (the answers, one "
                          "'item,worker,label' line each)")


def load_source(
    source: str | os.PathLike,
    *,
    format: str | None = None,
    params: Mapping[str, Any] | None = None,
    search: Sequence[str | os.PathLike] = (),
) -> DatasetDict:
    """The data a curation starts from, as a ``DatasetDict``.

    Args:
        source: a folder or file, a Hub dataset id, or (with ``format="python"``) a ``module:function``.
        format: ``"wrench"``, ``"crowd"``, ``"python"``, or a ``datasets`` builder (``"csv"``, ``"json"``,
            ``"parquet"``, ``"imagefolder"``, ``"audiofolder"``...); ``None`` guesses from the source.
        params: keyword arguments for the function or for ``load_dataset``.
        search: folders where a ``module:function`` source may also be found (see :func:`resolve_object`).
    """
    params = dict(params or {})
    src = str(source)
    path = Path(src)
    if format is None:
        _refuse_part_of_a_known_folder(path)
    fmt = format or ("wrench" if is_wrench(path) else "crowd" if (path / "label.csv").is_file() else None)
    if fmt == "wrench":
        return read_wrench(path)
    if fmt == "crowd":  # params: columns= (the files' column names), truth= (a gold file beside an answers file)
        unknown = sorted(set(params) - {"columns", "truth", "numbers_as_names"})
        if unknown:
            raise SourceError(f"format 'crowd' takes params 'columns', 'truth' and 'numbers_as_names', not {unknown}")
        return read_crowd(path, **params)
    if fmt == "python":
        fn = resolve_object(src, search=search)
        if not callable(fn):
            raise SourceError(f"{src!r} is not callable")
        return normalize_splits(fn(**params))
    try:
        if fmt is not None and path.is_dir() and "data_files" not in params:
            # a folder is a data_dir to a builder: as data_files it is taken for a file that does not exist
            loaded = load_dataset(fmt, data_dir=src, **params)
        elif fmt is not None:
            data_files = params.pop("data_files", src)
            loaded = load_dataset(fmt, data_files=data_files, **params)
        elif path.is_file():
            suffix = path.suffix.lstrip(".").lower()
            builder = {"jsonl": "json", "tsv": "csv", "txt": "text"}.get(suffix, suffix)
            extra = {"delimiter": "\t"} if suffix == "tsv" else {}
            loaded = load_dataset(builder, data_files=src, **extra, **params)
        else:
            loaded = load_dataset(src, **params)
    except Exception as exc:  # noqa: BLE001 - datasets raises many kinds; the message is what matters
        raise SourceError(f"cannot load {src!r}: {type(exc).__name__}: {exc}") from exc
    return normalize_splits(loaded)
