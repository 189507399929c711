"""Availability from the main product's buy control when no data and no stock badge
says it: a visible, enabled add-to-cart button means the product can be bought now; a
disabled one, or stock words around it saying otherwise, mean it cannot (not the
control's other state labels, which the stylesheet hides while it can)."""

from __future__ import annotations

from spiders.pages._phrases import IN_STOCK, OUT_OF_STOCK, UNKNOWN
from spiders.pages.region import PageRegion
from spiders.pages.tree import Node, ancestors, squash, text_of
from spiders.pages.values import availability_from_text

# Text around the buy control longer than this is a whole page section, not its label.
_NEAR_TEXT = 300


def find_visible_stock(region: PageRegion) -> str:
    """in_stock / out_of_stock from the buy control of the main product, else unknown."""
    button = region.buy_button
    if button is None:
        return UNKNOWN
    attrs = button.attributes
    if "disabled" in attrs or attrs.get("aria-disabled") == "true":
        return OUT_OF_STOCK
    labels = [t for t in map(text_of, region.state_labels) if t]
    longest = _NEAR_TEXT + sum(map(len, labels))  # the labels are cut out of the text
    for block in ancestors(button, 3):
        text = _short_text(block, longest)
        if text is None:
            break
        for other in labels:
            text = text.replace(other, " ")
        if len(text) > _NEAR_TEXT:
            break
        if availability_from_text(text) == OUT_OF_STOCK:
            return OUT_OF_STOCK
    return IN_STOCK


def _short_text(block: Node, longest: int) -> str | None:
    """The block's text (whitespace collapsed), or None when it is longer than
    ``longest``: a big block's text is judged by its start, not collapsed whole."""
    raw = block.text(deep=True, separator="")
    if len(raw) > 4 * longest and len(squash(raw[: 4 * longest])) > longest:
        return None
    text = squash(raw)
    return text if len(text) <= longest else None
