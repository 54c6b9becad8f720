"""The repo side of a push: mmweak's card merged into the ``README.md`` a repo already has, and which files of a
previous push the new one replaces."""

from __future__ import annotations

import fnmatch
import re
from typing import Any, Iterable

import yaml
from datasets.info import DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCard, DatasetCardData

from .card_text import card_yaml
from .hub_errors import HubPushError

CARD_BEGIN = "<!-- mmweak:card:begin (rewritten on every push: edit the card outside these markers) -->"
CARD_END = "<!-- mmweak:card:end -->"
CONFIG_NAME = "default"  # the config mmweak's card declares (configs / dataset_info entry)
OWNED_DIRS = ("data", "label_models")  # stale files there are deleted (data/: only shards named like ours)
_SHARD = re.compile(r"data/[\w.]+-\d{5}-of-\d{5}\.parquet")
_PREFER_EXISTING = ("license", "pretty_name", "task_categories")  # kept from the repo unless passed explicitly
_UNION = ("tags", "annotations_creators")


def stale_files(remote: Iterable[str], local: Iterable[str], card: str) -> list[str]:
    """Files of a previous push that this one replaces: in ``data/`` (shards named like mmweak's and
    ``datasets.push_to_hub``'s), ``label_models/`` or another folder this push writes, and not used by
    another config of the card.

    >>> stale_files(["data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet",
    ...              "data/notes.txt", "other/x.parquet", "README.md"],
    ...             ["data/train-00000-of-00001.parquet", "README.md"], "---\\n{}\\n---\\n")
    ['data/train-00000-of-00002.parquet', 'data/train-00001-of-00002.parquet']
    """
    local = set(local)
    owned = set(OWNED_DIRS) | {p.split("/", 1)[0] for p in local if "/" in p}
    protected = _other_config_patterns(card)
    stale = []
    for path in sorted(set(remote) - local):
        top = path.split("/", 1)[0]
        if "/" not in path or top not in owned or (top == "data" and not _SHARD.fullmatch(path)):
            continue
        if any(fnmatch.fnmatch(path, pattern) for pattern in protected):
            continue
        stale.append(path)
    return stale


def _other_config_patterns(card: str) -> list[str]:
    meta = DatasetCard(card).data.to_dict()
    patterns: list[str] = []
    for config in meta.get("configs") or []:
        if not isinstance(config, dict) or config.get("config_name") == CONFIG_NAME:
            continue
        files = config.get("data_files") or []
        data_dir = config.get("data_dir")
        for item in [files] if isinstance(files, (str, dict)) else files:
            paths = item.get("path") if isinstance(item, dict) else item
            for p in [paths] if isinstance(paths, str) else (paths or []):
                patterns.append(f"{data_dir.rstrip('/')}/{p}" if data_dir else p)
        if data_dir and not files:
            patterns.append(f"{data_dir.rstrip('/')}/*")
    return patterns


def merge_card(existing: str | None, generated: str, *, explicit: Iterable[str] = ()) -> str:
    """Merge a freshly generated mmweak card into the ``README.md`` a repo already has.

    YAML: ``configs`` and ``dataset_info`` entries of other configs are kept and mmweak's ``default`` entries
    replaced (as ``datasets.push_to_hub`` does); ``tags``/``annotations_creators`` are united; ``license``,
    ``pretty_name`` and ``task_categories`` already in the card are kept unless named in ``explicit``; keys
    mmweak does not write are kept. Body: the generated text goes between ``mmweak:card`` markers; text
    outside the markers (or the whole body of a card without them) is the user's and is kept.

    >>> old = "---\\nlicense: mit\\nlanguage: en\\n---\\n# My data\\n\\nHand-written notes.\\n"
    >>> new = "---\\nlicense: other\\ntags:\\n- mmweak\\n---\\n# Generated\\n"
    >>> merged = merge_card(old, new)
    >>> print(merged.split("---")[1].strip())
    language: en
    license: mit
    tags:
    - mmweak
    >>> "Hand-written notes." in merged and "# Generated" in merged
    True
    >>> merge_card(merged, new.replace("Generated", "Regenerated")).count("Hand-written notes.")
    1
    """
    new = DatasetCard(generated)
    new_meta = new.data.to_dict()
    block = f"{CARD_BEGIN}\n{new.text.strip()}\n{CARD_END}\n"
    if not existing or not existing.strip():
        return _render(new_meta, block)
    try:
        old = DatasetCard(existing)
    except (ValueError, yaml.YAMLError) as e:
        raise HubPushError(
            f"the README.md already in the repo has unreadable YAML metadata ({e}); fix or remove it, then push "
            "again (mmweak merges its card into the existing one rather than overwrite it)"
        ) from None
    old_meta = old.data.to_dict()
    explicit = set(explicit)
    merged = dict(old_meta)
    for key, value in new_meta.items():
        if key in ("configs", "dataset_info"):
            continue
        if key in _PREFER_EXISTING and key not in explicit and old_meta.get(key):
            continue
        if key in _UNION and isinstance(old_meta.get(key), list) and isinstance(value, list):
            value = list(dict.fromkeys([*old_meta[key], *value]))
        merged[key] = value
    card_data = DatasetCardData(**merged)
    new_data = DatasetCardData(**new_meta)
    MetadataConfigs.from_dataset_card_data(new_data).to_dataset_card_data(card_data)
    DatasetInfosDict.from_dataset_card_data(new_data).to_dataset_card_data(card_data)

    text = old.text
    i, j = text.find(CARD_BEGIN), text.find(CARD_END)
    if 0 <= i < j:
        body = text[:i] + block + text[j + len(CARD_END):].lstrip("\n")
    elif "weak_supervision" in old_meta:  # an mmweak card from before the markers: all of it was generated
        body = block
    else:
        body = (text.strip() + "\n\n" if text.strip() else "") + block
    return _render(card_data.to_dict(), body)


def _render(meta: dict[str, Any], body: str) -> str:
    return f"---\n{card_yaml(DatasetCardData(**meta).to_dict())}\n---\n\n{body.lstrip()}"
