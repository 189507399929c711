"""Build engine input frames and rule lists for tests, and run the engine on them."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from repricer.pricing.core import decide
from repricer.pricing.inputs import OBSERVATION_COLUMNS
from repricer.pricing.rules import Rule, parse_rules

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PRODUCT_DEFAULTS: dict[str, Any] = {
    "category": None,
    "brand": None,
    "tags": None,
    "currency": "RUB",
    "price": 150000,
    "stock": 5,
    "map_price": None,
    "min_price": None,
    "max_price": None,
    "cost": 100000,
    "supplier_available": True,
    "last_change_at": None,
}


def rules(text: str) -> list[Rule]:
    """Rules from a TOML text (a [defaults] table is optional)."""
    return parse_rules(textwrap.dedent(text), Path("test.toml"))


def product(product_id: int = 1, sku: str | None = None, **values: Any) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "sku": sku or f"SKU-{product_id}",
        **PRODUCT_DEFAULTS,
        **values,
    }


def obs(
    competitor: str, price: int, product_id: int = 1, *, in_stock: bool = True, hours: float = 1
) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "competitor": competitor,
        "price": price,
        "in_stock": in_stock,
        "observed_at": NOW - timedelta(hours=hours),
    }


def products_frame(products: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(products)
    for column in ("price", "stock", "map_price", "min_price", "max_price", "cost"):
        frame[column] = frame[column].astype("Int64")
    frame["supplier_available"] = frame["supplier_available"].astype("boolean")
    frame["last_change_at"] = pd.to_datetime(frame["last_change_at"], utc=True)
    return frame


def observations_frame(observations: list[dict[str, Any]]) -> pd.DataFrame:
    if not observations:
        frame = pd.DataFrame(columns=OBSERVATION_COLUMNS)
        return frame.astype({"product_id": "int64", "price": "int64", "in_stock": "bool"})
    return pd.DataFrame(observations, columns=OBSERVATION_COLUMNS)


def run(
    products: list[dict[str, Any]], observations: list[dict[str, Any]], rule_list: list[Rule]
) -> pd.DataFrame:
    """Decide on in-memory rows at :data:`NOW` in RUB."""
    return decide(
        products_frame(products),
        observations_frame(observations),
        rule_list,
        now=NOW,
        currency="RUB",
    )


def one(
    product_values: dict[str, Any], observations: list[dict[str, Any]], rules_text: str
) -> dict[str, Any]:
    """The decision row (as a dict) for one product."""
    frame = run([product(**product_values)], observations, rules(rules_text))
    row = frame.iloc[0].to_dict()
    row["guards"] = [g for g in row["guards"].split(",") if g]
    row["flags"] = [f for f in row["flags"].split(",") if f]
    return {k: (None if v is pd.NA else v) for k, v in row.items()}
