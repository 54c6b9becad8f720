"""Runnable curation recipes (importable so tests can reuse their LFs)."""
