"""A local Hugging Face Hub protocol server for offline tests (stdlib ``http.server`` + PyYAML).

It speaks the parts of the Hub's HTTP API that ``huggingface_hub`` (``create_repo``, ``create_commit``,
``hf_hub_download``, ``HfFileSystem``) and ``datasets.load_dataset`` use, with the behaviour that matters
for correctness: real commit history (oids, parents, branches, ``refs/pr/N``), 409 on an existing repo,
412 on a stale ``parentCommit``, ``X-Error-Code``/``X-Error-Message`` headers, private repos answering
401/404 without a valid token, LFS objects uploaded through the batch API to a *different origin* (the
"CDN", ``localhost`` instead of ``127.0.0.1``) that never needs nor receives the Hub token, and resolve
redirects for LFS files like the Hub's. Faults can be injected per route (``server.inject``).

This module never imports ``huggingface_hub``: it is imported by ``tests/conftest.py`` before
``huggingface_hub`` so that ``HF_ENDPOINT`` can point at a socket bound here (``bind_socket``).

Endpoints (``{t}`` is ``models``/``datasets``/``spaces``, ``{id}`` is ``namespace/name``)::

    GET    /api/whoami-v2
    POST   /api/repos/create                 DELETE /api/repos/delete        PUT /api/{t}/{id}/settings
    GET    /api/{t}/{id}                     GET    /api/{t}/{id}/revision/{rev}
    GET    /api/{t}/{id}/tree/{rev}[/{path}] (recursive, expand, cursor pagination with Link headers)
    POST   /api/{t}/{id}/paths-info/{rev}    POST   /api/{t}/{id}/preupload/{rev}
    POST   /api/{t}/{id}/commit/{rev}        (NDJSON; create_pr=1; parentCommit -> 412)
    POST   /api/{t}/{id}/branch/{branch}     DELETE /api/{t}/{id}/branch/{branch}
    GET    /api/{t}/{id}/refs                GET    /api/{t}/{id}/commits/{rev}
    POST   /api/validate-yaml
    POST   /[datasets/|spaces/]{id}.git/info/lfs/objects/batch    (basic transfer)
    PUT    <cdn>/_lfs/upload/{oid}?...        POST   /_lfs/verify/{t}/{id}
    HEAD/GET /[datasets/|spaces/]{id}/resolve/{rev}/{path}   (ETag, X-Repo-Commit, Range; LFS -> 302 to CDN)
    HEAD/GET <cdn>/_cdn/{oid}?...             (Range)

Run it by hand with ``PYTHONPATH=tests python -m fakes.hub_server --port 8765`` and export what it prints.
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import hashlib
import hmac
import itertools
import json
import re
import secrets
import socket
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import yaml

DEFAULT_USER = "mmweak-tester"
#: A fake token (never a real one): the tests export it as ``HF_TOKEN``.
DEFAULT_TOKEN = "hf_mmweakLocalTestTokenDoNotLeak0123456789"
OTHER_USER = "someone-else"
OTHER_TOKEN = "hf_someoneElseLocalTestToken9876543210abc"

TYPE_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
API_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
LFS_THRESHOLD = 10 * 1024 * 1024  # files above this go to LFS whatever their name (Hub rule)
TREE_PAGE = 1000  # the Hub's page sizes for /tree (50 when expand=True)
TREE_PAGE_EXPANDED = 50
INTERNAL_ERROR = "Internal Error - We're working hard to fix this as soon as possible!"

# What the Hub writes into a new repo's .gitattributes (abridged to the extensions that matter here).
LFS_PATTERNS = (
    "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.lz4", "*.mds",
    "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb", "*.pickle",
    "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors", "*.tar", "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip",
    "*.zst", "*tfevents*", "*.mp3", "*.ogg", "*.wav", "*.flac", "*.jpg", "*.jpeg", "*.png", "*.gif", "*.webp",
    "*.mp4", "*.webm",
)
GITATTRIBUTES = "".join(f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in LFS_PATTERNS)

# --- what /api/validate-yaml accepts (the subset of the Hub's schema a dataset card uses) -----------------
LICENSES = frozenset("""
apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0 bigcode-openrail-m
afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda cc cc0-1.0 cc-by-2.0 cc-by-2.5
cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0
cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 cdla-sharing-1.0 cdla-permissive-1.0
cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1 eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0
lgpl lgpl-2.1 lgpl-3.0 isc h-research intel-research lppl-1.3c ms-pl apple-ascl apple-amlr mpl-2.0 odc-by odbl
openrail++ osl-3.0 postgresql ofl-1.1 ncsa unlicense zlib pddl lgpl-lr deepfloyd-if-license llama2 llama3
llama3.1 llama3.2 llama3.3 llama4 gemma unknown other
""".split())
TASK_CATEGORIES = frozenset("""
text-classification token-classification table-question-answering question-answering zero-shot-classification
translation summarization feature-extraction text-generation fill-mask sentence-similarity text-to-speech
text-to-audio automatic-speech-recognition audio-to-audio audio-classification audio-text-to-text
voice-activity-detection depth-estimation image-classification object-detection image-segmentation text-to-image
image-to-text image-to-image image-to-video unconditional-image-generation video-classification
reinforcement-learning robotics tabular-classification tabular-regression tabular-to-text table-to-text
multiple-choice text-ranking text-retrieval time-series-forecasting text-to-video image-text-to-text
visual-question-answering document-question-answering zero-shot-image-classification graph-ml mask-generation
zero-shot-object-detection text-to-3d image-to-3d image-feature-extraction video-text-to-text keypoint-detection
visual-document-retrieval any-to-any other
""".split())
CREATORS = frozenset({"crowdsourced", "expert-generated", "found", "machine-generated", "no-annotation", "other"})
SIZE_CATEGORIES = frozenset({
    "n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B", "1B<n<10B",
    "10B<n<100B", "100B<n<1T", "n>1T", "unknown",
})


def validate_card_yaml(content: str) -> tuple[list[str], list[str]]:
    """``(errors, warnings)`` for a README's YAML front matter, like the Hub's validate-yaml."""
    m = re.match(r"^\s*---\s*\n(.*?)\n---\s*(\n|$)", content, re.DOTALL)
    if not m:
        return [], ["empty or missing yaml metadata in repo card"]
    try:
        meta = yaml.safe_load(m.group(1))
    except yaml.YAMLError as e:
        return [f"Invalid YAML in README.md front matter: {e}"], []
    if meta is None:
        return [], ["empty or missing yaml metadata in repo card"]
    if not isinstance(meta, dict):
        return ['"metadata" must be an object'], []
    errors: list[str] = []

    def str_or_list(key: str, allowed: frozenset[str] | None = None) -> None:
        if key not in meta:
            return
        v = meta[key]
        items = [v] if isinstance(v, str) else v
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            errors.append(f'"{key}" must be a string or an array of strings')
            return
        for i in items:
            if allowed is not None and i not in allowed:
                errors.append(f'"{key}" has an unknown value "{i}"')

    str_or_list("license", LICENSES)
    str_or_list("language")
    str_or_list("tags")
    str_or_list("task_categories", TASK_CATEGORIES)
    str_or_list("task_ids")
    str_or_list("annotations_creators", CREATORS)
    str_or_list("language_creators", CREATORS)
    str_or_list("size_categories", SIZE_CATEGORIES)
    if "pretty_name" in meta and not isinstance(meta["pretty_name"], str):
        errors.append('"pretty_name" must be a string')
    errors += _validate_configs(meta.get("configs"))
    errors += _validate_dataset_info(meta.get("dataset_info"))
    return errors, []


def _validate_configs(configs: Any) -> list[str]:
    if configs is None:
        return []
    if not isinstance(configs, list):
        return ['"configs" must be an array']
    errors, names, defaults = [], set(), 0
    for i, c in enumerate(configs):
        if not isinstance(c, dict) or not isinstance(c.get("config_name"), str):
            errors.append(f'"configs[{i}].config_name" is required and must be a string')
            continue
        if c["config_name"] in names:
            errors.append(f'"configs[{i}].config_name" "{c["config_name"]}" is duplicated')
        names.add(c["config_name"])
        defaults += bool(c.get("default"))
        df = c.get("data_files")
        if df is None:
            continue
        ok = isinstance(df, str) or (isinstance(df, list) and all(
            isinstance(x, str) or (isinstance(x, dict) and isinstance(x.get("split"), str)
                                   and (isinstance(x.get("path"), str) or (isinstance(x.get("path"), list)
                                        and all(isinstance(p, str) for p in x["path"]))))
            for x in df))
        if not ok:
            errors.append(f'"configs[{i}].data_files" must be a path, a list of paths or a list of {{split, path}}')
    if defaults > 1:
        errors.append('"configs": only one config can be the default')
    return errors


def _validate_dataset_info(info: Any) -> list[str]:
    if info is None:
        return []
    items = info if isinstance(info, list) else [info]
    errors = []
    for i, d in enumerate(items):
        if not isinstance(d, dict):
            errors.append(f'"dataset_info[{i}]" must be an object')
            continue
        if isinstance(info, list) and not isinstance(d.get("config_name"), str):
            errors.append(f'"dataset_info[{i}].config_name" is required when dataset_info is an array')
        feats = d.get("features")
        if feats is not None and not isinstance(feats, (list, dict)):
            errors.append(f'"dataset_info[{i}].features" must be an array')
        for j, s in enumerate(d.get("splits") or []):
            if not (isinstance(s, dict) and isinstance(s.get("name"), str)
                    and isinstance(s.get("num_examples", 0), int) and isinstance(s.get("num_bytes", 0), int)):
                errors.append(f'"dataset_info[{i}].splits[{j}]" must have a name and integer sizes')
    return errors


# --- storage -------------------------------------------------------------------------------------------------

def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(oid: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n".encode()


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class Blob:
    size: int
    git_oid: str
    content: bytes | None = None  # regular files
    lfs_oid: str | None = None  # sha256 of LFS files

    @classmethod
    def regular(cls, data: bytes) -> "Blob":
        return cls(size=len(data), git_oid=git_blob_oid(data), content=data)

    @classmethod
    def lfs(cls, oid: str, size: int) -> "Blob":
        return cls(size=size, git_oid=git_blob_oid(lfs_pointer(oid, size)), lfs_oid=oid)

    @property
    def pointer_size(self) -> int:
        return len(lfs_pointer(self.lfs_oid or "", self.size))


@dataclass
class Commit:
    oid: str
    parents: tuple[str, ...]
    title: str
    message: str
    author: str
    date: str
    files: dict[str, Blob]


@dataclass
class Repo:
    type: str
    id: str
    private: bool
    created_at: str
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    prs: dict[int, str] = field(default_factory=dict)
    lfs: set[str] = field(default_factory=set)

    @property
    def namespace(self) -> str:
        return self.id.split("/")[0]


class HubError(Exception):
    """An HTTP error answered the way the Hub does (``X-Error-Code`` / ``X-Error-Message`` + JSON)."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None,
                 body: dict[str, Any] | None = None):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code
        self.headers = headers or {}
        self.body = body


@dataclass
class RequestRecord:
    method: str
    route: str
    path: str
    status: int
    authorization: bool


class HubState:
    """Users, repos, LFS objects and faults; every access under one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tokens: dict[str, str] = {}
        self.orgs: dict[str, set[str]] = {}
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lfs_objects: dict[str, bytes] = {}
        self.faults: dict[str, list[str]] = {}
        self.requests: list[RequestRecord] = []
        self.secret = secrets.token_bytes(16)
        self._counter = itertools.count()

    # users ------------------------------------------------------------------------------------------------
    def add_user(self, name: str, token: str, orgs: Iterable[str] = ()) -> None:
        with self.lock:
            self.tokens[token] = name
            self.orgs[name] = set(orgs)

    def can_write(self, user: str | None, namespace: str) -> bool:
        return user is not None and (user == namespace or namespace in self.orgs.get(user, set()))

    # repos ------------------------------------------------------------------------------------------------
    def new_commit(self, repo: Repo, parents: tuple[str, ...], files: dict[str, Blob], title: str, message: str,
                   author: str) -> Commit:
        payload = json.dumps([parents, sorted((p, b.git_oid) for p, b in files.items()), title, message, author,
                              time.time(), next(self._counter)])
        commit = Commit(hashlib.sha1(payload.encode()).hexdigest(), parents, title, message, author, _now(), files)
        repo.commits[commit.oid] = commit
        return commit

    def create_repo(self, repo_type: str, repo_id: str, private: bool, author: str) -> Repo:
        repo = Repo(type=repo_type, id=repo_id, private=private, created_at=_now())
        first = self.new_commit(repo, (), {".gitattributes": Blob.regular(GITATTRIBUTES.encode())},
                                "initial commit", "", author)
        repo.branches["main"] = first.oid
        self.repos[(repo_type, repo_id)] = repo
        return repo

    def resolve(self, repo: Repo, rev: str) -> Commit:
        """A branch, ``refs/heads/x``, ``refs/pr/N`` or a (prefix of a) commit oid."""
        rev = unquote(rev)
        if rev.startswith("refs/heads/"):
            rev = rev[len("refs/heads/"):]
        if rev in repo.branches:
            return repo.commits[repo.branches[rev]]
        m = re.fullmatch(r"refs/pr/(\d+)", rev)
        if m and int(m.group(1)) in repo.prs:
            return repo.commits[repo.prs[int(m.group(1))]]
        if re.fullmatch(r"[0-9a-f]{7,40}", rev):
            hits = [c for oid, c in repo.commits.items() if oid.startswith(rev)]
            if len(hits) == 1:
                return hits[0]
        raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")


# --- the HTTP layer ---------------------------------------------------------------------------------------------

class _Drop(Exception):
    """Close the connection without answering (a dropped upload, a crashed proxy)."""


class HubRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_HTTPServer"

    # plumbing -------------------------------------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet: tests read server.requests
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    @property
    def hub(self) -> "HubServer":
        return self.server.hub

    @property
    def state(self) -> HubState:
        return self.server.hub.state

    def _body(self, limit: int | None = None) -> bytes:
        """The request body (Content-Length or chunked); at most ``limit`` bytes are read when given."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    self._body_read = True
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
                if limit is not None and len(out) >= limit:
                    return bytes(out)
        n = int(self.headers.get("Content-Length") or 0)
        self._body_read = limit is None or limit >= n
        return self.rfile.read(n if limit is None else min(n, limit))

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/json; charset=utf-8") -> None:
        self.send_response(status)
        headers = {"Content-Type": content_type, "X-Request-Id": f"Root=1-{secrets.token_hex(8)}", **(headers or {})}
        for k, v in headers.items():
            self.send_header(k, str(v).encode("latin-1", "replace").decode("latin-1"))  # headers are latin-1
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        self._status = status

    def _json(self, obj: Any, status: int = 200, headers: dict[str, str] | None = None,
              content_type: str = "application/json; charset=utf-8") -> None:
        self._send(status, json.dumps(obj).encode(), headers, content_type)

    def _dispatch(self, method: str) -> None:
        self._status, self._body_read, self.fault = 0, False, None
        url = urlsplit(self.path)
        self.query = {k: v for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        raw = url.path.split("/")
        route = "unknown"
        try:
            self.user = self._auth()
            route, handler, args = self._route(method, raw)
            fault = self.hub.take_fault(route)
            if fault == "drop":
                self._body(limit=max(1, int(self.headers.get("Content-Length") or 2) // 2))
                raise _Drop()
            if fault is not None and fault.isdigit():
                self._body()
                raise HubError(int(fault), INTERNAL_ERROR if fault.startswith("5") else "Injected error")
            self.fault = fault
            handler(*args)
        except _Drop:
            self._status = -1
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        except HubError as e:
            if not self._body_read:
                try:
                    self._body()
                except OSError:
                    pass
            headers = {"X-Error-Message": e.message, **e.headers}
            if e.code:
                headers["X-Error-Code"] = e.code
            self._json(e.body if e.body is not None else {"error": e.message}, e.status, headers)
        except Exception as e:  # a bug here must not look like a network fault that clients retry
            traceback.print_exc()
            self.close_connection = True
            self._json({"error": f"hub_server.py bug: {e!r}"}, 500, {"X-Error-Message": "hub_server.py bug"})
        finally:
            with self.state.lock:
                self.state.requests.append(RequestRecord(method, route, url.path, self._status,
                                                         "authorization" in {k.lower() for k in self.headers}))

    def _auth(self) -> str | None:
        value = self.headers.get("Authorization")
        if not value:
            return None
        token = value.split(" ", 1)[1].strip() if " " in value else value.strip()
        user = self.state.tokens.get(token)
        if user is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        return user

    def _route(self, method: str, raw: list[str]) -> tuple[str, Any, tuple]:
        seg = [unquote(s) for s in raw[1:]]
        if seg[:1] == ["api"]:
            return self._api_route(method, raw[2:], seg[1:])
        if seg[:2] == ["_lfs", "upload"] and method == "PUT" and len(seg) == 3:
            return "lfs_upload", self._lfs_upload, (seg[2],)
        if seg[:2] == ["_lfs", "verify"] and method == "POST" and len(seg) == 5:
            return "lfs_verify", self._lfs_verify, (API_TYPES.get(seg[2], ""), f"{seg[3]}/{seg[4]}")
        if seg[:1] == ["_cdn"] and method in ("GET", "HEAD") and len(seg) == 2:
            return "cdn", self._cdn, (seg[1],)
        repo_type = "model"
        if seg and seg[0] in ("datasets", "spaces"):
            repo_type, seg, raw = API_TYPES[seg[0]], seg[1:], raw[1:]
        if len(seg) >= 2 and seg[1].endswith(".git") and seg[2:] == ["info", "lfs", "objects", "batch"]:
            return "lfs_batch", self._lfs_batch, (repo_type, f"{seg[0]}/{seg[1][:-4]}")
        if len(seg) >= 5 and seg[2] == "resolve" and method in ("GET", "HEAD"):
            return "resolve", self._resolve, (repo_type, f"{seg[0]}/{seg[1]}", raw[4], "/".join(seg[4:]))
        raise HubError(404, f"Sorry, we can't find the page you are looking for: {method} {self.path}")

    def _api_route(self, method: str, raw: list[str], seg: list[str]) -> tuple[str, Any, tuple]:
        if seg == ["whoami-v2"] and method == "GET":
            return "whoami", self._whoami, ()
        if seg == ["validate-yaml"] and method == "POST":
            return "validate_yaml", self._validate_yaml, ()
        if seg == ["repos", "create"] and method == "POST":
            return "create_repo", self._create_repo, ()
        if seg == ["repos", "delete"] and method == "DELETE":
            return "delete_repo", self._delete_repo, ()
        if len(seg) >= 3 and seg[0] in API_TYPES:
            t, rid, rest, rest_raw = API_TYPES[seg[0]], f"{seg[1]}/{seg[2]}", seg[3:], raw[3:]
            # a revision arrives quoted as one segment ("refs%2Fpr%2F1"); accept "refs/pr/1" unquoted too
            def rev_and_path(parts_raw: list[str]) -> tuple[str, str]:
                if len(parts_raw) >= 3 and parts_raw[0] == "refs" and parts_raw[1] in ("pr", "convert", "heads"):
                    return "/".join(parts_raw[:3]), "/".join(unquote(p) for p in parts_raw[3:])
                return unquote(parts_raw[0]) if parts_raw else "main", "/".join(unquote(p) for p in parts_raw[1:])

            if not rest and method == "GET":
                return "repo_info", self._repo_info, (t, rid, None)
            if rest[:1] == ["revision"] and method == "GET":
                return "repo_info", self._repo_info, (t, rid, rev_and_path(rest_raw[1:])[0])
            if rest[:1] == ["tree"] and method == "GET":
                return "tree", self._tree, (t, rid, *rev_and_path(rest_raw[1:]))
            if rest[:1] == ["paths-info"] and method == "POST":
                return "paths_info", self._paths_info, (t, rid, rev_and_path(rest_raw[1:])[0])
            if rest[:1] == ["preupload"] and method == "POST":
                return "preupload", self._preupload, (t, rid, rev_and_path(rest_raw[1:])[0])
            if rest[:1] == ["commit"] and method == "POST":
                return "commit", self._commit, (t, rid, rev_and_path(rest_raw[1:])[0])
            if rest[:1] == ["commits"] and method == "GET":
                return "commits", self._commits, (t, rid, rev_and_path(rest_raw[1:])[0])
            if rest[:1] == ["branch"] and method in ("POST", "DELETE") and len(rest) >= 2:
                return "branch", self._branch, (t, rid, "/".join(rest[1:]), method)
            if rest == ["refs"] and method == "GET":
                return "refs", self._refs, (t, rid)
            if rest == ["settings"] and method == "PUT":
                return "settings", self._settings, (t, rid)
        raise HubError(404, f"Sorry, we can't find the page you are looking for: {method} {self.path}")

    # access -----------------------------------------------------------------------------------------------------
    def _read_repo(self, repo_type: str, repo_id: str) -> Repo:
        repo = self.state.repos.get((repo_type, repo_id))
        visible = repo is not None and (not repo.private or self.state.can_write(self.user, repo.namespace))
        if not visible:
            if self.user is None:  # anonymous: the Hub does not tell "private" from "missing"
                raise HubError(401, "Invalid username or password.", "RepoNotFound")
            raise HubError(404, "Repository not found", "RepoNotFound")
        return repo  # type: ignore[return-value]

    def _write_repo(self, repo_type: str, repo_id: str) -> Repo:
        repo = self._read_repo(repo_type, repo_id)
        if self.user is None:
            raise HubError(401, "You must be authenticated to write to this repository")
        if not self.state.can_write(self.user, repo.namespace):
            raise HubError(403, f"You don't have the rights to write to {repo_id}")
        return repo

    def _json_body(self) -> Any:
        data = self._body()
        try:
            return json.loads(data or b"{}")
        except json.JSONDecodeError as e:
            raise HubError(400, f"Invalid JSON body: {e}")

    def _base(self, cdn: bool = False) -> str:
        return self.hub.cdn_url if cdn else self.hub.url

    def _repo_url(self, repo: Repo) -> str:
        return f"{self._base()}/{TYPE_PREFIX[repo.type]}{repo.id}"

    # handlers: account and repos --------------------------------------------------------------------------
    def _whoami(self) -> None:
        if self.user is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        self._json({
            "type": "user", "id": hashlib.sha1(self.user.encode()).hexdigest()[:24], "name": self.user,
            "fullname": self.user, "email": f"{self.user}@example.invalid", "emailVerified": True,
            "isPro": False, "canPay": False, "periodEnd": None,
            "orgs": [{"type": "org", "name": o, "roleInOrg": "write"} for o in sorted(self.state.orgs[self.user])],
            "auth": {"type": "access_token", "accessToken": {"displayName": "tests", "role": "write",
                                                               "createdAt": "2024-01-01T00:00:00.000Z"}},
        })

    def _create_repo(self) -> None:
        body = self._json_body()
        if self.user is None:
            raise HubError(401, "You must be authenticated to create a repository")
        name, org = body.get("name"), body.get("organization") or self.user
        repo_type = body.get("type") or "model"
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}", name) \
                or ".." in name or name.endswith(".git"):
            raise HubError(400, f"Invalid repo name: {name!r}")
        if repo_type not in TYPE_PREFIX:
            raise HubError(400, f"Invalid repo type: {repo_type!r}")
        if not self.state.can_write(self.user, org):
            raise HubError(403, f"You don't have the rights to create a {repo_type} under the namespace \"{org}\"")
        repo_id = f"{org}/{name}"
        with self.state.lock:
            existing = self.state.repos.get((repo_type, repo_id))
            if existing is not None:
                raise HubError(409, f"You already created this {repo_type} repo",
                               body={"error": f"You already created this {repo_type} repo",
                                     "url": self._repo_url(existing)})
            private = body.get("visibility") == "private" or body.get("private") is True
            repo = self.state.create_repo(repo_type, repo_id, private, self.user)
        self._json({"url": self._repo_url(repo), "name": repo_id,
                    "id": hashlib.sha1(repo_id.encode()).hexdigest()[:24]})

    def _delete_repo(self) -> None:
        body = self._json_body()
        repo_id = f"{body.get('organization') or self.user}/{body.get('name')}"
        with self.state.lock:
            self._write_repo(body.get("type") or "model", repo_id)
            del self.state.repos[(body.get("type") or "model", repo_id)]
        self._json({})

    def _settings(self, repo_type: str, repo_id: str) -> None:
        body = self._json_body()
        with self.state.lock:
            repo = self._write_repo(repo_type, repo_id)
            if "visibility" in body:
                repo.private = body["visibility"] == "private"
            elif "private" in body:
                repo.private = bool(body["private"])
        self._json({})

    def _card_data(self, commit: Commit) -> dict[str, Any] | None:
        blob = commit.files.get("README.md")
        if blob is None or blob.content is None:
            return None
        m = re.match(r"^\s*---\s*\n(.*?)\n---\s*(\n|$)", blob.content.decode("utf-8", "replace"), re.DOTALL)
        try:
            data = yaml.safe_load(m.group(1)) if m else None
        except yaml.YAMLError:
            return None
        return data if isinstance(data, dict) else None

    def _repo_info(self, repo_type: str, repo_id: str, rev: str | None) -> None:
        with self.state.lock:
            repo = self._read_repo(repo_type, repo_id)
            commit = self.state.resolve(repo, rev or "main")
        blobs = (self.query.get("blobs") or ["false"])[0].lower() in ("1", "true")
        siblings = []
        for path, b in sorted(commit.files.items()):
            s: dict[str, Any] = {"rfilename": path}
            if blobs:
                s.update(size=b.size, blobId=b.git_oid)
                if b.lfs_oid:
                    s["lfs"] = {"sha256": b.lfs_oid, "size": b.size, "pointerSize": b.pointer_size}
            siblings.append(s)
        card = self._card_data(commit)
        tags = list(card.get("tags") or []) if card else []
        self._json({
            "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24], "id": repo_id, "author": repo.namespace,
            "sha": commit.oid, "lastModified": commit.date, "createdAt": repo.created_at, "private": repo.private,
            "gated": False, "disabled": False, "downloads": 0, "likes": 0, "tags": tags,
            "cardData": card or {}, "siblings": siblings,
            "usedStorage": sum(b.size for b in commit.files.values()),
        })

    def _refs(self, repo_type: str, repo_id: str) -> None:
        with self.state.lock:
            repo = self._read_repo(repo_type, repo_id)
            out = {
                "branches": [{"name": b, "ref": f"refs/heads/{b}", "targetCommit": oid}
                             for b, oid in sorted(repo.branches.items())],
                "converts": [], "tags": [],
            }
            if (self.query.get("include_prs") or ["0"])[0] in ("1", "true", "True"):
                out["pullRequests"] = [{"name": f"refs/pr/{n}", "ref": f"refs/pr/{n}", "targetCommit": oid}
                                       for n, oid in sorted(repo.prs.items())]
        self._json(out)

    def _commits(self, repo_type: str, repo_id: str, rev: str) -> None:
        with self.state.lock:
            repo = self._read_repo(repo_type, repo_id)
            commit: Commit | None = self.state.resolve(repo, rev)
            out = []
            while commit is not None:
                out.append({"id": commit.oid, "title": commit.title, "message": commit.message,
                            "authors": [{"user": commit.author}], "date": commit.date})
                commit = repo.commits[commit.parents[0]] if commit.parents else None
        self._json(out)

    def _branch(self, repo_type: str, repo_id: str, branch: str, method: str) -> None:
        body = self._json_body() if method == "POST" else {}
        with self.state.lock:
            repo = self._write_repo(repo_type, repo_id)
            if method == "DELETE":
                if branch not in repo.branches or branch == "main":
                    raise HubError(404 if branch not in repo.branches else 403, f"Cannot delete branch {branch}",
                                   "RevisionNotFound" if branch not in repo.branches else None)
                del repo.branches[branch]
                return self._json({})
            if branch in repo.branches:
                raise HubError(409, "Reference already exists")
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]*", branch) or branch.startswith("refs/"):
                raise HubError(400, f"Invalid branch name: {branch!r}")
            start = self.state.resolve(repo, body.get("startingPoint") or "main")
            repo.branches[branch] = start.oid
        self._json({})

    # handlers: files ---------------------------------------------------------------------------------------------
    def _entries(self, repo: Repo, commit: Commit, prefix: str, recursive: bool) -> list[dict[str, Any]]:
        prefix = prefix.strip("/")
        under = {p: b for p, b in commit.files.items() if not prefix or p.startswith(prefix + "/")}
        if prefix and not under:
            if prefix in commit.files:
                raise HubError(400, f"{prefix} is a file, not a directory")
            raise HubError(404, f"Entry not found: {prefix}", "EntryNotFound",
                           {"X-Repo-Commit": commit.oid})
        entries: dict[str, dict[str, Any]] = {}
        for path, blob in under.items():
            rel = path[len(prefix) + 1:] if prefix else path
            parts = rel.split("/")
            for depth in range(1, len(parts)):
                folder = "/".join(([prefix] if prefix else []) + parts[:depth])
                if recursive or depth == 1:
                    entries.setdefault(folder, self._folder_entry(commit, folder))
                if not recursive:
                    break
            if recursive or len(parts) == 1:
                entries[path] = self._file_entry(path, blob)
        return [entries[k] for k in sorted(entries)]

    @staticmethod
    def _file_entry(path: str, blob: Blob) -> dict[str, Any]:
        e: dict[str, Any] = {"type": "file", "oid": blob.git_oid, "size": blob.size, "path": path}
        if blob.lfs_oid:
            e["lfs"] = {"oid": blob.lfs_oid, "size": blob.size, "pointerSize": blob.pointer_size}
        return e

    @staticmethod
    def _folder_entry(commit: Commit, folder: str) -> dict[str, Any]:
        listing = sorted((p, b.git_oid) for p, b in commit.files.items() if p.startswith(folder + "/"))
        return {"type": "directory", "oid": hashlib.sha1(json.dumps(listing).encode()).hexdigest(), "size": 0,
                "path": folder}

    def _expand(self, repo: Repo, commit: Commit, entry: dict[str, Any]) -> dict[str, Any]:
        """``lastCommit``: the newest first-parent commit that changed the entry."""
        def state(c: Commit) -> Any:
            if entry["type"] == "file":
                b = c.files.get(entry["path"])
                return b.git_oid if b else None
            return sorted((p, b.git_oid) for p, b in c.files.items() if p.startswith(entry["path"] + "/"))

        last = commit
        while last.parents and state(repo.commits[last.parents[0]]) == state(last):
            last = repo.commits[last.parents[0]]
        entry = dict(entry, lastCommit={"id": last.oid, "title": last.title, "date": last.date})
        if entry["type"] == "file":
            entry["securityFileStatus"] = {"status": "safe", "avScan": {"virusFound": False, "virusNames": None},
                                           "pickleImportScan": None}
        return entry

    def _tree(self, repo_type: str, repo_id: str, rev: str, path: str) -> None:
        flag = lambda k: (self.query.get(k) or ["false"])[0].lower() in ("1", "true")  # noqa: E731
        recursive, expand = flag("recursive"), flag("expand")
        with self.state.lock:
            repo = self._read_repo(repo_type, repo_id)
            commit = self.state.resolve(repo, rev)
            entries = self._entries(repo, commit, path, recursive)
            start = int((self.query.get("cursor") or ["0"])[0] or 0)
            size = self.hub.tree_page_expanded if expand else self.hub.tree_page
            page = entries[start:start + size]
            if expand:
                page = [self._expand(repo, commit, e) for e in page]
        headers = {}
        if start + size < len(entries):
            q = {k: v[0] for k, v in self.query.items()}
            q["cursor"] = str(start + size)
            headers["Link"] = f'<{self._base()}{urlsplit(self.path).path}?{urlencode(q)}>; rel="next"'
        self._json(page, headers=headers)

    def _paths_info(self, repo_type: str, repo_id: str, rev: str) -> None:
        raw = self._body()
        if (self.headers.get("Content-Type") or "").startswith("application/json"):
            body = json.loads(raw or b"{}")
            paths, expand = body.get("paths") or [], bool(body.get("expand"))
        else:
            form = parse_qs(raw.decode(), keep_blank_values=True)
            paths = form.get("paths", [])
            expand = (form.get("expand") or ["false"])[0].lower() in ("1", "true")
        with self.state.lock:
            repo = self._read_repo(repo_type, repo_id)
            commit = self.state.resolve(repo, rev)
            out = []
            for p in dict.fromkeys(x.strip("/") for x in paths):
                if p in commit.files:
                    e = self._file_entry(p, commit.files[p])
                elif any(f.startswith(p + "/") for f in commit.files):
                    e = self._folder_entry(commit, p)
                else:
                    continue  # the Hub leaves missing paths out
                out.append(self._expand(repo, commit, e) if expand else e)
        self._json(out)

    def _resolve(self, repo_type: str, repo_id: str, rev_raw: str, path: str) -> None:
        with self.state.lock:
            repo = self._read_repo(repo_type, repo_id)
            commit = self.state.resolve(repo, unquote(rev_raw))
            blob = commit.files.get(path)
        if blob is None:
            raise HubError(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": commit.oid})
        headers = {"X-Repo-Commit": commit.oid, "ETag": f'"{blob.git_oid}"', "Accept-Ranges": "bytes",
                   "Vary": "Origin, Accept-Encoding"}
        if blob.lfs_oid is not None:
            headers.update({"X-Linked-Etag": f'"{blob.lfs_oid}"', "X-Linked-Size": str(blob.size)})
            if self.hub.cdn_redirects:
                location = self.hub.signed_cdn_url(blob.lfs_oid, path.rsplit("/", 1)[-1])
                text = f"Found. Redirecting to {location}".encode()
                headers["Location"] = location
                return self._send(302, text, headers, "text/plain; charset=utf-8")
            data = self.state.lfs_objects[blob.lfs_oid]
        else:
            data = blob.content or b""
        self._send_range(data, headers)

    def _send_range(self, data: bytes, headers: dict[str, str]) -> None:
        rng = self.headers.get("Range")
        ctype = "application/octet-stream"
        if rng:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
            if not m or (not m.group(1) and not m.group(2)):
                raise HubError(416, f"Invalid range: {rng}", headers={"Content-Range": f"bytes */{len(data)}"})
            if m.group(1):
                start = int(m.group(1))
                end = min(int(m.group(2)), len(data) - 1) if m.group(2) else len(data) - 1
            else:  # suffix range: the last N bytes
                start, end = max(0, len(data) - int(m.group(2))), len(data) - 1
            if start >= len(data) or start > end:
                raise HubError(416, "Range Not Satisfiable", headers={"Content-Range": f"bytes */{len(data)}"})
            headers = {**headers, "Content-Range": f"bytes {start}-{end}/{len(data)}"}
            return self._send(206, data[start:end + 1], headers, ctype)
        self._send(200, data, headers, ctype)

    def _cdn(self, oid: str) -> None:
        self._body()
        if not self.hub.check_signature(f"cdn:{oid}", self.query):
            raise HubError(403, "Request has expired or its signature does not match")
        with self.state.lock:
            self.hub.cdn_requests_with_auth += "authorization" in {k.lower() for k in self.headers}
            data = self.state.lfs_objects.get(oid)
        if data is None:
            raise HubError(404, "NoSuchKey")
        self._send_range(data, {"ETag": f'"{oid}"', "Accept-Ranges": "bytes"})

    def _validate_yaml(self) -> None:
        body = self._json_body()
        errors, warnings = validate_card_yaml(str(body.get("content") or ""))
        out = {"errors": [{"message": m} for m in errors], "warnings": [{"message": m} for m in warnings]}
        if errors:
            raise HubError(400, "Invalid metadata in README.md", body={"error": "Invalid metadata in README.md", **out})
        self._json(out)

    # handlers: uploads --------------------------------------------------------------------------------------------
    def _lfs_patterns(self, commit: Commit) -> list[str]:
        blob = commit.files.get(".gitattributes")
        text = (blob.content or b"").decode("utf-8", "replace") if blob else ""
        return [line.split()[0] for line in text.splitlines() if "filter=lfs" in line and line.split()]

    def _preupload(self, repo_type: str, repo_id: str, rev: str) -> None:
        body = self._json_body()
        with self.state.lock:
            repo = self._write_repo(repo_type, repo_id)
            commit = self.state.resolve(repo, rev)
            patterns = self._lfs_patterns(commit)
            out = []
            for f in body.get("files") or []:
                path, size = f["path"], int(f["size"])
                sample = base64.b64decode(f.get("sample") or "")
                name = path.rsplit("/", 1)[-1]
                lfs = size >= LFS_THRESHOLD or b"\0" in sample or any(
                    fnmatch.fnmatch(name, p) or fnmatch.fnmatch(path, p) for p in patterns)
                existing = commit.files.get(path)
                oid = None if existing is None else (existing.lfs_oid or existing.git_oid)
                out.append({"path": path, "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False,
                            "oid": oid})
        self._json({"files": out, "commitOid": commit.oid})

    def _lfs_batch(self, repo_type: str, repo_id: str) -> None:
        body = self._json_body()
        lfs_type = "application/vnd.git-lfs+json"
        with self.state.lock:
            repo = self._write_repo(repo_type, repo_id)
            if body.get("operation") != "upload":
                raise HubError(422, "Only the upload operation is implemented by this test server")
            if "basic" not in (body.get("transfers") or ["basic"]):
                raise HubError(422, "This server only speaks the basic LFS transfer")
            objects = []
            for obj in body.get("objects") or []:
                oid, size = obj.get("oid"), obj.get("size")
                if not (isinstance(oid, str) and re.fullmatch(r"[0-9a-f]{64}", oid) and isinstance(size, int)):
                    objects.append({"oid": oid, "size": size, "error": {"code": 422, "message": "Invalid object"}})
                    continue
                present = oid in repo.lfs and len(self.state.lfs_objects.get(oid, b"")) == size
                if present:
                    objects.append({"oid": oid, "size": size})
                    continue
                query = self.hub.sign(f"upload:{oid}:{size}:{repo.type}:{repo.id}")
                query.update(size=str(size), repo=f"{repo.type}:{repo.id}")
                objects.append({"oid": oid, "size": size, "authenticated": True, "actions": {
                    "upload": {"href": f"{self._base(cdn=True)}/_lfs/upload/{oid}?{urlencode(query)}",
                               "expires_at": "2999-01-01T00:00:00Z"},
                    "verify": {"href": f"{self._base()}/_lfs/verify/{repo.type}s/{repo.id}"},
                }})
        self._json({"transfer": "basic", "objects": objects, "hash_algo": "sha256"}, content_type=lfs_type)

    def _lfs_upload(self, oid: str) -> None:
        q = {k: v[0] for k, v in self.query.items()}
        size, repo_key = int(q.get("size", "-1")), q.get("repo", "")
        repo_type, _, repo_id = repo_key.partition(":")
        if not self.hub.check_signature(f"upload:{oid}:{size}:{repo_type}:{repo_id}", self.query):
            raise HubError(403, "Request has expired or its signature does not match")
        data = self._body()
        with self.state.lock:
            self.hub.cdn_requests_with_auth += "authorization" in {k.lower() for k in self.headers}
        if len(data) != size or hashlib.sha256(data).hexdigest() != oid:
            raise HubError(400, f"Uploaded content does not match oid {oid} / size {size} (got {len(data)} bytes)")
        with self.state.lock:
            self.state.lfs_objects[oid] = data
            repo = self.state.repos.get((repo_type, repo_id))
            if repo is not None:
                repo.lfs.add(oid)
        self._send(200, b"", {"ETag": f'"{hashlib.md5(data).hexdigest()}"'}, "text/plain")

    def _lfs_verify(self, repo_type: str, repo_id: str) -> None:
        body = self._json_body()
        with self.state.lock:
            repo = self._write_repo(repo_type, repo_id)
            oid, size = body.get("oid"), body.get("size")
            if oid not in repo.lfs or len(self.state.lfs_objects.get(oid, b"")) != size:
                raise HubError(404, f"Object {oid} not found", body={"message": "Object not found"})
        self._json({"message": "Object verified"}, content_type="application/vnd.git-lfs+json")

    def _commit(self, repo_type: str, repo_id: str, rev: str) -> None:
        raw = self._body()
        try:
            lines = [json.loads(line) for line in raw.splitlines() if line.strip()]
        except json.JSONDecodeError as e:
            raise HubError(400, f"Invalid NDJSON payload: {e}")
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "The first line of the payload must be the commit header")
        header = lines[0].get("value") or {}
        summary = str(header.get("summary") or "").strip()
        if not summary:
            raise HubError(400, "The commit summary cannot be empty")
        create_pr = (self.query.get("create_pr") or ["0"])[0] in ("1", "true", "True")
        with self.state.lock:
            repo = self._write_repo(repo_type, repo_id)
            rev = unquote(rev)
            branch = rev[len("refs/heads/"):] if rev.startswith("refs/heads/") else rev
            pr = re.fullmatch(r"refs/pr/(\d+)", branch)
            if branch not in repo.branches and not (pr and int(pr.group(1)) in repo.prs):
                raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
            if create_pr and pr:
                raise HubError(400, "Cannot open a pull request against a pull request ref")
            if self.fault == "concurrent_commit" and branch in repo.branches:  # someone else got there first
                other = self.state.resolve(repo, branch)
                repo.branches[branch] = self.state.new_commit(
                    repo, (other.oid,), {**other.files, "NOTES.md": Blob.regular(b"someone else's commit\n")},
                    "Concurrent edit", "", OTHER_USER).oid
            head = self.state.resolve(repo, branch)
            parent = header.get("parentCommit")
            if parent:
                try:
                    parent_commit = self.state.resolve(repo, parent)
                except HubError:
                    raise HubError(400, f"Invalid parentCommit: {parent}")
                if not create_pr and parent_commit.oid != head.oid:
                    raise HubError(412, "A commit has happened since. Please refresh and try again.")
                if create_pr:
                    head = parent_commit
            files = dict(head.files)
            for line in lines[1:]:
                key, value = line.get("key"), line.get("value") or {}
                path = str(value.get("path") or "")
                if key in ("file", "lfsFile") and (not path or path.startswith("/") or ".." in path.split("/")
                                                   or path.startswith(".git/")):
                    raise HubError(400, f"Invalid path: {path!r}")
                if key == "file":
                    if value.get("encoding", "base64") != "base64":
                        raise HubError(400, f"Unsupported encoding {value.get('encoding')!r}")
                    files[path] = Blob.regular(base64.b64decode(value.get("content") or ""))
                elif key == "lfsFile":
                    oid = value.get("oid")
                    data = self.state.lfs_objects.get(oid) if oid in repo.lfs else None
                    if data is None:
                        raise HubError(400, f"LFS file {path} (oid {oid}) was not uploaded: upload it through the "
                                            "LFS batch API before committing")
                    if value.get("size") is not None and int(value["size"]) != len(data):
                        raise HubError(400, f"LFS file {path}: size {value['size']} does not match the upload")
                    files[path] = Blob.lfs(oid, len(data))
                elif key == "deletedFile":
                    if path not in files:
                        raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                    del files[path]
                elif key == "deletedFolder":
                    folder = path.rstrip("/") + "/"
                    doomed = [p for p in files if p.startswith(folder)]
                    if not doomed:
                        raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                    for p in doomed:
                        del files[p]
                else:
                    raise HubError(400, f"Unknown commit operation {key!r}")
            commit = self.state.new_commit(repo, (head.oid,), files, summary, str(header.get("description") or ""),
                                           self.user or "")
            pr_url = None
            if create_pr:
                num = max([*repo.prs, 0]) + 1
                repo.prs[num] = commit.oid
                pr_url = f"{self._repo_url(repo)}/discussions/{num}"
            elif pr:
                repo.prs[int(pr.group(1))] = commit.oid
            else:
                repo.branches[branch] = commit.oid
        if self.fault == "apply_then_500":  # the commit landed, the answer did not
            raise HubError(500, INTERNAL_ERROR)
        if self.fault == "apply_then_drop":
            raise _Drop()
        self._json({"success": True, "commitOid": commit.oid, "hookOutput": "", "pullRequestUrl": pr_url,
                    "commitUrl": f"{self._repo_url(repo)}/commit/{commit.oid}"})


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    hub: "HubServer"


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A TCP socket bound (not yet listening) to ``host:port``; port 0 picks a free one.

    Binding early lets a test session export ``HF_ENDPOINT`` before ``huggingface_hub`` is imported
    and start serving later; until then connections are refused instead of reaching anything else.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def _localhost_is_loopback(port: int) -> bool:
    try:
        return any(info[4][0] == "127.0.0.1" for info in socket.getaddrinfo("localhost", port, socket.AF_INET))
    except OSError:
        return False


class HubServer:
    """The server: ``with HubServer() as hub: ...`` or ``hub.start()`` / ``hub.stop()``.

    ``hub.url`` is the API origin (``http://127.0.0.1:PORT``); ``hub.cdn_url`` the same socket under
    another origin (``http://localhost:PORT``) that plays the CDN/S3 role for LFS uploads and downloads.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, sock: socket.socket | None = None,
                 users: dict[str, str] | None = None) -> None:
        self.state = HubState()
        for name, token in (users or {DEFAULT_USER: DEFAULT_TOKEN, OTHER_USER: OTHER_TOKEN}).items():
            self.state.add_user(name, token)
        self._sock = sock or bind_socket(host, port)
        self.host, self.port = self._sock.getsockname()[:2]
        self.url = f"http://{self.host}:{self.port}"
        self.cdn_redirects = self.host == "127.0.0.1" and _localhost_is_loopback(self.port)
        self.cdn_url = f"http://localhost:{self.port}" if self.cdn_redirects else self.url
        self.tree_page, self.tree_page_expanded = TREE_PAGE, TREE_PAGE_EXPANDED
        self.cdn_requests_with_auth = 0
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle ----------------------------------------------------------------------------------------------------
    def start(self) -> "HubServer":
        httpd = _HTTPServer((self.host, self.port), HubRequestHandler, bind_and_activate=False)
        httpd.socket.close()
        httpd.socket = self._sock
        httpd.server_activate()  # listen()
        httpd.hub = self
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="hub-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "HubServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # signing of CDN / upload URLs (they carry no Hub token, like S3 presigned URLs) ---------------------------------
    def sign(self, what: str) -> dict[str, str]:
        return {"X-Sig": hmac.new(self.state.secret, what.encode(), "sha256").hexdigest()[:32]}

    def check_signature(self, what: str, query: dict[str, list[str]]) -> bool:
        return hmac.compare_digest((query.get("X-Sig") or [""])[0], self.sign(what)["X-Sig"])

    def signed_cdn_url(self, oid: str, filename: str) -> str:
        query = {**self.sign(f"cdn:{oid}"), "response-content-disposition": f'inline; filename="{filename}"'}
        return f"{self.cdn_url}/_cdn/{oid}?{urlencode(query, quote_via=quote)}"

    # faults ----------------------------------------------------------------------------------------------------
    def inject(self, route: str, action: str = "500", times: int = 1) -> None:
        """Make the next ``times`` requests to ``route`` fail.

        ``route``: commit, preupload, lfs_batch, lfs_upload, lfs_verify, resolve, cdn, tree, paths_info, repo_info,
        create_repo, branch, validate_yaml, whoami. ``action``: an HTTP status (``"500"``), ``"drop"`` (read
        half the body, then close the connection without answering), or for ``commit`` ``"apply_then_500"`` /
        ``"apply_then_drop"`` (the commit lands but the client never hears so) and ``"concurrent_commit"``
        (another user commits ``NOTES.md`` to the branch just before this commit is processed).
        """
        with self.state.lock:
            self.state.faults.setdefault(route, []).extend([action] * times)

    def take_fault(self, route: str) -> str | None:
        with self.state.lock:
            pending = self.state.faults.get(route)
            return pending.pop(0) if pending else None

    def clear_faults(self) -> None:
        with self.state.lock:
            self.state.faults.clear()

    # inspection for tests ------------------------------------------------------------------------------------------
    def add_user(self, name: str, token: str, orgs: Iterable[str] = ()) -> None:
        self.state.add_user(name, token, orgs)

    @property
    def requests(self) -> list[RequestRecord]:
        with self.state.lock:
            return list(self.state.requests)

    def count(self, route: str, *, status: int | None = None, since: int = 0) -> int:
        """How many requests hit ``route`` (optionally with ``status``; -1 = dropped), from request ``since`` on."""
        return sum(1 for r in self.requests[since:] if r.route == route and (status is None or r.status == status))

    def repo(self, repo_id: str, repo_type: str = "dataset") -> Repo:
        with self.state.lock:
            return self.state.repos[(repo_type, repo_id)]

    def head(self, repo_id: str, revision: str = "main", repo_type: str = "dataset") -> str:
        with self.state.lock:
            return self.state.resolve(self.repo(repo_id, repo_type), revision).oid

    def files(self, repo_id: str, revision: str = "main", repo_type: str = "dataset") -> dict[str, bytes]:
        """Path -> content of every file at ``revision``."""
        with self.state.lock:
            commit = self.state.resolve(self.repo(repo_id, repo_type), revision)
            return {p: b.content if b.lfs_oid is None else self.state.lfs_objects[b.lfs_oid]
                    for p, b in commit.files.items()}

    def history(self, repo_id: str, revision: str = "main", repo_type: str = "dataset") -> list[Commit]:
        """First-parent history, newest first."""
        with self.state.lock:
            repo = self.repo(repo_id, repo_type)
            c: Commit | None = self.state.resolve(repo, revision)
            out = []
            while c is not None:
                out.append(c)
                c = repo.commits[c.parents[0]] if c.parents else None
            return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local Hugging Face Hub protocol server (for tests and demos).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--user", default=DEFAULT_USER)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    args = parser.parse_args(argv)
    hub = HubServer(args.host, args.port, users={args.user: args.token}).start()
    print(f"Hub-protocol server on {hub.url} (LFS/CDN origin {hub.cdn_url}); user {args.user!r}. In another shell:")
    print(f"  export HF_ENDPOINT={hub.url} HF_TOKEN={args.token} HF_HUB_DISABLE_XET=1 HF_HUB_OFFLINE=0")
    print("Ctrl-C stops it; everything is kept in memory only.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        hub.stop()


if __name__ == "__main__":
    main()
