"""CLIP weights and how they run (open_clip): loading once per process, devices and precision, and
image / text embeddings through the persistent embedding store.

:class:`ClipModel` names the weights (an open_clip pretrained tag, a local weights file, a
``local-dir:`` folder, or ``"random"`` for tests) and loads them lazily, once per worker process,
shared by every LF that uses the same weights; CUDA + fp16 when a GPU is there, CPU + fp32 otherwise.
Image embeddings go through :mod:`lf_library.embed_cache`: within an ``apply_lfs`` batch every CLIP LF
on the same (weights, column) reads one shared array, and across batches, runs and edited LFs the
vectors come from a persistent store keyed by the image pixels. The LFs built on it are in
:mod:`lf_library.image.clip`.

>>> ClipModel("ViT-B-32", "random", device="cpu").precision
'fp32'
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Sequence

import numpy as np

from lf_library.device import default_device
from lf_library.embed_cache import EmbeddingStore, batch_embeddings, content_key
from lf_library.identity import files_digest
from lf_library.media import shared_resource
from mmweak.fingerprint import stable_hash

__all__ = ["ClipModel"]


@dataclasses.dataclass
class _ClipRuntime:
    model: Any
    preprocess: Any
    tokenizer: Any
    device: str
    dtype: Any
    logit_scale: float


class ClipModel:
    """Which CLIP weights to use and how to run them; the model itself loads on first use.

    Args:
        model: an open_clip architecture (``"ViT-B-32"``, or a custom one registered with
            ``open_clip.add_model_config``), ``"local-dir:/path"`` (``open_clip_config.json`` + weights)
            or ``"hf-hub:org/repo"``.
        pretrained: an open_clip pretrained tag (downloads once when online), a local weights file, or
            ``"random"`` for random weights seeded with ``seed`` (tests, speed benchmarks). Leave it
            ``None`` with ``local-dir:`` / ``hf-hub:`` models.
        device: ``"cuda"``/``"cpu"``/...; default CUDA when available.
        precision: open_clip precision; default ``"fp16"`` on CUDA, ``"fp32"`` on CPU.
        batch_size: images (or texts) per forward pass.
        embed_cache: root folder of the persistent embedding store, ``None`` for the default
            (``$MMWEAK_CACHE/embeddings``), or ``False`` to keep embeddings only for the current batch.

    The weights' identity (tag, or a content hash of the file/folder, plus the model config and
    precision) is the :meth:`fingerprint` that LF caches and embedding stores are keyed by.

    >>> clip = ClipModel("ViT-B-32", "random", device="cpu")
    >>> clip.precision, clip.batch_size
    ('fp32', 64)
    >>> ClipModel("ViT-B-32")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ClipModel('ViT-B-32'): pass pretrained= (an open_clip tag such as 'openai', ...), or use ... model
    """

    def __init__(
        self,
        model: str = "ViT-B-32",
        pretrained: str | os.PathLike | None = None,
        *,
        device: str | None = None,
        precision: str | None = None,
        batch_size: int = 64,
        embed_cache: str | os.PathLike | None | bool = None,
        seed: int = 0,
    ) -> None:
        schema = model.split(":", 1)[0] if model.startswith(("local-dir:", "hf-hub:")) else None
        if schema and pretrained is not None:
            raise ValueError(f"ClipModel({model!r}): a {schema}: model brings its own weights; leave pretrained=None")
        if not schema and pretrained is None:
            raise ValueError(
                f"ClipModel({model!r}): pass pretrained= (an open_clip tag such as 'openai', a weights file, "
                f"or 'random'), or use a 'local-dir:' model"
            )
        if schema == "local-dir" and not os.path.isdir(model.split(":", 1)[1]):
            raise FileNotFoundError(f"ClipModel: no folder at {model.split(':', 1)[1]!r} (from {model!r})")
        if batch_size < 1:
            raise ValueError(f"ClipModel: batch_size must be >= 1, got {batch_size}")
        self.model_name = model
        self.pretrained = None if pretrained is None else os.fspath(pretrained)
        self.device = device or default_device()
        self.precision = precision or ("fp16" if self.device.startswith("cuda") else "fp32")
        self.batch_size = int(batch_size)
        self.embed_cache = embed_cache
        self.seed = int(seed)
        self._fp: str | None = None
        self._stores: dict[str, EmbeddingStore] = {}

    # -- identity ---------------------------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        """What the embeddings depend on: weights (by content for local files), config and precision."""
        if self.model_name.startswith("local-dir:"):
            ident: dict[str, Any] = {"local_dir": files_digest(self.model_name.split(":", 1)[1])}
        elif self.model_name.startswith("hf-hub:"):
            ident = {"hf_hub": self.model_name.split(":", 1)[1]}
        else:
            import open_clip

            config = open_clip.get_model_config(self.model_name.replace("/", "-"))
            if config is None:
                raise ValueError(
                    f"ClipModel: unknown open_clip architecture {self.model_name!r}; register a custom one with "
                    f"open_clip.add_model_config(path)"
                )
            ident = {"arch": self.model_name, "config": config}
            if self.pretrained == "random":
                ident["random_seed"] = self.seed
            elif isinstance(self.pretrained, str) and os.path.isfile(self.pretrained):
                ident["weights"] = files_digest(self.pretrained)
            else:
                ident["tag"] = self.pretrained
        return {**ident, "precision": self.precision}

    def fingerprint(self) -> str:
        """Short hash of :meth:`identity` (computed once)."""
        if self._fp is None:
            self._fp = stable_hash("clip", self.identity())
        return self._fp

    # -- loading ----------------------------------------------------------------------------------
    def load(self) -> _ClipRuntime:
        """The loaded model, preprocess and tokenizer; loaded once per process and shared by equal specs."""
        return shared_resource(("open_clip", self.fingerprint(), self.device), self._load)

    def _load(self) -> _ClipRuntime:
        import open_clip
        import torch

        pretrained = None if self.pretrained in (None, "random") else self.pretrained
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)  # random weights must agree across workers and runs
                model, _, preprocess = open_clip.create_model_and_transforms(
                    self.model_name,
                    pretrained=pretrained,
                    device=self.device,
                    precision=self.precision,
                    **({"pretrained_text": False} if self.pretrained == "random" else {}),
                )
        except Exception as exc:
            raise RuntimeError(
                f"could not load CLIP model {self.model_name!r} (pretrained={self.pretrained!r}): "
                f"{type(exc).__name__}: {exc}. Offline? Use a local weights file or a 'local-dir:' folder."
            ) from exc
        model.eval()
        tokenizer = open_clip.get_tokenizer(self.model_name)
        dtype = next(model.parameters()).dtype
        scale = float(model.logit_scale.exp().item()) if hasattr(model, "logit_scale") else 100.0
        return _ClipRuntime(model, preprocess, tokenizer, self.device, dtype, scale)

    # -- encoding ---------------------------------------------------------------------------------
    def encode_images(self, images: Sequence[Any]) -> np.ndarray:
        """L2-normalised image embeddings (float32, one row per PIL image), ``batch_size`` per forward pass."""
        import torch

        rt = self.load()
        out = []
        for i in range(0, len(images), self.batch_size):
            x = torch.stack([rt.preprocess(im) for im in images[i : i + self.batch_size]])
            with torch.inference_mode():
                f = rt.model.encode_image(x.to(device=rt.device, dtype=rt.dtype), normalize=True)
            out.append(f.float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised text embeddings (float32, one row per text)."""
        import torch

        rt = self.load()
        out = []
        for i in range(0, len(texts), self.batch_size):
            tokens = rt.tokenizer(list(texts[i : i + self.batch_size])).to(rt.device)
            with torch.inference_mode():
                f = rt.model.encode_text(tokens, normalize=True)
            out.append(f.float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)

    def store(self, kind: str) -> EmbeddingStore:
        """The persistent store of ``kind`` (``"image"`` or ``"text"``) embeddings of these weights."""
        if kind not in self._stores:
            root = None if isinstance(self.embed_cache, bool) else self.embed_cache
            self._stores[kind] = EmbeddingStore(
                f"clip-{self.fingerprint()}-{kind}", root, persist=self.embed_cache is not False
            )
        return self._stores[kind]

    def image_embeddings(self, images: Sequence[Any], key: tuple) -> np.ndarray:
        """Embeddings of a batch's decoded images, shared by every CLIP LF of the batch under ``key``."""
        return batch_embeddings(("image", *key), self.store("image"), images, self.encode_images)

    def text_embeddings(self, texts: Sequence[str], key: tuple | None = None) -> np.ndarray:
        """Embeddings of texts; with ``key`` shared within the batch (caption columns), else per call (prompts)."""
        store = self.store("text")
        if key is None:
            return store.embed(list(texts), [content_key(t) for t in texts], self.encode_texts)
        return batch_embeddings(("text", *key), store, texts, self.encode_texts)

    @property
    def logit_scale(self) -> float:
        """The model's learned temperature (100 for trained CLIP models)."""
        return self.load().logit_scale

    # -- pickling ---------------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_stores": {}}

    def __repr__(self) -> str:
        return f"ClipModel({self.model_name!r}, pretrained={self.pretrained!r}, device={self.device!r})"
