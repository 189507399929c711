"""The engine core: products + observations + rules -> one decision per product.

Pure and in memory (no database): :func:`decide` is what :func:`repricer.pricing.reprice`
runs between loading inputs and storing the run, and what the benchmark times. Every step
is column arithmetic over int64 minor units; codes are int8 columns
(:mod:`repricer.pricing.codes`), product rows int32. Rule parameters come as a
:class:`~repricer.pricing.params.RuleParams` (one value where all rules in use share it),
the market as a :class:`~repricer.pricing.market.Market`, the result as
:class:`~repricer.pricing.decisions.Decisions`. Intermediate columns are dropped as soon
as the next step has what it needs.

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
from repricer.pricing.codes import CODE, Reason, Status
from repricer.pricing.decisions import DECISION_COLUMNS, Context, Decisions, decision_frame
from repricer.pricing.guards import NO_CEILING, Guarded, apply_guards, floor_and_ceiling
from repricer.pricing.market import Observed, summarise_market
from repricer.pricing.params import assign_rules, object_ids, rule_params, rule_table
from repricer.pricing.rules import Rule
from repricer.pricing.strategies import SKIP, choose_methods, compute_targets

I64 = npt.NDArray[Any]  # int64 columns
I32 = npt.NDArray[Any]  # int32 columns
Bools = npt.NDArray[Any]  # bool columns

__all__ = ["DECISION_COLUMNS", "decide", "evaluate"]
_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}


def _ints(frame: pd.DataFrame, column: str, fill: int) -> tuple[I64, Bools]:
    """An integer column as int64 (``fill`` where missing) and its presence mask."""
    values = frame[column].array
    if not isinstance(values, pd.arrays.IntegerArray):
        values = frame[column].astype("Int64").array
    present = ~np.asarray(values.isna(), dtype=bool)
    return values.to_numpy(dtype=np.int64, na_value=fill), present


def _ticks(moments: pd.Series) -> tuple[I64, int]:
    """UTC moments as int64 ticks since the epoch (NaT: the int64 minimum), and the
    ticks in a second; a view of the column when it already holds UTC datetimes."""
    if not isinstance(moments.dtype, pd.DatetimeTZDtype):
        moments = pd.to_datetime(moments, utc=True)
    raw = np.asarray(moments.array.tz_convert(None))  # a view: same ticks, no zone
    return raw.view(np.int64), _PER_SECOND[np.datetime_data(raw.dtype)[0]]


def _now_ticks(now: datetime, per_second: int) -> int:
    return int(pd.Timestamp(now).value // (10**9 // per_second))  # .value is in ns


def _seconds_since(moments: pd.Series, now: datetime) -> I64:
    """Whole seconds from each moment to ``now`` (floored); -1 where unknown."""
    ticks, per_second = _ticks(moments)
    seconds: I64 = np.subtract(_now_ticks(now, per_second), ticks)
    np.floor_divide(seconds, per_second, out=seconds)  # in place: one column allocated
    seconds[ticks == np.iinfo(np.int64).min] = -1
    return seconds


def _positions(products: pd.DataFrame, product_ids: pd.Series) -> I32:
    """Row of each product id in ``products`` (-1 if absent), int32: the offset from the
    first id when ids are consecutive, else a direct lookup table when they are unique
    and dense, a binary search when they are sorted (as they come from the database),
    a hash lookup otherwise."""
    ids = products["product_id"].to_numpy(dtype=np.int64)
    wanted = product_ids.to_numpy(dtype=np.int64)
    if len(ids) == 0:
        return np.full(len(wanted), -1, dtype=np.int32)
    if np.any(ids[1:] <= ids[:-1]):
        found: I32 = pd.Index(ids).get_indexer(wanted).astype(np.int32)
        return found
    low, high = int(ids[0]), int(ids[-1])
    if high - low + 1 == len(ids):  # consecutive
        pos: I32 = np.empty(len(wanted), np.int32)
        np.subtract(wanted, low, out=pos, casting="unsafe")  # no int64 column in between
        if len(wanted) and (int(wanted.min()) < low or int(wanted.max()) > high):
            pos[(wanted < low) | (wanted > high)] = -1
        return pos
    span = high - low + 1
    if span <= 4 * len(ids) + 1024:
        table = np.full(span + 1, -1, dtype=np.int32)  # the last entry: out of range
        table[ids - low] = np.arange(len(ids), dtype=np.int32)
        inside = (wanted >= low) & (wanted <= high)
        return table[np.where(inside, wanted - low, span)]
    pos = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
    return np.where(ids[pos] == wanted, pos, -1).astype(np.int32)


def _competitor_codes(names: pd.Series, competitors: list[str]) -> npt.NDArray[Any]:
    """Index of each name in ``competitors`` (-1 if absent), one lookup per distinct name;
    int16 (int32 for more than 32,767 competitors)."""
    if isinstance(names.dtype, pd.CategoricalDtype):
        codes, uniques = names.cat.codes.to_numpy(), names.cat.categories
    else:
        codes, uniques = pd.factorize(names)
    index = {name: i for i, name in enumerate(competitors)}
    dtype = np.int16 if len(competitors) < 2**15 else np.int32
    lookup = np.array([index.get(u, -1) for u in uniques] + [-1], dtype=dtype)
    found: npt.NDArray[Any] = lookup[codes]
    return found


def observed_columns(
    observations: pd.DataFrame, products: pd.DataFrame, competitors: list[str], now: datetime
) -> Observed:
    """Observation frame -> columns keyed by product row and competitor index (the
    columns of the frame itself where their dtype allows: no copy)."""
    pos = _positions(products, observations["product_id"])
    comp = _competitor_codes(observations["competitor"], competitors)
    known = (pos >= 0) & (comp >= 0)
    every = bool(known.all())  # then no copy of every column is needed

    def kept(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return values if every else values[known]

    ticks, per_second = _ticks(observations["observed_at"])
    return Observed(
        pos=kept(pos),
        comp=kept(comp),
        price=kept(observations["price"].to_numpy(dtype=np.int64)),
        in_stock=kept(observations["in_stock"].to_numpy(dtype=bool)),
        ticks=kept(ticks),
        now=_now_ticks(now, per_second),
        per_second=per_second,
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
    competitors = sorted(_names(observations["competitor"]) | _rule_competitors(rules))
    table = rule_table(rules, competitors, minor_digits(currency))
    rule_idx = assign_rules(products, rules)
    own = _own_columns(products, currency)
    params = rule_params(
        table, rule_idx, min_price=own.min_price, map_price=own.map_price, max_price=own.max_price
    )
    observed = observed_columns(observations, products, competitors, now)
    market = summarise_market(observed, rule_idx, table)
    del observed
    has_rule = (rule_idx >= 0) & own.in_currency
    floor, basis, ceiling = floor_and_ceiling(own.cost, own.has_cost, params)
    method, reason = choose_methods(market, own.has_cost, own.we_out, has_rule, params)
    reason[~own.in_currency] = Reason.CURRENCY
    t = compute_targets(method, reason, market, own.cost, own.old, own.has_old, ceiling, params)
    del method, reason
    inverted = (t.method != SKIP) & (floor > ceiling)
    since_change = _seconds_since(products["last_change_at"], now)
    g = apply_guards(t.target, own.old, own.has_old, floor, ceiling, since_change, params)
    del since_change
    priced = (t.method != SKIP) & ~inverted
    return Decisions(
        product_id=products["product_id"].to_numpy(dtype=np.int64),
        sku=products["sku"].to_numpy(dtype=object),
        currency=products["currency"].to_numpy(dtype=object),
        rule=rule_idx.astype(np.int32),
        strategy=np.where(rule_idx >= 0, params.strategy, -1).astype(CODE),
        status=_statuses(priced, g, own), old=own.old, has_old=own.has_old,
        new=np.where(priced, g.price, own.old), has_new=priced | own.has_old,
        cost=own.cost, has_cost=own.has_cost, floor=floor, floor_basis=basis,
        ceiling=ceiling, inverted=inverted, priced=priced,
        breaker=np.zeros(len(products), dtype=bool), targets=t, market=market,
        guards=_masked(g, priced), context=Context(list(rules), competitors, currency),
    )  # fmt: skip


def _statuses(priced: Bools, g: Guarded, own: _Own) -> npt.NDArray[Any]:
    """Skipped where not priced; unchanged where the guarded price is the old one;
    needs approval where it exceeds the max change; proposed otherwise."""
    status = np.full(len(priced), Status.PROPOSED, dtype=CODE)
    status[g.exceeds_max_change] = Status.NEEDS_APPROVAL
    status[own.has_old & (g.price == own.old)] = Status.UNCHANGED
    status[~priced] = Status.SKIPPED
    return status


def _masked(g: Guarded, priced: Bools) -> Guarded:
    """The guard flags of priced rows only (the prices as they are)."""
    flags = {
        f.name: getattr(g, f.name) & priced
        for f in dataclasses.fields(g)
        if f.name not in ("price", "raw")
    }
    return dataclasses.replace(g, **flags)


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
    we_out = ~supplier.to_numpy(dtype=bool, na_value=True)  # unknown: available
    we_out[has_stock] = stock[has_stock] <= 0  # our own stock, where known, decides
    return _Own(
        old=old,
        has_old=has_old,
        cost=cost,
        has_cost=has_cost,
        min_price=_ints(products, "min_price", 0)[0],
        map_price=_ints(products, "map_price", 0)[0],
        max_price=_ints(products, "max_price", int(NO_CEILING))[0],
        we_out=we_out,
        in_currency=_equals(products["currency"], currency),
    )


def _equals(texts: pd.Series, value: str) -> Bools:
    """``texts == value`` as a bool column (by category when the column has them)."""
    if isinstance(texts.dtype, pd.CategoricalDtype):
        hits = np.append(texts.cat.categories == value, False)
        found: Bools = hits[texts.cat.codes.to_numpy()]
        return found
    objects = np.ascontiguousarray(texts.to_numpy(dtype=object))
    ids = object_ids(objects)
    if len(ids) and bool((ids == ids[0]).all()):  # one shared object: compare it once
        return np.full(len(ids), objects[0] == value, dtype=bool)
    equal: Bools = np.asarray(objects == value, dtype=bool)
    return equal


def _names(names: pd.Series) -> set[str]:
    """The competitor names a column may hold (a categorical's categories: no pass
    over the rows)."""
    if isinstance(names.dtype, pd.CategoricalDtype):
        return set(names.cat.categories)
    return set(names.unique())


def _rule_competitors(rules: list[Rule]) -> set[str]:
    names: set[str] = set()
    for rule in rules:
        names.update(rule.competitors or [])
        names.update([rule.competitor] if rule.competitor else [])
    return names
