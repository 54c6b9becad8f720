"""Any audio cell to mono float32 samples at a known rate, and resampling with torchaudio.

Cells come in several shapes, all handled by :func:`decode_audio`:

* a ``datasets.Audio()`` cell: in ``datasets`` 5 a torchcodec ``AudioDecoder`` (anything with
  ``get_all_samples()``), decoded by FFmpeg;
* an ``Audio(decode=False)`` cell: ``{"bytes": ..., "path": ...}``, decoded with ``soundfile``
  (WAV/FLAC/OGG/MP3, no FFmpeg needed), falling back to torchcodec for formats libsndfile lacks;
* a path (``str`` / ``os.PathLike``) or raw encoded ``bytes``, decoded the same way;
* ``{"array": ..., "sampling_rate": ...}`` as older ``datasets`` versions and hand-built rows give.

Multichannel audio is mixed down to mono. Empty clips, non-finite samples and undecodable bytes
raise ``ValueError`` with the reason, which :class:`lf_library.media.MediaLF` turns into an abstain
and a fault (or an error naming the LF, column and row).

>>> import numpy as np
>>> clip = decode_audio({"array": np.ones((2, 8000)) * [[0.5], [0.1]], "sampling_rate": 8000})
>>> clip.sample_rate, clip.samples.shape, round(float(clip.samples[0]), 3), clip.duration
(8000, (8000,), 0.3, 1.0)
>>> resample(clip, 16000).samples.shape
(16000,)
"""

from __future__ import annotations

import functools
import io
import os
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np


@dataclass(frozen=True, eq=False)
class Clip:
    """Mono float32 samples (nominally in ``[-1, 1]``) and their sample rate in Hz."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.samples.shape[0] / self.sample_rate

    def __repr__(self) -> str:
        return f"Clip({self.samples.shape[0]} samples @ {self.sample_rate} Hz, {self.duration:.3f} s)"


def decode_audio(value: Any) -> Clip:
    """Decode one audio cell (see the module docstring for the accepted shapes) at its native rate.

    >>> decode_audio(b"not audio at all")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: could not decode 16 bytes of audio: ...
    """
    if hasattr(value, "get_all_samples"):  # datasets.Audio() cell (torchcodec AudioDecoder)
        return _from_decoder(value)
    if isinstance(value, Mapping):
        if value.get("array") is not None:
            if value.get("sampling_rate") is None:
                raise ValueError("audio dict has an 'array' but no 'sampling_rate'")
            return make_clip(value["array"], value["sampling_rate"])
        if value.get("bytes") is not None:
            return _from_encoded(value["bytes"], value.get("path"))
        if value.get("path") is not None:
            return _from_encoded(None, value["path"])
        raise ValueError(f"audio dict has neither bytes, path nor array (keys: {sorted(value)})")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _from_encoded(bytes(value), None)
    if isinstance(value, (str, os.PathLike)):
        return _from_encoded(None, os.fspath(value))
    if value is None:
        raise ValueError("missing audio (None)")
    raise TypeError(
        f"cannot decode a {type(value).__name__} as audio; expected a datasets.Audio cell, "
        "{'bytes', 'path'} or {'array', 'sampling_rate'} dict, a path or encoded bytes"
    )


def make_clip(array: Any, sample_rate: Any) -> Clip:
    """Validate samples and mix them down to mono float32.

    2-D input is ``(channels, samples)`` or ``(samples, channels)``: the shorter axis is taken as
    channels. Integer PCM is scaled to ``[-1, 1]``.
    """
    sr = int(sample_rate)
    if sr <= 0:
        raise ValueError(f"sample rate must be positive, got {sample_rate!r}")
    x = np.asarray(array)
    if x.dtype.kind in "iu":
        info = np.iinfo(x.dtype)
        x = (x.astype(np.float32) - (info.max + info.min + 1) / 2) / ((info.max - info.min + 1) / 2)
    elif x.dtype.kind != "f":
        x = x.astype(np.float32)
    if x.ndim == 2:
        x = x.mean(axis=0 if x.shape[0] <= x.shape[1] else 1)
    elif x.ndim != 1:
        raise ValueError(f"audio samples must be 1-D or 2-D, got shape {x.shape}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.size == 0:
        raise ValueError("empty audio (0 samples)")
    if not np.isfinite(x).all():
        raise ValueError("audio has non-finite samples (NaN or inf)")
    return Clip(x, sr)


def resample(clip: Clip, sample_rate: int) -> Clip:
    """``clip`` at ``sample_rate`` (torchaudio's band-limited sinc resampler); the same clip if equal."""
    if sample_rate == clip.sample_rate:
        return clip
    import torch

    with torch.no_grad():
        out = _resampler(clip.sample_rate, int(sample_rate))(torch.from_numpy(clip.samples))
    if out.numel() == 0:
        raise ValueError(f"clip of {clip.samples.shape[0]} samples is too short to resample to {sample_rate} Hz")
    return Clip(out.numpy().astype(np.float32, copy=False), int(sample_rate))


@functools.lru_cache(maxsize=32)
def _resampler(orig: int, new: int) -> Any:
    # Building the sinc kernel costs more than applying it: keep one per rate pair and process.
    import torchaudio.transforms as T

    return T.Resample(orig, new)


# -- decoders ----------------------------------------------------------------------------------------
def _from_decoder(decoder: Any) -> Clip:
    try:
        samples = decoder.get_all_samples()
    except Exception as exc:  # noqa: BLE001 - FFmpeg failed: try the original bytes/path with soundfile
        encoded = getattr(decoder, "_hf_encoded", None)
        if isinstance(encoded, Mapping) and (encoded.get("bytes") is not None or encoded.get("path")):
            return _from_encoded(encoded.get("bytes"), encoded.get("path"))
        raise ValueError(f"torchcodec could not decode the clip: {exc}") from exc
    return make_clip(samples.data.numpy(), samples.sample_rate)


def _from_encoded(data: bytes | None, path: str | None) -> Clip:
    if data is not None and len(data) == 0:
        raise ValueError("empty audio file (0 bytes)")
    if data is None and path is not None and os.path.isfile(path) and os.path.getsize(path) == 0:
        raise ValueError(f"empty audio file (0 bytes): {path}")
    import soundfile as sf

    source = io.BytesIO(data) if data is not None else path
    try:
        array, sr = sf.read(source, dtype="float32", always_2d=True)
    except Exception as sf_exc:  # noqa: BLE001 - libsndfile rejects it: let FFmpeg try (MP3, M4A, ...)
        try:
            return _torchcodec_decode(data if data is not None else path)
        except Exception as tc_exc:  # noqa: BLE001
            what = f"{len(data)} bytes of audio" if data is not None else f"audio file {path!r}"
            raise ValueError(f"could not decode {what}: soundfile: {sf_exc}; torchcodec: {tc_exc}") from sf_exc
    return make_clip(array.T, sr)


def _torchcodec_decode(source: bytes | str) -> Clip:
    from torchcodec.decoders import AudioDecoder  # needs the FFmpeg shared libraries

    samples = AudioDecoder(source).get_all_samples()
    return make_clip(samples.data.numpy(), samples.sample_rate)


__all__ = ["Clip", "decode_audio", "make_clip", "resample"]
