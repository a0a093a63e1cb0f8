"""Print quality that holds for any brief: 30 briefs generated with a fixed seed, each built and read back.

Each brief has notes of every length at random places (in paragraphs, list items, table cells and boxes,
several in one paragraph, some near the foot of a page), headings anywhere, and long tables. Every note call
is preceded by a word of its own (``cNNNN``) and every note starts with one (``nNNNN``); every heading
(``hNNNN``) is followed by a paragraph that starts with one (``fNNNN``). The PDF is read with poppler's
``pdftotext``, page by page, and checked:

- every note begins on the page of its call;
- no heading ends a page: the paragraph after it starts on the heading's page;
- the EPUB's page list holds every printed page of the body, in order, and each page's marker is where
  that page begins: the text after it is the text the page begins with.
"""

from __future__ import annotations

import random
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from briefpress.cli import main
from tools.checks import letters_after, page_letters

SEED = 20261207
BRIEFS = 30
WORDS = ("the reform moved power between the president and parliament while the courts and the regions "
         "gained new duties under a constitution amended by referendum after months of debate in both "
         "chambers and in the press where commentators weighed each change against the record").split()
XHTML = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}


class Writer:
    """One brief's text, with its unique marker words."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.notes: list[str] = []
        self.count = 0
        self.headings = 0

    def words(self, low: int, high: int) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(low, high)))

    def note(self) -> str:
        """A note call after its marker word; the note's text goes to the end of the section."""
        self.count += 1
        n = self.count
        length = self.rng.choice((3, 8, 20, 45, 90, 160))
        self.notes.append(f"[^{n}]: n{n:04d} {self.words(length, length)}.")
        return f" c{n:04d}[^{n}]"

    def sentence(self) -> str:
        text = self.words(6, 18).capitalize()
        while self.rng.random() < 0.35:
            text += self.note() + " " + self.words(3, 10)
        return text + "."

    def paragraph(self, sentences: tuple[int, int] = (1, 9)) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(*sentences)))

    def heading(self) -> str:
        self.headings += 1
        n = self.headings
        return f"## Heading h{n:04d} {self.words(1, 4)}\n\nf{n:04d} {self.paragraph()}"

    def block(self) -> str:
        kind = self.rng.choices(("para", "list", "table", "box", "heading"), (8, 2, 1, 1, 2))[0]
        if kind == "list":
            return "\n".join(f"- {self.paragraph((1, 2))}" for _ in range(self.rng.randint(2, 7)))
        if kind == "table":
            rows = [f"| {self.words(1, 3)} | {self.words(2, 8)}{self.note() if self.rng.random() < 0.2 else ''} |"
                    for _ in range(self.rng.randint(5, 45))]
            return "| Term | Detail |\n| --- | --- |\n" + "\n".join(rows)
        if kind == "box":
            return f"::: {{.box title=\"{self.words(1, 3)}\"}}\n{self.paragraph((1, 4))}\n:::"
        if kind == "heading":
            return self.heading()
        return self.paragraph()

    def section(self, title: str) -> str:
        self.notes = []
        body = "\n\n".join(self.block() for _ in range(self.rng.randint(6, 22)))
        return f"---\ntitle: {title}\n---\n\n{body}\n\n" + "\n\n".join(self.notes) + "\n"


def generate(root: Path, index: int) -> Path:
    rng = random.Random(SEED * 100 + index)
    writer = Writer(rng)
    (root / "sections").mkdir(parents=True)
    names = []
    for n in range(rng.randint(1, 3)):
        name = f"sections/s{n}.md"
        (root / name).write_text(writer.section(f"Part {n + 1}"), encoding="utf-8")
        names.append(name)
    (root / "brief.yaml").write_text(
        f"title: Generated brief {index}\nlang: en\nidentifier: urn:x:gen:{index}\ndate: 2026-01-01\n"
        f"slug: gen{index}\nsections: [{', '.join(names)}]\n", encoding="utf-8")
    return root


def pdf_pages(pdf: Path) -> list[str]:
    """The text of every page, by poppler (which make test installs)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def first_body_page(pages: list[str]) -> int:
    """The 1-based number of the first page after the cover and the contents (whose running head is
    "Contents")."""
    heads = [next((line for line in page.splitlines() if line.strip()), "") for page in pages]
    return max((i + 1 for i, head in enumerate(heads) if head.rstrip().endswith("Contents")), default=1) + 1


def page_of(pages: list[str], word: str, call: str = "") -> int | None:
    """The 1-based page of the body on which a marker word is printed (followed by its note's call, if any)."""
    pattern = re.compile(rf"(?<![\w]){re.escape(word + call)}(?![\w])")
    start = first_body_page(pages)
    found = [i + 1 for i, page in enumerate(pages) if i + 1 >= start and pattern.search(page)]
    return found[0] if found else None


def printed_number(page: str) -> int | None:
    lines = [line.strip() for line in page.splitlines() if line.strip()]
    return int(lines[-1]) if lines and lines[-1].isdigit() else None


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[tuple[Path, Path]]:
    built = []
    for index in range(BRIEFS):
        root = generate(tmp_path_factory.mktemp(f"gen{index}") / "brief", index)
        out = root.parent / "dist"
        assert main(["build", str(root), "--format", "pdf", "--format", "epub", "--out", str(out)]) == 0
        built.append((root, out))
    return built


def test_the_corpus_has_what_it_promises(corpus) -> None:
    notes = sum(len(re.findall(r"^\[\^\d+\]: ", p.read_text(encoding="utf-8"), re.M))
                for root, _ in corpus for p in (root / "sections").glob("*.md"))
    pages = sum(len(pdf_pages(out / f"gen{i}.pdf")) for i, (_, out) in enumerate(corpus))
    assert len(corpus) >= 30 and notes > 500 and pages > 150


def test_every_note_begins_on_the_page_of_its_call(corpus) -> None:
    misplaced = []
    for index, (root, out) in enumerate(corpus):
        pages = pdf_pages(out / f"gen{index}.pdf")
        for section in (root / "sections").glob("*.md"):
            for n in re.findall(r"^\[\^(\d+)\]: ", section.read_text(encoding="utf-8"), re.M):
                call, note = page_of(pages, f"c{int(n):04d}", n), page_of(pages, f"n{int(n):04d}")
                if call is None or call != note:
                    misplaced.append((index, int(n), call, note))
    assert not misplaced, f"(brief, note, page of its call, page of the note): {misplaced[:20]}"


def test_no_heading_ends_a_page(corpus) -> None:
    stranded = []
    for index, (root, out) in enumerate(corpus):
        pages = pdf_pages(out / f"gen{index}.pdf")
        text = "".join(p.read_text(encoding="utf-8") for p in (root / "sections").glob("*.md"))
        for n in re.findall(r"^## Heading h(\d+)", text, re.M):
            heading, first = page_of(pages, f"h{n}"), page_of(pages, f"f{n}")
            if heading != first:
                stranded.append((index, n, heading, first))
    assert not stranded, f"(brief, heading, its page, the page of the text after it): {stranded[:20]}"


def test_the_page_list_holds_every_printed_page_of_the_body_in_order(corpus) -> None:
    faults = []
    for index, (_, out) in enumerate(corpus):
        pages = pdf_pages(out / f"gen{index}.pdf")
        with zipfile.ZipFile(out / f"gen{index}.epub") as epub:
            nav = etree.fromstring(epub.read(next(n for n in epub.namelist() if n.endswith("nav.xhtml"))))
            listed = [int(a.text) for a in nav.xpath('//x:nav[@epub:type="page-list"]//x:a', namespaces=XHTML)]
        printed = [printed_number(page) for page in pages[first_body_page(pages) - 1:]]
        if listed != [p for p in printed if p is not None]:
            faults.append((index, listed, printed))
    assert not faults, f"(brief, the EPUB's page list, the PDF's printed pages of the body): {faults[:5]}"


def test_each_page_marker_is_where_its_page_begins(corpus) -> None:
    """The text after each page's marker in the EPUB is the text its PDF page begins with (its first
    letters, after the running head), wherever the page begins: inside a paragraph, a list item, a table
    cell or a box, after a note's call."""
    faults = []
    for index, (_, out) in enumerate(corpus):
        pages = pdf_pages(out / f"gen{index}.pdf")
        with zipfile.ZipFile(out / f"gen{index}.epub") as epub:
            nav = etree.fromstring(epub.read(next(n for n in epub.namelist() if n.endswith("nav.xhtml"))))
            base = next(n for n in epub.namelist() if n.endswith("nav.xhtml")).rsplit("/", 1)[0]
            for a in nav.xpath('//x:nav[@epub:type="page-list"]//x:a', namespaces=XHTML):
                name, _, anchor = a.get("href").partition("#")
                marker = etree.fromstring(epub.read(f"{base}/{name}")).xpath(f"//*[@id='{anchor}']")[0]
                page, title = pages[int(a.text) - 1], f"Generated brief {index}"
                after, printed = letters_after(marker), page_letters(page, title)
                # A table running on from the page before repeats its header row: the page's own text follows.
                if after != printed and after != page_letters(page, title, header=["Term", "Detail"]):
                    faults.append((index, int(a.text), after, printed))
    assert not faults, f"(brief, page, the letters after its marker, the letters the page begins with): {faults[:10]}"


