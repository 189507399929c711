"""The review queue: price changes filtered, sorted and paged in the database.

:class:`QueueFilter` is the one description of "which changes" that the web workspace
shows and acts on: :func:`queue_page` reads one page of it (plus the total) and
:func:`matching_clause` gives the same selection as a SQL condition over
``price_changes``, which :func:`repricer.review.approve`/``reject`` take to decide every
matching change in one statement. Nothing here loads more than one page of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Engine, Select, String, and_, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from repricer.db.models import PriceChange, Product, RepricingRun
from repricer.exceptions import NotFoundError, ReviewError
from repricer.pricing.stored_explanations import fill_explanations
from repricer.review import PENDING, STATUSES

Direction = Literal["up", "down"]
SORTS: dict[str, Any] = {
    "sku": PriceChange.sku,
    "title": Product.title,
    "old": PriceChange.old_price,
    "new": PriceChange.new_price,
    "change": func.abs(PriceChange.new_price - PriceChange.old_price)
    * 1.0
    / func.nullif(PriceChange.old_price, 0),
    "decided": PriceChange.decided_at,
    "status": PriceChange.status,
    "id": PriceChange.id,
}
PAGE_SIZES = (25, 50, 100, 200)


@dataclass(frozen=True)
class QueueFilter:
    """Which changes to show; every given field must match.

    ``run_id`` None means the latest reviewed (non-dry) run; ``all_runs`` drops the run
    condition. ``status`` is ``pending`` (proposed + needs_approval), ``all`` or one
    status. ``min_change``/``max_change`` bound ``|new - old| / old`` as fractions
    (``Decimal("0.1")`` for 10%). ``search`` is a case-insensitive part of SKU or title.
    """

    run_id: int | None = None
    all_runs: bool = False
    status: str = "pending"
    category: str | None = None
    brand: str | None = None
    rule: str | None = None
    direction: Direction | None = None
    min_change: Decimal | None = None
    max_change: Decimal | None = None
    search: str | None = None

    def check(self) -> None:
        """Raise ReviewError for a status or bound that cannot match anything sensible."""
        if self.status not in ("pending", "all", *STATUSES):
            raise ReviewError(f"unknown status {self.status!r}")
        for name in ("min_change", "max_change"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ReviewError(f"{name} must not be negative (got {value})")


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue. ``rows`` are plain dicts (money in minor units)."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    per_page: int
    run_id: int | None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def latest_run_id(conn: Connection) -> int | None:
    """The newest run that is reviewed (not a dry run), or None."""
    query = select(func.max(RepricingRun.id)).where(RepricingRun.status != "dry_run")
    value = conn.execute(query).scalar()
    return None if value is None else int(value)


def resolve(conn: Connection, chosen: QueueFilter) -> QueueFilter:
    """``chosen`` with ``run_id`` set to the latest reviewed run when it was None."""
    chosen.check()
    if chosen.run_id is None and not chosen.all_runs:
        return replace(chosen, run_id=latest_run_id(conn) or 0)
    return chosen


def matching_clause(chosen: QueueFilter) -> ColumnElement[bool]:
    """The filter as one condition over ``price_changes`` (product fields through a
    sub-select), for an UPDATE that decides every matching change. ``chosen`` must be
    :func:`resolve`-d. Dry runs never match."""
    clauses = _clauses(chosen)
    reviewed = select(RepricingRun.id).where(RepricingRun.status != "dry_run")
    clauses.append(PriceChange.run_id.in_(reviewed))
    return and_(*clauses)


def queue_page(
    engine: Engine,
    chosen: QueueFilter,
    *,
    sort: str = "sku",
    descending: bool = False,
    page: int = 1,
    per_page: int = 50,
) -> QueuePage:
    """One page of the changes matching ``chosen`` and how many match in all."""
    if sort not in SORTS:
        raise ReviewError(f"unknown sort {sort!r} (use one of {', '.join(SORTS)})")
    page, per_page = max(1, page), min(max(1, per_page), max(PAGE_SIZES))
    with engine.connect() as conn:
        chosen = resolve(conn, chosen)
        where = _clauses(chosen)
        total = int(
            conn.execute(select(func.count()).select_from(PriceChange).where(*where)).scalar_one()
        )
        order = SORTS[sort].desc() if descending else SORTS[sort].asc()
        # Sort and cut the page on the changes alone (an index-only top-N), then join
        # the page's rows: sorting 100,000 joined rows would be the slow part.
        ids_query = select(PriceChange.id)
        if sort == "title":
            ids_query = ids_query.join(Product, Product.id == PriceChange.product_id)
        ids = list(
            conn.execute(
                ids_query.where(*where)
                .order_by(order, PriceChange.id)
                .limit(per_page)
                .offset((page - 1) * per_page)
            ).scalars()
        )
        found = {
            r["id"]: r for r in conn.execute(_selected().where(PriceChange.id.in_(ids))).mappings()
        }
        rows = [_row(found[i]) for i in ids if i in found]
        fill_explanations(conn, rows)
    return QueuePage(rows, total, page, per_page, chosen.run_id)


def facets(engine: Engine, run_id: int | None) -> dict[str, list[str]]:
    """Distinct categories, brands and rules to offer in the filter form."""
    with engine.connect() as conn:
        categories = conn.execute(select(Product.category).distinct().order_by(Product.category))
        brands = conn.execute(select(Product.brand).distinct().order_by(Product.brand))
        rules = select(PriceChange.rule).distinct().order_by(PriceChange.rule)
        if run_id:
            rules = rules.where(PriceChange.run_id == run_id)
        return {
            "category": [c for (c,) in categories if c],
            "brand": [b for (b,) in brands if b],
            "rule": [r for (r,) in conn.execute(rules) if r],
        }


def _selected() -> Select[*tuple[Any, ...]]:
    query: Select[*tuple[Any, ...]] = (
        select(
            PriceChange.id,
            PriceChange.run_id,
            PriceChange.product_id,
            PriceChange.sku,
            PriceChange.currency,
            PriceChange.old_price,
            PriceChange.new_price,
            PriceChange.proposed_price,
            PriceChange.floor,
            PriceChange.ceiling,
            PriceChange.rule,
            PriceChange.status,
            PriceChange.flags,
            PriceChange.explanation,
            PriceChange.approved_by,
            PriceChange.approved_at,
            PriceChange.comment,
            Product.title,
            Product.category,
            Product.brand,
            RepricingRun.breaker,
        )
        .join(Product, Product.id == PriceChange.product_id)
        .join(RepricingRun, RepricingRun.id == PriceChange.run_id)
    )
    return query


def _clauses(chosen: QueueFilter) -> list[ColumnElement[bool]]:
    """The filter over price_changes alone; product fields through a sub-select, so the
    database picks the few matching products by index instead of joining every row."""
    clauses = _change_clauses(chosen)
    product = _product_clauses(chosen)
    if product:
        clauses.append(PriceChange.product_id.in_(select(Product.id).where(*product)))
    return clauses


def _change_clauses(chosen: QueueFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if chosen.run_id is not None and not chosen.all_runs:
        clauses.append(PriceChange.run_id == chosen.run_id)
    if chosen.status == "pending":
        clauses.append(PriceChange.status.in_(PENDING))
    elif chosen.status != "all":
        clauses.append(PriceChange.status == chosen.status)
    if chosen.rule:
        clauses.append(PriceChange.rule == chosen.rule)
    if chosen.direction == "up":
        clauses.append(PriceChange.new_price > PriceChange.old_price)
    elif chosen.direction == "down":
        clauses.append(PriceChange.new_price < PriceChange.old_price)
    clauses += _size_clauses(chosen.min_change, chosen.max_change)
    return clauses


def _size_clauses(low: Decimal | None, high: Decimal | None) -> list[ColumnElement[bool]]:
    """``low <= |new - old| / old <= high`` in exact integer arithmetic."""
    delta = func.abs(PriceChange.new_price - PriceChange.old_price)
    clauses: list[ColumnElement[bool]] = []
    for bound, above in ((low, True), (high, False)):
        if bound is None:
            continue
        num, den = bound.as_integer_ratio()
        scaled, limit = delta * den, PriceChange.old_price * num
        clauses.append(PriceChange.old_price > 0)
        clauses.append(scaled >= limit if above else scaled <= limit)
    return clauses


def _product_clauses(chosen: QueueFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    # exact values (offered by the filter form), so the category and brand indexes apply
    if chosen.category:
        clauses.append(Product.category == chosen.category)
    if chosen.brand:
        clauses.append(Product.brand == chosen.brand)
    if chosen.search:
        pattern = "%" + _escape_like(chosen.search.strip().lower()) + "%"
        clauses.append(
            or_(
                unicode_lower(Product.sku).like(pattern, escape="\\"),
                unicode_lower(Product.title).like(pattern, escape="\\"),
            )
        )
    return clauses


class unicode_lower(FunctionElement[str]):
    """``lower()`` that folds every script: PostgreSQL's own, SQLite's registered by
    :func:`repricer.db.engine.make_engine` (its built-in folds ASCII only)."""

    type = String()
    inherit_cache = True


@compiles(unicode_lower)
def _lower_default(element: unicode_lower, compiler: Any, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(unicode_lower, "sqlite")
def _lower_sqlite(element: unicode_lower, compiler: Any, **kw: Any) -> str:
    return f"unicode_lower({compiler.process(element.clauses, **kw)})"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _row(record: Any) -> dict[str, Any]:
    row = dict(record)
    old, new = row["old_price"], row["new_price"]
    row["change_pct"] = round((new - old) * 100 / old, 2) if old and new is not None else None
    return row


def resolve_filter(engine: Engine, chosen: QueueFilter) -> QueueFilter:
    """:func:`resolve` on a connection of its own."""
    with engine.connect() as conn:
        return resolve(conn, chosen)


def waiting_reason(row: dict[str, Any], band: Decimal) -> str | None:
    """Why a pending change waits for a person (None for a change that does not wait)."""
    if row["status"] not in PENDING:
        return None
    flags = row.get("flags") or []
    if "breaker" in flags:
        return f"circuit breaker held the whole run: {row.get('breaker') or 'tripped'}"
    if "max_change" in flags:
        return "larger than the rule's max change per run"
    if row["status"] == "proposed":
        return "not reviewed yet (auto-approval has not run on this run)"
    if not row.get("old_price"):
        return "no current price to compare with"
    pct = row.get("change_pct")
    size = f"{pct:+.1f}%" if pct is not None else "the change"
    return f"{size} is outside the auto-approve band of ±{(band * 100).normalize():f}%"


def recent_runs(engine: Engine, limit: int = 20) -> list[dict[str, Any]]:
    """The newest runs (id, status, started_at) for the run chooser, dry runs included."""
    query = (
        select(RepricingRun.id, RepricingRun.status, RepricingRun.started_at)
        .order_by(RepricingRun.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def change_detail(engine: Engine, change_id: int) -> dict[str, Any]:
    """One change with its product, explanation and the override bounds of its run."""
    from repricer.pricing.override import override_bounds, product_inputs

    query = _selected().add_columns(
        PriceChange.inputs, PriceChange.cost, PriceChange.run_id, RepricingRun.summary
    )
    with engine.connect() as conn:
        found = conn.execute(query.where(PriceChange.id == change_id)).mappings().first()
        if found is None:
            raise NotFoundError(f"price change {change_id}: no such change")
        row = _row(found)
        fill_explanations(conn, [row])
        if not row.get("inputs"):  # runs keep their inputs compactly, apart from the changes
            row["inputs"] = product_inputs(conn, row["run_id"], row["product_id"])
    summary = row.pop("summary") or {}
    row["bounds"] = override_bounds(
        row, summary.get("rules"), summary.get("currency", row["currency"])
    )
    row["pending"] = row["status"] in PENDING
    return row


def product_changes(engine: Engine, product_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The product's price changes, newest first, with who decided, when and why."""
    query = (
        _selected()
        .where(PriceChange.product_id == product_id)
        .order_by(PriceChange.run_id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        rows = [_row(r) for r in conn.execute(query).mappings()]
        fill_explanations(conn, rows)
    return rows
