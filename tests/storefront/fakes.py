"""Local stand-ins for WooCommerce, Shopify and a custom HTTP storefront, on 127.0.0.1.

They implement the documented request/response shapes and limits that the connectors
rely on, plus knobs to misbehave: a queue of canned responses served first (429 with
Retry-After, 500, ...), a per-request delay (timeouts, slow servers), items that fail
inside a batch, prices that do not stick (read-back mismatch), THROTTLED answers.
``received`` counts how many times each SKU's price was sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qs

from tests.support.httpserver import LocalServer, Request, Response

WC = "/wp-json/wc/v3"


def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status, json.dumps(data), {"Content-Type": "application/json", **(headers or {})}
    )


class FakeStore:
    """Shared knobs and bookkeeping."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.lock = threading.Lock()
        self.canned: list[Response] = []
        self.delay = 0.0
        self.received: Counter[str] = Counter()
        self.batch_sizes: list[int] = []
        self.requests = 0

    def _preamble(self) -> Response | None:
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.requests += 1
            return self.canned.pop(0) if self.canned else None


class FakeWooCommerce(FakeStore):
    """WooCommerce REST v3: products (GET with sku/include/per_page/page), products/batch,
    products/{id}/variations(/batch). HTTP Basic auth with the given key/secret."""

    limit = 100

    def __init__(self, server: LocalServer, key: str = "ck_test", secret: str = "cs_test") -> None:
        super().__init__(server)
        self.auth = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
        self.items: dict[int, dict[str, Any]] = {}
        self.bad_ids: set[int] = set()
        self.sticky: dict[int, str] = {}  # id -> price the store keeps whatever we send
        server.route(f"{WC}/products", self._products)
        server.route(f"{WC}/products/batch", lambda r: self._batch(r, None))

    def add(self, pid: int, sku: str, price: str = "100.00", parent: int = 0) -> None:
        self.items[pid] = {
            "id": pid,
            "sku": sku,
            "parent_id": parent,
            "type": "variation" if parent else "simple",
            "regular_price": price,
            "sale_price": "",
            "price": price,
        }
        if parent and f"{WC}/products/{parent}/variations" not in self.server.routes:
            base = f"{WC}/products/{parent}/variations"
            self.server.route(base, lambda r, p=parent: self._variations(r, p))
            self.server.route(f"{base}/batch", lambda r, p=parent: self._batch(r, p))

    def _denied(self, req: Request) -> Response | None:
        if req.headers.get("authorization") != self.auth:
            return _json(
                401,
                {
                    "code": "woocommerce_rest_authentication_error",
                    "message": "Invalid signature - provided signature does not match.",
                    "data": {"status": 401},
                },
            )
        return None

    def _list(
        self, req: Request, rows: list[dict[str, Any]] | None, parent: int | None
    ) -> Response:
        query = parse_qs(req.query)
        if "include" in query:  # direct lookups keep a 100,000-item store fast
            found = (self.items.get(int(i)) for i in query["include"][0].split(",") if i)
            rows = [r for r in found if r and r["parent_id"] == (parent or 0)]
        if rows is None:
            rows = [r for r in self.items.values() if r["parent_id"] == (parent or 0)]
        if "sku" in query:
            skus = set(query["sku"][0].split(","))
            rows = [r for r in rows if r["sku"] in skus]
        per_page = int(query.get("per_page", ["10"])[0])
        if per_page > 100:
            return _json(400, {"code": "rest_invalid_param", "message": "per_page must be <= 100"})
        page = int(query.get("page", ["1"])[0])
        pages = max(1, -(-len(rows) // per_page))
        chunk = rows[(page - 1) * per_page : page * per_page]
        return _json(200, chunk, {"X-WP-Total": str(len(rows)), "X-WP-TotalPages": str(pages)})

    def _products(self, req: Request) -> Response:
        early = self._preamble() or self._denied(req)
        if early:
            return early
        # a SKU search finds variations too; a plain listing shows only products
        rows = list(self.items.values()) if "sku=" in req.query else None
        return self._list(req, rows, None)

    def _variations(self, req: Request, parent: int) -> Response:
        early = self._preamble() or self._denied(req)
        if early:
            return early
        return self._list(req, None, parent)

    def _batch(self, req: Request, parent: int | None) -> Response:
        early = self._preamble() or self._denied(req)
        if early:
            return early
        updates = json.loads(req.body or b"{}").get("update", [])
        if len(updates) > self.limit:
            return _json(
                413,
                {
                    "code": "rest_request_entity_too_large",
                    "message": f"Unable to accept more than {self.limit} items for this request.",
                    "data": {"status": 413},
                },
            )
        with self.lock:
            self.batch_sizes.append(len(updates))
            return _json(200, {"update": [self._update(u, parent) for u in updates]})

    def _update(self, update: dict[str, Any], parent: int | None) -> dict[str, Any]:
        item = self.items.get(int(update.get("id", 0)))
        if item is None or item["id"] in self.bad_ids or (parent and item["parent_id"] != parent):
            return {
                "id": update.get("id"),
                "error": {
                    "code": "woocommerce_rest_product_invalid_id",
                    "message": "Invalid ID.",
                    "data": {"status": 400},
                },
            }
        self.received[item["sku"]] += 1
        for field in ("regular_price", "sale_price"):
            if field in update:
                item[field] = self.sticky.get(item["id"], update[field])
        item["price"] = item["sale_price"] or item["regular_price"]
        return dict(item)


class FakeShopify(FakeStore):
    """Admin GraphQL: productVariantsBulkUpdate, productVariants(query: "sku:..."),
    nodes(ids:), shop. A cost bucket (``bucket`` points, ``restore_rate`` per second,
    10 points per call) answers THROTTLED when empty; ``throttle_next`` forces it."""

    limit = 250

    def __init__(
        self, server: LocalServer, token: str = "shpat_test", version: str = "2025-01"
    ) -> None:
        super().__init__(server)
        self.token = token
        self.variants: dict[int, dict[str, Any]] = {}
        self.bucket = 1000.0
        self.maximum = 1000.0
        self.restore_rate = 50.0
        self.cost = 10
        self.throttle_next = 0
        self.throttled = 0
        self.mutations: list[int] = []
        self._restored_at = time.monotonic()
        self.path = f"/admin/api/{version}/graphql.json"
        server.route(self.path, self._graphql)

    def add(self, product: int, variant: int, sku: str, price: str = "100.00") -> None:
        self.variants[variant] = {"id": variant, "product": product, "sku": sku, "price": price}

    def _extensions(self, actual: int | None) -> dict[str, Any]:
        status = {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": self.bucket,
            "restoreRate": self.restore_rate,
        }
        cost = {
            "requestedQueryCost": self.cost,
            "actualQueryCost": actual,
            "throttleStatus": status,
        }
        return {"cost": cost}

    def _take(self) -> bool:
        now = time.monotonic()
        self.bucket = min(self.maximum, self.bucket + (now - self._restored_at) * self.restore_rate)
        self._restored_at = now
        if self.throttle_next > 0 or self.bucket < self.cost:
            self.throttle_next = max(0, self.throttle_next - 1)
            self.throttled += 1
            return False
        self.bucket -= self.cost
        return True

    def _graphql(self, req: Request) -> Response:
        early = self._preamble()
        if early:
            return early
        if req.headers.get("x-shopify-access-token") != self.token:
            return _json(
                401,
                {
                    "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
                },
            )
        body = json.loads(req.body or b"{}")
        with self.lock:
            if not self._take():
                return _json(
                    200,
                    {
                        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                        "extensions": self._extensions(None),
                    },
                )
            data = self._execute(body["query"], body.get("variables") or {})
            if "errors" in data:
                return _json(200, data | {"extensions": self._extensions(self.cost)})
            return _json(200, {"data": data, "extensions": self._extensions(self.cost)})

    def _execute(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        if "productVariantsBulkUpdate" in query:
            return self._bulk_update(variables)
        if "productVariants(" in query:
            skus = set(re.findall(r'sku:"((?:[^"\\]|\\.)*)"', variables["q"]))
            nodes = [
                self._node(v) | {"product": {"id": f"gid://shopify/Product/{v['product']}"}}
                for v in self.variants.values()
                if v["sku"] in skus
            ]
            return {"productVariants": {"nodes": nodes[: variables.get("n", 50)]}}
        if "nodes(" in query:
            ids = [int(str(i).rsplit("/", 1)[-1]) for i in variables["ids"]]
            return {
                "nodes": [self._node(self.variants[i]) if i in self.variants else None for i in ids]
            }
        return {"shop": {"name": "Test shop", "currencyCode": "RUB"}}

    def _node(self, v: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"gid://shopify/ProductVariant/{v['id']}",
            "sku": v["sku"],
            "price": v["price"],
        }

    def _bulk_update(self, variables: dict[str, Any]) -> dict[str, Any]:
        variants = variables["variants"]
        if len(variants) > self.limit:
            message = f"The input array size of {len(variants)} is greater than the maximum allowed of {self.limit}."
            return {
                "errors": [{"message": message, "extensions": {"code": "MAX_INPUT_SIZE_EXCEEDED"}}]
            }
        product = int(str(variables["productId"]).rsplit("/", 1)[-1])
        self.mutations.append(len(variants))
        errors = []
        for index, v in enumerate(variants):
            found = self.variants.get(int(str(v["id"]).rsplit("/", 1)[-1]))
            if found is None or found["product"] != product:
                errors.append(
                    {
                        "field": ["variants", str(index), "id"],
                        "message": "Product variant does not exist",
                    }
                )
        if errors:  # Shopify applies all or nothing
            return {"productVariantsBulkUpdate": {"productVariants": None, "userErrors": errors}}
        updated = []
        for v in variants:
            found = self.variants[int(str(v["id"]).rsplit("/", 1)[-1])]
            found["price"] = v["price"]
            self.received[found["sku"]] += 1
            updated.append({"id": v["id"], "price": v["price"]})
        return {"productVariantsBulkUpdate": {"productVariants": updated, "userErrors": []}}


class FakeHttpStorefront(FakeStore):
    """The documented generic endpoint: signed POST of items, signed GET read-back."""

    def __init__(self, server: LocalServer, secret: str = "s3cret", path: str = "/prices") -> None:
        super().__init__(server)
        self.secret = secret
        self.prices: dict[str, str] = {}
        self.reject: set[str] = set()
        self.path = path
        server.route(path, self._handle)

    def _handle(self, req: Request) -> Response:
        early = self._preamble()
        if early:
            return early
        signed = req.body if req.method == "POST" else req.query.encode()
        expected = "sha256=" + hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        if req.headers.get("x-repricer-signature") != expected:
            return _json(401, {"error": "bad signature"})
        if req.method == "GET":
            skus = parse_qs(req.query).get("skus", [""])[0].split(",")
            return _json(
                200,
                {
                    "prices": {
                        s: {"price": self.prices[s], "currency": "RUB"}
                        for s in skus
                        if s in self.prices
                    }
                },
            )
        results = []
        for item in json.loads(req.body)["items"]:
            if item["sku"] in self.reject:
                results.append({"sku": item["sku"], "ok": False, "error": "unknown sku"})
                continue
            self.prices[item["sku"]] = item["price"]
            self.received[item["sku"]] += 1
            results.append({"sku": item["sku"], "ok": True})
        return _json(200, {"results": results})
