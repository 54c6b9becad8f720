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
for _p in (ROOT, ROOT / "tests"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

# The local Hub-protocol server (tests/hub_server.py, stdlib only) gets its socket now, because
# huggingface_hub.constants (ENDPOINT, HF_HUB_DISABLE_XET, and the module-level HfApi built from them) and
# datasets.config (HF_ENDPOINT) read these variables once, when first imported: setting them in a fixture
# would be too late. The socket only listens once the `hub_server` fixture starts; until then a stray Hub call
# is refused locally. HF_TOKEN is read per call, but a fake one here means a developer's real token is never sent.
import hub_server as hubsrv  # noqa: E402  (module; `hub_server` below is the fixture)

_HUB_SOCKET = hubsrv.bind_socket()
os.environ["HF_ENDPOINT"] = f"http://127.0.0.1:{_HUB_SOCKET.getsockname()[1]}"
os.environ["HF_TOKEN"] = hubsrv.DEFAULT_TOKEN
os.environ["HF_HUB_DISABLE_XET"] = "1"
os.environ.pop("HF_TOKEN_PATH", None)

import datasets  # noqa: E402
import pytest  # noqa: E402

datasets.disable_progress_bars()


@pytest.fixture(scope="session")
def hub_server():
    """The session's local Hub (``hub_server.HubServer``) behind ``HF_ENDPOINT``."""
    import huggingface_hub.constants

    if huggingface_hub.constants.ENDPOINT != os.environ["HF_ENDPOINT"]:
        pytest.fail("huggingface_hub was imported before tests/conftest.py set HF_ENDPOINT: "
                    f"it talks to {huggingface_hub.constants.ENDPOINT}")
    with hubsrv.HubServer(sock=_HUB_SOCKET) as server:
        yield server


@pytest.fixture
def hub(hub_server, monkeypatch, tmp_path):
    """The local Hub, online for this test only (the suite is offline), with no faults left over and no
    cached login (a developer's own HF_HOME token file is never read, nor written by a test)."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_TOKEN_PATH", str(tmp_path / "hf-login-token"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", False)
    hub_server.clear_faults()
    yield hub_server
    hub_server.clear_faults()


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


# Media folders (and the multimodal script's run) shared by the recipe-script and YAML-recipe tests.
from media_fixtures import (  # noqa: E402,F401
    audio_script_run, clip_dir, corpus, image_folder, image_script_run, mm_curated,
)
