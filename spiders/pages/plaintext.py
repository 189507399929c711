"""Prices written as plain text near the product's title, for pages whose price element
has no price class: ``Цена: 18 990 руб.``, ``<b>Preis:</b> <font>12,50 €</font>``, or a
bare amount with its currency sign in the element beside it
(``<span>294</span><span>元</span>``)."""

from __future__ import annotations

import re

from spiders.pages._phrases import EX_VAT
from spiders.pages.element import DIGIT, NOT_A_PRICE, SKIPPED_TAGS, Candidate, is_old
from spiders.pages.region import PageRegion
from spiders.pages.tree import Node, squash
from spiders.pages.values import find_currency, is_per_unit, parse_price

# A currency sign or word somewhere in a text (a cheap test before parsing it).
CURRENCY_HINT = re.compile(
    r"[$€£₽₴₸¥₹₩₺元円원]|(?<![^\W\d_])(?:руб|р\.|грн|тг|kn|zł|zl|kč|lei|лв|ft|kr|rs|chf|eur|usd"
    r"|gbp|pln|czk|ron|bgn|huf|sek|nok|dkk|kzt|uah|rub|byn|br|nt)(?![^\W\d_])",
    re.I,
)
PRICE_LABEL = re.compile(
    r"^(?:цена|ціна|баға|стоимость|price|our price|sale price|now|preis|prix|prezzo|precio|preço"
    r"|cena|cijena|kaina|hind|ár|pris|hinta|prijs|preț|pret|價格|售價|特價|価格|販売価格)\s*[:：]?\s*",
    re.I,
)
AMOUNT_FIRST = re.compile(
    r"^(?:(?:от|від|from|ab|dès|à partir de|desde|a partir de|da|od|alkaen|vanaf|från|fra|nuo"
    r"|alates|de la)\s+)?(?:[$€£₽₴₸¥₹₩₺]|[A-Za-z]{1,3}\$|\d)",
    re.I,
)
# An amount alone in its text node, and a text that is only a currency sign or word.
_BARE_AMOUNT = re.compile(r"^\s*\d[\d\s\u00a0.,']*\s*$")
_SIGN_ONLY = re.compile(f"^(?:{CURRENCY_HINT.pattern}|圓)\\.?$", re.I)
# A sign several countries share (yuan / yen / dollar in Chinese): the page's country
# settles which.
_LOCAL_SIGN = re.compile(r"[元圓]")


def text_prices(region: PageRegion) -> list[Candidate]:
    """Prices written as plain text (no price class): a short text that is an amount with
    a currency, alone or after a price label (``Цена: 18 990 руб.``, ``Preis: 12,50 €``)
    or right after a label element (``<b>Цена:</b> <font>18 990 руб.</font>``), or a
    bare amount whose currency stands in the element beside it
    (``<span>294</span><span>元</span>``)."""
    block = region.main_block
    if block is None:
        return []
    out: list[Candidate] = []
    for node in block.traverse(include_text=True):
        raw = node.text_content  # None for elements: one look per node
        if raw is None or len(raw) > 80 or not DIGIT.search(raw):
            continue
        if not CURRENCY_HINT.search(raw):
            if not _BARE_AMOUNT.match(raw):
                continue
            signed = _with_sign_beside(node, raw)
            if signed is None:
                continue
            raw = signed
        text = PRICE_LABEL.sub("", squash(raw), count=1)
        if len(text) > 40 or not AMOUNT_FIRST.match(text) or NOT_A_PRICE.search(text):
            continue
        if EX_VAT.search(text):
            continue
        element = node.parent
        if element is None or element.tag in SKIPPED_TAGS or element.tag in ("a", "option"):
            continue
        if is_per_unit(text) or region.unrelated(element):
            continue
        currency = find_currency(text)
        price = parse_price(text) if currency or _LOCAL_SIGN.search(text) else None
        if price is not None:
            out.append(Candidate(price, currency, is_old(element), region.distance(element)))
    return out


def _with_sign_beside(node: Node, amount: str) -> str | None:
    """``amount`` joined to the currency sign written just after or before it (in the
    next or previous node, or beside the element holding only the amount), else None."""
    holders = [node]
    element = node.parent
    if element is not None and element.child is not None and element.child.next is None:
        holders.append(element)  # the amount is all its element holds
    for holder in holders:
        after = _sibling_text(holder, forward=True)
        if after is not None and _SIGN_ONLY.match(after):
            return f"{amount.strip()} {after}"
        before = _sibling_text(holder, forward=False)
        if before is not None and _SIGN_ONLY.match(before):
            return f"{before} {amount.strip()}"
    return None


def _sibling_text(node: Node, forward: bool) -> str | None:
    """The short text of the next (previous) sibling, whitespace between skipped."""
    sibling = node.next if forward else node.prev
    if sibling is not None and sibling.tag == "-text" and not squash(sibling.text_content):
        sibling = sibling.next if forward else sibling.prev
    if sibling is None or sibling.tag in SKIPPED_TAGS:
        return None
    raw = sibling.text_content if sibling.tag == "-text" else sibling.text(deep=True)
    text = squash(raw)
    return text if 0 < len(text) <= 6 else None
