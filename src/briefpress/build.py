"""Build: load → render → the requested editions → release, written into the output folder atomically.

Nothing in the output folder changes unless every requested edition succeeds: each is written to a
temporary file beside its final name, and all are renamed into place at the end.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

from .editions import pages
from .editions.base import Edition, EditionInput, EditionResult
from .editions.pages import PageMap
from .editions.typeset import InProcess, Typesetter
from .errors import BriefError, Diagnostic, Diagnostics
from .load import load_brief
from .model import FORMATS
from .outputs import Output, temporary_beside
from .references import attach
from .release import write_release
from .render import Rendered, render_brief


def prepare(brief_dir: Path, diags: Diagnostics, strict: bool = False, paper: str | None = None) -> Rendered:
    """Load and render a brief, stopping with every problem found if it is broken."""
    brief = load_brief(brief_dir, diags)
    if brief is not None:
        brief = attach(brief, diags)
    if brief is not None and paper is not None:
        brief = replace(brief, metadata=replace(brief.metadata, paper=paper))
    rendered = render_brief(brief, diags) if brief is not None else None
    diags.check(strict)
    assert rendered is not None
    return rendered


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
          release: bool = False, typesetter: Typesetter | None = None) -> list[Output]:
    """Build ``formats`` of the brief into ``out_dir``. Nothing in ``out_dir`` changes unless all succeed.

    The editions are written in the order pdf, epub, html; the EPUB is handed the PDF's page map when the PDF
    is built too. With ``release``, also write ``SHA256SUMS`` and ``manifest.json`` over the files built.
    ``typesetter`` lays out the print edition (default: WeasyPrint in this process).
    """
    rendered = prepare(brief_dir, diags, strict, paper)
    if out_dir.exists() and not out_dir.is_dir():
        raise BriefError([Diagnostic(out_dir, None, "the output folder is a file")])
    typesetter = typesetter or InProcess()
    # Folders this build creates are removed again if it fails, so that a failure leaves no trace.
    created = [p for p in (out_dir, *out_dir.parents) if not p.exists()]
    out_dir.mkdir(parents=True, exist_ok=True)
    slug = rendered.brief.metadata.slug
    staged: list[tuple[Path, Path]] = []
    outputs: list[Output] = []
    page_map: PageMap | None = None  # the PDF's, handed to the EPUB; or the EPUB's own layout; kept at the end
    done = False
    try:
        for fmt in (f for f in FORMATS if f in formats):
            start = time.perf_counter()
            final = out_dir / f"{slug}.{fmt}"
            temp = temporary_beside(final)
            staged.append((temp, final))
            result: EditionResult = edition(fmt)(
                EditionInput(rendered, temp, diags, typesetter, out_dir, page_map))
            diags.check(strict)
            if result.page_map is not None:
                page_map = result.page_map
            outputs.append(Output(final, fmt, result.units, temp.stat().st_size, time.perf_counter() - start))
        for temp, final in staged:
            os.chmod(temp, 0o644)
            os.replace(temp, final)
        done = True
        if page_map is not None:
            pages.store(pages.cache_file(out_dir, slug), page_map)
    finally:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        for folder in [] if done else created:  # innermost first; one another build wrote into stays
            try:
                folder.rmdir()
            except OSError:
                break
    for output in outputs:
        if report is not None:
            report(output)
    if release:
        write_release(out_dir, rendered.brief.metadata, outputs)
    return outputs
