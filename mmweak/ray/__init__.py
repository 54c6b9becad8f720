"""mmweak on Ray Data: the same LFs, label models, cards and Hub layout, for data no single machine holds.

>>> import mmweak.ray as mray                                      # doctest: +SKIP
>>> rds = mray.read("hf://datasets/me/comments")                   # doctest: +SKIP
>>> rds = mray.apply_lfs(rds, lfs)                                 # doctest: +SKIP
>>> rds, models = mray.aggregate(rds, [spam])                      # doctest: +SKIP
>>> mray.save_curated(rds, "out/curated")                          # doctest: +SKIP

:func:`read` plans shards from metadata and lets workers read them; :func:`apply_lfs` runs rule LFs as
tasks and model LFs in actor pools, caching votes per block so a rerun resumes; :func:`aggregate` fits
each task's label model on a seeded sample gathered to the driver and writes probabilities with
``map_batches``; :func:`save_curated` writes the Hub-layout folder of :func:`mmweak.save_curated` with the
card's statistics aggregated from streamed blocks. For the same data and seed the votes, probabilities
and labels equal the local engine's.

Ray is an optional dependency: ``pip install 'mmweak[ray]'``.
"""

try:
    import ray as _ray  # noqa: F401
    import ray.data as _ray_data  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a process without ray
    raise ImportError(
        "mmweak.ray runs on Ray Data, which is not installed: pip install 'mmweak[ray]' (installs ray[data])"
    ) from exc

from .apply import RayApplyReport, apply_lfs
from .fit import aggregate
from .meta import ROW_COLUMN, meta_of
from .save import save_curated
from .source import DEFAULT_SHARD_ROWS, read

__all__ = ["DEFAULT_SHARD_ROWS", "ROW_COLUMN", "RayApplyReport", "aggregate", "apply_lfs", "meta_of", "read",
           "save_curated"]
