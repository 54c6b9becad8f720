"""What image and audio LFs share: decode a column once per batch, and a policy for undecodable rows.

A :class:`MediaLF` reads one media column. Its ``decode_one`` turns a cell (a ``PIL.Image``, a
``{"bytes", "path"}`` dict from ``Image(decode=False)`` / ``Audio(decode=False)``, a path...) into the
object the LF works on; :meth:`MediaLF.decoded` runs it through :func:`mmweak.batch_memo.memo`, keyed by
the column and :meth:`MediaLF.decode_key`, so ten LFs on the same column decode each row once.
Rows that fail to decode either abstain and are counted as faults (``on_decode_error="abstain"``,
reported in ``ApplyReport.faults()``) or raise an error naming the LF, column and row (``"raise"``).

**Bounded memory.** A 164 KB PNG can decode to 13000x13000 pixels and an hour of FLAC to gigabytes of
samples. Every media LF carries :class:`MediaLimits` (taken from :func:`current_limits` when it is built;
change them for a block with :func:`media_limits`, or with the ``MMWEAK_MAX_IMAGE_PIXELS`` /
``MMWEAK_MAX_AUDIO_SECONDS`` environment variables): a cell over a limit is found from its header, before
its pixels or samples are decoded, and becomes a fault like any undecodable cell — unless
``oversize="reduce"``, which decodes JPEGs at 1/2, 1/4 or 1/8 scale (Pillow's ``draft``) and keeps the
first ``max_audio_seconds`` of a clip (read as a stream). Peak memory then grows with the batch size
times the limits, not with the largest file.

>>> import mmweak
>>> task = mmweak.Task("size", ["small", "big"])
>>> class LongText(MediaLF):
...     def decode_one(self, value):
...         if value is None:
...             raise ValueError("empty cell")
...         return len(value)
...     def label_decoded(self, items, batch, positions):
...         return [1 if n > 3 else 0 for n in items]
>>> LongText("long", task=task, column="blob", modality="multimodal")({"blob": ["abcdef", None, "ab"]})
[1, -1, 0]
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import threading
from typing import Any, Callable, ClassVar, Hashable, Iterator, Literal, Sequence, TypeVar

from mmweak.batch_memo import memo, note_faults
from mmweak.errors import LFError
from mmweak.fingerprint import infrastructure
from mmweak.lf import ABSTAIN, Batch, LabelingFunction, Modality, preview
from mmweak.task import Task

OnDecodeError = Literal["abstain", "raise"]
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class MediaLimits:
    """How much one media cell may decode to (``None`` = no limit).

    Args:
        max_image_pixels: width x height of a decoded image. The default, 64 Mpx, is above a 50 Mpx camera
            frame and below Pillow's own decompression-bomb warning (89 Mpx).
        max_audio_seconds: length of a decoded clip (600 s: ten minutes).
        oversize: ``"fault"`` (an over-limit cell abstains and counts as a fault) or ``"reduce"`` (JPEGs are
            decoded at a reduced scale, clips are cut to ``max_audio_seconds``; other images still fault).

    >>> MediaLimits(max_image_pixels=10_000_000).check_pixels(4000, 3000)
    Traceback (most recent call last):
    ...
    lf_library.media.OversizeError: image is 4000x3000 = 12 Mpx, over the limit of 10 Mpx (MediaLimits.max_image_pixels)
    """

    max_image_pixels: int | None = 64_000_000
    max_audio_seconds: float | None = 600.0
    oversize: Literal["fault", "reduce"] = "fault"

    def __post_init__(self) -> None:
        if self.oversize not in ("fault", "reduce"):
            raise ValueError(f"MediaLimits: oversize must be 'fault' or 'reduce', got {self.oversize!r}")
        for name in ("max_image_pixels", "max_audio_seconds"):
            v = getattr(self, name)
            if v is not None and not v > 0:
                raise ValueError(f"MediaLimits: {name} must be positive or None, got {v!r}")

    def check_pixels(self, width: int, height: int) -> None:
        """Raise :class:`OversizeError` when ``width x height`` is over ``max_image_pixels``."""
        if self.max_image_pixels is not None and width * height > self.max_image_pixels:
            raise OversizeError(
                f"image is {width}x{height} = {width * height / 1e6:.3g} Mpx, over the limit of "
                f"{self.max_image_pixels / 1e6:g} Mpx (MediaLimits.max_image_pixels)"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class OversizeError(ValueError):
    """A media cell is larger than its :class:`MediaLimits` allow; it is counted as a fault."""


def _limits_from_env() -> MediaLimits:
    def read(name: str, cast: Callable[[str], Any], default: Any) -> Any:
        raw = os.environ.get(name)
        if raw is None or raw == "":
            return default
        if raw.lower() in ("none", "off"):
            return None
        try:
            return cast(raw)
        except (ValueError, OverflowError):  # OverflowError: int(float("inf"))
            raise ValueError(f"{name}={raw!r} is not a finite number (or 'none' for no limit)") from None

    base = MediaLimits()
    pixels = read("MMWEAK_MAX_IMAGE_PIXELS", lambda v: int(float(v)), base.max_image_pixels)
    seconds = read("MMWEAK_MAX_AUDIO_SECONDS", float, base.max_audio_seconds)
    for name, v in (("MMWEAK_MAX_IMAGE_PIXELS", pixels), ("MMWEAK_MAX_AUDIO_SECONDS", seconds)):
        if v is not None and not 0 < v < float("inf"):
            raise ValueError(f"{name}={os.environ[name]!r} must be a positive finite number (or 'none' for no limit)")
    return MediaLimits(pixels, seconds)


_LIMITS: list[MediaLimits] = []


def current_limits() -> MediaLimits:
    """The limits new media LFs get: the innermost :func:`media_limits` block, else the environment's.

    >>> current_limits().max_image_pixels, current_limits().oversize
    (64000000, 'fault')
    """
    return _LIMITS[-1] if _LIMITS else _limits_from_env()


@contextlib.contextmanager
def media_limits(**changes: Any) -> Iterator[MediaLimits]:
    """Within the block, media LFs built (and :func:`lf_library.image.mark_near_duplicates`) use these limits.

    >>> with media_limits(max_audio_seconds=30, oversize="reduce") as limits:
    ...     limits.max_audio_seconds, current_limits().oversize
    (30, 'reduce')
    """
    limits = dataclasses.replace(current_limits(), **changes)
    _LIMITS.append(limits)
    try:
        yield limits
    finally:
        _LIMITS.pop()


class DecodeFailure:
    """Stands in for a cell that could not be decoded; keeps the reason for error messages."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __repr__(self) -> str:
        return f"DecodeFailure({type(self.error).__name__}: {self.error})"


class MediaLF(LabelingFunction):
    """Base class for LFs over one image or audio column (see the module docstring).

    Subclasses implement :meth:`decode_one` (or inherit it from a modality base such as
    ``lf_library.image.ImageLF``) and :meth:`label_decoded`, which sees only the rows that decoded.
    """

    #: ``apply_lfs`` hands this LF ``Image()``/``Audio()`` cells undecoded (``{"bytes", "path"}``), so a
    #: corrupt file reaches :meth:`decode_one` and its policy instead of failing the batch inside ``datasets``.
    reads_raw_media: ClassVar[bool] = True

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        column: str,
        modality: Modality,
        on_decode_error: OnDecodeError = "abstain",
        extra_inputs: Sequence[str] = (),
        version: str = "1",
        limits: MediaLimits | None = None,
    ) -> None:
        if on_decode_error not in ("abstain", "raise"):
            raise ValueError(f"LF {name!r}: on_decode_error must be 'abstain' or 'raise', got {on_decode_error!r}")
        super().__init__(name, task=task, inputs=[column, *extra_inputs], modality=modality, version=version)
        self.column = column
        self.on_decode_error = on_decode_error
        self.limits = limits or current_limits()

    def path_inputs(self) -> tuple[str, ...]:
        # a text cell of the media column is a file path this LF opens: a replaced file must be a new input
        return (self.column,)

    # -- what subclasses provide ------------------------------------------------------------------
    def decode_one(self, value: Any) -> Any:
        """Decode one cell; raise on bad input (the policy decides what happens next)."""
        raise NotImplementedError

    def decode_key(self) -> Hashable:
        """Everything besides the column that the decoded value depends on (e.g. a sample rate).

        LFs whose keys are equal share decoded values within a batch, so the key must name the decoder.
        """
        return (type(self).decode_one.__qualname__,)

    def label_decoded(self, items: list[Any], batch: Batch, positions: list[int]) -> Sequence[int]:
        """Votes for the decoded ``items``; ``positions`` are their rows within ``batch``."""
        raise NotImplementedError

    # -- shared machinery -------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        return {"column": self.column, "on_decode_error": self.on_decode_error, "limits": self.limits.to_dict()}

    def decoded(self, batch: Batch) -> list[Any]:
        """The batch's column decoded once per batch (shared by LFs with the same column and key)."""
        cells = batch[self.column]
        return memo(("decode", self.column, self.decode_key()), lambda: [self._decode_safely(v) for v in cells])

    def _decode_safely(self, value: Any) -> Any:
        try:
            return self.decode_one(value)
        except Exception as exc:  # noqa: BLE001 - any decoder failure is bad input for this row
            return DecodeFailure(exc)

    def label_batch(self, batch: Batch) -> Sequence[int]:
        items = self.decoded(batch)
        good = [i for i, item in enumerate(items) if not isinstance(item, DecodeFailure)]
        bad = [i for i, item in enumerate(items) if isinstance(item, DecodeFailure)]
        if bad and self.on_decode_error == "raise":
            i = bad[0]
            err = items[i].error
            # Position within the batch; apply_lfs re-runs row by row and reports the dataset row.
            raise LFError(
                f"LF {self.name!r} could not decode column {self.column!r} "
                f"(value {preview(batch[self.column][i])}): {type(err).__name__}: {err}; "
                f"pass on_decode_error='abstain' to abstain on such rows and count them",
                lf=self.name, column=self.column, row=None,
            )
        note_faults(bad)
        votes = [ABSTAIN] * len(items)
        if good:
            for i, v in zip(good, self.label_decoded([items[i] for i in good], batch, good)):
                votes[i] = v
        return votes


_SHARED: dict[tuple, Any] = {}
_IMPORT_PID = os.getpid()  # a different pid later means a forked (num_proc) worker
_SHARED_LOCK = threading.RLock()  # a loader may itself ask for a shared resource


@infrastructure
def shared_resource(key: Hashable, load: Callable[[], T]) -> T:
    """A heavy resource (a loaded model, an OCR engine) built once per process and shared by all LFs asking
    for the same ``key``.

    LFs keep only the *spec* of a model and drop loaded objects when pickled (``_lazy_attrs``), so each
    ``num_proc`` worker loads its own copy on first use; the process id is part of the key, so a forked
    worker never reuses its parent's copy. A worker forked from a process that had torch loaded runs
    torch on one thread: the inherited CPU thread pool hangs on its first parallel op, and the
    ``num_proc`` workers share the cores anyway.

    >>> loads = []
    >>> a = shared_resource(("doc-model", 1), lambda: loads.append(1) or object())
    >>> a is shared_resource(("doc-model", 1), lambda: loads.append(1) or object()), len(loads)
    (True, 1)
    """
    full = (os.getpid(), key)
    if full not in _SHARED:
        with _SHARED_LOCK:
            if full not in _SHARED:
                if os.getpid() != _IMPORT_PID and "torch" in sys.modules:
                    sys.modules["torch"].set_num_threads(1)
                _SHARED[full] = load()
    return _SHARED[full]


__all__ = [
    "DecodeFailure", "MediaLF", "MediaLimits", "OnDecodeError", "OversizeError", "current_limits", "media_limits",
    "shared_resource",
]
