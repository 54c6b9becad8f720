"""Any audio cell to mono float32 samples at a known rate, and resampling with torchaudio.

Cells come in several shapes, all handled by :func:`decode_audio`:

* a ``datasets.Audio()`` cell: in ``datasets`` 5 a torchcodec ``AudioDecoder`` (anything with
  ``get_all_samples()``), decoded by FFmpeg;
* an ``Audio(decode=False)`` cell: ``{"bytes": ..., "path": ...}``, decoded with ``soundfile``
  (WAV/FLAC/OGG/MP3, no FFmpeg needed), falling back to torchcodec for formats libsndfile lacks;
* a path (``str`` / ``os.PathLike``) or raw encoded ``bytes``, decoded the same way;
* ``{"array": ..., "sampling_rate": ...}`` as older ``datasets`` versions and hand-built rows give.

Multichannel audio is mixed down to mono. With :class:`~lf_library.media.MediaLimits`, a clip's length
is read from its header first: one over ``max_audio_seconds`` raises
:class:`~lf_library.media.OversizeError` without being decoded, or (``oversize="reduce"``) only its
first ``max_audio_seconds`` are read, as a stream. Empty clips, non-finite samples, undecodable bytes and WAV
files cut short of their header's length raise ``ValueError`` with the reason, which
:class:`lf_library.media.MediaLF` turns into an abstain and a fault (or an error naming the LF, column and row).

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

from lf_library.media import MediaLimits, OversizeError


@dataclass(frozen=True, eq=False)
class Clip:
    """Mono float32 samples (nominally in ``[-1, 1]``) and their sample rate in Hz.

    ``band_hz`` is the highest frequency the recording can hold when it was resampled up (telephone audio at
    8 kHz read at 16 kHz: 4000 Hz; spectral features look at that band only); ``0``: the whole band.
    """

    samples: np.ndarray
    sample_rate: int
    band_hz: float = 0.0

    @property
    def band(self) -> float:
        """The band in Hz the samples can hold: ``band_hz``, else half the sample rate."""
        return self.band_hz or self.sample_rate / 2

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.samples.shape[0] / self.sample_rate

    def __repr__(self) -> str:
        return f"Clip({self.samples.shape[0]} samples @ {self.sample_rate} Hz, {self.duration:.3f} s)"


def decode_audio(value: Any, limits: MediaLimits | None = None) -> Clip:
    """Decode one audio cell (see the module docstring for the accepted shapes) at its native rate.

    >>> decode_audio(b"not audio at all")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: could not decode 16 bytes of audio: ...
    >>> clip = {"array": np.zeros(16000 * 5), "sampling_rate": 16000}
    >>> decode_audio(clip, MediaLimits(max_audio_seconds=2))
    Traceback (most recent call last):
    ...
    lf_library.media.OversizeError: clip is 5.0 s long, over the limit of 2 s (MediaLimits.max_audio_seconds)
    >>> decode_audio(clip, MediaLimits(max_audio_seconds=2, oversize="reduce")).duration
    2.0
    """
    cap = _Cap(limits)
    if hasattr(value, "get_all_samples"):  # datasets.Audio() cell (torchcodec AudioDecoder)
        return _from_decoder(value, cap)
    if isinstance(value, Mapping):
        if value.get("array") is not None:
            if value.get("sampling_rate") is None:
                raise ValueError("audio dict has an 'array' but no 'sampling_rate'")
            return cap.cut(make_clip(value["array"], value["sampling_rate"]))
        if value.get("bytes") is not None:
            return _from_encoded(value["bytes"], value.get("path"), cap)
        if value.get("path") is not None:
            return _from_encoded(None, value["path"], cap)
        raise ValueError(f"audio dict has neither bytes, path nor array (keys: {sorted(value)})")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _from_encoded(bytes(value), None, cap)
    if isinstance(value, (str, os.PathLike)):
        return _from_encoded(None, os.fspath(value), cap)
    if value is None:
        raise ValueError("missing audio (None)")
    raise TypeError(
        f"cannot decode a {type(value).__name__} as audio; expected a datasets.Audio cell, "
        "{'bytes', 'path'} or {'array', 'sampling_rate'} dict, a path or encoded bytes"
    )


def audio_decode_key(limits: MediaLimits) -> tuple:
    """The batch-memo key of clips decoded by :func:`decode_audio` under ``limits`` (shared by all audio LFs)."""
    return ("audio", "native", limits.max_audio_seconds, limits.oversize)


class _Cap:
    """``max_audio_seconds`` and what to do past it, applied before decoding wherever the length is known."""

    def __init__(self, limits: MediaLimits | None) -> None:
        self.seconds = None if limits is None else limits.max_audio_seconds
        self.truncate = limits is not None and limits.oversize == "reduce"

    def frames(self, total: int | None, sample_rate: int) -> int | None:
        """How many frames to read of a clip with ``total`` frames (``None``: all); raises when over and not cutting."""
        if self.seconds is None or total is None or total <= self.seconds * sample_rate:
            return None
        if not self.truncate:
            self.fail(total / sample_rate)
        return int(self.seconds * sample_rate)

    def fail(self, seconds: float) -> None:
        raise OversizeError(f"clip is {seconds:.1f} s long, over the limit of {self.seconds:g} s "
                            f"(MediaLimits.max_audio_seconds)")

    def cut(self, clip: Clip) -> Clip:
        n = self.frames(clip.samples.shape[0], clip.sample_rate)
        return clip if n is None else Clip(clip.samples[:n].copy(), clip.sample_rate)


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
    if x.size == 0:  # before the mix-down: a (2, 0) array's mean is NaN, not an empty clip
        raise ValueError(f"empty audio (0 samples, shape {x.shape})")
    if x.ndim == 2:
        x = x.mean(axis=0 if x.shape[0] <= x.shape[1] else 1)
    elif x.ndim != 1:
        raise ValueError(f"audio samples must be 1-D or 2-D, got shape {x.shape}")
    x = np.ascontiguousarray(x, dtype=np.float32)
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
    band = min(clip.band, sample_rate / 2)  # upsampling adds no content above the old Nyquist frequency
    return Clip(out.numpy().astype(np.float32, copy=False), int(sample_rate), 0.0 if band >= sample_rate / 2 else band)


@functools.lru_cache(maxsize=32)
def _resampler(orig: int, new: int) -> Any:
    # Building the sinc kernel costs more than applying it: keep one per rate pair and process.
    import torchaudio.transforms as T

    return T.Resample(orig, new)


# -- decoders ----------------------------------------------------------------------------------------
def _from_decoder(decoder: Any, cap: _Cap) -> Clip:
    try:
        return _from_decoder_strict(decoder, cap)
    except OversizeError:
        raise
    except Exception as exc:  # noqa: BLE001 - FFmpeg failed: try the original bytes/path with soundfile
        encoded = getattr(decoder, "_hf_encoded", None)
        if isinstance(encoded, Mapping) and (encoded.get("bytes") is not None or encoded.get("path")):
            return _from_encoded(encoded.get("bytes"), encoded.get("path"), cap)
        raise ValueError(f"torchcodec could not decode the clip: {exc}") from exc


def _from_encoded(data: bytes | None, path: str | None, cap: _Cap) -> Clip:
    if data is not None and len(data) == 0:
        raise ValueError("empty audio file (0 bytes)")
    if data is None and path is not None and os.path.isfile(path) and os.path.getsize(path) == 0:
        raise ValueError(f"empty audio file (0 bytes): {path}")
    import soundfile as sf

    def source() -> Any:
        return io.BytesIO(data) if data is not None else path

    try:
        info = sf.info(source())
        if info.format in ("WAV", "WAVEX"):
            _check_wav_length(data if data is not None else path)
        frames = cap.frames(info.frames if info.frames > 0 else None, info.samplerate)
        # Only the frames wanted are decoded: an hour-long file under a 10-minute limit reads 10 minutes.
        array, sr = sf.read(source(), frames=-1 if frames is None else frames, dtype="float32", always_2d=True)
    except (OversizeError, TruncatedAudioError):  # judged from the file itself: no other decoder does better
        raise
    except Exception as sf_exc:  # noqa: BLE001 - libsndfile rejects it: let FFmpeg try (MP3, M4A, ...)
        try:
            src = data if data is not None else path
            assert src is not None  # every caller passes bytes or a path
            return _torchcodec_decode(src, cap)
        except OversizeError:
            raise
        except Exception as tc_exc:  # noqa: BLE001
            what = f"{len(data)} bytes of audio" if data is not None else f"audio file {path!r}"
            raise ValueError(f"could not decode {what}: soundfile: {sf_exc}; torchcodec: {tc_exc}") from sf_exc
    return cap.cut(make_clip(array.T, sr))


class TruncatedAudioError(ValueError):
    """A WAV file holds fewer samples than its header declares (a copy or download cut short)."""


def _check_wav_length(source: bytes | str | None) -> None:
    """Raise :class:`TruncatedAudioError` when a WAV's ``data`` chunk declares more bytes than the file holds.

    libsndfile reads such a file as the shorter clip it holds, without a word; a streaming writer's placeholder
    sizes (0, 0xFFFFFFFF) are not judged.

    >>> import io, numpy as np, soundfile as sf
    >>> buf = io.BytesIO(); sf.write(buf, np.zeros(800, np.float32), 8000, format="WAV"); wav = buf.getvalue()
    >>> _check_wav_length(wav)
    >>> _check_wav_length(wav[:600])
    Traceback (most recent call last):
    ...
    lf_library.audio.decode.TruncatedAudioError: WAV file is truncated: its header declares 1600 bytes of samples, \
the file holds 556
    """
    import struct

    if source is None:
        return
    if isinstance(source, (bytes, bytearray)):
        head, total = bytes(source[:1 << 16]), len(source)
    elif not os.path.isfile(source):  # a remote path: its length is not known here
        return
    else:
        with open(source, "rb") as f:
            head = f.read(1 << 16)
        total = os.path.getsize(source)
    if head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
        return
    endian = "<" if head[:4] == b"RIFF" else ">"
    pos = 12
    while pos + 8 <= len(head):
        chunk, size = head[pos: pos + 4], struct.unpack(endian + "I", head[pos + 4: pos + 8])[0]
        if chunk == b"data":
            held = total - (pos + 8)
            if size not in (0, 0xFFFFFFFF) and held < size:
                raise TruncatedAudioError(f"WAV file is truncated: its header declares {size} bytes of samples, "
                                          f"the file holds {held}")
            return
        pos += 8 + size + (size & 1)  # chunks are padded to an even size


def _torchcodec_decode(source: bytes | str, cap: _Cap) -> Clip:
    from torchcodec.decoders import AudioDecoder  # needs the FFmpeg shared libraries

    return _from_decoder_strict(AudioDecoder(source), cap)


def _from_decoder_strict(decoder: Any, cap: _Cap) -> Clip:
    seconds = getattr(getattr(decoder, "metadata", None), "duration_seconds_from_header", None)
    if cap.seconds is not None and (seconds is None or seconds > cap.seconds):
        if seconds is not None and not cap.truncate:
            cap.fail(seconds)
        # Unknown length: read a little past the limit, so an over-long clip is still recognised.
        samples = decoder.get_samples_played_in_range(0.0, cap.seconds + (0.0 if cap.truncate else 1.0))
    else:
        samples = decoder.get_all_samples()
    return cap.cut(make_clip(samples.data.numpy(), samples.sample_rate))


__all__ = ["Clip", "audio_decode_key", "decode_audio", "make_clip", "resample"]
