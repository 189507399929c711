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
from repricer.pricing.market import Market, Observed, summarise_market
from repricer.pricing.params import assign_rules, rule_table
from repricer.pricing.rules import STRATEGIES, Rule
from repricer.pricing.strategies import METHODS, REASONS, SKIP, choose_methods, compute_targets

I64 = npt.NDArray[Any]  # int64 columns
Bools = npt.NDArray[Any]  # bool columns

DECISION_COLUMNS = [
    "product_id", "sku", "currency", "old_price", "new_price", "cost", "floor", "ceiling",
    "reference_price", "reference_competitor", "rule", "strategy", "method", "guards",
    "flags", "status", "explanation",
]  # fmt: skip
"""``strategy`` is the rule's; ``method`` what priced the product after the behaviours
(a strategy name, ``ceiling`` or ``skip``). ``guards`` and ``flags`` are comma-joined."""
GUARD_COLUMNS = (
    "by_floor", "by_ceiling", "by_max_change", "exceeds_max_change", "by_rounding",
    "no_ending", "by_min_delta", "by_cooldown",
)  # fmt: skip
_BLOCK = 100_000  # rows per explanation block: bounds the memory of intermediate texts
GUARD_NAMES = ("floor", "ceiling", "max_change", "rounding", "min_delta", "cooldown")


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
    """One decision row per product (columns :data:`DECISION_COLUMNS`, money as Int64)."""
    products = products.reset_index(drop=True)
    competitors = sorted(set(observations["competitor"].unique()) | _rule_competitors(rules))
    table = rule_table(rules, competitors, minor_digits(currency))
    rule_idx = assign_rules(products, rules)
    c = _product_columns(products, table.columns, rule_idx, currency)
    observed = observed_columns(observations, products, competitors, now)
    market = summarise_market(observed, rule_idx, table)
    _decide_prices(c, market, _seconds_since(products["last_change_at"], now))
    c["low_name"] = np.array([*competitors, ""], dtype=object)[market.low_comp]
    words = rule_texts(rules, currency)
    texts = np.concatenate(  # in row blocks: the text pieces of one block are freed before the next
        [
            explain({k: v[at : at + _BLOCK] for k, v in c.items()}, words, competitors, currency)
            for at in range(0, max(len(products), 1), _BLOCK)
        ]
    )
    return _frame(products, c, rules, competitors, texts)


def _product_columns(
    products: pd.DataFrame, params: dict[str, I64], rule_idx: I64, currency: str
) -> dict[str, npt.NDArray[Any]]:
    """Each product's rule parameters and its own values as int64/bool columns."""
    c: dict[str, npt.NDArray[Any]] = {k: v[rule_idx] for k, v in params.items()}
    c["rule_idx"] = rule_idx
    c["old"], c["has_old"] = _ints(products, "price", 0)
    c["cost"], c["has_cost"] = _ints(products, "cost", 0)
    c["min_price"] = _ints(products, "min_price", 0)[0]
    c["map_price"] = _ints(products, "map_price", 0)[0]
    c["max_price"] = _ints(products, "max_price", int(NO_CEILING))[0]
    stock, has_stock = _ints(products, "stock", 0)
    supplier = products["supplier_available"].astype("boolean").array
    supplier_out = ~np.asarray(supplier.fillna(True), dtype=bool)
    c["we_out"] = np.where(has_stock, stock <= 0, supplier_out)
    c["in_currency"] = (products["currency"] == currency).to_numpy(dtype=bool)
    return c


def _decide_prices(c: dict[str, npt.NDArray[Any]], market: Market, since_change: I64) -> None:
    """Behaviours, strategy, guards and status, added to ``c``."""
    old, has_old, cost = c["old"], c["has_old"], c["cost"]
    floor, basis, ceiling = floor_and_ceiling(cost, c["has_cost"], c)
    has_rule = (c["rule_idx"] >= 0) & c["in_currency"]
    method, reason = choose_methods(c["strategy"], market, c["has_cost"], c["we_out"], has_rule, c)
    reason = np.where(c["in_currency"], reason, REASONS.index("currency"))
    t = compute_targets(method, reason, market, cost, old, has_old, ceiling, c)
    inverted = (t.method != SKIP) & (floor > ceiling)
    g = apply_guards(t.target, old, has_old, floor, ceiling, since_change, c)
    priced = (t.method != SKIP) & ~inverted
    c.update(
        method=t.method, reason=t.reason, ref_price=t.ref_price, ref_comp=t.ref_comp,
        ref_age=t.ref_age, base=t.base, target=t.target, raised_back=t.raised_back,
        low_price=market.low_price, n_in=market.n_in, floor=floor, floor_basis=basis,
        ceiling=ceiling, inverted=inverted, raw=g.raw, guarded=priced,
        new=np.where(priced, g.price, old), has_new=np.where(priced, True, has_old),
    )  # fmt: skip
    for name in GUARD_COLUMNS:
        c[name] = getattr(g, name) & priced
    unchanged = c["has_new"] & has_old & (c["new"] == old)
    status = np.select([~priced, unchanged, c["exceeds_max_change"]], [0, 1, 2], 3)
    c["status"] = np.array(["skipped", "unchanged", "needs_approval", "proposed"], dtype=object)[
        status
    ]


def _rule_competitors(rules: list[Rule]) -> set[str]:
    names: set[str] = set()
    for rule in rules:
        names.update(rule.competitors or [])
        names.update([rule.competitor] if rule.competitor else [])
    return names


def _joined(columns: list[tuple[str, Bools]], n: int) -> npt.NDArray[Any]:
    """Comma-joined names of the true columns per row, via one code per combination."""
    code = np.zeros(n, dtype=np.int64)
    for bit, (_, mask) in enumerate(columns):
        code |= mask.astype(np.int64) << bit
    combos = np.flatnonzero(np.bincount(code, minlength=1))  # the combinations present
    lookup = np.zeros(1 << len(columns), dtype=np.int64)
    lookup[combos] = np.arange(len(combos))
    inverse = lookup[code]
    texts = [
        ",".join(name for bit, (name, _) in enumerate(columns) if combo >> bit & 1)
        for combo in combos
    ]
    return np.array(texts, dtype=object)[inverse]


def _flags(c: dict[str, npt.NDArray[Any]]) -> npt.NDArray[Any]:
    columns = [(name, c["reason"] == i) for i, name in enumerate(REASONS) if name]
    columns += [
        ("floor_above_ceiling", c["inverted"]),
        ("raise_back", c["raised_back"]),
        ("max_change", c["exceeds_max_change"]),
        ("no_ending", c["no_ending"]),
    ]
    return _joined(columns, len(c["reason"]))


def _frame(
    products: pd.DataFrame,
    c: dict[str, npt.NDArray[Any]],
    rules: list[Rule],
    competitors: list[str],
    texts: npt.NDArray[Any],
) -> pd.DataFrame:
    def money(values: npt.NDArray[Any], present: Bools) -> pd.arrays.IntegerArray:
        return pd.arrays.IntegerArray(values.astype(np.int64), ~present)

    floor, ceiling, reason = c["floor"], c["ceiling"], c["reason"]
    ruled = (reason != REASONS.index("no_rule")) & (reason != REASONS.index("currency"))
    rule_names = np.array([r.name for r in rules] + [None], dtype=object)
    strategy = np.where(c["rule_idx"] >= 0, c["strategy"], -1)
    return pd.DataFrame(
        {
            "product_id": products["product_id"].to_numpy(dtype=np.int64),
            "sku": products["sku"].to_numpy(dtype=object),
            "currency": products["currency"].to_numpy(dtype=object),
            "old_price": money(c["old"], c["has_old"]),
            "new_price": money(c["new"], c["has_new"]),
            "cost": money(c["cost"], c["has_cost"]),
            "floor": money(floor, ruled & (floor > 0)),
            "ceiling": money(ceiling, ruled & (ceiling < NO_CEILING)),
            "reference_price": money(c["ref_price"], c["ref_comp"] >= 0),
            "reference_competitor": np.array([*competitors, None], dtype=object)[c["ref_comp"]],
            "rule": rule_names[c["rule_idx"]],
            "strategy": np.array([*STRATEGIES, None], dtype=object)[strategy],
            "method": np.array(METHODS, dtype=object)[c["method"]],
            "guards": _joined([(n, c[f"by_{n}"]) for n in GUARD_NAMES], len(floor)),
            "flags": _flags(c),
            "status": c["status"],
            "explanation": texts,
        }
    )
