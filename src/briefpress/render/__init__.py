"""Render stage: each section through Jinja2 (``templating``, ``jinja``), then Markdown (``markdown``), with
charts drawn as SVG (``charts``); ids, links and images checked (``checks``), figures and tables numbered
(``crossref``) and citations formatted (``citing``) across the brief; run by ``sections``, into a
``rendered.Rendered``."""

from .rendered import Heading, PrintDocument, Rendered, RenderedSection
from .sections import render_brief

__all__ = ["Heading", "PrintDocument", "Rendered", "RenderedSection", "render_brief"]
