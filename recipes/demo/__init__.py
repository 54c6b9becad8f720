"""The embedded default job, outside the engine: generated text, audio and image corpora with known truth,
curated offline end to end (``mmweak demo`` or ``python -m recipes.demo``).

Parts: :mod:`recipes.demo.text` (product reviews, rule LFs), :mod:`recipes.demo.audio` (espeak speech, tones,
noise), :mod:`recipes.demo.image` (scenes with known defects, heuristic and OCR LFs); :mod:`recipes.demo.main`
runs them in turn.
"""
