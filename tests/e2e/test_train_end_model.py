
import numpy as np
import pytest
import yaml
from paths import SHARED

import mmweak

YOUTUBE = SHARED / "data" / "wrench" / "youtube"
needs_youtube = pytest.mark.skipif(not (YOUTUBE / "test.json").is_file(), reason=f"WRENCH youtube not at {YOUTUBE}")


@needs_youtube
def test_recipe_end_to_end_on_wrench_votes_slice(tmp_path, capsys):
    from recipes import train_end_model as recipe

    out = tmp_path / "wrench_curated"
    result = recipe.main([
        "--wrench-votes", str(YOUTUBE), "--out", str(out), "--max-train-rows", "400", "--epochs", "30",
    ])
    printed = capsys.readouterr().out
    assert "end model acc" in printed and "label model acc" in printed
    # the curated folder was built from WRENCH's 10 LF columns, with its card and plots
    meta = yaml.safe_load((out / "README.md").read_text().split("---")[1])
    task = meta["weak_supervision"]["tasks"][0]
    assert [lf["name"] for lf in task["lfs"]] == [f"wrench_lf_{j}" for j in range(10)]
    assert task["label_model"]["model"] == mmweak.labelmodels.DEFAULT_MODEL
    assert (out / "plots" / "target_reliability.png").is_file()
    ds, tasks = mmweak.load_curated(out)
    assert np.array(ds["train"]["target_votes"]).tolist() == ds["train"]["weak_labels"]
    # both models scored on the same 250 test rows with gold
    test = result["test"]
    assert test["rows"] == 250 and result["train_rows_total"] == 400
    assert 0 < result["train_rows"] <= 400
    # WRENCH's votes give the label model ~0.83 on test (WRENCH's published MV: 0.84); the end model,
    # trained on 400 soft-labelled rows only, must still be a real classifier.
    assert 0.78 <= test["label_model"] <= 0.9
    assert test["label_model_strict"] <= test["label_model"]
    assert test["end_model"] >= 0.78
    # Without gold the model is trained and the run says why nothing was scored (it printed nothing before).
    recipe.main(["--data", str(out), "--gold-column", "nope", "--max-train-rows", "100", "--epochs", "2"])
    assert ("no validation or test split has the gold column 'nope': the end model was trained but not scored"
            in capsys.readouterr().out)


def test_wrench_vote_lfs_read_their_column(spam):
    from lf_library.precomputed import VoteColumnLF

    lf = VoteColumnLF(spam, "weak_labels", 2, name="wrench_lf_2")
    assert lf.name == "wrench_lf_2" and lf.inputs == ("weak_labels",)
    assert lf({"weak_labels": [[-1, 0, 1], [1, 1, -1]]}) == [1, -1]
    assert VoteColumnLF(spam, "weak_labels", 1, name="wrench_lf_2").fingerprint() != lf.fingerprint()
    with pytest.raises(mmweak.LFError, match="voted 7 on row 0"):
        lf({"weak_labels": [[0, 0, 7]]})


def test_end_model_learns_soft_labels_without_text():
    from recipes.train_end_model import EndModelConfig, fit_end_model, predict_proba

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    import torch

    targets = torch.tensor(np.where(y[:, None] == np.arange(2), 0.75, 0.25), dtype=torch.float32)
    for kind in ("logreg", "mlp"):
        cfg = EndModelConfig(model=kind, epochs=60, lr=3e-3)
        a = predict_proba(fit_end_model(X, targets, cfg), X)
        b = predict_proba(fit_end_model(X, targets, cfg), X)
        np.testing.assert_array_equal(a, b)  # seeded: the same numbers twice
        assert (a.argmax(1) == y).mean() > 0.95
    with pytest.raises(ValueError, match="lower --min-confidence"):
        fit_end_model(X[:0], targets[:0], EndModelConfig())
