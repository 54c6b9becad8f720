"""Fashion-MNIST with real weights: ImageNet classifier LFs (EfficientNet-Lite0) + silhouette heuristics -> label models.

    .venv/bin/python benchmarks/fashion_mnist.py                  # 10,000 test images (Debian dataset-fashion-mnist)
    .venv/bin/python benchmarks/fashion_mnist.py --limit 2000     # a quicker slice

No gold label of the scored images is used by any LF or label model. What is tuned is tuned on ``--dev``
labelled images of Fashion-MNIST's *train* split (a small dev set, as a user would label):

* one :class:`~lf_library.image.ImageClassifierLF` per class (the 1000 ImageNet labels mapped to that class
  through WordNet; synonyms a person would write for four class names), its ``min_score`` calibrated on the
  dev set for ``--target-precision``; the images are inverted for the classifier (dark product on light
  ground, as in ImageNet photos), which the dev set preferred (43 % vs 26 % argmax accuracy on 400 dev images);
* one classifier LF over all ten classes, calibrated the same way;
* silhouette heuristics — the gap between trouser legs, flat footwear, sparse sandal straps, a dress's flare,
  T-shirt sleeves — each a score with a direction fixed by what the garment looks like and a threshold
  calibrated on the same dev set. LFs that cannot reach the target precision on the dev set are left out.

Label models are fitted on the scored rows' votes (dev gold as ``L_dev``/``y_dev``) and compared with the
best single LF and majority vote; images/s covers decoding and every LF on CPU.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import datasets  # noqa: E402

import mmweak  # noqa: E402
from benchmarks.media_common import cold_cache, lf_table, model_table, print_tables  # noqa: E402
from lf_library.image import ImageClassifierLF, ImageLF, ImagePreprocess, calibrate_threshold, efficientnet_lite0  # noqa: E402
from lf_library.image.calibrate import calibrated_copy, collect_scores, gold_labels  # noqa: E402
from lf_library.image.imagenet import EFFICIENTNET_LITE_PREPROCESS  # noqa: E402
from lf_library.samples import FASHION_CLASSES, fashion_mnist  # noqa: E402
from mmweak.batch_memo import memo  # noqa: E402
from mmweak.columns import read_matrix  # noqa: E402
from mmweak.lf import ABSTAIN  # noqa: E402

FASHION = mmweak.Task("fashion", list(FASHION_CLASSES))
#: What a person would add to four of the class names (written before looking at any result).
SYNONYMS = {"Trouser": ["trousers", "pants"], "Pullover": ["sweater"], "Sneaker": ["sneaker", "running shoe"],
            "Ankle boot": ["boot"]}


def silhouette(img: Any) -> dict[str, float]:
    """Shape features of a light-on-dark product image."""
    a = np.asarray(img.convert("L"), dtype=np.float32)
    mask = a > 30
    if not mask.any():
        return dict.fromkeys(("flatness", "fill", "leg_gap", "flare", "sleeves"), float("nan"))
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    box = mask[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
    h, w = box.shape
    width = box.sum(axis=1).astype(np.float32)  # ink per row
    lower = box[h // 2:]
    mid = w // 2
    centre = lower[:, max(0, mid - 1): mid + 2].any(axis=1)
    sides = lower[:, : max(1, w // 4)].any(axis=1) & lower[:, w - max(1, w // 4):].any(axis=1)
    top, bottom = width[: max(1, h // 5)].mean(), width[h - max(1, h // 5):].mean()
    third, middle = width[: max(1, h // 3)].mean(), width[h // 3: max(h // 3 + 1, 2 * h // 3)].mean()
    return {
        "flatness": h / w,                                # footwear and bags are wide and low
        "fill": float(box.mean()),                        # sandal straps leave the box mostly empty
        "leg_gap": float((~centre & sides).mean()),       # trousers: two legs, nothing between them
        "flare": float(bottom / max(top, 1.0)),           # a dress widens towards the hem
        "sleeves": float(third / max(middle, 1.0)),       # short sleeves stick out at the top
    }


class SilhouetteLF(ImageLF):
    """Votes ``label`` when a silhouette feature is above (or below) a threshold calibrated on dev rows."""

    def __init__(self, name: str, *, feature: str, label: str, direction: str, threshold: float = np.inf) -> None:
        super().__init__(name, task=FASHION)
        self.feature, self.direction, self.threshold = feature, direction, float(threshold)
        self.label = FASHION.labels.index(label)

    def scores(self, batch: Any) -> dict[str, np.ndarray]:
        items = self.decoded(batch)
        feats = memo(("silhouette", self.column, self.decode_key()),
                     lambda: [None if not hasattr(it, "convert") else silhouette(it) for it in items])
        v = np.array([np.nan if f is None else f[self.feature] for f in feats])
        return {"score": v if self.direction == "above" else -v}

    def label_decoded(self, items, batch, positions):
        s = self.scores(batch)["score"]
        return [self.label if s[p] >= self.threshold else ABSTAIN for p in positions]

    def calibrated(self, dev: Any, *, target_precision: float, min_votes: int) -> "SilhouetteLF":
        parts = collect_scores(dev, self.inputs, self.scores, batch_size=256)
        score = np.concatenate([p["score"] for p in parts])
        cal = calibrate_threshold(score, self.label, gold_labels(dev, "label"), target_precision=target_precision,
                                  min_votes=min_votes)
        return calibrated_copy(self, "threshold", cal)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "feature": self.feature, "direction": self.direction, "label": self.label,
                "threshold": self.threshold}


HEURISTICS = [("trouser_legs", "leg_gap", "Trouser", "above"), ("flat_footwear", "flatness", "Sneaker", "below"),
              ("sandal_straps", "fill", "Sandal", "below"), ("dress_flare", "flare", "Dress", "above"),
              ("tshirt_sleeves", "sleeves", "T-shirt/top", "above"), ("full_box", "fill", "Bag", "above")]


def build_lfs(dev: datasets.Dataset, target_precision: float, min_votes: int) -> tuple[list, list[str]]:
    clf = efficientnet_lite0(preprocess=ImagePreprocess(**{**EFFICIENTNET_LITE_PREPROCESS.__dict__, "invert": True}))
    lfs, notes = [], []
    candidates = [ImageClassifierLF("imagenet_all", task=FASHION, classifier=clf, min_score=0.5,
                                    classes={c: SYNONYMS.get(c, []) for c in FASHION_CLASSES})]
    for cls in FASHION_CLASSES:
        slug = cls.lower().replace("/", "_").replace("-", "").replace(" ", "_")
        candidates.append(ImageClassifierLF(f"imagenet_{slug}", task=FASHION, classifier=clf,
                                            classes={cls: SYNONYMS.get(cls, [])}, min_score=0.5))
    candidates += [SilhouetteLF(name, feature=feature, label=label, direction=direction)
                   for name, feature, label, direction in HEURISTICS]
    for lf in candidates:
        if isinstance(lf, ImageClassifierLF):
            try:
                lf.mapping()
            except ValueError:
                notes.append(f"{lf.name}: no ImageNet label maps to {list(lf.classes)} (left out)")
                continue
        lf = lf.calibrated(dev, target_precision=target_precision, min_votes=min_votes)
        # An LF that cannot reach the target precision on the dev set is not used, as a user would drop it.
        notes.append(f"{lf.name}: {lf.calibration}{'' if lf.calibration.met else ' (left out)'}")
        if lf.calibration.met:
            lfs.append(lf)
    return lfs, notes


def images_dataset(images: np.ndarray, labels: np.ndarray) -> datasets.Dataset:
    from PIL import Image

    feats = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=list(FASHION_CLASSES))})
    return datasets.Dataset.from_dict({"image": [Image.fromarray(a) for a in images], "label": labels.tolist()},
                                      features=feats)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--limit", type=int, default=10000, help="test images scored (the first N)")
    parser.add_argument("--dev", type=int, default=500, help="labelled train-split images used to calibrate")
    parser.add_argument("--target-precision", type=float, default=0.5,
                        help="precision each LF must reach on the dev set (0.5: five times chance with ten classes)")
    parser.add_argument("--min-votes", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--num-proc", type=int, default=None)
    args = parser.parse_args(argv)
    cold_cache()  # the speed printed is a first run's
    datasets.disable_progress_bars()
    X_dev, y_dev = fashion_mnist("train", limit=args.dev)
    X, y = fashion_mnist("test", limit=args.limit)
    dev, test = images_dataset(X_dev, y_dev), images_dataset(X, y)
    t0 = time.perf_counter()
    lfs, notes = build_lfs(dev, args.target_precision, args.min_votes)
    t_cal = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = mmweak.apply_lfs(datasets.DatasetDict({"dev": dev, "test": test}), lfs, batch_size=args.batch_size,
                           num_proc=args.num_proc)
    seconds = time.perf_counter() - t0
    L = read_matrix(out["test"], FASHION.votes_column).astype(np.int64)
    L_dev = read_matrix(out["dev"], FASHION.votes_column).astype(np.int64)
    names = [lf.name for lf in lfs]
    lf_rows = lf_table(names, L, y)
    models = model_table(L, y, FASHION.cardinality, L_dev=L_dev, y_dev=y_dev)
    cmd = "python benchmarks/fashion_mnist.py" + (f" --limit {args.limit}" if args.limit != 10000 else "")
    print_tables(f"Fashion-MNIST test[:{args.limit}]: EfficientNet-Lite0 LFs + silhouette heuristics", cmd, lf_rows,
                 models, {"calibration on dev": "; ".join(notes), "calibration seconds": f"{t_cal:.0f}",
                          "apply_lfs": f"{seconds:.0f} s for {len(dev) + len(test)} images = "
                                       f"{(len(dev) + len(test)) / seconds:.1f} images/s on CPU"},
                 len(y), float((L >= 0).any(axis=1).mean()))
    return {"lfs": lf_rows, "models": models, "images_per_s": (len(dev) + len(test)) / seconds}


if __name__ == "__main__":
    main()
