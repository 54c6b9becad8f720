"""Running Ray Data pipelines for mmweak: ordered execution, mmweak's errors back as themselves, quiet logs."""

from __future__ import annotations

import logging
import re
from typing import Any, Iterator

import pyarrow as pa

from ..errors import MMWeakError


def prepare(rds: Any) -> Any:
    """Set the execution options mmweak's results depend on, on ``rds`` (and what is derived from it).

    Order is preserved, so sampled fit rows, written shards and streamed statistics follow the source
    order exactly as the local engine does; a failing operator raises the error it raised (an
    :class:`~mmweak.errors.LFError` naming LF, column and row) instead of Ray Data's generic wrapper.
    """
    ctx = rds.context
    ctx.execution_options.preserve_order = True
    ctx.raise_original_map_exception = True
    return rds


def batches(rds: Any) -> Iterator[pa.Table]:
    """The blocks of ``rds`` as Arrow tables, in order, with mmweak's errors raised as themselves."""
    it = iter(rds.iter_batches(batch_size=None, batch_format="pyarrow", prefetch_batches=1))
    while True:
        try:
            table = next(it)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - re-raised, unwrapped when it is ours
            raise_unwrapped(exc)
        yield table


def raise_unwrapped(exc: BaseException) -> None:
    """Raise the mmweak error inside a Ray task error (``RayTaskError(LFError)``), else ``exc`` itself."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, MMWeakError) and not _is_ray_error(e):
            if e.args and isinstance(e.args[0], str):  # Ray Data appends its retry advice to the message
                e.args = (_RAY_NOTE.sub("", e.args[0]), *e.args[1:])
            raise e.with_traceback(None) from None
        todo += [getattr(e, "cause", None), e.__cause__, e.__context__]
    raise exc


_RAY_NOTE = re.compile(r"\nFailed to [^\n]* after \d+/\d+ attempts \(total backoff [\d.]+s\)\.[\s\S]*\Z")


def _is_ray_error(e: BaseException) -> bool:
    return any(c.__module__.startswith("ray.") for c in type(e).__mro__)


def cluster_cpus() -> float:
    """CPUs of the running Ray cluster (starting a local one as Ray Data would)."""
    import ray

    if not ray.is_initialized():
        ray.init(logging_level=logging.WARNING)
    return float(ray.cluster_resources().get("CPU", 1.0))


def cluster_gpus() -> float:
    import ray

    if not ray.is_initialized():
        ray.init(logging_level=logging.WARNING)
    return float(ray.cluster_resources().get("GPU", 0.0))
