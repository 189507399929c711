"""Where the page's main product lives, and which blocks belong to other products.

The main product is anchored by the page's title heading (the first visible ``<h1>``
outside page furniture) and its buy control (the add-to-cart button nearest that
heading). A node belongs to another product or to page furniture when, on its way up to
the first block it shares with an anchor, it passes through:

- page furniture (``header``, ``footer``, ``nav``, ``aside``, ``dialog``; ARIA roles
  navigation, dialog, complementary);
- a block whose class, id or ``aria-label`` names recommendations, related or similar
  products, other sellers, comparisons, carousels … (:data:`UNRELATED_CONTAINER`, in
  several languages);
- a link to another page (a price inside ``<a href>`` is a teaser of another product or
  of an offers list);
- a card among repeated sibling cards (three or more siblings of the same tag and
  class) that holds a link: one tile of a product grid or carousel;
- a hidden element.

Blocks above the shared one are not judged: they hold the main product too (a
``product-header`` holding the title is the product, not page furniture). Answers are
cached per node, so a page costs one walk per distinct path.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from spiders.pages._phrases import (
    BUY_CLASS,
    BUY_PHRASE,
    NAVIGATION_CLASS,
    UNRELATED_CONTAINER,
    UNRELATED_TAGS,
)
from spiders.pages.found import same_url
from spiders.pages.survey import PageSurvey, survey_page
from spiders.pages.tree import (
    Document,
    Node,
    is_hidden,
    label,
    lineage,
    squash,
    text_of,
)

_FURNITURE_ROLES = frozenset({"navigation", "dialog", "complementary", "banner", "contentinfo"})
# Swatches, size and colour choices: their prices are other variants' (the buy control
# itself is an anchor, so a price inside it is never judged).
_CHOICE_TAGS = frozenset({"button", "option", "select", "label"})
_CHOICE_ROLES = frozenset({"radio", "option", "tab", "menuitem", "menuitemradio"})
_LONGEST_LABEL = 400  # characters of text, spaces included, a buy control's label may have
_FAR = 1000  # steps "to" an anchor in another tree (or without any anchor)
_CONTROL_TAGS = frozenset({"a", "button"})
# Levels above the title whose blocks are searched for the buy control before the page.
_NEAR_LEVELS = 3
_BUY_CSS = (
    "button,input[type=submit],input[type=button],[class*=cart i],[id*=cart i],"
    "[class*=buy i],[id*=buy i],[name*=add i],a[class*=cta i]"
)


class PageRegion:
    """The main product's anchors and the verdicts on other blocks of one page."""

    def __init__(self, doc: Document, page_url: str, survey: PageSurvey | None = None) -> None:
        self.doc = doc
        self.page_url = page_url
        self.survey = survey if survey is not None else survey_page(doc, False, False)
        self._verdicts: dict[int, str | None] = {}
        self._furniture: dict[int, bool] = {}
        self._navigation: dict[int, bool] = {}
        self._repeated: dict[tuple[int, str | None, str | None], bool] = {}
        self._buy_verdicts: dict[int, bool] = {}
        self.per_unit = 0  # main-product prices seen quoted per unit of measure
        self.microdata = True  # the page may carry itemprop attributes (False: it has none)

    @cached_property
    def heading(self) -> Node | None:
        """The product's title element: the first visible ``<h1>`` outside furniture."""
        return next((n for n in self.survey.headings if self._is_title(n)), None)

    def _is_title(self, node: Node) -> bool:
        """A heading with text, shown, outside page furniture and site navigation
        (a menu whose sections are headed by ``<h1>``)."""
        return bool(text_of(node)) and not (
            self._furniture_or_hidden(node) or self._in_navigation(node)
        )

    def _in_navigation(self, node: Node) -> bool:
        """Inside a block whose class or id names site navigation (cached on the path)."""
        return _on_path(node, self._navigation, _names_navigation)

    def heading_text(self) -> str | None:
        """The title's text (read when several products need telling apart)."""
        return text_of(self.heading) if self.heading is not None else None

    @cached_property
    def buy_button(self) -> Node | None:
        """The add-to-cart / buy control nearest the title (the first one without a title).

        Control-like elements are ranked by their distance to the title (ties: page
        order) and judged in that order until one is a buy control, so the many
        add-to-cart buttons of a page's carousels are not read. The blocks a few levels
        above the title are searched first: a block ``n`` levels up holds every element
        within ``n`` steps of the title, so a buy control found that near is the one the
        whole page would give, and one found further away names the block to search."""
        heading = self.heading
        if heading is None:
            return self._nearest_buy(self.doc.css(_BUY_CSS))
        path = list(lineage(heading))
        for level, block in enumerate(path[: _NEAR_LEVELS + 1]):
            found = self._nearest_buy(block.css(_BUY_CSS))
            if found is None:
                continue
            steps = self._from_heading(found)
            if steps <= level:
                return found
            if steps < len(path):
                return self._nearest_buy(path[steps].css(_BUY_CSS))
            break
        return self._nearest_buy(self.doc.css(_BUY_CSS))

    def _nearest_buy(self, controls: list[Node]) -> Node | None:
        """The buy control among ``controls`` (in page order) nearest the title."""
        if self.heading is not None:
            steps = self._from_heading
            ranked = sorted(range(len(controls)), key=lambda i: (steps(controls[i]), i))
            controls = [controls[i] for i in ranked]
        return next((n for n in controls if self._is_buy_control(n)), None)

    def _is_buy_control(self, node: Node) -> bool:
        key = node.mem_id
        verdict = self._buy_verdicts.get(key)
        if verdict is None:
            verdict = _is_buy(node) and not self._furniture_or_hidden(node)
            self._buy_verdicts[key] = verdict
        return verdict

    @cached_property
    def state_labels(self) -> list[Node]:
        """Labels beside the buy label inside one clickable control (``<a><span>Add to
        cart</span><span>Sold out</span></a>``): the stylesheet shows the one that fits
        the product's state, so their words say nothing about it."""
        button = self.buy_button
        parent = button.parent if button is not None else None
        if button is None or parent is None or parent.tag not in _CONTROL_TAGS:
            return []
        if button.tag in _CONTROL_TAGS:
            return []
        return [n for n in parent.iter() if n.mem_id != button.mem_id]

    @cached_property
    def scope(self) -> Node | Document:
        """Where price and stock elements are looked for: the block holding the title
        and the buy control (the title's block four levels up without a buy control),
        or the whole page without a title. Other products far from both need not be
        read at all."""
        heading, button = self.heading, self.buy_button
        if heading is None:
            return self.doc
        block = heading
        if button is not None:
            path = _path_steps(heading)
            block = next((n for n in lineage(button) if n.mem_id in path), heading)
            levels = 1
        else:
            levels = 4
        for _ in range(levels):
            parent = block.parent
            if parent is None or parent.tag in ("html", "-document", None):
                break
            block = parent
        return block

    @cached_property
    def title_block(self) -> Node | Document:
        """The title's block four levels up (the whole page without a title): where a
        product's own price and old price sit, found without the buy control."""
        block = self.heading
        if block is None:
            return self.doc
        for _ in range(4):
            parent = block.parent
            if parent is None or parent.tag in ("html", "-document", None):
                break
            block = parent
        return block

    def title_block_struck(self) -> bool:
        """The title's block holds a struck-through element (``<del>``, ``<s>``,
        ``<strike>``), itself included; the page's struck elements are known from the
        survey, so the block is not walked."""
        block, struck = self.title_block, self.survey.struck
        if not struck or not isinstance(block, Node):
            return bool(struck)
        target = block.mem_id
        inside: dict[int, bool] = {}
        return any(_on_path(n, inside, lambda n: n.mem_id == target) for n in struck)

    @cached_property
    def main_block(self) -> Node | None:
        """Where plain-text prices are looked for: the smallest block holding the title
        and the buy control (the title alone when only the whole page holds both),
        widened by two levels; None without a title."""
        heading, button = self.heading, self.buy_button
        if heading is None:
            return None  # no title to be near: plain text is not read as a price
        block = heading
        if button is not None:
            path = _path_steps(heading)
            shared = next((n for n in lineage(button) if n.mem_id in path), heading)
            block = shared if shared.tag not in ("body", "main") else heading
        for _ in range(2):
            parent = block.parent
            if parent is None or parent.tag in ("html", "-document", None):
                break
            block = parent
        return block

    @cached_property
    def _anchor_paths(self) -> list[dict[int, int]]:
        return [_path_steps(a) for a in (self.heading, self.buy_button) if a is not None]

    @cached_property
    def _from_heading(self) -> _Steps:
        return _Steps(_path_steps(self.heading) if self.heading is not None else {})

    @cached_property
    def _from_anchors(self) -> list[_Steps]:
        heading = [self._from_heading] if self.heading is not None else []
        button = [_Steps(_path_steps(self.buy_button))] if self.buy_button is not None else []
        return heading + button

    @property
    def has_anchor(self) -> bool:
        return bool(self._anchor_paths)

    def distance(self, node: Node) -> int:
        """Steps through the tree from ``node`` to the nearest anchor (large without)."""
        return min((steps(node) for steps in self._from_anchors), default=_FAR)

    def unrelated(self, node: Node) -> str | None:
        """Why ``node`` is not part of the main product (see the module doc), or None."""
        walked: list[int] = []
        verdict: str | None = None
        shared = self._shared_ids
        for current in lineage(node):
            key = current.mem_id
            if key in self._verdicts:
                verdict = self._verdicts[key]
                break
            if key in shared or current.tag == "body":
                break
            walked.append(key)
            verdict = self._judge(current)
            if verdict:
                break
        for key in walked:
            self._verdicts[key] = verdict
        return verdict

    @cached_property
    def _shared_ids(self) -> frozenset[int]:
        return frozenset(key for path in self._anchor_paths for key in path)

    def _judge(self, node: Node) -> str | None:
        tag = node.tag or ""
        if tag in UNRELATED_TAGS or tag == "dialog":
            return f"inside <{tag}>"
        attrs = node.attributes
        if attrs.get("role") in _FURNITURE_ROLES:
            return f"inside role={attrs.get('role')}"
        if is_hidden(node, attrs):
            return "hidden"
        words = f"{label(node, attrs)} {(attrs.get('aria-label') or '').lower()}"
        word = UNRELATED_CONTAINER.search(words)
        if word:
            return f"inside a {word!r} block"
        if tag == "a" and self._links_away(attrs.get("href") or ""):
            return "inside a link to another page"
        if tag in _CHOICE_TAGS or attrs.get("role") in _CHOICE_ROLES:
            return "inside a variant choice"
        if tag in ("li", "div", "article") and self._is_repeated_card(node, attrs.get("class")):
            return "inside one of several product cards"
        return None

    def _is_repeated_card(self, node: Node, cls: str | None) -> bool:
        """One of three or more siblings of the same tag and class, holding a link.
        The siblings are counted once per parent and kind: every card of a long list
        asks the same question."""
        parent = node.parent
        if parent is None:
            return False
        key = (parent.mem_id, node.tag, cls)
        repeated = self._repeated.get(key)
        if repeated is None:
            repeated = self._repeated[key] = _has_three(parent, node.tag, cls)
        return repeated and node.css_first("a[href]") is not None

    def _links_away(self, href: str) -> bool:
        href = href.strip()
        if not href or href.startswith(("#", "javascript:")):
            return False
        return not same_url(href if "//" in href else self._absolute(href), self.page_url)

    def _absolute(self, href: str) -> str:
        from urllib.parse import urljoin

        return urljoin(self.page_url, href)

    def _furniture_or_hidden(self, node: Node) -> bool:
        """Inside page furniture or hidden (answers cached along the path)."""
        return _on_path(node, self._furniture, _furniture_or_hidden_node)


def _on_path(node: Node, cache: dict[int, bool], hit: Callable[[Node], bool]) -> bool:
    """Whether ``node`` or one of its ancestors is a ``hit``. Each node walked gets the
    answer in ``cache``, so a later walk stops at the first node already judged."""
    walked: list[int] = []
    verdict = False
    for current in lineage(node):
        key = current.mem_id
        if key in cache:
            verdict = cache[key]
            break
        walked.append(key)
        if hit(current):
            verdict = True
            break
    for key in walked:
        cache[key] = verdict
    return verdict


def _names_navigation(node: Node) -> bool:
    return node.tag != "body" and NAVIGATION_CLASS.search(label(node)) is not None


def _furniture_or_hidden_node(node: Node) -> bool:
    if node.tag in UNRELATED_TAGS:
        return True
    attrs = node.attributes
    return attrs.get("role") in _FURNITURE_ROLES or is_hidden(node, attrs)


def _is_buy(node: Node) -> bool:
    attrs = node.attributes
    if BUY_CLASS.search(f"{label(node, attrs)} {attrs.get('name') or ''}"):
        return True
    own = node.text(deep=True) if node.tag != "input" else ""
    if len(own) > _LONGEST_LABEL:
        return False  # a whole block, not a button's label
    text = squash(f"{own} {attrs.get('value') or ''} {attrs.get('aria-label') or ''}").lower()
    return 0 < len(text) < 60 and BUY_PHRASE.search(text) is not None


def _path_steps(node: Node) -> dict[int, int]:
    """mem_id of ``node`` and each ancestor -> steps up from ``node``."""
    return {n.mem_id: i for i, n in enumerate(lineage(node))}


class _Steps:
    """Steps through the tree from a node to one anchor (up to the first block the two
    share, then down), remembered for every node on the way up: price elements of one
    page share most of their ancestors."""

    def __init__(self, path: dict[int, int]) -> None:
        # The anchor and its ancestors (steps up from the anchor), then every node
        # walked through (steps to the anchor).
        self.known: dict[int, int] = dict(path)

    def __call__(self, node: Node) -> int:
        known = self.known
        walked: list[int] = []
        found = _FAR
        current: Node | None = node
        while current is not None:  # up to the document: <html> is never on the path
            key = current.mem_id
            steps = known.get(key)
            if steps is not None:
                found = steps
                break
            walked.append(key)
            current = current.parent
        for up, key in enumerate(reversed(walked), start=1):
            known[key] = found + up if found < _FAR else _FAR
        return known[walked[0]] if walked else found


def _has_three(parent: Node, tag: str | None, cls: str | None) -> bool:
    """``parent`` has at least three children of this tag and class."""
    same = 0
    for sibling in parent.iter():
        if sibling.tag == tag and sibling.attributes.get("class") == cls:
            same += 1
            if same >= 3:
                return True
    return False
