"""What went wrong talking to the Hub, in one line a user can act on: the error a push raises, whether a failure
came from the Hub or from us, and the token kept out of every message."""

from __future__ import annotations

import httpx2
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils import get_token

from .errors import MMWeakError


class HubPushError(MMWeakError):
    """A push to the Hub failed; the message says whether the repo was left unchanged."""


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
        response = getattr(e, "response", None)
        request = e.request if isinstance(e, httpx2.TransportError) else getattr(response, "request", None)
    except (AttributeError, RuntimeError):
        pass
    return request is not None and "/commit/" in str(request.url.path)


def _describe(e: BaseException) -> str:
    """One line about an error and its cause: types, status, the server's message; never headers (no token)."""
    parts: list[str] = []
    seen: set[int] = set()
    first = e
    while e is not None and id(e) not in seen and len(parts) < 3:
        seen.add(id(e))
        if not isinstance(e, httpx2.HTTPStatusError):  # already told by the HfHubHTTPError wrapping it
            if isinstance(e, HfHubHTTPError):
                text = (str(e).strip().splitlines() or [""])[0]
                server = (e.server_message or "").strip()
                text += f" ({' '.join(server.split())})" if server and server not in text else ""
            else:
                text = " ".join(str(e).split())
            parts.append(f"{type(e).__name__}: {text}")
        # the cause, or what was being handled when it happened ("the client has been closed" hides a refused
        # connection that way)
        e = e.__cause__ or (None if e.__suppress_context__ else e.__context__)  # type: ignore[assignment]
    line = " <- ".join(parts)
    if _status(first) in (401, 403):
        line += " (check the token: HF_TOKEN, token=..., or `hf auth login`, and that it may write to this repo)"
    return line
