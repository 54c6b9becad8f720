"""Votes that already exist (a ``weak_labels`` list column) into ``<task>_votes``, as a user runs it.

The user's call is ``apply_lfs(ds, precomputed_lfs(ds, task))`` on a dataset read from Parquet (what
``ref: precomputed_lfs`` in a recipe does), cold (empty vote cache) and warm (a second call, every LF cached).
Anchors in the same run: a per-row Python LF per position (how mmweak's benchmarks and the end-model recipe read
these votes before ``lf_library.precomputed``), and ``ds.with_format("numpy")[:][column]``, the matrix a user could
hand to a label model by hand, without any record, cache or validation. Only the call is timed; every method's
matrix is then read back and checked equal.

    .venv/bin/python benchmarks/precomputed_votes.py                  # 100k x 50 and 1M x 10
    .venv/bin/python benchmarks/precomputed_votes.py --shapes 20000x200
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _row_lf_class():
    import mmweak

    class RowVoteLF(mmweak.LabelingFunction):
        """The earlier way: position ``index`` of each row's list, one Python row at a time."""

        def __init__(self, index: int, *, task: mmweak.Task) -> None:
            super().__init__(f"row_lf_{index}", task=task, inputs=["weak_labels"])
            self.index = int(index)

        def config(self) -> dict[str, Any]:
            return {"index": self.index}

        def label_batch(self, batch: dict[str, list]) -> list[int]:
            return [int(v[self.index]) for v in batch["weak_labels"]]

    return RowVoteLF


def bench(n: int, m: int, tmp: Path, skip_rows: bool) -> list[tuple[str, float, bool]]:
    import datasets

    import mmweak
    from lf_library.precomputed import precomputed_lfs
    from mmweak.columns import read_matrix

    rng = np.random.default_rng(0)
    L = np.where(rng.random((n, m)) < 0.3, rng.integers(0, 2, (n, m)), -1).astype(np.int8)
    path = tmp / f"votes_{n}_{m}.parquet"
    feats = datasets.Features({"weak_labels": datasets.List(datasets.Value("int8"), length=m)})
    datasets.Dataset.from_dict({"weak_labels": L}, features=feats).to_parquet(str(path))
    ds = datasets.Dataset.from_parquet(str(path), cache_dir=str(tmp / "hf"))
    task = mmweak.Task("t", ["a", "b"])
    os.environ["MMWEAK_CACHE"] = str(tmp / f"cache_{n}_{m}")
    rows = []

    def timed(label: str, fn) -> None:
        t0 = time.perf_counter()
        out = fn()
        seconds = time.perf_counter() - t0  # the call alone; the check below reads the result untimed
        got = out if isinstance(out, np.ndarray) else read_matrix(out, "t_votes")
        rows.append((label, seconds, bool(np.array_equal(got, L))))

    timed("ds.with_format('numpy')[:][column] (no record)", lambda: ds.with_format("numpy")[:]["weak_labels"])
    timed("apply_lfs(precomputed_lfs) cold", lambda: mmweak.apply_lfs(ds, precomputed_lfs(ds, task)))
    timed("apply_lfs(precomputed_lfs) warm", lambda: mmweak.apply_lfs(ds, precomputed_lfs(ds, task)))
    if not skip_rows:
        lf_class = _row_lf_class()
        timed("apply_lfs(per-row Python LFs) cold", lambda: mmweak.apply_lfs(ds, [lf_class(j, task=task)
                                                                                   for j in range(m)]))
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shapes", nargs="+", default=["100000x50", "1000000x10"], help="ROWSxLFS")
    p.add_argument("--skip-rows", action="store_true", help="leave out the per-row Python anchor (slow)")
    args = p.parse_args(argv)
    import datasets

    datasets.disable_progress_bars()
    print("| rows x LFs | method | seconds | x of precomputed cold | same matrix |")
    print("|---|---|--:|--:|:-:|")
    with tempfile.TemporaryDirectory() as tmp:
        for shape in args.shapes:
            n, m = (int(float(x)) for x in shape.lower().split("x"))
            rows = bench(n, m, Path(tmp), args.skip_rows)
            ours = next(s for label, s, _ in rows if label.endswith("precomputed_lfs) cold"))
            for label, s, same in rows:
                print(f"| {n:,} x {m} | {label} | {s:.2f} | {s / ours:.2f} | {'yes' if same else 'NO'} |", flush=True)


if __name__ == "__main__":
    main()
