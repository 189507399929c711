"""The workspace driven in real Chromium against a running server and a real database:
filter, approve, reject, override (valid and below the floor), with the keyboard, and
screenshots of the queue and a product page."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from repricer import queue
from repricer.review import current_user, list_changes
from spiders.browser import CHROMIUM_ARGS
from tests.web.conftest import Workspace

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on(
        "console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None
    )
    yield tab
    context.close()
    assert not errors, f"the page broke its own Content-Security-Policy: {errors}"


@pytest.fixture
def shots() -> Path:
    """Where the screenshots go: $WORKSPACE_SCREENSHOTS, else <tmp>/repricer-screenshots
    (kept after the run, unlike pytest's rotating tmp_path folders)."""
    default = Path(tempfile.gettempdir()) / "repricer-screenshots"
    folder = Path(os.environ.get("WORKSPACE_SCREENSHOTS") or default)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def changes(ws: Workspace) -> dict[str, dict[str, object]]:
    return {row["sku"]: row for row in list_changes(ws.engine, status="all")}


def row(page: Page, sku: str):  # type: ignore[no-untyped-def]
    return page.locator("table.queue tbody tr").filter(has=page.get_by_role("link", name=sku))


def test_filter_approve_reject_override(workspace: Workspace, page: Page, shots: Path) -> None:
    page.goto(workspace.url + "/queue")
    expect(page.get_by_role("heading", name="Approval queue")).to_be_visible()
    expect(page.locator("#total")).to_have_text("5")
    expect(row(page, "KT-100")).to_contain_text("outside the auto-approve band")
    path = shots / "queue.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"queue screenshot: {path}")

    # filter: Aurora products going down, as the library counts them
    page.get_by_label("Brand").select_option("Aurora")
    page.get_by_label("Direction").select_option("down")
    page.get_by_role("button", name="Filter").click()
    expected = queue.queue_page(
        workspace.engine, queue.QueueFilter(brand="Aurora", direction="down")
    ).total
    expect(page.locator("#total")).to_have_text(str(expected))
    assert expected == 2
    expect(page.locator("table.queue tbody tr")).to_have_count(2)

    # approve one selected row, with a comment
    page.goto(workspace.url + "/queue")
    page.get_by_label("Select KT-200").check()
    page.get_by_label("Comment", exact=True).first.fill("matches the spring promo")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("approved 1 price change(s)")
    kt200 = changes(workspace)["KT-200"]
    assert kt200["status"] == "approved"
    assert kt200["approved_by"] == current_user()
    assert kt200["approved_at"] is not None

    # reject one with the keyboard only: Space ticks the box, Enter presses Reject
    page.get_by_label("Select GD-200").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Reject", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("rejected 1 price change(s)")
    assert changes(workspace)["GD-200"]["status"] == "rejected"

    # override below the floor: refused, the floor named, nothing changed
    target = row(page, "KT-300")
    target.get_by_text("Override price").click()
    target.get_by_label("New price for KT-300").fill("1000")
    target.get_by_label("Comment").fill("too low on purpose")
    target.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "is below the floor 1 120 ₽ (cost 1 000 ₽ + 12%)"
    )
    assert changes(workspace)["KT-300"]["status"] == "needs_approval"
    assert changes(workspace)["KT-300"]["new_price"] == 229900

    # a valid override on the same page: approved at the reviewer's price
    page.get_by_label("New price for KT-300").fill("2 399,00")
    page.get_by_label("Comment").fill("hold the line at 2 399")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("overridden 1 price change(s)")
    kt300 = changes(workspace)["KT-300"]
    assert (kt300["status"], kt300["new_price"]) == ("approved", 239900)

    # everything still pending that matches a filter, in one go
    page.goto(workspace.url + "/queue?category=Garden")
    expect(page.locator("#total")).to_have_text("1")
    page.get_by_label("all 1 matching the filter").check()
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("approved 1 price change(s)")
    assert changes(workspace)["GD-100"]["status"] == "approved"
    assert changes(workspace)["KT-100"]["status"] == "needs_approval"


def test_override_records_who_when_and_comment(workspace: Workspace, page: Page) -> None:
    from sqlalchemy.orm import Session

    from repricer.db.models import PriceChange

    page.goto(workspace.url + "/queue")
    target = row(page, "GD-100")
    target.get_by_text("Override price").click()
    target.get_by_label("New price for GD-100").fill("1 399")
    target.get_by_label("Comment").fill("competitor is out of stock tomorrow")
    target.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("overridden 1 price change(s)")
    with Session(workspace.engine) as session:
        change = session.query(PriceChange).filter_by(sku="GD-100").one()
        assert change.status == "approved"
        assert (change.new_price, change.proposed_price) == (139900, 134900)
        assert change.comment == "competitor is out of stock tomorrow"
        assert change.approved_by == current_user() and change.approved_at is not None


def test_product_page(workspace: Workspace, page: Page, shots: Path) -> None:
    page.goto(workspace.url + "/queue")
    page.get_by_role("link", name="KT-100", exact=True).click()
    expect(page.get_by_role("heading", name="Price history")).to_be_visible()
    expect(page.locator("figure.chart svg")).to_be_visible()
    expect(page.get_by_role("link", name="https://alpha.test/p/KT-100")).to_be_visible()
    expect(page.locator(".explanation").first).to_contain_text("cheapest in-stock competitor")
    path = shots / "product.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"product screenshot: {path}")
    # a date range before any data leaves no point in the chart
    page.get_by_label("From").fill("2020-01-01")
    page.get_by_label("To").fill("2020-01-31")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("figcaption")).to_contain_text("0 point(s)")


def test_health_and_runs(workspace: Workspace, page: Page) -> None:
    page.goto(workspace.url + "/health")
    expect(page.get_by_role("heading", name="Suppliers")).to_be_visible()
    expect(page.get_by_role("heading", name="Storefront")).to_be_visible()
    page.get_by_role("link", name="Runs").click()
    html = page.get_by_role("link", name="HTML").first
    expect(html).to_have_attribute("href", f"/runs/{workspace.run_id}/report.html")
    html.click()
    expect(page.locator("h1").first).to_contain_text(str(workspace.run_id))
