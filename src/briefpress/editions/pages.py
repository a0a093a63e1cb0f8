"""Page map: where each printed page of the PDF edition begins, kept between builds for the EPUB's page list.

The EPUB's page list cites the PDF's printed pages, so an EPUB needs the print edition laid out. A build
that makes the PDF hands its page map to the EPUB directly. One that makes the EPUB alone reads it from the
output folder's ``.briefpress-cache``, where every successful build leaves it, keyed by everything the layout
depends on (the print HTML, its stylesheets and generated files, WeasyPrint's and pyphen's versions), or
lays the brief out again. The system's Pango and HarfBuzz are not in the key: after upgrading them, delete
the output folder's ``.briefpress-cache`` (``make clean`` does). This module owns that folder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Collection

from ..model import PageStart
from ..outputs import write_atomic
from .typeset import PrintJob

CACHE_FOLDER = ".briefpress-cache"


@dataclass(frozen=True)
class PageMap:
    """The PDF edition's page starts, and the key of the layout they came from."""

    key: str
    starts: tuple[PageStart, ...]


def layout_key(job: PrintJob) -> str:
    """The key of everything a layout of ``job`` depends on."""
    return hashlib.sha256("\0".join([
        job.source, *(path.read_text(encoding="utf-8") for path in job.stylesheets),
        *map(_version, ("weasyprint", "pyphen")),
        *(f"{path}:{hashlib.sha256(data).hexdigest()}" for path, data in sorted(job.assets.items())),
    ]).encode("utf-8")).hexdigest()


def _version(package: str) -> str:
    """Stands for the version of a package the layout depends on: its ``__init__.py``, which names the
    version, hashed without importing the package."""
    spec = importlib.util.find_spec(package)
    origin = Path(spec.origin) if spec is not None and spec.origin else None
    return hashlib.sha256(origin.read_bytes()).hexdigest() if origin is not None else ""


def cache_file(out_dir: Path, slug: str) -> Path:
    """Where a brief's page map is kept in an output folder."""
    return out_dir / CACHE_FOLDER / f"{slug}.pages.json"


def any_kept(out_dir: Path) -> bool:
    """Whether an output folder keeps any page map (so that an EPUB build likely needs no layout)."""
    return any((out_dir / CACHE_FOLDER).glob("*.pages.json"))


def load(path: Path, key: str, sections: Collection[str]) -> PageMap | None:
    """The page map kept at ``path`` if it was made for ``key``; ``None`` if missing, stale or damaged."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if stored.get("key") != key:
            return None
        starts = tuple(PageStart(int(s["page"]), str(s["section"]), int(s["block"]), int(s["offset"]))
                       for s in stored["starts"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    if any(start.section not in sections or start.page < 1 or start.block < 0 or start.offset < 0
           for start in starts):
        return None  # not what a layout of this brief could have produced
    return PageMap(key, starts)


def store(path: Path, page_map: PageMap) -> None:
    """Keep a page map, once the build that made it has succeeded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps({"key": page_map.key, "starts": [asdict(s) for s in page_map.starts]}))
