"""Render stage: each section through Jinja2 (``jinja``), then Markdown (``markdown``), with charts drawn as
SVG (``charts``); ids, links and images checked across the brief (``sections``)."""

from .sections import Heading, Rendered, RenderedSection, render_brief

__all__ = ["Heading", "Rendered", "RenderedSection", "render_brief"]
