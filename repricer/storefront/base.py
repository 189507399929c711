"""The storefront connector protocol, its value types and the factory.

A connector is built from settings by :func:`make_connector` and offers:

- ``push(items) -> list[PushResult]``: send new prices; one result per item, in any order,
  each saying whether the storefront accepted that item. At most ``max_batch`` items are
  passed per call (the caller batches); a connector that needs several requests for one
  call (WooCommerce variations, Shopify products) splits further itself.
- ``fetch_prices(skus) -> dict[sku, Price]``: read current prices back; SKUs the
  storefront does not know are absent.
- ``push_stock(items) -> list[PushResult]``: set stock (quantity and/or in-stock flag,
  see :class:`StockItem`); one result per item, ``change_id`` being the product id.
- ``fetch_stock(skus) -> dict[sku, Stock]``: read stock back, like ``fetch_prices``.
- ``check() -> str``: test connectivity and credentials; returns a one-line description of
  what was reached, or raises :class:`StorefrontError` saying exactly what is wrong.

Whole-request failures a retry cannot fix (bad credentials, storefront unreachable after
retries) raise :class:`StorefrontError`; per-item problems are ``PushResult(ok=False)``.
No message ever contains a secret.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from sqlalchemy import Engine

from repricer.config import Settings
from repricer.egress import is_loopback_host, url_host
from repricer.exceptions import StorefrontError
from repricer.money import AmountError, from_minor, minor_digits, to_minor
from repricer.redact import redact as redact_text
from repricer.redact import register_secret


@dataclass(frozen=True)
class Price:
    """A storefront price: ``amount`` in minor units of ``currency``."""

    amount: int
    currency: str


@dataclass(frozen=True)
class PushItem:
    """One price to set. ``storefront_id`` is the catalog's cached platform id, if any
    (``"123"`` for a product, ``"parent:child"`` for a variant)."""

    change_id: int
    product_id: int
    sku: str
    price: int
    currency: str
    storefront_id: str | None = None


@dataclass(frozen=True)
class PushResult:
    """What the storefront said about one item. ``ok`` means it accepted the price."""

    change_id: int
    ok: bool
    http_status: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class StockItem:
    """Stock to show for one product. ``quantity`` None means in stock with no count to
    show (the supplier does not say how many, or ``[storefront.stock] mode = "status"``)."""

    product_id: int
    sku: str
    quantity: int | None
    in_stock: bool
    storefront_id: str | None = None


@dataclass(frozen=True)
class Stock:
    """Stock as the storefront shows it; ``quantity`` None when it keeps no count."""

    quantity: int | None
    in_stock: bool


class Connector(Protocol):
    """See the module docstring."""

    name: str
    max_batch: int

    def push(self, items: list[PushItem]) -> list[PushResult]: ...

    def fetch_prices(self, skus: list[str]) -> dict[str, Price]: ...

    def push_stock(self, items: list[StockItem]) -> list[PushResult]: ...

    def fetch_stock(self, skus: list[str]) -> dict[str, Stock]: ...

    def check(self) -> str: ...

    def close(self) -> None: ...


def decimal_text(amount: int, currency: str) -> str:
    """Minor units -> plain decimal text with the currency's digits (``12345`` -> ``"123.45"``)."""
    return f"{from_minor(amount, currency):.{minor_digits(currency)}f}"


def parse_decimal_text(text: object, currency: str) -> int | None:
    """Plain decimal text (``"123.45"``) -> minor units; ``None`` when empty or not a number."""
    if text is None or text == "":
        return None
    try:
        return to_minor(Decimal(str(text)), currency)
    except (ArithmeticError, AmountError):
        return None


def failed(items: list[PushItem], error: str, http_status: int | None = None) -> list[PushResult]:
    """The same failure for every item."""
    return [PushResult(i.change_id, False, http_status, error) for i in items]


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (and whatever :func:`repricer.redact.redact` masks)
    replaced by ``***`` (for messages built from responses)."""
    for secret in secrets:
        register_secret(secret)
    return redact_text(text)


def require_url(url: str | None, key: str) -> str:
    """The configured URL, https unless the host is a loopback address (any 127/8
    address, ``::1``, ``localhost``: :func:`repricer.egress.is_loopback_host`)."""
    if not url:
        raise StorefrontError(f"set storefront.{key} in the config file")
    url = url.rstrip("/")
    local = is_loopback_host(url_host(url))
    if not url.startswith("https://") and not (url.startswith("http://") and local):
        raise StorefrontError(
            f"storefront.{key} must be an https:// URL (plain http only for a loopback "
            f"address such as 127.0.0.1 or [::1]): {redact_text(url)}"
        )
    return url


def make_connector(settings: Settings, engine: Engine) -> Connector:
    """The connector chosen by ``[storefront] kind``; reads its secrets from the environment."""
    kind = settings.storefront.kind
    if kind == "file":
        from repricer.storefront.file import FileConnector

        return FileConnector.from_settings(settings, engine)
    if kind == "woocommerce":
        from repricer.storefront.woocommerce import WooCommerceConnector

        return WooCommerceConnector.from_settings(settings, engine)
    if kind == "shopify":
        from repricer.storefront.shopify import ShopifyConnector

        return ShopifyConnector.from_settings(settings, engine)
    from repricer.storefront.http import HttpConnector

    return HttpConnector.from_settings(settings, engine)


def check_storefront(settings: Settings, engine: Engine) -> str:
    """Test the configured storefront; a one-line description, or :class:`StorefrontError`."""
    connector = make_connector(settings, engine)
    try:
        return connector.check()
    finally:
        connector.close()
