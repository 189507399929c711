"""The parsed page: one lexbor parse (selectolax) per page, and node helpers.

Lexbor parses a 500 KB shop page several times faster than libxml2, and its CSS engine
answers one combined selector in a single walk of the tree, so extraction asks for
everything it needs in a few queries instead of walking the tree in Python. Nodes are
re-created on each access: identity is ``node.mem_id``.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode
from w3lib.encoding import html_to_unicode

Node = LexborNode
Document = LexborHTMLParser
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_HIDDEN_CLASS = re.compile(
    r"(?<![\w-])(?:hidden|d-none|is-hidden|u-hidden|hide|invisible|display-none)(?![\w-])"
)
_SPACE = re.compile(r"[\s\u00a0\u2009\u202f\u2007\u200b]+")


def page_text(html: str | bytes) -> str:
    """The page as text: bytes decoded by BOM / meta charset, else UTF-8."""
    if isinstance(html, bytes):
        _encoding, html = html_to_unicode(None, html)
    return html


def parse_document(text: str) -> Document | None:
    """Parse decoded page text, or None for an empty page."""
    text = _XML_DECLARATION.sub("", text, count=1)
    if not text.strip():
        return None
    # Lone surrogates (broken pages) cannot be encoded for the parser.
    text = text.encode("utf-8", "replace").decode("utf-8")
    doc = LexborHTMLParser(text)
    return doc if doc.root is not None else None


def parse_html(html: str | bytes) -> Document | None:
    """Parse a page (bytes decoded as :func:`page_text` does), or None."""
    return parse_document(page_text(html))


def squash(text: str | None) -> str:
    """Collapse all kinds of whitespace (NBSP, thin spaces) to one space and strip."""
    return _SPACE.sub(" ", text or "").strip()


def text_of(node: Node) -> str:
    """All text inside ``node``, whitespace collapsed."""
    return squash(node.text(deep=True, separator=""))


def attr(node: Node, name: str) -> str:
    """An attribute's value, ``""`` when absent or valueless."""
    return node.attributes.get(name) or ""


def label(node: Node) -> str:
    """Class and id of a node, lower-case (the words markup uses to name a block)."""
    attrs = node.attributes
    return f"{attrs.get('class') or ''} {attrs.get('id') or ''}".lower()


def is_hidden(node: Node) -> bool:
    """The node itself is hidden (``hidden``, ``aria-hidden``, ``display:none``, a hiding
    class); screen-reader-only text is text a shopper's reader says, so it counts. A
    struck-through old price is shown even when hidden from screen readers."""
    attrs = node.attributes
    if "hidden" in attrs:
        return True
    if attrs.get("aria-hidden") == "true" and node.tag not in ("del", "s", "strike"):
        return True
    style = attrs.get("style")
    if style and _HIDDEN_STYLE.search(style):
        return True
    cls = attrs.get("class")
    return bool(cls and _HIDDEN_CLASS.search(cls.lower()))


def ancestors(node: Node) -> list[Node]:
    """Parents from the nearest up to ``<html>``."""
    out: list[Node] = []
    parent = node.parent
    while parent is not None and parent.tag not in ("html", "-document", None):
        out.append(parent)
        parent = parent.parent
    return out
