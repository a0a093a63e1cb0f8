"""Block numbers, given once at render (``render.blocknumbers``): the print HTML carries each block's number
(``data-block``), the page map is read back by it, and the EPUB places its page-break markers by the same
number, so that each marker is where its page of the PDF begins, whatever the section holds (here, an
author's own ``#`` heading, which is a block like any other heading, not the section's title)."""

from __future__ import annotations

import copy
import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from briefpress.build import prepare
from briefpress.cli import main
from briefpress.editions import pdf, typeset
from briefpress.errors import Diagnostics
from briefpress.model import PageStart
from briefpress.render import pagebreaks
from tools.checks import PdfReport, letters_after, page_letters
from tools.paths import BRIEF

from tests.editions.test_print_corpus import pdf_pages

XHTML = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
TITLE = "Numbered blocks"
SENTENCE = "The reform of the constitution went on through the year, step by step, chamber by chamber. "


def paragraphs(first: int, count: int) -> str:
    return "\n\n".join(f"Paragraph {chr(97 + (n % 26))}{n} opens here. {SENTENCE * 5}"
                       for n in range(first, first + count))


SECTIONS = {
    "one": f"""---
title: Background
---

# An author's own heading

{paragraphs(0, 14)}

::: {{.content-visible when-format="pdf"}}
Printed only: {SENTENCE * 3}
:::

## Later steps

- a first item of the list
- a second item of the list

{paragraphs(14, 14)}
""",
    "two": f"""---
title: Outlook
---

{paragraphs(28, 10)}
""",
}


@pytest.fixture(scope="module")
def brief(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("blocks") / "brief"
    (root / "sections").mkdir(parents=True)
    for name, text in SECTIONS.items():
        (root / "sections" / f"{name}.md").write_text(text, encoding="utf-8")
    (root / "brief.yaml").write_text(
        f"title: {TITLE}\nlang: en\nidentifier: urn:x:blocks\ndate: 2026-01-01\nslug: blocks\n"
        "sections: [sections/one.md, sections/two.md]\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def built(brief: Path) -> Path:
    out = brief.parent / "dist"
    assert main(["build", str(brief), "--format", "pdf", "--format", "epub", "--out", str(out)]) == 0
    return out


def test_each_page_marker_is_where_its_page_begins(built: Path) -> None:
    """The text after each marker of the EPUB's page list is the text its PDF page begins with: pages that
    begin after the author's heading too."""
    pages = pdf_pages(built / "blocks.pdf")
    report = PdfReport(built / "blocks.pdf")  # a page's number is its label: the front is numbered apart
    with zipfile.ZipFile(built / "blocks.epub") as epub:
        nav_name = next(n for n in epub.namelist() if n.endswith("nav.xhtml"))
        nav = etree.fromstring(epub.read(nav_name))
        links = nav.xpath('//x:nav[@epub:type="page-list"]//x:a', namespaces=XHTML)
        found = []
        for a in links:
            name, _, anchor = a.get("href").partition("#")
            document = etree.fromstring(epub.read(f"{nav_name.rsplit('/', 1)[0]}/{name}"))
            marker = document.xpath(f"//*[@id='{anchor}']")[0]
            found.append((int(a.text), letters_after(marker), page_letters(pages[report.index_of(int(a.text))], TITLE)))
    assert len(found) > 5, "the body runs over several pages"
    assert any(after.startswith("Paragraph") and page > 1 for page, after, _ in found)
    assert [(page, after) for page, after, _ in found] == [(page, printed) for page, _, printed in found]


def _print_letters(element: etree._Element) -> str:
    """The first letters of a block of the print HTML, without the notes the PDF sets at their calls."""
    element = copy.deepcopy(element)
    for note in element.xpath(".//*[contains(concat(' ', @class, ' '), ' footnote ')]"):
        parent, previous = note.getparent(), note.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + (note.tail or "")
        else:
            parent.text = (parent.text or "") + (note.tail or "")
        parent.remove(note)
    return "".join(re.findall(r"[^\W\d_]", "".join(element.itertext())))[:20]


@pytest.mark.parametrize("which", ["example", "own heading"])
def test_the_print_html_numbers_blocks_as_the_epub_does(which: str, brief: Path) -> None:
    """Every block the print HTML numbers (``data-block``), but the section's title, has the EPUB's marker
    for that number before its own first letters: both editions number the same blocks alike."""
    rendered = prepare(BRIEF if which == "example" else brief, Diagnostics(), strict=True)
    tree = etree.HTML(pdf.print_job(rendered).source)
    blocks = list(typeset._blocks(tree))
    assert [place for _, place in blocks if place[1] == 0] == [(part.id, 0) for part in rendered.sections]
    checked = 0
    for part in rendered.sections:
        own = [(number, element) for element, (section, number) in blocks if section == part.id and number]
        assert [number for number, _ in own] == list(range(1, len(own) + 1)), "numbered once each, in order"
        starts = [PageStart(number + 1, part.id, number, 0) for number, _ in own]
        html = rendered.html(part, "epub", None, pagebreaks.breaks(starts, part.id))
        body = etree.fromstring(f'<body xmlns:epub="http://www.idpf.org/2007/ops">{html}</body>')
        printed_only = {token.meta.get("block") for token in part.tokens
                        if "epub" not in token.meta.get("in_editions", ("epub",))}
        for number, element in own:
            in_print = _print_letters(element)
            if number in printed_only or not in_print:
                continue
            marker = body.xpath(f"//*[@id='page-{number + 1}']")
            assert marker, f"{part.id}: block {number} has no marker in the EPUB"
            assert letters_after(marker[0])[:len(in_print)] == in_print, (part.id, number, in_print)
            checked += 1
    assert checked > 20


def test_only_the_print_edition_carries_numbers(brief: Path) -> None:
    rendered = prepare(brief, Diagnostics(), strict=True)
    part = rendered.sections[0]
    assert 'data-block="1"' in rendered.html(part, "pdf")
    assert "data-block" not in rendered.html(part, "epub") and "data-block" not in rendered.html(part, "html")
