"""Build: load, render, then write each requested format into the output folder, atomically."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .errors import BriefError, Diagnostic, Diagnostics
from .load import load_brief
from .render import Rendered, render_brief

if TYPE_CHECKING:
    from .printer import Printer

@dataclass(frozen=True)
class Output:
    """One written file, for the progress line."""

    path: Path
    fmt: str
    units: int
    size: int
    seconds: float

    def describe(self) -> str:
        """Return the progress line: path, pages or documents, size, seconds."""
        unit = {"pdf": "pages", "epub": "documents", "html": "sections"}[self.fmt]
        return f"{os.path.relpath(self.path)}  {self.units} {unit}  {self.size / 1024:.0f} KiB  {self.seconds:.2f} s"


def write_atomic(path: Path, text: str) -> None:
    """Write text to ``path`` through a temporary file in the same folder, then rename."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.chmod(name, 0o644)
        os.replace(name, path)
    finally:
        Path(name).unlink(missing_ok=True)


def prepare(brief_dir: Path, diags: Diagnostics, strict: bool = False, paper: str | None = None) -> Rendered:
    """Load and render a brief, stopping with every problem found if it is broken."""
    brief = load_brief(brief_dir, diags)
    if brief is not None and paper is not None:
        brief = replace(brief, metadata=replace(brief.metadata, paper=paper))
    rendered = render_brief(brief, diags) if brief is not None else None
    diags.check(strict)
    assert rendered is not None
    return rendered


def _writer(fmt: str) -> Callable[..., int]:
    """Return the writer of a format: ``writer(rendered, target, diags, shared) -> units``.

    Writers are imported on demand: the PDF writer pulls in WeasyPrint, which is slow to import.
    ``shared`` carries work one writer can reuse from another in the same build (the page layout).
    """
    if fmt == "pdf":
        from .pdf import write_pdf
        return write_pdf
    if fmt == "epub":
        from .epub import write_epub
        return write_epub
    from .html import write_html
    return write_html


def build(brief_dir: Path, formats: tuple[str, ...], out_dir: Path, diags: Diagnostics, strict: bool = False,
          paper: str | None = None, report: Callable[[Output], None] | None = None,
          release: bool = False, printer: Printer | None = None) -> list[Output]:
    """Build ``formats`` of the brief into ``out_dir``. Nothing in ``out_dir`` changes unless all succeed.

    With ``release``, also write ``SHA256SUMS`` and ``manifest.json`` over the files built. A ``printer``
    started before the build typesets its PDF (see ``printer.py``).
    """
    rendered = prepare(brief_dir, diags, strict, paper)
    if out_dir.exists() and not out_dir.is_dir():
        raise BriefError([Diagnostic(out_dir, None, "the output folder is a file")])
    # Folders this build creates are removed again if it fails, so that a failure leaves no trace.
    created = [p for p in (out_dir, *out_dir.parents) if not p.exists()]
    out_dir.mkdir(parents=True, exist_ok=True)
    slug = rendered.brief.metadata.slug
    staged: list[tuple[Path, Path]] = []
    outputs: list[Output] = []
    shared: dict = {"out_dir": out_dir, "printer": printer}
    done = False
    try:
        for fmt in sorted(formats, key=lambda f: f != "pdf"):  # the PDF's layout serves the EPUB's page list
            start = time.perf_counter()
            final = out_dir / f"{slug}.{fmt}"
            fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=out_dir)
            os.close(fd)
            temp = Path(name)
            staged.append((temp, final))
            units = _writer(fmt)(rendered, temp, diags, shared)
            diags.check(strict)
            outputs.append(Output(final, fmt, units, temp.stat().st_size, time.perf_counter() - start))
        for temp, final in staged:
            os.chmod(temp, 0o644)
            os.replace(temp, final)
        done = True
        from .pages import store_pending
        store_pending(shared)
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
        from .release import write_release
        write_release(out_dir, rendered.brief.metadata, outputs)
    return outputs
