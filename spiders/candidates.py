"""``CandidateStorePipeline``: store the product pages discovery found (upsert by URL)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from repricer.catalog import sync_competitors
from repricer.db import session_scope, upsert_rows
from repricer.db.models import Candidate, Competitor, utcnow
from repricer.matching.codes import compact_code, is_model_code, normalize_gtin
from repricer.money import to_minor

BATCH_SIZE = 200


@dataclass
class CandidateItem:
    """One product page: ``price`` in major units of ``currency`` (None when unknown)."""

    competitor: str
    url: str
    title: str | None
    gtin: str | None
    brand: str | None
    sku: str | None
    price: Decimal | None
    currency: str | None
    found_via: str


def candidate_row(item: CandidateItem, competitor_id: int) -> dict[str, Any]:
    """The DB row: GTIN as 14 digits (None unless its check digit holds), the page's
    SKU as model code when it looks like one."""
    model = compact_code(item.sku or "")
    return {
        "competitor_id": competitor_id,
        "url": item.url[:2000],
        "title": (item.title or None) and item.title[:500],
        "brand": (item.brand or None) and item.brand[:200],
        "gtin": normalize_gtin(item.gtin),
        "model": (item.sku or "")[:100] if is_model_code(model) else None,
        "price": to_minor(item.price, item.currency) if item.price and item.currency else None,
        "currency": item.currency,
        "found_via": item.found_via,
        "discovered_at": utcnow(),
    }


class CandidateStorePipeline:
    """Needs ``spider.repricer_settings`` and ``spider.engine``."""

    def __init__(self, spider: Any) -> None:
        self.spider = spider
        self.pending: dict[str, dict[str, Any]] = {}
        self.ids: dict[str, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> CandidateStorePipeline:
        return cls(crawler.spider)

    def open_spider(self) -> None:
        with session_scope(self.spider.engine) as session:
            sync_competitors(self.spider.repricer_settings, session)
            self.ids = dict(session.execute(select(Competitor.name, Competitor.id)).all())

    def process_item(self, item: Any) -> Any:
        if isinstance(item, CandidateItem):
            row = candidate_row(item, self.ids[item.competitor])
            self.pending[row["url"]] = row
            if len(self.pending) >= BATCH_SIZE:
                self.flush()
        return item

    def close_spider(self) -> None:
        self.flush()

    def flush(self) -> None:
        if self.pending:
            with session_scope(self.spider.engine) as session:
                upsert_rows(
                    session,
                    Candidate.__table__,
                    self.pending.values(),
                    key=["competitor_id", "url"],
                )
            self.pending = {}
