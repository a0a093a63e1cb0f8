"""Typesetting: WeasyPrint lays a print job out in pages and draws them as a tagged PDF.

A ``PrintJob`` is everything a layout needs, made by ``pdf.py`` from the rendered brief: the HTML, the
stylesheets and the files the document may read. A ``Typesetter`` turns a job into a PDF (or only into its
page breaks, for the EPUB's page list). ``InProcess`` is the plain one, in the build's own process; the
command line may hand the build another of the same shape (``briefpress.speedups``), which must give the
same bytes. A long brief comes in parts (``PrintPart``): they are laid out one at a time, each numbered on
from the pages and notes before it, drawn (by a ``Drawing``: here, or elsewhere) and joined (``join.py``).
This module imports neither Jinja nor markdown-it, and WeasyPrint only when a job is laid out, so that
builds without a PDF do not pay for its import.
"""

from __future__ import annotations

import calendar
import datetime as dt
import gc
import hashlib
import io
import logging
import os
import re
import sys
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence

from ..errors import Diagnostics
from ..exits import private_temporary_folder
from ..model import CROSS_PART, PagedHTML, PageStart
from ..resources import Refused, ResourcePolicy, note_reads, read_regular, recording_reads
from . import sectioned
from .keptparts import KeptParts, LaidPart
from .sectioned import LINK_PAGE as _LINK_PAGE
from .sectioned import Layouts, PrintSection

# Log lines about the machine's libraries rather than the brief: not the author's problem.
ENVIRONMENT_NOTICES = ("HarfBuzz-Subset",)
#: The attribute that carries a block's number in its section (``render.blocknumbers``), which the EPUB's
#: page-break markers are placed by.
BLOCK = "data-block"


@dataclass(frozen=True)
class PrintPart:
    """One part of a long brief's print edition: the cover and contents (the first part), or a run of
    sections.

    Its links to other parts are ``CROSS_PART`` URIs, which joining makes internal again; the front's, and the
    references that print their target's page, carry that page in ``data-page``, filled in from the pages
    known (``PagedHTML``): the front's once the runs are laid out, a run's from the parts before it.
    """

    html: PagedHTML  # the HTML
    notes_before: int  # notes in the parts before it: its first note's number is one more

    @property
    def source(self) -> str:
        """The HTML, no other part's page known."""
        return self.html.source


@dataclass(frozen=True)
class PrintJob:
    """A document to lay out: the brief's print edition, whole or in parts."""

    root: Path  # the brief folder: the document's base, and where its files may come from
    assets: Mapping[str, bytes]  # files made during the build (charts), by path relative to the root
    source: str  # the HTML of the whole brief (laid out unless ``parts`` are given)
    stylesheets: tuple[Path, ...]
    lang: str
    identifier: str  # the brief's identifier, from which the PDF's is made
    modified: dt.date  # stamped into the embedded fonts
    title: str = ""  # the brief's title, for the running heads of parts that have no cover
    parts: tuple[PrintPart, ...] = ()  # a long brief's parts, the front first (see ``pdf.plan``)
    front: PagedHTML = PagedHTML()  # the cover and contents alone, numbered apart, laid out after the sections
    sections: tuple[PrintSection, ...] = ()  # each section's HTML, laid out on its own (``sectioned``)
    fonts: str = ""  # the ``@font-face`` rules of the front's and the sections' documents, read once
    kept_parts: Path | None = None  # where a long brief's parts are kept between builds (``keptparts``)
    sources: tuple[Path, ...] = ()  # the section files, where a warning of the layout finds its line


@dataclass(frozen=True)
class Typeset:
    """What a build keeps of a layout: its page count and where each page begins."""

    pages: int  # with no PDF drawn (a page map), the sections' pages alone: the front is not laid out then
    starts: tuple[PageStart, ...]
    #: A long brief's parts laid out now, for the build to keep once it succeeds (``keptparts``).
    kept: tuple[tuple[str, bytes], ...] = ()


class Typesetter(Protocol):
    """Lays out print jobs. Every typesetter gives the same bytes for the same job."""

    def typeset(self, job: PrintJob, target: Path | None, diags: Diagnostics) -> Typeset:
        """Lay ``job`` out and draw it into ``target`` (or, with ``None``, only lay it out)."""
        ...


class Drawing(Protocol):
    """Draws the laid-out parts of a brief into PDFs, in order."""

    def draw(self, document: Any, job: PrintJob, diags: Diagnostics) -> None:
        """Draw one laid-out part (WeasyPrint's ``Document``); it may be drawn later, elsewhere."""
        ...

    def results(self) -> list[bytes]:
        """Every part's PDF, in the order they were given."""
        ...


class DrawnHere:
    """The plain ``Drawing``: each part drawn at once, in this process."""

    def __init__(self) -> None:
        self.pdfs: list[bytes] = []

    def draw(self, document: Any, job: PrintJob, diags: Diagnostics) -> None:
        buffer = io.BytesIO()
        draw(document, job, buffer, diags)
        self.pdfs.append(buffer.getvalue())

    def results(self) -> list[bytes]:
        return self.pdfs


class InProcess:
    """The plain typesetter: WeasyPrint in the build's own process."""

    def typeset(self, job: PrintJob, target: Path | None, diags: Diagnostics) -> Typeset:
        """Lay ``job`` out here, and draw it into ``target`` if given."""
        return typeset(job, target, diags)


class Warm:
    """A typesetter kept between builds of one brief (``watch``): WeasyPrint's session (its fonts and parsed
    stylesheets) and each section's layout are kept while the brief's folder, stylesheets and fonts stay the
    same, so that a build lays out again only the sections that changed (``sectioned.Layouts``). Its PDFs
    are the bytes ``InProcess`` makes of the same jobs (tested)."""

    def __init__(self) -> None:
        self.session: _Session | None = None
        self.layouts = Layouts()
        self.kept_for: tuple[object, ...] = ()

    def typeset(self, job: PrintJob, target: Path | None, diags: Diagnostics) -> Typeset:
        """Lay ``job`` out with what is kept from the jobs before it, and draw it into ``target`` if given."""
        if not job.sections or job.parts:  # a long brief: laid out part by part, nothing kept
            return typeset(job, target, diags)
        kept_for = (job.root, job.fonts, *(path.read_bytes() for path in job.stylesheets))
        if self.session is None or kept_for != self.kept_for:
            self.session, self.layouts, self.kept_for = _Session(job, diags), Layouts(), kept_for
        else:
            self.session.renew(job, diags)
        return _sectioned(self.session, target, self.layouts)


def import_weasyprint() -> Any:
    """Import WeasyPrint, keeping what it prints about missing libraries off the build's output."""
    if "weasyprint" not in sys.modules:
        with redirect_stdout(io.StringIO()):
            import weasyprint  # noqa: F401
    return sys.modules["weasyprint"]


def forget_weasyprint() -> None:
    """Drop WeasyPrint's modules, so that the next ``import_weasyprint`` imports it again (after an import
    that failed part way)."""
    for name in [m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint.")]:
        del sys.modules[name]


def typeset(job: PrintJob, target: Path | io.BytesIO | None, diags: Diagnostics,
            drawing: Drawing | None = None) -> Typeset:
    """Lay ``job`` out, reading only allowed files, and draw it into ``target`` if given; report refused
    files and what WeasyPrint logs as diagnostics. A brief in parts has its parts drawn by ``drawing``
    (default: here, one after another), then joined."""
    with private_temporary_folder():  # where WeasyPrint copies the fonts, removed with it
        session = _Session(job, diags)
        if job.parts:
            return _in_parts(session, target, drawing or DrawnHere())
        if job.sections:
            return _sectioned(session, target, Layouts())
        # Laid out whole (a brief of no sections; or a reference for tests): the pages before the first
        # section's are its front, numbered apart, so it is laid out again with the sections numbered from 1,
        # as ``sectioned`` numbers them. What the first layout reports is reported only if it is kept.
        session.diags = Diagnostics()
        html, document, source = session.lay_out_notes(job.source, session.sheets)
        first, session.diags = session.diags, diags
        starts = session.starts(html, document, source)
        front = starts[0].page - 1 if starts else 0
        if front:
            sheets = [*session.sheets, session.css(f"@page :nth({front + 1}) {{ counter-reset: page 1 }}")]
            html, document, source = session.lay_out_notes(job.source, sheets)
            starts = session.starts(html, document, source, sheets, 1 - front)
        else:
            diags.add(*first.items)
        if target is not None:
            draw(document, job, target, diags, front)
        return Typeset(len(document.pages), starts)


def _sectioned(session: _Session, target: Path | io.BytesIO | None, layouts: Layouts) -> Typeset:
    """Lay a brief out section by section (``sectioned``) and draw its pages as one document."""
    job = session.job
    fonts = [session.font_sheet] if session.font_sheet is not None else []
    drawn = target is not None  # else a page map: the front, and its stylesheets, are not wanted
    document, starts, front = sectioned.lay_out(
        session, job.front, job.sections, [*fonts, *session.sheets],
        [*fonts, *session.paged_sheets()] if drawn else [],
        f"html {{ string-set: brief-title {_css_string(job.title)} }}", layouts, drawn)
    if target is not None:
        draw(document, job, target, session.diags, front)
    return Typeset(len(document.pages), starts)


def draw(document: Any, job: PrintJob, target: Path | io.BytesIO, diags: Diagnostics,
         front: int | None = None) -> None:
    """Write a laid-out document as a tagged PDF (PDF/UA-1), the same bytes for the same job; with ``front``,
    the length of its front, its pages labelled as they are numbered (``page_labels``)."""
    finisher = _labelled(front) if front is not None else None
    with _captured(job.root, diags), _fixed_font_timestamps(job.modified):
        document.write_pdf(target, pdf_identifier=pdf_identifier(job), pdf_variant="pdf/ua-1", finisher=finisher)


def _labelled(front: int) -> Callable[[Any, Any], None]:
    """A ``finisher`` for ``write_pdf`` (WeasyPrint's documented hook, which it gives its ``pydyf.PDF``) that
    writes the ``page_labels`` of a document with a front of ``front`` pages into its catalogue."""
    def finish(_: Any, pdf: Any) -> None:
        import pydyf

        numbers: list[Any] = []
        for start, style in page_labels(front):
            numbers += [start, pydyf.Dictionary({"S": f"/{style}"})]
        pdf.catalog["PageLabels"] = pydyf.Dictionary({"Nums": pydyf.Array(numbers)})
    return finish


def page_labels(front: int) -> list[tuple[int, str]]:
    """The PDF's page labels (``/PageLabels``) for a front of ``front`` pages, as (first page's index, numbering
    style): the front in lower-case Roman numerals (i, ii…), then the sections from 1, as they are printed, so
    that a reader's "page 5" is the page that prints 5."""
    return [(0, "r"), (front, "D")] if front else [(0, "D")]


def pdf_identifier(job: PrintJob) -> bytes:
    """The first half of the PDF's ``/ID``, from the brief's identifier: the same for every build of it."""
    return hashlib.sha256(job.identifier.encode("utf-8")).hexdigest()[:32].encode("ascii")


class _Session:
    """What the layouts of one job share: WeasyPrint, the fonts, the fetcher and the parsed stylesheets."""

    def __init__(self, job: PrintJob, diags: Diagnostics):
        self.weasyprint = weasyprint = import_weasyprint()
        from weasyprint.text.fonts import FontConfiguration
        from weasyprint.urls import URLFetcher, URLFetcherResponse

        self.job, self.diags = job, diags
        self.policy = policy = ResourcePolicy(job.root, job.assets)

        class BriefFetcher(URLFetcher):
            """Serves the brief's own files and the package's styles and fonts; nothing else."""

            def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
                data, mime = policy.read_url(url)
                return URLFetcherResponse(url, data, {"Content-Type": mime})

        self.fetcher = BriefFetcher()
        self.fonts = FontConfiguration()
        with _captured(job.root, diags, policy.refused):
            self.sheets = [weasyprint.CSS(url=path.as_uri(), url_fetcher=self.fetcher, font_config=self.fonts)
                           for path in job.stylesheets]
        self.front_sheets: list[Any] | None = None  # made when a brief laid out in documents asks for them
        self.font_sheet = self.css(job.fonts) if job.fonts else None

    def paged_sheets(self) -> list[Any]:
        """The stylesheets for a document that prints other documents' pages (the contents): each page
        number of a link's target read from its ``data-page``, made once."""
        if self.front_sheets is None:
            self.front_sheets = [self.css(_LINK_PAGE.sub("attr(data-page)", path.read_text(encoding="utf-8")), path)
                                 for path in self.job.stylesheets]
        return self.front_sheets

    def unchanged(self, reads: Mapping[str, str]) -> bool:
        """Whether every file of ``reads`` still holds what was read (``sectioned.Layouts``)."""
        return self.policy.unchanged(reads)

    def renew(self, job: PrintJob, diags: Diagnostics) -> None:
        """Serve another job of the same brief, stylesheets and fonts (``Warm``): its files and diagnostics."""
        self.job, self.diags = job, diags
        self.policy.assets = job.assets

    def css(self, text: str, base: Path | None = None) -> Any:
        """A stylesheet from text."""
        with _captured(self.job.root, self.diags, self.policy.refused):
            return self.weasyprint.CSS(string=text, base_url=(base or self.job.root).as_uri(),
                                       url_fetcher=self.fetcher, font_config=self.fonts)

    def lay_out(self, source: str, sheets: list[Any], diags: Diagnostics | None = None) -> tuple[Any, Any]:
        """Lay ``source`` out; return WeasyPrint's ``HTML`` and ``Document``."""
        with _captured(self.job.root, diags or self.diags, self.policy.refused):
            html = self.weasyprint.HTML(string=source, base_url=self.job.root.as_uri() + "/",
                                        url_fetcher=self.fetcher)
            return html, html.render(stylesheets=sheets, font_config=self.fonts)

    def lay_out_notes(self, source: str, sheets: list[Any]) -> tuple[Any, Any, str]:
        """Lay ``source`` out with every note on the page of its call; return WeasyPrint's ``HTML`` and
        ``Document``, and the source as laid out.

        The design moves a call's line to the next page when its note does not fit below it
        (``footnote-policy: line``). Where WeasyPrint still prints a note on another page than its call, or
        drops it, the note is split where its call's page is full: its first part stays below the call, the
        rest continues at the foot of the next page (``_split_notes``). A note still astray is given
        ``footnote-policy: block`` (the call's whole block moves on), and, if that is not enough, the call's
        block starts a page; then the source is laid out again. Moving a line on can leave the heading before
        it at the foot of a page, a table's caption apart from its rows (``break-after: avoid``
        notwithstanding), and a figure's image apart from its caption: where the first lines after it were
        sent on with their notes, the notes are split so that those lines stay (``_split_after``); otherwise
        such a heading (or a box it titles, the table, the figure) starts a page, and the source is laid out
        again, then its notes are split if it is still parted. A layout with every note in place and no
        heading parted from its text is not laid out again. A correction that WeasyPrint cannot lay out is
        dropped (``_relaid``); a note left on another page than its call, and a heading left at the foot of
        a page, are reported at their source."""
        laid = (*self.lay_out(source, sheets), source)
        astray = _notes_astray(laid[1])
        if astray:
            laid = self._split_notes(laid, sheets, astray)
        for correction in (_note_policy_block, _break_before_call):
            astray = _notes_astray(laid[1])
            if not astray:
                break
            laid = self._relaid(laid, correction(laid[2], astray), sheets)
        moved: set[tuple[str, int]] = set()
        for _ in range(_HEADING_ROUNDS):
            parted = _parted_at(laid[0], laid[1])
            if not parted:
                break
            kept = self._split_after(laid, sheets, parted)
            if kept is not laid:
                laid = kept
                continue
            fresh = [place for place, _, _ in parted if place not in moved]
            if not fresh:
                break
            moved.update(fresh)
            laid = self._relaid(laid, _break_before(laid[2], fresh), sheets)
            astray = _notes_astray(laid[1])  # what follows the heading moved: a note may have strayed
            if astray:
                laid = self._relaid(laid, _note_policy_block(laid[2], astray), sheets)
        for n in _notes_astray(laid[1]):
            self._astray_warning(laid[0], laid[1], n)
        for _, _, element in _parted_at(laid[0], laid[1]):
            self._parted_warning(element)
        return laid

    def _relaid(self, laid: tuple[Any, Any, str], source: str, sheets: list[Any]) -> tuple[Any, Any, str]:
        """``source`` (a correction of the source of ``laid``) laid out, or ``laid`` itself if WeasyPrint
        cannot lay it out. Its ``footnote-policy: block`` gives up a whole block when a note called in any
        line but its first does not fit below it; when that block is the first on its page, nothing is left
        for the page, and WeasyPrint's page maker fails an assertion (``assert not page_is_empty``)."""
        try:
            return (*self.lay_out(source, sheets, Diagnostics()), source)
        except AssertionError:
            return laid

    def _split_notes(self, laid: tuple[Any, Any, str], sheets: list[Any], astray: list[int],
                     placed: Mapping[int, tuple[int, float]] | None = None) -> tuple[Any, Any, str]:
        """``laid`` with the notes ``astray`` split where their calls' pages are full (``_note_splits``), the
        first part of each below its call, the rest at the foot of the next page; laid out again at most
        ``_SPLIT_ROUNDS`` times, a note whose first part still strays kept a line shorter each time. The
        layout with the fewest notes astray is kept. A note of ``placed`` is printed with its call on a later
        page than the one its call belongs on (given, with where its call's line would end there): it is
        split for that page, and strays while its call is not printed there."""
        placed = placed or {}

        def strays(document: Any) -> list[int]:
            calls = _call_pages(document)
            moved_on = [n for n, (page, _) in placed.items() if calls.get(n) != page]
            return sorted({*_notes_astray(document), *moved_on})

        original = laid[2]
        plans: dict[int, _NotePlan] = {}
        best, fewest = laid, len(astray)
        for _ in range(_SPLIT_ROUNDS):
            changed = False
            for n in astray:
                plan = plans.get(n)
                if plan is not None and plan.lines > _SPLIT_MIN_LINES:
                    # A call's line that moved on again: the lines after it, kept with it (orphans, widows,
                    # a box kept whole), took more room than measured; a third fewer, at least one.
                    shorter = max(1, plan.lines // 3) if n in placed else 1
                    plans[n] = replace(plan, lines=max(_SPLIT_MIN_LINES, plan.lines - shorter))
                    changed = True
                elif plan is not None:
                    del plans[n]  # no shorter first part is worth printing: other corrections, or a warning
                    changed = True
            measured = _note_splits(laid[1], [n for n in astray if n not in plans], plans, placed)
            changed = changed or bool(measured)
            plans.update(measured)
            if not changed or not plans:
                break
            laid = self._relaid(laid, _split_source(original, laid[1], plans, placed), sheets)
            astray = strays(laid[1])
            if len(astray) < fewest:
                best, fewest = laid, len(astray)
            if not astray:
                break
        return best

    def _split_after(self, laid: tuple[Any, Any, str], sheets: list[Any],
                     parted: list[tuple[tuple[str, int], int, Any]]) -> tuple[Any, Any, str]:
        """``laid`` with the notes called in the first lines after each heading (or caption, or figure) of
        ``parted`` split (``_split_notes``) so that those lines, and the first parts of their notes, fit on
        the heading's page, as ``footnote-policy: line`` sent them on with their notes; or ``laid`` itself if
        that leaves as many parted, or any note astray."""
        placed: dict[int, tuple[int, float]] = {}
        for _, page, _ in parted:
            placed.update(_calls_after(laid[1], page))
        if not placed:
            return laid
        split = self._split_notes(laid, sheets, sorted(placed), placed)
        if split is laid or len(_notes_astray(split[1])) > len(_notes_astray(laid[1])) \
                or len(_parted_at(split[0], split[1])) >= len(parted):
            return laid
        return split

    def _parted_warning(self, element: Any) -> None:
        """Report a heading (or a box, a table or a figure) that ends a page apart from what follows it."""
        text = _written(_title(element))
        path, line = _text_source(self.job.root, self.job.sources, text)
        self.diags.warning(path, line, f"PDF: \u201c{text}\u201d ends a page, apart from what follows it, "
                                       "as no correction of the layout could keep them together; shorten the "
                                       "notes called at the start of what follows it, or move them")

    def _astray_warning(self, html: Any, document: Any, n: int) -> None:
        """Report note ``n``, printed on another page than its call (or not printed), at its source."""
        pages = {name: index for index, page in reversed(list(enumerate(document.pages))) for name in page.anchors}
        path, line = _note_source(self.job.root, self.job.sources, html, n)
        where = ("is not printed" if f"fn-{n}" not in pages else
                 f"is printed {pages[f'fn-{n}'] - pages.get(f'fnref-{n}', 0)} page(s) after its call")
        self.diags.warning(path, line, f"PDF: note {n} {where}, as no correction of the layout could keep them "
                                       "together; shorten the note, or move its call")

    def starts(self, html: Any, document: Any, source: str, sheets: list[Any] | None = None,
               first_page: int = 1) -> tuple[PageStart, ...]:
        """Where each page of a layout begins, its first page numbered ``first_page``."""
        starts = _starts(html, document)
        if starts is None:  # WeasyPrint's internals have changed: ask its public anchors instead
            starts = _starts_from_anchors(self, source, sheets or self.sheets)
        return tuple(PageStart(start.page + first_page - 1, start.section, start.block, start.offset)
                     for start in starts)


def _in_parts(session: _Session, target: Path | io.BytesIO | None, drawing: Drawing) -> Typeset:
    """Lay a long brief out part by part, each run of sections numbered on from the pages and notes before
    it, the first from 1, and once every run is laid out, the front (cover and contents, numbered apart: i,
    ii…) with the contents' page numbers; draw each part and join them. Only one part's layout is held at a
    time.

    A part kept from an earlier build (``job.kept_parts``: ``keptparts``) is not laid out again; the parts
    laid out are handed back in ``Typeset.kept``, to be kept once the build succeeds."""
    from .join import join  # pikepdf and fontTools, only for a brief in parts

    job = session.job
    kept = KeptParts(job.kept_parts if target is not None else None, session.policy,
                     (str(job.root), job.identifier, str(job.modified), job.title, job.fonts,
                      *(path.read_text(encoding="utf-8") for path in job.stylesheets)))
    front, *runs = job.parts
    page = 1  # the front is numbered apart
    anchors: dict[str, int] = {}
    starts: list[PageStart] = []
    title = _css_string(job.title)
    laid: list[tuple[str, Diagnostics, LaidPart]] = []  # drawn meanwhile, with what drawing reports: kept once drawn
    pdfs: list[bytes | None] = []  # each run's PDF, if kept; None if drawn now
    for run in runs:
        # A cross-reference to an earlier part prints its page, known by now; to a later one, no page.
        filled = run.html.filled(anchors)
        entry = kept.entry("run", filled, page, run.notes_before)
        part = kept.get(entry)
        if part is None:
            counters = (f"@page :first {{ counter-reset: page {page} }} html {{ string-set: brief-title {title} }} "
                        f"body {{ counter-reset: footnote {run.notes_before} }}")
            one = sectioned.laid_out(session, filled, [*session.sheets, session.css(counters)], page)
            drawn = Diagnostics()
            if target is not None:
                drawing.draw(one.document, job, drawn)
            part = LaidPart(one.pages, one.starts, {name: page + index for name, index in one.anchors.items()},
                            tuple(one.items), one.reads)
            laid.append((entry, drawn, part))
            pdfs.append(None)
            del one
            gc.collect()  # page boxes hold reference cycles: free this part's before the next is laid out
        else:
            note_reads(part.reads)
            pdfs.append(part.pdf)
        session.diags.add(*part.diagnostics)  # reported in the parts' order, however each was made
        starts += part.starts
        for name, number in part.anchors.items():
            anchors.setdefault(name, number)
        page += part.pages
    if target is None:
        return Typeset(page - 1, tuple(starts))
    drawn_pdfs = iter(drawing.results())
    for index, pdf in enumerate(pdfs):
        if pdf is None:
            entry, drawn, part = laid.pop(0)
            pdfs[index] = pdf = next(drawn_pdfs)
            session.diags.add(*drawn.items)
            kept.keep(entry, replace(part, diagnostics=(*part.diagnostics, *drawn.items), pdf=pdf))
    filled = front.html.filled(anchors)
    entry = kept.entry("front", filled)
    part = kept.get(entry)
    if part is None:
        own = Diagnostics()
        with recording_reads() as reads:
            _, document = session.lay_out(filled, session.paged_sheets(), own)
            front_drawing = DrawnHere()
            front_drawing.draw(document, job, own)
        part = LaidPart(len(document.pages), diagnostics=tuple(own.items), reads=reads,
                        pdf=front_drawing.results()[0])
        del document
        kept.keep(entry, part)
    else:
        note_reads(part.reads)
    session.diags.add(*part.diagnostics)
    join([part.pdf, *(pdf for pdf in pdfs if pdf is not None)], target, pdf_identifier(job), CROSS_PART,
         page_labels(part.pages))
    return Typeset(part.pages + page - 1, tuple(starts), tuple(kept.made))


def _notes_astray(document: Any) -> list[int]:
    """The notes printed on another page than their call (``fnref-N``), or not printed (``fn-N``), read from
    the pages' public anchors."""
    calls: dict[str, int] = {}
    notes: dict[str, int] = {}
    for index, page in enumerate(document.pages):
        for name in page.anchors:
            if name.startswith("fnref-"):
                calls.setdefault(name[len("fnref-"):], index)
            elif name.startswith("fn-"):
                notes.setdefault(name[len("fn-"):], index)
    return sorted(int(n) for n, page in calls.items() if n.isdigit() and notes.get(n) != page)


#: How many times notes are split and laid out again, each time with the first parts that strayed a line shorter.
_SPLIT_ROUNDS = 3
#: The fewest lines of a note printed on either side of a split (a note shorter than twice this is not split).
_SPLIT_MIN_LINES = 2
#: What a split leaves unused at the foot of the page (CSS pixels), against rounding.
_SPLIT_SLACK = 1.0


@dataclass(frozen=True)
class _NotePlan:
    """Where a note is split: after its first ``lines`` lines, as it was laid out whole; ``counts`` holds the
    letters and digits (``counted``) of its text up to the end of each line."""

    lines: int
    counts: tuple[int, ...]

    @property
    def counted(self) -> int:
        """The letters and digits of the first part."""
        return self.counts[self.lines - 1]


def _call_pages(document: Any) -> dict[int, int]:
    """The page (0-based) of each note's call."""
    calls: dict[int, int] = {}
    for index, page in enumerate(document.pages):
        for name in page.anchors:
            if name.startswith("fnref-") and name[len("fnref-"):].isdigit():
                calls.setdefault(int(name[len("fnref-"):]), index)
    return calls


def _note_splits(document: Any, notes: list[int], planned: Mapping[int, _NotePlan],
                 placed: Mapping[int, tuple[int, float]] | None = None) -> dict[int, _NotePlan]:
    """Where to split ``notes`` (each laid out whole, on a later page than its call) so that each begins on
    its call's page: the room left on that page, from the line of the last call there to the notes already at
    its foot, is shared among them in order, each later note kept ``_SPLIT_MIN_LINES`` lines. A note is split
    after as many of its lines (as laid out whole, at the same width) as fit; one that cannot keep
    ``_SPLIT_MIN_LINES`` lines on either side is not split. A note of ``placed`` belongs on the page given
    there, its call's line ending where given; it is split only if it does not fit there whole. Read from
    WeasyPrint's page boxes: nothing if those internals have changed."""
    placed = placed or {}
    try:
        from weasyprint.formatting_structure import boxes

        calls = _call_pages(document)
        calls.update((n, page) for n, (page, _) in placed.items())
        by_page: dict[int, list[int]] = {}
        for n in sorted(notes):
            if n in calls:
                by_page.setdefault(calls[n], []).append(n)
        plans: dict[int, _NotePlan] = {}
        for index, group in by_page.items():
            page_box = document.pages[index]._page_box
            area = next((child for child in page_box.children if isinstance(child, boxes.FootnoteAreaBox)), None)
            called = group + [n for n in planned if calls.get(n) == index]
            bottoms = [placed[n][1] if n in placed else _call_line_bottom(page_box, n, boxes) for n in called]
            laid = [(n, _laid_note(document, n, boxes)) for n in group]
            measured = [(n, note) for n, note in laid if note is not None]
            if not measured or None in bottoms:
                continue
            overhead = measured[0][1][2]  # the area's margins, border and padding, which an empty area has not
            if area is None:  # no note on the page: the notes' area would end where the page's area ends
                room = page_box.content_box_y() + page_box.height - max(bottoms) - _SPLIT_SLACK - overhead
            else:
                room = area.position_y + area.margin_height() - max(bottoms) - _SPLIT_SLACK
                room -= area.margin_height() if area.children else overhead
            for place, (n, (counts, cost, _)) in enumerate(measured):
                kept = sum(later(min(_SPLIT_MIN_LINES, len(others)))
                           for _, (others, later, _) in measured[place + 1:])
                fitting = [lines for lines in range(1, len(counts) + 1) if cost(lines) <= room - kept]
                if n in placed and len(counts) in fitting:
                    room -= cost(len(counts))  # it fits whole
                    continue
                lines = min(max(fitting, default=0), len(counts) - _SPLIT_MIN_LINES)
                if lines < _SPLIT_MIN_LINES:
                    continue
                plans[n] = _NotePlan(lines, tuple(counts))
                room -= cost(lines)
        return plans
    except (AttributeError, TypeError, ImportError, StopIteration, IndexError):
        return {}


def _call_line_bottom(page_box: Any, n: int, boxes: Any) -> float | None:
    """The bottom of the line that holds note ``n``'s call on a page, or ``None``."""
    stack = [(page_box, None)]
    while stack:
        box, line = stack.pop()
        if isinstance(box, boxes.LineBox):
            line = box
        element = getattr(box, "element", None)
        if line is not None and element is not None and element.get("id") == f"fnref-{n}":
            return line.position_y + line.height
        stack.extend((child, line) for child in getattr(box, "children", ()) if isinstance(child, boxes.Box))
    return None


def _laid_note(document: Any, n: int, boxes: Any) -> tuple[list[int], Any, float] | None:
    """Note ``n`` as laid out whole at the foot of a page: the letters and digits of its text up to the end of
    each of its lines, the height its first lines take (a function of how many), and what the notes' area
    adds to its notes (margins, border, padding); ``None`` if it is not printed, or not as lines."""
    for page in document.pages:
        for area in page._page_box.children:
            if not isinstance(area, boxes.FootnoteAreaBox):
                continue
            for note in area.children:
                element = getattr(note, "element", None)
                if element is None or element.get("id") != f"fn-{n}" or "::" in note.element_tag:
                    continue
                lines = [line for line in note.children if isinstance(line, boxes.LineBox)]
                if not lines or len(lines) != len(note.children):
                    return None
                counts, total = [], 0
                for line in lines:
                    total += sum(counted(box.text) for box in line.descendants()
                                 if isinstance(box, boxes.TextBox) and "::" not in box.element_tag)
                    counts.append(total)
                below = note.position_y + note.margin_height() - (lines[-1].position_y + lines[-1].height)

                def cost(count: int, lines: list[Any] = lines, note: Any = note, below: float = below) -> float:
                    last = lines[count - 1]
                    return last.position_y + last.height - note.position_y + below

                return counts, cost, area.margin_height() - area.height
    return None


def _split_source(source: str, document: Any, plans: Mapping[int, _NotePlan],
                  placed: Mapping[int, tuple[int, float]] | None = None) -> str:
    """``source`` with each note of ``plans`` cut after its first part (``_cut``); the rest of the notes
    called on one page (of ``document``, or as ``placed`` gives it) follow the last of those notes, in order,
    each in an element of class ``footnote-continued``, which the design prints at the foot of the next page
    without a number."""
    import lxml.html

    calls = _call_pages(document)
    calls.update((n, page) for n, (page, _) in (placed or {}).items())
    tree = lxml.html.document_fromstring(source)
    groups: dict[int, list[int]] = {}
    for n in sorted(plans):
        groups.setdefault(calls.get(n, -1), []).append(n)
    for group in groups.values():
        last, continuations = None, []
        for n in group:
            found = tree.xpath(f'//span[@id="fn-{n}"]')
            if not found:
                continue
            rest = _cut(found[0], plans[n].counted)
            if rest is not None:
                last = found[0]
                continuations.append(rest)
        if last is not None:
            continuations[-1].tail, last.tail = last.tail, None
            for rest in reversed(continuations):
                last.addnext(rest)
    return lxml.html.tostring(tree, doctype="<!DOCTYPE html>", encoding="unicode")


def _slots(element: Any, own: bool = True) -> Iterator[tuple[Any, str]]:
    """The places of ``element``'s text, in reading order: each element's ``text``, then its children's, each
    child's ``tail`` after it (not ``element``'s own tail)."""
    if own or isinstance(element.tag, str):
        yield element, "text"
        for child in element:
            yield from _slots(child, False)
            yield child, "tail"


def _cut(note: Any, letters: int) -> Any:
    """Cut ``note`` at the last space after which no more than ``letters`` letters and digits of its text
    were printed; return the rest, as an element of its own (its markup kept, without ids), or ``None`` if
    there is no such space or nothing would be left."""
    import copy

    slots = list(_slots(note))
    cut, count, spaced = None, 0, True
    for index, (node, kind) in enumerate(slots):
        for offset, char in enumerate(getattr(node, kind) or ""):
            if char.isspace() and char != "\xa0":
                if not spaced and count <= letters:
                    cut = (index, offset, count)
                spaced = True
            else:
                spaced = False
                count += char.isalnum()
    if cut is None or cut[2] == 0 or cut[2] == count:
        return None
    index, offset, _ = cut
    rest = copy.deepcopy(note)
    places = {(id(node), kind): place for place, (node, kind) in enumerate(slots)}
    for place, (node, kind) in enumerate(slots):  # the first part: the text after the cut removed
        text = getattr(node, kind)
        if place == index:
            setattr(node, kind, text[:offset])
        elif place > index and text:
            setattr(node, kind, None)
    for element in list(note.iterdescendants()):
        if places.get((id(element), "text"), -1) > index:
            element.getparent().remove(element)
    rest_slots = list(_slots(rest))
    for place, (node, kind) in enumerate(rest_slots):  # the rest: the text before the cut removed
        text = getattr(node, kind)
        if place == index:
            setattr(node, kind, text[offset:].lstrip())
        elif place < index and text:
            setattr(node, kind, None)
    rest_places = {(id(node), kind): place for place, (node, kind) in enumerate(rest_slots)}
    for element in list(rest.iterdescendants()):
        if element.getparent() is not None and rest_places.get((id(element), "tail"), index + 1) <= index:
            element.drop_tree()  # wholly before the cut: its tail (the text after the cut, if any) kept
    for element in rest.iter():
        element.attrib.pop("id", None)
    classes = [name for name in (rest.get("class") or "").split() if name != "footnote"]
    rest.attrib.clear()
    rest.set("class", " ".join(["footnote", "footnote-continued", *classes]))
    return rest


#: How many letters and digits of a note's text must begin its definition in a section file to find it there.
_NOTE_PREFIX = 24
#: A note's definition in Markdown (``[^label]: text``), or a note written inline (``^[text]``).
_NOTE_DEFINITION = re.compile(r"^ {0,3}\[\^[^\]\s]+\]:[ \t]*(.*)$|\^\[(.*)$", re.M)


def _source_texts(root: Path, sources: Sequence[Path]) -> Iterator[tuple[Path, str]]:
    """The brief's section files ``sources`` with their texts, each read as the brief's files are (inside
    ``root``); one that cannot be read is left out."""
    for path in sources:
        try:
            yield path, read_regular(path, (root,)).decode("utf-8")
        except (Refused, OSError, UnicodeDecodeError):
            continue


def _note_source(root: Path, sources: Sequence[Path], html: Any, n: int) -> tuple[Path, int | None]:
    """Where note ``n`` is written: the section file (of ``sources``) and line whose note definition begins
    with the note's text (compared by letters and digits, as Markdown and the typography change the rest);
    the brief's folder if none does."""
    found = [element for element in getattr(html, "etree_element", None).iter() if element.get("id") == f"fn-{n}"] \
        if hasattr(html, "etree_element") else []
    letters = "".join(filter(str.isalnum, "".join(found[0].itertext()) if found else ""))[:_NOTE_PREFIX].lower()
    if not letters:
        return root, None
    best: tuple[int, Path, int | None] = (0, root, None)
    for path, text in _source_texts(root, sources):
        for match in _NOTE_DEFINITION.finditer(text):
            written = "".join(filter(str.isalnum, match.group(1) or match.group(2) or ""))[:_NOTE_PREFIX].lower()
            common = len(os.path.commonprefix([letters, written]))
            if common > best[0]:
                best = (common, path, text.count("\n", 0, match.start()) + 1)
    return best[1:] if best[0] >= min(len(letters), 8) else (root, None)


def _note_policy_block(source: str, notes: list[int]) -> str:
    """``source`` with the notes given ``footnote-policy: block``."""
    for n in notes:
        source = source.replace(f'<span class="footnote" id="fn-{n}">',
                                f'<span class="footnote" id="fn-{n}" style="footnote-policy: block">', 1)
    return source


def _break_before_call(source: str, notes: list[int]) -> str:
    """``source`` with the block that holds each note's call starting a new page (with the heading before it,
    if any)."""
    import lxml.html

    tree = lxml.html.document_fromstring(source)
    for n in notes:
        found = tree.xpath(f'//span[@id="fnref-{n}"]')
        block = found[0] if found else None
        while block is not None and block.get(BLOCK) is None:
            block = block.getparent()
        if block is not None and _tag(block) == "caption":
            block = block.getparent()  # a table's caption: the table starts the page
        if block is not None:
            _add_style(_with_heading(block), "break-before: page")
    return lxml.html.tostring(tree, doctype="<!DOCTYPE html>", encoding="unicode")


def _with_heading(block: Any) -> Any:
    """What must start a page for ``block`` to start one: the heading right before it (or before the list,
    the item or the box it opens), if any, so that no heading is left at the foot of the page before."""
    element = block
    while element.getprevious() is None and element.getparent() is not None \
            and _tag(element.getparent()) in ("li", "ul", "ol", "blockquote", "tbody", "table"):
        element = element.getparent()
    previous = element.getprevious()
    return previous if previous is not None and _tag(previous) in _HEADINGS else block


#: How many times headings parted from their text are moved on, each move followed by another look.
_HEADING_ROUNDS = 3
#: The headings of the body, which must not end a page.
_HEADINGS = frozenset({"h2", "h3", "h4", "h5", "h6"})


def _parted_at(html: Any, document: Any) -> list[tuple[tuple[str, int], int, Any]]:
    """What ends a page but belongs with what follows it on the next: a heading (or the box it titles), a
    table's caption (the table), or a figure printed on two pages; each as its place (its tag, and its place
    among the elements of that tag in document order), the page it ends (0-based) and the element. Read from
    the last text or image of each page but the last, in WeasyPrint's page boxes; nothing if those internals
    have changed (then no such correction is made)."""
    try:
        from weasyprint.formatting_structure import boxes

        found: dict[Any, int] = {}
        for index, page in enumerate(document.pages[:-1]):
            last = _last_text(page._page_box, boxes, None)
            if last is None or last is _NO_HOLDER:
                continue
            if _tag(last) == "figure":  # a figure ends a page whole, unless the next page goes on with it
                first = _first_content(document.pages[index + 1]._page_box, boxes)
                if first is None or not any(element is first for element in last.iter()):
                    continue
            found.setdefault(last, index)
        if not found:
            return []
        places: dict[Any, tuple[str, int]] = {}
        counters: dict[str, int] = {}
        for element in html.etree_element.iter():
            tag = _tag(element)
            counters[tag] = counters.get(tag, -1) + 1
            for child in element:
                if child in found and "box-title" in (child.get("class") or "").split():
                    found[element] = found.pop(child)  # a box's title: the box moves, whole
            if element in found:
                places[element] = (tag, counters[tag])
        return [(places[element], page, element) for element, page in found.items() if element in places]
    except (AttributeError, TypeError, ImportError):
        return []


#: ``_last_text``'s answer for a page whose last text is in nothing that must not end a page.
_NO_HOLDER = object()


def _last_text(box: Any, boxes: Any, holder: Any) -> Any:
    """Where the last text (or image) of ``box``'s flow is (not the notes at the foot of the page, nor the
    margins): in a heading, a table's caption or a figure (the heading, the table, the figure), elsewhere
    (``_NO_HOLDER``), or, with no text, ``None``. ``holder`` is what ``box`` itself is in."""
    for child in reversed(box.children):
        if not isinstance(child, boxes.Box) or isinstance(child, (boxes.FootnoteAreaBox, boxes.MarginBox)):
            continue
        inner = holder
        if inner is None and isinstance(child, boxes.TableCaptionBox):
            inner = box.element  # the table's wrapper holds its caption
        elif inner is None and (child.element_tag in _HEADINGS or child.element_tag == "figure"):
            inner = child.element
        found = _last_text(child, boxes, inner)
        if found is not None:
            return found
    if isinstance(box, boxes.TextBox) and "::" not in box.element_tag and box.text.strip() \
            or isinstance(box, boxes.ReplacedBox):
        return holder if holder is not None else _NO_HOLDER
    return None


def _first_content(box: Any, boxes: Any) -> Any:
    """The element of the first text (or image) of ``box``'s flow, or ``None``."""
    for child in box.children:
        if not isinstance(child, boxes.Box) or isinstance(child, (boxes.FootnoteAreaBox, boxes.MarginBox)):
            continue
        if isinstance(child, boxes.TextBox) and "::" not in child.element_tag and child.text.strip() \
                or isinstance(child, boxes.ReplacedBox):
            return child.element
        found = _first_content(child, boxes)
        if found is not None:
            return found
    return None


def _flow_lines(box: Any, boxes: Any) -> Iterator[tuple[Any, Any]]:
    """The lines (and images set as blocks) of ``box``'s flow, in order, each with the box that holds it
    (not the notes at the foot of the page, nor the margins)."""
    for child in box.children:
        if not isinstance(child, boxes.Box) or isinstance(child, (boxes.FootnoteAreaBox, boxes.MarginBox)):
            continue
        if isinstance(child, (boxes.LineBox, boxes.ReplacedBox)):
            yield child, box
        else:
            yield from _flow_lines(child, boxes)


def _calls_after(document: Any, page: int) -> dict[int, tuple[int, float]]:
    """The notes called in the first lines of what follows ``page`` (as many lines as their block's
    ``orphans`` keeps together, wherever they were printed), each with ``page`` and where the last of those
    lines would end there: below the last line (or image) of ``page`` and its block's margin, after the top
    margin of the lines' block. Read from WeasyPrint's page boxes: nothing if those internals have changed."""
    try:
        from weasyprint.formatting_structure import boxes

        if page + 1 >= len(document.pages):
            return {}
        last = list(_flow_lines(document.pages[page]._page_box, boxes))
        first = list(_flow_lines(document.pages[page + 1]._page_box, boxes))
        if not last or not first:
            return {}
        line, block = last[-1]
        below = block.position_y + block.margin_height() if isinstance(line, boxes.LineBox) \
            else line.position_y + line.margin_height()
        holder = first[0][1]
        orphans = holder.style["orphans"] if isinstance(holder.style["orphans"], int) else 1
        lines = []
        for later in document.pages[page + 1:page + 1 + _CALL_PAGES]:  # a line sent on with its note
            lines += [line for line, block in _flow_lines(later._page_box, boxes) if block.element is holder.element]
        lines = lines[:max(orphans, 1)]
        margin = holder.style["margin_top"]
        top = margin.value if getattr(margin, "unit", None) == "px" else 0
        bottom = below + top + holder.padding_top + holder.border_top_width \
            + sum(line.margin_height() for line in lines)
        placed: dict[int, tuple[int, float]] = {}
        for line in lines:
            for inner in line.descendants():
                name = (getattr(inner, "element", None) if isinstance(inner, boxes.Box) else None)
                name = name.get("id") if name is not None else None
                if name and name.startswith("fnref-") and name[len("fnref-"):].isdigit():
                    placed.setdefault(int(name[len("fnref-"):]), (page, bottom))
        return placed
    except (AttributeError, TypeError, KeyError, ImportError):
        return {}


#: How many pages after a heading's the first lines of what follows it are looked for in.
_CALL_PAGES = 3


def _title(element: Any) -> Any:
    """What titles ``element`` (a heading, a box, a table or a figure): its title, its caption, or itself."""
    for child in element:
        if _tag(child) in ("caption", "figcaption") or "box-title" in (child.get("class") or "").split():
            return child
    return element


#: What a title holds besides its own words: what the layout writes into it (labels, numbers), and notes.
_GENERATED = frozenset({"caption-label", "section-number", "footnote"})


def _text_source(root: Path, sources: Sequence[Path], text: str) -> tuple[Path, int | None]:
    """Where ``text`` (a title) is written: the first line of the section files ``sources`` that holds the
    most of its first letters and digits (what Markdown writes between them, such as a note's label, ends the
    match), at least eight of them, or all; the brief's folder if none does."""
    letters = "".join(filter(str.isalnum, text))[:_NOTE_PREFIX].lower()
    best: tuple[int, Path, int | None] = (0, root, None)
    for path, source in _source_texts(root, sources) if letters else ():
        for number, line in enumerate(source.splitlines(), 1):
            written = "".join(filter(str.isalnum, line)).lower()
            common = next((size for size in range(len(letters), best[0], -1) if letters[:size] in written), 0)
            if common > best[0]:
                best = (common, path, number)
    return best[1:] if best[0] >= min(len(letters), 8) else (root, None)


def _written(element: Any) -> str:
    """The text of ``element`` without what the layout writes into it (labels, numbers), nor its notes."""
    parts = [element.text or ""]
    for child in element:
        if not _GENERATED & set((child.get("class") or "").split()):
            parts.append(_written(child))
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


def _break_before(source: str, places: list[tuple[str, int]]) -> str:
    """``source`` with each element at ``places`` (its tag, and its place among that tag's elements)
    starting a new page; after a heading, the first line of the next block may stay on the page alone (its
    next lines, whose notes may not fit below it, move on, as ``footnote-policy: line`` moved the first)."""
    import lxml.html

    tree = lxml.html.document_fromstring(source)
    elements: dict[str, list[Any]] = {}
    for tag, n in places:
        found = elements.setdefault(tag, list(tree.iter(tag)))
        if n < len(found):
            _add_style(found[n], "break-before: page")
            following = found[n].getnext() if tag in _HEADINGS else None
            if following is not None:  # its first line may stay with it, the next lines move on with their notes
                _add_style(following, "orphans: 1")
    return lxml.html.tostring(tree, doctype="<!DOCTYPE html>", encoding="unicode")


def _add_style(element: Any, declaration: str) -> None:
    element.set("style", "; ".join(filter(None, [element.get("style"), declaration])))


def _css_string(text: str) -> str:
    """``text`` as a CSS string, every character but ASCII letters, digits and spaces escaped."""
    return '"' + "".join(c if c.isalnum() and c.isascii() or c == " " else f"\\{ord(c):x} " for c in text) + '"'


class _LogCapture(logging.Handler):
    """Keeps WeasyPrint's log records, which it otherwise drops, so they become diagnostics."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _captured(root: Path, diags: Diagnostics, refused: list[tuple[str, str]] | None = None) -> Iterator[None]:
    """Turn what WeasyPrint logs meanwhile, and the resources it was refused meanwhile (``refused`` is the
    fetcher's list, which grows), into diagnostics."""
    capture = _LogCapture()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(capture)
    before = len(refused or [])
    try:
        yield
    finally:
        logger.removeHandler(capture)
    refused = (refused or [])[before:]
    for _url, reason in refused:
        diags.error(root, None, f"refused to load {reason}")
    for record in capture.records:
        message = record.getMessage().splitlines()[0]
        if any(noise in message for noise in ENVIRONMENT_NOTICES):
            continue
        if record.levelno >= logging.ERROR:
            if not refused:
                diags.error(root, None, f"PDF: {message}")
        else:
            diags.warning(root, None, f"PDF: {message}")


@contextmanager
def _fixed_font_timestamps(date: dt.date) -> Iterator[None]:
    """Make fontTools stamp subset fonts with the brief's date instead of the clock.

    fontTools reads ``SOURCE_DATE_EPOCH``; without it every build's embedded fonts differ.
    """
    if "SOURCE_DATE_EPOCH" in os.environ:
        yield
        return
    os.environ["SOURCE_DATE_EPOCH"] = str(calendar.timegm(date.timetuple()))
    try:
        yield
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]


def _starts(html: Any, document: Any) -> tuple[PageStart, ...] | None:
    """Where each page begins, read from WeasyPrint's page boxes; ``None`` if its internals have changed.

    A page begins at its first text (or image) of the body: in the block that holds it, after as many of
    the block's letters and digits (``counted``) as earlier pages printed. Generated text (list numbers, note
    calls, pages of cross-references), the notes at the foot of the page, the running heads and a table's
    header row repeated on a later page do not count: the EPUB's text of the block has none of them.

    WeasyPrint documents a page's anchors, links and bookmarks, but not its boxes: ``HTML.etree_element``,
    ``Page._page_box``, its box classes and a box's ``children``, ``element``, ``element_tag`` and ``text``
    are its own names. They are read here only, guarded: any of them missing or different sends the build to
    ``_starts_from_anchors``, which gives the pages' first blocks (not the place within a block) from the
    public ``Page.anchors`` at the cost of a second layout (tested).
    """
    try:
        from weasyprint.formatting_structure import boxes

        numbers = dict(_blocks(html.etree_element))
        owners, repeated = _owners(html.etree_element, numbers)
        counts: dict[Any, int] = {}
        first_seen: dict[Any, int] = {}
        starts = []
        for index, page in enumerate(document.pages):
            first = None
            for box in _flow(page._page_box, boxes.Box, (boxes.FootnoteAreaBox, boxes.MarginBox)):
                block = owners.get(getattr(box, "element", None))
                if block is None:
                    continue
                if first_seen.setdefault(block, index) < index and block in repeated:
                    continue
                if isinstance(box, boxes.TextBox):
                    if "::" in box.element_tag:  # generated: a list's number, a note's call
                        continue
                    if first is None and box.text.strip():
                        first = (block, counts.get(block, 0))
                    counts[block] = counts.get(block, 0) + counted(box.text)
                elif first is None and isinstance(box, boxes.ReplacedBox):
                    first = (block, counts.get(block, 0))
            if first is not None:
                starts.append(PageStart(index + 1, *numbers[first[0]], first[1]))
    except (AttributeError, TypeError, ImportError):
        return None
    if len(first_seen) != len(numbers):  # some block was found on no page: the boxes no longer say what they did
        return None
    return tuple(starts)


def counted(text: str) -> int:
    """How many characters of ``text`` count for a place within a block: its letters and digits, which
    every edition prints alike (not the hyphens of words broken at a line's end, nor spaces)."""
    return sum(map(str.isalnum, text))


def _flow(box: Any, box_type: type, skipped: tuple[type, ...]) -> Iterator[Any]:
    """A page's boxes in order, without the boxes of ``skipped`` types (the notes' area, the margins')."""
    yield box
    for child in box.children:
        if not isinstance(child, box_type):
            yield child  # a placeholder of a positioned box, as ``Box.descendants`` gives it
        elif not isinstance(child, skipped):
            yield from _flow(child, box_type, skipped)


def _owners(root: Any, numbers: Mapping[Any, Any]) -> tuple[dict[Any, Any], set[Any]]:
    """The block (of ``numbers``) each element is in, innermost first (elements outside every block are left
    out); and the rows of tables' headers and footers, which WeasyPrint repeats on every page."""
    owners: dict[Any, Any] = {}
    repeated: set[Any] = set()
    stack = [(root, None)]
    while stack:
        element, block = stack.pop()
        if element in numbers:
            block = element
        if block is not None:
            owners[element] = block
        header = _tag(element) in ("thead", "tfoot")
        for child in element:
            stack.append((child, block))
            if header and _tag(child) == "tr":
                repeated.add(child)
    return owners, repeated


def _blocks(root: Any) -> Iterator[tuple[Any, tuple[str, int]]]:
    """Each section's title (block 0) and blocks (from 1), in document order, with their place: the section's
    id and the number the block carries (``BLOCK``)."""
    for section in root.iter():
        if _tag(section) != "section" or "section" not in (section.get("class") or "").split():
            continue
        for element in section.iter():
            number = element.get(BLOCK)
            if number is not None and number.isdigit():
                yield element, (section.get("id"), int(number))


def _starts_from_anchors(session: _Session, source: str, sheets: list[Any]) -> tuple[PageStart, ...]:
    """Where each page begins, through WeasyPrint's public API only: ``source`` laid out again with an id
    on every block, and each page's ``anchors`` read. Ids change no page break."""
    import lxml.html

    tree = lxml.html.document_fromstring(source)
    places: dict[str, tuple[str, int]] = {}
    for element, (section, block) in _blocks(tree):
        name = element.get("id") or f"briefpress-block-{section}-{block}"
        element.set("id", name)
        places[name] = (section, block)
    marked = lxml.html.tostring(tree, doctype="<!DOCTYPE html>", encoding="unicode")
    _, document = session.lay_out(marked, sheets, Diagnostics())  # the first layout reported everything
    names = list(places)
    order = {name: index for index, name in enumerate(names)}
    seen: set[str] = set()
    starts = []
    for index, page in enumerate(document.pages):
        new = [name for name in page.anchors if name in order and name not in seen]
        seen.update(new)
        if new:
            starts.append(PageStart(index + 1, *places[min(new, key=order.__getitem__)]))
    return tuple(starts)


def _tag(element: Any) -> str:
    return element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""
