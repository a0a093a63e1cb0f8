"""Corrections of a layout: nothing that belongs with what follows it ends a page. A table's caption that
WeasyPrint leaves at the foot of a page, its rows on the next, moves on with them (``_Session.lay_out_notes``;
headings are checked across the generated corpus, ``test_print_corpus``)."""

from __future__ import annotations

import pytest

from briefpress.build import prepare
from briefpress.editions import pdf, typeset
from briefpress.errors import Diagnostics
from tools.paths import BRIEF

ROWS = "".join(f"<tr><td>row {i}</td><td>the detail of row {i}</td></tr>" for i in range(30))


@pytest.fixture(scope="module")
def session() -> typeset._Session:
    return typeset._Session(pdf.print_job(prepare(BRIEF, Diagnostics())), Diagnostics())


def document(lines: int) -> str:
    """A section whose first paragraph is about ``lines`` lines long, then a captioned table."""
    return (f'<html><body><section class="section" id="s"><h1>Title</h1><p>{"word " * 12 * lines}</p>'
            f'<table><caption>Table 1: A caption</caption><tbody>{ROWS}</tbody></table></section></body></html>')


def caption_page(html, laid) -> tuple[int, int]:
    """The pages (1-based) of the caption's text and of the first row's."""
    found = {}
    for index, page in enumerate(laid.pages):
        for box in page._page_box.descendants():
            text = getattr(box, "text", "")
            if "A caption" in text or "row 0" in text:
                found.setdefault("caption" if "caption" in text else "row", index + 1)
    return found["caption"], found["row"]


def test_a_caption_parted_from_its_table_moves_on_with_it(session: typeset._Session) -> None:
    for lines in range(30, 80):
        source = document(lines)
        html, laid = session.lay_out(source, session.sheets, Diagnostics())
        if typeset._parted(html, laid):
            break
    else:
        pytest.fail("no length of the paragraph left the caption at a page's foot")
    caption, row = caption_page(html, laid)
    assert caption < row, "WeasyPrint parts them"
    html, laid, corrected = session.lay_out_notes(source, session.sheets)
    assert corrected != source and typeset._parted(html, laid) == []
    caption, row = caption_page(html, laid)
    assert caption == row
