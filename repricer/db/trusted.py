"""Which competitor observations are trusted as market prices.

One definition for pricing and reports: status ok with a positive price, a competitor
that is not our own store, not an anomaly or a GTIN mismatch, and not from a (crawl run,
competitor) that the crawl marked unhealthy. Callers add their own conditions on top
(active listing, freshness, match confidence, currency).

The functions take either the ORM classes (``Observation``) or table columns
(``Observation.__table__.c``): both expose the columns as attributes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_


def site_health_join(observation: Any, listing: Any, stats: Any) -> ColumnElement[bool]:
    """ON clause for an outer join of crawl_site_stats to an observation."""
    return and_(
        stats.crawl_run_id == observation.crawl_run_id,
        stats.competitor_id == listing.competitor_id,
    )


def trusted_conditions(
    observation: Any, competitor: Any, stats: Any
) -> tuple[ColumnElement[bool], ...]:
    """WHERE conditions of a trusted observation (stats outer-joined with site_health_join)."""
    return (
        *trusted_observation(observation),
        trusted_competitor(competitor),
        healthy_site(stats),
    )


def trusted_observation(observation: Any) -> tuple[ColumnElement[bool], ...]:
    """The conditions on the observation's own columns: a reader that joins the
    competitors and site health itself (pricing, in numpy) filters by these in SQL."""
    return (
        observation.status == "ok",
        observation.price > 0,
        observation.is_anomaly == false(),
        observation.is_mismatch == false(),
    )


def trusted_competitor(competitor: Any) -> ColumnElement[bool]:
    """A competitor whose prices count: not our own store."""
    condition: ColumnElement[bool] = competitor.is_self == false()
    return condition


def healthy_site(stats: Any) -> ColumnElement[bool]:
    """No stats (NULLs of the outer join), or a crawl that found the site healthy;
    its negation picks the (crawl run, competitor) pairs to ignore."""
    return or_(stats.healthy.is_(None), stats.healthy.is_(True))
