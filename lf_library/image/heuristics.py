"""Image-quality heuristics (PIL + numpy): size, shape, exposure, contrast, blur, undecodable files.

Every LF here reads the same per-image statistics (:func:`image_stats`), computed once per batch and
column whatever the number of heuristic LFs. Each votes its ``label`` when the statistic is out of
range and ``otherwise`` (default: abstain) when it is in range.

===================  ===========================================================================
statistic            meaning
===================  ===========================================================================
``width/height``     pixels
``min_side``         ``min(width, height)``
``pixels``           ``width * height``
``aspect_ratio``     long side / short side (``>= 1``)
``brightness``       mean grey level, ``0`` (black) .. ``1`` (white)
``contrast``         RMS contrast: standard deviation of grey levels, ``0 .. 0.5``
``sharpness``        variance of the 4-neighbour Laplacian of the grey image (0..255 scale);
                     low means blurry. Measured after shrinking the long side to
                     ``STATS_MAX_SIDE`` pixels, so it is comparable across resolutions.
===================  ===========================================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from lf_library.labels import resolve_label
from lf_library.media import DecodeFailure, OnDecodeError
from mmweak.batch_memo import memo
from mmweak.lf import ABSTAIN, Batch
from mmweak.task import Task

from .decode import ImageLF

if TYPE_CHECKING:  # annotations only: PIL is imported where images are made
    import PIL.Image

__all__ = [
    "AspectRatioLF", "BlurLF", "BrightnessLF", "ContrastLF", "ImageRangesLF", "ImageStatLF", "ResolutionLF", "STATS",
    "STATS_MAX_SIDE", "UndecodableLF", "image_stats",
]

#: Grey-level statistics are measured on the image shrunk to at most this many pixels on its long side.
STATS_MAX_SIDE = 512
STATS = ("width", "height", "min_side", "pixels", "aspect_ratio", "brightness", "contrast", "sharpness")


def image_stats(img: "PIL.Image.Image") -> dict[str, float]:
    """The statistics of one image (see the module docstring).

    >>> from PIL import Image
    >>> s = image_stats(Image.new("L", (40, 20), 255))
    >>> s["aspect_ratio"], s["brightness"], s["contrast"], s["sharpness"]
    (2.0, 1.0, 0.0, 0.0)
    """
    from PIL import Image

    # A JPEG decoded at reduced scale (MediaLimits oversize="reduce") still reports its real size.
    w, h = img.info.get("original_size", img.size)
    gray = img.convert("L")
    gw, gh = gray.size
    scale = STATS_MAX_SIDE / max(gw, gh)
    if scale < 1:
        gray = gray.resize((max(1, round(gw * scale)), max(1, round(gh * scale))), Image.Resampling.BILINEAR)
    g = np.asarray(gray, dtype=np.float32)
    if g.shape[0] >= 3 and g.shape[1] >= 3:
        lap = g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4.0 * g[1:-1, 1:-1]
        sharpness = float(lap.var())
    else:
        sharpness = 0.0
    return {
        "width": float(w),
        "height": float(h),
        "min_side": float(min(w, h)),
        "pixels": float(w * h),
        "aspect_ratio": float(max(w, h) / max(1, min(w, h))),
        "brightness": float(g.mean() / 255.0),
        "contrast": float(g.std() / 255.0),
        "sharpness": sharpness,
    }


class _StatsLF(ImageLF):
    """Image LFs that read :func:`image_stats`, computed once per batch for all of them."""

    def stats(self, batch: Batch) -> list[dict[str, float] | DecodeFailure]:
        """Statistics of every row of ``batch`` (shared by all heuristic LFs on the column)."""
        items = self.decoded(batch)
        return memo(
            ("image-stats", self.column, self.decode_key()),
            lambda: [it if isinstance(it, DecodeFailure) else image_stats(it) for it in items],
        )


class ImageStatLF(_StatsLF):
    """Votes ``label`` when statistic ``stat`` is below ``below`` or above ``above``, else ``otherwise``.

    >>> import mmweak
    >>> from PIL import Image
    >>> quality = mmweak.Task("quality", ["keep", "drop"])
    >>> dark = ImageStatLF("too_dark", task=quality, stat="brightness", below=0.1, label="drop", otherwise="keep")
    >>> dark({"image": [Image.new("L", (8, 8), 5), Image.new("L", (8, 8), 128), b"not an image"]})
    [1, 0, -1]
    """

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        stat: str,
        label: int | str,
        below: float | None = None,
        above: float | None = None,
        otherwise: int | str | None = None,
        column: str = "image",
        on_decode_error: OnDecodeError = "abstain",
        version: str = "1",
    ) -> None:
        super().__init__(name, task=task, column=column, on_decode_error=on_decode_error, version=version)
        if stat not in STATS:
            raise ValueError(f"LF {name!r}: unknown image statistic {stat!r}; choose one of {STATS}")
        if below is None and above is None:
            raise ValueError(f"LF {name!r}: give a 'below' and/or an 'above' threshold for {stat!r}")
        self.stat = stat
        self.below = None if below is None else float(below)
        self.above = None if above is None else float(above)
        self.label = resolve_label(task, label, lf=name)
        self.otherwise = ABSTAIN if otherwise is None else resolve_label(task, otherwise, lf=name)

    def label_decoded(self, items: list[Any], batch: Batch, positions: list[int]) -> list[int]:
        stats = self.stats(batch)
        out = []
        for p in positions:
            row = stats[p]
            assert not isinstance(row, DecodeFailure)  # positions are the rows that decoded
            v = row[self.stat]
            hit = (self.below is not None and v < self.below) or (self.above is not None and v > self.above)
            out.append(self.label if hit else self.otherwise)
        return out

    def config(self) -> dict[str, Any]:
        return {
            **super().config(), "stat": self.stat, "below": self.below, "above": self.above,
            "label": self.label, "otherwise": self.otherwise,
        }


class ResolutionLF(ImageStatLF):
    """Votes ``label`` for images whose short side is under ``min_side`` pixels (thumbnails, icons).

    >>> import mmweak
    >>> from PIL import Image
    >>> q = mmweak.Task("quality", ["keep", "drop"])
    >>> ResolutionLF("tiny", task=q, min_side=64, label="drop")({"image": [Image.new("RGB", (32, 200))]})
    [1]
    """

    def __init__(self, name: str, *, task: Task, min_side: float, label: int | str,
                 otherwise: int | str | None = None, column: str = "image", on_decode_error: OnDecodeError = "abstain",
                 version: str = "1") -> None:
        super().__init__(name, task=task, stat="min_side", below=min_side, label=label, otherwise=otherwise,
                         column=column, on_decode_error=on_decode_error, version=version)


class AspectRatioLF(ImageStatLF):
    """Votes ``label`` for images more elongated than ``max_ratio`` (long side / short side): banners, strips.

    >>> import mmweak
    >>> from PIL import Image
    >>> q = mmweak.Task("quality", ["keep", "drop"])
    >>> AspectRatioLF("banner", task=q, max_ratio=3, label="drop")({"image": [Image.new("RGB", (400, 50))]})
    [1]
    """

    def __init__(self, name: str, *, task: Task, max_ratio: float, label: int | str,
                 otherwise: int | str | None = None, column: str = "image", on_decode_error: OnDecodeError = "abstain",
                 version: str = "1") -> None:
        super().__init__(name, task=task, stat="aspect_ratio", above=max_ratio, label=label, otherwise=otherwise,
                         column=column, on_decode_error=on_decode_error, version=version)


class BrightnessLF(ImageStatLF):
    """Votes ``label`` for under- (``below``) or over-exposed (``above``) images; brightness is ``0..1``.

    >>> import mmweak
    >>> from PIL import Image
    >>> q = mmweak.Task("quality", ["keep", "drop"])
    >>> lf = BrightnessLF("exposure", task=q, below=0.08, above=0.95, label="drop")
    >>> lf({"image": [Image.new("L", (9, 9), 0), Image.new("L", (9, 9), 250), Image.new("L", (9, 9), 99)]})
    [1, 1, -1]
    """

    def __init__(self, name: str, *, task: Task, label: int | str, below: float | None = None,
                 above: float | None = None, otherwise: int | str | None = None, column: str = "image",
                 on_decode_error: OnDecodeError = "abstain", version: str = "1") -> None:
        super().__init__(name, task=task, stat="brightness", below=below, above=above, label=label,
                         otherwise=otherwise, column=column, on_decode_error=on_decode_error, version=version)


class ContrastLF(ImageStatLF):
    """Votes ``label`` for flat, washed-out images whose RMS contrast is under ``below`` (``0..0.5``).

    >>> import mmweak
    >>> from PIL import Image
    >>> q = mmweak.Task("quality", ["keep", "drop"])
    >>> ContrastLF("flat", task=q, below=0.05, label="drop")({"image": [Image.new("L", (9, 9), 120)]})
    [1]
    """

    def __init__(self, name: str, *, task: Task, below: float, label: int | str,
                 otherwise: int | str | None = None, column: str = "image", on_decode_error: OnDecodeError = "abstain",
                 version: str = "1") -> None:
        super().__init__(name, task=task, stat="contrast", below=below, label=label, otherwise=otherwise,
                         column=column, on_decode_error=on_decode_error, version=version)


class BlurLF(ImageStatLF):
    """Votes ``label`` for blurry images: variance of the Laplacian under ``max_sharpness``.

    Sensible thresholds depend on the content; ~100 is a common starting point for photos, and a
    labelled handful calibrates it (see :func:`lf_library.image.calibrate_threshold`).

    >>> import mmweak, numpy as np
    >>> from PIL import Image, ImageFilter
    >>> q = mmweak.Task("quality", ["keep", "drop"])
    >>> noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8))
    >>> lf = BlurLF("blurry", task=q, max_sharpness=100, label="drop", otherwise="keep")
    >>> lf({"image": [noise, noise.filter(ImageFilter.GaussianBlur(4))]})
    [0, 1]
    """

    def __init__(self, name: str, *, task: Task, max_sharpness: float, label: int | str,
                 otherwise: int | str | None = None, column: str = "image", on_decode_error: OnDecodeError = "abstain",
                 version: str = "1") -> None:
        super().__init__(name, task=task, stat="sharpness", below=max_sharpness, label=label, otherwise=otherwise,
                         column=column, on_decode_error=on_decode_error, version=version)


class ImageRangesLF(_StatsLF):
    """Votes ``label`` when *every* listed statistic lies within its ``(low, high)`` range (``None`` = open).

    The counterpart of the one-defect LFs above: "passes all checks" evidence for a ``keep`` class.

    >>> import mmweak
    >>> from PIL import Image
    >>> q = mmweak.Task("quality", ["keep", "drop"])
    >>> lf = ImageRangesLF("looks_fine", task=q, label="keep",
    ...                    ranges={"min_side": (64, None), "brightness": (0.1, 0.9)})
    >>> lf({"image": [Image.new("L", (80, 80), 128), Image.new("L", (80, 80), 0), Image.new("L", (32, 80), 128)]})
    [0, -1, -1]
    """

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        ranges: dict[str, tuple[float | None, float | None]],
        label: int | str,
        otherwise: int | str | None = None,
        column: str = "image",
        on_decode_error: OnDecodeError = "abstain",
        version: str = "1",
    ) -> None:
        if not ranges:
            raise ValueError(f"LF {name!r}: give at least one statistic range")
        unknown = sorted(set(ranges) - set(STATS))
        if unknown:
            raise ValueError(f"LF {name!r}: unknown image statistics {unknown}; choose from {STATS}")
        super().__init__(name, task=task, column=column, on_decode_error=on_decode_error, version=version)
        self.label = resolve_label(task, label, lf=name)
        self.otherwise = ABSTAIN if otherwise is None else resolve_label(task, otherwise, lf=name)
        self.ranges = {
            k: (None if lo is None else float(lo), None if hi is None else float(hi))
            for k, (lo, hi) in sorted(ranges.items())
        }

    def label_decoded(self, items: list[Any], batch: Batch, positions: list[int]) -> list[int]:
        stats = self.stats(batch)
        out = []
        for p in positions:
            row = stats[p]
            assert not isinstance(row, DecodeFailure)  # positions are the rows that decoded
            ok = all(
                (lo is None or row[k] >= lo) and (hi is None or row[k] <= hi) for k, (lo, hi) in self.ranges.items()
            )
            out.append(self.label if ok else self.otherwise)
        return out

    def config(self) -> dict[str, Any]:
        return {
            **super().config(),
            "ranges": {k: list(v) for k, v in self.ranges.items()},
            "label": self.label,
            "otherwise": self.otherwise,
        }


class UndecodableLF(ImageLF):
    """Votes ``label`` for cells that are not a readable image (corrupt, truncated, empty), ``otherwise`` else.

    Unlike other image LFs it *votes* on bad files rather than abstaining on them, so it counts no
    faults; an image over the media limits is not readable within them, so it votes ``label`` too.
    ``apply_lfs`` hands it an ``Image()`` column undecoded (see :mod:`lf_library.image.decode`).

    >>> import mmweak
    >>> from PIL import Image
    >>> q = mmweak.Task("quality", ["keep", "drop"])
    >>> UndecodableLF("broken", task=q, label="drop")({"image": [b"\\x89PNG garbage", Image.new("RGB", (2, 2))]})
    [1, -1]
    """

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        label: int | str,
        otherwise: int | str | None = None,
        column: str = "image",
        version: str = "1",
    ) -> None:
        super().__init__(name, task=task, column=column, version=version)
        self.label = resolve_label(task, label, lf=name)
        self.otherwise = ABSTAIN if otherwise is None else resolve_label(task, otherwise, lf=name)

    def label_batch(self, batch: Batch) -> Sequence[int]:
        return [self.label if isinstance(it, DecodeFailure) else self.otherwise for it in self.decoded(batch)]

    def config(self) -> dict[str, Any]:
        return {**super().config(), "label": self.label, "otherwise": self.otherwise}
