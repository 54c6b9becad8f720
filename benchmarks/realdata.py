"""Loaders for the real benchmark data in ``../shared/data`` (WRENCH and crowdsourcing sets).

Both become plain vote matrices (``-1`` = abstain) so every label model sees the same input.
The data is third-party and is read in place, never copied into this repository.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmweak.columns import read_column, read_matrix
from mmweak.sources import read_crowd, read_wrench

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


def load_wrench(name: str, root: Path = DATA / "wrench") -> WrenchSet:
    """One WRENCH dataset's train/valid/test vote matrices and gold labels (read by :mod:`mmweak.sources`)."""
    ds = read_wrench(root / name)
    classes = list(ds["train"].features["label"].names)
    splits = {stem: Split(read_matrix(ds[split], "weak_labels").astype(np.int8),
                          read_column(ds[split], "label").astype(np.int64))
              for split, stem in (("train", "train"), ("validation", "valid"), ("test", "test"))}
    return WrenchSet(name, classes, **splits)


def load_crowd(name: str, root: Path = DATA / "crowd") -> CrowdSet:
    """One crowdsourcing set as an items x workers matrix (``-1`` where a worker did not answer), read by
    :mod:`mmweak.sources`; items after the last answered one are left out."""
    ds = read_crowd(root / name)["train"]
    answers = ds.data.column("answers").combine_chunks()
    flat = answers.flatten()
    counts = np.diff(answers.offsets.to_numpy())
    items = np.repeat(np.arange(len(answers)), counts)
    workers = flat.field("worker").to_numpy()
    labels = flat.field("label").to_numpy()
    gold = read_column(ds, "label").astype(np.int64)
    n = int(items.max()) + 1
    m = int(workers.max()) + 1
    K = int(max(labels.max(), gold.max())) + 1
    L = np.full((n, m), -1, dtype=np.int8 if K <= 127 else np.int16)
    L[items, workers] = labels  # the sets carry no duplicate (item, worker) answers
    return CrowdSet(name, K, Split(L, gold[:n].copy()))


def wrench_names(root: Path = DATA / "wrench") -> list[str]:
    return [n for n in WRENCH_PUBLISHED if (root / n).is_dir()]


def crowd_names(root: Path = DATA / "crowd") -> list[str]:
    return [n for n in CROWD_PUBLISHED if (root / n).is_dir()]


def f1_class1(y: np.ndarray, pred: np.ndarray) -> float:
    tp = float(((pred == 1) & (y == 1)).sum())
    fp = float(((pred == 1) & (y != 1)).sum())
    fn = float(((pred != 1) & (y == 1)).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def wrench_score(name: str, y: np.ndarray, pred: np.ndarray) -> float:
    """The WRENCH metric in percent: F1 of class 1 for basketball/census, accuracy otherwise."""
    return 100 * (f1_class1(y, pred) if name in WRENCH_F1 else float((pred == y).mean()))


def crowd_accuracy(y: np.ndarray, proba: np.ndarray) -> float:
    """Accuracy over items with gold, ties split fractionally (as in the EBCC authors' evaluation)."""
    gold = y >= 0
    p = proba[gold]
    top = p.max(axis=1, keepdims=True)
    tied = p >= top - 1e-12
    return float((tied[np.arange(gold.sum()), y[gold]] / tied.sum(axis=1)).mean())
