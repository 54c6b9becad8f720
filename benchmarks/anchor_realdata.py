"""Run the anchor label models on the real sets; runs under ``.venv-bench/bin/python`` (see setup_anchors.sh).

For each set it writes ``OUT/<set>.npz`` with one ``(rows, K)`` probability array per anchor, on the rows
that are scored (WRENCH: the test split; crowd sets: items with gold), and the fingerprint of the set's files
(``realdata.set_fingerprint``: ``accuracy.py`` reruns the anchors of a set whose files changed), and
``OUT/<set>.json`` with seconds and errors. ``benchmarks/accuracy.py`` scores them exactly as it scores mmweak's
models. An anchor that returns probabilities of another shape, runs out of time, or would take more memory than
``--max-memory`` (a share of this machine's) is reported with its error and left out; the others go on.

Protocol per anchor, as its authors document it: Snorkel's LabelModel and FlyingSquid are fitted on the
train votes and predict the test votes; majority vote, crowd-kit's aggregators and the Hyper Label
Model are transductive (they label the rows they are given), so they get the train and test votes
together and their test rows are read back. No gold label reaches any anchor.

    .venv-bench/bin/python benchmarks/anchor_realdata.py --out out/anchors [--only youtube rte] [--anchors ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sys
import time
import traceback
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import realdata as R  # noqa: E402

from benchmarks.anchors import ANCHORS  # noqa: E402

INDUCTIVE = {"snorkel_lm", "flyingsquid"}
REAL_ANCHORS = ("snorkel_lm", "snorkel_mv", "crowdkit_ds", "crowdkit_onecoin", "crowdkit_glad", "crowdkit_mace",
                "flyingsquid", "hyperlm")


class _Timeout(Exception):
    pass


def _alarm(_signum, _frame):
    raise _Timeout()


def run_set(name: str, anchors: list[str], out: Path, timeout: int) -> None:
    is_wrench = name in R.wrench_names()
    fingerprint = R.set_fingerprint(name)
    if is_wrench:
        w = R.load_wrench(name)
        K, train, test = w.cardinality, w.train.L, w.test.L
    else:
        c = R.load_crowd(name)
        K, train, test = c.cardinality, c.votes.L, c.votes.L[c.votes.y >= 0]
    probas, meta = {}, {}
    libs: dict[str, object] = {}
    for key in anchors:
        a = ANCHORS[key]
        if a.binary_only and K != 2:
            meta[key] = {"error": "binary only"}
            continue
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(timeout)
        t0 = time.perf_counter()
        try:
            lib = libs.setdefault(a.load.__name__, a.load())
            if not is_wrench:  # crowd: all items are both fitted and scored
                full = train
                P, note = a.fit_predict(lib, a.convert(full), full.shape[0], K)
                P = P[R.load_crowd(name).votes.y >= 0]
            elif key in INDUCTIVE:
                P = _inductive(key, lib, train, test, K)
                note = ""
            else:
                both = np.vstack([train, test])
                P, note = a.fit_predict(lib, a.convert(both), both.shape[0], K)
                P = P[train.shape[0]:]
            P = np.asarray(P, dtype=np.float64)
            if P.shape != (test.shape[0], K):
                raise ValueError(f"its probabilities are {P.shape[0]} x {P.shape[1]}, the scored rows "
                                 f"{test.shape[0]} x {K} classes")
            probas[key] = P
            meta[key] = {"seconds": time.perf_counter() - t0, "note": note}
        except _Timeout:
            meta[key] = {"error": f"timeout after {timeout} s"}
        except MemoryError:
            meta[key] = {"error": "out of memory (over --max-memory)"}
        except Exception as e:  # an anchor that crashes is reported, the run goes on
            meta[key] = {"error": f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"}
            traceback.print_exc(file=sys.stderr)
        finally:
            signal.alarm(0)
        print(f"  {name} {key}: {meta[key]}", file=sys.stderr, flush=True)
    np.savez(out / f"{name}.npz", fingerprint=np.array(fingerprint), **probas)
    (out / f"{name}.json").write_text(json.dumps(meta))


def _inductive(key: str, lib, train: np.ndarray, test: np.ndarray, K: int) -> np.ndarray:
    if key == "snorkel_lm":
        model = lib[0](cardinality=K, verbose=False)
        model.fit(train, n_epochs=100, seed=0, progress_bar=False)
        return model.predict_proba(test)
    from benchmarks.anchors import _plus_minus

    model = lib(train.shape[1])
    model.fit(_plus_minus(train))
    return np.asarray(model.predict_proba(_plus_minus(test), verbose=False), dtype=np.float64)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--only", nargs="+")
    ap.add_argument("--anchors", nargs="+", default=list(REAL_ANCHORS))
    ap.add_argument("--timeout", type=int, default=600, help="seconds per anchor and set")
    ap.add_argument("--max-memory", type=float, default=0.6,
                    help="address space this process may take, as a share of the machine's memory (0: no cap)")
    args = ap.parse_args(argv)
    if args.max_memory > 0:
        # Without a cap one anchor on a large crowd (FlyingSquid on 20,000 items x 800 workers took 24 GB) has the
        # kernel kill this runner and lose every later set's anchors; with it the allocation fails as a MemoryError.
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        cap = int(args.max_memory * total)
        resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
    args.out.mkdir(parents=True, exist_ok=True)
    for name in [*R.wrench_names(), *R.crowd_names()]:
        if not args.only or name in args.only:
            try:
                run_set(name, args.anchors, args.out, args.timeout)
            except Exception as e:  # a set that cannot be read has no anchors; accuracy.py reports the set itself
                print(f"  {name}: not run: {type(e).__name__}: {e}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
