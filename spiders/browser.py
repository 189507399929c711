"""Chromium for competitors with ``render = "browser"``: launch flags and what not to
download (page reuse is in :mod:`spiders.handlers`, imported only when needed)."""

from __future__ import annotations

from typing import Any

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
