"""A downloaded page's encoding, decided cheaply, and its text decoded at most once.

Scrapy's ``TextResponse.text`` decodes the whole body to find out what a page is: for a
page without a charset in its headers or in its first 4 KB, it decodes the body trying
encodings in turn. Here the crawling process only reads what is cheap to read (the byte
order mark, the Content-Type header, the ``<meta>`` declarations of the page's head, up
to ``HEAD_BYTES``), and whoever extracts the page decodes it once, or not at all:
UTF-8 bytes go to the parser as they are. A page that declares nothing is UTF-8 when
its bytes are, else what charset-normalizer makes of it (as Scrapy decides).

Imports no Scrapy: the extraction worker processes use it too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
    to_unicode,
)

if TYPE_CHECKING:
    from scrapy.http import TextResponse

# How much of a page is its head for the purpose of finding declarations (a charset, a
# meta refresh): real shop pages put 20 KB of styles and scripts before their charset.
HEAD_BYTES = 64 * 1024
# Enough bytes for the 20,000 characters that block detection reads, in any encoding.
TEXT_HEAD_BYTES = 4 * 20_000
# What w3lib reads of the body for a declaration (the WHATWG prescan reads 1 KB).
_PRESCAN_BYTES = 4096
_WIDE = frozenset({"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"})


def declared_encoding(body: bytes, content_type: bytes | str | None) -> str | None:
    """The encoding a page declares (Python codec name), or None when it declares none:
    its byte order mark, else the Content-Type header's charset, else a ``<meta>``
    charset (or ``<?xml`` encoding) in its head."""
    bom, _mark = read_bom(body)
    if bom:
        return bom
    if content_type:
        header = content_type.decode("latin-1") if isinstance(content_type, bytes) else content_type
        found = http_content_type_encoding(header)
        if found:
            return found
    return head_declared_encoding(body)


def head_declared_encoding(body: bytes) -> str | None:
    """The charset a ``<meta>`` tag of the page's head declares: in the first 4 KB as
    w3lib reads it, else anywhere before ``<body`` within ``HEAD_BYTES``."""
    found = html_body_declared_encoding(body[:_PRESCAN_BYTES])
    if found or len(body) <= _PRESCAN_BYTES:
        return found
    head = body[:HEAD_BYTES].lower()  # a copy, searched faster than by a regex
    end = head.find(b"<body", _PRESCAN_BYTES // 2)
    end = len(head) if end < 0 else end
    mention = head.find(b"charset", _PRESCAN_BYTES // 2, end)
    while mention >= 0:
        tag = head.rfind(b"<", 0, mention)
        if tag >= 0:
            found = html_body_declared_encoding(body[tag : mention + 256])
            if found:
                return found
        mention = head.find(b"charset", mention + 1, end)
    return None


def response_encoding(response: TextResponse) -> str | None:
    """The encoding of a downloaded page: the one it was built with (the browser
    handler sets one), else the one the page declares (:func:`declared_encoding`)."""
    explicit = getattr(response, "_encoding", None)  # reading .encoding would decode
    if explicit:
        return resolve_encoding(explicit) or explicit
    return declared_encoding(response.body, response.headers.get(b"Content-Type"))


def page_source(body: bytes, encoding: str | None) -> str | bytes:
    """What to give ``extract_product``: the bytes of a UTF-8 page as they are (the
    parser reads them without a decoded copy), the text of any other. ``encoding`` is
    the page's declared one (None: undeclared, decided here)."""
    encoding = encoding or undeclared_encoding(body)
    if encoding == "utf-8":
        # extract_product reads the bytes' own declaration; one that disagrees with
        # the header loses to it, as in a browser, so such a page goes decoded.
        own = html_body_declared_encoding(body[:_PRESCAN_BYTES])
        if own is None or own == "utf-8":
            return body
    bom, mark = read_bom(body)
    if bom == encoding and mark:
        body = body[len(mark) :]
    return to_unicode(body, encoding)


def undeclared_encoding(body: bytes) -> str:
    """The encoding of a page that declares none: UTF-8 (ASCII included) when its
    bytes are valid UTF-8, else charset-normalizer's best guess, else cp1252."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    from charset_normalizer import from_bytes

    match = from_bytes(body).best()
    guess = resolve_encoding(match.encoding) if match is not None else None
    return guess or "cp1252"


def head_text(body: bytes, encoding: str | None) -> str:
    """The first ``TEXT_HEAD_BYTES`` of a page as text (a character cut at the end is
    replaced): what block detection reads, without decoding the whole page."""
    return to_unicode(body[:TEXT_HEAD_BYTES], encoding or "utf-8")


def ascii_compatible(encoding: str) -> bool:
    """ASCII markup is spelled with the same bytes in this encoding (not UTF-16/32)."""
    return encoding not in _WIDE
