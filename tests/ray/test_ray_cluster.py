"""A real two-node Ray cluster on this machine: ``ray start --head`` plus a second ``ray start --address=...``
node, each with one CPU, in their own temp folder and ports; a worker node is killed in the middle of
``mmweak.ray.apply_lfs``. Either Ray retries the lost blocks on the surviving node and the job finishes, or
the job fails and a rerun resumes from the vote cache: both ways, every row comes back exactly once with the
local engine's votes, and a rerun computes nothing that was already stored.

The driver runs in its own process (``tests/ray/ray_cluster_job.py``): this test process may already be connected
to the session's local cluster, and a process talks to one cluster at a time.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from paths import ROOT

import mmweak

psutil = pytest.importorskip("psutil")
pytest.importorskip("ray")

ROWS = 8000  # 32 blocks of 250 rows
WORKER_PORTS = 41
RAY = [sys.executable, "-c", "import sys; from ray.scripts.scripts import main; sys.argv[0] = 'ray'; main()"]


class Ports:
    """Hands out ports for the whole cluster, none twice and none inside the kernel's ephemeral range.

    Ports asked of the OS one at a time come from the ephemeral range and are released at once, so a later pick
    (a worker range, Ray's own random ports, an outgoing connection) can land on one already promised: a CI run
    failed when the head's worker range covered its own GCS port. Drawing from below that range, and remembering
    every port given, avoids both.
    """

    def __init__(self, seed: int) -> None:
        lo = _ephemeral_low()
        self.low, self.high = max(10000, lo - 12000), lo - 100
        if self.high - self.low < 2000:  # an unusual ephemeral range: any wide band, the bind check still holds
            self.low, self.high = 20000, 30000
        self.rng = random.Random(seed)
        self.taken: set[int] = set()

    def take(self, n: int = 1, run: int = 1) -> list[int]:
        """``n`` free ports, or with ``run`` > 1 the starts of ``n`` free runs of ``run`` consecutive ports."""
        out = []
        for _ in range(n):
            for _ in range(500):
                start = self.rng.randrange(self.low, self.high - run)
                span = range(start, start + run)
                if not self.taken.intersection(span) and all(_bindable(p) for p in span):
                    self.taken.update(span)
                    out.append(start)
                    break
            else:
                raise RuntimeError(f"no {run} free consecutive ports in {self.low}-{self.high}")
        return out


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Node:
    """One ``ray start --block`` process and everything it spawned (stopped by pid, never by name)."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = open(log, "w")
        self.proc = subprocess.Popen([*RAY, "start", "--block", *args], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def kill(self, sig: int = signal.SIGKILL) -> None:
        for p in reversed(self.tree()):
            try:
                p.send_signal(sig)
            except psutil.NoSuchProcess:
                pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        self.log.close()


def node_args(ports: Ports, cpus: int = 1) -> list[str]:
    """A node's flags, every port it listens on drawn from the cluster's pool."""
    nm, om, agent_http, agent_grpc, metrics, renv = ports.take(6)
    wmin = ports.take(run=WORKER_PORTS)[0]
    return ["--node-ip-address=127.0.0.1", f"--num-cpus={cpus}", "--num-gpus=0",
            f"--object-store-memory={150 * 1024**2}",
            f"--node-manager-port={nm}", f"--object-manager-port={om}",
            f"--dashboard-agent-listen-port={agent_http}", f"--dashboard-agent-grpc-port={agent_grpc}",
            f"--metrics-export-port={metrics}", f"--runtime-env-agent-port={renv}",
            f"--min-worker-port={wmin}", f"--max-worker-port={wmin + WORKER_PORTS - 1}", "--disable-usage-stats"]


@pytest.fixture
def cluster(tmp_path):
    # Short temp path: Ray's unix sockets must fit in 107 bytes.
    temp = Path(f"/tmp/mmray-{os.getpid()}-{int(time.time() * 1000) % 100000}")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
           "RAY_AUTH_MODE": "disabled", "RAY_health_check_period_ms": "1000",
           "RAY_health_check_failure_threshold": "3", "RAY_health_check_timeout_ms": "1000"}
    ports = Ports(seed=os.getpid() ^ time.time_ns())
    gcs = ports.take()[0]
    head = Node(["--head", f"--port={gcs}", f"--temp-dir={temp}", "--include-dashboard=false",
                 *node_args(ports)], env, tmp_path / "head.log")
    worker = None
    jobs: list[subprocess.Popen] = []
    try:
        wait_for_port(gcs, head, tmp_path / "head.log")
        worker = Node([f"--address=127.0.0.1:{gcs}", *node_args(ports)], env, tmp_path / "worker.log")
        yield {"address": f"127.0.0.1:{gcs}", "env": env, "head": head, "worker": worker, "tmp": tmp_path,
               "jobs": jobs}
    finally:
        for proc in jobs:  # a driver left running by a failed assertion
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
        if worker is not None:
            worker.kill()
        head.kill()
        subprocess.run(["rm", "-rf", str(temp)], check=False)


def wait_for_port(port: int, node: Node, log: Path, timeout: float = 120) -> None:
    """Blocks until the head's GCS accepts connections; fails with the head's log if it died or never came up."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if node.proc.poll() is not None:
            pytest.fail(f"ray head exited with {node.proc.returncode}:\n{log.read_text()[-3000:]}")
        with socket.socket() as s:
            s.settimeout(1)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    pytest.fail(f"ray head did not listen on {port} within {timeout}s:\n{log.read_text()[-3000:]}")


def run_job(cluster, cache: Path, name: str, nodes: int) -> subprocess.Popen:
    out = cluster["tmp"] / f"{name}.json"
    log = open(cluster["tmp"] / f"{name}.log", "w")
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "ray" / "ray_cluster_job.py"), cluster["address"],
                             str(cache), str(out), str(ROWS), str(nodes)], env=cluster["env"], stdout=log,
                            stderr=subprocess.STDOUT)
    cluster["jobs"].append(proc)
    return proc


def result(cluster, name: str) -> dict:
    path = cluster["tmp"] / f"{name}.json"
    assert path.exists(), (cluster["tmp"] / f"{name}.log").read_text()[-4000:]
    return json.loads(path.read_text())


def test_killing_a_worker_node_mid_apply_loses_and_duplicates_nothing(cluster, tmp_path):
    sys.path.insert(0, str(ROOT / "tests"))
    import ray_cluster_job as job

    t0 = time.time()
    cache = tmp_path / "votes"
    first = run_job(cluster, cache, "first", nodes=2)
    # Kill the worker node once some blocks are stored and others are still to come.
    deadline = time.time() + 240
    while len(list(cache.glob("*.arrow"))) < 20 and time.time() < deadline and first.poll() is None:
        time.sleep(0.1)
    stored_at_kill = len(list(cache.glob("*.arrow")))
    killed_at = time.time() - t0
    cluster["worker"].kill()
    first.wait(timeout=300)
    a = result(cluster, "first")
    assert a["nodes_at_start"] == 2
    total = 32 * len(job.LFS)
    assert 0 < stored_at_kill < total  # the node died mid-apply

    local = mmweak.apply_lfs(job.dataset(ROWS), job.LFS, cache_dir=tmp_path / "local")
    from mmweak.columns import read_matrix

    expected = job.digest(read_matrix(local, "spam_votes"))
    if a["status"] == "ok":  # Ray retried the lost blocks on the head node
        assert a["nodes_at_end"] == 1
        assert a["digest"] == expected and a["rows"] == list(range(ROWS))
        assert a["lf_rows"] == [ROWS] * len(job.LFS) and a["computed"] + a["cached"] == total
    else:
        assert "Error" in a["error"]

    stored = len(list(cache.glob("*.arrow")))
    second = run_job(cluster, cache, "second", nodes=1)  # a rerun resumes: only what is missing is computed
    second.wait(timeout=300)
    b = result(cluster, "second")
    assert b["status"] == "ok", b.get("error")
    assert b["digest"] == expected and b["rows"] == list(range(ROWS))
    assert b["lf_rows"] == [ROWS] * len(job.LFS)
    assert (b["computed"], b["cached"]) == (total - stored, stored)  # nothing stored is redone, nothing is lost
    if a["status"] == "ok":
        assert stored == total and b["computed"] == 0
    how = (f"({a['computed']} computed, {a['cached']} cached)" if a["status"] == "ok" else a["error"][:200])
    print(f"\nnode killed at {killed_at:.0f}s with {stored_at_kill}/{total} LF blocks stored; first run "
          f"{a['status']} {how}; rerun {b['computed']} computed, {b['cached']} cached")
