"""Page-break markers: where each printed page of the PDF edition begins, marked in the EPUB's text.

Blocks carry the numbers ``blocknumbers`` gave them, which the print HTML carries too (``data-block``); the
page map says which block each printed page begins in, and after how many of the block's letters and digits
(``typeset.counted``: the offset). A page that begins at a block's start has its marker at the start of the
block; one that begins inside a block has it in the block's text, before the first word the page prints:
inside a link, a citation or a table cell if that is where the page begins. Only the text both editions
print counts: not a note's call, which the PDF numbers itself.
"""

from __future__ import annotations

from html import unescape
from typing import Any, Iterable, Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.utils import OptionsDict

_COUNTED = ("paragraph_open", "list_item_open", "tr_open", "heading_open", "figure", "blockquote_open",
            "fence", "code_block", "container_div_open", "cite_this_brief", "table_open")
_CELLS = ("th_open", "td_open")
#: Blocks made by an opening and a closing token, the block's inline text between them.
_PAIRS = {"paragraph_open": "paragraph_close", "list_item_open": "list_item_close", "tr_open": "tr_close",
          "heading_open": "heading_close", "blockquote_open": "blockquote_close"}
#: Inline tokens whose text the PDF does not print in the block: a note's call (the PDF numbers it itself).
_UNCOUNTED = ("footnote_ref",)


def page_break(page: int) -> str:
    """The EPUB marker of the place where printed page ``page`` begins."""
    return (f'<span class="pagebreak" epub:type="pagebreak" role="doc-pagebreak" id="page-{page}" '
            f'aria-label="{page}"></span>')


def breaks(starts: Iterable[Any], section: str) -> dict[int, Any]:
    """The page starts of ``section`` as ``Rendered.html`` takes them: by block, the page beginning at its
    start (the section's title, block 0), or every ``(offset, page)`` beginning in it (other blocks)."""
    found: dict[int, Any] = {}
    for start in starts:
        if start.section != section:
            continue
        if start.block == 0:
            found[0] = start.page
        else:
            found[start.block] = (*found.get(start.block, ()), (getattr(start, "offset", 0), start.page))
    return found


def _marks(value: Any) -> list[tuple[int, int]]:
    """A block's page starts, ``(offset, page)`` in order of offset: a page alone begins at the block's start."""
    return [(0, value)] if isinstance(value, int) else sorted(value)


class _Block:
    """A block with page starts inside it, while its text is rendered: how much of its text went by, and
    the markers still to place."""

    def __init__(self, marks: list[tuple[int, int]]):
        self.marks = marks  # (offset, page), offsets above 0
        self.count = 0
        self.waiting = 0  # 1: the offset is reached, past its word's end; 2: past the space after it

    def place(self, html: str) -> str:
        """``html`` with a marker before the first word (or part of a word) of each page that begins in it:
        after the offset's letter, the punctuation that ends its word and the space that follows."""
        out: list[str] = []
        done = 0
        i, end = 0, len(html)
        while i < end and self.marks:
            c = html[i]
            if c == "<":
                i = html.find(">", i) + 1 or end
                continue
            j = (html.find(";", i) + 1 or i + 1) if c == "&" else i + 1
            char = unescape(html[i:j]) if c == "&" else c
            if self.waiting and (char.isalnum() or (self.waiting == 2 and not char.isspace())):
                out += [html[done:i], page_break(self.marks.pop(0)[1])]
                done, self.waiting = i, 0
            elif self.waiting and char.isspace():
                self.waiting = 2
            if not self.waiting and char.isalnum():
                self.count += 1
                self.waiting = 1 if self.marks and self.count >= self.marks[0][0] else 0
            i = j
        return "".join(out) + html[done:] if out else html

    def rest(self) -> str:
        """The markers of pages the text did not reach (placed at the block's end)."""
        html = "".join(page_break(page) for _, page in self.marks)
        self.marks, self.waiting = [], 0
        return html


def _counting(bound: Any, name: str) -> Any:
    """Wrap a render rule so that it puts each page-break marker in its block, found by the block's number
    (``blocknumbers``)."""
    counts = name in _COUNTED

    def render(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        breaks = env.get("page_breaks")
        if not breaks:
            return bound(tokens, idx, options, env) if bound else self.renderToken(tokens, idx, options, env)
        stack = env.setdefault("open_blocks", [])
        whole = counts and name not in _PAIRS  # a block in one token: its own text is in its HTML
        if whole:
            env["in_whole_block"] = env.get("in_whole_block", 0) + 1
        try:
            html = bound(tokens, idx, options, env) if bound else self.renderToken(tokens, idx, options, env)
        finally:
            if whole:
                env["in_whole_block"] -= 1
        token = tokens[idx]
        number = token.meta.get("block") if counts else None
        if number is not None:
            marks = _marks(breaks.get(number, ()))
            start = _content_start(token, html)
            if marks and marks[0][0] == 0:
                page = marks.pop(0)[1]
                if token.type == "tr_open":
                    env["pending_break"] = page  # a marker cannot sit in a row, only in a cell
                else:
                    html = html[:start] + page_break(page) + html[start:]
            block = _Block(marks) if marks else None
            if whole and block is not None:
                inner = block.place(html[start:])
                close = inner.rfind("</")
                html = html[:start] + (inner[:close] + block.rest() + inner[close:] if close >= 0 else inner + block.rest())
            elif name in _PAIRS:
                stack.append(block)
                if block is not None:  # the text the opening gives (a heading's number)
                    start = html.index(">") + 1 if html.startswith("<") else 0
                    html = html[:start] + block.place(html[start:])
        elif name in _PAIRS:
            # Not a block of the PDF's: a tight list's paragraph is its item's text; other text is not counted.
            hidden = token.type == "paragraph_open" and token.hidden
            stack.append(stack[-1] if hidden and stack else None)
        elif name in _PAIRS.values():
            block = stack.pop() if stack else None
            if block is not None and (block.marks or block.waiting) and (not stack or stack[-1] is not block):
                html = block.rest() + html
        elif name == "bibliography":
            html = _entries(html, breaks, token.meta.get("blocks", ()))
        elif name in _CELLS and "pending_break" in env:
            html = _after_open_tag(html, page_break(env.pop("pending_break")))
        elif name in ("th_close", "td_close"):
            block = stack[-1] if stack else None
            if block is not None and block.marks and idx + 1 < len(tokens) and tokens[idx + 1].type == "tr_close":
                html = block.rest() + html  # a marker the row's text did not reach: in its last cell
        elif not env.get("in_whole_block") and stack and stack[-1] is not None and name not in _UNCOUNTED:
            html = stack[-1].place(html)
        return html
    return render


#: Where an entry of the bibliography begins: each is a block.
_ENTRY = '<div class="csl-entry"'


def _entries(html: str, breaks: Any, blocks: Sequence[int]) -> str:
    """The bibliography, whose entries are the blocks ``blocks``, with the markers of the pages that begin
    in them."""
    pieces = html.split(_ENTRY)
    for i, number in zip(range(1, len(pieces)), blocks):
        marks = _marks(breaks.get(number, ()))
        if not marks:
            continue
        piece = pieces[i]
        start = piece.index(">") + 1
        if marks[0][0] == 0:
            piece = piece[:start] + page_break(marks.pop(0)[1]) + piece[start:]
        if marks:
            block = _Block(marks)
            inner = block.place(piece[start:])
            close = inner.find("</div>") if i < len(pieces) - 1 else inner.rfind("</div>", 0, inner.rfind("</div>"))
            piece = piece[:start] + (inner[:close] + block.rest() + inner[close:] if close >= 0 else inner + block.rest())
        pieces[i] = piece
    return _ENTRY.join(pieces)


def _content_start(token: Token, html: str) -> int:
    """Where a block's content begins in the HTML its opening token made: after its first tag (a table's:
    after its caption's, the table's block)."""
    if token.type == "table_open":
        return html.index(">", html.index("<caption")) + 1
    return html.index(">") + 1 if html.startswith("<") else 0


def _after_open_tag(html: str, marker: str) -> str:
    end = html.index(">") + 1 if html.startswith("<") else 0
    return html[:end] + marker + html[end:]


#: Render rules of inline content whose text is counted (every rule but the blocks' and cells').
_INLINE = ("text", "code_inline", "softbreak", "hardbreak", "image", "html_inline")


def setup(md: MarkdownIt) -> None:
    """Wrap the render rules of counted blocks (and table cells), and of the text inside them, so that each
    puts its page-break markers."""
    names = {*_COUNTED, *_CELLS, *_PAIRS.values(), "th_close", "td_close", *_INLINE, *md.renderer.rules}
    for name in sorted(names):
        md.add_render_rule(name, _counting(md.renderer.rules.get(name), name))


def skipped(children: Sequence[Token], env: dict) -> str:
    """The markers of the pages that begin in the blocks of conditional content an edition leaves out and the
    PDF prints, so that the EPUB's page list cites every page of the PDF's."""
    breaks = env.get("page_breaks")
    if not breaks:
        return ""
    html = ""
    for token in children:
        numbers = token.meta.get("blocks", ()) if "block" not in token.meta else (token.meta["block"],)
        for number in numbers:
            html += "".join(page_break(page) for _, page in _marks(breaks.get(number, ())))
    return html

