"""Accessibility: a tagged PDF (PDF/UA-1) and EPUB Accessibility 1.1 metadata."""

from __future__ import annotations

import zipfile

import pikepdf
import yaml
from lxml import etree

from tools.checks import structure_problems
from tools.paths import BRIEF


def _figures(node, found: list) -> list:
    if isinstance(node, pikepdf.Dictionary):
        if node.get("/S") == "/Figure":
            found.append(node)
        kids = node.get("/K")
        for kid in (kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []):
            _figures(kid, found)
    return found


def test_pdf_is_tagged_with_title_shown_and_language(built) -> None:
    with pikepdf.open(built.path("pdf")) as pdf:
        root = pdf.Root
        assert "/StructTreeRoot" in root
        assert root.MarkInfo.Marked is True
        assert root.ViewerPreferences.DisplayDocTitle is True
        assert str(root.Lang) == built.meta["lang"]
        with pdf.open_metadata() as xmp:
            assert xmp.get("pdfuaid:part") == "1", "declares PDF/UA-1"


def test_pdf_structure_tree_owns_every_page_and_link(built) -> None:
    # Each page and link annotation has its parent-tree entry, and each marked content leads back to the
    # structure element that holds it (what assistive technology follows).
    assert structure_problems(built.path("pdf")) == []
    with pikepdf.open(built.path("pdf")) as pdf:
        kinds = set()
        stack = [pdf.Root.StructTreeRoot.K]
        while stack:
            node = stack.pop()
            if isinstance(node, pikepdf.Array):
                stack.extend(node)
            elif isinstance(node, pikepdf.Dictionary) and "/S" in node:
                kinds.add(str(node.S))
                stack.append(node.get("/K"))
    assert {"/Document", "/H1", "/H2", "/P", "/L", "/LI", "/Table", "/Figure", "/Link"} <= kinds, sorted(kinds)


def test_every_pdf_figure_has_alt_text_and_the_chart_has_its_own(built) -> None:
    chart = yaml.safe_load((BRIEF / "data" / "support.yaml").read_text(encoding="utf-8"))
    with pikepdf.open(built.path("pdf")) as pdf:
        figures = _figures(pdf.Root.StructTreeRoot, [])
        alts = [str(f.get("/Alt", "")) for f in figures]
    assert figures, "the chart is tagged as a figure"
    assert all(alt.strip() for alt in alts)
    assert " ".join(chart["alt"].split()) in alts


def test_epub_accessibility_metadata(built) -> None:
    with zipfile.ZipFile(built.path("epub")) as epub:
        opf = etree.fromstring(epub.read(next(n for n in epub.namelist() if n.endswith(".opf"))))
    props = {}
    for meta in opf.xpath("//*[local-name()='meta'][@property]"):
        props.setdefault(meta.get("property"), []).append(meta.text)
    for prop in ("schema:accessMode", "schema:accessModeSufficient", "schema:accessibilityFeature",
                 "schema:accessibilityHazard", "schema:accessibilitySummary", "dcterms:conformsTo"):
        assert props.get(prop), prop
    assert "alternativeText" in props["schema:accessibilityFeature"]
    assert any("WCAG 2.1" in value for value in props["dcterms:conformsTo"])


def test_every_epub_image_has_alt_text(built) -> None:
    with zipfile.ZipFile(built.path("epub")) as epub:
        for name in epub.namelist():
            if name.endswith(".xhtml"):
                for img in etree.fromstring(epub.read(name)).iter("{http://www.w3.org/1999/xhtml}img"):
                    assert (img.get("alt") or "").strip(), f"{name}: image without alt text"
