"""The PDF, checked the way a reader meets it: text, outline, printed contents, running heads, fonts."""

from __future__ import annotations

import re

import pikepdf
import pytest
from checks import PdfReport, normalise, pdf_problems


def test_page_count_is_plausible(pdf: PdfReport, built) -> None:
    # cover + contents + at least one page per section
    assert len(pdf.pages) >= 2 + len(built.sections)
    assert len(pdf.pages) < 40


def test_progress_line_reports_pages(built, pdf: PdfReport) -> None:
    line = next(line for line in built.stdout.splitlines() if line.split()[0].endswith(".pdf"))
    assert f" {len(pdf.pages)} pages " in line
    assert re.search(r"\d+ KiB +\d+\.\d\d s$", line)


def test_each_section_title_and_text_is_in_the_pdf(pdf: PdfReport, built) -> None:
    text = pdf.text
    for section in built.sections:
        assert section["title"] in text


def test_one_outline_entry_per_section_in_order(pdf: PdfReport, built) -> None:
    top = [entry.title for entry in pdf.outline if entry.level == 1]
    assert top == [section["title"] for section in built.sections]


def test_subsections_are_in_the_outline(pdf: PdfReport) -> None:
    assert any(entry.level == 2 for entry in pdf.outline)


def test_printed_contents_match_the_pages(pdf: PdfReport, built) -> None:
    toc = pdf.toc_entries()
    assert [title for title, _ in toc] == [entry.title for entry in pdf.outline], "contents and outline differ"
    for (_, number), entry in zip(toc, pdf.outline):
        assert number == pdf.printed_number(entry.page_index), entry.title
        assert entry.title in normalise(pdf.pages[entry.page_index])


def test_running_heads(pdf: PdfReport, built) -> None:
    title = built.meta["title"]
    for section in built.sections:
        start = next(e.page_index for e in pdf.outline if e.title == section["title"])
        page = normalise(pdf.pages[start])
        assert title in page, "the brief's title runs at the top of each page"
        assert section.get("short_title", section["title"]) in page


def test_cover_has_title_subtitle_date_authors(pdf: PdfReport, built) -> None:
    cover = normalise(pdf.pages[0])
    meta = built.meta
    for value in (meta["title"], meta["subtitle"], *meta["authors"]):
        assert value in cover
    assert str(meta["date"].year) in cover and meta["date"].strftime("%B") in cover


def test_every_font_is_embedded_and_is_the_design_font(built) -> None:
    assert pdf_problems(built.path("pdf")) == []
    fonts = PdfReport(built.path("pdf")).fonts()
    assert any("Serif" in name for name in fonts) and any("Sans" in name for name in fonts)


def test_metadata_and_language(built) -> None:
    with pikepdf.open(built.path("pdf")) as doc:
        info = doc.docinfo
        meta = built.meta
        assert str(doc.Root.Lang) == meta["lang"]
        assert str(info["/Title"]).startswith(meta["title"])
        assert str(info["/Author"]) == ", ".join(meta["authors"])
        assert str(info["/Subject"]) == meta["description"]
        assert all(subject in str(info["/Keywords"]) for subject in meta["subjects"])


def test_footnotes_sit_at_the_foot_of_their_page(pdf: PdfReport) -> None:
    # A note's text follows the body text of the page that calls it, after the body.
    pages_with_notes = [text for text in pdf.pages if re.search(r"^\d+\. \S", text, re.M)]
    assert len(pages_with_notes) >= 3


@pytest.mark.parametrize("paper,width", [("a4", 595), ("letter", 612)])
def test_paper_size(tmp_path, paper: str, width: int) -> None:
    from briefpress.cli import main
    from conftest import BRIEF

    assert main(["build", str(BRIEF), "--format", "pdf", "--paper", paper, "--out", str(tmp_path)]) == 0
    with pikepdf.open(next(tmp_path.glob("*.pdf"))) as doc:
        box = [float(v) for v in doc.pages[1].MediaBox]
        assert round(box[2]) == width


def test_table_header_repeats_on_every_page(tmp_path) -> None:
    import shutil

    from briefpress.cli import main
    from conftest import ROOT

    brief = tmp_path / "brief"
    shutil.copytree(ROOT / "tests" / "briefs" / "minimal", brief)
    rows = "\n".join(f'  - {{date: "{1900 + n}", event: "Event number {n}", detail: "{"Detail. " * 12}"}}'
                     for n in range(1, 80))
    (brief / "data" / "events.yaml").write_text(f"events:\n{rows}\n", encoding="utf-8")
    assert main(["build", str(brief), "--format", "pdf", "--out", str(tmp_path / "out")]) == 0
    report = PdfReport(next((tmp_path / "out").glob("*.pdf")))
    pages = [text for text in report.pages if "Event number" in text]
    assert len(pages) >= 2, "the table spans pages"
    for text in pages:
        assert re.search(r"Date\s+Event\s+Detail", text), "the header row is repeated"
