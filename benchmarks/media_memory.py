"""Peak memory of image and audio LFs on hostile media: decompression bombs and hour-long audio.

    .venv/bin/python benchmarks/media_memory.py                       # this checkout
    .venv/bin/python benchmarks/media_memory.py --repo /tmp/mmweak-before  # another checkout (e.g. before a fix)

Cases (files are generated once under ``--work``, default ``out/media_memory``):

* ``png_batch``   — eight 13000x13000 PNGs (164 KB each on disk) in one ``apply_lfs`` batch of image heuristics;
* ``png_dataset`` — 48 such PNGs (7.9 MB on disk) curated as ``recipes/image_curation.py`` does without models:
  ``mark_near_duplicates`` then the heuristics, default batch size;
* ``flac_hour``   — a one-hour 44.1 kHz stereo FLAC through the audio heuristics (duration, loudness, clipping);
* ``jpeg_reduce`` — eight 13000x13000 JPEGs in one batch with ``media_limits(oversize="reduce")``: decoded at 1/4
  scale by libjpeg instead of refused (new code only);
* ``flac_reduce`` — the one-hour FLAC with ``oversize="reduce"``: its first ten minutes read as a stream (new code only).

Each case runs in a fresh child process whose code comes from ``--repo``, so the same files and the same
public calls are measured against two checkouts. ``peak MB`` is the child's peak resident set
(``ru_maxrss``), ``base MB`` its peak after imports, before any media is touched.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIDE = 13000

CHILD = {
    "png_batch": """
        files = sorted(glob.glob(os.path.join(WORK, "bomb_*.png")))[:8]
        ds = datasets.Dataset.from_dict({"image": files}).cast_column("image", datasets.Image(decode=False))
        lfs = [ResolutionLF("small", task=Q, min_side=64, label="drop"),
               BrightnessLF("dark", task=Q, below=0.1, label="drop"),
               BlurLF("blurry", task=Q, max_sharpness=50, label="drop")]
        ds, report = mmweak.apply_lfs(ds, lfs, batch_size=8, return_report=True)
    """,
    "png_dataset": """
        files = sorted(glob.glob(os.path.join(WORK, "bomb_*.png")))
        ds = datasets.Dataset.from_dict({"image": files}).cast_column("image", datasets.Image(decode=False))
        ds = mark_near_duplicates(datasets.DatasetDict({"train": ds}), "image")["train"]
        lfs = [ResolutionLF("small", task=Q, min_side=64, label="drop"),
               BrightnessLF("dark", task=Q, below=0.1, label="drop"),
               BlurLF("blurry", task=Q, max_sharpness=50, label="drop"),
               NearDuplicateLF("dup", task=Q, label="drop")]
        ds, report = mmweak.apply_lfs(ds, lfs, return_report=True)
    """,
    "jpeg_reduce": """
        from lf_library.media import media_limits
        files = sorted(glob.glob(os.path.join(WORK, "bomb_*.jpg")))
        ds = datasets.Dataset.from_dict({"image": files}).cast_column("image", datasets.Image(decode=False))
        with media_limits(oversize="reduce"):
            lfs = [ResolutionLF("small", task=Q, min_side=64, label="drop"),
                   BrightnessLF("dark", task=Q, below=0.1, label="drop")]
        ds, report = mmweak.apply_lfs(ds, lfs, batch_size=8, return_report=True)
    """,
    "flac_reduce": """
        from lf_library.media import media_limits
        ds = datasets.Dataset.from_dict({"audio": [os.path.join(WORK, "hour.flac")]}).cast_column(
            "audio", datasets.Audio(decode=False))
        with media_limits(oversize="reduce"):
            lfs = [DurationLF("long", task=Q, high=30.0, above="drop"),
                   LoudnessLF("quiet", task=Q, low=-50, below="drop"), ClippingLF("clipped", task=Q, high=0.01, above="drop")]
        ds, report = mmweak.apply_lfs(ds, lfs, return_report=True)
        print("DETAIL", ds["quality_votes"])
    """,
    "flac_hour": """
        ds = datasets.Dataset.from_dict({"audio": [os.path.join(WORK, "hour.flac")]}).cast_column(
            "audio", datasets.Audio(decode=False))
        lfs = [DurationLF("long", task=Q, high=30.0, above="drop"), LoudnessLF("quiet", task=Q, low=-50, below="drop"),
               ClippingLF("clipped", task=Q, high=0.01, above="drop")]
        ds, report = mmweak.apply_lfs(ds, lfs, return_report=True)
    """,
}

PRELUDE = """
import glob, json, os, resource, sys, time
sys.path.insert(0, REPO)
import datasets, mmweak
from lf_library.image import BlurLF, BrightnessLF, NearDuplicateLF, ResolutionLF, mark_near_duplicates
from lf_library.audio import ClippingLF, DurationLF, LoudnessLF
import numpy, PIL.Image, soundfile, torch, torchaudio
datasets.disable_progress_bars()
Q = mmweak.Task("quality", ["keep", "drop"])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
"""

EPILOGUE = """
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
faults = sum(report.faults().values())
print("RESULT " + json.dumps({"base": base, "peak": peak, "seconds": seconds, "faults": faults, "rows": len(ds)}))
"""


def make_files(work: Path) -> None:
    """The hostile inputs (written once): 48 13000x13000 grey PNGs and a one-hour stereo FLAC."""
    import numpy as np

    work.mkdir(parents=True, exist_ok=True)
    first = work / "bomb_00.png"
    if not first.exists():
        from PIL import Image

        Image.new("L", (SIDE, SIDE), 0).save(first, optimize=True)
    data = first.read_bytes()
    for i in range(1, 48):
        p = work / f"bomb_{i:02d}.png"
        if not p.exists():
            p.write_bytes(data)
    for i in range(8):
        p = work / f"bomb_{i:02d}.jpg"
        if not p.exists():
            from PIL import Image

            Image.new("RGB", (SIDE, SIDE), (90, 120, 150)).save(p, quality=90)
    flac = work / "hour.flac"
    if not flac.exists():
        import soundfile as sf

        sr = 44100
        rng = np.random.default_rng(0)
        with sf.SoundFile(str(flac) + ".part", "w", samplerate=sr, channels=2, format="FLAC", subtype="PCM_16") as f:
            t = np.arange(60 * sr) / sr
            tone = 0.3 * np.sin(2 * np.pi * 440 * t)
            for _ in range(60):  # one minute at a time
                block = tone[:, None] + rng.normal(0, 0.002, (tone.size, 2))
                f.write(block.astype(np.float32))
        os.replace(str(flac) + ".part", flac)


def run_case(case: str, repo: Path, work: Path, timeout: float) -> dict:
    code = f"REPO = {str(repo)!r}\nWORK = {str(work)!r}\n" + PRELUDE + textwrap.dedent(CHILD[case]) + EPILOGUE
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONPATH": str(repo)}
    import shutil
    import tempfile

    cold = tempfile.mkdtemp(prefix=f"mmweak-mem-{case}-")  # no vote cache hit from an earlier run
    env["HF_DATASETS_CACHE"] = os.path.join(cold, "hf")
    env["MMWEAK_CACHE"] = os.path.join(cold, "mmweak")
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                              env=env, cwd=str(repo))
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    finally:
        shutil.rmtree(cold, ignore_errors=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"error": f"exit {proc.returncode}: {tail[:150]}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repo", default=str(ROOT), help="checkout whose mmweak/lf_library are measured")
    parser.add_argument("--work", default=str(ROOT / "out" / "media_memory"), help="where the hostile files live")
    parser.add_argument("--cases", nargs="+", default=["png_batch", "png_dataset", "flac_hour", "jpeg_reduce",
                                                       "flac_reduce"], choices=list(CHILD))
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args(argv)
    work, repo = Path(args.work).resolve(), Path(args.repo).resolve()
    make_files(work)
    commit = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%h %s"], capture_output=True,
                            text=True).stdout.strip()[:70]
    print(f"code under test: {repo} ({commit})")
    print(f"command: .venv/bin/python benchmarks/media_memory.py --repo {repo}")
    print(f"{'case':<13}{'rows':>6}{'base MB':>9}{'peak MB':>9}{'delta MB':>10}{'faults':>8}{'seconds':>9}")
    for case in args.cases:
        r = run_case(case, repo, work, args.timeout)
        if "error" in r:
            print(f"{case:<13}  {r['error']}")
            continue
        print(f"{case:<13}{r['rows']:>6}{r['base']:>9.0f}{r['peak']:>9.0f}{r['peak'] - r['base']:>10.0f}"
              f"{r['faults']:>8}{r['seconds']:>9.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
