"""Page map: where each printed page of the PDF begins, so the EPUB's page list cites the same pages.

A page begins at the first block (paragraph, list item, table row, heading, figure…) that starts on
it. Blocks are counted in the same order in every format, so a block's number finds it in the EPUB.
Laying the brief out costs seconds, so the map is kept in the output folder, keyed by what the layout
depends on (the print HTML, its stylesheets and generated files, WeasyPrint's and pyphen's versions),
and computed again only when one of them changes. The system's Pango and HarfBuzz are not in the key:
after upgrading them, delete the output folder's ``.briefpress-cache`` (``make clean`` does).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the printer process imports this module, and neither Jinja nor markdown-it
    from .errors import Diagnostics
    from .render import Rendered

BLOCK_TAGS = frozenset({"p", "li", "tr", "h2", "h3", "h4", "h5", "h6", "figure", "blockquote", "pre"})
CACHE_FOLDER = ".briefpress-cache"


@dataclass(frozen=True)
class PageStart:
    """Printed page ``page`` begins at block ``block`` of section ``section`` (0: the section's title)."""

    page: int
    section: str
    block: int


def page_map(rendered: Rendered, out_dir: Path, diags: Diagnostics, shared: dict) -> list[PageStart]:
    """Return where each page of the PDF edition begins, laying the brief out only if needed."""
    if "page_starts" in shared:  # the PDF writer of this build has just laid the brief out
        return shared["page_starts"]
    key, cache = _cache(rendered, out_dir, shared)
    try:
        stored = json.loads(cache.read_text(encoding="utf-8"))
        if stored.get("key") == key:
            return _checked(rendered, stored["starts"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass  # no cache, or one that is stale or damaged: lay the brief out again
    from .pdf import paginate

    return remember(rendered, paginate(rendered, diags, shared), shared)


def remember(rendered: Rendered, starts: list[PageStart], shared: dict) -> list[PageStart]:
    """Keep a build's page map, to be stored once the whole build has succeeded.

    The PDF writer calls this too, so that an EPUB built after the PDF finds its page map ready.
    """
    shared["page_starts"] = starts
    if "out_dir" in shared:
        key, cache = _cache(rendered, shared["out_dir"], shared)
        shared["pending_page_map"] = (cache, {"key": key, "starts": [start.__dict__ for start in starts]})
    return starts


def page_map_key(rendered: Rendered, shared: dict) -> None:
    """Work the page map's key out ahead, while the build would otherwise wait (see ``_cache``)."""
    if "out_dir" in shared:
        _cache(rendered, shared["out_dir"], shared)


def _checked(rendered: Rendered, stored: list) -> list[PageStart]:
    """Page starts read back from the cache, refusing anything a layout could not have produced."""
    sections = {part.id for part in rendered.sections}
    starts = [PageStart(int(s["page"]), str(s["section"]), int(s["block"])) for s in stored]
    if any(start.section not in sections or start.page < 1 or start.block < 0 for start in starts):
        raise ValueError("page map does not fit the brief")
    return starts


def _cache(rendered: Rendered, out_dir: Path, shared: dict) -> tuple[str, Path]:
    """The key of everything the layout depends on, and the cache file of this brief's page map.

    The key is worked out once per build; from the HTML this build's PDF was typeset from, if there is one.
    """
    if "page_map_key" not in shared:
        from .assemble import Assembler, stylesheet
        from .pdf import STYLESHEETS, font_faces  # no WeasyPrint import here

        html = shared.get("pdf_source") or Assembler(rendered).pdf(font_faces())
        shared["page_map_key"] = hashlib.sha256("\0".join([
            html, *(stylesheet(rendered, name) for name in STYLESHEETS), *map(_version, ("weasyprint", "pyphen")),
            *(f"{path}:{hashlib.sha256(data).hexdigest()}" for path, data in sorted(rendered.assets.items())),
        ]).encode("utf-8")).hexdigest()
    return shared["page_map_key"], out_dir / CACHE_FOLDER / f"{rendered.brief.metadata.slug}.pages.json"


def _version(package: str) -> str:
    """Stands for the version of a package the layout depends on (WeasyPrint, and pyphen, whose patterns
    decide where words break): its ``__init__.py``, which names the version, hashed without importing
    either the package or importlib.metadata (25 ms)."""
    spec = importlib.util.find_spec(package)
    origin = Path(spec.origin) if spec is not None and spec.origin else None
    return hashlib.sha256(origin.read_bytes()).hexdigest() if origin is not None else ""


def starts_of(laid_out: Any) -> list[PageStart]:
    """Where each page of a layout (of the brief, or of one part of it) begins."""
    numbers: dict[Any, tuple[str, int]] = {}
    for section in laid_out.root.iter():
        if _tag(section) != "section" or "section" not in (section.get("class") or "").split():
            continue
        count = 0
        for element in section.iter():
            tag = _tag(element)
            if tag == "h1":
                numbers[element] = (section.get("id"), 0)
            elif tag in BLOCK_TAGS:
                count += 1
                numbers[element] = (section.get("id"), count)
    seen: set[Any] = set()
    starts = []
    for index, page in enumerate(laid_out.document.pages):
        first = None
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if element in numbers and element not in seen:
                seen.add(element)
                first = first or numbers[element]
        if first is not None:
            starts.append(PageStart(laid_out.first_page + index, *first))
    return starts


def _tag(element: Any) -> str:
    return element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""


def store_pending(shared: dict) -> None:
    """Keep a page map computed during a build that has now succeeded."""
    if "pending_page_map" in shared:
        _store(*shared.pop("pending_page_map"))


def _store(cache: Path, data: dict) -> None:
    from .build import write_atomic

    cache.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(cache, json.dumps(data))
