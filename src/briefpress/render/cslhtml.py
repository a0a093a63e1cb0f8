"""pandoc's inline AST, as the citation engine returns it, written as the editions' HTML.

Only the markup a CSL style makes reaches an edition: emphasis, strong, small capitals, super- and subscripts,
the bibliography's margin spans, and links (to a bibliography entry, or to a web address). Raw HTML or LaTeX
in a reference's fields or a citation's prefix is dropped, as its text would be when pandoc writes HTML; every
text is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any, Callable, Iterable, Sequence

#: The classes of pandoc's citation spans kept in the editions (the rest are written as their text).
SPAN_CLASSES = ("csl-left-margin", "csl-right-inline", "csl-block", "csl-indent")
#: The link schemes an entry may carry (a DOI or a URL).
WEB = ("http://", "https://", "mailto:")
_TAGS = {"Emph": "i", "Strong": "b", "Underline": "u", "Strikeout": "del", "Superscript": "sup",
         "Subscript": "sub"}
_QUOTES = {"DoubleQuote": ("\u201c", "\u201d"), "SingleQuote": ("\u2018", "\u2019")}

#: How a link to a bibliography entry is written: given the reference's id (after ``#ref-``) and the link's
#: inner HTML, the HTML to print.
EntryLink = Callable[[str, str], str]
#: The HTML of a math node, as pandoc writes it (``InlineMath`` or ``DisplayMath``, the TeX).
MathHtml = Callable[[str, str], str]


def _plain_entry_link(key: str, inner: str) -> str:
    return inner


def _plain_math(kind: str, tex: str) -> str:
    return f'<span class="math">{escape(tex)}</span>'


class Writer:
    """Writes pandoc inlines and blocks as HTML, with the project's one policy on markup."""

    def __init__(self, entry_link: EntryLink = _plain_entry_link, math: MathHtml = _plain_math):
        self.entry_link = entry_link
        self.math = math

    def inlines(self, nodes: Iterable[dict[str, Any]]) -> str:
        """The HTML of a list of inline nodes."""
        return "".join(self.inline(node) for node in nodes)

    def blocks(self, nodes: Iterable[dict[str, Any]]) -> str:
        """The HTML of blocks inside a note or an entry, set as one run of text (paragraphs parted by a space)."""
        return " ".join(part for part in (self.block(node) for node in nodes) if part)

    def block(self, node: dict[str, Any]) -> str:
        kind, content = node.get("t"), node.get("c")
        if kind in ("Para", "Plain"):
            return self.inlines(content)
        if kind == "Div":
            return self.blocks(content[1])
        if kind == "LineBlock":
            return "<br/>".join(self.inlines(line) for line in content)
        return ""  # code, tables and raw blocks are not made by a style

    def inline(self, node: dict[str, Any]) -> str:
        kind, content = node.get("t"), node.get("c")
        if kind == "Str":
            return escape(content, quote=False)
        if kind in ("Space", "SoftBreak"):
            return " "
        if kind == "LineBreak":
            return "<br/>"
        if kind in _TAGS:
            return f"<{_TAGS[kind]}>{self.inlines(content)}</{_TAGS[kind]}>"
        if kind == "SmallCaps":
            return f'<span class="smallcaps">{self.inlines(content)}</span>'
        if kind == "Quoted":
            opening, closing = _QUOTES.get(content[0]["t"], _QUOTES["DoubleQuote"])
            return f"{opening}{self.inlines(content[1])}{closing}"
        if kind == "Code":
            return f"<code>{escape(content[1], quote=False)}</code>"
        if kind == "Math":
            return self.math(content[0]["t"], content[1])
        if kind == "Span":
            return self._span(content[0], content[1])
        if kind == "Link":
            return self._link(content[1], content[2][0])
        if kind == "Image":
            return self.inlines(content[1])
        if kind == "Cite":
            return self.inlines(content[1])
        if kind == "Note":
            return ""  # a note's text is taken by the caller
        return ""  # RawInline: markup from a source, never passed on

    def _span(self, attr: Sequence[Any], content: Sequence[dict[str, Any]]) -> str:
        classes = [c for c in attr[1] if c in SPAN_CLASSES]
        inner = self.inlines(content)
        return f'<span class="{" ".join(classes)}">{inner}</span>' if classes else inner

    def _link(self, content: Sequence[dict[str, Any]], target: str) -> str:
        inner = self.inlines(content)
        if target.startswith("#ref-"):
            return self.entry_link(target[len("#ref-"):], inner)
        if target.lower().startswith(WEB):
            return f'<a href="{escape(target)}">{inner}</a>'
        return inner


def math_nodes(value: Any) -> list[dict[str, Any]]:
    """Every math node in a pandoc JSON value, in document order."""
    found: list[dict[str, Any]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("t") == "Math":
                found.append(item)
            elif "t" in item:
                stack.append(item.get("c"))
            else:  # the document itself, or a citation's fields
                stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found
