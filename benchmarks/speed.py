"""Speed, memory and accuracy of mmweak's label models against the anchors, on synthetic votes.

For each grid cell (n rows x m LFs x K classes) one vote matrix is generated from the known model in
``benchmarks/synthetic.py`` and saved; every method then runs in its own child process
(``benchmarks/child.py``): mmweak's models under this interpreter, the anchors (Snorkel, crowd-kit,
FlyingSquid) under ``.venv-bench/bin/python``. A markdown table per cell compares them with the
naive-Bayes oracle and the exact Bayes posterior of the generator.

    .venv/bin/python -m benchmarks.speed                        # whole grid (long: run once)
    .venv/bin/python -m benchmarks.speed --n 1e5 --m 10 --k 2   # one cell
    .venv/bin/python -m benchmarks.speed --ours-only --models default majority
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import synthetic  # noqa: E402
from benchmarks.anchors import ANCHORS  # noqa: E402
from benchmarks.child import WARMUP_ROWS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BENCH_VENV_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
ANCHOR_ORDER = tuple(ANCHORS)  # the adapters only; their libraries load in the child processes


@dataclass
class Row:
    """One line of a table; ``status`` replaces the numbers when the method did not finish."""

    label: str
    method: str
    seconds: float | None = None
    convert_seconds: float | None = None
    peak_mb: float | None = None
    delta_mb: float | None = None
    accuracy: float | None = None
    status: str = ""
    note: str = ""


def run_child(method: str, data: Path, K: int, python: str, timeout: float, repeat: int = 1, root: Path = ROOT) -> Row:
    """Run one method in a fresh process; a timeout or a crash becomes the row's status.

    ``root`` is the checkout whose ``mmweak`` the child imports (another one times an earlier version).
    """
    label = method.split(":", 1)[1]
    out = data / f"result-{label}.json"
    err = data / f"stderr-{label}.txt"
    cmd = [python, "-m", "benchmarks.child", "--method", method, "--data", str(data), "--k", str(K), "--out", str(out),
           "--repeat", str(repeat)]
    env = dict(os.environ, PYTHONWARNINGS="ignore", TQDM_DISABLE="1")
    with open(err, "w") as stderr:
        # Own process group, so a timeout kills the child and anything it started, nothing else.
        proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.DEVNULL, stderr=stderr, env=env,
                                start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return Row(label, method, status=f"timeout (> {timeout:g} s)")
    if rc != 0 or not out.exists():
        lines = [ln.strip() for ln in err.read_text(errors="replace").splitlines() if ln.strip()]
        why = lines[-1] if lines else f"exit code {rc}"
        if rc < 0:
            why = f"killed by signal {-rc}" + (" (out of memory?)" if -rc == signal.SIGKILL else "")
        return Row(label, method, status="error: " + why[:120].replace("|", "/"))  # keep the table intact
    res = json.loads(out.read_text())
    return Row(label, method, res["seconds"], res["convert_seconds"], res["peak_mb"], res["delta_mb"],
               res["accuracy"], note=res["note"])


def _fmt_s(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def _fmt_ratio(num: float | None, den: float | None) -> str:
    if num is None or den is None or den <= 0:
        return ""
    r = num / den
    return f"{r:.1f}x" if r < 100 else f"{r:.0f}x"


def table(rows: list[Row], oracle_acc: float) -> str:
    """Markdown table; the ratio columns are filled on mmweak rows only."""
    by_method = {r.method: r for r in rows}
    snorkel = by_method.get("anchor:snorkel_lm")
    ds = by_method.get("anchor:crowdkit_ds")
    head = ("| method | seconds | convert s | peak MB | Δ MB | accuracy | acc − oracle "
            "| snorkel LM ÷ ours | crowd-kit DS ÷ ours | note |")
    lines = [head, "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|"]
    for r in rows:
        if r.status:
            lines.append(f"| {r.label} | {r.status} | | | | | | | | {r.note} |")
            continue
        ours = r.method.startswith("mmweak:")
        acc = "" if r.accuracy is None else f"{r.accuracy:.4f}"
        diff = "" if r.accuracy is None else f"{round(r.accuracy - oracle_acc, 4) or 0.0:+.4f}"  # no "-0.0000"
        conv = _fmt_s(r.convert_seconds)
        mem = "" if r.peak_mb is None else f"{r.peak_mb:.0f}"
        dmem = "" if r.delta_mb is None else f"{r.delta_mb:.0f}"
        snork = _fmt_ratio(snorkel and snorkel.seconds, r.seconds) if ours else ""
        dsr = _fmt_ratio(ds and ds.seconds, r.seconds) if ours else ""
        lines.append(f"| {r.label} | {_fmt_s(r.seconds)} | {conv} | {mem} | {dmem} | {acc} | {diff} "
                     f"| {snork} | {dsr} | {r.note} |")
    return "\n".join(lines)


def our_methods(selected: list[str] | None) -> list[str]:
    """mmweak models to run: every registered one plus ``default`` (= ``create(None)``)."""
    from mmweak import labelmodels

    known = ["default", *labelmodels.available()]
    if not selected:
        return known
    unknown = [s for s in selected if s not in known]
    if unknown:
        raise SystemExit(f"unknown model(s) {unknown}; available: {known}")
    return list(dict.fromkeys(selected))


def _default_label() -> str:
    from mmweak import labelmodels

    return f"default ({getattr(labelmodels, 'DEFAULT_MODEL', '?')})"


def run_cell(n: int, m: int, K: int, args, ours: list[str], anchors: list[str], bench_python: str | None) -> str:
    """Generate one matrix, run every method on it, return the cell's markdown section."""
    t0 = time.perf_counter()
    data = synthetic.generate(n, m, K, seed=args.seed)
    gen_s = time.perf_counter() - t0
    oracle_acc = synthetic.accuracy(synthetic.oracle_proba(data.L, data.confusion, data.class_balance), data.y)
    bayes_acc = synthetic.accuracy(synthetic.bayes_proba(data), data.y)
    no_votes = float((data.L == -1).all(axis=1).mean())

    tmp = Path(tempfile.mkdtemp(prefix=f"mmweak-speed-{n}x{m}x{K}-", dir=args.tmpdir))
    try:
        np.save(tmp / "L.npy", data.L)
        np.save(tmp / "y.npy", data.y)
        del data
        rows = [Row("oracle (naive Bayes, true confusions)", "oracle", accuracy=oracle_acc),
                Row("bayes (exact posterior, knows the copies)", "bayes", accuracy=bayes_acc)]
        for name in ours:
            row = run_child(f"mmweak:{name}", tmp, K, sys.executable, args.timeout, args.repeat)
            row.label = f"mmweak {_default_label() if name == 'default' else name}"
            rows.append(row)
            print(f"  [{n}x{m}x{K}] {row.label}: {row.status or _fmt_s(row.seconds) + ' s'}", file=sys.stderr)
        for name in anchors:
            if ANCHORS[name].binary_only and K != 2:
                rows.append(Row(ANCHORS[name].label, f"anchor:{name}", status="n/a (binary only)"))
                continue
            row = run_child(f"anchor:{name}", tmp, K, bench_python, args.timeout, args.repeat)
            row.label = ANCHORS[name].label
            rows.append(row)
            print(f"  [{n}x{m}x{K}] {row.label}: {row.status or _fmt_s(row.seconds) + ' s'}", file=sys.stderr)
    finally:
        if args.keep:
            print(f"  kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    balance = ", ".join(f"{p:.3f}" for p in synthetic.skewed_balance(K))
    head = (f"### n={_short(n)}, m={m}, K={K}  (seed {args.seed}; class balance {balance}; "
            f"{no_votes:.1%} rows without votes; generated in {gen_s:.2f} s)")
    return f"{head}\n\n{table(rows, oracle_acc)}\n"


def _short(n: int) -> str:
    """10000 -> '1e4', 250000 -> '2.5e5', 123 -> '123'."""
    if n < 1000:
        return str(n)
    mantissa, exp = f"{n:e}".split("e")
    return f"{float(mantissa):g}e{int(exp)}"


def _count(text: str) -> int:
    value = float(text)
    if value < 1 or value != int(value):
        raise argparse.ArgumentTypeError(f"expected a positive whole number (1e5 is fine), got {text!r}")
    return int(value)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=_count, nargs="+", default=[10_000, 100_000, 1_000_000], help="rows")
    ap.add_argument("--m", type=_count, nargs="+", default=[10, 50], help="LFs")
    ap.add_argument("--k", type=_count, nargs="+", default=[2, 5], help="classes")
    ap.add_argument("--models", nargs="+", help="mmweak models to run (default: all registered + 'default')")
    ap.add_argument("--anchors", nargs="+", choices=ANCHOR_ORDER, help="anchors to run (default: all)")
    ap.add_argument("--ours-only", "--skip-anchors", dest="ours_only", action="store_true",
                    help="run mmweak's models only (no anchor library needed)")
    ap.add_argument("--anchors-only", action="store_true", help="run the anchors only")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per method (default 300)")
    ap.add_argument("--repeat", type=_count, default=1,
                    help="timed runs per method, the best one reported (default 1; the timeout covers all)")
    ap.add_argument("--seed", type=int, default=0, help="generator seed")
    ap.add_argument("--bench-python", default=str(BENCH_VENV_PYTHON), help="interpreter with the anchors")
    ap.add_argument("--tmpdir", default=None, help="where to save the vote matrices")
    ap.add_argument("--keep", action="store_true", help="keep the saved matrices and child logs")
    args = ap.parse_args(argv)
    if args.ours_only and args.anchors_only:
        ap.error("--ours-only and --anchors-only exclude each other")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    ours = [] if args.anchors_only else our_methods(args.models)
    anchors: list[str] = [] if args.ours_only else list(args.anchors or ANCHOR_ORDER)
    bench_python = args.bench_python
    if anchors and not Path(bench_python).exists():
        print(f"The anchors' virtualenv is missing ({bench_python}). Create it with\n"
              f"    bash benchmarks/setup_anchors.sh\n"
              f"Running mmweak's models only.\n", file=sys.stderr)
        anchors = []
        if not ours:
            raise SystemExit("nothing to run: --anchors-only needs the anchors' virtualenv")
    versions = Path(bench_python).parent.parent / "anchor-versions.txt"
    print("# Label models on synthetic votes: mmweak vs anchors\n")
    if anchors and versions.exists():
        print("Anchors: " + ", ".join(versions.read_text().split()) + "\n")
    print(f"Time = fit + predict_proba on all rows, wall clock (best of {args.repeat}), in a fresh process per method (imports, loading and "
          f"an untimed warm-up fit on the first {WARMUP_ROWS} rows excluded); 'convert s' = turning L into the anchor's input format (not in 'seconds'). "
          "Accuracy over all rows vs the true labels, argmax with ties to the lowest class index for "
          "every method; 'acc − oracle' is against the naive-Bayes oracle.\n")
    for n in args.n:
        for m in args.m:
            for K in args.k:
                print(run_cell(n, m, K, args, ours, anchors, bench_python), flush=True)


if __name__ == "__main__":
    main()
