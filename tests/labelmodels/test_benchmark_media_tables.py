"""The real-media benchmarks' label-model table (benchmarks/media_common.py): every model, and with dev gold the
default once more without it, each scored over all rows with rows nobody voted on counted wrong."""

import numpy as np

from benchmarks import synthetic
from benchmarks.media_common import MODELS, model_table
from mmweak.labelmodels import create


def test_model_table_adds_the_default_without_gold_when_there_is_gold():
    L, y = synthetic.generate_keyword(3000, 8, 3, seed=4)
    L_dev, y_dev, L, y = L[:200], y[:200], L[200:], y[200:]
    rows = model_table(L, y, 3, L_dev=L_dev, y_dev=y_dev)
    assert [r["model"] for r in rows] == ["majority", "weighted_majority", "dawid_skene", "metal", "default (auto)",
                                          "default (auto), no gold"]
    covered = (L >= 0).any(axis=1)
    for row, dev in ((rows[-2], (L_dev, y_dev)), (rows[-1], (None, None))):
        pred = np.where(covered, create(cardinality=3).fit(L, L_dev=dev[0], y_dev=dev[1]).predict(L, seed=0), -1)
        assert row["accuracy"] == float((pred == y).mean())  # a row without votes counts as wrong
    assert [r["model"] for r in model_table(L, y, 3)] == [*MODELS[:-1], "default (auto)"]  # no gold: no extra row
