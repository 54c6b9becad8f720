"""Speech detection with Silero VAD (the ``silero-vad`` package ships its weights) as LFs.

The model scores every 32 ms window of a clip at 16 kHz with a speech probability.
:func:`speech_probabilities` runs it over a whole batch at once: clips of similar length are
padded into one tensor and scored together, and the probabilities are cut back to each clip's
length. :class:`SileroVADLF` turns them into one number per clip — the share of speech windows
(``speech_ratio``), the longest stretch of speech (``longest_speech_s``) or the total speech
(``speech_s``) — and votes with a :class:`~lf_library.audio.base.ThresholdRule`.

The model loads lazily on first use, once per process (every VAD LF of a worker shares it), and is
left out when an LF is pickled to ``num_proc`` workers. VAD LFs on the same column share one pass of
the model per batch, and the 16 kHz clips with every other 16 kHz audio LF.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any, ClassVar, Sequence

import numpy as np

from lf_library.media import OnDecodeError, shared_resource
from mmweak.batch_memo import memo
from mmweak.lf import Batch
from mmweak.task import Task

from .base import AudioLF, ThresholdRule
from .decode import Clip

VAD_RATE = 16000
WINDOW = 512  # samples per scored window at 16 kHz (32 ms)
MEASURES = ("speech_ratio", "longest_speech_s", "speech_s")


def load_vad() -> Any:
    """The Silero VAD TorchScript model, loaded once per process from the package's own file."""
    return shared_resource(("silero-vad", silero_version()), _load_silero)


def _load_silero() -> Any:
    import warnings

    import torch

    threads = torch.get_num_threads()
    from silero_vad import load_silero_vad  # importing it sets torch's thread count to 1: undo that

    torch.set_num_threads(threads)
    with warnings.catch_warnings():  # its loader uses APIs that torch/importlib mark deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        return load_silero_vad()


def silero_version() -> str:
    """Installed ``silero-vad`` version (it names the weights), or ``"missing"``."""
    try:
        return importlib.metadata.version("silero-vad")
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def speech_probabilities(clips: Sequence[Any], model: Any, *, max_batch: int = 32, slack: float = 1.25) -> list[Any]:
    """Speech probability of every 32 ms window of every 16 kHz :class:`Clip` (other items → None).

    Clips are sorted by length and scored in groups whose longest clip is at most ``slack`` times the
    shortest, so padding wastes little work.

    >>> import numpy as np
    >>> probs = speech_probabilities([Clip(np.zeros(16000, np.float32), 16000), None], load_vad())
    >>> probs[0].shape, bool(probs[0].max() < 0.5), probs[1]
    ((32,), True, None)
    """
    import torch

    out: list[Any] = [None] * len(clips)
    todo = [i for i, c in enumerate(clips) if isinstance(c, Clip)]
    for i in todo:
        if clips[i].sample_rate != VAD_RATE:
            raise ValueError(f"Silero VAD needs {VAD_RATE} Hz clips, got {clips[i].sample_rate} Hz")
    todo.sort(key=lambda i: clips[i].samples.shape[0])
    start = 0
    while start < len(todo):
        shortest = max(clips[todo[start]].samples.shape[0], WINDOW)
        stop = start + 1
        while stop < len(todo) and stop - start < max_batch and clips[todo[stop]].samples.shape[0] <= slack * shortest:
            stop += 1
        group = todo[start:stop]
        longest = max(clips[i].samples.shape[0] for i in group)
        padded = np.zeros((len(group), max(longest, WINDOW)), dtype=np.float32)
        for row, i in enumerate(group):
            padded[row, : clips[i].samples.shape[0]] = clips[i].samples
        with torch.no_grad():
            probs = model.audio_forward(torch.from_numpy(padded), VAD_RATE).numpy()
        for row, i in enumerate(group):
            windows = max(1, -(-clips[i].samples.shape[0] // WINDOW))
            out[i] = probs[row, :windows].astype(np.float32)
        start = stop
    return out


def measure(probs: np.ndarray, name: str, threshold: float) -> float:
    """One number from a clip's window probabilities: ``speech_ratio``, ``longest_speech_s`` or ``speech_s``.

    >>> p = np.array([0.1, 0.9, 0.8, 0.2, 0.7])
    >>> measure(p, "speech_ratio", 0.5), round(measure(p, "longest_speech_s", 0.5), 3)
    (0.6, 0.064)
    """
    speech = probs >= threshold
    if name == "speech_ratio":
        return float(speech.mean())
    if name == "speech_s":
        return float(speech.sum()) * WINDOW / VAD_RATE
    if name == "longest_speech_s":
        edges = np.diff(np.concatenate([[0], speech.astype(np.int8), [0]]))
        runs = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
        return float(runs.max(initial=0)) * WINDOW / VAD_RATE
    raise ValueError(f"unknown VAD measure {name!r}; use one of {MEASURES}")


class SileroVADLF(AudioLF):
    """Votes on how much speech Silero VAD finds in a clip.

    Args:
        measure: ``"speech_ratio"`` (share of 32 ms windows with speech probability ≥ ``threshold``),
            ``"longest_speech_s"`` (presence: the longest run of speech, seconds) or ``"speech_s"``.
        threshold: speech probability a window needs to count as speech (Silero's default 0.5).
        low, high, below, above, between: the :class:`~lf_library.audio.base.ThresholdRule`.

    >>> import numpy as np, mmweak
    >>> content = mmweak.Task("content", ["speech", "other"])
    >>> lf = SileroVADLF("vad", task=content, high=0.3, above="speech", low=0.05, below="other")
    >>> lf({"audio": [{"array": np.zeros(16000), "sampling_rate": 16000}]})
    [1]
    """

    _lazy_attrs: ClassVar[tuple[str, ...]] = ("_model",)

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        measure: str = "speech_ratio",
        threshold: float = 0.5,
        low: float | None = None,
        high: float | None = None,
        below: int | str | None = None,
        above: int | str | None = None,
        between: int | str | None = None,
        column: str = "audio",
        on_decode_error: OnDecodeError = "abstain",
        version: str = "1",
    ) -> None:
        super().__init__(name, task=task, column=column, sample_rate=VAD_RATE, on_decode_error=on_decode_error,
                         version=version)
        if measure not in MEASURES:
            raise ValueError(f"LF {name!r}: measure must be one of {MEASURES}, got {measure!r}")
        if not 0 < threshold < 1:
            raise ValueError(f"LF {name!r}: threshold must be in (0, 1), got {threshold!r}")
        self.measure = measure
        self.threshold = float(threshold)
        self.rule = ThresholdRule.build(task, name, low=low, high=high, below=below, above=above, between=between)
        self._model: Any = None

    @property
    def model(self) -> Any:
        """The Silero model, loaded on first use (after unpickling too)."""
        if self._model is None:
            self._model = load_vad()
        return self._model

    def probabilities(self, batch: Batch) -> list[Any]:
        """Window probabilities of every row (``None`` where undecodable), one model pass per batch."""
        return memo(("audio-vad", self.column, self.decode_key(), "silero", silero_version()),
                    lambda: speech_probabilities(self.decoded(batch), self.model))

    def label_decoded(self, clips: list[Any], batch: Batch, positions: list[int]) -> Sequence[int]:
        probs = self.probabilities(batch)
        values = [measure(probs[p], self.measure, self.threshold) for p in positions]
        return self.rule.votes(values).tolist()

    def config(self) -> dict[str, Any]:
        return {**super().config(), "model": f"silero-vad {silero_version()}", "measure": self.measure,
                "threshold": self.threshold, **self.rule.to_dict()}

    def _code_modules(self) -> tuple[str, ...]:
        return (*super()._code_modules(), "lf_library.audio.vad")


__all__ = ["MEASURES", "SileroVADLF", "load_vad", "measure", "speech_probabilities"]
