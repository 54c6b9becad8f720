"""OCR as a weak labeler (RapidOCR): "the image contains text", "the text in it matches".

* :class:`OcrEngine` — RapidOCR (PP-OCR detection + recognition on ONNX Runtime; its weights ship
  inside ``rapidocr-onnxruntime``), tuned for speed and loaded once per worker process;
* :class:`ContainsTextLF` — votes when OCR finds enough confident characters in the image;
* :class:`OcrTextLF` — votes when the text read matches a regex or keywords (watermarks, captions, ads).

The OCR runs once per image and batch, whatever the number of OCR LFs on the column.

>>> import mmweak
>>> q = mmweak.Task("quality", ["keep", "drop"])
>>> OcrTextLF("ad", task=q, label="drop", keywords=["sale"]).matches("Big SALE today")
True
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from lf_library.image.decode import ImageLF
from lf_library.labels import resolve_label
from lf_library.media import OnDecodeError, shared_resource
from lf_library.text.patterns import keyword_regex
from mmweak.batch_memo import memo
from mmweak.fingerprint import stable_hash
from mmweak.lf import ABSTAIN, Batch
from mmweak.task import Task

__all__ = ["ContainsTextLF", "OcrEngine", "OcrTextLF"]


class OcrEngine:
    """RapidOCR (PP-OCR det + rec, ONNX Runtime) with settings tuned for speed, loaded once per process.

    Args:
        max_side: images are scaled so their long side is at most this for text detection
            (RapidOCR's default upscales small images, which costs ~10x on thumbnails).
        use_angle_cls: run the 180-degree text-direction classifier (slower; upside-down text).
        params: further ``RapidOCR(**params)`` settings (``text_score``, ``det_box_thresh``...).

    >>> OcrEngine(max_side=640).settings()
    {'det_limit_type': 'max', 'det_limit_side_len': 640, 'use_cls': False}
    """

    def __init__(
        self, *, max_side: int = 960, use_angle_cls: bool = False, params: Mapping[str, Any] | None = None
    ) -> None:
        self.max_side = int(max_side)
        self.use_angle_cls = bool(use_angle_cls)
        self.params = dict(params or {})

    def settings(self) -> dict[str, Any]:
        """The keyword arguments given to ``RapidOCR``."""
        return {
            "det_limit_type": "max",
            "det_limit_side_len": self.max_side,
            "use_cls": self.use_angle_cls,
            **self.params,
        }

    def fingerprint(self) -> str:
        """Hash of the settings and the installed OCR package version (its weights ship with it)."""
        from importlib.metadata import PackageNotFoundError, version

        try:
            pkg = version("rapidocr-onnxruntime")
        except PackageNotFoundError:
            pkg = None
        return stable_hash("rapidocr", pkg, self.settings())

    def load(self) -> Any:
        """The ``RapidOCR`` engine (once per process)."""

        def build() -> Any:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:
                raise ImportError("OCR LFs need 'rapidocr-onnxruntime' (pip install mmweak[image])") from exc
            return RapidOCR(**self.settings())

        return shared_resource(("rapidocr", self.fingerprint()), build)

    def read(self, images: Sequence[Any]) -> list[list[tuple[str, float]]]:
        """``(text, confidence)`` of every text line found, per PIL image."""
        engine = self.load()
        out = []
        for img in images:
            result, _ = engine(img if img.mode == "RGB" else img.convert("RGB"))
            out.append([(str(r[1]), float(r[2])) for r in (result or [])])
        return out


class _OcrLF(ImageLF):
    """Shared by OCR LFs: the engine, and one OCR run per image and batch whatever the number of OCR LFs."""

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        label: int | str,
        otherwise: int | str | None,
        column: str,
        engine: OcrEngine | None,
        min_confidence: float,
        on_decode_error: OnDecodeError,
        version: str,
    ) -> None:
        super().__init__(name, task=task, column=column, on_decode_error=on_decode_error, version=version)
        self.engine = engine or OcrEngine()
        self.label = resolve_label(task, label, lf=name)
        self.otherwise = ABSTAIN if otherwise is None else resolve_label(task, otherwise, lf=name)
        self.min_confidence = float(min_confidence)

    def texts(self, items: list[Any]) -> list[str]:
        """The confident text lines of each decoded image, joined with newlines (shared per batch)."""
        # ``items`` are the rows that decoded, the same for every image LF on the column.
        lines = memo(
            ("ocr", self.column, self.decode_key(), self.engine.fingerprint()), lambda: self.engine.read(items)
        )
        return ["\n".join(t for t, c in found if c >= self.min_confidence) for found in lines]

    def label_decoded(self, items: list[Any], batch: Batch, positions: list[int]) -> list[int]:
        return [self.label if self.matches(t) else self.otherwise for t in self.texts(items)]

    def matches(self, text: str) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        return {
            **super().config(),
            "engine": self.engine.fingerprint(),
            "label": self.label,
            "otherwise": self.otherwise,
            "min_confidence": self.min_confidence,
        }


class ContainsTextLF(_OcrLF):
    """Votes ``label`` when OCR finds at least ``min_chars`` confident non-space characters in the image.

    >>> import mmweak
    >>> q = mmweak.Task("quality", ["keep", "drop"])
    >>> ContainsTextLF("has_text", task=q, label="drop", min_chars=4).matches("ab  cd")
    True
    """

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        label: int | str,
        otherwise: int | str | None = None,
        column: str = "image",
        min_chars: int = 3,
        min_confidence: float = 0.6,
        engine: OcrEngine | None = None,
        on_decode_error: OnDecodeError = "abstain",
        version: str = "1",
    ) -> None:
        super().__init__(
            name,
            task=task,
            label=label,
            otherwise=otherwise,
            column=column,
            engine=engine,
            min_confidence=min_confidence,
            on_decode_error=on_decode_error,
            version=version,
        )
        self.min_chars = int(min_chars)

    def matches(self, text: str) -> bool:
        return sum(not ch.isspace() for ch in text) >= self.min_chars

    def config(self) -> dict[str, Any]:
        return {**super().config(), "min_chars": self.min_chars}


class OcrTextLF(_OcrLF):
    """Votes ``label`` when the text read in the image matches ``pattern`` (a regex) or any of ``keywords``.

    Keywords match as in :class:`lf_library.text.KeywordLF` (whole words, any case); OCR often drops
    spaces, so ``"stock photo"`` also matches ``"stockphoto"``. Watermarks, burned-in captions, ads.

    >>> import mmweak
    >>> q = mmweak.Task("quality", ["keep", "drop"])
    >>> lf = OcrTextLF("watermark", task=q, label="drop", keywords=["shutterstock", "stock photo"])
    >>> lf.matches("(c) STOCKPHOTO 2021"), lf.matches("holiday 2021")
    (True, False)
    """

    def __init__(
        self,
        name: str,
        *,
        task: Task,
        label: int | str,
        pattern: str | None = None,
        keywords: Sequence[str] | None = None,
        otherwise: int | str | None = None,
        column: str = "image",
        case_sensitive: bool = False,
        min_confidence: float = 0.6,
        engine: OcrEngine | None = None,
        on_decode_error: OnDecodeError = "abstain",
        version: str = "1",
    ) -> None:
        super().__init__(
            name,
            task=task,
            label=label,
            otherwise=otherwise,
            column=column,
            engine=engine,
            min_confidence=min_confidence,
            on_decode_error=on_decode_error,
            version=version,
        )
        if (pattern is None) == (not keywords):
            raise ValueError(f"LF {name!r}: give exactly one of pattern= and keywords=")
        self.pattern = pattern
        self.keywords = sorted({" ".join(str(k).split()) for k in keywords or []})
        self.case_sensitive = bool(case_sensitive)
        flags = 0 if case_sensitive else re.IGNORECASE
        if pattern is not None:
            try:
                self._regex = re.compile(pattern, flags)
            except re.error as exc:
                raise ValueError(f"LF {name!r}: bad regular expression {pattern!r}: {exc}") from None
        else:
            spaced = self.keywords + [k.replace(" ", "") for k in self.keywords if " " in k]
            self._regex = keyword_regex(spaced, whole_word=True, case_sensitive=self.case_sensitive)

    def matches(self, text: str) -> bool:
        return self._regex.search(text) is not None

    def config(self) -> dict[str, Any]:
        return {
            **super().config(),
            "pattern": self.pattern,
            "keywords": self.keywords,
            "case_sensitive": self.case_sensitive,
        }
