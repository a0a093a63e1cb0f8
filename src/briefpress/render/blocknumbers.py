"""Block numbers: each block the PDF prints, numbered once, on a section's parsed tokens, for every edition
to read.

A section's title is block 0; its blocks are numbered from 1 in reading order: paragraphs (not a tight list's,
which print no paragraph), list items, table rows, headings, figures, block quotes, code blocks, a table's
caption, a box's title, the brief's reference ("cite this brief") and each entry of the bibliography. The
opening token of each carries its number in ``token.meta["block"]``; the bibliography's token carries its
entries' numbers, a range, in ``token.meta["blocks"]``. What the PDF does not show (conditional content it
leaves out, the notes' block: it prints each note at its call) has no number.

The print edition writes each number into its HTML as ``data-block`` (``Edition.block_numbers``), on the
element that is the block, and the page map is read back from the layout by those numbers
(``editions.typeset``); the EPUB puts its page-break markers by them (``pagebreaks``). So both editions name
the same block by the same number.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.utils import OptionsDict

from .citations import CitedWorks
from .numbering import Numbers

#: Tokens that always open a block the PDF prints.
_BLOCKS = frozenset({"list_item_open", "tr_open", "heading_open", "figure", "blockquote_open", "fence",
                     "code_block"})


def number(tokens: Iterable[Token], numbers: Numbers, cited: CitedWorks | None) -> None:
    """Number the blocks of one section's ``tokens`` that the PDF prints, in reading order, from 1."""
    count = 0
    notes = 0  # inside the notes' block
    for token in tokens:
        if token.type == "footnote_block_open":
            notes += 1
        elif token.type == "footnote_block_close":
            notes -= 1
        if notes or "pdf" not in token.meta.get("in_editions", ("pdf",)):
            continue
        if token.type == "bibliography":
            entries = len(cited.entries) if cited is not None else 0
            token.meta["blocks"] = range(count + 1, count + 1 + entries)
            count += entries
        elif _prints_block(token, numbers, cited):
            count += 1
            token.meta["block"] = count


def _prints_block(token: Token, numbers: Numbers, cited: CitedWorks | None) -> bool:
    """Whether ``token`` opens a block of the PDF's (``markdown``'s render rules make it)."""
    if token.type in _BLOCKS:
        return True
    if token.type == "paragraph_open":
        return not token.hidden
    if token.type == "table_open":  # through its caption
        return token.meta.get("caption") is not None
    if token.type == "cite_this_brief":  # a paragraph, with a bibliography's entry for the brief
        return cited is not None and bool(cited.brief_entry)
    if token.type == "container_div_open":  # a box, through its title: its own, or its number's label
        meta = token.meta
        if not meta.get("box") or "shown_in" in meta:
            return False
        target = numbers.targets.get(str(token.attrGet("id") or ""))
        return bool((meta.get("title") or "").strip() or target is not None and target.number and target.kind != "sec")
    return False


def attribute(token: Token, env: dict) -> str:
    """The block number an edition that writes them (the PDF) gives the element of ``token``'s block."""
    block = token.meta.get("block")
    return f' data-block="{block}"' if block is not None and env["edition"].block_numbers else ""


def numbered(token: Token, env: dict) -> Sequence[int]:
    """The numbers an edition that writes them gives the bibliography's entries (none: it writes none)."""
    return token.meta.get("blocks", ()) if env["edition"].block_numbers else ()


#: Blocks whose render rules are markdown-it's own: the tag each begins with.
_TAGS = {"list_item_open": "<li", "tr_open": "<tr", "blockquote_open": "<blockquote", "fence": "<pre",
         "code_block": "<pre"}


def _numbering(bound: Any, tag: str) -> Any:
    """Wrap one of markdown-it's render rules so that its block's first tag carries the block's number."""
    def render(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        html = bound(tokens, idx, options, env) if bound else self.renderToken(tokens, idx, options, env)
        mark = attribute(tokens[idx], env)
        return tag + mark + html[len(tag):] if mark and html.startswith(tag) else html
    return render


def setup(md: MarkdownIt) -> None:
    """Have markdown-it's own rules for blocks write their numbers (the rules of ``markdown`` write their own)."""
    for name, tag in _TAGS.items():
        md.add_render_rule(name, _numbering(md.renderer.rules.get(name), tag))
