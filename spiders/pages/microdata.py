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
from decimal import Decimal

from spiders.pages._phrases import OLD_PRICE_CLASS
from spiders.pages.element import own_text
from spiders.pages.found import Found, Heading, choose_product, distinct_prices
from spiders.pages.region import PageRegion
from spiders.pages.tree import Node, label, lineage
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
_LAST_PART = re.compile(r"[/:#]")
_TOP = frozenset({"html", "-document", None})
WANTED = frozenset(
    {"price", "lowprice", "pricecurrency", "availability", "name", "sku", "mpn", "productid", "url",
     "gtin", "gtin8", "gtin12", "gtin13", "gtin14", "hascurrencyvalue", "hascurrency", "brand"}
)  # fmt: skip


@dataclass(frozen=True)
class Syntax:
    method: str
    type_attr: str  # itemtype / typeof
    prop_attr: str  # itemprop / property


MICRODATA = Syntax("microdata", "itemtype", "itemprop")
RDFA = Syntax("rdfa", "typeof", "property")
Props = dict[str, list[tuple[str, Node]]]


def find_microdata(
    region: PageRegion,
    page_url: str,
    heading: Heading = None,
    elements: list[Node] | None = None,
    typed: list[Node] | None = None,
    syntax: Syntax = MICRODATA,
) -> Found | None:
    """The page's product from microdata (or RDFa with ``syntax=RDFA``), or None.
    ``elements`` / ``typed``: the page's elements carrying the property / the type
    attribute, when the caller has looked them up already."""
    if typed is None:
        typed = region.doc.css(f"[{syntax.type_attr}]")
    owners: dict[int, Node | None] = {
        n.mem_id: n for n in typed if PRODUCT.search(n.attributes.get(syntax.type_attr) or "")
    }  # each Product scope is its own nearest one; other nodes are filled in on the way
    scopes: dict[int, tuple[Node, Props]] = {}
    loose: Props = defaultdict(list)
    if elements is None:
        elements = region.doc.css(f"[{syntax.prop_attr}]")
    for element in elements:
        for name in (element.attributes.get(syntax.prop_attr) or "").split():
            key = _LAST_PART.split(name)[-1].lower()
            if key not in WANTED:
                continue
            owner = _owner(element, owners)
            props = (
                loose
                if owner is None
                else scopes.setdefault(owner.mem_id, (owner, defaultdict(list)))[1]
            )
            props[key].append((_value(element), element))
    top = [(n, p) for n, p in scopes.values() if _owner(n, owners) is None]
    if not top:
        return _loose_prices(loose, region) if syntax is MICRODATA else None
    read = [(f, n) for f, n in ((_read_scope(n, p, syntax), n) for n, p in top) if f is not None]
    # Several products: those in other products' blocks are not the page's.
    main = [f for f, n in read if not region.unrelated(n)] if len(read) > 1 else []
    products = main if main else [f for f, _n in read]
    return choose_product(syntax.method, products, page_url, heading)


def find_rdfa(region: PageRegion, page_url: str, heading: Heading = None) -> Found | None:
    return find_microdata(region, page_url, heading, syntax=RDFA)


def _owner(element: Node, memo: dict[int, Node | None]) -> Node | None:
    """The nearest Product scope above ``element``. ``memo`` maps node ids to their
    nearest scope at or above them: a scope to itself, and the nodes of each path
    walked (so a page's many properties share the walk)."""
    path: list[int] = []
    found: Node | None = None
    node = element.parent
    while node is not None and node.tag not in _TOP:
        key = node.mem_id
        if key in memo:
            found = memo[key]
            break
        path.append(key)
        node = node.parent
    for key in path:
        memo[key] = found
    return found


def _value(element: Node) -> str:
    attrs = element.attributes
    for name in ("content", "href", "src", "value", "datetime"):
        value = attrs.get(name)
        if value is not None and (name != "value" or element.tag in ("data", "meter")):
            return str(value)
    return own_text(element)


def _read_scope(scope: Node, props: Props, syntax: Syntax) -> Found | None:
    pairs = props.get("price") or props.get("hascurrencyvalue") or props.get("lowprice") or []
    if not pairs:
        return None
    current = [(parse_price(v), _looks_old(e, scope)) for v, e in pairs]
    values = distinct_prices([p for p, old in current if p is not None and not old])
    nested = [_nested_old(e) for _v, e in pairs]
    olds = distinct_prices(
        [p for p, old in current if p is not None and old] + [p for p in nested if p]
    )
    info = _describe(props, pairs[0][0], syntax.method)
    if len(values) != 1:
        shown = ", ".join(map(str, values[:4]))
        why = (
            f"{len(values)} different prices in one product ({shown})"
            if values
            else f"unreadable price {pairs[0][0]!r}"
        )
        return replace(info, reason=why, candidates=tuple(values))
    return replace(info, price=values[0], old_price=olds[0] if len(olds) == 1 else None)


def _describe(props: Props, price_text: str, method: str) -> Found:
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
        brand=clean_text(first("brand"), 200),
    )


def _looks_old(element: Node, scope: Node) -> bool:
    """A price element marked up as the old price (its class or one of its 3 nearest
    parents', or <del>/<s>) inside the scope."""
    stop = scope.mem_id
    for depth, node in enumerate(lineage(element)):
        if node.mem_id == stop or depth > 3:
            return False
        if node.tag in ("del", "s", "strike") or OLD_PRICE_CLASS.search(label(node)):
            return True
    return False


def _nested_old(element: Node) -> Decimal | None:
    """An old price written inside the price element (``71,91 € <span class="price-old">
    79,90 €</span>``)."""
    for child in element.css("del,s,strike,[class]"):
        if child.tag in ("del", "s", "strike") or OLD_PRICE_CLASS.search(label(child)):
            return parse_price(child.text(deep=True))
    return None


def _loose_prices(props: Props, region: PageRegion) -> Found | None:
    """``itemprop="price"`` outside any Product scope (an Offer alone, or bare tags);
    those inside other products' blocks (a carousel of cards) are theirs."""

    def mine(key: str) -> list[str]:
        return [v for v, e in props.get(key) or [] if not region.unrelated(e)]

    values = mine("price")
    prices = distinct_prices([p for p in map(parse_price, values) if p is not None])
    if len(prices) != 1:
        return (
            Found("microdata", reason=f"{len(prices)} different itemprop=price values",
                  candidates=tuple(prices))
            if prices
            else None
        )  # fmt: skip
    currency = mine("pricecurrency")
    availability = mine("availability")
    return Found(
        "microdata",
        price=prices[0],
        currency=find_currency(currency[0]) if currency else find_currency(values[0]),
        availability=parse_availability(availability[0]) if availability else "unknown",
    )
