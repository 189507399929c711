"""What a crawl run is doing and did, per competitor: pages stored so far (for progress) and
the competitors whose pages all failed, with the causes counted from their observations."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from repricer.db.engine import session_scope
from repricer.db.models import Competitor, Listing, Observation


@dataclass(frozen=True)
class SiteFailure:
    """A competitor none of whose pages in a run gave a price.

    ``causes`` are ``(status, count, example)`` by falling count: the observation status
    (blocked, timeout, no_price …) and the most frequent reason or HTTP status behind it.
    """

    competitor: str
    pages: int
    causes: list[tuple[str, int, str | None]]

    def __str__(self) -> str:
        parts = [
            f"{count} {status}" + (f" ({example})" if example else "")
            for status, count, example in self.causes
        ]
        return f"{self.competitor}: all {self.pages} page(s) failed: {', '.join(parts)}"


def listings_per_competitor(engine: Engine, competitors: list[str]) -> dict[str, int]:
    """Active listings of each named competitor: the pages a full crawl will visit."""
    query = (
        select(Competitor.name, func.count(Listing.id))
        .join(Listing, Listing.competitor_id == Competitor.id)
        .where(Listing.active.is_(True), Competitor.name.in_(competitors))
        .group_by(Competitor.name)
    )
    with session_scope(engine) as session:
        found = {name: int(count) for name, count in session.execute(query).all()}
    return {name: found.get(name, 0) for name in competitors}


def pages_stored(engine: Engine, run_id: int) -> dict[str, int]:
    """Observations stored so far in run ``run_id``, per competitor name."""
    query = (
        select(Competitor.name, func.count(Observation.id))
        .join(Listing, Listing.id == Observation.listing_id)
        .join(Competitor, Competitor.id == Listing.competitor_id)
        .where(Observation.crawl_run_id == run_id)
        .group_by(Competitor.name)
    )
    with session_scope(engine) as session:
        return {name: int(count) for name, count in session.execute(query).all()}


def failed_sites(engine: Engine, run_id: int) -> list[SiteFailure]:
    """Competitors with pages in run ``run_id`` and not one ``ok`` observation, by name."""
    query = (
        select(Competitor.name, Observation.status, Observation.reason, Observation.http_status)
        .join(Listing, Listing.id == Observation.listing_id)
        .join(Competitor, Competitor.id == Listing.competitor_id)
        .where(Observation.crawl_run_id == run_id)
    )
    by_site: dict[str, list[tuple[str, str | None]]] = {}
    with session_scope(engine) as session:
        for name, status, reason, http_status in session.execute(query).all():
            detail = reason or (f"HTTP {http_status}" if http_status else None)
            by_site.setdefault(name, []).append((status, detail))
    return [
        SiteFailure(name, len(pages), _causes(pages))
        for name, pages in sorted(by_site.items())
        if all(status != "ok" for status, _ in pages)
    ]


def _causes(pages: list[tuple[str, str | None]]) -> list[tuple[str, int, str | None]]:
    statuses = Counter(status for status, _ in pages)
    causes = []
    for status, count in statuses.most_common():
        details = Counter(detail for s, detail in pages if s == status and detail)
        example = details.most_common(1)[0][0] if details else None
        causes.append((status, count, example))
    return causes
