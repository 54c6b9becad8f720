"""Per-clip audio features for a whole batch, each computed once and shared by every LF that reads it.

:class:`BatchFeatures` holds the decoded clips of one batch (one column, one sample rate) and
computes features on demand: ``get("spectral_flatness")`` returns one value per row, ``NaN`` where
the clip did not decode or the feature is undefined (e.g. the spectrum of digital silence). Work
shared between features is done once: one framing pass gives frame loudness, silence ratio, SNR and
zero-crossing rate; one STFT pass gives spectral centroid, flatness and rolloff; one YIN pass gives
pitch and voiced ratio. Each pass stacks the frames of every clip of the batch into one matrix, so
the numerics are vectorized across clips without padding clips to a common length.

Features (``FEATURES``; units in brackets):

====================== ========================================================================
``duration_s``         length [s]
``rms_dbfs``           loudness: RMS level of the whole clip [dBFS; digital silence → -120]
``peak_dbfs``          peak level [dBFS]
``clipping_ratio``     share of samples in flat runs (≥ ``min_run`` equal samples) at ≥ ``level`` × the
                       clip's peak — clipped waveforms have flat tops; compute it at the native rate
``silence_ratio``      share of frames quieter than ``threshold_db`` [0..1; digital silence → 1]
``snr_db``             energy-percentile SNR: 95th over 10th percentile of frame power [dB]; high for
                       speech with pauses, near 0 for steady tones and noise; NaN for digital silence
``zero_crossing_rate`` sign changes per sample, median over active frames [0..1]
``spectral_centroid``  power-weighted mean frequency, median over active frames [Hz]
``spectral_flatness``  geometric over arithmetic mean of the power spectrum, median over active
                       frames [0..1; white noise ≈ 0.56, tones ≈ 0]; a clip resampled up (8 kHz telephone
                       audio at 16 kHz) is measured over the band its recording holds
``spectral_rolloff``   frequency below which ``percent`` of the power lies, median [Hz]
``pitch_hz``           median fundamental frequency of voiced frames [Hz] (YIN, or torchaudio's
                       ``detect_pitch_frequency`` with ``method="torchaudio"``)
``voiced_ratio``       share of active frames with a clear pitch (YIN) [0..1]
====================== ========================================================================

"Active" frames are those within 40 dB of the clip's loudest frame and above -60 dBFS; spectral and
pitch features ignore the rest, so pauses do not dilute them, and a clip with no active frame gets
``NaN`` (LFs abstain on ``NaN``). So does a clip shorter than one frame, for every frame-based feature (duration,
loudness, peak and clipping still describe it).

>>> import numpy as np
>>> from lf_library.audio.decode import Clip
>>> t = np.arange(16000) / 16000
>>> tone = Clip((0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000)
>>> silence = Clip(np.zeros(8000, np.float32), 16000)
>>> bf = BatchFeatures([tone, silence], 16000)
>>> np.round(bf.get("pitch_hz")), bf.get("silence_ratio"), np.round(bf.get("rms_dbfs"), 1)
(array([440.,  nan]), array([0., 1.]), array([  -9., -120.]))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .decode import Clip

FRAME_SECONDS = 0.032  # ~ the 25-40 ms frames speech features use; a power of two at common rates
ACTIVE_FLOOR_DB = -60.0
ACTIVE_RANGE_DB = 40.0
SILENT_DB = -120.0  # what digital silence reads as
_CHUNK_SAMPLES = 1 << 21  # frames stacked per pass, bounding memory on long clips
_EPS = 1e-12


def frame_length(sample_rate: int) -> int:
    """Frame (and FFT) length used at ``sample_rate``: the power of two nearest to 32 ms.

    >>> frame_length(16000), frame_length(8000), frame_length(44100)
    (512, 256, 1024)
    """
    return 1 << max(6, round(math.log2(FRAME_SECONDS * sample_rate)))


@dataclass(frozen=True)
class FeatureSpec:
    """A feature: how to compute it over a batch, its parameters (with defaults) and its unit."""

    name: str
    unit: str
    compute: Callable[..., np.ndarray]
    defaults: dict[str, Any] = field(default_factory=dict)
    needs_fixed_rate: bool = True  # frame-based features need one sample rate for the whole batch

    def bind(self, params: dict[str, Any] | None) -> dict[str, Any]:
        """Defaults overridden by ``params``; unknown parameters raise ``ValueError``."""
        params = dict(params or {})
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            raise ValueError(
                f"feature {self.name!r} has no parameter(s) {unknown}; it takes {sorted(self.defaults) or 'none'}"
            )
        return {**self.defaults, **params}


class BatchFeatures:
    """Features of a batch of decoded clips at one sample rate (``None``: each clip's native rate).

    ``clips`` may hold non-``Clip`` entries (decode failures): their features are ``NaN``.
    """

    def __init__(self, clips: Sequence[Any], sample_rate: int | None) -> None:
        self.clips = list(clips)
        self.sample_rate = sample_rate
        self.index = np.array([i for i, c in enumerate(self.clips) if isinstance(c, Clip)], dtype=np.int64)
        self.good: list[Clip] = [self.clips[i] for i in self.index]
        if sample_rate is not None and any(c.sample_rate != sample_rate for c in self.good):
            raise ValueError(f"BatchFeatures at {sample_rate} Hz got clips at other rates; resample them first")
        self._cache: dict[Any, Any] = {}

    def get(self, name: str, **params: Any) -> np.ndarray:
        """One float per clip (``NaN`` where undefined); computed on first request, then reused."""
        spec = feature_spec(name)
        bound = spec.bind(params)
        key = (name, tuple(sorted(bound.items())))
        if key not in self._cache:
            if spec.needs_fixed_rate and self.sample_rate is None:
                raise ValueError(f"feature {name!r} is frame-based: compute it at a fixed sample rate, not native")
            out = np.full(len(self.clips), np.nan)
            if self.good:
                out[self.index] = spec.compute(self, **bound)
            self._cache[key] = out
        return self._cache[key]

    def shared(self, key: Any, compute: Callable[[], Any]) -> Any:
        """An intermediate result (frames, spectra) kept for the other features of this batch."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    # -- passes over stacked frames ------------------------------------------------------------------
    def _chunks(self, length: int, hop: int, extra: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (frames, frames per clip) for runs of clips; frames have ``length + extra`` samples."""
        total = length + extra
        batch: list[np.ndarray] = []
        counts: list[int] = []
        size = 0
        for clip in self.good:
            x = clip.samples
            n = 1 + max(0, math.ceil((x.shape[0] - length) / hop))
            padded = np.zeros((n - 1) * hop + total, dtype=np.float32)
            padded[: x.shape[0]] = x
            batch.append(np.lib.stride_tricks.sliding_window_view(padded, total)[::hop])
            counts.append(n)
            size += n * total
            if size >= _CHUNK_SAMPLES:
                yield np.concatenate(batch), np.asarray(counts)
                batch, counts, size = [], [], 0
        if batch:
            yield np.concatenate(batch), np.asarray(counts)

    def frame_db(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-frame RMS level [dBFS] of every clip, concatenated, and each clip's frame count."""
        return self._time_pass()[:2]

    def _time_pass(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        def compute():
            n = frame_length(self.sample_rate)
            dbs, zcrs, counts = [], [], []
            for frames, c in self._chunks(n, n // 2):
                power = np.mean(np.square(frames, dtype=np.float64), axis=1)
                dbs.append(_db(power))
                signs = np.signbit(frames)
                zcrs.append(np.count_nonzero(signs[:, 1:] != signs[:, :-1], axis=1) / (n - 1))
                counts.append(c)
            return np.concatenate(dbs), np.concatenate(counts), np.concatenate(zcrs)

        return self.shared("time-pass", compute)

    def active(self) -> np.ndarray:
        """Mask over the concatenated frames: within 40 dB of the clip's loudest frame, above -60 dBFS."""

        def compute():
            db, counts = self.frame_db()
            loudest = np.maximum.reduceat(db, _starts(counts))
            floor = np.maximum(ACTIVE_FLOOR_DB, loudest - ACTIVE_RANGE_DB)
            return db > np.repeat(floor, counts)

        return self.shared("active", compute)

    def _spectral_pass(self, percent: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        def compute():
            n = frame_length(self.sample_rate)
            window = np.hanning(n + 1)[:-1].astype(np.float32)  # periodic Hann
            freqs = np.fft.rfftfreq(n, 1.0 / self.sample_rate)
            bands = np.array([c.band for c in self.good])
            cents, flats, rolls = [], [], []
            first = 0  # the chunk's first clip
            for frames, counts in self._chunks(n, n // 2):
                power = _power_spectrum(frames * window, n)
                total = power.sum(axis=1)
                safe = np.where(total > 0, total, 1.0)
                cents.append(np.where(total > 0, power @ freqs / safe, np.nan))
                log_mean = np.mean(np.log(power + _EPS), axis=1)
                flat = np.exp(log_mean) / (total / power.shape[1] + _EPS)
                band = np.repeat(bands[first: first + len(counts)], counts)
                first += len(counts)
                narrow = np.flatnonzero(band < self.sample_rate / 2)
                if narrow.size:  # an upsampled clip: its empty upper band is no evidence of a line spectrum
                    inside = freqs[None, :] <= band[narrow, None]
                    p, k = power[narrow], inside.sum(axis=1)
                    log_in = (np.log(p + _EPS) * inside).sum(axis=1) / k
                    flat[narrow] = np.exp(log_in) / ((p * inside).sum(axis=1) / k + _EPS)
                flats.append(flat)
                below = np.cumsum(power, axis=1) >= percent * total[:, None]
                rolls.append(freqs[np.argmax(below, axis=1)])
            return np.concatenate(cents), np.concatenate(flats), np.concatenate(rolls)

        return self.shared(("spectral-pass", percent), compute)

    def _yin_pass(self, fmin: float, fmax: float, threshold: float) -> np.ndarray:
        """Per-frame f0 [Hz] by YIN (de Cheveigné & Kawahara, 2002); NaN where unvoiced or inactive."""

        def compute():
            sr = self.sample_rate
            w = frame_length(sr)
            tau_min = max(2, int(sr / fmax))
            tau_max = min(int(math.ceil(sr / fmin)) + 1, w)
            nfft = 1 << math.ceil(math.log2(2 * w + tau_max))
            f0s = []
            for frames, _ in self._chunks(w, w // 2, extra=tau_max):
                r = _lagged_products(frames, w, tau_max, nfft)
                frames = frames.astype(np.float64)
                cs = np.concatenate([np.zeros((frames.shape[0], 1)), np.cumsum(frames**2, axis=1)], axis=1)
                lags = np.arange(tau_max + 1)
                e1 = cs[:, w][:, None]
                e2 = cs[:, lags + w] - cs[:, lags]
                d = np.maximum(e1 + e2 - 2 * r, 0.0)
                running = np.cumsum(d[:, 1:], axis=1)
                cmnd = np.ones_like(d)
                cmnd[:, 1:] = np.where(running > _EPS, d[:, 1:] * lags[1:] / np.maximum(running, _EPS), 1.0)
                inner = cmnd[:, tau_min : tau_max]
                left = cmnd[:, tau_min - 1 : tau_max - 1]
                right = cmnd[:, tau_min + 1 : tau_max + 1]
                candidate = (inner < threshold) & (inner <= left) & (inner < right)
                voiced = candidate.any(axis=1)
                k = np.argmax(candidate, axis=1)
                rows = np.arange(frames.shape[0])
                a, b, c = left[rows, k], inner[rows, k], right[rows, k]
                denom = a - 2 * b + c
                shift = np.where(np.abs(denom) > _EPS, 0.5 * (a - c) / np.where(denom == 0, 1, denom), 0.0)
                tau = tau_min + k + np.clip(shift, -1, 1)
                f0s.append(np.where(voiced, sr / tau, np.nan))
            f0 = np.concatenate(f0s)
            active = self.active()
            assert f0.shape == active.shape  # same framing (length w, hop w/2) as the loudness pass
            f0[~active] = np.nan
            return f0

        return self.shared(("yin-pass", fmin, fmax, threshold), compute)

    def per_clip(
        self, values: np.ndarray, reduce: Callable[[np.ndarray], float], mask: np.ndarray | None = None
    ) -> np.ndarray:
        """Reduce concatenated per-frame ``values`` to one number per clip (``NaN`` if no frame is kept, and for a
        clip shorter than one frame: its one frame is mostly zero padding, whose spectrum read a 6 ms tone as
        noise, flatness 0.09, and a single sample as white noise, 1.0)."""
        _, counts = self.frame_db()
        out = np.full(len(counts), np.nan)
        whole = frame_length(int(self.sample_rate)) if self.sample_rate else 0
        start = 0
        for i, n in enumerate(counts):
            v = values[start : start + n]
            if mask is not None:
                v = v[mask[start : start + n]]
            if v.size and self.good[i].samples.shape[0] >= whole:
                out[i] = reduce(v)
            start += n
        return out


# -- feature functions -----------------------------------------------------------------------------------
def _db(power: np.ndarray) -> np.ndarray:
    return np.maximum(10.0 * np.log10(np.maximum(power, 1e-30)), SILENT_DB)


def _power_spectrum(frames: np.ndarray, n: int) -> np.ndarray:
    import torch  # torch's FFT is several times faster than numpy's on stacked frames

    spec = torch.fft.rfft(torch.from_numpy(np.ascontiguousarray(frames)), n, dim=1)
    return (spec.real**2 + spec.imag**2).double().numpy()


def _lagged_products(frames: np.ndarray, w: int, tau_max: int, nfft: int) -> np.ndarray:
    """r(τ) = Σ_{j<w} x_j x_{j+τ} for τ = 0..tau_max, for every frame at once (FFT cross-correlation)."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(frames))
    spec = torch.conj(torch.fft.rfft(x[:, :w], nfft, dim=1)) * torch.fft.rfft(x, nfft, dim=1)
    return torch.fft.irfft(spec, nfft, dim=1)[:, : tau_max + 1].double().numpy()


def _starts(counts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)


def _duration(bf: BatchFeatures) -> np.ndarray:
    return np.array([c.duration for c in bf.good])


def _rms_dbfs(bf: BatchFeatures) -> np.ndarray:
    return _db(np.array([np.mean(np.square(c.samples, dtype=np.float64)) for c in bf.good]))


def _peak_dbfs(bf: BatchFeatures) -> np.ndarray:
    return _db(np.array([float(np.max(np.abs(c.samples))) ** 2 for c in bf.good]))


def _clipping_ratio(bf: BatchFeatures, level: float, min_run: int) -> np.ndarray:
    out = np.zeros(len(bf.good))
    for i, clip in enumerate(bf.good):
        x = clip.samples
        peak = float(np.max(np.abs(x)))
        if peak == 0.0 or x.shape[0] < min_run:
            continue
        # pairs of neighbours that are equal and near the peak, i.e. parts of a flat top
        flat = (x[1:] == x[:-1]) & (np.abs(x[1:]) >= level * peak)
        edges = np.diff(np.concatenate([[0], flat.astype(np.int8), [0]]))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        pairs = ends - starts  # a run of k equal pairs is k + 1 samples
        long = pairs + 1 >= min_run
        out[i] = float((pairs[long] + 1).sum()) / x.shape[0]
    return out


def _silence_ratio(bf: BatchFeatures, threshold_db: float) -> np.ndarray:
    db, _ = bf.frame_db()
    return bf.per_clip((db < threshold_db).astype(np.float64), np.mean)


def _snr_db(bf: BatchFeatures) -> np.ndarray:
    db, _ = bf.frame_db()

    def snr(frame_db: np.ndarray) -> float:
        if frame_db.max() <= SILENT_DB:
            return np.nan
        power = 10.0 ** (frame_db / 10.0)
        return float(10.0 * np.log10(np.percentile(power, 95) / np.percentile(power, 10)))

    return bf.per_clip(db, snr)


def _zero_crossing_rate(bf: BatchFeatures) -> np.ndarray:
    zcr = bf._time_pass()[2]
    return bf.per_clip(zcr, np.median, bf.active())


def _spectral(which: int) -> Callable[..., np.ndarray]:
    def compute(bf: BatchFeatures, **params: Any) -> np.ndarray:
        values = bf._spectral_pass(params.get("percent", 0.85))[which]
        return bf.per_clip(values, np.median, bf.active())

    return compute


def _pitch_hz(bf: BatchFeatures, fmin: float, fmax: float, threshold: float, method: str) -> np.ndarray:
    if method == "yin":
        f0 = bf._yin_pass(fmin, fmax, threshold)
        return bf.per_clip(f0, lambda v: float(np.median(v)) if v.size >= 3 else np.nan, ~np.isnan(f0))
    if method == "torchaudio":
        import torch
        import torchaudio.functional as AF

        # torchaudio's NCCF detector has no voicing decision and makes octave errors on pure tones
        # (a 440 Hz sine reads 219 Hz with its defaults, 147 Hz with fmin=60); it is offered for comparison.
        return np.array(
            [
                float(
                    AF.detect_pitch_frequency(
                        torch.from_numpy(c.samples)[None], bf.sample_rate, freq_low=int(fmin), freq_high=int(fmax)
                    ).median()
                )
                for c in bf.good
            ]
        )
    raise ValueError(f"pitch method must be 'yin' or 'torchaudio', got {method!r}")


def _voiced_ratio(bf: BatchFeatures, fmin: float, fmax: float, threshold: float) -> np.ndarray:
    f0 = bf._yin_pass(fmin, fmax, threshold)
    voiced = (~np.isnan(f0)).astype(np.float64)
    return bf.per_clip(voiced, np.mean, bf.active())


_PITCH = {"fmin": 60.0, "fmax": 1000.0, "threshold": 0.15}
FEATURES: dict[str, FeatureSpec] = {
    spec.name: spec
    for spec in [
        FeatureSpec("duration_s", "s", _duration, needs_fixed_rate=False),
        FeatureSpec("rms_dbfs", "dBFS", _rms_dbfs, needs_fixed_rate=False),
        FeatureSpec("peak_dbfs", "dBFS", _peak_dbfs, needs_fixed_rate=False),
        FeatureSpec(
            "clipping_ratio", "fraction", _clipping_ratio, {"level": 0.99, "min_run": 3}, needs_fixed_rate=False
        ),
        FeatureSpec("silence_ratio", "fraction", _silence_ratio, {"threshold_db": -50.0}),
        FeatureSpec("snr_db", "dB", _snr_db),
        FeatureSpec("zero_crossing_rate", "per sample", _zero_crossing_rate),
        FeatureSpec("spectral_centroid", "Hz", _spectral(0)),
        FeatureSpec("spectral_flatness", "ratio", _spectral(1)),
        FeatureSpec("spectral_rolloff", "Hz", _spectral(2), {"percent": 0.85}),
        FeatureSpec("pitch_hz", "Hz", _pitch_hz, {**_PITCH, "method": "yin"}),
        FeatureSpec("voiced_ratio", "fraction", _voiced_ratio, dict(_PITCH)),
    ]
}


def feature_spec(name: str) -> FeatureSpec:
    """The :class:`FeatureSpec` called ``name``; unknown names list the known ones."""
    try:
        return FEATURES[name]
    except KeyError:
        raise ValueError(f"unknown audio feature {name!r}; known: {sorted(FEATURES)}") from None


__all__ = ["FEATURES", "BatchFeatures", "FeatureSpec", "feature_spec", "frame_length"]
