"""The page-wide elements extraction asks about, found in one walk of the document.

A walk of a parsed shop page costs far more than testing one more selector on each node
it visits (the tree of a 1 MB page does not stay in the processor's cache), so the
questions asked of the whole page are put to it together: its JSON-LD scripts, its
``<h1>`` headings, its struck-through elements and, where the page may carry them, its
microdata and RDFa attributes. The answers are sorted out here, in document order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spiders.pages.tree import Document, Node, ascii_lower

_JSONLD = 'script[type*="ld+json" i]'
_STRUCK = frozenset({"del", "s", "strike"})


@dataclass
class PageSurvey:
    """One page's elements of interest, each list in document order.

    ``props`` / ``item_types``: elements carrying ``itemprop`` / ``itemtype`` (asked for
    only when the page may carry microdata, else empty); ``typed``: whether an element
    carries ``typeof`` (RDFa; None when it was not asked)."""

    scripts: list[Node] = field(default_factory=list)
    headings: list[Node] = field(default_factory=list)
    struck: list[Node] = field(default_factory=list)
    props: list[Node] = field(default_factory=list)
    item_types: list[Node] = field(default_factory=list)
    typed: bool | None = None


def survey_page(doc: Document, microdata: bool, rdfa: bool) -> PageSurvey:
    """Walk ``doc`` once for its JSON-LD scripts, headings and struck elements, and its
    ``itemprop``/``itemtype`` elements when ``microdata``, ``typeof`` when ``rdfa``."""
    wanted = [_JSONLD, "h1", "del", "s", "strike"]
    if microdata:
        wanted += ["[itemprop]", "[itemtype]"]
    if rdfa:
        wanted.append("[typeof]")
    survey = PageSurvey(typed=False if rdfa else None)
    seen: set[int] = set()
    for node in doc.css(",".join(wanted)):
        key = node.mem_id
        if key in seen:  # a node matching several selectors is listed once for each
            continue
        seen.add(key)
        _sort_out(node, survey, microdata or rdfa)
    return survey


def _sort_out(node: Node, survey: PageSurvey, attributes: bool) -> None:
    tag = node.tag
    if tag == "h1":
        survey.headings.append(node)
    elif tag in _STRUCK:
        survey.struck.append(node)
    elif tag == "script" and _is_jsonld(node):
        survey.scripts.append(node)
    if not attributes:
        return
    attrs = node.attributes
    if "itemprop" in attrs:
        survey.props.append(node)
    if "itemtype" in attrs:
        survey.item_types.append(node)
    if "typeof" in attrs and survey.typed is not None:
        survey.typed = True


def _is_jsonld(node: Node) -> bool:
    """``type`` holds ``ld+json`` in any letter case (as the selector asks)."""
    kind = node.attributes.get("type") or ""
    return "ld+json" in ascii_lower(kind)
