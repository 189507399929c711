"""A plain YML file cut into its offers' raw bytes, so unchanged offers need no parsing.

A feed re-sent with few changes is mostly offers already applied. Their bytes are
fingerprinted (:mod:`repricer.feeds.fingerprints`) before any XML parsing, and only the
offers whose bytes are new go through lxml. This is sound only when byte cutting and the
XML parser agree on where each offer is, so it is done only for a *plain* layout: a
prolog ending in ``<offers>``, then nothing but whitespace between ``<offer ...>`` …
``</offer>`` elements (no comments, no ``<offer`` or ``</offer>`` inside one, every
offer with an ``id``), then ``</offers>`` and the end of the catalog, and no DOCTYPE,
entity or namespace anywhere in the prolog. The prolog and epilogue are parsed together
(so a cut file is caught), and every new offer is parsed. Anything else raises
:class:`NotPlain`, and the caller reads the file with :func:`repricer.feeds.parsers.yml.iter_yml`,
which reports errors with their line.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from repricer.feeds.parsers import RawRow
from repricer.feeds.parsers.yml import offer_fields

BLOCK = 8 << 20  # bytes read at a time: memory stays flat whatever the feed's size
_CLOSE = b"</offer>"
_OPEN = b"<offer"
_USUAL_STARTS = (b"\n<offer ", b"<offer ", b"\r\n<offer ", b"\n<offer>")
_OPENER_BYTES = (b" ", b"\t", b"\r", b"\n", b">")
_WHITESPACE = b" \t\r\n"
_NOT_PLAIN_PROLOG = (b"<!DOCTYPE", b"<!ENTITY", b"xmlns", b"<!--")
_MAX_PROLOG = 64 << 20


class NotPlain(Exception):
    """The file is not laid out plainly enough to be cut into offers by bytes."""


class OfferPieces:
    """The offers of a plain YML file, block by block: each piece is one offer's bytes
    from its leading whitespace up to, not including, its ``</offer>``."""

    def __init__(self, path: Path, encoding: str = "auto") -> None:
        self.path = path
        self.encoding = encoding
        self.declaration = b""
        self._prolog = b""

    def blocks(self) -> Iterator[list[bytes]]:
        """Yield the offers block by block; raise :class:`NotPlain` (possibly after some
        blocks) when the layout is not plain or the frame is not a whole YML catalog."""
        with self.path.open("rb") as fh:
            rest = self._read_prolog(fh)
            while True:
                chunk = fh.read(BLOCK)
                rest += chunk
                cut = rest.rfind(_CLOSE)
                if cut >= 0:
                    body = rest[:cut]
                    rest = rest[cut + len(_CLOSE) :]
                    yield _checked(body)
                elif len(rest) > _MAX_PROLOG:
                    raise NotPlain("an offer larger than a block")
                if not chunk:
                    break
        self._check_frame(rest)

    def parse(self, pieces: list[bytes]) -> Iterator[RawRow]:
        """Parse offers (pieces from :meth:`blocks`) into ``(offer id, fields)``."""
        body = _CLOSE.join(pieces)
        document = self.declaration + b"<offers>" + body + _CLOSE + b"</offers>"
        try:
            root = etree.fromstring(document, _parser(self.encoding))
        except (etree.XMLSyntaxError, LookupError, ValueError):
            raise NotPlain("an offer that is not well-formed on its own") from None
        for elem in root:
            if not isinstance(elem.tag, str) or elem.tag != "offer" or not elem.get("id"):
                raise NotPlain("an offer without an id, or not an offer")
            yield elem.get("id"), offer_fields(elem)

    def _read_prolog(self, fh: Any) -> bytes:
        head = b""
        while (start := head.find(b"<offers>")) < 0:
            chunk = fh.read(BLOCK)
            if not chunk or len(head) > _MAX_PROLOG:
                raise NotPlain("no <offers> element")
            head += chunk
        prolog = head[: start + len(b"<offers>")]
        if any(mark in prolog for mark in _NOT_PLAIN_PROLOG) or b"<yml_catalog" not in prolog:
            raise NotPlain("a prolog with a DOCTYPE, entities, comments or namespaces")
        if prolog.startswith(b"<?xml"):
            self.declaration = prolog[: prolog.index(b"?>") + 2]
        self._prolog = prolog
        return head[len(prolog) :]

    def _check_frame(self, rest: bytes) -> None:
        epilogue = rest.lstrip(_WHITESPACE)
        if not epilogue.startswith(b"</offers>") or _OPEN in epilogue:
            raise NotPlain("the offers do not end with </offers>")
        try:
            root = etree.fromstring(self._prolog + epilogue, _parser(self.encoding))
        except (etree.XMLSyntaxError, LookupError, ValueError):
            raise NotPlain("the catalog around the offers is not well-formed") from None
        if root.tag != "yml_catalog":
            raise NotPlain("not a YML catalog")


def _checked(body: bytes) -> list[bytes]:
    """``body`` cut at each ``</offer>``; every piece must be whitespace, then one
    ``<offer`` element's opening and content, with no other ``<offer`` in it."""
    pieces = body.split(_CLOSE)
    # The usual layout, one offer a line, checked in C: every piece starts so, and the
    # block holds no other "<offer".
    if body.count(_OPEN) == len(pieces) and all(map(bytes.startswith, pieces, _usual())):
        return pieces
    for piece in pieces:
        start = len(piece) - len(piece.lstrip(_WHITESPACE))
        if (
            not piece.startswith(_OPEN, start)
            or piece[start + len(_OPEN) : start + len(_OPEN) + 1] not in _OPENER_BYTES
            or piece.find(_OPEN, start + 1) >= 0
        ):
            raise NotPlain("something other than an offer between offers")
    return pieces


def _usual() -> Iterator[tuple[bytes, ...]]:
    return itertools.repeat(_USUAL_STARTS)


def _parser(encoding: str) -> Any:
    options: dict[str, Any] = {}
    if encoding != "auto":
        options["encoding"] = (
            "utf-8" if encoding.lower().replace("_", "-") == "utf-8-sig" else encoding
        )
    return etree.XMLParser(huge_tree=True, resolve_entities=False, **options)
