"""What the real-media benchmarks share: scoring label models against gold next to the single LFs and
majority vote, and printing the tables.

Every benchmark fits the label models on the votes of the rows it scores (no gold), with the dev rows'
gold as ``L_dev``/``y_dev`` where a model uses it, and counts a row no model can label (no LF voted) as
wrong for every method alike.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
from typing import Any, Sequence

import numpy as np

from mmweak import labelmodels

MODELS = ("majority", "weighted_majority", "dawid_skene", "metal", None)


def cold_cache() -> str:
    """Point ``$MMWEAK_CACHE`` (LF votes, classifier outputs, ONNX exports) at a fresh folder removed at exit,
    so the speed printed is that of a first run, not of cache hits."""
    root = tempfile.mkdtemp(prefix="mmweak-bench-")
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    os.environ["MMWEAK_CACHE"] = root
    return root


def lf_table(names: Sequence[str], L: np.ndarray, y: np.ndarray) -> list[dict[str, Any]]:
    """Coverage and accuracy (on the rows it votes) of each LF against gold."""
    rows = []
    for j, name in enumerate(names):
        voted = L[:, j] >= 0
        acc = float((L[voted, j] == y[voted]).mean()) if voted.any() else float("nan")
        rows.append({"lf": name, "coverage": float(voted.mean()), "accuracy": acc,
                     "correct": int((L[voted, j] == y[voted]).sum())})
    return rows


def model_table(L: np.ndarray, y: np.ndarray, K: int, L_dev: np.ndarray | None = None,
                y_dev: np.ndarray | None = None, seed: int = 0) -> list[dict[str, Any]]:
    """Accuracy over all rows (a row without any vote counts as wrong) of each label model."""
    out = []
    covered = (L >= 0).any(axis=1)
    # With dev gold, the default once more without it: what a user gets before labelling anything.
    runs = [(name, L_dev, y_dev) for name in MODELS] + ([(None, None, None)] if L_dev is not None else [])
    for name, dev_L, dev_y in runs:
        t0 = time.perf_counter()
        model = labelmodels.create(name, cardinality=K, random_state=seed)
        model.fit(L, L_dev=dev_L, y_dev=dev_y)
        pred = np.where(covered, model.predict(L, seed=seed), -1)
        label = model.name if name else f"default ({model.name})" + (", no gold" if L_dev is not None and dev_L is None else "")
        out.append({"model": label, "accuracy": float((pred == y).mean()),
                    "covered_accuracy": float((pred[covered] == y[covered]).mean()) if covered.any() else float("nan"),
                    "seconds": time.perf_counter() - t0})
    return out


def print_tables(title: str, command: str, lfs: list[dict[str, Any]], models: list[dict[str, Any]],
                 extra: dict[str, Any], n_rows: int, covered: float) -> None:
    print(f"\n## {title}\n")
    print(f"command: `{command}`\n")
    for k, v in extra.items():
        print(f"- {k}: {v}")
    print(f"- rows scored: {n_rows}; rows with at least one vote: {covered:.3f}\n")
    print("| LF | coverage | accuracy where it votes |")
    print("|---|---:|---:|")
    for r in lfs:
        print(f"| {r['lf']} | {r['coverage']:.3f} | {r['accuracy']:.3f} |")
    best = max((r for r in lfs if r["coverage"] > 0), key=lambda r: r["correct"])
    print(f"\nbest single LF (most rows right, abstains count as wrong): {best['lf']} = "
          f"{best['correct'] / n_rows:.4f} of all rows\n")
    print("| label model | accuracy (all rows) | accuracy (rows with votes) |")
    print("|---|---:|---:|")
    for r in models:
        print(f"| {r['model']} | {r['accuracy']:.4f} | {r['covered_accuracy']:.4f} |")
