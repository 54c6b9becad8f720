"""Ready-made tasks and LF sets for curating an audio dataset: what is in a clip, and is it usable.

* :data:`CONTENT` — ``speech`` / ``tone`` (music-like, periodic) / ``noise`` / ``silence``;
* :data:`QUALITY` — ``keep`` / ``drop`` (too short, clipped, too quiet or mostly silent, undecodable).

:func:`content_lfs` and :func:`quality_lfs` return LFs built from :mod:`lf_library.audio.heuristics`
and :mod:`lf_library.audio.vad`, with thresholds set from what the features measure on speech,
tones, noise and silence (the generated corpus of :mod:`recipes.demo.audio`). All of them read one
column, so a batch is decoded once, resampled to 16 kHz once, and framed / transformed once for all
of them. ``recipes/audio_curation.py`` and the demo use exactly these. :func:`yamnet_content_lf` adds
YAMNet (AudioSet) as one more content LF, its labels mapped by :data:`AUDIOSET_LABELS`.

>>> [lf.name for lf in quality_lfs()][:3]
['undecodable', 'too_short', 'clipped']
>>> CONTENT.labels
('speech', 'tone', 'noise', 'silence')
"""

from __future__ import annotations

from typing import TypedDict

from mmweak.lf import LabelingFunction
from mmweak.task import Task

from .classifier import AudioClassifierLF
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
    UndecodableLF,
    VoicedRatioLF,
    ZeroCrossingRateLF,
)
from .vad import SileroVADLF
from .yamnet import Yamnet

CONTENT = Task("content", ["speech", "tone", "noise", "silence"],
               description="What a clip contains: speech, a music-like tone, noise, or silence")
QUALITY = Task("quality", ["keep", "drop"],
               description="Whether a clip is usable: drop clips that are too short, clipped, too quiet, "
                           "mostly silent or undecodable")


#: Quality thresholds: shortest usable clip [s], most clipping [share of samples], highest peak and
#: usable RMS range [dBFS], most silence [share of frames under -50 dBFS].
MIN_SECONDS = 0.5
MAX_CLIPPING = 0.01
MAX_PEAK_DBFS = -0.1
LEVEL_DBFS = (-45.0, -4.0)
MAX_SILENCE = 0.9


class _Common(TypedDict):
    """The keyword arguments every LF of one preset shares."""

    task: Task
    column: str


class _PitchRange(TypedDict):
    fmin: float
    fmax: float


def content_lfs(column: str = "audio", *, vad: bool = True) -> list[LabelingFunction]:
    """LFs of :data:`CONTENT` on ``column``; ``vad=False`` leaves out Silero VAD (no torch model)."""
    c = _Common(task=CONTENT, column=column)
    pitch = _PitchRange(fmin=60.0, fmax=2000.0)
    lfs: list[LabelingFunction] = [
        # speech: the VAD, and the pauses between words (loud frames far above the floor)
        SNRLF("bursty_speech", high=25.0, above="speech", **c),
        # tones: energy in a few spectral lines, periodic almost everywhere, or pitched above speech
        SpectralFlatnessLF("line_spectrum_tone", low=1e-4, below="tone", **c),
        VoicedRatioLF("periodic_tone", high=0.85, above="tone", **pitch, **c),
        PitchLF("high_pitch_tone", high=320.0, above="tone", **pitch, **c),
        # noise: flat (white, pink), bright (many zero crossings), very dark (brown), or no pitch in a
        # spectrum that is not a few lines (chords have no pitch either, but a line spectrum)
        SpectralFlatnessLF("flat_noise", high=0.05, above="noise", **c),
        ZeroCrossingRateLF("hissy_noise", high=0.3, above="noise", **c),
        SpectralCentroidLF("rumble_noise", low=150.0, below="noise", **c),
        FeatureRangesLF("aperiodic_noise", label="noise", ranges={
            "voiced_ratio": (None, 0.05), "spectral_flatness": (3e-3, None)}, params={"voiced_ratio": pitch}, **c),
        # silence: nothing above the noise floor
        LoudnessLF("near_silent", low=-65.0, below="silence", **c),
        SilenceRatioLF("silent_frames", threshold_db=-60.0, high=0.95, above="silence", **c),
    ]
    if vad:
        lfs.insert(0, SileroVADLF("vad_speech", measure="speech_ratio", high=0.3, above="speech", **c))
    return lfs


def quality_lfs(column: str = "audio") -> list[LabelingFunction]:
    """LFs of :data:`QUALITY` on ``column``: one vote to keep long clips, several reasons to drop."""
    q = _Common(task=QUALITY, column=column)
    # Each drop LF names one problem; "passes_checks" votes keep exactly when none of them fires.
    return [
        UndecodableLF("undecodable", label="drop", **q),
        DurationLF("too_short", low=MIN_SECONDS, below="drop", **q),
        ClippingLF("clipped", high=MAX_CLIPPING, above="drop", **q),
        AudioFeatureLF("full_scale_peak", feature="peak_dbfs", high=MAX_PEAK_DBFS, above="drop", sample_rate=None, **q),
        LoudnessLF("bad_level", low=LEVEL_DBFS[0], below="drop", high=LEVEL_DBFS[1], above="drop", **q),
        SilenceRatioLF("mostly_silent", threshold_db=-50.0, high=MAX_SILENCE, above="drop", **q),
        FeatureRangesLF("passes_checks", label="keep", ranges={
            "duration_s": (MIN_SECONDS, None), "clipping_ratio": (None, MAX_CLIPPING),
            "peak_dbfs": (None, MAX_PEAK_DBFS), "rms_dbfs": LEVEL_DBFS, "silence_ratio": (None, MAX_SILENCE),
        }, params={"silence_ratio": {"threshold_db": -50.0}}, **q),
    ]



#: AudioSet labels (e.g. of an AST model fine-tuned on AudioSet) -> content classes.
AUDIOSET_LABELS: dict[str, str] = {
    "Speech": "speech", "Male speech, man speaking": "speech", "Female speech, woman speaking": "speech",
    "Conversation": "speech", "Narration, monologue": "speech",
    "Music": "tone", "Sine wave": "tone", "Musical instrument": "tone", "Beep, bleep": "tone",
    "Noise": "noise", "White noise": "noise", "Pink noise": "noise", "Static": "noise", "Hiss": "noise",
    "Silence": "silence",
}


def yamnet_content_lf(column: str = "audio", *, min_score: float = 0.5) -> LabelingFunction:
    """YAMNet (AudioSet, :class:`lf_library.audio.Yamnet`) as a ``content`` LF: its labels mapped to speech /
    tone / noise / silence by :data:`AUDIOSET_LABELS` where YAMNet has them, and by name for the rest.

    >>> yamnet_content_lf().mapping().assignments()["Sine wave"]
    'tone'
    """
    model = Yamnet()
    names = {lab.name for lab in model.labels()}
    return AudioClassifierLF(
        "yamnet", task=CONTENT, classifier=model, column=column, min_score=min_score,
        classes={"speech": [], "tone": ["music", "sine wave", "beep"], "noise": ["white noise", "static"],
                 "silence": []},
        explicit={k: v for k, v in AUDIOSET_LABELS.items() if k in names},  # YAMNet lacks male/female speech
    )


__all__ = ["AUDIOSET_LABELS", "CONTENT", "QUALITY", "content_lfs", "quality_lfs", "yamnet_content_lf"]
