import copy
import os

import datasets
import numpy as np
import pytest
import yaml
from datasets import ClassLabel, Dataset, DatasetDict, List, Value

import mmweak
from mmweak import CuratedDatasetError, labeling_function


@pytest.fixture
def curated(texts, spam, tmp_path):
    texts = texts.cast_column("label", ClassLabel(names=["ham", "spam"]))
    dd = DatasetDict({"train": texts, "validation": texts.select(range(4)), "test": texts.select(range(4, 8))})

    @labeling_function(task=spam, inputs="text")
    def link(batch):
        return [1 if ("http" in t or "www" in t) else -1 for t in batch["text"]]

    @labeling_function(task=spam, inputs="text")
    def subscribe(batch):
        return [1 if "subscribe" in t else -1 for t in batch["text"]]

    @labeling_function(task=spam, inputs="text")
    def praise(batch):
        return [0 if any(w in t for w in ("great", "love", "nice", "best")) else -1 for t in batch["text"]]

    dd = mmweak.apply_lfs(dd, [link, subscribe, praise], cache_dir=tmp_path / "cache")
    return mmweak.aggregate(dd, [spam], gold="label", seed=3)


def test_aggregate_columns_and_types(curated, spam):
    f = curated["train"].features
    assert f["spam_probs"] == List(Value("float32"), length=2)
    assert f["spam_label"] == ClassLabel(names=["ham", "spam"])
    assert f["spam_confidence"] == Value("float32")
    probs = np.array(curated["test"]["spam_probs"])
    assert np.isfinite(probs).all() and np.allclose(probs.sum(1), 1, atol=1e-6)
    assert curated["train"]["spam_label"] == [1, 0, 1, 0, 1, 0, 1, 0]
    np.testing.assert_allclose(curated["train"]["spam_confidence"], probs_max(curated["train"]), rtol=1e-6)


def probs_max(ds):
    return np.array(ds["spam_probs"]).max(1)


def test_aggregate_without_any_vote_abstains(spam, tmp_path):
    ds = Dataset.from_dict({"text": ["a", "b", "c"]})
    lf = labeling_function(task=spam, inputs="text", name="picky")(lambda b: [1 if t == "a" else -1 for t in b["text"]])
    out = mmweak.aggregate(mmweak.apply_lfs(ds, [lf], cache_dir=tmp_path), model="majority")
    assert out["spam_label"] == [1, -1, -1]


def test_aggregate_model_choices(curated, spam):
    by_name = mmweak.aggregate(curated, [spam], model="majority")
    template = mmweak.labelmodels.create("majority", cardinality=2)
    by_template = mmweak.aggregate(curated, ["spam"], model=template)
    assert by_name["test"]["spam_probs"] == by_template["test"]["spam_probs"]
    assert not hasattr(template, "n_lfs_")  # the template itself is never fitted
    with pytest.raises(ValueError, match="cardinality 3"):
        mmweak.aggregate(curated, [spam], model=mmweak.labelmodels.create("majority", cardinality=3))
    with pytest.raises(ValueError, match="unknown task"):
        mmweak.aggregate(curated, ["topic"])
    with pytest.raises(ValueError, match="no 'music_votes' column"):
        mmweak.aggregate(curated, [mmweak.Task("music", ["a", "b"])])


def test_analysis_rows(curated, spam):
    s = mmweak.analyze(curated, spam, split="train")
    rows = {r["lf"]: r for r in s.rows}
    assert rows["link"]["coverage"] == pytest.approx(2 / 8) and rows["link"]["polarity"] == [1]
    assert rows["subscribe"]["overlaps"] == pytest.approx(0 / 8)
    assert rows["praise"]["empirical_accuracy"] == 1.0 and rows["praise"]["correct"] == 4
    assert "estimated_accuracy" in rows["link"]
    assert s.labels["accuracy"] == 1.0 and s.label_model == "auto"
    assert "link" in str(s) and s.to_pandas().loc["praise", "coverage"] == pytest.approx(0.5)
    # a misspelt gold column or split is an error, not a summary without accuracies (or a KeyError)
    with pytest.raises(ValueError, match=r"gold column 'lable' is not in split 'train'; its columns: \['text', "):
        mmweak.analyze(curated, spam, split="train", gold="lable")
    with pytest.raises(ValueError, match=r"unknown split 'tran'; the dataset has \['train', 'validation', 'test'\]"):
        mmweak.analyze(curated, spam, split="tran")


def test_the_printed_summary_names_classes_and_keeps_its_columns_aligned():
    # polarity printed as indices read "[1, 2]" for classes "2" and "3"; a 4-class polarity shifted its row
    stars = mmweak.Task("stars", ["1", "2", "3", "4", "5"])
    every = mmweak.labeling_function(task=stars, inputs="n", name="every")(lambda b: [n % 5 for n in b["n"]])
    high = mmweak.labeling_function(task=stars, inputs="n", name="high")(lambda b: [4 if n % 2 else -1 for n in b["n"]])
    ds = mmweak.aggregate(mmweak.apply_lfs(datasets.Dataset.from_dict({"n": list(range(20))}), [every, high]),
                          model="majority")
    s = mmweak.analyze(ds, stars)
    lines = str(s).splitlines()
    assert lines[2].split()[:2] == ["every", "1,2,3,4,5"] and lines[3].split()[:2] == ["high", "5"]
    ends = {len(line) for line in lines[1:4]}
    assert len(ends) == 1, lines  # every row as wide as the header
    assert [r["polarity"] for r in s.rows] == [[0, 1, 2, 3, 4], [4]]  # the data keeps class indices


def test_lf_summary_conflicts():
    rows = mmweak.lf_summary([[0, 1, -1], [0, 0, -1], [1, -1, -1], [-1, -1, 1]], 2, names=["a", "b", "c"])
    assert [r["overlaps"] for r in rows] == [0.5, 0.5, 0.0]
    assert [r["conflicts"] for r in rows] == [0.25, 0.25, 0.0]
    assert [r["coverage"] for r in rows] == [0.75, 0.5, 0.25]


def test_save_and_load_dataset_round_trip(curated, tmp_path):
    out = mmweak.save_curated(curated, tmp_path / "curated")
    assert sorted(os.listdir(out / "data")) == [
        "test-00000-of-00001.parquet", "train-00000-of-00001.parquet", "validation-00000-of-00001.parquet"]
    back = datasets.load_dataset(str(out))
    assert set(back) == {"train", "validation", "test"}
    for split in curated:
        assert back[split].features == curated[split].features
        assert back[split]["spam_probs"] == curated[split]["spam_probs"]
        assert back[split]["spam_label"] == curated[split]["spam_label"]
    ds2, tasks = mmweak.load_curated(out)
    assert tasks == [mmweak.Task("spam", ["ham", "spam"])]
    # the record survives: the reloaded dataset re-saves with the same LF inventory
    again = mmweak.save_curated(ds2, tmp_path / "again")
    meta = yaml.safe_load((again / "README.md").read_text().split("---")[1])
    assert [lf["name"] for lf in meta["weak_supervision"]["tasks"][0]["lfs"]] == ["link", "subscribe", "praise"]
    model = mmweak.labelmodels.load(str(out / "label_models" / "spam.json"))
    L = np.array(curated["test"]["spam_votes"])
    np.testing.assert_allclose(model.predict_proba(L), np.array(curated["test"]["spam_probs"]), rtol=1e-6)


def test_a_damaged_shard_is_named_as_such_not_shown_as_a_traceback(curated, tmp_path):
    """A curated folder copied in part (a shard cut short): every command that read its rows ended in ~140 lines of
    datasets' DatasetGenerationError."""
    from mmweak.cli import main

    folder = mmweak.save_curated(curated, tmp_path / "out")
    shard = next((folder / "data").glob("train-*.parquet"))
    shard.write_bytes(shard.read_bytes()[:300])
    with pytest.raises(CuratedDatasetError, match=r"the data files of the curated folder .* cannot be read "
                                                  r"\(ArrowInvalid: .*\): a shard is damaged or partly copied"):
        mmweak.load_curated(folder)
    assert main(["gaps", str(folder)]) == 1


def test_card_contents(curated, tmp_path):
    out = mmweak.save_curated(curated, tmp_path / "curated", pretty_name="Spam test", license="cc-by-4.0")
    text = (out / "README.md").read_text()
    meta = yaml.safe_load(text.split("---")[1])
    assert meta["annotations_creators"] == ["machine-generated"]
    assert meta["license"] == "cc-by-4.0" and meta["size_categories"] == ["n<1K"]
    assert {"split": "test", "path": "data/test-*"} in meta["configs"][0]["data_files"]
    assert {f["name"] for f in meta["dataset_info"]["features"]} >= {"spam_votes", "spam_probs", "spam_label"}
    ws = meta["weak_supervision"]["tasks"][0]
    assert ws["labels"] == ["ham", "spam"] and ws["label_model"]["model"] == "auto"
    assert ws["label_model"]["fit"]["seed"] == 3 and ws["label_model"]["fit"]["dev_split"] == "validation"
    assert [lf["modality"] for lf in ws["lfs"]] == ["text"] * 3 and all(len(lf["code_hash"]) == 12 for lf in ws["lfs"])
    assert meta["task_categories"] == ["text-classification"]  # from the LFs' modality, none given
    assert ws["quality"]["splits"]["test"]["f1"] == [1.0, 1.0]  # per class, next to macro_f1
    body = text.split("---", 2)[2]
    assert "# Spam test" in body
    assert "| 0 | `link` | text | `text` | `" in body  # LF inventory row
    assert "Label quality against gold" in body and "| test | 4 | 1.000 |" in body
    assert "datasets==" in body and "mmweak.load_curated" in body
    assert "estimated prior" in body


def test_card_names_a_member_passed_over_for_labels_settled_on_one_class(curated):
    record = copy.deepcopy(mmweak.provenance.read_record(curated))
    lm = record["tasks"]["spam"]["label_model"]
    assert lm["model"] == "auto" and lm["state"]["passed_over_"] == ""  # nothing passed over on this fit
    assert "passing over" not in mmweak.card.selection_line("spam", lm)
    lm["state"]["passed_over_"] = "one_coin"  # as a fit that passed over one-coin's labels records it
    body = str(mmweak.card.render_card(dict(curated), record, data_files={}, model_files={}))
    assert "The held-out votes ranked `one_coin` first, but the labels put (nearly) every row in one class" in body
    assert mmweak.card.selection_line("spam", lm).endswith(", passing over one_coin: its labels settled on one class")
    lm["state"]["passed_over_"] = "one_coin,ebcc"  # each passed over in turn
    body = str(mmweak.card.render_card(dict(curated), record, data_files={}, model_files={}))
    assert "The held-out votes ranked `one_coin`, `ebcc` first, but the labels put" in body


def test_card_says_which_member_the_default_chose_and_why(curated, spam, tmp_path):
    model = mmweak.labelmodels.load(str(mmweak.save_curated(curated, tmp_path / "a") / "label_models" / "spam.json"))
    text = (tmp_path / "a" / "README.md").read_text()
    body, meta = text.split("---", 2)[2], yaml.safe_load(text.split("---")[1])
    chosen = model.selected_.split("+")[0]
    gains = sorted(model.cv_scores_.items(), key=lambda kv: -kv[1][0])
    assert model.selection_by_ == "heldout"  # 4 gold dev rows are too few for the dev score
    lead = "majority vote" if chosen == "majority" else f"`{chosen}`"
    assert model.selection_repeats_ > 1  # a tiny matrix: the k-fold is repeated on fresh splits
    assert f"The default chose {lead}" in body
    assert f"without gold (log-likelihood per row, in nats, averaged over {model.selection_repeats_} k-fold splits)" in body
    assert "minus 0.5 standard errors" in body
    rows = [line for line in body.splitlines() if line.startswith("| `") and line.count("|") == 4]
    assert [r.split("`")[1] for r in rows] == [name for name, _ in gains]
    assert rows[0].endswith(f"| {gains[0][1][0]:+.4f} | {gains[0][1][1]:.4f} |")
    sel = meta["weak_supervision"]["tasks"][0]["label_model"]["selection"]
    assert sel["chosen"] == chosen and sel["by"] == "heldout" and sel["z"] == 0.5
    assert sel["repeats"] == model.selection_repeats_
    assert [g["member"] for g in sel["gains"]] == [name for name, _ in gains]
    # Dev scoring with enough gold rows, and no such section for a model that is not the default.
    dd = DatasetDict({"train": curated["train"], "validation": datasets.concatenate_datasets([curated["train"]] * 5)})
    by_dev = mmweak.aggregate(dd, [spam], gold="label", seed=3)
    body = (mmweak.save_curated(by_dev, tmp_path / "b") / "README.md").read_text()
    assert "on gold dev rows held out from its fit" in body
    assert "no member could be scored" not in body
    unipolar = mmweak.aggregate(curated["train"].remove_columns(["spam_probs", "spam_label", "spam_confidence"]), [spam])
    body = (mmweak.save_curated(unipolar, tmp_path / "u") / "README.md").read_text()
    assert "Here no member could be scored" in body and "| `ebcc` | +0.0000 | 0.0000 |" in body
    plain = mmweak.aggregate(curated, [spam], model="dawid_skene")
    body = (mmweak.save_curated(plain, tmp_path / "c") / "README.md").read_text()
    assert "The default chose" not in body and "gain over majority vote" not in body


def test_save_is_atomic_and_refuses_to_clobber(curated, tmp_path, monkeypatch):
    target = tmp_path / "curated"
    mmweak.save_curated(curated, target)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        mmweak.save_curated(curated, target)
    before = sorted(p.relative_to(target) for p in target.rglob("*"))

    import mmweak.curated as cur

    def explode(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(cur, "render_card_from", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        mmweak.save_curated(curated, target, overwrite=True)
    assert sorted(p.relative_to(target) for p in target.rglob("*")) == before  # old folder untouched
    with pytest.raises(RuntimeError):
        mmweak.save_curated(curated, tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp leftovers
    monkeypatch.undo()
    import mmweak.folder_publish as pub

    real_replace, calls = pub.os.replace, []

    def second_rename_fails(src, dst):  # the old folder is moved aside, then the new one cannot take its place
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("device busy")
        return real_replace(src, dst)

    monkeypatch.setattr(pub, "_exchange", lambda a, b: False)  # a system without an atomic exchange
    monkeypatch.setattr(pub.os, "replace", second_rename_fails)
    with pytest.raises(OSError, match="device busy"):
        mmweak.save_curated(curated, target, overwrite=True)
    assert sorted(p.relative_to(target) for p in target.rglob("*")) == before  # put back, not left in a hidden folder
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_save_requires_weak_supervision(texts, tmp_path):
    with pytest.raises(CuratedDatasetError, match="apply_lfs"):
        mmweak.save_curated(texts, tmp_path / "x")
    (tmp_path / "plain").mkdir()
    with pytest.raises(CuratedDatasetError, match="no README.md"):
        mmweak.load_curated(tmp_path / "plain")
    (tmp_path / "file.txt").write_text("x")
    for missing in (tmp_path / "nowhere", tmp_path / "file.txt", "./out/curated"):  # not HFValidationError
        with pytest.raises(CuratedDatasetError, match=r"no curated folder at .* \(and it is no Hub repo id"):
            mmweak.load_curated(missing)


def test_user_description_kept_out_of_record(curated, tmp_path):
    ds = curated["train"]
    assert "mmweak:weak_supervision" in ds.info.description
    assert mmweak.provenance.user_description(ds) == ""


def test_write_repo_folder_writes_plots_and_card_shows_them(curated, tmp_path):
    from mmweak.curated import write_repo_folder

    folder = tmp_path / "repo"
    folder.mkdir()
    written = write_repo_folder(curated, folder)
    plots = sorted(p for p in written if p.startswith("plots/"))
    assert plots == ["plots/spam_class_balance.png", "plots/spam_lfs.png", "plots/spam_reliability.png"]
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == sorted(written)
    for p in plots:
        assert (folder / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    body = (folder / "README.md").read_text().split("---", 2)[2]
    for p in plots:
        assert f"]({p})" in body  # relative links: render in the folder and on the Hub
    # same data, same bytes: a re-curation does not churn the plots
    again = tmp_path / "again"
    again.mkdir()
    write_repo_folder(curated, again)
    assert all((folder / p).read_bytes() == (again / p).read_bytes() for p in plots)
    # without plots nothing is linked
    bare = tmp_path / "bare"
    bare.mkdir()
    assert not any(p.startswith("plots/") for p in write_repo_folder(curated, bare, plots=False))
    assert "plots/" not in (bare / "README.md").read_text()


def test_card_calibration_matches_the_data(curated, tmp_path):
    from mmweak.calibration import calibration_report

    out = mmweak.save_curated(curated, tmp_path / "curated")
    text = (out / "README.md").read_text()
    meta = yaml.safe_load(text.split("---")[1])
    quality = meta["weak_supervision"]["tasks"][0]["quality"]
    assert "equal-width" in quality["calibration"] and "equal-mass" in quality["calibration"]
    assert set(quality["splits"]) == {"train", "validation", "test"}
    assert quality["splits"]["validation"]["used_in_fit"] is True and quality["splits"]["test"]["used_in_fit"] is False
    for split in ("train", "test"):
        rep = calibration_report(curated[split]["spam_probs"], curated[split]["label"])
        got = quality["splits"][split]
        assert got["gold_rows"] == rep.rows == len(curated[split])
        assert got["brier"] == pytest.approx(rep.brier, abs=1e-6)
        assert got["ece_width"] == pytest.approx(rep.ece("width"), abs=1e-6)
        assert got["ece_mass"] == pytest.approx(rep.ece("mass"), abs=1e-6)
        assert sum(b["count"] for b in got["bins_width"]) == rep.rows
        assert got["gold_class_balance"] == [0.5, 0.5]
    body = text.split("---", 2)[2]
    assert "#### Calibration of the probabilistic labels" in body
    assert "ECE (width, 10 bins)" in body and "ECE (mass, 10 bins)" in body and "Brier" in body
    assert "| validation † |" in body  # gold seen by the label model is flagged
    assert "Reliability table, `test`" in body and "| confidence bin | rows |" in body
    assert "| gold `test` |" in body  # gold class balance next to the estimated prior


def test_card_training_snippet_runs(curated, tmp_path):
    out = mmweak.save_curated(curated, tmp_path / "curated")
    body = (out / "README.md").read_text().split("---", 2)[2]
    section = body.split("## How to load and train", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert "SoftLabelCollator" in code and "noise_aware_loss" in code and str(out) in code
    # the Trainer advice is the setup tests/core/test_training.py trains a real Trainer with (without `columns`,
    # the raw text reached DataCollatorWithPadding and failed)
    advice = " ".join(section.split("With `transformers.Trainer`", 1)[1].split("\n\n", 1)[0].split())
    assert "`remove_unused_columns=False`" in advice and ('`data_collator=SoftLabelCollator(task, columns=["input_ids", '
                                                          '"attention_mask"], base_collator=DataCollatorWithPadding('
                                                          'tokenizer))`') in advice
    scope: dict = {}
    exec(compile(code, "card-snippet", "exec"), scope)
    assert tuple(scope["batch"]["labels"].shape) == (8, 2) and scope["loss"].item() > 0
    meta = yaml.safe_load((out / "README.md").read_text().split("---")[1])
    prior = meta["weak_supervision"]["tasks"][0]["label_model"]["class_balance"]
    np.testing.assert_allclose(scope["weights"].numpy(), mmweak.training.class_weights(prior), rtol=1e-6)


# -- splits with different columns: one schema when saved, or a clear error before anything is written --------
def _two_splits(train: dict, validation: dict, features: dict | None = None, gold: str | None = "label") -> DatasetDict:
    spam = mmweak.Task("spam", ["ham", "spam"])
    lf = labeling_function(task=spam, inputs="text")(lambda b: [1 if "free" in t else -1 for t in b["text"]])
    fv = datasets.Features(features) if features else None
    dd = DatasetDict({"train": Dataset.from_dict(train), "validation": Dataset.from_dict(validation, features=fv)})
    return mmweak.aggregate(mmweak.apply_lfs(dd, [lf]), gold=gold)


TEXTS = ["free stuff", "hello", "free", "hi there"]


def test_gold_only_on_validation_saves_and_loads_with_its_class_names(tmp_path):
    out = _two_splits({"text": TEXTS}, {"text": TEXTS, "label": [1, 0, 1, 0]},
                      {"text": Value("string"), "label": ClassLabel(names=["ham", "spam"])})
    mmweak.save_curated(out, tmp_path / "c")
    back, _ = mmweak.load_curated(tmp_path / "c")
    assert back["train"].features["label"] == ClassLabel(names=["ham", "spam"]) == back["validation"].features["label"]
    assert list(back["train"]["label"]) == [-1] * 4 and list(back["validation"]["label"]) == [1, 0, 1, 0]
    assert list(back["train"]["spam_label"]) == list(out["train"]["spam_label"])
    assert datasets.load_dataset(str(tmp_path / "c"))["validation"].features["label"].names == ["ham", "spam"]


def test_class_indices_next_to_a_class_label_take_its_names(tmp_path):
    out = _two_splits({"text": TEXTS, "label": [0, 1, 1, -1]}, {"text": TEXTS, "label": [1, 0, 1, 0]},
                      {"text": Value("string"), "label": ClassLabel(names=["ham", "spam"])})
    mmweak.save_curated(out, tmp_path / "c")
    back, _ = mmweak.load_curated(tmp_path / "c")
    assert back["train"].features["label"].names == ["ham", "spam"] and list(back["train"]["label"]) == [0, 1, 1, -1]


@pytest.mark.parametrize("train,validation,features,message", [
    ({"text": TEXTS, "label": ["a", "b", "a", "b"]}, {"text": TEXTS, "label": [1, 0, 1, 0]}, None,
     r"column 'label' has different types in different splits \(train: Value\('string'\), validation: Value\('int64'\)\)"),
    ({"text": TEXTS, "label": [0, 1, 2, 0]}, {"text": TEXTS, "label": [1, 0, 1, 0]},
     {"text": Value("string"), "label": ClassLabel(names=["ham", "spam"])},
     r"split 'train', column 'label': values 0..2 are not classes of the other splits' class label \['ham', 'spam'\]"),
    ({"text": TEXTS}, {"text": [], "label": []}, {"text": Value("string"), "label": ClassLabel(names=["ham", "spam"])},
     r"split 'validation' has no rows: datasets cannot load an empty split back"),
])
def test_splits_that_cannot_share_a_schema_are_refused_before_writing(tmp_path, train, validation, features, message):
    out = _two_splits(train, validation, features, gold=None)  # a column no task's gold (aggregate reads gold's)
    with pytest.raises(CuratedDatasetError, match=message):
        mmweak.save_curated(out, tmp_path / "c")
    assert list(tmp_path.iterdir()) == []


def test_a_card_names_the_hub_task_category_of_what_its_lfs_read(curated, spam, tmp_path):
    """An image dataset saved without task_categories is not tagged text-classification; people's answers say nothing."""
    record = mmweak.provenance.read_record(curated)
    for lf in record["tasks"]["spam"]["lfs"]:
        lf["modality"] = "image"
    ds = DatasetDict({s: d for s, d in curated.items()})
    mmweak.provenance.write_record(ds, record)
    meta = yaml.safe_load((mmweak.save_curated(ds, tmp_path / "img") / "README.md").read_text().split("---")[1])
    assert meta["task_categories"] == ["image-classification"]
    given = mmweak.save_curated(ds, tmp_path / "given", task_categories=["other"])
    assert yaml.safe_load((given / "README.md").read_text().split("---")[1])["task_categories"] == ["other"]


def test_a_hand_edited_card_keeps_its_settings_whole(curated, tmp_path):
    """The CLI stages carry a folder's title, licence and categories; a scalar category or a list of licences
    written by hand came back as a list of letters and a stringified list."""
    from mmweak.cli import _card_settings

    out = mmweak.save_curated(curated, tmp_path / "c", pretty_name="Mine")
    readme = out / "README.md"
    text = readme.read_text()
    text = text.replace("license: other", "license:\n- mit\n- apache-2.0")
    text = text.replace("task_categories:\n- text-classification", "task_categories: image-classification")
    readme.write_text(text)
    settings = _card_settings(str(out), curated)
    assert settings == {"pretty_name": "Mine", "license": ["mit", "apache-2.0"],
                        "task_categories": ["image-classification"]}
    again = mmweak.save_curated(curated, tmp_path / "again", **settings)  # what `mmweak card` writes back
    meta = yaml.safe_load((again / "README.md").read_text().split("---")[1])
    assert meta["license"] == ["mit", "apache-2.0"] and meta["task_categories"] == ["image-classification"]


def test_tasks_come_back_in_the_order_they_were_given(tmp_path):
    # The record is written with sorted keys; load_curated, the card and every per-task loop gave "alpha" first.
    zeta, alpha = mmweak.Task("zeta", ["no", "yes"]), mmweak.Task("alpha", ["a", "b", "c"])
    lfs = [labeling_function(task=zeta, inputs="text", name="bang")(lambda b: [int("!" in t) for t in b["text"]]),
           labeling_function(task=alpha, inputs="text", name="length")(lambda b: [len(t) % 3 for t in b["text"]])]
    ds = mmweak.aggregate(mmweak.apply_lfs(Dataset.from_dict({"text": ["hi!", "hello", "hey!!", "yo"]}), lfs))
    assert list(mmweak.provenance.read_record(ds)["tasks"]) == ["zeta", "alpha"]
    folder = mmweak.save_curated(ds, tmp_path / "two")
    back, tasks = mmweak.load_curated(folder)
    assert [t.name for t in tasks] == ["zeta", "alpha"]
    assert list(mmweak.provenance.read_record(back)["tasks"]) == ["zeta", "alpha"]
    card = (folder / "README.md").read_text()
    assert card.index("### `zeta`") < card.index("### `alpha`")
    block = yaml.safe_load(card.split("---")[1])["weak_supervision"]["tasks"]
    assert [t["name"] for t in block] == ["zeta", "alpha"]


def test_a_media_folder_saves_rows_whose_file_is_gone_and_its_card_snippet_runs_past_unreadable_ones(tmp_path):
    # A file gone after the LFs ran (they count it as a fault) failed the save at its very end with a bare
    # FileNotFoundError; a truncated file, which is what media LFs are there to flag, failed the card's snippet.
    import warnings

    from PIL import Image as PILImage

    paths = []
    for i, size in enumerate([(8, 8), (64, 64), (64, 64), (8, 8)]):
        paths.append(str(tmp_path / f"{i}.png"))
        PILImage.new("RGB", size, (i * 60, 0, 0)).save(paths[-1])
    whole = (tmp_path / "1.png").read_bytes()
    (tmp_path / "1.png").write_bytes(whole[: len(whole) // 2])  # truncated
    quality = mmweak.Task("quality", ["keep", "drop"])

    @labeling_function(task=quality, inputs="image")
    def small(batch):
        return [1 if im.size[0] < 16 else 0 for im in batch["image"]]

    @labeling_function(task=quality, inputs="caption")  # the truncated image's row keeps a label through this one
    def captioned(batch):
        return [0 if c else -1 for c in batch["caption"]]

    ds = Dataset.from_dict({"image": paths, "caption": ["a", "b", "c", ""]}).cast_column("image", datasets.Image())
    ds = mmweak.aggregate(mmweak.apply_lfs(ds, [small, captioned], on_error="abstain"), [quality], model="majority")
    assert ds["quality_label"][1] == 0
    os.remove(paths[2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = mmweak.save_curated(ds, tmp_path / "curated")
    said = [str(w.message) for w in caught if "no longer there" in str(w.message)]
    assert said == [f"split 'train', column 'image': row [2] points at a file no longer there ({paths[2]!r}); saved "
                    "with an empty 'image' cell, its votes and labels kept"]
    back, _ = mmweak.load_curated(out)
    raw = back["train"].cast_column("image", datasets.Image(decode=False))["image"]
    assert raw[2] is None and raw[0]["bytes"] and back["train"]["quality_label"] == ds["quality_label"]
    code = (out / "README.md").read_text().split("## How to load and train", 1)[1].split("```python\n", 1)[1]
    code = code.split("```", 1)[0]
    assert "train = train.cast_column('image', datasets.Image(decode=False))" in code
    scope: dict = {}
    exec(compile(code, "card-snippet", "exec"), scope)
    assert tuple(scope["batch"]["labels"].shape) == (4, 2)
