"""Curate an audio dataset: what each clip contains, and whether it is good enough to keep.

Run it from the repository root::

    python recipes/audio_curation.py --generate out/audio_corpus --out out/audio_curated --overwrite
    python recipes/audio_curation.py --data PATH_OR_HUB_ID --out out/my_audio_curated [--audio-column audio]

Two tasks (:mod:`lf_library.audio.presets`): ``content`` — speech / tone (music-like) / noise / silence —
and ``quality`` — keep / drop (too short, clipped, too quiet or loud, mostly silent, undecodable). The
flow (:mod:`recipes.audio_flow`): load the data (an audio file, an ``audiofolder`` directory, a
data file or a Hub dataset id) with the audio undecoded → :func:`mmweak.apply_lfs` with the preset LFs
(heuristics + Silero VAD; ``--classifier`` adds a transformers ``audio-classification`` model) →
:func:`mmweak.aggregate` → accuracy against gold where the data has ``content`` / ``quality`` columns →
:func:`mmweak.save_curated` with the audio embedded, and with ``--push-to-hub REPO_ID``
:func:`mmweak.push_curated`.

``--generate DIR`` first writes the corpus of :mod:`recipes.demo.audio` (espeak-ng speech, tones, noise,
silence, clipped, short, quiet and corrupt clips, with known truth) and curates it.

The same recipe as data: ``mmweak curate recipes/audio_curation.yaml`` (the generated corpus; your data with
``--set data.params.path=DIR --set data.params.generate=false``). Both run :func:`recipe_data`,
:func:`recipes.audio_flow.build_lfs` and :func:`lf_library.media_columns.decode_media`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Sequence

from datasets import Audio, DatasetDict

import mmweak
from lf_library.media_columns import decode_media
from recipes.audio_flow import (
    GOLD,
    TASKS,
    add_gold,
    build_lfs,
    curate,
    describe_faults,
    evaluate,
    format_metrics,
    load_audio,
)

DEFAULT_OUT = "out/audio_curated"


def recipe_data(path: str | Path, *, generate: bool = False, rows: int = 240, seed: int = 0, overwrite: bool = False,
                audio_column: str | None = None, gold: dict[str, str] | None = None) -> DatasetDict:
    """The recipe's data: the audio column read undecoded, gold class ids where the data has gold names.

    Args:
        path: an audio file, a folder (``audiofolder``), a data file or a Hub dataset id.
        generate: first write the generated corpus of :mod:`recipes.demo.audio` (known truth) to ``path``.
        rows, seed: size and seed of the generated corpus.
        overwrite: let ``generate`` replace the corpus already in ``path``.
        audio_column: the audio column (default: the first ``datasets.Audio`` column).
        gold: task -> gold column of class names (default: ``content`` and ``quality`` where present).

    Returns:
        A ``DatasetDict`` with ``content_gold`` / ``quality_gold`` (``ClassLabel``) where gold exists.

    Raises:
        ValueError: no audio column. FileExistsError: ``generate`` into a non-empty folder without ``overwrite``.
    """
    if generate:
        from recipes.demo.audio import make_corpus

        info = make_corpus(path, n=rows, seed=seed, overwrite=overwrite)
        print(f"generated {sum(info['splits'].values())} clips in {info['folder']} (speech: {info['speech_source']}): "
              + ", ".join(f"{k}={v}" for k, v in sorted(info["kinds"].items())))
    ds, _, _ = load_audio(path, audio_column)
    ds, _ = add_gold(ds, gold)
    return ds


def audio_column_of(ds: DatasetDict, audio_column: str | None = None) -> str:
    """``audio_column``, or the first ``datasets.Audio`` column (what :func:`load_audio` picks)."""
    first = next(iter(ds.values()))
    return audio_column or next(c for c, f in first.features.items() if isinstance(f, Audio))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="audio file, folder (audiofolder), data file or Hub dataset id")
    src.add_argument(
        "--generate", metavar="DIR", help="write the generated corpus with known truth to DIR and curate it"
    )
    parser.add_argument("--rows", type=int, default=240, help="clips to generate with --generate (default 240)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--audio-column", default=None, help="audio column (default: the first datasets.Audio column)")
    parser.add_argument(
        "--gold",
        default=None,
        help='JSON mapping task -> gold column (default: "content" and "quality" columns where present)',
    )
    parser.add_argument("--model", default=None, help=f"label model, one of {mmweak.labelmodels.available()}")
    parser.add_argument("--no-vad", action="store_true", help="leave out the Silero VAD LF")
    parser.add_argument(
        "--classifier",
        default=None,
        help="transformers audio-classification model (local folder or Hub id) as one more content LF",
    )
    parser.add_argument(
        "--classifier-labels", default=None, help="JSON mapping model label -> content class (default: AudioSet names)"
    )
    parser.add_argument("--num-proc", type=int, default=None, help="worker processes for Dataset.map")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--out", default=DEFAULT_OUT, help=f"curated dataset folder, Hub layout (default: {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing --out folder (and --generate corpus)"
    )
    parser.add_argument("--push-to-hub", metavar="REPO_ID", default=None, help="also publish to this Hub dataset repo")
    parser.add_argument("--private", action="store_true", help="with --push-to-hub: create the repo private")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the recipe; returns the metrics (also printed)."""
    args = parse_args(argv)
    push = getattr(mmweak, "push_curated", None)
    if args.push_to_hub and push is None:  # fail before the work, not after it
        raise SystemExit(
            "--push-to-hub needs mmweak.push_curated, which this mmweak does not have; save with --out and upload "
            "the folder with `huggingface-cli upload --repo-type dataset REPO_ID OUT_DIR`"
        )
    ds = recipe_data(
        args.generate or args.data,
        generate=bool(args.generate),
        rows=args.rows,
        seed=args.seed,
        overwrite=args.overwrite,
        audio_column=args.audio_column,
        gold=json.loads(args.gold) if args.gold else None,
    )
    column = audio_column_of(ds, args.audio_column)
    columns = next(iter(ds.values())).column_names
    gold = {t.name: GOLD[t.name] for t in TASKS if GOLD[t.name] in columns}
    print(
        f"audio column {column!r}: "
        + ", ".join(f"{k}={len(v)}" for k, v in ds.items())
        + (f"; gold for {sorted(gold)}" if gold else "; no gold columns")
    )

    lfs = build_lfs(
        column,
        vad=not args.no_vad,
        classifier=args.classifier,
        classifier_labels=json.loads(args.classifier_labels) if args.classifier_labels else None,
    )
    ds, report = curate(
        ds,
        column,
        lfs=lfs,
        model=args.model,
        gold=gold,
        num_proc=args.num_proc,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    print(f"applied {len(lfs)} LFs; {describe_faults(report)}")
    split = "test" if "test" in ds else next(iter(ds))
    for task in TASKS:
        print()
        print(mmweak.analyze(ds, task, split=split))

    metrics: dict[str, Any] = {"gold": gold, "faults": report.faults()}
    if gold:
        metrics["accuracy"] = evaluate(ds, gold)
        print(
            f"\naccuracy against gold (label model: {args.model or mmweak.labelmodels.DEFAULT_MODEL}; "
            "MV = majority vote over the same votes; abstains count as wrong)"
        )
        print(format_metrics(metrics["accuracy"]))

    ds = decode_media(ds, [column])  # saving embeds the audio bytes: the folder is self-contained
    out = mmweak.save_curated(
        ds,
        args.out,
        overwrite=args.overwrite,
        task_categories=["audio-classification"],
        pretty_name="Audio clips curated by content and quality",
    )
    print(f"\ncurated dataset written to {out}")
    metrics["out"] = str(out)
    if args.push_to_hub:
        assert push is not None  # checked before the work
        result = push(ds, args.push_to_hub, private=args.private)
        print(f"pushed to {args.push_to_hub}: {getattr(result, 'commit_url', result)}")
        metrics["pushed"] = args.push_to_hub
    return metrics


if __name__ == "__main__":
    main()
