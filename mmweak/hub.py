"""Publish a curated dataset to a Hugging Face Hub dataset repo: every split, the label models and the card
in **one commit**, with the card merged into what the repo already has.

The repo content is exactly what :func:`mmweak.curated.write_repo_folder` writes (built in a temporary
folder), so a Hub repo and a local :func:`mmweak.save_curated` folder never differ. A push is one
``HfApi.create_commit`` guarded by ``parent_commit``: LFS files are uploaded first (huggingface_hub
retries those uploads), and nothing becomes visible until the commit lands, so a failed push leaves the
repo exactly as it was — never data from one curation next to the card of another.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import httpx2
import yaml
from datasets import Dataset, DatasetDict
from datasets.info import DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, DatasetCard, DatasetCardData, HfApi, constants
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
from huggingface_hub.hf_api import RepoFile
from huggingface_hub.utils import get_token

from ._version import __version__
from .card_text import card_yaml
from .curated import DEFAULT_SHARD_BYTES, _as_dict, write_repo_folder
from .errors import CuratedDatasetError, MMWeakError
from .provenance import read_record

logger = logging.getLogger(__name__)

CARD_BEGIN = "<!-- mmweak:card:begin (rewritten on every push: edit the card outside these markers) -->"
CARD_END = "<!-- mmweak:card:end -->"
CONFIG_NAME = "default"  # the config mmweak's card declares (configs / dataset_info entry)
OWNED_DIRS = ("data", "label_models")  # stale files there are deleted (data/: only shards named like ours)
_SHARD = re.compile(r"data/[\w.]+-\d{5}-of-\d{5}\.parquet")
_PREFER_EXISTING = ("license", "pretty_name", "task_categories")  # kept from the repo unless passed explicitly
_UNION = ("tags", "annotations_creators")
_RETRY_WAIT = 1.0  # seconds before the first commit retry; doubles each time
_MAX_CONFLICTS = 3


class HubPushError(MMWeakError):
    """A push to the Hub failed; the message says whether the repo was left unchanged."""


@dataclass(frozen=True)
class PushResult:
    """What a push did: the commit (or pull request) it made and the files it wrote and deleted.

    ``files`` is the whole curation (unchanged files included); ``deleted`` the stale files the commit
    removed; ``attempts`` counts commit attempts (retries after a 5xx, re-merges after a concurrent commit).

    >>> r = PushResult("me/spam", "https://huggingface.co/datasets/me/spam", "main", "4f1c" * 10,
    ...                "https://huggingface.co/datasets/me/spam/commit/" + "4f1c" * 10, ("README.md",))
    >>> r.pr_url is None and r.attempts
    1
    """

    repo_id: str
    repo_url: str
    revision: str
    commit_oid: str
    commit_url: str
    files: tuple[str, ...]
    deleted: tuple[str, ...] = ()
    pr_url: str | None = None
    pr_revision: str | None = None
    attempts: int = 1


@dataclass
class _Remote:
    sha: str
    files: dict[str, RepoFile]
    card: str | None


def push_curated(
    ds: Dataset | DatasetDict,
    repo_id: str,
    *,
    private: bool = False,
    token: str | bool | None = None,
    revision: str | None = None,
    commit_message: str | None = None,
    commit_description: str | None = None,
    create_pr: bool = False,
    pretty_name: str | None = None,
    license: str | None = None,
    task_categories: Sequence[str] | None = None,
    max_shard_bytes: int = DEFAULT_SHARD_BYTES,
    commit_retries: int = 2,
    endpoint: str | None = None,
) -> PushResult:
    """Push a curated ``Dataset``/``DatasetDict`` (all splits, label models, card) to a Hub dataset repo.

    One commit carries everything: new parquet shards, the label models, the merged ``README.md`` and the
    deletion of stale files (e.g. the old shards of a split that shrank or disappeared). The repo is created
    if missing with ``private`` honoured (an existing repo keeps its visibility; an existing public one is
    refused with ``private=True``), and so is the ``revision`` branch (from ``main``). ``create_pr=True`` opens
    a pull request against ``revision`` instead of committing to it. The token comes from ``token`` or
    huggingface_hub's usual places (``HF_TOKEN``, the cached login); it is never written to the card, the logs
    or an error message. Upload progress shows through huggingface_hub's progress bars and logging.

    The card is merged with the one on the Hub: the YAML keeps other configs' ``configs``/``dataset_info``
    entries and keys mmweak does not write; ``license``, ``pretty_name`` and ``task_categories`` already on the
    Hub win unless passed here; the generated body sits between ``mmweak:card`` markers and any prose outside
    them is kept. A 5xx or a dropped connection on the commit is retried ``commit_retries`` times (after
    checking whether the commit landed anyway); a concurrent commit to the branch (412) makes the push re-read
    the repo and merge again.

    >>> result = mmweak.push_curated(ds, "me/youtube-spam-weak", private=True)   # doctest: +SKIP
    >>> result.commit_url                                                          # doctest: +SKIP
    'https://huggingface.co/datasets/me/youtube-spam-weak/commit/4f1c...'
    """
    dd = _as_dict(ds)
    if not read_record(dd).get("tasks"):
        raise CuratedDatasetError(
            "this dataset carries no weak-supervision record: run mmweak.apply_lfs (and mmweak.aggregate) on it first"
        )
    if commit_retries < 0:
        raise ValueError(f"commit_retries must be >= 0, got {commit_retries}")
    if constants.is_offline_mode():
        raise HubPushError("pushing to the Hub needs the network, but HF_HUB_OFFLINE is set: unset it (or set it "
                           "to 0), or save locally with mmweak.save_curated")
    api = HfApi(endpoint=endpoint, token=token, library_name="mmweak", library_version=__version__)
    secret = _effective_token(token)
    branch = _branch(revision)
    explicit = {k for k, v in (("license", license), ("pretty_name", pretty_name),
                               ("task_categories", task_categories)) if v}
    with tempfile.TemporaryDirectory(prefix="mmweak-push-") as tmp:
        # the folder first: a curation that cannot be written must not leave an empty repo or branch behind
        write_repo_folder(
            dd, tmp, pretty_name=pretty_name, license=license or "other", task_categories=task_categories,
            max_shard_bytes=max_shard_bytes, load_path=repo_id,
        )
        try:
            repo_url = _ensure_repo(api, repo_id, private)
            if branch != "main" and not branch.startswith("refs/pr/"):
                api.create_branch(repo_id, branch=branch, repo_type="dataset", exist_ok=True)
        except (HfHubHTTPError, httpx2.TransportError) as e:
            raise HubPushError(_redact(f"could not create or open dataset repo {repo_id!r} (branch {branch!r}); "
                                       f"nothing was pushed. Cause: {_describe(e)}", secret)) from e
        local = sorted(p.relative_to(tmp).as_posix() for p in Path(tmp).rglob("*") if p.is_file())
        generated = (Path(tmp) / "README.md").read_text(encoding="utf-8")
        size = sum((Path(tmp) / p).stat().st_size for p in local)
        logger.info("pushing %d files (%.1f MB) to dataset repo %s@%s%s", len(local), size / 1e6, repo_id, branch,
                    " as a pull request" if create_pr else "")
        try:
            return _commit(api, repo_id, repo_url, branch, Path(tmp), local, generated, explicit,
                           commit_message or f"Upload curated dataset (mmweak {__version__})",
                           commit_description, create_pr, commit_retries)
        except HubPushError as e:
            e.args = (_redact(str(e), secret),)
            raise
        except (HfHubHTTPError, httpx2.TransportError, RuntimeError, ValueError) as e:
            if isinstance(e, (RuntimeError, ValueError)) and not _from_hub(e):
                raise
            raise HubPushError(_redact(
                f"pushing to dataset repo {repo_id!r} failed before anything was committed: the repo is unchanged. "
                f"Cause: {_describe(e)}", secret)) from e


def _commit(api: HfApi, repo_id: str, repo_url: str, branch: str, folder: Path, local: list[str], generated: str,
            explicit: set[str], message: str, description: str | None, create_pr: bool,
            retries: int) -> PushResult:
    uploads: dict[str, Any] = {}  # path -> UploadInfo, so retries do not hash the files again
    failures = conflicts = 0
    while True:
        remote = _read_remote(api, repo_id, branch)
        card = merge_card(remote.card, generated, explicit=explicit)
        deleted = stale_files(remote.files, local, card)
        ops: list[Any] = []
        for path in local:
            src: str | bytes = card.encode("utf-8") if path == "README.md" else str(folder / path)
            op = CommitOperationAdd(path_in_repo=path, path_or_fileobj=src)
            if path in uploads and path != "README.md":
                op.upload_info = uploads[path]
            uploads[path] = op.upload_info
            ops.append(op)
        ops += [CommitOperationDelete(path_in_repo=p) for p in deleted]
        attempt = failures + conflicts + 1
        try:
            info = api.create_commit(
                repo_id, ops, commit_message=message, commit_description=description, repo_type="dataset",
                revision=branch, create_pr=create_pr, parent_commit=remote.sha,
            )
        except (HfHubHTTPError, httpx2.TransportError, RuntimeError) as e:
            if not _is_commit_request(e):
                raise  # preupload / LFS upload / YAML validation: nothing was committed
            status = _status(e)
            if status == 412 and not create_pr:
                conflicts += 1
                if conflicts > _MAX_CONFLICTS:
                    raise HubPushError(f"{repo_id}@{branch} keeps changing while pushing ({conflicts} concurrent "
                                       "commits): nothing was committed by this push; try again later") from e
                logger.warning("%s@%s changed while pushing; merging with the new state and retrying", repo_id, branch)
                continue
            if status is not None and status < 500 and status not in (408, 429):
                raise HubPushError(f"the Hub refused the commit to {repo_id}@{branch}: {_describe(e)}. "
                                   f"Nothing was committed: the repo is unchanged at {remote.sha[:12]}") from e
            if create_pr:
                raise HubPushError(f"opening the pull request on {repo_id} failed ({_describe(e)}); it may or may "
                                   "not have been opened: check the repo's pull requests before retrying") from e
            try:
                head = api.repo_info(repo_id, repo_type="dataset", revision=branch).sha
                landed = head != remote.sha and _matches(api, repo_id, head, folder, local, card, deleted)
            except (HfHubHTTPError, httpx2.TransportError) as check:
                raise HubPushError(f"the commit to {repo_id}@{branch} failed ({_describe(e)}) and the repo could not "
                                   f"be read back ({_describe(check)}): the commit may or may not have landed") from e
            if landed:
                logger.warning("the commit to %s@%s landed although the Hub answered %s", repo_id, branch,
                               _describe(e))
                return _result(api, repo_id, repo_url, branch, head, None, local, deleted, attempt)
            failures += 1
            if failures > retries:
                where = (f"the repo is unchanged at {remote.sha[:12]}" if head == remote.sha else
                         f"the branch moved to {head[:12]}, but not by this push")
                raise HubPushError(
                    f"the commit to {repo_id}@{branch} failed {failures} time(s) ({_describe(e)}). Nothing was "
                    f"committed: {where}. The uploaded files are kept by the Hub, so pushing again does not upload "
                    "them again"
                ) from e
            if head == remote.sha:  # otherwise someone else committed meanwhile: merge with that at once
                wait = _RETRY_WAIT * 2 ** (failures - 1)
                logger.warning("commit to %s@%s failed (%s); retrying in %.1fs", repo_id, branch, _describe(e), wait)
                time.sleep(wait)
            continue
        logger.info("committed %s to %s@%s: %s", info.oid[:12], repo_id, branch, info.pr_url or info.commit_url)
        return _result(api, repo_id, repo_url, branch, info.oid, info, local, deleted, attempt)


def _result(api: HfApi, repo_id: str, repo_url: str, branch: str, oid: str, info: Any, local: list[str],
            deleted: list[str], attempts: int) -> PushResult:
    return PushResult(
        repo_id=repo_id, repo_url=repo_url, revision=branch, commit_oid=oid,
        commit_url=info.commit_url if info is not None else f"{api.endpoint}/datasets/{repo_id}/commit/{oid}",
        files=tuple(local), deleted=tuple(deleted),
        pr_url=getattr(info, "pr_url", None), pr_revision=getattr(info, "pr_revision", None), attempts=attempts,
    )


# --- the repo as it is -----------------------------------------------------------------------------------------------

def _branch(revision: str | None) -> str:
    if not revision:
        return "main"
    return revision[len("refs/heads/"):] if revision.startswith("refs/heads/") else revision


def _ensure_repo(api: HfApi, repo_id: str, private: bool) -> str:
    """The repo URL; creates the repo if it does not exist. Refuses to push private data to a public repo."""
    try:
        info = api.repo_info(repo_id, repo_type="dataset")
    except RepositoryNotFoundError:
        url = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        logger.info("created %s dataset repo %s", "private" if private else "public", repo_id)
        return str(url)
    if private and not info.private:
        raise HubPushError(
            f"dataset repo {repo_id!r} exists and is public, but private=True was asked: nothing was pushed. "
            "Make the repo private first (HfApi().update_repo_settings(..., private=True)) or pass private=False"
        )
    return f"{api.endpoint}/datasets/{repo_id}"


def _read_remote(api: HfApi, repo_id: str, branch: str) -> _Remote:
    sha = api.repo_info(repo_id, repo_type="dataset", revision=branch).sha
    files = {f.path: f for f in api.list_repo_tree(repo_id, repo_type="dataset", revision=sha, recursive=True)
             if isinstance(f, RepoFile)}
    card = None
    if "README.md" in files:
        path = api.hf_hub_download(repo_id, "README.md", repo_type="dataset", revision=sha)
        card = Path(path).read_text(encoding="utf-8")
    return _Remote(sha, files, card)


def _matches(api: HfApi, repo_id: str, sha: str, folder: Path, local: list[str], card: str,
             deleted: list[str]) -> bool:
    """Whether commit ``sha`` holds exactly the files this push meant to write (and not the deleted ones)."""
    remote = {f.path: f for f in api.list_repo_tree(repo_id, repo_type="dataset", revision=sha, recursive=True)
              if isinstance(f, RepoFile)}
    if any(p in remote for p in deleted):
        return False
    for path in local:
        data = card.encode("utf-8") if path == "README.md" else (folder / path).read_bytes()
        f = remote.get(path)
        if f is None:
            return False
        if f.lfs is not None:
            if f.lfs.sha256 != hashlib.sha256(data).hexdigest():
                return False
        elif f.blob_id != hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest():
            return False
    return True


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


# --- the card ----------------------------------------------------------------------------------------------------

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


# --- errors and secrets ----------------------------------------------------------------------------------------------

def _effective_token(token: str | bool | None) -> str | None:
    if isinstance(token, str):
        return token
    return None if token is False else get_token()


def _redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "<token>") if secret and len(secret) >= 8 else text


def _status(e: BaseException) -> int | None:
    response = getattr(e, "response", None)
    return getattr(response, "status_code", None)


def _from_hub(e: BaseException) -> bool:
    """Whether a RuntimeError/ValueError out of ``create_commit`` is about the Hub (an upload that failed after
    huggingface_hub's retries, metadata the Hub refused, a malformed answer) rather than a bug."""
    if isinstance(e.__cause__, (HfHubHTTPError, httpx2.TransportError, OSError)):
        return True
    text = str(e)
    return any(s in text for s in ("Invalid metadata in README.md", "LFS batch API", "Malformed response",
                                   "improperly formatted", "Error while uploading"))


def _is_commit_request(e: BaseException) -> bool:
    """Whether the error came from the commit call itself (not preupload, LFS uploads or YAML validation)."""
    request = None
    try:
        request = e.request if isinstance(e, httpx2.TransportError) else getattr(e.response, "request", None)
    except (AttributeError, RuntimeError):
        pass
    return request is not None and "/commit/" in str(request.url.path)


def _describe(e: BaseException) -> str:
    """One line about an error and its cause: types, status, the server's message; never headers (no token)."""
    parts, seen = [], set()
    while e is not None and id(e) not in seen and len(parts) < 2:
        seen.add(id(e))
        if not isinstance(e, httpx2.HTTPStatusError):  # already told by the HfHubHTTPError wrapping it
            if isinstance(e, HfHubHTTPError):
                text = (str(e).strip().splitlines() or [""])[0]
                server = (e.server_message or "").strip()
                text += f" ({' '.join(server.split())})" if server and server not in text else ""
            else:
                text = " ".join(str(e).split())
            parts.append(f"{type(e).__name__}: {text}")
        e = e.__cause__  # type: ignore[assignment]
    return " <- ".join(parts)
