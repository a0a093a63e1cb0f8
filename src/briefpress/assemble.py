"""Assemble stage: put rendered sections into the document templates of each format."""

from __future__ import annotations

import datetime as dt
import os
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Collection, Sequence

from lxml import html as lxml_html
from markupsafe import Markup, escape

from .errors import BriefError, Diagnostic, Diagnostics
from .model import CROSS_PART, Metadata, PageStart, page_mark
from .policy import css_problems
from .render import Heading, PrintDocument, Rendered, RenderedSection
from .render import budget
from .render.jinja import environment
from .render.markdown import section_number_html
from .render.pagebreaks import page_break
from .resources import Refused, icon_data_url, package_dir, read_regular


@dataclass(frozen=True)
class FontFace:
    """One ``@font-face`` rule of the print design."""

    family: str
    url: str
    weight: str
    style: str


@dataclass(frozen=True)
class SectionView:
    """What a document template sees of one section."""

    id: str
    title: str
    short_title: str
    role: str
    headings: tuple[Heading, ...]
    html: str
    file_name: str
    #: The printed page that begins at the section's title, if one does.
    title_page: int | None = None


def build_date(meta: Metadata) -> tuple[str, str]:
    """Return the created and modified dates the outputs carry.

    They come from the brief; ``SOURCE_DATE_EPOCH`` overrides both. Never from the clock.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        stamp = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return stamp, stamp
    return meta.date.isoformat(), meta.last_modified.isoformat()


def stylesheet_path(rendered: Rendered, name: str) -> Path:
    """Return the path of a stylesheet: the brief's own ``styles/<name>`` if present, else the package's.

    The load stage has checked that each of the brief's is a regular file inside the brief folder.
    """
    own = rendered.brief.styles_dir / name
    return own if os.path.lexists(own) else package_dir("styles") / name


def stylesheet(rendered: Rendered, name: str) -> str:
    """Return a stylesheet's text (the brief's override, else the package's), read only if it is a regular
    file inside the brief folder or the package (the load stage has reported any other as an error)."""
    path = stylesheet_path(rendered, name)
    try:
        return read_regular(path, (rendered.brief.root, package_dir("styles"))).decode("utf-8")
    except Refused as exc:
        raise BriefError([Diagnostic(path, None, f"file {exc}")]) from None


def checked_stylesheets(rendered: Rendered, names: Sequence[str], diags: Diagnostics) -> list[str]:
    """The texts of the stylesheets ``names`` for an edition that holds them (HTML, EPUB); each URL in them
    that would load something from outside the edition is an error at its line."""
    texts = []
    for name in names:
        text = stylesheet(rendered, name)
        for line, problem in css_problems(text):
            diags.error(stylesheet_path(rendered, name), line, problem)
        texts.append(text)
    return texts


def report_document(rendered: Rendered, edition: str, problems: Sequence[str], diags: Diagnostics) -> None:
    """Report what an assembled document holds that runs script or loads from outside the edition: it comes
    from the brief's own templates (the package's hold none)."""
    templates = rendered.brief.templates_dir
    for problem in problems:
        diags.error(templates if templates.is_dir() else rendered.brief.root, None, f"{edition} edition: {problem}")


class Assembler:
    """Renders the document templates of one brief."""

    def __init__(self, rendered: Rendered):
        self.rendered = rendered
        self.meta = rendered.brief.metadata
        self.env = environment(rendered.brief)
        self.env.globals["page_break"] = lambda page: Markup(page_break(int(page)))
        # A section's or heading's number before its title, when the brief numbers sections; and the lists of
        # figures, tables and boxes it asks for, with the numbers worked out at render.
        self.env.globals["section_number"] = lambda target: Markup(section_number_html(rendered.numbers, target))
        self.env.globals["lists"] = rendered.numbers.lists
        # A link's attributes in the contents and the lists: its target (the print edition's front adds its page).
        self.env.globals["link_to"] = lambda target: Markup(f'href="#{escape(target)}"')
        self.created, self.modified = build_date(self.meta)

    def sections(self, fmt: str, image_src: Callable[[str], str] | None = None,
                 page_starts: Sequence[PageStart] = (), document: PrintDocument | None = None) -> list[SectionView]:
        """Return the sections rendered for ``fmt``, marking where the PDF's pages begin; with ``document``,
        only the sections of that print document, their links written for it."""
        return [self._view(part, fmt, image_src, {p.block: p.page for p in page_starts if p.section == part.id},
                           document)
                for part in self.rendered.sections if document is None or part.id in document.sections]

    def _view(self, part: RenderedSection, fmt: str, image_src: Callable[[str], str] | None,
              breaks: dict[int, int], document: PrintDocument | None = None) -> SectionView:
        s = part.section
        title_page = breaks.pop(0, None)
        return SectionView(s.id, s.title, s.short_title, s.role, part.headings,
                           self.rendered.html(part, fmt, image_src, breaks, document), part.file_name, title_page)

    def render(self, template: str, **context: Any) -> str:
        """Render a package (or brief) template with the brief's metadata in scope."""
        try:
            return budget.render(self.env.get_template(template), meta=self.meta, created=self.created,
                                 modified=self.modified, **context)
        except budget.BudgetExceeded as exc:  # in the brief's own templates: the package's keep within it
            path, line = budget.origin(exc)
            raise BriefError([Diagnostic(path, line, f"template error: {exc}")]) from None

    def pdf(self, fonts: Sequence[FontFace], only: Collection[str] | None = None, front: bool = True,
            views: Sequence[SectionView] | None = None, document: PrintDocument | None = None) -> str:
        """The HTML document WeasyPrint lays out: the cover and contents (``front``), then every section, or
        those in ``only`` (one part of a brief laid out in parts). ``views`` are the sections already
        rendered for the PDF, for a caller that assembles several parts. In a ``document`` of the print
        edition laid out in several, the front's links carry their targets' pages."""
        contents = list(views) if views is not None else self.sections("pdf")
        sections = [view for view in contents if only is None or view.id in only]
        links = {} if document is None else {"link_to": lambda target: Markup(self._front_link(target, document))}
        return self.render("pdf.html.j2", sections=sections, contents=contents, front=front, fonts=fonts, **links)

    def _front_link(self, target: str, document: PrintDocument) -> str:
        """The attributes of a link of the print edition's front to ``target``: it prints the target's page
        (``data-page``, filled in once known); in a part of a long brief, it leaves the front as a
        ``CROSS_PART`` URI, and a link to an id no section holds is left as it is."""
        outside = document.outside(self.rendered.id_owner.get(target))
        if document.parts and not outside:
            return f'href="#{escape(target)}"'
        return f'href="{escape(CROSS_PART if document.parts else "#")}{escape(target)}"{page_mark(target)}'

    def html(self, css: str, image_src: Callable[[str], str]) -> str:
        """The self-contained HTML edition, with the design's icon (``icon``) as a ``data:`` URL; added to the
        head of a brief's own template that declares none, so that no browser asks for ``/favicon.ico``."""
        icon = icon_data_url()
        page = self.render("html.html.j2", sections=self.sections("html", image_src), css=css, icon=icon)
        end_of_head = page.find("</head>")
        if end_of_head < 0 or declares_icon(page[:end_of_head]):
            return page
        return f'{page[:end_of_head]}<link rel="icon" type="image/svg+xml" href="{icon}"/>\n{page[end_of_head:]}'

    def epub_section(self, view: SectionView, stylesheets: list[str]) -> str:
        """One EPUB content document."""
        return self.render("section.xhtml.j2", s=view, stylesheets=stylesheets)

    def epub_titlepage(self, stylesheets: list[str]) -> str:
        """The EPUB's title page."""
        return self.render("titlepage.xhtml.j2", stylesheets=stylesheets)

    def cover_svg(self) -> str:
        """A cover image drawn from the metadata, for briefs that bring none."""
        return self.render("cover.svg.j2", title_lines=textwrap.wrap(self.meta.title, 20),
                           subtitle_lines=textwrap.wrap(self.meta.subtitle, 36))


def declares_icon(head: str) -> bool:
    """Whether an HTML page's head (its text up to ``</head>``) declares an icon (``<link rel="icon">``): a page
    that declares none has the browser ask its site for ``/favicon.ico``."""
    rels = lxml_html.document_fromstring(head + "</head><body></body></html>").xpath("/html/head/link/@rel")
    return any("icon" in rel.lower().split() for rel in rels)
