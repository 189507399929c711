"""Local stand-ins for WooCommerce, Shopify and a custom HTTP storefront, on 127.0.0.1.

They implement the documented request/response shapes and limits that the connectors
rely on, plus knobs to misbehave: a queue of canned responses served first (429 with
Retry-After, 500, ...), a per-request delay (timeouts, slow servers), items that fail
inside a batch, prices or stock that do not stick (read-back mismatch), THROTTLED
answers. ``received`` counts how many times each SKU's price was sent, ``stock_received``
its stock; ``stock_log`` records (time.time(), sku, in stock) at every stock change.
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

from repricer.loopback import LoopbackServer, Request, Response

WC = "/wp-json/wc/v3"


def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status, json.dumps(data), {"Content-Type": "application/json", **(headers or {})}
    )


class FakeStore:
    """Shared knobs and bookkeeping."""

    def __init__(self, server: LoopbackServer) -> None:
        self.server = server
        self.lock = threading.Lock()
        self.canned: list[Response] = []
        self.delay = 0.0
        self.received: Counter[str] = Counter()
        self.stock_received: Counter[str] = Counter()
        self.stock_log: list[tuple[float, str, bool]] = []
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

    def __init__(
        self, server: LoopbackServer, key: str = "ck_test", secret: str = "cs_test"
    ) -> None:
        super().__init__(server)
        self.auth = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
        self.items: dict[int, dict[str, Any]] = {}
        self.bad_ids: set[int] = set()
        self.sticky: dict[int, str] = {}  # id -> price the store keeps whatever we send
        self.sticky_stock: dict[int, int] = {}  # id -> quantity the store keeps (a plugin)
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
            "manage_stock": False,
            "stock_quantity": None,
            "stock_status": "instock",
            "backorders": "no",
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
        problem = _invalid_stock(update)
        if problem:
            return {"id": update.get("id"), "error": problem}
        if "regular_price" in update or "sale_price" in update:
            self.received[item["sku"]] += 1
        for field in ("regular_price", "sale_price"):
            if field in update:
                item[field] = self.sticky.get(item["id"], update[field])
        item["price"] = item["sale_price"] or item["regular_price"]
        if {"manage_stock", "stock_quantity", "stock_status"} & set(update):
            self._set_stock(item, update)
        return dict(item)

    def _set_stock(self, item: dict[str, Any], update: dict[str, Any]) -> None:
        """WooCommerce's rules: with managed stock the status follows the quantity
        (``outofstock`` at 0 unless backorders are allowed); otherwise it is set as sent."""
        self.stock_received[item["sku"]] += 1
        before = item["stock_status"]
        item["manage_stock"] = update.get("manage_stock", item["manage_stock"])
        if "stock_quantity" in update:
            item["stock_quantity"] = self.sticky_stock.get(item["id"], update["stock_quantity"])
        if item["manage_stock"]:
            if item["stock_quantity"] is not None and item["stock_quantity"] > 0:
                item["stock_status"] = "instock"
            else:
                item["stock_status"] = "onbackorder" if item["backorders"] != "no" else "outofstock"
        elif "stock_status" in update:
            item["stock_status"] = update["stock_status"]
        if item["stock_status"] != before or "stock_quantity" in update:
            self.stock_log.append((time.time(), item["sku"], item["stock_status"] != "outofstock"))


def _invalid_stock(update: dict[str, Any]) -> dict[str, Any] | None:
    """The error WooCommerce's schema validation gives a bad stock field, else None."""
    bad = None
    if "stock_quantity" in update and not isinstance(update["stock_quantity"], int | None):
        bad = "stock_quantity is not of type integer,null."
    elif "manage_stock" in update and not isinstance(update["manage_stock"], bool):
        bad = "manage_stock is not of type boolean."
    elif update.get("stock_status", "instock") not in ("instock", "outofstock", "onbackorder"):
        bad = "stock_status is not one of instock, outofstock and onbackorder."
    if bad is None:
        return None
    return {
        "code": "rest_invalid_param",
        "message": f"Invalid parameter(s): {bad}",
        "data": {"status": 400},
    }


class FakeShopify(FakeStore):
    """Admin GraphQL: productVariantsBulkUpdate, inventorySetQuantities,
    productVariants(query: "sku:..."), nodes(ids:) (with inventoryItem/inventoryLevel),
    shop. Each variant has an inventory item (id = variant id + 900000) with an
    ``available`` quantity per location in ``levels``. A cost bucket (``bucket`` points, ``restore_rate`` per second,
    10 points per call) answers THROTTLED when empty; ``throttle_next`` forces it."""

    limit = 250

    def __init__(
        self, server: LoopbackServer, token: str = "shpat_test", version: str = "2025-01"
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
        self.stock_calls: list[int] = []
        self.locations = {1}
        self.levels: dict[tuple[int, int], int] = {}  # (inventory item, location) -> available
        self.sticky_stock: dict[int, int] = {}  # inventory item -> quantity it keeps
        self.bad_items: set[int] = set()  # inventory items the mutation says are gone
        self._restored_at = time.monotonic()
        self.path = f"/admin/api/{version}/graphql.json"
        server.route(self.path, self._graphql)

    def add(
        self, product: int, variant: int, sku: str, price: str = "100.00", stock: int = 0
    ) -> None:
        self.variants[variant] = {"id": variant, "product": product, "sku": sku, "price": price}
        self.levels[(variant + 900000, 1)] = stock

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
        if "inventorySetQuantities" in query:
            return self._set_quantities(variables["input"])
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
            location = variables.get("location")
            return {
                "nodes": [
                    self._node(self.variants[i], location) if i in self.variants else None
                    for i in ids
                ]
            }
        return {"shop": {"name": "Test shop", "currencyCode": "RUB"}}

    def _node(self, v: dict[str, Any], location: str | None = None) -> dict[str, Any]:
        node = {
            "id": f"gid://shopify/ProductVariant/{v['id']}",
            "sku": v["sku"],
            "price": v["price"],
        }
        if location is not None:
            item = v["id"] + 900000
            where = int(str(location).rsplit("/", 1)[-1])
            level = None
            if (item, where) in self.levels:
                quantities = [{"name": "available", "quantity": self.levels[(item, where)]}]
                level = {"quantities": quantities}
            node["inventoryItem"] = {
                "id": f"gid://shopify/InventoryItem/{item}",
                "inventoryLevel": level,
            }
        return node

    def _set_quantities(self, data: dict[str, Any]) -> dict[str, Any]:
        quantities = data["quantities"]
        if len(quantities) > self.limit:
            message = f"The input array size of {len(quantities)} is greater than the maximum allowed of {self.limit}."
            return {
                "errors": [{"message": message, "extensions": {"code": "MAX_INPUT_SIZE_EXCEEDED"}}]
            }
        if data.get("name") not in ("available", "on_hand") or not data.get("reason"):
            return {
                "errors": [
                    {
                        "message": "Variable $input of type InventorySetQuantitiesInput! was provided invalid value",
                        "extensions": {"code": "INVALID_VARIABLE"},
                    }
                ]
            }
        self.stock_calls.append(len(quantities))
        errors = []
        for index, q in enumerate(quantities):
            item = int(str(q["inventoryItemId"]).rsplit("/", 1)[-1])
            location = int(str(q["locationId"]).rsplit("/", 1)[-1])
            if location not in self.locations:
                errors.append(
                    {
                        "field": ["input", "quantities", str(index), "locationId"],
                        "message": "The specified location could not be found.",
                        "code": "INVALID_LOCATION",
                    }
                )
            elif (item - 900000) not in self.variants or item in self.bad_items:
                errors.append(
                    {
                        "field": ["input", "quantities", str(index), "inventoryItemId"],
                        "message": "The specified inventory item could not be found.",
                        "code": "INVALID_INVENTORY_ITEM",
                    }
                )
            elif not data.get("ignoreCompareQuantity") and q.get(
                "compareQuantity"
            ) != self.levels.get((item, location), 0):
                errors.append(
                    {
                        "field": ["input", "quantities", str(index), "compareQuantity"],
                        "message": "The compareQuantity argument no longer matches the persisted quantity.",
                        "code": "COMPARE_QUANTITY_STALE",
                    }
                )
        if errors:  # all or nothing
            return {
                "inventorySetQuantities": {"inventoryAdjustmentGroup": None, "userErrors": errors}
            }
        for q in quantities:
            item = int(str(q["inventoryItemId"]).rsplit("/", 1)[-1])
            location = int(str(q["locationId"]).rsplit("/", 1)[-1])
            before = self.levels.get((item, location), 0)
            self.levels[(item, location)] = self.sticky_stock.get(item, q["quantity"])
            sku = self.variants[item - 900000]["sku"]
            self.stock_received[sku] += 1
            if (before > 0) != (self.levels[(item, location)] > 0) or before != q["quantity"]:
                self.stock_log.append((time.time(), sku, self.levels[(item, location)] > 0))
        group = {"id": f"gid://shopify/InventoryAdjustmentGroup/{len(self.stock_calls)}"}
        return {"inventorySetQuantities": {"inventoryAdjustmentGroup": group, "userErrors": []}}

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

    def __init__(
        self, server: LoopbackServer, secret: str = "s3cret", path: str = "/prices"
    ) -> None:
        super().__init__(server)
        self.secret = secret
        self.prices: dict[str, str] = {}
        self.stock: dict[str, dict[str, Any]] = {}
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
                    },
                    "stock": {s: self.stock[s] for s in skus if s in self.stock},
                },
            )
        payload = json.loads(req.body)
        results = []
        for row in payload.get("stock", []):
            if row["sku"] in self.reject:
                results.append({"sku": row["sku"], "ok": False, "error": "unknown sku"})
                continue
            self.stock[row["sku"]] = {"quantity": row["quantity"], "in_stock": row["in_stock"]}
            self.stock_received[row["sku"]] += 1
            self.stock_log.append((time.time(), row["sku"], row["in_stock"]))
            results.append({"sku": row["sku"], "ok": True})
        for item in payload.get("items", []):
            if item["sku"] in self.reject:
                results.append({"sku": item["sku"], "ok": False, "error": "unknown sku"})
                continue
            self.prices[item["sku"]] = item["price"]
            self.received[item["sku"]] += 1
            results.append({"sku": item["sku"], "ok": True})
        return _json(200, {"results": results})
