"""Product, Health and Runs pages, and each run's report as HTML, XLSX or CSV."""

from __future__ import annotations

import re
import shutil
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from repricer import health, queue
from repricer.db.models import Product, RepricingRun
from repricer.exceptions import NotFoundError
from repricer.reports import build_report, price_history
from repricer.reports.figures import history_chart
from repricer.reports.history import between
from repricer.reports.html import render_report
from repricer.run_counts import run_counts
from repricer.web.app import context, render, see_other

REPORT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
DEFAULT_DAYS = 30


def routes() -> list[Route]:
    return [
        Route("/products/{sku:path}", product_page),
        Route("/health", health_page),
        Route("/runs", runs_page),
        Route("/runs/{run_id:int}/report.{fmt}", run_report),
    ]


async def home(request: Request) -> Response:
    return see_other("/queue")


def product_page(request: Request) -> Response:
    ctx = context(request)
    sku = request.path_params["sku"]
    start, end = _range(request.query_params.get("from"), request.query_params.get("to"))
    try:
        history = price_history(ctx.engine, sku)
    except NotFoundError as exc:
        return render(request, "error.html.j2", 404, error=str(exc))
    shown = between(history, start, end)
    with ctx.engine.connect() as conn:
        table = Product.__table__
        product = dict(conn.execute(select(table).where(table.c.sku == sku)).mappings().one())
    changes = queue.product_changes(ctx.engine, product["id"])
    return render(
        request,
        "product.html.j2",
        product=product,
        chart=Markup(history_chart(shown)),
        points=len(shown.points),
        listings=history.listings.to_dict("records"),
        changes=changes,
        latest=changes[0] if changes else None,
        start=start.date().isoformat(),
        end=(end - timedelta(days=1)).date().isoformat(),
    )


def _range(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """[start day 00:00, day after end 00:00) in UTC; the last 30 days by default."""
    from datetime import UTC

    today = datetime.now(UTC).date()
    last = _day(end) or today
    first = _day(start) or last - timedelta(days=DEFAULT_DAYS)
    if first > last:
        first, last = last, first
    return (
        datetime.combine(first, time(), UTC),
        datetime.combine(last + timedelta(days=1), time(), UTC),
    )


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def health_page(request: Request) -> Response:
    ctx = context(request)
    return render(
        request,
        "health.html.j2",
        suppliers=health.supplier_health(ctx.settings, ctx.engine),
        competitors=health.competitor_health(ctx.engine),
        storefront=health.storefront_health(ctx.engine),
    )


def runs_page(request: Request) -> Response:
    ctx = context(request)
    columns = [RepricingRun.id, RepricingRun.status, RepricingRun.started_at]
    columns += [RepricingRun.finished_at, RepricingRun.breaker, RepricingRun.summary]
    query = select(*columns).order_by(RepricingRun.id.desc()).limit(100)
    with ctx.engine.connect() as conn:
        runs = [dict(r) for r in conn.execute(query).mappings()]
    for run in runs:
        run["described"] = describe_run(run)
    return render(request, "runs.html.j2", runs=runs)


async def run_report(request: Request) -> Response:
    """The run's report, built on request with the same writers as ``repricer report``."""
    ctx = context(request)
    run_id, fmt = int(request.path_params["run_id"]), request.path_params["fmt"]
    if fmt not in ("html", *REPORT_TYPES):
        return render(request, "error.html.j2", 404, error=f"no {fmt!r} report (html, xlsx, csv)")
    try:
        report = await run_in_threadpool(build_report, ctx.engine, run_id)
    except NotFoundError as exc:
        return render(request, "error.html.j2", 404, error=str(exc))
    if fmt == "html":
        page = await run_in_threadpool(render_report, report)
        return HTMLResponse(page, headers={"Content-Security-Policy": _report_csp(page)})
    from repricer.reports import write_csv, write_xlsx

    writer = write_xlsx if fmt == "xlsx" else write_csv
    folder = Path(tempfile.mkdtemp(prefix="repricer-report-"))
    path = await run_in_threadpool(writer, report, folder / f"report-run{run_id}.{fmt}")
    cleanup = BackgroundTask(shutil.rmtree, folder, ignore_errors=True)
    return FileResponse(path, media_type=REPORT_TYPES[fmt], filename=path.name, background=cleanup)


def _report_csp(page: str) -> str:
    """The report's own policy (its one inline script is pinned by hash), sent as a header."""
    found = re.search(r"script-src '(sha256-[A-Za-z0-9+/=]+)'", page)
    script = f"'{found.group(1)}'" if found else "'none'"
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src {script}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


def describe_run(run: dict[str, Any]) -> str:
    """``8 products, 3 up, 2 down, ...`` from the run's stored summary."""
    return run_counts(run.get("summary")).describe()
