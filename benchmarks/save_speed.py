"""What ``save_curated`` costs, and on what: real text, 11 LFs, the default label model.

For each size, one process runs ``apply_lfs`` + ``aggregate`` untimed, then times ``save_curated`` with
and without the card's PNG plots (whose cost does not grow with rows). matplotlib's import is paid
once per process and is timed separately.

    .venv/bin/python -m benchmarks.save_speed                  # 5,500 and 100,000 rows
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import datasets

import mmweak

try:
    from benchmarks.text_lfs import corpus, mmweak_lfs
except ImportError:  # pragma: no cover
    from text_lfs import corpus, mmweak_lfs  # type: ignore[no-redef]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=float, nargs="+", default=[5500, 1e5])
    args = p.parse_args(argv)
    datasets.disable_progress_bars()
    t0 = time.perf_counter()
    import matplotlib.figure  # noqa: F401  (what the first plotted card pays once)

    print(f"matplotlib import: {time.perf_counter() - t0:.2f} s (once per process)\n")
    print("| rows | save_curated with plots (s) | without plots (s) | parquet MB |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as d:
        for n in map(int, args.rows):
            ds = datasets.Dataset.from_dict({"text": corpus(n)})
            ds = mmweak.aggregate(mmweak.apply_lfs(ds, mmweak_lfs(11), cache_dir=f"{d}/votes"))
            t0 = time.perf_counter()
            mmweak.save_curated(ds, f"{d}/with-{n}")
            with_plots = time.perf_counter() - t0
            t0 = time.perf_counter()
            mmweak.curated.write_repo_folder(ds, Path(d) / f"bare-{n}", plots=False)
            bare = time.perf_counter() - t0
            size = sum(f.stat().st_size for f in Path(f"{d}/with-{n}/data").glob("*.parquet")) / 2**20
            print(f"| {n:,} | {with_plots:.2f} | {bare:.2f} | {size:.1f} |", flush=True)


if __name__ == "__main__":
    main()
