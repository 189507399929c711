"""Character trigram IDF and title cosines."""

from __future__ import annotations

import math

import pytest

from repricer.matching.ngrams import char_ngrams, fit_char_idf, title_char_cosines


@pytest.mark.parametrize(
    ("title", "expected"),
    [("ab c", [" ab", "ab ", "b c", " c "]), ("  a   b ", [" a ", "a b", " b "]), ("", [])],
    ids=["words", "spaces-collapsed", "empty"],
)
def test_char_ngrams(title: str, expected: list[str]) -> None:
    assert char_ngrams(title) == expected


def test_fit_char_idf_weights_rare_trigrams_higher_and_drops_singletons() -> None:
    idf = fit_char_idf(["canon camera", "sony camera", "canon printer", "canon printer"])
    assert idf[" ca"] < idf["can"]  # in all three distinct titles vs two of them
    assert "pri" not in idf  # one distinct title, written twice
    assert "ony" not in idf


def test_title_char_cosines() -> None:
    idf = fit_char_idf(["canon camera", "sony camera", "canon printer"])
    left = ["canon camera", "canon camera", "", "x"]
    right = ["canon camera", "canon printer", "sony", "y"]
    same, other, empty, disjoint = title_char_cosines(left, right, idf).tolist()
    assert same == pytest.approx(1.0)
    assert 0.0 < other < 0.9
    assert math.isnan(empty)
    assert disjoint == 0.0
