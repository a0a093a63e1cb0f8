"""The shelf's pages: the index of every brief, each brief's landing page (its HTML edition with a download
bar and the tags link previews read), and the sitemap.

The templates are the package's own (``templates/shelf/``); a brief's templates do not reach them.
"""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import jinja2
from lxml import etree

from ..assemble import declares_icon
from ..cache import Cache
from ..editions.webfonts import font_faces_css
from ..errors import BriefError, Diagnostic
from ..render.jinja import human_date
from ..resources import icon_data_url, package_dir
from .model import OPDS_NAVIGATION, Entry, Shelf

#: The size of ``card.png`` (the card link previews show), ``cover.png`` (the cover, in the design's 3:4, at the
#: size its own cover is drawn) and ``cover-thumb.png`` (the cover, smaller).
CARD_SIZE = (1200, 630)
COVER_SIZE = (1200, 1600)
THUMB_SIZE = (300, 400)
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
#: The feeds' files, relative to the shelf's root.
ATOM = "feed.atom"
OPDS_ROOT = "opds/root.xml"
OPDS_ACQUISITION = "opds/briefs.xml"
FORMAT_NAMES = {"pdf": "PDF", "epub": "EPUB", "html": "HTML"}


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The shelf's templates, autoescaped, with strict undefined names: one environment for the process, so
    that each template is compiled once, not once a page."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(package_dir("templates") / "shelf"),
                             autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(human_date=human_date, human_size=human_size)
    return env


def render(template: str, **context: Any) -> str:
    """Render one of the shelf's templates."""
    return environment().get_template(template).render(**context)


def human_size(size: int) -> str:
    """A file's size as readers read it: 532 B, 24 kB, 1.2 MB."""
    if size < 1000:
        return f"{size} B"
    if size < 999_500:  # what rounds to 1000 kB is 1.0 MB
        return f"{size / 1000:.0f} kB"
    return f"{size / 1_000_000:.1f} MB"


def relative(path: str, start: str) -> str:
    """``path`` (relative to the shelf's root) as a link from the page at ``start``."""
    return posixpath.relpath(path, posixpath.dirname(start) or ".")


def index_page(shelf: Shelf, entries: Sequence[Entry], cache: Cache | None = None) -> str:
    """``index.html``: every brief, newest first, with its cover, description and editions; in the design's
    faces, subset to its text and embedded as the HTML edition embeds them (``webfonts``; ``cache`` may keep
    the subsets)."""
    page = render("index.html.j2", shelf=shelf, entries=entries, names=FORMAT_NAMES,
                  atom=ATOM, opds=OPDS_ROOT, opds_type=OPDS_NAVIGATION, thumb=THUMB_SIZE, icon=icon_data_url())
    fonts = font_faces_css(page, cache)
    return page.replace("<style>", f"<style>\n{fonts}\n", 1) if fonts else page


def landing_page(shelf: Shelf, entry: Entry, edition: str, citation: Sequence[str] = (),
                 source: Path | None = None) -> str:
    """``<slug>/index.html``: the brief's HTML edition as built, with link previews' tags (Open Graph, Twitter)
    added to its head, and the design's icon if its own template declares none, and a bar of downloads at the
    start of its body. ``citation`` are the brief's reference files (``.bib``, ``.json``), relative to the shelf's
    root; ``source`` is where a problem is reported."""
    def up(path: str) -> str:
        return relative(path, entry.landing)

    body = re.search(r"<body\b[^>]*>", edition)
    end_of_head = edition.find("</head>")
    if body is None or end_of_head < 0 or end_of_head > body.start():
        raise BriefError([Diagnostic(source, None, "the HTML edition has no <head> followed by a <body>: the "
                                                   "shelf's landing page adds to both (see the brief's html.html.j2)")])
    icon = None if declares_icon(edition[:end_of_head]) else icon_data_url()
    context = dict(shelf=shelf, entry=entry, meta=entry.metadata, names=FORMAT_NAMES, up=up, icon=icon,
                   card=CARD_SIZE, atom=ATOM, opds=OPDS_ROOT, opds_type=OPDS_NAVIGATION, citation=citation)
    head = render("landing-head.html.j2", **context)
    bar = render("landing-bar.html.j2", **context)
    return (edition[:end_of_head] + head + edition[end_of_head:body.end()] + "\n" + bar
            + edition[body.end():])


def sitemap(shelf: Shelf, entries: Sequence[Entry]) -> bytes:
    """``sitemap.xml`` (sitemaps.org 0.9): the index and every landing page, each with its last change."""
    root = etree.Element(f"{{{SITEMAP_NS}}}urlset", nsmap={None: SITEMAP_NS})
    newest = max((e.updated for e in entries), default=None)
    pages = [(shelf.base_url, newest)] + [(shelf.url(e.landing), e.updated) for e in entries]
    for loc, lastmod in pages:
        url = etree.SubElement(root, f"{{{SITEMAP_NS}}}url")
        etree.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = loc
        if lastmod is not None:
            etree.SubElement(url, f"{{{SITEMAP_NS}}}lastmod").text = lastmod.isoformat()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
