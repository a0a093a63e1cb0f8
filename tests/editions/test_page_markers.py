"""Page-break markers inside a block: the EPUB puts each after as many of the block's letters and digits as
the PDF printed on the pages before (``PageStart.offset``), before the first word of its page, wherever that
is: inside a link, after a note's call, in a table cell, in a list item or a box, or inside a word broken
at a line's end."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from briefpress.build import prepare
from briefpress.errors import Diagnostics
from briefpress.model import PageStart
from briefpress.render import pagebreaks

SECTION = """---
title: Markers
---

Before the link [the linked words here](https://example.org/) after it, and a note[^1] then more words.

- first item of a tight list
- second item, with *emphasis inside* it

| Term | Detail |
| --- | --- |
| alpha | beta gamma delta |
| epsilon | zeta eta |

| Year | Event |
| --- | --- |
| 2019 | a succession |

: Key dates of the reform {#tbl-dates}

::: {.box title="A box"}
Words inside the box's paragraph.
:::

[^1]: The note's text, which the PDF prints at the foot of the page.
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("markers") / "brief"
    (root / "sections").mkdir(parents=True)
    (root / "sections" / "s.md").write_text(SECTION, encoding="utf-8")
    (root / "brief.yaml").write_text("title: Markers\nlang: en\nidentifier: urn:x:markers\ndate: 2026-01-01\n"
                                     "slug: markers\nsections: [sections/s.md]\n", encoding="utf-8")
    return prepare(root, Diagnostics(), strict=True)


def letters(text: str) -> int:
    return sum(map(str.isalnum, text))


def marked(rendered, starts: list[PageStart]) -> etree._Element:
    part = rendered.sections[0]
    html = rendered.html(part, "epub", None, pagebreaks.breaks(starts, part.id))
    return etree.fromstring(f'<body xmlns:epub="http://www.idpf.org/2007/ops">{html}</body>')


def after(body: etree._Element, page: int) -> tuple[str, str]:
    """The text after page ``page``'s marker (its first 40 characters) and the marker's parent's tag."""
    marker = body.xpath(f"//*[@id='page-{page}']")[0]
    text, started = [], False
    for event, element in etree.iterwalk(body, events=("start", "end")):
        if element is marker and event == "end":
            started = True
            text.append(element.tail or "")
        elif started:
            text.append((element.text if event == "start" else element.tail) or "")
    return re.sub(r"\s+", " ", "".join(text)).strip()[:40], marker.getparent().tag


@pytest.mark.parametrize(("block", "before", "expected", "parent"), [
    (1, "Before the link the", "linked words here", "a"),  # inside a link
    (1, "Before the link the linked words here after it, and a note", "then more words.", "p"),  # after a call
    (1, "Before the link the linked words here after it, and a note then mo", "re words.", "p"),  # a broken word
    (3, "second item, with", "emphasis inside it", "em"),  # a tight list's item, inside emphasis
    (5, "alpha beta", "gamma delta", "td"),  # a table's row, in its second cell
    (7, "Table 1: Key", "dates of the reform", "caption"),  # a table's caption
    (8, "Year", "Event", "th"),  # the row after the caption
    (11, "Words inside", "the box’s paragraph.", "p"),  # a box's paragraph
])
def test_a_page_that_begins_inside_a_block_is_marked_before_its_first_word(rendered, block: int, before: str,
                                                                            expected: str, parent: str) -> None:
    body = marked(rendered, [PageStart(2, "s", block, letters(before))])
    text, tag = after(body, 2)
    assert text.startswith(expected) and tag == parent, (text, tag)
    assert len(body.xpath("//*[@epub:type='pagebreak']", namespaces={"epub": "http://www.idpf.org/2007/ops"})) == 1


def test_several_pages_in_one_block_and_one_at_its_start(rendered) -> None:
    body = marked(rendered, [PageStart(2, "s", 1, 0), PageStart(3, "s", 1, letters("Before the")),
                             PageStart(4, "s", 1, letters("Before the link the linked words"))])
    assert after(body, 2)[0].startswith("Before the link the linked")
    assert after(body, 3)[0].startswith("link the linked words")
    assert after(body, 4)[0].startswith("here after it, and a note")


def test_an_offset_past_the_block_text_puts_the_marker_at_its_end(rendered) -> None:
    """What the PDF and the EPUB would disagree on still gets its marker (the page list links to it), in the
    block: here a row's, in its last cell."""
    body = marked(rendered, [PageStart(2, "s", 5, 1000)])
    marker = body.xpath("//*[@id='page-2']")[0]
    assert marker.getparent().tag == "td" and marker.getparent().getnext() is None


def test_without_page_starts_the_markdown_renders_as_before(rendered) -> None:
    part = rendered.sections[0]
    assert rendered.html(part, "epub", None, {}) == rendered.html(part, "epub")
    assert "pagebreak" not in rendered.html(part, "epub")


def test_a_page_that_begins_in_the_bibliography_is_marked_in_its_entry() -> None:
    """The bibliography's entries are blocks too, numbered in the section's sequence (the print HTML's
    ``data-block``): a page of a long bibliography has its marker in the entry it begins in."""
    from briefpress.editions import pdf, typeset
    from tools.paths import BRIEF

    rendered = prepare(BRIEF, Diagnostics(), strict=True)
    tree = etree.HTML(pdf.print_job(rendered).source)
    entries = [(place, " ".join("".join(element.itertext()).split())) for element, place in typeset._blocks(tree)
               if element.get("class") == "csl-entry"]
    assert len(entries) > 3
    (section, block), text = entries[2]
    part = next(part for part in rendered.sections if part.id == section)
    words = text.split()
    html = rendered.html(part, "epub", None, pagebreaks.breaks(
        [PageStart(20, section, block, 0), PageStart(21, section, block, letters(" ".join(words[:3])))], section))
    body = etree.fromstring(f'<body xmlns:epub="http://www.idpf.org/2007/ops">{html}</body>')
    assert after(body, 20)[0] == text[:40] and after(body, 20)[1] == "div"
    assert after(body, 21)[0].startswith(" ".join(words[3:])[:20])
