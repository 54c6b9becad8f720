"""Errors of the review loop: bad annotations and Label Studio servers that cannot be used."""

from __future__ import annotations

from ..errors import MMWeakError


class AnnotationError(MMWeakError, ValueError):
    """An annotation cannot be stored: unknown class, vanished row, malformed result (message names which)."""


class LabelStudioError(MMWeakError):
    """A Label Studio server is unreachable, rejects the API key, or refuses a request (message says which)."""
