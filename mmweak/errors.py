"""Exceptions mmweak raises; each message names the LF, the column and the row where it can."""

from __future__ import annotations


class MMWeakError(Exception):
    """Base class for every error mmweak raises on purpose."""


class VoteMatrixError(MMWeakError, ValueError):
    """A vote matrix is malformed (wrong shape, non-integer votes, votes outside ``-1..K-1``)."""


class LFError(MMWeakError):
    """A labeling function misbehaved on a batch: raised, returned bad votes, or read a missing column."""

    def __init__(self, message: str, *, lf: str, column: str | None = None, row: int | None = None) -> None:
        super().__init__(message)
        self.lf = lf
        self.column = column
        self.row = row

    def __reduce__(self):  # keyword-only fields must survive the trip back from num_proc workers
        return (_rebuild_lf_error, (str(self), self.lf, self.column, self.row))


class CuratedDatasetError(MMWeakError):
    """A curated folder or card is missing pieces or contradicts its data."""


def _rebuild_lf_error(message: str, lf: str, column: str | None, row: int | None) -> LFError:
    return LFError(message, lf=lf, column=column, row=row)
