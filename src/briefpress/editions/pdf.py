"""PDF edition: the brief's print document, assembled and laid out by WeasyPrint (``typeset``) as a tagged PDF
(PDF/UA-1) with the design's fonts embedded once each: whole, or a long brief in parts (``plan``)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable, Protocol, runtime_checkable

from ..assemble import Assembler, FontFace, stylesheet_path
from ..cache import Cache, key, package_code, version
from ..errors import Diagnostic, Diagnostics
from ..model import PagedHTML, PageStart
from ..render import PrintDocument, Rendered
from ..resources import DESIGN_FACES, ResourcePolicy, recording_reads
from . import keptparts, pages
from .base import EditionInput, EditionResult
from .pages import PageMap
from .sectioned import PrintSection
from .typeset import PrintJob, PrintPart, Typeset, Typesetter

STYLESHEETS = ("common.css", "print.css")


def font_faces() -> list[FontFace]:
    """The ``@font-face`` rules of the design, pointing at the installed font files."""
    return [FontFace(face.family, face.path.as_uri(), str(face.weight), face.style) for face in DESIGN_FACES]


#: A brief whose sections hold more than ``WHOLE_CHARS`` characters of source (some 40 pages) is laid out in
#: parts of at most about ``PART_CHARS``: WeasyPrint keeps every page of a document in memory until it is
#: written, about 1.3 MB a page with this design (415 MB at 300 pages laid out whole). Each part is drawn,
#: then dropped, and the parts' PDFs are joined into one that embeds each font once (``join``, ``fonts``).
#: The split depends on the brief alone, so that every machine makes the same PDF. Parts of about 20 pages
#: cost no more than parts of 40 from nothing, and half as much after an edit, when the part that holds it
#: is laid out again and the others are kept (``keptparts``): ~300 pages, 3.9 s against 5.5 s.
WHOLE_CHARS = 90_000
PART_CHARS = 45_000


def plan(rendered: Rendered) -> list[list[str]] | None:
    """Split a long brief's sections into runs of about equal length; ``None`` for a brief laid out whole."""
    sizes = [(part.id, len(part.section.source)) for part in rendered.sections]
    total = sum(size for _, size in sizes)
    if total <= WHOLE_CHARS:
        return None
    count = max(2, -(-total // PART_CHARS))
    runs: list[list[str]] = [[] for _ in range(count)]
    before = 0
    for section_id, size in sizes:  # each section goes to the run its middle falls in
        runs[min(count - 1, (2 * before + size) * count // (2 * total))].append(section_id)
        before += size
    runs = [run for run in runs if run]
    return runs if len(runs) > 1 else None


def print_job(rendered: Rendered) -> PrintJob:
    """The brief's print edition, ready to lay out: whole, or in parts (see ``plan``)."""
    meta = rendered.brief.metadata
    assembler = Assembler(rendered)
    fonts = font_faces()
    runs = plan(rendered)
    views = assembler.sections("pdf")  # rendered once, for the whole document and every part
    notes = {part.id: part.note_offset for part in rendered.sections}
    parts: tuple[PrintPart, ...] = ()
    sections: tuple[PrintSection, ...] = ()
    front = PagedHTML()
    if runs is not None:
        parts = (PrintPart(PagedHTML.split(assembler.pdf(fonts, (), True, views, PrintDocument(parts=True))), 0),
                 *(PrintPart(_document(assembler, fonts, PrintDocument(frozenset(run), parts=True)), notes[run[0]])
                   for run in runs))
    else:  # laid out section by section (``sectioned``), the fonts declared once for all
        front = PagedHTML.split(assembler.pdf((), (), True, views, PrintDocument()))
        sections = tuple(PrintSection(view.id, _document(assembler, (), PrintDocument(frozenset({view.id}))),
                                      notes[view.id]) for view in views)
    return PrintJob(rendered.brief.root, dict(rendered.assets), assembler.pdf(fonts, views=views),
                    tuple(stylesheet_path(rendered, name) for name in STYLESHEETS), meta.lang,
                    meta.identifier, meta.last_modified, meta.title, parts, front, sections,
                    "".join(f'@font-face {{ font-family: "{face.family}"; src: url("{face.url}"); '
                            f'font-weight: {face.weight}; font-style: {face.style}; }}' for face in fonts)
                    if sections else "", sources=tuple(part.section.path for part in rendered.sections))


def _document(assembler: Assembler, fonts: list[FontFace], document: PrintDocument) -> PagedHTML:
    """The HTML of one print document of sections (one section, or a long brief's part), its sections
    rendered for it: split where its references print the pages of targets laid out in other documents."""
    views = assembler.sections("pdf", document=document)
    return PagedHTML.split(assembler.pdf(fonts, document.sections, False, views, document))


def write(inp: EditionInput) -> EditionResult:
    """Write the brief as a tagged PDF; the result carries where each printed page begins."""
    return begin(inp)()


def begin(inp: EditionInput) -> Callable[[], EditionResult]:
    """Begin the PDF, and return the function that finishes it. A typesetter that lays jobs out elsewhere
    (``Submitting``: the printer process) is handed the job at once, so that the build writes its other
    editions meanwhile; any other lays it out now, and the function returns what it made."""
    job = print_job(inp.rendered)
    if job.parts and inp.cache is not None and inp.cache.folder is not None:
        job = replace(job, kept_parts=inp.cache.folder)  # a long brief's parts, kept between builds
    layout = pages.layout_key(job)  # the page map's key, and the kept PDF's
    finish = kept_typeset(job, layout, inp.target, inp.diags, inp.typesetter, inp.cache)

    def result() -> EditionResult:
        typeset = finish()
        return EditionResult("pdf", typeset.pages, PageMap(layout, typeset.starts))
    return result


@runtime_checkable
class Submitting(Protocol):
    """A typesetter that can lay a job out elsewhere while the build goes on (``speedups.printer``)."""

    def submit(self, job: PrintJob, target: Path | None, diags: Diagnostics) -> Callable[[], Typeset]:
        """Hand ``job`` over and return at once; the function returned waits for its ``Typeset``."""
        ...


#: The cache's kind for whole PDF editions.
KEPT = "pdf"
#: What else a PDF's bytes depend on: the packages that lay it out, draw it and ship its fonts, and join its parts.
PRINT_PACKAGES = (*keptparts.LAYOUT_PACKAGES, "pikepdf", "fonttools")


def kept_typeset(job: PrintJob, layout: str, target: Path, diags: Diagnostics, typesetter: Typesetter,
                 cache: Cache | None) -> Callable[[], Typeset]:
    """Lay ``job`` out and draw it into ``target``, or copy the PDF an earlier build made of the same job;
    return the function that gives the result (which waits for it, from a ``Submitting`` typesetter).

    A PDF is kept under a key of its job (``layout``: ``pages.layout_key``, of the print HTML, its
    stylesheets and the generated files; the brief's identifier, dates and folder) and of every file of this
    package and the versions of what lays it out, with the SHA-256 of every file the layout read (images,
    fonts): it is used only while each of those is unchanged, and with the diagnostics its layout reported,
    reported again. The parts a long brief's layout made (``Typeset.kept``) are kept too. The system's Pango, HarfBuzz
    and fontconfig are not in the key, as for the page map (``pages``).
    """
    entry = _kept_entry(job, layout) if cache is not None else ""
    kept = _unpacked(cache.get(KEPT, entry), job) if cache is not None else None
    if kept is not None:
        typeset, pdf, items = kept
        target.write_bytes(pdf)
        diags.add(*items)
        return lambda: typeset
    own = Diagnostics()
    with recording_reads() as reads:
        submitted = (typesetter.submit(job, target, own) if isinstance(typesetter, Submitting)
                     else _done(typesetter.typeset(job, target, own)))

    def finish() -> Typeset:
        with recording_reads() as more:  # what the printer read, told once it is done
            typeset = submitted()
        diags.add(*own.items)
        if typeset.kept:  # a long brief's parts laid out now: kept with the rest, once the build succeeds
            if cache is not None:
                keptparts.keep_all(cache, typeset.kept)
            typeset = replace(typeset, kept=())
        if cache is not None:
            header = {"pages": typeset.pages, "starts": [asdict(start) for start in typeset.starts],
                      "reads": {**reads, **more}, "diagnostics": [d.to_json() for d in own.items]}
            cache.put(KEPT, entry, json.dumps(header, sort_keys=True).encode("utf-8") + b"\n" + target.read_bytes())
        return typeset
    return finish


def _done(typeset: Typeset) -> Callable[[], Typeset]:
    return lambda: typeset


def _kept_entry(job: PrintJob, layout: str) -> str:
    """The kept PDF's key. How the brief is split into parts depends on its Markdown's length, not only on
    the print HTML (in ``layout``): the parts are in the key too."""
    return key(KEPT, layout, package_code(), version(*PRINT_PACKAGES), str(job.root), job.identifier,
               job.modified.isoformat(), os.environ.get("SOURCE_DATE_EPOCH", ""),
               *(f"{part.notes_before}\0{part.source}" for part in job.parts))


def _unpacked(content: bytes | None, job: PrintJob) -> tuple[Typeset, bytes, list[Diagnostic]] | None:
    """A kept PDF, its layout and diagnostics; ``None`` if there is none, or a file it read has changed."""
    if content is None:
        return None
    head, _, pdf = content.partition(b"\n")
    try:
        header = json.loads(head)
        typeset = Typeset(int(header["pages"]), tuple(PageStart(**start) for start in header["starts"]))
        items = [Diagnostic.from_json(item) for item in header["diagnostics"]]
        reads = dict(header["reads"])
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return (typeset, pdf, items) if ResourcePolicy(job.root, job.assets).unchanged(reads) else None


def page_map(rendered: Rendered, typesetter: Typesetter, out_dir: Path, diags: Diagnostics) -> tuple[PageMap, bool]:
    """The PDF edition's page map without writing it: kept from an earlier build into ``out_dir`` if the
    layout would be the same, else laid out now. Also says whether it was laid out (and so is to be kept)."""
    job = print_job(rendered)
    key = pages.layout_key(job)
    kept = pages.load(pages.cache_file(out_dir, rendered.brief.metadata.slug), key,
                      {part.id for part in rendered.sections})
    if kept is not None:
        return kept, False
    return PageMap(key, typesetter.typeset(job, None, diags).starts), True
