"""Untrusted names (tasks, classes, LFs, columns, datasets, paths) made safe to show in a dataset card.

A card is Markdown that the Hub renders to HTML, and it contains a Python snippet people copy and run.
Names come from users and from datasets downloaded from anywhere, so none of them may become markup,
a link, a heading, a table column, a Jinja expression or code:

* :func:`md` — inline text: HTML special characters become entities, Markdown punctuation is
  backslash-escaped, line breaks and control characters become spaces, and invisible direction
  controls (right-to-left overrides and the like) are shown as ``U+202E`` instead of reordering text;
* :func:`code` — an inline code span whose fence is longer than any backtick run inside (and whose
  ``|`` cannot split a table cell);
* :func:`py` — a Python string literal (``repr``), for the snippet;
* :func:`fence_for` — a code-block fence longer than any backtick run in the block;
* :func:`user_markdown` — the user's own description: Markdown kept, raw HTML and ``javascript:``
  links defused.

>>> md("<script>alert(1)</script> [x](javascript:y)")
'&lt;script&gt;alert\\\\(1\\\\)&lt;/script&gt; \\\\[x\\\\]\\\\(javascript\\\\:y\\\\)'
>>> code("a`b")
'``a`b``'
>>> py('x")\\nimport os#')
'\\'x")\\\\nimport os#\\''
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import yaml

__all__ = ["card_yaml", "code", "fence_for", "md", "py", "user_markdown"]

# Bidirectional controls reorder what a reader sees (a name can look like another); shown, never applied.
_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
_MD = {c: "\\" + c for c in "\\`*_[]()#+-.!|~^$:="}
# Braces as entities: no "{{" or "{%" survives, should anything ever run the card through a template engine.
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "{": "&#123;", "}": "&#125;"}


def _visible(ch: str) -> str:
    cp = ord(ch)
    if cp in _BIDI:
        return f"U+{cp:04X}"
    if ch in "\r\n\t\f\v\x85\u2028\u2029" or unicodedata.category(ch) in ("Cc", "Cs"):
        return " "
    return ch


def _plain(value: Any) -> str:
    return "".join(_visible(ch) for ch in str(value))


def md(value: Any) -> str:
    """``value`` as inline Markdown text that renders as exactly these characters, never as markup."""
    text = _plain(value)
    body = text.strip()
    lead = len(text) - len(text.lstrip())
    trail = len(text) - len(text.rstrip()) if body else 0
    # Edge whitespace (any Unicode space, e.g. U+00A0) as character references: Markdown trims it (table
    # cells trim Unicode spaces too), and a name of spaces would vanish.
    middle = "".join(_HTML.get(ch) or _MD.get(ch) or ch for ch in body)
    return _references(text[:lead]) + middle + _references(text[len(text) - trail:])


def _references(text: str) -> str:
    return "".join(f"&#{ord(ch)};" for ch in text)


def code(value: Any) -> str:
    """``value`` as an inline code span (safe inside a table cell)."""
    text = _plain(value).replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def py(value: Any) -> str:
    """``value`` as a Python literal (``repr`` of its string), to paste into the card's snippet."""
    return repr(str(value))


def fence_for(*texts: str) -> str:
    """A code-block fence that no backtick run in ``texts`` can close early."""
    longest = max((len(m) for t in texts for m in re.findall(r"`+", t)), default=0)
    return "`" * max(3, longest + 1)


# A link or reference whose destination is a script scheme; entities and backslashes in a destination are
# decoded by Markdown, so the link syntax itself is broken (``](`` -> ``]\(``), not the scheme.
_SCRIPT_LINK = re.compile(r"(?i)\](\(|:)(?=\s*(?:&lt;)?\s*(?:javascript|vbscript|data)\s*:)")


def user_markdown(text: str) -> str:
    """The user's own description: Markdown formatting kept, HTML and script links made inert text."""
    text = "".join(_visible(ch) if ch not in "\n\t" else ch for ch in text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SCRIPT_LINK.sub(lambda m: "]\\" + m.group(1), text)


# -- the YAML header ----------------------------------------------------------------------------------------
_YAML_FRAGILE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]|^\s|\s$")


class _CardDumper(yaml.SafeDumper):
    """Strings YAML would fold or strip (line separators, control characters, edge spaces) are written in
    double quotes with escapes, so every name reads back exactly."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = '"' if _YAML_FRAGILE.search(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_CardDumper.add_representer(str, _represent_str)


def card_yaml(data: dict[str, Any]) -> str:
    """The card's YAML header text; ``yaml.safe_load`` gives ``data`` back exactly.

    >>> text = card_yaml({"labels": ["a\x85b", " x", "yes", "- &a [*a]"]})
    >>> yaml.safe_load(text)["labels"]
    ['a\x85b', ' x', 'yes', '- &a [*a]']
    """
    text = yaml.dump(data, Dumper=_CardDumper, sort_keys=False, allow_unicode=True, width=1_000_000)
    if yaml.safe_load(text) != data:  # a last guard: never publish a header that reads back differently
        raise ValueError("the card's YAML header does not read back identically")
    return text.rstrip("\n")
