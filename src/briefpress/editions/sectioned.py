"""A brief's print edition laid out section by section, then drawn as one document.

Every section starts a page (the design's ``.section { break-before: page }``), so a section's pages depend
only on its own HTML, the numbers of its first page and of its first note, and the printed pages of what it
refers to in other sections ("Figure 2 (p. 5)"). Each section is laid out as a document of its own,
numbered on from the sections before it, the first from 1 (``@page :first { counter-reset: page N }``,
``counter-reset: footnote N``). The front (cover and contents) is numbered apart (i, ii…), so that it is laid
out once, last, with the sections' pages in ``data-page``. The pages are then put in one document with
WeasyPrint's ``Document.copy``, its documented way to combine documents, and drawn once: the same bytes as
the brief laid out whole (tested).

A reference to another section's page carries it in ``data-page`` (0 while it is not known, which prints no
page). Once every section is laid out, one whose references then know other pages is laid out again, and so
is every section after one whose length changed, until nothing changes (at most ``ROUNDS`` times).

``Layouts`` keeps each section's layout under a key of everything it depends on, so that ``watch``, whose
WeasyPrint session outlives a save, lays out again only what the save changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

from ..cache import key
from ..errors import Diagnostic, Diagnostics
from ..model import PagedHTML, PageStart
from ..resources import recording_reads

#: How many times the sections may be laid out again for the pages their references print.
ROUNDS = 3
#: The stylesheets' page numbers of link targets; in the front, read from ``data-page``.
LINK_PAGE = re.compile(r"target-counter\(\s*attr\(\s*href\s*\)\s*,\s*page\s*(?:,[^)]*)?\)")


@dataclass(frozen=True)
class PrintSection:
    """One section of a brief's print edition, as a document of its own.

    Its links that print the page of a target in another section carry it in ``data-page``, filled in from
    the pages known (``PagedHTML``).
    """

    id: str
    html: PagedHTML  # the HTML
    notes_before: int  # the notes of the sections before it: its first note's number is one more

    @property
    def source(self) -> str:
        """The HTML, no other section's page known."""
        return self.html.source


class Session(Protocol):
    """What laying out needs of WeasyPrint (``typeset._Session``)."""

    diags: Diagnostics

    def css(self, text: str) -> Any:
        ...

    def lay_out(self, source: str, sheets: list[Any], diags: Diagnostics | None = None) -> tuple[Any, Any]:
        ...

    def lay_out_notes(self, source: str, sheets: list[Any]) -> tuple[Any, Any, str]:
        ...

    def starts(self, html: Any, document: Any, source: str, sheets: list[Any] | None = None,
               first_page: int = 1) -> tuple[PageStart, ...]:
        ...

    def unchanged(self, reads: dict[str, str]) -> bool:
        """Whether every file of ``reads`` (URL: SHA-256) still holds what was read."""
        ...


@dataclass
class Laid:
    """One document laid out: its pages, where each begins, its anchors' pages (0: its first), what its
    layout reported and the files it read (images, charts: URL and SHA-256)."""

    document: Any
    starts: tuple[PageStart, ...]
    anchors: dict[str, int]
    items: list[Diagnostic]
    reads: dict[str, str] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return len(self.document.pages)


@dataclass
class Layouts:
    """Layouts kept by key for as long as the session they were made in: those the last job did not use are
    dropped when it is done."""

    kept: dict[str, Laid] = field(default_factory=dict)
    used: dict[str, Laid] = field(default_factory=dict)

    def get(self, key: str, make: Callable[[], Laid], unchanged: Callable[[dict[str, str]], bool]) -> Laid:
        """The layout kept under ``key`` if every file it read is ``unchanged`` (an image replaced under its
        name leaves the HTML as it was), else ``make``'s."""
        laid = self.used.get(key)
        if laid is None:
            kept = self.kept.get(key)
            laid = kept if kept is not None and unchanged(kept.reads) else make()
        self.used[key] = laid
        return laid

    def done(self) -> None:
        self.kept, self.used = self.used, {}


def lay_out(session: Session, front: PagedHTML, sections: Sequence[PrintSection], sheets: list[Any],
            front_sheets: list[Any], title_css: str, layouts: Layouts,
            drawn: bool) -> tuple[Any, tuple[PageStart, ...], int]:
    """Lay each section out as its own document, the first numbered from 1, and, if the document is to be
    ``drawn``, the front after them, numbered apart (i, ii…), with the sections' pages; return one document
    of all their pages, where each page begins and the front's length (0 if it was not laid out: a page map
    needs the sections' pages only). ``front_sheets`` (used only if ``drawn``) are the stylesheets with links'
    pages read from ``data-page``; ``title_css`` sets the brief's title for the running heads of sections.
    What the layouts kept report goes to ``session.diags``."""
    anchors: dict[str, int] = {}
    laid: list[Laid] = []
    for _ in range(ROUNDS):
        known = dict(anchors)  # the pages of the round before, each replaced once laid out again
        laid, sources, page = [], [], 1
        for section in sections:
            source = section.html.filled(known)
            counters = (f"@page :first {{ counter-reset: page {page} }} {title_css} "
                        f"body {{ counter-reset: footnote {section.notes_before} }}")
            one = layouts.get(key("section", source, counters), lambda: laid_out(
                session, source, [*sheets, session.css(counters)], page), session.unchanged)
            laid.append(one)
            sources.append(source)
            known.update((name, page + index) for name, index in one.anchors.items())
            page += one.pages
        anchors = known
        if all(s.html.filled(anchors) == source for s, source in zip(sections, sources)):
            break
    front_laid: list[Laid] = []
    if drawn:
        filled = front.filled(anchors)
        front_laid.append(layouts.get(key("front", filled), lambda: laid_out(
            session, filled, front_sheets, 1, plain=True), session.unchanged))
    every = (*front_laid, *laid)
    session.diags.add(*(item for one in every for item in one.items))
    layouts.done()
    document = every[0].document.copy([page for one in every for page in one.document.pages])
    return document, tuple(start for one in laid for start in one.starts), sum(one.pages for one in front_laid)


def laid_out(session: Session, source: str, sheets: list[Any], first_page: int, plain: bool = False) -> Laid:
    """Lay one document out, with what its layout reports and the files it reads kept apart; the front
    (``plain``) as it is, a section with every note on its call's page."""
    own, session.diags = session.diags, Diagnostics()
    try:
        with recording_reads() as reads:
            if plain:
                html, document = session.lay_out(source, sheets)
                starts: tuple[PageStart, ...] = ()
            else:
                html, document, source = session.lay_out_notes(source, sheets)
                starts = session.starts(html, document, source, sheets, first_page)
        items = session.diags.items
    finally:
        session.diags = own
    anchors: dict[str, int] = {}
    for index, page in enumerate(document.pages):
        for name in page.anchors:
            anchors.setdefault(name, index)
    return Laid(document, starts, anchors, list(items), reads)

