"""The default on small WRENCH-shaped sets: 500 training rows, a 100-row gold dev split, keyword LFs.

WRENCH's own small sets (semeval: 1,749 train and 178 valid rows) and a user's first labelled sample look like
this: few dev rows, and a third of them without any vote. The default labels the rows without a vote by the
class shares of the dev rows without a vote, shrunk towards its own estimate by K pseudo-rows
(``base.corrected_by_silent_dev_rows``). This script measures what that costs against majority vote with ties
split, on a test split large enough (3,000 rows) that the margin is not test noise, and splits each margin into
the rows without a vote, the tied rows and the rest.

    .venv/bin/python benchmarks/small_dev.py              # 45 sets (~10 s on 2 cores)
    .venv/bin/python benchmarks/small_dev.py --skew 1         # balanced classes
    .venv/bin/python benchmarks/small_dev.py --lfs sparse     # LFs that leave more rows without a vote

Not run in CI. Output: ``benchmarks/results/small_dev.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import synthetic as S  # noqa: E402

from mmweak.labelmodels import create  # noqa: E402
from mmweak.labelmodels.decision import tie_split_credit  # noqa: E402

TRAIN, DEV, TEST = 500, 100, 3000
SHAPES = [(2, 5), (2, 10), (3, 6)]  # (classes, LFs)


def mv_credit(L: np.ndarray, y: np.ndarray, K: int) -> np.ndarray:
    """Per row, majority vote's expected accuracy with ties split uniformly (1/K on a row without a vote)."""
    return tie_split_credit(np.stack([(L == k).sum(axis=1) for k in range(K)], axis=1), y)


def sparse_keywords(n: int, m: int, K: int, *, seed: int, skew: float) -> tuple[np.ndarray, np.ndarray]:
    """Keyword LFs that each fire on 5-40 % of the rows, their precision a share 0.6-0.9 of the way from their
    class's base rate to 1; the first K LFs cover one class each, the others a random class. More rows go
    without a vote than under ``synthetic.generate_keyword``, and which classes they hold depends on how many LFs
    each class has."""
    rng = np.random.default_rng(seed)
    y = rng.choice(K, size=n, p=S.skewed_balance(K, skew))
    precision_share, coverage = rng.uniform(0.6, 0.9, m), rng.uniform(0.05, 0.4, m)
    target = rng.integers(0, K, m)
    target[: min(K, m)] = np.arange(min(K, m))
    L = np.full((n, m), -1, dtype=np.int8)
    for j in range(m):
        base = float((y == target[j]).mean())
        precision = base + (1 - base) * precision_share[j]
        on = min(1.0, coverage[j] / max(base, 1e-9) / 2)
        off = min(1.0, on * base * (1 - precision) / max(precision * (1 - base), 1e-9))
        L[rng.random(n) < np.where(y == target[j], on, off), j] = target[j]
    return L, y


def dev_rows_settle(counts: np.ndarray, z: float = 1.0) -> bool:
    """Whether the dev rows without a vote settle their top class: the Wilson lower bound of its share against the
    runner-up's is above one half."""
    top, second = np.sort(counts)[::-1][:2]
    n = int(top + second)
    if n == 0:
        return False
    p = top / n
    return bool((p + z * z / (2 * n) - z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n) > 0.5)


def one(K: int, m: int, seed: int, skew: float, lfs: str) -> dict:
    build = sparse_keywords if lfs == "sparse" else S.generate_keyword
    L, y = build(TRAIN + DEV + TEST, m, K, seed=1000 + seed, skew=skew)
    (Ltr, Ldev, Lte), (_, ydev, yte) = np.split(L, [TRAIN, TRAIN + DEV]), np.split(y, [TRAIN, TRAIN + DEV])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = create(cardinality=K).fit(Ltr, L_dev=Ldev, y_dev=ydev)
    right = model.labels_from_proba(model.predict_proba(Lte), None) == yte  # as accuracy.py: every row labelled
    mv = mv_credit(Lte, yte, K)
    silent = ~(Lte != -1).any(axis=1)
    counts = np.stack([(Lte == k).sum(axis=1) for k in range(K)], axis=1)
    tied = ((counts == counts.max(axis=1, keepdims=True)).sum(axis=1) > 1) & ~silent
    parts = {name: 100 * float((right[mask].mean() - mv[mask].mean()) * mask.mean()) if mask.any() else 0.0
             for name, mask in (("silent", silent), ("tied", tied), ("decided", ~silent & ~tied))}
    dev_silent = ~(Ldev != -1).any(axis=1)
    dev_counts = np.bincount(ydev[dev_silent], minlength=K)
    # The alternative to the argmax on the rows without a vote: a per-row draw from the default's estimate for them
    # (its expected accuracy there), everywhere or only where the dev rows do not settle the top class.
    margin = 100 * float(right.mean() - mv.mean())
    shares = np.bincount(yte[silent], minlength=K) / max(int(silent.sum()), 1)
    draw_gain = float(shares @ model.no_vote_proba_ - right[silent].mean()) if silent.any() else 0.0
    return {"set": f"K{K}/m{m}/{seed}", "member": model.selected_, "margin": margin,
            **parts, "drawn": margin + 100 * float(silent.mean()) * draw_gain,
            "settled": dev_rows_settle(dev_counts), "silent_share": float(silent.mean()), "dev_silent": int(dev_silent.sum()),
            "dev_silent_classes": dev_counts.tolist(),
            "test_silent_classes": np.round(np.bincount(yte[silent], minlength=K) / max(silent.sum(), 1), 2).tolist(),
            "no_vote_proba": np.round(model.no_vote_proba_, 2).tolist()}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=15)
    ap.add_argument("--skew", type=float, default=0.6, help="class balance ∝ skew**k (1: balanced classes)")
    ap.add_argument("--lfs", choices=["keyword", "sparse"], default="keyword",
                    help="synthetic.generate_keyword's LFs, or sparse_keywords below")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = [one(K, m, s, args.skew, args.lfs) for K, m in SHAPES for s in range(args.seeds)]
    print("| set | default (member) | − MV | rows without a vote | tied rows | the rest | dev rows without a vote "
          "(their classes) | test rows without a vote: class shares | default's shares for them |")
    print("|---|---|--:|--:|--:|--:|---|---|---|")
    for r in rows:
        if r["margin"] < -0.5:
            print(f"| {r['set']} | {r['member']} | {r['margin']:+.2f} | {r['silent']:+.2f} | {r['tied']:+.2f} | "
                  f"{r['decided']:+.2f} | {r['dev_silent']} {r['dev_silent_classes']} | {r['test_silent_classes']} | "
                  f"{r['no_vote_proba']} |")
    margins = np.array([r["margin"] for r in rows])
    parts = {k: np.mean([r[k] for r in rows]) for k in ("silent", "tied", "decided")}
    print(f"\n{len(rows)} sets: default − MV mean {margins.mean():+.2f}, worst {margins.min():+.2f}, below MV − 0.5 on "
          f"{int((margins < -0.5).sum())} (listed above); mean parts: rows without a vote {parts['silent']:+.2f}, "
          f"tied {parts['tied']:+.2f}, the rest {parts['decided']:+.2f}. {time.perf_counter() - t0:.0f} s")
    drawn = np.array([r["drawn"] for r in rows])
    gated = np.array([r["margin"] if r["settled"] else r["drawn"] for r in rows])
    print(f"Not shipped, for comparison (expected accuracy): the rows without a vote drawn per row from the default's "
          f"estimate for them: mean {drawn.mean():+.2f}, below on {int((drawn < -0.5).sum())}; drawn only where the "
          f"dev rows without a vote do not settle their top class (Wilson bound, z = 1): mean {gated.mean():+.2f}, "
          f"below on {int((gated < -0.5).sum())}.")


if __name__ == "__main__":
    main()
