"""Twenty realistic rules over comment/question text, as plain per-row Python (no mmweak import).

What a Snorkel user or a plain loop runs (:data:`PLAIN`), and the real text they run on: YouTube
comments and TREC questions from ``../shared/data/wrench``, repeated to any number of rows.
``text_lfs.py`` builds the same rules with ``lf_library.text``; ``tests/lfs/test_text_arrow.py`` checks that
the two vote identically. Importable from the benchmark-only virtualenv (standard library only).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Callable

DATA = Path(os.environ.get("MMWEAK_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))
HAM, SPAM_ = 0, 1
ABSTAIN = -1  # mmweak.ABSTAIN; this module also runs in the anchors' venv, which has no mmweak

REGEXES = [  # name, label, pattern, flags
    ("url", SPAM_, r"https?://|www\.|\.com\b", re.IGNORECASE),
    ("phone", SPAM_, r"\(?\d{3}\)?[-.\s]?\d{3}[-.\s]?\d{4}", 0),
    ("money", SPAM_, r"[$€£]\s?\d+(?:[.,]\d+)?|\b\d+\s?(?:dollars|usd|bucks)\b", re.IGNORECASE),
    ("email", SPAM_, r"[\w.+-]+@[\w-]+\.[\w.]+", 0),
    ("views", HAM, r"\b\d+\s*(?:billion|million|m)\s+views\b", re.IGNORECASE),
    ("question", HAM, r"^\s*(?:what|who|when|where|why|how)\b", re.IGNORECASE),
    ("shouting", SPAM_, r"\b[A-Z]{5,}\b", 0),
    ("excited", SPAM_, r"[!?]{3,}", 0),
    ("hearts", HAM, r"[❤♥😍😘]", 0),
    ("year", HAM, r"\b(?:19|20)\d{2}\b", 0),
]
KEYWORDS = [  # name, label, keywords
    ("subscribe", SPAM_, ["subscribe", "subscribers", "sub to my"]),
    ("check_out", SPAM_, ["check out", "check my", "checkout"]),
    ("my_channel", SPAM_, ["my channel", "my videos", "my page", "my video"]),
    ("free_stuff", SPAM_, ["free", "gift card", "giveaway", "win", "prize"]),
    ("money_words", SPAM_, ["earn", "money", "cash", "income", "paypal"]),
    ("please", SPAM_, ["please", "plz", "pls"]),
    ("song_praise", HAM, ["love this song", "best song", "nice song", "great song", "awesome"]),
]
LOOKUP = {
    "katy perry": HAM, "eminem": HAM, "rihanna": HAM, "shakira": HAM, "psy": HAM, "lmfao": HAM,
    "gangnam style": HAM, "bitcoin": SPAM_, "iphone": SPAM_, "facebook": SPAM_, "instagram": SPAM_,
    "twitter": SPAM_,
}
SHORT_WORDS, LONG_WORDS = 5, 40


# Interleaved so the first 10 mix every kind of LF.
ORDER = [
    "url", "subscribe", "phone", "check_out", "artist", "short", "money", "my_channel", "question", "free_stuff",
    "email", "money_words", "views", "please", "shouting", "song_praise", "excited", "hearts", "year", "long",
]


def _keyword_rx(words: list[str]) -> re.Pattern[str]:
    parts = []
    for w in sorted(words, key=lambda t: (-len(t), t)):
        body = r"\s+".join(re.escape(x) for x in w.split())
        if re.match(r"\w", w):
            body = r"(?<!\w)" + body
        if re.search(r"\w$", w):
            body += r"(?!\w)"
        parts.append(body)
    return re.compile("|".join(parts), re.IGNORECASE)


def _plain() -> dict[str, Callable[[str], int]]:
    """Per-row functions with the same meaning (what a Snorkel user or a plain loop runs)."""
    out: dict[str, Callable[[str], int]] = {}
    for name, label, pattern, flags in REGEXES:
        rx = re.compile(pattern, flags)
        out[name] = lambda t, rx=rx, label=label: label if rx.search(t) else ABSTAIN
    for name, label, words in KEYWORDS:
        rx = _keyword_rx(words)
        out[name] = lambda t, rx=rx, label=label: label if rx.search(t) else ABSTAIN
    by_class = {c: _keyword_rx([k for k, v in LOOKUP.items() if v == c]) for c in sorted(set(LOOKUP.values()))}

    def artist(t: str) -> int:
        found = [c for c, rx in by_class.items() if rx.search(t)]
        return found[0] if len(found) == 1 else ABSTAIN

    out["artist"] = artist
    out["short"] = lambda t: HAM if len(t.split()) <= SHORT_WORDS else ABSTAIN
    out["long"] = lambda t: SPAM_ if len(t.split()) >= LONG_WORDS else ABSTAIN
    return {name: out[name] for name in ORDER}


PLAIN = _plain()


def real_texts(root: Path = DATA / "wrench") -> list[str]:
    """Every YouTube comment and TREC question (train, valid, test), in file order."""
    texts = []
    for name in ("youtube", "trec"):
        for split in ("train", "valid", "test"):
            with open(root / name / f"{split}.json", encoding="utf-8") as f:
                texts.extend(row["data"]["text"] for row in json.load(f).values())
    return texts


def corpus(n_rows: int) -> list[str]:
    """``n_rows`` texts: the real ones, repeated in order."""
    texts = real_texts()
    reps = -(-n_rows // len(texts))
    return (texts * reps)[:n_rows]
