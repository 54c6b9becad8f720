"""WordNet noun hypernyms, read from the database files Debian's ``wordnet-base`` package installs.

ImageNet's 1000 classes are WordNet 3.0 noun synsets (``n02123045`` is synset offset 02123045 of
``data.noun``), so "is a golden retriever a dog?" has an exact answer: walk the ``@`` (hypernym) and
``@i`` (instance hypernym) pointers up from the class's synset and look for a synset with the lemma
``dog``. :class:`WordNet` parses ``data.noun`` once per process (about a second) and answers
:meth:`WordNet.ancestors` with each ancestor's lemmas and its distance.

Nothing is downloaded: the files come from ``apt-get install wordnet-base`` (``scripts/setup.sh``
installs it) or any folder holding a WordNet 3.0 ``data.noun``.

>>> wn = WordNet.default()
>>> wn.lemmas["n02099601"]
('golden retriever',)
>>> next(d for lemmas, d in wn.ancestors("n02099601") if "dog" in lemmas)
4
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Iterator

__all__ = ["DEFAULT_WORDNET_DIR", "WordNet"]

#: Where Debian's ``wordnet-base`` puts the WordNet 3.0 database.
DEFAULT_WORDNET_DIR = "/usr/share/wordnet"


class WordNet:
    """Noun synsets of a WordNet 3.0 database: lemmas and hypernym links, keyed by ``n`` + offset.

    Args:
        folder: a folder with ``data.noun`` (default :data:`DEFAULT_WORDNET_DIR`).

    Raises:
        FileNotFoundError: when ``data.noun`` is missing (with the package to install).
    """

    def __init__(self, folder: str | os.PathLike = DEFAULT_WORDNET_DIR) -> None:
        self.folder = Path(folder)
        path = self.folder / "data.noun"
        if not path.is_file():
            raise FileNotFoundError(
                f"no WordNet database at {path}; install it with `apt-get install wordnet-base` "
                f"(scripts/setup.sh does) or pass the folder holding data.noun"
            )
        self.lemmas: dict[str, tuple[str, ...]] = {}
        self.parents: dict[str, tuple[str, ...]] = {}
        with open(path, encoding="latin-1") as f:
            for line in f:
                if line.startswith(" "):  # licence header
                    continue
                fields = line.split(" | ", 1)[0].split()
                offset, n_words = fields[0], int(fields[3], 16)
                words = fields[4: 4 + 2 * n_words: 2]
                i = 4 + 2 * n_words
                n_ptrs = int(fields[i])
                parents = []
                for j in range(n_ptrs):
                    symbol, target, pos = fields[i + 1 + 4 * j: i + 4 + 4 * j]
                    if symbol in ("@", "@i") and pos == "n":
                        parents.append("n" + target)
                key = "n" + offset
                # Lemmas carry markers such as "(p)" and use "_" for spaces.
                self.lemmas[key] = tuple(w.split("(")[0].replace("_", " ").lower() for w in words)
                self.parents[key] = tuple(parents)

    @classmethod
    @functools.lru_cache(maxsize=4)
    def default(cls, folder: str = DEFAULT_WORDNET_DIR) -> "WordNet":
        """The database in ``folder``, parsed once per process."""
        return cls(folder)

    def fingerprint(self) -> str:
        """Content hash of ``data.noun`` (what LF fingerprints and mapping caches key on, not 82,000 synsets)."""
        from lf_library.identity import files_digest

        return "wordnet-" + files_digest(self.folder / "data.noun")

    def ancestors(self, synset: str) -> Iterator[tuple[tuple[str, ...], int]]:
        """``(lemmas, distance)`` of every hypernym of ``synset`` (nearest first; each synset once).

        Raises:
            KeyError: for an id that is not a noun synset of this database.
        """
        if synset not in self.lemmas:
            raise KeyError(f"{synset!r} is not a WordNet noun synset id (expected 'n' + 8 digits)")
        seen = {synset}
        frontier = [synset]
        depth = 0
        while frontier:
            depth += 1
            nxt = []
            for s in frontier:
                for p in self.parents.get(s, ()):
                    if p not in seen:
                        seen.add(p)
                        nxt.append(p)
                        yield self.lemmas[p], depth
            frontier = nxt

    def __repr__(self) -> str:
        return f"WordNet({str(self.folder)!r}, {len(self.lemmas)} noun synsets)"
