"""Running classifiers with ONNX Runtime: sessions, and torch modules exported once to ONNX for CPU.

On a CPU, ONNX Runtime runs small convolutional networks several times faster than eager PyTorch
(EfficientNet-Lite0 on 2 threads: 9 ms instead of 42 ms per image, 4-6x by the machine's load;
``benchmarks/onnx_speed.py``), so
:class:`lf_library.image.ImageClassifier` exports a torch module once (:func:`exported_onnx`, cached
under ``$MMWEAK_CACHE/onnx`` by the model's fingerprint) and runs the file. Outputs agree with torch to
float rounding (``tests/lfs/test_classifiers.py`` checks it).

>>> providers()[-1]
'CPUExecutionProvider'
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable

from mmweak.cache_store import store_root

__all__ = ["exported_onnx", "onnx_cache_dir", "providers", "session"]


def providers(device: str | None = None) -> list[str]:
    """ONNX Runtime execution providers for ``device`` (``"cuda"`` uses CUDA when this onnxruntime has it)."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    wanted = ["CUDAExecutionProvider"] if (device or "").startswith("cuda") else []
    return [p for p in wanted if p in available] + ["CPUExecutionProvider"]


def session(model: str | os.PathLike | bytes, *, device: str | None = None, threads: int | None = None) -> Any:
    """An ``onnxruntime.InferenceSession`` for a file or serialized model; ``threads`` intra-op threads.

    >>> import onnx, numpy as np
    >>> from onnx import helper, TensorProto
    >>> x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])
    >>> y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])
    >>> graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "relu", [x], [y])
    >>> model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    >>> session(model.SerializeToString(), threads=1).run(None, {"x": np.array([[-1.0, 2.0]], np.float32)})[0]
    array([[0., 2.]], dtype=float32)
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = int(threads)
        opts.inter_op_num_threads = 1
    # No busy-waiting threads between calls: the machine is shared with decoding and other LFs.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    source = model if isinstance(model, bytes) else os.fspath(model)
    return ort.InferenceSession(source, sess_options=opts, providers=providers(device))


def onnx_cache_dir() -> Path:
    """``$MMWEAK_CACHE/onnx`` (default ``~/.cache/mmweak/onnx``)."""
    return store_root("onnx")


def exported_onnx(fingerprint: str, build: Callable[[], Any], example: Any) -> Path:
    """The ONNX export of the torch module ``build()`` (input like ``example``, dynamic batch), made once.

    The file is named by ``fingerprint`` (the module's weights and settings), written to a temporary
    name and renamed, so concurrent workers never read a half-written file.

    >>> import numpy as np, torch
    >>> path = exported_onnx("doc-linear-2x3", lambda: torch.nn.Linear(2, 3), torch.zeros(1, 2))
    >>> path.name, session(path).run(None, {"input": np.zeros((4, 2), np.float32)})[0].shape
    ('doc-linear-2x3.onnx', (4, 3))
    """
    path = onnx_cache_dir() / f"{fingerprint}.onnx"
    if path.is_file():
        return path
    import warnings

    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    module = build().eval()
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".onnx", dir=path.parent)
    os.close(fd)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
            torch.onnx.export(module, example, tmp, input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, dynamo=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
