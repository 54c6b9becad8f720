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

import csv
import gzip
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

from datasets import ClassLabel, Dataset, DatasetDict, Features, List, Value, load_dataset

SPLIT_ALIASES = {"valid": "validation", "val": "validation", "dev": "validation"}
_WRENCH_FILES = {"train": "train", "validation": "valid", "test": "test"}


class SourceError(ValueError):
    """The data source cannot be read; the message names it and says why."""


def _read_json(path: Path) -> dict:
    if path.exists():
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    gz = path.with_name(path.name + ".gz")
    if gz.exists():
        with gzip.open(gz, "rt", encoding="utf-8") as f:
            return json.load(f)
    raise FileNotFoundError(path)


def is_wrench(folder: str | os.PathLike) -> bool:
    """True for a folder laid out like a WRENCH dataset."""
    p = Path(folder)
    return p.is_dir() and (p / "label.json").is_file() and any(
        (p / f"train.json{gz}").is_file() for gz in ("", ".gz"))


def read_wrench(folder: str | os.PathLike) -> DatasetDict:
    """A WRENCH dataset folder as train/validation/test splits (rows in the files' key order)."""
    base = Path(folder)
    if not is_wrench(base):
        raise SourceError(f"{str(base)!r} is not a WRENCH folder (label.json and train.json expected)")
    names = json.loads((base / "label.json").read_text(encoding="utf-8"))
    classes = [str(names[str(k)]) for k in range(len(names))]
    out = {}
    for split, stem in _WRENCH_FILES.items():
        try:
            rows = _read_json(base / f"{stem}.json")
        except FileNotFoundError:
            if split == "train":
                raise
            continue
        items = [rows[k] for k in sorted(rows, key=lambda k: int(k) if str(k).isdigit() else str(k))]
        columns: dict[str, list] = {
            "label": [-1 if r.get("label") is None else int(r["label"]) for r in items],
            "weak_labels": [list(map(int, r["weak_labels"])) for r in items],
        }
        m = len(columns["weak_labels"][0]) if items else 0
        features = {"label": ClassLabel(names=classes), "weak_labels": List(Value("int8"), length=m)}
        if items and isinstance(items[0].get("data"), Mapping) and "text" in items[0]["data"]:
            columns = {"text": [r["data"].get("text") for r in items], **columns}
            features = {"text": Value("string"), **features}
        out[split] = Dataset.from_dict(columns, features=Features(features), split=split)
    return DatasetDict(out)


def read_crowd(folder: str | os.PathLike) -> DatasetDict:
    """A crowdsourcing folder as one ``train`` split: per item, its answers and its gold label (``-1``: none)."""
    base = Path(folder)
    if not (base / "label.csv").is_file():
        raise SourceError(f"{str(base)!r} is not a crowd folder (label.csv of item,worker,label expected)")
    answers: dict[int, list[dict[str, int]]] = {}
    with open(base / "label.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            answers.setdefault(int(r["item"]), []).append({"worker": int(r["worker"]), "label": int(r["label"])})
    truth: dict[int, int] = {}
    if (base / "truth.csv").is_file():
        with open(base / "truth.csv", newline="", encoding="utf-8") as f:
            truth = {int(r["item"]): int(r["truth"]) for r in csv.DictReader(f)}
    n = max([*answers, *truth]) + 1 if (answers or truth) else 0
    return DatasetDict({"train": Dataset.from_dict({
        "item": list(range(n)),
        "answers": [answers.get(i, []) for i in range(n)],
        "label": [truth.get(i, -1) for i in range(n)],
    }, split="train")})


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
        finally:
            sys.path.remove(folder)
    raise SourceError(f"cannot import module {module!r}: {first} (looked in {folders or 'the installed packages'})")


def normalize_splits(ds: Dataset | DatasetDict) -> DatasetDict:
    """A ``DatasetDict`` whose ``valid``/``val``/``dev`` split is called ``validation``."""
    if isinstance(ds, Dataset):
        return DatasetDict({str(ds.split) if ds.split is not None else "train": ds})
    if not isinstance(ds, DatasetDict):
        raise SourceError(f"a source must give a datasets.Dataset or DatasetDict, got {type(ds).__name__}")
    out = {}
    for name, d in ds.items():
        new = SPLIT_ALIASES.get(name, name)
        if new in out:
            raise SourceError(f"splits {name!r} and {new!r} would both be called {new!r}")
        out[new] = d
    return DatasetDict(out)


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
    fmt = format or ("wrench" if is_wrench(path) else "crowd" if (path / "label.csv").is_file() else None)
    if fmt == "wrench":
        return read_wrench(path)
    if fmt == "crowd":
        return read_crowd(path)
    if fmt == "python":
        fn = resolve_object(src, search=search)
        if not callable(fn):
            raise SourceError(f"{src!r} is not callable")
        return normalize_splits(fn(**params))
    try:
        if fmt is not None:
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
