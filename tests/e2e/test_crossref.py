"""Numbered figures, tables and boxes, read in each edition as a reader meets them.

The fixture brief (tests/briefs/crossref) has two figures (an image in Quarto's form and a chart), two tables
(the timeline macro's and a pipe table captioned in Quarto's form), three boxes (two numbered, one unnumbered
callout), numbered sections, references of every kind (``@fig-``, ``[@tbl-]``, ``[-@fig-]``, ``@sec-``,
``@box-``), with ``crossref: pages`` and lists of figures, tables and boxes. The expected numbers are written
out here by hand, from the fixture's source order.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pikepdf
import pytest
from lxml import etree
from lxml import html as lxml_html

from briefpress.cli import main
from tools.checks import PdfReport, epub_problems, normalise, pdf_problems, structure_problems
from tools.paths import ROOT

from tests.e2e.test_html_browser import MISSING, chromium_path, render  # the suite's Chromium driver

BRIEF = ROOT / "tests" / "briefs" / "crossref"
SLUG = "numbered-things"
XHTML = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}

#: Each target: its id, the label its caption or heading starts with, and its caption or title.
TARGETS = {
    "fig-square": ("Figure\u00a01", "A grey square, the first figure"),
    "fig-shares": ("Figure\u00a02", "Shares of the vote in two polls."),
    "tbl-events": ("Table\u00a01", "Dated steps, oldest first"),
    "tbl-counts": ("Table\u00a02", "Respondents in each poll"),
    "box-judgements": ("Box\u00a01", "Key judgements"),
    "box-caveat": ("Box\u00a02", "A caveat"),
}
#: Every reference in reading order: (the id it links to, the text it prints).
REFERENCES = [
    ("fig-square", "Figure\u00a01"), ("fig-shares", "Figure\u00a02"), ("tbl-events", "Table\u00a01"),
    ("tbl-counts", "Table\u00a02"),
    ("sec-method", "Section\u00a02.1"), ("data", "Section\u00a02"), ("fig-shares", "2"), ("box-caveat", "Box\u00a02"),
    ("box-judgements", "Box\u00a01"), ("fig-square", "Figure\u00a01"), ("tbl-counts", "Table\u00a02"),
]


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("crossref")
    assert main(["build", str(BRIEF), "--out", str(folder), "--strict"]) == 0
    return folder


@pytest.fixture(scope="module")
def pdf(out: Path) -> PdfReport:
    return PdfReport(out / f"{SLUG}.pdf")


def _text_layer(phrase: str) -> str:
    """A phrase as the PDF's text layer reads: the no-break space between a word and its number is a space
    there (the outline keeps it)."""
    return phrase.replace("\u00a0", " ")


def _collapse(text: str) -> str:
    """Whitespace collapsed, but for the no-break space Quarto puts before a number."""
    return re.sub(r"[^\S\u00a0]+", " ", text).strip()


def _page_of(pdf: PdfReport, phrase: str) -> int:
    """The printed number of the last page whose text has ``phrase`` (the target itself comes after the lists
    of the front matter)."""
    pages = [i for i, text in enumerate(pdf.pages) if _text_layer(phrase) in normalise(text)]
    assert pages, f"{phrase!r} is on no page"
    number = pdf.printed_number(pages[-1])
    assert number is not None
    return number


# -- PDF ------------------------------------------------------------------------------------------------------


def test_pdf_captions_carry_their_numbers(pdf: PdfReport) -> None:
    for label, caption in TARGETS.values():
        assert _text_layer(f"{label}: {caption}") in pdf.text


def test_pdf_references_print_their_targets_page(pdf: PdfReport) -> None:
    pages = {target: _page_of(pdf, f"{label}: {caption}") for target, (label, caption) in TARGETS.items()}
    pages["sec-method"] = _page_of(pdf, "2.1 Method")
    pages["data"] = _page_of(pdf, "2 Data")
    # The number and page of each reference ("Figure [-@fig-shares]" prints the word itself, as text).
    found = re.findall(r"(\d+(?:\.\d+)?) \(p\. ?(\d+)\)", pdf.text)
    printed = [(number, int(page)) for number, page in found]
    expected = [(text.split()[-1], pages[target]) for target, text in REFERENCES]
    assert printed == expected
    assert len({page for _, page in expected}) > 2, "the fixture's targets fall on several pages"


def test_pdf_lists_give_each_targets_page(pdf: PdfReport) -> None:
    entries = dict(pdf.toc_entries())  # (title, page); a title's final full stop is read as a leader
    for label, caption in TARGETS.values():
        assert entries[f"{label}: {caption}".rstrip(".")] == _page_of(pdf, f"{label}: {caption}")


def test_pdf_tags_every_figure_table_and_box(out: Path) -> None:
    """PDF/UA-1 structure: a Figure with alt text for each image, a Caption for each figure and table (inside
    its Table for tables), and a grouping Sect for each box, beside the three sections'."""
    path = out / f"{SLUG}.pdf"
    assert structure_problems(path) == [] and pdf_problems(path) == []
    elements: list[tuple[str, str | None, list[str]]] = []  # (tag, its parent's tag, its children's tags)
    with pikepdf.open(path) as doc:
        stack = [(doc.Root.StructTreeRoot.K, None)]
        while stack:
            node, parent = stack.pop()
            if isinstance(node, pikepdf.Array):
                stack.extend((kid, parent) for kid in node)
            elif isinstance(node, pikepdf.Dictionary) and "/S" in node:
                tag = str(node.S)
                kids = node.get("/K")
                kid_list = list(kids) if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]
                elements.append((tag, parent, [str(k.S) for k in kid_list
                                               if isinstance(k, pikepdf.Dictionary) and "/S" in k]))
                if tag == "/Figure":
                    assert str(node.get("/Alt", "")).strip(), "every figure has alt text"
                if kids is not None:
                    stack.append((kids, tag))
    names = [tag for tag, _, _ in elements]
    assert names.count("/Figure") == 2
    assert names.count("/Table") == 2
    assert sorted(parent for tag, parent, _ in elements if tag == "/Caption") == ["/NonStruct", "/NonStruct",
                                                                                  "/Table", "/Table"]
    # A box is a Sect whose heading is below the section's own H1: three boxes (one unnumbered callout).
    boxes = [kids for tag, _, kids in elements if tag == "/Sect" and kids and kids[0] in ("/H2", "/H3")]
    assert len(boxes) == 3


# -- EPUB -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def epub_docs(out: Path) -> dict[str, etree._Element]:
    with zipfile.ZipFile(out / f"{SLUG}.epub") as book:
        return {Path(name).name: etree.fromstring(book.read(name)) for name in book.namelist()
                if name.endswith(".xhtml")}


def test_epub_passes_epubcheck(out: Path) -> None:
    assert epub_problems(out / f"{SLUG}.epub") == []


def test_epub_captions_and_references_resolve(epub_docs: dict[str, etree._Element]) -> None:
    captions = {}
    for doc in epub_docs.values():
        for element in doc.xpath("//x:figure | //x:table | //x:section[contains(@class, 'box')]", namespaces=XHTML):
            if element.get("id") in TARGETS:
                heading = element.xpath("x:figcaption | x:caption | x:*[@class='box-title']", namespaces=XHTML)
                captions[element.get("id")] = _collapse("".join(heading[0].itertext()))
    assert captions == {key: f"{label}: {caption}" for key, (label, caption) in TARGETS.items()}
    links = []
    for name in ("findings.xhtml", "data.xhtml", "about.xhtml"):
        for a in epub_docs[name].xpath("//x:a[contains(@class, 'xref')]", namespaces=XHTML):
            target_file, _, fragment = a.get("href").partition("#")
            target_doc = epub_docs[target_file or name]
            target_id = fragment or target_doc.xpath("//x:section[contains(@class, 'section')]/@id",
                                                     namespaces=XHTML)[0]
            assert target_doc.xpath(f"//*[@id='{target_id}']"), a.get("href")
            links.append((target_id, "".join(a.itertext())))
    assert links == REFERENCES


def test_epub_boxes_are_named_sections(epub_docs: dict[str, etree._Element]) -> None:
    for doc in epub_docs.values():
        for box in doc.xpath("//x:section[contains(@class, 'box')]", namespaces=XHTML):
            named_by = box.get("aria-labelledby")
            if named_by:
                heading = box.xpath(f".//*[@id='{named_by}']", namespaces=XHTML)
                assert heading and re.fullmatch(r"h[2-6]", etree.QName(heading[0]).localname)
            else:
                assert box.get("aria-label")


def test_epub_nav_lists_figures_and_tables(epub_docs: dict[str, etree._Element]) -> None:
    nav = epub_docs["nav.xhtml"]
    for kind, keys in (("loi", ["fig-square", "fig-shares"]), ("lot", ["tbl-events", "tbl-counts"])):
        items = nav.xpath(f"//x:nav[@epub:type='{kind}']//x:a", namespaces=XHTML)
        assert [a.get("href").split("#")[1] for a in items] == keys
        assert ["".join(a.itertext()) for a in items] == [f"{TARGETS[k][0]}: {TARGETS[k][1]}" for k in keys]


# -- HTML in Chromium -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser_doc(out: Path, tmp_path_factory: pytest.TempPathFactory):
    binary = chromium_path()
    if binary is None:
        pytest.fail(MISSING, pytrace=False)
    views = render(binary, out / f"{SLUG}.html", tmp_path_factory.mktemp("chromium-profile"))
    return views


def test_html_in_chromium_numbers_and_references(browser_doc) -> None:
    for width, view in browser_doc.items():
        doc = lxml_html.fromstring(view.dom)
        for key, (label, caption) in TARGETS.items():
            element = doc.get_element_by_id(key)
            heading = element.xpath("figcaption | caption | *[@class='box-title']")
            assert _collapse(heading[0].text_content()) == f"{label}: {caption}"
        links = [(a.get("href")[1:], a.text_content()) for a in doc.xpath("//main//a[contains(@class, 'xref')]")]
        assert links == REFERENCES
        for target, _ in links:
            assert doc.get_element_by_id(target) is not None
        lists = {nav.get("id"): [a.get("href") for a in nav.xpath(".//a")]
                 for nav in doc.xpath("//nav[contains(@class, 'list-of')]")}
        assert lists == {"list-of-fig": ["#fig-square", "#fig-shares"], "list-of-tbl": ["#tbl-events", "#tbl-counts"],
                         "list-of-box": ["#box-judgements", "#box-caveat"]}
        # What assistive technology gets: two figures, two tables, and a region for each named box.
        assert view.roles["figure"] == 2 and view.roles["table"] == 2
        assert view.roles["region"] >= 3
        assert view.facts["scrollWidth"] <= view.facts["clientWidth"], "no sideways scrolling"
        assert view.console == []


# -- A brief laid out in parts ------------------------------------------------------------------------------


def test_a_brief_in_parts_prints_the_pages_it_knows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   pdf: PdfReport) -> None:
    """Laid out one section per part, the numbers are the same; a reference to an earlier part prints its
    target's page, one to a later part (not laid out yet) prints none, and none prints a wrong one."""
    from briefpress.build import build
    from briefpress.editions import pdf as pdf_edition
    from briefpress.errors import Diagnostics

    monkeypatch.setattr(pdf_edition, "WHOLE_CHARS", 100)
    monkeypatch.setattr(pdf_edition, "PART_CHARS", 100)
    diags = Diagnostics()
    [output] = build(BRIEF, ("pdf",), tmp_path, diags)
    assert diags.items == []
    parts = PdfReport(output.path)
    assert len(parts.pages) == len(pdf.pages)
    for label, caption in TARGETS.values():
        assert _page_of(parts, f"{label}: {caption}") == _page_of(pdf, f"{label}: {caption}")
    found = [(number, int(page)) for number, page in re.findall(r"(\d+(?:\.\d+)?) \(p\. ?(\d+)\)", parts.text)]
    # Findings' own figure; then Data's reference back to Box 1; then About's two, back to Findings and Data.
    assert found == [("1", _page_of(pdf, "Figure 1: A grey")), ("1", _page_of(pdf, "Box 1: Key")),
                     ("1", _page_of(pdf, "Figure 1: A grey")), ("2", _page_of(pdf, "Table 2: Respondents"))]
    assert "the shares are in Figure 2." in parts.text, "a reference to a later part prints no page"
