"""The text part of the embedded demo: curate a generated corpus with known truth, offline, end to end.

``python -m recipes.demo`` (or ``mmweak demo``) generates product reviews deterministically, applies
keyword/regex/lookup LFs, fits majority vote and the default label model, prints the LF summary and
the curated labels' accuracy against the known truth, and writes a Hub-layout folder that
``datasets.load_dataset`` reads back with the same features. No account, Hub or weights needed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

from mmweak.aggregate import aggregate
from mmweak.analysis import analyze, label_metrics
from mmweak.apply import apply_lfs
from mmweak.columns import read_column, read_matrix
from mmweak.labelmodels import create
from mmweak.lf import LabelingFunction, labeling_function
from mmweak.task import Task

from .checks import write_checked

SENTIMENT = Task(
    "sentiment", labels=["negative", "neutral", "positive"], description="overall tone of a product review"
)

_PRODUCTS = ["kettle", "headphones", "blender", "backpack", "desk lamp", "phone case", "air fryer", "keyboard"]
_BRANDS = {"acme": 2, "zento": 0, "lumio": 2, "brakka": 0, "norvo": 1}
_PHRASES = {
    0: [
        "broke after a week",
        "waste of money",
        "terrible quality",
        "stopped working",
        "want a refund",
        "very disappointed",
        "arrived damaged",
        "cheap plastic",
    ],
    1: [
        "does what it says",
        "it is okay",
        "average build",
        "nothing special",
        "works as expected",
        "fine for the price",
        "arrived on time",
    ],
    2: [
        "love it",
        "excellent quality",
        "works perfectly",
        "highly recommend",
        "great value",
        "best purchase this year",
        "very happy",
    ],
}
_FILLER = [
    "I bought this {p} last month.",
    "Got the {p} as a gift.",
    "Ordered the {p} for my office.",
    "This is my second {p}.",
    "The {p} came in a plain box.",
]


def make_corpus(n: int = 1500, seed: int = 0) -> tuple[DatasetDict, np.ndarray]:
    """Generate reviews with known sentiment; returns the DatasetDict (with a ``label`` gold column
    on validation/test only, as in a real project) and the true labels of every split concatenated.

    >>> ds, _ = make_corpus(30)
    >>> sorted(ds), ds["train"].column_names
    (['test', 'train', 'validation'], ['text', 'label'])
    """
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=n, p=[0.3, 0.2, 0.5])
    texts = []
    for label in y:
        product = _PRODUCTS[rng.integers(len(_PRODUCTS))]
        parts = [_FILLER[rng.integers(len(_FILLER))].format(p=product)]
        # Most reviews carry one phrase of their class; some carry a misleading one, some none.
        r = rng.random()
        if r < 0.75:
            parts.append(_PHRASES[label][rng.integers(len(_PHRASES[label]))].capitalize() + ".")
        elif r < 0.87:
            other = (label + rng.integers(1, 3)) % 3
            parts.append(_PHRASES[other][rng.integers(len(_PHRASES[other]))].capitalize() + ".")
        if rng.random() < 0.45:
            stars = {0: rng.integers(1, 3), 1: 3, 2: rng.integers(4, 6)}[int(label)]
            if rng.random() < 0.15:
                stars = rng.integers(1, 6)
            parts.append(f"Rating: {stars}/5.")
        if rng.random() < 0.4:
            brands = [b for b, s in _BRANDS.items() if s == label] or list(_BRANDS)
            if rng.random() < 0.2:
                brands = list(_BRANDS)
            parts.append(f"Brand: {brands[rng.integers(len(brands))].title()}.")
        if rng.random() < 0.3:
            parts.append("!!!" if label != 1 else "Meh.")
        texts.append(" ".join(parts))
    cut1, cut2 = int(0.7 * n), int(0.85 * n)
    features = Features({"text": Value("string"), "label": ClassLabel(names=list(SENTIMENT.labels))})
    unknown = np.full(cut1, -1)  # train has no gold: that is the point of weak supervision
    dd = DatasetDict(
        {
            "train": Dataset.from_dict({"text": texts[:cut1], "label": unknown.tolist()}, features=features),
            "validation": Dataset.from_dict(
                {"text": texts[cut1:cut2], "label": y[cut1:cut2].tolist()}, features=features
            ),
            "test": Dataset.from_dict({"text": texts[cut2:], "label": y[cut2:].tolist()}, features=features),
        }
    )
    return dd, y


def demo_lfs() -> list[LabelingFunction]:
    """The demo's LFs: keywords, a regex on the star rating, a brand lookup table, a punctuation cue."""
    from lf_library.text import KeywordLF, LookupLF, RegexLF

    lfs: list[LabelingFunction] = [
        KeywordLF(
            "neg_words",
            task=SENTIMENT,
            label="negative",
            keywords=["broke", "waste", "terrible", "refund", "disappointed", "damaged", "stopped working"],
        ),
        KeywordLF(
            "neutral_words",
            task=SENTIMENT,
            label="neutral",
            keywords=["okay", "average", "nothing special", "as expected", "fine for the price"],
        ),
        KeywordLF(
            "pos_words",
            task=SENTIMENT,
            label="positive",
            keywords=["love", "excellent", "perfectly", "recommend", "great value", "best purchase", "happy"],
        ),
        RegexLF("low_rating", task=SENTIMENT, label="negative", pattern=r"rating:\s*[12]/5"),
        RegexLF("mid_rating", task=SENTIMENT, label="neutral", pattern=r"rating:\s*3/5"),
        RegexLF("high_rating", task=SENTIMENT, label="positive", pattern=r"rating:\s*[45]/5"),
        LookupLF("brand_reputation", task=SENTIMENT, table={b: s for b, s in _BRANDS.items()}),
        KeywordLF("cheap_is_bad", task=SENTIMENT, label="negative", keywords=["cheap", "plastic"]),
    ]

    @labeling_function(task=SENTIMENT, inputs="text", name="exclamations")
    def exclamations(batch):
        # Shouting reviews are rarely neutral; lean positive, the more common class.
        return [2 if "!!!" in t else -1 for t in batch["text"]]

    @labeling_function(task=SENTIMENT, inputs="text", name="meh", batched=False)
    def meh(row):
        return 1 if "meh" in row["text"].lower() else -1

    return [*lfs, exclamations, meh]


def run(
    out: str | Path = "out/demo_curated", n: int = 1500, seed: int = 0, num_proc: int | None = None, stream=None
) -> dict[str, float]:
    """Run the demo; returns test accuracies by label model. Writes the curated folder to ``out``."""

    def say(*a):
        print(*a, file=stream or sys.stdout, flush=True)

    ds, _ = make_corpus(n, seed)
    say(
        f"[mmweak demo] generated {sum(len(d) for d in ds.values())} reviews "
        f"({', '.join(f'{k}={len(v)}' for k, v in ds.items())}), task {SENTIMENT.name!r} {list(SENTIMENT.labels)}"
    )
    ds = apply_lfs(ds, demo_lfs(), num_proc=num_proc)

    results = {}
    L_train = read_matrix(ds["train"], SENTIMENT.votes_column)
    L_test = read_matrix(ds["test"], SENTIMENT.votes_column)
    y_test = read_column(ds["test"], "label")
    for name in ("majority", None):
        model = create(name, cardinality=SENTIMENT.cardinality, random_state=seed).fit(L_train, class_balance=None)
        pred = model.predict(L_test, seed=seed)
        results[model.name] = label_metrics(pred, y_test, SENTIMENT.cardinality)["accuracy"]

    ds = aggregate(ds, [SENTIMENT], gold="label", seed=seed)
    summary = analyze(ds, SENTIMENT, split="test")
    say(str(summary))
    say("")
    say(f"{'label model':<24}{'test accuracy':>14}   (vs the generator's known truth)")
    for name, acc in results.items():
        say(f"{name:<24}{acc:>14.4f}")
    assert summary.labels is not None  # the test split has gold labels
    curated_acc = summary.labels["accuracy"]
    say(f"{'curated (default + dev)':<24}{curated_acc:>14.4f}")
    results["curated"] = curated_acc

    write_checked(
        ds,
        out,
        say,
        "curated dataset",
        "README.md card + data/*.parquet",
        pretty_name="mmweak demo: product review sentiment",
    )
    return results
