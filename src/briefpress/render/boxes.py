"""Boxes and callouts as HTML: a fenced div that is a box is a ``section`` named by its title ("Box 1: Key
judgements"), a callout one with Quarto's classes, a collapsible callout a ``details`` element; any other
fenced div is a ``div``. How each edition writes them is read from its ``Edition`` record (``env["edition"]``).
"""

from __future__ import annotations

from html import escape
from typing import Any, Sequence

from markdown_it.token import Token
from markdown_it.utils import OptionsDict

from . import blocknumbers
from .htmltags import attributes, caption_label


def div_open(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    """A box: a section named by its heading ("Box 1: Key judgements"); any other fenced div: a div.

    A collapsible callout (``collapse``) holds a ``details`` element, its title the ``summary``, open unless
    ``collapse="true"``; the PDF prints it open, as a box."""
    token = tokens[idx]
    meta = token.meta
    div_id = token.attrGet("id")
    if "shown_in" in meta:  # conditional content: Quarto keeps what it holds, without the div
        return ""
    if not meta.get("box"):
        return f"<div{attributes({'id': div_id, 'class': ' '.join(meta.get('classes', ())) or None})}>\n"
    title = meta.get("title") or ""
    # A title taken from the callout's first heading keeps that heading's inline markup.
    inline = meta.get("title_inline")
    heading = f"{caption_label(env, div_id)}{self.renderInline(inline, options, env) if inline else escape(title)}".strip()
    collapsible = _collapsible(meta, env)
    classes = ["box", *_callout_classes(meta, bool(heading), collapsible),
               *(c for c in meta.get("classes", ()) if c != "box" and not c.startswith("callout-"))]
    level = meta.get("heading", 3)
    if div_id and heading:
        html = (f'<section class="{" ".join(classes)}" id="{escape(str(div_id))}" '
                f'aria-labelledby="{escape(str(div_id))}-title">\n')
        title_id = f' id="{escape(str(div_id))}-title"'
    else:
        # A callout with no title (appearance simple) is named by its kind, as Quarto's screen-reader text is.
        name = title or str(meta.get("callout") or "box").capitalize()
        label = f' aria-label="{escape(name)}"'
        html = f'<section class="{" ".join(classes)}"{attributes({"id": div_id})}{label}>\n'
        title_id = ""
    title_id += blocknumbers.attribute(token, env)  # the box's block is its title
    if collapsible:
        opened = ' open="open"' if meta["collapse"] == "false" else ""
        return html + f'<details{opened}>\n<summary class="box-title"{title_id}>{heading}</summary>\n'
    if heading:
        html += f'<h{level} class="box-title"{title_id}>{heading}</h{level}>\n'
    return html


def _collapsible(meta: dict, env: dict) -> bool:
    """Whether a box is a collapsible callout in this edition: not in print, where it is printed open."""
    return bool(meta.get("box") and meta.get("collapse") and not env["edition"].prints_open)


def _callout_classes(meta: dict, titled: bool, collapsible: bool) -> list[str]:
    """A callout's classes, Quarto's names: its kind; ``callout-style-simple`` for the simple and minimal
    appearances, ``no-icon`` without an icon, ``callout-untitled`` with no title (its icon beside its text),
    ``callout-collapse`` when collapsible."""
    if not meta.get("callout"):
        return []
    return ["callout", f"callout-{meta['callout']}",
            *(["callout-style-simple"] if meta.get("appearance") == "simple" else []),
            *(["no-icon"] if meta.get("icon") is False else []),
            *(["callout-untitled"] if not titled else []),
            *(["callout-collapse"] if collapsible else [])]


def div_close(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    if tokens[idx].meta.get("conditional"):
        return ""
    if not tokens[idx].meta.get("box"):
        return "</div>\n"
    return "</details>\n</section>\n" if _collapsible(tokens[idx].meta, env) else "</section>\n"
