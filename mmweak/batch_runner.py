"""Running a group of LFs on one Arrow batch: the function both engines hand to their ``map``.

The batch arrives as a ``pyarrow.Table`` of the group's input columns. Vectorized LFs get it as is;
Python LFs get the dict of lists ``Dataset.map(batched=True)`` would give, built (and media decoded
by ``datasets``) once per batch, each LF its own lists of the same cells, inside one :func:`batch_scope` so
LFs on the same column also share decoding and embeddings. An LF must not change a cell in place (a decoded
image's ``thumbnail()``): the next LF sees the same object. Votes and fault flags go back as an Arrow table of
int8 columns ``v{i}``/``f{i}``; each LF's own seconds are measured here, around its call only.

Failures: a failing batch is re-run row by row, either to name the row (``on_error="raise"``) or to
keep every row that works and count the rest as faults (``"abstain"``). A cell ``datasets`` cannot decode
is handed to media LFs as it is stored (their ``on_decode_error`` decides, as when they read the column alone)
and is the error or fault of every other LF that reads it.
"""

from __future__ import annotations

import os
import time
from typing import Any, Literal, Mapping, Sequence

import numpy as np
import pyarrow as pa
from datasets import Features
from datasets.formatting import PythonFormatter

from .batch_memo import batch_scope, fault_scope
from .errors import LFError
from .lf import ABSTAIN, DeclaredColumns, LabelingFunction, UndeclaredColumn, preview

OnError = Literal["raise", "abstain"]


class BatchRunner:
    """Every LF of a group on one Arrow batch; picklable for ``num_proc`` and Ray workers.

    Args:
        lfs: the LFs, in output order (``v0`` is ``lfs[0]``).
        on_error: ``"raise"`` or ``"abstain"`` (see the module docstring).
        features: the features of the batch's columns, to decode them for Python LFs.
        stats_dir: where each worker process leaves its per-LF seconds (``<pid>.npy``); ``None`` keeps
            them in :attr:`seconds` only (single-process runs).
    """

    def __init__(
        self, lfs: Sequence[LabelingFunction], on_error: OnError, features: Features, stats_dir: str | None = None
    ) -> None:
        self.lfs = list(lfs)
        self.on_error = on_error
        self.features = features
        self.stats_dir = stats_dir
        self.seconds = np.zeros(len(self.lfs))

    def __call__(self, table: pa.Table, indices: Sequence[int] | None = None) -> pa.Table:
        n = table.num_rows
        if indices is None:
            indices = range(n)
        out: dict[str, pa.Array] = {}
        python_batch: Mapping[str, list] | None = None
        undecodable: dict[str, dict[int, Exception]] = {}
        with batch_scope():
            for i, lf in enumerate(self.lfs):
                t0 = time.perf_counter()
                if lf.input_format == "arrow":
                    votes, faults = vote_guarded(lf, table, indices, self.on_error)
                else:
                    if python_batch is None:
                        python_batch, undecodable = _python_batch(table, self.features)
                    # each LF its own lists: one that edits its batch in place (b["text"][:] = ...) must not
                    # change what the next LF sees, nor the votes cached under that LF's key. Only the columns
                    # it declared: its cache key holds those, so a column it read undeclared (there because
                    # another LF of the pass declared it) could change without its votes being recomputed.
                    own = DeclaredColumns({c: list(python_batch[c]) for c in lf.inputs})
                    bad = {r: (c, undecodable[c][r]) for c in lf.inputs for r in undecodable.get(c, {})}
                    if bad and getattr(lf, "reads_raw_media", False):
                        # the stored cell: its own decoder and on_decode_error judge it, whatever else shares the pass
                        for r, (c, _) in bad.items():
                            own[c][r] = table.column(c)[r].as_py()
                        bad = {}
                    if not bad:
                        votes, faults = vote_guarded(lf, own, indices, self.on_error)
                    else:
                        votes, faults = self._around_undecodable(lf, own, indices, bad)
                self.seconds[i] += time.perf_counter() - t0
                out[f"v{i}"] = pa.array(votes, pa.int8())
                out[f"f{i}"] = pa.array(faults, pa.int8())
        if self.stats_dir is not None:
            np.save(os.path.join(self.stats_dir, f"{os.getpid()}.npy"), self.seconds)
        return pa.table(out)

    def _around_undecodable(
        self, lf: LabelingFunction, batch: Mapping[str, list], indices: Sequence[int],
        bad: Mapping[int, tuple[str, Exception]],
    ) -> tuple[np.ndarray, np.ndarray]:
        """``lf`` on the rows whose cells ``datasets`` could decode; the others are faults of ``lf`` (or, with
        ``on_error="raise"``, the first one is an :class:`LFError` naming the LF, the column and the row)."""
        if self.on_error == "raise":
            r = min(bad)
            col, exc = bad[r]
            raise LFError(
                f"LF {lf.name!r} (task {lf.task.name!r}) reads column {col!r}, whose cell on row {indices[r]} "
                f"datasets could not decode ({type(exc).__name__}: {exc}); fix or drop that row, pass "
                f"on_error='abstain' to count it as a fault of each LF that reads it, or read the column with a "
                f"media LF (lf_library.image.ImageLF, lf_library.audio.AudioLF), whose on_decode_error decides",
                lf=lf.name, column=col, row=indices[r],
            ) from exc
        good = [r for r in range(len(indices)) if r not in bad]
        votes = np.full(len(indices), ABSTAIN, dtype=np.int8)
        faults = np.ones(len(indices), dtype=np.int8)
        if good:
            sub = DeclaredColumns({c: [v[r] for r in good] for c, v in batch.items()})
            with batch_scope():  # values memoised for the whole batch do not fit the rows left
                votes[good], faults[good] = vote_guarded(lf, sub, [indices[r] for r in good], self.on_error)
        return votes, faults

    def output_features(self) -> Features:
        from datasets import Value

        return Features({k: Value("int8") for i in range(len(self.lfs)) for k in (f"v{i}", f"f{i}")})

    @staticmethod
    def collect_seconds(stats_dir: str, n_lfs: int) -> np.ndarray:
        """Per-LF seconds summed over the worker processes that wrote to ``stats_dir``."""
        total = np.zeros(n_lfs)
        for name in os.listdir(stats_dir):
            if name.endswith(".npy"):
                total += np.load(os.path.join(stats_dir, name))
        return total


def _python_batch(table: pa.Table, features: Features) -> tuple[dict[str, list], dict[str, dict[int, Exception]]]:
    """The dict of lists ``Dataset.map`` gives Python LFs, and per column the rows ``datasets`` could not decode
    (a truncated image in an ``Image()`` column: one such cell must not fail the whole batch before any LF runs);
    their values are ``None`` here: media LFs get the stored cell instead, other LFs skip the row."""
    try:
        return PythonFormatter(features=features).format_batch(table), {}
    except Exception:  # noqa: BLE001 - decoding errors of any kind; found cell by cell below
        pass
    batch: dict[str, list] = {}
    bad: dict[str, dict[int, Exception]] = {}
    for col in table.column_names:
        one = PythonFormatter(features=Features({col: features[col]}))
        part = table.select([col])
        try:
            batch[col] = one.format_batch(part)[col]
            continue
        except Exception:  # noqa: BLE001 - as above
            pass
        values: list = []
        for r in range(table.num_rows):
            try:
                values.append(one.format_batch(part.slice(r, 1))[col][0])
            except Exception as exc:  # noqa: BLE001 - as above
                bad.setdefault(col, {})[r] = exc
                values.append(None)
        batch[col] = values
    return batch, bad


def _row(batch: Any, r: int) -> Any:
    if isinstance(batch, pa.Table):
        return batch.slice(r, 1)
    return DeclaredColumns({c: batch[c][r: r + 1] for c in batch})


def _batch_rows(batch: Any) -> int:
    if isinstance(batch, pa.Table):
        return batch.num_rows
    for v in batch.values():
        return len(v)
    return 0


def vote_guarded(
    lf: LabelingFunction, batch: Any, indices: Sequence[int], on_error: OnError
) -> tuple[np.ndarray, np.ndarray]:
    """``lf``'s validated votes on ``batch`` and a 0/1 fault flag per row (see the module docstring)."""
    n = len(indices)
    try:
        fault = np.zeros(n, dtype=np.int8)
        with fault_scope() as noted:
            votes = lf.vote(batch, indices)
        if noted:
            fault[[p for p in noted if 0 <= p < n]] = 1
        return votes, fault
    except LFError as exc:
        if exc.batch_level:  # the wrong number or type of votes: no row to blame, nothing to count
            raise
        batch_error: Exception = exc
    except Exception as batch_exc:  # noqa: BLE001 - narrowed below, row by row
        batch_error = batch_exc
    votes = np.full(n, ABSTAIN, dtype=np.int8)
    fault = np.zeros(n, dtype=np.int8)
    for r in range(n):
        try:
            # Memoised values belong to the whole batch, not to this row.
            with batch_scope(), fault_scope() as noted:
                votes[r] = lf.vote(_row(batch, r), indices[r: r + 1])[0]
            fault[r] = 1 if noted else 0
        except Exception as exc:  # noqa: BLE001 - an LF may raise anything
            if isinstance(exc, LFError) and exc.batch_level:
                # it cannot run on one row (a fixed-length list whatever the batch, a squeeze to 0-d): the row that
                # failed cannot be found, and on_error="abstain" cannot count it
                raise blame(lf, batch_error, batch, None, None, unsplittable=exc) from batch_error
            # reading an undeclared column is the LF's bug on every row, like a missing input: never a row fault
            if on_error == "raise" or isinstance(exc, UndeclaredColumn):
                raise blame(lf, exc, batch, r, indices[r]) from exc
            fault[r] = 1
    if on_error == "raise":  # every row works alone: the LF fails on the batch as a whole
        raise blame(lf, batch_error, batch, None, None) from batch_error
    return votes, fault


def blame(lf: LabelingFunction, exc: Exception, batch: Any, r: int | None, row: int | None,
          unsplittable: Exception | None = None) -> LFError:
    """An :class:`LFError` naming the LF, the column and (where known) the row that ``exc`` came from;
    ``unsplittable`` is the error of rerunning the batch row by row when the LF cannot run on one row."""
    if isinstance(exc, LFError):  # the batch's own error already names its row
        if exc.row is None and row is not None:  # the LF only knew its batch position: name the row
            return LFError(f"{exc} (row {row})", lf=exc.lf, column=exc.column, row=row)
        return exc
    col = lf.inputs[0]
    if isinstance(exc, UndeclaredColumn):
        # Its batch holds the columns it declared, and its cache key only those: say so, not just KeyError.
        missing = exc.args[0]
        return LFError(
            f"LF {lf.name!r} (task {lf.task.name!r}) read column {missing!r}"
            f"{'' if row is None else f' on row {row}'}, which it does not declare: add it to "
            f"its inputs ({list(lf.inputs)} now); an LF sees only the columns it declares, and its cached votes "
            f"follow only those", lf=lf.name, column=missing, row=row,
        )
    advice = "pass on_error='abstain' to count such rows as faults instead"
    if r is not None:
        cell = batch.column(col)[r].as_py() if isinstance(batch, pa.Table) else batch[col][r]
        where = f"on row {row} (column {col!r} = {preview(cell)})"
    elif unsplittable is not None:  # a fixed-length list whatever the batch, a squeeze to 0-d
        where = (f"on a batch of {_batch_rows(batch)} rows (column {col!r}), and it cannot be rerun row by row to "
                 f"find the row ({unsplittable})")
        advice = "so on_error='abstain' cannot count it either: make the LF work on a batch of one row"
    else:
        where = f"on a batch of {_batch_rows(batch)} rows, though not on any row alone (column {col!r})"
    return LFError(f"LF {lf.name!r} (task {lf.task.name!r}) raised {type(exc).__name__}: {exc} {where}; {advice}",
                   lf=lf.name, column=col, row=row, batch_level=unsplittable is not None)
