"""The image, audio and multimodal recipes as YAML, run by `mmweak curate`: same LFs, labels and probabilities
as their scripts on the same data; the recipe hooks they need (post_aggregate steps, --set into lists and tasks).

The data are the session fixtures of tests/media_fixtures.py, which the script tests use too: the second
run of an LF on the same input reads the votes the first computed, so each pipeline is paid for once.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import datasets
import numpy as np
import pytest
import yaml
from paths import ROOT

import mmweak
from mmweak.cli import main
from mmweak.recipe import RecipeError, load_recipe, set_value

RECIPES = ROOT / "recipes"
sys.path.insert(0, str(ROOT))


def curate(recipe: str, out: Path, *assignments: str) -> int:
    sets = [x for a in (f"output.folder={out}", *assignments) for x in ("--set", a)]
    return main(["curate", str(RECIPES / recipe), *sets])


def card_block(folder: Path) -> dict:
    return yaml.safe_load((folder / "README.md").read_text(encoding="utf-8").split("---")[1])["weak_supervision"]


def assert_same_curation(ours: Path, theirs: Path, tasks: list[str]) -> dict:
    """Both folders have the same splits, LFs (names and code hashes), votes, labels and probabilities."""
    a, _ = mmweak.load_curated(ours)
    b, _ = mmweak.load_curated(theirs)
    assert list(a) == list(b)
    lfs = {t["name"]: t["lfs"] for t in card_block(ours)["tasks"]}
    assert lfs == {t["name"]: t["lfs"] for t in card_block(theirs)["tasks"]}
    assert sorted(lfs) == sorted(tasks)
    # the cards' tables (LF summaries with coverage, accuracies and faults; label-model quality) agree
    rows = [[line for line in (f / "README.md").read_text(encoding="utf-8").splitlines() if line.startswith("|")]
            for f in (ours, theirs)]
    assert rows[0] and rows[0] == rows[1]
    for split in a:
        for task in tasks:
            assert a[split][f"{task}_votes"] == b[split][f"{task}_votes"], (split, task)
            assert a[split][f"{task}_label"] == b[split][f"{task}_label"], (split, task)
            np.testing.assert_array_equal(np.asarray(a[split][f"{task}_probs"]), np.asarray(b[split][f"{task}_probs"]))
    return lfs


# -- image ------------------------------------------------------------------------------------------------
def test_image_yaml_through_the_cli_matches_the_script(image_folder, clip_dir, image_script_run, tmp_path, capsys):
    root, _ = image_folder
    script_out = image_script_run[0]  # recipes/image_curation.py with IMAGE_SCRIPT_ARGS, mirrored by the --set below
    capsys.readouterr()
    code = curate(
        "image_curation.yaml", tmp_path / "yaml", f"data.params.path={root}",
        "data.params.classes=[indoor, outdoor]", "tasks.category.labels=[indoor, outdoor]",
        f"lfs.0.params.clip.model=local-dir:{clip_dir}", "lfs.0.params.clip.pretrained=null",
        "lfs.0.params.caption_column=caption", "lfs.0.params.align_threshold=-2", "lfs.0.params.align_keep=2",
        "lfs.0.params.junk_threshold=2", "lfs.0.params.ocr_max_side=640", "apply.batch_size=16",
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "calibrated clip_zero_shot on 12 validation rows" in printed
    # the YAML's LFs are the script's: their votes come from the vote cache the script filled
    assert re.search(r"quality: 14 LFs on train — 14 cached, 0 computed", printed), printed
    lfs = assert_same_curation(tmp_path / "yaml", script_out, ["quality", "category"])
    assert [lf["name"] for lf in lfs["category"]] == ["clip_zero_shot", "clip_zero_shot_names"]
    assert {"near_duplicate", "watermark_text", "caption_alignment", "looks_like_junk_2"} <= {
        lf["name"] for lf in lfs["quality"]}
    back = datasets.load_dataset(str(tmp_path / "yaml"))
    assert back["train"].features["image"] == datasets.Image()  # decode_media ran before saving
    assert back["validation"].features["category_label"].names == ["indoor", "outdoor"]
    assert "image_curation.yaml" in (tmp_path / "yaml" / "README.md").read_text()
    # corrupt images are counted per LF, not fatal (the cards' fault columns agree)
    assert re.search(r"\d+ row faults? in \d+ LFs?", printed)


def test_image_yaml_classes_must_match_the_gold_column(image_folder, clip_dir, tmp_path, capsys):
    root, _ = image_folder
    code = main(["curate", str(RECIPES / "image_curation.yaml"), "--dry-run",
                 "--set", f"data.params.path={root}", "--set", "data.params.classes=null",
                 "--set", f"lfs.0.params.clip.model=local-dir:{clip_dir}", "--set", "lfs.0.params.clip.pretrained=null",
                 "--set", "lfs.0.params.ocr=false"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert re.search(r"image_curation\.yaml:\d+: lfs\[1\](\.task)?: task 'category' has classes \['cat', 'dog'\] but gold "
                     r"column 'label' has \['indoor', 'outdoor'\]", err), err


# -- audio ------------------------------------------------------------------------------------------------
def test_the_audio_yaml_command_for_your_own_clips_runs_on_a_plain_folder(tmp_path, capsys):
    # As its header wrote it, the command stopped at report.split: a plain folder has no test split.
    import shlex

    import soundfile as sf

    header = (RECIPES / "audio_curation.yaml").read_text().split("# Your own clips", 1)[1].split("\nversion:", 1)[0]
    command = " ".join(line.lstrip("#").strip().rstrip("\\") for line in header.splitlines()[1:])
    command = command.split("(", 1)[0].replace("DIR", str(tmp_path / "clips"))
    (tmp_path / "clips").mkdir()
    t = np.arange(8000) / 16000
    for i in range(3):
        sf.write(tmp_path / "clips" / f"{i}.wav", (0.3 * np.sin(2 * np.pi * 220 * (i + 1) * t)).astype(np.float32),
                 16000)
    args = shlex.split(command)
    assert args[:2] == ["mmweak", "curate"] and "report.split=train" in args
    assert main([*args[1:2], str(RECIPES / "audio_curation.yaml"), *args[3:], "--dry-run"]) == 0, capsys.readouterr()


def test_audio_yaml_through_the_cli_matches_the_script(corpus, audio_script_run, tmp_path, capsys):
    folder, _ = corpus
    script_out, metrics = audio_script_run[:2]
    capsys.readouterr()
    code = curate("audio_curation.yaml", tmp_path / "yaml", f"data.params.path={folder}", "data.params.generate=false")
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "content: 11 LFs on train — 11 cached, 0 computed" in printed
    assert_same_curation(tmp_path / "yaml", script_out, ["content", "quality"])
    acc = metrics["accuracy"]
    assert f"test accuracy {acc['quality']['test']['accuracy']:.4f}" in printed  # the CLI's own score line
    back = datasets.load_dataset(str(tmp_path / "yaml"))
    assert back["test"].features["audio"] == datasets.Audio()
    raw = back["test"].cast_column("audio", datasets.Audio(decode=False))[0]["audio"]
    assert raw["bytes"] and len(raw["bytes"]) > 100  # embedded: the folder does not point at the corpus


def test_audio_yaml_as_shipped_generates_its_corpus(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the shipped recipe writes out/audio_corpus under the working directory
    assert main(["curate", str(RECIPES / "audio_curation.yaml"), "--dry-run", "--set", "data.params.rows=24"]) == 0
    out = capsys.readouterr().out
    assert "generated 24 clips in out/audio_corpus" in out and "18 LFs for content, quality" in out
    assert (tmp_path / "out" / "audio_corpus" / "train" / "metadata.csv").is_file()
    assert not (tmp_path / "out" / "audio_curated").exists()  # a dry run saves nothing


# -- multimodal -------------------------------------------------------------------------------------------
def test_multimodal_yaml_through_the_cli_matches_the_script(mm_curated, tmp_path, capsys):
    root, info, result = mm_curated
    capsys.readouterr()
    code = curate("multimodal_curation.yaml", tmp_path / "yaml", f"data.params.path={root / 'sample'}",
                  "data.params.assemble=false", "lfs.0.params.target_precision=0.7")
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "audioset_classifier left out" in printed
    lfs = assert_same_curation(tmp_path / "yaml", root / "out", ["category", "quality"])
    assert len(lfs["category"]) == result["tables"]["category"][-1]["lfs"]
    back = datasets.load_dataset(str(tmp_path / "yaml"))
    assert {s: len(d) for s, d in back.items()} == info["rows"]
    assert isinstance(back["train"].features["image"], datasets.Image) and back["train"].features["image"].decode
    assert back["train"].features["audio"] == datasets.Audio()
    ours = (tmp_path / "yaml" / "README.md").read_text()
    theirs = (root / "out" / "README.md").read_text()
    assert "save it as `multimodal_curation.yaml`" in ours and "start with `${recipe_dir}`" not in ours  # none here
    # the post_aggregate step put the same per-modality tables in the card
    table = theirs[theirs.index("### Task `category`"):theirs.index("Missing or corrupt media")]
    assert "| all modalities combined |" in table and table in ours


def test_multimodal_sample_is_replaced_only_where_one_was_assembled(tmp_path):
    from recipes import multimodal_curation as mm

    mm.assemble_sample(tmp_path / "s", n=8, seed=1)
    with pytest.raises(FileExistsError, match="not empty"):
        mm.assemble_sample(tmp_path / "s", n=8, seed=1)
    again = mm.assemble_sample(tmp_path / "s", n=8, seed=1, overwrite=True)
    assert again["rows"] == {"train": 4, "validation": 2, "test": 2}
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "photo.png").write_bytes(b"x")
    with pytest.raises(FileExistsError, match="holds no sample assembled before"):
        mm.assemble_sample(tmp_path / "mine", n=8, overwrite=True)
    assert (tmp_path / "mine" / "photo.png").read_bytes() == b"x"


# -- the recipe hooks these YAMLs use -------------------------------------------------------------------------
def test_every_shipped_recipe_parses():
    for path in sorted(RECIPES.glob("*.yaml")):
        r = load_recipe(path)
        assert r.task_names and (r.raw["lfs"] or r.raw.get("annotators")), path
        assert set(r.tasks) | set(r.data_tasks) == set(r.task_names), path
        assert all(callable(fn) for fn, _, _ in r.post_steps())


def test_set_reaches_into_lists_and_rebuilds_tasks():
    r = load_recipe(RECIPES / "image_curation.yaml")
    set_value(r, "lfs.0.params.clip.model=local-dir:/m")
    set_value(r, "tasks.category.labels=[a, b, c]")
    # the anchor (&clip) shares one mapping between the two LF entries
    assert r.raw["lfs"][1]["params"]["clip"]["model"] == "local-dir:/m"
    assert r.tasks["category"].labels == ("a", "b", "c")
    with pytest.raises(RecipeError, match=r"lfs is a list of 2 items; '7' is not an index"):
        set_value(r, "lfs.7.params.x=1")
    with pytest.raises(RecipeError, match=r"'data.source' is neither a mapping nor a list"):
        set_value(r, "data.source.x=1")
    with pytest.raises(RecipeError, match=r"image_curation\.yaml:\d+: tasks\.category\.labels: labels must be a list"):
        set_value(r, "tasks.category.labels=oops")


def test_set_refuses_names_the_recipe_does_not_have():
    """A misspelt --set would add a key nothing reads, and the run would go on without the setting."""
    r = load_recipe(RECIPES / "wrench_votes.yaml")
    before = (r.raw, r.sha256)
    for assignment, message in [
        ("aggregate.objectiv=f1", r"--set aggregate\.objectiv: unknown key 'objectiv' \(did you mean 'objective'\?\)"),
        ("aggregat.objective=f1", r"--set aggregat\.objective: unknown section 'aggregat' \(did you mean 'aggregate'\?\)"),
        ("output.zzz=x", r"--set output\.zzz: unknown key 'zzz'; allowed: \['folder', "),
    ]:
        with pytest.raises(RecipeError, match=message):
            set_value(r, assignment)
    assert (r.raw, r.sha256, r.overrides) == (*before, [])  # nothing half-applied
    set_value(r, "aggregate.objective=f1")  # the spelt ones still go through, nested keys included
    set_value(r, "lfs.0.params.column=weak_labels")
    assert r.raw["aggregate"]["objective"] == "f1" and len(r.overrides) == 2


def test_a_task_nothing_votes_for_stops_before_any_work(tmp_path, capsys):
    """An old command naming the recipe's former task ('spam') declares a second task without LFs: it is refused at
    validation with the task's name, not after the LFs ran, on a votes column that was never written."""
    from mmweak.cli import main

    source = ROOT.parent / "shared" / "data" / "wrench" / "youtube"
    if not source.is_dir():
        pytest.skip(f"{source} is not here")
    code = main(["curate", str(RECIPES / "wrench_votes.yaml"), "--set", f"data.source={source}",
                 "--set", "tasks.spam.labels=[ham, spam]", "--dry-run"])
    assert code == 2
    assert re.search(r"wrench_votes\.yaml:\d+: tasks\.spam: no LF and no annotators vote for task 'spam' \(tasks with "
                     r"votes: \['target'\]\); give it LFs or remove it", capsys.readouterr().err)


POST_RECIPE = """\
version: 1
data: {{source: {source}}}
tasks:
  spam: {{labels: [ham, spam]}}
lfs:
  - {{lf: KeywordLF, name: sub, task: spam, label: spam, keywords: [subscribe]}}
post_aggregate:
  - ref: {ref}
    params: {params}
output: {{folder: {out}, overwrite: true}}
"""


def _post_recipe(tmp_path, ref, params="{}"):
    source = ROOT.parent / "shared" / "data" / "wrench" / "youtube"
    path = tmp_path / "r.yaml"
    path.write_text(POST_RECIPE.format(source=source, ref=ref, params=params, out=tmp_path / "out"))
    return path


def add_marker(dataset, *, tasks, lfs, value: int = 1):
    """A post_aggregate step for the test: a column naming what it was given."""
    names = f"{[t.name for t in tasks]} {[lf.name for lf in lfs]}"
    return datasets.DatasetDict({s: d.add_column("marker", [f"{value} {names}"] * len(d)) for s, d in dataset.items()})


def not_a_dataset(dataset):
    return len(dataset)


def test_post_aggregate_steps_run_before_saving_and_fail_with_the_place(tmp_path, capsys):
    recipe = _post_recipe(tmp_path, "test_cli_recipes_media:add_marker", "{value: 7}")
    assert main(["curate", str(recipe)]) == 0
    back = datasets.load_dataset(str(tmp_path / "out"))
    assert back["test"][0]["marker"] == "7 ['spam'] ['sub']"
    (tmp_path / "broken_step.py").write_text("raise RuntimeError('no GPU here')\n")
    for ref, params, message in [
        ("test_cli_recipes_media:no_such_step", "{}", r"r\.yaml:8: post_aggregate\[0\]\.ref: module .* has no attribute"),
        ("test_cli_recipes_media:add_marker", "{value: seven}",
         r"r\.yaml:9: post_aggregate\[0\]\.params\.value: bad parameter 'value': expected int, got 'seven'"),
        ("test_cli_recipes_media:add_marker", "{lfs: []}", r"r\.yaml:9: post_aggregate\[0\]\.params\.lfs: 'lfs' is "
                                                           r"given by mmweak"),
        ("test_cli_recipes_media:not_a_dataset", "{}", r"r\.yaml:8: post_aggregate\[0\]\.ref: .* returned 'int', not a "
                                                       r"DatasetDict"),
        # a module of the recipe's folder whose own code fails on import: one line too, not a traceback
        ("broken_step:step", "{}", r"r\.yaml:8: post_aggregate\[0\]\.ref: importing module 'broken_step' .*raised "
                                   r"RuntimeError: no GPU here \(--debug shows where\)"),
    ]:
        recipe = _post_recipe(tmp_path, ref, params)
        capsys.readouterr()
        assert main(["curate", str(recipe)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and re.search(message, err), err
