"""End-to-end crawl: the real spider in a child process against a server on 127.0.0.1.

One crawl covers static pages (JSON-LD, microdata, OpenGraph, out of stock), one page
rendered by real Chromium, 404, a 403 captcha, a redirect to a category, a timeout,
binary garbage, robots.txt, a retried 503, an anomaly and a GTIN mismatch.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from repricer.cli import app
from repricer.config import Settings
from repricer.crawl import CrawlResult, run_crawl
from repricer.db.engine import session_scope
from repricer.db.models import Competitor, CrawlRun, Listing, Observation, Product
from repricer.exceptions import ConfigError
from repricer.loopback import LoopbackServer, Request, Response

pytestmark = pytest.mark.slow

CONFIG = """
[crawl]
timeout = "1s"
retries = 1
autothrottle = false
anomaly_threshold = "50%"
unhealthy_share = "30%"

[[competitors]]
name = "shop"
domain = "127.0.0.1"
local = true
concurrency = 4
delay = 0

[[competitors]]
name = "bad"
domain = "127.0.0.1"
local = true
concurrency = 4
delay = 0

[[competitors]]
name = "js"
domain = "127.0.0.1"
local = true
render = "browser"
obey_robots = false
delay = 0
"""

HTML = "<!DOCTYPE html><html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"


def _jsonld(price: Any, availability: str = "InStock", gtin: str = "4006381333931") -> str:
    data = {"@context": "https://schema.org", "@type": "Product", "name": "Чайник", "gtin13": gtin,
            "offers": {"@type": "Offer", "price": price, "priceCurrency": "RUB",
                       "availability": f"https://schema.org/{availability}"}}  # fmt: skip
    return HTML.format(
        head=f'<script type="application/ld+json">{json.dumps(data)}</script>',
        body="<h1>Чайник</h1>",
    )


def _page(text: str, status: int = 200, content_type: str = "text/html; charset=utf-8") -> Response:
    return Response(status, text, {"Content-Type": content_type})


JS_PAGE = HTML.format(
    head="",
    body="""<h1 id="t">loading</h1><div id="app"></div><img src="/img/big.png">
<script>
  var data = {"@context": "https://schema.org", "@type": "Product", "name": "Rendered kettle",
              "offers": {"@type": "Offer", "price": "3190", "priceCurrency": "RUB"}};
  var s = document.createElement("script"); s.type = "application/ld+json";
  s.text = JSON.stringify(data); document.head.appendChild(s);
  document.getElementById("app").innerHTML = '<span class="price">3 190 ₽</span>';
</script>""",
)


def _serve(server: LoopbackServer) -> None:
    flaky_calls: list[int] = []

    def flaky(_req: Request) -> Response:
        flaky_calls.append(1)
        return _page("busy", 503) if len(flaky_calls) == 1 else _page(_jsonld("990"))

    def slow(_req: Request) -> Response:
        time.sleep(2.5)
        return _page(_jsonld("100"))

    server.route(
        "/robots.txt", _page("User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    )
    server.route("/p/jsonld", _page(_jsonld(2490)))
    server.route("/p/microdata", _page(HTML.format(head="", body=(
        '<div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">Фен</h1>'
        '<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
        '<span itemprop="price">1 299,90 руб.</span><meta itemprop="priceCurrency" content="RUB">'
        '<link itemprop="availability" href="https://schema.org/InStock"></div></div>'))))  # fmt: skip
    server.route("/p/og", _page(HTML.format(body="<h1>Утюг</h1>", head=(
        '<meta property="product:price:amount" content="4590">'
        '<meta property="product:price:currency" content="RUB">'))))  # fmt: skip
    server.route("/p/oos", _page(_jsonld("54990", "OutOfStock")))
    server.route("/p/mismatch", _page(_jsonld("1990", gtin="4242002729219")))
    server.route("/p/flaky", flaky)
    server.route("/b/404", _page("<h1>Not found</h1>", 404))
    server.route(
        "/b/captcha", _page("<h1>Подтвердите, что вы не робот</h1><form>captcha</form>", 403)
    )
    server.route("/b/redirect", Response(302, b"", {"Location": "/catalog/kettles"}))
    server.route(
        "/catalog/kettles", _page(HTML.format(head="", body="<h1>Чайники</h1><a href='/p/1'>1</a>"))
    )
    server.route("/b/slow", slow)
    server.route("/b/garbage", Response(200, bytes(range(256)) * 4, {"Content-Type": "image/png"}))
    server.route("/private/p", _page(_jsonld(777)))
    server.route("/b/ok", _page(_jsonld(1000)))
    server.route("/js/1", _page(JS_PAGE))
    server.route("/js/slow", slow)
    server.route("/img/big.png", Response(200, b"\x89PNG", {"Content-Type": "image/png"}))


LISTINGS = {
    "shop": ["/p/jsonld", "/p/microdata", "/p/og", "/p/oos", "/p/mismatch", "/p/flaky"],
    "bad": ["/b/404", "/b/captcha", "/b/redirect", "/b/slow", "/b/garbage", "/private/p", "/b/ok"],
    "js": ["/js/1", "/js/missing", "/js/slow"],
}


def _seed(settings: Settings, engine: Engine, server: LoopbackServer) -> dict[str, int]:
    """Products and listings; an old price for /p/jsonld so the new one is an anomaly."""
    from repricer.catalog import sync_competitors

    ids: dict[str, int] = {}
    with session_scope(engine) as session:
        competitor_ids = sync_competitors(settings, session)
        for name, paths in LISTINGS.items():
            for path in paths:
                product = Product(
                    sku=f"SKU{path.replace('/', '-')}", gtin="4006381333931", title=path
                )
                session.add(product)
                session.flush()
                listing = Listing(
                    product_id=product.id, competitor_id=competitor_ids[name], url=server.url(path)
                )
                session.add(listing)
                session.flush()
                ids[path] = listing.id
        session.add(Observation(listing_id=ids["/p/jsonld"], status="ok", price=100000, currency="RUB",
                                observed_at=datetime.now(UTC) - timedelta(days=1)))  # fmt: skip
    return ids


@pytest.fixture
def crawled(
    settings_from: Callable[[str], Settings], engine: Engine, http_server: LoopbackServer
) -> tuple[CrawlResult, dict[str, Observation], LoopbackServer]:
    _serve(http_server)
    settings = settings_from(CONFIG)
    ids = _seed(settings, engine, http_server)
    result = run_crawl(settings, timeout=120)
    with session_scope(engine) as session:
        rows = session.execute(
            select(Observation).where(Observation.crawl_run_id == result.run_id)
        ).scalars()
        by_listing = {o.listing_id: o for o in rows}
    by_path = {path: by_listing[lid] for path, lid in ids.items() if lid in by_listing}
    return result, by_path, http_server


def test_crawl_stores_observations_and_site_health(
    crawled: tuple[CrawlResult, dict[str, Observation], LoopbackServer], engine: Engine
) -> None:
    result, obs, server = crawled
    assert result.status == "ok", result.error
    assert result.pages == sum(len(p) for p in LISTINGS.values()) == len(obs)
    expected = {
        "/p/jsonld": ("ok", 249000, "json-ld"),
        "/p/microdata": ("ok", 129990, "microdata"),
        "/p/og": ("ok", 459000, "opengraph"),
        "/p/oos": ("ok", 5499000, "json-ld"),
        "/p/mismatch": ("ok", 199000, "json-ld"),
        "/p/flaky": ("ok", 99000, "json-ld"),
        "/js/1": ("ok", 319000, "json-ld"),
        "/js/missing": ("not_found", None, None),
        "/js/slow": ("timeout", None, None),
        "/b/404": ("not_found", None, None),
        "/b/captcha": ("blocked", None, None),
        "/b/redirect": ("redirect", None, None),
        "/b/slow": ("timeout", None, None),
        "/b/garbage": ("error", None, None),
        "/private/p": ("blocked", None, None),
        "/b/ok": ("ok", 100000, "json-ld"),
    }
    got = {path: (o.status, o.price, o.method) for path, o in obs.items()}
    assert got == expected
    assert obs["/p/oos"].availability == "out_of_stock"
    assert obs["/p/jsonld"].availability == "in_stock"
    assert obs["/p/jsonld"].is_anomaly and not obs["/p/microdata"].is_anomaly
    assert obs["/p/mismatch"].is_mismatch and not obs["/p/jsonld"].is_mismatch
    assert obs["/b/404"].http_status == 404 and obs["/b/captcha"].http_status == 403
    assert "robots" in (obs["/private/p"].reason or "")
    assert all(o.currency == "RUB" for o in obs.values() if o.status == "ok")
    assert not any(r.path.startswith("/img/") for r in server.requests), "images are blocked"
    assert sum(r.path == "/p/flaky" for r in server.requests) == 2, "503 retried once"

    sites = {s.competitor: s for s in result.sites}
    assert (sites["shop"].ok, sites["shop"].anomaly, sites["shop"].mismatch) == (6, 1, 1)
    assert sites["shop"].healthy  # 1 anomaly in 6 pages: 17 % <= 30 %
    assert (sites["bad"].ok, sites["bad"].error, sites["bad"].healthy) == (1, 6, False)
    assert (sites["js"].ok, sites["js"].error, sites["js"].healthy) == (1, 2, False)
    with session_scope(engine) as session:
        run = session.get(CrawlRun, result.run_id)
        assert run is not None and run.status == "ok" and run.finished_at is not None


def test_crawl_of_one_competitor_and_sku(
    settings_from: Callable[[str], Settings], engine: Engine, http_server: LoopbackServer
) -> None:
    _serve(http_server)
    settings = settings_from(CONFIG)
    _seed(settings, engine, http_server)
    result = run_crawl(settings, competitors=["shop"], skus=["SKU-p-og", "SKU-p-oos"], timeout=60)
    assert result.status == "ok", result.error
    assert result.pages == 2
    assert [s.competitor for s in result.sites] == ["shop"]
    cli = CliRunner().invoke(
        app,
        [
            "--config",
            str(settings.config_path),
            "crawl",
            "--competitor",
            "shop",
            "--sku",
            "SKU-p-og",
            "--json",
        ],
    )
    assert cli.exit_code == 0, cli.output
    rows = json.loads(cli.output)
    assert rows[0]["competitor"] == "shop" and rows[0]["ok"] == 1 and rows[0]["healthy"] is True


def test_unknown_competitor_is_a_config_error(settings_from: Callable[[str], Settings]) -> None:
    settings = settings_from(CONFIG)
    with pytest.raises(ConfigError, match="nope"):
        run_crawl(settings, competitors=["nope"])
    cli = CliRunner().invoke(
        app, ["--config", str(settings.config_path), "crawl", "--competitor", "nope"]
    )
    assert cli.exit_code == 1
    assert "nope" in cli.output


def test_crashing_crawl_is_recorded_as_failed(
    settings_from: Callable[[str], Settings], engine: Engine, tmp_path: Path
) -> None:
    settings = settings_from(CONFIG)
    settings.config_path.write_text("[crawl]\nretries = 'many'\n")  # type: ignore[union-attr]
    result = run_crawl(settings, timeout=60)
    assert result.status == "failed"
    assert "retries" in (result.error or "")
    with session_scope(engine) as session:
        run = session.get(CrawlRun, result.run_id)
        assert run is not None and run.status == "failed" and run.finished_at is not None
        assert session.execute(select(Competitor)).first() is not None


def test_scrapy_crawl_from_the_project_root_records_its_own_run(
    settings_from: Callable[[str], Settings], engine: Engine, http_server: LoopbackServer
) -> None:
    import os
    import subprocess
    import sys

    project_root = Path(__file__).resolve().parents[1]  # where scrapy.cfg is

    _serve(http_server)
    settings = settings_from(CONFIG)
    ids = _seed(settings, engine, http_server)
    env = dict(os.environ, REPRICER_CONFIG=str(settings.config_path))
    command = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "product",
        "-a",
        "competitor=shop",
        "-a",
        "sku=SKU-p-og",
    ]
    child = subprocess.run(
        command, cwd=project_root, env=env, capture_output=True, timeout=60, check=False
    )
    assert child.returncode == 0, child.stderr[-2000:]
    with session_scope(engine) as session:
        run = session.execute(select(CrawlRun)).scalar_one()
        assert (run.status, run.pages, run.competitors) == ("ok", 1, ["shop"])
        observation = session.execute(
            select(Observation).where(Observation.crawl_run_id == run.id)
        ).scalar_one()
        assert (observation.listing_id, observation.price) == (ids["/p/og"], 459000)


def test_competitor_concurrency_is_enforced(
    settings_from: Callable[[str], Settings], engine: Engine, http_server: LoopbackServer
) -> None:
    import threading

    lock = threading.Lock()
    seen = {"now": 0, "max": 0}

    def slow(_req: Request) -> Response:
        with lock:
            seen["now"] += 1
            seen["max"] = max(seen["max"], seen["now"])
        time.sleep(0.3)
        with lock:
            seen["now"] -= 1
        return _page(_jsonld(100))

    for i in range(6):
        http_server.route(f"/c/{i}", slow)
    http_server.route("/robots.txt", _page("User-agent: *\nAllow: /\n", content_type="text/plain"))
    settings = settings_from(
        CONFIG.replace(
            'concurrency = 4\ndelay = 0\n\n[[competitors]]\nname = "bad"',
            'concurrency = 2\ndelay = 0\n\n[[competitors]]\nname = "bad"',
        )
    )
    assert settings.competitor("shop").concurrency == 2
    from repricer.catalog import sync_competitors

    with session_scope(engine) as session:
        shop = sync_competitors(settings, session)["shop"]
        for i in range(6):
            product = Product(sku=f"C{i}")
            session.add(product)
            session.flush()
            session.add(
                Listing(product_id=product.id, competitor_id=shop, url=http_server.url(f"/c/{i}"))
            )
    result = run_crawl(settings, competitors=["shop"], timeout=60)
    assert result.status == "ok" and result.pages == 6
    assert seen["max"] == 2


def test_a_crawl_over_its_timeout_is_stopped_and_recorded_as_aborted(
    settings_from: Callable[[str], Settings], engine: Engine, http_server: LoopbackServer
) -> None:
    _serve(http_server)
    settings = settings_from(CONFIG)
    _seed(settings, engine, http_server)
    started = time.monotonic()
    result = run_crawl(settings, competitors=["bad"], timeout=1.5)
    assert time.monotonic() - started < 20
    assert result.status == "aborted" and "timeout" in (result.error or "")
    with session_scope(engine) as session:
        run = session.get(CrawlRun, result.run_id)
        assert run is not None and run.status == "aborted" and run.finished_at is not None


def test_cli_exits_1_naming_the_cause_when_a_competitors_pages_all_failed(
    settings_from: Callable[[str], Settings], engine: Engine, http_server: LoopbackServer
) -> None:
    from repricer.catalog import sync_competitors

    http_server.route("/robots.txt", _page("User-agent: *\nAllow: /\n", content_type="text/plain"))
    http_server.route("/ok", _page(_jsonld(2490)))
    http_server.route("/denied", _page("<h1>Access denied</h1>", 403))
    settings = settings_from(CONFIG)
    with session_scope(engine) as session:
        ids = sync_competitors(settings, session)
        for n, (competitor, path) in enumerate([("shop", "/ok"), ("bad", "/denied")] * 2):
            product = Product(sku=f"S-{n}", title=path)
            session.add(product)
            session.flush()
            session.add(Listing(product_id=product.id, competitor_id=ids[competitor],
                                url=http_server.url(f"{path}?n={n}")))  # fmt: skip
    args = ["--config", str(settings.config_path), "crawl", "--competitor", "shop"]
    args += ["--competitor", "bad"]
    cli = CliRunner().invoke(app, args)
    assert cli.exit_code == 1, cli.output
    assert "bad: all 2 page(s) failed: 2 blocked (HTTP 403)" in cli.output, cli.output
    assert "shop:" not in cli.output.split("error:")[-1]  # the healthy one is not blamed
    ok = CliRunner().invoke(app, [*args[:3], "--competitor", "shop"])
    assert ok.exit_code == 0, ok.output


def test_run_crawl_reports_progress_per_competitor(
    settings_from: Callable[[str], Settings], engine: Engine, http_server: LoopbackServer
) -> None:
    _serve(http_server)
    settings = settings_from(CONFIG)
    _seed(settings, engine, http_server)
    calls: list[dict[str, int]] = []
    result = run_crawl(settings, competitors=["shop"], timeout=120, progress=calls.append)
    assert result.status == "ok", result.error
    assert calls, "progress was never called"  # the child takes seconds to start
    assert set().union(*calls) <= {"shop"}
    assert all(count <= result.pages for call in calls for count in call.values())
