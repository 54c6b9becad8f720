"""CLIP labeling functions (open_clip): zero-shot classes and image–text alignment, one forward pass per image.

* :class:`ClipModel` (:mod:`lf_library.image.clip_model`, re-exported here) names the weights and
  loads them once per worker process;
* :class:`ClipZeroShotLF` votes the best class when its probability and margin pass thresholds;
* :class:`ClipAlignmentLF` votes on the cosine similarity between the image and a fixed prompt or a
  caption column (the LAION-style "does the caption match the image" filter).

Image embeddings are shared by every CLIP LF on the same (weights, column) within a batch and persist
across batches, runs and edited LFs (:class:`ClipModel`). Ten CLIP LFs cost one image-encoder
pass per image, and re-running with a new threshold costs none. Prompt embeddings are computed once
per LF and process (and stored too).

Both LFs calibrate their threshold on a labelled dev set with ``calibrated(dev, target_precision=...)``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from lf_library.calibrate import Calibration, calibrate_threshold, calibrated_copy, dev_scores, gold_labels
from lf_library.labels import resolve_label
from lf_library.media import DecodeFailure, OnDecodeError
from mmweak.lf import ABSTAIN, Batch
from mmweak.task import Task

from .clip_model import ClipModel
from .decode import ImageLF

__all__ = ["DEFAULT_TEMPLATES", "ClipAlignmentLF", "ClipModel", "ClipZeroShotLF"]

#: Prompt templates averaged per class (a few of the CLIP paper's ImageNet templates).
DEFAULT_TEMPLATES = (
    "a photo of a {}.",
    "a blurry photo of a {}.",
    "a close-up photo of a {}.",
    "a good photo of a {}.",
    "a low resolution photo of a {}.",
    "a cropped photo of a {}.",
)


def _as_clip(clip: ClipModel | str, name: str) -> ClipModel:
    if isinstance(clip, ClipModel):
        return clip
    if isinstance(clip, str) and clip.startswith(("local-dir:", "hf-hub:")):
        return ClipModel(clip)
    raise TypeError(f"LF {name!r}: clip must be a ClipModel or a 'local-dir:'/'hf-hub:' string, got {clip!r}")


class _ClipLF(ImageLF):
    """What both CLIP LFs share: the model, batch embeddings and dev-set calibration."""

    calibration: Calibration  # set on the copies calibrated() returns

    def __init__(self, name: str, *, task: Task, clip: ClipModel | str, column: str,
                 on_decode_error: OnDecodeError, extra_inputs: Sequence[str] = (), version: str = "1") -> None:
        super().__init__(name, task=task, column=column, on_decode_error=on_decode_error,
                         extra_inputs=extra_inputs, version=version)
        self.clip = _as_clip(clip, name)

    def embeddings(self, images: Sequence[Any]) -> np.ndarray:
        """Image embeddings of this batch's decoded ``images`` (shared with all CLIP LFs on the column)."""
        return self.clip.image_embeddings(images, (self.column, self.decode_key()))

    def _scored(self, batch: Batch) -> tuple[list[int], np.ndarray]:
        """Positions of the rows that decoded and their embeddings."""
        items = self.decoded(batch)
        good = [i for i, it in enumerate(items) if not isinstance(it, DecodeFailure)]
        emb = self.embeddings([items[i] for i in good]) if good else np.zeros((0, 0), np.float32)
        return good, emb

    def config(self) -> dict[str, Any]:
        return {**super().config(), "clip": self.clip.fingerprint()}

    def scores(self, batch: Batch) -> dict[str, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError


class ClipZeroShotLF(_ClipLF):
    """Zero-shot CLIP classifier as an LF: votes the top class if its probability >= ``min_prob`` and it
    beats the runner-up by >= ``min_margin``, else abstains.

    Each class is described by one or more phrases (default: its class name), each phrase expanded
    with every template; the class embedding is the normalised mean of its prompt embeddings.
    Probabilities are a softmax over the listed classes at the model's temperature (``logit_scale``
    overrides it). Listing only some of the task's classes is allowed (at least two).

    >>> import mmweak
    >>> animals = mmweak.Task("animal", ["cat", "dog", "bird"])
    >>> clip = ClipModel("ViT-B-32", "random", device="cpu")
    >>> lf = ClipZeroShotLF("clip_pets", task=animals, clip=clip, classes={"cat": "tabby cat", "dog": ["puppy", "dog"]},
    ...                     templates=["a photo of a {}."], min_prob=0.6)
    >>> lf.prompts()
    {0: ['a photo of a tabby cat.'], 1: ['a photo of a puppy.', 'a photo of a dog.']}
    """

    _lazy_attrs: ClassVar[tuple[str, ...]] = ("_class_emb",)

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        clip: ClipModel | str,
        column: str = "image",
        classes: Mapping[int | str, str | Sequence[str]] | None = None,
        templates: Sequence[str] = DEFAULT_TEMPLATES,
        min_prob: float = 0.5,
        min_margin: float = 0.0,
        logit_scale: float | None = None,
        on_decode_error: OnDecodeError = "abstain",
        version: str = "1",
    ) -> None:
        super().__init__(name, task=task, clip=clip, column=column, on_decode_error=on_decode_error, version=version)
        if classes is None:
            classes = {label: label for label in task.labels}
        self.classes: dict[int, list[str]] = {}
        for label, phrases in classes.items():
            idx = resolve_label(task, label, lf=name)
            phrases = [phrases] if isinstance(phrases, str) else [str(p) for p in phrases]
            if not phrases:
                raise ValueError(f"LF {name!r}: class {label!r} has no description")
            self.classes[idx] = phrases
        if len(self.classes) < 2:
            raise ValueError(
                f"LF {name!r}: zero-shot needs at least two classes to compare; for one prompt use ClipAlignmentLF"
            )
        templates = list(templates) or ["{}"]
        if any("{}" not in t for t in templates):
            raise ValueError(f"LF {name!r}: every template needs a '{{}}' placeholder, got {templates}")
        self.templates = templates
        self.min_prob = float(min_prob)
        self.min_margin = float(min_margin)
        self.logit_scale = None if logit_scale is None else float(logit_scale)
        self._class_emb: np.ndarray | None = None

    def prompts(self) -> dict[int, list[str]]:
        """The prompts of each class (class index -> texts)."""
        return {c: [t.format(p) for p in phrases for t in self.templates] for c, phrases in self.classes.items()}

    def class_embeddings(self) -> np.ndarray:
        """``(classes, dim)`` normalised mean prompt embeddings; computed once per LF and process."""
        if self._class_emb is None:
            groups = list(self.prompts().values())
            emb = self.clip.text_embeddings([t for texts in groups for t in texts])  # one pass for all classes
            rows, start = [], 0
            for texts in groups:
                mean = emb[start: start + len(texts)].mean(axis=0)
                rows.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
                start += len(texts)
            self._class_emb = np.stack(rows).astype(np.float32)
        return self._class_emb

    def probabilities(self, emb: np.ndarray) -> np.ndarray:
        """Softmax over the listed classes (columns in ``self.classes`` order) for image embeddings."""
        scale = self.logit_scale if self.logit_scale is not None else self.clip.logit_scale
        logits = scale * (emb @ self.class_embeddings().T)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def scores(self, batch: Batch) -> dict[str, np.ndarray]:
        """Per row: ``pred`` (top class index, -1 where the image did not decode), ``prob``, ``margin``."""
        n = len(batch[self.column])
        pred = np.full(n, ABSTAIN, np.int64)
        prob = np.full(n, np.nan)
        margin = np.full(n, np.nan)
        good, emb = self._scored(batch)
        if good:
            p = self.probabilities(emb)
            order = np.argsort(-p, axis=1)
            top = p[np.arange(len(p)), order[:, 0]]
            second = p[np.arange(len(p)), order[:, 1]]
            cls = np.array(list(self.classes), dtype=np.int64)
            pred[good], prob[good], margin[good] = cls[order[:, 0]], top, top - second
        return {"pred": pred, "prob": prob, "margin": margin}

    def label_decoded(self, items: list[Any], batch: Batch, positions: list[int]) -> list[int]:
        s = self.scores(batch)
        ok = (s["prob"] >= self.min_prob) & (s["margin"] >= self.min_margin)
        return [int(s["pred"][p]) if ok[p] else ABSTAIN for p in positions]

    def calibrated(
        self, dev: Any, *, gold: str = "label", target_precision: float | None = None,
        target_coverage: float | None = None, threshold: str = "min_prob", min_votes: int = 1, batch_size: int = 64,
    ) -> "ClipZeroShotLF":
        """A copy with ``threshold`` (``"min_prob"`` or ``"min_margin"``) chosen on labelled ``dev`` rows.

        ``dev`` is a ``Dataset`` (or dict of lists) with this LF's image column and a ``gold`` column
        of class indices (-1 = unlabelled). The other threshold stays as it is. The returned LF has
        ``calibration`` (a :class:`~lf_library.image.Calibration`) set.
        """
        if threshold not in ("min_prob", "min_margin"):
            raise ValueError(f"LF {self.name!r}: threshold must be 'min_prob' or 'min_margin', got {threshold!r}")
        s = dev_scores(self, dev, batch_size=batch_size)
        other_ok = s["margin"] >= self.min_margin if threshold == "min_prob" else s["prob"] >= self.min_prob
        score = s["prob"] if threshold == "min_prob" else s["margin"]
        predicted = np.where(other_ok, s["pred"], ABSTAIN)
        cal = calibrate_threshold(score, predicted, gold_labels(dev, gold, self.task),
                                  target_precision=target_precision, target_coverage=target_coverage,
                                  min_votes=min_votes)
        return calibrated_copy(self, threshold, cal)

    def config(self) -> dict[str, Any]:
        return {
            **super().config(), "prompts": {str(c): t for c, t in self.prompts().items()},
            "min_prob": self.min_prob, "min_margin": self.min_margin, "logit_scale": self.logit_scale,
        }


class ClipAlignmentLF(_ClipLF):
    """Votes on the cosine similarity between each image and a fixed ``text`` or the row's ``text_column``.

    Votes ``label_above`` when the similarity is >= ``above`` and ``label_below`` when it is < ``below``
    (give either or both; in between it abstains). The LAION-5B filter, for example, dropped pairs
    whose ViT-B/32 image–caption similarity was under 0.28. Rows whose caption is not a string abstain
    and count as faults.

    >>> import mmweak
    >>> pairs = mmweak.Task("pair", ["mismatch", "match"])
    >>> clip = ClipModel("ViT-B-32", "random", device="cpu")
    >>> lf = ClipAlignmentLF("caption_fits", task=pairs, clip=clip, text_column="caption", below=0.28,
    ...                      label_below="mismatch")
    >>> lf.inputs
    ('image', 'caption')
    """

    _lazy_attrs: ClassVar[tuple[str, ...]] = ("_text_emb",)

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        clip: ClipModel | str,
        column: str = "image",
        text: str | None = None,
        text_column: str | None = None,
        above: float | None = None,
        label_above: int | str | None = None,
        below: float | None = None,
        label_below: int | str | None = None,
        on_decode_error: OnDecodeError = "abstain",
        version: str = "1",
    ) -> None:
        if (text is None) == (text_column is None):
            raise ValueError(f"LF {name!r}: give exactly one of text= (a fixed prompt) and text_column=")
        super().__init__(name, task=task, clip=clip, column=column, on_decode_error=on_decode_error,
                         extra_inputs=[text_column] if text_column else [], version=version)
        if (above is None) != (label_above is None) or (below is None) != (label_below is None):
            raise ValueError(f"LF {name!r}: each threshold needs its label (above/label_above, below/label_below)")
        if above is None and below is None:
            raise ValueError(f"LF {name!r}: give above= and/or below= similarity thresholds")
        if above is not None and below is not None and below > above:
            raise ValueError(f"LF {name!r}: below ({below}) must not exceed above ({above})")
        self.text = text
        self.text_column = text_column
        self.above = None if above is None else float(above)
        self.below = None if below is None else float(below)
        self.label_above = None if label_above is None else resolve_label(task, label_above, lf=name)
        self.label_below = None if label_below is None else resolve_label(task, label_below, lf=name)
        self._text_emb: np.ndarray | None = None

    def scores(self, batch: Batch) -> dict[str, np.ndarray]:
        """Per row: ``similarity`` (NaN where the image did not decode or the caption is missing)."""
        from mmweak.batch_memo import note_faults

        n = len(batch[self.column])
        sim = np.full(n, np.nan)
        good, emb = self._scored(batch)
        if not good:
            return {"similarity": sim}
        if self.text is not None:
            if self._text_emb is None:
                self._text_emb = self.clip.text_embeddings([self.text])[0]
            sim[good] = emb @ self._text_emb
            return {"similarity": sim}
        assert self.text_column is not None  # a fixed text or a text column, checked in __init__
        captions = batch[self.text_column]
        texts = [c for c in captions if isinstance(c, str)]
        where: dict[int, int] = {}
        for i, c in enumerate(captions):
            if isinstance(c, str):
                where[i] = len(where)
        temb = self.clip.text_embeddings(texts, key=(self.text_column,)) if texts else np.empty((0, 0))
        missing = []
        for j, p in enumerate(good):
            if p in where:
                sim[p] = float(emb[j] @ temb[where[p]])
            else:
                missing.append(p)
        note_faults(missing)
        return {"similarity": sim}

    def label_decoded(self, items: list[Any], batch: Batch, positions: list[int]) -> list[int]:
        sim = self.scores(batch)["similarity"]
        out: list[int] = []
        for p in positions:
            s = sim[p]
            if self.above is not None and s >= self.above and self.label_above is not None:
                out.append(self.label_above)
            elif self.below is not None and s < self.below and self.label_below is not None:
                out.append(self.label_below)
            else:
                out.append(ABSTAIN)
        return out

    def calibrated(
        self, dev: Any, *, gold: str = "label", target_precision: float | None = None,
        target_coverage: float | None = None, side: str | None = None, min_votes: int = 1, batch_size: int = 64,
    ) -> "ClipAlignmentLF":
        """A copy with the ``above`` or ``below`` threshold (``side``; default: the only one set) chosen on
        labelled ``dev`` rows for the target; the other threshold is kept."""
        if side is None:
            if (self.above is None) == (self.below is None):
                raise ValueError(f"LF {self.name!r}: both thresholds are set; pass side='above' or side='below'")
            side = "above" if self.above is not None else "below"
        if side not in ("above", "below") or getattr(self, side) is None:
            raise ValueError(
                f"LF {self.name!r}: side must name a threshold this LF has ('above'/'below'), got {side!r}")
        sim = dev_scores(self, dev, batch_size=batch_size)["similarity"]
        label = self.label_above if side == "above" else self.label_below
        assert label is not None  # a threshold is only set together with its label (__init__)
        cal = calibrate_threshold(
            sim if side == "above" else -sim,
            label,
            gold_labels(dev, gold, self.task),
            target_precision=target_precision,
            target_coverage=target_coverage,
            min_votes=min_votes,
        )
        if side == "below":  # scores were negated: vote when -sim >= t, i.e. sim <= -t
            cal = dataclasses.replace(cal, threshold=-cal.threshold)
        return calibrated_copy(self, side, cal)

    def config(self) -> dict[str, Any]:
        return {
            **super().config(),
            "text": self.text,
            "text_column": self.text_column,
            "above": self.above,
            "label_above": self.label_above,
            "below": self.below,
            "label_below": self.label_below,
        }
