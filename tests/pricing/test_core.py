"""The engine core's column preparation: product rows of observations, whatever the
shape of the product ids, and the shared-text and tag helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from repricer.pricing.core import _equals, _positions
from repricer.pricing.params import object_ids

WANTED = [7, 8, 3, 1000, 10**12, -5, 12]


@pytest.mark.parametrize(
    "ids",
    [
        pytest.param([3, 4, 5, 6, 7, 8, 9, 10, 11, 12], id="consecutive"),
        pytest.param([3, 5, 7, 8, 12, 20], id="dense-with-gaps"),
        pytest.param([3, 7, 8, 12, 10**9, 10**11], id="sparse-sorted"),
        pytest.param([12, 3, 8, 7], id="unsorted"),
    ],
)
def test_positions_find_each_id_or_minus_one(ids: list[int]) -> None:
    products = pd.DataFrame({"product_id": ids})
    got = _positions(products, pd.Series(WANTED))
    want = [ids.index(i) if i in ids else -1 for i in WANTED]
    assert got.dtype == np.int32 and got.tolist() == want


def test_equals_on_shared_and_separate_texts() -> None:
    shared = pd.Series(["RUB"] * 5, dtype=object)
    separate = pd.Series(["".join(["R", "U", "B"]), "USD", None, "RUB", "rub"], dtype=object)
    assert _equals(shared, "RUB").tolist() == [True] * 5
    assert _equals(separate, "RUB").tolist() == [True, False, False, True, False]
    category = separate.astype("category")
    assert _equals(category, "RUB").tolist() == [True, False, False, True, False]


def testobject_ids_are_the_objects_ids() -> None:
    tags = [["a"], None, ["b"]]
    objects = np.array([tags[0], tags[1], tags[0], tags[2]], dtype=object)
    assert object_ids(objects).tolist() == [id(o) for o in objects]
