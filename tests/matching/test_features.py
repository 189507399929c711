"""Pair features that tell editions, platforms and versions of one product line apart."""

from __future__ import annotations

import math

import pytest

from repricer.matching.features import FEATURE_NAMES, pair_features
from repricer.matching.offers import normalize_number, prepare_offer
from repricer.matching.scoring import load_model


def _features(ours: str, theirs: str, **extra: str) -> dict[str, float]:
    left, right = prepare_offer({"title": ours}), prepare_offer({"title": theirs, **extra})
    row = pair_features([left], [right], load_model().text)[0]
    return dict(zip(FEATURE_NAMES, row.tolist(), strict=True))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7.0", "7"), ("07", "7"), ("2,50", "2.5"), ("2007", "2007"), ("0", "0"), ("10.10", "10.1")],
    ids=["trailing-zero", "leading-zero", "comma", "year", "zero", "decimal"],
)
def test_normalize_number(text: str, expected: str) -> None:
    assert normalize_number(text) == expected


CASES = [
    # (ours, theirs, feature, expected)
    ("photoshop cs3 mac", "photoshop cs3 for windows", "platform_conflict", 1.0),
    ("photoshop cs3 macintosh", "photoshop cs3 [ mac ]", "platform_conflict", 0.0),
    ("photoshop cs3 mac", "photoshop cs3", "platform_conflict", 0.5),
    ("photoshop cs3", "photoshop cs3 extended", "platform_conflict", math.nan),
    ("office 2007 upgrade", "office 2007 full version", "upgrade_one_side", 1.0),
    ("office 2007 upg", "office 2007 upgrade", "upgrade_one_side", 0.0),
    ("finale 2008 academic", "finale 2008 student edition", "academic_one_side", 0.0),
    ("finale 2008 academic", "finale 2008", "academic_one_side", 1.0),
    ("acrobat 7.0 professional", "acrobat standard 7", "editions_differ", 2.0),
    ("street atlas 2007", "street atlas 2004", "numbers_disjoint", 1.0),
    ("acrobat 7.0 professional", "acrobat professional 7", "numbers_disjoint", 0.0),
    ("street atlas 2007", "delorme street atlas usa 2004 plus", "short_numbers_missing", 1.0),
]


@pytest.mark.parametrize(
    ("ours", "theirs", "feature", "expected"), CASES, ids=[f"{c[2]}-{c[3]}" for c in CASES]
)
def test_edition_and_version_features(
    ours: str, theirs: str, feature: str, expected: float
) -> None:
    value = _features(ours, theirs)[feature]
    assert (math.isnan(value) and math.isnan(expected)) or value == expected


def test_short_title_number_found_in_the_other_description() -> None:
    found = _features("street atlas 2007", "delorme street atlas", description="edition 2007")
    assert found["short_numbers_missing"] == 0.0


def test_features_do_not_depend_on_the_side() -> None:
    pairs = [("adobe indesign cs3 upgrade mac", "adobe indesign cs3 for mac academic")]
    for ours, theirs in pairs:
        forward, backward = _features(ours, theirs), _features(theirs, ours)
        for name in ("platform_conflict", "editions_differ", "upgrade_one_side",
                     "academic_one_side", "numbers_disjoint"):  # fmt: skip
            assert forward[name] == backward[name], name


def test_platform_conflict_lowers_the_score() -> None:
    from repricer.matching import score_pairs

    ours = {"title": "adobe creative suite cs3 design premium mac", "brand": "adobe"}
    same = {"title": "adobe creative suite 3 design premium for mac", "price": "1599"}
    other = {"title": "adobe creative suite 3 design premium for windows", "price": "1599"}
    scores = score_pairs([(ours, same), (ours, other)])
    assert scores[0] > scores[1]


def test_prepare_offers_restores_the_garbage_collector() -> None:
    import gc

    from repricer.matching.offers import prepare_offers

    assert gc.isenabled()
    offers = prepare_offers([{"title": "bosch twk 8611 kettle"}, {"title": "makita dhp482"}])
    assert [o.title for o in offers] == ["bosch twk 8611 kettle", "makita dhp482"]
    assert gc.isenabled()
    gc.disable()
    try:
        prepare_offers([{"title": "x"}])
        assert not gc.isenabled()  # a caller's own pause is kept
    finally:
        gc.enable()


def test_rarest_shared_and_missing_words() -> None:
    found = _features("adobe soundbooth cs3", "adobe soundbooth cs3 for windows")
    common = _features("adobe photoshop cs3", "adobe soundbooth cs3")
    assert found["rarest_shared_idf"] > common["rarest_shared_idf"]
    assert found["rarest_missing_idf"] == 0.0 < common["rarest_missing_idf"]
    assert math.isnan(_features("acrobat", "quicken")["rarest_shared_idf"])


def test_title_char_cosine_sees_joined_and_split_words() -> None:
    joined = _features("sony cybershot dscw120 camera", "sony cyber-shot dsc-w120 camera")
    other = _features("sony cybershot dscw120 camera", "canon powershot a590 camera")
    assert joined["title_char_cosine"] > 0.6 > other["title_char_cosine"] > 0.0
    assert math.isnan(_features("", "canon powershot")["title_char_cosine"])
