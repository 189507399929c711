"""One-line explanations, built from the decision columns (no loop per product).

A line reads: what the target came from, raise-back, each guard that moved the price,
then the floor and what it came from, e.g.
``cheapest in-stock competitor citilink 1 349 ₽ (2 h ago) − 1% = 1 335,51 ₽ → ending 9:
1 339 ₽; floor 1 210 ₽ (cost 1 080 ₽ + 12%) ok``. Pieces are appended to the rows a
condition selects, and only those rows' numbers are formatted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from repricer.money import format_money, minor_digits
from repricer.pricing._format import age_text, money_text, share_text
from repricer.pricing._values import Adjust, to_minor_units
from repricer.pricing.rules import Rule
from repricer.pricing.strategies import METHODS

I64 = npt.NDArray[Any]  # int64 columns
Texts = npt.NDArray[Any]  # object (str) columns
Part = str | Texts | Callable[[I64], Texts]

PREFIX = {
    1: "no competitor data: ",
    2: "all competitors out of stock: ",
    3: "no cost known: ",
    4: "we are out of stock: ",
    5: "no rule matches: ",
    6: "no current price: ",
    7: "no ceiling known: ",
    8: "not in the pricing currency: ",
}
ROUNDING = {
    "whole": "whole",
    "ends_in_9": "ending 9",
    "ends_in_90": "ending ,90",
    "ends_in_99": "ending ,99",
}


class _Lines:
    def __init__(self, n: int) -> None:
        self.text: Texts = np.full(n, "", dtype=object)

    def add(self, mask: npt.NDArray[Any], *parts: Part) -> None:
        idx = np.flatnonzero(mask)
        if len(idx) == 0:
            return
        piece = self.text[idx]
        for part in parts:
            if callable(part):
                piece = piece + part(idx)
            elif isinstance(part, np.ndarray):
                piece = piece + part[idx]
            else:
                piece = piece + part
        self.text[idx] = piece


def rule_texts(rules: list[Rule], currency: str) -> dict[str, Texts]:
    """Per-rule phrases (last entry: no rule), indexed by the rule column; constant
    words are merged into them so each row needs few concatenations."""
    digits = minor_digits(currency)

    def amount(value: Adjust, signed: bool) -> str:
        if value.share or not value.amount:
            return share_text(value.share, signed=signed)
        minor = to_minor_units(value.amount, digits)
        text = format_money(abs(minor), currency)
        return (("−" if minor < 0 else "+") + text) if signed else text

    words: dict[str, list[object]] = {}

    def put(key: str, value: object) -> None:
        words.setdefault(key, []).append(value)

    for rule in [*rules, Rule(name="-", strategy="keep")]:
        fee = (
            " + fee " + format_money(to_minor_units(rule.fixed_fee, digits), currency)
            if rule.fixed_fee
            else ""
        )
        stock = (
            "cheapest competitor " if rule.include_out_of_stock else "cheapest in-stock competitor "
        )
        rounding = ROUNDING.get(rule.rounding, rule.rounding.replace("_", " "))
        change = share_text(rule.max_change or 0)
        put("cheapest", stock)
        put("beat", f" − {amount(rule.beat_by, False)} = ")
        put("rank", f"rank {rule.rank}: competitor ")
        put("adjust", f" {amount(rule.adjust, True)} = ")
        put("has_adjust", bool(rule.adjust.share or rule.adjust.amount))
        put(
            "markup",
            f" + {share_text(rule.min_margin if rule.markup is None else rule.markup)}{fee} = ",
        )
        put("change", f" → max change {change}: ")
        put("over", f" (over max change {change}: needs approval)")
        put("rounding", f" → {rounding}: ")
        put("no_ending", f" (no {rounding} price in range)")
        put("margin_ok", f" + {share_text(rule.min_margin)}{fee}) ok")
        put("margin_applied", f" + {share_text(rule.min_margin)}{fee}) applied")
    return {k: np.array(v, dtype=bool if k == "has_adjust" else object) for k, v in words.items()}


Columns = Mapping[str, npt.NDArray[Any]]


def explain(c: Columns, words: dict[str, Texts], competitors: list[str], currency: str) -> Texts:
    """Build the explanation column from the engine's decision columns ``c``."""
    lines = _Lines(len(c["method"]))
    rule = c["rule_idx"]

    def money(column: str) -> Callable[[I64], Texts]:
        return lambda idx: money_text(c[column][idx], currency)

    def word(key: str) -> Callable[[I64], Texts]:
        return lambda idx: words[key][rule[idx]]

    names = np.array([f"{name} " for name in competitors] + [""], dtype=object)
    ref = (
        lambda idx: names[c["ref_comp"][idx]],
        money("ref_price"),
        lambda idx: age_text(c["ref_age"][idx]),
    )
    method, reason = c["method"], c["reason"]
    for code, prefix in PREFIX.items():
        lines.add(reason == code, prefix)
    m = {name: method == i for i, name in enumerate(METHODS)}
    has_adjust = words["has_adjust"][rule]
    lines.add(m["beat_lowest"], word("cheapest"), *ref, word("beat"), money("base"))
    lines.add(m["match_lowest"], word("cheapest"), *ref)
    counts = lambda idx: c["n_in"][idx].astype(str).astype(object)  # noqa: E731
    lines.add(m["match_median"], "median of ", counts, " competitors: ", money("base"))
    lines.add(m["match_average"], "average of ", counts, " competitors: ", money("base"))
    lines.add(m["position"], word("rank"), *ref, word("beat"), money("base"))
    lines.add(m["follow"], "competitor ", *ref)
    lines.add(m["follow"] & has_adjust, word("adjust"), money("base"))
    lines.add(m["cost_plus"], "cost ", money("cost"), word("markup"), money("base"))
    lines.add(m["keep"], "keep ", money("old"))
    lines.add(m["ceiling"], "ceiling ", money("ceiling"))
    lines.add(m["skip"], "skipped")
    lines.add(
        c["inverted"],
        "; floor ",
        money("floor"),
        " above ceiling ",
        money("ceiling"),
        ": no change",
    )
    _add_guards(lines, c, money, word)
    return lines.text


def _add_guards(
    lines: _Lines,
    c: Columns,
    money: Callable[[str], Callable[[I64], Texts]],
    word: Callable[[str], Callable[[I64], Texts]],
) -> None:
    lines.add(
        c["raised_back"],
        "; raised back under ",
        c["low_name"],
        " ",
        money("low_price"),
        ": ",
        money("target"),
    )
    lines.add(c["by_floor"], " → floor ", money("floor"))
    lines.add(c["by_ceiling"], " → ceiling ", money("ceiling"))
    lines.add(c["by_max_change"], word("change"), money("raw"))
    lines.add(c["exceeds_max_change"], word("over"))
    lines.add(c["by_rounding"], word("rounding"), money("new"))
    lines.add(c["no_ending"], word("no_ending"))
    lines.add(c["by_min_delta"], "; change under min delta: keep ", money("old"))
    lines.add(c["by_cooldown"], "; cooldown: keep ", money("old"))
    priced, basis, bound = c["guarded"], c["floor_basis"], c["by_floor"]
    lines.add(priced & (basis == 0), "; no floor")
    lines.add(priced & (basis > 0), "; floor ", money("floor"))
    lines.add(priced & (basis == 1), " (cost ", money("cost"))
    lines.add(priced & (basis == 1) & ~bound, word("margin_ok"))
    lines.add(priced & (basis == 1) & bound, word("margin_applied"))
    lines.add(priced & (basis == 2) & ~bound, " (min price) ok")
    lines.add(priced & (basis == 2) & bound, " (min price) applied")
    lines.add(priced & (basis == 3) & ~bound, " (MAP) ok")
    lines.add(priced & (basis == 3) & bound, " (MAP) applied")
