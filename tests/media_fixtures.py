"""Media data shared by the recipe-script tests and the YAML-recipe tests (one copy per test session).

Sharing the folders also shares the LF vote and embedding caches between the scripts and their YAML
twins: whichever runs second reads the votes the first computed (same LFs, same input), so the suite
pays for each media pipeline once.
"""

from __future__ import annotations

import csv
import json

import pytest

#: A tiny random CLIP architecture (real open_clip code, random weights).
TINY_CLIP = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "patch_size": 8, "head_width": 32},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
}

#: The arguments the image tests run recipes/image_curation.py with (besides --data, --clip-model, --out).
#: CLIP quality thresholds out of reach: a random CLIP must not vote on quality, so the quality labels
#: come from the heuristic and OCR LFs and can be checked against the known defects.
IMAGE_SCRIPT_ARGS = ["--caption-column", "caption", "--align-threshold", "-2", "--align-keep", "2",
                     "--junk-threshold", "2", "--ocr-max-side", "640", "--overwrite", "--batch-size", "16"]


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory):
    """A tiny random open_clip model saved as a 'local-dir:' folder (config + weights)."""
    import open_clip
    import torch

    folder = tmp_path_factory.mktemp("tiny_clip")
    torch.manual_seed(0)
    model = open_clip.CLIP(embed_dim=TINY_CLIP["embed_dim"], vision_cfg=TINY_CLIP["vision_cfg"],
                           text_cfg=TINY_CLIP["text_cfg"])
    torch.save(model.state_dict(), folder / "open_clip_pytorch_model.bin")
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": TINY_CLIP}))
    return folder


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory):
    """imagefolder layout: train/validation splits, a metadata.csv with captions and string labels,
    images with known defects (demo generator) and their truth."""
    from mmweak import demo_image

    root = tmp_path_factory.mktemp("photos")
    cells, kinds = demo_image.make_images(40, seed=3)
    truth = {}
    for split, part in (("train", range(0, 28)), ("validation", range(28, 40))):
        (root / split).mkdir()
        rows = []
        for i in part:
            name = f"img{i:02d}.png"
            (root / split / name).write_bytes(cells[i]["bytes"])
            label = "indoor" if i % 2 else "outdoor"
            rows.append((name, f"a photo taken {label}s", label))
            truth[(split, name)] = kinds[i]
        with open(root / split / "metadata.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["file_name", "caption", "label"])
            w.writerows(rows)
    return root, truth


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """The generated audio corpus (100 clips with known truth) and its summary."""
    from mmweak import demo_audio

    folder = tmp_path_factory.mktemp("corpus")
    info = demo_audio.make_corpus(folder, n=100, seed=3)
    return folder, info


@pytest.fixture(scope="session")
def mm_curated(tmp_path_factory):
    """The small real multimodal folder, curated by recipes/multimodal_curation.py: (root, info, result);
    the sample is ``root / "sample"``, the curated folder ``root / "out"``."""
    from recipes import multimodal_curation as mm

    root = tmp_path_factory.mktemp("mm")
    info = mm.assemble_sample(root / "sample", n=40, seed=0)
    result = mm.main(["--data", str(root / "sample"), "--classes", ",".join(mm.SAMPLE_CLASSES),
                      "--synonyms", mm.SAMPLE_SYNONYMS, "--target-precision", "0.7", "--out", str(root / "out")])
    return root, info, result
