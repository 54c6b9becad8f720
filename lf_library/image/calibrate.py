"""Threshold calibration on a labelled dev set, re-exported from :mod:`lf_library.calibrate` (its home).

>>> from lf_library.calibrate import calibrate_threshold as home
>>> calibrate_threshold is home
True
"""

from ..calibrate import (
    Calibration,
    calibrate_lf,
    calibrate_threshold,
    calibrated_copy,
    collect_scores,
    dev_scores,
    gold_labels,
)

__all__ = [
    "Calibration", "calibrate_lf", "calibrate_threshold", "calibrated_copy", "collect_scores", "dev_scores",
    "gold_labels",
]
