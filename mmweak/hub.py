"""Publish a curated dataset to a Hugging Face Hub dataset repo: every split, the label models and the card
in **one commit**, with the card merged into what the repo already has.

The repo content is exactly what :func:`mmweak.curated.write_repo_folder` writes (built in a temporary
folder), so a Hub repo and a local :func:`mmweak.save_curated` folder never differ. A push is one
``HfApi.create_commit`` guarded by ``parent_commit``: LFS files are uploaded first (huggingface_hub
retries those uploads), and nothing becomes visible until the commit lands, so a failed push leaves the
repo exactly as it was — never data from one curation next to the card of another.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import httpx2
from datasets import Dataset, DatasetDict
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, constants
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
from huggingface_hub.hf_api import RepoFile

from ._version import __version__
from .annotator_names import annotator_emails as find_annotator_emails
from .curated import DEFAULT_SHARD_BYTES, _as_dict, write_repo_folder
from .errors import CuratedDatasetError
from .hub_card import CARD_BEGIN, CARD_END, merge_card, stale_files
from .hub_errors import HubPushError, _describe, _effective_token, _from_hub, _is_commit_request, _redact, _status
from .provenance import read_record

# merge_card, stale_files and the card markers are part of this module's public face since before the split
__all__ = ["CARD_BEGIN", "CARD_END", "HubPushError", "PushResult", "merge_card", "push_curated", "stale_files"]

logger = logging.getLogger(__name__)

_RETRY_WAIT = 1.0  # seconds before the first commit retry; doubles each time
_MAX_CONFLICTS = 3


@dataclass(frozen=True)
class PushResult:
    """What a push did: the commit (or pull request) it made and the files it wrote and deleted.

    ``files`` is the whole curation (unchanged files included); ``deleted`` the stale files the commit
    removed; ``attempts`` counts commit attempts (retries after a 5xx, re-merges after a concurrent commit);
    ``changed`` is false when the repo already held exactly this curation (no commit, and no pull request, made).

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
    changed: bool = True

    def summary(self) -> str:
        """What the push did, in the words ``mmweak push`` and ``mmweak curate --push-to-hub`` print.

        >>> r = PushResult("me/spam", "https://hub/datasets/me/spam", "main", "4f1c" * 10, "https://hub/c/4f1c",
        ...                ("README.md",), deleted=("data/extra-00000-of-00001.parquet",))
        >>> print(r.summary())
        pushed to https://hub/datasets/me/spam (main): https://hub/c/4f1c; deleted 1 stale file: \
data/extra-00000-of-00001.parquet
        >>> print(PushResult("me/spam", "u", "main", "4f1c" * 10, "c", (), pr_url="u/discussions/1").summary())
        opened a pull request on u against main: u/discussions/1
        >>> print(PushResult("me/spam", "u", "main", "4f1c" * 10, "c", (), changed=False).summary())
        me/spam (main) already holds this curation: no commit or pull request made
        """
        if not self.changed:
            return f"{self.repo_id} ({self.revision}) already holds this curation: no commit or pull request made"
        line = (f"opened a pull request on {self.repo_url} against {self.revision}: {self.pr_url}" if self.pr_url
                else f"pushed to {self.repo_url} ({self.revision}): {self.commit_url}")
        if self.deleted:  # a re-push replaces the earlier curation's files; say which, they stay in the history
            more = len(self.deleted) - 5
            shown = ", ".join(self.deleted[:5]) + (f" and {more} more" if more > 0 else "")
            line += f"; deleted {len(self.deleted)} stale file{'s' if len(self.deleted) > 1 else ''}: {shown}"
        return line


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
    license: str | list[str] | None = None,
    task_categories: Sequence[str] | None = None,
    max_shard_bytes: int = DEFAULT_SHARD_BYTES,
    commit_retries: int = 2,
    endpoint: str | None = None,
    annotator_emails: str = "refuse",
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

    People named by e-mail address (Label Studio's names, in answers columns and annotator LFs:
    :func:`mmweak.annotator_names.annotator_emails`) are not published unless ``annotator_emails="publish"``
    says they may be: by default (``"refuse"``) the push stops before anything is sent, and says where they are.
    :func:`mmweak.review.rename_annotators` with :func:`mmweak.review.pseudonyms` replaces them.

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
    if annotator_emails not in ("refuse", "publish"):
        raise ValueError(f"annotator_emails must be 'refuse' or 'publish', got {annotator_emails!r}")
    emails = find_annotator_emails(dd) if annotator_emails == "refuse" else []
    if emails:
        raise CuratedDatasetError(
            f"this dataset names {len(emails)} place(s) of its people by e-mail address, and a push would publish "
            f"them (first: {emails[0]}). Rename them first: ds = mmweak.review.rename_annotators(ds, task, "
            "mmweak.review.pseudonyms(KEY)) for each task (or a mapping of names), on the copy you push; or, where "
            "the people agreed, pass annotator_emails='publish' (CLI: --publish-annotator-emails; recipe: "
            "output.push_to_hub.annotator_emails: publish). Nothing was pushed. Where: " + "; ".join(emails[:10])
            + (f"; and {len(emails) - 10} more" if len(emails) > 10 else ""))
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
            # a branch's card names it (its data is not on main); a pull request's is read once merged into its base
            load_revision=None if branch == "main" or branch.startswith("refs/pr/") else branch,
        )
        created = False
        try:
            repo_url, created = _ensure_repo(api, repo_id, private)
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
            e.args = (_redact(str(e) + _left_behind(repo_id, created), secret),)
            raise
        except (HfHubHTTPError, httpx2.TransportError, RuntimeError, ValueError) as e:
            if isinstance(e, (RuntimeError, ValueError)) and not _from_hub(e):
                raise
            state = "it is empty" if created else "the repo is unchanged"
            raise HubPushError(_redact(
                f"pushing to dataset repo {repo_id!r} failed before anything was committed: {state}. "
                f"Cause: {_describe(e)}{_left_behind(repo_id, created)}", secret)) from e


def _left_behind(repo_id: str, created: bool) -> str:
    """What a failed push that created its repo leaves: the empty repo (the Hub makes a repo before any commit)."""
    if not created:
        return ""
    return (f". The repo {repo_id!r} was created for this push and holds no data: push again, or delete it "
            f"(HfApi().delete_repo({repo_id!r}, repo_type='dataset'))")


def _commit(api: HfApi, repo_id: str, repo_url: str, branch: str, folder: Path, local: list[str], generated: str,
            explicit: set[str], message: str, description: str | None, create_pr: bool,
            retries: int) -> PushResult:
    uploads: dict[str, Any] = {}  # path -> UploadInfo, so retries do not hash the files again
    failures = conflicts = 0
    while True:
        remote = _read_remote(api, repo_id, branch)
        card = merge_card(remote.card, generated, explicit=explicit)
        deleted = stale_files(remote.files, local, card, remote.card)
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
                assert head is not None  # a branch's info always names its commit
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
        return _result(api, repo_id, repo_url, branch, info.oid, info, local, deleted, attempt,
                       changed=info.oid != remote.sha or bool(info.pr_url))


def _result(api: HfApi, repo_id: str, repo_url: str, branch: str, oid: str, info: Any, local: list[str],
            deleted: list[str], attempts: int, changed: bool = True) -> PushResult:
    return PushResult(
        repo_id=repo_id, repo_url=repo_url, revision=branch, commit_oid=oid,
        commit_url=info.commit_url if info is not None else f"{api.endpoint}/datasets/{repo_id}/commit/{oid}",
        files=tuple(local), deleted=tuple(deleted) if changed else (),
        pr_url=getattr(info, "pr_url", None), pr_revision=getattr(info, "pr_revision", None), attempts=attempts,
        changed=changed,
    )


# --- the repo as it is -----------------------------------------------------------------------------------------------

def _branch(revision: str | None) -> str:
    if not revision:
        return "main"
    if len(revision) == 40 and all(c in "0123456789abcdef" for c in revision):
        # the Hub would make a branch of that name: a push lands on a branch, never on a commit
        raise ValueError(f"revision {revision!r} is a commit id; a push needs a branch (new or existing) or a "
                         f"pull request's refs/pr/N")
    return revision[len("refs/heads/"):] if revision.startswith("refs/heads/") else revision


def _ensure_repo(api: HfApi, repo_id: str, private: bool) -> tuple[str, bool]:
    """The repo URL and whether this call created it. Refuses to push private data to a public repo."""
    try:
        info = api.repo_info(repo_id, repo_type="dataset")
    except RepositoryNotFoundError:
        url = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        logger.info("created %s dataset repo %s", "private" if private else "public", repo_id)
        return str(url), True
    if private and not info.private:
        raise HubPushError(
            f"dataset repo {repo_id!r} exists and is public, but private=True was asked: nothing was pushed. "
            "Make the repo private first (HfApi().update_repo_settings(..., private=True)) or pass private=False"
        )
    return f"{api.endpoint}/datasets/{repo_id}", False


def _read_remote(api: HfApi, repo_id: str, branch: str) -> _Remote:
    sha = api.repo_info(repo_id, repo_type="dataset", revision=branch).sha
    assert sha is not None  # a branch's info always names its commit
    files = {f.path: f for f in api.list_repo_tree(repo_id, repo_type="dataset", revision=sha, recursive=True)
             if isinstance(f, RepoFile)}
    card = None
    if "README.md" in files:
        try:
            path = api.hf_hub_download(repo_id, "README.md", repo_type="dataset", revision=sha)
        except OSError as e:  # a failed download ends as "not in the local cache", which says nothing of the push
            raise HubPushError(f"could not read the card (README.md) of dataset repo {repo_id!r} at {sha[:12]}, "
                               f"which the push keeps your text of: nothing was pushed, the repo is unchanged. "
                               f"Cause: {_describe(e)}") from e
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
