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
from pathlib import Path
from typing import Literal, Sequence

from datasets import Audio, Dataset, DatasetDict, Image, load_dataset

from mmweak.sources import normalize_splits

_MEDIA = (Image, Audio)
_KINDS = {"image": Image, "audio": Audio}
#: single media files a user may point at directly
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".mp3", ".opus", ".m4a", ".aiff", ".aif"})
_BUILDERS = {"jsonl": "json", "tsv": "csv", "txt": "text", "parquet": "parquet", "csv": "csv", "json": "json"}


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


def load_media(data: str | Path, kind: Literal["image", "audio"], column: str | None = None
               ) -> tuple[DatasetDict, str, Image | Audio]:
    """Read a media dataset with its image or audio column undecoded: the one reader behind the image and audio
    recipes.

    Args:
        data: a folder (``imagefolder``/``audiofolder`` layout, or a saved/curated dataset), a data file
            (parquet/csv/json/jsonl/tsv), a single audio file, or a Hub dataset id.
        kind: ``"image"`` or ``"audio"``.
        column: the media column; default: the first ``Image`` (``Audio``) feature.

    Returns:
        The ``DatasetDict`` (``valid``/``val``/``dev`` called ``validation``), the media column, and the feature
        it was loaded with (restore it with :func:`decode_media` before saving).

    Raises:
        ValueError: no such column, no media column of that kind, or a file type it cannot read.

    >>> import tempfile, numpy as np, soundfile as sf
    >>> path = Path(tempfile.mkdtemp()) / "one.wav"
    >>> sf.write(path, np.zeros(160, np.float32), 16000)
    >>> ds, column, feature = load_media(path, "audio")
    >>> column, ds["train"].features[column].decode, feature.decode
    ('audio', False, True)
    """
    want = _KINDS[kind]
    p = Path(data)
    if p.is_file() and kind == "audio" and p.suffix.lower() in AUDIO_SUFFIXES:
        loaded: Dataset | DatasetDict = Dataset.from_dict({"audio": [str(p.resolve())]}).cast_column("audio", Audio())
    elif p.is_file():
        builder = _BUILDERS.get(p.suffix.lstrip(".").lower())
        if builder is None:
            raise ValueError(f"{data}: cannot tell how to read a {p.suffix!r} file; give a folder or Hub id")
        loaded = load_dataset(builder, data_files=str(p), **({"delimiter": "\t"} if p.suffix == ".tsv" else {}))
    elif kind == "image" and p.is_dir() and not any(p.glob("*.parquet")) and not (p / "README.md").is_file():
        loaded = load_dataset("imagefolder", data_dir=str(p))  # a bare folder of pictures (+ metadata.csv)
    else:
        loaded = load_dataset(str(data))
    ds = normalize_splits(loaded)
    first = next(iter(ds.values()))
    if column is None:
        column = next((c for c, f in first.features.items() if isinstance(f, want)), None)
        if column is None:
            raise ValueError(f"{data}: no {kind} column among {first.column_names}; name it ({kind}_column=...)")
    if column not in first.column_names:
        raise ValueError(f"{data} has no column {column!r} (columns: {first.column_names})")
    feature = first.features[column]
    if not isinstance(feature, want):
        raise ValueError(f"{data}: column {column!r} is {feature!r}, not datasets.{want.__name__}")
    return undecode_media(ds, [column]), column, feature


__all__ = ["AUDIO_SUFFIXES", "decode_media", "load_media", "undecode_media"]
