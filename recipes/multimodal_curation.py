"""Curate records that have an image, a sound and a caption: one label per record from all three modalities.

Run it from the repository root::

    python recipes/multimodal_curation.py --data FOLDER --classes "dog,cow,violin" --out out/mm_curated
    python recipes/multimodal_curation.py --data user/pets-av --classes cat,dog --image-column photo
    # a small real folder (Fashion-MNIST products, Asterisk recordings, captions), then curate it:
    python recipes/multimodal_curation.py --assemble-sample out/mm_sample --out out/mm_curated --overwrite

``FOLDER`` follows the Hugging Face folder conventions: a ``metadata.csv`` or ``metadata.jsonl`` (at the top,
or one per split folder ``train/``, ``validation/``, ``test/``) whose ``*_file_name`` columns name files next
to it — ``image_file_name`` becomes the ``image`` column and ``audio_file_name`` the ``audio`` column, typed
by the files' extensions — plus a free-text caption column (``text`` or ``caption``) and, optionally, gold
columns (``label`` with class names, ``quality`` with keep/drop). A Hub id or any ``load_dataset`` path with
``Image``/``Audio``/text columns works too.

Two tasks, one label model each:

* ``category`` (``--classes``): the ImageNet classifier (EfficientNet-Lite0) and the AudioSet classifier
  (YAMNet) with their labels mapped to the class words (``--synonyms "ankle boot=boot;trouser=pants"``),
  caption keywords and caption-to-class MiniLM similarity. Calibrated on the ``validation`` split when it
  has gold. A model none of whose labels maps to the classes is left out, and the run says so.
* ``quality`` (keep / drop): image heuristics (size, exposure, contrast, blur, undecodable), audio
  heuristics (too short, clipped, level, silence, undecodable; Silero VAD finds speech) and caption checks
  (missing or too short). Each modality sees only its own defects; the label model sees the record.

Missing or corrupt media are counted per modality and labelled from what is there, never dropped. The card
gets a table of each modality's coverage and accuracy (a label model on that modality's LFs alone) next to
the combination, so the gain of using all three is on record.

The same recipe as data: ``mmweak curate recipes/multimodal_curation.yaml`` (the sample folder). Both run
:func:`recipe_data`, :func:`category_lfs`, :func:`quality_lfs`, :func:`describe_modalities` and
:func:`lf_library.media_columns.decode_media`, so the script and the YAML cannot drift apart.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import datasets  # noqa: E402
import numpy as np
from datasets import Audio, ClassLabel, Dataset, DatasetDict, Image, Value  # noqa: E402

import mmweak  # noqa: E402
from lf_library.media_columns import decode_media  # noqa: E402
from mmweak.columns import read_matrix  # noqa: E402
from mmweak.sources import SPLIT_ALIASES  # noqa: E402

if TYPE_CHECKING:
    from lf_library.classifier import ClassifierVotes

DEFAULT_OUT = "out/multimodal_curated"
QUALITY = mmweak.Task("quality", ["keep", "drop"], description="Is every part of the record usable?")
CATEGORY_DESCRIPTION = "What the record is about, from its image, sound and caption"
#: Gold class-id columns :func:`add_gold` writes, by the name column they are made from.
GOLD_COLUMNS = {"label": "category_gold", "quality": "quality_gold"}
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"}
AUDIO_EXT = {".wav", ".flac", ".ogg", ".mp3", ".opus", ".m4a", ".aiff", ".aif"}
_Columns = tuple[str | None, str | None, str | None]  # the image, audio and caption columns


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------

def load_records(data: str | os.PathLike) -> DatasetDict:
    """``data`` as a ``DatasetDict`` with ``Image(decode=False)`` / ``Audio(decode=False)`` media columns.

    A folder's metadata files are read as they are (not through ``imagefolder``/``audiofolder``, which type
    every file column as one modality); ``X_file_name`` columns become ``X`` with paths resolved next to the
    metadata file. Empty cells stay ``None`` (a missing file, counted as a fault by the media LFs).
    """
    p = Path(data)
    if p.is_dir():
        found: dict[str, Path] = {}
        for meta in sorted(p.glob("metadata.*")) + sorted(p.glob("*/metadata.*")):
            if meta.suffix not in (".csv", ".jsonl"):
                continue
            split = "train" if meta.parent == p else SPLIT_ALIASES.get(meta.parent.name, meta.parent.name)
            if split in found:
                raise ValueError(f"{data}: two metadata files for split {split!r}: {found[split]} and {meta}")
            found[split] = meta
        if not found:
            raise ValueError(f"{data}: no metadata.csv or metadata.jsonl (at the top or in split folders)")
        return DatasetDict({split: _from_metadata(meta) for split, meta in found.items()})
    loaded = datasets.load_dataset(str(data))
    if isinstance(loaded, Dataset):
        loaded = DatasetDict({"train": loaded})
    out = {}
    for split, ds in loaded.items():
        for col, feat in ds.features.items():
            if isinstance(feat, (Image, Audio)):
                ds = ds.cast_column(col, type(feat)(decode=False))
        out[SPLIT_ALIASES.get(split, split)] = ds
    return DatasetDict(out)


def _from_metadata(meta: Path) -> Dataset:
    if meta.suffix == ".csv":
        with open(meta, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    else:
        rows = [json.loads(line) for line in meta.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows:
        raise ValueError(f"{meta} has no rows")
    columns: dict[str, list] = {k: [r.get(k) for r in rows] for k in rows[0]}
    features = {}
    out: dict[str, list] = {}
    for key, values in columns.items():
        if key == "file_name" or key.endswith("_file_name"):
            name = key[: -len("_file_name")] or "file"
            paths = [_resolve(meta, v) for v in values]
            exts = {Path(v).suffix.lower() for v in values if v}
            kind = Image if exts <= IMAGE_EXT else Audio if exts <= AUDIO_EXT else None
            if kind is None:
                raise ValueError(f"{meta}: column {key!r} mixes file types {sorted(exts)}; one modality per column")
            out[name] = [None if q is None else {"bytes": None, "path": q} for q in paths]
            features[name] = kind(decode=False)
        else:
            out[key] = [None if v in ("", None) else v for v in values]
            features[key] = Value("string")
    return Dataset.from_dict(out, features=datasets.Features(features))


def _resolve(meta: Path, rel: str | None) -> str | None:
    if rel in (None, ""):
        return None
    norm = os.path.normpath(rel).replace("\\", "/")
    if "://" in rel or os.path.isabs(rel) or norm == ".." or norm.startswith("../"):
        raise ValueError(f"{meta}: file name {rel!r} must be a relative path inside the dataset folder")
    return str(meta.parent / norm)


def media_columns(ds: DatasetDict, image: str | None, audio: str | None, text: str | None) -> _Columns:
    """The image, audio and caption columns (given, or the first of each kind)."""
    feats = next(iter(ds.values())).features
    image = image or next((c for c, f in feats.items() if isinstance(f, Image)), None)
    audio = audio or next((c for c, f in feats.items() if isinstance(f, Audio)), None)
    text = text or next((c for c in ("text", "caption", "description") if c in feats), None)
    for what, col in (("image", image), ("audio", audio), ("caption", text)):
        if col is not None and col not in feats:
            raise ValueError(f"no {what} column {col!r} (columns: {list(feats)})")
    if image is None and audio is None and text is None:
        raise ValueError(f"no image, audio or caption column among {list(feats)}")
    return image, audio, text


def parse_classes(classes: str | Sequence[str]) -> list[str]:
    """Class words from a comma-separated string or a list; at least two, all distinct.

    >>> parse_classes("dog, cow,violin")
    ['dog', 'cow', 'violin']
    """
    parts = classes.split(",") if isinstance(classes, str) else [str(c) for c in classes]
    names = [c.strip() for c in parts if c.strip()]
    if len(names) < 2 or len(set(names)) != len(names):
        raise ValueError(f"--classes needs at least two distinct names, got {names}")
    return names


def recipe_data(path: str | os.PathLike, *, classes: str | Sequence[str], assemble: bool = False, rows: int = 48,
                seed: int = 0, overwrite: bool = False) -> DatasetDict:
    """The recipe's data: media columns read undecoded, gold class ids where the records have gold names.

    Args:
        path: a folder (``metadata.csv``/``metadata.jsonl`` with ``*_file_name`` columns), a data path or Hub id.
        classes: the category classes (a list, or comma-separated), which the gold ``label`` names use.
        assemble: first write the small real sample folder (:func:`assemble_sample`) to ``path``.
        rows, seed: size and seed of the sample.
        overwrite: let ``assemble`` replace a sample assembled in ``path`` before.

    Returns:
        The records (see :func:`load_records`) with ``category_gold`` / ``quality_gold`` (``ClassLabel``).

    Raises:
        ValueError: bad classes or a folder :func:`load_records` cannot read.
    """
    names = parse_classes(classes)
    if assemble:
        info = assemble_sample(path, rows, seed, overwrite=overwrite)
        print(f"assembled {info}")
    ds, _ = add_gold(load_records(path), names)
    return ds


def add_gold(ds: DatasetDict, classes: list[str]) -> tuple[DatasetDict, dict[str, str]]:
    """``category_gold`` / ``quality_gold`` (``ClassLabel``) from ``label`` / ``quality`` name columns."""
    gold = {}
    for src, names in (("label", classes), ("quality", list(QUALITY.labels))):
        out = GOLD_COLUMNS[src]
        if src not in next(iter(ds.values())).column_names:
            continue
        folded = [n.casefold() for n in names]

        def convert(batch: dict, src: str = src, folded: list = folded, out: str = out) -> dict:
            return {out: [folded.index(v.strip().casefold()) if isinstance(v, str) and v.strip().casefold() in folded
                          else -1 for v in batch[src]]}

        ds = DatasetDict({k: v.map(convert, batched=True).cast_column(out, ClassLabel(names=names))
                          for k, v in ds.items()})
        gold[src] = out
    return ds, gold


# --------------------------------------------------------------------------------------------------
# Labeling functions
# --------------------------------------------------------------------------------------------------

def parse_synonyms(text: str | None, classes: Sequence[str]) -> dict[str, list[str]]:
    """``"ankle boot=boot;trouser=pants,jeans"`` -> ``{"ankle boot": ["boot"], "trouser": ["pants", "jeans"]}``.

    >>> parse_synonyms("ankle boot=boot;trouser=pants, jeans", ["trouser", "ankle boot"])
    {'ankle boot': ['boot'], 'trouser': ['pants', 'jeans']}
    """
    out: dict[str, list[str]] = {}
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        cls, _, words = part.partition("=")
        cls = cls.strip()
        if cls not in classes:
            raise ValueError(f"--synonyms names {cls!r}, which is not among the classes {list(classes)}")
        out[cls] = [w.strip() for w in words.split(",") if w.strip()]
    return out


def _columns(dataset: DatasetDict | None, image: str | None, audio: str | None,
             text: str | None) -> _Columns:
    return media_columns(dataset, image, audio, text) if dataset is not None else (image, audio, text)


def category_lfs(dataset: DatasetDict | None = None, *, task: mmweak.Task, image_column: str | None = None,
                 audio_column: str | None = None, text_column: str | None = None,
                 synonyms: str | Mapping[str, Sequence[str]] | None = None, min_score: float = 0.5,
                 min_similarity: float = 0.45, target_precision: float = 0.8, image_model: bool = True,
                 audio_model: bool = True, gold_column: str = "category_gold",
                 notes: list[str] | None = None) -> list[mmweak.LabelingFunction]:
    """Image-classifier, audio-classifier and caption LFs for the category ``task``.

    The classifiers (EfficientNet-Lite0 on ImageNet, YAMNet on AudioSet) vote through their labels mapped to
    the class words; one that maps no label to the classes is left out, and with validation gold each is
    calibrated for ``target_precision`` and left out if it cannot reach it. What was left out and why is
    printed (and appended to ``notes``).

    Args:
        dataset: the recipe's data: finds the columns not given, and calibrates on its ``validation`` split.
        task: the category task; its classes are the class words.
        image_column, audio_column, text_column: the record's columns (default: found in ``dataset``).
        synonyms: extra words per class, ``{"trouser": ["pants"]}`` or ``"trouser=pants;..."``.
        min_score: a classifier's class score to vote.
        min_similarity: caption-to-class cosine (MiniLM) to vote.
        target_precision: classifier calibration target on validation.
        image_model, audio_model: use the ImageNet / AudioSet classifier.
        gold_column: the validation gold class ids used for calibration.
        notes: a list that receives the notes too.

    Returns:
        The LFs, in the order their votes are stored.
    """
    image, audio, text = _columns(dataset, image_column, audio_column, text_column)
    if isinstance(synonyms, str) or synonyms is None:
        synonyms = parse_synonyms(synonyms, task.labels)
    else:
        unknown = sorted(set(synonyms) - set(task.labels))
        if unknown:
            raise ValueError(f"synonyms names {unknown[0]!r}, which is not among the classes {list(task.labels)}")
        synonyms = {c: [str(w) for w in words] for c, words in synonyms.items()}
    dev = None
    if dataset is not None and "validation" in dataset and gold_column in dataset["validation"].column_names:
        dev = dataset["validation"]
    classes = {c: synonyms.get(c, []) for c in task.labels}
    lfs: list[mmweak.LabelingFunction] = []

    def note(line: str) -> None:
        print(line)
        if notes is not None:
            notes.append(line)

    candidates: list[ClassifierVotes] = []
    if image and image_model:
        from lf_library.image import ImageClassifierLF, efficientnet_lite0

        candidates.append(ImageClassifierLF("imagenet_classifier", task=task, classifier=efficientnet_lite0(),
                                            column=image, classes=classes, min_score=min_score))
    if audio and audio_model:
        from lf_library.audio import AudioClassifierLF, Yamnet

        candidates.append(AudioClassifierLF("audioset_classifier", task=task, classifier=Yamnet(), column=audio,
                                            classes=classes, min_score=min_score))
    for lf in candidates:
        try:
            mapping = lf.mapping()
        except ValueError as exc:
            note(f"{lf.name} left out: {exc}")
            continue
        note(f"{lf.name}: {mapping.summary()}")
        if dev is not None:
            lf = lf.calibrated(dev, gold=gold_column, target_precision=target_precision, min_votes=3)
            note(f"{lf.name} calibrated on {len(dev)} validation rows: {lf.calibration}")
            if not lf.calibration.met:  # it cannot be trusted at the target on the classes it maps: leave it out
                note(f"{lf.name} left out: below the target precision on the validation rows")
                continue
        lfs.append(lf)
    if text:
        from lf_library.models import SentenceSimilarityLF
        from lf_library.text import KeywordLF

        for c in task.labels:
            slug = "".join(ch if ch.isalnum() else "_" for ch in c.lower())
            lfs.append(KeywordLF(f"caption_says_{slug}", task=task, label=c, keywords=[c, *synonyms.get(c, [])],
                                 column=text))
        descriptions = {c: [c, *synonyms.get(c, [])] for c in task.labels}
        lfs.append(SentenceSimilarityLF("caption_similarity", task=task, column=text, min_similarity=min_similarity,
                                        min_margin=0.05, descriptions=descriptions))
    return lfs


def quality_lfs(
    dataset: DatasetDict | None = None,
    *,
    task: mmweak.Task = QUALITY,
    image_column: str | None = None,
    audio_column: str | None = None,
    text_column: str | None = None,
    min_side: int = 64,
    max_blur: float = 50.0,
) -> list[mmweak.LabelingFunction]:
    """Per-modality defect LFs and "looks fine" LFs for the keep/drop ``task``.

    Args:
        dataset: the recipe's data, where the columns not given are found.
        task: the keep/drop task.
        image_column, audio_column, text_column: the record's columns (default: found in ``dataset``).
        min_side: drop images whose short side is smaller.
        max_blur: drop images whose Laplacian variance is lower.

    Returns:
        The LFs of the modalities the records have, in the order their votes are stored.

    >>> [lf.name for lf in quality_lfs(text_column="caption")]
    ['caption_missing']
    """
    image, audio, text = _columns(dataset, image_column, audio_column, text_column)
    lfs: list[mmweak.LabelingFunction] = []
    if image:
        from lf_library.image import (
            BlurLF,
            BrightnessLF,
            ContrastLF,
            ImageRangesLF,
            ResolutionLF,
        )
        from lf_library.image import (
            UndecodableLF as ImageUndecodable,
        )

        lfs += [
            ImageUndecodable("image_missing_or_corrupt", column=image, label="drop", task=task),
            ResolutionLF("image_too_small", column=image, min_side=min_side, label="drop", task=task),
            BrightnessLF("image_exposure", column=image, below=0.08, above=0.95, label="drop", task=task),
            ContrastLF("image_washed_out", column=image, below=0.03, label="drop", task=task),
            BlurLF("image_blurry", column=image, max_sharpness=max_blur, label="drop", task=task),
            ImageRangesLF(
                "image_looks_fine",
                column=image,
                label="keep",
                ranges={
                    "min_side": (min_side, None),
                    "brightness": (0.1, 0.92),
                    "contrast": (0.04, None),
                    "sharpness": (2 * max_blur, None),
                },
                task=task,
            ),
        ]
    if audio:
        from lf_library.audio import ClippingLF, DurationLF, LoudnessLF, SilenceRatioLF, SileroVADLF
        from lf_library.audio import UndecodableLF as AudioUndecodable

        lfs += [
            AudioUndecodable("audio_missing_or_corrupt", column=audio, label="drop", task=task),
            DurationLF("audio_too_short", column=audio, low=0.3, below="drop", task=task),
            ClippingLF("audio_clipped", column=audio, high=0.01, above="drop", task=task),
            LoudnessLF("audio_level", column=audio, low=-45.0, below="drop", task=task),
            SilenceRatioLF("audio_mostly_silent", column=audio, threshold_db=-50.0, high=0.9, above="drop", task=task),
            SileroVADLF("audio_has_speech", column=audio, measure="speech_ratio", high=0.2, above="keep", task=task),
        ]
    if text:
        lfs.append(
            mmweak.labeling_function(task=task, modality="text", inputs=[text], name="caption_missing")(
                _caption_check(text)
            )
        )
    return lfs


def _caption_check(column: str):
    def caption_missing(batch: dict) -> list[int]:
        # A caption of fewer than three words tells nothing about the record.
        return [1 if not isinstance(t, str) or len(t.split()) < 3 else -1 for t in batch[column]]

    return caption_missing


# --------------------------------------------------------------------------------------------------
# Per-modality view
# --------------------------------------------------------------------------------------------------


def modality_table(
    ds: DatasetDict,
    task: mmweak.Task,
    lfs: Sequence[mmweak.LabelingFunction],
    gold: str | None,
    fit_split: str,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Coverage and accuracy of each modality's LFs alone (a label model fitted on them only) and of all LFs.

    Accuracy is over the rows with gold (a row that the LFs leave unlabelled counts as wrong); coverage over
    every row. The label model is the default one, fitted on ``fit_split``'s votes for each modality alone.
    """
    mine = [lf for lf in lfs if lf.task.name == task.name]
    groups: dict[str, list[int]] = {}
    for j, lf in enumerate(mine):
        groups.setdefault(lf.modality, []).append(j)
    groups["all"] = list(range(len(mine)))
    L_fit = read_matrix(ds[fit_split], task.votes_column).astype(np.int64)
    L_all = np.concatenate([read_matrix(d, task.votes_column) for d in ds.values()]).astype(np.int64)
    y = np.concatenate([np.asarray(d[gold]) for d in ds.values()]) if gold else None
    rows = []
    for modality, cols in groups.items():
        covered = (L_all[:, cols] >= 0).any(axis=1)
        row: dict[str, Any] = {"modality": modality, "lfs": len(cols), "coverage": float(covered.mean())}
        if y is not None and (y >= 0).any():
            model = mmweak.labelmodels.create(None, cardinality=task.cardinality, random_state=seed).fit(L_fit[:, cols])
            pred = np.where(covered, model.predict(L_all[:, cols], seed=seed), -1)
            has = y >= 0
            row["accuracy"] = float((pred[has] == y[has]).mean())
            row["gold_rows"] = int(has.sum())
        rows.append(row)
    return rows


def format_modality_table(task: mmweak.Task, rows: list[dict[str, Any]], faults: dict[str, int]) -> str:
    """Markdown section for the card.

    >>> t = mmweak.Task("quality", ["keep", "drop"])
    >>> print(format_modality_table(t, [{"modality": "image", "lfs": 2, "coverage": 0.5, "accuracy": 0.8,
    ...       "gold_rows": 10}, {"modality": "all", "lfs": 2, "coverage": 0.5, "accuracy": 0.8, "gold_rows": 10}], {}))
    ### Task `quality`: each modality alone and combined
    <BLANKLINE>
    | modality | LFs | coverage | accuracy (gold rows) |
    |---|---:|---:|---:|
    | image | 2 | 0.500 | 0.800 |
    | all modalities combined | 2 | 0.500 | 0.800 |
    <BLANKLINE>
    Gain of the combination over the best single modality: +0.000 accuracy.
    """
    lines = [
        f"### Task `{task.name}`: each modality alone and combined",
        "",
        "| modality | LFs | coverage | accuracy (gold rows) |",
        "|---|---:|---:|---:|",
    ]
    for r in rows:
        acc = f"{r['accuracy']:.3f}" if "accuracy" in r else "-"
        name = "all modalities combined" if r["modality"] == "all" else r["modality"]
        lines.append(f"| {name} | {r['lfs']} | {r['coverage']:.3f} | {acc} |")
    single = [r["accuracy"] for r in rows if r["modality"] != "all" and "accuracy" in r]
    combined = next((r.get("accuracy") for r in rows if r["modality"] == "all"), None)
    if single and combined is not None:
        lines += ["", f"Gain of the combination over the best single modality: {combined - max(single):+.3f} accuracy."]
    if faults:
        lines += [
            "",
            "Missing or corrupt media (rows labelled from the other modalities, not dropped): "
            + ", ".join(f"{k}: {v}" for k, v in faults.items())
            + ".",
        ]
    return "\n".join(lines)


def describe_modalities(
    dataset: DatasetDict,
    *,
    tasks: Sequence[mmweak.Task],
    lfs: Sequence[mmweak.LabelingFunction],
    seed: int = 0,
    summary: dict[str, Any] | None = None,
) -> DatasetDict:
    """Put each task's per-modality table (:func:`modality_table`) in the dataset's description, for the card.

    Runs after :func:`mmweak.aggregate`: the fit split, the gold columns and the fault counts come from the
    dataset's weak-supervision record, so they are the ones the label models and the LFs used.

    Args:
        dataset: the aggregated records.
        tasks: the tasks to describe.
        lfs: the LFs that voted (their modalities group the votes).
        seed: seed of the per-modality label models.
        summary: a dict that receives ``tables``, ``missing`` (missing or corrupt cells per modality) and ``text``.

    Returns:
        ``dataset``, its description set.
    """
    from mmweak.provenance import read_record

    record = read_record(dataset)
    faults: dict[str, int] = {}
    for entry in record.get("tasks", {}).values():
        for per_lf in (entry.get("faults") or {}).values():
            for name, n in per_lf.items():
                faults[name] = faults.get(name, 0) + int(n)
    missing = {
        m: max((faults.get(lf.name, 0) for lf in lfs if lf.modality == m and hasattr(lf, "limits")), default=0)
        for m in ("image", "audio")
    }
    tables = {}
    for t in tasks:
        entry = record["tasks"][t.name]
        tables[t.name] = modality_table(
            dataset, t, lfs, entry.get("gold_column"), entry["label_model"]["fit"]["split"], seed
        )
    text = "\n\n".join(
        format_modality_table(t, tables[t.name], {f"{m} cells": v for m, v in missing.items() if v}) for t in tasks
    )
    print(text)
    _describe(
        dataset, "Records curated by recipes/multimodal_curation.py from their image, sound and caption.\n\n" + text
    )
    if summary is not None:
        summary.update(tables=tables, missing=missing, text=text)
    return dataset


# --------------------------------------------------------------------------------------------------
# A small real folder
# --------------------------------------------------------------------------------------------------

SAMPLE_CLASSES = ["bag", "sneaker", "trouser", "ankle boot"]
SAMPLE_SYNONYMS = "sneaker=running shoe,trainers;trouser=trousers,pants,jeans;ankle boot=boot,boots"
_FASHION_IDS = {"bag": 8, "sneaker": 7, "trouser": 1, "ankle boot": 9}
_CAPTIONS = {
    "bag": ["a leather bag with a zip", "roomy shoulder bag for work", "small handbag, black", "canvas tote bag"],
    "sneaker": [
        "white sneaker with laces",
        "running shoe, light and breathable",
        "casual trainers for everyday wear",
        "low-top sneaker",
    ],
    "trouser": ["slim fit trousers", "blue denim jeans", "wide leg pants in grey", "classic chino trousers"],
    "ankle boot": [
        "suede ankle boot with a low heel",
        "chelsea boot, brown",
        "lace-up ankle boot",
        "black boots for winter",
    ],
}
_VAGUE = ["new in stock", "limited offer, order today", "bestseller this season"]


def assemble_sample(
    folder: str | os.PathLike, n: int = 48, seed: int = 0, *, overwrite: bool = False
) -> dict[str, Any]:
    """Write a small real multimodal folder: Fashion-MNIST product images, Asterisk voice recordings, captions.

    Images are real Fashion-MNIST test images of four classes, enlarged to 112 px (bicubic); a quarter get a
    real defect (blur, under-exposure, a truncated file, or no file). Audio is a real Asterisk prompt (a voice
    note about the record); a quarter is a recorded beep or silence, a clip cut to 0.2 s, or no file. Captions
    are short product texts (hand-written phrases, some vague, some missing). Gold: ``label`` (the product's
    class) and ``quality`` (``drop`` when any part is defective). ``train``/``validation``/``test`` split
    folders, each with ``metadata.csv``. A non-empty ``folder`` is refused unless ``overwrite=True`` and it
    holds a sample assembled before (whose split folders are then replaced).
    """
    import soundfile as sf
    from PIL import Image as PILImage
    from PIL import ImageEnhance, ImageFilter

    from lf_library.samples import asterisk_sounds, fashion_mnist

    root = Path(folder)
    if root.exists() and any(root.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{root} is not empty; give a new folder")
        if not _is_sample(root):
            raise FileExistsError(f"{root} is not empty and holds no sample assembled before; give a new folder")
        for split in ("train", "validation", "test"):
            shutil.rmtree(root / split, ignore_errors=True)
    rng = np.random.default_rng(seed)
    X, y = fashion_mnist("test")
    sounds = asterisk_sounds()
    by_class = {c: np.flatnonzero(y == i) for c, i in _FASHION_IDS.items()}
    summary: dict[str, Any] = {
        "folder": str(root),
        "rows": {},
        "image_defects": 0,
        "audio_defects": 0,
        "caption_defects": 0,
    }
    splits = [("train", int(n * 0.5)), ("validation", int(n * 0.25)), ("test", n - int(n * 0.5) - int(n * 0.25))]
    k = 0
    for split, count in splits:
        out = root / split
        out.mkdir(parents=True)
        rows = []
        for j in range(count):
            cls = SAMPLE_CLASSES[k % len(SAMPLE_CLASSES)]
            k += 1
            bad = {"image": rng.random() < 0.25, "audio": rng.random() < 0.25, "caption": rng.random() < 0.15}
            img = PILImage.fromarray(X[int(rng.choice(by_class[cls]))]).resize((112, 112), PILImage.Resampling.BICUBIC)
            image_name = f"{split}_{j:03d}.png"
            image_kind = ["blur", "dark", "truncated", "missing"][int(rng.integers(4))] if bad["image"] else "ok"
            if image_kind == "blur":
                img = img.filter(ImageFilter.GaussianBlur(4))
            elif image_kind == "dark":
                img = ImageEnhance.Brightness(img).enhance(0.05)
            buf = io.BytesIO()
            img.convert("RGB").save(buf, format="PNG")
            data = buf.getvalue()
            if image_kind == "truncated":
                data = data[: len(data) // 3]
            if image_kind != "missing":
                (out / image_name).write_bytes(data)
            audio_kind = ["beep", "silence", "short", "missing"][int(rng.integers(4))] if bad["audio"] else "voice"
            audio_name = f"{split}_{j:03d}.wav"
            if audio_kind == "voice":
                src = sounds["prompts"][int(rng.integers(len(sounds["prompts"])))]
            elif audio_kind in ("beep", "silence"):
                pool = [p for p in sounds["nonspeech"] if ("/silence/" in p) == (audio_kind == "silence")]
                src = pool[int(rng.integers(len(pool)))]
            else:
                src = sounds["prompts"][int(rng.integers(len(sounds["prompts"])))]
            if audio_kind != "missing":
                x, sr = sf.read(src, dtype="float32")
                if audio_kind == "short":
                    x = x[: int(0.2 * sr)]
                sf.write(out / audio_name, x, sr, format="WAV", subtype="PCM_16")
            caption = (
                _VAGUE[int(rng.integers(len(_VAGUE)))]
                if rng.random() < 0.3
                else _CAPTIONS[cls][int(rng.integers(len(_CAPTIONS[cls])))]
            )
            if bad["caption"]:
                caption = ""
            rows.append(
                {
                    "image_file_name": "" if image_kind == "missing" else image_name,
                    "audio_file_name": "" if audio_kind == "missing" else audio_name,
                    "text": caption,
                    "label": cls,
                    "quality": "drop" if any(bad.values()) else "keep",
                    "image_condition": image_kind,
                    "audio_condition": audio_kind,
                }
            )
            summary["image_defects"] += bad["image"]
            summary["audio_defects"] += bad["audio"]
            summary["caption_defects"] += bad["caption"]
        with open(out / "metadata.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        summary["rows"][split] = len(rows)
    return summary


def _is_sample(root: Path) -> bool:
    """True when ``root`` holds only split folders whose metadata is what :func:`assemble_sample` writes."""
    splits = ("train", "validation", "test")
    if any(p.name not in splits for p in root.iterdir()):
        return False
    for split in splits:
        meta = root / split / "metadata.csv"
        if not meta.is_file():
            return False
        with open(meta, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f), [])
        if not {"image_condition", "audio_condition"} <= set(header):
            return False
    return True


# --------------------------------------------------------------------------------------------------
# Script
# --------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="folder (metadata.csv/jsonl with *_file_name columns), data path or Hub id")
    src.add_argument("--assemble-sample", metavar="DIR", help="write the small real sample folder to DIR and curate it")
    parser.add_argument(
        "--classes",
        default=None,
        help="comma-separated class words (default with --assemble-sample: " + ",".join(SAMPLE_CLASSES) + ")",
    )
    parser.add_argument("--synonyms", default=None, help='extra words per class: "cls=word,word;cls2=word"')
    parser.add_argument("--image-column", default=None)
    parser.add_argument("--audio-column", default=None)
    parser.add_argument("--text-column", default=None)
    parser.add_argument("--rows", type=int, default=48, help="records in --assemble-sample")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-score", type=float, default=0.5, help="classifier LFs: class score to vote")
    parser.add_argument("--min-similarity", type=float, default=0.45, help="caption-to-class cosine to vote")
    parser.add_argument("--target-precision", type=float, default=0.8, help="classifier calibration on validation")
    parser.add_argument("--min-side", type=int, default=64)
    parser.add_argument("--max-blur", type=float, default=50.0)
    parser.add_argument("--no-image-model", action="store_true", help="leave out the ImageNet classifier")
    parser.add_argument("--no-audio-model", action="store_true", help="leave out the AudioSet classifier")
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--num-proc", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--push-to-hub", metavar="REPO_ID", default=None)
    args = parser.parse_args(argv)
    if args.assemble_sample:
        args.classes = args.classes or ",".join(SAMPLE_CLASSES)
        args.synonyms = args.synonyms if args.synonyms is not None else SAMPLE_SYNONYMS
    if not args.classes:
        parser.error("--classes is required with --data")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the recipe; returns the per-modality tables, fault counts and where the dataset was written."""
    args = parse_args(argv)
    data = args.assemble_sample or args.data
    try:
        classes = parse_classes(args.classes)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    synonyms = parse_synonyms(args.synonyms, classes)
    ds = recipe_data(data, classes=classes, assemble=bool(args.assemble_sample), rows=args.rows, seed=args.seed)
    cols = media_columns(ds, args.image_column, args.audio_column, args.text_column)
    print(
        f"records: {', '.join(f'{s}={len(d)}' for s, d in ds.items())}; image={cols[0]!r} audio={cols[1]!r} "
        f"caption={cols[2]!r}"
    )
    category = mmweak.Task("category", classes, description=CATEGORY_DESCRIPTION)
    notes: list[str] = []
    lfs = category_lfs(
        ds,
        task=category,
        image_column=cols[0],
        audio_column=cols[1],
        text_column=cols[2],
        synonyms=synonyms,
        min_score=args.min_score,
        min_similarity=args.min_similarity,
        target_precision=args.target_precision,
        image_model=not args.no_image_model,
        audio_model=not args.no_audio_model,
        notes=notes,
    )
    lfs += quality_lfs(
        ds,
        image_column=cols[0],
        audio_column=cols[1],
        text_column=cols[2],
        min_side=args.min_side,
        max_blur=args.max_blur,
    )
    ds, report = mmweak.apply_lfs(ds, lfs, batch_size=args.batch_size, num_proc=args.num_proc, return_report=True)
    faults = report.faults()
    tasks = [category, QUALITY]
    columns = next(iter(ds.values())).column_names
    task_gold = {
        t.name: GOLD_COLUMNS[src]
        for t, src in ((category, "label"), (QUALITY, "quality"))
        if GOLD_COLUMNS[src] in columns
    }
    fit_split = "train" if "train" in ds else next(iter(ds))
    ds = mmweak.aggregate(ds, tasks, gold=task_gold or None)
    summary: dict[str, Any] = {}
    ds = describe_modalities(ds, tasks=tasks, lfs=lfs, seed=args.seed, summary=summary)
    for t in tasks:
        print(mmweak.analyze(ds, t, split=fit_split))
    ds = decode_media(ds, [c for c in cols[:2] if c])
    out = mmweak.save_curated(
        ds,
        args.out,
        overwrite=args.overwrite,
        pretty_name=f"Multimodal records from {data}",
        task_categories=["image-classification", "audio-classification", "text-classification"],
    )
    print(f"curated dataset written to {out}")
    result = {
        "tables": summary["tables"],
        "missing": summary["missing"],
        "faults": faults,
        "out": str(out),
        "notes": notes,
    }
    if args.push_to_hub:
        result["push"] = mmweak.push_curated(
            ds,
            args.push_to_hub,
            pretty_name=f"Multimodal records from {data}",
            commit_message="Curate records with mmweak (recipes/multimodal_curation.py)",
        )
    return result


def _describe(ds: DatasetDict, text: str) -> None:
    """Put ``text`` in the dataset's own description, which the card shows under its summary."""
    from mmweak.provenance import read_record, write_record

    record = read_record(ds)
    for d in ds.values():
        d.info.description = text
    write_record(ds, record)


if __name__ == "__main__":
    main()
