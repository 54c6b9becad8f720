"""The multimodal recipe's data: records with an image, a sound and a caption read from a folder (Hugging Face
folder conventions) or a Hub id, gold columns, and a small real sample folder assembled from Debian packages
(Fashion-MNIST products, Asterisk voice recordings, captions)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any, Sequence

import datasets
import numpy as np
from datasets import Audio, ClassLabel, Dataset, DatasetDict, Image, Value

import mmweak
from mmweak.sources import SPLIT_ALIASES

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
