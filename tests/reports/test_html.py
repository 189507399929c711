"""The HTML report: parses, escapes every scraped string, holds only our own script, and
renders its charts and filters in real headless Chromium, offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from sqlalchemy import Engine

from repricer.reports import Report, build_report, price_history, write_history_html, write_html
from repricer.reports.charts import bar_chart, nice_ticks
from repricer.reports.html import render_report, safe_url
from spiders.browser import CHROMIUM_ARGS
from tests.reports.factory import HOSTILE_TITLE, Change, add_run


def parse(path: Path) -> Any:
    return lxml.html.fromstring(path.read_text(encoding="utf-8"))


def test_report_parses_and_escapes_hostile_scraped_strings(report: Report, tmp_path: Path) -> None:
    path = write_html(report, tmp_path / "report.html")
    text = path.read_text(encoding="utf-8")
    doc = parse(path)
    scripts = doc.xpath("//script")
    assert len(scripts) == 1 and "Filter and sort the changes table" in scripts[0].text
    assert "<script>alert" not in text and "&lt;script&gt;alert(&#34;pwned&#34;)" in text
    assert not doc.xpath("//img") and not doc.xpath("//*[@onerror]")
    # the hostile title is shown as text, exactly as scraped
    assert HOSTILE_TITLE in [td.text_content() for td in doc.xpath("//section[@class='story']//td")]
    assert not [a for a in doc.xpath("//a/@href") if a.lower().startswith("javascript")]
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in text  # explanations are escaped too


def test_report_is_self_contained(report: Report, tmp_path: Path) -> None:
    doc = parse(write_html(report, tmp_path / "report.html"))
    assert not doc.xpath("//script[@src] | //link[@href] | //img[@src] | //iframe")
    csp = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp
    assert len(doc.xpath("//svg")) == 3 + len(report.histories)
    assert len(doc.xpath("//table[@id='changes']/tbody/tr")) == 20


def test_charts_escape_labels() -> None:
    svg = bar_chart("<b>t</b>", ["<script>x</script>"], [])
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;t" in svg
    assert nice_ticks(0, 97) == [0, 20, 40, 60, 80, 100]


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://shop.test/p/1", True),
        ("HTTP://shop.test", True),
        ("javascript:alert(1)", False),
        (" data:text/html,x", False),
        (None, False),
    ],
)
def test_safe_url(url: str | None, kept: bool) -> None:
    assert (safe_url(url) is not None) == kept


def test_empty_run_and_history_page(engine: Engine, tmp_path: Path) -> None:
    empty = write_html(build_report(engine, add_run(engine, [])), tmp_path / "empty.html")
    assert len(parse(empty).xpath("//table[@id='changes']/tbody/tr")) == 0
    add_run(engine, [Change("H-1", 1000, 1100)])
    page = write_history_html(price_history(engine, "H-1"), tmp_path / "h.html")
    assert parse(page).xpath("//svg//polyline")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("no Chromium at /usr/bin/chromium")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.mark.slow
def test_report_renders_in_chromium(report: Report, tmp_path: Path, browser: Any) -> None:
    path = write_html(report, tmp_path / "report.html")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    events: list[str] = []
    page.on("pageerror", lambda exc: events.append(f"error: {exc}"))
    page.on("dialog", lambda dialog: (events.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.on(
        "console",
        lambda msg: events.append(f"console: {msg.text}") if msg.type == "error" else None,
    )
    page.on(
        "request",
        lambda req: (
            None if req.url.startswith(("file:", "data:")) else events.append(f"request: {req.url}")
        ),
    )
    page.goto(path.as_uri())
    charts = page.locator("svg.chart")
    assert charts.count() == 3 + len(report.histories)
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box and box["width"] > 300 and box["height"] > 100
        marks = charts.nth(i).locator("rect.bar, polyline.series")
        assert marks.count() > 0 and any(
            (marks.nth(j).bounding_box() or {}).get("height", 0) > 0 for j in range(marks.count())
        )
    # the filters run (so the CSP hash admits our script, and only it)
    assert page.locator("#f-count").inner_text() == "20 of 20 products"
    page.fill("#f-search", "k-2")
    assert page.locator("#changes tbody tr:visible").count() == 1
    page.fill("#f-search", "")
    page.select_option("#f-direction", "down")
    assert page.locator("#changes tbody tr:visible").count() == 8
    page.select_option("#f-direction", "")
    page.locator("#changes th", has_text="Change").first.click()
    assert page.locator("#changes tbody tr").first.locator("td").first.inner_text() == "K-4"
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"report screenshot: {shot}")
    assert shot.stat().st_size > 20000
    assert events == []  # no script error, no alert from a scraped title, no network
    page.close()


def test_big_runs_show_the_queue_and_largest_changes_in_the_table(report: Report) -> None:
    doc = lxml.html.fromstring(render_report(report, max_rows=3))
    skus = [tr.get("data-search").split()[0] for tr in doc.xpath("//table[@id='changes']/tbody/tr")]
    assert skus == ["k-1", "k-2", "k-4"]  # K-2 needs approval, then -5.0% and -3.1%, in SKU order
    assert "17 more are in the XLSX and CSV" in doc.text_content()
