"""Heuristic audio LFs: a threshold rule on one measured feature of each clip.

Every LF here is an :class:`AudioFeatureLF`: it reads one feature of :mod:`lf_library.audio.features`
and votes with a :class:`~lf_library.audio.base.ThresholdRule` — ``below`` a class under ``low``,
``above`` a class over ``high``, optionally ``between`` a class in the band, abstaining otherwise.
LFs on the same column and rate share the decoded clips *and* the feature computation of a batch:
ten spectral LFs cost one STFT per clip.

=========================== ======================== ===================== =================
class                       feature                  default sample rate   parameters
=========================== ======================== ===================== =================
:class:`DurationLF`         ``duration_s``           native
:class:`LoudnessLF`         ``rms_dbfs``             native
:class:`ClippingLF`         ``clipping_ratio``       native (must be)      level, min_run
:class:`SilenceRatioLF`     ``silence_ratio``        16 kHz                threshold_db
:class:`SNRLF`              ``snr_db``               16 kHz
:class:`ZeroCrossingRateLF` ``zero_crossing_rate``   16 kHz
:class:`SpectralCentroidLF` ``spectral_centroid``    16 kHz
:class:`SpectralFlatnessLF` ``spectral_flatness``    16 kHz
:class:`SpectralRolloffLF`  ``spectral_rolloff``     16 kHz                percent
:class:`PitchLF`            ``pitch_hz``             16 kHz                fmin, fmax, threshold, method
:class:`VoicedRatioLF`      ``voiced_ratio``         16 kHz                fmin, fmax, threshold
=========================== ======================== ===================== =================

:class:`FeatureRangesLF` votes a class when every listed feature is in range (``keep`` when a clip
passes every check); :class:`UndecodableLF` votes a class (e.g. ``drop``) for clips that cannot be
decoded at all.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from lf_library.labels import resolve_label
from lf_library.media import DecodeFailure, OnDecodeError
from mmweak.batch_memo import memo
from mmweak.lf import ABSTAIN, Batch
from mmweak.task import Task

from .base import AudioLF, ThresholdRule
from .features import BatchFeatures, feature_spec

_CLASS_DEFAULT: Any = object()  # "use the class's default sample rate"


class AudioFeatureLF(AudioLF):
    """Votes by thresholds on one feature of each clip (see the module docstring).

    Args:
        name, task: as for every LF.
        feature: a name from :data:`lf_library.audio.features.FEATURES` (subclasses fix it).
        low, high, below, above, between: the :class:`~lf_library.audio.base.ThresholdRule`; labels
            are class names or indices of ``task``.
        params: feature parameters (e.g. ``{"threshold_db": -45}`` for ``silence_ratio``).
        column: the audio column (``datasets.Audio``, ``Audio(decode=False)``, paths...).
        sample_rate: rate the feature is computed at (``None``: native; frame-based features need one).
        on_decode_error: ``"abstain"`` (count a fault) or ``"raise"`` on undecodable clips.

    >>> import numpy as np, mmweak
    >>> kind = mmweak.Task("kind", ["tone", "noise"])
    >>> lf = AudioFeatureLF("flat", task=kind, feature="spectral_flatness", low=0.05, below="tone",
    ...                     high=0.3, above="noise")
    >>> t = np.arange(16000) / 16000
    >>> clips = [{"array": np.sin(2 * np.pi * 300 * t), "sampling_rate": 16000},
    ...          {"array": np.random.default_rng(0).normal(0, 0.1, 16000), "sampling_rate": 16000}]
    >>> lf({"audio": clips})
    [0, 1]
    """

    feature: ClassVar[str | None] = None
    default_sample_rate: ClassVar[int | None] = 16000

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        feature: str | None = None,
        low: float | None = None,
        high: float | None = None,
        below: int | str | None = None,
        above: int | str | None = None,
        between: int | str | None = None,
        params: Mapping[str, Any] | None = None,
        column: str = "audio",
        sample_rate: int | None = _CLASS_DEFAULT,
        on_decode_error: OnDecodeError = "abstain",
        version: str = "1",
    ) -> None:
        rate = type(self).default_sample_rate if sample_rate is _CLASS_DEFAULT else sample_rate
        super().__init__(name, task=task, column=column, sample_rate=rate, on_decode_error=on_decode_error,
                         version=version)
        fixed = type(self).feature
        if fixed is not None and feature not in (None, fixed):
            raise ValueError(f"LF {name!r}: {type(self).__name__} reads {fixed!r}; use AudioFeatureLF for {feature!r}")
        feature = feature or fixed
        if feature is None:
            raise ValueError(f"LF {name!r}: name the feature to threshold (feature=...)")
        try:
            spec = feature_spec(feature)
            self.params = spec.bind(dict(params or {}))
        except ValueError as exc:
            raise ValueError(f"LF {name!r}: {exc}") from None
        if spec.needs_fixed_rate and self.sample_rate is None:
            raise ValueError(f"LF {name!r}: feature {feature!r} is frame-based and needs a sample_rate")
        self.feature_name = feature
        self.rule = ThresholdRule.build(task, name, low=low, high=high, below=below, above=above, between=between)

    def values(self, batch: Batch) -> np.ndarray:
        """This LF's feature for every row of ``batch`` (``NaN`` where undecodable or undefined)."""
        return batch_features(self, batch, self.sample_rate).get(self.feature_name, **self.params)

    def label_decoded(self, clips: list[Any], batch: Batch, positions: list[int]) -> Sequence[int]:
        return self.rule.votes(self.values(batch)[positions]).tolist()

    def config(self) -> dict[str, Any]:
        return {**super().config(), "feature": self.feature_name, "params": dict(self.params), **self.rule.to_dict()}

    def _code_modules(self) -> tuple[str, ...]:
        return (*super()._code_modules(), "lf_library.audio.features", "lf_library.audio.heuristics")


def batch_features(lf: AudioLF, batch: Batch, rate: int | None) -> BatchFeatures:
    """The :class:`BatchFeatures` of ``lf``'s column at ``rate`` for this batch, shared by all audio LFs."""
    key = ("audio-features", lf.column, lf.decode_key(), rate)
    return memo(key, lambda: BatchFeatures(lf.clips_at(batch, rate), rate))


class FeatureRangesLF(AudioLF):
    """Votes ``label`` when *every* listed feature lies in its ``(low, high)`` range (``None`` = open,
    bounds inclusive); abstains otherwise, and where a feature is ``NaN``.

    The single-feature LFs each name one reason for a class; this one votes the opposite class when
    no reason applies (e.g. ``keep`` when a clip passes every quality check), so the two kinds rarely
    conflict. Whole-clip features (duration, levels, clipping) are read at the native rate, frame-based
    ones at ``sample_rate``. ``params`` maps a feature to its parameters.

    >>> import numpy as np, mmweak
    >>> q = mmweak.Task("quality", ["keep", "drop"])
    >>> lf = FeatureRangesLF("passes", task=q, label="keep",
    ...                      ranges={"duration_s": (0.5, None), "rms_dbfs": (-45, -4)})
    >>> clips = [{"array": np.full(n, a), "sampling_rate": 8000} for n, a in ((8000, 0.1), (800, 0.1), (8000, 1e-4))]
    >>> lf({"audio": clips})
    [0, -1, -1]
    """

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        label: int | str,
        ranges: Mapping[str, tuple[float | None, float | None]],
        params: Mapping[str, Mapping[str, Any]] | None = None,
        column: str = "audio",
        sample_rate: int = 16000,
        on_decode_error: OnDecodeError = "abstain",
        version: str = "1",
    ) -> None:
        super().__init__(
            name, task=task, column=column, sample_rate=sample_rate, on_decode_error=on_decode_error, version=version
        )
        if not ranges:
            raise ValueError(f"LF {name!r}: give at least one feature range")
        params = dict(params or {})
        unknown = sorted(set(params) - set(ranges))
        if unknown:
            raise ValueError(f"LF {name!r}: params given for features without a range: {unknown}")
        self.ranges: dict[str, tuple[float | None, float | None]] = {}
        self.params: dict[str, dict[str, Any]] = {}
        for feature, bounds in sorted(ranges.items()):
            try:
                self.params[feature] = feature_spec(feature).bind(dict(params.get(feature) or {}))
                low, high = bounds
                ThresholdRule(low=low, high=high, between=0)  # validates the bounds
            except (ValueError, TypeError) as exc:
                raise ValueError(f"LF {name!r}: feature {feature!r}: {exc}") from None
            self.ranges[feature] = (None if low is None else float(low), None if high is None else float(high))
        self.label = resolve_label(task, label, lf=name)

    def label_decoded(self, clips: list[Any], batch: Batch, positions: list[int]) -> Sequence[int]:
        inside = np.ones(len(positions), dtype=bool)
        for feature, (low, high) in self.ranges.items():
            rate = self.sample_rate if feature_spec(feature).needs_fixed_rate else None
            v = batch_features(self, batch, rate).get(feature, **self.params[feature])[positions]
            inside &= ThresholdRule(low=low, high=high, between=1).votes(v) == 1
        return np.where(inside, self.label, ABSTAIN).tolist()

    def config(self) -> dict[str, Any]:
        return {
            **super().config(),
            "label": self.label,
            "ranges": {k: list(v) for k, v in self.ranges.items()},
            "params": self.params,
        }

    def _code_modules(self) -> tuple[str, ...]:
        return (*super()._code_modules(), "lf_library.audio.features", "lf_library.audio.heuristics")


class DurationLF(AudioFeatureLF):
    """Clip length in seconds, e.g. ``drop`` under 0.5 s.

    >>> import numpy as np, mmweak
    >>> q = mmweak.Task("quality", ["keep", "drop"])
    >>> lf = DurationLF("too_short", task=q, low=0.5, below="drop", high=1.0, above="keep")
    >>> lf({"audio": [{"array": np.zeros(n), "sampling_rate": 8000} for n in (800, 6000, 16000)]})
    [1, -1, 0]
    """

    feature = "duration_s"
    default_sample_rate = None


class LoudnessLF(AudioFeatureLF):
    """RMS level of the clip in dBFS (digital silence reads -120), e.g. ``silence`` under -65.

    >>> import numpy as np, mmweak
    >>> q = mmweak.Task("quality", ["keep", "drop"])
    >>> lf = LoudnessLF("too_quiet", task=q, low=-50, below="drop")
    >>> lf({"audio": [{"array": np.full(800, a), "sampling_rate": 8000} for a in (0.001, 0.1)]})
    [1, -1]
    """

    feature = "rms_dbfs"
    default_sample_rate = None


class ClippingLF(AudioFeatureLF):
    """Share of samples in flat tops (``min_run`` or more equal samples at ≥ ``level`` × peak).

    Computed at the native rate by default: resampling (and lossy codecs) round off flat tops.

    >>> import numpy as np, mmweak
    >>> q = mmweak.Task("quality", ["keep", "drop"])
    >>> t = np.arange(8000) / 8000
    >>> sine = 0.5 * np.sin(2 * np.pi * 200 * t)
    >>> lf = ClippingLF("clipped", task=q, high=0.01, above="drop", low=0.001, below="keep")
    >>> lf({"audio": [{"array": a, "sampling_rate": 8000} for a in (sine, np.clip(4 * sine, -1, 1))]})
    [0, 1]
    """

    feature = "clipping_ratio"
    default_sample_rate = None

    def __init__(self, name: str, *, task: Task, level: float = 0.99, min_run: int = 3, **kwargs: Any) -> None:
        super().__init__(name, task=task, params={"level": float(level), "min_run": int(min_run)}, **kwargs)


class SilenceRatioLF(AudioFeatureLF):
    """Share of 32 ms frames quieter than ``threshold_db`` dBFS (digital silence: 1.0).

    >>> import numpy as np, mmweak
    >>> c = mmweak.Task("content", ["sound", "silence"])
    >>> lf = SilenceRatioLF("mostly_silent", task=c, high=0.9, above="silence", low=0.5, below="sound")
    >>> lf({"audio": [{"array": np.zeros(16000), "sampling_rate": 16000},
    ...               {"array": np.full(16000, 0.1), "sampling_rate": 16000}]})
    [1, 0]
    """

    feature = "silence_ratio"

    def __init__(self, name: str, *, task: Task, threshold_db: float = -50.0, **kwargs: Any) -> None:
        super().__init__(name, task=task, params={"threshold_db": float(threshold_db)}, **kwargs)


class SNRLF(AudioFeatureLF):
    """Energy-percentile SNR in dB (loud frames over the noise floor): high for speech with pauses,
    near 0 for steady tones and noise, ``NaN`` (abstain) for digital silence.

    >>> import numpy as np, mmweak
    >>> c = mmweak.Task("content", ["steady", "bursty"])
    >>> bursts = np.tile(np.r_[np.full(1600, 0.3), np.full(1600, 0.001)], 5)
    >>> lf = SNRLF("dynamics", task=c, low=3, below="steady", high=20, above="bursty")
    >>> lf({"audio": [{"array": np.full(16000, 0.3), "sampling_rate": 16000},
    ...               {"array": bursts, "sampling_rate": 16000}]})
    [0, 1]
    """

    feature = "snr_db"


class ZeroCrossingRateLF(AudioFeatureLF):
    """Sign changes per sample (median over active frames): white noise ≈ 0.5, low tones ≈ 2f/sr.

    >>> import numpy as np, mmweak
    >>> c = mmweak.Task("content", ["tone", "noise"])
    >>> lf = ZeroCrossingRateLF("zcr", task=c, high=0.3, above="noise")
    >>> lf({"audio": [{"array": np.random.default_rng(0).normal(0, 0.1, 16000), "sampling_rate": 16000}]})
    [1]
    """

    feature = "zero_crossing_rate"


class SpectralCentroidLF(AudioFeatureLF):
    """Power-weighted mean frequency in Hz (median over active frames).

    >>> import numpy as np, mmweak
    >>> c = mmweak.Task("pitch", ["low", "high"])
    >>> t = np.arange(16000) / 16000
    >>> lf = SpectralCentroidLF("bright", task=c, low=500, below="low", high=2000, above="high")
    >>> lf({"audio": [{"array": np.sin(2 * np.pi * f * t), "sampling_rate": 16000} for f in (200, 3000)]})
    [0, 1]
    """

    feature = "spectral_centroid"


class SpectralFlatnessLF(AudioFeatureLF):
    """Geometric over arithmetic mean of the power spectrum (white noise ≈ 0.56, tones ≈ 0).

    >>> import numpy as np, mmweak
    >>> c = mmweak.Task("content", ["tone", "noise"])
    >>> lf = SpectralFlatnessLF("flat", task=c, high=0.3, above="noise", low=0.01, below="tone")
    >>> lf({"audio": [{"array": np.random.default_rng(0).normal(0, 0.1, 16000), "sampling_rate": 16000}]})
    [1]
    """

    feature = "spectral_flatness"


class SpectralRolloffLF(AudioFeatureLF):
    """Frequency in Hz below which ``percent`` of the power lies (median over active frames).

    >>> import numpy as np, mmweak
    >>> c = mmweak.Task("band", ["narrow", "wide"])
    >>> lf = SpectralRolloffLF("rolloff", task=c, percent=0.85, high=5000, above="wide")
    >>> lf({"audio": [{"array": np.random.default_rng(0).normal(0, 0.1, 16000), "sampling_rate": 16000}]})
    [1]
    """

    feature = "spectral_rolloff"

    def __init__(self, name: str, *, task: Task, percent: float = 0.85, **kwargs: Any) -> None:
        if not 0 < percent <= 1:
            raise ValueError(f"LF {name!r}: percent must be in (0, 1], got {percent!r}")
        super().__init__(name, task=task, params={"percent": float(percent)}, **kwargs)


class PitchLF(AudioFeatureLF):
    """Median fundamental frequency (Hz) of voiced frames, searched in ``[fmin, fmax]``.

    ``method="yin"`` (default) is YIN with an aperiodicity ``threshold``; ``"torchaudio"`` uses
    ``torchaudio.functional.detect_pitch_frequency`` (no voicing decision, octave errors on pure
    tones). Typical use: ``between`` a class inside a pitch range, e.g. a speaker's register.

    >>> import numpy as np, mmweak
    >>> c = mmweak.Task("register", ["low", "high"])
    >>> t = np.arange(16000) / 16000
    >>> lf = PitchLF("a440", task=c, low=400, high=480, between="high")
    >>> lf({"audio": [{"array": np.sin(2 * np.pi * f * t), "sampling_rate": 16000} for f in (440, 150)]})
    [1, -1]
    """

    feature = "pitch_hz"

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        fmin: float = 60.0,
        fmax: float = 1000.0,
        threshold: float = 0.15,
        method: str = "yin",
        **kwargs: Any,
    ) -> None:
        if not 0 < fmin < fmax:
            raise ValueError(f"LF {name!r}: need 0 < fmin < fmax, got fmin={fmin!r}, fmax={fmax!r}")
        if method not in ("yin", "torchaudio"):
            raise ValueError(f"LF {name!r}: method must be 'yin' or 'torchaudio', got {method!r}")
        params = {"fmin": float(fmin), "fmax": float(fmax), "threshold": float(threshold), "method": method}
        super().__init__(name, task=task, params=params, **kwargs)


class VoicedRatioLF(AudioFeatureLF):
    """Share of active frames with a clear pitch in ``[fmin, fmax]``: ≈1 for tones, ≈0 for noise.

    >>> import numpy as np, mmweak
    >>> c = mmweak.Task("content", ["periodic", "aperiodic"])
    >>> t = np.arange(16000) / 16000
    >>> lf = VoicedRatioLF("voiced", task=c, low=0.1, below="aperiodic", high=0.9, above="periodic")
    >>> lf({"audio": [{"array": np.sin(2 * np.pi * 220 * t), "sampling_rate": 16000},
    ...               {"array": np.random.default_rng(0).normal(0, 0.1, 16000), "sampling_rate": 16000}]})
    [0, 1]
    """

    feature = "voiced_ratio"

    def __init__(
        self, name: str, *, task: Task, fmin: float = 60.0, fmax: float = 1000.0, threshold: float = 0.15, **kwargs: Any
    ) -> None:
        if not 0 < fmin < fmax:
            raise ValueError(f"LF {name!r}: need 0 < fmin < fmax, got fmin={fmin!r}, fmax={fmax!r}")
        super().__init__(
            name, task=task, params={"fmin": float(fmin), "fmax": float(fmax), "threshold": float(threshold)}, **kwargs
        )


class UndecodableLF(AudioLF):
    """Votes ``label`` for clips that cannot be decoded (corrupt, empty, unknown format, or over the media limits,
    which they cannot be read within); abstains on the rest. Those rows are this LF's signal, not its faults, so
    it counts none. A WAV cut short (its data chunk declares more than the file holds) is undecodable too.

    >>> import mmweak
    >>> q = mmweak.Task("quality", ["keep", "drop"])
    >>> UndecodableLF("broken", task=q, label="drop")({"audio": [b"garbage", {"array": [0.1], "sampling_rate": 8000}]})
    [1, -1]
    """

    def __init__(self, name: str, *, task: Task, label: int | str, column: str = "audio", version: str = "1") -> None:
        super().__init__(name, task=task, column=column, sample_rate=None, version=version)
        self.label = resolve_label(task, label, lf=name)

    def label_batch(self, batch: Batch) -> Sequence[int]:
        return [self.label if isinstance(c, DecodeFailure) else ABSTAIN for c in self.decoded(batch)]

    def config(self) -> dict[str, Any]:
        return {**super().config(), "label": self.label}


__all__ = [
    "AudioFeatureLF",
    "ClippingLF",
    "DurationLF",
    "FeatureRangesLF",
    "LoudnessLF",
    "PitchLF",
    "SNRLF",
    "SilenceRatioLF",
    "SpectralCentroidLF",
    "SpectralFlatnessLF",
    "SpectralRolloffLF",
    "UndecodableLF",
    "VoicedRatioLF",
    "ZeroCrossingRateLF",
    "batch_features",
]
