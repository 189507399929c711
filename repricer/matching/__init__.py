"""Product matching: is this competitor offer the same product as our catalog item?

``score_pairs(pairs)`` and ``ACCEPT_AT`` are the stable contract; see
:mod:`repricer.matching.scoring`. Identifiers come from :mod:`repricer.matching.codes`.
"""

from __future__ import annotations

from repricer.matching.scoring import ACCEPT_AT, REVIEW_AT, score_pairs

__all__ = ["ACCEPT_AT", "REVIEW_AT", "score_pairs"]
