"""Peak memory of the default label model on a 10M x 100 int8 vote matrix (the issue's scale target).

    .venv/bin/python benchmarks/memory.py            # 10M x 100, K=2
    .venv/bin/python benchmarks/memory.py --n 2e6    # smaller

Prints the resident-set peak before and after fit+predict (the matrix alone is n*m bytes).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmweak import labelmodels  # noqa: E402


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux reports KiB


def generate(n: int, m: int, K: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Independent LFs (coverage 0.1-0.6, accuracy 0.55-0.9), written block by block into one int8 matrix."""
    rng = np.random.default_rng(seed)
    cov, acc = rng.uniform(0.1, 0.6, m), rng.uniform(0.55, 0.9, m)
    y = rng.integers(0, K, n).astype(np.int8)
    L = np.empty((n, m), dtype=np.int8)
    step = 1 << 19
    for s in range(0, n, step):
        yb = y[s: s + step, None]
        u = rng.random((yb.shape[0], m), dtype=np.float32)
        wrong = ((yb + rng.integers(1, K, (yb.shape[0], m), dtype=np.int8)) % K).astype(np.int8)
        vote = np.where(u < acc * cov, yb, np.where(u < cov, wrong, -1))
        L[s: s + step] = vote
    return L, y


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=float, default=1e7)
    ap.add_argument("--m", type=int, default=100)
    ap.add_argument("--k", type=int, default=2)
    ap.add_argument("--model", default=None, help="label model name (default: the default model)")
    args = ap.parse_args(argv)
    n = int(args.n)
    L, y = generate(n, args.m, args.k)
    base = peak_gib()
    t = time.perf_counter()
    model = labelmodels.create(args.model, cardinality=args.k).fit(L)
    t_fit = time.perf_counter() - t
    proba = model.predict_proba(L)
    t_all = time.perf_counter() - t
    acc = float((proba.argmax(1) == y).mean())
    print("| n | m | K | model | matrix GiB | peak GiB after generating | peak GiB after fit+predict | fit s | fit+predict s | accuracy |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {n:.0e} | {args.m} | {args.k} | {args.model or labelmodels.DEFAULT_MODEL} | {L.nbytes / 2**30:.2f} | "
          f"{base:.2f} | {peak_gib():.2f} | {t_fit:.2f} | {t_all:.2f} | {acc:.4f} |")


if __name__ == "__main__":
    main()
