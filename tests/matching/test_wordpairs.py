"""Learned word evidence: one-side words, fitting, the shipped weights."""

from __future__ import annotations

import pytest

from repricer.matching.offers import prepare_offer
from repricer.matching.wordpairs import (
    WordEvidence,
    fit_word_evidence,
    one_side_words,
    word_evidence,
)


def test_one_side_words_are_symmetric_and_look_at_the_whole_other_offer() -> None:
    a = prepare_offer({"title": "adobe photoshop cs3 upgrade"})
    b = prepare_offer({"title": "adobe photoshop cs3 mac", "description": "an upgrade for mac"})
    assert one_side_words(a, b) == {"mac"}  # "upgrade" is in b's description
    assert one_side_words(b, a) == {"mac"}


def test_word_evidence_adds_weights_of_known_words_only() -> None:
    model = WordEvidence({"upgrade": -3.0, "box": 0.5}, bias=1.0)
    left = [prepare_offer({"title": "photoshop upgrade"}), prepare_offer({"title": "zzz"})]
    right = [prepare_offer({"title": "photoshop box"}), prepare_offer({"title": "zzz"})]
    assert word_evidence(left, right, model).tolist() == [-1.5, 1.0]


def test_fit_learns_that_a_one_side_edition_word_speaks_against_a_match() -> None:
    pairs, labels = [], []
    for n in range(12):
        name = f"product{n} deluxe"
        pairs.append((prepare_offer({"title": name}), prepare_offer({"title": name + " box"})))
        labels.append(1)
        pairs.append((prepare_offer({"title": name}), prepare_offer({"title": name + " upgrade"})))
        labels.append(0)
    model = fit_word_evidence(pairs, labels, c=1.0)
    assert model.one_side["upgrade"] < 0 < model.one_side["box"]
    scores = word_evidence([a for a, _ in pairs[:2]], [b for _, b in pairs[:2]], model)
    assert scores[0] > 0 > scores[1]


@pytest.mark.parametrize("c", [0.1, 10.0], ids=["strong", "weak"])
def test_fit_gives_no_weight_to_words_seen_in_few_pairs(c: float) -> None:
    pairs = [(prepare_offer({"title": f"w{n} common"}), prepare_offer({"title": "common x"}))
             for n in range(6)]  # fmt: skip
    model = fit_word_evidence(pairs, [1, 0, 1, 0, 1, 0], c=c)
    assert not any(w.startswith("w") for w in model.one_side)  # each w<n> is in one pair


def test_json_round_trip_and_a_clear_error_on_a_broken_table() -> None:
    model = WordEvidence({"b": -0.5}, bias=0.25)
    assert WordEvidence.from_json(model.to_json()) == model
    with pytest.raises(ValueError, match="one_side"):
        WordEvidence.from_json({"bias": 0.0, "one_side": [1, 2]})


def test_shipped_model_penalises_an_upgrade_on_one_side_only() -> None:
    from repricer.matching.scoring import load_model

    words = load_model().text.words
    assert words is not None
    left = [prepare_offer({"title": "adobe photoshop cs3"})] * 2
    right = [
        prepare_offer({"title": "adobe photoshop cs3"}),
        prepare_offer({"title": "adobe photoshop cs3 upgrade"}),
    ]
    same, upgrade = word_evidence(left, right, words)
    assert upgrade < same
