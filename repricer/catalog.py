"""Import our catalog (products) and competitor listings from CSV/XLSX files.

Rows are validated one by one: a malformed row is reported with its line number and
reason and the good rows are still imported. Products are upserted by SKU; only the
columns present in the file are written, so a price-only file keeps the titles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from repricer._header_aliases import CATALOG_ALIASES, LISTING_ALIASES
from repricer.config import Settings
from repricer.db import session_scope, upsert_rows
from repricer.db.models import Competitor, Listing, Product, utcnow
from repricer.exceptions import InputFileError
from repricer.feeds.fingerprints import forget_linked
from repricer.money import (
    MAX_STOCK,
    AmountError,
    normalize_currency,
    parse_amount,
    refuse_ambiguous,
    to_minor,
)
from repricer.table_reader import map_header, open_table

MONEY_FIELDS = ("price", "map_price", "min_price", "max_price")
MATCH_METHODS = ("manual", "gtin", "title")


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str
    sku: str | None = None

    def __str__(self) -> str:
        return f"line {self.line}" + (f" (sku {self.sku})" if self.sku else "") + f": {self.reason}"


@dataclass
class ImportReport:
    """What an import did. ``rejected`` rows were not written; everything else was."""

    path: Path
    imported: int = 0
    rejected: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class RowInvalid(ValueError):
    """A row-level problem; becomes a RowError, never escapes an import."""


def import_catalog(settings: Settings, engine: Engine, path: Path | str) -> ImportReport:
    """Upsert products from a CSV/XLSX catalog file; see the module docstring."""
    table = open_table(path)
    mapping = map_header(table.header, CATALOG_ALIASES)
    if "sku" not in mapping.values():
        raise InputFileError(
            f"no sku column (headers: {', '.join(table.header)})",
            path=table.path,
            line=table.header_line,
        )
    report = ImportReport(table.path)
    rows: dict[str, dict[str, Any]] = {}
    for line, raw in table:
        record = {mapping[h]: v for h, v in raw.items() if h in mapping}
        try:
            row = _product_row(record, settings.pricing.currency)
        except RowInvalid as exc:
            report.rejected.append(RowError(line, str(exc), _text(record.get("sku"))))
            continue
        if row["sku"] in rows:
            report.warnings.append(f"line {line}: sku {row['sku']} repeated; the last row wins")
        rows[row["sku"]] = row
    columns = sorted({c for row in rows.values() for c in row})
    with session_scope(engine) as session:
        moved = _moved_barcodes(session, rows) if "gtin" in columns else {}
        upsert_rows(
            session,
            Product.__table__,
            ({c: row.get(c) for c in columns} for row in rows.values()),
            key=["sku"],
        )
        if moved:
            codes = {code for pair in moved.values() for code in pair if code}
            forget_linked(session.connection(), list(moved), sorted(codes), utcnow())
    report.imported = len(rows)
    return report


def _moved_barcodes(
    session: Session, rows: dict[str, dict[str, Any]]
) -> dict[int, tuple[str | None, str | None]]:
    """Stored products whose barcode the import changes: id -> (old, new)."""
    moved = {}
    for product_id, sku, gtin in session.execute(select(Product.id, Product.sku, Product.gtin)):
        row = rows.get(sku)
        if row is not None and row.get("gtin") != gtin:
            moved[product_id] = (gtin, row.get("gtin"))
    return moved


def _product_row(record: dict[str, Any], default_currency: str) -> dict[str, Any]:
    sku = _text(record.get("sku"))
    if not sku:
        raise RowInvalid("sku is empty")
    if len(sku) > 100:
        raise RowInvalid("sku longer than 100 characters")
    row: dict[str, Any] = {"sku": sku}
    for name in ("title", "brand", "category", "storefront_id"):
        if name in record:
            row[name] = _text(record[name])
    currency = default_currency
    if _text(record.get("currency")):
        currency = normalize_currency(_text(record["currency"])) or ""
        if not currency:
            raise RowInvalid(f"unknown currency {record['currency']!r}")
    row["currency"] = currency
    for name in MONEY_FIELDS:
        if name in record:
            row[name] = _money(record[name], name, currency)
    if row.get("min_price") and row.get("max_price") and row["min_price"] > row["max_price"]:
        raise RowInvalid("min_price is above max_price")
    if "stock" in record:
        row["stock"] = _stock(record["stock"])
    if "gtin" in record:
        row["gtin"] = _gtin(record["gtin"])
    if "tags" in record:
        row["tags"] = [
            t.strip() for t in re.split(r"[,|;]", _text(record["tags"]) or "") if t.strip()
        ]
    return row


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheets turn codes like 4601234567890 into floats
    text = str(value).strip()
    return text or None


def _money(value: Any, name: str, currency: str) -> int | None:
    if _text(value) is None:
        return None
    try:
        if isinstance(value, str):
            refuse_ambiguous(value, currency)
    except AmountError as exc:
        raise RowInvalid(f"{name} {exc}") from None
    amount = parse_amount(value)
    if amount is None:
        raise RowInvalid(f"{name} {value!r} is not a number")
    if amount <= 0:
        raise RowInvalid(f"{name} must be positive, got {value!r}")
    try:
        return to_minor(amount, currency)
    except AmountError as exc:
        raise RowInvalid(f"{name} {value!r}: {exc}") from None


def _stock(value: Any) -> int | None:
    if _text(value) is None:
        return None
    amount = parse_amount(value)
    if amount is None or amount != amount.to_integral_value():
        raise RowInvalid(f"stock {value!r} is not a whole number")
    if amount < 0:
        raise RowInvalid(f"stock must not be negative, got {value!r}")
    if amount > MAX_STOCK:
        raise RowInvalid(f"stock {value!r} is above the limit of {MAX_STOCK}")
    return int(amount)


def _gtin(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    if not re.fullmatch(r"\d{8}|\d{12,14}", text):
        raise RowInvalid(f"gtin {text!r} is not 8, 12, 13 or 14 digits")
    return text


def sync_competitors(settings: Settings, session: Session) -> dict[str, int]:
    """Mirror ``[[competitors]]`` from config into the competitors table; name -> id."""
    rows = [
        {"name": c.name, "domain": c.domain, "is_self": c.is_self} for c in settings.competitors
    ]
    upsert_rows(session, Competitor.__table__, rows, key=["name"])
    return dict(session.execute(select(Competitor.name, Competitor.id)).all())


def import_listings(settings: Settings, engine: Engine, path: Path | str) -> ImportReport:
    """Upsert competitor listings (sku, competitor, url[, match_method, confidence, active])."""
    table = open_table(path)
    mapping = map_header(table.header, LISTING_ALIASES)
    missing = {"sku", "competitor", "url"} - set(mapping.values())
    if missing:
        raise InputFileError(
            f"missing column(s) {', '.join(sorted(missing))} (headers: {', '.join(table.header)})",
            path=table.path,
            line=table.header_line,
        )
    report = ImportReport(table.path)
    domains = {c.name: c.domain for c in settings.competitors}
    with session_scope(engine) as session:
        competitor_ids = sync_competitors(settings, session)
        product_ids = dict(session.execute(select(Product.sku, Product.id)).all())
        rows: dict[tuple[int, int, str], dict[str, Any]] = {}
        for line, raw in table:
            record = {mapping[h]: v for h, v in raw.items() if h in mapping}
            try:
                row = _listing_row(record, product_ids, competitor_ids, domains)
            except RowInvalid as exc:
                report.rejected.append(RowError(line, str(exc), _text(record.get("sku"))))
                continue
            rows[(row["product_id"], row["competitor_id"], row["url"])] = row
        upsert_rows(
            session, Listing.__table__, rows.values(), key=["product_id", "competitor_id", "url"]
        )
    report.imported = len(rows)
    return report


def _listing_row(
    record: dict[str, Any],
    product_ids: dict[str, int],
    competitor_ids: dict[str, int],
    domains: dict[str, str],
) -> dict[str, Any]:
    sku, competitor, url = (_text(record.get(k)) for k in ("sku", "competitor", "url"))
    if not sku or sku not in product_ids:
        raise RowInvalid(
            f"unknown sku {sku!r} (import the catalog first)" if sku else "sku is empty"
        )
    if not competitor or competitor not in domains:
        raise RowInvalid(f"unknown competitor {competitor!r} (add it to [[competitors]] in config)")
    if not url:
        raise RowInvalid("url is empty")
    _check_url(url, domains[competitor])
    method = _text(record.get("match_method")) or "manual"
    if method not in MATCH_METHODS:
        raise RowInvalid(f"match_method {method!r} is not one of {', '.join(MATCH_METHODS)}")
    return {
        "product_id": product_ids[sku],
        "competitor_id": competitor_ids[competitor],
        "url": url,
        "match_method": method,
        "confidence": _confidence(record.get("confidence")),
        "active": _flag(record.get("active")),
        "status": "accepted",  # a listing typed in by hand is a person's match
    }


def _check_url(url: str, domain: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RowInvalid(f"url {url!r} is not an http(s) URL")
    host = parts.hostname.lower()
    domain = domain.lower().split(":")[0]
    if host != domain and not host.endswith("." + domain):
        raise RowInvalid(f"url host {host} is not on the competitor's domain {domain}")


def _confidence(value: Any) -> float:
    if _text(value) is None:
        return 1.0
    amount = parse_amount(value)
    if amount is None or not Decimal(0) <= amount <= Decimal(1):
        raise RowInvalid(f"confidence {value!r} is not a number between 0 and 1")
    return float(amount)


def _flag(value: Any) -> bool:
    text = (_text(value) or "1").lower()
    if text in ("1", "true", "yes", "y", "да", "+"):
        return True
    if text in ("0", "false", "no", "n", "нет", "-"):
        return False
    raise RowInvalid(f"active {value!r} is not yes/no")


def list_products(
    engine: Engine, *, limit: int | None = None, search: str | None = None
) -> list[dict[str, Any]]:
    """Products ordered by SKU, as plain dicts, optionally filtered by SKU/title text."""
    stmt = select(Product).order_by(Product.sku)
    if search:
        like = f"%{search.lower()}%"
        stmt = stmt.where(func.lower(Product.sku).like(like) | func.lower(Product.title).like(like))
    if limit:
        stmt = stmt.limit(limit)
    with session_scope(engine) as session:
        return [
            {
                c: getattr(p, c)
                for c in (
                    "sku",
                    "title",
                    "brand",
                    "category",
                    "gtin",
                    "price",
                    "currency",
                    "stock",
                    "map_price",
                    "min_price",
                    "max_price",
                    "tags",
                )
            }
            for p in session.scalars(stmt)
        ]
