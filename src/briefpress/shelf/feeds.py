"""The shelf's feeds: an Atom feed (RFC 4287) for feed readers, and an OPDS 1.2 catalogue for e-book readers.

Pure functions of the shelf's model: the same entries give the same bytes. Every date comes from the briefs
(the feed's ``updated`` is the newest entry's), namespace prefixes are fixed, entries go newest first with ties
broken by slug, and every link is absolute through ``Shelf.url``.
"""

from __future__ import annotations

import datetime as dt
from typing import Sequence

from lxml import etree

from ..model import FORMATS
from .model import OPDS_NAVIGATION, Download, Entry, Shelf, newest_first

ATOM = "http://www.w3.org/2005/Atom"
OPDS = "http://opds-spec.org/2010/catalog"
#: OPDS 1.2 takes Dublin Core from the terms namespace (``dc:issued`` is a term, not an element of 1.1).
DC = "http://purl.org/dc/terms/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

ATOM_TYPE = "application/atom+xml"
ACQUISITION_TYPE = "application/atom+xml;profile=opds-catalog;kind=acquisition"
ACQUISITION = "http://opds-spec.org/acquisition"
IMAGE = "http://opds-spec.org/image"
THUMBNAIL = "http://opds-spec.org/image/thumbnail"
SORT_NEW = "http://opds-spec.org/sort/new"
#: The editions an OPDS reader can download and open; the HTML page is a web page, not a publication file.
OPDS_FORMATS = ("epub", "pdf")
#: How an edition is named in a link's title.
FORMAT_LABELS = {"pdf": "PDF", "epub": "EPUB", "html": "HTML"}


def atom_feed(shelf: Shelf, entries: Sequence[Entry], path: str = "feed.atom") -> bytes:
    """The Atom feed of the shelf, published at ``path``: one entry per brief, its editions as enclosures."""
    ordered = _ordered(entries)
    feed = _feed(shelf, nsmap={None: ATOM})
    _child(feed, "id", shelf.url(path))
    _child(feed, "title", shelf.title)
    _child(feed, "updated", _stamp(ordered[0].updated))
    _author(feed, _publisher(shelf))
    _link(feed, "self", shelf.url(path), ATOM_TYPE)
    _link(feed, "alternate", shelf.base_url, "text/html")
    _child(feed, "generator", "briefpress")
    for entry in ordered:
        meta = entry.metadata
        item = _entry(feed, entry)
        # Atom's entry has no subtitle: the subtitle is the short summary, the description the content.
        summary = meta.subtitle or meta.description
        if summary:
            _child(item, "summary", summary, type="text")
        if meta.subtitle and meta.description:
            _child(item, "content", meta.description, type="text")
        _link(item, "alternate", shelf.url(entry.landing), "text/html")
        for download in _editions(entry, FORMATS):
            _link(item, "enclosure", shelf.url(download.path), download.media_type,
                  length=str(download.size), title=_edition_title(download.fmt, download.units))
    return _serialise(feed)


def opds_root(shelf: Shelf, entries: Sequence[Entry], path: str = "opds/root.xml",
              acquisition: str = "opds/briefs.xml") -> bytes:
    """The OPDS catalogue's root, published at ``path``: a navigation feed whose one entry leads to the
    acquisition feed at ``acquisition``, which lists every brief newest first (hence ``sort/new``)."""
    ordered = _ordered(entries)
    updated = _stamp(ordered[0].updated)
    feed = _feed(shelf, nsmap={None: ATOM})
    _child(feed, "id", shelf.url(path))
    _child(feed, "title", shelf.title)
    _child(feed, "updated", updated)
    _author(feed, _publisher(shelf))
    _link(feed, "self", shelf.url(path), OPDS_NAVIGATION)
    _link(feed, "start", shelf.url(path), OPDS_NAVIGATION)
    _link(feed, "alternate", shelf.base_url, "text/html")
    item = etree.SubElement(feed, _atom("entry"))
    _child(item, "title", "Newest briefs")
    _child(item, "id", shelf.url(acquisition))
    _child(item, "updated", updated)
    _link(item, SORT_NEW, shelf.url(acquisition), ACQUISITION_TYPE, title="Newest briefs")
    count = len(_acquirable(ordered))
    _child(item, "content", f"{count} brief{'' if count == 1 else 's'}, the newest first.", type="text")
    return _serialise(feed)


def opds_acquisition(shelf: Shelf, entries: Sequence[Entry], path: str = "opds/briefs.xml",
                     root: str = "opds/root.xml") -> bytes:
    """The OPDS acquisition feed at ``path``: every brief with an EPUB or PDF edition, newest first, as
    complete entries (editions to download, cover, thumbnail, Dublin Core terms), under the root at ``root``."""
    ordered = _ordered(entries)
    feed = _feed(shelf, nsmap={None: ATOM, "dc": DC, "opds": OPDS})
    _child(feed, "id", shelf.url(path))
    _child(feed, "title", shelf.title)
    _child(feed, "updated", _stamp(ordered[0].updated))
    _author(feed, _publisher(shelf))
    _link(feed, "self", shelf.url(path), ACQUISITION_TYPE)
    _link(feed, "start", shelf.url(root), OPDS_NAVIGATION)
    _link(feed, "up", shelf.url(root), OPDS_NAVIGATION)
    for entry in _acquirable(ordered):
        meta = entry.metadata
        item = _entry(feed, entry)
        summary = meta.description or meta.subtitle
        if summary:
            _child(item, "summary", summary, type="text")
        _dc(item, "language", meta.lang)
        _dc(item, "issued", meta.date.isoformat())
        if meta.publisher:
            _dc(item, "publisher", meta.publisher)
        # Apps show the image as the book's cover: the cover in its own shape, never the link previews' card.
        _link(item, IMAGE, shelf.url(entry.cover), "image/png")
        _link(item, THUMBNAIL, shelf.url(entry.thumbnail), "image/png")
        _link(item, "alternate", shelf.url(entry.landing), "text/html")
        for download in _editions(entry, OPDS_FORMATS):
            _link(item, ACQUISITION, shelf.url(download.path), download.media_type,
                  length=str(download.size), title=_edition_title(download.fmt, download.units))
    return _serialise(feed)


def _ordered(entries: Sequence[Entry]) -> list[Entry]:
    """The entries newest first (``model.newest_first``). Raises ``ValueError`` for no entries: a feed's
    ``updated`` is its newest entry's, and there is none."""
    if not entries:
        raise ValueError("a feed needs at least one entry")
    return newest_first(entries)


def _feed(shelf: Shelf, nsmap: dict[str | None, str]) -> etree._Element:
    feed = etree.Element(_atom("feed"), nsmap=nsmap)
    feed.set(XML_LANG, shelf.lang)
    return feed


def _entry(feed: etree._Element, entry: Entry) -> etree._Element:
    """The parts of a brief's entry both the Atom feed and the OPDS catalogue carry."""
    meta = entry.metadata
    item = etree.SubElement(feed, _atom("entry"))
    item.set(XML_LANG, meta.lang)
    _child(item, "id", meta.identifier)
    _child(item, "title", meta.title, type="text")
    _child(item, "updated", _stamp(entry.updated))
    _child(item, "published", _stamp(meta.date))
    for name in meta.authors:
        _author(item, name)
    for subject in dict.fromkeys(meta.subjects):
        category = etree.SubElement(item, _atom("category"))
        category.set("term", subject)
    if meta.rights:
        _child(item, "rights", meta.rights, type="text")
    return item


def _acquirable(entries: list[Entry]) -> list[Entry]:
    """The entries an OPDS reader can download: an OPDS catalogue entry must have an acquisition link, so a
    brief published only as an HTML page is left out of the catalogue (it stays in the Atom feed)."""
    return [e for e in entries if _editions(e, OPDS_FORMATS)]


def _editions(entry: Entry, formats: Sequence[str]) -> list[Download]:
    """The entry's editions among ``formats``, in that order."""
    return [d for fmt in formats if (d := entry.download(fmt)) is not None]


def _edition_title(fmt: str, units: int) -> str:
    label = FORMAT_LABELS[fmt]
    return f"{label}, {units} page{'' if units == 1 else 's'}" if fmt == "pdf" else label


def _publisher(shelf: Shelf) -> str:
    return shelf.publisher or shelf.title


def _author(parent: etree._Element, name: str) -> None:
    author = etree.SubElement(parent, _atom("author"))
    _child(author, "name", name)


def _link(parent: etree._Element, rel: str, href: str, media_type: str, **extra: str) -> None:
    link = etree.SubElement(parent, _atom("link"))
    link.set("rel", rel)
    link.set("href", href)
    link.set("type", media_type)
    for key in sorted(extra):
        link.set(key, extra[key])


def _child(parent: etree._Element, name: str, text: str, **attributes: str) -> etree._Element:
    child = etree.SubElement(parent, _atom(name))
    for key in sorted(attributes):
        child.set(key, attributes[key])
    child.text = text
    return child


def _dc(parent: etree._Element, name: str, text: str) -> None:
    etree.SubElement(parent, f"{{{DC}}}{name}").text = text


def _atom(name: str) -> str:
    return f"{{{ATOM}}}{name}"


def _stamp(day: dt.date) -> str:
    """A date as Atom's date-time: midnight UTC of that day (the briefs give days, not times)."""
    return f"{day.isoformat()}T00:00:00Z"


def _serialise(feed: etree._Element) -> bytes:
    etree.indent(feed, space="  ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(feed, encoding="UTF-8") + b"\n"
