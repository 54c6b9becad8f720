"""Loading a saved label model is validation, not trust.

A label-model JSON file can come from any dataset repo. Before anything in it is used, the file is
checked against the model's schema: a known model name, known hyper-parameters (then checked by the
model's own ``fit``-time validation), known learned attributes only (so nothing can shadow a method),
every array of the shape its ``n_lfs_``/``cardinality`` imply, finite numbers, and sizes bounded by
:data:`MAX_LFS`, :data:`~mmweak.labelmodels.validation.MAX_CARDINALITY` and :data:`MAX_FILE_BYTES`, so a
tampered file is a clear :class:`ModelFileError`, never a huge allocation at predict time.

Shape specs in a model's ``_state_schema`` name their axes: ``"m"`` (LFs), ``"K"`` (classes), ``"KM"``
(classes x subtypes, EBCC); scalar specs are ``"int"``, ``"float"``, ``"str"``, ``"names"`` (one string per
LF), ``"scores"`` (name -> list of numbers) and ``"models"`` (nested saved models, for the default's members).
"""

from __future__ import annotations

import json
import math
import numbers
import os
from typing import Any

import numpy as np

from ..errors import MMWeakError
from .decision import NEVER

#: Most LFs a saved model may declare.
MAX_LFS = 100_000
#: Largest label-model file :func:`read_model_file` reads.
MAX_FILE_BYTES = 256 * 2**20
#: Most numbers one saved array may hold (the largest legitimate one is EBCC's m x K x K*M weights).
MAX_ARRAY_CELLS = 50_000_000


class ModelFileError(MMWeakError, ValueError):
    """A saved label model is malformed or tampered with; the message says what and where."""


def read_model_file(path: str | os.PathLike) -> Any:
    """Parse a label-model JSON file (size-checked first; NaN/Infinity literals refused).

    Raises:
        ModelFileError: too large, not UTF-8 JSON, or JSON with NaN/Infinity.
    """
    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
        raise ModelFileError(f"{os.fspath(path)}: {size} bytes is larger than any label model ({MAX_FILE_BYTES} max)")

    def no_constants(token: str) -> Any:
        raise ModelFileError(f"{os.fspath(path)}: JSON constant {token} is not allowed in a label-model file")

    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f, parse_constant=no_constants)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelFileError(f"{os.fspath(path)} is not a label-model JSON file: {e}") from None


def validated_model(data: Any, registry: dict[str, type[Any]]) -> Any:
    """Build the model ``data`` describes after checking all of it; see the module docstring.

    >>> from mmweak.labelmodels import create
    >>> from mmweak.labelmodels.base import _REGISTRY
    >>> d = create("majority").fit([[0, 1, 1]]).to_dict()
    >>> d["state"]["predict"] = 1
    >>> validated_model(d, _REGISTRY)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    mmweak.labelmodels.schema.ModelFileError: majority model file: unknown state key 'predict' (known: ...)
    """
    if not isinstance(data, dict):
        raise ModelFileError(f"a label-model file holds a JSON object, got {type(data).__name__}")
    extra = set(data) - {"model", "params", "state"}
    if extra or not {"model", "params", "state"} <= set(data):
        raise ModelFileError(f"a label-model file has exactly the keys model, params, state; got {sorted(data)}")
    name = data["model"]
    if not isinstance(name, str) or name not in registry:
        raise ModelFileError(f"unknown label model {name!r}; known: {sorted(registry)}")
    cls = registry[name]
    where = f"{name} model file"
    params, state = data["params"], data["state"]
    if not isinstance(params, dict) or not isinstance(state, dict):
        raise ModelFileError(f"{where}: params and state must be JSON objects")
    allowed = set(cls().get_params(deep=False))
    for key, value in params.items():
        if key not in allowed:
            raise ModelFileError(f"{where}: unknown parameter {key!r} (known: {', '.join(sorted(allowed))})")
        if isinstance(value, list) and len(value) <= 32 and all(isinstance(v, str) and len(v) <= 100 for v in value):
            value = tuple(value)  # a tuple of names (the default's candidates)
            params = {**params, key: value}
        elif not (value is None or isinstance(value, (str, bool, numbers.Real))):
            raise ModelFileError(
                f"{where}: parameter {key!r} must be a number, string, bool or null, got {type(value).__name__}"
            )
    model = cls(**params)
    try:
        model._validate_params()
    except ValueError as e:
        raise ModelFileError(f"{where}: {e}") from None

    schema = {k: v for k, v in _BASE_SCHEMA.items()} | dict(cls._state_schema)
    unknown = set(state) - set(schema)
    if unknown:
        raise ModelFileError(f"{where}: unknown state key {sorted(unknown)[0]!r} (known: {', '.join(sorted(schema))})")
    missing = set(schema) - set(state) - _OPTIONAL
    if missing:
        raise ModelFileError(f"{where}: missing state {', '.join(sorted(missing))}")
    m = _int(state["n_lfs_"], "n_lfs_", where, low=1, high=MAX_LFS)
    K = int(model.cardinality)
    members = state.get("members_")
    dims = {
        "m": m,
        "K": K,
        "KM": K * int(getattr(model, "n_subtypes", 1)),
        "n_members": len(members) if isinstance(members, dict) else 0,
    }
    values: dict[str, Any] = {}
    for key, spec in schema.items():
        if key in state:
            values[key] = _check_value(state[key], spec, dims, f"{where}: {key}", registry)
    for key in ("class_balance_", "no_vote_proba_"):  # the latter is absent from files of older versions
        shares = values.setdefault(key, None)
        if shares is not None and (np.any(shares < 0) or abs(shares.sum() - 1.0) > 1e-6):
            raise ModelFileError(f"{where}: {key} must be {K} non-negative shares summing to 1")
    for key in ("fallback_", "dev_leader_", "passed_over_"):  # short strings absent from files of older versions
        if key in schema:
            values.setdefault(key, "")
    if "lf_weights_" in schema and "lf_weights_" not in values:
        values["lf_weights_"] = np.ones(m)
    if "lf_weights_" in values and (np.any(values["lf_weights_"] <= 0) or np.any(values["lf_weights_"] > 1)):
        raise ModelFileError(f"{where}: lf_weights_ must lie in (0, 1]")
    th = values.setdefault("f1_thresholds_", None)  # absent from files of older versions: F1 rule needs a refit
    if th is not None and (np.any(th < 0) or np.any(th > NEVER)):
        raise ModelFileError(f"{where}: f1_thresholds_ must lie in [0, 1]")
    for key, value in values.items():
        object.__setattr__(model, key, value)
    model._check_loaded_state()
    return model


# State absent from files of older versions.
_OPTIONAL = {"f1_thresholds_", "lf_weights_", "fallback_", "no_vote_proba_", "selection_repeats_", "dev_leader_",
             "passed_over_", "below_floor_", "feature_names_in_"}  # the last only for models fitted on a DataFrame
_BASE_SCHEMA: dict[str, Any] = {
    "class_balance_": ("K",), "n_lfs_": "int", "seed_": "int", "f1_thresholds_": ("K",), "no_vote_proba_": ("K",),
    "feature_names_in_": "names",
}


def _check_value(value: Any, spec: Any, dims: dict[str, int], where: str, registry: dict[str, type[Any]]) -> Any:
    if spec == "int":
        return _int(value, "", where, low=0, high=2**63 - 1)
    if spec == "float":
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ModelFileError(f"{where} must be a finite number, got {value!r}")
        return float(value)
    if spec == "str":
        if not isinstance(value, str) or len(value) > 200:
            raise ModelFileError(f"{where} must be a short string")
        return value
    if spec == "names":  # one short string per LF
        if (not isinstance(value, list) or len(value) != dims["m"]
                or not all(isinstance(v, str) and len(v) <= 1000 for v in value)):
            raise ModelFileError(f"{where} must be a list of {dims['m']} LF names (strings)")
        return value
    if spec == "scores":
        if not isinstance(value, dict) or len(value) > 100:
            raise ModelFileError(f"{where} must be a small object of name -> numbers")
        out = {}
        for k, v in value.items():
            arr = _array(v, None, f"{where}[{k!r}]")
            if arr.ndim != 1 or arr.size > 100:
                raise ModelFileError(f"{where}[{k!r}] must be a short list of numbers")
            out[str(k)[:200]] = arr.tolist()
        return out
    if spec == "models":
        if not isinstance(value, dict) or not 1 <= len(value) <= 16:
            raise ModelFileError(f"{where} must hold 1 to 16 saved member models")
        members = {}
        for k, v in value.items():
            if not (isinstance(k, str) and k.isdigit() and int(k) < len(value)):
                raise ModelFileError(f"{where}: member keys must be 0..{len(value) - 1}, got {k!r}")
            try:
                member = validated_model(v, registry)
            except ModelFileError as e:
                raise ModelFileError(f"{where}[{k}]: {e}") from None
            if int(member.n_lfs_) != dims["m"] or int(member.cardinality) != dims["K"]:
                raise ModelFileError(f"{where}[{k}] was fitted on other LFs or classes than its parent")
            members[k] = v
        return members
    shape = tuple(dims[d] if isinstance(d, str) else int(d) for d in spec)
    return _array(value, shape, where)


def _array(value: Any, shape: tuple[int, ...] | None, where: str) -> np.ndarray:
    if shape is not None and int(np.prod(shape, dtype=np.float64)) > MAX_ARRAY_CELLS:
        raise ModelFileError(f"{where}: shape {shape} is larger than any label model holds")
    if not isinstance(value, list):
        raise ModelFileError(f"{where} must be an array of numbers{f' of shape {shape}' if shape else ''}")
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ModelFileError(f"{where} must be a rectangular array of numbers") from None
    if arr.dtype != np.float64 or _has_bool(value):
        raise ModelFileError(f"{where} must hold numbers only")
    if shape is not None and arr.shape != shape:
        raise ModelFileError(f"{where} has shape {arr.shape}, expected {shape} (from n_lfs_ and cardinality)")
    if not np.isfinite(arr).all():
        raise ModelFileError(f"{where} holds NaN or infinite values")
    return arr


def _has_bool(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, bool) or not isinstance(v, numbers.Real):
            return True
    return False


def _int(value: Any, name: str, where: str, *, low: int, high: int) -> int:
    label = f"{where}{': ' + name if name else ''}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= int(value) <= high:
        raise ModelFileError(f"{label} must be an integer in {low}..{high}, got {value!r}")
    return int(value)


__all__ = ["MAX_ARRAY_CELLS", "MAX_FILE_BYTES", "MAX_LFS", "ModelFileError", "read_model_file", "validated_model"]
