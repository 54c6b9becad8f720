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

import glob
import json
import math
import os
import re
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import Audio as AudioFeature
from datasets import Dataset, DatasetDict, Features, load_dataset
from datasets import Image as ImageFeature
from datasets.exceptions import DatasetGenerationError
from datasets.table import embed_table_storage
from huggingface_hub import DatasetCard, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

from .card import SplitSize, card_edited, context_from_measures, measure_task, render_card_from
from .columns import is_media, split_dict
from .errors import CuratedDatasetError
from .folder_publish import clear_leftovers, publish_folder
from .plots import PLOT_KINDS, write_task_plots
from .provenance import read_record, user_description, write_record
from .split_schema import aligned_splits
from .task import Task

DEFAULT_SHARD_BYTES = 500 * 1024 * 1024
#: Hugging Face split names: word characters, optionally dot-separated (``train``, ``train.v2``).
SPLIT_NAME = re.compile(r"^\w+(\.\w+)*$")
MAX_SPLIT_NAME = 200  # shard files are "<split>-00000-of-00001.parquet": stay under the 255-byte file-name limit
#: What a folder written by :func:`save_curated` holds; anything else in it belongs to someone else.
OWNED_ENTRIES = {"README.md", "data", "label_models", "plots", ".gitattributes"}


def _has_media(ds: Dataset) -> bool:
    """True when ``ds`` has an image/audio/video column (possibly nested) whose cells may point at files."""
    found = []

    def visit(feature: Any) -> None:
        if is_media(feature):
            found.append(feature)
        elif isinstance(feature, dict):
            for v in feature.values():
                visit(v)
        elif isinstance(feature, (list, tuple)):
            for v in feature:
                visit(v)
        elif hasattr(feature, "feature"):
            visit(feature.feature)

    visit(dict(ds.features))
    return bool(found)


def _missing_media_emptied(d: Dataset, split: str) -> Dataset:
    """``d`` with its image and audio cells that point at a file no longer there made empty, said with the split,
    column and rows: the folder embeds every file, and one gone file failed the save after all the work was done
    (the LFs had already counted the cell as a fault, and the row keeps its votes and labels)."""
    import dataclasses

    for col, feature in d.features.items():
        if not isinstance(feature, (ImageFeature, AudioFeature)):
            continue
        raw = d.select_columns([col]).cast_column(col, dataclasses.replace(feature, decode=False))
        gone: list[int] = []
        start = 0
        for batch in raw.with_format("arrow").iter(batch_size=10_000):
            cells = batch.column(col).combine_chunks()
            # only cells that hold a path and no bytes are looked at (their bytes are never read into Python)
            by_path = pc.and_(pc.is_valid(cells), pc.and_(pc.is_null(pc.struct_field(cells, "bytes")),
                                                          pc.is_valid(pc.struct_field(cells, "path"))))
            paths = pc.struct_field(cells, "path")
            for i in np.flatnonzero(by_path.to_numpy(zero_copy_only=False)):
                path = paths[int(i)].as_py()
                if "://" not in path and not os.path.exists(path):
                    gone.append(start + int(i))
            start += len(cells)
        if not gone:
            continue
        first = raw[gone[0]][col]["path"]
        many = len(gone) > 1
        warnings.warn(f"split {split!r}, column {col!r}: {'rows' if many else 'row'} {gone[:10]}"
                      f"{'...' if len(gone) > 10 else ''} {'point at files' if many else 'points at a file'} no "
                      f"longer there ({first!r}{', ...' if many else ''}); saved with an empty {col!r} cell, "
                      f"{'their' if many else 'its'} votes and labels kept", stacklevel=2)
        empty = set(gone)
        d = d.cast_column(col, dataclasses.replace(feature, decode=False)).map(
            lambda cells, rows: {col: [None if r in empty else c for c, r in zip(cells, rows)]}, batched=True,
            with_indices=True, input_columns=[col], keep_in_memory=True, desc=f"emptying missing files ({split})",
        ).cast_column(col, feature)
    return d


def check_split_name(split: str) -> str:
    """``split`` if it is a valid Hugging Face split name, else a :class:`CuratedDatasetError` stating the rule.

    >>> check_split_name("train.v2")
    'train.v2'
    >>> check_split_name("my split")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mmweak.errors.CuratedDatasetError: split name 'my split' is not allowed: a split name is letters, ... characters
    """
    rule = ("a split name is letters, digits and _ in dot-separated parts (like train or train.v2), "
            f"at most {MAX_SPLIT_NAME} characters")
    if not isinstance(split, str) or not SPLIT_NAME.match(split) or len(split.encode()) > MAX_SPLIT_NAME:
        shown = split if not isinstance(split, str) or len(split) <= 60 else split[:57] + "..."
        raise CuratedDatasetError(f"split name {shown!r} is not allowed: {rule}")
    return split


def is_curated_folder(folder: Path) -> bool:
    """True when ``folder`` holds only what :func:`save_curated` writes and its card is an mmweak card."""
    if not folder.is_dir() or folder.is_symlink():
        return False
    entries = {p.name for p in folder.iterdir()}
    if not entries <= OWNED_ENTRIES or "README.md" not in entries:
        return False
    try:
        meta = DatasetCard.load(folder / "README.md").data.to_dict()
    except Exception:  # noqa: BLE001 - an unreadable card is not ours
        return False
    block = meta.get("weak_supervision")
    if not isinstance(block, dict) or "mmweak_version" not in block:
        return False
    # Only the files this card's splits and tasks make: a user's "plots/annotator_agreement.png" or
    # "label_models/my_tuned_model.json" beside them makes the folder someone else's too.
    try:
        tasks = [str(t["name"]) for t in block.get("tasks") or []]
        infos = meta.get("dataset_info") or []
        splits = {str(s["name"]) for info in (infos if isinstance(infos, list) else [infos])
                  for s in info.get("splits") or []}
        splits |= {str(f["split"]) for c in meta.get("configs") or [] for f in c.get("data_files") or []
                   if isinstance(f, dict) and "split" in f}
    except (TypeError, KeyError, AttributeError):
        return False
    # Shards of the card's splits; a hand-edited card that names none: shards of any split.
    names = "|".join(map(re.escape, sorted(splits))) if splits else r"[\w.]+"
    shards = re.compile(rf"^(?:{names})-\d{{5}}-of-\d{{5}}\.parquet$")
    owned = {
        "data": lambda name: shards.match(name) is not None,
        "label_models": {f"{t}.json" for t in tasks}.__contains__,
        "plots": {f"{t}_{kind}.png" for t in tasks for kind in PLOT_KINDS}.__contains__,
    }
    for sub, ours in owned.items():
        d = folder / sub
        if d.exists() and (not d.is_dir() or any(p.is_dir() or not ours(p.name) for p in d.iterdir())):
            return False
    return True


def check_target(target: Path, overwrite: bool) -> None:
    """Raise unless :func:`save_curated` may write ``target`` (new, or with ``overwrite`` a folder it wrote)."""
    resolved = target.resolve()
    cwd = Path.cwd().resolve()
    protected = {cwd, *cwd.parents, Path.home().resolve(), Path(resolved.anchor)}
    if resolved in protected:
        raise CuratedDatasetError(
            f"refusing to write a curated dataset to {str(target)!r} ({resolved}): it is the working directory, one of "
            f"its parents, the home folder or a filesystem root; give a new folder such as 'out/curated'"
        )
    if not target.exists():
        return
    if not overwrite:
        raise FileExistsError(f"{target} exists; pass overwrite=True to replace it")
    if not is_curated_folder(target):
        if target.is_dir():
            foreign = sorted(p.name for p in target.iterdir() if p.name not in OWNED_ENTRIES)[:5]
            what = f"it holds files mmweak did not write ({', '.join(foreign)})" if foreign else (
                "it is not a curated dataset written by mmweak (no mmweak card, or unexpected files inside)")
        else:
            what = "it is a file, not a curated dataset folder"
        raise CuratedDatasetError(
            f"refusing to replace {str(target)!r}: {what}. overwrite=True only replaces a folder that save_curated "
            f"wrote; choose another path or remove it yourself"
        )
    if card_edited((target / "README.md").read_text(encoding="utf-8")):
        warnings.warn(f"{target / 'README.md'} was edited by hand since mmweak wrote it: overwrite=True replaces it "
                      "with a new card, and those edits are not kept (copy them out first if you need them)",
                      stacklevel=3)


def _as_dict(ds: Dataset | DatasetDict) -> DatasetDict:
    return ds if isinstance(ds, DatasetDict) else DatasetDict(split_dict(ds))


def write_repo_folder(
    ds: Dataset | DatasetDict,
    folder: str | os.PathLike,
    *,
    pretty_name: str | None = None,
    license: str | list[str] = "other",
    task_categories: Sequence[str] | None = None,
    max_shard_bytes: int = DEFAULT_SHARD_BYTES,
    load_path: str | None = None,
    load_revision: str | None = None,
    plots: bool = True,
) -> list[str]:
    """Write parquet shards, label models, plots and the card into an existing empty ``folder``.

    Returns the repo-relative paths written. Shared by :func:`save_curated` and the Hub push. With
    ``plots`` (default), each task's PNG plots go to ``plots/<task>_<kind>.png`` and the card links them
    relatively, which renders both in the folder and on the Hub.
    """
    record = curated_record(_as_dict(ds))
    dd = aligned_splits(_as_dict(ds))  # one schema for all splits, or a clear error before anything is written
    root = Path(folder)
    written: list[str] = []
    for split in dd:
        check_split_name(split)
    for split, d in dd.items():
        if _has_media(d):
            d = dd[split] = _missing_media_emptied(d, split)
        n = shard_count(len(d), d.data.nbytes, max_shard_bytes)
        (root / "data").mkdir(parents=True, exist_ok=True)
        for i in range(n):
            rel = shard_path(split, i, n)
            shard = d.shard(num_shards=n, index=i, contiguous=True)
            if _has_media(d):  # a Hub-layout folder holds its images and audio, as push_to_hub's shards do
                shard = shard.with_format("arrow").map(embed_table_storage, batched=True, batch_size=1000,
                                                       keep_in_memory=True, desc=f"embedding media ({split})")
            shard.to_parquet(str(root / rel))
            written.append(rel)
    sizes = {split: SplitSize(len(d), int(d.data.nbytes)) for split, d in dd.items()}
    measures = {name: measure_task(dict(dd), entry) for name, entry in record["tasks"].items()}
    written += write_repo_extras(
        root, record, sizes=sizes, features=next(iter(dd.values())).features, measures=measures,
        user_description=user_description(dd), pretty_name=pretty_name, license=license,
        task_categories=task_categories, load_path=load_path or str(root), load_revision=load_revision, plots=plots,
    )
    return written


def curated_record(ds: Any) -> dict[str, Any]:
    """The weak-supervision record of a dataset about to be published; an error if it has no tasks."""
    record = read_record(ds) if isinstance(ds, (Dataset, DatasetDict)) else ds
    if not record.get("tasks"):
        raise CuratedDatasetError(
            "this dataset carries no weak-supervision record: run mmweak.apply_lfs (and mmweak.aggregate) on it first"
        )
    return record


def shard_count(rows: int, nbytes: int, max_shard_bytes: int) -> int:
    """How many parquet shards a split of ``nbytes`` (in memory) is written as."""
    return max(1, math.ceil(nbytes / max_shard_bytes)) if rows else 1


def shard_path(split: str, index: int, count: int) -> str:
    """Repo-relative path of shard ``index`` of ``count`` of ``split``."""
    return f"data/{split}-{index:05d}-of-{count:05d}.parquet"


def shard_bounds(rows: int, count: int) -> list[tuple[int, int]]:
    """Row ranges of ``count`` contiguous shards of ``rows`` rows, as ``Dataset.shard(contiguous=True)`` cuts them.

    >>> shard_bounds(10, 3)
    [(0, 4), (4, 7), (7, 10)]
    """
    div, mod = divmod(rows, count)
    out = []
    for i in range(count):
        start = div * i + min(i, mod)
        out.append((start, start + div + (1 if i < mod else 0)))
    return out


def write_repo_extras(
    root: Path,
    record: dict[str, Any],
    *,
    sizes: Mapping[str, SplitSize],
    features: Features,
    measures: Mapping[str, Mapping[str, Any]],
    user_description: str = "",
    pretty_name: str | None = None,
    license: str | list[str] = "other",
    task_categories: Sequence[str] | None = None,
    load_path: str,
    load_revision: str | None = None,
    plots: bool = True,
) -> list[str]:
    """Everything but the data shards: label models, plots and the card, from per-task measurements.

    ``measures`` maps each task to :func:`mmweak.card.measure_task`'s dict (or an engine's equivalent).
    """
    written: list[str] = []
    data_files = {split: f"data/{split}-*" for split in sizes}
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
    tasks = [context_from_measures(entry, model_files.get(name), measures[name])
             for name, entry in record["tasks"].items()]
    if plots:
        for t in tasks:
            t["plots"] = write_task_plots(t, root)
            written.extend(t["plots"].values())
    card = render_card_from(
        sizes, features, record, data_files=data_files, model_files=model_files, pretty_name=pretty_name,
        license=license, task_categories=list(task_categories) if task_categories else None,
        user_description=user_description, load_path=load_path, load_revision=load_revision, tasks=tasks,
    )
    with open(root / "README.md", "w", encoding="utf-8", newline="\n") as f:
        f.write(getattr(card, "mmweak_text", None) or str(card))
    written.append("README.md")
    return written


def save_curated(
    ds: Dataset | DatasetDict,
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    pretty_name: str | None = None,
    license: str | list[str] = "other",
    task_categories: Sequence[str] | None = None,
    max_shard_bytes: int = DEFAULT_SHARD_BYTES,
) -> Path:
    """Write ``ds`` as a Hub-layout dataset folder with its card; ``datasets.load_dataset(path)`` reads it.

    The folder is built beside ``path`` and renamed into place, so a failure leaves nothing half-written.
    ``overwrite=True`` replaces ``path`` only if it is a curated folder this function wrote (its card and
    nothing but its files); any other existing folder, the working directory and its parents are refused
    with :class:`~mmweak.errors.CuratedDatasetError`, so nothing of the user's is ever deleted. Split names
    follow the Hub's rule (see :func:`check_split_name`).

    >>> import datasets, mmweak, tempfile, os
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lf = mmweak.labeling_function(task=spam, inputs="text")(lambda b: [1] * len(b["text"]))
    >>> ds = mmweak.aggregate(mmweak.apply_lfs(datasets.Dataset.from_dict({"text": ["a"]}), [lf]))
    >>> out = mmweak.save_curated(ds, os.path.join(tempfile.mkdtemp(), "curated"))
    >>> sorted(p.name for p in out.iterdir())
    ['README.md', 'data', 'label_models', 'plots']
    """
    target = Path(path)
    clear_leftovers(target)  # a swap cut short puts the old folder back first: the check then sees it
    check_target(target, overwrite)
    for split in _as_dict(ds):
        check_split_name(split)
    return publish_folder(target, lambda tmp: write_repo_folder(
        ds, tmp, pretty_name=pretty_name, license=license, task_categories=task_categories,
        max_shard_bytes=max_shard_bytes, load_path=str(target),
    ), overwrite=overwrite, replaceable=is_curated_folder)


def not_a_repo_id(path_or_repo: str | os.PathLike) -> bool:
    """Whether ``path_or_repo``, not a folder, cannot be a Hub repo id either: an existing file, an absolute or dotted
    path, or more than one slash (so the caller says "no such folder" instead of asking the Hub).

    >>> not_a_repo_id("/tmp/out/curated"), not_a_repo_id("./curated"), not_a_repo_id("me/spam"), not_a_repo_id("spam")
    (True, True, False, False)
    >>> not_a_repo_id("data\\\\curated"), not_a_repo_id("out/"), not_a_repo_id("")
    (True, True, True)
    """
    text, local = str(path_or_repo), Path(path_or_repo)
    return (not text.strip() or local.exists() or local.is_absolute() or text.startswith(("./", "../", "~"))
            or text.count("/") > 1 or "\\" in text or text.endswith("/"))


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
        if item.get("faults"):
            entry["faults"] = {str(split): {str(lf): int(n) for lf, n in per_lf.items()}
                               for split, per_lf in item["faults"].items()}
        if item.get("review"):
            entry["review"] = {k: item["review"][k] for k in ("gold_column", "answers_column", "learning_curve")
                               if k in item["review"]}
        record["tasks"][task.name] = entry
    if block.get("recipe"):  # how it was built travels on: a re-rendered or re-pushed card keeps it
        record["recipe"] = dict(block["recipe"])
    return record, tasks


def record_with_models(card: DatasetCard, read: Callable[[str], str]) -> tuple[dict[str, Any], list[Task]]:
    """:func:`record_from_card` with each fitted label model's state put back, read from the files the card names
    (``read``: path in the folder or repo -> text), so that a re-save or a refit from the record keeps them."""
    record, tasks = record_from_card(card)
    for item in card.data.to_dict()["weak_supervision"]["tasks"]:
        rel = (item.get("label_model") or {}).get("file")
        if not rel:
            continue
        try:
            state = json.loads(read(rel))["state"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CuratedDatasetError(f"the card names label model file {rel!r} but it cannot be read: {exc}") from exc
        record["tasks"][item["name"]]["label_model"]["state"] = state
    return record, tasks


def _local_data_files(folder: Path, card: DatasetCard) -> dict[str, str]:
    """The card's data files per split as patterns under ``folder``, its path escaped: a folder named with
    glob characters (``[``, ``*``) would otherwise be read as a pattern by ``datasets``."""
    configs = card.data.to_dict().get("configs") or []
    files = next((c.get("data_files") for c in configs if c.get("config_name") == "default"), None) or []
    if not files:
        raise CuratedDatasetError(f"the card in {folder} lists no data files (configs)")
    base = glob.escape(str(folder))
    return {f["split"]: f"{base}/{f['path']}" for f in files}


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

    >>> import datasets, mmweak, tempfile, os
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lf = mmweak.labeling_function(task=spam, inputs="text")(lambda b: [int("!" in t) for t in b["text"]])
    >>> made = mmweak.aggregate(mmweak.apply_lfs(datasets.Dataset.from_dict({"text": ["hi!", "hello"]}), [lf]),
    ...                         model="majority")
    >>> folder = mmweak.save_curated(made, os.path.join(tempfile.mkdtemp(), "curated"))
    >>> ds, tasks = load_curated(folder)
    >>> tasks[0].labels, ds["train"]["spam_label"][:], read_record(ds)["tasks"]["spam"]["label_model"]["model"]
    (('ham', 'spam'), [1, 0], 'majority')
    """
    try:
        local = Path(path_or_repo).expanduser()
    except RuntimeError:  # ~user of no such user
        local = Path(path_or_repo)
    if str(path_or_repo).strip() and local.is_dir():
        readme = local / "README.md"
        if not readme.exists():
            raise CuratedDatasetError(f"{local} has no README.md card; is it a curated dataset folder?")
        card = DatasetCard.load(readme)
        try:
            ds = load_dataset("parquet", data_files=_local_data_files(local, card), split=split)
        except (DatasetGenerationError, pa.ArrowException) as exc:  # a shard cut short: said, not datasets' internals
            cause = exc.__cause__ if isinstance(exc, DatasetGenerationError) and exc.__cause__ else exc
            raise CuratedDatasetError(
                f"the data files of the curated folder {str(local)!r} cannot be read ({type(cause).__name__}: "
                f"{' '.join(str(cause).split())[:300]}): a shard is damaged or partly copied. Write the folder again "
                "(mmweak curate, mmweak.save_curated) or copy it whole") from exc
    else:
        if not_a_repo_id(path_or_repo):
            raise CuratedDatasetError(f"no curated folder at {str(path_or_repo)!r} (and it is no Hub repo id, "
                                      f"'user/name')")
        # the card of the same revision as the data (DatasetCard.load alone would read main's)
        try:
            card = DatasetCard.load(hf_hub_download(str(path_or_repo), "README.md", repo_type="dataset",
                                                    revision=revision, token=token))
        except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as exc:
            raise CuratedDatasetError(
                f"no curated folder at {str(path_or_repo)!r}, and no card of a Hub dataset repo of that name could "
                f"be read ({type(exc).__name__}: {' '.join(str(exc).split())[:300]})") from exc
        try:
            ds = load_dataset(str(path_or_repo), split=split, revision=revision, token=token)
        except (ConnectionError, HfHubHTTPError) as exc:  # the card came, the data did not (offline mode, a drop)
            raise CuratedDatasetError(
                f"the card of Hub dataset repo {str(path_or_repo)!r} was read but its data could not be "
                f"({type(exc).__name__}: {' '.join(str(exc).split())[:300]}); with HF_DATASETS_OFFLINE=1 datasets "
                "reads only what it has cached") from exc
    def model_file(rel: str) -> str:
        if local.is_dir():
            return (local / rel).read_text(encoding="utf-8")
        return Path(hf_hub_download(str(path_or_repo), rel, repo_type="dataset", revision=revision,
                                    token=token)).read_text(encoding="utf-8")

    record, tasks = record_with_models(card, model_file)
    splits = ds.values() if isinstance(ds, DatasetDict) else [ds]
    for d in splits:
        for t in tasks:
            if t.votes_column not in d.column_names:
                raise CuratedDatasetError(
                    f"the card names task {t.name!r} but the data has no {t.votes_column!r} column")
    write_record(ds, record)
    return ds, tasks
