"""Property: whatever the numbers, nothing that passes the re-check is under a guard."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from repricer.storefront.validate import hold_reasons

money = st.one_of(st.none(), st.integers(min_value=-100, max_value=10**9))
rows = st.lists(
    st.tuples(money, money, money, money, money, st.sampled_from(["RUB", "USD"])),
    min_size=1,
    max_size=30,
)


@given(rows)
def test_passing_prices_respect_every_bound(data: list[tuple]) -> None:
    frame = pd.DataFrame(
        data, columns=["new_price", "min_price", "map_price", "max_price", "cost", "cost_currency"]
    )
    frame["currency"] = "RUB"
    frame["cost_currency"] = frame["cost_currency"].where(frame["cost"].notna(), None)
    for column in ("new_price", "min_price", "map_price", "max_price", "cost"):
        frame[column] = frame[column].astype("Int64")
    reasons = hold_reasons(frame)
    for (new, low, map_, high, cost, cost_cur), reason in zip(data, reasons, strict=True):
        if reason is not None:
            continue
        assert new is not None and new > 0
        assert low is None or new >= low
        assert map_ is None or new >= map_
        assert high is None or new <= high
        if cost is not None:
            assert cost_cur == "RUB" and new >= cost
