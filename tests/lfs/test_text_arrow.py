"""lf_library.text on Arrow/RE2 votes exactly as Python ``re`` does: on real text, on Unicode built to
break it, on every code point for the character classes, through apply_lfs in every path."""

from __future__ import annotations

import hashlib
import random
import re

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import mmweak
from benchmarks import text_lfs
from lf_library.text import KeywordLF, LengthLF, LookupLF, RegexLF
from lf_library.text.re2 import Untranslatable, translate

SPAM = text_lfs.SPAM

# Characters where Python and RE2 disagree unless the translation is exact: case orbits beyond ASCII
# (Kelvin sign, long s, dotted/dotless i, final sigma, sharp s), digits and letters of other scripts,
# every kind of whitespace, combining marks, format characters, emoji, right-to-left text.
TRICKY = (
    "KſıİiIßẞΣσςµμ\u212a\u2126Ωω"
    "٣४൬𝟘" "éÉñÑçÇøØåÅæ" "ﬁﬂ" "中文한국어" "עבריתالعربية"
    "\u0301\u0308\u200b\u200d\ufeff\u2060" "😍❤♥😘🚀"
    " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2003\u2028\u2029\u202f\u205f\u3000"
    "_-.,:;!?$€£@#/'\"()[]{}<>+*=&%0123456789"
)
WORDS = [
    "free", "FREE", "ſubscribe", "SUBSCRIBE", "win", "window", "check", "out", "my", "channel", "Katy", "Perry",
    "katy perry", "gangnam", "style", "what", "WHO", "how", "http://x.io", "www.site.com", "site.com",
    "$100", "€5", "10 dollars", "3 million views", "555-123-4567", "(555) 123 4567", "a.b@c.de", "1999", "2024",
    "SHOUT", "HELLO", "!!!", "??!", "money", "paypal", "plz", "awesome", "love this song", "iphone", "bitcoin",
    "STRASSE", "Straße", "STRAẞE", "σοφια", "ΣΟΦΙΑ", "istanbul", "İSTANBUL",
]


def torture_strings(n: int, seed: int = 0) -> list[str | None]:
    rng = random.Random(seed)
    out: list[str | None] = [None, "", " ", "\n", "free\n", "free ", "what\n", "\ufefffree\ufeff", "ﬁree", "ƒree"]
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 8)):
            r = rng.random()
            if r < 0.5:
                w = rng.choice(WORDS)
                parts.append(w.upper() if rng.random() < 0.2 else w)
            else:
                parts.append("".join(rng.choice(TRICKY) for _ in range(rng.randint(1, 4))))
            if rng.random() < 0.7:
                parts.append(rng.choice([" ", "", "\t", "\xa0", "\u3000", "\n", "é", "٣", "_", ".", "ſ"]))
        out.append("".join(parts))
    return out


@pytest.fixture(scope="module")
def real_and_tricky() -> list[str | None]:
    return text_lfs.real_texts() + torture_strings(6000)


def extra_lfs() -> list[mmweak.LabelingFunction]:
    """Patterns and options the benchmark set does not exercise."""
    return [
        RegexLF("ml_anchor", task=SPAM, label=1, pattern=r"^free$", flags=re.MULTILINE | re.IGNORECASE),
        RegexLF("end_anchor", task=SPAM, label=1, pattern=r"free$", flags=0),
        RegexLF("end_string", task=SPAM, label=1, pattern=r"free\Z|\Awhat", flags=re.IGNORECASE),
        RegexLF("dotall", task=SPAM, label=1, pattern=r"free.+win", flags=re.DOTALL | re.IGNORECASE),
        RegexLF("dot", task=SPAM, label=1, pattern=r"free.win", flags=0),
        RegexLF("lazy", task=SPAM, label=1, pattern=r"<.+?>|\[.*?\]", flags=0),
        RegexLF("classes", task=SPAM, label=1, pattern=r"[^\W\d_]{3}\d|[\s\S]ſ|[a-z]{2}[^a-z\s]", flags=re.IGNORECASE),
        RegexLF("ascii", task=SPAM, label=1, pattern=r"\b\w+\b\s\d", flags=re.ASCII | re.IGNORECASE),
        RegexLF("nonword_edge", task=SPAM, label=1, pattern=r"\Bree\b|\d\B", flags=0),
        RegexLF("scoped", task=SPAM, label=1, pattern=r"(?i:katy)\s+Perry|(?s:a.b)", flags=0),
        RegexLF("counts", task=SPAM, label=1, pattern=r"\d{2,3}-?\d{0,4}|x{3}", flags=0),
        RegexLF("unicode_lit", task=SPAM, label=1, pattern=r"straße|ΣΟΦΙΑ|İstanbul", flags=re.IGNORECASE),
        RegexLF("lookbehind", task=SPAM, label=1, pattern=r"(?<=check )out", flags=0),  # python fallback
        RegexLF("backref", task=SPAM, label=1, pattern=r"(\w)\1\1", flags=0),  # python fallback
        KeywordLF("kw_cs", task=SPAM, label=1, keywords=["Free", "Katy Perry"], case_sensitive=True),
        KeywordLF("kw_loose", task=SPAM, label=0, keywords=["ree", "$$$", ".com", "é"], whole_word=False),
        KeywordLF("kw_punct", task=SPAM, label=0, keywords=["$$$", ".com", "c++", "ſtyle"]),
        LookupLF("lk_exact", task=SPAM, table={"free": 1, "katy perry": 0, "what": 0, "straße": 1}, mode="exact"),
        LookupLF("lk_exact_cs", task=SPAM, table={"Free": 1, "WHO": 0}, mode="exact", case_sensitive=True),
        LookupLF("lk_overlap", task=SPAM, table={"katy perry": 0, "perry free": 1, "win": 1}),
        LengthLF("len_mid", task=SPAM, label=0, min_words=2, max_words=4),
        LengthLF("len_zero", task=SPAM, label=0, max_words=0),
    ]


def all_lfs() -> list[mmweak.LabelingFunction]:
    return text_lfs.mmweak_lfs() + extra_lfs()


def _arrow_votes(lf, texts, chunk=997):
    # several chunks, as Dataset.map batches arrive
    arr = pa.chunked_array([pa.array(texts[i: i + chunk], pa.string()) for i in range(0, len(texts), chunk)])
    return np.asarray(lf.label_arrow(pa.table({"text": arr})), dtype=np.int8)


def test_vectorized_votes_equal_python_votes_on_real_and_hostile_text(real_and_tricky):
    texts = real_and_tricky
    fired = {}
    for lf in all_lfs():
        python = np.asarray(lf.label_batch({"text": texts}), dtype=np.int8)
        arrow = _arrow_votes(lf, texts)
        bad = np.flatnonzero(python != arrow)
        assert not len(bad), f"{lf.name}: {len(bad)} rows differ, e.g. {texts[bad[0]]!r}: python {python[bad[0]]}, arrow {arrow[bad[0]]}"
        fired[lf.name] = int((python != -1).sum())
    # the comparison means something only if every LF both fires and abstains somewhere
    assert all(0 < k < len(texts) for k in fired.values()), {k: v for k, v in fired.items() if not 0 < v < len(texts)}


def test_plain_functions_vote_like_the_library_lfs(real_and_tricky):
    texts = [t for t in real_and_tricky if isinstance(t, str)]
    for lf in text_lfs.mmweak_lfs():
        fn = text_lfs.PLAIN[lf.name]
        assert [fn(t) for t in texts] == lf.label_batch({"text": texts}), lf.name


def test_lfs_state_their_engine():
    by_name = {lf.name: lf.spec() for lf in all_lfs()}
    assert by_name["lookbehind"]["engine"] == "python re"
    assert "look-around" in by_name["lookbehind"]["python_reason"]
    assert by_name["backref"]["engine"] == "python re"
    assert by_name["url"]["engine"] == "re2 (pyarrow.compute)"
    assert "non-ASCII word characters" in by_name["url"]["python_rows"]
    assert by_name["subscribe"]["engine"] == "re2 (pyarrow.compute)" and "python_rows" not in by_name["subscribe"]
    assert "newline" in by_name["end_anchor"]["python_rows"]


@pytest.mark.parametrize("pattern, flags", [
    (r"\w", 0), (r"\W", re.IGNORECASE), (r"\d", 0), (r"\s", 0), (r"[a-zß]", re.IGNORECASE),
    (r"[^k\d]", re.IGNORECASE), (r"s", re.IGNORECASE), (r"[\w-]", re.ASCII | re.IGNORECASE), (r".", 0),
])
def test_single_characters_classify_like_python_on_every_code_point(pattern, flags):
    points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    chars = [chr(c) for c in points]
    rx = re.compile(pattern, flags)
    python = np.fromiter((rx.search(ch) is not None for ch in chars), dtype=bool, count=len(chars))
    t = translate(pattern, flags)
    arrow = pc.match_substring_regex(pa.array(chars), t.re2).to_numpy(zero_copy_only=False)
    bad = np.flatnonzero(python != arrow)
    assert not len(bad), [hex(points[i]) for i in bad[:10]]


@pytest.mark.parametrize("pattern", [r"^\B$", r"\B", r"x?\B", r"(?a)\B", r"(?a)\s*\B", r"(?:a|)\B"])
def test_a_non_boundary_votes_as_python_does_on_empty_and_non_ascii_text(pattern):
    # RE2 finds \B in "" where Python 3.11's re does not, and between the UTF-8 bytes of one character: such rows are
    # judged by re (the vectorized vote was 1)
    lf = RegexLF("nb", task=SPAM, label=1, pattern=pattern)
    texts = ["", "ab", "a b", " ", "é", "1é1", "1€1", "😀", "a😀b"]
    assert _arrow_votes(lf, texts).tolist() == lf.label_batch({"text": texts}) == [
        1 if re.search(pattern, t) else -1 for t in texts]


def test_untranslatable_patterns_say_why():
    for pattern, why in [(r"(?<!x)y", "look-around"), (r"(a)\1", "back-reference"), (r"a{1001}", "1000"),
                         (r"(?>ab)", "atomic"), (r"a++", "possessive")]:
        with pytest.raises(Untranslatable, match=why):
            translate(pattern, 0)


def test_non_string_columns_are_refused_and_nulls_abstain():
    lf = text_lfs.mmweak_lfs()[0]
    with pytest.raises(mmweak.LFError, match="holds int64, not strings"):  # it abstained on every row, silently
        lf.label_arrow(pa.table({"text": pa.array([1, 2], pa.int64())}))
    votes = lf.label_arrow(pa.table({"text": pa.array([None, "http://x"], pa.large_string())}))
    assert list(votes) == [-1, 1]


def _votes_hash(ds) -> str:
    return hashlib.sha256(np.ascontiguousarray(mmweak.columns.read_matrix(ds, "spam_votes")).tobytes()).hexdigest()


def test_apply_lfs_votes_identical_across_paths(real_and_tricky, tmp_path):
    """Vectorized vs per-row python LFs, num_proc 1 vs 2, cold vs cached: one vote matrix."""
    texts = [t for t in real_and_tricky]
    ds = datasets.Dataset.from_dict({"text": texts})
    lfs = all_lfs()
    cold, rep = mmweak.apply_lfs(ds, lfs, cache_dir=tmp_path / "a", return_report=True)
    assert rep.cached() == []
    warm, rep2 = mmweak.apply_lfs(ds, lfs, cache_dir=tmp_path / "a", return_report=True)
    assert len(rep2.cached()) == len(lfs)
    two = mmweak.apply_lfs(ds, lfs, cache_dir=tmp_path / "b", num_proc=2, batch_size=3000)
    def per_row(lf):
        def vote(row):
            return lf.vote_text(row["text"]) if isinstance(row["text"], str) else -1
        return mmweak.labeling_function(task=SPAM, inputs="text", name=lf.name, batched=False)(vote)

    slow = mmweak.apply_lfs(ds, [per_row(lf) for lf in lfs], cache_dir=tmp_path / "c")
    hashes = {_votes_hash(d) for d in (cold, warm, two, slow)}
    assert len(hashes) == 1


@pytest.mark.parametrize("cells,kind", [([["free"], ["x"]], "list<item: string>"), ([1, 2], "int64")])
def test_a_text_rule_on_a_column_that_is_not_text_is_an_error_not_silence(cells, kind, tmp_path):
    lf = KeywordLF(name="kw", task=mmweak.Task("s", ["a", "b"]), label="b", keywords=["free"], column="text")
    with pytest.raises(mmweak.LFError, match=rf"LF 'kw' is a text rule but column 'text' holds {re.escape(kind)}, not strings"):
        mmweak.apply_lfs(datasets.Dataset.from_dict({"text": cells}), [lf], cache_dir=tmp_path)
    # A column of nulls only is still text that is missing: every row abstains.
    out = mmweak.apply_lfs(datasets.Dataset.from_dict({"text": [None, None]}), [lf], cache_dir=tmp_path)
    assert list(out["s_votes"]) == [[-1], [-1]]
