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
# Bytes in a known encoding parse faster than a ``str`` (which lxml re-encodes first).
_UTF8_PARSER = etree.HTMLParser(
    remove_comments=True, remove_pis=True, recover=True, encoding="utf-8"
)


def page_text(html: str | bytes) -> str:
    """The page as text: bytes decoded by BOM / meta charset, else UTF-8."""
    if isinstance(html, bytes):
        _encoding, html = html_to_unicode(None, html)
    return html


def parse_html(html: str | bytes) -> Element | None:
    """Parse a page (bytes decoded as :func:`page_text` does), or None."""
    return parse_page(page_text(html))[0]


def parse_page(text: str) -> tuple[Element | None, bytes]:
    """Parse decoded page text: (root element or None, the text as UTF-8 bytes).

    The bytes serve cheap marker tests (``b"itemprop" in data.lower()``) without a
    second pass of Unicode case folding; text that cannot be UTF-8 (lone surrogates)
    is parsed as ``str`` and its bytes carry replacement marks."""
    text = _XML_DECLARATION.sub("", text, count=1)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        data = text.encode("utf-8", "replace")
        return (_parse(text, _PARSER) if text.strip() else None), data
    return (_parse(data, _UTF8_PARSER) if text.strip() else None), data


def _parse(source: str | bytes, parser: Any) -> Element | None:
    try:
        root = etree.fromstring(source, parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None
    return root if is_element(root) else None


def is_element(node: object) -> bool:
    """A real element (not a comment, not a string result of an XPath)."""
    return isinstance(node, etree._Element) and isinstance(node.tag, str)


def text_of(element: Element) -> str:
    """All text inside ``element`` (like ``lxml.html``'s ``text_content()``)."""
    return str(etree.tostring(element, method="text", encoding="unicode", with_tail=False))
