"""Wide crowds: the default on 2,000-10,000 workers, as a user calls it, against crowd-kit and an earlier version.

A crowd's vote matrix has one column per worker. Copy detection and evidence weights compare workers in pairs;
until they kept only the pairs that share rows (``mmweak/labelmodels/pairs.py``) they built ``(m K)^2`` grids, so
the fit's time and memory grew with the square of the workers. This times ``create().fit(L).predict_proba(L)``
on generated crowds of 100,000 items with 3 answers each (``large_crowds.crowd``: Pareto-busy workers of
accuracy 0.55-0.95), each method in a fresh process (``benchmarks/child.py``: wall seconds, peak resident MB,
accuracy on every item), next to crowd-kit's Dawid–Skene and one-coin on the same answers, and, with
``--baseline DIR``, the default of another checkout of this repository (e.g. ``git worktree add /tmp/base
74c6c6b``).

Usage (not run in CI; about 4 minutes for the three crowds, anchors included)::

    .venv/bin/python benchmarks/wide_crowds.py
    .venv/bin/python benchmarks/wide_crowds.py --workers 2000 5000 --baseline /tmp/base
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.large_crowds import crowd  # noqa: E402
from benchmarks.speed import BENCH_VENV_PYTHON, Row, _fmt_ratio, _fmt_s, run_child  # noqa: E402

ANCHORS = ("crowdkit_ds", "crowdkit_onecoin")


def measure(workers: int, args) -> list[Row]:
    L, y, K = crowd(args.seed, n=args.items, W=workers, per=3, K=2, acc=(0.55, 0.95), alpha=3.0)
    tmp = Path(tempfile.mkdtemp(prefix=f"mmweak-wide-{workers}-"))
    try:
        np.save(tmp / "L.npy", L)
        np.save(tmp / "y.npy", y)
        answers = int((L != -1).sum())
        del L
        rows = [run_child("mmweak:default", tmp, K, sys.executable, args.timeout)]
        rows[0].label = "mmweak default"
        if args.baseline:
            base = run_child("mmweak:default", tmp, K, sys.executable, args.timeout, root=Path(args.baseline))
            base.label = f"mmweak default at {Path(args.baseline).name}"
            rows.append(base)
        if Path(args.bench_python).exists():
            for name in ANCHORS:
                row = run_child(f"anchor:{name}", tmp, K, args.bench_python, args.timeout)
                row.label = name.replace("crowdkit_", "crowd-kit ")
                rows.append(row)
        for row in rows:
            row.note = f"{answers} answers"
            print(f"  [{workers} workers] {row.label}: {row.status or _fmt_s(row.seconds) + ' s'}", file=sys.stderr)
        return rows
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, nargs="+", default=[2000, 5000, 10000])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--baseline", help="another checkout of this repository whose default is timed too")
    ap.add_argument("--bench-python", default=str(BENCH_VENV_PYTHON), help="interpreter with crowd-kit")
    ap.add_argument("--timeout", type=float, default=900.0)
    args = ap.parse_args(argv)
    print("| workers | method | seconds | peak MB | accuracy | seconds ÷ ours | peak ÷ ours | answers |")
    print("|--:|---|--:|--:|--:|--:|--:|--:|")
    for workers in args.workers:
        rows = measure(workers, args)
        ours = rows[0]
        for r in rows:
            if r.status:
                print(f"| {workers} | {r.label} | {r.status} | | | | | {r.note} |", flush=True)
                continue
            print(f"| {workers} | {r.label} | {_fmt_s(r.seconds)} | {r.peak_mb:.0f} | {100 * (r.accuracy or 0):.2f} "
                  f"| {_fmt_ratio(r.seconds, ours.seconds)} | {_fmt_ratio(r.peak_mb, ours.peak_mb)} | {r.note} |",
                  flush=True)


if __name__ == "__main__":
    main()
