"""The promise every demo part ends with: the curated folder reads back with the features it was saved with."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from datasets import DatasetDict, load_dataset

from mmweak.curated import save_curated


def write_checked(ds: DatasetDict, out: str | Path, say: Callable[[str], None], what: str, detail: str,
                  **save_kwargs: Any) -> Path:
    """Save the curated folder (replacing it), read it back with ``load_dataset`` and insist the features match.

    Every demo part ends this way: the round trip is the promise the demo exists to show.
    """
    path = save_curated(ds, out, overwrite=True, **save_kwargs)
    back = load_dataset(str(path))
    same = all(back[s].features == ds[s].features for s in ds)
    say(f"\n{what} written to {path} ({detail}); "
        f"load_dataset reads it back with {'identical' if same else 'DIFFERENT'} features")
    if not same:
        raise RuntimeError(f"{what} folder does not round-trip its features")
    return path
