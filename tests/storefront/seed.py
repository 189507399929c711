"""Rows the push reads, created directly with the models: products, runs, changes, offers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select

from repricer.db.engine import session_scope
from repricer.db.models import (
    PriceChange,
    Product,
    PushAttempt,
    RepricingRun,
    Supplier,
    SupplierOffer,
)


def add_products(
    engine: Engine, skus: Iterable[str], price: int = 10000, **fields: Any
) -> dict[str, int]:
    """Products with a price (minor units); ``fields`` apply to all. Returns sku -> id."""
    rows = [{"sku": sku, "currency": "RUB", "price": price, "tags": []} | fields for sku in skus]
    with engine.begin() as conn:
        conn.execute(insert(Product), rows)
        return dict(conn.execute(select(Product.sku, Product.id)).all())  # type: ignore[arg-type]


def add_run(engine: Engine, status: str = "applied") -> int:
    with session_scope(engine) as session:
        run = RepricingRun(status=status)
        session.add(run)
        session.flush()
        return run.id


def add_changes(
    engine: Engine,
    run_id: int,
    prices: Mapping[str, int],
    status: str = "approved",
    decided_at: datetime | None = None,
) -> dict[str, int]:
    """One change per SKU to ``prices[sku]``; returns sku -> change id."""
    when = decided_at or datetime.now(UTC)
    with engine.begin() as conn:
        ids = dict(
            conn.execute(select(Product.sku, Product.id).where(Product.sku.in_(list(prices)))).all()
        )
        rows = [
            {
                "run_id": run_id,
                "product_id": ids[sku],
                "sku": sku,
                "currency": "RUB",
                "old_price": 10000,
                "new_price": price,
                "status": status,
                "decided_at": when,
                "approved_by": "auto" if status == "approved" else None,
                "guards": [],
                "flags": [],
                "explanation": "",
                "inputs": {},
            }
            for sku, price in prices.items()
        ]
        conn.execute(insert(PriceChange), rows)
        found = conn.execute(
            select(PriceChange.sku, PriceChange.id).where(PriceChange.run_id == run_id)
        ).all()
    return dict(found)  # type: ignore[arg-type]


def add_offer(
    engine: Engine,
    sku: str,
    cost: int | None,
    stock: int | None = 5,
    available: bool = True,
    supplier: str = "acme",
    currency: str = "RUB",
) -> None:
    with session_scope(engine) as session:
        sup = session.scalar(select(Supplier).where(Supplier.name == supplier))
        if sup is None:
            sup = Supplier(name=supplier)
            session.add(sup)
            session.flush()
        pid = session.scalar(select(Product.id).where(Product.sku == sku))
        session.add(
            SupplierOffer(
                supplier_id=sup.id,
                key=sku,
                product_id=pid,
                cost=cost,
                stock_qty=stock,
                available=available,
                currency=currency,
            )
        )


def statuses(engine: Engine) -> dict[str, str]:
    """sku -> price_changes.status of the newest change per SKU."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(PriceChange.sku, PriceChange.status).order_by(PriceChange.id)
        ).all()
    return dict(rows)  # type: ignore[arg-type]


def attempts(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = (
            conn.execute(
                select(
                    PriceChange.sku,
                    PushAttempt.status,
                    PushAttempt.price,
                    PushAttempt.error,
                    PushAttempt.batch,
                )
                .join(PriceChange, PriceChange.id == PushAttempt.price_change_id)
                .order_by(PushAttempt.id)
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def product_prices(engine: Engine) -> dict[str, int | None]:
    with engine.connect() as conn:
        return dict(conn.execute(select(Product.sku, Product.price)).all())  # type: ignore[arg-type]


EARLIER = datetime.now(UTC) - timedelta(hours=1)
