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
from .plots import PLOT_KINDS

CARD_BEGIN = "<!-- mmweak:card:begin (rewritten on every push: edit the card outside these markers) -->"
CARD_END = "<!-- mmweak:card:end -->"
CONFIG_NAME = "default"  # the config mmweak's card declares (configs / dataset_info entry)
_SHARD = re.compile(r"data/[\w.]+-\d{5}-of-\d{5}\.parquet")
_PREFER_EXISTING = ("license", "pretty_name", "task_categories")  # kept from the repo unless passed explicitly
_UNION = ("tags", "annotations_creators")


def stale_files(remote: Iterable[str], local: Iterable[str], card: str, previous: str | None = None) -> list[str]:
    """Files of a previous push that this one replaces: shards in ``data/`` named like mmweak's and
    ``datasets.push_to_hub``'s and not used by another config of the merged ``card``, and the label model files
    and plots that the ``previous`` card (the repo's ``README.md`` before this push) says mmweak wrote for its
    tasks. Anything else, an owner's own figure in ``plots/`` included, is not mmweak's to delete.

    >>> old = "---\\nweak_supervision:\\n  tasks:\\n  - name: spam\\n---\\n"
    >>> stale_files(["data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet",
    ...              "data/notes.txt", "other/x.parquet", "README.md", "plots/spam_reliability.png",
    ...              "plots/my_figure.png", "label_models/spam.json", "label_models/notes.json"],
    ...             ["data/train-00000-of-00001.parquet", "README.md"], "---\\n{}\\n---\\n", old)
    ['data/train-00000-of-00002.parquet', 'data/train-00001-of-00002.parquet', 'label_models/spam.json', \
'plots/spam_reliability.png']
    """
    local = set(local)
    protected = _other_config_patterns(card)
    written_before = _written_by(previous)
    stale = []
    for path in sorted(set(remote) - local):
        if _SHARD.fullmatch(path):
            if not any(fnmatch.fnmatch(path, pattern) for pattern in protected):
                stale.append(path)
        elif path in written_before:
            stale.append(path)
    return stale


def _written_by(card: str | None) -> set[str]:
    """The label model files and plots an mmweak card's tasks had (``label_models/<task>.json``,
    ``plots/<task>_<kind>.png``)."""
    if not card:
        return set()
    try:
        ws = DatasetCard(card).data.to_dict().get("weak_supervision") or {}
    except (ValueError, yaml.YAMLError):
        return set()
    names = [str(t.get("name")) for t in ws.get("tasks") or [] if isinstance(t, dict) and t.get("name")]
    return ({f"label_models/{n}.json" for n in names}
            | {f"plots/{n}_{kind}.png" for n in names for kind in PLOT_KINDS})


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
    # datasets takes a config named "default" as the default one, so another marked default makes the repo
    # unloadable ("several default configs"); which of the two a user means to load first is theirs to say
    marked = [c.get("config_name") for c in old_meta.get("configs") or []
              if isinstance(c, dict) and c.get("default") and c.get("config_name") != CONFIG_NAME]
    if marked:
        raise HubPushError(
            f"the repo's card marks config {marked[0]!r} as the default, and mmweak's curated data is config "
            f"{CONFIG_NAME!r}, which datasets also loads by default: with both, load_dataset fails ('several default "
            f"configs'). Nothing was pushed. Remove `default: true` from {marked[0]!r} in the repo's README.md (it "
            f"then loads with load_dataset(repo, {marked[0]!r})), or push to another repo or branch"
        )
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
