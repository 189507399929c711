"""The item the product spider yields: one observation of one listing."""

from __future__ import annotations

from dataclasses import dataclass

STATUSES = ("ok", "no_price", "not_found", "blocked", "redirect", "timeout", "error")
AVAILABILITIES = ("in_stock", "out_of_stock", "unknown")


@dataclass
class ObservationItem:
    """What one page said about one listing.

    ``status``: one of :data:`STATUSES`; ``price``/``old_price`` are int minor units of
    ``currency`` and set only when status is ``ok``. ``product_gtin`` is our product's
    GTIN (compared with the page's ``gtin`` to flag a mismatch); ``competitor`` the
    competitor's name.
    """

    listing_id: int
    competitor: str
    url: str
    status: str
    price: int | None = None
    old_price: int | None = None
    currency: str | None = None
    availability: str = "unknown"
    method: str | None = None
    http_status: int | None = None
    reason: str | None = None
    title: str | None = None
    gtin: str | None = None
    product_gtin: str | None = None
