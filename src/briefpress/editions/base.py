"""The interface every edition shares: ``write(EditionInput) -> EditionResult``.

``build`` calls each requested edition's ``write`` with the same typed input. The PDF edition's result
carries its page map (where each printed page begins); ``build`` hands it to the EPUB, whose page list
cites the same pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..cache import Cache
from ..errors import Diagnostics
from ..render import Rendered
from .pages import PageMap
from .typeset import Typesetter


@dataclass(frozen=True)
class EditionInput:
    """What an edition is given to write."""

    rendered: Rendered
    target: Path  # the file to write (a temporary file, renamed into place once every edition succeeds)
    diags: Diagnostics
    typesetter: Typesetter  # lays out print jobs: the PDF, and the EPUB's page list
    out_dir: Path  # the output folder, whose cache may keep a page map from an earlier build
    page_map: PageMap | None = None  # the PDF edition's, when this build has just made it
    cache: Cache | None = None  # the output folder's cache of deterministic work (font subsets)


@dataclass(frozen=True)
class EditionResult:
    """What an edition reports once written."""

    fmt: str
    units: int  # pages (PDF), content documents (EPUB) or sections (HTML)
    page_map: PageMap | None = None  # a page map laid out by this edition, to keep once the build succeeds


class Edition(Protocol):
    """An edition's ``write`` function."""

    def __call__(self, inp: EditionInput) -> EditionResult:
        ...
