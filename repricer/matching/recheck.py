"""After a crawl: send listings whose page contradicts the match back to review.

A page contradicts an accepted listing when it shows a valid GTIN that differs from our
product's (and from the one the page showed when the match was accepted), or when its
title drifted away from the title seen at match time (rapidfuzz token-set similarity
below ``matching.drift_similarity``). Such a listing moves ``accepted`` -> ``review``
(compare-and-set) with the reason, and stops feeding pricing until a person accepts it
again. A listing without a reference title takes its first page title as reference.
"""

from __future__ import annotations

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from repricer.db.engine import session_scope
from repricer.db.models import Listing, Observation, Product
from repricer.matching.codes import display_gtin, normalize_gtin

DRIFT_SIMILARITY = 0.6


def contradiction(
    product_gtin: str | None,
    match_gtin: str | None,
    match_title: str | None,
    page_gtin: str | None,
    page_title: str | None,
    drift_similarity: float = DRIFT_SIMILARITY,
) -> str | None:
    """Why a page contradicts its listing's match, or None when it does not."""
    from rapidfuzz import fuzz

    ours, page = normalize_gtin(product_gtin), normalize_gtin(page_gtin)
    if ours and page and page != ours and page != normalize_gtin(match_gtin):
        return f"page GTIN {display_gtin(page)} differs from ours {display_gtin(ours)}"
    if match_title and page_title:
        similarity = fuzz.token_set_ratio(match_title.lower(), page_title.lower()) / 100
        if similarity < drift_similarity:
            return f"page title drifted (similarity {similarity:.2f}): {page_title[:120]!r}"
    return None


def _run_pages(session: Session, run_id: int) -> list[tuple[int, str | None, str | None]]:
    """(listing id, GTIN, title) of the newest page per listing in the run."""
    rows = session.execute(
        select(Observation.listing_id, Observation.gtin, Observation.title)
        .where(Observation.crawl_run_id == run_id)
        .order_by(Observation.id)
    ).all()
    return list({r.listing_id: (r.listing_id, r.gtin, r.title) for r in rows}.values())


def recheck_run(
    engine: Engine, run_id: int, drift_similarity: float = DRIFT_SIMILARITY
) -> list[int]:
    """Check the pages of one crawl run against their accepted listings; returns the
    ids of listings sent back to review."""
    moved: list[int] = []
    with session_scope(engine) as session:
        pages = _run_pages(session, run_id)
        listings = {
            lst.id: (lst, gtin)
            for lst, gtin in session.execute(
                select(Listing, Product.gtin)
                .join(Product, Product.id == Listing.product_id)
                .where(Listing.id.in_([p[0] for p in pages]), Listing.status == "accepted")
            ).all()
        }
        for listing_id, page_gtin, page_title in pages:
            if listing_id not in listings:
                continue
            lst, product_gtin = listings[listing_id]
            reason = contradiction(product_gtin, lst.match_gtin, lst.match_title, page_gtin,
                                   page_title, drift_similarity)  # fmt: skip
            if reason is None:
                if lst.match_title is None and page_title:
                    lst.match_title = page_title[:500]
                continue
            done = session.execute(
                update(Listing)
                .where(Listing.id == listing_id, Listing.status == "accepted")
                .values(status="review", status_reason=reason)
            )
            if done.rowcount == 1:  # type: ignore[attr-defined]
                moved.append(listing_id)
    return moved
