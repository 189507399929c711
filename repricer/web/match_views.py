"""Match proposals page: listings found by ``listings discover`` with their score and
evidence, filtered like ``repricer listings review list``, accepted or rejected through
:func:`repricer.matching.proposals.decide_proposals` (the CLI's call)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from repricer.exceptions import RepricerError, ReviewError
from repricer.matching.proposals import (
    REVIEW_STATUSES,
    decide_proposals,
    list_proposals,
    proposal_competitors,
)
from repricer.web.app import checked_form, context, render, see_other
from repricer.web.filters import query_string
from repricer.web.queue_views import Params

FILTER_KEYS = ("status", "competitor", "sku", "min_score", "limit")
DECISIONS = {"accept": "accepted", "reject": "rejected"}
DEFAULT_LIMIT = 200


def routes() -> list[Route]:
    return [
        Route("/matches", matches_page),
        Route("/matches/decide", decide, methods=["POST"]),
    ]


def matches_page(request: Request) -> Response:
    return _show(request, _kept(request.query_params), notice=_notice(request.query_params))


def _show(
    request: Request,
    shown: Params,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """The page for the filter ``shown``; a bad filter value is named above an empty list."""
    ctx = context(request)
    limit = shown.get("limit", "")
    values: dict[str, Any] = {
        "params": shown,
        "statuses": REVIEW_STATUSES,
        "competitors": proposal_competitors(ctx.engine),
        "notice": notice,
        "limit": int(limit) if limit.isdigit() and int(limit) > 0 else DEFAULT_LIMIT,
    }
    try:
        rows = list_proposals(
            ctx.engine,
            status=shown.get("status", "review"),
            competitor=shown.get("competitor"),
            sku=shown.get("sku"),
            min_score=_min_score(shown.get("min_score")),
            limit=values["limit"],
        )
    except RepricerError as exc:
        return render(request, "matches.html.j2", 400, rows=[], error=str(exc), **values)
    return render(request, "matches.html.j2", status, rows=rows, error=error, **values)


def _kept(params: Any) -> Params:
    return Params({k: str(params.get(k)).strip() for k in FILTER_KEYS if params.get(k)})


def _min_score(value: str | None) -> float | None:
    if not value:
        return None
    try:
        score = float(value.replace(",", "."))
    except ValueError:
        score = -1.0
    if not 0.0 <= score <= 1.0:
        raise ReviewError(f"minimum score {value!r} is not a number between 0 and 1")
    return score


def _notice(params: Any) -> str | None:
    done, count, missed = params.get("done"), params.get("count"), params.get("missed")
    if done not in DECISIONS.values() or not (count or "").isdigit():
        return None
    notice = f"{done} {count} listing(s)"
    if (missed or "").isdigit() and int(missed) > 0:
        notice += f"; {missed} no longer in review (decided meanwhile)"
    return notice


async def decide(request: Request) -> Response:
    """Accept or reject the selected proposals."""
    form = await checked_form(request)
    return await run_in_threadpool(_decide, request, form)


def _decide(request: Request, form: FormData) -> Response:
    back = _kept(form)
    decision = DECISIONS.get(str(form.get("action")))
    ids = [int(i) for i in form.getlist("ids") if isinstance(i, str) and i.isdigit()]
    if decision is None:
        return _show(request, back, error=f"unknown action {form.get('action')!r}", status=400)
    if not ids:
        return _show(request, back, error="select at least one proposal", status=400)
    moved = decide_proposals(context(request).engine, ids, decision)
    done = {"done": decision, "count": str(len(moved)), "missed": str(len(ids) - len(moved))}
    return see_other("/matches" + query_string({**back, **done}))
