"""The codes a decision carries instead of text: status, method, reason, floor basis.

Each is an ``IntEnum`` stored in int8 columns; :func:`code_names` gives the lower-case
names (the strings stored in ``price_changes`` and shown to people) as a lookup array.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt


class Status(IntEnum):
    """What the engine decided for a product."""

    SKIPPED = 0
    UNCHANGED = 1
    NEEDS_APPROVAL = 2
    PROPOSED = 3


class Method(IntEnum):
    """What priced a product: its rule's strategy (the first eight, in the order of
    :data:`repricer.pricing.rules.STRATEGIES`), the ceiling, or nothing (skipped)."""

    BEAT_LOWEST = 0
    MATCH_LOWEST = 1
    MATCH_MEDIAN = 2
    MATCH_AVERAGE = 3
    POSITION = 4
    FOLLOW = 5
    COST_PLUS = 6
    KEEP = 7
    CEILING = 8
    SKIP = 9


class Reason(IntEnum):
    """Why the method differs from the rule's strategy (``NONE``: it does not)."""

    NONE = 0
    NO_COMPETITORS = 1
    ALL_OUT_OF_STOCK = 2
    NO_COST = 3
    WE_OUT_OF_STOCK = 4
    NO_RULE = 5
    NO_PRICE = 6
    NO_CEILING = 7
    CURRENCY = 8


class FloorBasis(IntEnum):
    """What set the floor: nothing, cost + margin, ``min_price`` or MAP."""

    NONE = 0
    COST = 1
    MIN_PRICE = 2
    MAP = 3


def code_names(codes: type[IntEnum], none: str | None = None) -> npt.NDArray[Any]:
    """Lower-case member names indexed by value; ``none`` replaces the name of 0."""
    names = [member.name.lower() for member in sorted(codes, key=int)]
    if none is not None:
        names[0] = none
    return np.array(names, dtype=object)


CODE = np.int8  # the dtype of code columns
STATUS_NAMES = code_names(Status)
METHOD_NAMES = code_names(Method)
REASONS: tuple[str, ...] = tuple(code_names(Reason, none=""))
