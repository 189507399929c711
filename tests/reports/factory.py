"""Fixture runs written straight into the models: products, repricing runs, price changes,
competitors, listings, observations and supplier offers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from repricer.db.engine import session_scope
from repricer.db.models import (
    Competitor,
    Listing,
    Observation,
    PriceChange,
    Product,
    PushAttempt,
    RepricingRun,
    Supplier,
    SupplierOffer,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HOSTILE_TITLE = '<script>alert("pwned")</script><img src=x onerror=alert(1)> Чайник'
HOSTILE_URL = "javascript:alert(document.cookie)"


@dataclass(frozen=True)
class Change:
    """One price change of a fixture run; prices in kopecks."""

    sku: str
    old: int | None
    new: int | None
    status: str = "proposed"
    category: str = "Kitchen"
    cost: int | None = None
    explanation: str = ""
    rule: str = "default"
    flags: list[str] = field(default_factory=list)
    approved_by: str | None = None


def product(
    session: Session, sku: str, category: str = "Kitchen", price: int | None = None
) -> Product:
    """Get or create a product by SKU."""
    found = session.scalars(select(Product).where(Product.sku == sku)).first()
    if found is None:
        found = Product(
            sku=sku, title=f"Product {sku}", category=category, price=price, currency="RUB"
        )
        session.add(found)
        session.flush()
    return found


def add_run(
    engine: Engine,
    changes: Sequence[Change],
    *,
    status: str = "applied",
    breaker: str | None = None,
    at: datetime = NOW,
) -> int:
    """A repricing run with ``changes`` and the summary the engine would have stored
    with them (:func:`engine_summary`); returns the run id."""
    with session_scope(engine) as session:
        run = RepricingRun(
            status=status,
            breaker=breaker,
            started_at=at,
            finished_at=at + timedelta(seconds=5),
            summary=engine_summary(changes),
        )
        session.add(run)
        session.flush()
        for c in changes:
            item = product(session, c.sku, c.category, c.old)
            session.add(
                PriceChange(
                    run_id=run.id,
                    product_id=item.id,
                    sku=c.sku,
                    currency="RUB",
                    old_price=c.old,
                    new_price=c.new,
                    cost=c.cost,
                    rule=c.rule,
                    strategy="beat_lowest",
                    explanation=c.explanation or f"{c.sku}: beat the lowest competitor",
                    status=c.status,
                    decided_at=at,
                    flags=c.flags,
                    approved_by=c.approved_by,
                    approved_at=at + timedelta(minutes=10) if c.approved_by else None,
                )
            )
        return run.id


def engine_summary(changes: Sequence[Change]) -> dict[str, int]:
    """The counts the engine stores with a run that decided ``changes``: a change whose
    price stays is unchanged, one reviewed since (approved, rejected ...) was proposed."""
    counts = dict.fromkeys(("unchanged", "proposed", "needs_approval", "skipped", "up", "down"), 0)
    for c in changes:
        if c.status == "skipped":
            counts["skipped"] += 1
        elif c.status == "unchanged" or c.new == c.old:
            counts["unchanged"] += 1
        else:
            counts["needs_approval" if c.status == "needs_approval" else "proposed"] += 1
            if c.old is not None and c.new is not None:
                counts["up" if c.new > c.old else "down"] += 1
    return {"products": len(changes), **counts}


def add_market(engine: Engine) -> dict[str, int]:
    """Competitors, listings, a week of observations and supplier offers for K-1..K-4.

    K-1's cheapest competitor has a hostile scraped title and a ``javascript:`` URL.
    Returns competitor ids by name.
    """
    with session_scope(engine) as session:
        shops = {
            name: Competitor(name=name, domain=f"{name}.test", is_self=(name == "our-shop"))
            for name in ("alpha-shop", "beta-market", "our-shop")
        }
        session.add_all(shops.values())
        supplier = Supplier(name="acme", priority=1)
        session.add(supplier)
        session.flush()
        base = {"K-1": 100000, "K-2": 250000, "K-3": 49900, "K-4": 1200000}
        for sku, price in base.items():
            item = product(session, sku, "Kitchen" if sku != "K-4" else "Garden", price)
            session.add(
                SupplierOffer(
                    supplier_id=supplier.id,
                    key=sku,
                    product_id=item.id,
                    cost=price * 7 // 10,
                    stock_qty=5,
                    updated_at=NOW,
                )
            )
            for n, (name, shop) in enumerate(shops.items()):
                url = (
                    HOSTILE_URL
                    if (sku, name) == ("K-1", "alpha-shop")
                    else f"https://{name}.test/p/{sku}"
                )
                listing = Listing(product_id=item.id, competitor_id=shop.id, url=url)
                session.add(listing)
                session.flush()
                # an absurd price flagged as an anomaly: never the market, never charted
                session.add(
                    Observation(
                        listing_id=listing.id,
                        observed_at=NOW - timedelta(minutes=30),
                        status="ok",
                        price=1,
                        currency="RUB",
                        is_anomaly=True,
                    )
                )
                for day in range(7):
                    title = (
                        HOSTILE_TITLE
                        if (sku, name) == ("K-1", "alpha-shop")
                        else f"{sku} at {name}"
                    )
                    seen = price * (97 + 2 * n + (day % 3)) // 100
                    session.add(
                        Observation(
                            listing_id=listing.id,
                            observed_at=NOW - timedelta(days=6 - day, hours=1),
                            status="ok",
                            price=seen,
                            currency="RUB",
                            availability="in_stock",
                            title=title,
                        )
                    )
        return {name: shop.id for name, shop in shops.items()}


def add_report_scene(engine: Engine) -> int:
    """A market, an older pushed run and the run to report on; returns the latest run id."""
    add_market(engine)
    older = add_run(
        engine,
        [
            Change("K-1", 102000, 100000, "pushed", cost=70000),
            Change("K-2", 250000, 250000, "unchanged", cost=175000),
        ],
        at=NOW - timedelta(days=3),
    )
    with session_scope(engine) as session:
        change = session.scalars(
            select(PriceChange).where(PriceChange.run_id == older, PriceChange.sku == "K-1")
        ).one()
        session.add(
            PushAttempt(
                price_change_id=change.id,
                attempted_at=NOW - timedelta(days=3) + timedelta(minutes=5),
                connector="file",
                status="confirmed",
                price=100000,
            )
        )
    changes = [
        Change(
            "K-1",
            100000,
            96900,
            "approved",
            cost=70000,
            explanation="beat alpha-shop 97 000 ₽ by 1 ₽",
            approved_by="maria",
        ),
        Change(
            "K-2",
            250000,
            270000,
            "needs_approval",
            cost=175000,
            explanation="raise to just under beta-market",
        ),
        Change("K-3", 49900, 49900, "unchanged", cost=34930),
        Change("K-4", 1200000, 1140000, "proposed", category="Garden", cost=840000),
        Change(
            "S-5",
            99000,
            79000,
            "rejected",
            category="Garden",
            cost=60000,
            explanation="<b>bold</b> & co",
        ),
        Change(
            "S-6", 150000, None, "skipped", category="Beauty", explanation="no competitor price"
        ),
    ]
    changes += [
        Change(
            f"X-{i:02d}",
            10000 + i * 1000,
            10000 + i * 1000 + (i % 5 - 2) * 30,
            "approved",
            category="Home",
            cost=8000,
        )
        for i in range(14)
    ]
    return add_run(engine, changes)
