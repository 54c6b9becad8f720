"""What every audio LF shares: decoding (once per batch), resampling (once per batch and rate), and
threshold rules that turn a number per clip into votes.

:class:`AudioLF` is a :class:`lf_library.media.MediaLF`: each cell of the audio column is decoded
once per batch at its native rate, whatever the number of audio LFs; each LF then asks for the
batch at its ``sample_rate`` and the resampled copy is also made once and shared by every LF at that
rate (``sample_rate=None`` works on the native rates). Undecodable clips follow
``on_decode_error``: abstain and count a fault (default) or raise an error naming the LF, column and
row.

:class:`ThresholdRule` is the voting scheme of the heuristic and VAD LFs: one class below ``low``,
one above ``high``, optionally one in between; abstain otherwise and on ``NaN``.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import sys
from dataclasses import dataclass
from typing import Any, Hashable, Iterator, Sequence

import numpy as np

from lf_library.labels import resolve_label
from lf_library.media import DecodeFailure, MediaLF, MediaLimits, OnDecodeError
from mmweak.batch_memo import memo
from mmweak.lf import ABSTAIN, Batch
from mmweak.task import Task

from .decode import Clip, audio_decode_key, decode_audio, resample


@dataclass(frozen=True)
class ThresholdRule:
    """Votes from one number per clip: ``below`` where ``value < low``, ``above`` where
    ``value > high``, ``between`` where ``low <= value <= high`` (a missing bound is open); abstain
    everywhere else, including ``NaN``. Labels are class indices (``None`` = never vote that way).

    >>> rule = ThresholdRule(low=0.5, high=1.0, below=1, above=0)
    >>> rule.votes([0.2, 0.7, 3.0, float("nan")]).tolist()
    [1, -1, 0, -1]
    """

    low: float | None = None
    high: float | None = None
    below: int | None = None
    above: int | None = None
    between: int | None = None

    def __post_init__(self) -> None:
        if self.below is None and self.above is None and self.between is None:
            raise ValueError("a threshold rule needs at least one of below=, above=, between=")
        if self.below is not None and self.low is None:
            raise ValueError("below= needs a low= threshold")
        if self.above is not None and self.high is None:
            raise ValueError("above= needs a high= threshold")
        if self.between is not None and self.low is None and self.high is None:
            raise ValueError("between= needs low= and/or high=")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")

    @classmethod
    def build(cls, task: Task, lf: str, *, low: float | None = None, high: float | None = None,
              below: int | str | None = None, above: int | str | None = None,
              between: int | str | None = None) -> "ThresholdRule":
        """A rule with labels given as class names or indices of ``task``; errors name the LF."""
        def label(x: int | str | None) -> int | None:
            return None if x is None else resolve_label(task, x, lf=lf)

        try:
            return cls(
                None if low is None else float(low), None if high is None else float(high),
                label(below), label(above), label(between),
            )
        except ValueError as exc:
            raise ValueError(f"LF {lf!r}: {exc}") from None

    def votes(self, values: Sequence[float] | np.ndarray) -> np.ndarray:
        """One vote per value (``int64``; ``-1`` abstains)."""
        v = np.asarray(values, dtype=np.float64)
        out = np.full(v.shape, ABSTAIN, dtype=np.int64)
        with np.errstate(invalid="ignore"):
            if self.between is not None:
                inside = ~np.isnan(v)
                if self.low is not None:
                    inside &= v >= self.low
                if self.high is not None:
                    inside &= v <= self.high
                out[inside] = self.between
            if self.below is not None:
                assert self.low is not None  # __post_init__: below= needs low=
                out[v < self.low] = self.below
            if self.above is not None:
                assert self.high is not None  # __post_init__: above= needs high=
                out[v > self.high] = self.above
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "below": self.below, "above": self.above, "between": self.between}


class AudioLF(MediaLF):
    """Base class of audio LFs: decoded, mono, resampled clips (:class:`~lf_library.audio.decode.Clip`).

    Subclasses implement ``label_decoded(clips, batch, positions)``; ``clips`` are the rows that
    decoded, at ``sample_rate`` (``None``: native rates).

    >>> import numpy as np, mmweak
    >>> loud = mmweak.Task("loud", ["quiet", "loud"])
    >>> class Peak(AudioLF):
    ...     def label_decoded(self, clips, batch, positions):
    ...         return [int(np.abs(c.samples).max() > 0.5) for c in clips]
    >>> clip = {"array": np.full(800, 0.9), "sampling_rate": 8000}
    >>> Peak("peak", task=loud)({"audio": [clip, {"array": [], "sampling_rate": 8000}]})
    [1, -1]
    """

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        column: str = "audio",
        sample_rate: int | None = 16000,
        on_decode_error: OnDecodeError = "abstain",
        extra_inputs: Sequence[str] = (),
        version: str = "1",
        limits: MediaLimits | None = None,
    ) -> None:
        super().__init__(
            name, task=task, column=column, modality="audio", on_decode_error=on_decode_error,
            extra_inputs=extra_inputs, version=version, limits=limits,
        )
        if sample_rate is not None and (not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0):
            raise ValueError(f"LF {name!r}: sample_rate must be a positive int or None, got {sample_rate!r}")
        self.sample_rate = None if sample_rate is None else int(sample_rate)

    def decode_one(self, value: Any) -> Clip:
        return decode_audio(value, self.limits)

    def decode_key(self) -> Hashable:
        # Every audio LF decodes the same way, so all of them share one native-rate decode per batch and limits.
        return audio_decode_key(self.limits)

    def decoded(self, batch: Batch) -> list[Any]:
        """The batch's clips at this LF's rate: decoded once per batch, resampled once per rate."""
        return self.clips_at(batch, self.sample_rate)

    def clips_at(self, batch: Batch, rate: int | None) -> list[Any]:
        """The batch's clips at ``rate`` (``None``: native), shared with every audio LF on the column."""
        native = super().decoded(batch)
        if rate is None:
            return native
        return memo(("audio-resampled", self.column, self.decode_key(), rate),
                    lambda: [_resampled(c, rate) for c in native])

    def label_batch(self, batch: Batch) -> Sequence[int]:
        with torch_threads(TORCH_THREADS):
            return super().label_batch(batch)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "sample_rate": self.sample_rate}

    def code_identity(self) -> Any:
        # The class bodies are thin; what they compute lives in these modules, so their source counts too.
        return [super().code_identity(), _module_digest(*self._code_modules())]

    def _code_modules(self) -> tuple[str, ...]:
        return ("lf_library.audio.decode", "lf_library.audio.base")


#: torch intra-op threads while audio LFs run. Their tensors are small (one clip, one batch of
#: 32 ms windows), so extra threads cost more than they give: on a busy 2-core machine Silero VAD ran
#: 20x slower with 2 threads than with 1. Parallelize across clips with ``apply_lfs(num_proc=...)``.
TORCH_THREADS = 1


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads, restoring the previous setting after."""
    import torch

    before = torch.get_num_threads()
    if before == n:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _resampled(item: Any, rate: int) -> Any:
    if isinstance(item, DecodeFailure):
        return item
    try:
        return resample(item, rate)
    except Exception as exc:  # noqa: BLE001 - a clip too short to resample is bad input for this row
        return DecodeFailure(exc)


def _module_digest(*modules: str) -> str:
    h = hashlib.sha256()
    for name in modules:
        h.update(inspect.getsource(sys.modules[name]).encode())
    return h.hexdigest()[:16]


__all__ = ["TORCH_THREADS", "AudioLF", "ThresholdRule", "torch_threads"]
