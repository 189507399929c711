"""Generic signed-JSON connector against a local endpoint implementing the documented payload."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from sqlalchemy import Engine

from repricer.config import Settings
from repricer.exceptions import StorefrontError
from repricer.loopback import LoopbackServer, Response
from repricer.storefront import check_storefront, push_changes
from repricer.storefront.http import sign
from tests.storefront.fakes import FakeHttpStorefront
from tests.storefront.seed import add_changes, add_products, add_run, statuses

SECRET = "whsec_9f8e7d6c5b4a"


@pytest.fixture
def shop(http_server: LoopbackServer) -> FakeHttpStorefront:
    return FakeHttpStorefront(http_server, SECRET)


@pytest.fixture
def settings(
    settings_from, http_server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("REPRICER_HTTP_SECRET", SECRET)
    return settings_from(
        f'[storefront]\nkind = "http"\nretries = 1\n[storefront.http]\nurl = "{http_server.url("/prices")}"\n'
    )


def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"items": []}'
    assert sign("k", body) == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()


def test_push_documented_payload_with_per_item_results(
    engine: Engine, settings: Settings, shop: FakeHttpStorefront
) -> None:
    add_products(engine, ["A", "B", "C"])
    add_changes(engine, add_run(engine), {"A": 12345, "B": 100, "C": 999})
    shop.reject = {"B"}
    summary = push_changes(settings, engine)
    assert (summary.pushed, summary.failed, summary.confirmed) == (2, 1, 2)
    assert summary.failures == [("B", "unknown sku")]
    [post] = [r for r in shop.server.requests if r.method == "POST"]
    payload = json.loads(post.body)
    assert len(payload["batch"]) == 32
    assert payload["items"][0] == {
        "change_id": 1,
        "sku": "A",
        "price": "123.45",
        "price_minor": 12345,
        "currency": "RUB",
    }
    assert statuses(engine) == {"A": "confirmed", "B": "failed", "C": "confirmed"}


def test_wrong_secret_is_named_without_showing_it(
    engine: Engine, settings: Settings, shop: FakeHttpStorefront
) -> None:
    shop.secret = "something-else"
    with pytest.raises(StorefrontError) as err:
        check_storefront(settings, engine)
    assert "REPRICER_HTTP_SECRET" in str(err.value) and SECRET not in str(err.value)


def test_endpoint_without_read_back_is_unverified(
    engine: Engine, settings: Settings, http_server: LoopbackServer
) -> None:
    def post_only(req):
        if req.method == "GET":
            return Response(405, "")
        return Response(204, "")

    http_server.route("/prices", post_only)
    add_products(engine, ["A"])
    add_changes(engine, add_run(engine), {"A": 12345})
    summary = push_changes(settings, engine)
    assert (summary.pushed, summary.confirmed, summary.unverified) == (1, 0, 1)
    assert "reachable (HTTP 405)" in check_storefront(settings, engine)
