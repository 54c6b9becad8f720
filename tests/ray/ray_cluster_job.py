"""A driver for ``tests/ray/test_ray_cluster.py``: connects to a running Ray cluster, applies LFs with mmweak.ray,
and writes what happened (votes digest, row numbers, blocks computed and cached, or the error) as JSON.

    python tests/ray/ray_cluster_job.py ADDRESS CACHE_DIR OUT_JSON ROWS NODES

NODES is how many alive nodes to wait for (up to a minute) before starting.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import mmweak  # noqa: E402
from benchmarks.text_lfs import SPAM, corpus, mmweak_lfs  # noqa: E402


@mmweak.labeling_function(task=SPAM, inputs="text")
def slow_link(batch):
    """Takes a while per block, so the test can kill a node while blocks are in flight."""
    time.sleep(0.4)
    return [1 if "http" in t else -1 for t in batch["text"]]


LFS = [*mmweak_lfs(4), slow_link]


def digest(votes: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(votes, dtype=np.int8).tobytes()).hexdigest()[:16]


def dataset(rows: int):
    import datasets

    return datasets.Dataset.from_dict({"text": corpus(rows)})


def main() -> None:
    address, cache, out, rows, want = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    import ray

    ray.init(address=address, _node_ip_address="127.0.0.1", logging_level=logging.WARNING, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    deadline = time.time() + 60
    while sum(n["Alive"] for n in ray.nodes()) < want and time.time() < deadline:
        time.sleep(0.5)
    nodes = sum(n["Alive"] for n in ray.nodes())
    import mmweak.ray as mray
    from mmweak.ray.run import batches

    result: dict = {"nodes_at_start": nodes}
    try:
        rds, report = mray.apply_lfs(mray.read(dataset(rows), shard_rows=250), LFS, cache_dir=cache,
                                     return_report=True)
        import pyarrow as pa

        table = pa.concat_tables(list(batches(rds)))
        votes = np.asarray(table.column("spam_votes").combine_chunks().flatten()).reshape(table.num_rows, -1)
        result.update(
            status="ok", digest=digest(votes), rows=table.column(mray.ROW_COLUMN).to_pylist(),
            computed=sum(c for c, _ in report.blocks["train"].values()),
            cached=sum(h for _, h in report.blocks["train"].values()),
            lf_rows=[r.rows for r in report.runs["train"]],
            nodes_at_end=sum(n["Alive"] for n in ray.nodes()),
        )
    except Exception as exc:  # noqa: BLE001 - reported to the test
        result.update(status="error", error=f"{type(exc).__name__}: {exc}"[:2000])
    out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
