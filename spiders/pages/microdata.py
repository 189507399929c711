"""Products in microdata (``itemscope``/``itemprop``) and RDFa (``typeof``/``property``).

Both are read by one walker: a Product scope collects the properties of its own
elements and of its offers, but not of products nested in it (related items). Values
come from ``content``, then ``href``/``src``, then the element's text. Several
top-level products reduce as in JSON-LD (the page's URL, else one common price).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from lxml.etree import XPath  # type: ignore[import-untyped]

from spiders.pages._phrases import OLD_PRICE_CLASS, UNRELATED_CONTAINER, UNRELATED_TAGS
from spiders.pages.found import Found, choose_product, distinct_prices
from spiders.pages.tree import Element, text_of
from spiders.pages.values import (
    clean_text,
    find_currency,
    parse_availability,
    parse_gtin,
    parse_price,
)

PRODUCT = re.compile(
    r"(^|[/:#\s])(Product|ProductGroup|IndividualProduct|ProductModel|SomeProducts|Offering)(\s|$)"
)
WANTED = frozenset(
    {"price", "lowprice", "pricecurrency", "availability", "name", "sku", "mpn", "productid", "url",
     "gtin", "gtin8", "gtin12", "gtin13", "gtin14", "hascurrencyvalue", "hascurrency"}
)  # fmt: skip


@dataclass(frozen=True)
class Syntax:
    method: str
    type_attr: str  # itemtype / typeof
    prop_attr: str  # itemprop / property
    scope_xpath: Any  # a compiled lxml XPath


MICRODATA = Syntax("microdata", "itemtype", "itemprop", XPath("//*[@itemscope][@itemtype]"))
RDFA = Syntax("rdfa", "typeof", "property", XPath("//*[@typeof]"))
_PRICE_PROPS = XPath("//*[@itemprop='price']")
_CURRENCY_PROPS = XPath("//*[@itemprop='priceCurrency']")
_AVAILABILITY_PROPS = XPath("//*[@itemprop='availability']")


def find_microdata(
    root: Element, page_url: str, heading: str | None = None, syntax: Syntax = MICRODATA
) -> Found | None:
    """The page's product from microdata (or RDFa with ``syntax=RDFA``), or None."""
    scopes = [e for e in syntax.scope_xpath(root) if PRODUCT.search(e.get(syntax.type_attr, ""))]
    top = [e for e in scopes if not any(_is_product(a, syntax) for a in e.iterancestors())]
    read = [(_read_scope(e, syntax), e) for e in top]
    top = [e for f, e in read if f is not None]
    products = [f for f, _e in read if f is not None]
    if not products and syntax is MICRODATA and not scopes:
        return _loose_prices(root)
    main = [p for p, e in zip(products, top, strict=True) if not _in_unrelated_block(e)]
    if main and len(main) < len(products):
        products = main  # products in "related", "recommended" … blocks are not the page's
    return choose_product(syntax.method, products, page_url, heading)


def find_rdfa(root: Element, page_url: str, heading: str | None = None) -> Found | None:
    return find_microdata(root, page_url, heading, RDFA)


def _in_unrelated_block(element: Element) -> bool:
    for node in element.iterancestors():
        if node.tag in ("body", "html"):
            return False
        label = f"{node.get('class') or ''} {node.get('id') or ''}"
        if node.tag in UNRELATED_TAGS or UNRELATED_CONTAINER.search(label):
            return True
    return False


def _is_product(element: Element, syntax: Syntax) -> bool:
    return bool(PRODUCT.search(element.get(syntax.type_attr) or ""))


def _props(scope: Element, syntax: Syntax) -> dict[str, list[tuple[str, Element]]]:
    props: dict[str, list[tuple[str, Element]]] = defaultdict(list)
    stack = list(scope)
    while stack:
        element = stack.pop()
        if not isinstance(element.tag, str) or _is_product(element, syntax):
            continue
        for name in (element.get(syntax.prop_attr) or "").split():
            key = re.split(r"[/:#]", name)[-1].lower()
            if key in WANTED:
                props[key].append((_value(element), element))
        stack.extend(element)
    return props


def _value(element: Element) -> str:
    for attr in ("content", "href", "src", "value", "datetime"):
        value = element.get(attr)
        if value is not None and (attr != "value" or element.tag in ("data", "meter")):
            return str(value)
    return str(text_of(element))


def _read_scope(scope: Element, syntax: Syntax) -> Found | None:
    props = _props(scope, syntax)
    pairs = props.get("price") or props.get("hascurrencyvalue") or props.get("lowprice") or []
    if not pairs:
        return None
    current = [(parse_price(v), _looks_old(e, scope)) for v, e in pairs]
    values = distinct_prices([p for p, old in current if p is not None and not old])
    olds = distinct_prices([p for p, old in current if p is not None and old])
    info = _describe(props, pairs[0][0], syntax.method)
    if len(values) != 1:
        shown = ", ".join(map(str, values[:4]))
        why = (
            f"{len(values)} different prices in one product ({shown})"
            if values
            else f"unreadable price {pairs[0][0]!r}"
        )
        return replace(info, reason=why)
    return replace(info, price=values[0], old_price=olds[0] if len(olds) == 1 else None)


def _describe(props: dict[str, list[tuple[str, Element]]], price_text: str, method: str) -> Found:
    """Everything but the price: currency, availability, sku, gtin, name, url."""

    def first(key: str) -> str | None:
        return props[key][0][0] if props.get(key) else None

    gtins = (parse_gtin(first(k)) for k in ("gtin13", "gtin", "gtin14", "gtin12", "gtin8"))
    return Found(
        method,
        currency=find_currency(first("pricecurrency") or first("hascurrency"))
        or find_currency(price_text),
        availability=parse_availability(first("availability")),
        sku=clean_text(first("sku") or first("mpn") or first("productid"), 100),
        gtin=next((g for g in gtins if g), None),
        title=clean_text(first("name")),
        url=first("url"),
    )


def _looks_old(element: Element, scope: Element) -> bool:
    """A price element marked up as the old price (its class or one of its 3 nearest
    parents', or <del>/<s>) inside the scope."""
    for depth, node in enumerate((element, *element.iterancestors())):
        if node is scope or depth > 3:
            return False
        if node.tag in ("del", "s", "strike") or OLD_PRICE_CLASS.search(node.get("class") or ""):
            return True
    return False


def _loose_prices(root: Element) -> Found | None:
    """``itemprop="price"`` outside any Product scope (an Offer alone, or bare tags)."""
    elements = _PRICE_PROPS(root)
    if not elements:
        return None
    prices = distinct_prices(
        [p for p in (parse_price(_value(e)) for e in elements) if p is not None]
    )
    currency_el = _CURRENCY_PROPS(root)
    availability_el = _AVAILABILITY_PROPS(root)
    if len(prices) != 1:
        return (
            Found("microdata", reason=f"{len(prices)} different itemprop=price values")
            if prices
            else None
        )
    return Found(
        "microdata",
        price=prices[0],
        currency=find_currency(_value(currency_el[0]))
        if currency_el
        else find_currency(_value(elements[0])),
        availability=parse_availability(_value(availability_el[0]))
        if availability_el
        else "unknown",
    )
