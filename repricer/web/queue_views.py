"""Queue page and its actions: approve / reject (selected rows or all matching the
filter) and override one change's price with a comment."""

from __future__ import annotations

import time
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from repricer import queue, review
from repricer.exceptions import NotFoundError, RepricerError, ReviewError
from repricer.money import parse_money
from repricer.web.app import checked_form, context, render, see_other

FILTER_KEYS = ("run", "status", "category", "brand", "rule", "direction", "min", "max", "q")
VIEW_KEYS = ("sort", "desc", "per_page")
DIRECTIONS = {"up": "up", "down": "down"}


def routes() -> list[Route]:
    return [
        Route("/queue", queue_page),
        Route("/queue/decide", decide, methods=["POST"]),
        Route("/changes/{change_id:int}", change_page),
        Route("/changes/{change_id:int}/override", override, methods=["POST"]),
    ]


def parse_filter(params: ImmutableMultiDict[str, Any] | FormData) -> queue.QueueFilter:
    """Query or form fields -> QueueFilter; ReviewError for a value that is not valid."""
    run = str(params.get("run") or "")
    direction = DIRECTIONS.get(str(params.get("direction") or ""))
    return queue.QueueFilter(
        run_id=int(run) if run.isdigit() else None,
        all_runs=run == "all",
        status=str(params.get("status") or "pending"),
        category=_text(params, "category"),
        brand=_text(params, "brand"),
        rule=_text(params, "rule"),
        direction=direction,  # type: ignore[arg-type]
        min_change=_percent(params, "min"),
        max_change=_percent(params, "max"),
        search=_text(params, "q"),
    )


def _text(params: Any, key: str) -> str | None:
    value = params.get(key)
    return str(value).strip() or None if value else None


def _percent(params: Any, key: str) -> Decimal | None:
    value = _text(params, key)
    if value is None:
        return None
    try:
        return Decimal(value.rstrip("%").strip().replace(",", ".")) / 100
    except InvalidOperation:
        raise ReviewError(f"change size {value!r} is not a number of percent") from None


class Params(dict[str, str]):
    """The request's filter and view fields; a missing one reads as empty in templates."""

    def __missing__(self, key: str) -> str:
        return ""


def _kept(params: Any, keys: tuple[str, ...]) -> Params:
    return Params({k: str(params.get(k)) for k in keys if params.get(k)})


def queue_page(request: Request) -> Response:
    ctx = context(request)
    params = request.query_params
    shown = _kept(params, FILTER_KEYS + VIEW_KEYS)
    try:
        chosen = parse_filter(params)
        found = queue.queue_page(
            ctx.engine,
            chosen,
            sort=params.get("sort", "sku"),
            descending=params.get("desc") == "1",
            page=_int(params.get("page"), 1),
            per_page=_int(params.get("per_page"), 50),
        )
    except RepricerError as exc:
        return render(request, "queue.html.j2", 400, **_empty(shown, str(exc)))
    band = ctx.settings.pricing.approval.auto_approve_band
    for row in found.rows:
        row["waiting"] = queue.waiting_reason(row, band)
    return render(
        request,
        "queue.html.j2",
        page=found,
        params=shown,
        facets=_facets(request, found.run_id),
        runs=queue.recent_runs(ctx.engine),
        notice=_notice(params),
        error=None,
        sorts=list(queue.SORTS),
        statuses=["pending", "all", *review.STATUSES],
        page_sizes=queue.PAGE_SIZES,
    )


FACETS_TTL_S = 60.0  # filter choices change with imports and runs, not per request


def _facets(request: Request, run_id: int | None) -> dict[str, list[str]]:
    """The filter form's choices, kept for a minute (each is a scan of the catalog)."""
    cache: dict[int | None, tuple[float, dict[str, list[str]]]] = request.app.state.facets
    hit = cache.get(run_id)
    if hit is None or time.monotonic() - hit[0] > FACETS_TTL_S:
        hit = (time.monotonic(), queue.facets(context(request).engine, run_id))
        cache[run_id] = hit
    return hit[1]


def _empty(shown: Params, error: str) -> dict[str, Any]:
    page = queue.QueuePage([], 0, 1, 50, None)
    return {
        "page": page,
        "params": shown,
        "facets": {"category": [], "brand": [], "rule": []},
        "runs": [],
        "notice": None,
        "error": error,
        "sorts": list(queue.SORTS),
        "statuses": ["pending", "all", *review.STATUSES],
        "page_sizes": queue.PAGE_SIZES,
    }


def _int(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() else default


def _notice(params: Any) -> str | None:
    done, count = params.get("done"), params.get("count")
    if done in ("approved", "rejected", "overridden") and (count or "").isdigit():
        return f"{done} {count} price change(s)"
    return None


async def decide(request: Request) -> Response:
    """Approve or reject the selected rows, or every change matching the filter."""
    form = await checked_form(request)
    return await run_in_threadpool(_decide, request, form)


def _decide(request: Request, form: FormData) -> Response:
    ctx = context(request)
    action = form.get("action")
    target = {"approve": "approved", "reject": "rejected"}.get(str(action))
    back = _kept(form, FILTER_KEYS + VIEW_KEYS)
    comment = _text(form, "comment")
    try:
        if target is None:
            raise ReviewError(f"unknown action {action!r}")
        if form.get("scope") == "matching":
            chosen = queue.resolve_filter(ctx.engine, parse_filter(form))
            count = review.decide_where(
                ctx.engine,
                queue.matching_clause(chosen),
                target,
                by=request.state.user,
                comment=comment,
            )
        else:
            ids = [int(i) for i in form.getlist("ids") if isinstance(i, str) and i.isdigit()]
            if not ids:
                raise ReviewError("select at least one row, or choose all matching")
            decide_ids = review.approve if target == "approved" else review.reject
            done = decide_ids(ctx.engine, ids=ids, by=request.state.user)
            review.comment_on(ctx.engine, done, comment)
            count = len(done)
    except RepricerError as exc:
        return render(request, "queue.html.j2", 409, **_empty(back, str(exc)))
    return see_other("/queue" + _query({**back, "done": target, "count": count}))


def _query(values: dict[str, Any]) -> str:
    from repricer.web.filters import query_string

    return query_string(values)


def change_page(request: Request) -> Response:
    ctx = context(request)
    change_id = int(request.path_params["change_id"])
    try:
        change = queue.change_detail(ctx.engine, change_id)
    except NotFoundError as exc:
        return render(request, "error.html.j2", 404, error=str(exc))
    return render(request, "change.html.j2", change=change, error=None, price="", comment="")


async def override(request: Request) -> Response:
    """Approve one change at the reviewer's price, checked like a rule decision."""
    form = await checked_form(request)
    return await run_in_threadpool(_override, request, form)


def _override(request: Request, form: FormData) -> Response:
    ctx = context(request)
    change_id = int(request.path_params["change_id"])
    price_text, comment = str(form.get("price") or ""), _text(form, "comment")
    try:
        change = queue.change_detail(ctx.engine, change_id)
    except NotFoundError as exc:
        return render(request, "error.html.j2", 404, error=str(exc))
    price = parse_money(price_text, change["currency"])
    try:
        if price is None:
            raise ReviewError(f"not a price: {price_text!r} (e.g. 1 299 or 1299,90)")
        review.override(ctx.engine, change_id, price, by=request.state.user, comment=comment)
    except RepricerError as exc:
        values = {"change": change, "error": str(exc), "price": price_text}
        return render(request, "change.html.j2", 422, comment=comment or "", **values)
    back = _kept(form, FILTER_KEYS + VIEW_KEYS)
    return see_other("/queue" + _query({**back, "done": "overridden", "count": 1}))
