"""Shared by the tests and the docstring examples: one local Ray cluster per session, started on first use.

Lives at the root (outside the packages) so the examples in ``mmweak/ray`` run on the same small cluster as
``tests/ray/test_ray.py`` instead of Ray Data starting one sized to the whole machine.
"""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def ray_session():
    """``ray.init(num_cpus=2)`` with a small object store; test modules importable by the workers."""
    import logging

    import ray
    import ray.data

    if not ray.is_initialized():
        # LFs defined in test modules are pickled by reference: workers import them from their test folder.
        folders = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "ray")]
        path = os.pathsep.join([*folders, *filter(None, [os.environ.get("PYTHONPATH")])])
        # Workers read hf:// files from the local Hub server the tests start; the suite is offline otherwise.
        env = {"PYTHONPATH": path, "HF_HUB_OFFLINE": "0"}
        # address="local": a new cluster of the suite's own, even where `ray start` left a cluster (or its stale
        # /tmp/ray/ray_current_cluster file) that a bare ray.init() would try to join
        ray.init(address="local", num_cpus=2, object_store_memory=400 * 1024**2, include_dashboard=False,
                 logging_level=logging.WARNING, log_to_driver=False, runtime_env={"env_vars": env})
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    yield ray
    ray.shutdown()


@pytest.fixture(autouse=True)
def _ray_for_examples(request):
    """The docstring examples of ``mmweak/ray`` use the session's cluster."""
    path = str(getattr(request.node, "path", ""))
    if type(request.node).__name__ == "DoctestItem" and f"{os.sep}mmweak{os.sep}ray{os.sep}" in path:
        request.getfixturevalue("ray_session")
    yield


if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
