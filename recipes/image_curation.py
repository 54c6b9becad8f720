"""Curate any image dataset: CLIP zero-shot classes and caption alignment, quality heuristics, near-duplicates, OCR.

Run it from the repository root::

    # a folder of images (imagefolder layout: class sub-folders, optional metadata.csv with captions)
    python recipes/image_curation.py --data ./photos --clip-model ViT-B-32 --clip-pretrained laion2b_s34b_b79k
    # a Hub dataset, offline weights in an open_clip folder, captions checked LAION-style
    python recipes/image_curation.py --data user/pets --clip-model local-dir:/models/clip --caption-column text \\
        --classes cat,dog,rabbit --out out/pets_curated --push-to-hub me/pets-curated

Two tasks are labelled:

* ``quality`` (keep / drop): thumbnails, banners, bad exposure, flat or blurry images, undecodable
  files, near-duplicates (perceptual hash, across splits), watermark words and text-heavy images
  (RapidOCR), captions that do not match their image and images that match a "junk" prompt (CLIP);
  an all-checks-passed heuristic and well-matched captions vote ``keep``.
* ``category`` (the classes, from ``--classes`` or the dataset's ``label`` ClassLabel): CLIP zero-shot
  with prompt ensembles. When a ``validation`` split has gold labels, the zero-shot thresholds are
  calibrated on it for ``--target-precision``.

The image column is read undecoded (``Image(decode=False)``), so corrupt files are voted ``drop`` and
counted instead of stopping the run; the curated folder stores the images again as ``Image()``.
CLIP image embeddings are computed once per image for all CLIP LFs and kept in the embedding cache,
so re-running with other thresholds costs no forward pass.

The same recipe as data: ``mmweak curate recipes/image_curation.yaml --set data.params.path=./photos``.
Both run :func:`recipe_data`, :func:`quality_lfs`, :func:`category_lfs` and
:func:`lf_library.media_columns.decode_media`, so the script and the YAML cannot drift apart.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from datasets import ClassLabel, DatasetDict, Image, Value

import mmweak
from lf_library.image import (
    AspectRatioLF,
    BlurLF,
    BrightnessLF,
    ClipAlignmentLF,
    ClipModel,
    ClipZeroShotLF,
    ContrastLF,
    ImageRangesLF,
    NearDuplicateLF,
    ResolutionLF,
    UndecodableLF,
    mark_near_duplicates,
)
from lf_library.media_columns import decode_media, load_media
from mmweak.columns import read_column

DEFAULT_OUT = "out/image_curated"
QUALITY = mmweak.Task("quality", ["keep", "drop"], description="Is the image fit for a training set?")
CATEGORY_DESCRIPTION = "What the image shows (CLIP zero-shot)."
DEFAULT_JUNK_PROMPTS = ["a screenshot of a document", "a blank image", "a watermarked stock photo"]
WATERMARK_WORDS = ["shutterstock", "getty images", "istock", "dreamstime", "alamy", "stock photo", "watermark",
                   "sample", "preview", "copyright"]


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------

def load_images(data: str | Path, image_column: str | None = None) -> tuple[DatasetDict, str]:
    """Load ``data`` (an image folder, a data file, or a Hub id) as a ``DatasetDict`` with its image column
    cast to ``Image(decode=False)``; returns it and the image column's name (the first ``Image`` feature
    unless ``image_column`` is given). See :func:`lf_library.media_columns.load_media`."""
    ds, column, _ = load_media(data, "image", image_column)
    return ds, column


def image_column_of(ds: DatasetDict, image_column: str | None = None) -> str:
    """``image_column``, or the first ``Image`` feature of ``ds`` (what :func:`load_images` picks)."""
    first = next(iter(ds.values()))
    column = image_column or next((c for c, f in first.features.items() if isinstance(f, Image)), None)
    if column is None or column not in first.column_names:
        raise ValueError(f"no image column {column!r} among {first.column_names}")
    return column


def recipe_data(path: str | Path, *, image_column: str | None = None, label_column: str = "label",
                classes: str | Sequence[str] | None = None, dup_distance: int = 4,
                num_proc: int | None = None) -> DatasetDict:
    """The recipe's data: images read undecoded, gold classes as a ``ClassLabel``, near-duplicates marked.

    Args:
        path: an image folder (``imagefolder`` layout), a data file (parquet/csv/json) or a Hub dataset id.
        image_column: the image column (default: the first ``Image`` feature).
        label_column: the gold class column, where the data has one.
        classes: the ``category`` classes (a list, or comma-separated); default: the gold column's.
        dup_distance: perceptual-hash bits within which two images are near-duplicates.
        num_proc: worker processes for the near-duplicate pass.

    Returns:
        A ``DatasetDict`` with the image column as ``Image(decode=False)`` and ``<image>_dup_of``
        (see :func:`lf_library.image.mark_near_duplicates`).

    Raises:
        ValueError: no image column, bad classes, or gold classes that ``classes`` does not list.
    """
    ds, column = load_images(path, image_column)
    ds, _ = prepare_labels(ds, classes, label_column)
    return mark_near_duplicates(ds, column, max_distance=dup_distance, num_proc=num_proc)


def prepare_labels(ds: DatasetDict, classes: str | Sequence[str] | None,
                   label_column: str) -> tuple[DatasetDict, list[str] | None]:
    """Classes for the ``category`` task: ``classes`` (a list or comma-separated), else the gold column's.

    A gold column of strings (e.g. from ``metadata.csv``) becomes a ``ClassLabel`` with the same names
    on every split.
    """
    first = next(iter(ds.values()))
    feature = first.features.get(label_column)
    if isinstance(feature, Value) and feature.dtype in ("string", "large_string"):
        found = sorted({v for d in ds.values() for v in d[label_column] if v is not None})
        names = found if not classes else _split_classes(classes)
        missing = sorted(set(found) - set(names))
        if missing:
            raise ValueError(f"gold column {label_column!r} has classes {missing} that --classes does not list")
        ds = DatasetDict({s: d.cast_column(label_column, ClassLabel(names=names)) for s, d in ds.items()})
        feature = next(iter(ds.values())).features[label_column]
    if classes:
        names = _split_classes(classes)
        if isinstance(feature, ClassLabel) and list(feature.names) != names:
            raise ValueError(f"--classes {names} differ from the gold column's classes {list(feature.names)}")
        return ds, names
    if isinstance(feature, ClassLabel) and len(feature.names) >= 2:
        return ds, list(feature.names)
    return ds, None


def _split_classes(classes: str | Sequence[str]) -> list[str]:
    parts = classes.split(",") if isinstance(classes, str) else [str(c) for c in classes]
    names = [c.strip() for c in parts if c.strip()]
    if len(names) < 2 or len(set(names)) != len(names):
        raise ValueError(f"--classes needs at least two distinct names, got {names}")
    return names


# --------------------------------------------------------------------------------------------------
# Labeling functions
# --------------------------------------------------------------------------------------------------

def quality_lfs(*, task: mmweak.Task = QUALITY, column: str = "image", clip: ClipModel | None = None,
                caption_column: str | None = None, min_side: int = 64, max_aspect: float = 3.0,
                max_blur: float = 50.0, ocr: bool = True, ocr_max_side: int = 960, text_heavy_chars: int = 12,
                align_threshold: float = 0.22, align_keep: float = 0.3, junk_prompts: Sequence[str] | None = None,
                junk_threshold: float = 0.3) -> list[mmweak.LabelingFunction]:
    """Heuristic, near-duplicate, OCR and CLIP LFs for the ``quality`` task (keep / drop).

    Args:
        task: the keep/drop task.
        column: the image column; ``<column>_dup_of`` comes from :func:`recipe_data`.
        clip: the CLIP model for caption alignment and junk prompts; ``None`` leaves them out.
        caption_column: captions to check against their images (needs ``clip``).
        min_side, max_aspect, max_blur: drop images smaller, more elongated or blurrier than this.
        ocr: add the RapidOCR LFs (watermark words, text-heavy images).
        ocr_max_side, text_heavy_chars: OCR input size; characters that make an image text-heavy.
        align_threshold, align_keep: image-caption cosine below which a pair is dropped, above which kept.
        junk_prompts: prompts of unwanted images (default :data:`DEFAULT_JUNK_PROMPTS`).
        junk_threshold: cosine to a junk prompt that drops an image.

    Returns:
        The LFs, in the order their votes are stored.

    >>> [lf.name for lf in quality_lfs(ocr=False)][:3]
    ['too_small', 'extreme_aspect', 'bad_exposure']
    """
    if caption_column and clip is None:
        raise ValueError("caption_column is checked with CLIP: give clip too")
    lfs: list[mmweak.LabelingFunction] = [
        ResolutionLF("too_small", task=task, column=column, min_side=min_side, label="drop"),
        AspectRatioLF("extreme_aspect", task=task, column=column, max_ratio=max_aspect, label="drop"),
        BrightnessLF("bad_exposure", task=task, column=column, below=0.08, above=0.95, label="drop"),
        ContrastLF("washed_out", task=task, column=column, below=0.03, label="drop"),
        BlurLF("blurry", task=task, column=column, max_sharpness=max_blur, label="drop"),
        UndecodableLF("undecodable", task=task, column=column, label="drop"),
        NearDuplicateLF("near_duplicate", task=task, column=f"{column}_dup_of", label="drop"),
        ImageRangesLF("looks_fine", task=task, column=column, label="keep", ranges={
            "min_side": (2 * min_side, None), "aspect_ratio": (None, 2.0), "brightness": (0.15, 0.9),
            "contrast": (0.05, None), "sharpness": (2 * max_blur, None)}),
    ]
    if ocr:
        from lf_library.models import ContainsTextLF, OcrEngine, OcrTextLF

        engine = OcrEngine(max_side=ocr_max_side)
        lfs += [
            OcrTextLF("watermark_text", task=task, column=column, label="drop", keywords=WATERMARK_WORDS,
                      engine=engine),
            ContainsTextLF("text_heavy", task=task, column=column, label="drop", min_chars=text_heavy_chars,
                           engine=engine),
        ]
    if clip is not None:
        if caption_column:
            lfs.append(ClipAlignmentLF(
                "caption_alignment", task=task, clip=clip, column=column, text_column=caption_column,
                below=align_threshold, label_below="drop", above=align_keep, label_above="keep",
            ))
        for i, prompt in enumerate(junk_prompts or DEFAULT_JUNK_PROMPTS):
            lfs.append(ClipAlignmentLF(f"looks_like_junk_{i}", task=task, clip=clip, column=column, text=prompt,
                                       above=junk_threshold, label_above="drop"))
    return lfs


def category_lfs(dataset: DatasetDict | None = None, *, task: mmweak.Task, clip: ClipModel, column: str = "image",
                 label_column: str = "label", min_prob: float = 0.5, min_margin: float = 0.1,
                 target_precision: float = 0.9) -> list[mmweak.LabelingFunction]:
    """CLIP zero-shot LFs for the ``category`` task, calibrated on ``dataset["validation"]`` when it has gold.

    Args:
        dataset: the recipe's data (from :func:`recipe_data`); ``None``: no calibration.
        task: the category task; its classes are the zero-shot classes.
        clip: the CLIP model.
        column: the image column.
        label_column: the gold class column used for calibration.
        min_prob, min_margin: zero-shot top-class probability and margin over the runner-up to vote.
        target_precision: the precision each LF's threshold is calibrated for on validation.

    Returns:
        Two LFs (prompt ensemble; class names alone), calibrated where validation gold exists.

    Raises:
        ValueError: the gold column's classes are not the task's.
    """
    lfs = [
        ClipZeroShotLF("clip_zero_shot", task=task, clip=clip, column=column, min_prob=min_prob,
                       min_margin=min_margin),
        ClipZeroShotLF("clip_zero_shot_names", task=task, clip=clip, column=column, templates=["{}"],
                       min_prob=min_prob, min_margin=min_margin),
    ]
    dev = dataset["validation"] if dataset is not None and "validation" in dataset else None
    if dev is None or label_column not in dev.column_names:
        return list(lfs)
    feature = dev.features[label_column]
    if isinstance(feature, ClassLabel) and list(feature.names) != list(task.labels):
        raise ValueError(f"task {task.name!r} has classes {list(task.labels)} but gold column {label_column!r} has "
                         f"{list(feature.names)}")
    tuned: list[mmweak.LabelingFunction] = []
    for lf in lfs:
        lf = lf.calibrated(dev, gold=label_column, target_precision=target_precision, min_votes=5)
        print(f"calibrated {lf.name} on {len(dev)} validation rows: {lf.calibration}")
        tuned.append(lf)
    return tuned


# --------------------------------------------------------------------------------------------------
# Script
# --------------------------------------------------------------------------------------------------

def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--data", required=True, help="image folder, data file (parquet/csv/json) or Hub dataset id")
    parser.add_argument("--image-column", default=None, help="default: the first Image feature")
    parser.add_argument("--caption-column", default=None, help="captions to check against their images (CLIP)")
    parser.add_argument("--label-column", default="label", help="gold class column, used for calibration and scores")
    parser.add_argument("--classes", default=None, help="comma-separated classes (default: the label column's names)")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"curated dataset folder (default: {DEFAULT_OUT})")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    parser.add_argument("--num-proc", type=int, default=None, help="worker processes for Dataset.map")
    parser.add_argument("--batch-size", type=int, default=64, help="rows per Dataset.map batch")
    parser.add_argument("--cache-dir", default=None, help="LF vote cache (default: next to the dataset's cache files)")
    clip = parser.add_argument_group("CLIP")
    clip.add_argument("--clip-model", default="ViT-B-32",
                      help="open_clip architecture, 'local-dir:PATH' or 'hf-hub:ID'")
    clip.add_argument(
        "--clip-pretrained",
        default=None,
        help="open_clip pretrained tag (downloads once) or weights file; not with local-dir:/hf-hub:",
    )
    clip.add_argument("--clip-batch-size", type=int, default=64)
    clip.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    clip.add_argument("--no-clip", action="store_true", help="heuristic and OCR LFs only")
    clip.add_argument("--min-prob", type=float, default=0.5, help="zero-shot: top-class probability to vote")
    clip.add_argument("--min-margin", type=float, default=0.1, help="zero-shot: margin over the runner-up to vote")
    clip.add_argument("--target-precision", type=float, default=0.9, help="zero-shot calibration target on validation")
    clip.add_argument(
        "--align-threshold",
        type=float,
        default=0.22,
        help="image-caption cosine below which a pair is dropped (LAION used 0.28 with ViT-B/32)",
    )
    clip.add_argument("--align-keep", type=float, default=0.3, help="image-caption cosine above which a pair is kept")
    clip.add_argument(
        "--junk-prompt",
        action="append",
        default=None,
        help=f"prompt of unwanted images (repeatable; default {DEFAULT_JUNK_PROMPTS})",
    )
    clip.add_argument("--junk-threshold", type=float, default=0.3, help="cosine to a junk prompt that drops an image")
    heur = parser.add_argument_group("heuristics and OCR")
    heur.add_argument("--min-side", type=int, default=64, help="drop images whose short side is smaller")
    heur.add_argument("--max-aspect", type=float, default=3.0, help="drop images more elongated than this")
    heur.add_argument("--max-blur", type=float, default=50.0, help="drop images whose Laplacian variance is lower")
    heur.add_argument(
        "--dup-distance", type=int, default=4, help="perceptual-hash bits within which images are duplicates"
    )
    heur.add_argument("--no-ocr", action="store_true", help="leave out the RapidOCR LFs")
    heur.add_argument("--ocr-max-side", type=int, default=960)
    heur.add_argument("--text-heavy-chars", type=int, default=12, help="drop images with at least this much text")
    hub = parser.add_argument_group("publishing")
    hub.add_argument("--push-to-hub", metavar="REPO_ID", default=None, help="also publish to this Hub dataset repo")
    hub.add_argument("--private", action="store_true", help="create the Hub repo private")
    args = parser.parse_args(argv)
    if args.no_clip and args.caption_column:
        parser.error("--caption-column is checked with CLIP; drop --no-clip")
    if args.push_to_hub and getattr(mmweak, "push_curated", None) is None:
        parser.error(
            "--push-to-hub needs mmweak.push_curated, which this mmweak lacks; write the folder with --out "
            "and upload it with `hf upload --repo-type dataset REPO_ID OUT_DIR`"
        )
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the recipe; returns counts and scores (also printed)."""
    args = parse_args(argv)
    ds = recipe_data(
        args.data,
        image_column=args.image_column,
        label_column=args.label_column,
        classes=args.classes,
        dup_distance=args.dup_distance,
        num_proc=args.num_proc,
    )
    column = image_column_of(ds, args.image_column)
    print(f"images: {', '.join(f'{s}={len(d)}' for s, d in ds.items())} (column {column!r})")
    if args.caption_column and args.caption_column not in next(iter(ds.values())).column_names:
        raise SystemExit(f"--caption-column {args.caption_column!r} is not a column of {args.data}")
    clip = (
        None
        if args.no_clip
        else ClipModel(args.clip_model, args.clip_pretrained, device=args.device, batch_size=args.clip_batch_size)
    )
    _, names = prepare_labels(ds, args.classes, args.label_column)
    has_gold = args.label_column in next(iter(ds.values())).column_names and names is not None

    lfs = quality_lfs(
        column=column,
        clip=clip,
        caption_column=args.caption_column,
        min_side=args.min_side,
        max_aspect=args.max_aspect,
        max_blur=args.max_blur,
        ocr=not args.no_ocr,
        ocr_max_side=args.ocr_max_side,
        text_heavy_chars=args.text_heavy_chars,
        align_threshold=args.align_threshold,
        align_keep=args.align_keep,
        junk_prompts=args.junk_prompt,
        junk_threshold=args.junk_threshold,
    )
    tasks = [QUALITY]
    if clip is not None and names:
        category = mmweak.Task("category", names, description=CATEGORY_DESCRIPTION)
        lfs += category_lfs(
            ds,
            task=category,
            clip=clip,
            column=column,
            label_column=args.label_column,
            min_prob=args.min_prob,
            min_margin=args.min_margin,
            target_precision=args.target_precision,
        )
        tasks.append(category)
    ds, report = mmweak.apply_lfs(
        ds, lfs, batch_size=args.batch_size, num_proc=args.num_proc, cache_dir=args.cache_dir, return_report=True
    )
    faults = {k: v for k, v in report.faults().items() if v}
    if faults:
        print(f"rows abstained on because the input was unreadable, per LF: {faults}")

    gold = {"category": args.label_column} if has_gold and len(tasks) > 1 else None
    ds = mmweak.aggregate(ds, tasks, gold=gold)
    metrics: dict[str, Any] = {"rows": {s: len(d) for s, d in ds.items()}, "faults": faults}
    for task in tasks:
        split = "validation" if "validation" in ds else next(iter(ds))
        print(mmweak.analyze(ds, task, split=split))
    labels = np.concatenate([read_column(d, QUALITY.label_column) for d in ds.values()])
    metrics["quality"] = {
        "keep": int((labels == 0).sum()),
        "drop": int((labels == 1).sum()),
        "undecided": int((labels == -1).sum()),
    }
    print(
        f"quality: {metrics['quality']['keep']} keep, {metrics['quality']['drop']} drop, "
        f"{metrics['quality']['undecided']} undecided"
    )
    if gold:
        for s, d in ds.items():
            y = read_column(d, args.label_column)
            keep = y >= 0
            if keep.any():
                acc = float((read_column(d, "category_label")[keep] == y[keep]).mean())
                metrics.setdefault("category_accuracy", {})[s] = acc
                print(
                    f"category accuracy on {s}: {acc:.4f} ({int(keep.sum())} gold rows; undecided rows count as wrong)"
                )

    ds = decode_media(ds, [column])
    out = mmweak.save_curated(
        ds,
        args.out,
        overwrite=args.overwrite,
        pretty_name=f"Curated images from {args.data}",
        task_categories=["image-classification"],
    )
    metrics["out"] = str(out)
    print(f"curated dataset written to {out}")
    if args.push_to_hub:
        pushed = mmweak.push_curated(
            ds,
            args.push_to_hub,
            private=args.private,
            pretty_name=f"Curated images from {args.data}",
            task_categories=["image-classification"],
            commit_message="Curate images with mmweak (recipes/image_curation.py)",
        )
        metrics["push"] = pushed
        print(f"pushed to {getattr(pushed, 'repo_url', args.push_to_hub)}")
    return metrics


if __name__ == "__main__":
    main()
