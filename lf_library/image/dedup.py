"""Near-duplicate images: a perceptual hash per image and one dataset-level grouping pass.

Whether a row is a duplicate depends on the other rows, which a batched LF never sees. So the work is
split in two, the HF way:

1. :func:`mark_near_duplicates` is a dataset transform: it hashes every image (``Dataset.map``,
   batched, ``num_proc``-able), groups hashes within ``max_distance`` bits of each other across all
   splits (pigeonhole band index, then union-find: no all-pairs scan), and adds a string column
   ``<column>_dup_of`` naming the first row of the group (``"train/12"``) on every later member and
   ``None`` on first occurrences and unique images. Test rows that duplicate train rows are marked,
   which is exactly the leakage one wants to see.
2. :class:`NearDuplicateLF` reads that column and votes.

Because the mark is an ordinary column, it enters the dataset fingerprint: LF votes are cached
against it like against any other input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
from datasets import Dataset, DatasetDict, Image, Value

from lf_library.labels import resolve_label
from lf_library.media import MediaLimits, current_limits
from mmweak.fingerprint import code_digest, stable_hash
from mmweak.lf import ABSTAIN, Batch, LabelingFunction
from mmweak.task import Task

from .decode import load_image

if TYPE_CHECKING:  # annotations only: PIL is imported where images are made
    import PIL.Image

__all__ = ["NearDuplicateLF", "hamming", "mark_near_duplicates", "phash"]

_DCT_SIZE = 32


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    x = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * x + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m


_DCT = _dct_matrix(_DCT_SIZE)


def phash(img: "PIL.Image.Image") -> int:
    """64-bit DCT perceptual hash: low-frequency DCT coefficients of a 32x32 grey thumbnail vs their median.

    Robust to resizing, mild blur, re-encoding and small brightness changes; sensitive to crops,
    flips and content changes.

    >>> import numpy as np
    >>> from PIL import Image, ImageFilter
    >>> img = Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 96), dtype=np.uint8))
    >>> hamming(phash(img), phash(img.resize((48, 32)).filter(ImageFilter.GaussianBlur(1)))) <= 6
    True
    >>> hamming(phash(img), phash(img.transpose(Image.Transpose.FLIP_LEFT_RIGHT))) > 10
    True
    """
    from PIL import Image

    g = np.asarray(img.convert("L").resize((_DCT_SIZE, _DCT_SIZE), Image.Resampling.LANCZOS), dtype=np.float64)
    low = (_DCT @ g @ _DCT.T)[:8, :8].ravel()
    bits = low > np.median(low)
    return int(np.packbits(bits).view(">u8")[0])


def hamming(a: int, b: int) -> int:
    """Number of differing bits of two hashes.

    >>> hamming(0b1011, 0b0001)
    2
    """
    return (int(a) ^ int(b)).bit_count()


def _hash_batch(column: str, limits: MediaLimits):
    def run(batch: dict[str, list]) -> dict[str, list]:
        out: list[str | None] = []
        for cell in batch[column]:
            try:
                out.append(f"{phash(load_image(cell, limits)):016x}")
            except Exception:  # noqa: BLE001 - an unreadable image has no hash and no duplicates
                out.append(None)
        return {"_phash": out}

    return run


def _groups(hashes: Sequence[int | None], max_distance: int) -> np.ndarray:
    """For each position, the first position of its near-duplicate group (itself when first or unique)."""
    n = len(hashes)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        ri, rj = find(i), find(j)
        if ri != rj:  # the smaller position stays the root: the first occurrence represents the group
            parent[max(ri, rj)] = min(ri, rj)

    first: dict[int, int] = {}
    for i, h in enumerate(hashes):
        if h is None:
            continue
        if h in first:
            union(first[h], i)  # identical hashes
        else:
            first[h] = i
    if max_distance > 0 and len(first) > 1:
        # Pigeonhole: hashes within d bits agree exactly on at least one of d+1 disjoint bit bands.
        bands = min(max_distance + 1, 64)
        edges = np.linspace(0, 64, bands + 1).astype(int)
        distinct = list(first)
        for b in range(bands):
            lo, width = int(edges[b]), int(edges[b + 1] - edges[b])
            mask = (1 << width) - 1
            buckets: dict[int, list[int]] = {}
            for h in distinct:
                buckets.setdefault((h >> lo) & mask, []).append(h)
            for members in buckets.values():
                for x in range(len(members)):
                    for y in range(x + 1, len(members)):
                        if hamming(members[x], members[y]) <= max_distance:
                            union(first[members[x]], first[members[y]])
    return np.array([find(i) for i in range(n)], dtype=np.int64)


def mark_near_duplicates(
    dataset: Dataset | DatasetDict,
    column: str = "image",
    *,
    max_distance: int = 4,
    out_column: str | None = None,
    batch_size: int = 256,
    num_proc: int | None = None,
    limits: MediaLimits | None = None,
) -> Dataset | DatasetDict:
    """Add ``<column>_dup_of``: ``"split/row"`` of the group's first image on later near-duplicates, else None.

    Images whose perceptual hashes differ in at most ``max_distance`` of 64 bits are near-duplicates
    (grouped transitively). Splits are scanned in order, so a test image that repeats a train image
    points at the train row. Unreadable images, and images over ``limits`` (default
    :func:`lf_library.media.current_limits`; checked before decoding), get ``None`` (see
    :class:`~lf_library.image.UndecodableLF`). An ``Image()`` column is read undecoded, so ``datasets``
    never decodes a whole batch of full-size images first.

    >>> import datasets, numpy as np
    >>> from PIL import Image
    >>> rng = np.random.default_rng(0)
    >>> a, b = (Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)) for _ in range(2))
    >>> ds = datasets.Dataset.from_dict({"image": [a, b, a.resize((40, 40))]}, features=datasets.Features(
    ...     {"image": datasets.Image()}))
    >>> list(mark_near_duplicates(ds)["image_dup_of"])
    [None, None, 'train/0']
    """
    if max_distance < 0 or max_distance > 32:
        raise ValueError(f"max_distance must be within 0..32 bits, got {max_distance}")
    out_column = out_column or f"{column}_dup_of"
    limits = limits or current_limits()
    splits = dict(dataset) if isinstance(dataset, DatasetDict) else {str(dataset.split or "train"): dataset}
    refs: list[str] = []
    hashes: list[int | None] = []
    for name, ds in splits.items():
        if column not in ds.column_names:
            raise ValueError(
                f"mark_near_duplicates: split {name!r} has no column {column!r} (columns: {ds.column_names})")
        if len(ds) == 0:
            continue
        fp = stable_hash(
            "phash", ds._fingerprint, column, code_digest(phash), code_digest(load_image), limits.to_dict()
        )
        cells = ds.select_columns([column])
        if isinstance(cells.features[column], Image) and cells.features[column].decode:
            cells = cells.cast_column(column, Image(decode=False))
        hashed = cells.map(
            _hash_batch(column, limits),
            batched=True,
            batch_size=batch_size,
            remove_columns=[column],
            num_proc=num_proc if num_proc and num_proc > 1 else None,
            keep_in_memory=True,
            new_fingerprint=fp,
            desc=f"perceptual hashes of {name}/{column}",
        )
        hashes.extend(None if h is None else int(h, 16) for h in hashed["_phash"])
        refs.extend(f"{name}/{i}" for i in range(len(ds)))
    roots = _groups(hashes, max_distance)
    out: dict[str, Dataset] = {}
    start = 0
    for name, ds in splits.items():
        marks = [None if roots[g] == g else refs[roots[g]] for g in range(start, start + len(ds))]
        start += len(ds)
        if out_column in ds.column_names:
            ds = ds.remove_columns(out_column)
        fp = stable_hash("dup_of", ds._fingerprint, out_column, marks)
        out[name] = ds.add_column(out_column, marks, feature=Value("string"), new_fingerprint=fp)
    return DatasetDict(out) if isinstance(dataset, DatasetDict) else out[next(iter(out))]


class NearDuplicateLF(LabelingFunction):
    """Votes ``label`` on rows marked as a later near-duplicate by :func:`mark_near_duplicates`.

    Reads the ``<image column>_dup_of`` column (``column``), so run :func:`mark_near_duplicates`
    first; first occurrences and unique images get ``otherwise`` (default: abstain).

    >>> import mmweak
    >>> q = mmweak.Task("quality", ["keep", "drop"])
    >>> NearDuplicateLF("dup", task=q, label="drop")({"image_dup_of": [None, "train/0"]})
    [-1, 1]
    """

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        label: int | str,
        otherwise: int | str | None = None,
        column: str = "image_dup_of",
        version: str = "1",
    ) -> None:
        super().__init__(name, task=task, inputs=[column], modality="image", version=version)
        self.column = column
        self.label = resolve_label(task, label, lf=name)
        self.otherwise = ABSTAIN if otherwise is None else resolve_label(task, otherwise, lf=name)

    def label_batch(self, batch: Batch) -> list[int]:
        return [self.label if v else self.otherwise for v in batch[self.column]]

    def config(self) -> dict[str, Any]:
        return {"column": self.column, "label": self.label, "otherwise": self.otherwise}
