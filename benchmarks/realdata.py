"""Loaders for the real benchmark data in ``../shared/data`` (WRENCH and crowdsourcing sets).

Both become plain vote matrices (``-1`` = abstain) so every label model sees the same input.
The data is third-party and is read in place, never copied into this repository.

Every set in the folder is found, not only the twelve named below: a WRENCH folder (``label.json`` and
``train.json``) under ``wrench/``, a crowd folder (``label.csv``) under ``crowd/``. The published numbers and
the WRENCH metric of a set not named here are read from the tables of the folder's ``README.md`` when it lists
them (see :func:`readme_tables`); a crowd set whose name is also a WRENCH set's is called ``<name>-crowd``.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmweak.columns import read_column, read_matrix
from mmweak.labelmodels.decision import tie_split_credit
from mmweak.sources import is_wrench, read_crowd, read_wrench

DATA = Path(os.environ.get("MMWEAK_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))

#: Published test-split numbers from ``data/README.md`` (WRENCH repo figure, label model alone).
WRENCH_PUBLISHED = {
    "youtube": {"MV": 84.00, "WMV": 78.00, "DS": 83.20, "DP": 82.00, "MeTaL": 84.00, "FS": 76.80},
    "trec": {"MV": 60.80, "WMV": 57.20, "DS": 50.00, "DP": 64.20, "MeTaL": 57.60, "FS": 31.40},
    "imdb": {"MV": 71.04, "WMV": 71.04, "DS": 70.60, "DP": 70.96, "MeTaL": 70.96, "FS": 70.36},
    "yelp": {"MV": 70.21, "WMV": 68.50, "DS": 71.45, "DP": 69.37, "MeTaL": 68.30, "FS": 68.68},
    "basketball": {"MV": 16.33, "WMV": 13.13, "DS": 13.79, "DP": 17.39, "MeTaL": 13.13, "FS": 17.25},
    "census": {"MV": 32.80, "WMV": 9.99, "DS": 47.16, "DP": 22.66, "MeTaL": 44.48, "FS": 15.33},
}
WRENCH_F1 = {"basketball", "census"}  # scored by F1 of class 1; the rest by accuracy
#: WRENCH's other rare-class binary sets, scored by F1 of class 1 in its paper, for sets the README does not describe.
WRENCH_F1_CONVENTION = {"spouse", "cdr", "sms", "tennis", "commercial"}

#: Published accuracies on the crowd sets (EBCC authors' notebooks).
CROWD_PUBLISHED = {
    "bluebird": {"EBCC": 0.8611, "IBCC": 0.8889, "BWA": 0.7593},
    "dog": {"EBCC": 0.8401, "IBCC": 0.8389, "BWA": 0.8315},
    "rte": {"EBCC": 0.9313, "IBCC": 0.9275, "BWA": 0.9275},
    "web": {"EBCC": 0.7686, "IBCC": 0.7508, "BWA": 0.8225},
    "sentiment1k": {"EBCC": 0.9610, "IBCC": 0.9600, "BWA": 0.9560},
    "product": {"EBCC": 0.9349, "IBCC": 0.9383, "BWA": 0.9194},
}


@dataclass
class Split:
    L: np.ndarray  # (n, m) int8/int16 votes, -1 = abstain
    y: np.ndarray  # (n,) gold labels, -1 = unknown


@dataclass
class WrenchSet:
    name: str
    classes: list[str]
    train: Split
    valid: Split
    test: Split

    @property
    def cardinality(self) -> int:
        return len(self.classes)


@dataclass
class CrowdSet:
    name: str
    cardinality: int
    votes: Split  # one row per item, one column per worker; y = -1 where no gold exists


def load_wrench(name: str, root: Path | None = None) -> WrenchSet:
    """One WRENCH dataset's train/valid/test vote matrices and gold labels (read by :mod:`mmweak.sources`)."""
    ds = read_wrench((DATA / "wrench" if root is None else root) / name)
    classes = list(ds["train"].features["label"].names)
    m = ds["train"].features["weak_labels"].length
    # A set without a valid.json gets an empty valid split: no dev rows.
    splits = {stem: Split(read_matrix(ds[split], "weak_labels").astype(np.int8),
                          read_column(ds[split], "label").astype(np.int64))
              if split in ds else Split(np.full((0, m), -1, np.int8), np.zeros(0, np.int64))
              for split, stem in (("train", "train"), ("validation", "valid"), ("test", "test"))}
    gold = splits["valid"].y >= 0  # dev rows are the valid rows with gold (the rest would be refused by fit)
    splits["valid"] = Split(splits["valid"].L[gold], splits["valid"].y[gold])
    return WrenchSet(name, classes, **splits)


def load_crowd(name: str, root: Path | None = None) -> CrowdSet:
    """One crowdsourcing set as an items x workers matrix (``-1`` where a worker did not answer), read by
    :mod:`mmweak.sources`; items after the last answered one are left out.

    Answers repeated verbatim (same item, worker and label) count once, as the EBCC authors count them
    (``drop_duplicates``). A worker who gave one item *different* answers keeps all of them, as there: the
    second (third, ...) distinct answer goes to an extra column of that worker, after the ``m`` worker columns
    (workers numbered in the order of their ids).
    """
    folder = crowd_folder(name, root)
    ds = read_crowd(folder)["train"]
    answers = ds.data.column("answers").combine_chunks()
    flat = answers.flatten()
    counts = np.diff(answers.offsets.to_numpy())
    items = np.repeat(np.arange(len(answers)), counts)
    # Names (strings) or numbers alike; compacted, so ids with gaps (0, 7, 100000) cost three columns, not 100001.
    ids = flat.field("worker").to_numpy(zero_copy_only=False)
    workers = np.unique(ids, return_inverse=True)[1].ravel().astype(np.int64)
    names = getattr(ds.features["label"], "names", None)  # class names, where the files name classes
    raw = flat.field("label").to_numpy(zero_copy_only=False)
    labels = np.searchsorted(names, raw).astype(np.int64) if names else raw.astype(np.int64)  # names are sorted
    gold = read_column(ds, "label").astype(np.int64)
    n = int(items.max()) + 1
    m = int(workers.max()) + 1
    K = len(names) if names else int(max(labels.max(), gold.max())) + 1
    keep = np.unique(np.stack([items, workers, labels], axis=1), axis=0, return_index=True)[1]
    keep.sort()  # first occurrence of each distinct answer, in file order
    items, workers, labels = items[keep], workers[keep], labels[keep]
    pair = items * m + workers
    order = np.argsort(pair, kind="stable")
    first = np.r_[True, pair[order][1:] != pair[order][:-1]]
    starts = np.maximum.accumulate(np.where(first, np.arange(order.size), 0))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size) - starts  # 0 for a worker's first answer on an item, 1 for a second, ...
    columns = workers.copy()
    if rank.any():
        extra = np.unique(np.stack([rank[rank > 0], workers[rank > 0]], axis=1), axis=0)
        index = {(int(r), int(w)): m + i for i, (r, w) in enumerate(extra)}
        columns[rank > 0] = [index[(int(r), int(w))] for r, w in zip(rank[rank > 0], workers[rank > 0])]
    L = np.full((n, int(columns.max()) + 1), -1, dtype=np.int8 if K <= 127 else np.int16)
    L[items, columns] = labels
    return CrowdSet(name, K, Split(L, gold[:n].copy()))


def wrench_names(root: Path | None = None) -> list[str]:
    """Every WRENCH set under ``root`` (default ``DATA/wrench``): the twelve named here first, then the rest by name."""
    found = _folders(DATA / "wrench" if root is None else root, is_wrench)
    return [n for n in WRENCH_PUBLISHED if n in found] + sorted(found - set(WRENCH_PUBLISHED))


def crowd_names(root: Path | None = None) -> list[str]:
    """Every crowd set under ``root`` (default ``DATA/crowd``), named as :func:`crowd_folder` resolves them."""
    found = _folders(DATA / "crowd" if root is None else root, lambda p: (p / "label.csv").is_file())
    wrench = set(wrench_names()) if root is None else set()
    names = [n for n in CROWD_PUBLISHED if n in found] + sorted(found - set(CROWD_PUBLISHED))
    return [f"{n}-crowd" if n in wrench else n for n in names]


def crowd_folder(name: str, root: Path | None = None) -> Path:
    """The folder of crowd set ``name`` (``trec-crowd`` is ``crowd/trec`` when ``wrench/trec`` exists too)."""
    base = DATA / "crowd" if root is None else root
    if not (base / name).is_dir() and name.endswith("-crowd") and (base / name[: -len("-crowd")]).is_dir():
        return base / name[: -len("-crowd")]
    return base / name


def set_folder(name: str) -> Path:
    """The folder set ``name`` is read from: ``DATA/wrench/<name>`` for a WRENCH set, else its crowd folder."""
    return DATA / "wrench" / name if name in wrench_names() else crowd_folder(name)


def set_fingerprint(name: str) -> str:
    """A digest of every file of set ``name`` (relative names and bytes): saved anchor results carry it, so results
    computed on another data folder's set of the same name are never scored against this one's gold."""
    folder = set_folder(name)
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _folders(root: Path, accept) -> set[str]:
    return {p.name for p in root.iterdir() if accept(p)} if root.is_dir() else set()


def readme_tables(path: Path | None = None) -> list[list[dict[str, str]]]:
    """The markdown tables of the data folder's ``README.md``, each a list of rows keyed by its header cells.

    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "README.md"
    >>> _ = f.write_text("text\\n\\n| dataset | EBCC |\\n|---|---|\\n| duck | 0.8 |\\n")
    >>> readme_tables(f)
    [[{'dataset': 'duck', 'EBCC': '0.8'}]]
    """
    path = DATA / "README.md" if path is None else path
    if not path.is_file():
        return []
    stamp = (str(path), path.stat().st_mtime_ns)
    if stamp not in _README_TABLES:  # read once per file version: every score asks for the metric
        _README_TABLES[stamp] = _parse_tables(path.read_text(encoding="utf-8"))
    return _README_TABLES[stamp]


_README_TABLES: dict[tuple[str, int], list[list[dict[str, str]]]] = {}


def _parse_tables(text: str) -> list[list[dict[str, str]]]:
    tables, block = [], []
    for line in [*text.splitlines(), ""]:
        if line.strip().startswith("|"):
            block.append([c.strip() for c in line.strip().strip("|").split("|")])
            continue
        if len(block) > 2:
            head = block[0]
            tables.append([dict(zip(head, row)) for row in block[2:] if len(row) == len(head)])
        block = []
    return tables


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def published_wrench(name: str) -> dict[str, float]:
    """Published test numbers of a WRENCH set (method -> percent): the table above, else the README's."""
    if name in WRENCH_PUBLISHED:
        return WRENCH_PUBLISHED[name]
    for table in readme_tables():
        for row in table:
            key = next(iter(row))
            if key.startswith("dataset (metric)") and re.sub(r"\s*\(.*\)$", "", row[key]) == name:
                return {k: v for k, v in ((k, _number(c)) for k, c in list(row.items())[1:]) if v is not None}
    return {}


def published_crowd(name: str) -> dict[str, float]:
    """Published accuracies of a crowd set (method -> fraction): the table above, else the README's."""
    if name in CROWD_PUBLISHED:
        return CROWD_PUBLISHED[name]
    folder = crowd_folder(name).name
    for table in readme_tables():
        for row in table:
            if {"items", "workers"} <= set(row) and row.get("dataset") == folder:
                after = list(row)[list(row).index("answers") + 1:] if "answers" in row else []
                return {k: v for k, v in ((k, _number(row[k])) for k in after) if v is not None}
    return {}


def is_f1(name: str) -> bool:
    """Whether WRENCH set ``name`` is scored by F1 of class 1: named above, or the README's metric column says
    so, or (for a set the README does not describe) WRENCH's own convention."""
    if name in WRENCH_F1:
        return True
    for table in readme_tables():
        for row in table:
            if row.get("dataset") == name and "metric" in row:
                return "f1" in row["metric"].lower()
    return name in WRENCH_F1_CONVENTION


def f1_class1(y: np.ndarray, pred: np.ndarray) -> float:
    tp = float(((pred == 1) & (y == 1)).sum())
    fp = float(((pred == 1) & (y != 1)).sum())
    fn = float(((pred != 1) & (y == 1)).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def wrench_score(name: str, y: np.ndarray, pred: np.ndarray) -> float:
    """The WRENCH metric in percent: F1 of class 1 for the rare-class sets (:func:`is_f1`), accuracy otherwise."""
    return 100 * (f1_class1(y, pred) if is_f1(name) else float((pred == y).mean()))


def crowd_accuracy(y: np.ndarray, proba: np.ndarray) -> float:
    """Accuracy over items with gold, ties split fractionally (as in the EBCC authors' evaluation)."""
    gold = y >= 0
    return float(tie_split_credit(proba[gold], y[gold], tol=1e-12).mean())
