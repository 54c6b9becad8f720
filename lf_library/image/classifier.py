"""Any torchvision / timm module or ONNX file as an image :class:`~lf_library.classifier.Classifier`.

:class:`ImagePreprocess` is the usual ImageNet evaluation transform (resize the short side, centre
crop, scale to [0, 1], normalise) done with PIL and numpy, so it needs no torchvision at run time.
:class:`ImageClassifier` runs the model:

* ``model=`` a callable that builds a torch ``nn.Module`` (``torchvision.models.resnet18``,
  ``functools.partial(timm.create_model, "resnet18")``, a function of yours) with optional ``weights=``
  (a ``state_dict`` file), or a path to an ``.onnx`` file;
* on CUDA the torch module runs in torch; on CPU it is exported once to ONNX and run by ONNX Runtime
  (``runtime="auto"``), which is several times faster there; ``runtime="torch"`` keeps torch.

The model loads lazily, once per worker process; :meth:`ImageClassifier.identity` (the builder's name,
arguments, code and the values it reads, the weights file by content, the preprocessing) keys every cache.
A builder that cannot be hashed (it reads an open file, say) still runs, its outputs cached for the process only.

>>> import functools, torchvision
>>> clf = ImageClassifier(functools.partial(torchvision.models.mobilenet_v3_small, num_classes=3),
...                       labels=["cat", "dog", "car"], preprocess=ImagePreprocess(size=64), device="cpu")
>>> from PIL import Image
>>> clf.predict([Image.new("RGB", (80, 60), "red")]).shape
(1, 3)
"""

from __future__ import annotations

import functools
import os
import uuid
import warnings
from dataclasses import asdict, dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from lf_library.classifier import Classifier, ClassifierVotes
from lf_library.device import default_device
from lf_library.identity import files_digest
from lf_library.label_mapping import ModelLabel
from lf_library.media import OnDecodeError
from mmweak.fingerprint import digest
from mmweak.task import Task

from .decode import ImageLF

__all__ = ["ImageClassifier", "ImageClassifierLF", "ImagePreprocess"]


@dataclass(frozen=True)
class ImagePreprocess:
    """Resize the short side to ``size / crop_fraction``, centre-crop ``size`` x ``size``, normalise.

    ``invert=True`` turns light-on-dark images (Fashion-MNIST's products on black) into the dark-on-light
    look of the photos the model was trained on.

    >>> from PIL import Image
    >>> ImagePreprocess(size=32).batch([Image.new("L", (50, 40), 255)]).shape
    (1, 3, 32, 32)
    """

    size: int = 224
    crop_fraction: float = 0.875
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    interpolation: str = "bicubic"
    invert: bool = False

    def one(self, img: Any) -> np.ndarray:
        """``(3, size, size)`` float32 array of one PIL image."""
        from PIL import Image, ImageOps

        img = img.convert("RGB")
        if self.invert:
            img = ImageOps.invert(img)
        short = max(self.size, round(self.size / self.crop_fraction))
        w, h = img.size
        scale = short / min(w, h)
        nw, nh = max(self.size, round(w * scale)), max(self.size, round(h * scale))
        resample = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}[self.interpolation]
        left, top = (nw - self.size) // 2, (nh - self.size) // 2
        if nw * nh > 4 * short * short:
            # A thin strip (1 x 12000 px, 130 bytes as PNG) scaled whole would be 256 x 3M pixels, gigabytes that
            # no media limit sees: scale only the square the crop keeps (the same region and sample positions;
            # PIL's filter at the square's edge differs by a few levels of 255 on real photos)
            sx, sy = nw / w, nh / h
            img = img.resize((self.size, self.size), resample,
                             box=(left / sx, top / sy, (left + self.size) / sx, (top + self.size) / sy))
        else:
            img = img.resize((nw, nh), resample)
            img = img.crop((left, top, left + self.size, top + self.size))
        x: np.ndarray = np.asarray(img, dtype=np.float32) / 255.0
        x = (x - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        return np.ascontiguousarray(x.transpose(2, 0, 1))

    def batch(self, images: Sequence[Any]) -> np.ndarray:
        """``(n, 3, size, size)`` float32."""
        return (
            np.stack([self.one(im) for im in images]) if images else np.zeros((0, 3, self.size, self.size), np.float32)
        )


def _callable_identity(fn: Any) -> Any:
    if isinstance(fn, functools.partial):
        return {
            "func": _callable_identity(fn.func),
            "args": [repr(a) for a in fn.args],
            "kwargs": {k: repr(v) for k, v in sorted(fn.keywords.items())},
        }
    # the name, and the code with every value it reads: an edited builder (other layers, another weights path)
    # builds another model, so its outputs, ONNX export and votes must not be the old one's (installed libraries'
    # builders count by name and version)
    name = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
    try:
        return {"name": name, "code": digest(fn)}
    except Exception as exc:  # noqa: BLE001 - Unhashable, or a value whose own pickling fails (torch's lazy layers)
        # Predictions still run, keyed by a token of their own: never reused by another classifier, so never stale.
        if name not in _WARNED:
            _WARNED.add(name)
            warnings.warn(f"ImageClassifier builder {name} cannot be fingerprinted ({type(exc).__name__}: {exc}), "
                          f"so its outputs and votes are not reused by another classifier or run, and it runs in "
                          f"torch (no ONNX export to cache); build the model from plain values (or give an ONNX "
                          f"file) to cache them", stacklevel=4)
        return {"name": name, "code": f"unhashed-{uuid.uuid4().hex}", "unhashed": True}


_WARNED: set[str] = set()  # builders already warned about


class ImageClassifier(Classifier):
    """An image classifier from a torch module builder or an ONNX file (see the module docstring).

    Args:
        model: a callable returning a torch ``nn.Module`` (called once per process), or an ``.onnx`` path. A
            builder's code and the values it reads key the caches; a weights file it loads itself is read by path,
            so pass it as ``weights`` for its content to count (retrained weights at the same path).
        labels: the model's output labels (:class:`~lf_library.label_mapping.ModelLabel` or names).
        preprocess: how images become input tensors.
        weights: a ``state_dict`` file loaded into the built module (``None``: the builder loads its own).
        activation: ``"softmax"`` (exclusive labels), ``"sigmoid"`` (multi-label) or ``"none"`` (outputs
            are probabilities already).
        device: ``"cuda"``/``"cpu"``; default CUDA when available.
        runtime: ``"auto"`` (torch on CUDA, ONNX Runtime on CPU), ``"torch"`` or ``"onnxruntime"``.
        batch_size: images per forward pass.
        threads: CPU threads for the model (default: torch's current setting).
        name: a short name for messages and cards (default: the builder's or file's name).
    """

    modality = "image"

    def __init__(
        self,
        model: Callable[[], Any] | str | os.PathLike,
        labels: Sequence[ModelLabel | str],
        *,
        preprocess: ImagePreprocess = ImagePreprocess(),
        weights: str | os.PathLike | None = None,
        activation: str = "softmax",
        device: str | None = None,
        runtime: str = "auto",
        batch_size: int = 32,
        threads: int | None = None,
        name: str | None = None,
    ) -> None:
        if activation not in ("softmax", "sigmoid", "none"):
            raise ValueError(f"activation must be 'softmax', 'sigmoid' or 'none', got {activation!r}")
        if runtime not in ("auto", "torch", "onnxruntime"):
            raise ValueError(f"runtime must be 'auto', 'torch' or 'onnxruntime', got {runtime!r}")
        self.is_onnx = isinstance(model, (str, os.PathLike))
        if isinstance(model, (str, os.PathLike)):
            if not os.path.isfile(model):
                raise FileNotFoundError(f"ImageClassifier: no ONNX file at {os.fspath(model)!r}")
            if weights is not None:
                raise ValueError("ImageClassifier: an ONNX file carries its weights; leave weights=None")
            model = os.fspath(model)
        elif not callable(model):
            raise TypeError(f"ImageClassifier: model must build a torch module or be an ONNX path, got {model!r}")
        if weights is not None and not os.path.isfile(weights):
            raise FileNotFoundError(f"ImageClassifier: no weights file at {os.fspath(weights)!r}")
        self.model: Callable[[], Any] | str = model
        self._labels = [lab if isinstance(lab, ModelLabel) else ModelLabel(str(lab)) for lab in labels]
        if not self._labels:
            raise ValueError("ImageClassifier: give the model's labels")
        self.preprocess = preprocess
        self.weights = None if weights is None else os.fspath(weights)
        self.activation = activation
        self.device = device
        self.runtime = runtime
        self.batch_size = int(batch_size)
        self.threads = threads
        self.multi_label = activation == "sigmoid"
        self.name = name or (os.path.basename(model) if isinstance(model, str) else _short_name(model))

    # -- identity ---------------------------------------------------------------------------------
    def labels(self) -> list[ModelLabel]:
        return list(self._labels)

    def identity(self) -> dict[str, Any]:
        model = (
            {"onnx": files_digest(self.model)}
            if isinstance(self.model, str)
            else {"build": _callable_identity(self.model)}
        )
        self.__dict__["_unhashed"] = bool(model.get("build", {}).get("unhashed"))
        return {
            **model,
            "weights": None if self.weights is None else files_digest(self.weights),
            "preprocess": asdict(self.preprocess),
            "activation": self.activation,
            "labels": len(self._labels),
        }

    def resolved_runtime(self) -> tuple[str, str]:
        """``(runtime, device)`` this classifier runs with."""
        device = self.device
        if device is None:
            device = default_device()
        if self.is_onnx:
            return "onnxruntime", device
        if self.runtime == "auto":
            self.fingerprint()  # knows whether the builder could be hashed: an export it could never reuse is waste
            unhashed = self.__dict__.get("_unhashed", False)
            return ("torch" if device.startswith("cuda") or unhashed else "onnxruntime"), device
        return self.runtime, device

    # -- running ----------------------------------------------------------------------------------
    def _build_module(self) -> Any:
        assert callable(self.model), "an ONNX classifier has no torch module to build"
        module = self.model()
        if self.weights is not None:
            import torch

            state = torch.load(self.weights, map_location="cpu", weights_only=True)
            module.load_state_dict(state)
        return module.eval()

    def _load(self) -> Any:
        runtime, device = self.resolved_runtime()
        if runtime == "torch":
            import torch

            return ("torch", self._build_module().to(device), device)
        from lf_library.onnx_runtime import exported_onnx, session

        path: str | os.PathLike | None = self.model if isinstance(self.model, str) else None
        if path is None:
            import torch

            example = torch.zeros(1, 3, self.preprocess.size, self.preprocess.size)
            path = exported_onnx(self.fingerprint(), self._build_module, example)
        sess = session(path, device=device, threads=self.threads or _torch_threads())
        return ("onnxruntime", sess, device)

    def predict(self, items: Sequence[Any]) -> np.ndarray:
        kind, model, device = self.shared(self._load, *self.resolved_runtime())
        out = []
        for i in range(0, len(items), self.batch_size):
            x = self.preprocess.batch(items[i : i + self.batch_size])
            if kind == "torch":
                import torch

                with torch.inference_mode():
                    y = model(torch.from_numpy(x).to(device)).float().cpu().numpy()
            else:
                y = model.run(None, {model.get_inputs()[0].name: x})[0]
            out.append(np.asarray(y, np.float32).reshape(len(x), -1))
        logits = np.concatenate(out) if out else np.zeros((0, len(self._labels)), np.float32)
        if logits.shape[1] != len(self._labels):
            raise ValueError(f"{self!r}: the model has {logits.shape[1]} outputs but {len(self._labels)} labels")
        return _activate(logits, self.activation)

    def __repr__(self) -> str:
        return f"ImageClassifier({self.name!r}, {len(self._labels)} labels)"


def _activate(logits: np.ndarray, activation: str) -> np.ndarray:
    if activation == "softmax":
        z = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(z)
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    if activation == "sigmoid":
        return (1.0 / (1.0 + np.exp(-np.clip(logits, -60, 60)))).astype(np.float32)
    return logits.astype(np.float32)


def _short_name(fn: Any) -> str:
    while isinstance(fn, functools.partial):
        fn = fn.func
    return getattr(fn, "__name__", type(fn).__name__)


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


class ImageClassifierLF(ClassifierVotes, ImageLF):
    """A pretrained image classifier (ImageNet or your own) as an LF over the task's classes.

    Args:
        classifier: an image :class:`Classifier` (e.g. :func:`lf_library.image.efficientnet_lite0`).
        classes: the task classes the model may vote (default: all), or class -> synonyms.
        explicit, exclude: corrections to the mapping (model label -> class or ``None``; labels never used).
        hierarchy: ``"wordnet"`` (default) follows WordNet hypernyms for labels that are synsets (ImageNet);
            ``None`` skips it. Needs Debian's ``wordnet-base``.
        encoder: sentence encoder for "similar words" (default offline MiniLM; ``False`` to skip).
        min_similarity, min_margin_words: thresholds of the "similar words" rule.
        min_score, min_margin: vote the best class when its score and margin reach these.
        otherwise, otherwise_below: vote ``otherwise`` when no listed class scores ``otherwise_below``.

    >>> import mmweak
    >>> pets = mmweak.Task("pet", ["cat", "dog", "other"])
    >>> from lf_library.image import efficientnet_lite0
    >>> lf = ImageClassifierLF("imagenet_pets", task=pets, classifier=efficientnet_lite0(device="cpu"),
    ...                        classes=["cat", "dog"], min_score=0.5)
    >>> lf.mapping().summary()
    'cat: 13 labels, dog: 118 labels'
    """

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        classifier: Classifier,
        column: str = "image",
        classes: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
        explicit: Mapping[str, str | None] | None = None,
        exclude: Sequence[str] = (),
        hierarchy: Any = "wordnet",
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
        super().__init__(name, task=task, column=column, on_decode_error=on_decode_error, version=version)
        if getattr(classifier, "modality", None) != "image":
            raise ValueError(f"LF {name!r}: {classifier!r} is not an image classifier")
        self._setup(
            name,
            task,
            classifier,
            classes,
            explicit,
            exclude,
            hierarchy,
            encoder,
            min_similarity,
            min_margin_words,
            min_score,
            min_margin,
            otherwise,
            otherwise_below,
        )

    def config(self) -> dict[str, Any]:
        return {**super().config(), **self._votes_config()}
