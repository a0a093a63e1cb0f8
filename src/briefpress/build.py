"""Build: load → render → the requested editions → release, written into the output folder atomically.

Nothing in the output folder changes unless every requested edition succeeds: each is written to a
temporary file beside its final name, and all are renamed into place together at the end, or none is
(``outputs.Staging``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Generator

from .cache import Cache
from .editions import pages
from .editions.base import Edition, EditionInput, EditionResult
from .editions.pages import PageMap
from .editions.typeset import InProcess, Typesetter
from .errors import BriefError, Diagnostic, Diagnostics
from .load import load_brief
from .model import FORMATS
from .outputs import Output, Staging, stale, writing
from .references import attach
from .release import release_files, release_names
from .render import Rendered, render_brief


def prepare(brief_dir: Path, diags: Diagnostics, strict: bool = False, paper: str | None = None,
            cache: Cache | None = None) -> Rendered:
    """Load and render a brief, stopping with every problem found if it is broken. ``cache`` may hold the
    brief's formatted citations from an earlier build."""
    brief = load_brief(brief_dir, diags)
    if brief is not None:
        brief = attach(brief, diags)
    if brief is not None and paper is not None:
        brief = replace(brief, metadata=replace(brief.metadata, paper=paper))
    rendered = render_brief(brief, diags, cache) if brief is not None else None
    diags.check(strict)
    assert rendered is not None
    return rendered


def begin(fmt: str, inp: EditionInput) -> Callable[[], EditionResult]:
    """Begin writing one edition; return the function that finishes it (only the PDF's may be laid out
    elsewhere meanwhile: ``pdf.begin``)."""
    if fmt == "pdf":
        from .editions import pdf
        return pdf.begin(inp)
    result = edition(fmt)(inp)
    return lambda: result


def edition(fmt: str) -> Edition:
    """The ``write`` function of an edition. Each is imported when asked for: an HTML-only build (``watch``)
    need not import ebooklib."""
    if fmt == "pdf":
        from .editions import pdf
        return pdf.write
    if fmt == "epub":
        from .editions import epub
        return epub.write
    from .editions import html
    return html.write


def build(brief_dir: Path, formats: tuple[str, ...], out_dir: Path, diags: Diagnostics, strict: bool = False,
          paper: str | None = None, report: Callable[[Output], None] | None = None,
          release: bool = False, typesetter: Typesetter | None = None,
          cache_dir: Path | None = None) -> list[Output]:
    """Build ``formats`` of the brief into ``out_dir``. Nothing in ``out_dir`` changes unless all succeed.

    The editions are written in the order pdf, epub, html; the EPUB is handed the PDF's page map when the PDF
    is built too. With ``release``, also write ``SHA256SUMS`` and ``manifest.json`` over the files built.
    ``typesetter`` lays out the print edition (default: WeasyPrint in this process). ``report`` is told of
    each output once all are in place. The cache of deterministic work is the output folder's, or the one
    kept in ``cache_dir`` (a shelf keeps each brief's beside the site).
    """
    cache = Cache.at(cache_dir) if cache_dir is not None else output_cache(out_dir)
    rendered = prepare(brief_dir, diags, strict, paper, cache)
    return write_editions(rendered, formats, out_dir, diags, strict, report, release, typesetter, cache)


def output_cache(out_dir: Path) -> Cache:
    """The cache an output folder keeps (none if the folder is a file: the build then stops, saying so)."""
    return Cache(out_dir if not out_dir.exists() or out_dir.is_dir() else None)


def write_editions(rendered: Rendered, formats: tuple[str, ...], out_dir: Path, diags: Diagnostics,
                   strict: bool = False, report: Callable[[Output], None] | None = None, release: bool = False,
                   typesetter: Typesetter | None = None, cache: Cache | None = None) -> list[Output]:
    """Write ``formats`` of a brief rendered once (``prepare``) into ``out_dir``, as ``build`` does: ``watch``
    writes the HTML edition, then the PDF, from one rendering."""
    return Underway(_writing(rendered, formats, out_dir, diags, strict, report, release, typesetter,
                             cache)).finish()


class Underway:
    """A brief's editions begun (``begin_editions``): where the typesetter lays the PDF out elsewhere (the
    printer), the HTML is written and the build waits here for the PDF, so that the caller may do other
    work meanwhile (a shelf renders its next brief) before ``finish``. ``abandon`` undoes what was begun."""

    def __init__(self, steps: Generator[None, None, list[Output]]):
        self._steps = steps
        self._outputs: list[Output] | None = None
        self._advance()

    def _advance(self) -> None:
        try:
            next(self._steps)
        except StopIteration as done:
            self._outputs = done.value

    def finish(self) -> list[Output]:
        """Wait for the PDF, write the EPUB, and put every output in place; what ``write_editions`` gives."""
        while self._outputs is None:
            self._advance()
        return self._outputs

    def abandon(self) -> None:
        """Stop, leaving the output folder as it was."""
        self._steps.close()


def begin_editions(rendered: Rendered, formats: tuple[str, ...], out_dir: Path, diags: Diagnostics,
                   strict: bool = False, release: bool = False, typesetter: Typesetter | None = None,
                   cache: Cache | None = None) -> Underway:
    """``write_editions`` begun: up to the wait for the PDF, if it is laid out elsewhere."""
    return Underway(_writing(rendered, formats, out_dir, diags, strict, None, release, typesetter, cache))


def _writing(rendered: Rendered, formats: tuple[str, ...], out_dir: Path, diags: Diagnostics, strict: bool,
             report: Callable[[Output], None] | None, release: bool, typesetter: Typesetter | None,
             cache: Cache | None) -> Generator[None, None, list[Output]]:
    """``write_editions`` in steps: it pauses once, where it would wait for a PDF laid out elsewhere."""
    cache = cache if cache is not None else output_cache(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise BriefError([Diagnostic(out_dir, None, "the output folder is a file")])
    typesetter = typesetter or InProcess()
    slug = rendered.brief.metadata.slug
    chosen = [fmt for fmt in FORMATS if fmt in formats]
    finals = [out_dir / f"{slug}.{fmt}" for fmt in chosen] + [out_dir / name for name in release_names(slug) if release]
    Staging.check(finals)  # before the work, which may take minutes, and before anything is written
    # Folders this build creates are removed again if it fails, so that a failure leaves no trace.
    created = [p for p in (out_dir, *out_dir.parents) if not p.exists()]
    out_dir.mkdir(parents=True, exist_ok=True)
    # What a killed build of this brief left: the temporary files of its outputs, and of its page map.
    stale([*(out_dir / f"{slug}.{fmt}" for fmt in FORMATS), *(out_dir / name for name in release_names(slug)),
           pages.cache_file(out_dir, slug)])
    staging = Staging()
    outputs: list[Output] = []
    page_map: PageMap | None = None  # the PDF's, handed to the EPUB; or the EPUB's own layout; kept at the end
    done = False
    try:
        # The PDF is begun first and, where the typesetter lays it out elsewhere (the printer), the HTML is
        # written meanwhile; the EPUB comes once the PDF is done, for its page map.
        def record(fmt: str, final: Path, temp: Path, start: float, finish: Callable[[], EditionResult]) -> None:
            nonlocal page_map
            with writing(final):
                result = finish()
            diags.check(strict)
            if result.page_map is not None:
                page_map = result.page_map
            outputs.append(Output(final, fmt, result.units, temp.stat().st_size, time.perf_counter() - start))

        pending: list[tuple[str, Path, Path, float, Callable[[], EditionResult]]] = []  # the PDF, begun
        order = ("pdf", "html", "epub") if "pdf" in chosen else FORMATS
        for fmt, final in sorted(zip(chosen, finals), key=lambda pair: order.index(pair[0])):
            if fmt == "epub" and pending:
                yield  # the PDF is laid out meanwhile
                record(*pending.pop())
            start = time.perf_counter()
            temp = staging.add(final)
            with writing(final):
                finish = begin(fmt, EditionInput(rendered, temp, diags, typesetter, out_dir, page_map, cache))
            if fmt == "pdf":
                pending.append((fmt, final, temp, start, finish))
            else:
                record(fmt, final, temp, start, finish)
        if pending:
            yield
            record(*pending.pop())
        outputs.sort(key=lambda output: chosen.index(output.fmt))
        if release:
            staged = {output.path: staging.temporary(output.path) for output in outputs}
            files = release_files(rendered.brief.metadata, outputs, staged)
            for name, text in files.items():
                with writing(out_dir / name):
                    staging.add(out_dir / name).write_text(text, encoding="utf-8", newline="\n")
        staging.commit()
        done = True
    finally:
        staging.discard()
        for folder in [] if done else created:  # innermost first; one another build wrote into stays
            try:
                folder.rmdir()
            except OSError:
                break
    cache.flush()
    if page_map is not None:
        try:
            pages.store(pages.cache_file(out_dir, slug), page_map)
        except (OSError, BriefError):  # only a cache: the next build lays the brief out again
            pass
    for output in outputs:
        if report is not None:
            report(output)
    return outputs
