"""Fetching feeds over HTTP from a local server on 127.0.0.1, and from files."""

from __future__ import annotations

import gzip
import threading
import time
from pathlib import Path

import pytest

from repricer.config import SupplierSettings
from repricer.exceptions import ConfigError, InputFileError
from repricer.feeds.sources import FetchError, fetch_feed
from repricer.loopback import LoopbackServer, Request, Response

BODY = b'<?xml version="1.0"?><yml_catalog><shop><offers/></shop></yml_catalog>'


def http_supplier(url: str, **extra: object) -> SupplierSettings:
    return SupplierSettings.model_validate({"name": "acme", "url": url, "format": "yml", **extra})


def test_conditional_get_sends_validators_and_sees_304(http_server: LoopbackServer) -> None:
    def handler(req: Request) -> Response:
        if req.headers.get("if-none-match") == '"v1"':
            return Response(304, headers={"ETag": '"v1"'})
        return Response(
            200, BODY, {"ETag": '"v1"', "Last-Modified": "Mon, 23 Nov 2026 10:00:00 GMT"}
        )

    http_server.route("/feed.yml", handler)
    supplier = http_supplier(http_server.url("/feed.yml"))
    first = fetch_feed(supplier)
    assert first.path is not None and first.path.read_bytes() == BODY
    assert (first.etag, first.http_status) == ('"v1"', 200)
    first.cleanup()
    assert not first.path.exists()
    again = fetch_feed(supplier, etag='"v1"', last_modified=first.last_modified)
    assert again.not_modified and again.http_status == 304
    assert http_server.requests[-1].headers["if-modified-since"] == first.last_modified


def test_gzip_content_encoding_and_gzip_body(http_server: LoopbackServer) -> None:
    packed = gzip.compress(BODY)
    http_server.route("/enc.yml", Response(200, packed, {"Content-Encoding": "gzip"}))
    http_server.route("/feed.yml.gz", Response(200, packed))
    for path in ("/enc.yml", "/feed.yml.gz"):
        feed = fetch_feed(http_supplier(http_server.url(path)))
        assert feed.path is not None and feed.path.read_bytes() == BODY
        feed.cleanup()


def test_truncated_gzip_file_is_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "feed.yml.gz"
    path.write_bytes(gzip.compress(BODY * 100)[:60])
    supplier = SupplierSettings(name="f", path=path, format="yml")
    with pytest.raises(InputFileError, match="broken gzip"):
        fetch_feed(supplier)


def test_retries_5xx_with_backoff_then_succeeds(http_server: LoopbackServer) -> None:
    calls: list[float] = []

    def flaky(_req: Request) -> Response:
        calls.append(time.monotonic())
        return Response(500, b"oops") if len(calls) < 3 else Response(200, BODY)

    http_server.route("/feed.yml", flaky)
    feed = fetch_feed(http_supplier(http_server.url("/feed.yml"), retries=3), backoff=0.05)
    assert feed.http_status == 200 and len(calls) == 3
    assert calls[2] - calls[1] >= calls[1] - calls[0] >= 0.05  # the delay grows
    feed.cleanup()


def test_gives_up_after_retries(http_server: LoopbackServer) -> None:
    http_server.route("/feed.yml", Response(503, b"down"))
    with pytest.raises(FetchError, match=r"HTTP 503 .*after 3 attempt") as info:
        fetch_feed(http_supplier(http_server.url("/feed.yml"), retries=2), backoff=0.01)
    assert info.value.http_status == 503


def test_404_is_not_retried(http_server: LoopbackServer) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch_feed(http_supplier(http_server.url("/missing.yml"), retries=3), backoff=0.01)
    assert len(http_server.requests) == 1


def test_slow_server_times_out(http_server: LoopbackServer) -> None:
    answered = threading.Event()  # the server answers only once the client gave up

    def slow(_req: Request) -> Response:
        answered.wait(60)
        return Response(200, BODY)

    http_server.route("/feed.yml", slow)
    try:
        with pytest.raises(FetchError, match="timed out"):
            fetch_feed(http_supplier(http_server.url("/feed.yml"), timeout="0.3s", retries=0))
    finally:
        answered.set()


def test_basic_auth_password_from_env(
    http_server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    http_server.route("/feed.yml", Response(200, BODY))
    supplier = http_supplier(http_server.url("/feed.yml"), username="shop")
    with pytest.raises(ConfigError, match="REPRICER_SUPPLIER_ACME_PASSWORD"):
        fetch_feed(supplier)
    monkeypatch.setenv("REPRICER_SUPPLIER_ACME_PASSWORD", "s3cret")
    fetch_feed(supplier).cleanup()
    assert http_server.requests[-1].headers["authorization"] == "Basic c2hvcDpzM2NyZXQ="


def test_missing_local_file(tmp_path: Path) -> None:
    supplier = SupplierSettings(name="f", path=tmp_path / "nope.yml", format="yml")
    with pytest.raises(FetchError, match="file not found"):
        fetch_feed(supplier)
