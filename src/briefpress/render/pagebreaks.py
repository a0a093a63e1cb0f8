"""Page-break markers: where each printed page of the PDF edition begins, marked in the EPUB's text.

Blocks are numbered in document order, as the PDF's layout numbers them (``typeset.BLOCK_TAGS``); the
page map says which block each printed page begins in, and the marker is put in that block.
"""

from __future__ import annotations

from typing import Any, Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.utils import OptionsDict

_COUNTED = ("paragraph_open", "list_item_open", "tr_open", "heading_open", "figure", "blockquote_open",
            "fence", "code_block", "container_div_open")
_CELLS = ("th_open", "td_open")


def page_break(page: int) -> str:
    """The EPUB marker of the place where printed page ``page`` begins."""
    return (f'<span class="pagebreak" epub:type="pagebreak" role="doc-pagebreak" id="page-{page}" '
            f'aria-label="{page}"></span>')


def _counting(bound: Any, counts: bool) -> Any:
    """Wrap a render rule so that it numbers blocks and puts each page-break marker in its block."""
    def render(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        html = bound(tokens, idx, options, env) if bound else self.renderToken(tokens, idx, options, env)
        breaks = env.get("page_breaks")
        if not breaks:
            return html
        if counts and _is_block(tokens[idx], html) and "pdf" in tokens[idx].meta.get("in_editions", ("pdf",)):
            env["block"] = env.get("block", 0) + 1
            page = breaks.get(env["block"])
            if page is not None and tokens[idx].type == "tr_open":
                env["pending_break"] = page  # a marker cannot sit in a row, only in a cell
            elif page is not None:
                html = _after_open_tag(html, page_break(page))
        elif not counts and "pending_break" in env:
            html = _after_open_tag(html, page_break(env.pop("pending_break")))
        return html
    return render


def _is_block(token: Token, html: str) -> bool:
    """Whether a counted token made a block the PDF's layout counts too (``typeset.BLOCK_TAGS``): not a tight
    list's paragraph, and a div only through its box's heading."""
    if token.type == "paragraph_open":
        return not token.hidden
    if token.type == "container_div_open":
        return 'class="box-title"' in html
    return True


def _after_open_tag(html: str, marker: str) -> str:
    end = html.index(">") + 1 if html.startswith("<") else 0
    return html[:end] + marker + html[end:]


def setup(md: MarkdownIt) -> None:
    """Wrap the render rules of counted blocks (and table cells) so that each puts its page-break marker."""
    for name in _COUNTED + _CELLS:
        md.add_render_rule(name, _counting(md.renderer.rules.get(name), name in _COUNTED))




def skipped(children: Sequence[Token], env: dict) -> str:
    """The markers among the blocks of conditional content an edition leaves out: its blocks are counted as
    the PDF has them, so that the EPUB's page list cites the PDF's pages."""
    breaks = env.get("page_breaks")
    if not breaks:
        return ""
    html = ""
    for token in children:
        if token.type in _COUNTED and "pdf" in token.meta.get("in_editions", ()) and _would_be_block(token):
            env["block"] = env.get("block", 0) + 1
            if env["block"] in breaks:
                html += page_break(breaks[env["block"]])
    return html


def _would_be_block(token: Token) -> bool:
    """Whether a token the edition leaves out would have made a block (``_is_block``, before rendering)."""
    if token.type == "paragraph_open":
        return not token.hidden
    if token.type == "container_div_open":
        return bool(token.meta.get("box") and (token.meta.get("title") or token.attrGet("id")))
    return True
