import io

import datasets
import numpy as np
import pytest

from recipes.demo import text as demo


def test_corpus_is_deterministic_with_known_truth():
    a, ya = demo.make_corpus(300, seed=1)
    b, yb = demo.make_corpus(300, seed=1)
    assert a["train"]["text"] == b["train"]["text"] and (ya == yb).all()
    assert set(a["train"]["label"]) == {-1}  # no gold on train
    assert a["test"]["label"] == ya[255:].tolist()


def test_demo_end_to_end(tmp_path):
    out = io.StringIO()
    results = demo.run(tmp_path / "curated", n=900, seed=0, stream=out)
    text = out.getvalue()
    assert "LF summary" in text and "identical features" in text
    # LFs are noisy on purpose; the label models must still clearly beat the best single LF class prior
    assert results["majority"] > 0.75 and results["curated"] > 0.8
    back = datasets.load_dataset(str(tmp_path / "curated"))
    assert back["train"].features["sentiment_probs"] == datasets.List(datasets.Value("float32"), length=3)
    assert np.isfinite(np.array(back["test"]["sentiment_probs"])).all()


def test_cli_dispatches_demo(tmp_path, capsys):
    from mmweak.cli import main

    assert main(["demo", "--out", str(tmp_path / "c"), "--rows", "300"]) == 0
    assert "curated dataset written" in capsys.readouterr().out
    assert main(["nope"]) == 2
    # --help shows the demo's own options (typer's listed none and pointed back to itself)
    with pytest.raises(SystemExit) as done:
        main(["demo", "--help"])
    assert done.value.code == 0
    said = capsys.readouterr().out
    assert said.startswith("usage: mmweak demo") and "--audio-rows" in said and "rows of the text part" in said
