"""Media data shared by the recipe-script tests and the YAML-recipe tests (one copy per test session).

Sharing the folders also shares the LF vote and embedding caches between the scripts and their YAML
twins: whichever runs second reads the votes the first computed (same LFs, same input), so the suite
pays for each media pipeline once.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys

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
    from recipes.demo import image as demo_image

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
    from recipes.demo import audio as demo_audio

    folder = tmp_path_factory.mktemp("corpus")
    info = demo_audio.make_corpus(folder, n=100, seed=3)
    return folder, info


def _printing(main, argv):
    """``main(argv)`` and what it printed (still shown with ``pytest -s``)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        result = main(argv)
    sys.stdout.write(buf.getvalue())
    return result, buf.getvalue()


@pytest.fixture(scope="session")
def image_script_run(image_folder, clip_dir, tmp_path_factory):
    """recipes/image_curation.py on :func:`image_folder` with :data:`IMAGE_SCRIPT_ARGS`: (folder, metrics, printed)."""
    from recipes import image_curation

    out = tmp_path_factory.mktemp("image_script") / "curated"
    metrics, printed = _printing(image_curation.main, [
        "--data", str(image_folder[0]), "--clip-model", f"local-dir:{clip_dir}", *IMAGE_SCRIPT_ARGS, "--out", str(out)])
    return out, metrics, printed


@pytest.fixture(scope="session")
def audio_script_run(corpus, tmp_path_factory):
    """recipes/audio_curation.py on :func:`corpus`, pushing to a stand-in ``mmweak.push_curated`` that records
    its calls: (folder, metrics, printed, pushes)."""
    import mmweak
    from recipes import audio_curation

    out = tmp_path_factory.mktemp("audio_script") / "curated"
    pushed: list = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mmweak, "push_curated", lambda ds, repo, **kw: pushed.append((ds, repo, kw)) or "ok")
        metrics, printed = _printing(audio_curation.main, [
            "--data", str(corpus[0]), "--out", str(out), "--push-to-hub", "me/audio", "--private"])
    return out, metrics, printed, pushed


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
