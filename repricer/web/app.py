"""The ASGI application: routes, templates, and the security middleware around them.

Handlers (:mod:`repricer.web.queue_views`, :mod:`repricer.web.match_views`,
:mod:`repricer.web.pages`) parse the request,
call the same library functions as the CLI and render a template; templates only format.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from repricer.config import Settings
from repricer.review import current_user
from repricer.web import filters
from repricer.web.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    SECURITY_HEADERS,
    Credentials,
    CsrfGuard,
    cross_site,
)

HERE = Path(__file__).resolve().parent
SAFE_METHODS = ("GET", "HEAD")


@dataclass(frozen=True)
class WebContext:
    """What every handler gets through ``request.app.state.ctx``."""

    settings: Settings
    engine: Engine
    credentials: Credentials
    csrf: CsrfGuard
    local_user: str


def create_app(
    settings: Settings, engine: Engine, credentials: Credentials | None = None
) -> Starlette:
    """The workspace app over ``engine``. ``credentials`` None means no authentication
    (loopback only; :func:`repricer.web.security.check_bind` enforces that at start)."""
    from repricer.web import match_views, pages, queue_views

    ctx = WebContext(settings, engine, credentials or Credentials(), CsrfGuard(), current_user())
    routes = [
        Route("/", pages.home),
        *queue_views.routes(),
        *match_views.routes(),
        *pages.routes(),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(GuardMiddleware)])
    app.state.ctx = ctx
    app.state.facets = {}
    return app


def context(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.ctx
    return ctx


class GuardMiddleware(BaseHTTPMiddleware):
    """Authentication, the cross-site refusal, the CSRF cookie and security headers."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        ctx = context(request)
        started, cpu = time.perf_counter(), time.process_time()
        response = await self._checked(request, ctx, call_next)
        elapsed_ms = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - cpu) * 1000  # the process's CPU: robust to a busy machine
        response.headers["Server-Timing"] = f"app;dur={elapsed_ms:.1f}, cpu;dur={cpu_ms:.1f}"
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.state.new_csrf_cookie:
            response.set_cookie(
                CSRF_COOKIE,
                request.state.csrf_cookie,
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
        return response

    async def _checked(
        self, request: Request, ctx: WebContext, call_next: RequestResponseEndpoint
    ) -> Response:
        cookie = request.cookies.get(CSRF_COOKIE)
        request.state.new_csrf_cookie = not cookie
        request.state.csrf_cookie = cookie or ctx.csrf.new_cookie()
        if ctx.credentials.required:
            user = ctx.credentials.user_for(request.headers.get("authorization"))
            if user is None:
                return PlainTextResponse(
                    "authentication required",
                    401,
                    headers={"WWW-Authenticate": 'Basic realm="repricer", charset="UTF-8"'},
                )
            request.state.user = user
        else:
            request.state.user = ctx.local_user
        if request.method not in SAFE_METHODS and cross_site(request.headers, _origin(request)):
            return PlainTextResponse("cross-site request refused", 403)
        return await call_next(request)


def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


async def checked_form(request: Request) -> FormData:
    """The POSTed form, after checking its CSRF token against the cookie; every
    state-changing handler reads its form through this."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    cookie = request.cookies.get(CSRF_COOKIE)
    if not context(request).csrf.valid(cookie, token if isinstance(token, str) else None):
        from starlette.exceptions import HTTPException

        raise HTTPException(403, "missing or invalid CSRF token; reload the page and try again")
    return form


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    ctx = context(request)
    page = (
        _env()
        .get_template(template)
        .render(
            request=request,
            user=request.state.user,
            csrf_field=CSRF_FIELD,
            csrf_token=ctx.csrf.token_for(request.state.csrf_cookie),
            **values,
        )
    )
    return HTMLResponse(page, status)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@cache
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(filters.FILTERS)
    env.globals.update(query=filters.query_string)
    return env
