"""Run one label model on a saved vote matrix in a fresh process and write what it cost as JSON.

``benchmarks/speed.py`` starts one of these per method so every measurement starts from a clean
process: imports and loading are done before the clock starts, and peak memory is this process's
own high-water mark (``ru_maxrss``), also reported as the increment over the mark reached after
loading ``L`` and an untimed warm-up fit on its first rows. It runs in either virtualenv: mmweak models under ``.venv``, anchors under
``.venv-bench`` (this module imports neither at the top).

    python -m benchmarks.child --method mmweak:majority --data DIR --k 2 --out result.json
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic import hard_labels  # noqa: E402

WARMUP_ROWS = 500


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _mmweak_method(name: str):
    """Our model through the public interface only; ``default`` = ``create(None)``."""
    from mmweak import labelmodels

    def convert(L):
        return L

    def fit_predict(_lib, L, n, K):
        model = labelmodels.create(None if name == "default" else name, cardinality=K, random_state=0)
        return model.fit(L).predict_proba(L), ""

    return (lambda: labelmodels), convert, fit_predict


def run(method: str, data: Path, K: int, repeat: int = 1) -> dict:
    """Measure ``method`` (``mmweak:NAME`` or ``anchor:NAME``) on ``data/L.npy`` and ``data/y.npy``.

    Time is the best of ``repeat`` runs; peak memory is the high-water mark over all of them.
    """
    kind, _, name = method.partition(":")
    if kind == "mmweak":
        load, convert, fit_predict = _mmweak_method(name)
    elif kind == "anchor":
        from benchmarks.anchors import ANCHORS

        anchor = ANCHORS[name]
        load, convert, fit_predict = anchor.load, anchor.convert, anchor.fit_predict
    else:
        raise ValueError(f"method must be 'mmweak:NAME' or 'anchor:NAME', got {method!r}")
    lib = load()
    L = np.load(data / "L.npy")
    y = np.load(data / "y.npy")
    n = L.shape[0]
    # Untimed warm-up on a slice: libraries import lazily on the first fit (torch's optimizer
    # pulls in ~800 modules, about a second), which is start-up cost, not the method's.
    w = min(n, WARMUP_ROWS)
    fit_predict(lib, convert(L[:w]), w, K)
    base = _peak_mb()

    seconds = convert_seconds = float("inf")
    for _ in range(max(1, repeat)):  # best of `repeat`: the CPU is shared, noise only adds time
        proba = None  # free the previous run's output before the next one is measured
        t0 = time.perf_counter()
        X = convert(L)
        t1 = time.perf_counter()
        proba, note = fit_predict(lib, X, n, K)
        t2 = time.perf_counter()
        seconds, convert_seconds = min(seconds, t2 - t1), min(convert_seconds, t1 - t0)
        identity = X is L
        del X
    peak = _peak_mb()

    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape != (n, K):
        raise ValueError(f"{method} returned probabilities of shape {proba.shape}, expected {(n, K)}")
    notes = [note] if note else []
    bad = ~np.isfinite(proba).all(axis=1)
    if bad.any():
        notes.append(f"{int(bad.sum())} rows NaN/inf (counted wrong)")
    labels = np.where(bad, -1, hard_labels(np.where(bad[:, None], 0.0, proba)))
    return {
        "method": method,
        "seconds": seconds,
        "convert_seconds": None if identity else convert_seconds,
        "peak_mb": peak,
        "delta_mb": peak - base,
        "accuracy": float((labels == y).mean()),
        "note": "; ".join(notes),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--k", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)
    result = run(args.method, args.data, args.k, args.repeat)
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
