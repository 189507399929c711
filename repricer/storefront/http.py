"""Generic HTTP connector for custom storefronts: signed JSON batches.

Push: ``POST <url>`` with a JSON body (UTF-8)::

    {"batch": "9f1c...", "items": [{"change_id": 17, "sku": "A-1", "price": "1299.00",
      "price_minor": 129900, "currency": "RUB"}]}

and the header ``X-Repricer-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` keyed
with REPRICER_HTTP_SECRET (the header name is ``storefront.http.signature_header``). The
endpoint answers 2xx with ``{"results": [{"sku": "A-1", "ok": true}, {"sku": "B-2",
"ok": false, "error": "unknown sku"}]}``; a 2xx without ``results`` accepts every item.
At most 500 items per request; 429/5xx are retried.

Stock goes to the same endpoint, signed the same way, as ``{"batch": "...", "stock":
[{"sku": "A-1", "quantity": 5, "in_stock": true}]}`` (``quantity`` null: in stock with
no count to show); the answer is the same ``results`` list.

Read back (optional): ``GET <url>?skus=A-1,B-2`` (signed over the query string) answering
``{"prices": {"A-1": {"price": "1299.00", "currency": "RUB"}}, "stock": {"A-1":
{"quantity": 5, "in_stock": true}}}``; a 404/405 means the endpoint has no read-back and
verification is skipped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
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
    parse_decimal_text,
    redact,
    require_url,
)
from repricer.storefront.retry import Backoff, safe_url, send

LIMIT = 500
SECRET_ENV = "REPRICER_HTTP_SECRET"


def sign(secret: str, payload: bytes) -> str:
    """The signature header value: ``sha256=<hex HMAC-SHA256(secret, payload)>``."""
    return "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


class HttpConnector:
    """See the module docstring and :mod:`repricer.storefront.base`."""

    name = "http"
    max_batch = LIMIT

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        header: str = "X-Repricer-Signature",
        timeout: float = 30.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.url = require_url(url, "http.url")
        self._secret = secret
        self.header = header
        self.backoff = backoff or Backoff()
        self.requests = 0
        self.client = httpx.Client(timeout=timeout)

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine) -> HttpConnector:
        conf = settings.storefront
        return cls(
            require_url(conf.http.url, "http.url"),
            get_secret(SECRET_ENV),
            header=conf.http.signature_header,
            timeout=conf.timeout.total_seconds(),
            backoff=Backoff(retries=conf.retries),
        )

    def close(self) -> None:
        self.client.close()

    def push(self, items: list[PushItem]) -> list[PushResult]:
        results: list[PushResult] = []
        for start in range(0, len(items), LIMIT):
            chunk = items[start : start + LIMIT]
            targets = [(i.change_id, i.sku) for i in chunk]
            results += self._post("items", [_item(i) for i in chunk], targets)
        return results

    def push_stock(self, items: list[StockItem]) -> list[PushResult]:
        results: list[PushResult] = []
        for start in range(0, len(items), LIMIT):
            chunk = items[start : start + LIMIT]
            rows = [{"sku": i.sku, "quantity": i.quantity, "in_stock": i.in_stock} for i in chunk]
            results += self._post("stock", rows, [(i.product_id, i.sku) for i in chunk])
        return results

    def _post(
        self, key: str, rows: list[dict[str, Any]], targets: list[tuple[int, str]]
    ) -> list[PushResult]:
        """POST ``{"batch": ..., key: rows}``; one result per (result id, sku) target."""
        body = json.dumps({"batch": uuid.uuid4().hex, key: rows}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", self.header: sign(self._secret, body)}
        response = self._send("POST", self.url, content=body, headers=headers)
        status = response.status_code
        if not 200 <= status < 300:
            error = self._describe(response)
            return [PushResult(rid, False, status, error) for rid, _ in targets]
        answers = _json(response).get("results") if isinstance(_json(response), dict) else None
        if not isinstance(answers, list):
            return [PushResult(rid, True, status) for rid, _ in targets]
        by_sku = {str(a.get("sku")): a for a in answers if isinstance(a, dict)}
        return [self._result(rid, by_sku.get(sku), status) for rid, sku in targets]

    def _result(self, result_id: int, answer: dict[str, Any] | None, status: int) -> PushResult:
        if answer is None:
            return PushResult(result_id, False, status, "not in the response's results")
        if answer.get("ok") is True:
            return PushResult(result_id, True, status)
        error = redact(str(answer.get("error") or "rejected"), [self._secret])
        return PushResult(result_id, False, status, error)

    def fetch_prices(self, skus: list[str]) -> dict[str, Price]:
        prices: dict[str, Price] = {}
        for data in self._read_back(skus):
            prices.update(_prices(data))
        return prices

    def fetch_stock(self, skus: list[str]) -> dict[str, Stock]:
        stock: dict[str, Stock] = {}
        for data in self._read_back(skus):
            stock.update(_stock(data))
        return stock

    def _read_back(self, skus: list[str]) -> list[Any]:
        """The read-back answers for ``skus`` (none when the endpoint has no read-back)."""
        answers = []
        for start in range(0, len(skus), LIMIT):
            response = self._get_prices(skus[start : start + LIMIT])
            if response.status_code in (404, 405):
                return []
            if response.status_code != 200:
                raise StorefrontError(self._describe(response))
            answers.append(_json(response))
        return answers

    def check(self) -> str:
        response = self._get_prices([])  # reachability and signature, no data
        if response.status_code >= 400 and response.status_code not in (404, 405):
            raise StorefrontError(self._describe(response))
        return f"HTTP storefront at {safe_url(self.url)}: reachable (HTTP {response.status_code})"

    def _get_prices(self, skus: list[str]) -> httpx.Response:
        query = httpx.QueryParams({"skus": ",".join(skus)})
        signature = sign(self._secret, str(query).encode())
        return self._send("GET", self.url, params=query, headers={self.header: signature})

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        self.requests += 1
        response = send(self.client, method, url, self.backoff, **kwargs)
        if response.status_code in (401, 403):
            raise StorefrontError(self._describe(response))
        return response

    def _describe(self, response: httpx.Response) -> str:
        text = f"HTTP storefront answered {response.status_code} to {safe_url(self.url)}"
        if response.status_code in (401, 403):
            text += f" (signature refused: check {SECRET_ENV})"
        else:
            text += ": " + response.text[:200].replace("\n", " ")
        return redact(text, [self._secret])


def _item(item: PushItem) -> dict[str, Any]:
    return {
        "change_id": item.change_id,
        "sku": item.sku,
        "price": decimal_text(item.price, item.currency),
        "price_minor": item.price,
        "currency": item.currency,
    }


def _prices(data: Any) -> dict[str, Price]:
    out: dict[str, Price] = {}
    raw = data.get("prices") if isinstance(data, dict) else None
    for sku, entry in (raw or {}).items():
        if isinstance(entry, dict) and isinstance(entry.get("currency"), str):
            amount = parse_decimal_text(entry.get("price"), entry["currency"])
            if amount is not None:
                out[str(sku)] = Price(amount, entry["currency"])
    return out


def _stock(data: Any) -> dict[str, Stock]:
    out: dict[str, Stock] = {}
    raw = data.get("stock") if isinstance(data, dict) else None
    for sku, entry in (raw or {}).items():
        if isinstance(entry, dict) and isinstance(entry.get("in_stock"), bool):
            quantity = entry.get("quantity")
            out[str(sku)] = Stock(
                quantity if isinstance(quantity, int) else None, entry["in_stock"]
            )
    return out


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
