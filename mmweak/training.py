"""Train on curated probabilistic labels: row filters, soft targets, a collator, a noise-aware loss, class weights.

The curated columns of a task ``T`` (see :class:`mmweak.Task`) are ``T_probs`` (soft labels), ``T_label``
(``-1`` where the label model abstained) and ``T_confidence`` (the top probability). The helpers here turn
them into what a training loop needs. torch is imported only inside the functions that return tensors,
so this module (and the filters) work without it.

>>> import datasets, mmweak
>>> from mmweak import training
>>> ds = datasets.Dataset.from_dict({"x": [1.0, 2.0, 3.0], "spam_probs": [[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]],
...                                  "spam_label": [1, -1, 0], "spam_confidence": [0.8, 0.5, 0.9]})
>>> len(training.drop_abstains(ds, "spam")), len(training.filter_by_confidence(ds, "spam", 0.85))
(2, 1)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Sequence

import numpy as np
from datasets import Dataset, DatasetDict

from .aggregate import human_gold_column
from .columns import read_column, read_matrix
from .errors import FIT_FIRST
from .provenance import read_record
from .task import Task, task_columns

if TYPE_CHECKING:  # pragma: no cover
    import torch

Reduction = Literal["mean", "sum", "none"]
_ABSTAIN = -1


def _columns(task: Task | str) -> tuple[str, str, str, str, str]:
    """(name, votes, probs, label, confidence) column names of a task or task name."""
    return (task.name if isinstance(task, Task) else str(task), *task_columns(task))


def _need(ds: Dataset | DatasetDict, task: Task | str, *cols: str) -> None:
    """Every split has ``cols``; a task the record does not know, or knows with other classes, is named as such."""
    if not isinstance(ds, (Dataset, DatasetDict)):
        raise TypeError(f"expected a datasets Dataset or DatasetDict, got {type(ds).__name__} (a streaming "
                        "IterableDataset carries no index to filter: filter it with its own .filter, or load it "
                        "without streaming)")
    name = _columns(task)[0]
    recorded = read_record(ds).get("tasks", {})
    if recorded and name not in recorded:
        raise ValueError(f"unknown task {name!r}: the dataset's labels are for task(s) {sorted(recorded)}")
    known = (recorded.get(name) or {}).get("task") or {}
    if isinstance(task, Task) and known.get("labels") is not None and list(known["labels"]) != list(task.labels):
        raise ValueError(f"task {name!r} is given with classes {list(task.labels)}, but the dataset's labels were "
                         f"made for {list(known['labels'])} (in that order): use the task from mmweak.load_curated")
    splits = ds.items() if isinstance(ds, DatasetDict) else [(None, ds)]
    for split, d in splits:
        for c in cols:
            if c not in d.column_names:
                where = f"split {split!r}" if split is not None else "the dataset"
                raise ValueError(
                    f"{where} has no {c!r} column for task {name!r}; {FIT_FIRST} "
                    f"(columns: {d.column_names})"
                )


def _check_probabilities(P: np.ndarray, column: str, where: str) -> None:
    """Rows of ``P`` are probability vectors (finite, non-negative, summing to 1 within float32 rounding)."""
    bad = ~np.isfinite(P).all(axis=1) | (P < 0).any(axis=1) | (np.abs(P.sum(axis=1) - 1.0) > 1e-3)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise ValueError(f"column {column!r}, {where} {r}: {P[r].tolist()} is not a probability vector "
                         f"({int(bad.sum())} such rows): the curated columns were changed after mmweak.aggregate")


def _select(ds: Dataset | DatasetDict, keep: Any) -> Dataset | DatasetDict:
    """Rows of every split where ``keep(split)`` (a boolean numpy mask read from Arrow) holds; no copy."""
    if isinstance(ds, DatasetDict):
        return DatasetDict({name: _select(d, keep) for name, d in ds.items()})
    return ds.select(np.flatnonzero(keep(ds)))


def drop_abstains(
    ds: Dataset | DatasetDict, task: Task | str, *, keep_filled: bool = False, batch_size: int = 1000
) -> Dataset | DatasetDict:
    """Rows the label model labelled from votes: ``T_label`` is not ``-1`` and, unless ``keep_filled``, some LF
    voted on the row (or a person reviewed it).

    A fit with ``fill_abstains="prior"`` labels rows no LF voted on with its class balance's guess, the same label
    on every such row; training on them teaches the prior, so they are dropped like abstains unless
    ``keep_filled=True``. Works on a ``Dataset`` or every split of a ``DatasetDict``; the mask is computed from the
    Arrow columns and applied as an index mapping (no rows are copied). ``batch_size`` is accepted for
    compatibility and unused.

    >>> import datasets
    >>> ds = datasets.Dataset.from_dict({"spam_label": [1, -1, 0, 0], "spam_votes": [[1], [-1], [0], [-1]]})
    >>> list(drop_abstains(ds, "spam")["spam_label"]), len(drop_abstains(ds, "spam", keep_filled=True))
    ([1, 0], 3)
    """
    _, _, _, label, _ = _columns(task)
    _need(ds, task, label)
    return _select(ds, lambda d: _labelled(d, task, keep_filled))


def _labelled(d: Dataset, task: Task | str, keep_filled: bool) -> np.ndarray:
    """Rows with a label (``T_label >= 0``) that came from votes or review, or any label with ``keep_filled``."""
    name, votes, _, label, _ = _columns(task)
    ok = read_column(d, label) != _ABSTAIN
    if keep_filled or votes not in d.column_names or not ok.any():
        return ok
    silent = (read_matrix(d, votes) == _ABSTAIN).all(axis=1)
    if silent.any():  # a reviewed row keeps its human label, votes or not
        entry = read_record(d).get("tasks", {}).get(name) or {}
        gold = human_gold_column(entry, d, name)
        if gold is not None:
            silent &= read_column(d, gold) < 0
    return ok & ~silent


def filter_by_confidence(
    ds: Dataset | DatasetDict,
    task: Task | str,
    min_confidence: float,
    *,
    drop_abstains: bool = True,
    keep_filled: bool = False,
    batch_size: int = 1000,
) -> Dataset | DatasetDict:
    """Rows with ``T_confidence >= min_confidence`` (compared in float32), abstains dropped by default (and rows
    no LF voted on that ``fill_abstains="prior"`` labelled, unless ``keep_filled``: see :func:`drop_abstains`).

    >>> import datasets
    >>> ds = datasets.Dataset.from_dict({"spam_confidence": [0.7, 0.55, 0.99], "spam_label": [1, 0, -1]})
    >>> [round(c, 4) for c in filter_by_confidence(ds, "spam", 0.7)["spam_confidence"]]
    [0.7]
    >>> len(filter_by_confidence(ds, "spam", 0.7, drop_abstains=False))
    2
    """
    if not 0.0 <= float(min_confidence) <= 1.0:
        raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence!r}")
    _, _, _, label, conf = _columns(task)
    _need(ds, task, label, conf)
    threshold = np.float32(min_confidence)  # compared in float32, the stored precision

    def keep(d: Dataset) -> np.ndarray:
        c = read_column(d, conf).astype(np.float32)
        bad = ~((c >= 0) & (c <= 1))  # NaN too: it was dropped silently, whatever the threshold
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise ValueError(f"column {conf!r}, row {r}: confidence {float(c[r])} is not in [0, 1] ({int(bad.sum())} "
                             "such rows): the curated columns were changed after mmweak.aggregate")
        ok = c >= threshold
        if drop_abstains:
            ok &= _labelled(d, task, keep_filled)
        return ok

    return _select(ds, keep)


def soft_targets(ds: Dataset, task: Task | str) -> "torch.Tensor":
    """The ``(n, K)`` float32 tensor of ``T_probs``, read straight from Arrow.

    >>> import datasets
    >>> ds = datasets.Dataset.from_dict({"spam_probs": [[0.25, 0.75], [1.0, 0.0]]})
    >>> t = soft_targets(ds, "spam")
    >>> tuple(t.shape), t.dtype, t[0].tolist()
    ((2, 2), torch.float32, [0.25, 0.75])
    """
    import torch

    if isinstance(ds, DatasetDict):
        raise TypeError(f"soft_targets takes one split, got a DatasetDict with {list(ds)}: pass ds[split]")
    _, _, probs, _, _ = _columns(task)
    _need(ds, task, probs)
    P = np.array(read_matrix(ds, probs), dtype=np.float32)  # a writable copy for torch
    _check_probabilities(P, probs, "row")
    return torch.from_numpy(P)


def estimated_class_balance(ds: Dataset | DatasetDict, task: Task | str) -> np.ndarray:
    """The class prior the task's label model estimated, from the weak-supervision record.

    The record travels with datasets from :func:`mmweak.aggregate` and :func:`mmweak.load_curated`.

    >>> import datasets, mmweak
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lf = mmweak.labeling_function(task=spam, inputs="t")(lambda b: [1, 1, 0])
    >>> ds = mmweak.aggregate(mmweak.apply_lfs(datasets.Dataset.from_dict({"t": ["a", "b", "c"]}), [lf]),
    ...                       model="majority", class_balance=[0.25, 0.75])
    >>> estimated_class_balance(ds, spam).tolist()
    [0.25, 0.75]
    """
    name = _columns(task)[0]
    entry = read_record(ds).get("tasks", {}).get(name)
    lm = (entry or {}).get("label_model")
    if not lm or lm.get("class_balance") is None:
        raise ValueError(
            f"no label model recorded for task {name!r}: {FIT_FIRST}, or load a curated folder with "
            "mmweak.load_curated"
        )
    return np.asarray(lm["class_balance"], dtype=np.float64)


def class_weights(class_balance: Sequence[float] | np.ndarray, *, min_prior: float = 1e-3) -> np.ndarray:
    """Inverse-frequency class weights ``w_k ∝ 1 / p_k``, normalized to mean 1 (they sum to K).

    With these weights every class contributes equally to the expected loss under the prior. The mean over
    classes is 1, but the mean over rows (``K / Σ 1/p_k``) is below 1 wherever the classes are imbalanced (0.71
    for a 50/25/15/10 prior, 0.08 for 98/2), and the weighted loss is that much smaller than the unweighted one:
    Adam-type optimisers do not notice, but with plain SGD or a fixed gradient-clipping norm raise the learning
    rate (or divide the weights by ``(p * w).sum()``). Priors below ``min_prior`` are raised to it so a class the
    label model thinks is (almost) absent does not get an unbounded weight.

    >>> class_weights([0.75, 0.25]).tolist()
    [0.5, 1.5]
    """
    p = np.asarray(class_balance, dtype=np.float64).ravel()
    if p.size < 2 or not np.isfinite(p).all() or np.any(p < 0) or p.sum() <= 0:
        raise ValueError(f"class_balance must be >= 2 non-negative finite numbers, got {class_balance!r}")
    p = np.maximum(p / p.sum(), float(min_prior))
    w = 1.0 / p
    return w * (p.size / w.sum())


def noise_aware_loss(
    logits: "torch.Tensor",
    targets: Any,
    *,
    class_weights: Any = None,
    reduction: Reduction = "mean",
) -> "torch.Tensor":
    """Cross entropy against probabilistic targets: ``-sum_k w_k q_k log softmax(logits)_k`` per row.

    ``targets`` is ``(B, K)`` class probabilities (rows are renormalized; negative entries are an error) or
    ``(B,)`` integer hard labels (one-hot). ``class_weights`` (length K) weights each class's term;
    ``reduction="mean"`` averages over rows (as ``torch.nn.functional.cross_entropy`` does for probability
    targets). Computed from ``log_softmax`` and never multiplies a zero target by ``-inf``, so extreme
    logits give finite losses and gradients.

    >>> import torch
    >>> logits = torch.tensor([[0.0, 0.0], [2.0, 0.0]], requires_grad=True)
    >>> loss = noise_aware_loss(logits, torch.tensor([[0.2, 0.8], [1.0, 0.0]]))
    >>> round(loss.item(), 4)                  # (log 2 + log(1 + e^-2)) / 2
    0.41
    >>> loss.backward(); logits.grad.shape
    torch.Size([2, 2])
    """
    import torch

    if logits.ndim != 2:
        raise ValueError(f"logits must be (batch, classes), got shape {tuple(logits.shape)}")
    B, K = logits.shape
    q = torch.as_tensor(targets, device=logits.device)
    if q.ndim == 1:
        if q.dtype.is_floating_point:
            raise ValueError("1-D targets must be integer class indices; pass soft targets as (batch, classes)")
        if q.numel() and (int(q.min()) < 0 or int(q.max()) >= K):
            r = int(((q < 0) | (q >= K)).nonzero()[0, 0])
            raise ValueError(f"target class {int(q[r])} at row {r} is outside 0..{K - 1}")
        q = torch.nn.functional.one_hot(q.long(), K)
    if tuple(q.shape) != (B, K):
        raise ValueError(f"targets have shape {tuple(q.shape)} but logits have {(B, K)}")
    q = q.to(logits.dtype)
    if not torch.isfinite(q).all() or (q < 0).any():
        r = int((~torch.isfinite(q) | (q < 0)).any(dim=1).nonzero()[0, 0])
        raise ValueError(f"targets row {r} is not a probability vector: {q[r].tolist()}")
    total = q.sum(dim=1, keepdim=True)
    if (total <= 0).any():
        r = int((total[:, 0] <= 0).nonzero()[0, 0])
        raise ValueError(f"targets row {r} sums to 0; drop abstained rows or give it a distribution")
    q = q / total
    logp = torch.log_softmax(logits, dim=1)
    terms = torch.where(q > 0, q * logp, torch.zeros((), dtype=logp.dtype, device=logp.device))
    if class_weights is not None:
        w = torch.as_tensor(class_weights, dtype=logits.dtype, device=logits.device).reshape(-1)
        if w.numel() != K:
            raise ValueError(f"class_weights has {w.numel()} entries for {K} classes")
        terms = terms * w
    per_row = -terms.sum(dim=1)
    if reduction == "mean":
        return per_row.mean() if B else per_row.sum()
    if reduction == "sum":
        return per_row.sum()
    if reduction == "none":
        return per_row
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


class SoftLabelLoss:
    """``compute_loss_func`` for ``transformers.Trainer``: :func:`noise_aware_loss` on ``outputs.logits``.

    The Trainer passes ``num_items_in_batch`` as the number of target *entries* of the whole accumulated
    batch (rows x K for soft targets); the loss is then the per-row sum divided by that many rows, which is
    what gradient accumulation expects. Use it with ``SoftLabelCollator`` and ``remove_unused_columns=False``.

    >>> import torch
    >>> loss_fn = SoftLabelLoss()
    >>> out = {"logits": torch.zeros(2, 2)}
    >>> round(loss_fn(out, torch.tensor([[0.5, 0.5], [1.0, 0.0]])).item(), 4)
    0.6931
    >>> round(loss_fn(out, torch.tensor([[1.0, 0.0], [1.0, 0.0]]), num_items_in_batch=8).item(), 4)
    0.3466
    """

    def __init__(self, class_weights: Any = None) -> None:
        self.class_weights = class_weights

    def __call__(self, outputs: Any, labels: Any, num_items_in_batch: Any = None) -> "torch.Tensor":
        if isinstance(outputs, Mapping):
            logits = outputs["logits"]
        else:
            logits = getattr(outputs, "logits", None)
            if logits is None:
                logits = outputs[0]
        if labels is None:
            raise ValueError("SoftLabelLoss got labels=None: the batch has no 'labels' (use SoftLabelCollator)")
        if num_items_in_batch is None:
            return noise_aware_loss(logits, labels, class_weights=self.class_weights)
        total = noise_aware_loss(logits, labels, class_weights=self.class_weights, reduction="sum")
        per_row_items = labels.shape[-1] if getattr(labels, "ndim", 1) == 2 else 1
        return total / (num_items_in_batch / per_row_items)


def _stack(key: str, values: list[Any]) -> Any:
    """Tensor from a column of a batch when it is numeric and rectangular, with its dtype (Python and float64
    floats as float32, Python ints as int64, uint8 images stay uint8, as ``default_collate`` keeps them); lists of
    other objects (text, PIL images, dicts) and ragged sequences of numbers stay lists, in every batch alike."""
    import torch

    first = values[0] if values else None
    if isinstance(first, torch.Tensor):
        shapes = {tuple(v.shape) for v in values}
        if len(shapes) > 1:
            raise ValueError(f"column {key!r} has tensors of {len(shapes)} shapes in one batch ({sorted(shapes)[:3]}"
                             "...): pad them (base_collator=, e.g. DataCollatorWithPadding) or leave the column "
                             "out (columns=[...])")
        out = torch.stack(values)
    elif isinstance(first, (bool, int, float, np.generic, np.ndarray, list, tuple)):
        if not _numeric_leaf(first):  # a list of PIL images or texts per row: left as it is, in every batch
            return values
        if isinstance(first, np.ndarray) and len({v.shape for v in values}) > 1:
            raise ValueError(f"column {key!r} has arrays of several shapes in one batch: pad or resize them "
                             "(base_collator=, a transform) or leave the column out (columns=[...])")
        try:
            arr = np.asarray(values)
        except ValueError:  # ragged lists: leave them to the caller's collator
            return values
        if arr.dtype.kind not in "biuf":
            return values
        out = torch.from_numpy(np.ascontiguousarray(arr))
    else:
        return values
    return out.to(torch.float32) if out.dtype == torch.float64 else out


def _numeric_leaf(value: Any) -> bool:
    """Whether the first innermost element of a cell is a number (a PIL image or a text in a list is not)."""
    while isinstance(value, (list, tuple)) and value:
        value = value[0]
    return isinstance(value, (bool, int, float, np.generic, np.ndarray)) or (isinstance(value, (list, tuple)))


class SoftLabelCollator:
    """Collate rows of a curated dataset for a ``DataLoader`` or ``transformers.Trainer``.

    Puts the task's soft labels (``T_probs``) under ``labels_key`` as a float32 ``(B, K)`` tensor, and optionally
    ``T_confidence`` under ``confidence_key``. The task's other columns (votes, hard label) are dropped, and so are
    every other task's curated columns (``U_votes``, ``U_probs``, ``U_label``, ``U_confidence`` wherever ``U_probs``
    and ``U_label`` both are in the rows): a model called with ``**batch`` would take them for inputs. The
    remaining columns (only ``columns`` if given) go to ``base_collator`` (e.g.
    ``transformers.DataCollatorWithPadding``) when one is given, else numeric rectangular columns become
    tensors of their dtype (float64 as float32; uint8 images stay uint8) and the rest stay lists (e.g. raw text,
    PIL images). A task column named in ``columns`` (e.g. ``T_label``) is kept under its own name. Probabilities
    that are not probability vectors (NaN, negative, not summing to 1) are refused, naming the column.

    >>> import torch
    >>> rows = [{"x": [1.0, 2.0], "text": "a", "spam_probs": [0.1, 0.9], "spam_label": 1},
    ...         {"x": [3.0, 4.0], "text": "b", "spam_probs": [0.6, 0.4], "spam_label": 0}]
    >>> batch = SoftLabelCollator("spam")(rows)
    >>> sorted(batch), batch["labels"].dtype, tuple(batch["x"].shape), batch["text"]
    (['labels', 'text', 'x'], torch.float32, (2, 2), ['a', 'b'])
    >>> two = [{**r, "topic_probs": [1.0, 0.0], "topic_label": 0, "topic_votes": [0]} for r in rows]
    >>> sorted(SoftLabelCollator("spam")(two))  # the other task's columns are no model input either
    ['labels', 'text', 'x']
    """

    def __init__(
        self,
        task: Task | str,
        *,
        columns: Sequence[str] | None = None,
        labels_key: str = "labels",
        confidence_key: str | None = None,
        base_collator: Callable[[list[dict[str, Any]]], Mapping[str, Any]] | None = None,
    ) -> None:
        _, votes, probs, label, conf = _columns(task)
        self.probs_column, self.confidence_column = probs, conf
        self.task_columns = {votes, probs, label, conf}
        self.columns = list(columns) if columns is not None else None
        self.labels_key = labels_key
        self.confidence_key = confidence_key
        self.base_collator = base_collator

    def __call__(self, features: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        import torch

        if not features:
            raise ValueError("SoftLabelCollator got an empty batch")
        missing = [c for c in (self.probs_column,) if c not in features[0]]
        if self.confidence_key is not None and self.confidence_column not in features[0]:
            missing.append(self.confidence_column)
        if missing:
            raise ValueError(f"batch rows have no {missing} column(s); columns present: {sorted(features[0])} "
                             "(transformers.Trainer drops the columns its model's forward does not name: pass "
                             "TrainingArguments(remove_unused_columns=False))")
        row = features[0]
        others = {f"{p}_{suffix}" for p in (k[: -len("_probs")] for k in row if k.endswith("_probs"))
                  if f"{p}_label" in row for suffix in ("votes", "probs", "label", "confidence")}
        keep = [
            k for k in row
            if (self.columns is None and k not in self.task_columns and k not in others)
            or (self.columns is not None and k in self.columns)
        ]
        if self.columns is not None:
            absent = [c for c in self.columns if c not in features[0]]
            if absent:
                raise ValueError(f"columns {absent} are not in the batch rows (present: {sorted(features[0])})")
        rest = [{k: f[k] for k in keep} for f in features]
        if self.base_collator is not None:
            out = dict(self.base_collator(rest))
        else:
            out = {k: _stack(k, [r[k] for r in rest]) for k in keep}
        targets = _stack(self.probs_column, [f[self.probs_column] for f in features])
        if not isinstance(targets, torch.Tensor) or targets.ndim != 2:
            raise ValueError(f"{self.probs_column!r} must hold equal-length probability lists")
        _check_probabilities(targets.detach().cpu().numpy().astype(np.float64), self.probs_column, "batch row")
        for key in (self.labels_key, self.confidence_key):
            if key is not None and key in out:
                raise ValueError(
                    f"the batch already has a {key!r} entry (from the data or base collator: "
                    f"DataCollatorWithPadding renames a gold 'label' column to 'labels'); drop that column or pass "
                    f"columns=[...] (the model's inputs) / another labels_key"
                )
        out[self.labels_key] = targets.to(torch.float32)
        if self.confidence_key is not None:
            conf = torch.as_tensor([float(f[self.confidence_column]) for f in features], dtype=torch.float32)
            bad = ~((conf >= 0) & (conf <= 1))
            if bool(bad.any()):
                r = int(torch.nonzero(bad)[0])
                raise ValueError(f"column {self.confidence_column!r}, batch row {r}: confidence {float(conf[r])} is "
                                 "not in [0, 1]: the curated columns were changed after mmweak.aggregate")
            out[self.confidence_key] = conf
        return out
