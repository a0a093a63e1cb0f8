"""HTML writer: one self-contained file, with CSS inlined and images as data URLs."""

from __future__ import annotations

from pathlib import Path

from .assemble import Assembler, stylesheet
from .errors import Diagnostics
from .render import Rendered
from .resources import ResourcePolicy

STYLESHEETS = ("common.css", "html.css")


def write_html(rendered: Rendered, target: Path, diags: Diagnostics | None = None, shared: dict | None = None) -> int:
    """Write the HTML edition to ``target``; return the number of sections."""
    policy = ResourcePolicy.of(rendered)
    css = "\n".join(stylesheet(rendered, name) for name in STYLESHEETS)
    html = Assembler(rendered).html(css, policy.data_url)
    target.write_text(html, encoding="utf-8")
    return len(rendered.sections)
