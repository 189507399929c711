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
from repricer.pricing._format import age_codes, age_table, money_parts, share_text
from repricer.pricing._values import Adjust, to_minor_units
from repricer.pricing.rules import Rule
from repricer.pricing.strategies import METHODS

I64 = npt.NDArray[Any]  # int64 columns
Texts = npt.NDArray[Any]  # object (str) columns
Part = str | Texts | Callable[[I64], Texts | tuple[Texts, Texts]]

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


_END = "\x00"  # marks the end of each row's pieces in the joined text


class _Lines:
    """The pieces of every row's explanation, kept in order and joined once at the end.

    ``add`` appends pieces (a constant, a column over all rows, or a function of the
    selected row numbers giving a column or a tuple of columns) after the pieces the
    selected rows already have. Pieces are mostly shared strings from lookup tables, so
    no intermediate text is built: :meth:`join` lays all pieces out row by row, joins
    them into one text and splits it into the rows' lines.
    """

    def __init__(self, n: int) -> None:
        self.count = np.zeros(n, dtype=np.int64)
        self.added: list[tuple[I64, I64, list[Any]]] = []  # rows, their first slot, pieces

    def add(self, mask: npt.NDArray[Any], *parts: Part) -> None:
        idx = np.flatnonzero(mask)
        if len(idx) == 0:
            return
        pieces: list[Any] = []
        for part in parts:
            value = (
                part(idx)
                if callable(part)
                else (part[idx] if isinstance(part, np.ndarray) else part)
            )
            pieces.extend(value if isinstance(value, tuple) else (value,))
        at = self.count[idx]
        self.added.append((idx, at, pieces))
        self.count[idx] = at + len(pieces)

    def join(self) -> Texts:
        """Each row's pieces concatenated (``""`` for a row without any)."""
        n = len(self.count)
        ends = np.cumsum(self.count + 1)  # a row's pieces, then an end mark
        flat: Texts = np.empty(int(ends[-1]) if n else 0, dtype=object)
        flat[ends - 1] = _END
        starts = ends - 1 - self.count
        for idx, at, pieces in self.added:
            first = starts[idx] + at
            for offset, piece in enumerate(pieces):
                flat[first + offset] = piece
        texts: Texts = np.empty(n, dtype=object)
        lines = "".join(flat.tolist()).split(_END)
        if len(lines) == n + 1:
            lines.pop()  # the empty text after the last mark
            texts[:] = lines
        else:  # a piece holds the mark itself: concatenate the pieces column-wise instead
            texts[:] = ""
            for idx, _, pieces in self.added:
                for piece in pieces:
                    texts[idx] = texts[idx] + piece
        return texts


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
        put("competitor", "competitor ")
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
    """Build the explanation column from the engine's decision columns ``c``: a head
    (behaviour and strategy), the guards and the floor, joined at the end."""
    n = len(c["method"])
    head = _Lines(n)  # one line: the head, the guards, then the floor are added in turn
    rule = c["rule_idx"]

    def money(column: str, after: str = "") -> Callable[[I64], tuple[Texts, Texts]]:
        return lambda idx: money_parts(c[column][idx], currency, after)

    def word(key: str) -> Callable[[I64], Texts]:
        return lambda idx: words[key][rule[idx]]

    names = np.array([f"{name} " for name in competitors] + [""], dtype=object)
    ages = age_table()

    def fused(table: Texts, key: str) -> Callable[[I64], Texts]:  # name or age + rule phrase
        if table is ages:
            return lambda idx: _outer(ages, words[key])[age_codes(c["ref_age"][idx]), rule[idx]]
        return lambda idx: _outer(words[key], table)[rule[idx], c["ref_comp"][idx]]

    prefixes = np.array([PREFIX.get(i, "") for i in range(max(PREFIX) + 1)], dtype=object)
    head.add(c["reason"] > 0, prefixes[c["reason"]])
    m = {name: c["method"] == i for i, name in enumerate(METHODS)}
    plain_age = lambda idx: ages[age_codes(c["ref_age"][idx])]  # noqa: E731
    lines = head.add
    lines(
        m["beat_lowest"],
        fused(names, "cheapest"),
        money("ref_price"),
        fused(ages, "beat"),
        money("base"),
    )
    lines(m["match_lowest"], fused(names, "cheapest"), money("ref_price"), plain_age)
    counts = lambda idx: c["n_in"][idx].astype(str).astype(object)  # noqa: E731
    lines(m["match_median"], "median of ", counts, " competitors: ", money("base"))
    lines(m["match_average"], "average of ", counts, " competitors: ", money("base"))
    lines(
        m["position"], fused(names, "rank"), money("ref_price"), fused(ages, "beat"), money("base")
    )
    has_adjust = words["has_adjust"][rule]
    lines(m["follow"] & ~has_adjust, fused(names, "competitor"), money("ref_price"), plain_age)
    lines(
        m["follow"] & has_adjust,
        fused(names, "competitor"),
        money("ref_price"),
        fused(ages, "adjust"),
        money("base"),
    )
    lines(m["cost_plus"], "cost ", money("cost"), word("markup"), money("base"))
    lines(m["keep"], "keep ", money("old"))
    lines(m["ceiling"], "ceiling ", money("ceiling"))
    lines(m["skip"], "skipped")
    lines(
        c["inverted"],
        "; floor ",
        money("floor", " above ceiling "),
        money("ceiling", ": no change"),
    )
    _add_guards(head, c, money, word)
    return head.join()


def _outer(left: Texts, right: Texts) -> Texts:
    """Every ``left[i] + right[j]`` as ``[i, j]``; remembered for the last few tables, as
    each explanation block asks for the same ones."""
    key = (id(left), id(right))
    found = _OUTER.get(key)
    if found is None or found[0] is not left or found[1] is not right:
        found = (left, right, np.add.outer(left, right))
        if len(_OUTER) > 16:
            _OUTER.clear()
        _OUTER[key] = found
    return found[2]


_OUTER: dict[tuple[int, int], tuple[Texts, Texts, Texts]] = {}


def _add_guards(
    lines: _Lines,
    c: Columns,
    money: Callable[..., Callable[[I64], tuple[Texts, Texts]]],
    word: Callable[[str], Callable[[I64], Texts]],
) -> None:
    lines.add(
        c["raised_back"],
        "; raised back under ",
        c["low_name"],
        " ",
        money("low_price", ": "),
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
    by_cost = priced & (basis == 1)
    lines.add(priced & (basis == 0), "; no floor")
    lines.add(
        by_cost & ~bound, "; floor ", money("floor", " (cost "), money("cost"), word("margin_ok")
    )
    lines.add(
        by_cost & bound,
        "; floor ",
        money("floor", " (cost "),
        money("cost"),
        word("margin_applied"),
    )
    for code, label in ((2, "min price"), (3, "MAP")):
        lines.add(priced & (basis == code) & ~bound, "; floor ", money("floor", f" ({label}) ok"))
        lines.add(
            priced & (basis == code) & bound, "; floor ", money("floor", f" ({label}) applied")
        )
