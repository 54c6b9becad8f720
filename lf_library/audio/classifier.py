"""Pretrained audio-event classifiers (YAMNet, or any :class:`~lf_library.classifier.Classifier` of audio) as LFs."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from lf_library.classifier import Classifier, ClassifierVotes
from lf_library.media import OnDecodeError
from mmweak.task import Task

from .base import AudioLF

__all__ = ["AudioClassifierLF"]


class AudioClassifierLF(ClassifierVotes, AudioLF):
    """A pretrained audio-event classifier (YAMNet/AudioSet or your own) as an LF over the task's classes.

    Same arguments as :class:`ImageClassifierLF`; ``hierarchy`` defaults to ``None`` (the AudioSet
    ontology is not shipped with the model). Clips are decoded once per batch and resampled once to the
    classifier's ``sample_rate``, shared with every other audio LF at that rate.

    >>> import mmweak
    >>> from lf_library.audio import Yamnet
    >>> content = mmweak.Task("content", ["speech", "music", "other"])
    >>> lf = AudioClassifierLF("yamnet", task=content, classifier=Yamnet(), classes=["speech", "music"])
    >>> lf.sample_rate, lf.mapping().assignments()["Speech"], lf.mapping().assignments()["Music"]
    (16000, 'speech', 'music')
    """

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        classifier: Classifier,
        column: str = "audio",
        classes: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
        explicit: Mapping[str, str | None] | None = None,
        exclude: Sequence[str] = (),
        hierarchy: Any = None,
        encoder: Any = None,
        min_similarity: float = 0.6,
        min_margin_words: float = 0.05,
        min_score: float = 0.5,
        min_margin: float = 0.0,
        otherwise: int | str | None = None,
        otherwise_below: float | None = None,
        on_decode_error: OnDecodeError = "abstain",
        version: str = "1",
    ) -> None:
        if getattr(classifier, "modality", None) != "audio":
            raise ValueError(f"LF {name!r}: {classifier!r} is not an audio classifier")
        super().__init__(name, task=task, column=column, sample_rate=classifier.sample_rate,
                         on_decode_error=on_decode_error, version=version)
        self._setup(name, task, classifier, classes, explicit, exclude, hierarchy, encoder, min_similarity,
                    min_margin_words, min_score, min_margin, otherwise, otherwise_below)

    def config(self) -> dict[str, Any]:
        return {**super().config(), **self._votes_config()}
