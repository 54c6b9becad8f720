"""lf_library's layout: one home per job, old import paths re-exported, catalog entries importable, and
fingerprints that do not depend on the per-process caches of shared helpers."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import mmweak
import lf_library
from lf_library import calibrate, models, ocr, pipelines, sentence
from lf_library.image import calibrate as image_calibrate
from lf_library.image import clip, clip_model

TASK = mmweak.Task("animal", ["cat", "dog"])


def test_models_re_exports_the_three_families_from_their_homes():
    assert models.PipelineLF is pipelines.PipelineLF
    assert models.PIPELINE_MODALITIES is pipelines.PIPELINE_MODALITIES
    assert models.audio_input is pipelines.audio_input
    assert (models.SentenceEncoder, models.SentenceSimilarityLF, models.SeedNeighborsLF) == (
        sentence.SentenceEncoder, sentence.SentenceSimilarityLF, sentence.SeedNeighborsLF)
    assert (models.OcrEngine, models.ContainsTextLF, models.OcrTextLF) == (ocr.OcrEngine, ocr.ContainsTextLF, ocr.OcrTextLF)
    assert sorted(models.__all__) == sorted(
        ["PIPELINE_MODALITIES", "ContainsTextLF", "OcrEngine", "OcrTextLF", "PipelineLF", "SeedNeighborsLF",
         "SentenceEncoder", "SentenceSimilarityLF", "audio_input", "model_identity"])


def test_clip_and_calibration_old_paths_name_the_same_objects():
    assert clip.ClipModel is clip_model.ClipModel
    from lf_library.image import ClipModel, calibrate_threshold

    assert ClipModel is clip_model.ClipModel and calibrate_threshold is calibrate.calibrate_threshold
    for name in image_calibrate.__all__:
        assert getattr(image_calibrate, name) is getattr(calibrate, name)


def test_every_catalog_entry_imports():
    for short, ref in lf_library.CATALOG.items():
        module, attr = ref.split(":")
        assert getattr(importlib.import_module(module), attr).__name__ in (short, "UndecodableLF"), ref
    assert lf_library.CATALOG["PipelineLF"] == "lf_library.pipelines:PipelineLF"
    assert lf_library.CATALOG["ClipModel"] == "lf_library.image.clip_model:ClipModel"


def test_dev_scores_refuses_an_empty_dev_set_naming_the_lf():
    lf = clip.ClipZeroShotLF("pets", task=TASK, clip=clip_model.ClipModel("ViT-B-32", "random", device="cpu"))
    with pytest.raises(ValueError, match="LF 'pets': the dev set has no rows to calibrate on"):
        calibrate.dev_scores(lf, {"image": [], "label": []})


def test_calibrate_lf_sets_the_named_threshold_and_keeps_the_original():
    class Scored:
        name, inputs, cut = "scored", ("x",), 0.0

        def scores(self, batch):
            x = np.asarray(batch["x"], float)
            return {"pred": np.where(x > 0.1, 1, -1), "margin": x}

    dev = {"x": [0.9, 0.7, 0.5, 0.05], "label": [1, 1, 0, 1]}
    lf = Scored()
    new = calibrate.calibrate_lf(lf, "cut", dev, score="margin", target_precision=1.0, batch_size=3)
    assert new.cut == pytest.approx(0.6) and lf.cut == 0.0
    assert (new.calibration.votes, new.calibration.rows, new.calibration.met) == (2, 4, True)


def test_lf_fingerprint_does_not_depend_on_the_weights_digest_cache(tmp_path):
    # files_digest remembers digests per process; an LF whose code reaches it must keep its fingerprint
    # (and so its cached votes) however many files were hashed before.
    from lf_library.identity import files_digest

    lf = clip.ClipZeroShotLF("pets", task=TASK, clip=clip_model.ClipModel("ViT-B-32", "random", device="cpu"))
    before = lf.fingerprint()
    for i in range(3):
        (tmp_path / f"w{i}.bin").write_bytes(bytes([i]) * 10)
        files_digest(tmp_path / f"w{i}.bin")
    assert lf.fingerprint() == before
