"""The render stage's result: the brief's sections as Markdown tokens, with what every edition reads across
them (ids, images, charts, numbers, citations), and each section's body written as one edition's HTML."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from markdown_it import MarkdownIt
from markdown_it.token import Token

from ..model import CROSS_PART, Brief, Section, page_mark
from .citations import CitedWorks
from .edition import Edition
from .edition import edition as edition_named
from .markdown import create_parser, render_tokens
from .notes import footnote_inline_html
from .numbering import Numbers


@dataclass(frozen=True)
class Heading:
    """A heading inside a section, for the tables of contents and the PDF outline."""

    level: int
    id: str
    text: str


@dataclass(frozen=True)
class PrintDocument:
    """One of the documents the print edition is laid out in, when it is not laid out whole: the front (cover
    and contents), a section, or a run of sections (a part of a long brief). A reference in it that prints its
    target's page ("Figure 2 (p. 5)"), to a target laid out in another document, carries that page in
    ``data-page`` (``model.page_mark``), filled in once it is known. In a part, a link to another part's
    target is a ``CROSS_PART`` URI, which joining the parts makes internal again."""

    sections: frozenset[str] = frozenset()  # the sections laid out in it (none: the front)
    parts: bool = False  # a part of a long brief

    def outside(self, owner: str | None) -> bool:
        """Whether a target in section ``owner`` (None: in none) is laid out in another document."""
        return owner is not None and owner not in self.sections


@dataclass(frozen=True)
class RenderedSection:
    """A section parsed into Markdown tokens, ready to be written in any format."""

    section: Section
    tokens: list[Token]
    footnotes: Mapping[str, Any]
    note_offset: int
    headings: tuple[Heading, ...]

    @property
    def id(self) -> str:
        return self.section.id

    @property
    def file_name(self) -> str:
        """The section's document name inside the EPUB."""
        return f"{self.section.id}.xhtml"


@dataclass(frozen=True)
class Rendered:
    """A brief whose sections are all rendered and cross-checked."""

    brief: Brief
    sections: tuple[RenderedSection, ...]
    #: Files made during the build (charts), by path relative to the brief folder.
    assets: Mapping[str, bytes]
    #: Every image the sections use, by path relative to the brief folder, in order of use.
    images: tuple[str, ...]
    #: Which section holds each id.
    id_owner: Mapping[str, str]
    parser: MarkdownIt = field(repr=False, compare=False, default_factory=create_parser)
    #: The citations and bibliography, formatted once (None: the brief names no bibliography).
    cited: CitedWorks | None = None
    #: Every figure, table, box and section, numbered once.
    numbers: Numbers = field(default_factory=Numbers)

    def html(self, part: RenderedSection, fmt: str, image_src: Callable[[str], str] | None = None,
             page_breaks: Mapping[int, int] | None = None, document: PrintDocument | None = None) -> str:
        """Return the section's body HTML for ``fmt`` (``pdf``, ``epub`` or ``html``).

        ``page_breaks`` maps a block's number in the section to the printed page that begins there;
        ``document`` is the print document the section is laid out in, if not the whole brief.
        """
        edition = edition_named(fmt)
        env: dict[str, Any] = {
            "page_breaks": page_breaks or {},
            "edition": edition,
            "footnotes": dict(part.footnotes),
            "note_offset": part.note_offset,
            "image_src": image_src or (lambda src: src),
            "link_href": lambda href: self._href(href, part, edition, document),
            "page_mark": lambda target_id: self._page_mark(target_id, document),
            "citations": self.cited,
            "numbers": self.numbers,
        }
        if edition.notes_where_called:
            env["note_inline"] = footnote_inline_html(self.parser, part.tokens, env)
        return render_tokens(self.parser, part.tokens, env)

    def href_in_epub(self, target_id: str) -> str:
        """Where an id is inside the EPUB, from a document beside the sections (the nav)."""
        owner = self.id_owner.get(target_id, "")
        return f"{owner}.xhtml" if owner == target_id else f"{owner}.xhtml#{target_id}"

    def _href(self, href: str, part: RenderedSection, edition: Edition, document: PrintDocument | None) -> str:
        if href.startswith("#"):
            owner = self.id_owner.get(href[1:])
            if edition.section_documents and owner is not None and owner != part.id:
                return self.href_in_epub(href[1:])
            if document is not None and document.parts and document.outside(owner):
                return CROSS_PART + href[1:]
        return href

    def _page_mark(self, target_id: str, document: PrintDocument | None) -> str:
        """The ``data-page`` of a reference that prints its target's page, in a print document that does not
        hold the target."""
        return page_mark(target_id) if document is not None and document.outside(self.id_owner.get(target_id)) else ""
