"""Reading a WRENCH folder as a user's recipe does, at scale: ``mmweak.sources.read_wrench`` against the floor and
an anchor, on a visible set's rows repeated to ``--rows``.

* **json.load**: only parsing the split files (what any reader pays);
* **read_wrench**: the splits as a ``DatasetDict`` with ``text``, ``label`` (a ``ClassLabel``) and ``weak_labels``
  (fixed-length int8 lists), every label and vote checked (what ``mmweak curate`` on a WRENCH folder runs);
* **datasets json**: ``datasets.Dataset.from_list`` of the same parsed rows, ``datasets``' own way to hold them (no
  checks, nested ``data`` kept as a struct, votes as variable-length int64 lists).

Each method runs in a fresh process, best of ``--repeat``; the folder is written once into a temporary directory.
``--against CHECKOUT`` also times ``read_wrench`` of another checkout (an earlier commit, say), on the same folder.

    .venv/bin/python benchmarks/read_speed.py                       # trec repeated to 200,000 train rows
    .venv/bin/python benchmarks/read_speed.py --set yelp --rows 100000 --repeat 3
    .venv/bin/python benchmarks/read_speed.py --against ../mmweak-old
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import realdata as R  # noqa: E402

METHODS = {
    "json.load": """
import json, time
t = time.perf_counter()
for stem in ("train", "valid", "test"):
    json.load(open(f"{folder}/{stem}.json"))
print(time.perf_counter() - t)
""",
    "read_wrench": """
import time
from mmweak.sources import read_wrench
t = time.perf_counter()
read_wrench(folder)
print(time.perf_counter() - t)
""",
    "datasets json": """
import json, time, datasets
t = time.perf_counter()
for stem in ("train", "valid", "test"):
    datasets.Dataset.from_list(list(json.load(open(f"{folder}/{stem}.json")).values()))
print(time.perf_counter() - t)
""",
}


def scaled_folder(name: str, rows: int, out: Path) -> Path:
    """WRENCH set ``name`` with its train split repeated to ``rows`` rows (valid and test as they are)."""
    src = R.DATA / "wrench" / name
    out.mkdir(parents=True, exist_ok=True)
    (out / "label.json").write_text((src / "label.json").read_text())
    for stem in ("valid", "test"):
        if (src / f"{stem}.json").exists():
            (out / f"{stem}.json").write_text((src / f"{stem}.json").read_text())
    train = list(json.loads((src / "train.json").read_text()).values())
    (out / "train.json").write_text(json.dumps({str(i): train[i % len(train)] for i in range(rows)}))
    return out


def time_method(code: str, folder: Path, repeat: int, root: Path = ROOT) -> float:
    """Best of ``repeat`` fresh processes importing ``mmweak`` from ``root``."""
    best = float("inf")
    env = dict(os.environ, PYTHONPATH=str(root))
    for _ in range(repeat):
        done = subprocess.run([sys.executable, "-c", f"folder = {str(folder)!r}\n{code}"], cwd=root, env=env,
                              capture_output=True, text=True, check=True)
        best = min(best, float(done.stdout.strip().splitlines()[-1]))
    return best


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="trec")
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--against", type=Path, help="another checkout whose read_wrench is timed too")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = scaled_folder(args.set, args.rows, Path(tmp) / args.set)
        times = {name: time_method(code, folder, args.repeat) for name, code in METHODS.items()}
        if args.against is not None:
            times[f"read_wrench ({args.against})"] = time_method(METHODS["read_wrench"], folder, args.repeat,
                                                                 args.against.resolve())
    print(f"### {args.set}, train repeated to {args.rows:,} rows (best of {args.repeat}, fresh process each)\n")
    print("| method | seconds | × read_wrench |")
    print("|---|--:|--:|")
    for name, sec in times.items():
        print(f"| {name} | {sec:.2f} | {sec / times['read_wrench']:.2f} |")


if __name__ == "__main__":
    main()
