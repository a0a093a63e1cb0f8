"""The block pass over a parsed section: each table given its caption (``: Caption {#tbl-x}`` after it), each
fenced div read (boxes and callouts: ``render.callouts``; conditional content marked with the editions it is
in), a callout's first heading made its title, figures' ids checked."""

from __future__ import annotations

import re
from typing import Sequence

from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from .callouts import NUMBERED, is_callout, read_div
from .divs import parse_attributes
from .numbering import figure_image

_CAPTION = re.compile(r"^:\s+(?P<text>.*?)\s*(?:\{#(?P<id>[A-Za-z][\w.:-]*)\})?\s*$", re.S)
_CAPTION_ID = re.compile(r"\s*\{#([A-Za-z][\w.:-]*)\}\s*$")


def blocks(state: StateCore) -> None:
    """Give tables their captions, and boxes their attributes and heading levels; check figures' ids.

    Problems are recorded in ``env["crossref_errors"]`` as (line, message), reported by ``render.sections``.
    Each pass is linear in the tokens: a section of thousands of tables costs no more per table.
    """
    lines = state.src.split("\n")
    errors: list[tuple[int, str]] = state.env.setdefault("crossref_errors", [])
    state.tokens = _heading_titles(_captions(_row_captions(state.tokens, lines), errors))
    level = 1
    inside: list[tuple[Token, int]] = []  # each div being read, and the heading level before it
    for token in state.tokens:
        for child in token.children or [] if token.type == "inline" else []:
            if child.type == "crossref_mixed":
                errors.append((token.map[0] if token.map else 0, f"'{child.content}' holds cross-references and "
                               "citations in one bracket: give each kind a bracket of its own"))
        hidden = [o.meta["shown_in"] for o, _ in inside if o.meta.get("shown_in") is not None]
        if hidden:  # the editions this token is in (``for_edition``)
            token.meta["in_editions"] = frozenset.intersection(*hidden)
        if token.type == "heading_open" and hidden:
            errors.append((token.map[0] if token.map else 0, "a heading inside conditional content (.content-"
                           "visible, .content-hidden) would be in every edition's contents: make it bold text"))
        if token.type == "heading_open":
            level = int(token.tag[1])
        elif token.type == "container_div_open":
            read_div(token, level, errors, state.env.get("callout_defaults", {}))
            inside.append((token, level))
            if token.meta["box"]:
                level = token.meta["heading"]  # what the box holds is under its heading
        elif token.type == "container_div_close" and inside:
            opening, level = inside.pop()
            token.meta["box"] = opening.meta["box"]  # the close renders as its opening did
            token.meta["collapse"] = opening.meta.get("collapse")
            if "shown_in" in opening.meta:
                token.meta["conditional"] = True
                token.meta.pop("in_editions", None)
        elif token.type == "figure":
            image = figure_image(token)
            fig_id = str(image.attrGet("id") or "") if image is not None else ""
            if fig_id and NUMBERED.match(fig_id) and not fig_id.startswith("fig-"):
                errors.append((token.map[0] if token.map else 0,
                               f"figure id '{fig_id}' must start with 'fig-' (the prefix names the kind)"))


def _heading_titles(tokens: list[Token]) -> list[Token]:
    """The tokens with a callout's first heading taken out and made its title, as Quarto does when the callout
    has no ``title``: the heading is not one of the document's (not in the contents or outline)."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        out.append(token)
        i += 1
        if token.type != "container_div_open" or i + 2 >= len(tokens) or tokens[i].type != "heading_open":
            continue
        attrs = parse_attributes(token.info)
        if attrs is None or attrs.title is not None or not is_callout(attrs):
            continue
        token.meta["heading_title"] = tokens[i + 1]
        i += 3  # the heading's open, text and close
    return out


def _captions(tokens: list[Token], errors: list[tuple[int, str]]) -> list[Token]:
    """The tokens with each caption paragraph (``: Caption {#tbl-x}``) right after a table moved onto it."""
    out: list[Token] = []
    opened: list[int] = []  # where each table being read opens, in ``out``
    table: Token | None = None  # the table that closed just before the token read
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "paragraph_open" and tokens[i + 1].content.startswith(":"):
            caption = _CAPTION.match(tokens[i + 1].content)
            line = token.map[0] if token.map else 0
            if caption and table is not None:
                _caption(table, tokens[i + 1], line, errors)
                table, i = None, i + 3
                continue
            if caption and caption.group("id"):
                errors.append((line, f"table caption '{caption.group('text')}' has no table before it"))
        if token.type == "table_open":
            opened.append(len(out))
        out.append(token)
        table = out[opened.pop()] if token.type == "table_close" and opened else None
        i += 1
    return out


def _row_captions(tokens: list[Token], lines: Sequence[str]) -> list[Token]:
    """A caption line written right under a table, with no blank line, is read by markdown-it as the table's
    last row: turn that row back into a caption paragraph after the table."""
    out: list[Token] = []
    for token in tokens:
        if token.type != "table_close" or not out or out[-1].type != "tbody_close":
            out.append(token)
            continue
        row = next(k for k in range(len(out) - 1, -1, -1) if out[k].type == "tr_open")  # the table's last row
        text = lines[out[row].map[0]].strip() if out[row].map else ""
        if not text.startswith(":") or not _CAPTION.match(text):
            out.append(token)
            continue
        cell = next(t for t in out[row:] if t.type == "inline")
        inline = Token("inline", "", 0, map=out[row].map, content=text)
        inline.children = list(cell.children or []) if cell.content.strip() == text else [
            Token("text", "", 0, content=text)]
        paragraph = [Token("paragraph_open", "p", 1, map=out[row].map, block=True), inline,
                     Token("paragraph_close", "p", -1, block=True)]
        if out[row - 1].type == "tbody_open":  # a body of the caption row alone: the body goes too
            del out[row - 1:]
        else:
            del out[row: -1]  # the row, keeping the body's close
        out += [token, *paragraph]
    return out


def _caption(table: Token, inline: Token, line: int, errors: list[tuple[int, str]]) -> None:
    """Move a caption paragraph's text onto its table, taking ``{#tbl-x}`` off its end."""
    children = list(inline.children or [])
    if children and children[0].type == "text":
        first = children[0].copy()
        first.content = re.sub(r"^:\s+", "", first.content)
        children[0] = first
    table_id = None
    if children and children[-1].type == "text":
        match = _CAPTION_ID.search(children[-1].content)
        if match:
            last = children[-1].copy()
            last.content = last.content[: match.start()]
            children[-1] = last
            table_id = match.group(1)
    if table_id is not None:
        if not table_id.startswith("tbl-"):
            errors.append((line, f"table id '{table_id}' must start with 'tbl-' (the prefix names the kind)"))
        table.attrSet("id", table_id)
    table.meta["caption"] = children
    table.meta["caption_line"] = line
