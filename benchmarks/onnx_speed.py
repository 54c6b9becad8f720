"""EfficientNet-Lite0 on CPU: eager torch vs the ONNX Runtime export, as a user runs the classifier and its LF.

    .venv/bin/python benchmarks/onnx_speed.py                 # 200 images, 3 passes per runtime (about 1.5 min, 2 cores)
    .venv/bin/python benchmarks/onnx_speed.py --quick         # 40 images, a smoke run

Images: ``--images`` distinct JPEG crops (60-100 % of each side, quality 90) cut at random places from the ten
real colour photos of scikit-image and scikit-learn (:func:`lf_library.samples.photos`: a cat, coffee, an astronaut,
a rocket...). They are distinct because the classifier's outputs are stored by pixel content: repeated pictures
would be classified once.

For ``runtime="torch"`` and ``runtime="onnxruntime"`` of :func:`lf_library.image.efficientnet_lite0` on the CPU:

* load: the first ``predict`` of one image (building the module, loading the packaged weights; for ONNX Runtime
  also the one-time export to ``$MMWEAK_CACHE/onnx``, whose own seconds are printed apart);
* forward: ``clf.predict(images)`` on the decoded images, the model already loaded; it includes the 224 px resize and normalisation, which is the same
  numpy code for both runtimes and is timed alone as well (``preprocess``);
* apply: :func:`mmweak.apply_lfs` of an :class:`~lf_library.image.ImageClassifierLF` over a ``datasets.Dataset``
  of the JPEG bytes, each runtime with its own empty ``$MMWEAK_CACHE`` (no stored outputs, no cached votes), so
  every image is decoded, preprocessed and run through the model; the model is already loaded in the process.

Each is timed ``--repeats`` times, the runtimes in turn, and the fastest pass is kept (a shared 2-core machine
is noisy: passes of the same work differ by up to 2x); every pass is printed.

Both runtimes use the same number of CPU threads (``--threads``, default torch's own setting). The two runtimes'
probabilities must agree to float rounding and their votes must be identical; the script prints the largest
difference and fails if the votes differ.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import datasets  # noqa: E402

import mmweak  # noqa: E402
from benchmarks.media_common import cold_cache  # noqa: E402
from lf_library import onnx_runtime  # noqa: E402
from lf_library.image import ImageClassifierLF, efficientnet_lite0  # noqa: E402
from lf_library.samples import photos  # noqa: E402
from mmweak.columns import read_matrix  # noqa: E402

RUNTIMES = ("torch", "onnxruntime")
SUBJECTS = mmweak.Task("subject", ["cat", "coffee", "rocket", "motorcycle", "other"])


def photo_crops(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` distinct JPEG cells (``{"bytes", "path"}``) cut from the real photos in turn."""
    rng = np.random.default_rng(seed)
    pics = list(photos().values())
    cells = []
    for i in range(n):
        img = pics[i % len(pics)]
        w, h = int(img.width * rng.uniform(0.6, 1.0)), int(img.height * rng.uniform(0.6, 1.0))
        x, y = int(rng.integers(0, img.width - w + 1)), int(rng.integers(0, img.height - h + 1))
        buf = io.BytesIO()
        img.crop((x, y, x + w, y + h)).save(buf, format="JPEG", quality=90)
        cells.append({"bytes": buf.getvalue(), "path": None})
    return cells


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def subject_lf(runtime: str, threads: int) -> ImageClassifierLF:
    clf = efficientnet_lite0(device="cpu", runtime=runtime, threads=threads)
    return ImageClassifierLF("imagenet_subject", task=SUBJECTS, classifier=clf,
                             classes=["cat", "coffee", "rocket", "motorcycle"], min_score=0.5,
                             otherwise="other", otherwise_below=0.05)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--images", type=int, default=200, help="distinct photo crops timed")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over all images per runtime (fastest kept)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for both runtimes (default: torch's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="40 images, one forward pass each")
    args = parser.parse_args(argv)
    if args.quick:
        args.images, args.repeats = 40, 1
    import torch

    threads = args.threads or torch.get_num_threads()
    torch.set_num_threads(threads)  # torch runs on torch's pool; the ONNX session gets the same count
    root = cold_cache()  # nothing stored from an earlier run: no export, outputs or votes to reuse
    datasets.disable_progress_bars()

    cells = photo_crops(args.images, args.seed)
    from PIL import Image

    images = [Image.open(io.BytesIO(c["bytes"])).convert("RGB") for c in cells]
    for im in images:
        im.load()

    # The one-time export, timed where it happens (the classifier calls it while loading).
    export_seconds: list[float] = []
    real_export = onnx_runtime.exported_onnx

    def export(*a: Any, **k: Any) -> Path:
        t, path = timed(lambda: real_export(*a, **k))
        export_seconds.append(t)
        return path

    onnx_runtime.exported_onnx = export  # type: ignore[assignment]
    clfs = {rt: efficientnet_lite0(device="cpu", runtime=rt, threads=threads) for rt in RUNTIMES}
    load = {}
    for rt in RUNTIMES:
        load[rt], _ = timed(lambda: clfs[rt].predict(images[:1]))
        assert clfs[rt].resolved_runtime() == (rt, "cpu")
    onnx_runtime.exported_onnx = real_export  # type: ignore[assignment]

    pre = min(timed(lambda: clfs["torch"].preprocess.batch(images))[0] for _ in range(args.repeats))
    forward: dict[str, list[float]] = {rt: [] for rt in RUNTIMES}
    probs: dict[str, np.ndarray] = {}
    for _ in range(args.repeats):  # the runtimes in turn, so a busy spell on the machine hits both
        for rt in RUNTIMES:
            t, probs[rt] = timed(lambda: clfs[rt].predict(images))
            forward[rt].append(t)
    max_diff = float(np.abs(probs["torch"] - probs["onnxruntime"]).max())
    top1_same = int((probs["torch"].argmax(1) == probs["onnxruntime"].argmax(1)).sum())

    # apply_lfs as a user runs it, each runtime on an empty cache (the mapping built once beforehand).
    feats = datasets.Features({"image": datasets.Image()})
    ds = datasets.Dataset.from_dict({"image": cells}, features=feats)
    apply: dict[str, list[float]] = {rt: [] for rt in RUNTIMES}
    votes: dict[str, np.ndarray] = {}
    for rep in range(args.repeats):
        for rt in RUNTIMES:
            os.environ["MMWEAK_CACHE"] = tempfile.mkdtemp(prefix=f"apply-{rt}-{rep}-", dir=root)
            lf = subject_lf(rt, threads)  # a new classifier: its output store lives in the new, empty cache
            lf.mapping()
            t, out = timed(lambda: mmweak.apply_lfs(ds, [lf]))
            apply[rt].append(t)
            votes[rt] = read_matrix(out, SUBJECTS.votes_column).astype(np.int64)[:, 0]
            assert lf.classifier.store().encoded == len(cells), "every image must run through the model"
    os.environ["MMWEAK_CACHE"] = root
    votes_same = int((votes["torch"] == votes["onnxruntime"]).sum())

    n = len(cells)
    cmd = "python benchmarks/onnx_speed.py" + (" --quick" if args.quick else "") + "".join(
        f" --{k} {getattr(args, k)}" for k, d in (("images", 200), ("repeats", 3), ("seed", 0))
        if not args.quick and getattr(args, k) != d) + (f" --threads {args.threads}" if args.threads else "")
    import onnxruntime

    print("\n## EfficientNet-Lite0 on CPU: eager torch vs ONNX Runtime\n")
    print(f"command: `{cmd}`\n")
    print(f"- images: {n} distinct JPEG crops of the 10 real photos; CPU threads: {threads} for both runtimes "
          f"(os.cpu_count() = {os.cpu_count()}, {platform.processor() or platform.machine()})")
    print(f"- torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, classifier batch size "
          f"{clfs['torch'].batch_size}")
    print(f"- load (first predict of 1 image): torch {load['torch']:.2f} s, onnxruntime {load['onnxruntime']:.2f} s, "
          f"of which the one-time ONNX export {sum(export_seconds):.2f} s (not in the rows below)")
    print(f"- preprocess alone (resize, crop, normalise; numpy, the same for both): {pre:.2f} s = "
          f"{1000 * pre / n:.1f} ms/image, inside both forward rows")
    print(f"- outputs: max |p_torch - p_onnxruntime| = {max_diff:.2e} over {n} x 1000 probabilities; same top-1 "
          f"label on {top1_same}/{n}; same LF vote on {votes_same}/{n}")
    counts = np.bincount(votes["onnxruntime"] + 1, minlength=SUBJECTS.cardinality + 1)
    print("- LF votes (onnxruntime): " + ", ".join(f"{name} {c}" for name, c in zip(["abstain", *SUBJECTS.labels], counts))
          + "\n")
    print(f"Seconds for all {n} images, the fastest of {args.repeats} passes (every pass in the last column).\n")
    print("| what | runtime | seconds | ms per image | torch ÷ onnxruntime | every pass (s) |")
    print("|---|---|---:|---:|---:|---|")
    best = {}
    for what, runs in (("forward: `clf.predict`", forward), ("apply: `mmweak.apply_lfs`, 1 classifier LF, empty cache", apply)):
        t = best[what.split(":")[0]] = {rt: min(runs[rt]) for rt in RUNTIMES}
        for rt in RUNTIMES:
            ratio = f"{t['torch'] / t['onnxruntime']:.2f}x" if rt == "onnxruntime" else ""
            passes = ", ".join(f"{x:.2f}" for x in runs[rt])
            print(f"| {what} | {rt} | {t[rt]:.2f} | {1000 * t[rt] / n:.1f} | {ratio} | {passes} |")
    model_ms = {rt: 1000 * (best["forward"][rt] - pre) / n for rt in RUNTIMES}
    print(f"\nThe model alone (forward − preprocess): torch {model_ms['torch']:.1f} ms/image, onnxruntime "
          f"{model_ms['onnxruntime']:.1f} ms/image, {model_ms['torch'] / model_ms['onnxruntime']:.1f}x.\n")
    if votes_same != n:
        raise SystemExit(f"the two runtimes' votes differ on {n - votes_same} of {n} images")
    return {"forward": best["forward"], "apply": best["apply"], "load": load, "export": sum(export_seconds), "max_diff": max_diff,
            "threads": threads, "votes_same": votes_same}


if __name__ == "__main__":
    main()
