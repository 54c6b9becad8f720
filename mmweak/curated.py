"""Write a curated dataset as a folder laid out like a Hub dataset repo, and load one back.

Layout::

    README.md                      card: YAML (configs, dataset_info, weak_supervision) + body
    data/<split>-00000-of-0000N.parquet
    label_models/<task>.json       fitted label models (JSON, no pickle)
    plots/<task>_<kind>.png        plots shown in the card (LF bars, reliability diagram, class balance)

The folder is assembled in a temporary sibling and moved into place in one rename, so a failure
never leaves a half-written folder, and an existing folder is only replaced with ``overwrite=True``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Sequence

from datasets import Dataset, DatasetDict, load_dataset
from huggingface_hub import DatasetCard, hf_hub_download

from .card import render_card, task_contexts
from .errors import CuratedDatasetError
from .plots import write_task_plots
from .provenance import read_record, user_description, write_record
from .task import Task

DEFAULT_SHARD_BYTES = 500 * 1024 * 1024


def _as_dict(ds: Dataset | DatasetDict) -> DatasetDict:
    if isinstance(ds, DatasetDict):
        return ds
    if isinstance(ds, Dataset):
        return DatasetDict({str(ds.split) if ds.split is not None else "train": ds})
    raise TypeError(f"expected a datasets.Dataset or DatasetDict, got {type(ds).__name__}")


def write_repo_folder(
    ds: Dataset | DatasetDict,
    folder: str | os.PathLike,
    *,
    pretty_name: str | None = None,
    license: str = "other",
    task_categories: Sequence[str] | None = None,
    max_shard_bytes: int = DEFAULT_SHARD_BYTES,
    load_path: str | None = None,
    plots: bool = True,
) -> list[str]:
    """Write parquet shards, label models, plots and the card into an existing empty ``folder``.

    Returns the repo-relative paths written. Shared by :func:`save_curated` and the Hub push. With
    ``plots`` (default), each task's PNG plots go to ``plots/<task>_<kind>.png`` and the card links them
    relatively, which renders both in the folder and on the Hub.
    """
    dd = _as_dict(ds)
    record = read_record(dd)
    if not record.get("tasks"):
        raise CuratedDatasetError(
            "this dataset carries no weak-supervision record: run mmweak.apply_lfs (and mmweak.aggregate) on it first"
        )
    root = Path(folder)
    written: list[str] = []
    data_files = {}
    for split, d in dd.items():
        if not split.replace("_", "").replace("-", "").isalnum():
            raise CuratedDatasetError(f"split name {split!r} cannot be a file name prefix")
        n = max(1, math.ceil(d.data.nbytes / max_shard_bytes)) if len(d) else 1
        (root / "data").mkdir(parents=True, exist_ok=True)
        for i in range(n):
            rel = f"data/{split}-{i:05d}-of-{n:05d}.parquet"
            d.shard(num_shards=n, index=i, contiguous=True).to_parquet(str(root / rel))
            written.append(rel)
        data_files[split] = f"data/{split}-*"
    model_files = {}
    for name, entry in record["tasks"].items():
        lm = entry.get("label_model")
        if lm and "state" in lm:
            rel = f"label_models/{name}.json"
            (root / "label_models").mkdir(exist_ok=True)
            with open(root / rel, "w", encoding="utf-8") as f:
                json.dump({"model": lm["model"], "params": lm["params"], "state": lm["state"]}, f)
            model_files[name] = rel
            written.append(rel)
    tasks = task_contexts(dict(dd), record, model_files)
    if plots:
        for t in tasks:
            t["plots"] = write_task_plots(t, root)
            written.extend(t["plots"].values())
    card = render_card(
        dict(dd), record, data_files=data_files, model_files=model_files, pretty_name=pretty_name,
        license=license, task_categories=list(task_categories) if task_categories else None,
        user_description=user_description(dd), load_path=load_path or str(root), tasks=tasks,
    )
    card.save(str(root / "README.md"))
    written.append("README.md")
    return written


def save_curated(
    ds: Dataset | DatasetDict,
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    pretty_name: str | None = None,
    license: str = "other",
    task_categories: Sequence[str] | None = None,
    max_shard_bytes: int = DEFAULT_SHARD_BYTES,
) -> Path:
    """Write ``ds`` as a Hub-layout dataset folder with its card; ``datasets.load_dataset(path)`` reads it.

    >>> import datasets, mmweak, tempfile, os
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lf = mmweak.labeling_function(task=spam, inputs="text")(lambda b: [1] * len(b["text"]))
    >>> ds = mmweak.aggregate(mmweak.apply_lfs(datasets.Dataset.from_dict({"text": ["a"]}), [lf]))
    >>> out = mmweak.save_curated(ds, os.path.join(tempfile.mkdtemp(), "curated"))
    >>> sorted(p.name for p in out.iterdir())
    ['README.md', 'data', 'label_models', 'plots']
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass overwrite=True to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        write_repo_folder(
            ds, tmp, pretty_name=pretty_name, license=license, task_categories=task_categories,
            max_shard_bytes=max_shard_bytes, load_path=str(target),
        )
        if target.exists():
            trash = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(target, trash)
            os.replace(tmp, target)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def record_from_card(card: DatasetCard) -> tuple[dict[str, Any], list[Task]]:
    """Rebuild the weak-supervision record and the tasks from a card's ``weak_supervision`` block."""
    block = card.data.to_dict().get("weak_supervision")
    if not block or not block.get("tasks"):
        raise CuratedDatasetError("the card has no weak_supervision block: this is not an mmweak curated dataset")
    record: dict[str, Any] = {"tasks": {}}
    tasks = []
    for item in block["tasks"]:
        task = Task(item["name"], labels=item["labels"], description=item.get("description") or "")
        tasks.append(task)
        entry: dict[str, Any] = {"task": task.to_dict(), "lfs": item.get("lfs", [])}
        if item.get("label_model"):
            entry["label_model"] = {k: v for k, v in item["label_model"].items() if k != "file"}
        if item.get("gold_column"):
            entry["gold_column"] = item["gold_column"]
        if item.get("review"):
            entry["review"] = {k: item["review"][k] for k in ("gold_column", "answers_column", "learning_curve")
                               if k in item["review"]}
        record["tasks"][task.name] = entry
    return record, tasks


def load_curated(
    path_or_repo: str | os.PathLike,
    *,
    split: str | None = None,
    revision: str | None = None,
    token: str | bool | None = None,
) -> tuple[Dataset | DatasetDict, list[Task]]:
    """Load a curated dataset (local folder or Hub repo id) and rebuild its tasks from the card.

    The returned dataset carries the weak-supervision record again, so it can be re-aggregated or
    re-saved with the same card information.

    >>> ds, tasks = load_curated("out/curated")            # doctest: +SKIP
    >>> tasks[0].labels                                     # doctest: +SKIP
    ('ham', 'spam')
    """
    local = Path(path_or_repo)
    if local.is_dir():
        readme = local / "README.md"
        if not readme.exists():
            raise CuratedDatasetError(f"{local} has no README.md card; is it a curated dataset folder?")
        card = DatasetCard.load(readme)
        ds = load_dataset(str(local), split=split)
    else:
        # the card of the same revision as the data (DatasetCard.load alone would read main's)
        card = DatasetCard.load(hf_hub_download(str(path_or_repo), "README.md", repo_type="dataset",
                                                revision=revision, token=token))
        ds = load_dataset(str(path_or_repo), split=split, revision=revision, token=token)
    record, tasks = record_from_card(card)
    splits = ds.values() if isinstance(ds, DatasetDict) else [ds]
    for d in splits:
        for t in tasks:
            if t.votes_column not in d.column_names:
                raise CuratedDatasetError(f"the card names task {t.name!r} but the data has no {t.votes_column!r} column")
    write_record(ds, record)
    return ds, tasks
