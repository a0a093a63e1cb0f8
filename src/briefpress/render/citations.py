"""Citations in pandoc's syntax: resolved from the parse, numbered and formatted once for the whole brief.

``[@key]``, ``[@key, p. 33]``, ``[see @a, ch. 2; @b]``, ``[-@key]`` and a narrative ``@key``, read as ``cite``
nodes by ``render.cites``, become ``citation`` tokens. Under a note style each citation outside a note becomes a footnote of its own, numbered with the brief's
notes, as pandoc numbers them. Every cluster is then formatted in one pass, in reading order (a note's citations
where its call stands), so that positions (``ibid.``, short forms) and disambiguation are the brief's, not a
section's. The texts are stored with the rendered brief; every edition prints the same ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape
from typing import Any, Iterator, Mapping, Sequence

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import OptionsDict

from .citeproc import CiteItem, Cluster, Formatted, anchor
from .cites import CiteSyntax, syntax
from .notes import footnote_bodies

_REFS_OPEN = re.compile(r":::+[ \t]*\{[ \t]*#(refs|cite-this-brief)[ \t]*\}[ \t]*$")
_REFS_CLOSE = re.compile(r":::+[ \t]*$")

_PUNCT = re.compile(r"[.,;:!?]")


def setup(md: MarkdownIt) -> None:
    """Add the citation rules to the parser: ``cite`` nodes of citations (``render.cites``, which reads them only
    when the parse's env carries a ``CiteSyntax``) become ``citation`` tokens; and the marks of the bibliography.
    Also the render rules of what a note style's citations leave in the text around their calls."""
    md.core.ruler.after("inline", "citations", _resolve)
    md.core.ruler.before("smartquotes", "citation_words", _as_words)
    md.core.ruler.after("smartquotes", "citation_words_end", _as_nothing)
    md.core.ruler.before("footnote_tail", "citation_lines", _citation_lines)
    md.core.ruler.before("footnote_tail", "citation_notes", _citation_notes)
    md.block.ruler.before("paragraph", "bibliography", _refs_block)
    md.add_render_rule("softbreak", _softbreak_rule(md))
    md.add_render_rule("citation_space", _citation_space)
    md.add_render_rule("citation_punct", _citation_punct)


def _refs_block(state: Any, start: int, end: int, silent: bool) -> bool:
    """``::: {#refs}`` and ``:::`` on the next line: where the bibliography goes (pandoc's and Quarto's mark);
    ``::: {#cite-this-brief}``: where the brief's own reference goes."""
    if start + 1 >= end or state.sCount[start] - state.blkIndent >= 4:
        return False
    line = state.src[state.bMarks[start] + state.tShift[start]: state.eMarks[start]]
    opening = _REFS_OPEN.match(line)
    if not opening:
        return False
    following = state.src[state.bMarks[start + 1] + state.tShift[start + 1]: state.eMarks[start + 1]]
    if not _REFS_CLOSE.match(following):
        return False
    if not silent:
        token = state.push("bibliography" if opening.group(1) == "refs" else "cite_this_brief", "div", 0)
        token.map = [start, start + 2]
        token.block = True
    state.line = start + 2
    return True


def _syntax(state: StateCore) -> CiteSyntax | None:
    return syntax(state.env)


def _resolve(state: StateCore) -> None:
    """Make each ``cite`` node of citations a ``citation`` token, its keys items for the engine."""
    for token in state.tokens:
        for child in token.children or [] if token.type == "inline" else []:
            if child.type == "cite" and not any(item.reference for item in child.meta["items"]):
                child.type = "citation"
                child.meta = {"items": tuple(CiteItem(id=item.key) for item in child.meta["items"]),
                              "narrative": child.meta["narrative"], "source": child.meta["source"]}


#: What a citation counts as for the quotation marks around it: a word, as pandoc counts it (its smart quotes
#: close after a citation and open before one); markdown-it's look past a token with no text.
_AS_WORD = "x"


def _as_words(state: StateCore) -> None:
    """Give each citation a word's text while quotation marks are made curly (under a note style, the author's
    name a narrative citation leaves in the text, and the call of the note a citation becomes)."""
    given: list[Token] = []
    for token in state.tokens:
        for child in token.children or [] if token.type == "inline" else []:
            if (child.type in ("citation", "citation_author")
                    or child.type == "footnote_ref" and child.meta.get("citation")) and not child.content:
                child.content = _AS_WORD
                given.append(child)
    state.env["_citation_words"] = given


def _as_nothing(state: StateCore) -> None:
    """Take the word's text back from each citation."""
    for child in state.env.pop("_citation_words", ()):
        child.content = ""


def _citation_lines(state: StateCore) -> None:
    """Record each citation's and cross-reference's line (of the Markdown parsed) before notes are moved to the
    end, for errors at their lines; and the punctuation right after each citation."""
    for token in state.tokens:
        if token.type != "inline" or not token.map:
            continue
        line = token.map[0]
        children = token.children or []
        for at, child in enumerate(children):
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            elif child.type in ("citation", "crossref"):
                child.meta["line"] = line
            if child.type == "citation":  # the punctuation after it, which pandoc weighs (and moves into notes)
                following = children[at + 1] if at + 1 < len(children) else None
                punct = _PUNCT.match(following.content) if following is not None and following.type == "text" \
                    else None
                child.meta["after"] = punct.group() if punct else ""


def _citation_notes(state: StateCore) -> None:
    """Under a note style, turn each citation outside a note into a note of its own, numbered in reading order
    with the brief's notes, and move the punctuation that follows it before its call, as pandoc does."""
    syntax = _syntax(state)
    if syntax is None or not syntax.notes:
        return
    notes = state.env.setdefault("footnotes", {})
    notes.setdefault("refs", {})
    old_list: dict[int, dict[str, Any]] = notes.setdefault("list", {})
    order: list[tuple[str, Any]] = []  # ("user", old id) or ("cite", (its note's call, the citation))
    inside = False
    for token in state.tokens:
        if token.type == "footnote_reference_open":
            inside = True
        elif token.type == "footnote_reference_close":
            inside = False
        elif token.type == "inline" and token.children and not inside:
            token.children = list(_notes_in_text(token.children, order))
    mapping: dict[int, int] = {}
    new_list: dict[int, dict[str, Any]] = {}
    for kind, value in order:
        if kind == "user":
            if value in mapping:
                continue
            mapping[value] = len(new_list)
            new_list[mapping[value]] = old_list[value]
        else:
            call, citation = value
            citation.meta["own_note"] = True
            call.meta = {"id": len(new_list), "subId": 0, "citation": True}
            new_list[len(new_list)] = {"content": citation.meta["source"], "tokens": [citation], "count": 1}
    for old_id, entry in old_list.items():
        if old_id not in mapping:
            mapping[old_id] = len(new_list)
            new_list[mapping[old_id]] = entry
    for token in state.tokens:
        for child in token.children or []:
            if child.type == "footnote_ref" and "label" in child.meta:
                child.meta["id"] = mapping[child.meta["id"]]
    notes["list"] = new_list
    notes["refs"] = {label: mapping.get(i, i) for label, i in notes["refs"].items()}


def _notes_in_text(children: Sequence[Token], order: list[tuple[str, Any]]) -> Iterator[Token]:
    """A paragraph's inline tokens, each citation made a note's call (a narrative one's author left before it),
    with pandoc's spacing: the space before the call goes, unless the style leaves an author's name in the text
    (``_space_kept``), or the space follows, with nothing else between, a call whose own space went (pandoc
    removes the space of ``x [@a] [@b]`` before the first call only: ``x¹ ²``); the punctuation right after the
    citation comes before the call (``citation_punct``)."""
    out: list[Token] = []
    pending_punct = ""
    after_removed: Token | None = None  # the last call whose space went, while only spaces follow it
    for child in children:
        if child.type == "footnote_ref":
            order.append(("user", child.meta["id"]))
            out.append(child)
            after_removed = None
            continue
        if child.type != "citation":
            if not (child.type == "softbreak" or child.type == "text" and not child.content.strip()):
                after_removed = None
            if pending_punct and child.type == "text":
                child.content = child.content[len(pending_punct):]
                pending_punct = ""
            out.append(child)
            continue
        removed = after_removed is None and _mark_space_before(out, child.meta)
        if child.meta["narrative"]:
            author = Token("citation_author", "", 0)
            author.meta = child.meta
            out.append(author)
        if child.meta["after"]:
            pending_punct = child.meta["after"]
            punct = Token("citation_punct", "", 0)
            punct.content = pending_punct
            punct.meta = child.meta
            out.append(punct)
        call = Token("footnote_ref", "", 0)
        order.append(("cite", (call, child)))
        out.append(call)
        after_removed = call if removed and not child.meta["after"] else None
    yield from out


def _mark_space_before(out: list[Token], citation: dict[str, Any]) -> bool:
    """Mark the space right before a citation that becomes a note (the end of a text, or a line break in the
    source), which is printed only if ``_space_kept``; whether there was one."""
    if not out:
        return False
    last = out[-1]
    if last.type == "softbreak":
        last.meta["before_citation"] = citation
        return True
    if last.type == "text":
        text = last.content.rstrip()
        if text != last.content:
            space = Token("citation_space", "", 0)
            space.content = last.content[len(text):]
            space.meta = {"before_citation": citation}
            last.content = text
            out.append(space)
            return True
    return False


def _author_of(citation: dict[str, Any], env: dict) -> str | None:
    """The author's name a citation leaves in the text under a note style (empty for none); None if it was not
    formatted (printed as written)."""
    works: CitedWorks | None = env.get("citations")
    index = citation.get("cluster")
    if works is None or index is None or index in works.unread:
        return None
    return works.clusters[index].author if citation["narrative"] else ""


def _space_kept(citation: dict[str, Any], env: dict) -> bool:
    """Whether the space before a citation's note call is printed. pandoc removes it (``x [@a] y`` reads
    ``x¹ y``), unless a narrative citation leaves its author's name there (``x Author¹ y``): not when the style
    prints no author's name for the reference (a statute, a case, a work with no author)."""
    return _author_of(citation, env) != ""


def _citation_space(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    token = tokens[idx]
    return escape(token.content) if _space_kept(token.meta["before_citation"], env) else ""


def _citation_punct(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
    """The punctuation after a citation, moved before its note's call, as pandoc moves it; a narrative
    citation's author name already holds it, as pandoc gave it (or dropped it, after ``et al.``)."""
    token = tokens[idx]
    return "" if _author_of(token.meta, env) else escape(token.content)


def _softbreak_rule(md: MarkdownIt) -> Any:
    """The rule for a line break in the source, which prints nothing where it is the space before a note's
    call that pandoc removes."""
    plain = md.renderer.rules["softbreak"]

    def softbreak(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        citation = tokens[idx].meta.get("before_citation")
        if citation is not None and not _space_kept(citation, env):
            return ""
        return plain(tokens, idx, options, env)

    return softbreak


def walk_reading_order(tokens: Sequence[Token], note_offset: int) -> Iterator[tuple[Token, int]]:
    """Yield each citation token of a section with the number of the note it stands in (0: the text), in reading
    order: a note's citations come where the note is called."""
    main, bodies = footnote_bodies(tokens)
    visited: set[int] = set()

    def visit(stream: Sequence[Token], note: int) -> Iterator[tuple[Token, int]]:
        if note:
            _mark_lead(stream)
        for token in stream:
            for child in token.children or []:
                if child.type == "citation":
                    yield child, note
                elif child.type == "footnote_ref" and child.meta["id"] not in visited:
                    visited.add(child.meta["id"])
                    yield from visit(bodies.get(child.meta["id"], []), note_offset + child.meta["id"] + 1)

    yield from visit(main, 0)


def _mark_lead(body: Sequence[Token]) -> None:
    """Mark the citation a note of one paragraph begins with, which pandoc sets as the note's own citation
    (not in parentheses, capitalised), unless it is narrative."""
    inlines = [t for t in body if t.type == "inline"]
    if len(inlines) != 1 or sum(t.type == "paragraph_open" for t in body) != 1 or len(body) != 3:
        return
    first = next((c for c in inlines[0].children or [] if not (c.type == "text" and not c.content.strip())), None)
    if first is not None and first.type == "citation" and not first.meta["narrative"]:
        first.meta["lead"] = True


def cluster_of(token: Token, note: int) -> Cluster:
    return Cluster(items=token.meta["items"], note=note, narrative=token.meta["narrative"],
                   own_note=bool(token.meta.get("own_note")), source=token.meta["source"],
                   after=token.meta.get("after", ""), lead=bool(token.meta.get("lead")))


@dataclass(frozen=True)
class CitedWorks:
    """The brief's citations and bibliography, formatted once for every edition."""

    clusters: tuple[Formatted, ...]
    entries: tuple[tuple[str, str], ...]
    note_style: bool
    hanging_indent: bool
    #: The brief's own entry in its style, for "Cite this brief".
    brief_entry: str = ""
    #: The clusters the engine did not read as citations (printed as written).
    unread: frozenset[int] = frozenset()
    #: Of those, the clusters that cite a key pandoc read no reference for, each with what is wrong (errors).
    missing: Mapping[int, tuple[str, ...]] = field(default_factory=dict)


_ENTRY = re.compile(r'^\s*<div class="csl-entry">(.*)</div>\s*$', re.S)


_HREF = re.compile(r'href="(#ref-[^"]*)"')


def citation_html(token: Token, env: dict) -> str:
    """The formatted text of a citation token (for a narrative one under a note style: the note's text)."""
    works: CitedWorks | None = env.get("citations")
    index = token.meta.get("cluster")
    if works is None or index is None:
        return escape(token.meta["source"])
    done = works.clusters[index]
    html = done.text if not token.meta["narrative"] or works.note_style or not done.author \
        else f"{done.author} {done.text}"
    return _linked(html, env)


def citation_author_html(token: Token, env: dict) -> str:
    """The author's name a narrative citation leaves in the text under a note style."""
    works: CitedWorks | None = env.get("citations")
    index = token.meta.get("cluster")
    if works is None or index is None:
        return ""
    return _linked(works.clusters[index].author, env)


def _linked(html: str, env: dict) -> str:
    """Point each citation's link at its entry in the edition's own terms (another file, in the EPUB)."""
    link = env.get("link_href")
    return _HREF.sub(lambda m: f'href="{escape(link(m.group(1)))}"', html) if link else html


def cite_this_brief_html(works: CitedWorks | None, attributes: str = "") -> str:
    """The brief's own reference, as a reader would cite it; its paragraph given ``attributes`` (its block's
    number, in print)."""
    if works is None or not works.brief_entry:
        return ""
    match = _ENTRY.match(works.brief_entry)
    body = (match.group(1) if match else works.brief_entry).strip()
    return f'<p class="cite-this-brief"{attributes}>{body}</p>\n'


def bibliography_html(works: CitedWorks | None, blocks: Sequence[int] = ()) -> str:
    """The bibliography as a list of entries, each with the id ``ref-<key>`` that citations link to, and the
    entries' block numbers in ``data-block`` if given (in print)."""
    if works is None or not works.entries:
        return ""
    cls = "references hanging-indent" if works.hanging_indent else "references"
    rows = []
    for index, (key, entry) in enumerate(works.entries):
        match = _ENTRY.match(entry)
        body = (match.group(1) if match else entry).strip()
        block = f' data-block="{blocks[index]}"' if index < len(blocks) else ""
        rows.append(f'<div class="csl-entry" id="{anchor(key)}" role="listitem"{block}>{body}</div>')
    return f'<div class="{cls}" role="list">\n' + "\n".join(rows) + "\n</div>\n"
