"""recipes/image_curation.py end to end on a generated image folder (tiny random CLIP from a local-dir), and
the image part of the demo. The folder and the CLIP model are session fixtures (tests/media_fixtures.py)."""

import io
import sqlite3

import datasets
import numpy as np
import pytest
import yaml
from PIL import Image

import mmweak
from media_fixtures import IMAGE_SCRIPT_ARGS
from recipes.demo import image as demo_image

def run_recipe(image_folder, clip_dir, out, *extra):
    from recipes import image_curation

    root, _ = image_folder
    return image_curation.main([
        "--data", str(root), "--clip-model", f"local-dir:{clip_dir}", *IMAGE_SCRIPT_ARGS, "--out", str(out), *extra,
    ])


def test_recipe_curates_an_image_folder_end_to_end(image_folder, image_script_run):
    _, truth = image_folder
    out, metrics, printed = image_script_run  # run_recipe's arguments, once per session
    assert "images: train=28, validation=12 (column 'image')" in printed
    assert "calibrated clip_zero_shot on 12 validation rows" in printed
    assert metrics["rows"] == {"train": 28, "validation": 12}
    corrupt = sum(k == "corrupt" for k in truth.values())
    assert corrupt > 0 and metrics["faults"]["blurry"] == corrupt  # counted, not fatal

    back = datasets.load_dataset(str(out))
    feats = back["train"].features
    assert feats["image"] == datasets.Image()
    assert feats["quality_label"].names == ["keep", "drop"]
    assert feats["category_label"].names == ["indoor", "outdoor"] and feats["label"].names == ["indoor", "outdoor"]
    assert feats["category_probs"] == datasets.List(datasets.Value("float32"), length=2)
    card = (out / "README.md").read_text()
    tasks = {t["name"]: t for t in yaml.safe_load(card.split("---")[1])["weak_supervision"]["tasks"]}
    assert [lf["name"] for lf in tasks["category"]["lfs"]] == ["clip_zero_shot", "clip_zero_shot_names"]
    lf_names = [lf["name"] for lf in tasks["quality"]["lfs"]]
    for lf in ("caption_alignment", "looks_like_junk_0", "near_duplicate", "watermark_text", "text_heavy"):
        assert lf in lf_names
    col = {name: i for i, name in enumerate(lf_names)}
    # Defects that no "keep" evidence contradicts are dropped; duplicates and watermarks (which pass the
    # cheap checks, so "looks_fine" votes keep) get their detector's drop vote, the label model decides.
    for split in ("train", "validation"):
        names = [r["image"]["path"] for r in back[split].cast_column("image", datasets.Image(decode=False))]
        for name, label, votes in zip(names, back[split]["quality_label"], back[split]["quality_votes"]):
            kind = truth[(split, name.split("/")[-1])]
            if kind in {"blurry", "dark", "tiny", "banner", "corrupt"}:
                assert label == 1, (split, name, kind)
            if kind == "duplicate":
                assert votes[col["near_duplicate"]] == 1, (split, name)
            if kind == "watermark":
                assert votes[col["watermark_text"]] == 1, (split, name)  # short words: not "text heavy"
            if kind == "none":
                assert 1 not in votes[:col["looks_fine"]], (split, name, votes)  # no heuristic flags good images


def test_recipe_encodes_each_image_once_and_reruns_without_the_image_encoder(
        image_folder, clip_dir, tmp_path, monkeypatch):
    from lf_library.image import ClipModel

    monkeypatch.setenv("MMWEAK_CACHE", str(tmp_path / "cache"))
    votes = ["--cache-dir", str(tmp_path / "votes")]  # other tests' cached votes must not spare the encoder
    run_recipe(image_folder, clip_dir, tmp_path / "a", "--no-ocr", *votes)
    stores = list((tmp_path / "cache" / "embeddings").glob("clip-*-image.v1.sqlite"))
    assert len(stores) == 1
    with sqlite3.connect(stores[0]) as db:
        stored = db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
    _, truth = image_folder
    assert stored == sum(k != "corrupt" for k in truth.values())  # each decodable image once, for 5 CLIP LFs
    model = ClipModel(f"local-dir:{clip_dir}", device="cpu").load().model
    calls = []
    real = model.encode_image
    monkeypatch.setattr(model, "encode_image", lambda x, **kw: calls.append(len(x)) or real(x, **kw))
    run_recipe(image_folder, clip_dir, tmp_path / "b", "--no-ocr", "--min-prob", "0.34", *votes)
    assert calls == []


def test_push_to_hub_uses_push_curated_or_fails_clearly(image_folder, clip_dir, tmp_path, monkeypatch, capsys):
    from recipes import image_curation

    pushed = []
    monkeypatch.setattr(mmweak, "push_curated", lambda ds, repo, **kw: pushed.append((repo, sorted(ds), kw)),
                        raising=False)
    run_recipe(image_folder, clip_dir, tmp_path / "c", "--no-ocr", "--push-to-hub", "me/photos", "--private")
    assert pushed and pushed[0][0] == "me/photos" and pushed[0][1] == ["train", "validation"]
    assert pushed[0][2]["private"] is True and pushed[0][2]["task_categories"] == ["image-classification"]
    monkeypatch.delattr(mmweak, "push_curated", raising=False)
    with pytest.raises(SystemExit):
        image_curation.parse_args(["--data", "x", "--push-to-hub", "me/photos"])
    assert "--push-to-hub needs mmweak.push_curated" in capsys.readouterr().err


def test_recipe_heuristics_only_and_bad_arguments(image_folder, tmp_path, capsys):
    from recipes import image_curation

    root, _ = image_folder
    metrics = image_curation.main(["--data", str(root), "--no-clip", "--no-ocr", "--out", str(tmp_path / "h")])
    assert set(metrics["quality"]) == {"keep", "drop", "undecided"} and "category_accuracy" not in metrics
    back = datasets.load_dataset(str(tmp_path / "h"))
    assert "category_label" not in back["train"].column_names
    with pytest.raises(SystemExit):
        image_curation.parse_args(["--data", str(root), "--no-clip", "--caption-column", "caption"])
    with pytest.raises(ValueError, match="no column 'photo'"):
        image_curation.load_images(root, "photo")
    with pytest.raises(ValueError, match="at least two distinct names"):
        image_curation.main(["--data", str(root), "--no-ocr", "--no-clip", "--classes", "cat", "--out",
                             str(tmp_path / "x")])


# -- the demo's image part -----------------------------------------------------------------------

def test_demo_images_have_the_defects_they_claim():
    from lf_library.image import image_stats, load_image, phash, hamming

    cells, kinds = demo_image.make_images(60, seed=0)
    assert len(cells) == 60 and sum(k == "none" for k in kinds) >= 30
    for cell, kind in zip(cells, kinds):
        if kind == "corrupt":
            with pytest.raises(OSError):
                load_image(cell)
            continue
        s = image_stats(load_image(cell))
        assert (s["min_side"] < 64) == (kind == "tiny"), kind
        assert (s["aspect_ratio"] > 3) == (kind == "banner")
        if kind == "blurry":
            assert s["sharpness"] < 60
    originals = [load_image(c) for c, k in zip(cells, kinds) if k == "none"]
    for cell, kind in zip(cells, kinds):
        if kind == "duplicate":
            h = phash(load_image(cell))
            assert min(hamming(h, phash(o)) for o in originals) <= 6


def test_demo_image_part_runs_offline_with_known_truth(tmp_path):
    out = io.StringIO()
    results = demo_image.run(tmp_path / "demo_images", n=60, seed=0, stream=out)
    text = out.getvalue()
    assert "generated 60 images" in text and "identical features" in text
    assert "has_text" in text and "watermark_words" in text  # the OCR LFs ran
    assert results["majority"] >= 0.9 and results["curated"] >= 0.8, results
    # The real-model part: EfficientNet-Lite0 on crops of real photos, through the ImageNet-to-words mapping.
    assert "a real model on real photos" in text and "cat: 13 labels" in text
    assert results["photos_coverage"] >= 0.4 and results["photos_accuracy"] >= 0.9, results
    back = datasets.load_dataset(str(tmp_path / "demo_images"))
    assert back["test"].features["quality_label"].names == ["keep", "drop"]
    assert isinstance(back["test"][0]["image"], Image.Image)
    probs = np.asarray(back["test"]["quality_probs"])
    assert probs.shape == (12, 2) and np.allclose(probs.sum(1), 1, atol=1e-5)
