"""Exceptions mmweak raises; each message names the LF, the column and the row where it can."""

from __future__ import annotations

#: What to do where a step needs the label model's columns: said for both ways in, since the CLI shows these
#: messages too and a command-line user has no Python call to make.
FIT_FIRST = ("fit a label model first (mmweak.aggregate, or `mmweak aggregate FOLDER --out NEW_FOLDER` on a saved "
             "folder)")


class MMWeakError(Exception):
    """Base class for every error mmweak raises on purpose."""


class VoteMatrixError(MMWeakError, ValueError):
    """A vote matrix is malformed (wrong shape, non-integer votes, votes outside ``-1..K-1``)."""


class LFError(MMWeakError):
    """A labeling function misbehaved on a batch: raised, returned bad votes, or read a missing column."""

    def __init__(
        self, message: str, *, lf: str, column: str | None = None, row: int | None = None, batch_level: bool = False
    ) -> None:
        super().__init__(message)
        self.lf = lf
        self.column = column
        self.row = row
        # The LF broke its contract for the batch as a whole (wrong type or number of votes): no single row is to
        # blame, so it is raised as is rather than narrowed down or counted as row faults.
        self.batch_level = batch_level

    def __reduce__(self):  # keyword-only fields must survive the trip back from num_proc workers
        return (_rebuild_lf_error, (str(self), self.lf, self.column, self.row, self.batch_level))


class SourceError(MMWeakError, ValueError):
    """The data source cannot be read; the message names it (file and line where there is one) and says why."""


class CuratedDatasetError(MMWeakError):
    """A curated folder or card is missing pieces or contradicts its data."""


class RecordError(MMWeakError):
    """The weak-supervision record a dataset carries is corrupted, or two records conflict."""


class MajorityFallbackWarning(UserWarning):
    """A label model's fit could not name its classes from the votes (a label-swapped fit, or classes the votes do not
    identify), so the model predicts as majority vote does; its ``fallback_`` says why."""


class OneClassLabelsWarning(UserWarning):
    """A label model's fit put every voted row in one class though the votes of some rows are mostly another:
    its labels say nothing about the rows (a one-accuracy-per-LF model can settle there on LFs that each vote
    one class)."""


def _rebuild_lf_error(message: str, lf: str, column: str | None, row: int | None, batch_level: bool = False) -> LFError:
    return LFError(message, lf=lf, column=column, row=row, batch_level=batch_level)
