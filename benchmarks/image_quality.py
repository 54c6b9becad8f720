"""The image recipe's keep/drop quality task on real photos with real degradations -> label models.

    .venv/bin/python benchmarks/image_quality.py
    .venv/bin/python benchmarks/image_quality.py --images 400 --seed 1

Photos: the ten colour photographs of scikit-image and scikit-learn (a cat, coffee, an astronaut, a rocket,
a motorcycle, a temple, a flower, the Hubble deep field, a retina, stained cells). ``--images`` crops are cut
from them at random places and sizes (240-480 px, JPEG quality 90); half are kept as they are (gold
``keep``), half get one degradation (gold ``drop``): Gaussian blur, under- or over-exposure, a washed-out
contrast, a thumbnail, a banner-shaped crop, or a file truncated mid-stream.

LFs: exactly ``recipes/image_curation.py``'s quality LFs without CLIP and OCR (heuristics, undecodable,
near-duplicates after ``mark_near_duplicates``), with the recipe's default thresholds. Nothing is tuned here.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import datasets  # noqa: E402

import mmweak  # noqa: E402
from benchmarks.media_common import cold_cache, lf_table, model_table, print_tables  # noqa: E402
from lf_library.image import mark_near_duplicates  # noqa: E402
from lf_library.samples import photos  # noqa: E402
from mmweak.columns import read_matrix  # noqa: E402
from recipes.image_curation import QUALITY, quality_lfs  # noqa: E402

DEGRADATIONS = ("blur", "dark", "bright", "washed_out", "thumbnail", "banner", "truncated")


def degraded_set(n: int, seed: int) -> tuple[list[dict], list[int], list[str]]:
    """``n`` JPEG cells cut from the real photos, their gold (0 keep, 1 drop) and what was done to them."""
    from PIL import ImageEnhance, ImageFilter

    rng = np.random.default_rng(seed)
    pics = list(photos().values())
    cells, gold, kinds = [], [], []
    for i in range(n):
        img = pics[int(rng.integers(len(pics)))]
        side = int(rng.integers(240, 481))
        w, h = min(side, img.width), min(int(side * rng.uniform(0.7, 1.0)), img.height)
        x, y = int(rng.integers(0, img.width - w + 1)), int(rng.integers(0, img.height - h + 1))
        crop = img.crop((x, y, x + w, y + h))
        kind = "none" if i % 2 == 0 else DEGRADATIONS[int(rng.integers(len(DEGRADATIONS)))]
        if kind == "blur":
            crop = crop.filter(ImageFilter.GaussianBlur(float(rng.uniform(2.5, 6.0))))
        elif kind == "dark":
            crop = ImageEnhance.Brightness(crop).enhance(float(rng.uniform(0.05, 0.2)))
        elif kind == "bright":
            crop = ImageEnhance.Brightness(crop).enhance(float(rng.uniform(3.0, 6.0)))
        elif kind == "washed_out":
            crop = ImageEnhance.Contrast(crop).enhance(float(rng.uniform(0.05, 0.15)))
        elif kind == "thumbnail":
            crop = crop.resize((int(rng.integers(24, 56)), int(rng.integers(24, 56))))
        elif kind == "banner":
            crop = img.crop((x, y, x + w, y + max(20, w // 5)))
        buf = io.BytesIO()
        crop.convert("RGB").save(buf, format="JPEG", quality=90)
        data = buf.getvalue()
        if kind == "truncated":
            data = data[: int(len(data) * rng.uniform(0.3, 0.7))]
        cells.append({"bytes": data, "path": None})
        gold.append(0 if kind == "none" else 1)
        kinds.append(kind)
    return cells, gold, kinds


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--images", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    cold_cache()  # the speed printed is a first run's
    datasets.disable_progress_bars()
    cells, gold, kinds = degraded_set(args.images, args.seed)
    feats = datasets.Features({"image": datasets.Image(decode=False), "label": datasets.ClassLabel(names=["keep", "drop"]),
                               "degradation": datasets.Value("string")})
    ds = datasets.DatasetDict({"train": datasets.Dataset.from_dict(
        {"image": cells, "label": gold, "degradation": kinds}, features=feats)})
    t0 = time.perf_counter()
    ds = mark_near_duplicates(ds, "image", max_distance=4)  # the recipe's default --dup-distance
    lfs = quality_lfs(column="image", clip=None, ocr=False)  # the recipe's heuristics with its default thresholds
    ds = mmweak.apply_lfs(ds, lfs)
    seconds = time.perf_counter() - t0
    L = read_matrix(ds["train"], QUALITY.votes_column).astype(np.int64)
    y = np.asarray(gold)
    lf_rows = lf_table([lf.name for lf in lfs], L, y)
    models = model_table(L, y, QUALITY.cardinality, seed=args.seed)
    cmd = "python benchmarks/image_quality.py" + (f" --images {args.images}" if args.images != 600 else "") + (
        f" --seed {args.seed}" if args.seed else "")
    print_tables("Image quality (keep/drop) on real photos with real degradations: the image recipe's LFs", cmd,
                 lf_rows, models, {"degradations": ", ".join(f"{k}={kinds.count(k)}" for k in ("none", *DEGRADATIONS)),
                                   "speed": f"{len(y) / seconds:.1f} images/s (near-duplicate pass + LFs, CPU)"},
                 len(y), float((L >= 0).any(axis=1).mean()))
    return {"lfs": lf_rows, "models": models}


if __name__ == "__main__":
    main()
