"""WooCommerce REST API v3 connector.

- Prices and stock go through ``POST /wp-json/wc/v3/products/batch`` with ``{"update": [{"id": 12,
  "regular_price": "1299.00"}]}`` (or ``sale_price`` when ``price_field = "sale"``), at
  most 100 items per request; variants through ``products/{parent}/variations/batch``.
  A 413 (a store with a lower batch limit) halves the request and tries again.
- Stock: ``{"id": 12, "manage_stock": true, "stock_quantity": 5}`` (WooCommerce then sets
  ``stock_status`` itself, ``outofstock`` at 0), or, with no count to show,
  ``{"manage_stock": false, "stock_status": "instock" | "outofstock"}``. Read back from
  ``manage_stock``/``stock_quantity``/``stock_status`` of the same GETs as prices.
- Each entry of the response's ``update`` list is either the product (accepted) or
  ``{"id": 12, "error": {"code": ..., "message": ...}}`` (that item failed).
- SKU -> id: ``products.storefront_id`` (``"12"``, or ``"parent:variation"``), else
  ``GET products?sku=a,b,c`` once per 100 unknown SKUs, cached back into the catalog.
- Auth: HTTP Basic with REPRICER_WOOCOMMERCE_KEY / REPRICER_WOOCOMMERCE_SECRET, over
  https (plain http only for 127.0.0.1/localhost).
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any, TypeGuard

import httpx
from sqlalchemy import Engine

from repricer.config import Settings, get_secret
from repricer.exceptions import StorefrontError
from repricer.storefront.base import (
    Price,
    PushItem,
    PushResult,
    Stock,
    StockItem,
    decimal_text,
    parse_decimal_text,
    redact,
    require_url,
)
from repricer.storefront.ids import load_storefront_ids, save_storefront_ids, split_id
from repricer.storefront.retry import Backoff, safe_url, send

LIMIT = 100
KEY_ENV = "REPRICER_WOOCOMMERCE_KEY"
SECRET_ENV = "REPRICER_WOOCOMMERCE_SECRET"


class WooCommerceConnector:
    """See the module docstring and :mod:`repricer.storefront.base`."""

    name = "woocommerce"
    max_batch = LIMIT

    def __init__(
        self,
        url: str,
        key: str,
        secret: str,
        *,
        engine: Engine,
        currency: str,
        price_field: str = "regular",
        timeout: float = 30.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.api = require_url(url, "woocommerce.url") + "/wp-json/wc/v3/"
        self._secrets = (key, secret)
        self.engine = engine
        self.currency = currency
        self.field = f"{price_field}_price"
        self.backoff = backoff or Backoff()
        self.requests = 0
        self.client = httpx.Client(
            base_url=self.api, auth=httpx.BasicAuth(key, secret), timeout=timeout
        )

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine) -> WooCommerceConnector:
        conf = settings.storefront
        url = require_url(conf.woocommerce.url, "woocommerce.url")
        return cls(
            url,
            get_secret(KEY_ENV),
            get_secret(SECRET_ENV),
            engine=engine,
            currency=settings.pricing.currency,
            price_field=conf.woocommerce.price_field,
            timeout=conf.timeout.total_seconds(),
            backoff=Backoff(retries=conf.retries),
        )

    def close(self) -> None:
        self.client.close()

    # -- push ---------------------------------------------------------------------------

    def push(self, items: list[PushItem]) -> list[PushResult]:
        fields = {i.change_id: {self.field: decimal_text(i.price, i.currency)} for i in items}
        return self._update([(i.change_id, i.sku, i.storefront_id) for i in items], fields)

    def push_stock(self, items: list[StockItem]) -> list[PushResult]:
        """``manage_stock`` + ``stock_quantity`` (WooCommerce derives ``stock_status``),
        or ``stock_status`` alone with ``manage_stock`` off when there is no count."""
        fields = {i.product_id: stock_fields(i) for i in items}
        return self._update([(i.product_id, i.sku, i.storefront_id) for i in items], fields)

    def _update(
        self, targets: list[tuple[int, str, str | None]], fields: dict[int, dict[str, Any]]
    ) -> list[PushResult]:
        """Send ``fields[result_id]`` to each (result_id, sku, cached id) target through
        the batch endpoint of its product or parent product."""
        ids, results = self._ids_for(targets)
        groups: dict[str, list[_Entry]] = defaultdict(list)
        for result_id, sku, _ in targets:
            if sku in ids:
                parent, own = split_id(ids[sku])
                path = f"products/{parent}/variations/batch" if parent else "products/batch"
                groups[path].append((result_id, own, fields[result_id]))
        for path, group in groups.items():
            for start in range(0, len(group), LIMIT):
                results += self._post_batch(path, group[start : start + LIMIT])
        return results

    def _post_batch(self, path: str, group: list[_Entry]) -> list[PushResult]:
        body = {"update": [{"id": int(own), **values} for _, own, values in group]}
        response = self._send("POST", path, json=body)
        if response.status_code == 413 and len(group) > 1:
            half = len(group) // 2
            return self._post_batch(path, group[:half]) + self._post_batch(path, group[half:])
        if response.status_code != 200:
            error = self._describe(response)
            return [PushResult(rid, False, response.status_code, error) for rid, _, _ in group]
        entries = _json(response).get("update") or []
        by_id = {str(e.get("id")): e for e in entries if isinstance(e, dict)}
        return [self._result(rid, by_id.get(own), response.status_code) for rid, own, _ in group]

    def _result(self, result_id: int, entry: dict[str, Any] | None, status: int) -> PushResult:
        if entry is None:
            return PushResult(result_id, False, status, "not in the batch response")
        error = entry.get("error")
        if error:
            text = f"{error.get('code', 'error')}: {error.get('message', '')}"
            return PushResult(result_id, False, status, redact(text, self._secrets))
        return PushResult(result_id, True, status)

    # -- ids ----------------------------------------------------------------------------

    def _ids_for(
        self, targets: list[tuple[int, str, str | None]]
    ) -> tuple[dict[str, str], list[PushResult]]:
        ids = {sku: sid for _, sku, sid in targets if _is_wc_id(sid)}
        ids.update(self.resolve([sku for _, sku, _ in targets if sku not in ids]))
        unknown = [rid for rid, sku, _ in targets if sku not in ids]
        return ids, [
            PushResult(rid, False, None, "SKU not found in WooCommerce") for rid in unknown
        ]

    def resolve(self, skus: list[str]) -> dict[str, str]:
        """Look up ids of SKUs (``GET products?sku=``), cache them in the catalog."""
        found: dict[str, str] = {}
        for start in range(0, len(skus), LIMIT):
            chunk = skus[start : start + LIMIT]
            params = {"sku": ",".join(chunk), "per_page": LIMIT}
            for entry in self._get_list("products", params):
                sku, own = str(entry.get("sku") or ""), entry.get("id")
                parent = entry.get("parent_id") or 0
                if sku in chunk and own:
                    found[sku] = f"{parent}:{own}" if parent else str(own)
        save_storefront_ids(self.engine, found)
        return found

    # -- read back ----------------------------------------------------------------------

    def fetch_prices(self, skus: list[str]) -> dict[str, Price]:
        prices: dict[str, Price] = {}
        for sku, entry in self._entries(skus):
            amount = parse_decimal_text(entry.get(self.field), self.currency)
            if amount is not None:
                prices[sku] = Price(amount, self.currency)
        return prices

    def fetch_stock(self, skus: list[str]) -> dict[str, Stock]:
        """``stock_quantity`` when WooCommerce manages the item's stock, and whether its
        ``stock_status`` lets it be bought (``instock`` or ``onbackorder``)."""
        stock: dict[str, Stock] = {}
        for sku, entry in self._entries(skus):
            managed = entry.get("manage_stock") is True
            quantity = entry.get("stock_quantity") if managed else None
            in_stock = entry.get("stock_status") in ("instock", "onbackorder")
            stock[sku] = Stock(quantity if isinstance(quantity, int) else None, in_stock)
        return stock

    def _entries(self, skus: list[str]) -> list[tuple[str, dict[str, Any]]]:
        """(our sku, the product or variation as WooCommerce returns it) per known SKU."""
        ids = {k: v for k, v in load_storefront_ids(self.engine, skus).items() if _is_wc_id(v)}
        ids.update(self.resolve([s for s in skus if s not in ids]))
        groups: dict[str, dict[str, str]] = defaultdict(dict)
        for sku, sid in ids.items():
            parent, own = split_id(sid)
            groups[f"products/{parent}/variations" if parent else "products"][own] = sku
        found: list[tuple[str, dict[str, Any]]] = []
        for path, by_own in groups.items():
            owns = list(by_own)
            for start in range(0, len(owns), LIMIT):
                params = {"include": ",".join(owns[start : start + LIMIT]), "per_page": LIMIT}
                for entry in self._get_list(path, params):
                    ours = by_own.get(str(entry.get("id")))
                    if ours is not None:
                        found.append((ours, entry))
        return found

    def check(self) -> str:
        response = self._send("GET", "products", params={"per_page": 1})
        if response.status_code != 200:
            raise StorefrontError(self._describe(response))
        return f"WooCommerce REST API at {safe_url(self.api)}: credentials accepted"

    # -- HTTP ---------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.requests += 1
        response = send(self.client, method, path, self.backoff, **kwargs)
        if response.status_code in (401, 403):
            raise StorefrontError(self._describe(response))
        return response

    def _get_list(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        response = self._send("GET", path, params=params)
        if response.status_code != 200:
            raise StorefrontError(self._describe(response))
        data = _json(response)
        return [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []

    def _describe(self, response: httpx.Response) -> str:
        url = safe_url(response.request.url)
        data = _json(response)
        detail = (data.get("message") or data.get("code")) if isinstance(data, dict) else None
        text = (
            f"WooCommerce answered HTTP {response.status_code} to {response.request.method} {url}"
        )
        if detail:
            text += f": {detail}"
        if response.status_code in (401, 403):
            text += f" (check {KEY_ENV} and {SECRET_ENV}: a Read/Write REST API key of this shop)"
        elif response.status_code == 404:
            text += (
                " (is storefront.woocommerce.url the shop's address, with pretty permalinks on?)"
            )
        return redact(text, self._secrets)


_Entry = tuple[int, str, dict[str, Any]]  # (result id, WooCommerce id, fields to set)


def stock_fields(item: StockItem) -> dict[str, Any]:
    """The product/variation fields that show ``item``'s stock."""
    if item.quantity is None:
        return {"manage_stock": False, "stock_status": "instock" if item.in_stock else "outofstock"}
    return {"manage_stock": True, "stock_quantity": item.quantity if item.in_stock else 0}


def _is_wc_id(value: str | None) -> TypeGuard[str]:
    """``"12"`` or ``"45:12"``; anything else (another platform's id) is looked up again."""
    return bool(value and re.fullmatch(r"(\d+:)?\d+", value))


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}
