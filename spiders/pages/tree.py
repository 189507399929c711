"""The parsed page: plain lxml elements (no ``lxml.html`` element classes, whose
per-element Python lookup costs more than the parse) and text helpers."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree  # type: ignore[import-untyped]
from w3lib.encoding import html_to_unicode

Element = Any  # lxml.etree._Element; lxml ships no type hints
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, recover=True)


def page_text(html: str | bytes) -> str:
    """The page as text: bytes decoded by BOM / meta charset, else UTF-8."""
    if isinstance(html, bytes):
        _encoding, html = html_to_unicode(None, html)
    return html


def parse_html(html: str | bytes) -> Element | None:
    """Parse a page (bytes decoded as :func:`page_text` does), or None."""
    html = _XML_DECLARATION.sub("", page_text(html), count=1)
    if not html.strip():
        return None
    try:
        root = etree.fromstring(html, _PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None
    return root if is_element(root) else None


def is_element(node: object) -> bool:
    """A real element (not a comment, not a string result of an XPath)."""
    return isinstance(node, etree._Element) and isinstance(node.tag, str)


def text_of(element: Element) -> str:
    """All text inside ``element`` (like ``lxml.html``'s ``text_content()``)."""
    return str(etree.tostring(element, method="text", encoding="unicode", with_tail=False))
