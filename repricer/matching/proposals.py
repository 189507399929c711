"""Listing proposals: match stored candidates against the catalog, review the results.

A proposal is a ``listings`` row with ``status`` ``accepted`` (score at or above the
accept threshold: it feeds pricing at once) or ``review`` (between the review and the
accept thresholds: a person accepts or rejects it). Pairs below the review threshold
are not stored. A (product, competitor, URL) that already has a listing, whatever its
status, is never proposed again, so a rejection sticks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from repricer.catalog import sync_competitors
from repricer.config import Settings
from repricer.db.engine import session_scope
from repricer.db.models import Candidate, Competitor, Listing, Observation, Product, utcnow
from repricer.exceptions import RepricerError
from repricer.matching.codes import normalize_gtin
from repricer.matching.discovery import DiscoveryResult
from repricer.matching.evidence import describe_match
from repricer.matching.match import Match, match_offers
from repricer.matching.offers import Offer, prepare_offers
from repricer.matching.scoring import ACCEPT_AT, REVIEW_AT
from repricer.money import from_minor

REVIEW_STATUSES = ("review", "accepted", "rejected")


@dataclass(frozen=True)
class Thresholds:
    accept_at: float
    review_at: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        m = settings.matching
        accept = m.accept_at if m.accept_at is not None else ACCEPT_AT
        review = m.review_at if m.review_at is not None else min(REVIEW_AT, accept)
        return cls(accept, review)


def _price(minor: int | None, currency: str | None) -> str:
    return str(from_minor(minor, currency or "RUB")) if minor else ""


def _product_offers(engine: Engine) -> tuple[list[int], list[Offer]]:
    query = select(Product.id, Product.title, Product.brand, Product.category, Product.gtin,
                   Product.price, Product.currency).order_by(Product.id)  # fmt: skip
    ids, records = [], []
    with session_scope(engine) as session:
        for pid, title, brand, category, gtin, price, currency in session.execute(query):
            ids.append(pid)
            records.append({"title": title, "brand": brand, "category": category, "gtin": gtin,
                            "price": _price(price, currency)})  # fmt: skip
    return ids, prepare_offers(records)


def _candidate_offers(engine: Engine, competitor_id: int) -> tuple[list[Candidate], list[Offer]]:
    with session_scope(engine) as session:
        rows = list(
            session.scalars(select(Candidate).where(Candidate.competitor_id == competitor_id))
        )
        session.expunge_all()
    records = (
        {"title": c.title, "brand": c.brand, "model": c.model, "gtin": c.gtin,
         "price": _price(c.price, c.currency)}
        for c in rows
    )  # fmt: skip
    return rows, prepare_offers(records)


def _method(match: Match, ours: Offer, theirs: Offer) -> str:
    if ours.gtin and ours.gtin == theirs.gtin:
        return "gtin"
    return "model" if ours.codes & theirs.codes else "score"


def propose_listings(settings: Settings, engine: Engine, competitor: str) -> DiscoveryResult:
    """Match the competitor's stored candidates against the catalog; store proposals."""
    limits = Thresholds.from_settings(settings)
    with session_scope(engine) as session:
        competitor_id = sync_competitors(settings, session)[competitor]
        known = set(session.execute(select(Listing.product_id, Listing.url).where(
            Listing.competitor_id == competitor_id)).all())  # fmt: skip
    product_ids, products = _product_offers(engine)
    candidates, offers = _candidate_offers(engine, competitor_id)
    matches = match_offers(products, offers, accept_at=limits.accept_at, review_at=limits.review_at)
    rows = []
    for m in matches:
        page = candidates[m.candidate]
        if (product_ids[m.product], page.url) in known:
            continue
        ours, theirs = products[m.product], offers[m.candidate]
        rows.append({
            "product_id": product_ids[m.product], "competitor_id": competitor_id, "url": page.url,
            "match_method": _method(m, ours, theirs), "confidence": 1.0 if m.accepted else m.score,
            "active": True, "status": "accepted" if m.accepted else "review",
            "score": round(m.score, 4), "evidence": describe_match(ours, theirs),
            "match_gtin": page.gtin, "match_title": page.title, "created_at": utcnow(),
        })  # fmt: skip
    if rows:
        with session_scope(engine) as session:
            session.execute(insert(Listing), rows)
    accepted = sum(r["status"] == "accepted" for r in rows)
    return DiscoveryResult(competitor, len(candidates), accepted, len(rows) - accepted)


def list_proposals(
    engine: Engine,
    *,
    status: str = "review",
    competitor: str | None = None,
    sku: str | None = None,
    min_score: float | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Listings in ``status`` (review | accepted | rejected), best score first."""
    if status not in REVIEW_STATUSES:
        raise RepricerError(f"status {status!r} is not one of {', '.join(REVIEW_STATUSES)}")
    query = (
        select(Listing, Product.sku, Product.title, Competitor.name)
        .join(Product, Product.id == Listing.product_id)
        .join(Competitor, Competitor.id == Listing.competitor_id)
        .where(Listing.status == status)
        .order_by(Listing.score.desc(), Listing.id)
    )
    if competitor:
        query = query.where(Competitor.name == competitor)
    if sku:
        query = query.where(Product.sku == sku)
    if min_score is not None:
        query = query.where(Listing.score >= min_score)
    if limit:
        query = query.limit(limit)
    with session_scope(engine) as session:
        return [
            {
                "id": lst.id,
                "sku": sku_,
                "competitor": name,
                "score": lst.score,
                "method": lst.match_method,
                "url": lst.url,
                "ours": title,
                "theirs": lst.match_title,
                "evidence": list(lst.evidence or []),
                "reason": lst.status_reason,
                "status": lst.status,
            }
            for lst, sku_, title, name in session.execute(query).all()
        ]


def proposal_competitors(engine: Engine) -> list[str]:
    """Names of the competitors that have proposals (any review status), sorted."""
    query = (
        select(Competitor.name)
        .join(Listing, Listing.competitor_id == Competitor.id)
        .where(Listing.status.in_(REVIEW_STATUSES), Listing.score.is_not(None))
        .distinct()
        .order_by(Competitor.name)
    )
    with session_scope(engine) as session:
        return list(session.scalars(query))


def _latest_page(session: Session, listing_id: int) -> dict[str, Any]:
    """The newest page title/GTIN seen for a listing, as drift references."""
    row = session.execute(
        select(Observation.gtin, Observation.title)
        .where(Observation.listing_id == listing_id, Observation.title.is_not(None))
        .order_by(Observation.observed_at.desc(), Observation.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return {}
    return {"match_gtin": normalize_gtin(row.gtin), "match_title": row.title}


def decide_proposals(engine: Engine, ids: Sequence[int], decision: str) -> list[int]:
    """Move listings from ``review`` to ``accepted`` or ``rejected`` (compare-and-set on
    ``review``); returns the ids that moved. Accepting takes the page as it is now as
    the reference for later drift checks."""
    if decision not in ("accepted", "rejected"):
        raise RepricerError(f"decision {decision!r} is not accepted or rejected")
    moved = []
    with session_scope(engine) as session:
        for listing_id in ids:
            values: dict[str, Any] = {"status": decision, "reviewed_at": utcnow()}
            if decision == "accepted":
                values.update(confidence=1.0, status_reason=None)
                values.update(_latest_page(session, listing_id))
            done = session.execute(
                update(Listing)
                .where(Listing.id == listing_id, Listing.status == "review")
                .values(**values)
            )
            if done.rowcount == 1:  # type: ignore[attr-defined]
                moved.append(listing_id)
    return moved
