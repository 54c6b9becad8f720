"""EBCC's cost at scale: 1e5 rows x 10 LFs x K=5, as in issue 14 (206 s with 40 full restarts before).

Times the standalone model (the authors' 40 restarts, screened) and the configuration the default uses, each
with plain VB iterations (the default) and with SQUAREM cycles (``accelerate=True``), in this process, wall
clock and CPU, with the accuracy against the generator's true labels.

    .venv/bin/python benchmarks/ebcc_speed.py [--n 100000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import synthetic as syn  # noqa: E402

from mmweak.labelmodels import auto, create  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    args = ap.parse_args(argv)
    d = syn.generate(args.n, 10, 5, seed=0)
    votes_per_row = float((d.L != -1).sum(axis=1).mean())
    member = {**auto.CANDIDATES["ebcc"][1], "max_fit_rows": max(1000, int(auto.EBCC_FIT_VOTES / votes_per_row))}
    configs = {
        "ebcc (40 restarts, 4 finalists)": {},
        "ebcc (40 restarts, 4 finalists), accelerate=True": {"accelerate": True},
        "ebcc as the default's member": member,
        "ebcc as the default's member, accelerate=True": {**member, "accelerate": True},
    }
    print(f"| EBCC, {args.n} x 10 x K=5 | wall s | CPU s | accuracy |\n|---|--:|--:|--:|")
    for label, params in configs.items():
        cpu0, t0 = resource.getrusage(resource.RUSAGE_SELF).ru_utime, time.perf_counter()
        p = create("ebcc", cardinality=5, **params).fit(d.L).predict_proba(d.L)
        wall, cpu = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu0
        print(f"| {label} | {wall:.1f} | {cpu:.1f} | {syn.accuracy(p, d.y):.4f} |", flush=True)


if __name__ == "__main__":
    main()
