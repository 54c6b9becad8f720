"""Generate sets in the shapes of public weak-supervision and crowd sets that are *not* in ``../shared/data``.

Issue #14 is scored on real sets nobody here has seen, in the same formats. This writes generated stand-ins of
the likely ones into a data folder of that layout, with known gold, so ``accuracy.py`` can be run on them exactly as
it will be run on the hidden ones (``MMWEAK_SHARED_DATA`` pointed at the folder):

* WRENCH-shaped (``wrench/<name>/{train,valid,test}.json`` + ``label.json``; commercial gzipped): sms, spouse (train
  without gold), cdr, chemprot, semeval, agnews, tennis, commercial, at their published sizes, class balances,
  LF counts and coverage, with unipolar keyword LFs (some bad, some near-copies) that fire together on "busy" rows;
* crowd-shaped (``crowd/<name>/{label,truth}.csv``): 10 classes; 20,000 items with 800 workers of 2-30 answers;
  20,000 item ids answered sparsely with gold only where answered; string ids and labels; verbatim duplicates and
  changed answers; gold for half the items and items without answers; three answers an item; two or four (ties);
  a crowd named like a WRENCH set.

The folder's README carries published-number tables in the real README's layout; **their numbers are made up**
(they exercise the parser only), so every "default − best pub" figure on these sets is meaningless; "default − MV"
and the member columns are real measurements on generated data. They were written after the rules they test,
not to tune them (see ``benchmarks/README.md``, 2026-12-07).

    .venv/bin/python benchmarks/hidden_shapes.py /tmp/hidden                  # about 10 s, 37 MB
    MMWEAK_SHARED_DATA=/tmp/hidden .venv/bin/python benchmarks/accuracy.py --no-anchors --no-lodo
    .venv/bin/python benchmarks/hidden_shapes.py /tmp/fresh --seed-offset 100 # fresh draws of the same shapes
"""

import argparse
import gzip
import json
import shutil
from pathlib import Path

import numpy as np

OUT = Path("/tmp/hidden-shapes")
#: Added to every seed: 0 draws the sets measured in benchmarks/README.md; any other value draws fresh sets of the
#: same shapes.
SEED_OFFSET = 0
WORDS = "the a of to and in is for on with free call now win prize txt reply stop you your me love ok".split()
README = """# Generated weak-supervision data (SYNTHETIC; all published numbers below are MADE UP)

## wrench/ — WRENCH-shaped generated sets

| dataset | classes | LFs | train | valid | test | raw text | metric | source |
|---|---|---|---|---|---|---|---|---|
| sms | 2 (ham, spam) | 73 | 4571 | 500 | 500 | yes | F1 of class 1 | generated |
| cdr | 2 | 33 | 8430 | 920 | 4673 | yes | F1 of class 1 | generated |
| chemprot | 10 | 26 | 12861 | 1607 | 1607 | yes | accuracy | generated |
| semeval | 9 | 164 | 1749 | 178 | 600 | yes | accuracy | generated |
| agnews | 4 | 9 | 96000 | 12000 | 12000 | yes | accuracy | generated |

Published label-model results on the **test** split (made up).

| dataset (metric) | MV | WMV | DS | DP | MeTaL | FS |
|---|---|---|---|---|---|---|
| sms (F1) | 23.97 | 2.15 | 0.00 | 23.02 | 15.38 | 2.15 |
| spouse (F1) | 20.81 | 19.66 | 15.53 | 21.12 | 46.62 | 49.90 |
| chemprot (acc) | 49.04 | 52.01 | 37.23 | 47.04 | 55.39 | 46.45 |
| agnews (acc) | 63.84 | 64.57 | 62.76 | 62.86 | 62.27 | 60.98 |
| tennis (F1) | 80.97 | 82.02 | 80.75 | 83.86 | 82.45 | 83.59 |

## crowd/ — crowd-shaped generated sets

| dataset | classes | items | workers | answers | EBCC | IBCC | BWA |
|---|---|---|---|---|---|---|---|
| k10 | 10 | 500 | 40 | 2549 | 0.7100 | 0.7000 | 0.6900 |
| big20k | 2 | 20000 | 800 | 59973 | 0.9000 | 0.8900 | 0.8800 |
| strings | 3 | 600 | 30 | 2438 | 0.8000 | – | 0.7900 |
| dups | 2 | 800 | 50 | 4400 | 0.9500 | 0.9400 | 0.9300 |
| sms | 2 | 300 | 20 | 1500 | 0.9600 | 0.9500 | 0.9400 |
"""


def make_lfs(rng, K, m, prior, polar, prec_range, copies=0):
    """LF spec: target class (unipolar) or None (multipolar); precision; base rate."""
    lfs = []
    # unipolar targets: every class gets some LFs, minority classes a bit more than prior
    w = np.sqrt(prior) / np.sqrt(prior).sum()
    for j in range(m - copies):
        if polar == "uni" or (polar == "mixed" and rng.random() < 0.6):
            t = int(rng.choice(K, p=w)) if j >= K else j % K
        else:
            t = None
        prec = rng.uniform(*prec_range)
        if rng.random() < 0.08:  # a bad LF
            prec = rng.uniform(0.2, 0.5) if t is not None else rng.uniform(1.0 / K, 0.6)
        rate = rng.lognormal(0, 0.8)
        lfs.append(dict(t=t, prec=prec, rate=rate, src=None))
    for c in range(copies):  # near-duplicate LFs (correlated)
        src = int(rng.integers(0, m - copies))
        lfs.append(dict(lfs[src], src=src))
    return lfs


def apply_lfs(rng, lfs, y, K, prior, scale, activity):
    n, m = len(y), len(lfs)
    L = np.full((n, m), -1, np.int64)
    for j, lf in enumerate(lfs):
        if lf["src"] is not None:
            s = L[:, lf["src"]].copy()
            flip = rng.random(n) < 0.15  # 15% of the copy's cells differ (abstain / fire)
            s[flip & (s >= 0)] = -1
            L[:, j] = s
            continue
        r = np.minimum(lf["rate"] * scale * activity, 0.95)
        if lf["t"] is not None:
            t = lf["t"]
            pi, p = prior[t], lf["prec"]
            # P(fire | y=t) = a, P(fire | y!=t) = b, with precision p: pi a / (pi a + (1-pi) b) = p
            # pick a = r * ratio so that the LF is keyword-ish
            b = r * (1 - p) / max(1 - pi, 1e-9) * pi * 3
            a = r
            # solve exact b for precision p given a
            b = pi * a * (1 - p) / (p * (1 - pi))
            fire = np.where(y == t, rng.random(n) < a, rng.random(n) < np.minimum(b, 0.95))
            L[fire, j] = t
        else:
            fire = rng.random(n) < r
            correct = rng.random(n) < lf["prec"]
            wrong = (y + rng.integers(1, K, n)) % K
            L[fire, j] = np.where(correct, y, wrong)[fire]
    return L


def gen_wrench(name, K, m, sizes, prior, coverage, polar, prec_range=(0.55, 0.95), train_gold=True, copies=0,
               classes=None, text=True, gz=False, seed=0):
    rng = np.random.default_rng(SEED_OFFSET + seed)
    prior = np.asarray(prior, float)
    prior /= prior.sum()
    lfs = make_lfs(rng, K, m, prior, polar, prec_range, copies)
    ys = {s: rng.choice(K, size=n, p=prior) for s, n in sizes.items()}
    acts = {s: rng.gamma(2.0, 0.5, size=n) for s, n in sizes.items()}
    # bisection on the rate scale so that train coverage ~ target
    lo, hi = 1e-4, 5.0
    sub = min(sizes["train"], 20000)
    for _ in range(22):
        mid = np.sqrt(lo * hi)
        r2 = np.random.default_rng(SEED_OFFSET + seed + 1)
        L = apply_lfs(r2, lfs, ys["train"][:sub], K, prior, mid, acts["train"][:sub])
        cov = (L >= 0).any(1).mean()
        lo, hi = (mid, hi) if cov < coverage else (lo, mid)
    scale = np.sqrt(lo * hi)
    folder = OUT / "wrench" / name
    folder.mkdir()
    classes = classes or [f"class_{k}" for k in range(K)]
    (folder / "label.json").write_text(json.dumps({str(k): c for k, c in enumerate(classes)}))
    stats = {}
    for s, n in sizes.items():
        L = apply_lfs(rng, lfs, ys[s], K, prior, scale, acts[s])
        y = ys[s] if (train_gold or s != "train") else np.full(n, -1)
        rows = {}
        for i in range(n):
            data = {"text": " ".join(rng.choice(WORDS, size=int(rng.integers(5, 30))))} if text else {}
            rows[str(i)] = {"label": int(y[i]), "weak_labels": L[i].tolist(), "data": data}
        payload = json.dumps(rows)
        if gz:
            with gzip.open(folder / f"{s}.json.gz", "wt", encoding="utf-8") as f:
                f.write(payload)
        else:
            (folder / f"{s}.json").write_text(payload)
        stats[s] = dict(n=n, coverage=round(float((L >= 0).any(1).mean()), 3),
                        pos=np.round(np.bincount(ys[s], minlength=K) / n, 3).tolist())
    print(name, K, m, stats, flush=True)


def worker_confusions(rng, K, W, acc_a=6, acc_b=2, spam=0.1, adversarial=0.02):
    C = np.zeros((W, K, K))
    for w in range(W):
        acc = rng.beta(acc_a, acc_b)
        if rng.random() < spam:
            acc = 1.0 / K + rng.normal(0, 0.03)
        if rng.random() < adversarial:
            acc = rng.uniform(0.05, 0.3)
        acc = float(np.clip(acc, 0.01, 0.99))
        for k in range(K):
            off = rng.dirichlet(np.ones(K - 1) * 0.7) * (1 - acc)
            row = np.insert(off, k, 0.0)
            row[k] = acc + rng.normal(0, 0.05)
            row = np.clip(row, 0.001, None)
            C[w, k] = row / row.sum()
    return C


def answer(rng, C, w, y):
    return int(rng.choice(C.shape[1], p=C[w, y]))


def write_crowd(name, answers, truth, header=("item", "worker", "label"), truth_header=("item", "truth")):
    folder = OUT / "crowd" / name
    folder.mkdir()
    with open(folder / "label.csv", "w") as f:
        f.write(",".join(header) + "\n")
        for a in answers:
            f.write(",".join(map(str, a)) + "\n")
    if truth is not None:
        with open(folder / "truth.csv", "w") as f:
            f.write(",".join(truth_header) + "\n")
            for t in truth:
                f.write(",".join(map(str, t)) + "\n")
    print(name, "answers", len(answers), "truth", None if truth is None else len(truth), flush=True)


def gen_crowd_dense(name, K, n, W, per_item, prior=None, seed=0, **kw):
    rng = np.random.default_rng(SEED_OFFSET + seed)
    prior = np.ones(K) / K if prior is None else np.asarray(prior, float) / np.sum(prior)
    y = rng.choice(K, size=n, p=prior)
    C = worker_confusions(rng, K, W, **kw)
    ans = []
    for i in range(n):
        k = per_item if isinstance(per_item, int) else int(rng.choice(per_item))
        for w in rng.choice(W, size=k, replace=False):
            ans.append((i, int(w), answer(rng, C, w, y[i])))
    return y, ans


def main():
    # ---------------- WRENCH-shaped ----------------
    gen_wrench("sms", 2, 73, dict(train=4571, valid=500, test=500), [0.87, 0.13], 0.40, "uni",
               (0.6, 0.98), copies=8, classes=["ham", "spam"], seed=1)
    gen_wrench("spouse", 2, 9, dict(train=22254, valid=2811, test=2701), [0.93, 0.07], 0.26, "uni",
               (0.3, 0.8), train_gold=False, classes=["negative", "positive"], seed=2)
    gen_wrench("cdr", 2, 33, dict(train=8430, valid=920, test=4673), [0.7, 0.3], 0.90, "mixed",
               (0.55, 0.9), copies=4, classes=["negative", "positive"], seed=3)
    gen_wrench("chemprot", 10, 26, dict(train=12861, valid=1607, test=1607),
               [0.05, 0.2, 0.05, 0.15, 0.1, 0.05, 0.1, 0.05, 0.2, 0.05], 0.86, "uni", (0.35, 0.85), seed=4)
    gen_wrench("semeval", 9, 164, dict(train=1749, valid=178, test=600),
               [0.15, 0.12, 0.12, 0.1, 0.13, 0.1, 0.1, 0.1, 0.08], 0.99, "uni", (0.6, 0.98), seed=5)
    gen_wrench("agnews", 4, 9, dict(train=96000, valid=12000, test=12000), [1, 1, 1, 1], 0.69, "uni",
               (0.6, 0.9), seed=6)
    gen_wrench("tennis", 2, 6, dict(train=6959, valid=746, test=1098), [0.86, 0.14], 0.95, "multi",
               (0.65, 0.9), text=False, seed=7)
    gen_wrench("commercial", 2, 4, dict(train=64130, valid=9479, test=7496), [0.68, 0.32], 0.98, "multi",
               (0.65, 0.9), text=False, gz=True, seed=8)
    # ---------------- crowd-shaped ----------------
    # K=10, 500 items, 40 workers
    y, ans = gen_crowd_dense("k10", 10, 500, 40, [3, 4, 5, 6, 8], seed=11, acc_a=4, acc_b=2.5)
    write_crowd("k10", ans, [(i, int(v)) for i, v in enumerate(y)])
    # binary 20k items, 800 sparse workers: 2-30 answers for 95 % of them, a heavy tail for the rest; ~3/item
    rng = np.random.default_rng(SEED_OFFSET + 12)
    n, W = 20000, 800
    y = rng.choice(2, size=n, p=[0.6, 0.4])
    C = worker_confusions(rng, 2, W, acc_a=5, acc_b=2)
    counts = rng.integers(2, 31, size=W)
    heavy = rng.choice(W, size=40, replace=False)
    counts[heavy] = 0
    rest = 3 * n - counts.sum()
    counts[heavy] = np.maximum(2, rng.multinomial(rest, rng.dirichlet(np.ones(40))))
    ans = []
    pool = np.concatenate([rng.permutation(n) for _ in range(4)])
    pos = 0
    seen = set()
    for w in rng.permutation(W):
        for _ in range(counts[w]):
            i = int(pool[pos % pool.size])
            pos += 1
            if (i, w) in seen:
                continue
            seen.add((i, w))
            ans.append((i, int(w), answer(rng, C, w, y[i])))
    ans.sort()
    write_crowd("big20k", ans, [(i, int(v)) for i, v in enumerate(y)])
    # literal: 800 workers x 2-30 answers spread over 20k item ids (most items 0-1 answers), truth for answered
    rng = np.random.default_rng(SEED_OFFSET + 13)
    C = worker_confusions(rng, 2, W, acc_a=5, acc_b=2)
    y = rng.choice(2, size=n, p=[0.6, 0.4])
    ans = set()
    for w in range(W):
        for i in rng.choice(n, size=int(rng.integers(2, 31)), replace=False):
            ans.add((int(i), w, answer(rng, C, w, y[i])))
    ans = sorted(ans)
    answered = sorted({a[0] for a in ans})
    write_crowd("sparse20k", ans, [(i, int(y[i])) for i in answered])
    # strings: worker ids and labels are strings
    rng = np.random.default_rng(SEED_OFFSET + 14)
    names = ["bird", "cat", "dog"]
    y, ans = gen_crowd_dense("strings", 3, 600, 30, [3, 5], prior=[0.2, 0.5, 0.3], seed=14)
    ans = [(f"img_{i:04d}", f"worker_{chr(97 + w % 26)}{w}", names[v]) for i, w, v in ans]
    write_crowd("strings", ans, [(f"img_{i:04d}", names[v]) for i, v in enumerate(y)])
    # duplicates: verbatim repeats + workers answering an item twice differently
    rng = np.random.default_rng(SEED_OFFSET + 15)
    y, ans = gen_crowd_dense("dups", 2, 800, 50, 5, seed=15)
    extra = [ans[i] for i in rng.choice(len(ans), 300, replace=False)]  # verbatim repeats
    changed = [(i, w, 1 - v) for i, w, v in (ans[j] for j in rng.choice(len(ans), 100, replace=False))]
    ans = ans + extra + changed
    ans = [ans[j] for j in rng.permutation(len(ans))]
    write_crowd("dups", ans, [(i, int(v)) for i, v in enumerate(y)])
    # half gold, some items with no answers (in truth.csv only), some answered items without gold
    rng = np.random.default_rng(SEED_OFFSET + 16)
    y, ans = gen_crowd_dense("halfgold", 4, 1200, 60, [2, 3, 4], prior=[0.4, 0.3, 0.2, 0.1], seed=16)
    noans = set(rng.choice(1200, 40, replace=False).tolist())
    ans = [a for a in ans if a[0] not in noans]
    gold_items = sorted(set(rng.choice(1200, 600, replace=False).tolist()) | set(list(noans)[:20]))
    write_crowd("halfgold", ans, [(i, int(y[i])) for i in gold_items])
    # 2 classes, exactly 3 answers per item (MV cannot tie; weighted models can)
    y, ans = gen_crowd_dense("three", 2, 2000, 100, 3, seed=17, acc_a=3, acc_b=2)
    write_crowd("three", ans, [(i, int(v)) for i, v in enumerate(y)])
    # 2 classes, 2 or 4 answers per item -> many MV ties
    y, ans = gen_crowd_dense("evenvotes", 2, 2000, 100, [2, 4], seed=18, acc_a=3, acc_b=2)
    write_crowd("evenvotes", ans, [(i, int(v)) for i, v in enumerate(y)])
    # a crowd folder whose name clashes with a WRENCH folder -> 'sms-crowd'
    y, ans = gen_crowd_dense("sms", 2, 300, 20, 5, seed=19)
    write_crowd("sms", ans, [(i, int(v)) for i, v in enumerate(y)])



if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(OUT), help="data folder to write (replaced)")
    parser.add_argument("--seed-offset", type=int, default=0, help="draw fresh sets of the same shapes")
    args = parser.parse_args()
    OUT, SEED_OFFSET = Path(args.out), args.seed_offset
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "wrench").mkdir(parents=True)
    (OUT / "crowd").mkdir(parents=True)
    (OUT / "README.md").write_text(README, encoding="utf-8")
    main()
