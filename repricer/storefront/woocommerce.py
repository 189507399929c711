"""WooCommerce REST API v3 connector.

- Prices go through ``POST /wp-json/wc/v3/products/batch`` with ``{"update": [{"id": 12,
  "regular_price": "1299.00"}]}`` (or ``sale_price`` when ``price_field = "sale"``), at
  most 100 items per request; variants through ``products/{parent}/variations/batch``.
  A 413 (a store with a lower batch limit) halves the request and tries again.
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
    decimal_text,
    failed,
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
        ids, results = self._ids_for(items)
        groups: dict[str, list[tuple[PushItem, str]]] = defaultdict(list)
        for item in items:
            if item.sku in ids:
                parent, own = split_id(ids[item.sku])
                path = f"products/{parent}/variations/batch" if parent else "products/batch"
                groups[path].append((item, own))
        for path, group in groups.items():
            for start in range(0, len(group), LIMIT):
                results += self._post_batch(path, group[start : start + LIMIT])
        return results

    def _post_batch(self, path: str, group: list[tuple[PushItem, str]]) -> list[PushResult]:
        items = [item for item, _ in group]
        body = {
            "update": [
                {"id": int(own), self.field: decimal_text(item.price, item.currency)}
                for item, own in group
            ]
        }
        response = self._send("POST", path, json=body)
        if response.status_code == 413 and len(group) > 1:
            half = len(group) // 2
            return self._post_batch(path, group[:half]) + self._post_batch(path, group[half:])
        if response.status_code != 200:
            return failed(items, self._describe(response), response.status_code)
        entries = _json(response).get("update") or []
        by_id = {str(e.get("id")): e for e in entries if isinstance(e, dict)}
        return [self._result(item, by_id.get(own), response.status_code) for item, own in group]

    def _result(self, item: PushItem, entry: dict[str, Any] | None, status: int) -> PushResult:
        if entry is None:
            return PushResult(item.change_id, False, status, "not in the batch response")
        error = entry.get("error")
        if error:
            text = f"{error.get('code', 'error')}: {error.get('message', '')}"
            return PushResult(item.change_id, False, status, redact(text, self._secrets))
        return PushResult(item.change_id, True, status)

    # -- ids ----------------------------------------------------------------------------

    def _ids_for(self, items: list[PushItem]) -> tuple[dict[str, str], list[PushResult]]:
        ids = {i.sku: i.storefront_id for i in items if _is_wc_id(i.storefront_id)}
        missing = [i.sku for i in items if i.sku not in ids]
        ids.update(self.resolve(missing))
        unknown = [i for i in items if i.sku not in ids]
        return ids, failed(unknown, "SKU not found in WooCommerce")

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
        ids = {k: v for k, v in load_storefront_ids(self.engine, skus).items() if _is_wc_id(v)}
        ids.update(self.resolve([s for s in skus if s not in ids]))
        groups: dict[str, dict[str, str]] = defaultdict(dict)
        for sku, sid in ids.items():
            parent, own = split_id(sid)
            groups[f"products/{parent}/variations" if parent else "products"][own] = sku
        prices: dict[str, Price] = {}
        for path, by_own in groups.items():
            owns = list(by_own)
            for start in range(0, len(owns), LIMIT):
                params = {"include": ",".join(owns[start : start + LIMIT]), "per_page": LIMIT}
                for entry in self._get_list(path, params):
                    ours = by_own.get(str(entry.get("id")))
                    amount = parse_decimal_text(entry.get(self.field), self.currency)
                    if ours is not None and amount is not None:
                        prices[ours] = Price(amount, self.currency)
        return prices

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


def _is_wc_id(value: str | None) -> TypeGuard[str]:
    """``"12"`` or ``"45:12"``; anything else (another platform's id) is looked up again."""
    return bool(value and re.fullmatch(r"(\d+:)?\d+", value))


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}
