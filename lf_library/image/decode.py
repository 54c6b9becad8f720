"""Turn any image cell into a loaded ``PIL.Image``: the base of every image LF.

Cells come in the shapes ``datasets`` produces — a decoded ``PIL.Image`` (``Image()``), a
``{"bytes": ..., "path": ...}`` dict (``Image(decode=False)``), a file path or raw bytes — or as a
numpy array. Decoding forces the full pixel read, so truncated files fail here (and are abstained on
and counted, or raise, by the LF's ``on_decode_error`` policy) instead of deep inside a model.

A decoded ``Image()`` column is decoded by ``datasets`` before any LF sees it, so a corrupt file
there fails the whole batch; cast the column to ``datasets.Image(decode=False)`` to let image LFs
handle bad files row by row (the recipes do).
"""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from lf_library.media import MediaLF, OnDecodeError
from mmweak.task import Task

if TYPE_CHECKING:  # annotations only: PIL is imported where images are made
    import PIL.Image

__all__ = ["ImageLF", "load_image"]


def load_image(value: Any) -> "PIL.Image.Image":
    """A fully loaded ``PIL.Image`` from an image cell; raises on empty, unreadable or truncated input.

    EXIF orientation is applied, as ``datasets.Image`` does, so both ways of storing a photo give the
    same pixels.

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
    else:
        raise TypeError(f"cannot read an image from a {type(value).__name__}")
    try:
        img.load()
    except OSError as exc:
        # PIL phrases this as "image file is truncated (N bytes not processed)": keep the gist.
        if "truncated" in str(exc):
            raise OSError("image file is truncated") from exc
        raise
    if img.getexif().get(0x0112) not in (None, 1):  # EXIF orientation tag
        img = ImageOps.exif_transpose(img)
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
    ) -> None:
        super().__init__(
            name, task=task, column=column, modality="image", on_decode_error=on_decode_error,
            extra_inputs=extra_inputs, version=version,
        )

    def decode_one(self, value: Any) -> Any:
        return load_image(value)

    def decode_key(self) -> tuple:
        # Every ImageLF decodes the same way, whatever its subclass: one decode per column and batch.
        return ("pil",)
