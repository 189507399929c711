"""The parsed page: one lexbor parse (selectolax) per page, and node helpers.

Lexbor parses a 500 KB shop page several times faster than libxml2, and its CSS engine
walks the tree in C far faster than Python could, so extraction asks for what it needs in
a few queries over the smallest block that holds it. Each selector of a comma list
costs one walk of its own (as ``:is()`` does), so lists are kept short. Nodes are
re-created on each access: identity is ``node.mem_id``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from selectolax.lexbor import LexborHTMLParser, LexborNode
from w3lib.encoding import (
    html_body_declared_encoding,
    html_to_unicode,
    read_bom,
    resolve_encoding,
)

from spiders.pages._memory import keep_freed_memory

Node = LexborNode
Document = LexborHTMLParser
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_HIDDEN_CLASS = re.compile(
    r"(?<![\w-])(?:hidden|d-none|is-hidden|u-hidden|hide|invisible|display-none)(?![\w-])"
)
_TOP = frozenset({"html", "-document", None})
_SPACE = re.compile(r"[\s\u00a0\u2009\u202f\u2007\u200b]+")


def page_text(html: str | bytes) -> str:
    """The page as text: bytes decoded by BOM / meta charset, else UTF-8."""
    if isinstance(html, bytes):
        _encoding, html = html_to_unicode(None, html)
    return html


def parse_document(text: str) -> Document | None:
    """Parse decoded page text, or None for an empty page."""
    keep_freed_memory()
    if text[:200].lstrip().startswith("<?xml"):
        text = _XML_DECLARATION.sub("", text, count=1)
    if not text or text.isspace():
        return None
    try:
        doc = LexborHTMLParser(text)
    except UnicodeEncodeError:  # lone surrogates in a broken page
        doc = LexborHTMLParser(text.encode("utf-8", "replace"))
    return doc if doc.root is not None else None


def read_page(html: str | bytes) -> tuple[Document | None, str | bytes]:
    """Parse a page once: (document or None, its source for cheap marker tests).

    UTF-8 bytes (by BOM or declaration, or undeclared) go to the parser as they are and
    serve as the source; bytes in another encoding are decoded first (as
    :func:`page_text` does)."""
    if isinstance(html, str):
        return parse_document(html), html
    bom, _skip = read_bom(html)
    encoding = bom or html_body_declared_encoding(html) or "utf-8"
    if resolve_encoding(encoding) not in ("utf-8", "ascii") or not html or html.isspace():
        text = page_text(html)
        return parse_document(text), text
    body = html[3:] if html.startswith(b"\xef\xbb\xbf") else html
    keep_freed_memory()
    doc = LexborHTMLParser(body)
    return (doc if doc.root is not None else None), body


def contains(source: str | bytes, marker: str) -> bool:
    """``marker`` (ASCII) occurs in the page source."""
    return (marker.encode() in source) if isinstance(source, bytes) else (marker in source)


def parse_html(html: str | bytes) -> Document | None:
    """Parse a page (bytes decoded as :func:`page_text` does), or None."""
    return read_page(html)[0]


def squash(text: str | None) -> str:
    """Collapse all kinds of whitespace (NBSP, thin spaces) to one space and strip."""
    return _SPACE.sub(" ", text or "").strip()


def ascii_lower(text: str) -> str:
    """``text`` with its ASCII letters lower-cased and no other change, as a CSS
    attribute selector's ``i`` flag compares (``İ`` does not become ``i``)."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def text_of(node: Node) -> str:
    """All text inside ``node``, whitespace collapsed."""
    return squash(node.text(deep=True, separator=""))


def attr(node: Node, name: str) -> str:
    """An attribute's value, ``""`` when absent or valueless."""
    return node.attributes.get(name) or ""


Attributes = dict[str, str | None]


def label(node: Node, attrs: Attributes | None = None) -> str:
    """Class and id of a node, lower-case (the words markup uses to name a block).
    ``attrs``: the node's attributes when the caller has read them already (reading
    them builds a dict)."""
    if attrs is None:
        attrs = node.attributes
    return f"{attrs.get('class') or ''} {attrs.get('id') or ''}".lower()


def is_hidden(node: Node, attrs: Attributes | None = None) -> bool:
    """The node itself is hidden (``hidden``, ``aria-hidden``, ``display:none``, a hiding
    class); screen-reader-only text is text a shopper's reader says, so it counts. A
    struck-through old price is shown even when hidden from screen readers."""
    if attrs is None:
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


def lineage(node: Node) -> Iterator[Node]:
    """``node``, then its parents up to (not including) ``<html>``, lazily: walks that
    stop early do not build the whole chain."""
    current: Node | None = node
    while current is not None and current.tag not in _TOP:
        yield current
        current = current.parent


def ancestors(node: Node, limit: int = 10_000) -> list[Node]:
    """Parents from the nearest up to ``<html>`` (at most ``limit`` of them)."""
    out: list[Node] = []
    parent = node.parent
    while parent is not None and len(out) < limit and parent.tag not in _TOP:
        out.append(parent)
        parent = parent.parent
    return out
