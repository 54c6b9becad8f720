"""Run a recipe end to end: load the data, apply the LFs, aggregate, report, save (and push).

:func:`curate` is what ``mmweak curate recipe.yaml`` calls. The recipe text, its hash and the mmweak version
go into the weak-supervision record, so the card of the curated dataset says how to rebuild it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
from datasets import DatasetDict

from .aggregate import aggregate, task_options
from .analysis import analyze, label_metrics, majority_accuracy, majority_f1, voted_rows_accuracy
from .apply import ApplyReport, apply_lfs
from .card import f1_fit_class, selection_lines
from .columns import read_column, read_matrix
from .curated import save_curated
from .gold import read_gold
from .labelmodels import create
from .provenance import HUMAN_KIND, read_record, write_record
from .recipe import Recipe, RecipeError, _check_types, load_recipe, set_value
from .sources import SourceError, load_source

logger = logging.getLogger("mmweak.curate")


@dataclass
class CurateResult:
    """What :func:`curate` did: the dataset, where it went, and the numbers it measured."""

    dataset: DatasetDict
    folder: Path | None
    report: ApplyReport | None
    metrics: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    pushed: Any = None


def load_data(recipe: Recipe) -> DatasetDict:
    """The recipe's data, with ``data.columns`` kept and ``data.splits`` renamed/selected."""
    data = recipe.section("data")
    source = recipe._value(data["source"], ("data", "source"))
    try:
        params = recipe._value(data.get("params"), ("data", "params"))  # ${recipe_dir} as in data.source
        ds = load_source(source, format=data.get("format"), params=params,
                         search=[recipe.folder, recipe.folder.parent, Path.cwd()])
    except (SourceError, FileNotFoundError) as exc:
        raise recipe.error(("data", "source"), str(exc)) from None
    splits = data.get("splits")
    if splits:
        if not isinstance(splits, dict):
            raise recipe.error(("data", "splits"), "splits maps a new split name to a split of the source")
        missing = [s for s in splits.values() if s not in ds]
        if missing:
            raise recipe.error(("data", "splits"), f"unknown split {missing[0]!r}; the source has {list(ds)}")
        ds = DatasetDict({new: ds[old] for new, old in splits.items()})
    columns = data.get("columns")
    if columns:
        for name, d in ds.items():
            absent = [c for c in columns if c not in d.column_names]
            if absent:
                raise recipe.error(("data", "columns"), f"split {name!r} has no column {absent[0]!r} "
                                                        f"(columns: {d.column_names})")
        ds = DatasetDict({name: d.select_columns(list(columns)) for name, d in ds.items()})
    return ds


def curate(
    recipe: Recipe | str | Path,
    *,
    overrides: list[str] | None = None,
    dry_run: bool = False,
    push_to_hub: str | None = None,
    engine: str = "local",
    say: Callable[[str], None] = print,
) -> CurateResult:
    """Run ``recipe`` (a :class:`~mmweak.recipe.Recipe` or a path) and return what it did.

    Args:
        overrides: ``section.key=value`` assignments applied to the recipe first.
        dry_run: validate the recipe against its data (LFs built, columns and splits checked) and stop.
        push_to_hub: a Hub repo id that overrides ``output.push_to_hub.repo``.
        engine: ``"local"`` (``Dataset.map``) or ``"ray"`` (:mod:`mmweak.ray`, when installed).
        say: where progress lines go.
    """
    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe)
    for assignment in overrides or []:
        set_value(recipe, assignment)
    _check_types(recipe)
    if engine not in ("local", "ray"):
        raise RecipeError(f"engine must be 'local' or 'ray', got {engine!r}")
    if engine == "ray":
        _check_for_ray(recipe)
    recipe.check_lf_names()  # a typo in an LF's parameters is found before the data, which can take minutes
    t = time.perf_counter
    seconds: dict[str, float] = {}
    t0 = t()
    ds = load_data(recipe)
    for line in recipe.resolve_tasks(ds):  # tasks whose classes the data names (labels_from)
        say(line)
    lfs = recipe.build_lfs(dataset=ds)
    recipe.check_data(list(ds), {s: d.column_names for s, d in ds.items()}, lfs)
    recipe.post_steps()  # a post_aggregate step that cannot be found fails now, not after the work
    _check_label_model(recipe, list(recipe.tasks.values()))  # a bad model name, parameter or pos_label too
    with_people = recipe.add_annotators(ds, lfs)  # answers that cannot become votes fail now, dry run or not
    seconds["load"] = t() - t0
    people = recipe.raw.get("annotators") or []
    sources = ([f"{len(lfs)} LFs"] if lfs else []) + [f"the answers in {p['column']!r}" for p in people]
    say(f"data: {', '.join(f'{s}={len(d):,}' for s, d in ds.items())}; {' and '.join(sources)} for "
        f"{', '.join(recipe.tasks)}")
    if dry_run:
        say("dry run: the recipe, its LFs and its data agree; nothing was applied or written")
        return CurateResult(ds, None, None, seconds=seconds)

    if engine == "ray":
        return _curate_on_ray(recipe, with_people, lfs, say=say, seconds=seconds, push_to_hub=push_to_hub)
    app = recipe.section("apply")
    t0 = t()
    ds = with_people
    report = None
    if lfs:
        ds, report = apply_lfs(ds, lfs, return_report=True, **{k: v for k, v in app.items() if v is not None})
    seconds["apply"] = t() - t0
    for line in _people_lines(recipe, ds) + (report.summary() if report else []):
        say(line)

    tasks = list(recipe.tasks.values())
    models, kwargs = _label_model_kwargs(recipe, tasks)
    t0 = t()
    ds = aggregate(ds, tasks, models, **kwargs)
    ds = recipe.post_aggregate(ds, lfs)
    seconds["aggregate"] = t() - t0

    metrics = _say_quality(recipe, ds, tasks, say)

    record = read_record(ds)
    record["recipe"] = recipe.record_entry()
    write_record(ds, record)
    out = recipe.section("output")
    folder = None
    t0 = t()
    if out.get("folder"):
        folder = save_curated(
            ds, recipe._value(out["folder"], ("output", "folder")), overwrite=bool(out.get("overwrite", False)),
            **_card_args(recipe),
        )
        say(f"curated dataset written to {folder}")
    seconds["save"] = t() - t0
    pushed = _push(recipe, ds, push_to_hub, say)
    return CurateResult(ds, folder, report, metrics, seconds, pushed)


def _people_lines(recipe: Recipe, ds: DatasetDict) -> list[str]:
    """One line per task that gained annotators' votes: how many people, and answers per row in each split."""
    lines = []
    for task_name in dict.fromkeys(p["task"] for p in recipe.raw.get("annotators") or []):
        task = recipe.tasks[task_name]
        kinds = [lf.get("kind") for lf in read_record(ds)["tasks"][task_name]["lfs"]]
        people = [j for j, kind in enumerate(kinds) if kind == HUMAN_KIND]
        per_row = [f"{s} {(read_matrix(d, task.votes_column)[:, people] >= 0).sum(axis=1).mean():.2f}"
                   for s, d in ds.items() if len(d)]
        lines.append(f"{task_name}: {len(people):,} annotators; answers per row: {', '.join(per_row)}")
    return lines


def _push(recipe: Recipe, ds: DatasetDict, push_to_hub: str | None, say: Callable[[str], None]) -> Any:
    """Publish ``ds`` where the recipe (or ``--push-to-hub``) says; ``None`` when it says nowhere."""
    out = recipe.section("output")
    push = dict(out.get("push_to_hub") or {})
    if push_to_hub:
        push["repo"] = push_to_hub
    if not push.get("repo"):
        return None
    from .hub import push_curated

    pushed = push_curated(
        ds, push.pop("repo"), **_card_args(recipe, default_license=None),
        commit_message=push.pop("commit_message", None) or f"Curate with mmweak (recipe {recipe.sha256[:12]})",
        **push,
    )
    say(pushed.summary())
    return pushed


def _card_args(recipe: Recipe, default_license: str | None = "other") -> dict[str, Any]:
    """The card's title, licence and task categories from the recipe's output section (``${...}`` expanded)."""
    out = recipe.section("output")
    return {"pretty_name": recipe._value(out.get("pretty_name"), ("output", "pretty_name")),
            "license": out.get("license", default_license), "task_categories": out.get("task_categories")}


def _label_model_kwargs(recipe: Recipe, tasks: list) -> tuple[Any, dict[str, Any]]:
    """The recipe's label model (a name, or one configured model per task) and ``aggregate`` keyword arguments."""
    agg, lm = recipe.section("aggregate"), recipe.section("label_model")
    models: Any = lm.get("name")
    if lm.get("params"):
        try:
            models = {t.name: create(lm.get("name"), cardinality=t.cardinality, **lm["params"]) for t in tasks}
        except (TypeError, ValueError) as exc:
            raise recipe.error(("label_model", "params"), f"bad label-model parameter: {exc}") from None
    kwargs = {k: agg[k] for k in ("fit_split", "dev_split", "gold", "seed", "tie_break", "objective", "pos_label",
                                  "fill_abstains") if agg.get(k) is not None}
    return models, kwargs


def _check_label_model(recipe: Recipe, tasks: list) -> None:
    """Build each task's label model and decision rule as the fit will, so that an unknown model, a bad parameter
    or a ``pos_label`` that is no class stops the run (and ``--dry-run``) at the recipe line, before any LF runs."""
    models, kwargs = _label_model_kwargs(recipe, tasks)
    for task in tasks:
        try:
            task_options(task, models, kwargs.get("gold"), None, kwargs.get("objective"), kwargs.get("pos_label"))
        except (TypeError, ValueError) as exc:
            key = next((k for k in ("pos_label", "objective") if k in str(exc)), None)
            path = ("aggregate", key) if key else ("label_model", "name" if "name" in recipe.section("label_model")
                                                   else "params")
            raise recipe.error(path, str(exc)) from None


def _curate_on_ray(recipe: Recipe, ds: DatasetDict, lfs: list, *, say: Callable[[str], None],
                   seconds: dict[str, float], push_to_hub: str | None) -> CurateResult:
    """The recipe on :mod:`mmweak.ray`: the same LFs, label model, card and folder as the local engine.

    The curated folder is written by Ray's writers; the numbers printed afterwards are read back from it
    (memory-mapped), so the driver never holds the rows. Steps that need the whole dataset in one process
    (``post_aggregate``) and the local-only ``fill_abstains`` are refused with the reason, never skipped.
    """
    try:
        import mmweak.ray as mray
        from mmweak.ray.meta import attach, meta_of
    except ImportError as exc:
        raise RecipeError(f"--engine ray: {exc}") from None
    from .curated import load_curated

    out = recipe.section("output")
    t = time.perf_counter
    app = {k: v for k, v in recipe.section("apply").items() if v is not None}
    if app.pop("num_proc", None) is not None:
        logger.warning("apply.num_proc is a local-engine setting; Ray decides the parallelism")
    tasks = list(recipe.tasks.values())
    t0 = t()
    rds = mray.read(ds)  # with the people's votes of `annotators:`, added in this process (one column per person)
    if lfs:
        rds = mray.apply_lfs(rds, lfs, **app)
    seconds["apply"] = t() - t0
    models, kwargs = _label_model_kwargs(recipe, tasks)
    t0 = t()
    rds, _ = mray.aggregate(rds, tasks, models, **kwargs)
    seconds["aggregate"] = t() - t0
    recipe_entry = recipe.record_entry()
    for split in list(rds):
        meta = meta_of(rds[split])
        attach(rds[split], meta.evolve(record={**meta.record, "recipe": recipe_entry}))
    t0 = t()
    folder = mray.save_curated(
        rds, recipe._value(out["folder"], ("output", "folder")), overwrite=bool(out.get("overwrite", False)),
        **_card_args(recipe),
    )
    seconds["save"] = t() - t0
    say(f"curated dataset written to {folder} (Ray engine)")
    curated, _ = load_curated(str(folder))
    for line in _people_lines(recipe, curated):  # read back from the folder: the driver never held the votes
        say(line)
    metrics = _say_quality(recipe, curated, tasks, say)
    pushed = _push(recipe, curated, push_to_hub, say)
    return CurateResult(curated, Path(folder), None, metrics, seconds, pushed)


def _check_for_ray(recipe: Recipe) -> None:
    """Refuse, before any data is read, the recipe steps the Ray engine does not run."""
    if recipe.raw.get("post_aggregate"):
        raise recipe.error(("post_aggregate",), "post_aggregate steps run on a datasets.DatasetDict in one process; "
                           "the Ray engine does not run them: use --engine local for this recipe")
    if recipe.section("aggregate").get("fill_abstains"):
        raise recipe.error(("aggregate", "fill_abstains"), "fill_abstains is not available on the Ray engine yet (it "
                           "relabels rows after the fit, a step only the local engine has): use --engine local, or "
                           "leave it out and the rows without a vote keep label -1 (their probabilities are written)")
    tie = recipe.section("aggregate").get("tie_break")
    if tie not in (None, "prior", "abstain"):  # refused by mmweak.ray.aggregate too, but only after every LF ran
        raise recipe.error(("aggregate", "tie_break"), f"tie_break {tie!r} is not available on the Ray engine (random "
                           "tie-breaks depend on how the tied rows fall into blocks): use prior or abstain, or "
                           "--engine local")
    if not recipe.section("output").get("folder"):
        raise recipe.error(("output",), "the Ray engine writes a curated folder: set output.folder")


def _say_quality(recipe: Recipe, ds: DatasetDict, tasks: list, say: Callable[[str], None]) -> dict[str, Any]:
    """Say what the default label model chose and how the labels score against gold, per task and split, then the
    LF summary of ``report.split``; return the scores. With ``objective: f1`` the F1 of ``pos_label`` is said next to
    accuracy: it is what was optimised. Both engines say it from the labels they made."""
    agg = recipe.section("aggregate")
    metrics, lines = quality_lines(ds, tasks, agg.get("gold"))
    for line in lines:
        say(line)
    split = recipe.section("report").get("split")
    if split is not None:
        g = agg.get("gold")
        for task in tasks:
            col = g.get(task.name) if isinstance(g, dict) else g
            # a split without the gold column has no accuracies to show (gold may sit on the dev splits only)
            known = split in ds and col in ds[split].column_names
            say(str(analyze(ds, task, split=split, gold=col if known else None)))
    return metrics


def quality_lines(ds: DatasetDict, tasks: list,
                  gold: str | dict[str, str] | None) -> tuple[dict[str, Any], list[str]]:
    """The scores of each task's labels against ``gold`` (a column, or one per task) per split, and the lines that
    say them after what the default label model chose. Labels decided for one class's F1 (as the record of the fit
    says, whichever way ``pos_label`` was given) are said with that F1 next to accuracy: it is what was optimised."""
    record = read_record(ds)
    lines = selection_lines(record, tasks)  # what the default chose, and why
    entries = record.get("tasks") or {}
    f1_of = {t.name: f1_fit_class((entries.get(t.name) or {}).get("label_model")) for t in tasks}
    metrics = _metrics(ds, tasks, gold, f1_of)
    for task in tasks:
        pos = f1_of[task.name]
        parts = []
        for s, m in metrics.get(task.name, {}).items():
            f1 = f", F1 of {task.labels[pos]!r} {m['f1']:.4f}" if "f1" in m and pos is not None else ""
            if f1 and "majority_f1" in m:
                f1 += f" vs majority vote {m['majority_f1']:.4f}"
            mv = f" vs majority vote {m['majority_accuracy']:.4f}" if "majority_accuracy" in m else ""
            voted = (f"; on the {100 * m['voted_share']:.1f} % of gold rows with a vote: accuracy "
                     f"{m['accuracy_voted']:.4f} vs majority vote {m['majority_accuracy_voted']:.4f}"
                     if "voted_share" in m else "")
            parts.append(f"{s} accuracy {m['accuracy']:.4f}{mv}{f1} (coverage {m['coverage']:.3f}{voted})")
        if parts:
            lines.append(f"{task.name}: " + ", ".join(parts))
        lm = (entries.get(task.name) or {}).get("label_model") or {}
        scored = metrics.get(task.name, {}).values()
        if lm.get("model") == "majority" and any(m.get("majority_accuracy") not in (None, m["accuracy"])
                                                  for m in scored):
            # The same model named twice with two numbers reads as a bug: say what differs.
            fit = lm.get("fit") or {}
            tie = fit.get("tie_break", "prior")
            balance = ("the class balance given" if fit.get("class_balance_given") else
                       "the gold dev rows' class shares" if fit.get("dev_rows") else
                       "the share of the votes, which follows how many LFs vote each class")
            how = {"prior": f"the tied class most common by {balance}", "random": "a seeded draw",
                   "abstain": "no label"}.get(tie, tie)
            lines.append(f"{task.name}: the 'majority vote' figures break ties by a fair coin (at its expected "
                         f"value); these labels give a tie {how} (tie_break {tie!r})")
        col = gold.get(task.name) if isinstance(gold, dict) else gold
        if col is not None and not metrics.get(task.name):
            where = "holds no gold label in any split" if any(col in d.column_names for d in ds.values()) else \
                "is in no split"
            lines.append(f"{task.name}: gold column {col!r} {where}, so the labels are not scored (a crowd "
                         "folder's gold comes from its truth.csv)")
    return metrics, lines


def _metrics(ds: DatasetDict, tasks: list, gold: str | dict[str, str] | None,
             f1_of: Mapping[str, int | None]) -> dict[str, dict[str, dict[str, float]]]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    if gold is None:
        return out
    for task in tasks:
        col = gold.get(task.name) if isinstance(gold, dict) else gold
        for s, d in ds.items():
            if col is None or col not in d.column_names:
                continue
            y = read_gold(d, col, task, split=s)  # by class name, as aggregate read it
            if not np.any(y >= 0):
                continue
            labels = read_column(d, task.label_column, np.int64)
            m = label_metrics(labels, y, task.cardinality)
            out.setdefault(task.name, {})[s] = {"accuracy": m["accuracy"], "coverage": m["coverage"],
                                                "rows": m["rows"]}
            L = read_matrix(d, task.votes_column) if task.votes_column in d.column_names else None
            mv = None if L is None else majority_accuracy(L, y, task.cardinality, labels)
            if mv is not None:  # the figure the labels have to beat (the same votes, plain majority vote)
                out[task.name][s]["majority_accuracy"] = mv
                voted = voted_rows_accuracy(L, y, task.cardinality, labels)
                if voted is not None and voted["filled"]:  # silent rows labelled: the covered-rows figures too
                    out[task.name][s].update({"voted_share": voted["share"], "accuracy_voted": voted["accuracy"],
                                              "majority_accuracy_voted": voted["majority_accuracy"]})
            pos = f1_of.get(task.name)
            if pos is not None:
                out[task.name][s]["f1"] = m["f1"][pos]
                mv_f1 = None if L is None else majority_f1(L, y, task.cardinality, pos, labels)
                if mv_f1 is not None:  # the F1 baseline, as majority_accuracy is accuracy's
                    out[task.name][s]["majority_f1"] = mv_f1
    return out
