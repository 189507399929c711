"""Feed sync end to end: a local HTTP server on 127.0.0.1 serving fixture feeds into a
real SQLite database; every bad input is rejected with the previous data intact."""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update

from repricer.config import Settings
from repricer.db.models import FeedSync, utcnow
from repricer.exceptions import FeedError
from repricer.feeds import SyncResult, sync_feeds
from repricer.loopback import LoopbackServer, Request, Response
from tests.feeds.conftest import FEEDS, feed_syncs, stored_offers, supplier_toml, yml

MakeSettings = Callable[[str], Settings]
BASE = [
    ("A-1", "1000", 5),
    ("A-2", "2000", 5),
    ("A-3", "3000", 5),
    ("A-4", "4000", 5),
    ("A-5", "5000", 5),
]


@pytest.fixture
def products(add_products: Callable[..., None]) -> None:
    add_products(
        "A-1",
        "A-2",
        "A-3",
        "A-4",
        "A-5",
        "BSH-1",
        gtins={"A-1": "4601234567890", "A-2": "4601234567891", "A-3": "4601234567892"},
    )


def sync_one(settings: Settings, engine: Engine, name: str = "acme") -> SyncResult:
    (result,) = sync_feeds(settings, engine, name)
    return result


def serve(server: LoopbackServer, path: str, body: bytes, **headers: str) -> str:
    server.route(path, Response(200, body, headers))
    return server.url(path)


@pytest.mark.usefixtures("products")
def test_yml_utf8_over_http(
    http_server: LoopbackServer, settings_from: MakeSettings, engine: Engine
) -> None:
    url = serve(http_server, "/alpha.yml", (FEEDS / "offers-utf8.yml").read_bytes())
    settings = settings_from(supplier_toml("acme", url))
    result = sync_one(settings, engine)
    assert (result.status, result.seen, result.changed, result.skipped, result.unmapped) == (
        "ok",
        4,
        4,
        3,
        1,
    )
    assert result.row_errors == [
        "offer A-4: cost 'по запросу' is not a number",
        "offer A-5: cost must be positive, got '-10'",
        "line 52: no sku",
    ]
    offers = stored_offers(engine, "acme")
    assert offers["A-1"]["cost"] == 129990 and offers["A-1"]["old_price"] == 149900
    assert offers["A-1"]["stock_qty"] == 7 and offers["A-1"]["available"] is True
    assert offers["A-2"]["available"] is False
    assert offers["A-3"]["cost"] == 250000 and offers["A-3"]["stock_qty"] == 5
    assert offers["X-9"]["product_id"] is None  # kept for later matching
    assert offers["A-1"]["product_id"] is not None
    (record,) = feed_syncs(engine)
    assert record["status"] == "ok" and record["http_status"] == 200 and record["skipped"] == 3
    assert record["unmapped"] == 1 and record["duration_s"] is not None and record["finished_at"]


@pytest.mark.usefixtures("products")
def test_yml_windows_1251_keyed_by_vendor_code(
    http_server: LoopbackServer, settings_from: MakeSettings, engine: Engine
) -> None:
    url = serve(http_server, "/beta.yml", (FEEDS / "offers-cp1251.yml").read_bytes())
    result = sync_one(settings_from(supplier_toml("acme", url, key="vendorCode")), engine)
    assert (result.status, result.seen, result.unmapped) == ("ok", 3, 2)
    offers = stored_offers(engine, "acme")
    assert (
        offers["BSH-1"]["name"] == "Дрель ударная «Бош»"
        and offers["BSH-1"]["product_id"] is not None
    )
    assert offers["MKT-2"]["cost"] == 48050 and offers["MKT-2"]["available"] is False  # count 0


@pytest.mark.usefixtures("products")
def test_csv_cp1251_decimal_commas(
    http_server: LoopbackServer, settings_from: MakeSettings, engine: Engine
) -> None:
    url = serve(http_server, "/gamma.csv", (FEEDS / "price-cp1251.csv").read_bytes())
    result = sync_one(settings_from(supplier_toml("acme", url, "csv")), engine)
    assert (result.status, result.seen, result.skipped, result.duplicates) == ("ok", 3, 3, 1)
    assert any("repeated" in w and "A-1" in w for w in result.warnings)
    assert result.row_errors == [
        "line 6: cost must be positive, got '0'",
        "line 7: no sku",
        "line 8: cost 'договорная' is not a number",
    ]
    offers = stored_offers(engine, "acme")
    assert offers["A-1"]["cost"] == 118950 and offers["A-1"]["stock_qty"] == 4  # the last row wins
    assert offers["A-2"]["stock_qty"] == 0 and offers["A-2"]["available"] is False
    assert offers["A-3"]["cost"] == 245000 and offers["A-3"]["stock_qty"] == 10


@pytest.mark.usefixtures("products")
def test_xlsx_keyed_by_barcode(
    http_server: LoopbackServer, settings_from: MakeSettings, engine: Engine
) -> None:
    url = serve(http_server, "/delta.xlsx", (FEEDS / "price.xlsx").read_bytes())
    result = sync_one(settings_from(supplier_toml("acme", url, "xlsx", key="barcode")), engine)
    assert (result.status, result.seen, result.unmapped, result.skipped) == ("ok", 3, 0, 1)
    offers = stored_offers(engine, "acme")
    assert offers["4601234567890"]["cost"] == 121050
    assert offers["4601234567890"]["retail_price"] == 159000
    assert offers["4601234567891"]["cost"] == 47000


@pytest.mark.usefixtures("products")
def test_unchanged_resync_writes_nothing_and_304_skips(
    http_server: LoopbackServer, settings_from: MakeSettings, engine: Engine
) -> None:
    body = yml(BASE)

    def handler(req: Request) -> Response:
        if req.headers.get("if-none-match") == '"v1"':
            return Response(304)
        return Response(200, body, {"ETag": '"v1"'})

    http_server.route("/feed.yml", handler)
    settings = settings_from(supplier_toml("acme", http_server.url("/feed.yml")))
    assert sync_one(settings, engine).changed == 5
    before = stored_offers(engine, "acme")
    second = sync_one(settings, engine)
    assert (second.status, second.http_status, second.changed) == ("not_modified", 304, 0)
    assert stored_offers(engine, "acme") == before
    # Without validators the server sends the feed again; nothing differs, nothing is written.
    http_server.route("/feed.yml", Response(200, body))
    third = sync_one(settings, engine)
    assert (third.status, third.seen, third.changed) == ("unchanged", 5, 0)
    assert stored_offers(engine, "acme") == before
    assert [s["status"] for s in feed_syncs(engine)] == ["ok", "not_modified", "unchanged"]
    assert feed_syncs(engine)[1]["etag"] == '"v1"'  # carried forward for the next request


@pytest.mark.usefixtures("products")
def test_changes_absent_items_and_new_products(
    http_server: LoopbackServer,
    settings_from: MakeSettings,
    engine: Engine,
    add_products: Callable[..., None],
) -> None:
    settings = settings_from(supplier_toml("acme", http_server.url("/feed.yml")))
    http_server.route("/feed.yml", Response(200, yml([*BASE, ("NEW-1", "100", 1)])))
    first = sync_one(settings, engine)
    assert first.unmapped == 1
    add_products("NEW-1")
    moved = [("A-1", "1050", 5), *BASE[1:4], ("NEW-1", "100", 1)]  # A-5 gone, A-1 +5%
    http_server.route("/feed.yml", Response(200, yml(moved)))
    result = sync_one(settings, engine)
    assert (result.status, result.changed, result.missing, result.unmapped) == ("ok", 2, 1, 0)
    offers = stored_offers(engine, "acme")
    assert offers["A-1"]["cost"] == 105000
    assert (
        offers["A-5"]["available"] is False and offers["A-5"]["cost"] == 500000
    )  # kept, not deleted
    assert offers["NEW-1"]["product_id"] is not None  # matched once the product exists
    assert offers["A-1"]["updated_at"] > offers["A-2"]["updated_at"]


@pytest.mark.usefixtures("products")
def test_incomplete_feed_leaves_absent_items(
    http_server: LoopbackServer, settings_from: MakeSettings, engine: Engine
) -> None:
    settings = settings_from(supplier_toml("acme", http_server.url("/feed.yml"), complete=False))
    http_server.route("/feed.yml", Response(200, yml(BASE)))
    sync_one(settings, engine)
    http_server.route("/feed.yml", Response(200, yml(BASE[:1])))
    result = sync_one(settings, engine)
    assert (result.status, result.missing) == ("ok", 0)
    assert all(o["available"] for o in stored_offers(engine, "acme").values())


def test_500_then_success(
    http_server: LoopbackServer, settings_from: MakeSettings, engine: Engine
) -> None:
    calls = []

    def flaky(_req: Request) -> Response:
        calls.append(1)
        return Response(500, b"busy") if len(calls) == 1 else Response(200, yml(BASE))

    http_server.route("/feed.yml", flaky)
    result = sync_one(settings_from(supplier_toml("acme", http_server.url("/feed.yml"))), engine)
    assert (result.status, result.seen, len(calls)) == ("ok", 5, 2)


def test_gzip_feed(
    http_server: LoopbackServer, settings_from: MakeSettings, engine: Engine
) -> None:
    url = serve(http_server, "/feed.yml", gzip.compress(yml(BASE)), **{"Content-Encoding": "gzip"})
    assert sync_one(settings_from(supplier_toml("acme", url)), engine).seen == 5


def test_local_path(settings_from: MakeSettings, engine: Engine) -> None:
    settings = settings_from(supplier_toml("acme", str(FEEDS / "price-cp1251.csv"), "csv"))
    assert sync_one(settings, engine).seen == 3


# --- a bad feed changes nothing ---------------------------------------------------------


def _slow(_req: Request) -> Response:
    time.sleep(1.5)
    return Response(200, yml(BASE))


BIG_MOVES = [("A-1", "3000", 5), *BASE[1:]]  # 1 of 5 costs triples: 20% > 10%
BAD_INPUTS: list[tuple[str, Any, str, str]] = [
    ("truncated", Response(200, yml(BASE)[:-60]), "rejected", "not well-formed"),
    ("garbage", Response(200, b"\x89PNG\r\n\x1a\n not a feed"), "rejected", "not well-formed"),
    (
        "html-error-page",
        Response(200, b"<html><body>Maintenance</body></html>"),
        "rejected",
        "not a YML catalog",
    ),
    ("empty-feed", Response(200, yml([])), "rejected", "empty feed"),
    (
        "only-junk-rows",
        Response(200, yml([("A-1", "abc", 1), ("A-2", "-1", 1)])),
        "rejected",
        "empty feed",
    ),
    (
        "too-many-missing",
        Response(200, yml(BASE[:3])),
        "rejected",
        "2 of 5 known items (40.0%) are missing",
    ),
    (
        "big-cost-moves",
        Response(200, yml(BIG_MOVES)),
        "rejected",
        "costs of 1 of 5 items (20.0%) moved more than max_cost_change 50%",
    ),
    ("server-error", Response(500, b"down"), "failed", "HTTP 500"),
    ("not-found", Response(404, b"gone"), "failed", "HTTP 404"),
    ("slow-server", _slow, "failed", "timed out"),
]


@pytest.mark.parametrize(
    ("response", "status", "reason"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
@pytest.mark.usefixtures("products")
def test_bad_input_keeps_previous_data(
    http_server: LoopbackServer,
    settings_from: MakeSettings,
    engine: Engine,
    response: Any,
    status: str,
    reason: str,
) -> None:
    url = http_server.url("/feed.yml")
    settings = settings_from(supplier_toml("acme", url, timeout="0.5s", retries=1))
    http_server.route("/feed.yml", Response(200, yml(BASE), {"ETag": '"good"'}))
    assert sync_one(settings, engine).status == "ok"
    before = stored_offers(engine, "acme")

    http_server.route("/feed.yml", response)
    result = sync_one(settings, engine)
    assert result.status == status and not result.ok
    assert reason in (result.error or "")
    assert stored_offers(engine, "acme") == before
    last = feed_syncs(engine)[-1]
    assert (last["status"], last["error"]) == (status, result.error)
    assert last["etag"] is None  # a refused feed is fetched in full next time


@pytest.mark.usefixtures("products")
def test_rejected_feed_is_refetched_unconditionally(
    http_server: LoopbackServer, settings_from: MakeSettings, engine: Engine
) -> None:
    settings = settings_from(supplier_toml("acme", http_server.url("/feed.yml")))
    http_server.route("/feed.yml", Response(200, yml(BASE), {"ETag": '"a"'}))
    sync_one(settings, engine)
    http_server.route("/feed.yml", Response(200, yml([]), {"ETag": '"b"'}))
    assert sync_one(settings, engine).status == "rejected"
    sync_one(settings, engine)
    assert http_server.requests[-1].headers.get("if-none-match") == '"a"'


def test_thresholds_are_settings(
    http_server: LoopbackServer, settings_from: MakeSettings, engine: Engine
) -> None:
    text = supplier_toml(
        "acme",
        http_server.url("/feed.yml"),
        max_missing_share="50%",
        max_cost_change_share="40%",
        hold_cost_ratio=4,
    )
    settings = settings_from(text)
    http_server.route("/feed.yml", Response(200, yml(BASE)))
    sync_one(settings, engine)
    http_server.route("/feed.yml", Response(200, yml([("A-1", "3000", 5), *BASE[1:3]])))
    result = sync_one(settings, engine)
    assert (result.status, result.missing, result.changed) == ("ok", 2, 1)


def test_unknown_supplier_raises(settings_from: MakeSettings, engine: Engine) -> None:
    settings = settings_from(supplier_toml("acme", str(FEEDS / "offers-utf8.yml")))
    with pytest.raises(FeedError, match="'nope': not in the config"):
        sync_feeds(settings, engine, "nope")


def test_all_suppliers_and_progress(
    http_server: LoopbackServer, settings_from: MakeSettings, engine: Engine
) -> None:
    good = supplier_toml("good", str(FEEDS / "offers-utf8.yml"))
    bad = supplier_toml("bad", http_server.url("/missing.yml"), retries=0)
    events: list[tuple[str, str, int]] = []
    results = sync_feeds(settings_from(good + bad), engine, progress=lambda *e: events.append(e))
    assert [(r.supplier, r.status) for r in results] == [("good", "ok"), ("bad", "failed")]
    assert ("good", "done", 4) in events and ("bad", "fetching", 0) in events
    assert str(results[1]).startswith("bad: failed: HTTP 404")


def test_abandoned_running_sync_is_closed_at_the_next_start(
    settings_from: MakeSettings, engine: Engine
) -> None:
    settings = settings_from(supplier_toml("acme", str(FEEDS / "offers-utf8.yml")))
    sync_one(settings, engine)
    with engine.begin() as conn:  # killed a minute into its run: no lease holds it
        conn.execute(
            update(FeedSync).values(status="running", started_at=utcnow() - timedelta(minutes=1))
        )
    sync_one(settings, engine)
    first, second = feed_syncs(engine)
    assert (first["status"], first["error"]) == (
        "interrupted",
        "the sync process ended during the run",
    )
    assert second["status"] == "ok"


def test_a_sync_running_elsewhere_is_left_alone(
    settings_from: MakeSettings, engine: Engine
) -> None:
    from repricer.lease import hold_lease

    settings = settings_from(supplier_toml("acme", str(FEEDS / "offers-utf8.yml")))
    sync_one(settings, engine)
    with engine.begin() as conn:
        conn.execute(update(FeedSync).values(status="running"))
    with hold_lease(engine, "feeds:acme"):  # that sync's process is alive
        result = sync_one(settings, engine)
    assert result.status == "failed" and "another feeds:acme is running" in (result.error or "")
    assert [s["status"] for s in feed_syncs(engine)] == ["running"]
