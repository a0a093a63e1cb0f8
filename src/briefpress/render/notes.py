"""Notes written as each edition's HTML: the calls, the notes' block (a section of ``aside`` notes, with
``epub:type`` in the EPUB), and, for the edition that sets notes where they are called (the PDF), each note's
text at its call."""

from __future__ import annotations

from typing import Any, Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.utils import OptionsDict


def _note_number(token: Token, env: dict) -> int:
    return env["note_offset"] + token.meta["id"] + 1


def _footnote_ref(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    token = tokens[idx]
    n = _note_number(token, env)
    if env["edition"].notes_where_called:
        # WeasyPrint floats the note to the foot of the page and numbers the call itself.
        text = env.setdefault("note_inline", {}).get(token.meta["id"])
        if text is None:  # a call inside a note's own text: a note cannot float inside a note
            return f"<sup>{n}</sup>"
        # The empty span marks the call's place, so that the layout can tell the call's page from the note's.
        return f'<span class="note-call" id="fnref-{n}"></span><span class="footnote" id="fn-{n}">{text}</span>'
    sub = token.meta.get("subId", 0)
    ref_id = f"fnref-{n}" + (f"-{sub}" if sub else "")
    epub_type = ' epub:type="noteref"' if env["edition"].epub_types else ""
    return (f'<a class="noteref" href="#fn-{n}" id="{ref_id}"{epub_type} role="doc-noteref">'
            f"<sup>{n}</sup></a>")


def _footnote_block_open(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    epub_type = ' epub:type="footnotes"' if env["edition"].epub_types else ""
    return f'<section class="footnotes"{epub_type} role="doc-endnotes" aria-label="Notes">\n'


def _footnote_block_close(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    return "</section>\n"


def _footnote_open(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    n = _note_number(tokens[idx], env)
    env["pending_note_label"] = f'<a class="note-back" href="#fnref-{n}" role="doc-backlink">{n}.</a> '
    epub_type = ' epub:type="footnote"' if env["edition"].epub_types else ""
    entry = env.get("footnotes", {}).get("list", {}).get(tokens[idx].meta["id"], {})
    own = [t.type for t in entry.get("tokens", ())] == ["citation"]  # a note that is a citation (note styles)
    cls = "footnote citation-note" if own else "footnote"
    return f'<aside class="{cls}" id="fn-{n}"{epub_type} role="doc-footnote">\n'


def _footnote_close(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    return "</aside>\n"


def _footnote_anchor(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    return ""


def footnote_bodies(tokens: Sequence[Token]) -> tuple[list[Token], dict[int, list[Token]]]:
    """A section's tokens apart from its notes, and each note's tokens by its number."""
    bodies: dict[int, list[Token]] = {}
    current: int | None = None
    main: list[Token] = []
    for token in tokens:
        if token.type == "footnote_open":
            current = token.meta["id"]
            bodies[current] = []
        elif token.type == "footnote_close":
            current = None
        elif current is not None:
            bodies[current].append(token)
        elif token.type not in ("footnote_block_open", "footnote_block_close"):
            main.append(token)
    return main, bodies


def footnote_inline_html(md: MarkdownIt, tokens: list[Token], env: dict) -> dict[int, str]:
    """Return each footnote's text as inline HTML, for notes placed at their call (PDF)."""
    return {key: " ".join(md.renderer.renderInline(token.children or [], md.options, env)
                          for token in body if token.type == "inline")
            for key, body in footnote_bodies(tokens)[1].items()}


RULES = {
    "footnote_ref": _footnote_ref,
    "footnote_block_open": _footnote_block_open,
    "footnote_block_close": _footnote_block_close,
    "footnote_open": _footnote_open,
    "footnote_close": _footnote_close,
    "footnote_anchor": _footnote_anchor,
}
