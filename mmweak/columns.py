"""Numeric columns between a Dataset and numpy, straight through Arrow buffers, never row by row.

In ``datasets`` 5, ``ds[col]`` is a lazy column that a ``np.asarray`` walks row by row through the
formatter (seconds for 100k rows); every place mmweak reads votes, probabilities, labels or gold goes
through :func:`read_column` / :func:`read_matrix` instead, which cost a memory copy at most.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import Dataset, DatasetDict
from datasets.features.features import FeatureType

#: ``datasets`` features whose cells name or hold a file (decoded on access): images, audio, video, PDFs.
MEDIA_FEATURES = ("Image", "Audio", "Video", "Pdf")


def is_media(feature: object) -> bool:
    """Whether ``feature`` is one of :data:`MEDIA_FEATURES` (by name: ``Video`` and ``Pdf`` need extra packages).

    >>> from datasets import Image, Value
    >>> is_media(Image()), is_media(Value("string"))
    (True, False)
    """
    return type(feature).__name__ in MEDIA_FEATURES


def split_name(ds: Dataset) -> str:
    """The name a lone ``Dataset`` goes by as a split: its own ``split``, else ``"train"``."""
    return str(ds.split) if ds.split is not None else "train"


def split_dict(ds: Dataset | DatasetDict) -> dict[str, Dataset]:
    """The splits of ``ds`` by name (a lone ``Dataset`` is its own split, named like ``apply_lfs`` names it).

    >>> import datasets
    >>> list(split_dict(datasets.Dataset.from_dict({"y": [1]})))
    ['train']
    """
    if isinstance(ds, DatasetDict):
        return dict(ds)
    if isinstance(ds, Dataset):
        return {split_name(ds): ds}
    raise TypeError(f"expected a datasets.Dataset or DatasetDict, got {type(ds).__name__}")


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


def arrow_column(ds: Dataset, column: str) -> pa.ChunkedArray:
    """Column ``column`` of ``ds`` as Arrow, in the rows ``ds`` shows (after ``select``, ``filter``, ``shuffle``)."""
    if column not in ds.column_names:
        raise KeyError(f"column {column!r} not in the dataset (columns: {ds.column_names})")
    data = ds.data.column(column)
    if ds._indices is not None:  # select/shuffle/filter: rows in the order of the index mapping
        data = data.take(ds._indices.column(0))
    return data


def struct_list_field(kind: pa.DataType, field: str) -> pa.DataType | None:
    """The type of ``field`` when ``kind`` is a list of structs holding it (as ``T_answers``), else None: a column of
    another shape (a user's own, all nulls) holds no such field.

    >>> struct_list_field(pa.list_(pa.struct([("round", pa.int32())])), "round"), struct_list_field(pa.null(), "round")
    (DataType(int32), None)
    """
    if not (pa.types.is_list(kind) or pa.types.is_large_list(kind)) or not pa.types.is_struct(kind.value_type):
        return None
    i = kind.value_type.get_field_index(field)
    return None if i < 0 else kind.value_type.field(i).type


def read_column(ds: Dataset, column: str, dtype: np.dtype | type | None = None) -> np.ndarray:
    """A scalar column (int, float, ``ClassLabel``...) as a 1-D numpy array, read straight from Arrow.

    Nulls become ``-1`` for integer columns and NaN for float ones.

    >>> import datasets
    >>> read_column(datasets.Dataset.from_dict({"y": [1, 0, 1]}).select([2, 0]), "y").tolist()
    [1, 1]
    """
    data = arrow_column(ds, column)
    if data.null_count:
        data = (
            pc.fill_null(data, -1) if pa.types.is_integer(data.type) else pc.fill_null(data.cast(pa.float64()), np.nan)
        )
    out = data.to_numpy() if data.num_chunks else np.zeros(0)
    return out.astype(dtype, copy=False) if dtype is not None else out


def read_matrix(ds: Dataset, column: str, dtype: np.dtype | type | None = None) -> np.ndarray:
    """A fixed-length list column (votes, probabilities) as an (n, k) numpy matrix, read straight from Arrow.

    >>> import datasets
    >>> from datasets import List, Value, Features
    >>> features = Features({"v": List(Value("int8"), length=2)})
    >>> ds = datasets.Dataset.from_dict({"v": [[0, -1], [1, 1]]}, features=features)
    >>> read_matrix(ds, "v").tolist()
    [[0, -1], [1, 1]]
    >>> read_matrix(datasets.Dataset.from_dict({"v": [[0, 1], None]}), "v")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: column 'v' has a missing row (1, None); it cannot be read as a matrix: give every row its list ...
    >>> read_matrix(datasets.Dataset.from_dict({"v": [[0, 1], [1, 1, 1], [0]]}), "v")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: column 'v' has rows of different lengths (row 0 holds 2 values, row 1 holds 3); it cannot ...
    """
    feature = ds.features[column]
    k = getattr(feature, "length", -1)
    data = arrow_column(ds, column)
    if len(ds) == 0:
        return np.zeros((0, max(k, 0)), dtype=dtype or np.int8)
    if data.null_count:
        row = int(np.flatnonzero(pc.is_null(data).to_numpy(zero_copy_only=False))[0])
        raise ValueError(f"column {column!r} has a missing row ({row}, None); it cannot be read as a matrix: give "
                         f"every row its list (all -1 for votes without a vote)")
    if k is None or k < 0:  # variable-length lists: a matrix only when every row holds as many
        lengths = pc.list_value_length(data).to_numpy(zero_copy_only=False)
        k = int(lengths[0])
        if (lengths != k).any():  # a total that happens to be rows x k must not pass (rows would shift)
            row = int(np.flatnonzero(lengths != k)[0])
            raise ValueError(f"column {column!r} has rows of different lengths (row 0 holds {k} values, row {row} "
                             f"holds {int(lengths[row])}); it cannot be read as a matrix")
    parts = []
    for chunk in data.chunks:
        parts.append(chunk.flatten().to_numpy(zero_copy_only=False))
    flat = np.concatenate(parts) if len(parts) != 1 else parts[0]
    if flat.size != len(ds) * k:
        raise ValueError(f"column {column!r} has rows of different lengths; it cannot be read as a matrix")
    out = flat.reshape(len(ds), k)
    return out.astype(dtype, copy=False) if dtype is not None else out
