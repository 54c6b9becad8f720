"""Any ``transformers`` classification pipeline as a labeling function, for text, images or audio.

:class:`PipelineLF` runs ``text-classification``, ``zero-shot-classification``,
``image-classification``, ``zero-shot-image-classification``, ``audio-classification`` or
``zero-shot-audio-classification`` pipelines: the model's labels map to the task's classes, and it
abstains under a minimum score. transformers is imported, and the model loaded, only when an LF first
runs; models load once per worker process and are shared by LFs with equal specs. ``calibrated(dev,
target_precision=... | target_coverage=...)`` returns a copy whose ``min_score`` is chosen on
labelled dev rows.

>>> sorted({PIPELINE_MODALITIES[t] for t in PIPELINE_MODALITIES})
['audio', 'image', 'text']
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

import numpy as np

from lf_library.audio.decode import Clip, audio_decode_key, decode_audio
from lf_library.calibrate import calibrate_lf
from lf_library.device import default_device
from lf_library.identity import model_identity
from lf_library.image.decode import image_decode_key, load_image
from lf_library.labels import resolve_label
from lf_library.media import DecodeFailure, MediaLF, OnDecodeError, shared_resource
from mmweak.batch_memo import memo
from mmweak.fingerprint import stable_hash
from mmweak.lf import ABSTAIN, Batch, Modality
from mmweak.task import Task

__all__ = ["PIPELINE_MODALITIES", "PipelineLF", "audio_input"]

#: Pipeline tasks :class:`PipelineLF` runs, and the modality of their input.
PIPELINE_MODALITIES: dict[str, Modality] = {
    "text-classification": "text",
    "sentiment-analysis": "text",
    "zero-shot-classification": "text",
    "image-classification": "image",
    "zero-shot-image-classification": "image",
    "audio-classification": "audio",
    "zero-shot-audio-classification": "audio",
}
_ZERO_SHOT = {"zero-shot-classification", "zero-shot-image-classification", "zero-shot-audio-classification"}


def audio_input(value: Any) -> dict[str, Any]:
    """An audio cell as ``{"raw": mono float32 array, "sampling_rate": sr}``, the form audio pipelines take.

    Decoding is :func:`lf_library.audio.decode_audio` (every cell shape ``datasets`` produces, raw bytes
    and paths), so pipeline LFs and audio heuristics share one decode per clip and batch.

    >>> import numpy as np
    >>> out = audio_input({"array": np.zeros((2, 5)), "sampling_rate": 8000})
    >>> out["raw"].shape, out["sampling_rate"]
    ((5,), 8000)
    """
    return _pipeline_input(decode_audio(value))


def _pipeline_input(item: Any) -> Any:
    """A decoded cell in the form transformers pipelines take (RGB images, ``{"raw", "sampling_rate"}`` audio)."""
    if isinstance(item, Clip):
        return {"raw": item.samples, "sampling_rate": item.sample_rate}
    if hasattr(item, "mode") and item.mode != "RGB":
        return item.convert("RGB")
    return item


class PipelineLF(MediaLF):
    """A ``transformers`` classification pipeline as an LF: model labels -> task classes, abstain under ``min_score``.

    Each row's scores of the model labels that ``label_map`` sends to the same class are summed; the
    best class is voted when its score is at least ``min_score``. Model labels missing from
    ``label_map`` (or mapped to ``None``) count for no class.

    Args:
        pipeline_task: one of :data:`PIPELINE_MODALITIES` (it decides the modality of ``column``).
        model: a Hub id (downloaded by transformers when online) or a local model folder.
        label_map: model label -> task class (name or index) or ``None``. Default: model labels that
            equal a class name (case-insensitively). For zero-shot pipelines its keys are the candidate
            labels shown to the model (default: the task's class names).
        min_score: abstain below this (summed) score.
        hypothesis_template: for zero-shot pipelines (e.g. ``"This comment is {}."``).
        batch_size: rows per forward pass, handed to the pipeline.
        device, pipeline_kwargs: passed to ``transformers.pipeline`` (``dtype=``, ``trust_remote_code=``...).

    Rows that do not decode (not a string / an unreadable image or clip) abstain and are counted (or
    raise, with ``on_decode_error="raise"``). Modality-specific decoding is :meth:`decode_one`;
    override it (and :meth:`decode_key`) to feed the pipeline differently. Several PipelineLFs with the
    same model and call settings on the same column run the model once per batch.

    >>> import mmweak
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lf = PipelineLF("nli_spam", task=spam, pipeline_task="zero-shot-classification", model="org/nli-model",
    ...                 label_map={"an advertisement": "spam", "a comment about the song": "ham"}, min_score=0.7)
    >>> lf.modality, lf.candidate_labels
    ('text', ['an advertisement', 'a comment about the song'])
    """

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        pipeline_task: str,
        model: str | os.PathLike,
        column: str | None = None,
        label_map: Mapping[str, int | str | None] | None = None,
        min_score: float = 0.5,
        hypothesis_template: str | None = None,
        batch_size: int = 16,
        device: str | int | None = None,
        revision: str | None = None,
        pipeline_kwargs: Mapping[str, Any] | None = None,
        on_decode_error: OnDecodeError = "abstain",
        version: str = "1",
    ) -> None:
        if pipeline_task not in PIPELINE_MODALITIES:
            raise ValueError(
                f"LF {name!r}: unsupported pipeline task {pipeline_task!r}; use one of {sorted(PIPELINE_MODALITIES)}"
            )
        modality = PIPELINE_MODALITIES[pipeline_task]
        column = column or modality
        super().__init__(
            name, task=task, column=column, modality=modality, on_decode_error=on_decode_error, version=version
        )
        self.pipeline_task = pipeline_task
        self.model = os.fspath(model)
        self.revision = revision
        self.zero_shot = pipeline_task in _ZERO_SHOT
        if label_map is None:
            self.label_map: dict[str, int] | None = (
                {lab: i for i, lab in enumerate(task.labels)} if self.zero_shot else None
            )
        else:
            self.label_map = {
                str(k): (ABSTAIN if v is None else resolve_label(task, v, lf=name)) for k, v in label_map.items()
            }
            if not any(v != ABSTAIN for v in self.label_map.values()):
                raise ValueError(f"LF {name!r}: label_map sends no model label to a class of task {task.name!r}")
        if hypothesis_template is not None and not self.zero_shot:
            raise ValueError(f"LF {name!r}: hypothesis_template only applies to zero-shot pipelines")
        self.candidate_labels = list(self.label_map) if self.zero_shot and self.label_map is not None else None
        self.hypothesis_template = hypothesis_template
        self.min_score = float(min_score)
        self.batch_size = int(batch_size)
        self.device = device
        self.pipeline_kwargs = dict(pipeline_kwargs or {})
        self._checked = False

    # -- model ------------------------------------------------------------------------------------
    def _pipeline_key(self) -> tuple:
        return (
            "transformers.pipeline",
            self.pipeline_task,
            self.model,
            self.revision,
            str(self.device),
            stable_hash(self.pipeline_kwargs),
        )

    def pipeline(self) -> Any:
        """The loaded pipeline (once per process, shared by LFs with the same model and settings)."""
        return shared_resource(self._pipeline_key(), self._load)

    def _load(self) -> Any:
        from transformers import pipeline

        device = self.device if self.device is not None else default_device()
        try:
            # transformers' typed overloads name each task literally; ours is a checked str
            return pipeline(
                self.pipeline_task,
                model=self.model,
                revision=self.revision,  # type: ignore[call-overload]
                device=device,
                **self.pipeline_kwargs,
            )
        except Exception as exc:
            raise RuntimeError(
                f"LF {self.name!r}: could not load a {self.pipeline_task!r} pipeline from {self.model!r}: "
                f"{type(exc).__name__}: {exc}. Offline? Pass a local model folder."
            ) from exc

    def model_labels(self) -> list[str]:
        """The labels the loaded model can output (candidate labels for zero-shot pipelines)."""
        if self.zero_shot:
            return list(self.candidate_labels or [])
        id2label = getattr(self.pipeline().model.config, "id2label", None) or {}
        return [str(id2label[k]) for k in sorted(id2label)]

    def _mapping(self) -> dict[str, int]:
        if self.label_map is not None:
            mapping = self.label_map
        else:
            folded = {lab.casefold(): i for i, lab in enumerate(self.task.labels)}
            mapping = {m: folded[m.casefold()] for m in self.model_labels() if m.casefold() in folded}
        if not self._checked:
            known = self.model_labels()
            unknown = [k for k in mapping if k not in known]
            if not mapping or unknown:
                raise ValueError(
                    f"LF {self.name!r}: label_map {'keys ' + repr(unknown) + ' are' if unknown else 'is empty:'} "
                    f"not labels of model {self.model!r}; its labels are {known}"
                    f"{'' if self.label_map is not None else f' and none equals a class of task {self.task.name!r}'}"
                )
            self._checked = True
        return mapping

    # -- decoding ---------------------------------------------------------------------------------
    # Same decoders and memo keys as ImageLF / AudioLF: a column read by heuristics and by a pipeline is
    # decoded once per batch; conversion to the pipeline's input form happens in outputs().
    def decode_one(self, value: Any) -> Any:
        if self.modality == "text":
            if not isinstance(value, str):
                raise TypeError(f"expected a string, got {type(value).__name__}")
            return value
        if self.modality == "image":
            return load_image(value, self.limits)
        return decode_audio(value, self.limits)

    def decode_key(self) -> tuple:
        if self.modality == "image":
            return image_decode_key(self.limits)
        if self.modality == "audio":
            return audio_decode_key(self.limits)
        return ("text",)

    # -- scoring ----------------------------------------------------------------------------------
    def _call_kwargs(self) -> dict[str, Any]:
        if self.zero_shot:
            kw: dict[str, Any] = {"candidate_labels": list(self.candidate_labels or [])}
            if self.hypothesis_template is not None:
                kw["hypothesis_template"] = self.hypothesis_template
            return kw
        if self.pipeline_task in ("text-classification", "sentiment-analysis"):
            return {"top_k": None, "truncation": True}
        return {"top_k": max(1, len(self.model_labels()))}

    def outputs(self, items: Sequence[Any]) -> list[list[tuple[str, float]]]:
        """``(model label, score)`` pairs per decoded item, through the pipeline in ``batch_size`` batches."""
        if not items:
            return []
        kwargs = self._call_kwargs()
        raw = self.pipeline()([_pipeline_input(it) for it in items], batch_size=self.batch_size, **kwargs)
        if isinstance(raw, Mapping) or (
            len(items) == 1 and raw and isinstance(raw[0], Mapping) and "labels" not in raw[0]
        ):
            raw = [raw]
        return [_pairs(r) for r in raw]

    def scores(self, batch: Batch) -> dict[str, np.ndarray]:
        """Per row: ``pred`` (best class, -1 where the input did not decode) and its summed ``score``."""
        items = self.decoded(batch)
        good = [i for i, it in enumerate(items) if not isinstance(it, DecodeFailure)]
        key = ("pipeline-out", self._pipeline_key(), self.column, self.decode_key(), stable_hash(self._call_kwargs()))
        outs = memo(key, lambda: self.outputs([items[i] for i in good]))
        mapping = self._mapping()
        K = self.task.cardinality
        pred = np.full(len(items), ABSTAIN, np.int64)
        score = np.full(len(items), np.nan)
        for p, pairs in zip(good, outs):
            per_class = np.zeros(K)
            for label, s in pairs:
                c = mapping.get(label, ABSTAIN)
                if c != ABSTAIN:
                    per_class[c] += s
            pred[p] = int(per_class.argmax())
            score[p] = float(per_class.max())
        return {"pred": pred, "score": score}

    def label_decoded(self, items: list[Any], batch: Batch, positions: list[int]) -> list[int]:
        s = self.scores(batch)
        return [int(s["pred"][p]) if s["score"][p] >= self.min_score else ABSTAIN for p in positions]

    def calibrated(
        self,
        dev: Any,
        *,
        gold: str = "label",
        target_precision: float | None = None,
        target_coverage: float | None = None,
        min_votes: int = 1,
        batch_size: int = 64,
    ) -> "PipelineLF":
        """A copy whose ``min_score`` is chosen on labelled ``dev`` rows
        (see :func:`~lf_library.calibrate.calibrate_lf`)."""
        return calibrate_lf(
            self,
            "min_score",
            dev,
            gold=gold,
            target_precision=target_precision,
            target_coverage=target_coverage,
            min_votes=min_votes,
            batch_size=batch_size,
        )

    def config(self) -> dict[str, Any]:
        return {
            **super().config(),
            "pipeline_task": self.pipeline_task,
            "model": model_identity(self.model, self.revision),
            "label_map": self.label_map,
            "min_score": self.min_score,
            "hypothesis_template": self.hypothesis_template,
            "pipeline_kwargs": {k: repr(v) for k, v in sorted(self.pipeline_kwargs.items())},
        }

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "_checked": False}


def _pairs(out: Any) -> list[tuple[str, float]]:
    if isinstance(out, Mapping) and "labels" in out:  # zero-shot-classification
        return [(str(lab), float(s)) for lab, s in zip(out["labels"], out["scores"])]
    if isinstance(out, Mapping):
        return [(str(out["label"]), float(out["score"]))]
    return [(str(d["label"]), float(d["score"])) for d in out]
