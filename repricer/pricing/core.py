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

import dataclasses
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from repricer.money import minor_digits
from repricer.pricing.codes import Reason, Status
from repricer.pricing.decisions import DECISION_COLUMNS, Context, Decisions, decision_frame
from repricer.pricing.guards import NO_CEILING, apply_guards, floor_and_ceiling
from repricer.pricing.market import Observed, summarise_market
from repricer.pricing.params import RuleParams, assign_rules, rule_table
from repricer.pricing.rules import Rule
from repricer.pricing.strategies import SKIP, choose_methods, compute_targets

I64 = npt.NDArray[Any]  # int64 columns
Bools = npt.NDArray[Any]  # bool columns

__all__ = ["DECISION_COLUMNS", "decide", "evaluate"]


def _ints(frame: pd.DataFrame, column: str, fill: int) -> tuple[I64, Bools]:
    values = frame[column].astype("Int64").array
    return values.fillna(fill).to_numpy(dtype=np.int64), ~np.asarray(values.isna(), dtype=bool)


def _seconds_since(moments: pd.Series, now: datetime) -> I64:
    """Whole seconds from each moment to ``now`` (floored); -1 where unknown."""
    raw = pd.to_datetime(moments, utc=True).dt.tz_localize(None).to_numpy()
    unit = np.datetime_data(raw.dtype)[0]
    per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit]
    now_value = pd.Timestamp(now).value // (10**9 // per_second)  # .value is in ns
    seconds: I64 = np.subtract(now_value, raw.view(np.int64))
    np.floor_divide(seconds, per_second, out=seconds)  # in place: one column allocated
    unknown = np.isnat(raw)
    if unknown.any():
        seconds[unknown] = -1
    return seconds


def _positions(products: pd.DataFrame, product_ids: pd.Series) -> I64:
    """Row of each product id in ``products`` (-1 if absent): a direct lookup table when
    the ids are unique and dense, else a binary search when they are sorted (as they come
    from the database), else a hash lookup."""
    ids = products["product_id"].to_numpy(dtype=np.int64)
    wanted = product_ids.to_numpy(dtype=np.int64)
    if len(ids) == 0:
        return np.full(len(wanted), -1, dtype=np.int64)
    if np.any(ids[1:] <= ids[:-1]):
        found: I64 = pd.Index(ids).get_indexer(wanted)
        return found
    low, span = int(ids[0]), int(ids[-1]) - int(ids[0]) + 1
    if span <= 4 * len(ids) + 1024:
        table = np.full(span + 1, -1, dtype=np.int64)  # the last entry: out of range
        table[ids - low] = np.arange(len(ids), dtype=np.int64)
        inside = (wanted >= low) & (wanted <= ids[-1])
        return table[np.where(inside, wanted - low, span)]
    pos = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
    return np.where(ids[pos] == wanted, pos, -1)


def _competitor_codes(names: pd.Series, competitors: list[str]) -> I64:
    """Index of each name in ``competitors`` (-1 if absent), one lookup per distinct name."""
    if isinstance(names.dtype, pd.CategoricalDtype):
        codes, uniques = names.cat.codes.to_numpy(), names.cat.categories
    else:
        codes, uniques = pd.factorize(names)
    index = {name: i for i, name in enumerate(competitors)}
    lookup = np.array([index.get(u, -1) for u in uniques] + [-1], dtype=np.int64)
    found: I64 = lookup[codes]
    return found


def observed_columns(
    observations: pd.DataFrame, products: pd.DataFrame, competitors: list[str], now: datetime
) -> Observed:
    """Observation frame -> columns keyed by product row and competitor index."""
    pos = _positions(products, observations["product_id"])
    comp = _competitor_codes(observations["competitor"], competitors)
    known = (pos >= 0) & (comp >= 0)
    every = bool(known.all())  # then no copy of every column is needed

    def kept(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return values if every else values[known]

    ages = kept(_seconds_since(observations["observed_at"], now))
    return Observed(
        pos=kept(pos),
        comp=kept(comp),
        price=kept(observations["price"].to_numpy(dtype=np.int64)),
        in_stock=kept(observations["in_stock"].to_numpy(dtype=bool)),
        age=np.maximum(ages, -1),
    )


def decide(
    products: pd.DataFrame,
    observations: pd.DataFrame,
    rules: list[Rule],
    *,
    now: datetime,
    currency: str,
) -> pd.DataFrame:
    """One decision row per product (columns :data:`DECISION_COLUMNS`, money as Int64),
    every row explained: :func:`evaluate` then
    :func:`repricer.pricing.decisions.decision_frame`."""
    return decision_frame(evaluate(products, observations, rules, now=now, currency=currency))


def evaluate(
    products: pd.DataFrame,
    observations: pd.DataFrame,
    rules: list[Rule],
    *,
    now: datetime,
    currency: str,
) -> Decisions:
    """One decision per product row, as typed columns (no text is built)."""
    products = products.reset_index(drop=True)
    competitors = sorted(set(observations["competitor"].unique()) | _rule_competitors(rules))
    table = rule_table(rules, competitors, minor_digits(currency))
    rule_idx = assign_rules(products, rules)
    own = _own_columns(products, currency)
    own_prices = {"min_price": own.min_price, "map_price": own.map_price}
    params = RuleParams(table, rule_idx, {**own_prices, "max_price": own.max_price})
    observed = observed_columns(observations, products, competitors, now)
    market = summarise_market(observed, rule_idx, table)
    since_change = _seconds_since(products["last_change_at"], now)
    has_rule = (rule_idx >= 0) & own.in_currency
    floor, basis, ceiling = floor_and_ceiling(own.cost, own.has_cost, params)
    method, reason = choose_methods(
        params["strategy"], market, own.has_cost, own.we_out, has_rule, params
    )
    reason = np.where(own.in_currency, reason, int(Reason.CURRENCY))
    t = compute_targets(method, reason, market, own.cost, own.old, own.has_old, ceiling, params)
    inverted = (t.method != SKIP) & (floor > ceiling)
    g = apply_guards(t.target, own.old, own.has_old, floor, ceiling, since_change, params)
    priced = (t.method != SKIP) & ~inverted
    masked = {f.name: getattr(g, f.name) & priced for f in dataclasses.fields(g)}
    masked.update(price=g.price, raw=g.raw)
    new = np.where(priced, g.price, own.old)
    has_new = np.where(priced, True, own.has_old)
    unchanged = has_new & own.has_old & (new == own.old)
    status = np.select(
        [~priced, unchanged, masked["exceeds_max_change"]],
        [int(Status.SKIPPED), int(Status.UNCHANGED), int(Status.NEEDS_APPROVAL)],
        int(Status.PROPOSED),
    ).astype(np.int64)
    return Decisions(
        product_id=products["product_id"].to_numpy(dtype=np.int64),
        sku=products["sku"].to_numpy(dtype=object),
        currency=products["currency"].to_numpy(dtype=object),
        rule=rule_idx, strategy=np.where(rule_idx >= 0, params["strategy"], -1),
        status=status, old=own.old, has_old=own.has_old, new=new, has_new=has_new,
        cost=own.cost, has_cost=own.has_cost, floor=floor, floor_basis=basis,
        ceiling=ceiling, inverted=inverted, priced=priced,
        breaker=np.zeros(len(products), dtype=bool), targets=t, market=market,
        guards=dataclasses.replace(g, **masked),
        context=Context(list(rules), competitors, currency),
    )  # fmt: skip


@dataclasses.dataclass(frozen=True)
class _Own:
    """A product's own values as int64/bool columns (minor units; 0 where unknown,
    ``max_price`` NO_CEILING where unknown)."""

    old: I64
    has_old: Bools
    cost: I64
    has_cost: Bools
    min_price: I64
    map_price: I64
    max_price: I64
    we_out: Bools
    in_currency: Bools


def _own_columns(products: pd.DataFrame, currency: str) -> _Own:
    old, has_old = _ints(products, "price", 0)
    cost, has_cost = _ints(products, "cost", 0)
    stock, has_stock = _ints(products, "stock", 0)
    supplier = products["supplier_available"].astype("boolean").array
    supplier_out = ~np.asarray(supplier.fillna(True), dtype=bool)
    return _Own(
        old=old,
        has_old=has_old,
        cost=cost,
        has_cost=has_cost,
        min_price=_ints(products, "min_price", 0)[0],
        map_price=_ints(products, "map_price", 0)[0],
        max_price=_ints(products, "max_price", int(NO_CEILING))[0],
        we_out=np.where(has_stock, stock <= 0, supplier_out),
        in_currency=(products["currency"] == currency).to_numpy(dtype=bool),
    )


def _rule_competitors(rules: list[Rule]) -> set[str]:
    names: set[str] = set()
    for rule in rules:
        names.update(rule.competitors or [])
        names.update([rule.competitor] if rule.competitor else [])
    return names
