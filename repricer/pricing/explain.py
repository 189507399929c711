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
    """Per-rule words (last entry: no rule), indexed by the rule column."""
    digits = minor_digits(currency)

    def adjust(value: Adjust, signed: bool) -> str:
        if value.share or not value.amount:
            return share_text(value.share, signed=signed)
        minor = to_minor_units(value.amount, digits)
        text = format_money(abs(minor), currency)
        return (("−" if minor < 0 else "+") + text) if signed else text

    items: dict[str, list[str]] = {
        k: []
        for k in (
            "beat",
            "adjust",
            "markup",
            "margin",
            "fee",
            "change",
            "rounding",
            "stock",
            "rank",
        )
    }
    for rule in [*rules, Rule(name="-", strategy="keep")]:
        items["beat"].append(adjust(rule.beat_by, False))
        has_adjust = bool(rule.adjust.share or rule.adjust.amount)
        items["adjust"].append(" " + adjust(rule.adjust, True) if has_adjust else "")
        items["markup"].append(share_text(rule.min_margin if rule.markup is None else rule.markup))
        items["margin"].append(share_text(rule.min_margin))
        items["fee"].append(
            " + fee " + format_money(to_minor_units(rule.fixed_fee, digits), currency)
            if rule.fixed_fee
            else ""
        )
        items["change"].append(share_text(rule.max_change or 0))
        items["rounding"].append(ROUNDING.get(rule.rounding, rule.rounding.replace("_", " ")))
        items["stock"].append(" " if rule.include_out_of_stock else " in-stock ")
        items["rank"].append(str(rule.rank))
    return {k: np.array(v, dtype=object) for k, v in items.items()}


def explain(
    c: Mapping[str, npt.NDArray[Any]],
    words: dict[str, Texts],
    competitors: list[str],
    currency: str,
) -> Texts:
    """Build the explanation column from the engine's decision columns ``c``."""
    n = len(c["method"])
    rule = c["rule_idx"]
    names = np.array([*competitors, ""], dtype=object)
    lines = _Lines(n)

    def money(column: str) -> Callable[[I64], Texts]:
        return lambda idx: money_text(c[column][idx], currency)

    def word(key: str) -> Callable[[I64], Texts]:
        return lambda idx: words[key][rule[idx]]

    ref = (
        names[c["ref_comp"]],
        " ",
        money("ref_price"),
        " (",
        lambda idx: age_text(c["ref_age"][idx]),
        " ago)",
    )
    method, reason = c["method"], c["reason"]
    for code, prefix in PREFIX.items():
        lines.add(reason == code, prefix)
    m = {name: method == i for i, name in enumerate(METHODS)}
    lines.add(
        m["beat_lowest"],
        "cheapest",
        word("stock"),
        "competitor ",
        *ref,
        " − ",
        word("beat"),
        " = ",
        money("base"),
    )
    lines.add(m["match_lowest"], "cheapest", word("stock"), "competitor ", *ref)
    for name, label in (("match_median", "median"), ("match_average", "average")):
        lines.add(
            m[name],
            f"{label} of ",
            lambda idx: c["n_in"][idx].astype(str).astype(object),
            " competitors ",
            money("base"),
        )
    lines.add(
        m["position"],
        "rank ",
        word("rank"),
        ": competitor ",
        *ref,
        " − ",
        word("beat"),
        " = ",
        money("base"),
    )
    lines.add(m["follow"], "competitor ", *ref, word("adjust"), " = ", money("base"))
    lines.add(m["cost_plus"], "cost ", money("cost"), " + ", word("markup"), " = ", money("base"))
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
    c: Mapping[str, npt.NDArray[Any]],
    money: Callable[[str], Callable[[I64], Texts]],
    word: Callable[[str], Callable[[I64], Texts]],
) -> None:
    names_low = c["low_name"]
    lines.add(
        c["raised_back"],
        "; raised back under ",
        names_low,
        " ",
        money("low_price"),
        ": ",
        money("target"),
    )
    lines.add(c["by_floor"], " → floor ", money("floor"))
    lines.add(c["by_ceiling"], " → ceiling ", money("ceiling"))
    lines.add(c["by_max_change"], " → max change ", word("change"), ": ", money("raw"))
    lines.add(c["exceeds_max_change"], " (over max change ", word("change"), ": needs approval)")
    lines.add(c["by_rounding"], " → ", word("rounding"), ": ", money("new"))
    lines.add(c["no_ending"], " (no ", word("rounding"), " price in range)")
    lines.add(c["by_min_delta"], "; change under min delta: keep ", money("old"))
    lines.add(c["by_cooldown"], "; cooldown: keep ", money("old"))
    priced = c["guarded"]
    basis = c["floor_basis"]
    lines.add(priced & (basis == 0), "; no floor")
    lines.add(priced & (basis > 0), "; floor ", money("floor"), " (")
    lines.add(priced & (basis == 1), "cost ", money("cost"), " + ", word("margin"), word("fee"))
    lines.add(priced & (basis == 2), "min price")
    lines.add(priced & (basis == 3), "MAP")
    lines.add(priced & (basis > 0) & c["by_floor"], ") applied")
    lines.add(priced & (basis > 0) & ~c["by_floor"], ") ok")
