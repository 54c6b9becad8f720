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

# The local Hub-protocol server (tests/fakes/hub_server.py, stdlib only) gets its socket now, because
# huggingface_hub.constants (ENDPOINT, HF_HUB_DISABLE_XET, and the module-level HfApi built from them) and
# datasets.config (HF_ENDPOINT) read these variables once, when first imported: setting them in a fixture
# would be too late. The socket only listens once the `hub_server` fixture starts; until then a stray Hub call
# is refused locally. HF_TOKEN is read per call, but a fake one here means a developer's real token is never sent.
from fakes import hub_server as hubsrv  # noqa: E402  (module; `hub_server` below is the fixture)

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


@pytest.fixture(scope="session")
def label_studio():
    """One real Label Studio server (``tests/labelstudio_server.py``) for the whole session, stopped at the end."""
    import labelstudio_server as lss

    reason = lss.unavailable_reason()
    if reason:
        pytest.skip(reason)
    with lss.LabelStudioServer() as server:
        yield server


# Tests that take several seconds each (real models, whole recipes, fresh processes, every code point).
# `make test-fast` (pytest -m "not slow") leaves them out for a quick inner loop; CI runs everything.
SLOW_TESTS = {
    "test_any_unicode_names_render_parse_and_round_trip",
    "test_apply_lfs_votes_identical_across_paths",
    "test_audio_classification_pipeline_on_decoded_and_raw_audio",
    "test_cli_dispatches_demo",
    "test_default_beats_every_published_label_model_on_wrench",
    "test_default_numbers_on_wrench",
    "test_default_on_crowd_sets",
    "test_demo_audio_part_runs_and_is_hooked_into_mmweak_demo",
    "test_ebcc_and_default_on_random_matrices",
    "test_ebcc_reproduces_the_published_figures_without_copy_handling",
    "test_end_model_learns_soft_labels_without_text",
    "test_every_edit_misses_and_every_control_hits_across_fresh_processes",
    "test_library_lf_fingerprints_are_stable_across_processes",
    "test_many_classes_and_imbalance_stay_finite",
    "test_metal_is_near_snorkels_published_metal",
    "test_models_beat_random_weights_baseline",
    "test_png_bomb_batch_keeps_peak_memory_flat",
    "test_private_repo_needs_the_token",
    "test_push_to_a_branch_and_as_a_pull_request",
    "test_recipe_encodes_each_image_once_and_reruns_without_the_image_encoder",
    "test_recipe_end_to_end_accuracy_faults_folder_and_push",
    "test_recipe_end_to_end_on_wrench_votes_slice",
    "test_repush_replaces_data_and_merges_the_card",
    "test_sample_folder_curates_end_to_end_and_loads_back",
    "test_sentence_similarity_votes_by_meaning",
    "test_ten_clip_lfs_cost_the_image_encoder_passes_of_one",
    "test_vad_detects_espeak_speech_but_not_tones_or_noise",
    "test_vectorized_votes_equal_python_votes_on_real_and_hostile_text",
    "test_youtube_recipe_end_to_end_writes_curated_folder",
    "test_youtube_recipe_lfs_beat_published_majority_vote",
    "test_youtube_yaml_through_the_cli_matches_the_script",
    "test_mypy_is_clean",
    "test_image_yaml_through_the_cli_matches_the_script",
    "test_audio_yaml_through_the_cli_matches_the_script",
    "test_audio_yaml_as_shipped_generates_its_corpus",
    "test_multimodal_yaml_through_the_cli_matches_the_script",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if getattr(item, "originalname", item.name) in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)


# Media folders (and the multimodal script's run) shared by the recipe-script and YAML-recipe tests.
from media_fixtures import (  # noqa: E402,F401
    audio_script_run,
    clip_dir,
    corpus,
    image_folder,
    image_script_run,
    mm_curated,
)
