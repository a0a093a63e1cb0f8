"""The PDF, checked the way a reader meets it: text, outline, printed contents, running heads, notes, fonts."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

import pikepdf
import pytest
from pypdf import PdfReader

from tools.checks import PdfReport, normalise, pdf_problems
from tools.paths import BRIEF, ROOT

MM = 72 / 25.4
# The print design's page margins (print.css: ``@page { margin: 24mm 22mm 26mm 24mm }``): running heads sit
# in the top margin, the page number in the bottom one, and the notes at the bottom of the page area.
MARGIN_TOP = 24 * MM
MARGIN_BOTTOM = 26 * MM
# Paper sizes in points, as ISO 216 and ANSI define them.
PAPER = {"a4": (210 * MM, 297 * MM), "letter": (612.0, 792.0)}


# --- Where text is drawn on a page -----------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """A piece of text as drawn: its baseline's start in PDF points (origin bottom left) and its size."""

    text: str
    x: float
    y: float
    size: float
    font: str  # the font's base name, without the subset prefix


@dataclass(frozen=True)
class Layout:
    """A page's text runs drawn in its own content stream, and the boxes of the forms and images it draws
    (charts): text inside those is drawn in the form's own space, so it is stood for by the form's box."""

    runs: list[Run]
    boxes: list[tuple[float, float, float, float]]  # x0, y0, x1, y1
    height: float


def _times(a: list[float], b: list[float]) -> list[float]:
    """The product of two PDF matrices [a b c d e f] (a applied first)."""
    return [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3], a[2] * b[0] + a[3] * b[2],
            a[2] * b[1] + a[3] * b[3], a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5]]


def page_layout(page) -> Layout:
    """The text runs of a pypdf page, with positions, from pypdf's extraction visitors."""
    runs: list[Run] = []
    boxes: list[tuple[float, float, float, float]] = []
    xobjects = page["/Resources"].get("/XObject") or {}
    # pypdf walks a form's stream inside the page's ``Do`` (between the before and after visits) and
    # reports the page's pending text at the start of that ``Do``, before the form's first operator.
    state = {"depth": 0, "pending": False}

    def before(op, args, cm, tm) -> None:
        state["pending"] = False
        if op != b"Do":
            return
        if state["depth"] == 0:
            xobject = xobjects[args[0]].get_object()
            ctm = [float(v) for v in cm]
            if xobject["/Subtype"] == "/Form":
                x0, y0, x1, y1 = (float(v) for v in xobject["/BBox"])
                matrix = _times([float(v) for v in xobject.get("/Matrix", [1, 0, 0, 1, 0, 0])], ctm)
            else:  # an image fills the unit square
                x0, y0, x1, y1 = 0.0, 0.0, 1.0, 1.0
                matrix = ctm
            corners = [(x * matrix[0] + y * matrix[2] + matrix[4], x * matrix[1] + y * matrix[3] + matrix[5])
                       for x in (x0, x1) for y in (y0, y1)]
            xs, ys = [c[0] for c in corners], [c[1] for c in corners]
            boxes.append((min(xs), min(ys), max(xs), max(ys)))
            state["pending"] = True
        state["depth"] += 1

    def after(op, args, cm, tm) -> None:
        if op == b"Do":
            state["depth"] -= 1

    def text(chunk, cm, tm, font, size) -> None:
        if not chunk.strip() or (state["depth"] and not state["pending"]):
            return
        m = _times([float(v) for v in tm], [float(v) for v in cm])
        name = str(font.get("/BaseFont", "")) if font else ""
        runs.append(Run(chunk.strip(), m[4], m[5], size * math.hypot(m[2], m[3]), name.split("+")[-1].lstrip("/")))

    page.extract_text(visitor_operand_before=before, visitor_operand_after=after, visitor_text=text)
    return Layout(runs, boxes, float(page.mediabox.height))


def reading_order(runs: list[Run]) -> list[Run]:
    """Runs line by line from the top, each line from the left (a line: baselines within 1pt)."""
    lines: list[list[Run]] = []
    for run in sorted(runs, key=lambda r: -r.y):
        if lines and abs(lines[-1][0].y - run.y) < 1:
            lines[-1].append(run)
        else:
            lines.append([run])
    return [run for line in lines for run in sorted(line, key=lambda r: r.x)]


def squash(text: str) -> str:
    """Text without spaces and hyphens, so that text broken and hyphenated across lines compares equal."""
    return re.sub(r"[\s\-\u00ad\u2010]", "", text)


@pytest.fixture(scope="module")
def layouts(built) -> list[Layout]:
    return [page_layout(page) for page in PdfReader(str(built.path("pdf"))).pages]


def _plain(markdown: str) -> str:
    """Markdown inline text as read: links by their text, emphasis marks and note calls dropped."""
    text = re.sub(r"\[\^[^\]]+\]", "", markdown)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\{#[^}]*\}", "", text)
    return re.sub(r"\*\*|__|\*", "", text).strip()


def _bodies(built) -> list[str]:
    """Each section's markdown after its front matter, in brief.yaml order."""
    return [(BRIEF / section["file"]).read_text(encoding="utf-8").split("---", 2)[2] for section in built.sections]


def _reads_as(printed: str, expected: str) -> bool:
    """Whether squashed printed text is the expected note text, a citation (``[@key]``) in it standing for
    whatever text its style gives it (that text is checked in tests/e2e/test_citations.py)."""
    parts = re.split(r"\[-?@[^\]]+\]", expected)
    return re.fullmatch("(.+?)".join(re.escape(squash(part)) for part in parts), printed) is not None


def source_notes(built) -> list[tuple[int, str]]:
    """The brief's notes as the reader sees them numbered (in order of their calls through the brief) and
    their text, from the sections' markdown."""
    order: list[str] = []
    texts: dict[str, str] = {}
    for body in _bodies(built):
        for match in re.finditer(r"\[\^([^\]]+)\](?!:)", body):
            if match.group(1) not in order:
                order.append(match.group(1))
        for match in re.finditer(r"^\[\^([^\]]+)\]:\s*(.+)$", body, re.M):
            texts[match.group(1)] = _plain(match.group(2))
    assert sorted(order) == sorted(texts), "every note is called once it is defined"
    return [(number, texts[name]) for number, name in enumerate(order, 1)]


# --- Tests ------------------------------------------------------------------------------------------------


def test_page_count_is_the_briefs(pdf: PdfReport, built) -> None:
    # The count is the brief's own, as its text and the print design lay it out today: cover, contents and
    # twelve pages of sections (its citations and their bibliography included). A change to the layout that
    # moves it (a page more or less) should be looked at, not absorbed by a range.
    assert len(pdf.pages) == 14
    starts = sorted({e.page_index for e in pdf.outline if e.level == 1})
    assert len(starts) == len(built.sections) and starts[0] == 2, "cover and contents come first"


def test_progress_line_reports_pages(built, pdf: PdfReport) -> None:
    line = next(line for line in built.stdout.splitlines() if line.split()[0].endswith(".pdf"))
    assert f" {len(pdf.pages)} pages " in line
    assert re.search(r"\d+ KiB +\d+\.\d\d s$", line)


def test_each_section_title_and_text_is_in_the_pdf(pdf: PdfReport, built) -> None:
    text = pdf.text
    for section, body in zip(built.sections, _bodies(built)):
        assert section["title"] in text
        # The opening words of every paragraph and list item the author wrote (up to a note's call, which
        # the PDF prints as a number).
        blocks = [line for line in body.splitlines()
                  if line.strip() and not line.lstrip().startswith(("#", "{", "[^", "|", "<", ">", ":::"))]
        assert blocks, section["file"]
        for block in blocks:
            # (and up to a citation, which the PDF prints as its style gives it: tests/e2e/test_citations.py)
            words = re.split(r"\[\^|\[-?@", re.sub(r"^\s*(?:[-*+]|\d+\.)\s+", "", block))[0]
            opening = " ".join(_plain(words).split()[:8])
            assert len(opening) > 10, block
            assert opening in text, f"{section['file']}: '{opening}'"


def test_one_outline_entry_per_section_in_order(pdf: PdfReport, built) -> None:
    top = [entry.title for entry in pdf.outline if entry.level == 1]
    assert top == [section["title"] for section in built.sections]


def test_subsections_are_in_the_outline(pdf: PdfReport, built) -> None:
    headings = [_plain(m.group(1)) for body in _bodies(built) for m in re.finditer(r"^## (.+)$", body, re.M)]
    assert headings
    assert [entry.title for entry in pdf.outline if entry.level == 2] == headings


def test_printed_contents_match_the_pages(pdf: PdfReport, built) -> None:
    toc = pdf.toc_entries()
    assert [title for title, _ in toc] == [entry.title for entry in pdf.outline], "contents and outline differ"
    for (_, number), entry in zip(toc, pdf.outline):
        assert number == pdf.printed_number(entry.page_index), entry.title
        assert entry.title in normalise(pdf.pages[entry.page_index])


def test_running_heads_on_every_page_of_a_section(pdf: PdfReport, built, layouts: list[Layout]) -> None:
    """The top margin of every page after the cover holds the brief's title and the current section's
    short title (on the contents page, "Contents"), and nothing else: on the pages a section continues on,
    too, where no heading is printed."""
    title = built.meta["title"]
    firsts = {next(e.page_index for e in pdf.outline if e.level == 1 and e.title == s["title"]): s
              for s in built.sections}
    continued = [index for index in range(min(firsts), len(pdf.pages)) if index not in firsts]
    assert continued, "some section runs over more than one page"
    current = None
    for index in range(1, len(pdf.pages)):
        current = firsts.get(index, current)
        expected = f"{title} {current.get('short_title', current['title'])}" if current else f"{title} Contents"
        layout = layouts[index]
        head = [run for run in layout.runs if run.y > layout.height - MARGIN_TOP]
        assert " ".join(run.text for run in reading_order(head)) == expected, f"page {index + 1}"


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


def _faces_drawn(pdf: pikepdf.Pdf) -> set[str]:
    """The fonts that the pages' content (and the forms they draw) select with ``Tf``, by base name."""
    found: set[str] = set()
    seen: set[tuple[int, int]] = set()

    def walk(stream, resources) -> None:
        fonts = resources.get("/Font", {})
        xobjects = resources.get("/XObject", {})
        for operands, operator in pikepdf.parse_content_stream(stream):
            if str(operator) == "Tf":
                found.add(str(fonts[operands[0]].BaseFont).split("+")[-1].lstrip("/"))
            elif str(operator) == "Do":
                xobject = xobjects[operands[0]]
                if xobject.get("/Subtype") == "/Form" and xobject.objgen not in seen:
                    seen.add(xobject.objgen)
                    walk(xobject, xobject.get("/Resources", resources))

    for page in pdf.pages:
        walk(page, page.Resources)
    return found


def test_each_font_face_is_embedded_once(built) -> None:
    with pikepdf.open(built.path("pdf")) as doc:
        programs = []  # (base name without subset prefix, the font program's object)
        for obj in doc.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor":
                files = [obj[key] for key in ("/FontFile", "/FontFile2", "/FontFile3") if key in obj]
                if files:
                    assert len(files) == 1, f"{obj.FontName} carries more than one program"
                    programs.append((str(obj.FontName).lstrip("/").split("+")[-1], files[0].objgen))
        drawn = _faces_drawn(doc)
    names = [name for name, _ in programs]
    assert len(names) == len(set(names)), f"a face is embedded more than once: {sorted(names)}"
    assert len({objgen for _, objgen in programs}) == len(programs)
    assert set(names) == drawn, "one program for each face the pages use, and none unused"
    # The brief uses seven faces today: serif regular, bold and italic (titles in its bibliography), sans
    # regular, italic (a title cited in a note), semibold and bold.
    assert len(names) == 7, sorted(names)
    assert all(name.startswith(("Source-Serif-Pro", "Source-Sans-Pro")) for name in names), names


def test_pdf_identifier_comes_from_the_brief(built, tmp_path) -> None:
    """/ID's first entry is the brief's permanent identifier: the SHA-256 of its ``identifier``, in hex, cut
    to 32 digits, the same for every build and paper. The second is the PDF writer's (pydyf's) hash of this
    file: the MD5 of every object as written, in object-number order, the cross-reference stream left out. It
    is recomputed here from the file, which shows the file is as WeasyPrint wrote it, not rewritten after."""
    expected = hashlib.sha256(built.meta["identifier"].encode("utf-8")).hexdigest()[:32]
    path = built.path("pdf")
    with pikepdf.open(path) as doc:
        first, second = (bytes(value) for value in doc.trailer.ID)
        assert first == expected.encode("ascii")
        assert re.fullmatch(rb"[0-9a-f]{32}", second)
        data = path.read_bytes()
        top = {int(m.group(1)): m.group(2) for m in re.finditer(rb"(?m)^(\d+) 0 obj\n(.*?)\nendobj$", data, re.S)}
        objects = dict(top)
        for stream in (o for o in doc.objects if isinstance(o, pikepdf.Stream) and o.get("/Type") == "/ObjStm"):
            raw, first_offset = stream.read_bytes(), int(stream.First)
            header = [int(v) for v in raw[:first_offset].split()]
            numbers, offsets = header[0::2], header[1::2] + [len(raw) - first_offset + 1]
            for i, number in enumerate(numbers):
                objects[number] = raw[first_offset + offsets[i]:first_offset + offsets[i + 1] - 1]
        xref = [n for n, body in top.items() if body.startswith(b"<</Type /XRef")]
        assert len(xref) == 1, "one cross-reference stream: the file was written once"
        del objects[xref[0]]
        assert second == hashlib.md5(b"".join(objects[n] for n in sorted(objects))).hexdigest().encode("ascii")
    # Another paper: the same first entry, another file hash.
    from briefpress.cli import main

    assert main(["build", str(BRIEF), "--format", "pdf", "--paper", "letter", "--out", str(tmp_path)]) == 0
    with pikepdf.open(tmp_path / path.name) as letter:
        assert bytes(letter.trailer.ID[0]) == first and bytes(letter.trailer.ID[1]) != second


def test_metadata_and_language(built) -> None:
    with pikepdf.open(built.path("pdf")) as doc:
        info = doc.docinfo
        meta = built.meta
        assert str(doc.Root.Lang) == meta["lang"]
        # The brief's title has a colon already: it stands alone, with no second colon before the subtitle.
        assert ":" in meta["title"] and str(info["/Title"]) == meta["title"]
        assert str(info["/Author"]) == ", ".join(meta["authors"])
        assert str(info["/Subject"]) == meta["description"]
        assert all(subject in str(info["/Keywords"]) for subject in meta["subjects"])


@dataclass(frozen=True)
class Foot:
    """The notes printed at the foot of a page."""

    page: int  # the page's index
    numbers: list[int]  # the notes' numbers, top down
    top: Run  # the first note's number
    runs: list[Run]  # the page area from the first note's line down
    body: list[Run]  # the page area above it


def feet(layouts: list[Layout], texts: dict[int, str]) -> list[Foot]:
    """Where the brief's notes are printed: a note is its number and a full stop, then, on the same line, the
    start of the note's own text. A numbered list, whose items are not the notes' text, is no note."""
    found = []
    for index, layout in enumerate(layouts):
        area = reading_order([run for run in layout.runs if MARGIN_BOTTOM < run.y < layout.height - MARGIN_TOP])
        starts = [run for run, after in zip(area, area[1:])
                  if (m := re.fullmatch(r"(\d+)\.", run.text)) and int(m.group(1)) in texts
                  and abs(after.y - run.y) < 1 and squash(after.text)
                  and squash(texts[int(m.group(1))]).startswith(squash(after.text)[:20])]
        if starts:
            top = max(starts, key=lambda run: run.y)
            found.append(Foot(index, [int(run.text[:-1]) for run in sorted(starts, key=lambda run: -run.y)], top,
                              [run for run in area if run.y <= top.y + 0.5],
                              [run for run in area if run.y > top.y + 0.5]))
    return found


def test_notes_sit_at_the_foot_of_their_page(built, layouts: list[Layout]) -> None:
    """Each note is printed once, at the foot of a page: below the page's body text and figures, with the
    notes of that page (whole, in order, and nothing else) down to the bottom margin."""
    notes = source_notes(built)
    assert len(notes) >= 3
    texts = dict(notes)
    printed: list[int] = []
    for foot in feet(layouts, texts):
        page = f"page {foot.page + 1}"
        assert foot.numbers == list(range(foot.numbers[0], foot.numbers[0] + len(foot.numbers))), page
        assert _reads_as(squash("".join(run.text for run in foot.runs)), "".join(f"{n}.{texts[n]}" for n in foot.numbers)), \
            f"{page}: the foot is not just its notes"
        # Below the body text and the page's figures, with room between...
        assert foot.body and min(run.y for run in foot.body) > foot.top.y + foot.top.size, page
        assert all(box[1] > foot.top.y + foot.top.size for box in layouts[foot.page].boxes), \
            f"{page}: a figure is drawn below the notes"
        # ...down to the bottom margin: the last line's baseline within one note line of the page area's foot.
        assert MARGIN_BOTTOM < min(run.y for run in foot.runs) <= MARGIN_BOTTOM + foot.top.size, page
        printed += foot.numbers
    assert printed == [number for number, _ in notes], "every note is printed once, at a page's foot, in order"


def test_each_note_is_on_the_page_of_its_call(built, layouts: list[Layout]) -> None:
    """The page that prints a note carries its call in its body: the note's number, smaller than the text it
    sits in and raised above that text's baseline; no other page does."""
    texts = dict(source_notes(built))
    found = feet(layouts, texts)
    assert sorted(n for foot in found for n in foot.numbers) == sorted(texts)
    tops = {foot.page: foot.top.y for foot in found}
    calls: dict[int, set[int]] = {number: set() for number in texts}
    for index, layout in enumerate(layouts):
        body = [run for run in layout.runs if tops.get(index, MARGIN_BOTTOM) + 0.5 < run.y < layout.height - MARGIN_TOP]
        for run in body:
            if run.text.isdigit() and int(run.text) in calls and any(
                    other.size > 1.3 * run.size and 0.5 < run.y - other.y < other.size / 2 for other in body):
                calls[int(run.text)].add(index)
    misplaced = {number: (foot.page + 1, sorted(page + 1 for page in calls[number]))
                 for foot in found for number in foot.numbers if calls[number] != {foot.page}}
    assert misplaced == {}, f"note: (its page, the pages of its call): {misplaced}"


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_paper_size_of_every_page(tmp_path, paper: str) -> None:
    from briefpress.cli import main

    assert main(["build", str(BRIEF), "--format", "pdf", "--paper", paper, "--out", str(tmp_path)]) == 0
    width, height = PAPER[paper]
    with pikepdf.open(next(tmp_path.glob("*.pdf"))) as doc:
        assert len(doc.pages) > 2
        for index, page in enumerate(doc.pages):
            box = [float(v) for v in page.mediabox]
            assert box[:2] == [0, 0] and abs(box[2] - width) < 0.01 and abs(box[3] - height) < 0.01, \
                f"page {index + 1}: {box}"


def test_table_header_repeats_on_every_page(tmp_path) -> None:
    import shutil

    from briefpress.cli import main

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
