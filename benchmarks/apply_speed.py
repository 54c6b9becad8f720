"""Apply 20 realistic text LFs to real text, as a user runs them: mmweak vs Snorkel vs a plain loop.

Each figure comes from its own fresh process that loads the data the way its user would (mmweak: a
``datasets.Dataset`` read from Parquet, memory-mapped; Snorkel: a pandas DataFrame; the loop: a list of
str) and times only the labelling call, then reports the process's peak resident memory. In one run:

* **mmweak cold**: ``apply_lfs`` with an empty vote cache (``lf_library.text`` LFs, vectorized on RE2);
* **mmweak warm**: the same call again in a new process (every LF from the cache);
* **mmweak edit 1/20** and **edit 1/10**: one LF's keywords changed, the others cached;
* **snorkel**: Snorkel 0.10 ``PandasLFApplier`` with the same rules as plain per-row functions
  (in ``.venv-bench``; ``bash benchmarks/setup_anchors.sh`` creates it);
* **python loop**: the same functions in a plain ``for`` loop.

Every method's vote matrix is hashed; the table says whether they all agree.

    .venv/bin/python -m benchmarks.apply_speed                       # 100k and 1M rows
    .venv/bin/python -m benchmarks.apply_speed --rows 100000 --skip-snorkel
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_PY = ROOT / ".venv-bench" / "bin" / "python"
EDITED = "subscribe"

CHILD = r"""
import hashlib, json, resource, sys, time
mode, parquet, cache, n_lfs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sys.path.insert(0, sys.argv[5])

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def digest(matrix):
    import numpy as np
    return hashlib.sha256(np.ascontiguousarray(matrix, dtype=np.int8).tobytes()).hexdigest()[:12]

if mode.startswith("mmweak"):
    import datasets, mmweak
    from mmweak.columns import read_matrix
    from benchmarks.text_lfs import mmweak_lfs
    datasets.disable_progress_bars()
    ds = datasets.Dataset.from_parquet(parquet, cache_dir=cache + "/hf")
    lfs = mmweak_lfs(n_lfs, edit="%s" if mode == "mmweak-edit" else None)
    t0 = time.perf_counter()
    out, rep = mmweak.apply_lfs(ds, lfs, cache_dir=cache + "/votes", return_report=True)
    seconds = time.perf_counter() - t0
    L = read_matrix(out, "spam_votes")
    extra = {"cached": len(rep.cached()), "computed": len(rep.computed())}
elif mode == "snorkel":
    import numpy as np, pandas as pd
    from snorkel.labeling import LabelingFunction, PandasLFApplier
    from text_rules import ORDER, PLAIN
    df = pd.read_parquet(parquet)
    lfs = [LabelingFunction(name, f=lambda x, fn=PLAIN[name]: fn(x.text)) for name in ORDER[:n_lfs]]
    t0 = time.perf_counter()
    L = PandasLFApplier(lfs).apply(df, progress_bar=False)
    seconds = time.perf_counter() - t0
    extra = {}
elif mode == "loop":
    import numpy as np, pyarrow.parquet as pq
    from text_rules import ORDER, PLAIN
    texts = pq.read_table(parquet).column("text").to_pylist()
    fns = [PLAIN[name] for name in ORDER[:n_lfs]]
    t0 = time.perf_counter()
    L = np.array([[fn(t) for fn in fns] for t in texts], dtype=np.int8)
    seconds = time.perf_counter() - t0
    extra = {}
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "votes": digest(L), **extra}))
"""


def run_child(python: Path, mode: str, parquet: Path, cache: Path, n_lfs: int) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(python), "-c", CHILD % EDITED, mode, str(parquet), str(cache), str(n_lfs), str(ROOT / "benchmarks")],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "HF_DATASETS_OFFLINE": "1", "PYTHONPATH": str(ROOT)},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} failed:\n{proc.stderr[-4000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_s"] = time.perf_counter() - t0
    return out


def write_corpus(n_rows: int, folder: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from benchmarks.text_rules import corpus

    path = folder / f"text-{n_rows}.parquet"
    pq.write_table(pa.table({"text": pa.array(corpus(n_rows), pa.string())}), path)
    return path


def bench(n_rows: int, args: argparse.Namespace, tmp: Path) -> list[dict]:
    parquet = write_corpus(n_rows, tmp)
    py = Path(sys.executable)
    rows: list[dict] = []

    def add(label: str, result: dict, **kw) -> dict:
        row = {"rows": n_rows, "method": label, **result, **kw}
        rows.append(row)
        print(f"  {label:<22} {result['seconds']:8.2f} s  {n_rows / result['seconds']:>12,.0f} rows/s  "
              f"{result['peak_mb']:7.0f} MB", flush=True)
        return row

    print(f"\n{n_rows:,} rows x 20 LFs", flush=True)
    best: dict = {}
    for r in range(args.repeat):  # cold, on a fresh cache each time; the best run counts
        cold = run_child(py, "mmweak", parquet, tmp / f"c20-{n_rows}-{r}", 20)
        if r == 0 or cold["seconds"] < best["seconds"]:
            best, best_cache = cold, tmp / f"c20-{n_rows}-{r}"
    add("mmweak cold", best)
    add("mmweak warm", run_child(py, "mmweak", parquet, best_cache, 20))
    add("mmweak edit 1 of 20", run_child(py, "mmweak-edit", parquet, best_cache, 20))
    cold10 = add("mmweak cold (10 LFs)", run_child(py, "mmweak", parquet, tmp / f"c10-{n_rows}", 10))
    add("mmweak edit 1 of 10", run_child(py, "mmweak-edit", parquet, tmp / f"c10-{n_rows}", 10), ref10=cold10["seconds"])
    if not args.skip_snorkel:
        if BENCH_PY.exists():
            add("snorkel PandasLFApplier", run_child(BENCH_PY, "snorkel", parquet, tmp, 20))
        else:
            print("  (no .venv-bench: run `bash benchmarks/setup_anchors.sh` for Snorkel)")
    add("python loop", run_child(py, "loop", parquet, tmp, 20))
    return rows


def table(rows: list[dict]) -> str:
    out = ["| rows | method | seconds | rows/s | vs Snorkel | vs loop | peak RSS MB | LFs computed | votes |",
           "|---|---|---|---|---|---|---|---|---|"]
    for n in sorted({r["rows"] for r in rows}):
        group = [r for r in rows if r["rows"] == n]
        snorkel = next((r for r in group if r["method"].startswith("snorkel")), None)
        loop = next(r for r in group if r["method"] == "python loop")
        for r in group:
            vs_s = f"{snorkel['seconds'] / r['seconds']:.1f}x" if snorkel else "n/a"
            vs_l = f"{loop['seconds'] / r['seconds']:.1f}x"
            comp = f"{r.get('computed', '')}" if "computed" in r else ""
            note = f" ({r['seconds'] / r['ref10']:.0%} of cold)" if "ref10" in r else ""
            out.append(f"| {n:,} | {r['method']}{note} | {r['seconds']:.2f} | {n / r['seconds']:,.0f} | {vs_s} | {vs_l} | "
                       f"{r['peak_mb']:.0f} | {comp} | {r['votes']} |")
        full = [r for r in group if "edit" not in r["method"] and "10 LFs" not in r["method"]]
        same = len({r["votes"] for r in full}) == 1
        out.append(f"| {n:,} | all 20-LF methods vote identically: **{'yes' if same else 'NO'}** | | | | | | | |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=float, nargs="+", default=[1e5, 1e6])
    p.add_argument("--repeat", type=int, default=2, help="cold runs per size (best counts)")
    p.add_argument("--skip-snorkel", action="store_true")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mmweak-apply-speed-") as d:
        rows = [r for n in args.rows for r in bench(int(n), args, Path(d))]
    print()
    print(table(rows))
    if BENCH_PY.exists():
        print(f"\nanchors: {(ROOT / '.venv-bench' / 'anchor-versions.txt').read_text().split()}")


if __name__ == "__main__":
    main()
