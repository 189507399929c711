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

# Child element -> raw field name.
_CHILDREN = {
    "price": "cost",
    "oldprice": "old_price",
    "currencyId": "currency",
    "vendorCode": "vendor_code",
    "barcode": "barcode",
    "name": "name",
    "model": "model",
    "vendor": "vendor",
    "count": "stock",
    "quantity": "stock",
    "stock": "stock",
    "stock_quantity": "stock",
    "purchase_price": "purchase_price",
}


def iter_yml(path: Path, *, encoding: str = "auto") -> Iterator[RawRow]:
    """Yield ``(offer id or line number, fields)`` for every offer; raise InputFileError when the
    file is not well-formed XML (including a truncated download) or not a YML catalog."""
    options: dict[str, Any] = {"encoding": encoding} if encoding != "auto" else {}
    events = etree.iterparse(
        str(path), events=("end",), tag="offer", huge_tree=True, resolve_entities=False, **options
    )
    checked = False
    try:
        for _event, elem in events:
            if not checked:
                _check_root(elem, path)
                checked = True
            yield elem.get("id") or elem.sourceline, _offer_fields(elem)
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


def _offer_fields(elem: Any) -> dict[str, Any]:
    offer_id = elem.get("id")
    fields: dict[str, Any] = {"offer_id": offer_id, "sku": offer_id}
    if (available := elem.get("available")) is not None:
        fields["available"] = available
    for child in elem:
        # A comment's tag is a function: no entry in _CHILDREN, so it is passed over.
        name = _CHILDREN.get(child.tag)
        if name is not None:
            if name not in fields:
                fields[name] = child.text
        elif child.tag == "outlets" and "stock" not in fields:
            fields["stock"] = _outlets_stock(child)
    if "purchase_price" in fields:
        fields["retail_price"] = fields.get("cost")
        fields["cost"] = fields.pop("purchase_price")
    if "name" not in fields and "model" in fields:
        fields["name"] = fields["model"]
    return fields


def _outlets_stock(outlets: Any) -> int | None:
    counts = [o.get("instock") for o in outlets if isinstance(o.tag, str)]
    numbers = [int(c) for c in counts if c is not None and c.strip().isdigit()]
    return sum(numbers) if numbers else None
