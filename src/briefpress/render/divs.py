"""Fenced divs (``::: {.box}`` … ``:::``) nested as pandoc reads them: a bare fence closes the innermost open div.

mdit-py-plugins' container plugin closes a div at the first bare fence at least as long as its opening, so an
inner ``:::`` of the same length would close the outer div. This block rule counts the divs opened inside
instead, as pandoc's reader does: a line of three colons or more, with nothing after, closes the innermost div
open, however many colons it has; code fences and indented code hold no fence. The tokens are the container
plugin's (``container_div_open`` and ``container_div_close``), so that every later rule reads them unchanged;
the opening's ``meta["closed"]`` says whether a fence closed it (else the div runs to the end of its
container). ``parse_attributes`` reads what a div's braces say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock

_FENCE = re.compile(r":{3,}")
_CODE_FENCE = re.compile(r"(`{3,}|~{3,})")
_ATTR = re.compile(r"""\s*(?:\#(?P<id>[A-Za-z][\w.:-]*)|\.(?P<cls>[A-Za-z][\w-]*)|"""
                   r"""(?P<key>[A-Za-z][\w-]*)=(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"'}]+)))""")


def fenced_div_plugin(md: MarkdownIt, validate: Callable[[str], bool]) -> None:
    """Parse fenced divs whose text after the colons ``validate`` accepts, before code fences are read."""

    def rule(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        opening = _fence(state, start_line)
        if opening is None:
            return False
        markup, params = opening
        if not params.strip() or not validate(params):
            return False
        if silent:
            return True
        close = _close(state, start_line, end_line, validate)
        next_line = end_line if close is None else close
        old_parent, old_line_max = state.parentType, state.lineMax
        state.parentType = "container"
        state.lineMax = next_line  # no lazy continuation reaches past the closing fence
        token = state.push("container_div_open", "div", 1)
        token.markup, token.block, token.info = markup, True, params
        token.map = [start_line, next_line]
        token.meta["closed"] = close is not None
        state.md.block.tokenize(state, start_line + 1, next_line)
        token = state.push("container_div_close", "div", -1)
        token.markup = _fence(state, close)[0] if close is not None else ""  # type: ignore[index]
        token.block = True
        state.parentType, state.lineMax = old_parent, old_line_max
        state.line = next_line + (1 if close is not None else 0)
        return True

    md.block.ruler.before("fence", "container_div", rule,
                          {"alt": ["paragraph", "reference", "blockquote", "list"]})


def _line(state: StateBlock, line: int) -> str | None:
    """The line's text after its indent, or None where no fence can stand (indented code, less indent than
    the container's)."""
    if state.sCount[line] - state.blkIndent >= 4 or state.sCount[line] < state.blkIndent:
        return None
    return state.src[state.bMarks[line] + state.tShift[line]: state.eMarks[line]]


def _fence(state: StateBlock, line: int) -> tuple[str, str] | None:
    """A colon fence's colons and the text after them, or None."""
    text = _line(state, line)
    match = _FENCE.match(text) if text is not None else None
    return (match.group(), text[match.end():]) if match else None


def _close(state: StateBlock, start_line: int, end_line: int, validate: Callable[[str], bool]) -> int | None:
    """The line of the fence that closes the div opened at ``start_line``, or None if none does before
    ``end_line``: each div opened inside takes the next bare fence, and code blocks are skipped."""
    depth = 0
    line = start_line + 1
    while line < end_line:
        text = state.src[state.bMarks[line] + state.tShift[line]: state.eMarks[line]]
        if text and state.sCount[line] < state.blkIndent:
            return None  # a line less indented ends the list item the div is in
        fence = _fence(state, line)
        if fence is not None:
            if not fence[1].strip():
                if depth == 0:
                    return line
                depth -= 1
            elif validate(fence[1]):
                depth += 1
        else:
            line = _after_code(state, line, end_line)
        line += 1
    return None


def _after_code(state: StateBlock, line: int, end_line: int) -> int:
    """The last line of the code fence opening at ``line`` (closed before ``end_line``), else ``line``: a colon
    fence inside code is code."""
    text = _line(state, line)
    match = _CODE_FENCE.match(text) if text is not None else None
    if match is None or (match.group()[0] == "`" and "`" in text[match.end():]):  # type: ignore[index]
        return line
    marker = match.group()
    for later in range(line + 1, end_line):
        inner = _line(state, later)
        if inner is not None and inner.startswith(marker) and not inner.lstrip(marker[0]).strip():
            return later
    return line


@dataclass(frozen=True)
class DivAttributes:
    """What a fenced div's braces say: its id, classes and title."""

    id: str | None = None
    classes: tuple[str, ...] = ()
    title: str | None = None
    #: Every other ``key="value"``, in order.
    attributes: tuple[tuple[str, str], ...] = ()


def parse_attributes(text: str) -> DivAttributes | None:
    """pandoc's attributes of a fenced div: ``{#id .class key="value"}``, or a bare class name; None if the
    text is neither."""
    text = text.strip()
    if re.fullmatch(r"[A-Za-z][\w-]*", text):
        return DivAttributes(classes=(text,))
    if not (text.startswith("{") and text.endswith("}")):
        return None
    inner, pos = text[1:-1], 0
    div_id, classes, title, others = None, [], None, []
    while pos < len(inner.rstrip()):
        match = _ATTR.match(inner, pos)
        if match is None:
            return None
        if match.group("id"):
            div_id = match.group("id")
        elif match.group("cls"):
            classes.append(match.group("cls"))
        elif match.group("key"):
            value = next(v for v in match.group("dq", "sq", "bare") if v is not None)
            if match.group("key") == "title":
                title = value
            else:
                others.append((match.group("key"), value))
        pos = match.end()
    return DivAttributes(div_id, tuple(classes), title, tuple(others))
