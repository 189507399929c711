"""Score (ours, theirs) offer pairs with the shipped model: the matcher's one entry point.

The model (LightGBM, text format), the word and character-trigram IDF weights and the
learned word evidence it was trained with, and its calibration live in ``repricer/matching/model/`` and are built by
``scripts/train_matcher.py``; nothing is downloaded at run time. Scores are calibrated
probabilities of a match (isotonic on cross-validated training scores). Identifiers outrank the model: a valid GTIN equal on both sides
scores 1.0, two valid GTINs that differ cap the score inside the review band.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from repricer.matching.features import FEATURE_NAMES, TextWeights, pair_features
from repricer.matching.offers import Offer, prepare_offers
from repricer.matching.wordpairs import WordEvidence

if TYPE_CHECKING:
    import lightgbm

_MODEL_DIR = resources.files("repricer.matching") / "model"
_META = json.loads((_MODEL_DIR / "meta.json").read_text(encoding="utf-8"))

ACCEPT_AT: float = float(_META["accept_at"])
"""Score at or above which a pair is matched without review (tuned on valid pairs)."""
REVIEW_AT: float = float(_META["review_at"])
"""Score at or above which (and below :data:`ACCEPT_AT`) a pair is proposed for review."""
GTIN_CONFLICT_CAP = round(ACCEPT_AT - 0.01, 4)
"""The highest score of a pair whose two valid GTINs differ: a person decides."""


@dataclass(frozen=True)
class MatcherModel:
    """The loaded booster, the IDF weights its features use, and the calibration that
    turns its raw output into a probability of a match (isotonic, fitted on scores of
    training pairs the booster had not seen: ``calibrate_x`` raw -> ``calibrate_y``)."""

    booster: lightgbm.Booster
    text: TextWeights
    calibrate_x: NDArray[np.float64]
    calibrate_y: NDArray[np.float64]

    def probabilities(self, features: NDArray[np.float32]) -> NDArray[np.float64]:
        raw = np.asarray(self.booster.predict(features, num_threads=2), dtype=np.float64)
        return np.interp(raw, self.calibrate_x, self.calibrate_y)


def _read_json(name: str) -> dict[str, float]:
    loaded: dict[str, float] = json.loads((_MODEL_DIR / name).read_text(encoding="utf-8"))
    return loaded


@cache
def load_model() -> MatcherModel:
    """The shipped model, loaded once per process (LightGBM is imported only here:
    crawls that import this package for its identifiers never load it)."""
    import lightgbm

    booster = lightgbm.Booster(model_str=(_MODEL_DIR / "matcher.lgb.txt").read_text("utf-8"))
    if tuple(booster.feature_name()) != FEATURE_NAMES:
        raise RuntimeError("the shipped matcher model does not fit these features: retrain it")
    words = json.loads((_MODEL_DIR / "word_evidence.json").read_text(encoding="utf-8"))
    text = TextWeights(
        _read_json("idf.json"), _read_json("char_idf.json"), WordEvidence.from_json(words)
    )
    calibration = _META["calibration"]
    return MatcherModel(
        booster,
        text,
        np.asarray(calibration["raw"], dtype=np.float64),
        np.asarray(calibration["probability"], dtype=np.float64),
    )


def score_offers(left: Sequence[Offer], right: Sequence[Offer]) -> NDArray[np.float64]:
    """Scores in [0, 1] for aligned prepared offers (see :func:`score_pairs`)."""
    if not left:
        return np.zeros(0)
    model = load_model()
    scores = model.probabilities(pair_features(left, right, model.text))
    for i, (a, b) in enumerate(zip(left, right, strict=True)):
        if a.gtin and b.gtin:
            scores[i] = 1.0 if a.gtin == b.gtin else min(scores[i], GTIN_CONFLICT_CAP)
    return np.clip(scores, 0.0, 1.0)


def score_pairs(pairs: Sequence[tuple[Mapping[str, object], Mapping[str, object]]]) -> list[float]:
    """One score in [0, 1] per ``(ours, theirs)`` pair of field mappings.

    Keys read: ``title``, ``brand``, ``category``, ``model``, ``description``, ``price``
    (strings, any missing or empty) and, when present, ``gtin``. A pair scoring at or
    above :data:`ACCEPT_AT` is the same product.
    """
    left = prepare_offers(ours for ours, _ in pairs)
    right = prepare_offers(theirs for _, theirs in pairs)
    return [float(s) for s in score_offers(left, right)]
