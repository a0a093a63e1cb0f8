"""A long brief's parts kept between builds: after an edit, only the parts it changed are laid out again.

A long brief is laid out in parts (``typeset._in_parts``), each drawn into a PDF of its own and then joined.
A part's PDF depends only on its HTML (with the pages of its links to earlier parts filled in), its first
page and note numbers, the stylesheets and fonts, the brief's folder, identifier and date, this package and
the versions of what lays it out. Under a key of all of these, each part is kept in the output folder's
cache with what its layout found: its page count, where its pages begin, the pages of its ids, the
diagnostics it reported and the SHA-256 of every file it read. A kept part is used only while each of those
files is unchanged, so the joined PDF is the one a cold build makes, byte for byte (tested).

The front (cover and contents, numbered apart) is kept too, its PDF under a key of its HTML with the
sections' page numbers filled in. An edit that leaves every page where it was lays out the part it changed
and joins; one that moves pages lays out the parts after it as well (their pages are numbered on), and the
front if a page it prints has changed.

The layout happens where the typesetter runs (the printer process): it reads the cache, and hands the
entries it made back with its result (``Typeset.kept``), for the build to keep once it succeeds, as every
other entry is kept.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from ..cache import Cache, key, package_code, version
from ..errors import Diagnostic
from ..model import PageStart
from ..resources import ResourcePolicy

#: The cache's kind for a long brief's parts.
KIND = "part"
#: What a part's bytes depend on besides its own text: the packages that lay it out, draw it and ship its fonts.
LAYOUT_PACKAGES = ("weasyprint", "pydyf", "tinycss2", "cssselect2", "tinyhtml5", "pyphen", "font-source-serif-pro",
                   "font-source-sans-pro")


@dataclass(frozen=True)
class LaidPart:
    """What is kept of one part: its PDF, and what its layout found."""

    pages: int
    starts: tuple[PageStart, ...] = ()  # numbered in the whole document
    anchors: Mapping[str, int] = field(default_factory=dict)  # the page of each id, in the whole document
    diagnostics: tuple[Diagnostic, ...] = ()
    reads: Mapping[str, str] = field(default_factory=dict)  # every file its layout read, with its SHA-256
    pdf: bytes = b""

    def pack(self) -> bytes:
        header = {"pages": self.pages, "starts": [[s.page, s.section, s.block, s.offset] for s in self.starts],
                  "anchors": dict(self.anchors), "diagnostics": [d.to_json() for d in self.diagnostics],
                  "reads": dict(self.reads)}
        return json.dumps(header, sort_keys=True).encode("utf-8") + b"\n" + self.pdf

    @classmethod
    def unpack(cls, content: bytes) -> LaidPart | None:
        head, _, pdf = content.partition(b"\n")
        try:
            header = json.loads(head)
            return cls(int(header["pages"]), tuple(PageStart(int(p), str(s), int(b), int(o))
                                                    for p, s, b, o in header["starts"]),
                       {str(name): int(page) for name, page in header["anchors"].items()},
                       tuple(Diagnostic.from_json(item) for item in header["diagnostics"]),
                       {str(path): str(digest) for path, digest in header["reads"].items()}, pdf)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


class KeptParts:
    """The parts kept for one print job, and the entries made for it while it is laid out (``made``).
    ``common`` is what every part of the job depends on (``typeset`` gives it); ``policy`` reads the files."""

    def __init__(self, folder: Path | None, policy: ResourcePolicy, common: tuple[str, ...]):
        self.cache = Cache.at(folder) if folder is not None else None
        self.policy = policy
        self.common = (package_code(), version(*LAYOUT_PACKAGES), os.environ.get("SOURCE_DATE_EPOCH", ""), *common)
        self.made: list[tuple[str, bytes]] = []

    def entry(self, what: str, source: str, first_page: int = 0, notes_before: int = 0) -> str:
        """The key of a part (``what``: front, run) of HTML ``source`` numbered on from the pages and
        notes given."""
        return key(KIND, what, *self.common, str(first_page), str(notes_before), source)

    def get(self, entry: str) -> LaidPart | None:
        """The part kept under ``entry``; ``None`` if there is none or a file its layout read has changed."""
        if self.cache is None:
            return None
        content = self.cache.get(KIND, entry)
        part = LaidPart.unpack(content) if content is not None else None
        return part if part is not None and self.policy.unchanged(part.reads) else None

    def keep(self, entry: str, part: LaidPart) -> None:
        """Hand ``part`` back to the build to keep (nothing, if the job names no cache)."""
        if self.cache is not None:
            self.made.append((entry, part.pack()))


def keep_all(cache: Cache, made: tuple[tuple[str, bytes], ...]) -> None:
    """Keep, in the build's cache, the parts a layout made (``Typeset.kept``), once the build succeeds."""
    for entry, content in made:
        cache.put(KIND, entry, content)
