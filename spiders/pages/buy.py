"""The buy control nearest the product's title, found by searching outward from it.

Control-like elements (:data:`BUY_CSS`) are ranked by their steps through the tree to
the title (ties: page order) and judged in that order until one is a buy control. The
block ``n`` levels above the title holds every element within ``n`` steps of it, so the
search covers the title's block, then each next level up (only the parts not searched
yet: the level's own element and its other children), and stops at the first level
whose block holds a buy control within that many steps: it is the one the whole page
would give. On most pages the add-to-cart button sits a few levels from the title, and
the rest of the page (its carousels, menus and footer) is never searched.
"""

from __future__ import annotations

from collections.abc import Callable

from spiders.pages.tree import Node, ascii_lower

BUY_CSS = (
    "button,input[type=submit],input[type=button],[class*=cart i],[id*=cart i],"
    "[class*=buy i],[id*=buy i],[name*=add i],a[class*=cta i]"
)
# A level with more children than this is searched whole (already searched parts
# again) rather than child by child.
_MANY_CHILDREN = 64

Key = tuple[int, ...]  # page order among the elements found so far


class _Found:
    __slots__ = ("key", "node", "steps")

    def __init__(self, node: Node, steps: int, key: Key) -> None:
        self.node, self.steps, self.key = node, steps, key


def nearest_buy_control(
    path: list[Node], steps: Callable[[Node], int], is_buy: Callable[[Node], bool]
) -> Node | None:
    """The buy control nearest the title. ``path``: the title and its ancestors up to
    ``<body>``; ``steps``: a node's steps to the title; ``is_buy``: the judgement."""
    found: dict[int, _Found] = {}
    for level in range(len(path)):
        _search_level(path, level, found, steps)
        best = _first_buy(found, is_buy, level)
        if best is not None:
            return best
    best = _first_buy(found, is_buy, None)
    if best is not None or not path:
        return best
    return _outside(path[-1], found, is_buy)


def _search_level(
    path: list[Node], level: int, found: dict[int, _Found], steps: Callable[[Node], int]
) -> None:
    block = path[level]
    children = list(block.iter()) if level else []
    if not level or len(children) > _MANY_CHILDREN:
        placed: set[int] = set()
        for p, node in enumerate(block.css(BUY_CSS)):
            key = node.mem_id
            if key in placed:
                continue  # listed again for another selector it matches
            placed.add(key)
            seen = found.get(key)
            if seen is None:
                found[key] = _Found(node, steps(node), (p,))
            else:
                seen.key = (p,)  # every element found so far is inside the block
        return
    inner = path[level - 1].mem_id
    k = next(i for i, c in enumerate(children) if c.mem_id == inner)
    for seen in found.values():
        seen.key = (k, *seen.key)
    if matches_buy_css(block):
        found[block.mem_id] = _Found(block, steps(block), (-1,))
    for j, child in enumerate(children):
        if j != k:
            for p, node in enumerate(child.css(BUY_CSS)):
                if node.mem_id not in found:
                    found[node.mem_id] = _Found(node, steps(node), (j, p))


def _first_buy(
    found: dict[int, _Found], is_buy: Callable[[Node], bool], within: int | None
) -> Node | None:
    """The first buy control in rank order among those found (within ``within`` steps)."""
    ranked = sorted(
        (f for f in found.values() if within is None or f.steps <= within),
        key=lambda f: (f.steps, f.key),
    )
    return next((f.node for f in ranked if is_buy(f.node)), None)


def _outside(body: Node, found: dict[int, _Found], is_buy: Callable[[Node], bool]) -> Node | None:
    """The first buy control outside ``body`` (``<html>`` itself and ``<head>``), in page
    order: all of them are equally far from a title in the body."""
    root = body.parent
    if root is None:
        return None
    candidates = [root] if matches_buy_css(root) else []
    for child in root.iter():
        if child.mem_id != body.mem_id:
            candidates += child.css(BUY_CSS)
    return next((n for n in candidates if n.mem_id not in found and is_buy(n)), None)


def matches_buy_css(node: Node) -> bool:
    """``node`` itself matches :data:`BUY_CSS` (the parser's test answers for a whole
    subtree)."""
    tag = node.tag
    attrs = node.attributes
    if tag == "button":
        return True
    if tag == "input" and ascii_lower(attrs.get("type") or "") in ("submit", "button"):
        return True
    cls, ident = ascii_lower(attrs.get("class") or ""), ascii_lower(attrs.get("id") or "")
    if "cart" in cls or "cart" in ident or "buy" in cls or "buy" in ident:
        return True
    return "add" in ascii_lower(attrs.get("name") or "") or (tag == "a" and "cta" in cls)
