"""``briefpress shelf``: every brief built and published as one static site, all or nothing.

Each brief is built as ``briefpress build --release`` builds it (the same bytes), into a staging folder inside
a new site folder beside the output folder; the site is assembled there (pages, covers, feeds, sitemap) and
then put in the output folder's place. If any brief fails, every brief's problems are reported and the output
folder is left as it was.

The site, relative to its root::

    index.html  feed.atom  opds/root.xml  opds/briefs.xml  sitemap.xml  .briefpress-shelf
    <slug>/index.html  <slug>/<slug>.pdf|.epub|.html  <slug>/SHA256SUMS  <slug>/manifest.json
    <slug>/<slug>.bib|.json  <slug>/cover.png  <slug>/cover-thumb.png  <slug>/card.png
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..build import Underway, begin_editions, prepare
from ..cache import Cache
from ..editions.epub import own_cover_name
from ..editions.typeset import Typesetter
from ..errors import BriefError, Diagnostic, Diagnostics
from ..exits import deferred
from ..load import load_brief, parse_yaml, read_text
from ..model import FORMATS, Metadata
from ..outputs import Output
from ..release import CITATION_SUFFIXES, release_names, sha256
from . import covers, feeds, pages
from . import kept as kept_briefs
from .model import Download, Entry, Shelf, cache_folder, newest_first

try:
    import fcntl
except ImportError:  # Windows: nothing is locked, and no folder is taken for one left by a killed build
    fcntl = None  # type: ignore[assignment]

#: The file that marks a folder as a shelf this command wrote, and so one it may replace whole.
MARKER = ".briefpress-shelf"
MARKER_TEXT = ("Written by `briefpress shelf`. The next `briefpress shelf` replaces this whole folder: "
               "keep nothing else in it.\n")
@dataclass(frozen=True)
class Built:
    """One brief built into the staging folder."""

    folder: Path
    metadata: Metadata
    outputs: tuple[Output, ...]
    staging: Path
    cache: Path  # its cache, kept beside the site between the shelf's builds


def build_shelf(shelf: Shelf, out_dir: Path, diags: Diagnostics, strict: bool = False,
                typesetter: Typesetter | None = None) -> list[Entry]:
    """Build every brief of ``shelf`` and publish them as a site in ``out_dir``; return the entries, newest
    first. Nothing in ``out_dir`` changes unless every brief builds."""
    out_dir = Path(os.path.abspath(out_dir))
    _check_output(out_dir)
    metadata = _metadata(shelf, diags)
    # Folders made for the output folder are removed again if the build fails, so that it leaves no trace.
    created = [p for p in out_dir.parents if not p.exists()]
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(out_dir)
    with deferred():  # made and locked together, so that it is removed whatever happens
        new = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".new", dir=out_dir.parent))
        lock = _lock(new)
    done = False
    caches = cache_folder(out_dir)
    fresh_caches = not caches.exists()  # made by this build: removed if it fails
    try:
        built = _build_all(shelf, metadata, new / ".staging", diags, strict, typesetter, caches)
        entries = _assemble(shelf, built, new, diags, caches)
        shutil.rmtree(new / ".staging")
        os.chmod(new, 0o755)
        _replace(new, out_dir)
        done = True
    finally:
        with deferred():
            if lock is not None:
                os.close(lock)
            shutil.rmtree(new, ignore_errors=True)
            if not done and fresh_caches:
                shutil.rmtree(caches, ignore_errors=True)
            for folder in [] if done else created:  # innermost first; one another build wrote into stays
                try:
                    folder.rmdir()
                except OSError:
                    break
    return entries


def _check_output(out_dir: Path) -> None:
    """Refuse an output folder that this command did not write: the whole folder is replaced."""
    if os.path.lexists(out_dir) and not out_dir.is_dir():
        raise BriefError([Diagnostic(out_dir, None, "the output folder is a file")])
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        raise BriefError([Diagnostic(out_dir, None, f"the output folder holds files and no {MARKER}: it was not "
                                                    "written by briefpress shelf, which replaces the whole folder; "
                                                    "choose another --out, or empty it")])


def _metadata(shelf: Shelf, diags: Diagnostics) -> list[Metadata | None]:
    """Each brief's metadata, read before the builds (which report what is wrong with a brief), to find two
    briefs with one slug before any is built."""
    if not shelf.briefs:
        diags.error(shelf.source, None, "the shelf lists no brief")
    found: list[Metadata | None] = []
    owners: dict[str, Path] = {}
    for folder in shelf.briefs:
        brief = load_brief(folder, Diagnostics())
        meta = brief.metadata if brief is not None else None
        found.append(meta)
        if meta is None:
            continue
        if meta.slug in owners:
            path = folder / "brief.yaml"
            diags.error(path, _line_of(path, "slug"),
                        f"slug '{meta.slug}' is also the slug of {os.path.relpath(owners[meta.slug])}/ "
                        f"(and of {os.path.relpath(folder)}/): each brief on a shelf needs its own slug, "
                        "its folder on the site")
        else:
            owners[meta.slug] = folder
    diags.check()
    return found


def _line_of(path: Path, key: str) -> int | None:
    """The line of a top-level key of a YAML file, if it has that key."""
    scratch = Diagnostics()
    text = read_text(path, scratch)
    doc = parse_yaml(text, path, scratch) if text is not None else None
    if doc is None or not isinstance(doc.value, dict) or key not in doc.value:
        return None
    return doc.line(key)


def _build_all(shelf: Shelf, metadata: Sequence[Metadata | None], staging: Path, diags: Diagnostics,
               strict: bool, typesetter: Typesetter | None, caches: Path) -> list[Built]:
    """Build every brief with its release files, each into its own staging folder, each with its own cache
    kept from the last build of the shelf (a brief whose folder has not changed since is copied from it:
    ``kept``); go on past a brief that fails, so that every brief's problems are reported together, in the
    shelf's order.

    Where the typesetter lays PDFs out elsewhere (the printer), the briefs overlap: while one brief's PDF is
    laid out, the next brief is rendered and the one before's pictures are drawn (``_Pipeline``)."""
    pipeline = _Pipeline(strict, typesetter)
    try:
        for index, (folder, meta) in enumerate(zip(shelf.briefs, metadata)):
            target = staging / str(index)
            kept = caches / hashlib.sha256(str(Path(os.path.abspath(folder))).encode("utf-8")).hexdigest()[:16]
            entry = kept_briefs.entry(folder, strict)
            reused = kept_briefs.load(Cache.at(kept), entry, target) if entry is not None else None
            if reused is not None:  # not changed since the shelf's last build: its files as they were
                outputs, items = reused
                assert meta is not None  # it loaded, since it was built
                pipeline.results[index] = (list(items), Built(folder, meta, tuple(outputs), target, kept))
            else:
                assert meta is not None
                pipeline.add(index, folder, meta, target, kept, entry)
        pipeline.finish()
    finally:
        pipeline.abandon()
    built: list[Built] = []
    for index in sorted(pipeline.results):
        items, brief = pipeline.results[index]
        diags.add(*items)
        if brief is not None:
            built.append(brief)
    diags.check(strict)
    return built


class _Pipeline:
    """The briefs of a shelf built in turn, each begun before the last is finished: a brief is rendered
    while the last one's PDF is laid out (by the printer, if it lays out elsewhere), then the last one is
    finished (its EPUB, which needs the PDF's page map), then this one's PDF is begun and its HTML written,
    and the last one's pictures are drawn while this PDF is laid out. The same bytes as built one by one."""

    def __init__(self, strict: bool, typesetter: Typesetter | None):
        self.strict = strict
        self.typesetter = typesetter
        #: By the brief's place in the shelf: what its build reported, and the brief, if it was built.
        self.results: dict[int, tuple[list[Diagnostic], Built | None]] = {}
        self.pending: tuple[int, Path, Metadata, Path, Path, str | None, Diagnostics, Underway] | None = None

    def add(self, index: int, folder: Path, meta: Metadata, target: Path, kept: Path, entry: str | None) -> None:
        own = Diagnostics()
        cache = Cache.at(kept)
        try:
            rendered = prepare(folder, own, self.strict, None, cache)
        except BriefError as exc:
            self.results[index] = (list(exc.diagnostics), None)
            return
        finished = self.finish()
        try:
            underway = begin_editions(rendered, FORMATS, target, own, strict=self.strict, release=True,
                                      typesetter=self.typesetter, cache=cache)
        except BriefError as exc:
            self.results[index] = (list(exc.diagnostics), None)
        else:
            self.pending = (index, folder, meta, target, kept, entry, own, underway)
        if finished is not None:
            _draw_ahead(finished)

    def finish(self) -> Built | None:
        """Finish the brief begun last, if any; the brief, if it was built."""
        if self.pending is None:
            return None
        index, folder, meta, target, kept, entry, own, underway = self.pending
        self.pending = None
        try:
            outputs = underway.finish()
        except BriefError as exc:
            self.results[index] = (list(exc.diagnostics), None)
            return None
        if entry is not None:
            kept_briefs.keep(Cache.at(kept), entry, outputs,
                             [o.path.name for o in outputs] + list(release_names(meta.slug)), target, own.items)
        brief = Built(folder, meta, tuple(outputs), target, kept)
        self.results[index] = (list(own.items), brief)
        return brief

    def abandon(self) -> None:
        """Undo the brief begun last, if it was not finished (the shelf was stopped)."""
        if self.pending is not None:
            self.pending[-1].abandon()
            self.pending = None


def _draw_ahead(brief: Built) -> None:
    """Draw a brief's pictures into its cache, where ``_assemble`` finds them; one that cannot be drawn is
    left for ``_assemble`` to report."""
    try:
        kept_briefs.drawn_covers(Cache.at(brief.cache), brief.metadata,
                                 brief.staging / f"{brief.metadata.slug}.epub", tuple(o.fmt for o in brief.outputs))
    except covers.CoverError:
        pass


def _assemble(shelf: Shelf, built: Sequence[Built], site: Path, diags: Diagnostics, caches: Path) -> list[Entry]:
    """Lay out the site in ``site``: each brief's files, covers and landing page; the index, feeds, sitemap."""
    entries: list[Entry] = []
    editions: dict[str, str] = {}
    for brief in built:
        slug = brief.metadata.slug
        folder = site / slug
        folder.mkdir()
        for name in [output.path.name for output in brief.outputs] + list(release_names(slug)):
            os.replace(brief.staging / name, folder / name)
        downloads = tuple(Download(o.fmt, f"{slug}/{o.path.name}", o.size, o.units, sha256(folder / o.path.name))
                          for o in brief.outputs)
        try:
            drawn = kept_briefs.drawn_covers(Cache.at(brief.cache), brief.metadata, folder / f"{slug}.epub",
                                             tuple(o.fmt for o in brief.outputs))
        except covers.CoverError as exc:
            own = own_cover_name(brief.folder)  # the brief's own image, else the one its design drew
            diags.error(brief.folder / own if own else brief.folder, None, str(exc))
            continue
        (folder / "cover.png").write_bytes(drawn.cover)
        (folder / "cover-thumb.png").write_bytes(drawn.thumbnail)
        (folder / "card.png").write_bytes(drawn.card)
        entries.append(Entry(brief.metadata, f"{slug}/index.html", card=f"{slug}/card.png", cover=f"{slug}/cover.png",
                             thumbnail=f"{slug}/cover-thumb.png", downloads=downloads))
        editions[slug] = (folder / f"{slug}.html").read_text(encoding="utf-8")
    diags.check()
    entries = newest_first(entries)
    folders = {brief.metadata.slug: brief.folder for brief in built}
    for entry in entries:
        citation = [f"{entry.slug}/{entry.slug}{suffix}" for suffix in CITATION_SUFFIXES]
        templates = folders[entry.slug] / "templates"
        page = pages.landing_page(shelf, entry, editions[entry.slug], citation,
                                  templates if templates.is_dir() else folders[entry.slug])
        _write(site / entry.landing, page.encode("utf-8"))
    kept = Cache.at(caches / "site")  # the index's font subsets
    _write(site / "index.html", pages.index_page(shelf, entries, kept).encode("utf-8"))
    kept.flush()
    _write(site / pages.ATOM, feeds.atom_feed(shelf, entries, path=pages.ATOM))
    _write(site / pages.OPDS_ROOT, feeds.opds_root(shelf, entries, path=pages.OPDS_ROOT,
                                                   acquisition=pages.OPDS_ACQUISITION))
    _write(site / pages.OPDS_ACQUISITION, feeds.opds_acquisition(shelf, entries, path=pages.OPDS_ACQUISITION,
                                                                 root=pages.OPDS_ROOT))
    _write(site / "sitemap.xml", pages.sitemap(shelf, entries))
    _write(site / MARKER, MARKER_TEXT.encode("utf-8"))
    return entries


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _lock(folder: Path) -> int | None:
    """Hold ``folder`` locked while this build writes it: one that nobody holds was left by a killed build."""
    if fcntl is None:
        return None
    fd = os.open(folder, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def _remove_stale(out_dir: Path) -> None:
    """Remove what a killed build of this shelf left beside ``out_dir``: a new site folder nobody holds, or the
    previous site, renamed aside."""
    if fcntl is None:
        return
    pattern = re.compile(rf"\.{re.escape(out_dir.name)}\.[a-z0-9_]{{8}}\.(new|old)")
    for name in os.listdir(out_dir.parent):
        candidate = out_dir.parent / name
        if not pattern.fullmatch(name) or candidate.is_symlink() or not candidate.is_dir():
            continue
        try:
            fd = os.open(candidate, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a build under way
        finally:
            os.close(fd)
        shutil.rmtree(candidate, ignore_errors=True)


def _replace(new: Path, out_dir: Path) -> None:
    """Put the new site in ``out_dir``'s place: the old one is renamed aside, then removed (or put back if the
    new one cannot be renamed in)."""
    with deferred():
        if not os.path.lexists(out_dir):
            os.replace(new, out_dir)
            return
        aside = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old", dir=out_dir.parent))
        os.rmdir(aside)
        os.replace(out_dir, aside)
        try:
            os.replace(new, out_dir)
        except OSError:
            os.replace(aside, out_dir)
            raise
        shutil.rmtree(aside, ignore_errors=True)
