"""Corrections of a layout: nothing that belongs with what follows it ends a page. A table's caption that
WeasyPrint leaves at the foot of a page, its rows on the next, moves on with them; a box's title or a figure
whose first lines after it were sent on with their long notes keeps them, the notes split; what cannot be
kept together is reported (``_Session.lay_out_notes``; headings are checked across the generated corpus,
``test_print_corpus``)."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from briefpress.build import prepare
from briefpress.editions import pdf, typeset
from briefpress.errors import Diagnostics
from tools.checks import png
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
        if typeset._parted_at(html, laid):
            break
    else:
        pytest.fail("no length of the paragraph left the caption at a page's foot")
    caption, row = caption_page(html, laid)
    assert caption < row, "WeasyPrint parts them"
    html, laid, corrected = session.lay_out_notes(source, session.sheets)
    assert corrected != source and typeset._parted_at(html, laid) == []
    caption, row = caption_page(html, laid)
    assert caption == row


# Long notes: a note that cannot be printed whole below its call begins there and continues on the next page.

VOCABULARY = "the reform moved power between the president and parliament while the courts".split()


def words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(count))


def long_notes_brief(root: Path, lead: int, length: int, count: int, before: int) -> Path:
    """A one-section brief: ``lead`` paragraphs, then a paragraph whose text (after ``before`` words) calls
    ``count`` notes of ``length`` words each, with marked words: call ``cN``, note ``nN`` ... ``eN``."""
    rng = random.Random(1)
    (root / "sections").mkdir(parents=True)
    lead_text = "\n\n".join(words(rng, 80).capitalize() + "." for _ in range(lead))
    calls = " ".join(f"Text c{i} here[^{i}] and more." for i in range(1, count + 1))
    notes = "\n\n".join(f"[^{i}]: n{i} {words(rng, length)} e{i}." for i in range(1, count + 1))
    return one_section_brief(root, f"{lead_text}\n\n{words(rng, before)} {calls} {words(rng, 60)}.\n\n"
                                   f"{words(rng, 200)}.\n\n{notes}")


def one_section_brief(root: Path, text: str) -> Path:
    """Write the brief 'Mini' of one section holding ``text``."""
    (root / "sections/s.md").write_text(f"---\ntitle: Part\n---\n\n{text}\n", encoding="utf-8")
    (root / "brief.yaml").write_text("title: Mini\nlang: en\nidentifier: urn:x:mini\ndate: 2026-01-01\nslug: mini\n"
                                     "sections: [sections/s.md]\n", encoding="utf-8")
    return root


def built(root: Path) -> tuple[list[str], Diagnostics]:
    """The brief's PDF, built through the pipeline: the text of each page (by poppler), and the diagnostics."""
    diags = Diagnostics()
    target = root / "out.pdf"
    typeset.typeset(pdf.print_job(prepare(root, diags)), target, diags)
    text = subprocess.run(["pdftotext", "-layout", str(target), "-"], capture_output=True, text=True,
                          check=True).stdout
    return text.split("\f"), diags


def page_of(pages: list[str], word: str) -> int | None:
    """The 0-based page of the first whole ``word`` (after the cover and contents)."""
    pattern = re.compile(rf"(?<!\w){word}(?!\w)")
    return next((index for index, page in enumerate(pages) if index >= 2 and pattern.search(page)), None)


needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")


@needs_pdftotext
def test_long_notes_that_made_the_layout_fail_begin_on_their_calls_page(tmp_path: Path) -> None:
    # Given the old correction (footnote-policy: block), WeasyPrint left this brief's page empty and failed.
    pages, diags = built(long_notes_brief(tmp_path, lead=6, length=450, count=2, before=30))
    assert not diags.items
    for n in (1, 2):
        assert page_of(pages, f"c{n}") == page_of(pages, f"n{n}")


@needs_pdftotext
def test_a_long_note_continues_on_the_next_page(tmp_path: Path) -> None:
    pages, diags = built(long_notes_brief(tmp_path, lead=5, length=600, count=2, before=30))
    assert not diags.items
    call = page_of(pages, "c2")
    assert page_of(pages, "n2") == call  # its first part, below its call
    assert page_of(pages, "e2") == call + 1  # its end, at the foot of the next page
    continued = pages[call + 1]
    assert "2." not in continued.split(), "the rest of a note has no number"
    assert page_of(pages, "c1") == page_of(pages, "n1") == page_of(pages, "e1") == call


@needs_pdftotext
def test_several_long_notes_of_one_paragraph_all_begin_on_its_page(tmp_path: Path) -> None:
    pages, diags = built(long_notes_brief(tmp_path, lead=0, length=450, count=3, before=0))
    assert not diags.items
    call = page_of(pages, "c1")
    for n in (1, 2, 3):
        assert page_of(pages, f"c{n}") == page_of(pages, f"n{n}") == call
    assert page_of(pages, "e3") == call + 1
    numbers = [int(match) for page in pages for match in re.findall(r"^\s*(\d+)\. n\d", page, re.M)]
    assert numbers == [1, 2, 3], "the notes keep their numbers"


def test_a_note_that_cannot_be_printed_with_its_call_is_reported_at_its_source(tmp_path: Path) -> None:
    root = long_notes_brief(tmp_path, lead=1, length=20, count=2, before=0)
    (root / "styles").mkdir()
    package = Path(typeset.__file__).parent.parent / "styles" / "print.css"
    (root / "styles/print.css").write_text(package.read_text(encoding="utf-8") + "\n#fn-2 { display: none }\n",
                                           encoding="utf-8")
    diags = Diagnostics()
    typeset.typeset(pdf.print_job(prepare(root, diags)), None, diags)
    lines = (root / "sections/s.md").read_text(encoding="utf-8").splitlines()
    definition = next(index for index, line in enumerate(lines, 1) if line.startswith("[^2]:"))
    assert [(d.path, d.line, d.severity) for d in diags.items] == [(root / "sections/s.md", definition, "warning")]
    assert "note 2" in diags.items[0].message


# A title and what it titles: a box's title, or a figure's image, and the lines after it that call long notes.

def titled_brief(root: Path, block: str, length: int, count: int, image: int = 0) -> Path:
    """A one-section brief: three paragraphs, then ``block``, whose text calls notes ``c1`` ... (``count``
    of them, ``length`` words each, marked ``nN`` ... ``eN``), then a paragraph; with an image of ``image``
    pixels' height (600 wide) at ``images/fig.png``."""
    rng = random.Random(1)
    (root / "sections").mkdir(parents=True)
    if image:
        (root / "images").mkdir()
        (root / "images/fig.png").write_bytes(png(600, image, (40, 80, 160)))
    lead = "\n\n".join(words(rng, 80).capitalize() + "." for _ in range(3))
    calls = f" {words(rng, 8)} ".join(f"c{i} here[^{i}]" for i in range(1, count + 1))
    notes = "\n\n".join(f"[^{i}]: n{i} {words(rng, length)} e{i}." for i in range(1, count + 1))
    return one_section_brief(root, f"{lead}\n\n{block.format(calls=calls)}\n\n{words(rng, 200)}.\n\n{notes}")


BOX = '::: {{.box title="Boxtitle words"}}\nBoxtext {calls} the reform moved power between the president.\n:::'
FIGURE = "![Figcap words {calls} more](images/fig.png){{#fig-a}}"


def image_pages(root: Path) -> list[int]:
    """The 0-based pages of the images of the brief's PDF (by poppler's pdfimages)."""
    listed = subprocess.run(["pdfimages", "-list", str(root / "out.pdf")], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    return [int(line.split()[0]) - 1 for line in listed]


@needs_pdftotext
@pytest.mark.parametrize("length, count", [(600, 2), (450, 3)])
def test_a_box_title_keeps_the_first_lines_of_its_text_whose_long_notes_are_split(
        tmp_path: Path, length: int, count: int) -> None:
    # WeasyPrint sent the box's first line on with its notes, which do not fit below the title on any page.
    pages, diags = built(titled_brief(tmp_path, BOX, length, count))
    assert not diags.items
    title = page_of(pages, "Boxtitle")
    assert page_of(pages, "Boxtext") == title
    for n in range(1, count + 1):
        assert page_of(pages, f"c{n}") == page_of(pages, f"n{n}") == title
    assert page_of(pages, f"e{count}") == title + 1, "the last note continues on the next page"


@needs_pdftotext
@pytest.mark.skipif(shutil.which("pdfimages") is None, reason="needs poppler's pdfimages")
def test_a_figure_keeps_its_caption_whose_long_note_is_split(tmp_path: Path) -> None:
    # The caption's line was sent on with its note, the image left alone on the page before.
    root = titled_brief(tmp_path, FIGURE, 450, 1, image=600)
    pages, diags = built(root)
    assert not diags.items
    caption = page_of(pages, "Figcap")
    assert image_pages(root) == [caption]
    assert page_of(pages, "n1") == caption and page_of(pages, "e1") == caption + 1


@needs_pdftotext
def test_a_title_that_cannot_be_kept_with_what_follows_it_is_reported_at_its_source(tmp_path: Path) -> None:
    # An image as tall as the design lets a figure's image be (it leaves room for a few lines of caption), with
    # a caption of some 15 lines: the caption, and the first part of the caption's note, cannot follow it.
    root = titled_brief(tmp_path, FIGURE.replace("more", "more " + " ".join(["the reform moved power"] * 45)), 450,
                        1, image=950)
    _, diags = built(root)
    lines = (root / "sections/s.md").read_text(encoding="utf-8").splitlines()
    figure = next(index for index, line in enumerate(lines, 1) if line.startswith("![Figcap"))
    assert [(d.path, d.line, d.severity) for d in diags.items] == [(root / "sections/s.md", figure, "warning")]
    message = diags.items[0].message
    assert message.startswith("PDF: \u201cFigcap words c1 here more the reform moved power"), message
    assert "\u201d ends a page, apart from what follows it" in message
