"""Test set-up: offline, and every cache (HF, mmweak) in a throwaway folder."""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

_TMP = tempfile.mkdtemp(prefix="mmweak-tests-")
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
os.environ.setdefault("HF_HOME", os.path.join(_TMP, "hf"))
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["MMWEAK_CACHE"] = os.path.join(_TMP, "mmweak")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import datasets  # noqa: E402
import pytest  # noqa: E402

datasets.disable_progress_bars()


@pytest.fixture
def spam():
    import mmweak

    return mmweak.Task("spam", labels=["ham", "spam"])


@pytest.fixture
def texts():
    return datasets.Dataset.from_dict({
        "text": ["check out my channel http://x.y", "great song", "subscribe please", "love it",
                 "free money at www.win.com", "nice", "plz subscribe to my channel", "best video ever"],
        "label": [1, 0, 1, 0, 1, 0, 1, 0],
    })
