"""One price element as a shopper sees it: its visible text (struck parts and scripts
left out, cents in a ``<sup>`` read as decimals) and whether it is an old price."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from spiders.pages._phrases import OLD_PRICE_CLASS
from spiders.pages.tree import Node, label, lineage, squash

DIGIT = re.compile(r"\d")
# A percentage or a pack size ("2 x 500 ml"), not an amount.
NOT_A_PRICE = re.compile(r"%|\d\s*[x×]\s*\d")
SKIPPED_TAGS = frozenset({"del", "s", "strike", "script", "style", "template", "noscript"})


@dataclass(frozen=True)
class Candidate:
    """A visible price: its value, currency sign, old or current, steps from the title."""

    price: Decimal
    currency: str | None
    old: bool
    distance: int


def is_old(node: Node) -> bool:
    """Struck through, or marked old by its own class or one of its 3 nearest parents."""
    for depth, current in enumerate(lineage(node)):
        if depth > 3 or current.tag in ("body", "main", "article"):
            break
        if current.tag in ("del", "s", "strike") or OLD_PRICE_CLASS.search(label(current)):
            return True
        if "line-through" in (current.attributes.get("style") or ""):
            return True
    return False


def own_text(node: Node, keep_struck: bool = False, limit: int | None = None) -> str:
    """Visible text without struck-through parts and scripts; kopecks or cents in a
    2-digit ``<sup>`` after the amount become its decimals (``2 490<sup>90`` reads
    2 490,90, not 249 090). With ``limit``, reading stops once the text holds that many
    non-space characters: the text then starts as the whole one does, and a big block
    is not read through for its first words."""
    return _own_text(node, keep_struck, limit)[0]


def _own_text(node: Node, keep_struck: bool, limit: int | None) -> tuple[str, int]:
    """(the text, its count of non-space characters so far)."""
    parts: list[str] = []
    seen = 0
    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == "-text":
            text = child.text_content or ""
        elif _skipped(child, keep_struck):
            continue
        elif tag == "sup":
            text = own_text(child)
            before = "".join(parts).rstrip()
            if re.fullmatch(r"\d\d", text) and before[-1:].isdigit():
                text = ("." if "," in before.rsplit(" ", 1)[-1] else ",") + text
        elif tag and not tag.startswith("-"):
            text, _seen = _own_text(child, keep_struck, None if limit is None else limit - seen)
        else:
            continue
        parts.append(text)
        if limit is not None:
            seen += len("".join(text.split()))
            if seen >= limit:
                break
    return squash("".join(parts)), seen


def _skipped(node: Node, keep_struck: bool) -> bool:
    """Scripts, and old prices (struck or old-marked) unless they are wanted."""
    if node.tag in SKIPPED_TAGS:
        return not (keep_struck and node.tag in ("del", "s", "strike"))
    return not keep_struck and bool(OLD_PRICE_CLASS.search(node.attributes.get("class") or ""))
