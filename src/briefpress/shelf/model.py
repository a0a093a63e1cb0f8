"""What the shelf's parts pass each other: the shelf's settings and one entry per brief, as frozen dataclasses.

Every path in an entry is relative to the shelf's root folder, written with ``/``; feeds and cards make them
absolute with ``Shelf.url``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..model import Metadata

#: The media type of each edition, as feeds and download links announce it.
MEDIA_TYPES = {"pdf": "application/pdf", "epub": "application/epub+zip", "html": "text/html"}
#: The media type of the OPDS catalogue's root, as feeds and pages link it.
OPDS_NAVIGATION = "application/atom+xml;profile=opds-catalog;kind=navigation"


@dataclass(frozen=True)
class Shelf:
    """What ``shelf.yaml`` says (or, without one, what the one brief implies)."""

    title: str
    publisher: str
    #: Absolute http(s) URL of the shelf's root folder, ending with ``/``.
    base_url: str
    lang: str
    #: The brief folders to publish, in the order found (the shelf lists them newest first).
    briefs: tuple[Path, ...]
    #: The file the settings come from (None: no ``shelf.yaml``), for error messages.
    source: Path | None = None

    def url(self, path: str) -> str:
        """The absolute URL of a file of the shelf, given by its path relative to the root."""
        return self.base_url + path


@dataclass(frozen=True)
class Download:
    """One edition of a brief as published on the shelf."""

    fmt: str  # pdf, epub or html
    path: str  # relative to the shelf's root, e.g. "kazakhstan-2022/kazakhstan-2022.pdf"
    size: int  # bytes
    units: int  # pages (PDF), content documents (EPUB), sections (HTML)
    sha256: str

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.fmt]


@dataclass(frozen=True)
class Entry:
    """One brief on the shelf."""

    metadata: Metadata
    landing: str  # the landing page, e.g. "kazakhstan-2022/index.html"
    #: The 1200x630 PNG link previews show (Open Graph, Twitter), and nothing else: it is not the cover.
    card: str  # e.g. "kazakhstan-2022/card.png"
    #: The cover in a book's shape, at full size: what e-book apps show from the OPDS catalogue.
    cover: str  # e.g. "kazakhstan-2022/cover.png"
    thumbnail: str  # the cover, smaller, e.g. "kazakhstan-2022/cover-thumb.png"
    downloads: tuple[Download, ...]

    @property
    def slug(self) -> str:
        return self.metadata.slug

    @property
    def updated(self) -> dt.date:
        return self.metadata.last_modified

    def download(self, fmt: str) -> Download | None:
        return next((d for d in self.downloads if d.fmt == fmt), None)


def newest_first(entries: Sequence[Entry]) -> list[Entry]:
    """The briefs in the shelf's order, on its index and in its feeds: last modified first, then by date, then
    by slug."""
    return sorted(entries, key=lambda e: (-e.updated.toordinal(), -e.metadata.date.toordinal(), e.slug))


def cache_folder(out_dir: Path) -> Path:
    """Where a shelf keeps its briefs' caches between builds: beside the site (which is replaced whole, and
    published), in ``.<site>.cache``, one folder a brief."""
    return out_dir.parent / f".{out_dir.name}.cache"
