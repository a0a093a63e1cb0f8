"""The brief as the stages pass it on: frozen dataclasses, never loose dicts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

ROLES = ("body", "front", "back")
FORMATS = ("pdf", "epub", "html")


#: What ``lists:`` in ``brief.yaml`` may ask for after the contents, and the kind each lists.
LISTS = {"figures": "fig", "tables": "tbl", "boxes": "box"}


@dataclass(frozen=True)
class Numbering:
    """How figures, tables, boxes and sections are numbered and referred to (``brief.yaml``)."""

    #: ``crossref: {chapters: true}``: numbers start again in each section, after its number ("Figure 3.2").
    per_section: bool = False
    #: ``number-sections: true``: the body sections and their headings carry their numbers in every edition.
    number_sections: bool = False
    #: ``crossref: {sections: number | title}``: ``@sec-x`` reads "Section 3" or the section's title.
    section_refs: str = "title"
    #: ``crossref: {pages: true}``: in the PDF, a reference ends with the target's page, "Figure 2 (p. 5)".
    pages: bool = False
    #: ``lists: [figures, tables, boxes]``: the lists printed after the contents, in that order.
    lists: tuple[str, ...] = ()
    #: ``crossref: {fig-prefix: …, sec-prefix: …, nte-prefix: …}``: (kind, word) a reference prints before the
    #: number, for the kinds given ("Figure", "Section", "Note" … for the others, Quarto's defaults).
    ref_prefixes: tuple[tuple[str, str], ...] = ()
    #: ``crossref: {fig-title: …, tbl-title: …, nte-title: …}``: (kind, word) a caption starts with.
    caption_titles: tuple[tuple[str, str], ...] = ()
    #: ``crossref: {title-delim: …}``: what follows the number in a caption with a title ("Figure 1: …").
    title_delim: str = ":"
    #: ``crossref: {ref-hyperlink: false}``: references are text, not links.
    ref_hyperlink: bool = True
    #: ``crossref: {labels: …, fig-labels: …, tbl-labels: …}``: (kind, style) of the numbers, as Quarto's
    #: ``formatNumberOption`` reads them: ``arabic``, ``roman`` (``roman i`` for lower case), ``alpha a``
    #: (``alpha A``…: the first letter), or a list of the labels to use in turn. The kind ``""`` is ``labels``.
    labels: tuple[tuple[str, str | tuple[str, ...]], ...] = ()
    #: ``crossref: {lof-title: …, lot-title: …}``: (kind, heading) of the lists of figures and tables.
    list_titles: tuple[tuple[str, str], ...] = ()

    def ref_prefix(self, kind: str, default: str) -> str:
        """The word a reference to ``kind`` prints before the number."""
        return dict(self.ref_prefixes).get(kind, default)

    def number_label(self, kind: str, n: int) -> str:
        """The ``n``-th number of ``kind`` as its labels style writes it (Quarto's ``formatNumberOption``)."""
        styles = dict(self.labels)
        style = styles.get(kind, styles.get("", "arabic"))
        if isinstance(style, tuple):  # the labels in turn
            return style[(n - 1) % len(style)]
        if style.startswith("alpha "):
            code = ord(style.split(" ")[1][:1] or "a") + n - 1
            return chr(code) if 0x20 < code < 0xD800 else str(n)  # past the letters, what XML can hold
        if style.startswith("roman"):
            return _roman(n).lower() if style.endswith("i") else _roman(n)
        return str(n)

    def caption_title(self, kind: str, default: str) -> str:
        """The word a caption of ``kind`` starts with."""
        return dict(self.caption_titles).get(kind, default)


@dataclass(frozen=True)
class Metadata:
    """What ``brief.yaml`` says about the brief as a whole."""

    title: str
    lang: str
    slug: str
    identifier: str
    date: dt.date
    subtitle: str = ""
    authors: tuple[str, ...] = ()
    modified: dt.date | None = None
    publisher: str = ""
    rights: str = ""
    description: str = ""
    subjects: tuple[str, ...] = ()
    paper: str = "a4"
    numbering: Numbering = Numbering()
    #: Quarto's ``callout-appearance`` and ``callout-icon``: (option, value) every callout takes unless it sets
    #: its own (``appearance`` "default" | "simple" | "minimal"; ``icon`` "true" | "false").
    callouts: tuple[tuple[str, str], ...] = ()

    @property
    def last_modified(self) -> dt.date:
        """The date the outputs carry as their modification date."""
        return self.modified or self.date


@dataclass(frozen=True)
class Section:
    """One Markdown section file: front matter plus its source text."""

    path: Path
    id: str
    title: str
    short_title: str
    role: str
    source: str
    #: Line in ``path`` where ``source`` starts (1-based), so errors point at the file the author edits.
    first_line: int
    meta: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Reference:
    """One work the brief may cite: its id, and where it is written (pandoc reads the work's fields itself)."""

    id: str
    path: Path
    line: int


@dataclass(frozen=True)
class BibFile:
    """A bibliography file as the brief's loading read it: its name in ``brief.yaml`` and its text (a bare
    CSL-YAML list put under ``references:``, as pandoc reads one)."""

    name: str
    text: str


@dataclass(frozen=True)
class Bibliography:
    """The references a brief names in ``brief.yaml`` (``bibliography:``) and the CSL style they are cited in."""

    references: Mapping[str, Reference]
    style_name: str
    style_xml: str
    #: ``brief.yaml`` and the line of its ``bibliography`` key, where problems of the whole list are reported.
    path: Path
    line: int
    #: The line of ``csl`` in ``brief.yaml`` (of ``bibliography`` when the style is the default).
    style_line: int = 0
    #: The files, in the order ``bibliography`` lists them, as read (the citation engine is given these).
    files: tuple[BibFile, ...] = ()


@dataclass(frozen=True)
class Brief:
    """A loaded and validated brief folder."""

    root: Path
    metadata: Metadata
    sections: tuple[Section, ...]
    data: Mapping[str, Any]
    bibliography: Bibliography | None = None

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def styles_dir(self) -> Path:
        return self.root / "styles"


@dataclass(frozen=True)
class PageStart:
    """Printed page ``page`` of the PDF edition begins at block ``block`` of section ``section`` (0: the
    section's title), after ``offset`` of the block's letters and digits (0: at the block's start; a page
    that begins inside a paragraph, a list item or a table row continues it). Blocks are numbered in the same
    order in every edition, and their text is the same, so the EPUB's page list can cite the PDF's pages."""

    page: int
    section: str
    block: int
    offset: int = 0


#: Links from one part of a brief laid out in parts to another leave WeasyPrint as URIs of this scheme; joining
#: the parts makes them internal again (``editions.join``).
CROSS_PART = "briefpress-part:"
#: Around a paged link's target in its ``data-page``, as the print edition renders it, until the HTML is split
#: (``PagedHTML.split``): two of Unicode's noncharacters, which no source may hold (``load.FORBIDDEN_CHARS``).
PAGE_OPEN, PAGE_CLOSE = "\ufffe", "\uffff"


def page_mark(target_id: str) -> str:
    """The ``data-page`` of a link that prints the page of ``target_id``, as rendered, before the page is known."""
    return f' data-page="{PAGE_OPEN}{target_id}{PAGE_CLOSE}"'


@dataclass(frozen=True)
class PagedHTML:
    """A print document's HTML, split once where its links print their targets' pages (``data-page``): the
    text around those places, and each one's target id. ``filled`` joins them with the pages known."""

    texts: tuple[str, ...] = ("",)
    targets: tuple[str, ...] = ()

    @classmethod
    def split(cls, html: str) -> PagedHTML:
        """``html`` as rendered, each paged link's target marked (``page_mark``), split at the marks."""
        first, *rest = html.split(PAGE_OPEN)
        pieces = [piece.partition(PAGE_CLOSE) for piece in rest]
        return cls((first, *(text for _, _, text in pieces)), tuple(target for target, _, _ in pieces))

    def filled(self, pages: Mapping[str, int]) -> str:
        """The HTML, each paged link given its target's page from ``pages`` (0, which prints none: not known)."""
        out = [self.texts[0]]
        for target, text in zip(self.targets, self.texts[1:]):
            out += [str(pages.get(target, 0)), text]
        return "".join(out)

    @property
    def source(self) -> str:
        """The HTML with no page known yet."""
        return self.filled({})

    def __bool__(self) -> bool:
        return any(self.texts)


def _roman(n: int) -> str:
    """``n`` in Roman numerals (pandoc's ``to_roman_numeral``: 1 to 3999, else the digits)."""
    if not 0 < n < 4000:
        return str(n)
    out = ""
    for value, letters in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                           (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out, n = out + letters, n - value
    return out
