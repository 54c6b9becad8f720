"""Throughput of the full audio LF set through ``apply_lfs``, and what sharing the decode saves.

    .venv/bin/python -m benchmarks.audio_lfs                    # 240 generated clips (the demo corpus)
    .venv/bin/python -m benchmarks.audio_lfs --rows 480 --batch-size 64
    .venv/bin/python -m benchmarks.audio_lfs --data PATH_OR_HUB_ID [--audio-column audio]

Two ways to run the same 18 LFs (:func:`lf_library.audio.presets.content_lfs` +
:func:`~lf_library.audio.presets.quality_lfs`, Silero VAD included) over the same clips:

* **shared** — one :func:`mmweak.apply_lfs` call: every batch is decoded once, resampled to 16 kHz
  once, framed / transformed / pitch-tracked once and run through the VAD once, for all LFs;
* **per-LF** — one ``apply_lfs`` call per LF, the way LFs that each decode for themselves would run:
  every LF decodes (and resamples, and computes its features) on its own.

Decode and resample calls are counted by wrapping :func:`lf_library.audio.decode.decode_audio` and
``resample`` where the LFs call them (single process, so the counts are exact). The table reports
wall-clock and process CPU seconds (CPU time is steadier on a shared machine) and clips/s for both.
Imports, the Silero model load and TorchScript warm-up are excluded (one untimed run on 8 clips).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import datasets  # noqa: E402

import mmweak  # noqa: E402
from lf_library.audio import base as audio_base  # noqa: E402
from recipes.audio_flow import load_audio  # noqa: E402
from lf_library.audio.presets import content_lfs, quality_lfs  # noqa: E402


class _Counter:
    """Counts calls of the functions the audio LFs decode and resample with."""

    def __init__(self) -> None:
        self.calls = {"decode_audio": 0, "resample": 0}
        self._originals: dict[str, Callable[..., Any]] = {}

    def __enter__(self) -> "_Counter":
        for name in self.calls:
            fn = getattr(audio_base, name)
            self._originals[name] = fn

            def wrapper(*a: Any, _fn: Callable[..., Any] = fn, _name: str = name, **k: Any) -> Any:
                self.calls[_name] += 1
                return _fn(*a, **k)

            setattr(audio_base, name, wrapper)
        return self

    def __exit__(self, *exc: Any) -> None:
        for name, fn in self._originals.items():
            setattr(audio_base, name, fn)


def _timed(run: Callable[[], Any]) -> tuple[float, float, dict[str, int]]:
    with _Counter() as counter:
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        return time.perf_counter() - wall, time.process_time() - cpu, dict(counter.calls)


def benchmark(ds: datasets.Dataset, column: str, *, batch_size: int = 64, cache_dir: str) -> list[dict[str, Any]]:
    """Time the shared and per-LF runs of the full LF set over ``ds``; one result row per mode."""
    lfs = [*content_lfs(column), *quality_lfs(column)]
    warm = ds.select(range(min(8, len(ds))))
    mmweak.apply_lfs(warm, lfs, cache_dir=cache_dir, use_cache=False)  # imports, VAD load, JIT warm-up

    def shared() -> None:
        mmweak.apply_lfs(ds, lfs, batch_size=batch_size, cache_dir=cache_dir, use_cache=False)

    def per_lf() -> None:
        for lf in lfs:
            mmweak.apply_lfs(ds, [lf], batch_size=batch_size, cache_dir=cache_dir, use_cache=False)

    rows = []
    for mode, run in (("shared (one apply_lfs)", shared), ("per-LF (each decodes)", per_lf)):
        wall, cpu, calls = _timed(run)
        rows.append({
            "mode": mode, "lfs": len(lfs), "clips": len(ds), "decode_calls": calls["decode_audio"],
            "decodes_per_clip": calls["decode_audio"] / len(ds), "resample_calls": calls["resample"],
            "wall_s": wall, "cpu_s": cpu, "clips_per_s_wall": len(ds) / wall, "clips_per_s_cpu": len(ds) / cpu,
        })
    return rows


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """The result rows as a fixed-width table, with the per-LF over shared slowdown below."""
    head = (f"{'mode':<24}{'LFs':>5}{'clips':>7}{'decodes':>9}{'/clip':>7}{'resamples':>11}"
            f"{'wall s':>9}{'CPU s':>8}{'clips/s':>9}{'clips/CPU-s':>13}")
    lines = [head]
    for r in rows:
        lines.append(f"{r['mode']:<24}{r['lfs']:>5}{r['clips']:>7}{r['decode_calls']:>9}{r['decodes_per_clip']:>7.1f}"
                     f"{r['resample_calls']:>11}{r['wall_s']:>9.2f}{r['cpu_s']:>8.2f}{r['clips_per_s_wall']:>9.1f}"
                     f"{r['clips_per_s_cpu']:>13.1f}")
    if len(rows) == 2:
        lines.append(f"sharing the batch: {rows[1]['cpu_s'] / rows[0]['cpu_s']:.1f}x less CPU, "
                     f"{rows[1]['decode_calls'] // max(rows[0]['decode_calls'], 1)}x fewer decodes")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", default=None, help="audio dataset (folder, file, Hub id); default: generate one")
    parser.add_argument("--audio-column", default=None)
    parser.add_argument("--split", default=None, help="split to time (default: all splits concatenated)")
    parser.add_argument("--rows", type=int, default=240, help="clips to generate when --data is not given")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    datasets.disable_progress_bars()
    with tempfile.TemporaryDirectory(prefix="mmweak-audio-bench-") as tmp:
        data = args.data
        if data is None:
            from recipes.demo.audio import make_corpus

            info = make_corpus(Path(tmp) / "corpus", n=args.rows, seed=args.seed)
            data = info["folder"]
            print(f"generated {sum(info['splits'].values())} clips (speech: {info['speech_source']}): "
                  + ", ".join(f"{k}={v}" for k, v in sorted(info["kinds"].items())))
        dd, column, _ = load_audio(data, args.audio_column)
        ds = dd[args.split] if args.split else datasets.concatenate_datasets(list(dd.values()))
        seconds = sum(s for s in ds.map(_seconds, input_columns=column, remove_columns=ds.column_names)["s"] if s)
        print(f"{len(ds)} clips, {seconds:.0f} s of audio; batch size {args.batch_size}; torch threads "
              f"{audio_base.TORCH_THREADS} while audio LFs run")
        rows = benchmark(ds, column, batch_size=args.batch_size, cache_dir=str(Path(tmp) / "votes"))
    print(format_table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return rows


def _seconds(cell: Any) -> dict[str, float | None]:
    try:
        return {"s": audio_base.decode_audio(cell).duration}
    except Exception:  # noqa: BLE001 - corrupt clips have no duration
        return {"s": None}


if __name__ == "__main__":
    main()
