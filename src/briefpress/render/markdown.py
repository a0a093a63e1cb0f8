"""Markdown stage: markdown-it-py configured for briefs, with its render rules (notes' in ``notes``), which read
how each edition writes from its ``Edition`` record (``env["edition"]``).

Raw HTML is off: markdown-it escapes it, so ``<script>`` in a section is shown as text and
never reaches an output. Attributes (``{#id .class}``) are limited to ``id`` and ``class``.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any, Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.utils import OptionsDict
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.footnote import footnote_plugin

from . import blocknumbers, boxes, citations, cites, crossref, notes, pagebreaks
from .conditional import for_edition
from .htmltags import attributes, caption_label
from .numbering import Numbers, figure_image

_HEADING_ID_RE = re.compile(r"\s*\{#([A-Za-z][\w.:-]*)\}\s*$")


def create_parser() -> MarkdownIt:
    """Return the Markdown parser every section goes through."""
    md = MarkdownIt("commonmark", {"html": False, "typographer": True, "xhtmlOut": True})
    md.enable(["table", "replacements", "smartquotes"])
    # Keep every link and image, even ``file:`` or ``javascript:`` ones that markdown-it would
    # quietly show as text: the render stage refuses them with their file and line.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    md.use(footnote_plugin, inline=False)
    md.use(attrs_plugin, allowed=["id", "class", "fig-alt"])
    cites.setup(md)
    citations.setup(md)
    md.core.ruler.push("briefpress_blocks", _mark_blocks)
    crossref.setup(md)  # after the figures are made
    for name, rule in {**_RULES, **notes.RULES}.items():
        md.add_render_rule(name, rule)
    blocknumbers.setup(md)
    pagebreaks.setup(md)
    _note_nesting_too_deep(md)
    return md


def _note_nesting_too_deep(md: MarkdownIt) -> None:
    """Note in the parse's ``env["too_deep"]`` the first line of any text nested deeper than markdown-it's
    ``maxNesting`` (lists, block quotes), which it leaves out, so that the author is told.

    Nested blocks are parsed by calling ``md.block.tokenize`` again: this wraps it on this parser only.
    """
    tokenize = md.block.tokenize

    def noting(state: Any, start: int, end: int) -> None:
        if state.level >= state.md.options.maxNesting:
            first = state.skipEmptyLines(start)
            if first < end and state.sCount[first] >= state.blkIndent:
                state.env["too_deep"] = min(first, state.env.get("too_deep", first))
        tokenize(state, start, end)

    md.block.tokenize = noting  # type: ignore[method-assign]


def slugify(text: str) -> str:
    """Turn heading text into an id: lower case ASCII words joined by hyphens."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug if slug[:1].isalpha() else f"h-{slug}" if slug else "h"


def _mark_blocks(state: Any) -> None:
    """Take ``{#id}`` off headings and turn lone images into figures."""
    tokens: list[Token] = state.tokens
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            inline = tokens[i + 1]
            last = inline.children[-1] if inline.children else None
            if last is not None and last.type == "text":
                match = _HEADING_ID_RE.search(last.content)
                if match:
                    last.content = last.content[: match.start()]
                    inline.content = _HEADING_ID_RE.sub("", inline.content)
                    token.attrSet("id", match.group(1))
                    token.meta["explicit_id"] = True
    # A paragraph holding one image and nothing else becomes a figure, captioned by the image's title; and so
    # does an image alone in a link, alone in its paragraph (Quarto's linked figure), the link kept around it.
    for i in range(len(tokens) - 3, -1, -1):
        if tokens[i].type != "paragraph_open" or tokens[i + 2].type != "paragraph_close":
            continue
        kids = [k for k in tokens[i + 1].children or [] if not (k.type == "text" and not k.content.strip())]
        if [k.type for k in kids] in (["image"], ["link_open", "image", "link_close"]):
            figure = Token("figure", "figure", 0, map=tokens[i].map, level=tokens[i].level, block=True)
            figure.children = kids
            tokens[i : i + 3] = [figure]


def _paragraph_open(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    label = env.pop("pending_note_label", "")
    if tokens[idx].hidden:  # paragraphs of tight lists have no tags
        return label
    return f"<p{attributes(dict(tokens[idx].attrs))}{blocknumbers.attribute(tokens[idx], env)}>{label}"


def _image(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    token = tokens[idx]
    attrs = {
        "src": env["image_src"](token.attrGet("src")),
        "alt": self.renderInlineAsText(token.children or [], options, env),
        "id": token.attrGet("id"), "class": token.attrGet("class"), "title": token.attrGet("title"),
    }
    return f"<img{attributes(attrs)} />"


def _figure(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    image = figure_image(tokens[idx])
    assert image is not None
    fig_id = image.attrGet("id")
    attrs = {"id": fig_id, "class": image.attrGet("class")}
    # Quarto's form: the description is the caption, and fig-alt (else the caption) the alt text.
    title = image.attrGet("title")
    caption = escape(str(title)) if title else self.renderInline(image.children or [], options, env)
    alt = image.attrGet("fig-alt") or self.renderInlineAsText(image.children or [], options, env)
    img = f'<img{attributes({"src": env["image_src"](image.attrGet("src")), "alt": alt})} />'
    children = tokens[idx].children or []
    if children[0].type == "link_open":  # a linked figure: the image is the link's text
        img = f"{_link_open(self, children, 0, options, env)}{img}</a>"
    html = f"<figure{attributes(attrs)}{blocknumbers.attribute(tokens[idx], env)}>\n{img}\n"
    label = caption_label(env, fig_id)
    if caption or label:
        html += f"<figcaption>{label}{caption}</figcaption>\n"
    return html + "</figure>\n"


def _table_open(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    token = tokens[idx]
    html = f"<table{attributes(dict(token.attrs))}>\n"
    caption = token.meta.get("caption")
    if caption is not None:
        html += (f"<caption{blocknumbers.attribute(token, env)}>{caption_label(env, token.attrGet('id'))}"
                 f"{self.renderInline(caption, options, env)}</caption>\n")
    return html


def _skipped(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    """Conditional content this edition does not show: nothing but the page-break markers among its blocks."""
    return pagebreaks.skipped(tokens[idx].children or [], env)


def _crossref(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    """A reference: "Figure 2", linked; in the PDF with its page when the brief asks for it."""
    numbers: Numbers = env["numbers"]
    meta = tokens[idx].meta
    target = numbers.resolve(meta["key"])
    if target is None:  # reported at render time; only a partial render reaches here
        return escape(f"@{meta['key']}")
    text = numbers.reference_text(target, meta["suppress"], meta.get("upper", False), meta.get("prefix", ""))
    if not numbers.numbering.ref_hyperlink:  # ``crossref: {ref-hyperlink: false}``: text alone, as in Quarto
        return f'<span class="xref xref-{target.kind}">{escape(text)}</span>'
    href = env["link_href"](f"#{target.id}")
    pages = " xref-page" if env["edition"].reference_pages and numbers.numbering.pages else ""
    page = env["page_mark"](target.id) if pages else ""  # the target's page, if laid out apart
    return f'<a class="xref xref-{target.kind}{pages}" href="{escape(href)}"{page}>{escape(text)}</a>'


def _crossref_mixed(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    """A bracket of references and citations, reported at render time: only a partial render reaches here."""
    return escape(tokens[idx].content)


def _heading_open(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    token = tokens[idx]
    return (f"<{token.tag}{attributes(dict(token.attrs))}{blocknumbers.attribute(token, env)}>"
            f"{section_number_html(env.get('numbers'), token.attrGet('id'))}")


def section_number_html(numbers: Numbers | None, target_id: Any) -> str:
    """A numbered section's or heading's number, before its title, when the brief numbers sections."""
    if numbers is None or not numbers.numbering.number_sections or not target_id:
        return ""
    target = numbers.targets.get(str(target_id))
    if target is None or target.kind != "sec" or not target.number:
        return ""
    return f'<span class="section-number">{escape(target.number)}</span> '


def _link_open(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    token = tokens[idx]
    attrs = dict(token.attrs)
    written = str(attrs.get("href", ""))  # a link to an id is internal, wherever the edition points it
    attrs["href"] = env["link_href"](written)
    if not written.startswith("#") and ".xhtml" not in str(attrs["href"]):
        attrs["class"] = " ".join(filter(None, [attrs.get("class"), "external"]))
    return f"<a{attributes(attrs)}>"


def _citation(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    return f'<span class="citation">{citations.citation_html(tokens[idx], env)}</span>'


def _citation_author(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    return f'<span class="citation">{citations.citation_author_html(tokens[idx], env)}</span>'


def _bibliography(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    return citations.bibliography_html(env.get("citations"), blocknumbers.numbered(tokens[idx], env))


def _cite_this_brief(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    return citations.cite_this_brief_html(env.get("citations"), blocknumbers.attribute(tokens[idx], env))


_RULES = {
    "cite_this_brief": _cite_this_brief,
    "citation": _citation,
    "citation_author": _citation_author,
    "bibliography": _bibliography,
    "paragraph_open": _paragraph_open,
    "figure": _figure,
    "table_open": _table_open,
    "container_div_open": boxes.div_open,
    "container_div_close": boxes.div_close,
    "skipped": _skipped,
    "crossref": _crossref,
    "crossref_mixed": _crossref_mixed,
    "image": _image,
    "heading_open": _heading_open,
    "link_open": _link_open,
}


def render_tokens(md: MarkdownIt, tokens: list[Token], env: dict) -> str:
    """Render tokens, skipping footnote bodies in the PDF (they were inlined at their calls), and conditional
    content the edition does not show."""
    tokens = for_edition(tokens, env["edition"])
    if env["edition"].notes_where_called:
        kept: list[Token] = []
        depth = 0
        for token in tokens:
            if token.type == "footnote_block_open":
                depth += 1
            elif token.type == "footnote_block_close":
                depth -= 1
            elif depth == 0:
                kept.append(token)
        tokens = kept
    return md.renderer.render(tokens, md.options, env)


