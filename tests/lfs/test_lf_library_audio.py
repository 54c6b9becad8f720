"""lf_library.audio: decoding paths, features on signals with known properties, threshold LFs, shared
work per batch (decode, resample, feature passes, VAD), fault policy, Silero VAD on espeak-ng speech."""

from __future__ import annotations

import io
import pickle
import shutil

import datasets
import numpy as np
import pytest
import soundfile as sf

import mmweak
from lf_library.audio import (
    SNRLF,
    AudioFeatureLF,
    BatchFeatures,
    Clip,
    ClippingLF,
    DurationLF,
    FeatureRangesLF,
    LoudnessLF,
    PitchLF,
    SilenceRatioLF,
    SileroVADLF,
    SpectralCentroidLF,
    SpectralFlatnessLF,
    SpectralRolloffLF,
    ThresholdRule,
    UndecodableLF,
    VoicedRatioLF,
    ZeroCrossingRateLF,
    content_lfs,
    decode_audio,
    quality_lfs,
    resample,
)
from lf_library.audio import base as audio_base
from lf_library.audio import features as audio_features
from lf_library.audio import vad as audio_vad

SR = 16000
Q = mmweak.Task("quality", ["keep", "drop"])
KIND = mmweak.Task("kind", ["speech", "tone", "noise", "silence"])


def sine(freq=440.0, sr=SR, seconds=1.0, amp=0.5):
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def white(sr=SR, seconds=1.0, amp=0.1, seed=0):
    return np.random.default_rng(seed).normal(0, amp, int(sr * seconds)).astype(np.float32)


def cell(x, sr=SR):
    return {"array": x, "sampling_rate": sr}


def wav_bytes(x, sr=SR, fmt="WAV"):
    buf = io.BytesIO()
    sf.write(buf, x, sr, format=fmt, subtype="VORBIS" if fmt == "OGG" else "PCM_16")
    return buf.getvalue()


@pytest.fixture(scope="module")
def espeak_clips():
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    from recipes.demo.audio import espeak

    out = []
    for text, voice in [("The weather is lovely today, let us go for a walk.", "en"),
                        ("Please send me the report before noon.", "en-us+f3")]:
        x, sr = espeak(text, voice=voice)
        out.append((x, sr))
    return out


# -- decoding -----------------------------------------------------------------------------------------
def test_decode_shapes_mixdown_and_pcm_scaling(tmp_path):
    stereo = np.stack([sine(amp=0.4), sine(amp=0.2)])  # (channels, samples)
    clip = decode_audio(cell(stereo))
    assert clip.samples.shape == (SR,) and clip.samples.dtype == np.float32 and clip.sample_rate == SR
    np.testing.assert_allclose(clip.samples, sine(amp=0.3), atol=1e-6)
    assert decode_audio(cell(stereo.T)).samples.shape == (SR,)  # (samples, channels) too
    pcm = decode_audio(cell(np.array([0, 16384, -32768], dtype=np.int16)))
    np.testing.assert_allclose(pcm.samples, [0.0, 0.5, -1.0])
    for fmt in ("WAV", "FLAC", "OGG"):
        data = wav_bytes(sine(), fmt=fmt)
        from_bytes = decode_audio({"bytes": data, "path": None})
        (tmp_path / f"a.{fmt.lower()}").write_bytes(data)
        from_path = decode_audio(str(tmp_path / f"a.{fmt.lower()}"))
        assert from_bytes.sample_rate == from_path.sample_rate == SR
        assert abs(from_bytes.samples.shape[0] - SR) < 2000  # OGG pads a little
        np.testing.assert_array_equal(from_bytes.samples, from_path.samples)
    assert decode_audio({"bytes": None, "path": str(tmp_path / "a.wav")}).duration == pytest.approx(1.0)


@pytest.mark.parametrize("bad, message", [
    (b"", "empty audio file"),
    (b"RIFF\x00\x00garbage" * 20, "could not decode 260 bytes of audio: soundfile:"),
    ({"array": [], "sampling_rate": SR}, "empty audio"),
    ({"array": np.zeros((2, 0), np.float32), "sampling_rate": SR}, r"empty audio \(0 samples, shape \(2, 0\)\)"),
    ({"array": [0.1, float("nan")], "sampling_rate": SR}, "non-finite"),
    ({"array": [0.1], "sampling_rate": 0}, "sample rate must be positive"),
    ({"array": [0.1]}, "no 'sampling_rate'"),
    ({"bytes": None, "path": None}, "neither bytes, path nor array"),
    (None, "missing audio"),
])
def test_decode_rejects_bad_cells_with_the_reason(bad, message):
    with pytest.raises(ValueError, match=message):
        decode_audio(bad)
    with pytest.raises(TypeError, match="cannot decode a int as audio"):
        decode_audio(3)


def test_resample_keeps_pitch_and_length():
    clip = resample(Clip(sine(440, sr=44100), 44100), SR)
    assert clip.sample_rate == SR and clip.samples.shape == (SR,)
    assert BatchFeatures([clip], SR).get("pitch_hz")[0] == pytest.approx(440, abs=2)
    same = Clip(sine(), SR)
    assert resample(same, SR) is same


# -- features on signals with known properties ------------------------------------------------------
def test_features_of_known_signals():
    clips = [Clip(x, SR) for x in (sine(440), np.zeros(SR, np.float32), white(amp=0.1), sine(1000, amp=0.9),
                                   np.clip(4 * sine(200), -0.8, 0.8))]
    bf = BatchFeatures(clips, SR)
    tone, silence, noise, khz, clipped = range(5)
    pitch = bf.get("pitch_hz")
    assert pitch[tone] == pytest.approx(440, abs=2) and pitch[khz] == pytest.approx(1000, abs=5)
    assert np.isnan(pitch[silence]) and np.isnan(pitch[noise])  # nothing periodic to find
    assert bf.get("silence_ratio")[[tone, silence, noise]].tolist() == [0.0, 1.0, 0.0]
    flat = bf.get("spectral_flatness")
    assert flat[noise] > 0.4 and flat[tone] < 1e-4 and np.isnan(flat[silence])
    rms = bf.get("rms_dbfs")
    assert rms[tone] == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.05) and rms[silence] == -120.0
    assert bf.get("peak_dbfs")[khz] == pytest.approx(20 * np.log10(0.9), abs=0.01)
    zcr = bf.get("zero_crossing_rate")
    assert zcr[tone] == pytest.approx(2 * 440 / SR, rel=0.05) and zcr[noise] == pytest.approx(0.5, abs=0.03)
    centroid = bf.get("spectral_centroid")
    assert centroid[khz] == pytest.approx(1000, rel=0.03) and centroid[noise] == pytest.approx(SR / 4, rel=0.05)
    rolloff = bf.get("spectral_rolloff", percent=0.5)
    assert rolloff[noise] == pytest.approx(SR / 4, rel=0.05)
    clipping = bf.get("clipping_ratio")
    assert clipping[clipped] > 0.5 and clipping[tone] == 0.0 and clipping[silence] == 0.0
    voiced = bf.get("voiced_ratio")
    assert voiced[tone] > 0.95 and voiced[noise] < 0.05
    assert bf.get("duration_s").tolist() == [1.0] * 5


def test_clips_shorter_than_one_frame_have_no_frame_features_so_content_lfs_abstain():
    # Padded to one frame, a 6 ms tone read as noise (flatness 0.09) and one sample as white noise (1.0): both were
    # labelled noise with confidence 1. Duration, loudness and peak still describe them (too_short catches them).
    frame = audio_features.frame_length(SR)
    clips = [Clip(sine(440)[: frame // 5], SR), Clip(sine(440)[: frame - 1], SR), Clip(np.full(1, 0.1, np.float32), SR),
             Clip(sine(440)[:frame], SR)]
    bf = BatchFeatures(clips, SR)
    for name in ("spectral_flatness", "spectral_centroid", "zero_crossing_rate", "voiced_ratio", "pitch_hz",
                 "silence_ratio", "snr_db"):
        assert np.isnan(bf.get(name)[:3]).all(), name
    assert bf.get("spectral_flatness")[3] < 0.05  # one whole frame is read as before
    assert not np.isnan(bf.get("rms_dbfs")).any() and bf.get("duration_s")[2] == pytest.approx(1 / SR)


def test_snr_is_high_for_bursts_and_low_for_steady_signals():
    bursts = np.tile(np.r_[white(seconds=0.2, amp=0.2), white(seconds=0.2, amp=0.002, seed=1)], 4)
    bf = BatchFeatures([Clip(bursts, SR), Clip(white(), SR), Clip(sine(), SR), Clip(np.zeros(SR, np.float32), SR)], SR)
    snr = bf.get("snr_db")
    assert snr[0] == pytest.approx(40, abs=3) and snr[1] < 2 and snr[2] < 1 and np.isnan(snr[3])


def test_torchaudio_pitch_method_is_available_but_octave_prone():
    bf = BatchFeatures([Clip(sine(440), SR)], SR)
    ratio = 440 / bf.get("pitch_hz", method="torchaudio")[0]
    assert round(ratio) >= 2 and abs(ratio - round(ratio)) < 0.05  # torchaudio's NCCF locks onto a subharmonic
    assert bf.get("pitch_hz")[0] == pytest.approx(440, abs=2)  # YIN does not


def test_feature_errors():
    with pytest.raises(ValueError, match="unknown audio feature 'loudness'"):
        BatchFeatures([], SR).get("loudness")
    with pytest.raises(ValueError, match="has no parameter"):
        BatchFeatures([], SR).get("snr_db", percent=3)
    with pytest.raises(ValueError, match="frame-based"):
        BatchFeatures([Clip(sine(), SR)], None).get("spectral_flatness")


# -- threshold LFs --------------------------------------------------------------------------------------
def test_threshold_rule():
    rule = ThresholdRule(low=1, high=2, below=0, above=1, between=2)
    assert rule.votes([0.5, 1, 1.5, 2, 3, np.nan]).tolist() == [0, 2, 2, 2, 1, -1]
    assert ThresholdRule(high=2, between=1).votes([-5, 3]).tolist() == [1, -1]
    for kwargs, msg in [({}, "at least one"), ({"below": 0}, "below= needs a low="), ({"above": 0}, "above= needs"),
                        ({"between": 0}, "between= needs"), ({"low": 3, "high": 1, "below": 0}, "must not exceed")]:
        with pytest.raises(ValueError, match=msg):
            ThresholdRule(**kwargs)
    with pytest.raises(ValueError, match="LF 'x': .*must not exceed"):
        DurationLF("x", task=Q, low=2, below="drop", high=1, above="keep")
    with pytest.raises(ValueError, match="LF 'x': unknown label 'bad'"):
        DurationLF("x", task=Q, low=2, below="bad")


def test_each_heuristic_lf_votes_on_synthetic_signals():
    tone, noise, silence = cell(sine(300)), cell(white(amp=0.2)), cell(np.zeros(SR))
    short, clipped = cell(sine(seconds=0.2)), cell(np.clip(4 * sine(300), -1, 1))
    batch = {"audio": [tone, noise, silence, short, clipped]}
    t, n, s = "tone", "noise", "silence"
    cases = [
        (DurationLF("dur", task=Q, low=0.5, below="drop", high=0.9, above="keep"), [0, 0, 0, 1, 0]),
        (LoudnessLF("quiet", task=KIND, low=-60, below=s), [-1, -1, 3, -1, -1]),
        (SilenceRatioLF("sil", task=KIND, high=0.9, above=s), [-1, -1, 3, -1, -1]),
        (ClippingLF("clip", task=Q, high=0.05, above="drop", low=0.001, below="keep"), [0, 0, 0, 0, 1]),
        (SpectralFlatnessLF("flat", task=KIND, low=1e-3, below=t, high=0.3, above=n), [1, 2, -1, 1, 1]),
        (ZeroCrossingRateLF("zcr", task=KIND, high=0.3, above=n), [-1, 2, -1, -1, -1]),
        (SpectralCentroidLF("cent", task=KIND, high=2000, above=n), [-1, 2, -1, -1, -1]),
        (SpectralRolloffLF("roll", task=KIND, high=5000, above=n), [-1, 2, -1, -1, -1]),
        (PitchLF("pitch", task=KIND, low=280, high=320, between=t), [1, -1, -1, -1, 1]),  # short one is 440 Hz
        (VoicedRatioLF("voiced", task=KIND, low=0.05, below=n, high=0.9, above=t), [1, 2, -1, 1, 1]),
        (SNRLF("snr", task=KIND, low=3, below=t), [1, 1, -1, 1, 1]),
        (AudioFeatureLF("peak", task=Q, feature="peak_dbfs", high=-0.1, above="drop", sample_rate=None),
         [-1, -1, -1, -1, 1]),
    ]
    for lf, expected in cases:
        assert lf(batch) == expected, lf.name


def test_feature_ranges_and_undecodable_lfs():
    keep = FeatureRangesLF("ok", task=Q, label="keep", ranges={"duration_s": (0.5, None), "clipping_ratio": (None, 0.01)})
    broken = UndecodableLF("broken", task=Q, label="drop")
    batch = {"audio": [cell(sine()), cell(sine(seconds=0.2)), cell(np.clip(4 * sine(), -1, 1)), b"junk"]}
    assert keep(batch) == [0, -1, -1, -1]
    assert broken(batch) == [-1, -1, -1, 1]
    with pytest.raises(ValueError, match="LF 'ok': feature 'pitch_hz': .*no parameter"):
        FeatureRangesLF("ok", task=Q, label="keep", ranges={"pitch_hz": (1, 2)}, params={"pitch_hz": {"x": 1}})
    with pytest.raises(ValueError, match="params given for features without a range"):
        FeatureRangesLF("ok", task=Q, label="keep", ranges={"duration_s": (1, 2)}, params={"snr_db": {}})


def test_lf_construction_errors_name_the_lf():
    with pytest.raises(ValueError, match="LF 'f': feature 'spectral_flatness' is frame-based and needs a sample_rate"):
        SpectralFlatnessLF("f", task=KIND, high=0.3, above="noise", sample_rate=None)
    with pytest.raises(ValueError, match="LF 'f': DurationLF reads 'duration_s'"):
        DurationLF("f", task=Q, feature="snr_db", low=1, below=0)
    with pytest.raises(ValueError, match="LF 'p': need 0 < fmin < fmax"):
        PitchLF("p", task=KIND, fmin=500, fmax=100, high=1, above=1)
    with pytest.raises(ValueError, match="LF 'v': measure must be one of"):
        SileroVADLF("v", task=KIND, measure="loudness", high=1, above=0)
    with pytest.raises(ValueError, match="LF 's': sample_rate must be a positive int"):
        SilenceRatioLF("s", task=KIND, high=1, above=3, sample_rate=-1)


def test_fingerprint_follows_thresholds_params_and_rate():
    base = SilenceRatioLF("s", task=KIND, high=0.9, above="silence")
    assert base.fingerprint() == SilenceRatioLF("s", task=KIND, high=0.9, above="silence").fingerprint()
    for other in (SilenceRatioLF("s", task=KIND, high=0.8, above="silence"),
                  SilenceRatioLF("s", task=KIND, high=0.9, above="silence", threshold_db=-40),
                  SilenceRatioLF("s", task=KIND, high=0.9, above="silence", sample_rate=8000),
                  SilenceRatioLF("s", task=KIND, high=0.9, above="silence", on_decode_error="raise")):
        assert other.fingerprint() != base.fingerprint()
    assert base.config()["params"] == {"threshold_db": -50.0} and base.modality == "audio"


# -- through apply_lfs: both datasets decoding paths, faults, shared work ----------------------------------
@pytest.fixture
def wav_files(tmp_path):
    files = []
    for i, x in enumerate([sine(440, sr=22050, seconds=1.2), white(sr=SR, amp=0.2), np.zeros(SR, np.float32)]):
        sr = 22050 if i == 0 else SR
        path = tmp_path / f"clip{i}.wav"
        sf.write(path, x, sr)
        files.append(str(path))
    return files


def _audio_decode_works():
    try:
        import torchcodec.decoders  # noqa: F401 - needs the FFmpeg shared libraries

        return True
    except Exception:  # noqa: BLE001
        return False


def test_audio_and_undecoded_columns_give_the_same_votes(wav_files, tmp_path):
    lfs = [PitchLF("a440", task=KIND, low=430, high=450, between="tone"),
           SpectralFlatnessLF("flat", task=KIND, high=0.3, above="noise"),
           SilenceRatioLF("sil", task=KIND, high=0.9, above="silence"),
           DurationLF("dur", task=Q, low=0.5, below="drop", high=1.1, above="keep")]
    raw = datasets.Dataset.from_dict({"audio": wav_files}).cast_column("audio", datasets.Audio(decode=False))
    out = mmweak.apply_lfs(raw, lfs, cache_dir=tmp_path / "c1")
    expected = {"kind_votes": [[1, -1, -1], [-1, 2, -1], [-1, -1, 3]], "quality_votes": [[0], [-1], [-1]]}
    assert {k: list(out[k]) for k in expected} == expected
    if not _audio_decode_works():
        pytest.skip("torchcodec cannot load the FFmpeg libraries here; the Audio() path is untested")
    decoded = datasets.Dataset.from_dict({"audio": wav_files}).cast_column("audio", datasets.Audio())
    assert type(decoded[0]["audio"]).__name__ == "AudioDecoder"  # what datasets 5 hands to map()
    out2 = mmweak.apply_lfs(decoded, lfs, cache_dir=tmp_path / "c2")
    assert {k: list(out2[k]) for k in expected} == expected
    resampled = decoded.cast_column("audio", datasets.Audio(sampling_rate=8000))  # torchcodec resamples first
    assert list(mmweak.apply_lfs(resampled, lfs[:1], cache_dir=tmp_path / "c3")["kind_votes"]) == [[1], [-1], [-1]]


def test_corrupt_clips_are_faults_or_errors_by_policy(wav_files, tmp_path):
    cells = [{"bytes": None, "path": wav_files[0]}, {"bytes": b"\x00garbage" * 30, "path": "bad.wav"},
             {"bytes": b"", "path": None}, {"bytes": None, "path": wav_files[1]}]
    ds = datasets.Dataset.from_dict({"audio": cells}, features=datasets.Features({"audio": datasets.Audio(decode=False)}))
    lfs = [DurationLF("dur", task=Q, low=0.5, below="drop", high=0.9, above="keep"),
           ClippingLF("clip", task=Q, high=0.01, above="drop"), UndecodableLF("broken", task=Q, label="drop")]
    out, report = mmweak.apply_lfs(ds, lfs, cache_dir=tmp_path, return_report=True)
    assert list(out["quality_votes"]) == [[0, -1, -1], [-1, -1, 1], [-1, -1, 1], [0, -1, -1]]
    assert report.faults() == {"dur": 2, "clip": 2, "broken": 0}
    strict = DurationLF("strict", task=Q, low=0.5, below="drop", on_decode_error="raise")
    with pytest.raises(mmweak.LFError, match=r"'strict' could not decode column 'audio'.*could not decode 240 bytes.*row 1") as e:
        mmweak.apply_lfs(ds, [strict], cache_dir=tmp_path)
    assert (e.value.lf, e.value.column, e.value.row) == ("strict", "audio", 1)


def test_full_lf_set_decodes_resamples_and_analyses_each_clip_once_per_batch(wav_files, tmp_path, monkeypatch):
    calls = {"decode": 0, "resample": 0, "stft": 0, "yin": 0, "vad": 0}

    def counting(name, fn):
        def wrapper(*a, **k):
            calls[name] += 1
            return fn(*a, **k)
        return wrapper

    monkeypatch.setattr(audio_base, "decode_audio", counting("decode", audio_base.decode_audio))
    monkeypatch.setattr(audio_base, "resample", counting("resample", audio_base.resample))
    monkeypatch.setattr(audio_features, "_power_spectrum", counting("stft", audio_features._power_spectrum))
    monkeypatch.setattr(audio_features, "_lagged_products", counting("yin", audio_features._lagged_products))
    monkeypatch.setattr(audio_vad, "speech_probabilities", counting("vad", audio_vad.speech_probabilities))
    files = wav_files * 4  # 12 clips, two batches of 6
    ds = datasets.Dataset.from_dict({"audio": files}).cast_column("audio", datasets.Audio(decode=False))
    lfs = [*content_lfs(), *quality_lfs()]
    assert len(lfs) == 18
    out = mmweak.apply_lfs(ds, lfs, batch_size=6, cache_dir=tmp_path)
    # one decode per clip and one resample per clip (16 kHz) although 18 LFs read the column;
    # one STFT pass, one YIN pass and one VAD pass per batch
    assert calls == {"decode": 12, "resample": 12, "stft": 2, "yin": 2, "vad": 2}
    assert np.asarray(out["content_votes"]).shape == (12, 11)


# -- Silero VAD -------------------------------------------------------------------------------------------
def test_vad_detects_espeak_speech_but_not_tones_or_noise(espeak_clips, tmp_path):
    ratio = SileroVADLF("vad", task=KIND, high=0.5, above="speech")
    presence = SileroVADLF("presence", task=KIND, measure="longest_speech_s", high=0.5, above="speech")
    cells = [cell(x, sr) for x, sr in espeak_clips] + [
        cell(sine(440, seconds=2)), cell(sine(180, seconds=2, amp=0.8)), cell(white(seconds=2)),
        cell(np.zeros(2 * SR, np.float32)), cell(sine(700, sr=44100, seconds=2)),
    ]
    out = mmweak.apply_lfs(datasets.Dataset.from_dict({"audio": cells}), [ratio, presence], cache_dir=tmp_path)
    assert list(out["kind_votes"]) == [[0, 0], [0, 0]] + [[-1, -1]] * 5
    probs = audio_vad.speech_probabilities([resample(decode_audio(c), SR) for c in cells[:3]], audio_vad.load_vad())
    assert (probs[0] >= 0.5).mean() > 0.6 and (probs[2] >= 0.5).mean() == 0.0
    assert probs[0].shape == (-(-resample(decode_audio(cells[0]), SR).samples.shape[0] // 512),)


def test_vad_measures():
    p = np.array([0.9, 0.9, 0.1, 0.8, 0.8, 0.8, 0.2])
    assert audio_vad.measure(p, "speech_ratio", 0.5) == pytest.approx(5 / 7)
    assert audio_vad.measure(p, "longest_speech_s", 0.5) == pytest.approx(3 * 0.032)
    assert audio_vad.measure(p, "speech_s", 0.5) == pytest.approx(5 * 0.032)


def test_vad_lf_pickles_without_its_model_and_reloads_it(tmp_path):
    lf = SileroVADLF("vad", task=KIND, high=0.3, above="speech", low=0.05, below="noise")
    batch = {"audio": [cell(white(seconds=1.5)), cell(sine(seconds=1.5))]}
    before = lf(batch)
    assert lf._model is not None  # loaded by the call
    state = pickle.dumps(lf)
    assert len(state) < 20_000  # the TorchScript model (~2 MB) is not in it
    clone = pickle.loads(state)
    assert clone._model is None and clone.fingerprint() == lf.fingerprint()
    assert clone(batch) == before == [2, 2]
    assert clone._model is lf._model  # one model per process, shared by every VAD LF
    assert clone.config()["model"].startswith("silero-vad ")


def test_audio_lfs_run_with_one_torch_thread_and_restore_the_setting():
    import torch

    seen = []
    lf = DurationLF("d", task=Q, low=0.5, below="drop")
    original = lf.label_decoded
    lf.label_decoded = lambda *a: seen.append(torch.get_num_threads()) or original(*a)
    before = torch.get_num_threads()
    assert lf({"audio": [cell(sine())]}) == [-1]
    assert seen == [audio_base.TORCH_THREADS] and torch.get_num_threads() == before


def test_espeak_helper_writes_real_speech():
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    from recipes.demo.audio import espeak

    x, sr = espeak("hello there")
    assert sr == 22050 and 0.3 < x.shape[0] / sr < 3 and np.abs(x).max() > 0.05


def test_telephone_speech_read_at_16k_is_not_a_line_spectrum():
    """Asterisk's 8 kHz prompts, resampled to 16 kHz, have an empty upper half band; measured over all of it their
    spectral flatness (1e-5) sat below the preset's 1e-4 and `line_spectrum_tone` called every prompt a tone. The
    flatness is taken over the band the recording holds: speech no longer votes tone, the real beeps still do."""
    from lf_library.samples import asterisk_sounds

    sounds = asterisk_sounds()
    speech, beeps = sounds["prompts"][:5] + sounds["digits"][:3], sounds["nonspeech"][:2]
    assert sf.info(speech[0]).samplerate == 8000
    tone = next(lf for lf in content_lfs(vad=False) if lf.name == "line_spectrum_tone")
    votes = mmweak.apply_lfs(datasets.Dataset.from_dict({"audio": speech + beeps}), [tone], use_cache=False)
    assert [v[0] for v in votes["content_votes"]] == [-1] * len(speech) + [tone.task.class_of("tone")] * len(beeps)
    wide = decode_audio(beeps[0])
    assert resample(wide, 16000).band == 4000 and resample(resample(wide, 16000), 8000).band == 4000
    assert resample(Clip(np.zeros(48000, np.float32), 48000), 16000).band == 8000  # down: the whole new band


def test_a_wav_cut_short_is_undecodable_not_a_shorter_clip(tmp_path):
    """libsndfile read a WAV whose copy was cut short as the shorter clip it holds (1.06 s became 0.35 s), no
    fault and no vote of the Undecodable LF; the data chunk's declared size says it is truncated."""
    from lf_library.samples import asterisk_sounds

    real = asterisk_sounds()["prompts"][0]
    whole = open(real, "rb").read()
    (tmp_path / "cut.wav").write_bytes(whole[: len(whole) // 3])
    with pytest.raises(ValueError, match=r"WAV file is truncated: its header declares \d+ bytes of samples"):
        decode_audio(str(tmp_path / "cut.wav"))
    assert decode_audio(real).duration > 0.5  # the whole file reads as before
    broken = UndecodableLF("broken", task=Q, label="drop")
    assert broken({"audio": [str(tmp_path / "cut.wav"), real, {"bytes": whole[:300], "path": None}]}) == [1, -1, 1]
