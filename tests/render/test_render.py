"""Unit tests of the render stage on the small fixture brief under tests/briefs/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from lxml import etree

from briefpress.errors import Diagnostics
from briefpress.load import load_brief
from briefpress.render import render_brief
from briefpress.render.jinja import human_date

MINIMAL = Path(__file__).parents[1] / "briefs" / "minimal"


@pytest.fixture(scope="module")
def rendered():
    diags = Diagnostics()
    brief = load_brief(MINIMAL, diags)
    assert brief is not None and diags.items == []
    result = render_brief(brief, diags)
    assert result is not None and diags.items == []
    return result


def _xhtml(rendered, index: int, fmt: str = "epub") -> etree._Element:
    body = rendered.html(rendered.sections[index], fmt)
    return etree.fromstring(
        f'<div xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">{body}</div>')


NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}


def test_jinja_sees_metadata_and_markdown_is_rendered(rendered) -> None:
    doc = _xhtml(rendered, 0)
    assert doc.xpath("string(//x:em)", namespaces=NS) == "A Minimal Brief"
    assert doc.xpath("//x:h2[@id='first-heading']", namespaces=NS)


def test_lone_image_becomes_a_captioned_figure(rendered) -> None:
    doc = _xhtml(rendered, 0)
    figure = doc.xpath("//x:figure[@id='fig-square']", namespaces=NS)[0]
    assert figure.xpath("x:img/@alt", namespaces=NS) == ["A red square"]
    # Its id starts with fig-, so it is numbered, as Quarto numbers it.
    assert figure.xpath("string(x:figcaption)", namespaces=NS) == "Figure\u00a01: A captioned square"
    assert figure.xpath("string(x:figcaption/x:span[@class='caption-label'])", namespaces=NS) == "Figure\u00a01:"
    assert rendered.images == ("images/square.png",)


def test_cross_references_point_across_documents_in_epub(rendered) -> None:
    hrefs = _xhtml(rendered, 0).xpath("//x:p/x:a/@href", namespaces=NS)
    assert "data.xhtml" in hrefs and "data.xhtml#data-table" in hrefs
    html_hrefs = _xhtml(rendered, 0, "html").xpath("//x:p/x:a/@href", namespaces=NS)
    assert "#data" in html_hrefs and "#data-table" in html_hrefs


def test_footnotes_are_numbered_across_the_brief(rendered) -> None:
    first = _xhtml(rendered, 0).xpath("//x:a[@epub:type='noteref']/@href", namespaces=NS)
    second = _xhtml(rendered, 1).xpath("//x:a[@epub:type='noteref']/@href", namespaces=NS)
    assert first == ["#fn-1"] and second == ["#fn-2"]
    pdf = _xhtml(rendered, 0, "pdf")
    note = pdf.xpath("//x:span[@class='footnote']", namespaces=NS)[0]
    assert "A note with a" in "".join(note.itertext())
    assert not pdf.xpath("//x:aside", namespaces=NS), "PDF notes float from their call, no endnote list"


def test_timeline_macro_sorts_by_date_and_escapes(rendered) -> None:
    doc = _xhtml(rendered, 1)
    rows = [["".join(td.itertext()) for td in tr.xpath("x:td", namespaces=NS)]
            for tr in doc.xpath("//x:tbody/x:tr", namespaces=NS)]
    assert rows == [["January 2020", "Earlier", "A & co"], ["3 February 2021", "Later | piped", "B"]]


def test_raw_html_is_shown_as_text(rendered) -> None:
    doc = _xhtml(rendered, 1)
    assert not doc.xpath("//x:b", namespaces=NS)
    assert "Raw <b>HTML</b> is shown as text." in "".join(doc.itertext())
    assert "Jinja comment" not in "".join(doc.itertext())


def test_headings_and_ids_belong_to_their_sections(rendered) -> None:
    intro, data = rendered.sections
    assert [(h.level, h.id, h.text) for h in intro.headings] == [(2, "first-heading", "First heading")]
    assert [(h.level, h.id, h.text) for h in data.headings] == [(2, "data-table", "The table")]
    assert dict(rendered.id_owner) == {"intro": "intro", "first-heading": "intro", "fig-square": "intro",
                                       "data": "data", "data-table": "data"}


def test_line_map_points_past_a_jinja_expansion_at_the_source_line() -> None:
    """Lines that Jinja grew from one source line map back to it; the lines after map to their own."""
    from briefpress.render.linemap import LineMap

    source = "First.\n{{ rows }}\n\nLast.\n"
    output = "First.\nrow 1\nrow 2\nrow 3\n\nLast.\n"
    line_of = LineMap(source, output, first_line=5)  # the body starts on line 5 of the file
    assert [line_of(i) for i in range(6)] == [5, 6, 6, 6, 7, 8]


@pytest.mark.parametrize("value,expected", [
    ("2022-11-20", "20 November 2022"), ("2019-03", "March 2019"), ("2020", "2020"),
    (dt.date(2022, 6, 5), "5 June 2022"),
])
def test_human_date(value, expected: str) -> None:
    assert human_date(value) == expected
