"""What sets each edition's section bodies apart: one record per edition, read by the render rules and by
``Rendered.html``, so that no rule asks which edition it writes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Edition:
    """How one edition writes a section's body."""

    #: The edition's name: ``pdf``, ``epub`` or ``html``.
    name: str
    #: Each note's text is written where the note is called, and the notes' block left out: the PDF sets notes
    #: at the foot of the page.
    notes_where_called: bool = False
    #: Each section is a document of its own (the EPUB's), so a link to an id in another section names it.
    section_documents: bool = False
    #: A reference is marked to have its page printed after it, when the brief asks for pages (the PDF's).
    reference_pages: bool = False
    #: Notes and their calls carry ``epub:type`` (the EPUB's).
    epub_types: bool = False
    #: A collapsible callout is printed open, as a box, not as a ``details`` element (the PDF's).
    prints_open: bool = False
    #: Each block carries its number (``data-block``), which the layout reads back for the page map (the PDF's).
    block_numbers: bool = False
    #: The Quarto formats the edition is, for conditional content (quarto-cli ``_format.lua``, ``isFormat``:
    #: "html" is every HTML-based format, EPUB's included; "html:js" the HTML ones that run scripts, so not EPUB).
    quarto_formats: tuple[str, ...] = ()


EDITIONS = {edition.name: edition for edition in (
    Edition("html", quarto_formats=("html", "html:js")),
    Edition("epub", section_documents=True, epub_types=True, quarto_formats=("epub", "epub3", "html")),
    Edition("pdf", notes_where_called=True, reference_pages=True, prints_open=True, block_numbers=True,
            quarto_formats=("pdf", "latex")),
)}


def edition(name: str) -> Edition:
    """The record of the edition ``name`` (an edition unknown here is written as the HTML one is)."""
    return EDITIONS.get(name) or Edition(name)
