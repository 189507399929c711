"""Chromium for competitors with ``render = "browser"``: launch flags and what not to
download (page reuse is in :mod:`spiders.handlers`, imported only when needed)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from repricer.config import CompetitorSettings
from repricer.egress import is_loopback_host, is_public, on_site, parse_ip, url_host

BLOCKED_RESOURCES = frozenset({"image", "font", "media", "imageset", "texttrack", "object"})

# Chromium flags for a headless, quiet, sandbox-less run (containers, CI).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def abort_heavy_request(request: Any) -> bool:
    """PLAYWRIGHT_ABORT_REQUEST: skip images, fonts and media; pages only need HTML+JS."""
    return str(request.resource_type) in BLOCKED_RESOURCES


def egress_guard(competitors: Sequence[CompetitorSettings]) -> Callable[[Any], bool]:
    """PLAYWRIGHT_ABORT_REQUEST for a crawl of ``competitors``: what
    :func:`abort_heavy_request` skips, plus the egress policy inside the browser. A
    navigation (the page itself, a redirect, a frame) must stay on a competitor's domain
    or aliases; any request to a loopback name or a literal non-public address is
    aborted unless a competitor on that site is marked ``local``. Scripts and styles
    from other public hosts (CDNs) are left alone: pages need them to render."""
    local = [c for c in competitors if c.local]

    def abort(request: Any) -> bool:
        if abort_heavy_request(request):
            return True
        url = str(request.url)
        if not url.startswith(("http://", "https://")):
            return False  # data:, blob:, about:blank
        if any(on_site(url, c.domain, c.aliases) for c in local):
            return False
        host = url_host(url)
        address = parse_ip(host)
        if is_loopback_host(host) or (address is not None and not is_public(address)):
            return True
        if request.is_navigation_request():
            return not any(on_site(url, c.domain, c.aliases) for c in competitors)
        return False

    return abort
