"""YML (Yandex Market Language) offers, stream-parsed with lxml ``iterparse``.

Reads ``yml_catalog/shop/offers/offer``. The encoding comes from the XML declaration
(``windows-1251`` is common) unless the supplier sets one. ``price`` is the supplier's
price to us (our cost) unless the offer also has ``purchase_price``, in which case
``price`` is the suggested retail price. Stock comes from ``count`` (or ``quantity``,
``stock``, ``stock_quantity``, ``outlets/outlet@instock``); ``available="false"``
marks an offer out of stock. Each offer element is freed once read, so memory stays
flat whatever the size of the feed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from repricer.exceptions import InputFileError
from repricer.feeds.parsers import RawRow

# Elements that may carry the stock count, in order of preference.
_STOCK_TAGS = ("count", "quantity", "stock", "stock_quantity")


def iter_yml(path: Path, *, encoding: str = "auto") -> Iterator[RawRow]:
    """Yield ``(offer id or line number, fields)`` for every offer; raise InputFileError when the
    file is not well-formed XML (including a truncated download) or not a YML catalog."""
    options: dict[str, Any] = {}
    if encoding != "auto":
        # libxml2 skips a BOM by itself and does not know Python's "utf-8-sig".
        options["encoding"] = (
            "utf-8" if encoding.lower().replace("_", "-") == "utf-8-sig" else encoding
        )
    events = etree.iterparse(
        str(path), events=("end",), tag="offer", huge_tree=True, resolve_entities=False, **options
    )
    checked = False
    try:
        for _event, elem in events:
            if not checked:
                _check_root(elem, path)
                checked = True
            yield elem.get("id") or elem.sourceline, offer_fields(elem)
            elem.clear(keep_tail=False)
            parent = elem.getparent()
            while parent is not None and elem.getprevious() is not None:
                del parent[0]
        if not checked:
            _check_root(events.root, path)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) else None
        raise InputFileError(f"not well-formed YML/XML ({exc.msg})", path=path, line=line) from None
    except LookupError as exc:
        raise InputFileError(f"unknown encoding: {exc}", path=path) from None


def _check_root(elem: Any, path: Path) -> None:
    root = elem.getroottree().getroot()
    if root.tag != "yml_catalog":
        raise InputFileError(f"not a YML catalog (root element <{root.tag}>)", path=path)


def offer_fields(elem: Any) -> dict[str, Any]:
    """The raw fields of one ``<offer>`` element."""
    # One pass over the children into {tag: text}; a comment's tag is a function and
    # simply never looked up.
    tags = {child.tag: child.text for child in elem}
    offer_id = elem.get("id")
    fields: dict[str, Any] = {
        "offer_id": offer_id,
        "sku": offer_id,
        "available": elem.get("available"),
        "cost": tags.get("price"),
        "old_price": tags.get("oldprice"),
        "currency": tags.get("currencyId"),
        "vendor_code": tags.get("vendorCode"),
        "barcode": tags.get("barcode"),
        "name": tags.get("name") or tags.get("model"),
        "vendor": tags.get("vendor"),
        "stock": _stock(tags, elem),
    }
    if "purchase_price" in tags:
        fields["retail_price"] = fields["cost"]
        fields["cost"] = tags["purchase_price"]
    return fields


def _stock(tags: dict[Any, Any], elem: Any) -> Any:
    for tag in _STOCK_TAGS:
        if tag in tags:
            return tags[tag]
    outlets = elem.find("outlets") if "outlets" in tags else None
    return _outlets_stock(outlets) if outlets is not None else None


def _outlets_stock(outlets: Any) -> int | None:
    counts = [o.get("instock") for o in outlets if isinstance(o.tag, str)]
    numbers = [int(c) for c in counts if c is not None and c.strip().isdigit()]
    return sum(numbers) if numbers else None
