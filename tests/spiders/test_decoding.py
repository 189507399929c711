"""``spiders.decoding``: a page's encoding from its BOM, headers and head, and its text
decoded once (UTF-8 pages not at all)."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse

from spiders.decoding import (
    HEAD_BYTES,
    declared_encoding,
    head_text,
    page_source,
    undeclared_encoding,
)

RUSSIAN = "Чайник электрический, цена 2 490 руб. В наличии. " * 40
# Real shop pages put tens of KB of styles and scripts before their charset.
BIG_HEAD = "<style>" + ".a{color:red}" * 2000 + "</style>"


def _page(head: str = "", body: str = RUSSIAN) -> str:
    return (
        f"<!DOCTYPE html><html><head>{head}<title>Чайник</title></head><body>{body}</body></html>"
    )


CASES = [
    ("header", _page().encode("cp1251"), "text/html; charset=windows-1251", "cp1251"),
    ("header beats meta", _page("<meta charset='utf-8'>").encode("cp1251"),
     "text/html; charset=windows-1251", "cp1251"),
    ("BOM beats header", b"\xef\xbb\xbf" + _page().encode(), "text/html; charset=cp1251", "utf-8"),
    ("meta at the start", _page("<meta charset='windows-1251'>").encode("cp1251"), "text/html",
     "cp1251"),
    ("http-equiv", _page('<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">')
     .encode("koi8-r"), None, "koi8-r"),
    ("meta only late in the head", _page(BIG_HEAD + "<meta charset=windows-1251>").encode("cp1251"),
     "text/html", "cp1251"),
    ("a charset in the body does not count",
     _page(BIG_HEAD, body="<meta charset=koi8-r>" + RUSSIAN).encode(), "text/html", None),
    ("beyond the head bytes", _page("<!--" + "x" * HEAD_BYTES + "--><meta charset=koi8-r>").encode(),
     None, None),
    ("undeclared", _page().encode(), "text/html", None),
    ("unknown names count as undeclared", _page("<meta charset='x-nonsense'>").encode(),
     "text/html; charset=bogus-9", None),
]  # fmt: skip


@pytest.mark.parametrize(("body", "content_type", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])  # fmt: skip
def test_declared_encoding(body: bytes, content_type: str | None, expected: str | None) -> None:
    assert declared_encoding(body, content_type) == expected
    if content_type is not None:
        assert declared_encoding(body, content_type.encode()) == expected


def test_utf8_pages_go_to_the_parser_as_bytes() -> None:
    body = _page("<meta charset='utf-8'>").encode()
    assert page_source(body, "utf-8") is body
    assert page_source(body, None) is body  # undeclared, valid UTF-8


def test_other_pages_are_decoded_once_with_their_encoding() -> None:
    body = _page(BIG_HEAD + "<meta charset=windows-1251>").encode("cp1251")
    text = page_source(body, declared_encoding(body, "text/html"))
    assert isinstance(text, str) and "Чайник электрический" in text


def test_a_header_that_disagrees_with_the_page_wins() -> None:
    """UTF-8 in the header, cp1251 in the page's meta: the parser must not reread the
    bytes by the meta, so the page goes decoded as the header says."""
    body = _page("<meta charset='windows-1251'>").encode()
    text = page_source(body, declared_encoding(body, "text/html; charset=utf-8"))
    assert isinstance(text, str) and "Чайник электрический" in text


def test_a_byte_order_mark_is_not_part_of_the_text() -> None:
    body = b"\xff\xfe" + _page().encode("utf-16-le")
    encoding = declared_encoding(body, None)
    text = page_source(body, encoding)
    assert isinstance(text, str) and text.startswith("<!DOCTYPE html>")


def test_an_undeclared_page_that_is_not_utf8_is_guessed_as_scrapy_guesses() -> None:
    body = _page().encode("cp1251")
    scrapy = HtmlResponse("http://127.0.0.1/p", body=body, headers={"Content-Type": "text/html"})
    assert undeclared_encoding(body) == scrapy.encoding
    assert page_source(body, None) == scrapy.text


def test_head_text_decodes_only_the_start() -> None:
    body = _page(body=RUSSIAN * 100).encode("cp1251")
    text = head_text(body, "cp1251")
    assert text.startswith("<!DOCTYPE html>") and "Чайник" in text
    assert len(text) < len(body) // 2
