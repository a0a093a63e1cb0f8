"""A long brief is laid out in parts and joined (see ``briefpress.pdf.plan``); a reader must not tell.

The real brief is built with every section made a part of its own, and its PDF is compared with the one
laid out whole: page by page, outline, links, contents and the tagged structure.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

from checks import PdfReport, link_problems, pdf_problems, structure_problems
from conftest import BRIEF

import briefpress.pdf
import briefpress.workers
from briefpress.build import build, prepare
from briefpress.errors import Diagnostics
from briefpress.pages import CACHE_FOLDER


def _build(out: Path, workers: int, brief: Path = BRIEF, whole_chars: int = 0, part_chars: int = 1) -> Path:
    saved = briefpress.pdf.WHOLE_CHARS, briefpress.pdf.PART_CHARS, briefpress.workers.WORKERS
    briefpress.pdf.WHOLE_CHARS, briefpress.pdf.PART_CHARS, briefpress.workers.WORKERS = whole_chars, part_chars, workers
    try:
        [output] = build(brief, ("pdf",), out, Diagnostics(), strict=True)
    finally:
        briefpress.pdf.WHOLE_CHARS, briefpress.pdf.PART_CHARS, briefpress.workers.WORKERS = saved
    return output.path


def _build_in_parts(out: Path, workers: int, brief: Path = BRIEF) -> Path:
    """Every section a part: the most joins the brief allows."""
    return _build(out, workers, brief)


@pytest.fixture(scope="session")
def in_parts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The brief built in parts, laid out by two workers side by side (see ``briefpress.workers``)."""
    return _build_in_parts(tmp_path_factory.mktemp("parts"), workers=2)


@pytest.fixture(scope="session")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The brief laid out whole, in one document: what the parts are compared against."""
    return _build(tmp_path_factory.mktemp("whole"), workers=1, whole_chars=10**9)


def _outline(path: Path) -> list[tuple[int, str, int]]:
    reader = PdfReader(str(path))

    def walk(items: list, level: int) -> list:
        found = []
        for item in items:
            if isinstance(item, list):
                found += walk(item, level + 1)
            else:
                found.append((level, item.title, reader.get_destination_page_number(item)))
        return found

    return walk(reader.outline, 1)


def _links(path: Path) -> list[tuple[int, str]]:
    """Each link annotation, page by page: the page index an internal link leads to, or the URI."""
    with pikepdf.open(path) as pdf:
        dests = {str(name): pikepdf.Page(dest[0]).index for name, dest in pikepdf.NameTree(pdf.Root.Names.Dests).items()}
        return [(index, f"page {dests[str(annot.Dest)]}" if "/Dest" in annot else str(annot.A.URI))
                for index, page in enumerate(pdf.pages) for annot in page.obj.get("/Annots", [])]


def test_the_brief_is_split_by_its_sections_length_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from briefpress.scaffold import create

    rendered = prepare(BRIEF, Diagnostics())
    runs = briefpress.pdf.plan(rendered)
    assert runs is not None and len(runs) == 2
    assert [section for run in runs for section in run] == [part.id for part in rendered.sections]
    size = {part.id: len(part.section.source) for part in rendered.sections}
    halves = [sum(size[section] for section in run) for run in runs]
    assert max(halves) < 1.5 * min(halves)
    monkeypatch.setattr(briefpress.workers, "WORKERS", 1)  # the machine does not change the split
    assert briefpress.pdf.plan(rendered) == runs
    create(tmp_path / "small", "A short brief")
    assert briefpress.pdf.plan(prepare(tmp_path / "small", Diagnostics())) is None


def test_every_page_reads_the_same_as_the_whole(in_parts: Path, whole: Path) -> None:
    whole_pdf, parts = PdfReport(whole), PdfReport(in_parts)
    assert len(parts.pages) == len(whole_pdf.pages)
    for number, (expected, got) in enumerate(zip(whole_pdf.pages, parts.pages), start=1):
        assert got == expected, f"page {number} differs"


def test_outline_and_links_lead_to_the_same_pages(in_parts: Path, whole: Path) -> None:
    assert _outline(in_parts) == _outline(whole)
    links = _links(in_parts)
    assert sum(target.startswith("page") for _, target in links) >= 20, "contents and cross-references"
    assert links == _links(whole)


def test_joined_pdf_passes_the_pdf_checks(in_parts: Path, built) -> None:
    titles = [section["title"] for section in built.sections]
    assert pdf_problems(in_parts, titles) == []


def test_joined_pdf_is_tagged_like_the_whole(in_parts: Path, whole: Path, built) -> None:
    with pikepdf.open(in_parts) as pdf, pikepdf.open(whole) as whole_pdf:
        assert pdf.Root.MarkInfo.Marked is True
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
        assert str(pdf.Root.Lang) == built.meta["lang"]
        assert str(pdf.docinfo.Title) == str(whole_pdf.docinfo.Title)
        with pdf.open_metadata() as xmp:
            assert "pdfuaid" in str(xmp)
        kinds = [str(kid.S) for kid in pdf.Root.StructTreeRoot.K[0].K]
        assert kinds == [str(kid.S) for kid in whole_pdf.Root.StructTreeRoot.K[0].K]


def test_structure_check_catches_a_page_traced_to_the_wrong_elements(in_parts: Path, tmp_path: Path) -> None:
    assert structure_problems(in_parts) == []
    with pikepdf.open(in_parts) as pdf:
        first, second = pdf.pages[2].obj, pdf.pages[3].obj
        first.StructParents, second.StructParents = second.StructParents, first.StructParents
        pdf.save(tmp_path / "broken.pdf")
    assert structure_problems(tmp_path / "broken.pdf")


def test_link_check_catches_a_link_to_nowhere(in_parts: Path, tmp_path: Path) -> None:
    with pikepdf.open(in_parts) as pdf:
        annot = next(a for page in pdf.pages for a in page.obj.get("/Annots", []) if "/Dest" in a)
        annot.Dest = pikepdf.String("nowhere")
        pdf.save(tmp_path / "broken.pdf")
    assert link_problems(tmp_path / "broken.pdf") == ["page 2: link to missing destination 'nowhere'"]


def test_page_map_is_the_same(in_parts: Path, whole: Path, built) -> None:
    def starts(out: Path) -> list:
        return json.loads((out / CACHE_FOLDER / f"{built.meta['slug']}.pages.json").read_text())["starts"]

    assert starts(in_parts.parent) == starts(whole.parent) == starts(built.out)


def test_joined_pdf_is_the_same_from_one_process_or_two(in_parts: Path, tmp_path: Path) -> None:
    # In one process, each part is laid out knowing its first page; the same bytes either way.
    assert _build_in_parts(tmp_path, workers=1).read_bytes() == in_parts.read_bytes()


def test_joined_pdf_is_no_bigger_than_its_parts(in_parts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from briefpress.build import prepare

    monkeypatch.setattr(briefpress.pdf, "PART_CHARS", 1)
    rendered = prepare(BRIEF, Diagnostics())
    runs = [[part.id] for part in rendered.sections]
    parts = briefpress.pdf.in_parts(rendered, Diagnostics(), runs)
    assert len(parts) == len(runs) + 1  # and the front
    # Joining adds the structure tree's root and the outline, and shares nothing; more than a few
    # per cent over the parts would be objects stored less compactly than the parts store them.
    assert in_parts.stat().st_size <= 1.05 * sum(len(part.pdf) for part in parts)


def test_a_briefs_own_contents_style_holds_in_parts(tmp_path: Path) -> None:
    """The contents' page numbers of a brief laid out in parts come from its own stylesheet's
    ``target-counter()``, whatever else that stylesheet puts around them."""
    brief = tmp_path / "brief"
    shutil.copytree(BRIEF, brief)
    css = (Path(briefpress.pdf.__file__).parent / "styles" / "print.css").read_text(encoding="utf-8")
    numbers = "content: target-counter(attr(href), page);"
    assert numbers in css
    (brief / "styles").mkdir(exist_ok=True)
    (brief / "styles" / "print.css").write_text(css.replace(numbers, 'content: "p.\\a0" target-counter(attr(href), page);'),
                                                encoding="utf-8")
    laid_out_whole = _build(tmp_path / "whole", workers=1, brief=brief, whole_chars=10**9)
    parts = _build_in_parts(tmp_path / "parts", workers=1, brief=brief)

    def contents(path: Path) -> list[tuple[str, int]]:
        return PdfReport(path).toc_entries()

    printed = contents(laid_out_whole)
    assert printed and all(title.endswith(" p") for title, _ in printed)  # "… p. 12", its dot taken for a leader
    assert contents(parts) == printed


def test_a_page_map_made_without_drawing_is_the_pdfs(tmp_path: Path, built) -> None:
    """An EPUB built alone lays the brief out for its page list without drawing it, or laying the contents
    out again with their numbers: the page map must still be the PDF's."""
    build(BRIEF, ("epub",), tmp_path, Diagnostics(), strict=True)
    name = f"{built.meta['slug']}.pages.json"
    assert (tmp_path / CACHE_FOLDER / name).read_text() == (built.out / CACHE_FOLDER / name).read_text()
    assert not (tmp_path / f"{built.meta['slug']}.pdf").exists()


def test_the_brief_is_the_same_with_its_front_laid_out_early_or_late(built, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """With a worker per part, the front is laid out again while the parts are drawn; with one process,
    after them. The PDF must not tell."""
    assert len(briefpress.pdf.plan(prepare(BRIEF, Diagnostics()))) == 2 and briefpress.workers.worker_count(3) >= 2
    monkeypatch.setattr(briefpress.workers, "WORKERS", 1)
    [output] = build(BRIEF, ("pdf",), tmp_path, Diagnostics(), strict=True)
    assert output.path.read_bytes() == built.path("pdf").read_bytes()
