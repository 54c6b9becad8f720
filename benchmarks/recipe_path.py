"""What a user runs on a visible set, end to end: ``mmweak curate`` with a shipped recipe, against the same fit by hand.

For each WRENCH and crowd folder in the data folder, two commands are timed from a fresh process each (imports,
reading the files and writing included):

* **recipe**: ``mmweak curate recipes/wrench_votes.yaml --set data.source=FOLDER`` (``crowd_answers.yaml`` for a
  crowd folder; ``--set aggregate.objective=f1`` on the sets scored by F1), which reads the folder, turns its votes
  into LFs or annotators' columns, fits the default label model, prints its choice and scores, and writes a curated
  folder with its card (into a temporary folder, with an empty vote cache);
* **by hand**: the benchmark's own path, ``benchmarks/realdata.py`` reading the folder into vote matrices and
  ``labelmodels.create().fit(...).predict_proba(...)``, nothing written.

The score column is what ``mmweak curate`` printed (test accuracy, test F1 of class 1, or accuracy against
``truth.csv``); the recipe and the benchmark fit the same model (a test checks the probabilities bit for bit), so it
is the default's figure in ``results/accuracy.md`` up to the crowd sets' tie splitting. Not run in CI.

    .venv/bin/python benchmarks/recipe_path.py                # every set, best of 1
    .venv/bin/python benchmarks/recipe_path.py --sets trec web --repeat 3
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import realdata as R  # noqa: E402

BY_HAND = """
import sys
sys.path.insert(0, {bench!r})
import realdata as R
from mmweak.labelmodels import create
name = {name!r}
if name in R.wrench_names():
    w = R.load_wrench(name)
    m = create(cardinality=w.cardinality, objective="f1" if R.is_f1(name) else "accuracy")
    m.fit(w.train.L, L_dev=w.valid.L, y_dev=w.valid.y).predict_proba(w.test.L)
else:
    c = R.load_crowd(name)
    create(cardinality=c.cardinality).fit(c.votes.L).predict_proba(c.votes.L)
"""


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return seconds, done.stdout


def _score(out: str, f1: bool) -> str:
    """The score line `mmweak curate` printed: test F1 / test accuracy for WRENCH, train accuracy for a crowd set."""
    if f1:
        m = re.search(r"test accuracy [\d.]+, F1 of '[^']*' ([\d.]+)", out)
        return f"F1 {100 * float(m.group(1)):.2f}" if m else "?"
    m = re.search(r"test accuracy ([\d.]+)", out) or re.search(r"train accuracy ([\d.]+)", out)
    return f"{100 * float(m.group(1)):.2f}" if m else "?"


def run(names: list[str], repeat: int) -> str:
    py = sys.executable
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            wrench = name in R.wrench_names()
            folder = R.DATA / "wrench" / name if wrench else R.crowd_folder(name)
            recipe = ROOT / "recipes" / ("wrench_votes.yaml" if wrench else "crowd_answers.yaml")
            f1 = wrench and R.is_f1(name)
            best_recipe = best_hand = float("inf")
            printed = ""
            for k in range(repeat):
                env = dict(os.environ, MMWEAK_CACHE=str(Path(tmp) / f"cache-{name}-{k}"), HF_HUB_OFFLINE="1")
                cmd = [py, "-m", "mmweak.cli", "curate", str(recipe), "--set", f"data.source={folder}",
                       "--set", f"output.folder={Path(tmp) / 'out' / name}"]
                if f1:
                    cmd += ["--set", "aggregate.objective=f1"]
                seconds, printed = _timed(cmd, env)
                best_recipe = min(best_recipe, seconds)
                hand, _ = _timed([py, "-c", BY_HAND.format(bench=str(ROOT / "benchmarks"), name=name)], env)
                best_hand = min(best_hand, hand)
            rows.append(f"| {name} | {best_recipe:.1f} | {best_hand:.1f} | {best_recipe / best_hand:.1f}x | "
                        f"{_score(printed, f1)} |")
            print(rows[-1], file=sys.stderr, flush=True)
    head = ["| set | `mmweak curate` (s) | by hand (s) | curate ÷ by hand | score printed by curate |",
            "|---|--:|--:|--:|--:|"]
    return "\n".join(head + rows)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", nargs="*", help="set names (default: every WRENCH and crowd folder found)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per command; the best is reported")
    args = ap.parse_args(argv)
    names = args.sets or [*R.wrench_names(), *R.crowd_names()]
    print(run(names, max(1, args.repeat)))


if __name__ == "__main__":
    main()
