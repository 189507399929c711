"""One-line explanations, rendered from a run's decision codes for the rows shown.

The engine builds no text; :func:`render_explanations` is the one renderer, used for
the rows a run stores and the rows a command or report shows.

A line reads: what the target came from, raise-back, each guard that moved the price,
then the floor and what it came from, e.g.
``cheapest in-stock competitor citilink 1 349 ₽ (2 h ago) − 1% = 1 335,51 ₽ → ending 9:
1 339 ₽; floor 1 210 ₽ (cost 1 080 ₽ + 12%) ok``. Pieces are appended to the rows a
condition selects, and only those rows' numbers are formatted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from repricer.money import format_money, minor_digits
from repricer.pricing.codes import FloorBasis
from repricer.pricing.decisions import Decisions
from repricer.pricing.explain_text import age_codes, age_table, money_parts, share_text
from repricer.pricing.rule_values import Adjust, to_minor_units
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


def render_explanations(d: Decisions) -> Texts:
    """The one-line explanation of each decision in ``d`` (render only the rows shown or
    stored: take them first with :meth:`Decisions.take`). A head (behaviour and
    strategy), then the guards and the floor."""
    ctx = d.context
    words = rule_texts(ctx.rules, ctx.currency)
    head = _Lines(len(d))  # one line: the head, the guards, then the floor are added in turn
    rule, t = d.rule, d.targets

    def money(values: I64, after: str = "") -> Callable[[I64], tuple[Texts, Texts]]:
        return lambda idx: money_parts(values[idx], ctx.currency, after)

    def word(key: str) -> Callable[[I64], Texts]:
        return lambda idx: words[key][rule[idx]]

    names = np.array([f"{name} " for name in ctx.competitors] + [""], dtype=object)
    ages = age_table()

    def fused(table: Texts, key: str) -> Callable[[I64], Texts]:  # name or age + rule phrase
        if table is ages:
            return lambda idx: _outer(ages, words[key])[age_codes(t.ref_age[idx]), rule[idx]]
        return lambda idx: _outer(words[key], table)[rule[idx], t.ref_comp[idx]]

    prefixes = np.array([PREFIX.get(i, "") for i in range(max(PREFIX) + 1)], dtype=object)
    head.add(t.reason > 0, prefixes[t.reason])
    m = {name: t.method == i for i, name in enumerate(METHODS)}
    plain_age = lambda idx: ages[age_codes(t.ref_age[idx])]  # noqa: E731
    lines = head.add
    lines(
        m["beat_lowest"],
        fused(names, "cheapest"),
        money(t.ref_price),
        fused(ages, "beat"),
        money(t.base),
    )
    lines(m["match_lowest"], fused(names, "cheapest"), money(t.ref_price), plain_age)
    counts = lambda idx: d.market.n_in[idx].astype(str).astype(object)  # noqa: E731
    lines(m["match_median"], "median of ", counts, " competitors: ", money(t.base))
    lines(m["match_average"], "average of ", counts, " competitors: ", money(t.base))
    lines(
        m["position"], fused(names, "rank"), money(t.ref_price), fused(ages, "beat"), money(t.base)
    )
    has_adjust = words["has_adjust"][rule]
    lines(m["follow"] & ~has_adjust, fused(names, "competitor"), money(t.ref_price), plain_age)
    lines(
        m["follow"] & has_adjust,
        fused(names, "competitor"),
        money(t.ref_price),
        fused(ages, "adjust"),
        money(t.base),
    )
    lines(m["cost_plus"], "cost ", money(d.cost), word("markup"), money(t.base))
    lines(m["keep"], "keep ", money(d.old))
    lines(m["ceiling"], "ceiling ", money(d.ceiling))
    lines(m["skip"], "skipped")
    lines(
        d.inverted,
        "; floor ",
        money(d.floor, " above ceiling "),
        money(d.ceiling, ": no change"),
    )
    _add_guards(head, d, money, word)
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
    d: Decisions,
    money: Callable[..., Callable[[I64], tuple[Texts, Texts]]],
    word: Callable[[str], Callable[[I64], Texts]],
) -> None:
    g = d.guards
    low_names = np.array([*d.context.competitors, ""], dtype=object)[d.market.low_comp]
    lines.add(
        d.targets.raised_back,
        "; raised back under ",
        low_names,
        " ",
        money(d.market.low_price, ": "),
        money(d.targets.target),
    )
    lines.add(g.by_floor, " → floor ", money(d.floor))
    lines.add(g.by_ceiling, " → ceiling ", money(d.ceiling))
    lines.add(g.by_max_change, word("change"), money(g.raw))
    lines.add(g.exceeds_max_change, word("over"))
    lines.add(g.by_rounding, word("rounding"), money(d.new))
    lines.add(g.no_ending, word("no_ending"))
    lines.add(g.by_min_delta, "; change under min delta: keep ", money(d.old))
    lines.add(g.by_cooldown, "; cooldown: keep ", money(d.old))
    priced, basis, bound = d.priced, d.floor_basis, g.by_floor
    by_cost = priced & (basis == FloorBasis.COST)
    lines.add(priced & (basis == FloorBasis.NONE), "; no floor")
    lines.add(
        by_cost & ~bound, "; floor ", money(d.floor, " (cost "), money(d.cost), word("margin_ok")
    )
    lines.add(
        by_cost & bound,
        "; floor ",
        money(d.floor, " (cost "),
        money(d.cost),
        word("margin_applied"),
    )
    for code, label in ((FloorBasis.MIN_PRICE, "min price"), (FloorBasis.MAP, "MAP")):
        lines.add(priced & (basis == code) & ~bound, "; floor ", money(d.floor, f" ({label}) ok"))
        lines.add(
            priced & (basis == code) & bound, "; floor ", money(d.floor, f" ({label}) applied")
        )
