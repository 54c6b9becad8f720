"""The ``mmweak`` command: the whole job from a recipe, each stage on its own, and the LF inner loop.

    mmweak curate RECIPE.yaml [--engine local|ray] [--push-to-hub REPO] [--dry-run] [--set KEY=VALUE ...]
    mmweak apply SOURCE --recipe R.yaml --out DIR      mmweak aggregate FOLDER --out DIR [--model NAME]
    mmweak report FOLDER        mmweak card FOLDER      mmweak push FOLDER REPO      mmweak inspect FOLDER_OR_REPO
    mmweak buckets FOLDER --lf NAME [--vs ...]          mmweak gaps FOLDER          mmweak value FOLDER --gold COL
    mmweak review FOLDER --task T --n 50 --out tasks.json                           mmweak demo [--out DIR]

Exit codes: 0 success; 1 the job failed (bad data, an LF error, a Hub error); 2 bad usage or a bad recipe.
Errors print one line without a traceback; ``--debug`` (before the command) shows the traceback.
"""

from __future__ import annotations

import contextlib
import sys
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, Iterator, List, Optional, Sequence

import typer
from rich.console import Console
from rich.table import Table

from .errors import MMWeakError

app = typer.Typer(
    name="mmweak", add_completion=False, no_args_is_help=True, rich_markup_mode=None,
    help="Multimodal weak supervision for Hugging Face datasets: LFs, label models, curated datasets with cards.",
)
console = Console(highlight=False, soft_wrap=True)  # lines are not re-wrapped at 80 columns when piped
_STATE = {"debug": False}
#: where `mmweak demo` lives (the recipes package, installed alongside the engine)
DEMO_REF = "recipes.demo.main:main"


class UsageError(MMWeakError):
    """Bad arguments (exit code 2)."""


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors.")) -> None:
    _STATE["debug"] = debug


@contextlib.contextmanager
def _quiet_ray_data(quiet: bool) -> Iterator[None]:
    # Ray Data logs every execution plan and progress tick at INFO (dozens of lines a stage), burying the lines this
    # command prints; its warnings still show, --debug keeps everything, and the levels come back after. Its error
    # logs are left out too: a failing LF came back as ~180 lines of two tracebacks and Ray's advice to report a Ray
    # bug, before the one line naming LF, column and row. The error itself is raised and said either way.
    import logging

    loggers = []
    if quiet:
        try:
            import ray.data  # noqa: F401  (configures its loggers on import; the level below must come after)
        except ImportError:  # the engine says what to install, after the recipe is checked
            pass
        else:
            loggers = [logging.getLogger(name) for name in ("ray", "ray.data")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL if lg.name == "ray.data" else logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _say_json(obj: Any) -> None:
    """One JSON document on its own line (NaN as null), for scripts."""
    import json

    import numpy as np

    def plain(v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, np.generic):
            v = v.item()
        return None if isinstance(v, float) and v != v else v

    print(json.dumps(plain(obj), allow_nan=False))


def _say(line: str) -> None:
    print(line, flush=True)  # preformatted tables: never re-wrapped to the terminal width


# -- the whole job -----------------------------------------------------------------------------------------
@app.command()
def curate(
    recipe: Path = typer.Argument(..., help="The recipe YAML file (data, tasks, LFs, label model, outputs)."),
    engine: str = typer.Option("local", help="Where LFs run: 'local' (Dataset.map) or 'ray' (Ray Data)."),
    push_to_hub: Optional[str] = typer.Option(None, "--push-to-hub", metavar="REPO",
                                              help="Also publish to this Hub dataset repo (one commit)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate the recipe against its data, then stop."),
    set_: List[str] = typer.Option([], "--set", metavar="KEY=VALUE",
                                   help="Override a recipe value, e.g. --set output.folder=out/x (repeatable)."),
) -> None:
    """Run a recipe end to end: load data, apply LFs, aggregate, report, save the curated folder (and push)."""
    from .curate import curate as run

    _check_recipe_file(recipe)
    with _quiet_ray_data(engine == "ray" and not _STATE["debug"]):
        result = run(recipe, overrides=list(set_), dry_run=dry_run, push_to_hub=push_to_hub, engine=engine,
                     say=_say)
    if not dry_run:
        _say(f"done in {sum(result.seconds.values()):.1f} s (" +
             ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items()) + ")")


# -- one stage at a time -----------------------------------------------------------------------------------
@app.command()
def apply(
    source: str = typer.Argument(..., help="Data: a folder, file, Hub id, or a curated folder."),
    recipe: Path = typer.Option(..., "--recipe", help="A recipe whose tasks and LFs to apply."),
    out: Path = typer.Option(..., "--out", help="Curated folder to write (votes only)."),
    overwrite: bool = typer.Option(False, help="Replace --out if it is a curated folder mmweak wrote."),
    num_proc: Optional[int] = typer.Option(None, help="Worker processes for Dataset.map."),
) -> None:
    """Apply a recipe's LFs (and add its annotators' votes) to a dataset and save the votes as a curated folder."""
    from . import apply_lfs, save_curated
    from .recipe import load_recipe
    from .sources import load_source

    _check_recipe_file(recipe)
    r = load_recipe(recipe)
    ds = _load_any(source) if Path(source, "README.md").is_file() else load_source(source)
    for line in r.resolve_tasks(ds):  # tasks whose classes the data names (labels_from)
        _say(line)
    lfs = r.build_lfs(dataset=ds)
    r.check_data(list(ds), {s: d.column_names for s, d in ds.items()}, lfs)
    ds = r.add_annotators(ds, lfs)
    if lfs:
        ds, report = apply_lfs(ds, lfs, num_proc=num_proc, return_report=True)
        for line in report.summary():
            _say(line)
    _say(f"written to {save_curated(ds, out, overwrite=overwrite)}")


# The options of every command that fits label models and writes a curated folder (aggregate, answers).
_MODEL = typer.Option(None, help="Label model name (default: the model and parameters the folder was fitted with, "
                      "else the recommended default).")
_GOLD = typer.Option(None, help="Gold column; its dev-split labels help the fit. With several tasks, one per task: "
                     "TASK=COLUMN[,TASK=COLUMN].")
_OBJECTIVE = typer.Option(None, help="'accuracy' (argmax) or 'f1' (rare-class cut); default: as the folder was "
                          "fitted, else accuracy.")
_FILL_ABSTAINS = typer.Option(
    None, help="'prior': label rows without votes with the class the label model finds most likely for them "
               "(default: as the folder was fitted).")
_OVERWRITE = typer.Option(False, help="Replace --out if it is a curated folder mmweak wrote.")
_REVISION = typer.Option(None, help="Hub branch, tag or commit (a Hub repo only; the rows are those of that revision).")


@app.command()
def aggregate(
    folder: str = typer.Argument(..., help="Curated folder or Hub repo with votes."),
    out: Path = typer.Option(..., "--out", help="Curated folder to write."),
    model: Optional[str] = _MODEL,
    gold: Optional[str] = _GOLD,
    objective: Optional[str] = _OBJECTIVE,
    fill_abstains: Optional[str] = _FILL_ABSTAINS,
    overwrite: bool = _OVERWRITE,
    pos_label: Optional[str] = typer.Option(
        None, help="With --objective f1: the class whose F1 is optimised, by name or index (default: class 1 of a "
                   "two-class task; needed with more classes)."),
    as_recorded: bool = typer.Option(
        True, "--as-recorded/--votes-only", help="Keep every fit setting the folder was fitted with that is not "
        "given here: gold dev rows, filling of rows without a vote, label model and its parameters, objective and "
        "its class, class balance, seed (--votes-only: the defaults, fitted on the votes alone)."),
) -> None:
    """Fit a label model per task on a curated folder's votes and write probabilities and labels."""
    _check_fit_options(model, objective, fill_abstains)
    if pos_label is not None and objective == "accuracy":
        raise UsageError("--pos-label names the class whose F1 --objective f1 optimises; with --objective accuracy "
                         "it would be ignored")
    _check_out(out, overwrite)
    ds, tasks = _load_curated(folder)
    fit_gold = _recorded_gold(ds) if as_recorded and gold is None else _gold_option(gold, tasks)
    if as_recorded and fill_abstains is None:
        fill_abstains = _recorded_fill(ds)
    kept = _recorded_fit(ds, tasks, model, objective, pos_label) if as_recorded else {}
    if (objective or "accuracy") == "f1" and pos_label is None:
        wide = [t for t in tasks if t.cardinality > 2 and t.name not in kept.get("pos_label", {})]
        if wide:  # class 1 of five is no natural "positive" class: say which, rather than guess
            raise UsageError(f"--objective f1 on task {wide[0].name!r} (classes {list(wide[0].labels)}) needs "
                             "--pos-label, the class whose F1 the labels should maximise")
    with warnings.catch_warnings():
        if not as_recorded:  # --votes-only asked for the recorded gold to be left out: no warning that it is
            warnings.filterwarnings("ignore", message=r"task .* was fitted with the gold dev rows")
        _refit_and_save(ds, tasks, folder, out, model, fit_gold, objective, fill_abstains, overwrite, pos_label,
                        kept)


def _check_out(out: Path, overwrite: bool) -> None:
    """A folder that cannot be written is bad usage, caught before any work is done."""
    from .curated import check_target
    from .errors import CuratedDatasetError

    try:
        check_target(Path(out), overwrite)
    except (FileExistsError, CuratedDatasetError) as exc:
        raise UsageError(str(exc).replace("overwrite=True", "--overwrite")) from None


def _check_fit_options(model: str | None, objective: str | None, fill_abstains: str | None) -> None:
    """Bad fit options are bad usage, caught before any folder is read."""
    if objective not in (None, "accuracy", "f1"):
        raise UsageError(f"--objective must be 'accuracy' or 'f1', got {objective!r}")
    if fill_abstains not in (None, "prior"):
        raise UsageError(f"--fill-abstains must be 'prior' (or left out), got {fill_abstains!r}")
    if model is not None:
        from .labelmodels import create

        try:
            create(model, cardinality=2)
        except ValueError as exc:
            raise UsageError(f"--model: {exc}") from None


def _refit_and_save(ds: Any, tasks: list, folder: str, out: Path, model: str | None, gold: Any,
                    objective: str | None, fill_abstains: str | None, overwrite: bool, pos_label: str | None = None,
                    kept: dict[str, Any] | None = None) -> None:
    """Fit a label model per task, print what it chose (and with gold how it scores), save as a curated folder.

    ``kept``: :func:`aggregate` arguments the folder was fitted with (:func:`_recorded_fit`), for what the command
    line leaves open."""
    from . import aggregate as run
    from . import save_curated
    from .curate import quality_lines

    settings = _card_settings(folder, ds)
    fit: dict[str, Any] = {"model": model, "objective": objective, "pos_label": pos_label, **(kept or {})}
    ds = run(ds, tasks, gold=gold, fill_abstains=fill_abstains, **fit)  # type: ignore[arg-type]
    for line in quality_lines(ds, tasks, gold)[1]:  # what the default chose, and (with --gold) how it scores
        _say(line)
    _say(f"written to {save_curated(ds, out, overwrite=overwrite, **settings)}")


@app.command()
def report(
    folder: str = typer.Argument(..., help="Curated folder or Hub repo."),
    task: Optional[str] = typer.Option(None, help="Task (default: every task)."),
    split: Optional[str] = typer.Option(None, help="Split (default: the label model's fit split, else the first)."),
    gold: Optional[str] = typer.Option(None, help="Gold column, for empirical accuracies (several tasks: "
                                       "TASK=COLUMN[,TASK=COLUMN])."),
    revision: Optional[str] = typer.Option(None, help="Hub branch, tag or commit (a Hub repo only)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per task (task, split, lfs, labels)."),
) -> None:
    """LF summary (polarity, coverage, overlaps, conflicts, accuracies) and label quality."""
    from .analysis import analyze
    from .card import stats_split_of
    from .provenance import read_record

    ds, tasks = _load_curated(folder, revision)
    entries = read_record(ds).get("tasks", {})
    picked = _pick(tasks, task)
    gold_of = _gold_option(gold, picked)
    for t in picked:
        s = _split(ds, split) if split else stats_split_of(entries.get(t.name, {}), list(ds))  # the card's LF table's
        t_gold = gold_of.get(t.name) if isinstance(gold_of, dict) else gold_of
        if t_gold is not None and t_gold not in ds[s].column_names:
            raise UsageError(f"--gold: split {s!r} has no column {t_gold!r}; its columns: {ds[s].column_names}")
        summary = analyze(ds, t, split=s, gold=t_gold)
        if as_json:
            _say_json({"task": t.name, "split": s, "classes": list(t.labels), "label_model": summary.label_model,
                       "member": summary.member, "lfs": summary.rows, "labels": summary.labels})
        else:
            _say(str(summary))


@app.command()
def card(
    folder: Path = typer.Argument(..., help="Curated folder whose card to render again."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write a copy there instead of in place."),
    pretty_name: Optional[str] = typer.Option(None, help="Card title (default: the title the card has)."),
    discard_edits: bool = typer.Option(False, "--discard-edits", help="Render in place even where the card was "
                                       "edited by hand (those edits are lost)."),
) -> None:
    """Render the dataset card again (after a new mmweak, or with another title)."""
    from .card import card_edited
    from .curated import not_a_repo_id, save_curated

    if out is None and not folder.is_dir():  # a Hub id would become a local folder of that name
        if folder.exists() or not_a_repo_id(str(folder)):
            raise UsageError(f"no curated folder at {str(folder)!r}")
        raise UsageError(f"no curated folder at {str(folder)!r}; if it is a Hub repo id, write its card and data to a "
                         f"folder with --out FOLDER")
    readme = folder / "README.md"
    if out is None and not discard_edits and readme.is_file() and card_edited(readme.read_text(encoding="utf-8")):
        raise UsageError(f"{readme} was edited by hand since mmweak wrote it, and rendering it again in place would "
                         "replace those edits: write the new card elsewhere with --out FOLDER, or pass "
                         "--discard-edits")
    ds, _ = _load_curated(str(folder))
    settings = _card_settings(str(folder), ds)
    if pretty_name is not None:
        settings["pretty_name"] = pretty_name
    written = save_curated(ds, out or folder, overwrite=True, **settings)
    _say(f"card written to {written / 'README.md'}")


@app.command()
def push(
    folder: str = typer.Argument(..., help="Curated folder."),
    repo: str = typer.Argument(..., help="Hub dataset repo id (user/name)."),
    private: bool = typer.Option(False, help="Create the repo private."),
    revision: Optional[str] = typer.Option(None, help="Branch to push to."),
    create_pr: bool = typer.Option(False, help="Open a pull request instead of committing."),
    commit_message: Optional[str] = typer.Option(None, help="The commit's (or pull request's) title."),
    publish_annotator_emails: bool = typer.Option(
        False, help="Publish people named by e-mail address (refused by default; rename them with "
                    "mmweak.review.rename_annotators)."),
) -> None:
    """Publish a curated folder to the Hub in one commit (its card's title, licence and categories with it)."""
    from .card import card_edited
    from .hub import push_curated

    ds, _ = _load_curated(folder)
    readme = Path(folder) / "README.md"
    if readme.is_file() and card_edited(readme.read_text(encoding="utf-8")):  # a Hub repo id has no local card
        print(f"note: {readme} was edited by hand since mmweak wrote it; the push publishes the card mmweak renders "
              "from the data (its title, licence and categories kept), not those edits. Text of your own on the Hub "
              "card outside the mmweak markers is kept by every push.", file=sys.stderr, flush=True)
    # the folder's title, licence and categories travel with it (a Hub card's own win only where the folder has none)
    result = push_curated(ds, repo, private=private, revision=revision, create_pr=create_pr,
                          commit_message=commit_message, **_card_settings(folder, ds),
                          annotator_emails="publish" if publish_annotator_emails else "refuse")
    _say(result.summary())


@app.command()
def inspect(
    folder_or_repo: str = typer.Argument(..., help="Curated folder or Hub repo id."),
    revision: Optional[str] = typer.Option(None, help="Hub branch, tag or commit (a Hub repo only)."),
) -> None:
    """Summarise a curated dataset: splits, tasks, LFs, label model, quality and calibration."""
    from huggingface_hub import DatasetCard

    from .card import f1_fit_class

    local = Path(folder_or_repo)
    card_path = local / "README.md" if local.is_dir() else None
    if card_path is not None and not card_path.is_file():
        raise UsageError(f"{folder_or_repo} is no curated folder (it has no README.md dataset card)")
    if card_path is None:
        from huggingface_hub import hf_hub_download

        from .curated import not_a_repo_id

        if not_a_repo_id(folder_or_repo):  # not worth five Hub retries
            raise UsageError(f"no curated folder at {folder_or_repo!r} (and it is no Hub repo id, 'user/name')")

        card_path = Path(hf_hub_download(folder_or_repo, "README.md", repo_type="dataset", revision=revision))
    data = DatasetCard.load(card_path).data.to_dict()
    ws = data.get("weak_supervision")
    if not ws:
        raise UsageError(f"{folder_or_repo} has no mmweak card (no weak_supervision block)")
    splits = (data.get("dataset_info") or {}).get("splits") or []
    console.print(f"[bold]{data.get('pretty_name') or folder_or_repo}[/bold]  (mmweak {ws.get('mmweak_version')})")
    if splits:
        console.print("splits: " + ", ".join(f"{s['name']}={s['num_examples']:,}" for s in splits), markup=False)
    if ws.get("recipe"):
        r = ws["recipe"]
        console.print(f"recipe: {r.get('file')} (sha256 {r.get('sha256', '')[:16]})", markup=False)
        if r.get("overrides"):
            from .card import rebuild_command, recipe_file_name

            console.print(f"rebuild: {rebuild_command(r['overrides'], recipe_file_name(r))}", markup=False)
    for t in ws["tasks"]:
        console.print(f"\n[bold]task {t['name']}[/bold]: " + ", ".join(f"{i}={n}" for i, n in enumerate(t["labels"])),
                      markup=True, highlight=False)
        lm = t.get("label_model")
        if lm:
            fit = lm.get("fit", {})
            sel = lm.get("selection") or {}
            chose = (f" (chose {sel['chosen']}" + (f", ties broken by {sel['tie_breaker']}" if sel.get("tie_breaker")
                                                  else "") + ")") if sel.get("chosen") else ""
            console.print(f"label model {lm['model']}{chose} on {fit.get('split')} ({fit.get('rows')} rows, seed "
                          f"{fit.get('seed')}, objective {fit.get('objective')}); prior "
                          + ", ".join(f"{p:.3f}" for p in lm.get("class_balance") or []), markup=False)
        rv = t.get("review") or {}
        if rv.get("reviewed_rows"):
            fit = (lm or {}).get("fit") or {}
            used = int(fit.get("reviewed_rows") or 0)
            chosen_rows = int(fit.get("reviewed_chosen_rows") or 0)
            line = ("human review: " + ", ".join(f"{n} rows of {s}" for s, n in rv["reviewed_rows"].items())
                    + f" ({rv.get('annotators')} annotator{'' if rv.get('annotators') == 1 else 's'})")
            if used:
                line += (f"; {used} clamped in the fit, {used - chosen_rows} drawn at random judging it, "
                         f"{chosen_rows} chosen for being hard teaching it only")
            console.print(line, markup=False)
        table = Table("LF", "modality", "inputs", "code hash", show_edge=False)
        for lf in t.get("lfs", []):
            table.add_row(lf["name"], lf.get("modality", ""), ", ".join(lf.get("inputs", [])), lf.get("code_hash", ""))
        _print_table(table)
        quality = (t.get("quality") or {}).get("splits") or {}
        if quality:
            # labels decided for one class's F1 are judged by it: show it next to accuracy, as curate prints it,
            # each beside majority vote's figure on the same rows (the baseline the labels have to beat)
            pos = f1_fit_class(lm)
            names = [str(c) for c in t.get("labels", [])]
            f1_head = [] if pos is None else [f"F1 of {names[pos] if pos < len(names) else pos!r}", "MV F1"]
            q = Table("split", "gold rows", "accuracy", "MV accuracy", *f1_head, "coverage", "macro-F1",
                      "ECE (width)", "Brier", show_edge=False)
            for s, v in quality.items():
                f1 = ([_num((v.get("f1") or [None] * (pos + 1))[pos]), _num(v.get("majority_vote_f1"))]
                      if pos is not None else [])
                q.add_row(s + (" †" if v.get("used_in_fit") else ""), str(v.get("gold_rows")), _num(v.get("accuracy")),
                          _num(v.get("majority_vote_accuracy")),
                          *f1, *(_num(v.get(k)) for k in ("coverage", "macro_f1", "ece_width", "brier")))
            _print_table(q)
            if any(v.get("used_in_fit") for v in quality.values()):
                console.print("† the label model saw this split's gold while fitting: its figures are optimistic",
                              markup=False)
        elif not lm:  # votes only: nothing was fitted, so there is nothing to score yet
            console.print(f"no label model fitted yet: run `mmweak aggregate {folder_or_repo} --out FOLDER` "
                          "(with --gold COLUMN to score it on gold labels)", markup=False)
        else:
            console.print("no gold labels: quality and calibration unmeasured", markup=False)


# -- the LF inner loop -------------------------------------------------------------------------------------
@app.command()
def buckets(
    folder: str = typer.Argument(..., help="Curated folder or Hub repo."),
    lf: str = typer.Option(..., "--lf", help="The LF to look at."),
    vs: Optional[str] = typer.Option("label_model", "--vs",
                                     help="Compare with another LF's name, 'label_model', 'gold' or 'none'."),
    task: Optional[str] = typer.Option(None, help="Task (default: the only one)."),
    split: Optional[str] = typer.Option(None, help="Split (default: the label model's fit split, else the first)."),
    gold: Optional[str] = typer.Option(None, help="Gold column (for --vs gold; default: the recorded one)."),
    show_rows: int = typer.Option(3, "--show", help="Rows shown per bucket."),
    revision: Optional[str] = typer.Option(None, help="Hub branch, tag or commit (a Hub repo only)."),
) -> None:
    """Label buckets: rows grouped by (this LF's vote, the other side's vote), with examples."""
    from .lf_tools import label_buckets, lf_names, show

    if show_rows < 0:
        raise UsageError(f"--show must be 0 or more, got {show_rows}")
    ds, tasks = _load_curated(folder, revision)
    if task is None and len(tasks) > 1:  # the LF's name says whose it is, where only one task has an LF so named
        owners = [t.name for t in tasks if lf in lf_names(ds, t)]
        task = owners[0] if len(owners) == 1 else None
    t = _one(tasks, task)
    split_name = _split(ds, split) if split else _fit_split(ds, t)
    d = ds[split_name]
    names = lf_names(d, t)
    for option, name in (("--lf", lf), ("--vs", vs)):
        if name not in names and (option == "--lf" or name not in ("label_model", "gold", "none")):
            extra = "" if option == "--lf" else ", or label_model, gold, none"
            raise UsageError(f"{option}: task {t.name!r} has no LF {name!r}; its LFs are {names}{extra}")
    if vs == "gold":
        gold = _gold_column(d, t, gold)
    if vs == "label_model" and t.label_column not in d.column_names:  # the default --vs, on a votes-only folder
        from .errors import FIT_FIRST

        raise UsageError(f"--vs label_model: split {split_name!r} has no {t.label_column!r} column; {FIT_FIRST}, "
                         "or compare with --vs gold, another LF or none")
    groups = label_buckets(d, t, lf, versus=None if vs == "none" else vs, gold=gold)
    for key, rows in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        labels = [("abstain" if v == -1 else t.labels[v]) for v in key]
        if len(key) > 1 and vs == "gold":
            labels[1] = "no gold" if key[1] == -1 else labels[1]
        console.print(f"\n[bold]{lf}={labels[0]}" + (f", {vs}={labels[1]}" if len(labels) > 1 else "") +
                      f"[/bold]: {len(rows)} rows", highlight=False)
        for item in show(d, rows[:show_rows]):
            console.print("  " + ", ".join(f"{k}={v!r}" for k, v in item.items()), markup=False)


@app.command()
def gaps(
    folder: str = typer.Argument(..., help="Curated folder or Hub repo."),
    n: int = typer.Option(10, help="How many uncovered rows to show."),
    task: Optional[str] = typer.Option(None, help="Task (default: the only one)."),
    split: Optional[str] = typer.Option(None, help="Split (default: the label model's fit split, else the first)."),
    seed: int = typer.Option(0, help="Sampling seed."),
    revision: Optional[str] = typer.Option(None, help="Hub branch, tag or commit (a Hub repo only)."),
) -> None:
    """A sample of rows no LF votes on: where the next LF should look."""
    from .lf_tools import coverage_gaps, show

    if n < 0:
        raise UsageError(f"--n must be 0 or more, got {n}")
    ds, tasks = _load_curated(folder, revision)
    t = _one(tasks, task)
    name = _split(ds, split) if split else _fit_split(ds, t)
    d = ds[name]
    all_gaps = coverage_gaps(d, t)
    _say(f"{len(all_gaps):,} of {len(d):,} rows ({len(all_gaps) / max(len(d), 1):.1%}) of split {name!r} have no "
         f"vote for {t.name}")
    for item in show(d, coverage_gaps(d, t, n, seed=seed)):
        console.print("  " + ", ".join(f"{k}={v!r}" for k, v in item.items()), markup=False)


@app.command()
def value(
    folder: str = typer.Argument(..., help="Curated folder or Hub repo."),
    gold: Optional[str] = typer.Option(None, help="Gold column of the evaluation split (default: the recorded one)."),
    task: Optional[str] = typer.Option(None, help="Task (default: the only one)."),
    fit_split: Optional[str] = typer.Option(None, help="Split the label model is fitted on (default: as recorded)."),
    eval_split: Optional[str] = typer.Option(None, help="Split with gold to score on (default: the first of "
                                             "validation, valid, dev, test with gold rows)."),
    model: Optional[str] = typer.Option(None, help="Label model (default: the one the labels were made with)."),
    seed: Optional[int] = typer.Option(None, help="Fit seed (default: the recorded one)."),
    revision: Optional[str] = typer.Option(None, help="Hub branch, tag or commit (a Hub repo only)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object: the settings and a row per LF."),
) -> None:
    """Each LF's marginal value: the label model's accuracy and coverage with and without it."""
    import numpy as np

    from .card import GOLD_SPLIT_ORDER
    from .gold import read_gold
    from .labelmodels import create
    from .lf_tools import RefitSettings, marginal_value
    from .provenance import read_record

    if model is not None:
        try:
            create(model, cardinality=2)
        except ValueError as exc:  # an unknown name is bad usage, caught before the folder is read
            raise UsageError(f"--model: {exc}") from None
    if seed is not None and seed < 0:
        raise UsageError(f"--seed must be 0 or more, got {seed}")
    ds, tasks = _load_curated(folder, revision)
    t = _one(tasks, task)
    fit_name = _split(ds, fit_split, "--fit-split") if fit_split else _fit_split(ds, t)
    gold = _gold_column(ds[fit_name], t, gold, splits=ds)
    if eval_split is None:
        with_gold = [s for s in [*GOLD_SPLIT_ORDER, *ds] if s in ds and gold in ds[s].column_names
                     and (read_gold(ds[s], gold, t, split=s) >= 0).any()]
        if not with_gold:
            raise UsageError(f"no split has gold labels in column {gold!r}; name one with --eval-split")
        eval_split = with_gold[0]
    else:
        _split(ds, eval_split, "--eval-split")
        if gold not in ds[eval_split].column_names or not (read_gold(ds[eval_split], gold, t, split=eval_split)
                                                            >= 0).any():
            raise UsageError(f"--eval-split {eval_split!r} has no gold labels in column {gold!r}")
    settings = RefitSettings.recorded(ds[fit_name], t, model, seed)
    name = settings.model if isinstance(settings.model, str) or settings.model is None else settings.model.name
    rows = marginal_value(ds[fit_name], t, evaluate=ds[eval_split], gold=gold, model=model, seed=seed,
                          progress=not as_json)
    base = rows[0]
    if as_json:
        _say_json({"task": t.name, "model": name or "auto", "seed": settings.seed, "objective": settings.objective,
                   "fit_split": fit_name, "eval_split": eval_split, "gold": gold, "rows": rows})
        return
    by_f1 = "delta_f1" in (rows[1] if len(rows) > 1 else {})
    # The refits see no gold, so the eval split's gold is scored and never fitted; a curated folder whose labels used it
    # as dev rows shows a higher accuracy for the same LFs, which this line has to explain.
    f1 = f", F1 of {t.labels[settings.pos_label]!r} {base['f1']:.4f}" if base.get("f1") is not None else ""
    member = f" (chose {base['member']})" if base.get("member") else ""
    console.print(f"label model {name or 'auto'}{member}, seed {settings.seed}, objective {settings.objective}, fitted "
                  f"on {fit_name}'s votes alone (no gold); scored on {eval_split}'s {base['rows']:,} gold rows",
                  markup=False)
    console.print(f"all LFs: accuracy {base['accuracy']:.4f}{f1}, coverage {base['coverage']:.3f}", markup=False)
    fit = (((read_record(ds).get("tasks") or {}).get(t.name) or {}).get("label_model") or {}).get("fit") or {}
    if fit.get("dev_rows") and t.label_column in ds[eval_split].column_names:
        # the labels themselves used gold the refits do not see: a spouse-shaped folder read 0.97 there, 0.19 here
        y = read_gold(ds[eval_split], gold, t, split=eval_split)
        known = y >= 0
        own = float((np.asarray(ds[eval_split][t.label_column])[known] == y[known]).mean())
        console.print(f"note: the folder's labels were fitted with {int(fit['dev_rows']):,} gold dev rows of "
                      f"{fit.get('dev_split')!r} and score {own:.4f} on these rows; the refits see no gold, so read "
                      "each LF's change against the line above, not against the labels", markup=False)
    members = any(r.get("member") for r in rows)
    table = Table("LF", "accuracy without", "Δ accuracy", "± s.e.", *(["Δ F1"] if by_f1 else []), "coverage without",
                  "Δ coverage", *(["refit chose"] if members else []), show_edge=False)
    for r in sorted(rows[1:], key=lambda r: (-r["delta_accuracy"], r["lf"])):
        f1_cell = [f"{r['delta_f1']:+.4f}" if r.get("delta_f1") is not None else "-"] if by_f1 else []
        table.add_row(r["lf"], f"{r['accuracy_without']:.4f}", f"{r['delta_accuracy']:+.4f}", f"{r['delta_se']:.4f}",
                      *f1_cell, f"{r['coverage_without']:.3f}", f"{r['delta_coverage']:+.3f}",
                      *([str(r.get("member") or "-")] if members else []))
    _print_table(table)


@app.command()
def review(
    folder: str = typer.Argument(..., help="Curated folder or Hub repo."),
    out: Path = typer.Option(..., "--out", help="Label Studio tasks JSON file to write."),
    task: Optional[str] = typer.Option(None, help="Task (default: the only one)."),
    n: int = typer.Option(50, help="Rows to send for review."),
    strategy: str = typer.Option("random_then_entropy",
                                 help="How rows are chosen: random_then_entropy (50 at random, then the least sure), "
                                 "random, entropy, margin, disagreement, no_coverage, impact, diverse, ties (reviewed "
                                 "rows whose answers tie, for one more answer; see mmweak.review.select)."),
    split: Optional[str] = typer.Option(None, help="Split (default: the label model's fit split, else train)."),
    seed: int = typer.Option(0, help="Seed of random draws and ties."),
    revision: Optional[str] = _REVISION,
) -> None:
    """Pick rows for human review and export them as Label Studio tasks (JSON file + labeling config)."""
    from . import review as rv

    ds, tasks = _load_curated(folder, revision)
    t = _one(tasks, task)
    try:
        chosen = rv.select(ds, t, n, strategy=strategy, split=split, seed=seed)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if not len(chosen):  # select has warned why; an empty task file would only be imported for nothing
        _say(f"no row of task {t.name!r} to send for strategy {strategy!r}: nothing written to {out}")
        return
    path = rv.export_tasks(chosen, t, out)
    by = Counter(chosen["review_strategy"])
    how = strategy if set(by) <= {strategy} else f"{strategy}: " + ", ".join(f"{c} {s}" for s, c in by.items())
    split_name = chosen["review_split"][0]
    _say(f"{len(chosen)} rows of split {split_name!r}, task {t.name!r} ({how}) written to {path}; labeling config: "
         f"{path.with_name(path.stem + '.label_config.xml')}")
    again = f" --revision {revision}" if revision else ""
    _say(f"next: import both into a Label Studio project, annotate, export as JSON, then `mmweak answers {folder} "
         f"EXPORT.json --out NEW_FOLDER{again}`")


@app.command()
def answers(
    folder: str = typer.Argument(..., help="Curated folder or Hub repo the rows were sent from (mmweak review)."),
    export: Path = typer.Argument(..., help="Label Studio export of the annotated tasks (JSON or JSON_MIN)."),
    out: Path = typer.Option(..., "--out", help="Curated folder to write (answers, refitted labels, card)."),
    task: Optional[str] = typer.Option(None, help="Task (default: the only one)."),
    model: Optional[str] = _MODEL,
    gold: Optional[str] = typer.Option(None, help="Gold column; its dev-split labels help the fit (default: the gold "
                                       "column the folder was fitted with)."),
    objective: Optional[str] = _OBJECTIVE,
    fill_abstains: Optional[str] = _FILL_ABSTAINS,
    overwrite: bool = _OVERWRITE,
    revision: Optional[str] = _REVISION,
) -> None:
    """Bring people's answers back: store a Label Studio export's annotations, refit with the reviewed rows, save."""
    from . import review as rv

    _check_fit_options(model, objective, fill_abstains)
    _check_out(out, overwrite)
    ds, tasks = _load_curated(folder, revision)
    t = _one(tasks, task)
    try:
        ds, report = rv.import_annotations(ds, t, export, return_report=True)
    except (ValueError, OSError) as exc:
        raise UsageError(f"{export}: {exc}") from exc
    _say(f"task {t.name!r}: {report}")
    if not report.stored:
        if set(report.skipped) <= {"duplicate"}:
            why = "is it the export of annotated tasks, and not one already brought back?"
        else:  # rows changed since they were sent, unknown classes...: the hint above would send the user astray
            why = "every answer was skipped, as said above" + (f"; the first: {report.first_problem}"
                                                               if report.first_problem else "")
        raise UsageError(f"{export}: no new answer to store, so nothing was refitted or written ({why})")
    from .columns import split_dict

    tied = sum(int(rv.tied_mask(rv.answer_counts(d, t)).sum()) for d in split_dict(ds).values())
    if tied:
        _say(f"{tied} reviewed row{'s' if tied > 1 else ''} of task {t.name!r} tie between annotators (no consensus "
             f"label: they neither teach nor judge the fit); `mmweak review {out} --strategy ties --n {tied} --out "
             "TASKS.json` sends them to one more person")
    # the refit differs from the folder's fit by the reviewed rows only: what the command line leaves open is kept
    fit_gold = _recorded_gold(ds) if gold is None else _gold_option(gold, tasks)  # dev rows stay dev rows
    if fill_abstains is None:
        fill_abstains = _recorded_fill(ds)
    _refit_and_save(ds, tasks, folder, out, model, fit_gold, objective, fill_abstains, overwrite,
                    kept=_recorded_fit(ds, tasks, model, objective, None))


def _gold_option(gold: str | None, tasks: list) -> str | dict[str, str] | None:
    """``--gold``: one column (one task), or ``TASK=COLUMN`` pairs separated by commas (several tasks)."""
    if gold is None or "=" not in gold:
        if gold is not None and len(tasks) > 1:
            names = [t.name for t in tasks]
            raise UsageError(f"--gold {gold!r} names one column for {len(tasks)} tasks ({', '.join(names)}); a gold "
                             f"column holds one task's labels: give --gold {names[0]}={gold} (TASK=COLUMN, comma "
                             "separated; a task left out fits without gold)")
        return gold
    out: dict[str, str] = {}
    known = {t.name for t in tasks}
    for part in gold.split(","):
        name, _, column = (x.strip() for x in part.partition("="))
        if name not in known or not column:
            raise UsageError(f"--gold {part.strip()!r}: expected TASK=COLUMN with TASK one of {sorted(known)}")
        out[name] = column
    return out


def _recorded_gold(ds: Any) -> dict[str, str] | None:
    """Each task's gold column as the folder's labels were fitted with it (said when there is one)."""
    from .provenance import read_record

    entries = read_record(ds).get("tasks", {})
    gold_of = {n: e["gold_column"] for n, e in entries.items() if e.get("gold_column")}
    if gold_of:
        _say(f"gold dev rows as the folder was fitted: column {', '.join(sorted(set(gold_of.values())))}")
    return gold_of or None


def _recorded_fit(ds: Any, tasks: list, model: str | None, objective: str | None,
                  pos_label: str | None) -> dict[str, Any]:
    """:func:`mmweak.aggregate` arguments for the settings each task's labels were fitted with that the command line
    leaves open (a model and its parameters, an objective and its class, a class balance given, the seed), said
    where they are not the defaults. A refit "as recorded" of a folder fitted for the F1 of a rare class with EBCC
    otherwise came back as the default's argmax labels, without a word."""
    from .lf_tools import RefitSettings
    from .provenance import read_record

    entries = read_record(ds).get("tasks", {})
    recorded = {t.name: RefitSettings.recorded(ds, t) for t in tasks if (entries.get(t.name) or {}).get("label_model")}
    if not recorded:
        return {}
    kept: dict[str, Any] = {}
    said: dict[str, list[str]] = {name: [] for name in recorded}
    if model is None:
        kept["model"] = {n: s.model for n, s in recorded.items()}
        for n, s in recorded.items():
            name = getattr(s.model, "name", "auto")
            if name != "auto":
                said[n].append(f"model {name}")
    if objective is None:
        kept["objective"] = {n: s.objective for n, s in recorded.items()}
        if pos_label is None:
            kept["pos_label"] = {n: s.pos_label for n, s in recorded.items() if s.objective == "f1"}
        for n, s in recorded.items():
            if s.objective == "f1":
                task = next(t for t in tasks if t.name == n)
                said[n].append(f"objective f1 of class {task.labels[s.pos_label]!r}")
    balances = {n: s.class_balance for n, s in recorded.items() if s.class_balance is not None}
    if balances:
        kept["class_balance"] = balances
        for n in balances:
            said[n].append("its class balance")
    seeds = {s.seed for s in recorded.values()}
    if len(seeds) == 1 and seeds != {0}:
        kept["seed"] = seeds.pop()
        for n in said:
            said[n].append(f"seed {kept['seed']}")
    ties = {s.tie_break for s in recorded.values()}
    if len(ties) == 1 and ties != {"prior"}:
        kept["tie_break"] = ties.pop()
        for n in said:
            said[n].append(f"ties broken by {kept['tie_break']}")
    lines = [f"{n}: {', '.join(parts)}" for n, parts in said.items() if parts]
    if lines:
        _say(f"fit settings as the folder was fitted: {'; '.join(lines)}")
    return kept


def _recorded_fill(ds: Any) -> str | None:
    """``"prior"`` where the folder's labels filled the rows without a vote (every task's did), said; else None."""
    from .provenance import read_record

    fits = [((e.get("label_model") or {}).get("fit") or {}) for e in read_record(ds).get("tasks", {}).values()]
    if fits and all(f.get("fill_abstains") == "prior" for f in fits):
        _say("rows without a vote filled as the folder was fitted: fill_abstains prior")
        return "prior"
    return None


@app.command()
def cache(
    clear: bool = typer.Option(False, "--clear", help="Remove the stores' files (they are computed again when next "
                               "needed: clearing costs time, never results)."),
    store: Optional[List[str]] = typer.Option(None, "--store", help="votes, embeddings or onnx (repeatable; "
                                              "default: all)."),
    older_than: Optional[float] = typer.Option(None, "--older-than", help="With --clear: only files unused for "
                                               "this many days."),
) -> None:
    """Show (or clear) what mmweak keeps in $MMWEAK_CACHE: LF votes, embeddings, ONNX exports."""
    from .cache_store import STORES, cache_root, usage
    from .cache_store import clear as clear_stores

    chosen = list(store or STORES)
    unknown = [s for s in chosen if s not in STORES]
    if unknown:
        raise UsageError(f"--store: unknown store {unknown[0]!r}; the stores are {list(STORES)}")
    if older_than is not None and (not clear or older_than < 0):
        raise UsageError("--older-than goes with --clear, and is 0 days or more")
    if clear:
        done = clear_stores(chosen, older_than_days=older_than)
        age = "" if older_than is None else f" unused for {older_than:g} day{'' if older_than == 1 else 's'}"
        _say(f"removed {done.files:,} files{age} ({_size(done.bytes)}) from {', '.join(chosen)} in {cache_root()}")
        return
    table = Table("store", "files", "size", "last used", "path", show_edge=False)
    for u in usage(chosen):
        when = "-" if u.newest is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(u.newest))
        table.add_row(u.store, f"{u.files:,}", _size(u.bytes), when, str(u.path))
    _print_table(table)


def _size(n: int) -> str:
    """``n`` bytes as people read them: ``512 B``, ``1.5 KB``, ``3.2 GB``."""
    if n < 1024:
        return f"{n} B"
    value, unit = float(n), "B"
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024:
            break
    return f"{value:.1f} {unit}"


# --help goes to the demo's own options (its argparse): typer's would list none of them
@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, add_help_option=False)
def demo(ctx: typer.Context) -> None:
    """Run the embedded demo (generated corpora with known truth; no network). Options: `mmweak demo --help`."""
    # The demo is application code that builds on lf_library, so the engine reaches it by name, not by import.
    from .sources import resolve_object

    code = resolve_object(DEMO_REF)(list(ctx.args))
    if code:
        raise typer.Exit(code)


# -- helpers -----------------------------------------------------------------------------------------------
def _load_any(source: str) -> Any:
    from .curated import load_curated

    ds, _ = load_curated(source)
    return ds


def _check_recipe_file(recipe: str | Path) -> None:
    """A recipe path that names no file is bad usage (exit 2); a file missing later, in the job, fails it (exit 1)."""
    if not Path(recipe).expanduser().is_file():
        raise UsageError(f"no recipe file {str(recipe)!r}")


def _load_curated(folder: str, revision: str | None = None) -> tuple[Any, list]:
    from datasets import DatasetDict

    from .curated import load_curated, not_a_repo_id

    if not Path(folder).expanduser().exists() and not_a_repo_id(folder):  # a typo is bad usage, not a failed job
        raise UsageError(f"no curated folder at {folder!r} (and it is no Hub repo id, 'user/name')")
    ds, tasks = load_curated(folder, revision=revision)
    if not isinstance(ds, DatasetDict):
        ds = DatasetDict({"train": ds})
    return ds, tasks


def _card_settings(folder: str, ds: Any) -> dict[str, Any]:
    """What the user set in a local curated folder's card (title, licence, task categories other than the ones
    mmweak would give ``ds``), kept when a stage writes the card again or pushes the folder."""
    readme = Path(folder) / "README.md"
    if not readme.is_file():
        return {}
    from huggingface_hub import DatasetCard

    from .card import default_task_categories
    from .provenance import read_record

    meta = DatasetCard.load(readme).data.to_dict()
    out: dict[str, Any] = {}
    if meta.get("pretty_name"):
        out["pretty_name"] = str(meta["pretty_name"])
    licence = meta.get("license")
    if isinstance(licence, str) and licence != "other":
        out["license"] = licence
    elif isinstance(licence, list) and licence:  # several, hand-edited: written back as the list they are
        out["license"] = [str(x) for x in licence]
    categories = meta.get("task_categories")
    categories = [categories] if isinstance(categories, str) else categories  # a scalar, hand-edited
    if isinstance(categories, list) and categories and categories != default_task_categories(read_record(ds)):
        out["task_categories"] = [str(c) for c in categories]
    return out


def _pick(tasks: list, name: str | None) -> list:
    if name is None:
        return tasks
    chosen = [t for t in tasks if t.name == name]
    if not chosen:
        raise UsageError(f"unknown task {name!r}; tasks: {[t.name for t in tasks]}")
    return chosen


def _one(tasks: list, name: str | None) -> Any:
    if name is None and len(tasks) > 1:
        raise UsageError(f"the dataset has several tasks; pick one with --task ({[t.name for t in tasks]})")
    return _pick(tasks, name)[0]


def _split(ds: Any, name: str, option: str = "--split") -> str:
    if name not in ds:
        raise UsageError(f"{option}: unknown split {name!r}; the dataset has {list(ds)}")
    return name


def _fit_split(ds: Any, task: Any) -> str:
    """The split the task's label model was fitted on (the one ``report`` and the card describe), else the split
    ``aggregate`` would fit on (train, else the first)."""
    from .aggregate import fit_split_name
    from .provenance import read_record

    fit = ((read_record(ds).get("tasks", {}).get(task.name) or {}).get("label_model") or {}).get("fit") or {}
    if fit.get("split") in ds:
        return str(fit["split"])
    return str(fit_split_name(None, {name: d.column_names for name, d in ds.items()}))


def _gold_column(d: Any, task: Any, gold: str | None, splits: Any = None) -> str:
    """``gold``, else the task's recorded gold column; it must be a column of ``d`` (or of one of ``splits``)."""
    from .provenance import read_record

    name = gold or (read_record(d).get("tasks", {}).get(task.name) or {}).get("gold_column")
    if name is None:
        raise UsageError(f"task {task.name!r} records no gold column: name one with --gold")
    where = list(splits.values()) if splits is not None else [d]
    if not any(name in x.column_names for x in where):
        columns = sorted({c for x in where for c in x.column_names})
        raise UsageError(f"--gold: no column {name!r} in {'any split' if splits is not None else 'the split'}; "
                         f"columns: {columns}")
    return str(name)


def _print_table(table: Table) -> None:
    # a wide table wraps in a narrow terminal (or runs past 80 columns in a pipe) rather than cutting its figures
    # and names to "0.11…"
    wide = console.measure(table, options=console.options.update(max_width=1000)).maximum
    Console(highlight=False, width=max(console.width, wide)).print(table)


def _num(v: Any) -> str:
    return "-" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)


_INTERRUPTED = 130  # the shell's code for a process ended by Ctrl-C (128 + SIGINT)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 failed job, 2 bad usage or recipe, 130 interrupted).

    A file missing while the job runs (a media file gone before the save) fails the job: exit 1, with its type; a
    command-line path that names nothing is caught before any work as bad usage.

    >>> main(["curate", "no-such-recipe.yaml"])
    2
    """
    try:  # typer >= 0.20 vendors click
        from typer._click.exceptions import ClickException
    except ImportError:  # pragma: no cover
        from click import ClickException  # type: ignore[assignment]  # older typer: click's own class

    from .recipe import RecipeError

    args = list(sys.argv[1:] if argv is None else argv)
    shown = warnings.formatwarning
    # A warning is one line of the command's output, as its errors are, not a Python file path and source line.
    warnings.formatwarning = lambda message, *_args, **_kw: f"mmweak: warning: {message}\n"
    try:
        # Outside standalone mode typer returns an exit code instead of raising it (Ctrl-C comes back as 130): it
        # was dropped, so an interrupted `mmweak curate ... && mmweak push ...` went on to push.
        rc = app(args=args, prog_name="mmweak", standalone_mode=False)
        if isinstance(rc, int) and rc:
            if rc == _INTERRUPTED:
                print("mmweak: interrupted", file=sys.stderr)
            return rc
        return 0
    except typer.Exit as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except ClickException as exc:
        exc.show(file=sys.stderr)
        return 2
    except (typer.Abort, KeyboardInterrupt):
        print("mmweak: interrupted", file=sys.stderr)
        return _INTERRUPTED
    except (RecipeError, UsageError) as exc:
        if _STATE["debug"]:
            raise
        print(f"mmweak: error: {exc}", file=sys.stderr)
        return 2
    except (MMWeakError, ValueError, OSError, ImportError) as exc:
        if _STATE["debug"]:
            raise
        print(f"mmweak: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        warnings.formatwarning = shown


if __name__ == "__main__":
    raise SystemExit(main())
