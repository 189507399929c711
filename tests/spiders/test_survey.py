"""The one walk of a page for its JSON-LD scripts, headings, struck and microdata
elements: each element listed once, in document order, whatever selectors it matches."""

from __future__ import annotations

from spiders.pages.region import PageRegion
from spiders.pages.survey import survey_page
from spiders.pages.tree import parse_html

PAGE = """<html><head><script type="Application/LD+JSON">{}</script></head><body>
<div class="menu"><h1 itemprop="name">Menu</h1></div>
<div itemscope itemtype="https://schema.org/Product" typeof="Product">
  <div><div><div><h1 itemprop="name">Kettle</h1></div></div></div>
  <s itemprop="price">10</s><del>9</del>
  <script type="text/javascript">var x = 1;</script>
</div></body></html>"""


def test_survey_sorts_out_each_element_once_in_page_order() -> None:
    doc = parse_html(PAGE)
    assert doc is not None
    survey = survey_page(doc, microdata=True, rdfa=True)
    assert [n.text() for n in survey.scripts] == ["{}"]
    assert [n.text() for n in survey.headings] == ["Menu", "Kettle"]
    assert [n.tag for n in survey.struck] == ["s", "del"]
    assert [n.tag for n in survey.props] == ["h1", "h1", "s"]
    assert [n.tag for n in survey.item_types] == ["div"]
    assert survey.typed is True


def test_survey_asks_for_attributes_only_when_told() -> None:
    doc = parse_html(PAGE)
    assert doc is not None
    survey = survey_page(doc, microdata=False, rdfa=False)
    assert survey.props == [] and survey.item_types == [] and survey.typed is None
    assert len(survey.headings) == 2 and len(survey.struck) == 2


def test_struck_element_in_the_title_block_or_not() -> None:
    doc = parse_html(PAGE)
    assert doc is not None
    region = PageRegion(doc, "https://shop.example/kettle", survey_page(doc, False, False))
    assert region.heading is not None and region.heading.text() == "Kettle"
    assert region.title_block_struck()
    far = parse_html(
        "<body><div><div><div><div><div><h1>Kettle</h1></div></div></div></div>"
        "<p>12</p></div><s>10</s></body>"
    )
    assert far is not None
    assert not PageRegion(far, "https://shop.example/kettle").title_block_struck()
