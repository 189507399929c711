"""Recognise block / challenge pages (captchas, "access denied") by their text."""

from __future__ import annotations

from spiders.pages._phrases import CAPTCHA_MARKERS


def looks_blocked(html: str) -> bool:
    """True when the start of the page reads like a captcha or an access-denied page."""
    head = html[:20000].lower()
    return any(marker in head for marker in CAPTCHA_MARKERS)
