"""The engine core: products + observations + rules -> one decision per product.

Pure and in memory (no database): :func:`decide` is what :func:`repricer.pricing.reprice`
runs between loading inputs and storing the run, and what the benchmark times. Every step
is column arithmetic over int64 minor units.

``products`` columns: product_id, sku, category, brand, tags (list or None), currency,
price, stock, map_price, min_price, max_price, cost (nullable ints), supplier_available
(nullable bool: the effective offer is in stock), last_change_at (UTC datetime or NaT).
``observations`` columns: product_id, competitor (name), price (int), in_stock (bool),
observed_at (UTC datetime).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from repricer.money import minor_digits
from repricer.pricing.explain import explain, rule_texts
from repricer.pricing.guards import NO_CEILING, apply_guards, floor_and_ceiling
from repricer.pricing.market import Observed, summarise_market
from repricer.pricing.params import assign_rules, rule_table
from repricer.pricing.rules import STRATEGIES, Rule
from repricer.pricing.strategies import METHODS, REASONS, SKIP, choose_methods, compute_targets

I64 = npt.NDArray[Any]  # int64 columns
Bools = npt.NDArray[Any]  # bool columns

DECISION_COLUMNS = [
    "product_id", "sku", "currency", "old_price", "new_price", "cost", "floor", "ceiling",
    "reference_price", "reference_competitor", "rule", "strategy", "guards", "flags",
    "status", "explanation",
]  # fmt: skip
GUARD_NAMES = ("floor", "ceiling", "max_change", "rounding", "min_delta", "cooldown")


def _ints(frame: pd.DataFrame, column: str, fill: int) -> tuple[I64, Bools]:
    values = frame[column].astype("Int64").array
    return values.fillna(fill).to_numpy(dtype=np.int64), ~np.asarray(values.isna(), dtype=bool)


def _seconds_since(moments: pd.Series, now: datetime) -> I64:
    stamps = pd.to_datetime(moments, utc=True)
    seconds = (pd.Timestamp(now) - stamps).dt.total_seconds()
    return seconds.fillna(-1).to_numpy(dtype=np.float64).astype(np.int64)


def observed_columns(
    observations: pd.DataFrame, products: pd.DataFrame, competitors: list[str], now: datetime
) -> Observed:
    """Observation frame -> columns keyed by product row and competitor index."""
    pos = pd.Index(products["product_id"]).get_indexer(observations["product_id"])
    comp = pd.Categorical(observations["competitor"], categories=competitors).codes
    known = (pos >= 0) & (comp >= 0)
    ages = _seconds_since(observations["observed_at"], now)
    return Observed(
        pos=pos[known].astype(np.int64),
        comp=comp[known].astype(np.int64),
        price=observations["price"].to_numpy(dtype=np.int64)[known],
        in_stock=observations["in_stock"].to_numpy(dtype=bool)[known],
        age=np.where(ages[known] < 0, -1, ages[known]).astype(np.int64),
    )


def decide(
    products: pd.DataFrame,
    observations: pd.DataFrame,
    rules: list[Rule],
    *,
    now: datetime,
    currency: str,
) -> pd.DataFrame:
    """One decision row per product (columns :data:`DECISION_COLUMNS`, money as Int64)."""
    products = products.reset_index(drop=True)
    competitors = sorted(set(observations["competitor"].unique()) | _rule_competitors(rules))
    table = rule_table(rules, competitors, minor_digits(currency))
    rule_idx = assign_rules(products, rules)
    c: dict[str, npt.NDArray[Any]] = {k: v[rule_idx] for k, v in table.columns.items()}
    c["rule_idx"] = rule_idx
    old, has_old = _ints(products, "price", 0)
    cost, has_cost = _ints(products, "cost", 0)
    c["min_price"] = _ints(products, "min_price", 0)[0]
    c["map_price"] = _ints(products, "map_price", 0)[0]
    c["max_price"] = _ints(products, "max_price", int(NO_CEILING))[0]
    market = summarise_market(
        observed_columns(observations, products, competitors, now), rule_idx, table
    )
    floor, basis, ceiling = floor_and_ceiling(cost, has_cost, c)
    stock, has_stock = _ints(products, "stock", 0)
    supplier = products["supplier_available"].astype("boolean").array
    we_out = np.where(has_stock, stock <= 0, ~np.asarray(supplier.fillna(True), dtype=bool))
    in_currency = (products["currency"] == currency).to_numpy(dtype=bool)
    method, reason = choose_methods(
        c["strategy"], market, has_cost, we_out, (rule_idx >= 0) & in_currency, c
    )
    reason = np.where(in_currency, reason, 8)
    t = compute_targets(method, reason, market, cost, old, has_old, ceiling, c)
    inverted = (t.method != SKIP) & (floor > ceiling)
    g = apply_guards(
        t.target, old, has_old, floor, ceiling, _seconds_since(products["last_change_at"], now), c
    )
    priced = (t.method != SKIP) & ~inverted
    new = np.where(priced, g.price, old)
    has_new = np.where(priced, True, has_old)
    c.update(
        method=t.method, reason=t.reason, ref_price=t.ref_price, ref_comp=t.ref_comp,
        ref_age=t.ref_age, base=t.base, target=t.target, raised_back=t.raised_back,
        low_price=market.low_price, n_in=market.n_in, cost=cost, old=old, floor=floor,
        floor_basis=basis, ceiling=ceiling, inverted=inverted, raw=g.raw, new=new, guarded=priced,
        low_name=np.array([*competitors, ""], dtype=object)[market.low_comp],
    )  # fmt: skip
    for name in (
        "by_floor",
        "by_ceiling",
        "by_max_change",
        "exceeds_max_change",
        "by_rounding",
        "no_ending",
        "by_min_delta",
        "by_cooldown",
    ):
        c[name] = getattr(g, name) & priced
    flags = _flags(c, t.reason, inverted)
    status = np.select(
        [~priced, has_new & has_old & (new == old), c["exceeds_max_change"]],
        ["skipped", "unchanged", "needs_approval"],
        "proposed",
    )
    texts = explain(c, rule_texts(rules, currency), competitors, currency)
    return _frame(
        products, c, rules, competitors, has_old, has_cost, has_new, flags, status, texts, currency
    )


def _rule_competitors(rules: list[Rule]) -> set[str]:
    names: set[str] = set()
    for rule in rules:
        names.update(rule.competitors or [])
        names.update([rule.competitor] if rule.competitor else [])
    return names


def _joined(columns: list[tuple[str, Bools]], n: int) -> pd.Series:
    text = np.full(n, "", dtype=object)
    for name, mask in columns:
        text[mask] = text[mask] + (name + ",")
    return pd.Series(text, dtype=object).str.rstrip(",")


def _flags(c: dict[str, npt.NDArray[Any]], reason: I64, inverted: Bools) -> pd.Series:
    columns = [(name, reason == i) for i, name in enumerate(REASONS) if name]
    columns.append(("currency", reason == 8))
    columns += [
        ("floor_above_ceiling", inverted),
        ("raise_back", c["raised_back"]),
        ("max_change", c["exceeds_max_change"]),
        ("no_ending", c["no_ending"]),
    ]
    return _joined(columns, len(reason))


def _frame(
    products: pd.DataFrame,
    c: dict[str, npt.NDArray[Any]],
    rules: list[Rule],
    competitors: list[str],
    has_old: Bools,
    has_cost: Bools,
    has_new: Bools,
    flags: pd.Series,
    status: npt.NDArray[Any],
    texts: npt.NDArray[Any],
    currency: str,
) -> pd.DataFrame:
    def money(values: npt.NDArray[Any], present: Bools) -> pd.arrays.IntegerArray:
        return pd.arrays.IntegerArray(values.astype(np.int64), ~present)

    floor, ceiling = c["floor"], c["ceiling"]
    ruled = (c["reason"] != 5) & (c["reason"] != 8)  # a rule and the pricing currency
    has_ref = c["ref_comp"] >= 0
    rule_names = np.array([r.name for r in rules] + [None], dtype=object)
    method = c["method"]
    guards = _joined([(n, c[f"by_{n}"]) for n in GUARD_NAMES], len(method))
    return pd.DataFrame(
        {
            "product_id": products["product_id"].to_numpy(dtype=np.int64),
            "sku": products["sku"].to_numpy(dtype=object),
            "currency": products["currency"].to_numpy(dtype=object),
            "old_price": money(c["old"], has_old),
            "new_price": money(c["new"], has_new),
            "cost": money(c["cost"], has_cost),
            "floor": money(floor, ruled & (floor > 0)),
            "ceiling": money(ceiling, ruled & (ceiling < NO_CEILING)),
            "reference_price": money(c["ref_price"], has_ref),
            "reference_competitor": np.array([*competitors, None], dtype=object)[c["ref_comp"]],
            "rule": rule_names[c["rule_idx"]],
            "strategy": np.array([*STRATEGIES, None], dtype=object)[
                np.where(c["rule_idx"] >= 0, c["strategy"], -1)
            ],
            "method": np.array(METHODS, dtype=object)[method],
            "guards": guards,
            "flags": flags,
            "status": status,
            "explanation": texts,
        }
    )
