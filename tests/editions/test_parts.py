"""A long brief laid out in parts and joined reads as the same PDF as the brief laid out whole: the same
text on every page (page numbers, notes and running heads included), outline, contents, links and tags,
and each font face embedded once (``editions/join.py``, ``editions/fonts.py``)."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest

import briefpress.editions.fonts as fonts
import briefpress.editions.pdf as pdf
from briefpress.build import build, prepare
from briefpress.errors import Diagnostics
from tools.checks import PdfReport, link_problems, normalise, pdf_problems, structure_problems
from tools.paths import BRIEF


def _in_parts(out: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The real brief built as a long one is: split into parts (three runs of sections, and the front)."""
    monkeypatch.setattr(pdf, "WHOLE_CHARS", 1_000)
    monkeypatch.setattr(pdf, "PART_CHARS", 9_000)
    diags = Diagnostics()
    [output] = build(BRIEF, ("pdf",), out, diags)
    assert diags.items == []
    assert output.units == len(PdfReport(output.path).pages), "the build says how many pages the PDF has"
    return output.path


def _faces(path: Path) -> list[str]:
    """The embedded font programs' face names (subset prefix left out), one per program."""
    with pikepdf.open(path) as doc:
        return sorted(str(obj.FontName).lstrip("/").split("+")[-1] for obj in doc.objects
                      if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor"
                      and any(key in obj for key in ("/FontFile", "/FontFile2", "/FontFile3")))


@pytest.fixture(scope="module")
def parts_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _in_parts(tmp_path_factory.mktemp("parts"), monkeypatch)


def test_the_brief_is_whole_unless_it_is_long(monkeypatch: pytest.MonkeyPatch) -> None:
    rendered = prepare(BRIEF, Diagnostics())
    assert pdf.plan(rendered) is None, "the example brief (24,000 characters) is laid out whole"
    monkeypatch.setattr(pdf, "WHOLE_CHARS", 1_000)
    monkeypatch.setattr(pdf, "PART_CHARS", 9_000)
    runs = pdf.plan(rendered)
    assert runs is not None and len(runs) >= 3
    assert [section for run in runs for section in run] == [part.id for part in rendered.sections]


def test_every_page_reads_the_same(parts_pdf: Path, pdf) -> None:
    joined = PdfReport(parts_pdf)
    assert len(joined.pages) == len(pdf.pages)
    for number, (whole_page, part_page) in enumerate(zip(pdf.pages, joined.pages), start=1):
        assert normalise(part_page) == normalise(whole_page), f"page {number} differs"


def test_the_pages_are_labelled_as_they_are_numbered(parts_pdf: Path, pdf) -> None:
    """The front numbered apart (i, ii…) and the sections from 1, in the whole PDF and the joined one alike."""
    joined = PdfReport(parts_pdf)
    front = min(e.page_index for e in pdf.outline if e.level == 1)
    assert front >= 2, "a cover and contents"
    expected = [*("i", "ii", "iii", "iv", "v")[:front], *(str(n) for n in range(1, len(pdf.pages) - front + 1))]
    assert pdf.labels == expected
    assert joined.labels == expected
    assert [joined.printed_label(index) for index in range(len(joined.pages))][front:] == expected[front:]


def test_the_outline_and_contents_are_the_same(parts_pdf: Path, pdf) -> None:
    joined = PdfReport(parts_pdf)
    assert [(e.title, e.level, e.page_index) for e in joined.outline] == \
        [(e.title, e.level, e.page_index) for e in pdf.outline]
    assert joined.toc_entries() == pdf.toc_entries()
    for (_, number), entry in zip(joined.toc_entries(), joined.outline):
        assert number == joined.printed_number(entry.page_index), entry.title


def test_links_tags_and_checks(parts_pdf: Path, built) -> None:
    assert link_problems(parts_pdf) == []
    assert structure_problems(parts_pdf) == []
    assert pdf_problems(parts_pdf, [s["title"] for s in built.sections]) == []
    with pikepdf.open(parts_pdf) as doc, pikepdf.open(built.path("pdf")) as whole:
        kinds = lambda d: sorted(str(a.get("/Subtype")) + str(a.get("/A", {}).get("/URI", "")) if "/A" in a
                                 else str(a.get("/Subtype")) for page in d.pages for a in page.obj.get("/Annots", []))
        assert kinds(doc) == kinds(whole), "the same links, internal and external"
        assert not any("briefpress-part:" in str(a.get("/A", {}).get("/URI", ""))
                       for page in doc.pages for a in page.obj.get("/Annots", []) if "/A" in a)
        assert str(doc.Root.Lang) == str(whole.Root.Lang)
        assert bytes(doc.trailer.ID[0]) == bytes(whole.trailer.ID[0])


def test_each_face_is_embedded_once(parts_pdf: Path, built) -> None:
    faces = _faces(parts_pdf)
    assert len(faces) == len(set(faces)), faces
    assert faces == _faces(built.path("pdf"))


def test_unmergeable_subsets_are_kept_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pdf) -> None:
    """If fontTools or the subsets are not what merging expects, each part keeps its own subsets: more
    programs, the same text."""
    def broken(*args: object) -> None:
        raise AttributeError("no such glyph table")

    monkeypatch.setattr(fonts, "_merged", broken)
    path = _in_parts(tmp_path, monkeypatch)
    faces = _faces(path)
    assert len(faces) > len(set(faces)), "the parts' subsets stay apart"
    joined = PdfReport(path)
    assert [normalise(page) for page in joined.pages] == [normalise(page) for page in pdf.pages]
