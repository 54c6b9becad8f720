"""Which kernel scores a block of votes faster: the sparse one-hot view or the dense per-class products.

Prediction (and majority vote) score every row as ``bias + sum_j W[j, vote_j]``. ``SparseVotes`` builds
a one-hot CSR view first (cost per vote); ``DenseVotes`` compares the block with each class and runs K
small dense products (cost per cell). ``mmweak.labelmodels.dense_votes.dense_is_cheaper`` picks one per
block with a log-linear rule in votes per row, LFs, classes and score columns. This script times both
kernels on a grid of shapes, refits that rule, and prints how close each policy comes to the faster
kernel (ratio of its time to the faster one's, 1.00 = always the faster), then times what a user runs:
``predict_proba`` of a fitted model with the rule and with the sparse view forced.

    .venv/bin/python benchmarks/predict_kernels.py            # ~1 min on 2 cores
    .venv/bin/python benchmarks/predict_kernels.py --rows 8192 # quicker, noisier
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmweak.labelmodels import create  # noqa: E402
from mmweak.labelmodels import dense_votes as DV  # noqa: E402
from mmweak.labelmodels.dense_votes import DenseVotes  # noqa: E402
from mmweak.labelmodels.votes import SparseVotes  # noqa: E402


def _best_of(f, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


def _votes(n: int, m: int, K: int, coverage: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    L = rng.integers(0, K, size=(n, m)).astype(np.int8)
    L[rng.random((n, m)) > coverage] = -1
    return L


def grid(rows: int) -> np.ndarray:
    """``(shapes, 7)``: m, K, S, coverage, votes per row, sparse ns/row, dense ns/row."""
    out = []
    for m in (3, 5, 10, 20, 50, 100, 200):
        for K in (2, 3, 5, 10, 20):
            if m * K > 2000:
                continue
            for coverage in (0.01, 0.05, 0.2, 0.5, 1.0):
                for S in sorted({K, 3 * K, 10 * K} if K <= 5 else {K}):
                    L = _votes(rows, m, K, coverage)
                    rng = np.random.default_rng(1)
                    W, bias = rng.normal(size=(m, K, S)), np.zeros(S)
                    ts = _best_of(lambda: SparseVotes.from_dense(L, K).scores(W, bias))
                    td = _best_of(lambda: DenseVotes(L, K).scores(W, bias))
                    vpr = float((L != -1).sum()) / rows
                    out.append((m, K, S, coverage, vpr, ts / rows * 1e9, td / rows * 1e9))
    return np.array(out)


def _features(g: np.ndarray) -> np.ndarray:
    m, K, S, _, vpr = g[:, 0], g[:, 1], g[:, 2], g[:, 3], g[:, 4]
    return np.stack([np.ones_like(m), np.log(vpr), np.log(m), np.log(K), np.log(S)], axis=1)


def _policy_cost(g: np.ndarray, dense: np.ndarray) -> tuple[float, float, int]:
    ts, td = g[:, 5], g[:, 6]
    ratio = np.where(dense, td, ts) / np.minimum(ts, td)
    return float(ratio.mean()), float(ratio.max()), int((ratio > 1.25).sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=32768, help="rows per timed block")
    args = ap.parse_args()
    # Inside the package each dense product stays under OpenBLAS's threading threshold (dense_votes.rows_per_product),
    # so it runs on its block's thread: time the kernels on one BLAS thread too.
    with threadpool_limits(limits=1, user_api="blas"):
        g = grid(args.rows)
    X, y = _features(g), np.log(g[:, 5] / g[:, 6])
    refit = np.linalg.lstsq(X, y, rcond=None)[0]
    loo = np.zeros(len(g), dtype=bool)  # the refit scored on each LF count it did not see
    for m in np.unique(g[:, 0]):
        held = g[:, 0] == m
        coef = np.linalg.lstsq(X[~held], y[~held], rcond=None)[0]
        loo[held] = X[held] @ coef > 0
    rule = np.array([DV.dense_is_cheaper(int(r[0]), int(r[1]), int(r[2]), float(r[4])) for r in g])
    print(f"### Kernel choice over {len(g)} shapes ({args.rows} rows each; time ÷ the faster kernel's)\n")
    print("| policy | mean | worst | shapes > 1.25x |")
    print("|---|--:|--:|--:|")
    for name, pick in (("always sparse (before)", np.zeros(len(g), bool)), ("always dense", np.ones(len(g), bool)),
                       ("dense_is_cheaper (shipped rule)", rule), ("refit on this run", X @ refit > 0),
                       ("refit, leave one LF count out", loo)):
        mean, worst, over = _policy_cost(g, pick)
        print(f"| {name} | {mean:.2f}x | {worst:.2f}x | {over} |")
    print(f"\nrefit: log(sparse/dense) = {refit[0]:.2f} + {refit[1]:.2f} log(votes/row) {refit[2]:+.2f} log(m) "
          f"{refit[3]:+.2f} log(K) {refit[4]:+.2f} log(S)\n")

    print("### predict_proba, what a user runs (best of 3; the model fitted on a sample of the rows)\n")
    print("| model | n x m x K | coverage | rule s | sparse view s | sparse ÷ rule |")
    print("|---|---|--:|--:|--:|--:|")
    for name, n, m, K, coverage in (("dawid_skene", 1_000_000, 50, 2, 0.35), ("ebcc", 1_000_000, 50, 2, 0.35),
                                    ("dawid_skene", 1_000_000, 10, 5, 0.6), ("dawid_skene", 300_000, 200, 2, 0.05),
                                    ("dawid_skene", 200_000, 1000, 5, 0.003)):
        L = _votes(n, m, K, coverage, seed=2)
        model = create(name, cardinality=K).fit(L[: 3000 if name == "ebcc" else 50_000])
        t_rule = _best_of(lambda: model.predict_proba(L))
        real = DV.dense_is_cheaper
        DV.dense_is_cheaper = lambda *a: False
        try:
            t_sparse = _best_of(lambda: model.predict_proba(L))
        finally:
            DV.dense_is_cheaper = real
        print(f"| {name} | {n:.0e} x {m} x {K} | {coverage:.1%} | {t_rule:.3f} | {t_sparse:.3f} | "
              f"{t_sparse / t_rule:.2f}x |")


if __name__ == "__main__":
    main()
