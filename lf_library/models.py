"""Pretrained models as weak labelers — the public names of :mod:`lf_library.pipelines` (transformers
pipelines), :mod:`lf_library.sentence` (sentence embeddings) and :mod:`lf_library.ocr` (RapidOCR),
re-exported here, where they have always been importable from.

* :class:`PipelineLF` — any ``transformers`` classification pipeline as an LF, for text, images or audio;
* :class:`SentenceEncoder`, :class:`SentenceSimilarityLF`, :class:`SeedNeighborsLF` — sentence-transformers
  embeddings, shared per batch and stored across runs;
* :class:`OcrEngine`, :class:`ContainsTextLF`, :class:`OcrTextLF` — "the image contains text", "the text
  in it matches".

>>> from lf_library.sentence import SentenceEncoder as home
>>> SentenceEncoder is home
True
"""

from lf_library.identity import model_identity
from lf_library.ocr import ContainsTextLF, OcrEngine, OcrTextLF
from lf_library.pipelines import PIPELINE_MODALITIES, PipelineLF, audio_input
from lf_library.sentence import SeedNeighborsLF, SentenceEncoder, SentenceSimilarityLF

__all__ = [
    "PIPELINE_MODALITIES", "ContainsTextLF", "OcrEngine", "OcrTextLF", "PipelineLF", "SeedNeighborsLF",
    "SentenceEncoder", "SentenceSimilarityLF", "audio_input", "model_identity",
]
