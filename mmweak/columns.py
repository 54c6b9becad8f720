"""Adding fixed-length numeric columns to a Dataset straight from numpy, without a Python loop."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from datasets import Dataset
from datasets.features.features import FeatureType


def fixed_list(matrix: np.ndarray) -> pa.FixedSizeListArray:
    """An (n, k) numpy matrix as an Arrow fixed-size-list array of k values per row."""
    n, k = matrix.shape
    return pa.FixedSizeListArray.from_arrays(pa.array(np.ascontiguousarray(matrix).reshape(-1)), k)


def replace_columns(
    ds: Dataset, columns: dict[str, tuple[pa.Array | np.ndarray, FeatureType]], *, fingerprint: str
) -> Dataset:
    """Drop ``columns`` from ``ds`` where present and add them anew, with a deterministic fingerprint."""
    stale = [c for c in columns if c in ds.column_names]
    if stale:
        ds = ds.remove_columns(stale, new_fingerprint=f"{fingerprint}-drop")
    for i, (name, (values, feature)) in enumerate(columns.items()):
        if isinstance(values, np.ndarray):
            values = fixed_list(values) if values.ndim == 2 else pa.array(values)
        ds = ds.add_column(name, values, feature=feature, new_fingerprint=f"{fingerprint}-{i}")
    return ds


def read_matrix(ds: Dataset, column: str) -> np.ndarray:
    """A fixed-length list column as an (n, k) numpy matrix, read straight from Arrow."""
    if len(ds) == 0:
        return np.zeros((0, ds.features[column].length), dtype=np.int8)
    return np.asarray(ds.with_format("numpy")[column]).reshape(len(ds), -1)
