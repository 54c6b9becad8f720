"""Bounded memory on hostile media (issue 12, item 7): decompression bombs and hour-long audio are caught from
their headers and counted as faults, or decoded reduced when asked; peak memory does not follow the worst file."""

import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import zlib

import datasets
import numpy as np
import pytest
import soundfile as sf
from paths import ROOT
from PIL import Image

import mmweak
from lf_library.audio import DurationLF, LoudnessLF, decode_audio
from lf_library.image import BrightnessLF, ResolutionLF, image_stats, load_image, mark_near_duplicates
from lf_library.media import MediaLimits, OversizeError, current_limits, media_limits

Q = mmweak.Task("quality", ["keep", "drop"])
ROOT = str(ROOT)


def png_bomb(side: int = 13000) -> bytes:
    """A black ``side`` x ``side`` greyscale PNG, compressed row by row (never held decoded here)."""
    comp = zlib.compressobj(9)
    row = b"\x00" * (side + 1)  # filter byte + pixels
    body = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def bomb():
    return png_bomb()


def test_png_bomb_is_refused_from_its_header_and_counted(bomb):
    assert len(bomb) < 200_000
    cells = [{"bytes": bomb, "path": None}] * 3 + [{"bytes": _jpeg(64, 48), "path": None}]
    ds = datasets.Dataset.from_dict({"image": cells}).cast_column("image", datasets.Image(decode=False))
    lfs = [ResolutionLF("small", task=Q, min_side=32, label="drop", otherwise="keep"),
           BrightnessLF("dark", task=Q, below=0.1, label="drop")]
    out, report = mmweak.apply_lfs(ds, lfs, batch_size=8, return_report=True)
    assert out["quality_votes"][:3] == [[-1, -1]] * 3 and out["quality_votes"][3][0] == 0
    assert report.faults() == {"small": 3, "dark": 3}
    strict = ResolutionLF("strict", task=Q, min_side=32, label="drop", on_decode_error="raise")
    with pytest.raises(mmweak.LFError, match=r"13000x13000 = 169 Mpx, over the limit of 64 Mpx"):
        mmweak.apply_lfs(ds.select([0]), [strict])


def test_png_bomb_batch_keeps_peak_memory_flat(bomb, tmp_path):
    """Today's main decoded each 164 KB file to 169 MB: eight in one batch peaked 1.4 GB above the baseline."""
    for i in range(8):
        (tmp_path / f"bomb_{i}.png").write_bytes(bomb)
    code = textwrap.dedent(f"""
        import glob, json, resource, sys
        sys.path.insert(0, {ROOT!r})
        import datasets, mmweak
        from lf_library.image import BlurLF, BrightnessLF, ResolutionLF
        datasets.disable_progress_bars()
        Q = mmweak.Task("quality", ["keep", "drop"])
        files = sorted(glob.glob({str(tmp_path / "bomb_*.png")!r}))
        ds = datasets.Dataset.from_dict({{"image": files}}).cast_column("image", datasets.Image(decode=False))
        lfs = [ResolutionLF("small", task=Q, min_side=64, label="drop"), BlurLF("blurry", task=Q, max_sharpness=50, label="drop"),
               BrightnessLF("dark", task=Q, below=0.1, label="drop")]
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        ds, report = mmweak.apply_lfs(ds, lfs, batch_size=8, return_report=True)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"delta_mb": (after - before) / 1024, "faults": report.faults()}}))
    """)
    env = {**os.environ, "HF_DATASETS_CACHE": str(tmp_path / "hf")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["faults"] == {"small": 8, "blurry": 8, "dark": 8}
    assert result["delta_mb"] < 150, result


def test_oversized_jpeg_is_decoded_reduced_when_asked_and_keeps_its_real_size():
    data = _jpeg(4000, 3000)
    limits = MediaLimits(max_image_pixels=1_000_000, oversize="reduce")
    img = load_image({"bytes": data, "path": None}, limits)
    assert img.size == (1000, 750) and img.info["original_size"] == (4000, 3000)  # libjpeg at 1/4 scale
    assert image_stats(img)["width"] == 4000.0 and image_stats(img)["pixels"] == 12e6
    with pytest.raises(OversizeError, match=r"4000x3000 = 12 Mpx, over the limit of 1 Mpx"):
        load_image({"bytes": data, "path": None}, MediaLimits(max_image_pixels=1_000_000))
    # A PNG cannot be decoded reduced: still a fault under "reduce".
    png = io.BytesIO()
    Image.new("L", (2000, 1000)).save(png, format="PNG")
    with pytest.raises(OversizeError):
        load_image(png.getvalue(), limits)
    with media_limits(max_image_pixels=1_000_000, oversize="reduce"):
        lf = ResolutionLF("small", task=Q, min_side=3500, label="drop", otherwise="keep")
    assert lf({"image": [{"bytes": data, "path": None}]}) == [1]  # judged on the real 4000x3000, not 1000x750


def test_limits_enter_the_fingerprint_the_decode_key_and_come_from_the_environment(monkeypatch):
    a = ResolutionLF("small", task=Q, min_side=32, label="drop")
    with media_limits(max_image_pixels=10_000_000) as limits:
        b = ResolutionLF("small", task=Q, min_side=32, label="drop")
    assert b.limits == limits and a.limits == current_limits()
    assert a.fingerprint() != b.fingerprint() and a.decode_key() != b.decode_key()
    assert b.config()["limits"] == {"max_image_pixels": 10_000_000, "max_audio_seconds": 600.0, "oversize": "fault"}
    monkeypatch.setenv("MMWEAK_MAX_IMAGE_PIXELS", "2e6")
    monkeypatch.setenv("MMWEAK_MAX_AUDIO_SECONDS", "none")
    assert current_limits() == MediaLimits(max_image_pixels=2_000_000, max_audio_seconds=None)
    monkeypatch.setenv("MMWEAK_MAX_AUDIO_SECONDS", "ten")
    with pytest.raises(ValueError, match=r"MMWEAK_MAX_AUDIO_SECONDS='ten' is not a finite number"):
        current_limits()
    monkeypatch.setenv("MMWEAK_MAX_IMAGE_PIXELS", "inf")  # not a bare OverflowError
    with pytest.raises(ValueError, match=r"MMWEAK_MAX_IMAGE_PIXELS='inf' is not a finite number \(or 'none'"):
        current_limits()
    monkeypatch.setenv("MMWEAK_MAX_AUDIO_SECONDS", "none")
    monkeypatch.setenv("MMWEAK_MAX_IMAGE_PIXELS", "0")  # the variable is named, not MediaLimits' field
    with pytest.raises(ValueError, match=r"MMWEAK_MAX_IMAGE_PIXELS='0' must be a positive finite number \(or 'none'"):
        current_limits()
    monkeypatch.setenv("MMWEAK_MAX_IMAGE_PIXELS", "none")
    monkeypatch.setenv("MMWEAK_MAX_AUDIO_SECONDS", "inf")  # as the pixels' 'inf' is refused, not taken as no limit
    with pytest.raises(ValueError, match=r"MMWEAK_MAX_AUDIO_SECONDS='inf' must be a positive finite number"):
        current_limits()
    with pytest.raises(ValueError, match="oversize must be 'fault' or 'reduce'"):
        MediaLimits(oversize="crop")


def test_long_flac_is_refused_before_decoding_or_read_only_up_to_the_limit(tmp_path, monkeypatch):
    path = tmp_path / "long.flac"
    sr = 8000
    t = np.arange(sr * 120) / sr
    sf.write(path, (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32), sr, format="FLAC")  # two minutes
    reads = []
    real_read = sf.read
    monkeypatch.setattr(sf, "read", lambda *a, **k: reads.append(k.get("frames")) or real_read(*a, **k))
    with pytest.raises(OversizeError, match=r"clip is 120.0 s long, over the limit of 30 s"):
        decode_audio(str(path), MediaLimits(max_audio_seconds=30))
    assert reads == []  # judged from the header: not one sample decoded
    clip = decode_audio(str(path), MediaLimits(max_audio_seconds=30, oversize="reduce"))
    assert clip.duration == 30.0 and reads == [30 * sr]
    with media_limits(max_audio_seconds=30):
        lfs = [DurationLF("long", task=Q, high=10.0, above="drop"), LoudnessLF("quiet", task=Q, low=-50, below="drop")]
    ds = datasets.Dataset.from_dict({"audio": [str(path)]}).cast_column("audio", datasets.Audio(decode=False))
    ds, report = mmweak.apply_lfs(ds, lfs, return_report=True)
    assert ds["quality_votes"] == [[-1, -1]] and report.faults() == {"long": 1, "quiet": 1}


def test_decoded_audio_cells_respect_the_limit_too():
    clip = {"array": np.zeros(8000 * 40, np.float32), "sampling_rate": 8000}
    with pytest.raises(OversizeError, match=r"clip is 40.0 s long"):
        decode_audio(clip, MediaLimits(max_audio_seconds=30))
    dec = datasets.Dataset.from_dict({"audio": [_wav(8000, 40)]}).cast_column("audio", datasets.Audio())[0]["audio"]
    with pytest.raises(OversizeError, match=r"clip is 40.0 s long"):
        decode_audio(dec, MediaLimits(max_audio_seconds=30))
    assert decode_audio(dec, MediaLimits(max_audio_seconds=30, oversize="reduce")).duration == pytest.approx(30, abs=0.05)


def test_near_duplicate_pass_never_decodes_a_bomb(bomb):
    small = Image.new("RGB", (40, 40), "red")
    ds = datasets.Dataset.from_dict({"image": [{"bytes": bomb, "path": None}, small, small]},
                                    features=datasets.Features({"image": datasets.Image()}))
    marked = mark_near_duplicates(ds)
    assert list(marked["image_dup_of"]) == [None, None, "train/1"]


def _jpeg(w: int, h: int) -> bytes:
    rng = np.random.default_rng(0)
    small = Image.fromarray(rng.integers(0, 255, (max(1, h // 50), max(1, w // 50), 3), dtype=np.uint8))
    buf = io.BytesIO()
    small.resize((w, h)).save(buf, format="JPEG", quality=80)
    return buf.getvalue()


def _wav(sr: int, seconds: float) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.zeros(int(sr * seconds), np.float32), sr, format="WAV")
    return buf.getvalue()
