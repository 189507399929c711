"""Discovery through nested gzip sitemaps on loopback, proposals, review, drift back."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from repricer.cli import app
from repricer.config import Settings
from repricer.crawl import run_crawl
from repricer.db.engine import session_scope
from repricer.db.models import Candidate, Listing, Product
from repricer.loopback import LoopbackServer
from repricer.matching.codes import gtin_check_digit
from repricer.pricing.inputs import load_observations
from repricer.synthetic.sitemap_shop import ShopProduct, serve_shop

pytestmark = pytest.mark.slow
DELAY = 0.05
PAGES = 60


def _gtin(n: int) -> str:
    body = f"46{n:010d}"
    return body + str(gtin_check_digit(body))


def _shop() -> list[ShopProduct]:
    kinds = ["kettle", "drill", "camera", "blender", "toaster", "router"]
    return [
        ShopProduct(
            i,
            f"Brand{i % 7} {kinds[i % 6]} MX-{1000 + i}Z",
            _gtin(i) if i % 2 == 0 else "",
            f"MX-{1000 + i}Z",
            (1000 + i) * 100,
            f"Brand{i % 7}",
        )
        for i in range(PAGES)
    ]


def _config(server: LoopbackServer) -> str:
    return f"""
[crawl]
timeout = "5s"
retries = 0
autothrottle = false

[[competitors]]
name = "shop"
domain = "127.0.0.1"
local = true
concurrency = 2
delay = {DELAY}
sitemaps = ["{server.url("/robots.txt")}"]
"""


def _catalog(engine: Engine) -> None:
    """Even products carry the page's GTIN; odd ones only the model code in the title;
    one product is nowhere on the shop."""
    with session_scope(engine) as session:
        for i in range(0, PAGES, 3):
            gtin = _gtin(i) if i % 2 == 0 else None
            session.add(Product(sku=f"S{i}", title=f"brand{i % 7} mx{1000 + i}z", gtin=gtin))
        session.add(Product(sku="ALONE", title="Garden hose 25 m green", gtin="4006381333931"))


def test_discover_match_review_and_drift(
    http_server: LoopbackServer,
    write_config: Callable[[str], object],
    settings_from: Callable[[str], Settings],
    engine: Engine,
) -> None:
    shop = _shop()
    log = serve_shop(http_server, shop)
    config = write_config(_config(http_server))
    _catalog(engine)
    runner = CliRunner()
    result = runner.invoke(app, ["--config", str(config), "listings", "discover", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["candidates"] == PAGES

    with session_scope(engine) as session:
        candidates = {c.url: c for c in session.scalars(select(Candidate))}
        assert len(candidates) == PAGES
        assert candidates[http_server.url("/p/2")].gtin == "0" + _gtin(2)
        assert candidates[http_server.url("/p/9")].brand == "Brand2"
        rows = session.execute(
            select(Product.sku, Listing).join(Product, Product.id == Listing.product_id)
        ).all()
    accepted = {sku: lst for sku, lst in rows if lst.status == "accepted"}
    assert "ALONE" not in {sku for sku, _ in rows}
    assert set(accepted) == {f"S{i}" for i in range(0, PAGES, 3)}  # one accepted page each
    for i in range(0, PAGES, 3):
        lst = accepted[f"S{i}"]
        assert lst.url == http_server.url(f"/p/{i}")
        if i % 2 == 0:
            assert lst.match_method == "gtin"
            assert any(e.startswith("same GTIN") for e in lst.evidence)
        else:
            assert lst.match_method == "model"
    assert all(
        lst.status == "review"
        for sku, lst in rows
        if sku not in accepted or lst is not accepted[sku]
    )

    times = sorted(log.times)
    # Never faster than the configured rate: arrival times at the server jitter by a few
    # ms either way (seen up to 40 ms over 10 gaps on an idle machine), so the rate is
    # measured over every run of 20 consecutive gaps.
    spans = [b - a for a, b in zip(times, times[20:], strict=False)]
    assert min(spans) >= 20 * DELAY * 0.95

    # The page of an accepted match changes its GTIN: back to review, out of pricing.
    settings = settings_from(_config(http_server))
    shop[6].gtin = _gtin(999)
    crawl = run_crawl(settings, skus=["S6", "S12"], timeout=120)
    assert crawl.status == "ok", crawl.error
    with session_scope(engine) as session:
        moved = session.scalar(select(Listing).where(Listing.url == http_server.url("/p/6")))
        kept = session.scalar(select(Listing).where(Listing.url == http_server.url("/p/12")))
        assert moved is not None and kept is not None
        assert moved.status == "review" and "GTIN" in (moved.status_reason or "")
        assert kept.status == "accepted"
        moved_id, kept_product = moved.id, kept.product_id
    with engine.connect() as conn:
        observed = load_observations(
            conn, settings, now=datetime.now(UTC) + timedelta(seconds=1), max_age=timedelta(days=1)
        )
    assert list(observed["product_id"]) == [kept_product]

    listed = runner.invoke(app, ["--config", str(config), "listings", "review", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    back = next(r for r in rows if r["id"] == moved_id)
    assert back["sku"] == "S6" and "GTIN" in back["reason"] and back["evidence"]
    problems = runner.invoke(
        app, ["--config", str(config), "listings", "list", "--problems", "--json"]
    )
    assert problems.exit_code == 0, problems.output
    assert {r["sku"]: r["last_status"] for r in json.loads(problems.output)}["S6"] == "mismatch"
    accepted = runner.invoke(
        app, ["--config", str(config), "listings", "review", "accept", str(moved_id)]
    )
    assert accepted.exit_code == 0, accepted.output
    again = runner.invoke(
        app, ["--config", str(config), "listings", "review", "accept", str(moved_id)]
    )
    assert again.exit_code == 1 and "not in review" in again.output
