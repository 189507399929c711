"""Why two offers were matched, in words a reviewer can check at a glance."""

from __future__ import annotations

import math

from rapidfuzz import fuzz

from repricer.matching.codes import display_gtin
from repricer.matching.offers import Offer


def describe_match(ours: Offer, theirs: Offer) -> list[str]:
    """Short evidence lines: identifiers first, then text, brand and price."""
    lines: list[str] = []
    if ours.gtin and theirs.gtin:
        if ours.gtin == theirs.gtin:
            lines.append(f"same GTIN {display_gtin(ours.gtin)}")
        else:
            lines.append(
                f"GTIN differs: ours {display_gtin(ours.gtin)}, page {display_gtin(theirs.gtin)}"
            )
    shared = sorted(ours.codes & theirs.codes, key=len, reverse=True)
    if shared:
        lines.append(f"same model code {shared[0]}")
    else:
        inside = [c for c in ours.codes if len(c) >= 5 and c in theirs.compact]
        if inside:
            lines.append(f"model code {max(inside, key=len)} on the page")
    if ours.title and theirs.title:
        similarity = fuzz.token_set_ratio(ours.title, theirs.title) / 100
        lines.append(f"title similarity {similarity:.2f}")
    if ours.brand and theirs.brand and ours.brand != theirs.brand:
        lines.append(f"brand differs: {ours.brand} / {theirs.brand}")
    if not (math.isnan(ours.price) or math.isnan(theirs.price)):
        lines.append(
            f"price ratio {min(ours.price, theirs.price) / max(ours.price, theirs.price):.2f}"
        )
    return lines
