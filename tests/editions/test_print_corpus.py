"""Print quality that holds for any brief: 30 briefs generated with a fixed seed, each built and read back.

Each brief has notes of every length (two words to six hundred) at random places: in paragraphs, list
items, table cells, boxes and the captions of figures and tables, several in one paragraph (some
paragraphs call several long notes at once), several on one page. It has headings of two levels, boxes,
figures with captions, long tables with captions, links and citations of a small bibliography. Every brief
is built twice: the first build says where each page ends; a note call is then put at the last words of
each page, and where those words are in a paragraph, a heading before them on every other page, and a
small box, table or figure after them on the others, so that every page has a note near its foot and many
have a heading, a box's title or a caption near their end; the second build is checked.

Marker words find things in the PDF's text: every run of text the generator writes starts with a word of
its own (``sNNNN``); every note call is preceded by one (``cNNNN``), every note starts with one (``nNNNN``)
and ends with one (``eNNNN``); every heading (``hNNNN``) is followed by a paragraph that starts with one
(``fNNNN``), every box title (``xNNNN``) by the box's text (``yNNNN``), every table caption (``tNNNN``) by
the table's first row (``rNNNN``); every figure's caption starts with one (``gNNNN``) and its image is the
figure's own. The PDF is read with poppler's ``pdftotext`` and ``pdfimages``, page by page, and checked:

- every note begins on the page of its call (a note too long for the rest of that page goes on at the foot
  of the next pages: its first words are on the call's page, its last ones not before);
- no heading ends a page: the paragraph after it starts on the heading's page; nor a box's title, apart
  from the box's text; nor a table's caption, apart from its first row; nor a figure's caption, apart from
  its image;
- the EPUB's page list holds every printed page of the body, in order, and each page's marker is where
  that page begins: the text after it is the text the page begins with.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import re
import subprocess
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from briefpress.cli import main
from tools.checks import LETTERS, letters_after, page_letters, png

SEED = 20261207
BRIEFS = 30
WORDS = ("the reform moved power between the president and parliament while the courts and the regions "
         "gained new duties under a constitution amended by referendum after months of debate in both "
         "chambers and in the press where commentators weighed each change against the record").split()
#: The lengths of notes, in words, and how often each is drawn.
LENGTHS = {2: 4, 5: 4, 12: 4, 30: 3, 60: 3, 120: 2, 250: 2, 400: 1, 600: 1}
#: A small bibliography, cited in the text and in notes.
KEYS = [f"k{i}" for i in range(8)]
BIBLIOGRAPHY = "\n".join(
    f"@book{{{key}, author = {{Author{chr(65 + i)}, Anne and Writer{chr(65 + i)}, Bernard}}, "
    f"title = {{Collected work number {i} on the reform}}, date = {{20{10 + i}}}, publisher = {{Press}}}}"
    for i, key in enumerate(KEYS))
XHTML = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
#: Where a note call may be: the places that ``Writer.note`` records.
PLACES = ("paragraph", "list item", "table cell", "box", "figure caption", "table caption")


class Writer:
    """One brief's text, with its unique marker words."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.notes: list[str] = []
        self.count = 0
        self.counters: Counter[str] = Counter()
        self.places: dict[int, str] = {}  # each note's place
        self.movable: set[int] = set()  # the notes whose calls may move to the foot of their page
        self.runs: dict[int, str] = {}  # each run's place (``sNNNN``)
        self.plain: dict[int, str] = {}  # the runs of words alone (no link, citation or note call): their text
        self.tables: dict[int, list[int]] = {}  # each table's first and last run

    def number(self, kind: str) -> int:
        self.counters[kind] += 1
        return self.counters[kind]

    def words(self, low: int, high: int) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(low, high)))

    def note_text(self, n: int, length: int) -> str:
        text = self.words(length, length)
        if length >= 30 and self.rng.random() < 0.3:
            text += f" [@{self.rng.choice(KEYS)}]"
        return f"[^{n}]: n{n:04d} {text} e{n:04d}."

    def note(self, place: str, length: int | None = None, movable: bool = True) -> str:
        """A note call after its marker word; the note's text goes to the end of the section."""
        self.count += 1
        n = self.count
        length = length or self.rng.choices(list(LENGTHS), list(LENGTHS.values()))[0]
        self.notes.append(self.note_text(n, length))
        self.places[n] = place
        if movable:
            self.movable.add(n)
        return call(n)

    def extra(self, citations: bool = True) -> str:
        """A link, a citation (if ``citations``) or nothing."""
        roll = self.rng.random()
        if roll < 0.12:
            return f" [{self.words(2, 12)}](https://example.org/{self.rng.randint(1, 99)})"
        if not citations:
            return ""
        if roll < 0.2:
            return f" [@{self.rng.choice(KEYS)}]"
        if roll < 0.25:
            first, second = self.rng.sample(KEYS, 2)
            return f" [see @{first}, pp. {self.rng.randint(1, 99)}–{self.rng.randint(100, 300)}; @{second}]"
        if roll < 0.28:
            return f" @{self.rng.choice(KEYS)} [p. {self.rng.randint(1, 300)}]"
        return ""

    def run(self, place: str, low: int = 4, high: int = 10, notes: float = 0.2, first: bool = False) -> str:
        """A run of words after its marker (the first capitalised, if it begins a sentence), perhaps with a
        link or a citation, perhaps calling a note."""
        n = self.number("s")
        self.runs[n] = place
        words = self.words(low, high)
        text = f"s{n:04d} {words[:1].upper() + words[1:] if first else words}"
        extra, noted = self.extra(), self.rng.random() < notes
        if not extra and not noted:
            self.plain[n] = text
        return text + extra + (self.note(place) + " " + self.words(1, 4) if noted else "")

    def sentence(self, place: str) -> str:
        return " ".join(self.run(place, first=not n) for n in range(self.rng.randint(1, 3))) + "."

    def paragraph(self, place: str, sentences: tuple[int, int] = (1, 8)) -> str:
        return " ".join(self.sentence(place) for _ in range(self.rng.randint(*sentences)))

    def heading(self, level: str = "") -> str:
        n = self.number("h")
        level = level or self.rng.choice(("##", "###"))
        return f"{level} Heading h{n:04d} {self.words(1, 4)}\n\nf{n:04d} {self.paragraph('paragraph')}"

    def long_notes(self) -> str:
        """A paragraph that calls two or three long notes."""
        self.number("long notes together")
        calls = [self.run("paragraph", notes=0, first=True)
                 + self.note("paragraph", self.rng.choice((250, 400, 600)), movable=False)
                 for _ in range(self.rng.randint(2, 3))]
        return " ".join(calls) + " " + self.paragraph("paragraph", (1, 3))

    def table(self, rows: tuple[int, int] = (4, 60)) -> str:
        n = self.number("t")
        lines = []
        self.tables[n] = [self.counters["s"] + 1, 0]
        for row in range(self.rng.randint(*rows)):
            first = f"r{n:04d} {self.words(1, 2)}" if row == 0 else self.words(1, 3)
            detail = self.run("table cell", 2, 8, notes=0.12)
            lines.append(f"| {first} | {detail} |")
        self.tables[n][1] = self.counters["s"]
        caption = f"t{n:04d} {self.words(2, 8)}{self.extra(citations=False)}"
        if self.rng.random() < 0.6:
            caption += self.note("table caption", movable=False)
        return "| Term | Detail |\n| --- | --- |\n" + "\n".join(lines) + f"\n\n: {caption} {{#tbl-n{n}}}"

    def figure(self) -> str:
        n = self.number("g")
        caption = f"g{n:04d} {self.words(2, 14)}{self.extra(citations=False)}"
        if self.rng.random() < 0.5:
            caption += self.note("figure caption", movable=False) + " " + self.words(1, 3)
        return f"![{caption}](images/g{n:04d}.png){{#fig-n{n}}}"

    def box(self, sentences: tuple[int, int] = (1, 4), lists: float = 0.4) -> str:
        n = self.number("x")
        body = f"y{n:04d} {self.paragraph('box', sentences)}"
        if self.rng.random() < lists:
            body += "\n\n" + "\n".join(f"- {self.paragraph('box', (1, 2))}" for _ in range(self.rng.randint(2, 4)))
        return f"::: {{.box title=\"x{n:04d} {self.words(1, 3)}\"}}\n{body}\n:::"

    def block(self) -> str:
        kind = self.rng.choices(("paragraph", "list", "table", "box", "heading", "figure", "long notes"),
                                (8, 2, 1, 1, 2, 2, 0.6))[0]
        if kind == "list":
            return "\n".join(f"- {self.paragraph('list item', (1, 2))}" for _ in range(self.rng.randint(2, 7)))
        if kind == "table":
            return self.table()
        if kind == "box":
            return self.box()
        if kind == "heading":
            return self.heading()
        if kind == "figure":
            return self.figure()
        if kind == "long notes":
            return self.long_notes()
        return self.paragraph("paragraph")

    def section(self, title: str) -> str:
        self.notes = []
        blocks = [self.heading("##")] + [self.block() for _ in range(self.rng.randint(4, 10))]
        return f"---\ntitle: {title}\n---\n\n" + "\n\n".join(blocks) + "\n\n" + "\n\n".join(self.notes) + "\n"


def generate(root: Path, index: int) -> Writer:
    """Brief ``index`` of the corpus, written into ``root``."""
    rng = random.Random(SEED * 100 + index)
    writer = Writer(rng)
    (root / "sections").mkdir(parents=True)
    (root / "images").mkdir()
    (root / "refs.bib").write_text(BIBLIOGRAPHY, encoding="utf-8")
    names = []
    for n in range(rng.randint(1, 3)):
        name = f"sections/s{n}.md"
        (root / name).write_text(writer.section(f"Part {n + 1}"), encoding="utf-8")
        names.append(name)
    images(root, writer, 560)
    (root / "brief.yaml").write_text(
        f"title: Generated brief {index}\nlang: en\nidentifier: urn:x:gen:{index}\ndate: 2026-01-01\n"
        f"slug: gen{index}\nbibliography: refs.bib\nsections: [{', '.join(names)}]\n", encoding="utf-8")
    return writer


def images(root: Path, writer: Writer, high: int) -> None:
    """Each figure's own image, of its own size (at most ``high`` pixels high) and colour."""
    for n in range(1, writer.counters["g"] + 1):
        if not (root / f"images/g{n:04d}.png").exists():
            (root / f"images/g{n:04d}.png").write_bytes(
                png(writer.rng.randint(200, 600), writer.rng.randint(60, high), (n % 200, 80, 255 - n % 200)))


def call(n: int) -> str:
    """Note ``n``'s call, after its marker word."""
    return f" c{n:04d}[^{n}]"


def at_page_ends(root: Path, writer: Writer, pages: list[str]) -> dict:
    """Put a note call at the last run of words that begins on each page of the body, reading ``pages``, the
    text of a first build; where that run is in a paragraph, on every other page a heading before it, and on
    the others a box, a table or a figure after it, each small; return what was put where.

    The call is one of the page's own, moved from higher up the page (or, if the page calls none that may
    move, a new note's): its note was printed on the page, so what follows is not pushed on. What else is put
    is made room for: runs of the page's words alone, about as many words as it takes, are taken out."""
    rng = writer.rng
    sections = {p: p.read_text(encoding="utf-8") for p in sorted((root / "sections").glob("*.md"))}

    def edit(old: str, new: str) -> None:
        path = next(p for p, text in sections.items() if old in text)
        sections[path] = sections[path].replace(old, new, 1)

    def take(text: str) -> None:
        path = next(p for p, source in sections.items() if text in source)
        for old, new in ((f" {text} ", " "), (f"{text} ", ""), (f" {text}", "")):
            if old in sections[path]:
                sections[path] = sections[path].replace(old, new, 1)
                return

    put: dict = {"notes": [], "headings": [], "blocks": []}
    start = first_body_page(pages)
    for number, page in enumerate(pages[start - 1:], start=start):
        runs = [int(n) for n in re.findall(r"(?<!\w)s(\d{4})(?!\w)", page)]
        if not runs:
            continue
        last, place = runs[-1], writer.runs[runs[-1]]
        begun = {int(n) for n in re.findall(r"(?<!\w)n(\d{4})(?!\w)", page)}
        called = [int(n) for n in re.findall(r"(?<!\w)c(\d{4})\d+", page)]
        movable = [n for n in called if n in begun and n in writer.movable]
        writer.notes = []
        if movable:
            n = rng.choice(movable)
            edit(call(n), "")
            writer.movable.discard(n)
            put["notes"].append((number, n, "moved"))
        else:
            writer.note(place, movable=False)
            n = writer.count
            put["notes"].append((number, n, "new"))
        writer.places[n] = place
        edit(f"s{last:04d} ", f"s{last:04d}{call(n)} ")
        room = 0
        if place == "paragraph" and number % 2 == 0:
            h = writer.number("h")
            edit(f"s{last:04d}", f"\n\n{rng.choice(('##', '###'))} Heading h{h:04d} {writer.words(1, 4)}\n\n"
                                f"f{h:04d} s{last:04d}")
            put["headings"].append((number, h))
            room = 40
        elif place == "paragraph":
            kind = ("box", "table", "figure")[number // 2 % 3]
            block = {"box": lambda: writer.box((1, 2), lists=0), "table": lambda: writer.table((3, 6)),
                     "figure": writer.figure}[kind]()
            path = next(p for p, text in sections.items() if f"s{last:04d}" in text)
            after = sections[path].split(f"s{last:04d}", 1)[1]
            following = f"s{last + 1:04d}"
            if following in after.split("\n", 1)[0]:  # the paragraph goes on: the block goes between
                edit(following, f"\n\n{block}\n\n{following}")
            else:  # the paragraph ends: the block follows it
                end = after.index("\n")
                edit(f"s{last:04d}{after[:end]}", f"s{last:04d}{after[:end]}\n\n{block}")
            put["blocks"].append((number, kind, writer.counters[{"box": "x", "table": "t", "figure": "g"}[kind]]))
            room = {"box": 60, "table": 80, "figure": 70}[kind]
        taken = 0
        for run in rng.sample(runs[:-1], len(runs) - 1):
            if taken < room and run in writer.plain and writer.runs[run] in ("paragraph", "list item", "box"):
                text = writer.plain.pop(run)
                take(text)
                taken += len(text.split()) - 1
        if writer.notes:
            path = next(p for p, text in sections.items() if f"s{last:04d}" in text)
            sections[path] += "\n" + "\n\n".join(writer.notes) + "\n"
    images(root, writer, 160)
    for path, text in sections.items():
        path.write_text(text, encoding="utf-8")
    return put


def build(index: int, base: str) -> dict:
    """Generate brief ``index`` under ``base``, build it, put notes, headings and blocks at its page ends
    (``at_page_ends``), build it again; return what the corpus holds (``Writer``'s records and what was put
    at page ends), also kept beside the brief as ``record.json``."""
    root = Path(base) / "brief"
    writer = generate(root, index)
    record: dict = {"failed": "the first build"}
    draft = root.parent / "draft"
    if main(["build", str(root), "--format", "pdf", "--out", str(draft)]) == 0:
        put = at_page_ends(root, writer, pdf_pages(draft / f"gen{index}.pdf"))
        out = root.parent / "dist"
        failed = main(["build", str(root), "--format", "pdf", "--format", "epub", "--out", str(out)]) != 0
        record = {"failed": "the second build" if failed else "", "places": writer.places,
                  "counters": dict(writer.counters), "tables": writer.tables, "put": put}
    (root.parent / "record.json").write_text(json.dumps(record), encoding="utf-8")
    return record


def pdf_pages(pdf: Path) -> list[str]:
    """The text of every page, by poppler (which make test installs)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def image_pages(pdf: Path) -> list[int]:
    """The 1-based page of every image drawn, in order, by poppler's ``pdfimages``."""
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    return [int(line.split()[0]) for line in listing.splitlines()[2:] if line.strip()]


def first_body_page(pages: list[str]) -> int:
    """The 1-based number of the first page after the cover and the contents (whose running head is
    "Contents")."""
    heads = [next((line for line in page.splitlines() if line.strip()), "") for page in pages]
    return max((i + 1 for i, head in enumerate(heads) if head.rstrip().endswith("Contents")), default=1) + 1


def page_of(pages: list[str], word: str, call: bool = False) -> int | None:
    """The 1-based page of the body on which a marker word is first printed (followed by its note's call,
    if ``call``)."""
    digits = r"\d+" if call else ""
    pattern = re.compile(rf"(?<![\w]){re.escape(word)}{digits}(?![\w])")
    start = first_body_page(pages)
    found = [i + 1 for i, page in enumerate(pages) if i + 1 >= start and pattern.search(page)]
    return found[0] if found else None


def printed_number(page: str) -> int | None:
    lines = [line.strip() for line in page.splitlines() if line.strip()]
    return int(lines[-1]) if lines and lines[-1].isdigit() else None


def begins(pages: list[str], index: int, title: str) -> set[str]:
    """The first letters page ``index`` (0-based) prints above its notes, and on into the next pages if it
    prints fewer: each page's after its running head, or after a table's header row it repeats (the page's own
    text follows)."""
    page = re.split(r"^\s*\d+\. n\d{4}", pages[index], maxsplit=1, flags=re.M)[0]  # not the notes at its foot
    found = set()
    for text in {page_letters(page, title), page_letters(page, title, header=["Term", "Detail"])}:
        if len(text) < LETTERS and index + 1 < len(pages):
            found |= {(text + more)[:LETTERS] for more in begins(pages, index + 1, title)}
        else:
            found.add(text)
    return found


def sources(root: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted((root / "sections").glob("*.md")))


class Built:
    """A brief of the corpus, built."""

    def __init__(self, index: int, base: Path, record: dict):
        self.index, self.root, self.out = index, base / "brief", base / "dist"
        self.record = record
        self.pdf = self.out / f"gen{index}.pdf"
        self.pages = pdf_pages(self.pdf)
        self.text = sources(self.root)

    def notes(self) -> dict[int, int]:
        """Each note's number, with its length in words."""
        return {int(n): len(words.split()) - 1 for n, words in
                re.findall(r"^\[\^(\d+)\]: n\d{4} (.*)$", self.text, re.M)}


@pytest.fixture(scope="module")
def briefs(tmp_path_factory) -> list[tuple[Path, dict]]:
    """Every brief of the corpus, built in as many processes as there are processors (at most four): its
    folder and its record (``build``)."""
    bases = [tmp_path_factory.mktemp(f"gen{index}") for index in range(BRIEFS)]
    workers = max(1, min(4, os.cpu_count() or 1))
    with multiprocessing.get_context("fork").Pool(workers, maxtasksperchild=4) as pool:
        records = pool.starmap(build, [(index, str(base)) for index, base in enumerate(bases)], chunksize=1)
    return list(zip(bases, records))


@pytest.fixture(scope="module")
def corpus(briefs) -> list[Built]:
    """The briefs that built (``test_every_brief_builds`` names the others)."""
    return [Built(index, base, record) for index, (base, record) in enumerate(briefs) if not record["failed"]]


def test_every_brief_builds(briefs) -> None:
    failed = [(index, record["failed"]) for index, (_, record) in enumerate(briefs) if record["failed"]]
    assert not failed, f"(brief, the build that failed): {failed}"


def test_the_corpus_has_what_it_promises(corpus) -> None:
    lengths = Counter(length for brief in corpus for length in brief.notes().values())
    places = Counter(place for brief in corpus for place in brief.record["places"].values())
    pages = sum(len(brief.pages) for brief in corpus)
    body_pages = sum(len(brief.pages) - first_body_page(brief.pages) + 1 for brief in corpus)
    several = sum(1 for brief in corpus for page in brief.pages if len(re.findall(r"(?<!\w)n\d{4}(?!\w)", page)) >= 2)
    together = sum(brief.record["counters"].get("long notes together", 0) for brief in corpus)
    figures = sum(brief.record["counters"].get("g", 0) for brief in corpus)
    long_tables = sum(1 for brief in corpus for first, last in brief.record["tables"].values()
                      if page_of(brief.pages, f"s{last:04d}") != page_of(brief.pages, f"s{first:04d}"))
    put_notes = sum(len(brief.record["put"]["notes"]) for brief in corpus)
    put_headings = sum(len(brief.record["put"]["headings"]) for brief in corpus)
    h3 = sum(len(re.findall(r"^### Heading", brief.text, re.M)) for brief in corpus)
    links = sum(len(re.findall(r"\]\(https://", brief.text)) for brief in corpus)
    citations = sum(len(re.findall(r"@k\d", brief.text)) for brief in corpus)
    assert len(corpus) >= 30 and sum(lengths.values()) > 800 and pages > 250
    assert min(lengths) <= 2 and max(lengths) >= 600 and all(lengths[n] >= 10 for n in LENGTHS), lengths
    assert all(places[place] >= 10 for place in PLACES), places
    assert together >= 10 and several >= 100 and figures >= 40 and long_tables >= 10 and h3 >= 40, \
        (together, several, figures, long_tables, h3)
    assert links >= 100 and citations >= 100, (links, citations)
    put_blocks = Counter(kind for brief in corpus for _, kind, _ in brief.record["put"]["blocks"])
    assert put_notes >= 0.7 * body_pages and put_headings >= 0.2 * body_pages, (put_notes, put_headings, body_pages)
    assert all(put_blocks[kind] >= 15 for kind in ("box", "table", "figure")), put_blocks


def test_every_note_begins_on_the_page_of_its_call(corpus) -> None:
    """A note's first words are on its call's page; if it is too long for the rest of that page, it goes on
    at the foot of the pages after it, and its last words are not before its first."""
    misplaced = []
    for brief in corpus:
        for n in brief.notes():
            call = page_of(brief.pages, f"c{n:04d}", call=True)
            start, end = page_of(brief.pages, f"n{n:04d}"), page_of(brief.pages, f"e{n:04d}")
            if call is None or call != start or end is None or end < start:
                misplaced.append((brief.index, n, call, start, end))
    assert not misplaced, \
        f"(brief, note, page of its call, page of its first words, of its last): {misplaced[:20]} ({len(misplaced)})"


def test_no_heading_box_title_or_caption_ends_a_page(corpus) -> None:
    stranded = []
    for brief in corpus:
        pages = brief.pages
        for kind, first, following in (("heading", "h", "f"), ("box", "x", "y"), ("table", "t", "r")):
            for n in range(1, brief.record["counters"].get(first, 0) + 1):
                here, there = page_of(pages, f"{first}{n:04d}"), page_of(pages, f"{following}{n:04d}")
                if here is None or here != there:
                    stranded.append((brief.index, kind, n, here, there))
        images = image_pages(brief.pdf)
        figures = [int(n) for n in re.findall(r"\]\(images/g(\d{4})\.png\)", brief.text)]  # in the order printed
        if len(images) != len(figures):
            stranded.append((brief.index, "figures", len(figures), "images", len(images)))
        for n, image in zip(figures, images):
            if page_of(pages, f"g{n:04d}") != image:
                stranded.append((brief.index, "figure", n, page_of(pages, f"g{n:04d}"), image))
    assert not stranded, \
        f"(brief, what, its number, its page, the page of what follows it): {stranded[:20]} ({len(stranded)})"


def test_the_page_list_holds_every_printed_page_of_the_body_in_order(corpus) -> None:
    faults = []
    for brief in corpus:
        with zipfile.ZipFile(brief.out / f"gen{brief.index}.epub") as epub:
            nav = etree.fromstring(epub.read(next(n for n in epub.namelist() if n.endswith("nav.xhtml"))))
            listed = [int(a.text) for a in nav.xpath('//x:nav[@epub:type="page-list"]//x:a', namespaces=XHTML)]
        printed = [printed_number(page) for page in brief.pages[first_body_page(brief.pages) - 1:]]
        if listed != [p for p in printed if p is not None]:
            faults.append((brief.index, listed, printed))
    assert not faults, f"(brief, the EPUB's page list, the PDF's printed pages of the body): {faults[:5]}"


def test_each_page_marker_is_where_its_page_begins(corpus) -> None:
    """The text after each page's marker in the EPUB is the text its PDF page begins with (its first
    letters, after the running head), wherever the page begins: inside a paragraph, a list item, a table
    cell, a caption, a link, a citation or a box, after a note's call."""
    faults = []
    for brief in corpus:
        with zipfile.ZipFile(brief.out / f"gen{brief.index}.epub") as epub:
            nav = etree.fromstring(epub.read(next(n for n in epub.namelist() if n.endswith("nav.xhtml"))))
            base = next(n for n in epub.namelist() if n.endswith("nav.xhtml")).rsplit("/", 1)[0]
            for a in nav.xpath('//x:nav[@epub:type="page-list"]//x:a', namespaces=XHTML):
                name, _, anchor = a.get("href").partition("#")
                marker = etree.fromstring(epub.read(f"{base}/{name}")).xpath(f"//*[@id='{anchor}']")[0]
                title = f"Generated brief {brief.index}"
                front = first_body_page(brief.pages) - 1  # the front is numbered apart: page 1 follows it
                after, printed = letters_after(marker), begins(brief.pages, front + int(a.text) - 1, title)
                if after not in printed:
                    faults.append((brief.index, int(a.text), after, sorted(printed)))
    assert not faults, f"(brief, page, the letters after its marker, the letters the page begins with): {faults[:10]}"
