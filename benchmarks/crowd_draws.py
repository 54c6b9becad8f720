"""Many fresh draws of the hidden crowd shapes: how often the default falls below majority vote on each shape, and
how far it stays from the best member of its family.

A ``hidden_crowds.py`` folder holds one draw per shape, so one folder says little about a rule's failure *rate* on a
shape. This draws ``--draws`` crowds per shape (seed offsets ``--first`` onwards: the same crowds ``hidden_crowds.py
--seed-offset`` writes, ZenCrowd apart, which that script draws as one pool pair), fits the default without gold
and every member of its gold-free family as the default builds it, and scores the labels against the truth of
*every* item (a real set of that shape has gold for a subset; all items make each draw less noisy). Majority vote
is scored at its exact expected accuracy with ties split, as ``accuracy.py`` scores it.

    .venv/bin/python benchmarks/crowd_draws.py                        # 6 small shapes x 30 draws, about 8 min
    .venv/bin/python benchmarks/crowd_draws.py --hard                 # workers barely above chance
    .venv/bin/python benchmarks/crowd_draws.py --shapes adult trec2011 --draws 5 --json /tmp/draws.jsonl

Results: ``benchmarks/results/crowd_draws.md``. Not run in CI (minutes); ``tests/labelmodels/test_crowd_draws.py``
checks one draw.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import hidden_crowds  # noqa: E402
from benchmarks.realdata import crowd_accuracy  # noqa: E402
from mmweak.analysis import majority_accuracy  # noqa: E402
from mmweak.labelmodels import auto, create  # noqa: E402

#: The shapes that fit in seconds (under 10,000 answers); the large ones take a minute a draw with every member.
SMALL = ("cf", "cf_amt", "ms", "sp_amt", "face", "temp")
#: The members the gold-free score ranks, majority vote apart (it is the reference).
MEMBERS = tuple(name for name in auto.GENERATIVE if name != auto.INCUMBENT)


def one_draw(name: str, offset: int, hard: bool) -> dict:
    """The default's choice and accuracy on one draw of shape ``name``, majority vote's and every member's."""
    L, y, K = hidden_crowds.crowd_matrix(name, offset, hard)
    answered = (L >= 0).any(axis=1)
    L, y = L[answered], y[answered]
    default = create(cardinality=K).fit(L)
    members = {}
    for member in MEMBERS:
        fitted = default._build_for(member, default.seed_, L).fit(L)
        members[member] = round(100 * crowd_accuracy(y, fitted.predict_proba(L)), 2)
    return {"shape": name, "offset": offset, "hard": hard, "selected": default.selected_,
            "passed_over": default.passed_over_, "default": round(100 * crowd_accuracy(y, default.predict_proba(L)), 2),
            "mv": round(100 * float(majority_accuracy(L, y, K)), 2), "members": members}


def table(records: list[dict]) -> str:
    """Per shape: the default's margin over majority vote, its misses, and its distance to the best member."""
    lines = ["| shape | draws | default − MV: mean | worst | below MV − 0.5 | best member − default: mean | "
             "default = best member | chosen |", "|---|--:|--:|--:|--:|--:|--:|---|"]
    shapes = list(dict.fromkeys(r["shape"] for r in records))
    for shape in [*shapes, "all"]:
        rows = [r for r in records if shape in ("all", r["shape"])]
        margin = np.array([r["default"] - r["mv"] for r in rows])
        regret = np.array([max(r["members"].values()) - r["default"] for r in rows])
        chosen = Counter(r["selected"] for r in rows).most_common(3)
        lines.append(f"| {shape} | {len(rows)} | {margin.mean():+.2f} | {margin.min():+.2f} | "
                     f"{int((margin < -0.5).sum())} | {regret.mean():+.2f} | {int((regret <= 0).sum())} | "
                     + ", ".join(f"{k} {v}" for k, v in chosen) + " |")
    misses = [r for r in records if r["default"] - r["mv"] < -0.5]
    if misses:
        lines += ["", "Below MV − 0.5:", "", "| shape | offset | default (chosen; passed over) | MV | members |",
                  "|---|--:|--:|--:|---|"]
        for r in misses:
            passed = f"; {r['passed_over']}" if r["passed_over"] else ""
            lines.append(f"| {r['shape']} | {r['offset']} | {r['default']:.2f} ({r['selected']}{passed}) | "
                         f"{r['mv']:.2f} | " + " / ".join(f"{k} {v:.2f}" for k, v in r["members"].items()) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", nargs="+", default=list(SMALL), choices=sorted(hidden_crowds.SHAPES))
    ap.add_argument("--draws", type=int, default=30)
    ap.add_argument("--first", type=int, default=1000, help="first seed offset (0-600 are the folders measured)")
    ap.add_argument("--hard", action="store_true", help="weak workers and more shared mistakes")
    ap.add_argument("--json", type=Path, help="also write one JSON line per draw here")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    records = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the default's notes on odd crowds; the table says what matters here
        for offset in range(args.first, args.first + args.draws):
            for name in args.shapes:
                records.append(one_draw(name, offset, args.hard))
    if args.json:
        args.json.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    regime = "--hard" if args.hard else "typical"
    print(f"### {regime}, seed offsets {args.first}-{args.first + args.draws - 1}\n")
    print(table(records))
    print(f"\n{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
