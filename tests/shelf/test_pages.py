"""The shelf's order and the figures its pages print."""

from __future__ import annotations

import datetime as dt

from lxml import html as lxml_html

from briefpress.model import Metadata
from briefpress.shelf.model import Entry, Shelf
from briefpress.shelf.model import newest_first
from briefpress.shelf.pages import declares_icon, human_size, landing_page, relative


def entry(slug: str, date: str, modified: str | None = None) -> Entry:
    meta = Metadata(title=slug, lang="en", slug=slug, identifier=f"urn:x:{slug}", date=dt.date.fromisoformat(date),
                    modified=dt.date.fromisoformat(modified) if modified else None)
    return Entry(meta, f"{slug}/index.html", f"{slug}/card.png", f"{slug}/cover.png", f"{slug}/cover-thumb.png", ())


def test_newest_first_by_last_change_then_date_then_slug() -> None:
    entries = [entry("b", "2024-01-01"), entry("a", "2024-01-01"), entry("c", "2023-06-01", "2024-01-01"),
               entry("d", "2024-03-01"), entry("e", "2022-01-01", "2025-01-01")]
    assert [e.slug for e in newest_first(entries)] == ["e", "d", "a", "b", "c"]


def test_sizes_as_readers_read_them() -> None:
    assert [human_size(n) for n in (0, 999, 1000, 24_222, 999_499, 999_500, 1_234_567)] == [
        "0 B", "999 B", "1 kB", "24 kB", "999 kB", "1.0 MB", "1.2 MB"]


def test_links_between_pages_of_the_shelf_are_relative() -> None:
    assert relative("index.html", "alpha/index.html") == "../index.html"
    assert relative("alpha/alpha.pdf", "alpha/index.html") == "alpha.pdf"
    assert relative("feed.atom", "index.html") == "feed.atom"


def test_a_landing_page_declares_one_icon_whatever_template_made_the_edition() -> None:
    """The package's HTML edition declares the design's icon, and the landing page keeps it; an edition from a
    brief's own template that declares none gets the design's, so that no browser asks for /favicon.ico."""
    shelf = Shelf(title="Shelf", publisher="", base_url="https://example.org/", lang="en", briefs=())
    own = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/><title>A</title></head>\n'
           '<body><p>A</p></body></html>')
    declared = own.replace("</title>", '</title><link rel="shortcut icon" href="data:image/png;base64,AA==">')
    assert not declares_icon(own) and declares_icon(declared)
    for edition, icon in ((own, "data:image/svg+xml;base64,"), (declared, "data:image/png;base64,AA==")):
        page = lxml_html.document_fromstring(landing_page(shelf, entry("a", "2024-01-01"), edition))
        hrefs = page.xpath("/html/head/link[contains(concat(' ', @rel, ' '), ' icon ')]/@href")
        assert len(hrefs) == 1 and hrefs[0].startswith(icon), hrefs
