"""EPUB writer: one XHTML document per section, packed by ebooklib, then re-zipped reproducibly."""

from __future__ import annotations

import datetime as dt
import html
import io
import os
import re
import zipfile
from pathlib import Path
from typing import Sequence

from ebooklib import epub

from ..assemble import Assembler, SectionView, checked_stylesheets, report_document
from ..errors import Diagnostics
from ..model import PageStart
from ..policy import svg_problems, xhtml_problems
from ..render import Rendered, pagebreaks
from ..resources import Refused, ResourcePolicy, media_type, read_regular
from . import pdf
from .base import EditionInput, EditionResult

STYLESHEETS = ("common.css", "epub.css")
#: A brief's own cover image, in the order looked for; the EPUB carries it as its cover, and the shelf draws it.
OWN_COVERS = ("images/cover.svg", "images/cover.png", "images/cover.jpg")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# What the EPUB offers readers who rely on assistive technology (EPUB Accessibility 1.1).
ACCESSIBILITY = (
    ("schema:accessMode", "textual"),
    ("schema:accessMode", "visual"),
    ("schema:accessModeSufficient", "textual"),
    ("schema:accessibilityFeature", "structuralNavigation"),
    ("schema:accessibilityFeature", "tableOfContents"),
    ("schema:accessibilityFeature", "alternativeText"),
    ("schema:accessibilityFeature", "readingOrder"),
    ("schema:accessibilityFeature", "displayTransformability"),
    ("schema:accessibilityFeature", "pageBreakMarkers"),
    ("schema:accessibilityFeature", "pageNavigation"),
    ("schema:accessibilityHazard", "none"),
    ("schema:accessibilitySummary",
     "Text with headings, a table of contents, landmarks and linked notes. Every image, including "
     "charts, has a text alternative, and charts' figures are also given in the text."),
    ("dcterms:conformsTo", "EPUB Accessibility 1.1 - WCAG 2.1 Level AA"),
)


def build_book(rendered: Rendered, page_starts: Sequence[PageStart] = (),
               diags: Diagnostics | None = None) -> epub.EpubBook:
    """Return the ebooklib book for a rendered brief, with page-break markers where PDF pages begin; what its
    documents or stylesheets would load from outside it, or run, is reported in ``diags``."""
    diags = diags if diags is not None else Diagnostics()
    meta = rendered.brief.metadata
    assembler = Assembler(rendered)
    policy = ResourcePolicy(rendered.brief.root, rendered.assets)
    book = epub.EpubBook()
    book.set_identifier(meta.identifier)
    book.set_title(meta.title)
    book.set_language(meta.lang)
    for author in meta.authors:
        book.add_author(author)
    dc = {"publisher": meta.publisher, "rights": meta.rights, "description": meta.description,
          "date": assembler.created}  # the brief's date, or SOURCE_DATE_EPOCH's, as in the other editions
    for name, value in dc.items():
        if value:
            book.add_metadata("DC", name, value)
    for subject in meta.subjects:
        book.add_metadata("DC", "subject", subject)
    # The page list follows the PDF edition's pages: name it as the source of the pagination.
    book.add_metadata("DC", "source", f"{meta.title} (PDF edition, {meta.paper.upper()})", {"id": "pagination-source"})
    book.add_metadata(None, "meta", "pagination", {"refines": "#pagination-source", "property": "source-of"})
    if meta.subtitle:
        book.add_metadata(None, "meta", meta.subtitle, {"property": "dcterms:alternative"})
    for prop, value in ACCESSIBILITY:
        book.add_metadata(None, "meta", value, {"property": prop})

    css_names = [f"styles/{name}" for name in STYLESHEETS]
    for name, file_name, css in zip(STYLESHEETS, css_names, checked_stylesheets(rendered, STYLESHEETS, diags)):
        book.add_item(epub.EpubItem(uid=f"css-{Path(name).stem}", file_name=file_name, media_type="text/css",
                                    content=css.encode("utf-8")))

    own_cover = own_cover_name(rendered.brief.root)
    cover_name = own_cover or "images/cover.svg"
    cover_bytes = _own_cover(rendered, own_cover, diags) if own_cover else assembler.cover_svg().encode("utf-8")
    book.set_cover(cover_name, cover_bytes, create_page=True)
    book.get_item_with_id("cover").title = meta.title

    titlepage = epub.EpubItem(uid="titlepage", file_name="titlepage.xhtml", media_type="application/xhtml+xml",
                              content=_checked(rendered, assembler.epub_titlepage(css_names), diags))
    book.add_item(titlepage)

    documents = []
    for view in _views(rendered, page_starts):
        item = epub.EpubItem(uid=f"sec-{view.id}", file_name=view.file_name, media_type="application/xhtml+xml",
                             content=_checked(rendered, assembler.epub_section(view, css_names), diags))
        book.add_item(item)
        documents.append((view, item))
    for index, relative in enumerate(rendered.images):
        if relative == cover_name:
            continue  # a section shows the cover image: it is packed once, as the cover
        book.add_item(epub.EpubItem(uid=f"img-{index + 1}", file_name=relative, media_type=media_type(relative),
                                    content=policy.read_relative(relative)))

    numbered = rendered.numbers.numbered_title
    book.toc = [
        (epub.Section(numbered(view.id, view.title), view.file_name),
         [epub.Link(f"{view.file_name}#{h.id}", numbered(h.id, h.text), f"toc-{h.id}")
          for h in view.headings if h.level == 2])
        if any(h.level == 2 for h in view.headings)
        else epub.Link(view.file_name, numbered(view.id, view.title), f"toc-{view.id}")
        for view, _ in documents
    ]
    book.add_item(epub.EpubNcx())
    nav = epub.EpubNav()
    nav.title = "Contents"
    book.add_item(nav)
    book.spine = ["cover", titlepage, nav, *(item for _, item in documents)]
    first_body = next((view for view, _ in documents if view.role == "body"), documents[0][0])
    book.guide = [
        {"type": "cover", "href": "cover.xhtml", "title": "Cover"},
        {"type": "toc", "href": "nav.xhtml", "title": "Contents"},
        {"type": "text", "href": first_body.file_name, "title": first_body.title},
    ]
    return book


def _views(rendered: Rendered, page_starts: Sequence[PageStart]) -> list[SectionView]:
    """The sections rendered for the EPUB, with a marker where each page of the PDF begins: at its title, at
    a block's start or inside a block's text (``render.pagebreaks``)."""
    views = []
    for part in rendered.sections:
        s, breaks = part.section, pagebreaks.breaks(page_starts, part.id)
        title_page = breaks.pop(0, None)
        views.append(SectionView(s.id, s.title, s.short_title, s.role, part.headings,
                                 rendered.html(part, "epub", None, breaks), part.file_name, title_page))
    return views


def own_cover_name(root: Path) -> str | None:
    """The brief's own cover image, by its path in the brief folder ``root``, if it brings one (the first of
    ``OWN_COVERS`` there); otherwise its design draws one."""
    return next((name for name in OWN_COVERS if os.path.lexists(root / name)), None)


def _own_cover(rendered: Rendered, name: str, diags: Diagnostics) -> bytes:
    """The brief's own cover image, read and checked as any image a section uses; a problem is an error."""
    path = rendered.brief.root / name
    try:
        data = read_regular(path, (rendered.brief.root,))
    except Refused as exc:
        diags.error(path, None, f"cover image {exc}")
        return b""
    for problem in svg_problems(data) if name.endswith(".svg") else []:
        diags.error(path, None, f"cover image: {problem}")
    return data


def _checked(rendered: Rendered, document: str, diags: Diagnostics) -> bytes:
    """A content document, with what it would run or load from outside the EPUB reported."""
    content = document.encode("utf-8")
    report_document(rendered, "EPUB", xhtml_problems(content), diags)
    return content


def write(inp: EditionInput) -> EditionResult:
    """Write the brief as an EPUB 3; the result counts its content documents.

    Its page list gives the PDF edition's printed page numbers, so readers of both cite the same pages: from
    the PDF this build made, else from the output folder's cache, else from a layout made for it.
    """
    rendered = inp.rendered
    page_map, laid_out = ((inp.page_map, False) if inp.page_map is not None
                          else pdf.page_map(rendered, inp.typesetter, inp.out_dir, inp.diags))
    book = build_book(rendered, page_map.starts, inp.diags)
    meta = rendered.brief.metadata
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    modified = (dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch.isdigit()
                else dt.datetime.combine(meta.last_modified, dt.time()))
    raw = io.BytesIO()
    epub.write_epub(raw, book, {"mtime": modified, "raise_exceptions": True})
    navs = _lists(rendered) + _page_list(page_map.starts)
    inp.target.write_bytes(_rezip(raw.getvalue(), meta.lang, navs))
    return EditionResult("epub", len(rendered.sections), page_map if laid_out else None)


#: The nav types of EPUB 3's structural semantics for lists of figures and tables; boxes have none.
_LIST_TYPES = {"fig": ' epub:type="loi"', "tbl": ' epub:type="lot"', "box": ""}


def _lists(rendered: Rendered) -> bytes:
    """The nav's lists of figures, tables and boxes that ``brief.yaml`` asks for, linked to each."""
    navs = []
    for kind, heading, entries in rendered.numbers.lists:
        items = "".join(f'<li><a href="{html.escape(rendered.href_in_epub(t.id))}">{html.escape(t.entry)}</a></li>'
                        for t in entries)
        navs.append(f'<nav{_LIST_TYPES[kind]} id="list-of-{kind}" aria-labelledby="list-of-{kind}-title">'
                    f'<h2 id="list-of-{kind}-title">{html.escape(heading)}</h2><ol>{items}</ol></nav>')
    return "".join(navs).encode("utf-8")


def _page_list(starts: Sequence[PageStart]) -> bytes:
    """The nav's page list: each printed page of the PDF edition, linked to where it begins."""
    items = "".join(f'<li><a href="{s.section}.xhtml#page-{s.page}">{s.page}</a></li>' for s in starts)
    return (f'<nav epub:type="page-list" id="page-list" hidden="hidden"><h2>Pages</h2><ol>{items}</ol></nav>'
            .encode("utf-8"))


def _rezip(data: bytes, lang: str, navs: bytes = b"") -> bytes:
    """Re-pack the EPUB with ``mimetype`` first and stored, fixed times and permissions."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        names = source.namelist()
        order = ["mimetype", "META-INF/container.xml"]
        for name in order + [n for n in names if n not in order]:
            content = source.read(name)
            if name.endswith(".opf"):
                content = _opf_lang(content, lang)
            elif name.endswith("nav.xhtml") and navs:
                content = content.replace(b"</body>", navs + b"</body>", 1)
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.create_system = 3
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            target.writestr(info, content)
    return out.getvalue()


def _opf_lang(opf: bytes, lang: str) -> bytes:
    """Put ``xml:lang`` on the package element, which ebooklib cannot write."""
    return re.sub(rb"<package\b(?![^>]*xml:lang)", b'<package xml:lang="' + lang.encode("ascii") + b'"', opf, count=1)
