"""The page map (where each printed page begins): read from WeasyPrint's page boxes, or, when those private
internals are missing or changed, from its public anchors after a second layout. Both give the same."""

from __future__ import annotations

import io
from dataclasses import dataclass

import lxml.html
import pytest

from briefpress.build import prepare
from briefpress.editions import pdf, typeset
from briefpress.errors import Diagnostics
from briefpress.model import PageStart
from tools.checks import PdfReport, normalise
from tools.paths import BRIEF


@dataclass(frozen=True)
class Laid:
    result: typeset.Typeset
    data: bytes | None
    diags: Diagnostics
    fallbacks: int  # how many times the public-anchors path ran


def _lay_out(job: typeset.PrintJob, monkeypatch: pytest.MonkeyPatch, draw: bool = True) -> Laid:
    """Lay ``job`` out with the plain path (drawing it if ``draw``), counting the fallback's runs."""
    original = typeset._starts_from_anchors
    calls = []

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(typeset, "_starts_from_anchors", counted)
    target = io.BytesIO() if draw else None
    diags = Diagnostics()
    result = typeset.typeset(job, target, diags)
    return Laid(result, target.getvalue() if target is not None else None, diags, len(calls))


@pytest.fixture(scope="module")
def job() -> typeset.PrintJob:
    job = pdf.print_job(prepare(BRIEF, Diagnostics(), strict=True))
    assert not job.parts, "the brief is laid out whole"
    return job


@pytest.fixture(scope="module")
def plain(job: typeset.PrintJob) -> Laid:
    with pytest.MonkeyPatch.context() as monkeypatch:
        laid = _lay_out(job, monkeypatch)
    assert laid.fallbacks == 0, "WeasyPrint's boxes were read"
    assert laid.diags.items == []
    return laid


def test_the_plain_path_gives_a_start_for_each_page_after_the_contents(plain: Laid, built) -> None:
    # Every page of the real brief from the first section on begins a block, but one that only continues a
    # block begun on the page before (checked against the printed text: no block opens on it); and each
    # section's title begins the page its section starts on.
    starts = plain.result.starts
    pages = [start.page for start in starts]
    # Numbered from the first section's page, 1; the front (cover and contents) is numbered apart.
    report = PdfReport(built.path("pdf"))
    front = plain.result.pages - pages[-1]
    assert pages == sorted(set(pages)) and pages[0] == 1 and front == 2 and report.labels[:front] == ["i", "ii"]
    html = lxml.html.fromstring(built.path("html").read_bytes())
    openings = [o for el in html.iter("p", "li", "tr", "h2", "h3", "figure", "blockquote", "pre")
                if len(o := " ".join(el.text_content().split())[:30]) > 10]
    for page in set(range(1, pages[-1] + 1)) - set(pages):
        index = report.index_of(page)
        printed, before = normalise(report.pages[index]), normalise(report.pages[index - 1])
        assert [o for o in openings if o in printed and o not in before] == [], f"a block opens on page {page}"
    titles = [start.section for start in starts if start.block == 0]
    assert titles == [section["id"] for section in built.sections]
    assert plain.data == built.path("pdf").read_bytes(), "the build's PDF is this layout, drawn"


def _agrees_at_block_precision(fallback: tuple[PageStart, ...], plain: tuple[PageStart, ...]) -> None:
    """The fallback's starts are the plain path's at the precision of blocks: a page that begins at a block's
    start begins there in both; one that begins inside a block (``offset``) begins, for the fallback, at the
    first block that starts on it, if any."""
    assert any(start.offset for start in plain), "the brief has pages that begin inside a block"
    by_page = {start.page: start for start in plain}
    assert all(start.offset == 0 for start in fallback)
    assert {s.page for s in plain if s.offset == 0} <= {s.page for s in fallback} <= set(by_page)
    for start in fallback:
        at = by_page[start.page]
        assert start.section == at.section
        assert start.block == at.block if at.offset == 0 else start.block > at.block, start


def test_fallback_gives_the_block_starts_and_the_same_bytes(job: typeset.PrintJob, plain: Laid,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    read = []
    monkeypatch.setattr(typeset, "_starts", lambda html, document: read.append(None))
    fallback = _lay_out(job, monkeypatch)
    assert read and fallback.fallbacks == len(read), "each layout (each section's) falls back once"
    assert fallback.result.pages == plain.result.pages
    _agrees_at_block_precision(fallback.result.starts, plain.result.starts)
    assert fallback.data == plain.data
    assert fallback.diags.items == []


def test_fallback_when_weasyprint_pages_have_no_boxes(job: typeset.PrintJob, plain: Laid,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A WeasyPrint whose pages keep no ``_page_box``: the guard notices and the anchors give the starts.
    Layout only, since drawing needs the boxes."""
    from weasyprint.document import Page

    original_init = Page.__init__

    def boxless(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        del self._page_box

    monkeypatch.setattr(Page, "__init__", boxless)
    original_starts = typeset._starts
    read = []

    def watched(html, document):
        read.append(original_starts(html, document))
        return read[-1]

    monkeypatch.setattr(typeset, "_starts", watched)
    broken = _lay_out(job, monkeypatch, draw=False)
    assert read and read == [None] * len(read), "the private path gives up, in each layout (each section's)"
    assert broken.fallbacks == len(read)
    # Not drawn, the front is not laid out: the sections' pages, as the plain path's last start numbers them.
    assert broken.result.pages == plain.result.starts[-1].page
    _agrees_at_block_precision(broken.result.starts, plain.result.starts)
    assert broken.diags.items == []
