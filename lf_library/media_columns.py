"""Image and audio columns read undecoded while LFs run, and decoding again in the curated dataset.

The recipes read media columns as ``Image(decode=False)`` / ``Audio(decode=False)``: ``datasets`` then
hands over the stored bytes or path, so a corrupt file becomes one LF fault instead of an exception
while a batch is formatted, and every pass over the data (near-duplicate hashes, calibration) skips
decoding it does not need. The curated dataset should load as images and sounds again:
:func:`decode_media` flips ``decode`` back and keeps the rest of each feature (an ``Audio``
column's ``sampling_rate``, an ``Image`` column's ``mode``), so the feature a column was loaded
with is the feature it is saved with.

>>> import datasets
>>> ds = datasets.DatasetDict({"train": datasets.Dataset.from_dict(
...     {"clip": [None]}, features=datasets.Features({"clip": datasets.Audio(sampling_rate=16000)}))})
>>> raw = undecode_media(ds, ["clip"])
>>> raw["train"].features["clip"].decode, raw["train"].features["clip"].sampling_rate
(False, 16000)
>>> decode_media(raw)["train"].features["clip"] == datasets.Audio(sampling_rate=16000)
True
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from datasets import Audio, DatasetDict, Image

_MEDIA = (Image, Audio)


def _cast(dataset: DatasetDict, columns: Sequence[str] | None, decode: bool) -> DatasetDict:
    if not isinstance(dataset, DatasetDict):
        raise TypeError(f"expected a datasets.DatasetDict, got {type(dataset).__name__}")
    out = {}
    for split, ds in dataset.items():
        names = list(columns) if columns is not None else [
            c for c, f in ds.features.items() if isinstance(f, _MEDIA) and f.decode != decode]
        for col in names:
            feature = ds.features.get(col)
            if feature is None:
                raise ValueError(f"split {split!r} has no column {col!r} (columns: {ds.column_names})")
            if not isinstance(feature, _MEDIA):
                raise ValueError(f"column {col!r} of split {split!r} is {feature!r}, not datasets.Image or Audio")
            if feature.decode != decode:
                ds = ds.cast_column(col, dataclasses.replace(feature, decode=decode))
        out[split] = ds
    return DatasetDict(out)


def undecode_media(dataset: DatasetDict, columns: Sequence[str] | None = None) -> DatasetDict:
    """``dataset`` with media ``columns`` (default: every ``Image``/``Audio`` column) read undecoded.

    Args:
        dataset: the data, one ``Dataset`` per split.
        columns: the columns to change; each must be an ``Image`` or ``Audio`` feature.

    Returns:
        A new ``DatasetDict``; only ``decode`` of those features changes.

    Raises:
        ValueError: a named column is missing or is not an image or audio column.
    """
    return _cast(dataset, columns, decode=False)


def decode_media(dataset: DatasetDict, columns: Sequence[str] | None = None) -> DatasetDict:
    """``dataset`` with media ``columns`` (default: every undecoded ``Image``/``Audio`` column) decoding
    again, e.g. as a recipe's last step so the curated dataset loads as images and audio.

    Args:
        dataset: the data, one ``Dataset`` per split.
        columns: the columns to change; each must be an ``Image`` or ``Audio`` feature.

    Returns:
        A new ``DatasetDict``; only ``decode`` of those features changes.

    Raises:
        ValueError: a named column is missing or is not an image or audio column.
    """
    return _cast(dataset, columns, decode=True)


__all__ = ["decode_media", "undecode_media"]
