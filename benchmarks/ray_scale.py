"""Curate synthetic text on Ray Data vs the local engine: rows/s with 1 and 2 workers, and the driver's peak RSS.

The pipeline is what ``mmweak curate`` runs: 20 rule LFs (``text_lfs.mmweak_lfs()``, the rules of
``text_rules.py``) plus one small model LF (a hashed bag-of-words linear scorer that loads once per
worker, so on Ray it runs in an actor pool), then the default label model, then the curated Hub-layout
folder with its card. The corpus (YouTube + TREC texts repeated) is written once as Parquet files.

Each configuration runs in its own fresh process, the *driver*, on a cold vote cache:

* **local**: ``datasets.Dataset.from_parquet`` (memory-mapped), ``mmweak.apply_lfs(num_proc=W)``,
  ``mmweak.aggregate``, ``mmweak.save_curated``;
* **ray**: ``ray.init(num_cpus=W)``, ``mmweak.ray.read`` of the Parquet files, ``apply_lfs``,
  ``aggregate``, ``save_curated``.

The driver's peak resident memory is its own ``ru_maxrss`` (Ray's workers, raylet and object store are
other processes): on Ray it must stay flat as rows grow 10x and 100x, since the driver only plans blocks,
gathers a fixed-size fitting sample and receives per-block statistics. Every configuration's output
Parquet files are hashed; the table says whether all of them wrote the same bytes.

This machine has 2 cores shared with other jobs: the 2-worker column is a ratio on one box, not a cluster
claim, and timings are noisy (compare rows within one run).

    .venv/bin/python -m benchmarks.ray_scale                  # 1e5 and 1e6 rows (~10 min on 2 cores)
    .venv/bin/python -m benchmarks.ray_scale --rows 1e7       # opt-in, out of CI (long)
    .venv/bin/python -m benchmarks.ray_scale --rows 1e5 --engines ray --workers 1
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import mmweak
from mmweak.lf import LabelingFunction, Resources

try:
    from benchmarks.text_lfs import SPAM, mmweak_lfs
    from benchmarks.text_rules import KEYWORDS, real_texts
except ImportError:  # run as a script from benchmarks/
    from text_lfs import SPAM, mmweak_lfs  # type: ignore
    from text_rules import KEYWORDS, real_texts  # type: ignore

ROOT = Path(__file__).resolve().parents[1]
FILE_ROWS = 1_000_000  # rows per corpus Parquet file
SHARD_ROWS = 25_000  # rows per Ray block (the unit of work and of the vote cache)


class HashedWordModel(LabelingFunction):
    """A small model LF: a hashed bag-of-words linear scorer whose weights are built once per worker.

    Its ``_lazy_attrs`` make the Ray engine run it in an actor pool (one model per actor), as it runs
    CLIP or a classifier; the local engine builds it once per process.
    """

    _lazy_attrs = ("_model",)

    def __init__(self, name: str = "word_model") -> None:
        super().__init__(name, task=SPAM, inputs=["text"])
        self._model = None
        self.resources = Resources(batch_size=5_000)

    def _load(self):
        from sklearn.feature_extraction.text import HashingVectorizer

        vec = HashingVectorizer(n_features=2**18, alternate_sign=False, norm=None)
        weights = np.zeros(2**18, dtype=np.float32)
        for _name, label, phrases in KEYWORDS:  # each word of a phrase carries its share of the phrase's sign
            for phrase in phrases:
                idx = vec.transform([phrase]).indices
                weights[idx] += (1.0 if label == 1 else -1.0) / len(idx)
        return vec, weights

    def label_batch(self, batch):
        if self._model is None:
            self._model = self._load()
        vec, weights = self._model
        scores = vec.transform(batch["text"]) @ weights
        return np.where(scores >= 1.0, 1, np.where(scores <= -1.0, 0, -1)).astype(np.int8)


def lfs() -> list[LabelingFunction]:
    return [*mmweak_lfs(20), HashedWordModel()]


# -- one configuration, in its own process ------------------------------------------------------------------

class PrivatePeak:
    """Samples the process's private memory (USS: pages no other process maps) in a thread, keeping the peak.

    ``ru_maxrss`` also counts shared pages the process touched, and a Ray driver maps the object store's
    shared memory: every block it reads (fitting sample, card statistics) makes more of that mapping
    resident in its RSS without the driver holding anything. USS leaves those shared pages out.
    """

    def __init__(self, every: float = 0.5) -> None:
        import threading

        import psutil

        self.proc, self.every, self.peak = psutil.Process(), every, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, self.proc.memory_full_info().uss)
            self.stop.wait(self.every)

    def close(self) -> float:
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, self.proc.memory_full_info().uss)
        return self.peak / 2**20


def child(engine: str, workers: int, corpus: Path, work: Path, shard_rows: int = SHARD_ROWS) -> dict:
    import resource

    import datasets

    private = PrivatePeak()

    datasets.disable_progress_bars()
    files = sorted(str(p) for p in corpus.glob("*.parquet"))
    out = work / "curated"
    if engine == "local":
        ds = datasets.Dataset.from_parquet(files, cache_dir=str(work / "hf"))
        t0 = time.perf_counter()
        ds = mmweak.apply_lfs(ds, lfs(), num_proc=workers if workers > 1 else None, cache_dir=work / "votes")
        t_apply = time.perf_counter() - t0
        ds = mmweak.aggregate(ds, [SPAM], seed=0)
        mmweak.save_curated(ds, out)
    else:
        import logging

        import ray

        import mmweak.ray as mray

        ray.init(num_cpus=workers, object_store_memory=1536 * 1024**2, include_dashboard=False,
                 logging_level=logging.WARNING, log_to_driver=False)
        ray.data.DataContext.get_current().enable_progress_bars = False
        t0 = time.perf_counter()
        rds = mray.apply_lfs(mray.read(files, shard_rows=shard_rows), lfs(), cache_dir=work / "votes")
        t_apply = time.perf_counter() - t0
        rds, _ = mray.aggregate(rds, [SPAM], seed=0)
        mray.save_curated(rds, out)
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"apply_s": t_apply, "seconds": seconds, "peak_mb": peak_mb, "private_mb": private.close(),
            "output": folder_digest(out)}


def folder_digest(folder: Path) -> str:
    """sha256 over the curated Parquet files' bytes, streamed (the engines write identical files)."""
    h = hashlib.sha256()
    for path in sorted((folder / "data").glob("*.parquet")):
        h.update(path.name.encode())
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:12]


# -- the runner ---------------------------------------------------------------------------------------------

def write_corpus(n_rows: int, folder: Path) -> Path:
    """``n_rows`` texts (the real ones repeated in order, as ``text_rules.corpus``) in files of ``FILE_ROWS``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    texts = real_texts()
    n_files = -(-n_rows // FILE_ROWS)
    for k in range(n_files):
        start, stop = k * FILE_ROWS, min(n_rows, (k + 1) * FILE_ROWS)
        chunk = [texts[i % len(texts)] for i in range(start, stop)]
        pq.write_table(pa.table({"text": pa.array(chunk, pa.string())}),
                       folder / f"part-{k:05d}-of-{n_files:05d}.parquet", row_group_size=100_000)
    return folder


def run_child(engine: str, workers: int, corpus: Path, work: Path, timeout: float, shard_rows: int) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "HF_DATASETS_OFFLINE": "1", "RAY_DEDUP_LOGS": "0"}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "benchmarks.ray_scale", "--child", engine, str(workers),
                               str(corpus), str(work), str(shard_rows)], capture_output=True, text=True, cwd=ROOT,
                              env=env,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"rc {proc.returncode}",
                "stderr": proc.stderr[-4000:]}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_s"] = time.perf_counter() - t0
    return out


def bench(n_rows: int, args: argparse.Namespace, tmp: Path) -> list[dict]:
    corpus = write_corpus(n_rows, tmp / f"corpus-{n_rows}")
    rows = []
    print(f"\n{n_rows:,} rows x {len(lfs())} LFs", flush=True)
    for engine in args.engines:
        for workers in args.workers:
            work = tmp / f"{engine}-{workers}-{n_rows}"
            work.mkdir()
            r = {"rows": n_rows, "engine": engine, "workers": workers,
                 **run_child(engine, workers, corpus, work, args.timeout, args.shard_rows)}
            rows.append(r)
            if "error" in r:
                print(f"  {engine:<5} x{workers}  FAILED: {r['error']}", flush=True)
                if args.verbose:
                    print(r.get("stderr", ""), flush=True)
            else:
                print(f"  {engine:<5} x{workers}  {r['seconds']:8.1f} s  {n_rows / r['seconds']:>10,.0f} rows/s  "
                      f"apply {r['apply_s']:7.1f} s  driver peak RSS {r['peak_mb']:6.0f} MB, private "
                      f"{r['private_mb']:6.0f} MB  out {r['output']}",
                      flush=True)
            subprocess.run(["rm", "-rf", str(work)], check=False)
    subprocess.run(["rm", "-rf", str(corpus)], check=False)
    return rows


def table(rows: list[dict]) -> str:
    ok = [r for r in rows if "error" not in r]
    smallest = {}
    for r in sorted(ok, key=lambda r: r["rows"]):
        smallest.setdefault((r["engine"], r["workers"]), r)
    out = ["| rows | engine | workers | apply s | curate s | rows/s | x local (same workers) | x 1 worker "
           "| driver peak RSS MB | driver peak private MB | private vs smallest run | output |",
           "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        if "error" in r:
            failed = f"failed: {r['error'][:80]}"
            out.append(f"| {r['rows']:,} | {r['engine']} | {r['workers']} | {failed} | | | | | | | | |")
            continue
        local = next((q for q in ok if q["rows"] == r["rows"] and q["engine"] == "local"
                      and q["workers"] == r["workers"]), None)
        one = next((q for q in ok if q["rows"] == r["rows"] and q["engine"] == r["engine"] and q["workers"] == 1), None)
        base = smallest[(r["engine"], r["workers"])]
        out.append(
            f"| {r['rows']:,} | {r['engine']} | {r['workers']} | {r['apply_s']:.1f} | {r['seconds']:.1f} | "
            f"{r['rows'] / r['seconds']:,.0f} | {local['seconds'] / r['seconds'] if local else float('nan'):.2f} | "
            f"{one['seconds'] / r['seconds'] if one else float('nan'):.2f} | {r['peak_mb']:.0f} | "
            f"{r['private_mb']:.0f} | {r['private_mb'] / base['private_mb']:.2f} ({base['rows']:,}) | {r['output']} |")
    for n in sorted({r["rows"] for r in ok}):
        same = len({r["output"] for r in ok if r["rows"] == n}) == 1
        out.append(f"| {n:,} | every configuration wrote identical files: **{'yes' if same else 'NO'}** "
                   "| | | | | | | | | | |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        engine, workers, corpus, work = argv[1], int(argv[2]), Path(argv[3]), Path(argv[4])
        print(json.dumps(child(engine, workers, corpus, work, int(argv[5]))))
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=float, nargs="+", default=[1e5, 1e6])
    p.add_argument("--engines", nargs="+", default=["local", "ray"], choices=["local", "ray"])
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--shard-rows", type=int, default=SHARD_ROWS, help="rows per Ray block")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per configuration")
    p.add_argument("--tmp", type=Path, default=None, help="scratch folder (default: a temp folder)")
    p.add_argument("--verbose", action="store_true", help="print a failed child's stderr")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mmweak-ray-scale-", dir=args.tmp) as d:
        rows = [r for n in args.rows for r in bench(int(n), args, Path(d))]
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
