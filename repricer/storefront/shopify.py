"""Shopify Admin GraphQL connector.

- Prices go through ``productVariantsBulkUpdate(productId, variants: [{id, price}])``:
  one product per call, at most 250 variants per call. A variant is accepted when it comes
  back in ``productVariants`` with the price we sent; ``userErrors`` (``field`` like
  ``["variants", "3", "price"]``) fail the variant they point at, or the whole call.
- Stock goes through ``inventorySetQuantities`` (quantity name ``available``, reason
  ``correction``, ``ignoreCompareQuantity``: this system is the source of truth) at
  ``storefront.shopify.location_id``, at most 250 quantities per call; inventory item
  ids and read-back come from ``nodes(ids:)`` on the variants (``inventoryItem {
  inventoryLevel(locationId:) { quantities(names: ["available"]) } }``).
- Pacing: every response's ``extensions.cost.throttleStatus`` (``currentlyAvailable``,
  ``restoreRate``) says how full the bucket is; before a call that would not fit we wait
  until it does. A ``THROTTLED`` error (HTTP 200 or 429) waits and retries.
- SKU -> ids: ``products.storefront_id`` as ``"<product>:<variant>"`` (numeric parts of
  the GIDs), else ``productVariants(query: "sku:...")``, cached back into the catalog.
- Auth: ``X-Shopify-Access-Token`` from REPRICER_SHOPIFY_TOKEN; API version from config.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

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
    failed,
    parse_decimal_text,
    redact,
    require_url,
)
from repricer.storefront.ids import load_storefront_ids, save_storefront_ids, split_id
from repricer.storefront.retry import Backoff, safe_url, send

LIMIT = 250
LOOKUP = 50  # SKUs per search query
TOKEN_ENV = "REPRICER_SHOPIFY_TOKEN"

UPDATE = """mutation push($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants) {
    productVariants { id price }
    userErrors { field message }
  }
}"""
SEARCH = """query skus($q: String!, $n: Int!) {
  productVariants(first: $n, query: $q) { nodes { id sku price product { id } } }
}"""
NODES = """query prices($ids: [ID!]!) {
  nodes(ids: $ids) { ... on ProductVariant { id sku price } }
}"""
SHOP = "query { shop { name currencyCode } }"
SET_STOCK = """mutation stock($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}"""
LEVELS = """query levels($ids: [ID!]!, $location: ID!) {
  nodes(ids: $ids) {
    ... on ProductVariant {
      id
      inventoryItem {
        id
        inventoryLevel(locationId: $location) { quantities(names: ["available"]) { name quantity } }
      }
    }
  }
}"""


def gid(kind: str, num: str) -> str:
    return f"gid://shopify/{kind}/{num}"


def gid_num(value: object) -> str:
    return str(value).rsplit("/", 1)[-1]


class ShopifyConnector:
    """See the module docstring and :mod:`repricer.storefront.base`."""

    name = "shopify"
    max_batch = LIMIT

    def __init__(
        self,
        shop_url: str,
        token: str,
        *,
        engine: Engine,
        currency: str,
        api_version: str = "2025-01",
        location_id: str | None = None,
        unknown_quantity: int = 1,
        timeout: float = 30.0,
        backoff: Backoff | None = None,
    ) -> None:
        base = require_url(shop_url, "shopify.shop_url")
        self.location = gid("Location", gid_num(location_id)) if location_id else None
        self.unknown_quantity = unknown_quantity
        self.endpoint = f"{base}/admin/api/{api_version}/graphql.json"
        self._token = token
        self.engine = engine
        self.currency = currency
        self.backoff = backoff or Backoff()
        self.requests = 0
        self.available: float | None = None
        self.restore_rate = 50.0
        self.last_cost = 10.0
        self.client = httpx.Client(
            headers={"X-Shopify-Access-Token": token, "Content-Type": "application/json"},
            timeout=timeout,
        )

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine) -> ShopifyConnector:
        conf = settings.storefront
        return cls(
            require_url(conf.shopify.shop_url, "shopify.shop_url"),
            get_secret(TOKEN_ENV),
            engine=engine,
            currency=settings.pricing.currency,
            api_version=conf.shopify.api_version,
            location_id=conf.shopify.location_id,
            unknown_quantity=conf.stock.unknown_quantity,
            timeout=conf.timeout.total_seconds(),
            backoff=Backoff(retries=conf.retries),
        )

    def close(self) -> None:
        self.client.close()

    # -- push ---------------------------------------------------------------------------

    def push(self, items: list[PushItem]) -> list[PushResult]:
        ids = {i.sku: i.storefront_id for i in items if i.storefront_id and ":" in i.storefront_id}
        ids.update(self.resolve([i.sku for i in items if i.sku not in ids]))
        results = failed([i for i in items if i.sku not in ids], "SKU not found in Shopify")
        by_product: dict[str, list[tuple[PushItem, str]]] = defaultdict(list)
        for item in items:
            if item.sku in ids:
                product, variant = split_id(ids[item.sku])
                by_product[product or ""].append((item, variant))
        for product, group in by_product.items():
            for start in range(0, len(group), LIMIT):
                results += self._update(product, group[start : start + LIMIT])
        return results

    def _update(self, product: str, group: list[tuple[PushItem, str]]) -> list[PushResult]:
        variants = [
            {"id": gid("ProductVariant", v), "price": decimal_text(i.price, i.currency)}
            for i, v in group
        ]
        try:
            data = self.query(UPDATE, {"productId": gid("Product", product), "variants": variants})
        except _CallFailed as exc:
            return failed([i for i, _ in group], exc.message, exc.status)
        payload = data.get("productVariantsBulkUpdate") or {}
        sent = {v["id"]: v["price"] for v in variants}
        back = {
            v.get("id"): v.get("price")
            for v in payload.get("productVariants") or []
            if isinstance(v, dict)
        }
        errors = _errors_by_index(payload.get("userErrors") or [], len(group))
        return [
            self._result(item, index, sent, back, errors) for index, (item, _) in enumerate(group)
        ]

    def _result(
        self,
        item: PushItem,
        index: int,
        sent: dict[str, str],
        back: dict[Any, Any],
        errors: dict[int, str],
    ) -> PushResult:
        variant_gid = list(sent)[index]
        returned = parse_decimal_text(back.get(variant_gid), item.currency)
        if index in errors:
            return PushResult(item.change_id, False, 200, redact(errors[index], [self._token]))
        if returned != item.price:
            return PushResult(item.change_id, False, 200, "variant not updated by Shopify")
        return PushResult(item.change_id, True, 200)

    # -- stock --------------------------------------------------------------------------

    def push_stock(self, items: list[StockItem]) -> list[PushResult]:
        """``inventorySetQuantities`` of the ``available`` quantity at the configured
        location, at most 250 per call; a count-less in-stock item gets
        ``unknown_quantity``."""
        location = self._location()
        levels = self._levels([i.sku for i in items], location)
        results = failed_stock(
            [i for i in items if i.sku not in levels], "SKU not found in Shopify"
        )
        known = [i for i in items if i.sku in levels]
        for start in range(0, len(known), LIMIT):
            results += self._set_stock(known[start : start + LIMIT], levels, location)
        return results

    def _set_stock(
        self, items: list[StockItem], levels: dict[str, _Level], location: str
    ) -> list[PushResult]:
        quantities = [
            {
                "inventoryItemId": levels[i.sku].item,
                "locationId": location,
                "quantity": self._quantity(i),
            }
            for i in items
        ]
        variables = {
            "input": {
                "name": "available",
                "reason": "correction",
                "ignoreCompareQuantity": True,
                "referenceDocumentUri": f"gid://repricer/StockPush/{uuid.uuid4().hex}",
                "quantities": quantities,
            }
        }
        try:
            data = self.query(SET_STOCK, variables)
        except _CallFailed as exc:
            return failed_stock(items, exc.message, exc.status)
        errors = _errors_by_index(
            (data.get("inventorySetQuantities") or {}).get("userErrors") or [], len(items)
        )
        if not errors:
            return [PushResult(i.product_id, True, 200) for i in items]
        # Shopify applies all or nothing: fail the items it named, send the rest again.
        bad = [
            PushResult(i.product_id, False, 200, redact(errors[n], [self._token]))
            for n, i in enumerate(items)
            if n in errors
        ]
        rest = [i for n, i in enumerate(items) if n not in errors]
        if len(bad) == len(items):
            return bad
        return bad + self._set_stock(rest, levels, location)

    def _quantity(self, item: StockItem) -> int:
        if not item.in_stock:
            return 0
        return self.unknown_quantity if item.quantity is None else item.quantity

    def fetch_stock(self, skus: list[str]) -> dict[str, Stock]:
        """The ``available`` quantity at the configured location."""
        levels = self._levels(skus, self._location())
        return {
            sku: Stock(level.available, (level.available or 0) > 0)
            for sku, level in levels.items()
            if level.available is not None
        }

    def _location(self) -> str:
        if self.location is None:
            raise StorefrontError(
                "set storefront.shopify.location_id (the location whose stock is set, "
                'e.g. "gid://shopify/Location/123") to push stock to Shopify'
            )
        return self.location

    def _levels(self, skus: list[str], location: str) -> dict[str, _Level]:
        """sku -> inventory item and its ``available`` quantity at ``location``."""
        ids = {k: v for k, v in load_storefront_ids(self.engine, skus).items() if ":" in v}
        ids.update(self.resolve([s for s in skus if s not in ids]))
        by_gid = {gid("ProductVariant", split_id(sid)[1]): sku for sku, sid in ids.items()}
        gids, found = list(by_gid), {}
        for start in range(0, len(gids), LIMIT):
            variables = {"ids": gids[start : start + LIMIT], "location": location}
            for node in self._query_or_raise(LEVELS, variables).get("nodes") or []:
                item = (node or {}).get("inventoryItem") if isinstance(node, dict) else None
                if isinstance(item, dict) and node.get("id") in by_gid:
                    found[by_gid[node["id"]]] = _Level(str(item.get("id")), _available(item))
        return found

    # -- ids and read back --------------------------------------------------------------

    def resolve(self, skus: list[str]) -> dict[str, str]:
        """Look up ``product:variant`` ids by SKU; cache them in the catalog."""
        found: dict[str, str] = {}
        for start in range(0, len(skus), LOOKUP):
            chunk = skus[start : start + LOOKUP]
            query = " OR ".join(f"sku:{_quote(s)}" for s in chunk)
            data = self._query_or_raise(SEARCH, {"q": query, "n": LIMIT})
            for node in (data.get("productVariants") or {}).get("nodes") or []:
                if node.get("sku") in chunk:
                    product = gid_num((node.get("product") or {}).get("id"))
                    found[node["sku"]] = f"{product}:{gid_num(node.get('id'))}"
        save_storefront_ids(self.engine, found)
        return found

    def fetch_prices(self, skus: list[str]) -> dict[str, Price]:
        ids = {k: v for k, v in load_storefront_ids(self.engine, skus).items() if ":" in v}
        ids.update(self.resolve([s for s in skus if s not in ids]))
        by_gid = {gid("ProductVariant", split_id(sid)[1]): sku for sku, sid in ids.items()}
        gids, prices = list(by_gid), {}
        for start in range(0, len(gids), LIMIT):
            data = self._query_or_raise(NODES, {"ids": gids[start : start + LIMIT]})
            for node in data.get("nodes") or []:
                if isinstance(node, dict) and node.get("id") in by_gid:
                    amount = parse_decimal_text(node.get("price"), self.currency)
                    if amount is not None:
                        prices[by_gid[node["id"]]] = Price(amount, self.currency)
        return prices

    def check(self) -> str:
        shop = self._query_or_raise(SHOP, {}).get("shop") or {}
        if shop.get("currencyCode") not in (None, self.currency):
            raise StorefrontError(
                f"the shop's currency is {shop['currencyCode']} but [pricing] currency is "
                f"{self.currency}: prices would be pushed in the wrong currency"
            )
        return (
            f"Shopify Admin API at {safe_url(self.endpoint)}: token accepted "
            f"(shop {shop.get('name')!r}, currency {shop.get('currencyCode')})"
        )

    # -- GraphQL transport --------------------------------------------------------------

    def _query_or_raise(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.query(query, variables)
        except _CallFailed as exc:
            raise StorefrontError(exc.message) from None

    def query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """Run one GraphQL call, paced by the cost bucket, retrying THROTTLED."""
        for attempt in range(self.backoff.retries + 1):
            self._pace()
            self.requests += 1
            body = {"query": query, "variables": variables}
            response = send(self.client, "POST", self.endpoint, self.backoff, json=body)
            payload = self._payload(response)
            self._note_cost(payload)
            codes = {(e.get("extensions") or {}).get("code") for e in payload.get("errors") or []}
            if "THROTTLED" not in codes and response.status_code != 429:
                return self._data(response, payload)
            self.backoff.sleep(self.backoff.delay(attempt, self._refill_wait()))
        raise _CallFailed("Shopify kept answering THROTTLED; try again later", 429)

    def _payload(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code in (401, 403):
            raise StorefrontError(
                f"Shopify refused the access token (HTTP {response.status_code} from "
                f"{safe_url(self.endpoint)}): check {TOKEN_ENV}, the shop URL and the app's "
                "read_products/write_products scopes"
            )
        try:
            payload = response.json()
        except ValueError:
            payload = None
        return payload if isinstance(payload, dict) else {}

    def _data(self, response: httpx.Response, payload: dict[str, Any]) -> dict[str, Any]:
        errors = payload.get("errors")
        if response.status_code != 200 or errors or not isinstance(payload.get("data"), dict):
            message = _error_text(errors) or "no data in the response"
            text = f"Shopify answered HTTP {response.status_code}: {message}"
            raise _CallFailed(redact(text, [self._token]), response.status_code)
        data: dict[str, Any] = payload["data"]
        return data

    def _note_cost(self, payload: dict[str, Any]) -> None:
        cost = (payload.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        if "currentlyAvailable" in status:
            self.available = float(status["currentlyAvailable"])
            self.restore_rate = float(status.get("restoreRate") or self.restore_rate)
        if cost.get("requestedQueryCost"):
            self.last_cost = float(cost["requestedQueryCost"])

    def _refill_wait(self) -> float:
        if self.available is None:
            return 1.0
        return max(0.0, (self.last_cost - self.available) / max(self.restore_rate, 1.0))

    def _pace(self) -> None:
        wait = self._refill_wait() if self.available is not None else 0.0
        if wait > 0:
            self.backoff.sleep(wait)
            self.available = self.last_cost


@dataclass(frozen=True)
class _Level:
    item: str  # inventory item GID
    available: int | None  # None: not stocked at the location


def _available(item: dict[str, Any]) -> int | None:
    level = item.get("inventoryLevel") or {}
    for quantity in level.get("quantities") or []:
        if isinstance(quantity, dict) and quantity.get("name") == "available":
            value = quantity.get("quantity")
            return int(value) if isinstance(value, int) else None
    return None


def failed_stock(
    items: list[StockItem], error: str, http_status: int | None = None
) -> list[PushResult]:
    """The same failure for every stock item."""
    return [PushResult(i.product_id, False, http_status, error) for i in items]


class _CallFailed(Exception):
    def __init__(self, message: str, status: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _quote(sku: str) -> str:
    return '"' + sku.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _error_text(errors: object) -> str:
    if isinstance(errors, str):
        return errors
    if isinstance(errors, list):
        return "; ".join(str(e.get("message", e)) for e in errors if isinstance(e, dict))
    return ""


def _errors_by_index(user_errors: list[Any], size: int) -> dict[int, str]:
    """userErrors -> {input index: message}; the index is the first number in ``field``
    (``["variants", "3", "price"]``, ``["input", "quantities", "3", "locationId"]``); an
    error without one hits them all."""
    out: dict[int, str] = {}
    for error in user_errors:
        if not isinstance(error, dict):
            continue
        field = [str(f) for f in error.get("field") or []]
        message = str(error.get("message") or "rejected")
        index = next((int(f) for f in field if re.fullmatch(r"\d+", f)), None)
        targets = [index] if index is not None and index < size else range(size)
        for target in targets:
            out.setdefault(target, message)
    return out
