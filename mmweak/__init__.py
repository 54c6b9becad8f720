"""mmweak: multimodal weak supervision for Hugging Face ``datasets``.

The flow: labeling functions (:mod:`mmweak.lf`, ready-made ones in ``lf_library``) →
:func:`apply_lfs` (votes columns) → :func:`aggregate` (a label model per task writes probabilities,
labels, confidence) → :func:`analyze` → :func:`save_curated` (Hub-layout folder + card) →
:func:`load_curated` for training.

>>> import mmweak
>>> spam = mmweak.Task("spam", labels=["ham", "spam"])
>>> spam.cardinality
2
"""

from . import calibration, fingerprint, labelmodels, provenance, review, training
from ._version import __version__
from .aggregate import aggregate
from .analysis import LFSummary, analyze, lf_summary
from .apply import ApplyReport, apply_lfs
from .calibration import calibration_report
from .curated import load_curated, save_curated
from .errors import (
    CuratedDatasetError,
    LFError,
    MajorityFallbackWarning,
    MMWeakError,
    OneClassLabelsWarning,
    RecordError,
    VoteMatrixError,
)
from .hub import HubPushError, PushResult, push_curated
from .lf import ABSTAIN, FunctionLF, LabelingFunction, labeling_function
from .task import Task
from .training import SoftLabelCollator, noise_aware_loss

__all__ = [
    "ABSTAIN",
    "ApplyReport",
    "CuratedDatasetError",
    "FunctionLF",
    "HubPushError",
    "LFError",
    "LFSummary",
    "LabelingFunction",
    "MMWeakError",
    "MajorityFallbackWarning",
    "OneClassLabelsWarning",
    "PushResult",
    "RecordError",
    "Task",
    "VoteMatrixError",
    "__version__",
    "aggregate",
    "analyze",
    "apply_lfs",
    "labeling_function",
    "labelmodels",
    "lf_summary",
    "load_curated",
    "push_curated",
    "save_curated",
    "fingerprint",
    "provenance",
    "SoftLabelCollator",
    "calibration",
    "calibration_report",
    "noise_aware_loss",
    "review",
    "training",
]
