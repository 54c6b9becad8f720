"""Real, labelled media that packages install: for tests, benchmarks and demos (never copied into the repo).

* photos — scikit-image's ``skimage.data`` colour photographs (a cat, a cup of coffee, an astronaut, a
  rocket...) and scikit-learn's two sample photos (:func:`photos`);
* Fashion-MNIST — 70,000 labelled 28x28 product images from Debian's ``dataset-fashion-mnist``
  (:func:`fashion_mnist`);
* speech — the 364 prompts, digits and letters of Debian's ``asterisk-core-sounds-en-wav`` (one speaker,
  8 kHz) and the LibriVox sentences of ``pocketsphinx-testdata`` with their transcripts; real
  non-speech from the same package: beeps, two-tone signals and recorded silences (:func:`asterisk_sounds`,
  :func:`librivox_sentences`).

``scripts/setup.sh`` installs the Debian packages; the Python ones come with ``mmweak[dev]``. A missing
source raises ``FileNotFoundError`` naming the package to install.

>>> sorted(photos())[:3]
['astronaut', 'chelsea', 'china']
>>> images, labels = fashion_mnist("test", limit=5)
>>> images.shape, [FASHION_CLASSES[i] for i in labels]
((5, 28, 28), ['Ankle boot', 'Pullover', 'Trouser', 'Trouser', 'Shirt'])
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "ASTERISK_DIR", "FASHION_CLASSES", "FASHION_MNIST_DIR", "LIBRIVOX_DIR", "PHOTO_SUBJECTS", "asterisk_sounds",
    "fashion_mnist", "librivox_sentences", "photos",
]

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
ASTERISK_DIR = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
LIBRIVOX_DIR = Path("/usr/share/pocketsphinx/test/data/librivox")
#: Fashion-MNIST's classes, in label order (from the dataset's README).
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")
#: What each photo of :func:`photos` shows, in a word.
PHOTO_SUBJECTS = {
    "astronaut": "astronaut",
    "chelsea": "cat",
    "coffee": "coffee",
    "rocket": "rocket",
    "motorcycle_left": "motorcycle",
    "china": "temple",
    "flower": "flower",
    "hubble_deep_field": "galaxy",
    "retina": "retina",
    "immunohistochemistry": "cells",
}


def _need(path: Path, package: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: install Debian's {package} (scripts/setup.sh does)")
    return path


def photos() -> dict[str, Any]:
    """Real colour photographs as RGB ``PIL.Image``s, by name (scikit-image's and scikit-learn's samples)."""
    from PIL import Image

    try:
        import skimage.data as data
        from sklearn.datasets import load_sample_images
    except ImportError as exc:
        raise ImportError(
            "real sample photos come from scikit-image and scikit-learn (pip install mmweak[dev])"
        ) from exc
    out = {}
    for name in ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "retina", "immunohistochemistry"):
        out[name] = Image.fromarray(getattr(data, name)()).convert("RGB")
    out["motorcycle_left"] = Image.fromarray(data.stereo_motorcycle()[0]).convert("RGB")
    sk = load_sample_images()
    for name, arr in zip(("china", "flower"), sk.images):
        out[name] = Image.fromarray(arr).convert("RGB")
    return dict(sorted(out.items()))


def fashion_mnist(split: str = "test", *, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(images uint8 (n, 28, 28), labels int64 (n,))`` of Fashion-MNIST's ``"train"`` or ``"test"`` split."""
    prefix = {"train": "train", "test": "t10k"}.get(split)
    if prefix is None:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = _need(FASHION_MNIST_DIR, "dataset-fashion-mnist")
    with gzip.open(root / f"{prefix}-images-idx3-ubyte.gz") as f:
        raw = f.read()
    n, rows, cols = (int.from_bytes(raw[i : i + 4], "big") for i in (4, 8, 12))
    images = np.frombuffer(raw, np.uint8, offset=16).reshape(n, rows, cols)
    with gzip.open(root / f"{prefix}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return images.copy(), labels


def asterisk_sounds() -> dict[str, list[str]]:
    """Paths of real recordings, by kind: ``digits``, ``letters``, ``prompts`` (all speech) and ``nonspeech``
    (beeps, two-tone signals and the recorded silences of ``silence/``).

    >>> {kind: len(paths) for kind, paths in asterisk_sounds().items()}
    {'digits': 94, 'letters': 61, 'prompts': 354, 'nonspeech': 14}
    """
    root = _need(ASTERISK_DIR, "asterisk-core-sounds-en-wav")
    nonspeech_names = {"beep.wav", "beeperr.wav", "ascending-2tone.wav", "descending-2tone.wav"}
    top = sorted(p for p in os.listdir(root) if p.endswith(".wav"))
    return {
        "digits": sorted(str(p) for p in (root / "digits").glob("*.wav")),
        "letters": sorted(str(p) for p in (root / "letters").glob("*.wav")),
        "prompts": [str(root / p) for p in top if p not in nonspeech_names],
        "nonspeech": [str(root / p) for p in top if p in nonspeech_names]
        + sorted(str(p) for p in (root / "silence").glob("*.wav")),
    }


def librivox_sentences() -> list[tuple[str, str]]:
    """``(path, transcript)`` of PocketSphinx's LibriVox test sentences (16 kHz read speech).

    >>> librivox_sentences()[1][1]
    'he was not an ill disposed young man'
    """
    root = _need(LIBRIVOX_DIR, "pocketsphinx-testdata")
    out = []
    for line in (root / "transcription").read_text().splitlines():
        text, _, ident = line.rpartition("(")
        text = text.replace("<s>", "").replace("</s>", "").strip()
        out.append((str(root / f"{ident.strip(') ')}.wav"), text))
    return out
