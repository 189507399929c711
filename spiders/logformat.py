"""``QuietLogFormatter``: Scrapy's per-page DEBUG lines ("Crawled (200)", "Scraped
from") only when the configured ``LOG_LEVEL`` shows them.

Scrapy builds those records (message, formatting arguments, a ``LogRecord``) for every
page and item and only the handler's level drops them; at ``INFO`` that is pure cost.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.logformatter import LogFormatter, LogFormatterResult


class QuietLogFormatter(LogFormatter):
    """Returns ``None`` (no record) for per-page DEBUG lines below ``LOG_LEVEL``."""

    def __init__(self, debug: bool = True) -> None:
        super().__init__()
        self.debug = debug

    @classmethod
    def from_crawler(cls, crawler: Any) -> QuietLogFormatter:
        level = crawler.settings.get("LOG_LEVEL") or logging.DEBUG
        if isinstance(level, str):
            level = logging.getLevelName(level.upper())
        return cls(debug=not isinstance(level, int) or level <= logging.DEBUG)

    def crawled(self, request: Any, response: Any, spider: Any) -> LogFormatterResult | None:  # type: ignore[override]
        return super().crawled(request, response, spider) if self.debug else None

    def scraped(self, item: Any, response: Any, spider: Any) -> LogFormatterResult | None:  # type: ignore[override]
        return super().scraped(item, response, spider) if self.debug else None
