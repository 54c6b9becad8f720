"""What ``aggregate`` costs beyond its label model: reading votes from the dataset, writing three columns.

A ``datasets.Dataset`` holding an n x m vote matrix (the synthetic generator's, so accuracy is known)
goes through ``mmweak.aggregate`` with the default label model; beside it, the same model's own
``fit`` + ``predict_proba`` on the numpy matrix. Median of ``--repeat`` runs, in one process.

    .venv/bin/python -m benchmarks.aggregate_speed                 # 1e6 x 20
    .venv/bin/python -m benchmarks.aggregate_speed --n 1e5 --m 50
"""

from __future__ import annotations

import argparse
import statistics
import time

import datasets
import pyarrow as pa

import mmweak
from mmweak.columns import fixed_list, read_column
from mmweak.provenance import write_record

try:
    from benchmarks import synthetic
except ImportError:  # pragma: no cover
    import synthetic  # type: ignore[no-redef]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=float, default=1e6)
    p.add_argument("--m", type=int, default=20)
    p.add_argument("--k", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    datasets.disable_progress_bars()
    n = int(args.n)
    data = synthetic.generate(n, args.m, args.k, seed=0)
    task = mmweak.Task("t", [f"c{i}" for i in range(args.k)])
    ds = datasets.Dataset(datasets.table.InMemoryTable(pa.table({"t_votes": fixed_list(data.L), "y": data.y})))
    ds = ds.cast_column("t_votes", task.votes_feature(args.m))
    write_record(ds, {"tasks": {"t": {"task": task.to_dict(), "lfs": []}}})

    lm_s, agg_s = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        proba = mmweak.labelmodels.create(None, cardinality=args.k, random_state=0).fit(data.L).predict_proba(data.L)
        lm_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        out = mmweak.aggregate(ds, [task])
        agg_s.append(time.perf_counter() - t0)
    acc_lm = float((proba.argmax(1) == data.y).mean())
    acc_agg = float((read_column(out, "t_label") == data.y).mean())
    lm, agg = statistics.median(lm_s), statistics.median(agg_s)
    print(f"| {n:,} x {args.m}, K={args.k} | seconds (median of {args.repeat}) | accuracy |")
    print("|---|---|---|")
    print(f"| label model fit + predict_proba (numpy) | {lm:.3f} | {acc_lm:.4f} |")
    print(f"| mmweak.aggregate (Dataset in, 3 columns out) | {agg:.3f} | {acc_agg:.4f} |")
    print(f"| ratio aggregate / label model | {agg / lm:.2f}x | |")


if __name__ == "__main__":
    main()
