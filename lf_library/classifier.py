"""Pretrained classifiers as LFs: the model's labels mapped to the task's classes, abstain under thresholds.

* :class:`Classifier` — what any classifier provides: its labels (:class:`~lf_library.label_mapping.ModelLabel`),
  whether they are exclusive (softmax) or not (sigmoid, as AudioSet's), an identity for caches, and
  ``predict(items) -> (n, labels)`` probabilities for decoded images or 16 kHz clips. The model loads lazily,
  once per worker process (:func:`lf_library.media.shared_resource`). Ready-made ones:
  :func:`lf_library.image.efficientnet_lite0` (ImageNet), :class:`lf_library.audio.Yamnet` (AudioSet); any
  torchvision/timm module or ONNX file through :class:`lf_library.image.ImageClassifier`.
* :class:`lf_library.image.ImageClassifierLF` and :class:`lf_library.audio.AudioClassifierLF` (through
  :class:`ClassifierVotes`) — a class's score is the summed probability of the
  model labels mapped to it (the largest one for sigmoid outputs); the LF votes the best class when its
  score reaches ``min_score`` and beats the runner-up by ``min_margin``, optionally votes ``otherwise`` when
  no class reaches ``otherwise_below``, and abstains in between. ``calibrated(dev, target_precision=...)``
  picks ``min_score`` on a few labelled rows.

Every LF on the same column and model shares one forward pass per batch (and the decoded media with all
other image/audio LFs), however many tasks or mappings use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Sequence

import numpy as np

from lf_library.calibrate import calibrate_threshold, calibrated_copy, dev_scores, gold_labels
from lf_library.embed_cache import batch_embeddings, content_key
from lf_library.label_mapping import LabelMapping, ModelLabel, build_mapping
from lf_library.labels import resolve_label
from lf_library.media import DecodeFailure, MediaLF, shared_resource
from mmweak.fingerprint import stable_hash
from mmweak.lf import ABSTAIN, Batch
from mmweak.task import Task

__all__ = ["Classifier", "ClassifierVotes"]


class Classifier:
    """Base class of pretrained classifiers used by :class:`ImageClassifierLF` / :class:`AudioClassifierLF`.

    Subclasses set ``modality`` (``"image"`` or ``"audio"``), ``multi_label`` and, for audio, ``sample_rate``,
    and implement :meth:`labels`, :meth:`identity` and :meth:`predict`.

    >>> class Brightness(Classifier):
    ...     modality = "image"
    ...     def labels(self):
    ...         return [ModelLabel("dark"), ModelLabel("bright")]
    ...     def identity(self):
    ...         return {"kind": "brightness"}
    ...     def predict(self, images):
    ...         p = np.array([[np.asarray(im.convert("L")).mean() / 255] for im in images])
    ...         return np.hstack([1 - p, p])
    >>> from PIL import Image
    >>> Brightness().predict([Image.new("L", (4, 4), 255)]).tolist()
    [[0.0, 1.0]]
    """

    modality: ClassVar[str] = "image"
    multi_label: bool = False  # a class default that an instance may override (ImageClassifier does)
    sample_rate: ClassVar[int | None] = None

    def labels(self) -> list[ModelLabel]:
        """The model's output labels, in output order."""
        raise NotImplementedError

    def identity(self) -> dict[str, Any]:
        """What the outputs depend on (weights by content, preprocessing, runtime precision)."""
        raise NotImplementedError

    def fingerprint(self) -> str:
        """Short hash of :meth:`identity`."""
        fp = self.__dict__.get("_fp")
        if fp is None:
            fp = self.__dict__["_fp"] = stable_hash("classifier", type(self).__qualname__, self.identity())
        return fp

    def predict(self, items: Sequence[Any]) -> np.ndarray:
        """``(len(items), len(labels()))`` float32 probabilities for decoded items."""
        raise NotImplementedError

    #: Root of the persistent store of this classifier's outputs: ``None`` = ``$MMWEAK_CACHE/embeddings``,
    #: ``False`` = keep outputs for the current batch only (set it on the instance).
    output_cache: Any = None

    def store(self) -> Any:
        """The persistent store of outputs, keyed by the content of each decoded item (pixels, samples)."""
        from lf_library.embed_cache import EmbeddingStore

        st = self.__dict__.get("_store")
        if st is None:
            root = None if self.output_cache in (None, True, False) else self.output_cache
            st = self.__dict__["_store"] = EmbeddingStore(f"classifier-{self.fingerprint()}", root,
                                                          persist=self.output_cache is not False)
        return st

    def shared(self, load: Any, *where: Any) -> Any:
        """``load()`` once per process for this classifier's identity and ``where`` (runtime, device)."""
        return shared_resource(("classifier", self.fingerprint(), *where), load)


if TYPE_CHECKING:
    # What the checker sees: the media base class that follows the mixin in the MRO (name, task, column,
    # decoded, decode_key, code_identity...). At run time the mixin stays a plain class.
    _MediaBase = MediaLF
else:
    _MediaBase = object


class ClassifierVotes(_MediaBase):
    """Mixin of :class:`lf_library.image.ImageClassifierLF` and :class:`lf_library.audio.AudioClassifierLF`:
    the label mapping, class scores from the model, votes and calibration. It sits before the media base
    class, which supplies ``decoded``, ``column`` and ``decode_key``.

    >>> from lf_library.image import ImageClassifierLF
    >>> ImageClassifierLF.__mro__[1] is ClassifierVotes
    True
    """

    _lazy_attrs: ClassVar[tuple[str, ...]] = ("_mapping",)

    def _setup(
        self,
        name: str,
        task: Task,
        classifier: Classifier,
        classes: Sequence[str] | Mapping[str, Sequence[str]] | None,
        explicit: Mapping[str, str | None] | None,
        exclude: Sequence[str],
        hierarchy: Any,
        encoder: Any,
        min_similarity: float,
        min_margin_words: float,
        min_score: float,
        min_margin: float,
        otherwise: int | str | None,
        otherwise_below: float | None,
    ) -> None:
        if not isinstance(classifier, Classifier):
            raise TypeError(f"LF {name!r}: classifier must be a lf_library.classifier.Classifier, got {classifier!r}")
        if classes is None:
            classes = {c: [] for c in task.labels}
        elif not isinstance(classes, Mapping):
            classes = {c: [] for c in classes}
        self.classes = {}
        for c, syn in classes.items():
            idx = resolve_label(task, c, lf=name)
            self.classes[task.labels[idx]] = [syn] if isinstance(syn, str) else [str(s) for s in syn]
        if not self.classes:
            raise ValueError(f"LF {name!r}: name at least one class for the model's labels to map to")
        self.classifier = classifier
        self.explicit = {
            str(k): (None if v is None else task.labels[resolve_label(task, v, lf=name)])
            for k, v in (explicit or {}).items()
        }
        self.exclude = [str(x) for x in exclude]
        if hierarchy not in (None, "wordnet") and not hasattr(hierarchy, "ancestors"):
            raise ValueError(f"LF {name!r}: hierarchy must be 'wordnet', None or a WordNet, got {hierarchy!r}")
        self.hierarchy = hierarchy
        self.encoder = encoder
        self.min_similarity = float(min_similarity)
        self.min_margin_words = float(min_margin_words)
        self.min_score = float(min_score)
        self.min_margin = float(min_margin)
        self.otherwise = None if otherwise is None else resolve_label(task, otherwise, lf=name)
        if (otherwise is None) != (otherwise_below is None):
            raise ValueError(f"LF {name!r}: otherwise= and otherwise_below= go together")
        self.otherwise_below = None if otherwise_below is None else float(otherwise_below)
        if self.otherwise_below is not None and self.otherwise_below > self.min_score:
            raise ValueError(
                f"LF {name!r}: otherwise_below ({otherwise_below}) must not exceed min_score ({min_score})"
            )
        self._mapping: LabelMapping | None = None

    # -- mapping ----------------------------------------------------------------------------------
    def _mapping_config(self) -> dict[str, Any]:
        enc = self.encoder
        return {
            "classes": self.classes,
            "explicit": self.explicit,
            "exclude": self.exclude,
            "hierarchy": (
                self.hierarchy
                if self.hierarchy in (None, "wordnet")
                else self.hierarchy.fingerprint()
                if hasattr(self.hierarchy, "fingerprint")
                else repr(self.hierarchy)
            ),
            "encoder": False if enc is False else ("default-minilm" if enc is None else enc.fingerprint()),
            "min_similarity": self.min_similarity,
            "min_margin": self.min_margin_words,
            "labels": stable_hash([(lab.name, lab.phrases, lab.synset) for lab in self.classifier.labels()]),
        }

    def mapping(self) -> LabelMapping:
        """The model label -> class mapping (built on first use, once per process and configuration)."""
        if self._mapping is None:

            def build() -> LabelMapping:
                hierarchy = self.hierarchy
                if hierarchy == "wordnet":
                    from lf_library.wordnet import WordNet

                    hierarchy = WordNet.default()
                return build_mapping(
                    self.classifier.labels(),
                    list(self.classes),
                    synonyms=self.classes,
                    explicit=self.explicit,
                    exclude=self.exclude,
                    hierarchy=hierarchy,
                    encoder=self.encoder,
                    min_similarity=self.min_similarity,
                    min_margin=self.min_margin_words,
                )

            self._mapping = shared_resource(("label-mapping", stable_hash(self._mapping_config())), build)
            if not self._mapping.matrix().any():
                raise ValueError(
                    f"LF {self.name!r}: none of the model's labels maps to the classes {list(self.classes)}; "
                    f"add synonyms (classes={{'cat': ['kitten', 'feline']}}) or explicit= label names"
                )
        return self._mapping

    # -- scoring ----------------------------------------------------------------------------------
    def probabilities(self, batch: Batch) -> tuple[list[int], np.ndarray]:
        """Rows that decoded and the model's probabilities for them (one forward pass per batch and model)."""
        items = self.decoded(batch)
        good = [i for i, it in enumerate(items) if not isinstance(it, DecodeFailure)]
        if not good:
            return good, np.zeros((0, len(self.classifier.labels())), np.float32)
        # Outputs are stored by content like embeddings: a re-run, a calibration pass or another LF on the
        # same model never runs the model twice on the same pixels or samples.
        key = ("classifier-probs", self.column, self.decode_key(), getattr(self, "sample_rate", None))
        probs = batch_embeddings(
            key,
            self.classifier.store(),
            [items[i] for i in good],
            lambda xs: np.asarray(self.classifier.predict(xs), np.float32),
            key_fn=_item_key,
        )
        return good, probs

    def class_scores(self, probs: np.ndarray) -> np.ndarray:
        """``(rows, task classes)`` scores: summed (exclusive labels) or largest (multi-label) mapped probability."""
        m = self.mapping()
        M = m.matrix()
        K = self.task.cardinality
        out = np.zeros((len(probs), K), np.float32)
        for j, cls in enumerate(m.classes):
            idx = self.task.labels.index(cls)
            cols = np.flatnonzero(M[:, j])
            if cols.size:
                sub = probs[:, cols]
                out[:, idx] = sub.max(axis=1) if self.classifier.multi_label else sub.sum(axis=1)
        return out

    def scores(self, batch: Batch) -> dict[str, np.ndarray]:
        """Per row: ``pred`` (best mapped class, -1 where the input did not decode), its ``score`` and the
        ``margin`` over the runner-up mapped class."""
        n = len(batch[self.column])
        pred = np.full(n, ABSTAIN, np.int64)
        score = np.full(n, np.nan)
        margin = np.full(n, np.nan)
        good, probs = self.probabilities(batch)
        if good:
            s = self.class_scores(probs)
            listed = np.array([self.task.labels.index(c) for c in self.classes])
            sub = s[:, listed]
            order = np.argsort(-sub, axis=1, kind="stable")
            top = sub[np.arange(len(sub)), order[:, 0]]
            second = sub[np.arange(len(sub)), order[:, 1]] if sub.shape[1] > 1 else np.zeros(len(sub))
            pred[good], score[good], margin[good] = listed[order[:, 0]], top, top - second
        return {"pred": pred, "score": score, "margin": margin}

    def label_decoded(self, items: list[Any], batch: Batch, positions: list[int]) -> list[int]:
        s = self.scores(batch)
        out = []
        for p in positions:
            if s["score"][p] >= self.min_score and s["margin"][p] >= self.min_margin:
                out.append(int(s["pred"][p]))
            elif self.otherwise is not None and s["score"][p] < self.otherwise_below:
                out.append(self.otherwise)
            else:
                out.append(ABSTAIN)
        return out

    def calibrated(
        self,
        dev: Any,
        *,
        gold: str = "label",
        target_precision: float | None = None,
        target_coverage: float | None = None,
        min_votes: int = 1,
        batch_size: int = 64,
    ) -> Any:
        """A copy whose ``min_score`` is chosen on labelled ``dev`` rows (a ``Dataset`` or dict of lists with
        this LF's column and a ``gold`` column of class indices) for the target precision or coverage.

        Only the class votes are calibrated; ``otherwise`` keeps its threshold.
        """
        s = dev_scores(self, dev, batch_size=batch_size)
        predicted = np.where(s["margin"] >= self.min_margin, s["pred"], ABSTAIN)
        cal = calibrate_threshold(
            s["score"],
            predicted,
            gold_labels(dev, gold, self.task),
            target_precision=target_precision,
            target_coverage=target_coverage,
            min_votes=min_votes,
        )
        new = calibrated_copy(self, "min_score", cal)
        if new.otherwise_below is not None and new.otherwise_below > new.min_score:
            new.otherwise_below = new.min_score
        return new

    def code_identity(self) -> Any:
        # The mapping rules and the model wrapper's code decide the votes too.
        return [super().code_identity(), _module_digests("lf_library.label_mapping", type(self.classifier).__module__)]

    def _votes_config(self) -> dict[str, Any]:
        return {
            "classifier": self.classifier.fingerprint(),
            "mapping": self._mapping_config(),
            "min_score": self.min_score,
            "min_margin": self.min_margin,
            "otherwise": self.otherwise,
            "otherwise_below": self.otherwise_below,
        }


def _module_digests(*modules: str) -> str:
    import hashlib
    import inspect
    import sys

    h = hashlib.sha256()
    for name in modules:
        try:
            h.update(inspect.getsource(sys.modules[name]).encode())
        except (KeyError, OSError, TypeError):  # a classifier defined interactively: its identity() must do
            h.update(name.encode())
    return h.hexdigest()[:16]


def _item_key(item: Any) -> str:
    """Content key of a decoded image (pixels) or clip (samples and rate)."""
    samples = getattr(item, "samples", None)
    if samples is not None:
        return content_key(samples) + f"@{item.sample_rate}"
    return content_key(item)
