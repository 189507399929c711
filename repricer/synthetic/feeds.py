"""Supplier price lists as suppliers send them.

- YML (Yandex Market Language): ``price`` is our purchase cost in major units with a dot,
  ``available`` and ``count`` carry stock; UTF-8 unless told.
- CSV the way 1C exports it: cp1251, ``;`` separators, Russian headers, decimal commas
  and no-break-space thousands (``1 234,50``), CRLF line ends.

``*_lines`` yield the text piece by piece, so a benchmark can write a million offers
without holding them; ``yml_feed`` and ``csv_feed`` give the encoded bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape

from repricer.money import NBSP

# Field -> header, in column order: what a CSV carries unless told otherwise.
CSV_COLUMNS = {"sku": "Артикул", "name": "Наименование", "cost": "Цена закупки", "stock": "Остаток"}


@dataclass(frozen=True)
class FeedOffer:
    """One offer: ``cost`` in kopecks (None: no price), ``stock`` None when the feed does
    not say; ``price_text`` is written as is instead of ``cost`` (messy prices);
    ``available`` defaults to "stock above zero, or unknown"."""

    id: str
    cost: int | None = None
    stock: int | None = None
    name: str = ""
    brand: str | None = None
    vendor_code: str | None = None
    barcode: str | None = None
    available: bool | None = None
    price_text: str | None = None

    @property
    def is_available(self) -> bool:
        if self.available is not None:
            return self.available
        return self.stock is None or self.stock > 0


def yml_lines(
    offers: Iterable[FeedOffer],
    *,
    shop: str = "Shop",
    category: str | None = None,
    date: str = "2026-01-01 00:00",
    encoding: str = "UTF-8",
) -> Iterator[str]:
    """The YML catalog, one offer a line; ``category`` (if any) is every offer's."""
    categories = f'<categories><category id="1">{escape(category or "")}</category></categories>'
    yield (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<yml_catalog date="{date}"><shop>'
        f'<name>{escape(shop)}</name><currencies><currency id="RUR" rate="1"/></currencies>'
        f"{categories if category else ''}<offers>\n"
    )
    for offer in offers:
        yield _yml_offer(offer, category is not None) + "\n"
    yield "</offers></shop></yml_catalog>\n"


def yml_feed(offers: Iterable[FeedOffer], *, encoding: str = "UTF-8", **options: str) -> bytes:
    """The YML catalog as bytes in ``encoding`` (see :func:`yml_lines` for ``options``)."""
    return "".join(yml_lines(offers, encoding=encoding, **options)).encode(encoding)


def _yml_offer(offer: FeedOffer, categorised: bool) -> str:
    price = offer.price_text if offer.price_text is not None else _dot(offer.cost)
    parts = [f'<offer id="{escape(offer.id)}" available="{str(offer.is_available).lower()}">']
    if price is not None:
        parts.append(f"<price>{escape(price)}</price><currencyId>RUR</currencyId>")
    if categorised:
        parts.append("<categoryId>1</categoryId>")
    for tag, value in (
        ("vendor", offer.brand),
        ("vendorCode", offer.vendor_code),
        ("barcode", offer.barcode),
        ("name", offer.name),
    ):
        if value:
            parts.append(f"<{tag}>{escape(value)}</{tag}>")
    if offer.stock is not None:
        parts.append(f"<count>{offer.stock}</count>")
    return "".join(parts) + "</offer>"


def csv_lines(
    offers: Iterable[FeedOffer], *, columns: Mapping[str, str] = CSV_COLUMNS
) -> Iterator[str]:
    """The header, then one line per offer with the ``columns`` fields (``sku``,
    ``name``, ``cost``, ``stock``) in their order; CRLF line ends."""
    yield ";".join(columns.values()) + "\r\n"
    for offer in offers:
        yield ";".join(_csv_field(offer, field) for field in columns) + "\r\n"


def csv_feed(
    offers: Iterable[FeedOffer],
    *,
    columns: Mapping[str, str] = CSV_COLUMNS,
    encoding: str = "cp1251",
) -> bytes:
    """The CSV as bytes in ``encoding`` (cp1251 by default, as 1C writes it)."""
    return "".join(csv_lines(offers, columns=columns)).encode(encoding)


def _csv_field(offer: FeedOffer, field: str) -> str:
    if field == "sku":
        return offer.id
    if field == "name":
        return offer.name
    if field == "cost":
        text = offer.price_text if offer.price_text is not None else _comma(offer.cost)
        return text or ""
    if field == "stock":
        return "" if offer.stock is None else str(offer.stock)
    raise ValueError(f"CSV field {field!r}: not one of sku, name, cost, stock")


def _dot(kopecks: int | None) -> str | None:
    return None if kopecks is None else f"{kopecks // 100}.{kopecks % 100:02d}"


def _comma(kopecks: int | None) -> str | None:
    if kopecks is None:
        return None
    whole = f"{kopecks // 100:,}".replace(",", NBSP)
    return f"{whole},{kopecks % 100:02d}"
