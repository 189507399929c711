"""A plain per-product reference implementation of the pricing engine.

Written for clarity, one product at a time with Python ints, from the documented
semantics (rules reference, guard order). The property tests check that the vectorised
engine gives the same decisions; the benchmark times it as the baseline.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from repricer.money import format_money, minor_digits
from repricer.pricing.rule_values import DEN, rounding_step, to_minor_units
from repricer.pricing.rules import Rule

BIG = 2**62


@dataclass
class Decision:
    new_price: int | None
    floor: int | None
    ceiling: int | None
    reference_price: int | None
    reference_competitor: str | None
    rule: str | None
    method: str
    status: str
    guards: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


def _share(amount: int, share: int) -> int:
    return (2 * amount * share + DEN) // (2 * DEN)


def _matches(rule: Rule, product: dict[str, Any]) -> bool:
    def fits(value: Any, patterns: list[str] | None) -> bool:
        if patterns is None:
            return True
        return value is not None and any(
            fnmatch.fnmatch(str(value).lower(), p.lower()) for p in patterns
        )

    m = rule.match
    tags = product.get("tags") or []
    return (
        fits(product.get("sku"), m.sku)
        and fits(product.get("category"), m.category)
        and fits(product.get("brand"), m.brand)
        and (m.tag is None or any(fits(t, m.tag) for t in tags))
    )


def _round(price: int, mod: int, rem: int, low: int, high: int) -> tuple[int, bool]:
    def down(x: int) -> int:
        return x - (x - rem) % mod

    def up(x: int) -> int:
        return x + (rem - x) % mod

    d, u = down(price), up(price)
    r = d if price - d < u - price else u
    if r < low:
        r = up(low)
    if r > high:
        r = down(high)
    if r < low or r > high:
        return price, True
    return r, False


def decide_one(
    product: dict[str, Any],
    observations: list[dict[str, Any]],
    rules: list[Rule],
    now: datetime,
    currency: str,
) -> Decision:
    """The decision for one product (``observations`` are that product's)."""
    digits = minor_digits(currency)
    rule = next((r for r in rules if _matches(r, product)), None)
    old = product.get("price")
    if rule is None or product.get("currency") != currency:
        flag = "no_rule" if product.get("currency") == currency else "currency"
        return Decision(
            old,
            None,
            None,
            None,
            None,
            rule.name if rule else None,
            "skip",
            "skipped",
            flags=[flag],
        )
    cost = product.get("cost")
    fee = to_minor_units(rule.fixed_fee, digits)
    floor = 0
    if cost is not None:
        floor = cost - ((-cost * rule.min_margin) // DEN) + fee
    floor = max(floor, product.get("min_price") or 0, product.get("map_price") or 0)
    ceiling = BIG if product.get("max_price") is None else product["max_price"]
    if cost is not None and rule.max_markup is not None:
        ceiling = min(ceiling, cost + cost * rule.max_markup // DEN)
    if rule.ceiling is not None:
        ceiling = min(ceiling, to_minor_units(rule.ceiling, digits))

    allowed = [rule.competitor] if rule.strategy == "follow" else rule.competitors
    usable = []
    for o in observations:
        age = int((now - o["observed_at"]).total_seconds())
        if 0 <= age <= rule.stale_after and (allowed is None or o["competitor"] in allowed):
            usable.append((o["price"], o["competitor"], age, o["in_stock"]))
    counted = sorted((p, c, a) for p, c, a, s in usable if s or rule.include_out_of_stock)
    flags: list[str] = []
    method = rule.strategy
    competitive = method not in ("cost_plus", "keep")
    if competitive and not usable:
        method, flags = rule.no_competitors, ["no_competitors"]
    elif competitive and not counted:
        method, flags = rule.all_out_of_stock, ["all_out_of_stock"]
    if cost is None:
        method, flags = "keep", ["no_cost"]
    stock, available = product.get("stock"), product.get("supplier_available")
    we_out = stock <= 0 if stock is not None else available is False
    if we_out:
        method, flags = ("skip" if rule.we_out_of_stock == "skip" else "keep"), ["we_out_of_stock"]
    if method == "ceiling" and ceiling >= BIG:
        method, flags = "keep", ["no_ceiling"]
    if method == "keep" and old is None:
        method, flags = "skip", ["no_price"]
    ref = None
    if method == "skip":
        return Decision(
            old, _opt(floor), _opt_c(ceiling), None, None, rule.name, "skip", "skipped", flags=flags
        )

    beat = (rule.beat_by.share, to_minor_units(rule.beat_by.amount, digits))
    if method in ("beat_lowest", "match_lowest", "follow"):
        ref = counted[0]
    elif method == "position":
        ref = counted[min(rule.rank, len(counted)) - 1]
    if method == "beat_lowest" or method == "position":
        target = ref[0] - _share(ref[0], beat[0]) - beat[1]
    elif method == "match_lowest":
        target = ref[0]
    elif method == "follow":
        target = (
            ref[0] + _share(ref[0], rule.adjust.share) + to_minor_units(rule.adjust.amount, digits)
        )
    elif method == "match_median":
        prices = [p for p, _, _ in counted]
        n = len(prices)
        target = (prices[(n - 1) // 2] + prices[n // 2] + 1) // 2
    elif method == "match_average":
        prices = [p for p, _, _ in counted]
        target = (2 * sum(prices) + len(prices)) // (2 * len(prices))
    elif method == "cost_plus":
        markup = rule.min_margin if rule.markup is None else rule.markup
        target = cost + _share(cost, markup) + fee
    elif method == "ceiling":
        target = ceiling
    else:
        target = old
    if rule.raise_back is not None and counted:
        low = counted[0][0]
        if target * DEN < low * (DEN - rule.raise_back):
            target = low - 1
            flags.append("raise_back")

    if floor > ceiling:
        return Decision(
            old,
            _opt(floor),
            _opt_c(ceiling),
            _ref(ref, 0),
            _ref(ref, 1),
            rule.name,
            method,
            "skipped",
            flags=[*flags, "floor_above_ceiling"],
        )
    return _guard(rule, product, old, target, floor, ceiling, ref, method, flags, now, digits)


def _guard(
    rule: Rule,
    product: dict[str, Any],
    old: int | None,
    target: int,
    floor: int,
    ceiling: int,
    ref: Any,
    method: str,
    flags: list[str],
    now: datetime,
    digits: int,
) -> Decision:
    guards: list[str] = []
    low = max(floor, 1)
    price = min(max(target, low), ceiling)
    if target < low:
        guards.append("floor")
    if target > ceiling:
        guards.append("ceiling")
    exceeds = False
    win_low, win_high = low, ceiling
    if old is not None and rule.max_change is not None:
        delta = old * rule.max_change // DEN
        if rule.max_change_action == "clamp":
            banded = max(min(max(min(price, old + delta), old - delta), ceiling), low)
            if banded != price:
                guards.append("max_change")
            price = banded
        exceeds = abs(price - old) > delta
        if not exceeds:
            win_low, win_high = max(low, old - delta), min(ceiling, old + delta)
    mod, rem = rounding_step(rule.rounding, digits)
    rounded, no_fit = _round(price, mod, rem, win_low, win_high)
    if old is not None and price == old:
        rounded, no_fit = old, False
    keep = False
    if old is not None and low <= old <= ceiling and rounded != old:
        threshold = 0
        if rule.min_delta is not None:
            threshold = _share(old, abs(rule.min_delta.share)) + abs(
                to_minor_units(rule.min_delta.amount, digits)
            )
        if abs(rounded - old) < threshold:
            guards.append("min_delta")
            keep = True
        elif rule.cooldown is not None and product.get("last_change_at") is not None:
            since = int((now - product["last_change_at"]).total_seconds())
            if 0 <= since < rule.cooldown:
                guards.append("cooldown")
                keep = True
    if not keep and rounded != price:
        guards.insert(
            len([g for g in guards if g in ("floor", "ceiling", "max_change")]), "rounding"
        )
    new = old if keep else rounded
    if exceeds and not keep:
        flags = [*flags, "max_change"]
    if no_fit and mod > 1:
        flags = [*flags, "no_ending"]
    status = (
        "unchanged" if new == old else ("needs_approval" if exceeds and not keep else "proposed")
    )
    return Decision(
        new,
        _opt(floor),
        _opt_c(ceiling),
        _ref(ref, 0),
        _ref(ref, 1),
        rule.name,
        method,
        status,
        guards,
        flags,
    )


def _opt(floor: int) -> int | None:
    return floor if floor > 0 else None


def _opt_c(ceiling: int) -> int | None:
    return ceiling if ceiling < BIG else None


def _ref(ref: Any, i: int) -> Any:
    return None if ref is None else ref[i]


def explain_one(decision: Decision, product: dict[str, Any], currency: str) -> str:
    """A per-row explanation of similar length to the engine's (for the benchmark)."""
    ref = ""
    if decision.reference_price is not None:
        ref = f"competitor {decision.reference_competitor} {format_money(decision.reference_price, currency)}; "
    floor = (
        "no floor" if decision.floor is None else f"floor {format_money(decision.floor, currency)}"
    )
    cost = product.get("cost")
    basis = f" (cost {format_money(cost, currency)})" if cost is not None else ""
    guards = "".join(f" → {g}" for g in decision.guards)
    return f"{decision.method}: {ref}{format_money(decision.new_price, currency)}{guards}; {floor}{basis}"
