"""``aggregate`` on Ray Data: fit on a seeded sample gathered to the driver, predict with ``map_batches``.

The fit split's votes stream through the driver once (``m`` bytes a row, in source order) and only
the sampled rows stay: the rows :func:`mmweak.labelmodels.votes.fit_sample` would draw from the whole
split with the same seed. The label models fit on at most that many rows anyway (``MAX_FIT_ROWS``), so
with the default ``sample_rows`` a split of any size gives the local engine's fitted parameters; a split
no larger than the sample gives identical models, probabilities and labels for every label model.
Gold rows of the dev split (a few per class, usually) are gathered whole.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pyarrow as pa
from datasets import Features

from ..aggregate import (
    ModelSpec,
    check_fit_rows,
    check_options,
    dev_split_name,
    fit_split_name,
    output_columns,
    record_label_model,
    resolve_seed,
    resolve_tasks,
    task_options,
    warnings_name_task,
)
from ..columns import fixed_list
from ..gold import gold_from_arrow
from ..labelmodels import LabelModel
from ..labelmodels.decision import Objective, TieBreak
from ..labelmodels.loglinear import MAX_FIT_ROWS
from ..labelmodels.votes import sorted_sample
from ..task import Task
from .apply import _one_record
from .meta import ROW_COLUMN, Meta, attach, conform, meta_of
from .run import batches, prepare


def aggregate(
    dataset: Any,
    tasks: Sequence[Task | str] | Task | str | None = None,
    model: ModelSpec | Mapping[str, ModelSpec] = None,
    *,
    fit_split: str | None = None,
    dev_split: str | None = None,
    gold: str | Mapping[str, str] | None = None,
    class_balance: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
    seed: int | None = None,
    tie_break: TieBreak = "prior",
    objective: Objective | Mapping[str, Objective] | None = None,
    pos_label: int | str | Mapping[str, int | str] | None = None,
    sample_rows: int = MAX_FIT_ROWS,
) -> tuple[Any, dict[str, LabelModel]]:
    """Fit a label model per task on a seeded sample and write ``T_probs``, ``T_label``, ``T_confidence``.

    Arguments are those of :func:`mmweak.aggregate`, plus ``sample_rows``: the most fit-split rows gathered
    to the driver (``m`` bytes each), drawn as :func:`~mmweak.labelmodels.votes.fit_sample` draws them.

    Args:
        dataset: output of :func:`mmweak.ray.apply_lfs` (a Ray dataset or a dict per split).
        tasks, model, fit_split, dev_split, gold, class_balance, seed, objective, pos_label: as locally.
        tie_break: ``"prior"`` or ``"abstain"``; ``"random"`` draws depend on how many tied rows come
            before each block, which no worker knows, so it is refused rather than drawn differently.
        sample_rows: rows of the fit split the label models are fitted on (default ``MAX_FIT_ROWS``).

    Returns:
        ``(dataset, models)``: the lazy dataset(s) with the new columns, and the fitted model per task name.

    Raises:
        ValueError: unknown tasks or splits, a missing votes or gold column, ``tie_break="random"``.

    >>> import datasets, mmweak, mmweak.ray as mray
    >>> spam = mmweak.Task("spam", ["ham", "spam"])
    >>> lf = mmweak.labeling_function(task=spam, inputs="text")(
    ...     lambda b: [1 if "http" in t else 0 for t in b["text"]])
    >>> rds = mray.apply_lfs(mray.read(datasets.Dataset.from_dict({"text": ["http://x", "hi"]})), [lf])
    >>> rds, models = mray.aggregate(rds, [spam], model="majority")
    >>> [row["spam_label"] for row in rds.take_all()], type(models["spam"]).__name__
    ([1, 0], 'MajorityVote')
    """
    if tie_break not in ("prior", "abstain"):
        raise ValueError(
            f"tie_break={tie_break!r} is not supported on Ray: random tie-breaks depend on the tied rows before each "
            f"block, which no worker knows; use 'prior' or 'abstain' (or the local engine)"
        )
    if not isinstance(sample_rows, int) or sample_rows < 1:
        raise ValueError(f"sample_rows must be a positive int, got {sample_rows!r}")
    single = not isinstance(dataset, dict)
    splits = {meta_of(dataset).split: dataset} if single else dict(dataset)
    metas = {name: meta_of(rds, what=f"split {name!r}") for name, rds in splits.items()}
    record = _one_record(metas)
    task_list = resolve_tasks(record, tasks)
    columns = {name: list(meta.features) for name, meta in metas.items()}
    fit_name = fit_split_name(fit_split, columns)
    check_options(task_list, columns, model=model, gold=gold, class_balance=class_balance, objective=objective,
                  pos_label=pos_label)

    seed = resolve_seed(model, seed)
    options = {t.name: task_options(t, model, gold, class_balance, objective, pos_label) for t in task_list}
    n, samples = _fit_sample(splits[fit_name], metas[fit_name], task_list, sample_rows, seed)
    models: dict[str, LabelModel] = {}
    for task in task_list:
        lm, gold_col, prior, decide = options[task.name]
        dev_name = dev_split_name(dev_split, columns, fit_name, gold_col)
        lm.set_params(random_state=seed)
        fit_kwargs: dict[str, Any] = {"class_balance": prior}
        n_dev = 0
        if dev_name is not None and gold_col is not None:
            L_dev, y_dev = _gold_rows(splits[dev_name], task, gold_col)
            fit_kwargs.update(L_dev=L_dev, y_dev=y_dev)
            n_dev = int(y_dev.size)
        check_fit_rows(task.name, fit_name, samples[task.name].shape[0], n_dev)
        with warnings_name_task(task.name, fit_name):
            lm.fit(samples[task.name], **fit_kwargs)
        models[task.name] = lm
        # the same fit entries as the local engine (no reviews or filled abstains on Ray), then the sample size
        extra: dict[str, Any] = {"reviewed_rows": 0, "reviewed_chosen_rows": 0, "fill_abstains": None,
                                 "filled_rows": None, "filled_class": None}
        if n > sample_rows:
            extra["sample_rows"] = sample_rows
        record_label_model(record, task, lm, samples[task.name], gold_col=gold_col, split=fit_name, rows=n, seed=seed,
                           tie_break=tie_break, decide=decide, dev_split=dev_name if n_dev else None, dev_rows=n_dev,
                           prior=prior, **extra)

    out = {}
    for name, rds in splits.items():
        meta = metas[name]
        stale = [c for t in task_list for c in t.output_columns if c in meta.features]
        features = Features({c: f for c, f in meta.features.items() if c not in stale})
        for t in task_list:
            features[t.probs_column] = t.probs_feature()
            features[t.label_column] = t.class_label()
            features[t.confidence_column] = pa_float32_feature()
        out_meta = meta.evolve(features=features, record=record)
        plan = [(t, models[t.name], options[t.name][3], _width(meta, t.votes_column)) for t in task_list]
        mapped = rds.map_batches(_predict, fn_kwargs={"meta": out_meta, "plan": plan, "tie_break": tie_break,
                                                      "seed": seed, "stale": stale},
                                 batch_size=None, batch_format="pyarrow", zero_copy_batch=True,
                                 udf_modifying_row_count=False)
        out[name] = attach(prepare(mapped), out_meta)
    result = next(iter(out.values())) if single else out
    return result, models


def pa_float32_feature() -> Any:
    from datasets import Value

    return Value("float32")


def votes_matrix(column: pa.ChunkedArray | pa.Array, m: int) -> np.ndarray:
    """An ``(n, m)`` int8 matrix from a fixed-size-list votes column (any chunking or slicing)."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts = [c.flatten().to_numpy(zero_copy_only=False) for c in chunks if len(c)]
    if not parts or m == 0:
        return np.zeros((sum(len(c) for c in chunks), m), np.int8)
    flat = np.concatenate(parts) if len(parts) != 1 else parts[0]
    return flat.reshape(-1, m).astype(np.int8, copy=False)


def _width(meta: Meta, column: str) -> int:
    return int(getattr(meta.features[column], "length", -1))


def _fit_sample(rds: Any, meta: Meta, task_list: list[Task], sample_rows: int, seed: int
                ) -> tuple[int, dict[str, np.ndarray]]:
    """Rows of the fit split and, per task, the votes of the sampled rows (in source order)."""
    cols = [t.votes_column for t in task_list]
    n = meta.rows
    votes = prepare(rds.select_columns(cols))
    if n is None:
        n = votes.count()
    if n <= sample_rows:
        keep = None
    else:  # exactly the rows fit_sample(L, sample_rows, seed) draws from the whole split
        keep = sorted_sample(np.random.default_rng(seed), n, int(sample_rows))
    parts: dict[str, list[np.ndarray]] = {t.name: [] for t in task_list}
    seen = 0
    for table in batches(votes):
        k = table.num_rows
        if keep is None:
            take = None
        else:
            lo, hi = np.searchsorted(keep, [seen, seen + k])
            take = keep[lo:hi] - seen
        for t in task_list:
            L = votes_matrix(table.column(t.votes_column), _width(meta, t.votes_column))
            parts[t.name].append(L if take is None else L[take])
        seen += k
    if seen != n:
        raise RuntimeError(f"split {meta.split!r} had {n} rows when counted and {seen} when read: did its source "
                           f"change? Re-read it with mmweak.ray.read")
    out = {}
    for t in task_list:
        m = _width(meta, t.votes_column)
        out[t.name] = np.concatenate(parts[t.name]) if parts[t.name] else np.zeros((0, m), np.int8)
    return n, out


def _gold_rows(rds: Any, task: Task, gold_col: str) -> tuple[np.ndarray, np.ndarray]:
    """Votes and gold of the rows of ``rds`` that have gold (``>= 0``), in order."""
    meta = meta_of(rds)
    m = _width(meta, task.votes_column)
    Ls, ys = [], []
    feature = meta.features[gold_col]
    where = f"gold column {gold_col!r} of split {meta.split!r}"
    for table in batches(prepare(rds.select_columns([task.votes_column, gold_col]))):
        # read as the local engine reads it: a reordered ClassLabel by name, class names, nulls, refusals
        y = gold_from_arrow(table.column(gold_col), feature, task, where) if table.num_rows else np.zeros(0, np.int64)
        keep = y >= 0
        Ls.append(votes_matrix(table.column(task.votes_column), m)[keep])
        ys.append(y[keep])
    L = np.concatenate(Ls) if Ls else np.zeros((0, m), np.int8)
    return L, (np.concatenate(ys) if ys else np.zeros(0, np.int64))


def _predict(table: pa.Table, meta: Meta, plan: list[tuple[Task, LabelModel, dict, int]], tie_break: TieBreak,
             seed: int, stale: list[str]) -> pa.Table:
    """Probabilities, labels and confidence of every task on one block."""
    if stale:
        table = table.drop_columns(stale)
    for task, lm, decide, m in plan:
        L = votes_matrix(table.column(task.votes_column), m)
        for name, (values, _feature) in output_columns(task, lm, L, tie_break=tie_break, seed=seed,
                                                        decide=decide).items():
            arr = fixed_list(values) if values.ndim == 2 else pa.array(values)
            table = table.append_column(name, arr)
    return conform(table, meta)


__all__ = ["aggregate", "votes_matrix", "ROW_COLUMN"]
