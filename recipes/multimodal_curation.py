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

Reading the records and assembling the sample folder live in :mod:`recipes.multimodal_data`.

The same recipe as data: ``mmweak curate recipes/multimodal_curation.yaml`` (the sample folder). Both run
:func:`recipe_data`, :func:`category_lfs`, :func:`quality_lfs`, :func:`describe_modalities` and
:func:`lf_library.media_columns.decode_media`, so the script and the YAML cannot drift apart.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
from datasets import DatasetDict

import mmweak
from lf_library.media_columns import decode_media
from mmweak.columns import read_matrix
from recipes.multimodal_data import (  # noqa: F401 - the recipe's public names, as before the split
    AUDIO_EXT,
    CATEGORY_DESCRIPTION,
    GOLD_COLUMNS,
    IMAGE_EXT,
    QUALITY,
    SAMPLE_CLASSES,
    SAMPLE_SYNONYMS,
    _Columns,
    add_gold,
    assemble_sample,
    load_records,
    media_columns,
    parse_classes,
    recipe_data,
)

if TYPE_CHECKING:
    from lf_library.classifier import ClassifierVotes

DEFAULT_OUT = "out/multimodal_curated"


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
        descriptions: dict[int | str, str | Sequence[str]] = {c: [c, *synonyms.get(c, [])] for c in task.labels}
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
    ds = recipe_data(data, classes=classes, assemble=bool(args.assemble_sample), rows=args.rows, seed=args.seed,
                     overwrite=args.overwrite)
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
