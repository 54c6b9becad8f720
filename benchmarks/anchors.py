"""Thin adapters around the anchor label models, as their authors document them.

Each adapter splits its work in three so the runner can time the parts apart:

* ``load()`` imports the library (not timed);
* ``convert(L)`` turns our ``(n, m)`` int8 vote matrix (``-1`` = abstain) into the input the library
  asks for (timed separately: the "convert s" column);
* ``fit_predict(X, n, K)`` fits with the library's defaults and returns ``(n, K)`` probabilities for
  every row (timed: the "seconds" column), plus a note when it had to fill something in.

These libraries are not dependencies of mmweak: this module only imports them inside ``load()`` and
runs in ``.venv-bench`` (see ``benchmarks/setup_anchors.sh``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

SEED = 0


@dataclass(frozen=True)
class Anchor:
    """One anchor method: how to import it, feed it, and run it."""

    name: str
    label: str  # as printed in the table
    load: Callable[[], Any]
    convert: Callable[[np.ndarray], Any]
    fit_predict: Callable[[Any, Any, int, int], tuple[np.ndarray, str]]
    binary_only: bool = False


# -- Snorkel 0.10 ---------------------------------------------------------------------------------
def _snorkel():
    from snorkel.labeling.model import LabelModel, MajorityLabelVoter

    return LabelModel, MajorityLabelVoter


def _snorkel_lm(lib, L, n, K):
    model = lib[0](cardinality=K, verbose=False)
    model.fit(L, n_epochs=100, seed=SEED, progress_bar=False)
    return model.predict_proba(L), ""


def _snorkel_mv(lib, L, n, K):
    # Ties get equal probabilities (the runner breaks them); no fit step exists.
    return lib[1](cardinality=K).predict_proba(L), ""


# -- crowd-kit ------------------------------------------------------------------------------------
def _crowdkit():
    from crowdkit.aggregation import GLAD, MACE, DawidSkene, OneCoinDawidSkene

    return DawidSkene, OneCoinDawidSkene, GLAD, MACE


def _long_frame(L: np.ndarray):
    """crowd-kit's input: one (task, worker, label) row per non-abstain vote."""
    import pandas as pd

    rows, cols = np.nonzero(L != -1)
    return pd.DataFrame({"task": rows, "worker": cols, "label": L[rows, cols]})


def _dense(probas, n: int, K: int) -> tuple[np.ndarray, str]:
    """crowd-kit returns a frame indexed by the tasks it saw, columns in first-seen label order;
    rows nobody voted on are missing and get a uniform distribution here."""
    P = probas.reindex(index=range(n), columns=range(K)).to_numpy(dtype=np.float64, copy=True)
    missing = np.isnan(P).all(axis=1)
    P[missing] = 1.0 / K
    np.nan_to_num(P, copy=False, nan=0.0)  # a class nobody ever voted
    note = f"{int(missing.sum())} rows w/o votes -> uniform" if missing.any() else ""
    return P, note


def _crowdkit_ds(lib, frame, n, K):
    return _dense(lib[0](n_iter=100).fit(frame).probas_, n, K)


def _crowdkit_onecoin(lib, frame, n, K):
    return _dense(lib[1](n_iter=100).fit(frame).probas_, n, K)


def _crowdkit_glad(lib, frame, n, K):
    return _dense(lib[2](n_iter=100).fit(frame).probas_, n, K)


def _crowdkit_mace(lib, frame, n, K):
    return _dense(lib[3](random_state=SEED).fit(frame).probas_, n, K)


# -- Hyper Label Model (Wu et al., ICLR 2023): a pretrained network, one forward pass ----------------
def _hyperlm():
    import functools

    import torch

    # The packaged checkpoint is a pickled module: torch >= 2.6 refuses it unless weights_only=False.
    # Only this benchmark-only virtualenv ever loads it.
    torch.load = functools.partial(torch.load, weights_only=False)
    from hyperlm import HyperLabelModel

    return HyperLabelModel(device="cpu")


def _hyperlm_fit(lib, L, n, K):
    # Transductive, as in WRENCH's wrapper: it labels the matrix it is given, no separate fit.
    P = np.asarray(lib.infer(L, return_probs=True), dtype=np.float64)
    if P.shape[1] < K:  # classes nobody voted are missing from its output
        P = np.pad(P, ((0, 0), (0, K - P.shape[1])))
    # It reads the votes as a sparse graph, so rows after the last one with a vote get no output at all.
    silent = n - P.shape[0]
    if silent > 0:
        P = np.vstack([P, np.full((silent, K), 1.0 / K)])
    return P, f"{silent} trailing rows w/o votes -> uniform" if silent > 0 else ""


# -- FlyingSquid ----------------------------------------------------------------------------------
def _flyingsquid():
    import logging

    logging.getLogger("pgmpy").setLevel(logging.ERROR)  # one deprecation warning per clique
    from flyingsquid.label_model import LabelModel

    return LabelModel


def _plus_minus(L: np.ndarray) -> np.ndarray:
    """FlyingSquid's binary encoding: +1 / -1 votes, 0 = abstain."""
    return np.where(L == -1, 0, 2 * L.astype(np.int64) - 1)


def _flyingsquid_fit(lib, X, n, K):
    model = lib(X.shape[1])  # defaults: no dependencies between LFs, uniform class balance
    model.fit(X)
    # Columns are (Y = -1, Y = +1), i.e. our classes (0, 1).
    return np.asarray(model.predict_proba(X, verbose=False), dtype=np.float64), ""


ANCHORS: dict[str, Anchor] = {
    a.name: a
    for a in (
        Anchor("snorkel_lm", "snorkel LabelModel", _snorkel, lambda L: L, _snorkel_lm),
        Anchor("snorkel_mv", "snorkel MajorityLabelVoter", _snorkel, lambda L: L, _snorkel_mv),
        Anchor("crowdkit_ds", "crowd-kit DawidSkene", _crowdkit, _long_frame, _crowdkit_ds),
        Anchor("crowdkit_onecoin", "crowd-kit OneCoinDawidSkene", _crowdkit, _long_frame, _crowdkit_onecoin),
        Anchor("crowdkit_glad", "crowd-kit GLAD", _crowdkit, _long_frame, _crowdkit_glad),
        Anchor("crowdkit_mace", "crowd-kit MACE", _crowdkit, _long_frame, _crowdkit_mace),
        Anchor("flyingsquid", "FlyingSquid LabelModel", _flyingsquid, _plus_minus, _flyingsquid_fit, True),
        Anchor("hyperlm", "Hyper Label Model", _hyperlm, lambda L: L, _hyperlm_fit),
    )
}
