"""Checks on what users hand a label model — vote matrices, dev labels, class counts, hyper-parameters — each
failing with a message that names the argument and what is wrong with it."""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import VoteMatrixError
from .votes import ABSTAIN

#: Largest number of classes a label model accepts (the joint tables are K x K per LF).
MAX_CARDINALITY = 1000
#: Largest Dirichlet/Gamma pseudo-count a model accepts: far past any prior that still lets the votes speak (EBCC's
#: published ones are 1-4), and well below where the variational updates overflow (1e16 and up).
MAX_PSEUDO_COUNT = 1e6
_INT64_MAX = np.iinfo(np.int64).max
_BOOLS = frozenset({bool, np.bool_})


def check_cardinality(cardinality: Any) -> int:
    """Validate a number of classes: a whole number (not a bool, float or string) in ``2..MAX_CARDINALITY``.

    >>> check_cardinality(3)
    3
    >>> check_cardinality(2.7)
    Traceback (most recent call last):
    ValueError: cardinality must be a whole number of classes (an int >= 2), got 2.7 (float)
    """
    if isinstance(cardinality, bool) or not isinstance(cardinality, numbers.Integral):
        raise ValueError(
            f"cardinality must be a whole number of classes (an int >= 2), got {cardinality!r} "
            f"({type(cardinality).__name__})"
        )
    if not 2 <= int(cardinality) <= MAX_CARDINALITY:
        raise ValueError(f"cardinality must be between 2 and {MAX_CARDINALITY}, got {cardinality}")
    return int(cardinality)


def check_votes(L: Any, cardinality: int, *, what: str = "L") -> np.ndarray:
    """Validate a vote matrix and return it as a C-contiguous int8/int16 array.

    Accepts integer arrays (any width), lists of ints, and float or object arrays whose entries are
    whole numbers; refuses booleans, complex numbers, strings, ``None``, NaN and fractions.

    Args:
        L: ``(n, m)`` votes, ``-1`` = abstain, classes ``0..cardinality-1``.
        cardinality: number of classes.
        what: the argument's name in error messages.

    Returns:
        The votes as int8 (int16 beyond 127 classes).

    Raises:
        VoteMatrixError: naming the first offending row and LF column, or what is wrong with the shape
            or element type.

    >>> check_votes([[0, -1], [1, 1]], 2).shape
    (2, 2)
    >>> check_votes([[True, False]], 2)
    Traceback (most recent call last):
    mmweak.errors.VoteMatrixError: L has boolean entries; votes must be integers (-1 = abstain, classes 0..1)
    """
    K = check_cardinality(cardinality)
    if isinstance(L, np.ma.MaskedArray):
        raise VoteMatrixError(f"{what} is a numpy masked array: pass L.filled(-1), abstains as -1 (its masked cells "
                              f"would otherwise read as votes)")
    if sp.issparse(L):
        raise VoteMatrixError(f"{what} is a scipy sparse matrix: pass a dense (rows x LFs) array with -1 for abstain "
                              f"(a sparse matrix's unstored entries would read as votes for class 0)")
    try:
        arr = np.asarray(L)
    except ValueError as e:  # ragged nested lists
        raise VoteMatrixError(f"{what} is not a rectangular (rows x LFs) vote matrix: {e}") from None
    if arr.ndim != 2:
        raise VoteMatrixError(f"{what} must be a 2-D (rows x LFs) vote matrix, got shape {arr.shape}")
    kinds = f"votes must be integers (-1 = abstain, classes 0..{K - 1})"
    if arr.dtype.kind == "b":
        raise VoteMatrixError(f"{what} has boolean entries; {kinds}")
    if arr.dtype.kind in "iuf" and isinstance(L, (list, tuple)):
        _refuse_listed_bools(L, what, kinds)  # numpy made numbers of them: [[True, 0.0]] would fit as [[1, 0]]
    if arr.dtype.kind == "c":
        raise VoteMatrixError(f"{what} has complex entries; {kinds}")
    if arr.dtype.kind in "USV":
        raise VoteMatrixError(f"{what} has {arr.dtype} entries (text or bytes); {kinds}")
    if arr.dtype.kind == "O":
        arr = _object_votes(arr, what, kinds, K)
    if arr.dtype.kind == "f" and arr.size:
        bad = ~np.isfinite(arr)
        bad[~bad] = arr[~bad] != np.round(arr[~bad])
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise VoteMatrixError(
                f"{what}[{i}, {j}] = {arr[i, j].item()!r} is not an integer vote (row {i}, LF column {j})"
            )
    if arr.dtype.kind not in "iuf":
        raise VoteMatrixError(f"{what} has {arr.dtype} entries; {kinds}")
    if arr.size:
        lo, hi = arr.min(), arr.max()
        if lo < ABSTAIN or hi >= K:
            i, j = np.argwhere((arr < ABSTAIN) | (arr >= K))[0]
            raise _outside(what, i, j, int(arr[i, j]), K)
    dtype = np.int8 if K <= 127 else np.int16
    return np.ascontiguousarray(arr, dtype=dtype)


def lf_names(L: Any) -> list[str] | None:
    """The column names of a pandas DataFrame of votes whose columns are all strings (the LF names, recorded as
    ``feature_names_in_`` as scikit-learn records them); ``None`` for any other input.

    >>> import pandas as pd
    >>> lf_names(pd.DataFrame({"kw": [1], "link": [0]})), lf_names([[1, 0]])
    (['kw', 'link'], None)
    """
    names = _frame_columns(L)
    return names if names and all(isinstance(c, str) for c in names) else None


def _frame_columns(L: Any) -> list | None:
    """The column labels of a pandas DataFrame, whatever they are; ``None`` for any other input."""
    columns = getattr(L, "columns", None)
    return None if columns is None or not hasattr(L, "iloc") else list(columns)


def check_lf_names(fitted: list[str] | None, L: Any, what: str = "L", fitted_on: str = "the model was fitted on"
                   ) -> None:
    """Refuse a DataFrame of votes whose LF columns are not those a model was fitted on, in the same order: the
    model reads columns by position, so reordered columns would silently give other labels.

    >>> import pandas as pd
    >>> check_lf_names(["kw", "link"], pd.DataFrame({"link": [0], "kw": [1]}))
    Traceback (most recent call last):
    mmweak.errors.VoteMatrixError: L's column 0 is 'link' where the model was fitted on 'kw' (fitted LF columns: \
['kw', 'link']); pass L[model.feature_names_in_] to read them in the fitted order
    """
    names = lf_names(L)
    columns = _frame_columns(L)
    if fitted is not None and names is None and columns is not None:
        # pd.DataFrame(L) names its columns 0..m-1: nothing to check them against, so say they are read by position.
        warnings.warn(f"{what} is a DataFrame whose columns are not LF names ({columns[:5]}...) though "
                      f"{fitted_on} {list(fitted)}: its columns are read by position; name them to have them checked",
                      UserWarning, stacklevel=4)
        return
    if fitted is None or names is None or names == list(fitted):
        return
    j = next((j for j, (a, b) in enumerate(zip(names, fitted)) if a != b), min(len(names), len(fitted)))
    found = repr(names[j]) if j < len(names) else "missing"
    expected = repr(fitted[j]) if j < len(fitted) else "nothing (an extra column)"
    raise VoteMatrixError(f"{what}'s column {j} is {found} where {fitted_on} {expected} (fitted LF columns: "
                          f"{list(fitted)}); pass {what}[model.feature_names_in_] to read them in the fitted order")


def _outside(what: str, i: int, j: int, value: int, K: int) -> VoteMatrixError:
    return VoteMatrixError(
        f"{what}[{i}, {j}] = {value} is outside -1..{K - 1} (row {i}, LF column {j}; -1 = abstain, cardinality {K})"
    )


def _refuse_listed_bools(L: list | tuple, what: str, kinds: str) -> None:
    """Raise naming the first ``True``/``False`` in a list of rows that numpy read as integers."""
    for i, row in enumerate(L):
        if not _BOOLS.isdisjoint(map(type, row)):
            j = next(j for j, v in enumerate(row) if type(v) in _BOOLS)
            raise VoteMatrixError(
                f"{what}[{i}, {j}] = {row[j]!r} (bool) is not an integer vote (row {i}, LF column {j}); {kinds}"
            )


def _object_votes(arr: np.ndarray, what: str, kinds: str, K: int) -> np.ndarray:
    """An object array whose cells are all plain integers, as int64; else an error naming the first bad cell."""
    flat = arr.ravel()
    for idx, v in enumerate(flat):
        not_a_number = isinstance(v, bool) or not isinstance(v, (numbers.Integral, float, np.floating))
        # Past int64 the cast below would raise a bare OverflowError.
        if not_a_number or (isinstance(v, numbers.Integral) and not -_INT64_MAX <= int(v) <= _INT64_MAX):
            i, j = divmod(idx, arr.shape[1]) if arr.shape[1] else (idx, 0)
            if not not_a_number:
                raise _outside(what, i, j, int(v), K)
            raise VoteMatrixError(
                f"{what}[{i}, {j}] = {v!r} ({type(v).__name__}) is not an integer vote "
                f"(row {i}, LF column {j}); {kinds}"
            )
    return arr.astype(np.float64) if any(isinstance(v, (float, np.floating)) for v in flat) else arr.astype(np.int64)


def check_labels(y: Any, cardinality: int, *, what: str = "y_dev") -> np.ndarray:
    """Validate gold labels: a 1-D sequence of whole numbers in ``0..cardinality-1``.

    >>> check_labels([0, 1, 1], 2).tolist()
    [0, 1, 1]
    >>> check_labels([0.5, 1.0], 2)
    Traceback (most recent call last):
    ValueError: y_dev[0] = 0.5 is not a class index: gold labels must be integers 0..1
    """
    arr = np.asarray(y)
    if arr.ndim != 1:
        if arr.ndim == 2 and 1 in arr.shape:
            arr = arr.ravel()
        else:
            raise ValueError(f"{what} must be 1-D (one gold label per row), got shape {arr.shape}")
    rule = f"gold labels must be integers 0..{cardinality - 1}"
    if arr.dtype.kind in "bcUSV" or (
        arr.dtype.kind == "O"
        and any(isinstance(v, bool) or not isinstance(v, (numbers.Integral, float, np.floating)) for v in arr)
    ):
        raise ValueError(f"{what} has {arr.dtype} entries: {rule}")
    if arr.dtype.kind == "O":
        arr = arr.astype(np.float64)
    if arr.dtype.kind == "f" and arr.size:
        bad = ~np.isfinite(arr) | (arr != np.round(np.nan_to_num(arr)))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{what}[{i}] = {arr[i].item()!r} is not a class index: {rule}")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= cardinality):
        i = int(np.flatnonzero((arr < 0) | (arr >= cardinality))[0])
        raise ValueError(f"{what}[{i}] = {arr[i]} is outside 0..{cardinality - 1}: {rule}")
    return arr


def what_shape(L: np.ndarray) -> str:
    return f"L of shape {tuple(L.shape)}"


def _check_choice(name: str, value: Any, allowed: tuple[Any, ...]) -> None:
    if not any(value == a and type(value) is type(a) for a in allowed):
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> float:
    """Validate a numeric hyper-parameter (finite, not a bool or string, within bounds); returns it.

    >>> check_number("smoothing", 0.5, low=0)
    0.5
    >>> check_number("max_iter", 0, low=1, integer=True)
    Traceback (most recent call last):
    ValueError: max_iter must be an integer >= 1, got 0
    """
    kind = "an integer" if integer else "a number"
    ok_type = isinstance(value, numbers.Integral) if integer else isinstance(value, numbers.Real)
    if isinstance(value, bool) or not ok_type or not np.isfinite(float(value)):
        raise ValueError(f"{name} must be {kind}, got {value!r} ({type(value).__name__})")
    bounds = []
    if low is not None:
        bounds.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        bounds.append(f"{'<' if high_open else '<='} {high:g}")
    v = float(value)
    if (low is not None and (v <= low if low_open else v < low)) or (
        high is not None and (v >= high if high_open else v > high)
    ):
        raise ValueError(f"{name} must be {kind} {' and '.join(bounds)}, got {value!r}")
    return v
