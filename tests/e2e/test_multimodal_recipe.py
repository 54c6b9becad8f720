"""recipes/multimodal_curation.py end to end on a small real folder (Fashion-MNIST images, Asterisk recordings,
captions), read back with ``datasets.load_dataset``; folder loading rules and errors."""

import csv

import datasets
import numpy as np
import pytest

from recipes import multimodal_curation as mm


def _metadata(folder):
    rows = []
    for split in ("train", "validation", "test"):
        with open(folder / split / "metadata.csv", newline="") as f:
            rows += list(csv.DictReader(f))
    return rows


def test_sample_folder_curates_end_to_end_and_loads_back(mm_curated):
    root, info, result = mm_curated
    assert info["rows"] == {"train": 20, "validation": 10, "test": 10}
    ds = datasets.load_dataset(str(root / "out"))
    assert {s: len(d) for s, d in ds.items()} == info["rows"]  # nothing dropped
    feats = ds["train"].features
    assert isinstance(feats["image"], datasets.Image) and isinstance(feats["audio"], datasets.Audio)
    assert feats["category_label"].names == mm.SAMPLE_CLASSES and feats["quality_label"].names == ["keep", "drop"]
    assert feats["category_votes"].length == result["tables"]["category"][-1]["lfs"]
    card = (root / "out" / "README.md").read_text()
    assert "### Task `quality`: each modality alone and combined" in card and "| all modalities combined |" in card


def test_missing_and_corrupt_media_are_counted_per_modality(mm_curated):
    root, info, result = mm_curated
    rows = _metadata(root / "sample")
    bad_images = sum(r["image_condition"] in ("truncated", "missing") for r in rows)
    bad_audio = sum(r["audio_condition"] == "missing" for r in rows)
    assert bad_images > 0 and bad_audio > 0
    assert result["missing"] == {"image": bad_images, "audio": bad_audio}
    assert result["faults"]["image_blurry"] == bad_images and result["faults"]["audio_level"] == bad_audio


def test_per_modality_table_shows_the_gain_of_the_combination(mm_curated):
    _, _, result = mm_curated
    quality = {r["modality"]: r for r in result["tables"]["quality"]}
    assert set(quality) == {"image", "audio", "text", "all"}
    best_single = max(quality[m]["accuracy"] for m in ("image", "audio", "text"))
    assert quality["all"]["accuracy"] > best_single + 0.1  # each modality sees only its own defects
    assert quality["all"]["coverage"] >= max(quality[m]["coverage"] for m in ("image", "audio", "text"))
    category = {r["modality"]: r for r in result["tables"]["category"]}
    assert "image" in category and "text" in category
    assert category["all"]["accuracy"] >= max(r["accuracy"] for m, r in category.items() if m != "all")
    # AudioSet's only "same word" for these classes is "Pant" (breathing) for nothing: no audio category LF.
    assert any("audioset_classifier left out" in n for n in result["notes"])


def test_folder_rules_and_errors(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    (tmp_path / "metadata.csv").write_text("image_file_name,text\n../etc/passwd.png,x\n")
    with pytest.raises(ValueError, match="must be a relative path inside the dataset folder"):
        mm.load_records(tmp_path)
    (tmp_path / "metadata.csv").write_text("media_file_name,text\na.png,x\nb.wav,y\n")
    with pytest.raises(ValueError, match=r"column 'media_file_name' mixes file types \['.png', '.wav'\]"):
        mm.load_records(tmp_path)
    (tmp_path / "metadata.csv").write_text("image_file_name,sound_file_name,text\na.png,,hello there friend\n")
    ds = mm.load_records(tmp_path)
    assert isinstance(ds["train"].features["image"], datasets.Image)
    assert ds["train"][0]["sound"] is None and ds["train"][0]["image"]["path"].endswith("a.png")
    with pytest.raises(ValueError, match=r"--synonyms names 'cow'"):
        mm.parse_synonyms("cow=cattle", ["dog", "cat"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no metadata.csv or metadata.jsonl"):
        mm.load_records(empty)
    assert np.array_equal(sorted(ds["train"].column_names), ["image", "sound", "text"])


def test_the_script_passes_overwrite_to_the_sample_it_assembles(monkeypatch, tmp_path):
    # a second `--assemble-sample ... --overwrite` run failed: "is not empty; give a new folder"
    from recipes import multimodal_curation as mm

    seen = {}

    class Stop(Exception):
        pass

    def record(path, **kwargs):
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(mm, "recipe_data", record)
    for flag, expected in (([], False), (["--overwrite"], True)):
        with pytest.raises(Stop):
            mm.main(["--assemble-sample", str(tmp_path / "s"), "--out", str(tmp_path / "o"), *flag])
        assert (seen["assemble"], seen["overwrite"]) == (True, expected)
