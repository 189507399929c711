"""SQLAlchemy 2.x models for the whole data flow (see docs/concepts.md, "Data flow").

Money columns are ``BigInteger`` minor units (kopecks/cents) beside an ISO ``currency``.
Times are timezone-aware UTC. Status columns hold the short strings listed in each
column's comment; they are plain strings so a new status needs no migration.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Always timezone-aware UTC; SQLite hands back naive values, which are UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


Money = BigInteger  # minor units


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class Product(Base):
    """Our catalog: one row per SKU we sell."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str | None] = mapped_column(String(500))
    brand: Mapped[str | None] = mapped_column(String(200), index=True)
    category: Mapped[str | None] = mapped_column(String(200), index=True)
    gtin: Mapped[str | None] = mapped_column(String(14), index=True)
    tags: Mapped[list[str]] = mapped_column(default=list)
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
    price: Mapped[int | None] = mapped_column(Money, comment="current retail price, minor units")
    stock: Mapped[int | None] = mapped_column(Integer, comment="our own stock; None = unknown")
    map_price: Mapped[int | None] = mapped_column(Money, comment="minimum advertised price")
    min_price: Mapped[int | None] = mapped_column(Money)
    max_price: Mapped[int | None] = mapped_column(Money)
    storefront_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    listings: Mapped[list[Listing]] = relationship(back_populates="product")


class Supplier(Base):
    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    priority: Mapped[int] = mapped_column(default=0, comment="higher wins a cost tie")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SupplierOffer(Base):
    """A supplier's current offer for one item, keyed by the supplier's key value.

    ``product_id`` is None for items not (yet) matched to our catalog; they are kept.
    """

    __tablename__ = "supplier_offers"
    __table_args__ = (
        UniqueConstraint("supplier_id", "key"),
        # Covers what a feed sync reads of every stored offer (fingerprint, flags, id,
        # whether anything wrote it since the last sync).
        Index(
            "ix_supplier_offers_fingerprints",
            "supplier_id",
            "feed_fp",
            "available",
            "product_id",
            "held_cost",
            "updated_at",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100), comment="value of the supplier's key field")
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL"), index=True
    )
    offer_id: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(500))
    vendor: Mapped[str | None] = mapped_column(String(200))
    vendor_code: Mapped[str | None] = mapped_column(String(100))
    barcode: Mapped[str | None] = mapped_column(String(14))
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
    cost: Mapped[int | None] = mapped_column(Money, comment="purchase cost, minor units")
    retail_price: Mapped[int | None] = mapped_column(Money, comment="supplier's suggested retail")
    old_price: Mapped[int | None] = mapped_column(Money)
    stock_qty: Mapped[int | None] = mapped_column(Integer)
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    held_cost: Mapped[int | None] = mapped_column(
        Money, comment="a cost from the feed held for review (moved beyond hold_cost_ratio)"
    )
    held_at: Mapped[datetime | None]
    feed_fp: Mapped[int | None] = mapped_column(
        BigInteger,
        comment="fingerprint of the feed item last applied whole; NULL once anything else "
        "writes the row (it is then read again)",
    )


class FeedSync(Base):
    """One supplier feed sync. status: running | ok | not_modified | unchanged (the same
    file as the last applied sync: skipped) | rejected | failed | interrupted (its process
    died; closed when the next sync of the supplier starts)."""

    __tablename__ = "feed_syncs"
    __table_args__ = (Index("ix_feed_syncs_supplier_started", "supplier_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    seen: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    missing: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    unmapped: Mapped[int] = mapped_column(default=0)
    duration_s: Mapped[float | None] = mapped_column(Float)
    http_status: Mapped[int | None]
    etag: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(Text, comment="why the sync failed or was rejected")
    warnings: Mapped[list[str]] = mapped_column(default=list)
    content_hash: Mapped[str | None] = mapped_column(
        String(64), comment="SHA-256 of the applied feed file and the settings that read it"
    )


class Competitor(Base):
    """A competitor site (or our own store, ``is_self``), mirrored from config."""

    __tablename__ = "competitors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    domain: Mapped[str] = mapped_column(String(200))
    is_self: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Listing(Base):
    """Our SKU <-> a competitor's product URL. match_method: manual | gtin | model | score
    | title.

    status: accepted (feeds pricing; imported listings are accepted) | review (a proposal,
    or a match the page later contradicted; does not feed pricing) | rejected (kept so
    discovery does not propose it again). ``match_gtin``/``match_title`` are what the page
    showed when the match was made, to notice it drifting.
    """

    __tablename__ = "listings"
    __table_args__ = (UniqueConstraint("product_id", "competitor_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    competitor_id: Mapped[int] = mapped_column(
        ForeignKey("competitors.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    match_method: Mapped[str] = mapped_column(String(20), default="manual")
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="accepted", server_default="accepted")
    score: Mapped[float | None] = mapped_column(Float, comment="matcher score, 0..1")
    evidence: Mapped[list[str]] = mapped_column(default=list, comment="why it was matched")
    status_reason: Mapped[str | None] = mapped_column(Text, comment="why it is in review")
    match_gtin: Mapped[str | None] = mapped_column(String(14))
    match_title: Mapped[str | None] = mapped_column(String(500))
    reviewed_at: Mapped[datetime | None]

    product: Mapped[Product] = relationship(back_populates="listings")


class Candidate(Base):
    """A competitor product page found by ``listings discover``; GTIN as 14 digits."""

    __tablename__ = "candidates"
    __table_args__ = (UniqueConstraint("competitor_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competitor_id: Mapped[int] = mapped_column(ForeignKey("competitors.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str | None] = mapped_column(String(500))
    brand: Mapped[str | None] = mapped_column(String(200))
    gtin: Mapped[str | None] = mapped_column(String(14), index=True)
    model: Mapped[str | None] = mapped_column(String(100))
    price: Mapped[int | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    found_via: Mapped[str] = mapped_column(String(20), comment="sitemap | search")
    discovered_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrawlRun(Base):
    """One crawl. status: running | ok | failed | aborted | interrupted (its process
    died; closed when the next crawl of one of its competitors starts)."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    competitors: Mapped[list[str]] = mapped_column(default=list)
    pages: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)


class CrawlShard(Base):
    """One shard of a crawl run dispatched to a Scrapyd node: the active listings of one
    competitor, optionally only SKUs ``sku_from``..``sku_to`` (inclusive).

    status: pending | running | ok | failed | aborted. ``node`` and ``job_id`` name the
    current attempt; only the job named here may store observations for the shard, so a
    job left running on a node that was given up never writes twice.
    """

    __tablename__ = "crawl_shards"
    __table_args__ = (Index("ix_crawl_shards_run_status", "crawl_run_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    crawl_run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"))
    competitor: Mapped[str] = mapped_column(String(100))
    sku_from: Mapped[str | None] = mapped_column(String(100))
    sku_to: Mapped[str | None] = mapped_column(String(100))
    listings: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    node: Mapped[str | None] = mapped_column(String(300))
    job_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    pages: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class CrawlSiteStats(Base):
    """Per-competitor counts of one crawl run; ``healthy`` False makes pricing ignore
    that competitor's observations from this run."""

    __tablename__ = "crawl_site_stats"
    __table_args__ = (UniqueConstraint("crawl_run_id", "competitor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    crawl_run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"))
    competitor_id: Mapped[int] = mapped_column(ForeignKey("competitors.id", ondelete="CASCADE"))
    ok: Mapped[int] = mapped_column(default=0)
    no_price: Mapped[int] = mapped_column(default=0)
    error: Mapped[int] = mapped_column(default=0)
    anomaly: Mapped[int] = mapped_column(default=0)
    mismatch: Mapped[int] = mapped_column(default=0)
    healthy: Mapped[bool] = mapped_column(Boolean, default=True)


class Observation(Base):
    """A competitor price seen on a page (price history).

    status: ok | no_price | not_found | blocked | redirect | timeout | error.
    availability: in_stock | out_of_stock | unknown. ``price`` is None unless status is ok.
    """

    __tablename__ = "observations"
    __table_args__ = (
        Index("ix_observations_listing_status_observed", "listing_id", "status", "observed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    crawl_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("crawl_runs.id", ondelete="SET NULL"), index=True
    )
    observed_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(20))
    price: Mapped[int | None] = mapped_column(Money)
    old_price: Mapped[int | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    availability: Mapped[str] = mapped_column(String(20), default="unknown")
    method: Mapped[str | None] = mapped_column(String(30), comment="what found the price")
    http_status: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(Text)
    is_anomaly: Mapped[bool] = mapped_column(Boolean, default=False)
    is_mismatch: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str | None] = mapped_column(String(500))
    gtin: Mapped[str | None] = mapped_column(String(14))


class RepricingRun(Base):
    """One repricing run. status: dry_run | applied | needs_approval.

    ``breaker`` is set when the circuit breaker sent the whole run to approval.
    """

    __tablename__ = "repricing_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="dry_run")
    rules_dir: Mapped[str | None] = mapped_column(String(500))
    rules_hash: Mapped[str | None] = mapped_column(String(64))
    breaker: Mapped[str | None] = mapped_column(Text, comment="why the breaker tripped")
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PriceChange(Base):
    """One decision of a run for one product.

    status: unchanged | proposed | needs_approval | skipped (from the engine), then
    approved | rejected | expired (review), then pushed | held | failed (push).
    """

    __tablename__ = "price_changes"
    __table_args__ = (
        UniqueConstraint("run_id", "product_id"),
        Index("ix_price_changes_status", "status"),
        Index("ix_price_changes_product_decided", "product_id", "decided_at"),
        Index("ix_price_changes_run_status_sku", "run_id", "status", "sku"),
        Index("ix_price_changes_run_rule", "run_id", "rule"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("repricing_runs.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    old_price: Mapped[int | None] = mapped_column(Money)
    new_price: Mapped[int | None] = mapped_column(Money)
    cost: Mapped[int | None] = mapped_column(Money)
    floor: Mapped[int | None] = mapped_column(Money)
    ceiling: Mapped[int | None] = mapped_column(Money)
    reference_price: Mapped[int | None] = mapped_column(Money)
    reference_competitor: Mapped[str | None] = mapped_column(String(100))
    rule: Mapped[str | None] = mapped_column(String(100))
    strategy: Mapped[str | None] = mapped_column(String(30))
    guards: Mapped[list[str]] = mapped_column(default=list, comment="guards that bound the price")
    flags: Mapped[list[str]] = mapped_column(default=list)
    explanation: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text, comment="the reviewer's comment")
    proposed_price: Mapped[int | None] = mapped_column(
        Money, comment="the engine's price when a reviewer overrode new_price"
    )
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict, comment="what the decision used")


class RepricingRunInputs(Base):
    """What a run's stored decisions were made from, for replay: one compressed
    columnar blob per run (``format`` names the layout, see
    :mod:`repricer.pricing.run_inputs`), holding only the stored products' inputs."""

    __tablename__ = "repricing_run_inputs"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("repricing_runs.id", ondelete="CASCADE"), primary_key=True
    )
    format: Mapped[str] = mapped_column(String(20))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ObservationDaily(Base):
    """Per listing and UTC day: the lowest, highest and last trusted price seen, kept
    when ``repricer db prune`` thins old observations (history charts read it)."""

    __tablename__ = "observation_daily"

    listing_id: Mapped[int] = mapped_column(
        ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    min_price: Mapped[int] = mapped_column(Money)
    max_price: Mapped[int] = mapped_column(Money)
    last_price: Mapped[int] = mapped_column(Money)
    last_at: Mapped[datetime] = mapped_column(comment="when the last price was seen")
    currency: Mapped[str | None] = mapped_column(String(3))
    availability: Mapped[str] = mapped_column(String(20), comment="of the last observation")
    count: Mapped[int] = mapped_column(Integer, comment="observations folded in")


class PushAttempt(Base):
    """One push of one change. status: pushed | failed | held | confirmed | mismatch."""

    __tablename__ = "push_attempts"
    __table_args__ = (Index("ix_push_attempts_change_status", "price_change_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    price_change_id: Mapped[int] = mapped_column(ForeignKey("price_changes.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    connector: Mapped[str] = mapped_column(String(20))
    batch: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    price: Mapped[int | None] = mapped_column(Money)
    http_status: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)


class JobRun(Base):
    """One run of a scheduled job. status: running | ok | failed | aborted | interrupted
    (its scheduler died during the run)."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    detail: Mapped[str | None] = mapped_column(Text)


class Lease(Base):
    """Who holds a named lease (``scheduler``, ``push``, ...); see :mod:`repricer.lease`.

    A holder renews ``expires_at`` while it lives; a row past ``expires_at`` belongs to
    a dead holder and the next process to ask takes it over.
    """

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), comment="random id of the holding process")
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    acquired_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class AlertState(Base):
    """One alert condition as one destination saw it: raised (``cleared_at`` None) or
    cleared. ``notified_at``/``clear_notified_at`` say whether the message went out, so
    each condition is sent once until it clears (see :mod:`repricer.alerts`)."""

    __tablename__ = "alert_states"
    __table_args__ = (UniqueConstraint("destination", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    destination: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(300), comment="condition:subject")
    condition: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[datetime | None]
    cleared_at: Mapped[datetime | None]
    clear_notified_at: Mapped[datetime | None]


class StockState(Base):
    """The stock last pushed to the storefront for one product (the stock journal).

    A stock push sends only products whose wanted state differs from this row (or whose
    row belongs to another connector), so each state change is pushed once. status:
    pushed | confirmed | mismatch (what the read-back saw).
    """

    __tablename__ = "stock_states"

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    connector: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int | None] = mapped_column(Integer, comment="None = in stock, count unknown")
    in_stock: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(20), default="pushed")
    pushed_at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[str | None] = mapped_column(Text, comment="what the read-back saw on mismatch")


class StockSync(Base):
    """One sync of a supplier's stock-only source. status: running | ok | not_modified |
    rejected | failed | interrupted (its process died; closed when the next stock sync of
    the supplier starts). ``etag``/``last_modified`` feed the next conditional GET."""

    __tablename__ = "stock_syncs"
    __table_args__ = (Index("ix_stock_syncs_supplier_started", "supplier_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    seen: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    unknown: Mapped[int] = mapped_column(default=0, comment="keys with no offer from the full feed")
    skipped: Mapped[int] = mapped_column(default=0)
    http_status: Mapped[int | None]
    etag: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(Text)
