"""Where models run when the user does not say: the one device choice every model-backed LF shares.

>>> default_device() in ("cuda", "cpu")
True
"""

from __future__ import annotations

__all__ = ["default_device"]


def default_device() -> str:
    """``"cuda"`` when torch sees a GPU, else ``"cpu"`` (torch is imported only when this is called).

    Returns:
        The device name given to torch, transformers, sentence-transformers and open_clip.

    >>> default_device() in ("cuda", "cpu")
    True
    """
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
