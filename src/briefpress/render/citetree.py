"""pandoc's answer read back: each cluster's Cite node as text, the bibliography's entries, and the math in
titles as pandoc writes it in HTML (``cslhtml`` writes the nodes).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from html import escape
from typing import Any, Mapping, Sequence

from . import pandoc
from .cslhtml import Writer, math_nodes


@dataclass(frozen=True)
class Formatted:
    """A cluster as the style formats it. For a narrative citation under a note style, ``author`` is the name
    that stays in the text (with the punctuation pandoc moved before the note's call; empty if the style prints
    no name for the reference), and ``text`` the note's text; otherwise ``text`` is the whole citation."""

    text: str
    author: str = ""


def formatted(cite: dict[str, Any], writer: Writer, moved: str) -> Formatted:
    """A Cite node as text: under a note style, pandoc puts the citation in a note (after the author's name,
    for a narrative one); inside a note, or under another style, the citation is the node's whole text.

    ``moved`` is the punctuation that followed the citation, which pandoc moves before the note's call: into
    the author's name, unless the name ends with punctuation of its own (``et al.``). A narrative citation
    that leaves no name gets it alone: the name is then empty, and the punctuation is the text's."""
    content = cite["c"][1]
    for at, node in enumerate(content):
        if node.get("t") == "Note":
            narrative = cite["c"][0][0]["citationMode"]["t"] == "AuthorInText"
            author = writer.inlines(content[:at]).strip() if narrative else ""
            if moved and author == escape(moved):
                author = ""
            return Formatted(text=writer.blocks(node["c"]), author=author)
    return Formatted(text=writer.inlines(content))


def cites(tree: Mapping[str, Any]) -> list[dict[str, Any] | None]:
    """The first Cite of each paragraph of the document, in reading order (notes where they are called); None
    for a paragraph pandoc did not read as a citation."""
    blocks = tree.get("blocks", [])
    found: list[dict[str, Any] | None] = []
    for block in blocks:
        if block.get("t") == "Div":
            continue  # the bibliography
        found.extend(_paragraph_cites(block))
    return found


def _paragraph_cites(block: dict[str, Any]) -> list[dict[str, Any] | None]:
    """One paragraph of the document: its citation, or the citations inside the note it calls."""
    if block.get("t") != "Para":
        return []
    inlines = block["c"]
    if len(inlines) == 1 and inlines[0].get("t") == "Note":
        out: list[dict[str, Any] | None] = []
        for inner in inlines[0]["c"]:
            if inner.get("t") == "Para":
                out.extend(n for n in inner["c"] if n.get("t") == "Cite")
        return out
    return [next((n for n in inlines if n.get("t") == "Cite"), None)]


def refs_div(tree: Mapping[str, Any]) -> Any:
    for block in tree.get("blocks", []):
        if block.get("t") == "Div" and block["c"][0][0] == "refs":
            return block["c"][0]
    return None


def entries(tree: Mapping[str, Any], writer: Writer) -> list[tuple[str, str]]:
    """The bibliography's entries, as (reference id, HTML); an entry the style prints nothing for is empty."""
    for block in tree.get("blocks", []):
        if block.get("t") == "Div" and block["c"][0][0] == "refs":
            return [(entry["c"][0][0][len("ref-"):], writer.blocks(entry["c"][1]).strip())
                    for entry in block["c"][1] if entry.get("t") == "Div"]
    return []


def math_writer(trees: Sequence[Any]):
    """Math in a title (``$\\beta$``) as pandoc writes it in HTML (Unicode, in italics where TeX sets them):
    one more pandoc run, made only when the references hold math."""
    nodes = [node for tree in trees for node in math_nodes(tree)]
    if not nodes:
        return lambda kind, tex: escape(tex)
    doc = {"pandoc-api-version": trees[0]["pandoc-api-version"], "meta": {},
           "blocks": [{"t": "Para", "c": [node]} for node in nodes]}
    with tempfile.TemporaryDirectory(prefix="briefpress-math-") as folder, pandoc.Runs(folder) as started:
        process = started.start(["-f", "json", "-t", "html", "--wrap=none"], json.dumps(doc))
        out, _ = process.communicate(timeout=pandoc.TIMEOUT)
    from lxml import html as lxml_html

    paragraphs = lxml_html.fromstring(f"<div>{out.decode('utf-8')}</div>").findall("p")
    written: dict[tuple[str, str], str] = {}
    for node, para in zip(nodes, paragraphs):
        written[(node["c"][0]["t"], node["c"][1])] = _math_html(para)
    return lambda kind, tex: written.get((kind, tex), escape(tex))


def _math_html(element: Any) -> str:
    """pandoc's HTML for a formula, kept to text, italics, super- and subscripts."""
    allowed = {"em": "em", "i": "em", "sup": "sup", "sub": "sub", "strong": "strong"}
    out = [escape(element.text or "", quote=False)]
    for child in element:
        tag = allowed.get(child.tag)
        inner = _math_html(child)
        out.append(f"<{tag}>{inner}</{tag}>" if tag else inner)
        out.append(escape(child.tail or "", quote=False))
    return "".join(out)
