"""The engine's output as typed columns: one :class:`Decisions` per run.

Every array has one entry per product row; money is int64 minor units in the pricing
currency, with a ``has_*`` mask where a value may be unknown. Statuses, reasons and
floor bases are codes (:mod:`repricer.pricing.codes`); the engine builds no text.
:func:`decision_frame` turns the rows someone looks at into the table of
:data:`DECISION_COLUMNS`, with the explanation rendered by
:func:`repricer.pricing.explain.render_explanations`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from repricer.pricing.codes import REASONS, STATUS_NAMES, Reason, Status
from repricer.pricing.guards import NO_CEILING, Guarded
from repricer.pricing.market import Market
from repricer.pricing.rules import STRATEGIES, Rule
from repricer.pricing.strategies import METHODS, Targets

I64 = npt.NDArray[Any]  # int64 columns
Bools = npt.NDArray[Any]  # bool columns
Texts = npt.NDArray[Any]  # object (str) columns

DECISION_COLUMNS = [
    "product_id", "sku", "currency", "old_price", "new_price", "cost", "floor", "ceiling",
    "reference_price", "reference_competitor", "rule", "strategy", "method", "guards",
    "flags", "status", "explanation",
]  # fmt: skip
"""``strategy`` is the rule's; ``method`` what priced the product after the behaviours
(a strategy name, ``ceiling`` or ``skip``). ``guards`` and ``flags`` are comma-joined."""
GUARD_NAMES = ("floor", "ceiling", "max_change", "rounding", "min_delta", "cooldown")
_BLOCK = 100_000  # rows rendered at once: bounds the memory of intermediate texts


@dataclass(frozen=True)
class Context:
    """What the codes of a run refer to: its rules (``rule`` indexes them), the sorted
    competitor names (``*_comp`` columns index them) and the pricing currency."""

    rules: list[Rule]
    competitors: list[str]
    currency: str


@dataclass(frozen=True)
class Decisions:
    """One decision per product row.

    ``rule``: index into ``context.rules`` (int32, -1: none matched); ``strategy``: the
    rule's strategy (int8 index into ``STRATEGIES``, -1 without a rule); ``status``:
    :class:`Status` (int8);
    ``old``/``new``/``cost``: prices with their ``has_*`` masks; ``floor`` (0: none),
    ``floor_basis`` (:class:`FloorBasis`, int8) and ``ceiling`` (``NO_CEILING``: none);
    ``inverted``: floor above ceiling, no change; ``priced``: the guards ran;
    ``breaker``: the circuit breaker sent the change to approval. ``targets`` holds the
    method, the :class:`Reason` and the competitor price used, ``market`` the
    competitor summary, ``guards`` what bound the price (masked by ``priced``).
    """

    product_id: I64
    sku: Texts
    currency: Texts
    rule: I64
    strategy: I64
    status: I64
    old: I64
    has_old: Bools
    new: I64
    has_new: Bools
    cost: I64
    has_cost: Bools
    floor: I64
    floor_basis: I64
    ceiling: I64
    inverted: Bools
    priced: Bools
    breaker: Bools
    targets: Targets
    market: Market
    guards: Guarded
    context: Context

    def __len__(self) -> int:
        return len(self.product_id)

    def take(self, rows: I64 | Bools) -> Decisions:
        """The decisions of the given rows (positions or a mask), in that order."""
        taken: Decisions = _take(self, rows)
        return taken

    def changing(self) -> Bools:
        """Rows whose price would change: proposed or waiting for approval."""
        moving: Bools = (self.status == Status.PROPOSED) | (self.status == Status.NEEDS_APPROVAL)
        return moving

    def worth_storing(self) -> Bools:
        """Rows a run stores: changes, and products skipped for a reason."""
        skipped = (self.status == Status.SKIPPED) & (
            (self.targets.reason != Reason.NONE) | self.inverted
        )
        kept: Bools = self.changing() | skipped
        return kept


def _take(item: Any, rows: I64 | Bools) -> Any:
    values = {}
    for f in dataclasses.fields(item):
        value = getattr(item, f.name)
        if isinstance(value, np.ndarray):
            values[f.name] = value[rows]
        elif dataclasses.is_dataclass(value) and not isinstance(value, Context | type):
            values[f.name] = _take(value, rows)
        else:
            values[f.name] = value
    return dataclasses.replace(item, **values)


def _money(values: I64, present: Bools) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(values.astype(np.int64), ~np.asarray(present, dtype=bool))


def joined_names(columns: list[tuple[str, Bools]], n: int) -> Texts:
    """Comma-joined names of the true columns per row, via one code per combination."""
    code = np.zeros(n, dtype=np.int64)
    for bit, (_, mask) in enumerate(columns):
        code |= mask.astype(np.int64) << bit
    combos = np.flatnonzero(np.bincount(code, minlength=1))  # the combinations present
    lookup = np.zeros(1 << len(columns), dtype=np.int64)
    lookup[combos] = np.arange(len(combos))
    texts = [
        ",".join(name for bit, (name, _) in enumerate(columns) if combo >> bit & 1)
        for combo in combos
    ]
    names: Texts = np.array(texts, dtype=object)[lookup[code]]
    return names


def guard_names(d: Decisions) -> Texts:
    """Comma-joined guards that moved each price."""
    names: Texts = joined_names([(n, getattr(d.guards, f"by_{n}")) for n in GUARD_NAMES], len(d))
    return names


def flag_names(d: Decisions) -> Texts:
    """Comma-joined flags: the reason, then floor_above_ceiling, raise_back, max_change,
    no_ending and breaker."""
    reason = d.targets.reason
    columns = [(name, reason == i) for i, name in enumerate(REASONS) if name]
    columns += [
        ("floor_above_ceiling", d.inverted),
        ("raise_back", d.targets.raised_back),
        ("max_change", d.guards.exceeds_max_change),
        ("no_ending", d.guards.no_ending),
        ("breaker", d.breaker),
    ]
    names: Texts = joined_names(columns, len(d))
    return names


def decision_frame(d: Decisions, *, explain: bool = True) -> pd.DataFrame:
    """The rows of ``d`` as a table of :data:`DECISION_COLUMNS` (money as Int64)."""
    from repricer.pricing.explain import render_explanations

    reason, floor, ceiling = d.targets.reason, d.floor, d.ceiling
    ruled = (reason != Reason.NO_RULE) & (reason != Reason.CURRENCY)
    rule_names = np.array([r.name for r in d.context.rules] + [None], dtype=object)
    competitors = np.array([*d.context.competitors, None], dtype=object)
    texts: Texts = np.full(len(d), "", dtype=object)
    if explain:
        for at in range(0, len(d), _BLOCK):
            rows = np.arange(at, min(at + _BLOCK, len(d)))
            texts[at : at + _BLOCK] = render_explanations(d.take(rows))
    return pd.DataFrame(
        {
            "product_id": d.product_id.astype(np.int64),
            "sku": d.sku.astype(object),
            "currency": d.currency.astype(object),
            "old_price": _money(d.old, d.has_old),
            "new_price": _money(d.new, d.has_new),
            "cost": _money(d.cost, d.has_cost),
            "floor": _money(floor, ruled & (floor > 0)),
            "ceiling": _money(ceiling, ruled & (ceiling < NO_CEILING)),
            "reference_price": _money(d.targets.ref_price, d.targets.ref_comp >= 0),
            "reference_competitor": competitors[d.targets.ref_comp],
            "rule": rule_names[d.rule],
            "strategy": np.array([*STRATEGIES, None], dtype=object)[d.strategy],
            "method": np.array(METHODS, dtype=object)[d.targets.method],
            "guards": guard_names(d),
            "flags": flag_names(d),
            "status": STATUS_NAMES[d.status],
            "explanation": texts,
        }
    )
