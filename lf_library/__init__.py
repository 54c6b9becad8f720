"""Ready-made labeling functions for mmweak, by modality: :mod:`lf_library.text`, :mod:`lf_library.image`,
:mod:`lf_library.audio`, and pretrained-model LFs: transformers pipelines (:mod:`lf_library.pipelines`),
sentence embeddings (:mod:`lf_library.sentence`), OCR (:mod:`lf_library.ocr`) — all three re-exported by
:mod:`lf_library.models` — and classifiers (:mod:`lf_library.classifier`); votes computed elsewhere (WRENCH's
``weak_labels``) are read as LFs by :mod:`lf_library.precomputed`.

:data:`CATALOG` names what a recipe (``mmweak curate recipe.yaml``) may build by short name; each entry is a
``module:attribute`` string, imported only when a recipe asks for it.

>>> CATALOG["KeywordLF"]
'lf_library.text:KeywordLF'
"""

_MODULES = {
    "lf_library.text": ["KeywordLF", "RegexLF", "LookupLF", "LengthLF"],
    "lf_library.pipelines": ["PipelineLF"],
    "lf_library.sentence": ["SentenceEncoder", "SentenceSimilarityLF", "SeedNeighborsLF"],
    "lf_library.ocr": ["OcrEngine", "ContainsTextLF", "OcrTextLF"],
    "lf_library.image.heuristics": ["ImageStatLF", "ResolutionLF", "AspectRatioLF", "BrightnessLF", "ContrastLF",
                                    "BlurLF", "ImageRangesLF", "UndecodableLF"],
    "lf_library.image.clip_model": ["ClipModel"],
    "lf_library.image.clip": ["ClipZeroShotLF", "ClipAlignmentLF"],
    "lf_library.image.dedup": ["NearDuplicateLF"],
    "lf_library.image.classifier": ["ImageClassifier", "ImageClassifierLF"],
    "lf_library.image.imagenet": ["efficientnet_lite0"],
    "lf_library.audio.heuristics": ["DurationLF", "LoudnessLF", "ClippingLF", "SilenceRatioLF", "SNRLF",
                                    "ZeroCrossingRateLF", "SpectralCentroidLF", "SpectralFlatnessLF",
                                    "SpectralRolloffLF", "PitchLF", "VoicedRatioLF", "FeatureRangesLF"],
    "lf_library.audio.vad": ["SileroVADLF"],
    "lf_library.audio.yamnet": ["Yamnet"],
    "lf_library.audio.classifier": ["AudioClassifierLF"],
    "lf_library.audio.presets": ["content_lfs", "quality_lfs"],
    "lf_library.precomputed": ["VoteColumnLF", "precomputed_lfs"],
}
#: Short name -> "module:attribute" of everything a recipe can build by name.
CATALOG = {name: f"{module}:{name}" for module, names in _MODULES.items() for name in names}
CATALOG["AudioUndecodableLF"] = "lf_library.audio.heuristics:UndecodableLF"
CATALOG["ImageUndecodableLF"] = CATALOG.pop("UndecodableLF")

__all__ = ["CATALOG"]
