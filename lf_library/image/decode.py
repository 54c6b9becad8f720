"""Turn any image cell into a loaded ``PIL.Image``: the base of every image LF.

Cells come in the shapes ``datasets`` produces — a decoded ``PIL.Image`` (``Image()``), a
``{"bytes": ..., "path": ...}`` dict (``Image(decode=False)``), a file path or raw bytes — or as a
numpy array. Decoding forces the full pixel read, so truncated files fail here (and are abstained on
and counted, or raise, by the LF's ``on_decode_error`` policy) instead of deep inside a model.

Sizes are checked against :class:`lf_library.media.MediaLimits` from the file's header, before any
pixel is decoded: a 164 KB PNG that would decode to 13000x13000 pixels is refused (an
:class:`~lf_library.media.OversizeError`, hence a counted fault) instead of taking 170 MB or more.

``mmweak.apply_lfs`` hands image LFs an ``Image()`` column undecoded when only such LFs read it, so a corrupt
file meets their ``on_decode_error`` policy row by row; when a plain Python LF reads the column too, ``datasets``
decodes it for that LF, and a cell it cannot decode is that LF's error or fault (``on_error``). Called directly
(outside ``apply_lfs``), an LF sees whatever cells it is given.
"""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from lf_library.media import MediaLF, MediaLimits, OnDecodeError, OversizeError
from mmweak.task import Task

if TYPE_CHECKING:  # annotations only: PIL is imported where images are made
    import PIL.Image

__all__ = ["ImageLF", "image_decode_key", "load_image"]


def image_decode_key(limits: MediaLimits) -> tuple:
    """The batch-memo key of images decoded by :func:`load_image` under ``limits`` (shared by all image LFs)."""
    return ("pil", limits.max_image_pixels, limits.oversize)


def load_image(value: Any, limits: MediaLimits | None = None) -> "PIL.Image.Image":
    """A fully loaded ``PIL.Image`` from an image cell; raises on empty, unreadable, truncated or oversized input.

    EXIF orientation is applied, as ``datasets.Image`` does, so both ways of storing a photo give the
    same pixels. With ``limits``, an image over ``max_image_pixels`` raises
    :class:`~lf_library.media.OversizeError` before its pixels are decoded, or, with ``oversize="reduce"``
    and a JPEG, is decoded at the largest of 1/2, 1/4, 1/8 scale that fits (its full size is kept in
    ``img.info["original_size"]``).

    >>> import io, numpy as np
    >>> from PIL import Image
    >>> noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8))
    >>> buf = io.BytesIO(); noise.save(buf, format="JPEG")
    >>> load_image({"bytes": buf.getvalue(), "path": None}).size
    (64, 48)
    >>> load_image({"bytes": buf.getvalue()[:2000], "path": None})
    Traceback (most recent call last):
    ...
    OSError: image file is truncated
    >>> load_image({"bytes": buf.getvalue(), "path": None}, MediaLimits(max_image_pixels=1000))
    Traceback (most recent call last):
    ...
    lf_library.media.OversizeError: image is 64x48 = 0.00307 Mpx, over the limit of 0.001 Mpx (MediaLimits...)
    >>> load_image({"bytes": buf.getvalue(), "path": None}, MediaLimits(max_image_pixels=1000, oversize="reduce")).size
    (32, 24)
    """
    from PIL import Image, ImageOps

    if value is None:
        raise ValueError("empty image cell (None)")
    if isinstance(value, Image.Image):
        img = value
    elif isinstance(value, dict):
        data, path = value.get("bytes"), value.get("path")
        if data is not None:
            img = Image.open(io.BytesIO(data))
        elif path:
            img = Image.open(path)
        else:
            raise ValueError("image dict has neither 'bytes' nor 'path'")
    elif isinstance(value, (bytes, bytearray, memoryview)):
        img = Image.open(io.BytesIO(bytes(value)))
    elif isinstance(value, (str, os.PathLike)):
        img = Image.open(value)
    elif isinstance(value, np.ndarray):
        img = Image.fromarray(value)
    elif isinstance(value, list):  # an array stored by datasets as List(List(...)) comes back as nested lists
        arr = np.asarray(value)
        if arr.ndim not in (2, 3) or arr.dtype.kind not in "iu" or arr.size == 0 or arr.min() < 0 or arr.max() > 255:
            raise TypeError(f"cannot read an image from a list of shape {arr.shape} and type {arr.dtype}: nested "
                            "lists must hold 0..255 integers, height x width (x channels)")
        img = Image.fromarray(arr.astype(np.uint8))
    else:
        raise TypeError(f"cannot read an image from a {type(value).__name__}")
    if limits is not None:
        img = _within(img, limits)
    try:
        img.load()
    except OSError as exc:
        # PIL phrases this as "image file is truncated (N bytes not processed)": keep the gist.
        if "truncated" in str(exc):
            raise OSError("image file is truncated") from exc
        raise
    if img.getexif().get(0x0112) not in (None, 1):  # EXIF orientation tag
        img = ImageOps.exif_transpose(img)
    return _eight_bit(img)


def _eight_bit(img: "PIL.Image.Image") -> "PIL.Image.Image":
    """``img`` with 16-bit grey (PIL's ``I;16`` modes: 16-bit PNGs and TIFFs, uint16 arrays) scaled to 8 bits:
    ``convert("L")``/``("RGB")`` clip such values at 255, so a mid-grey 16-bit PNG read as white. A 32-bit ``I``
    image (what ``datasets`` stores an integer array as) keeps its values, clipped to 0..255 as before. A float
    image (mode ``F``) has no scale to read it by and is refused.

    >>> import numpy as np
    >>> from PIL import Image
    >>> np.asarray(_eight_bit(Image.fromarray(np.array([[0, 32768, 65535]], np.uint16)))).tolist()
    [[0, 128, 255]]
    >>> _eight_bit(Image.fromarray(np.array([[0, 128, 300]], np.int32))).mode  # converted later, by convert()
    'I'
    """
    from PIL import Image

    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        arr = np.round(np.asarray(img, dtype=np.float64) / 257.0)
        return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), mode="L")
    if img.mode == "F":
        raise ValueError("a 32-bit float image (mode F) has no known scale (0..1? 0..255?): convert it to 8-bit "
                         "before labelling it")
    return img


def _within(img: "PIL.Image.Image", limits: MediaLimits) -> "PIL.Image.Image":
    """``img`` (opened, not decoded) if it fits ``limits``; a JPEG set to decode at a reduced scale; else raise."""
    w, h = img.size
    try:
        limits.check_pixels(w, h)
        return img
    except OversizeError:
        if limits.oversize != "reduce" or img.format != "JPEG" or not getattr(img, "tile", None):
            raise
    assert limits.max_image_pixels is not None  # check_pixels raised, so there is a limit
    for scale in (2, 4, 8):  # the scales libjpeg decodes at directly
        if (-(-w // scale)) * (-(-h // scale)) <= limits.max_image_pixels:
            img.draft(img.mode, (-(-w // scale), -(-h // scale)))
            img.info["original_size"] = (w, h)
            return img
    limits.check_pixels(-(-w // 8), -(-h // 8))  # still too large at 1/8: say so with the reduced size
    return img


class ImageLF(MediaLF):
    """Base class for LFs over one image column: cells are decoded once per batch with :func:`load_image`.

    Subclasses implement ``label_decoded(images, batch, positions)`` (see :class:`lf_library.media.MediaLF`).

    >>> import mmweak
    >>> from PIL import Image
    >>> task = mmweak.Task("orientation", ["portrait", "landscape"])
    >>> class Landscape(ImageLF):
    ...     def label_decoded(self, images, batch, positions):
    ...         return [int(im.width > im.height) for im in images]
    >>> Landscape("wide", task=task)({"image": [Image.new("RGB", (8, 4)), None, Image.new("RGB", (2, 6))]})
    [1, -1, 0]
    """

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        column: str = "image",
        on_decode_error: OnDecodeError = "abstain",
        extra_inputs: Sequence[str] = (),
        version: str = "1",
        limits: MediaLimits | None = None,
    ) -> None:
        super().__init__(
            name,
            task=task,
            column=column,
            modality="image",
            on_decode_error=on_decode_error,
            extra_inputs=extra_inputs,
            version=version,
            limits=limits,
        )

    def decode_one(self, value: Any) -> Any:
        return load_image(value, self.limits)

    def decode_key(self) -> tuple:
        # Every ImageLF decodes the same way, whatever its subclass: one decode per column, batch and limits.
        return image_decode_key(self.limits)
