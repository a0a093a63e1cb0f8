"""Figures, tables, boxes and sections: Quarto's syntax parsed, numbered once from the source, and referred to.

- A figure is an image alone in its paragraph, ``![Caption](images/x.png){#fig-x}`` (``fig-alt="…"`` gives it
  alt text other than its caption), or alone in a link alone in its paragraph,
  ``[![Caption](images/x.png){#fig-x}](https://…)``; the chart macro writes one.
- A table's caption is a line ``: Caption {#tbl-x}`` after a pipe table; the timeline macro writes one.
- A box is a fenced div, ``::: {#box-x .callout-note title="Key judgements"}`` … ``:::``, nested as pandoc
  nests them (``divs``); ``.box`` is the house style's plain box. A callout with Quarto's id of its
  kind (``#nte-x``, ``#tip-x``, ``#wrn-x``, ``#imp-x``, ``#cau-x``) is numbered in that kind's own sequence.
- ``@fig-x``, ``[@fig-x]``, ``[Fig. @fig-x]`` (a prefix of one's own), ``[-@fig-x]`` (number only) and
  ``[@fig-a; @fig-b]`` ("Figure 1, Figure 2") refer to them, and ``@sec-x`` to a section or heading (its id
  ``sec-x``, or ``x``), sharing pandoc's ``@`` with citations: the prefixes tell them apart.

``number`` works every number out once, from the parsed sections, before any edition is written: the editions
read them from the result, so all three print the same numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterable, Iterator, Mapping, Sequence

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from ..errors import did_you_mean
from ..model import LISTS, Numbering
from .divs import fenced_div_plugin
from .edition import EDITIONS, Edition

#: What each prefix numbers, and the word a reference to it reads.
KINDS = {"fig": "Figure", "tbl": "Table", "box": "Box", "sec": "Section",
         "nte": "Note", "tip": "Tip", "wrn": "Warning", "imp": "Important", "cau": "Caution"}
#: What ``lists:`` names, and the heading each list has.
LIST_TITLES = {"fig": "Figures", "tbl": "Tables", "box": "Boxes"}
CALLOUTS = ("note", "tip", "warning", "important", "caution")
#: The id prefix that numbers each kind of callout, in its own sequence (Quarto's crossref categories).
CALLOUT_REFS = {"note": "nte", "tip": "tip", "warning": "wrn", "important": "imp", "caution": "cau"}
#: A callout's options and the values each takes (quarto-cli ``customnodes/callout.lua``): ``collapse`` makes it
#: collapsible, closed or open; ``icon="false"`` drops its icon; ``appearance`` is its style ("minimal" is
#: "simple" without an icon).
CALLOUT_OPTIONS = {"collapse": ("true", "false"), "icon": ("true", "false"),
                   "appearance": ("default", "simple", "minimal")}
#: Where a div's id or class starts a numbered target of the wrong kind.
_PREFIX = re.compile(r"^(fig|tbl|box|sec|eq|nte|tip|wrn|imp|cau)-")
#: The prefixes a reference may have: Quarto's ``@Fig-x`` (a capital first letter) capitalises what it prints.
_REF_TYPES = "|".join(f"[{t[0]}{t[0].upper()}]{t[1:]}" for t in ("fig", "tbl", "box", "sec", "eq", *CALLOUT_REFS.values()))
_REF_KEY = rf"(?P<key>(?:{_REF_TYPES})-[\w](?:[\w:.#$%&+?<>~/-]*[\w])?)"
#: ``[@fig-x]``, ``[-@fig-x]``, and with a prefix of the author's own, ``[Fig. @fig-x]``.
_BRACKETED = re.compile(rf"\[(?:(?P<prefix>[^\[\]@\n]*?\S)\s+)?(?P<minus>-?)@{_REF_KEY}\]")
_BARE = re.compile(rf"@{_REF_KEY}")
#: One reference of several in a bracket, ``[@fig-a; Fig. @fig-b]``; and any citation's key, to tell a bracket
#: that mixes references and citations.
_ITEM = re.compile(rf"\s*(?:(?P<prefix>[^\[\]@;\n]*?\S)\s+)?(?P<minus>-?)@{_REF_KEY}\s*")
_ANY_ITEM = re.compile(r"\s*(?:[^\[\]@;\n]*?\S\s+)?-?@(?:\{[^{}\n]+\}|\w(?:[\w:.#$%&+?<>~/-]*\w)?)\s*")
_BRACKET = re.compile(r"\[([^\[\]]*)\]")
#: What stands between the references of one bracket: Quarto's ``refDelim`` (``ref-delim``, ",") and a space.
REF_DELIM = ", "
_CAPTION = re.compile(r"^:\s+(?P<text>.*?)\s*(?:\{#(?P<id>[A-Za-z][\w.:-]*)\})?\s*$", re.S)
_CAPTION_ID = re.compile(r"\s*\{#([A-Za-z][\w.:-]*)\}\s*$")
_ATTR = re.compile(r"""\s*(?:\#(?P<id>[A-Za-z][\w.:-]*)|\.(?P<cls>[A-Za-z][\w-]*)|"""
                   r"""(?P<key>[A-Za-z][\w-]*)=(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"'}]+)))""")
_OWN_BLOCKS = ("refs", "cite-this-brief")  # pandoc's marks the citation code places (render.citations)


class CrossrefError(ValueError):
    """A figure, table, box or reference written wrongly; ``line`` is in the Markdown parsed."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Target:
    """Something a reference can point at, with its number (empty: not numbered)."""

    kind: str  # fig, tbl, box, sec
    id: str
    number: str
    title: str  # the caption, box title or heading, as plain text
    section: str  # the id of the section it is in
    #: The word its caption starts with, when not its kind's: a callout's own kind (Quarto: ``#nte-x
    #: .callout-tip`` is captioned "Tip 1", and referred to as "Note 1"), or ``crossref``'s ``fig-title``.
    name: str = ""
    #: What follows the number in its caption when it has a title (``crossref``'s ``title-delim``).
    delim: str = ":"

    @property
    def label(self) -> str:
        """"Figure 2", or a section's title when sections are not numbered."""
        return f"{self.name or KINDS[self.kind]} {self.number}" if self.number else self.title

    @property
    def entry(self) -> str:
        """The target as its list shows it: "Figure 2: The caption"."""
        return f"{self.label}{self.delim} {self.title}" if self.number and self.title else self.label


@dataclass(frozen=True)
class Numbers:
    """Every figure, table, box and section of a brief, numbered; and how references to them read."""

    targets: Mapping[str, Target] = field(default_factory=lambda: MappingProxyType({}))
    numbering: Numbering = Numbering()

    def listing(self, kind: str) -> tuple[Target, ...]:
        """The numbered targets of ``kind``, in reading order."""
        return tuple(t for t in self.targets.values() if t.kind == kind and t.number)

    @property
    def lists(self) -> tuple[tuple[str, str, tuple[Target, ...]], ...]:
        """The lists ``brief.yaml`` asks for: (kind, heading, entries), each with an entry at least."""
        found = ((LISTS[name], self.listing(LISTS[name])) for name in self.numbering.lists)
        return tuple((kind, LIST_TITLES[kind], entries) for kind, entries in found if entries)

    def resolve(self, key: str) -> Target | None:
        """The target of ``@key``: for ``sec-x``, the id ``sec-x`` or else ``x``."""
        kind = key.split("-", 1)[0]
        target = self.targets.get(key)
        if target is None and kind == "sec":
            target = self.targets.get(key[4:])
        return target if target is not None and target.kind == kind else None

    def numbered_title(self, target_id: str, title: str) -> str:
        """A section's or heading's title with its number before it, when the brief numbers sections."""
        target = self.targets.get(target_id)
        if self.numbering.number_sections and target is not None and target.kind == "sec" and target.number:
            return f"{target.number} {title}"
        return title

    def reference_text(self, target: Target, suppress: bool, upper: bool = False, prefix: str = "") -> str:
        """What a reference prints: "Figure 2", "2" (``[-@…]``), "Section 3" or a section's title; ``upper``
        (``@Fig-x``) capitalises the prefix's first letter, and ``prefix`` (``[Fig. @fig-x]``) stands for it,
        as Quarto does."""
        if prefix:  # Quarto: the author's prefix, then the number alone
            return f"{prefix} {target.number or target.title}"
        if target.kind == "sec" and (self.numbering.section_refs == "title" or not target.number):
            return target.title
        if suppress:
            return target.number
        # ``crossref``'s ``fig-prefix`` … (Quarto's ``refPrefix``); an empty one prints the number alone.
        prefix = self.numbering.ref_prefix(target.kind, KINDS[target.kind])
        if not prefix:
            return target.number
        return f"{prefix[:1].upper() + prefix[1:] if upper else prefix} {target.number}"


# -- Parsing -------------------------------------------------------------------------------------------------


def setup(md: MarkdownIt) -> None:
    """Add fenced divs (boxes), table captions and references to ``md``."""
    fenced_div_plugin(md, validate=_is_div)
    # Before citations, which would read ``@Fig-x`` as a citation key.
    rules = md.inline.ruler.get_all_rules()
    md.inline.ruler.before("citation" if "citation" in rules else "link", "crossref", _reference)
    md.core.ruler.push("crossref_blocks", _blocks)


def _is_div(params: str) -> bool:
    params = params.strip()
    if not params:
        return False
    attrs = parse_attributes(params)
    return attrs is not None and attrs.id not in _OWN_BLOCKS


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


CONDITIONS = ("when-format", "unless-format")


def shown_in(attrs: DivAttributes) -> frozenset[str] | None:
    """The editions a ``.content-visible`` or ``.content-hidden`` div shows in (Quarto's ``propertiesMatch``:
    every condition given must hold), or None for any other div."""
    visible = "content-visible" in attrs.classes
    if not visible and "content-hidden" not in attrs.classes:
        return None
    shown = set()
    for edition in EDITIONS.values():
        match = all((value in edition.quarto_formats) == (key == "when-format") for key, value in attrs.attributes
                    if key in CONDITIONS)
        if match == visible:
            shown.add(edition.name)
    return frozenset(shown)


def _reference(state: StateInline, silent: bool) -> bool:
    """``[@fig-x]``, ``[-@fig-x]``, ``[@fig-a; @fig-b]`` or ``@fig-x`` (not inside a word or an e-mail
    address)."""
    char = state.src[state.pos]
    if char == "[":
        cluster = _cluster(state.src, state.pos)
        if cluster is not None:
            items, end = cluster
            if not silent and items is None:  # reported by ``_blocks``: Quarto would drop the citations
                state.push("crossref_mixed", "", 0).content = state.src[state.pos: end]
            elif not silent:
                for i, item in enumerate(items or ()):
                    if i:  # Quarto's resolveRefs: the delimiter before every reference but the first
                        state.push("text", "", 0).content = REF_DELIM
                    _push_reference(state, item)
            state.pos = end
            return True
        match = _BRACKETED.match(state.src, state.pos)
        if match is None or state.src[match.end(): match.end() + 1] in ("(", "["):
            return False
    elif char == "@":
        if state.pos > 0 and (state.src[state.pos - 1].isalnum() or state.src[state.pos - 1] in "_@"):
            return False
        match = _BARE.match(state.src, state.pos)
        if match is None:
            return False
    else:
        return False
    if not silent:
        _push_reference(state, match)
    state.pos = match.end()
    return True


def _push_reference(state: StateInline, match: re.Match[str]) -> None:
    token = state.push("crossref", "a", 0)
    key = match.group("key")
    # Quarto looks the target up with the first letter in lower case, and capitalises the prefix.
    token.meta = {"key": key[0].lower() + key[1:], "upper": key[0].isupper(),
                  "suppress": bool(match.groupdict().get("minus")),
                  "prefix": (match.groupdict().get("prefix") or "").strip()}


def _cluster(src: str, pos: int) -> tuple[list[re.Match[str]] | None, int] | None:
    """The references of a bracket of several, ``[@fig-a; @fig-b]``, and where it ends; None for a bracket of
    one, or anything else; no references (None) for one that mixes references and citations."""
    bracket = _BRACKET.match(src, pos)  # read up to the next bracket only: linear over a run of them
    if bracket is None or ";" not in bracket.group(1) or src[bracket.end(): bracket.end() + 1] in ("(", "["):
        return None
    inner, end = bracket.group(1), bracket.end() - 1
    pieces = inner.split(";")
    items = [_ITEM.fullmatch(piece) for piece in pieces]
    if all(items):
        return [item for item in items if item is not None], end + 1
    if any(items) and all(_ANY_ITEM.fullmatch(piece) for piece in pieces):
        return None, end + 1
    return None


def _blocks(state: StateCore) -> None:
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
            _div(token, level, errors)
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
            if fig_id and _PREFIX.match(fig_id) and not fig_id.startswith("fig-"):
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
        if attrs is None or attrs.title is not None or not any(
                c.startswith("callout-") and c.removeprefix("callout-") in CALLOUTS for c in attrs.classes):
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


def _div(token: Token, level: int, errors: list[tuple[int, str]]) -> None:
    """Read a fenced div's attributes; a box (``#box-…``, ``.box`` or ``.callout-…``) gets its heading level."""
    line = token.map[0] if token.map else 0
    attrs = parse_attributes(token.info) or DivAttributes()
    if not token.meta.get("closed"):
        errors.append((line, "this box or div is never closed: end it with a line ':::'"))
    div_id, classes = attrs.id, attrs.classes
    shown = shown_in(attrs)
    if shown is not None:
        for key, _ in attrs.attributes:
            if key not in CONDITIONS and key.startswith(("when-", "unless-")):
                errors.append((line, f"'{key}' is not a condition a brief can meet: use when-format or "
                                     "unless-format"))
        token.meta.update(box=False, classes=(), title=None, callout=None, heading=level, shown_in=shown)
        return
    callouts = [c.removeprefix("callout-") for c in classes if c.startswith("callout-")]
    for kind in callouts:
        if kind not in CALLOUTS:
            errors.append((line, f"unknown callout 'callout-{kind}': use "
                                 f"{', '.join(f'callout-{k}' for k in CALLOUTS)}, or box"))
    ref = div_id.split("-", 1)[0] if div_id and _PREFIX.match(div_id) else None
    if ref in CALLOUT_REFS.values() and not callouts:
        errors.append((line, f"div id '{div_id}' numbers a callout: give the div a callout's class "
                             f"(.callout-{next(k for k, v in CALLOUT_REFS.items() if v == ref)})"))
    elif ref is not None and ref != "box" and ref not in CALLOUT_REFS.values():
        errors.append((line, f"div id '{div_id}' must start with 'box-' to number it as a box (or nte-, tip-, "
                             "wrn-, imp- or cau- on a callout)"))
    box = bool(div_id and div_id.startswith("box-")) or "box" in classes or bool(callouts)
    if div_id:
        token.attrSet("id", div_id)
    callout = callouts[0] if callouts and callouts[0] in CALLOUTS else None
    options = _callout_options(attrs, bool(callouts), line, errors)
    # A callout with no title of its own is titled by its kind, as Quarto titles it ("Note"), unless its
    # appearance is simple or minimal; one numbered by its kind's id is titled "Note 1" alone.
    numbered = ref in CALLOUT_REFS.values()
    heading: Token | None = token.meta.get("heading_title")
    title = attrs.title or (heading.content.strip() if heading is not None else None) or (
        callout.capitalize() if callout and not numbered and options["appearance"] == "default" else None)
    if not (title or numbered or ref == "box"):
        options["collapse"] = None  # Quarto: a callout with no title has nothing to open it by
    token.meta.update(box=box, classes=classes, title=title, callout=callout, heading=min(level + 1, 6),
                      title_inline=list(heading.children or []) if heading is not None and not attrs.title else None,
                      **options)


def _callout_options(attrs: DivAttributes, callout: bool, line: int,
                     errors: list[tuple[int, str]]) -> dict[str, Any]:
    """A callout's ``collapse``, ``icon`` and ``appearance``, as Quarto's callout constructor reads them:
    ``collapse`` None (not collapsible), "true" (closed) or "false" (open); ``appearance="minimal"`` is simple
    with no icon. A value Quarto does not name, or the options on a div that is not a callout, is an error."""
    given: dict[str, str] = {}
    for key, value in attrs.attributes:
        allowed = CALLOUT_OPTIONS.get(key)
        if allowed is None:
            continue
        if not callout:
            errors.append((line, f"'{key}' is an option of callouts: give the div a callout's class "
                                 f"({', '.join(f'.callout-{k}' for k in CALLOUTS)}), or leave it out"))
        elif value not in allowed:
            choices = " or ".join(f'{key}="{v}"' for v in allowed)
            errors.append((line, f'callout option {key}="{value}" is not one Quarto takes: use {choices}'))
        else:
            given[key] = value
    appearance = given.get("appearance", "default")
    return {"collapse": given.get("collapse"),
            "icon": given.get("icon", "true") == "true" and appearance != "minimal",
            "appearance": "simple" if appearance == "minimal" else appearance}


# -- Numbering -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionTokens:
    """What ``number`` reads of one section: its id, title, role and parsed tokens."""

    id: str
    title: str
    role: str
    tokens: Sequence[Token]


def number(sections: Iterable[SectionTokens], numbering: Numbering, as_text: Any) -> Numbers:
    """Number every figure, table, box and section, in reading order; ``as_text`` renders inline tokens as
    plain text (the parser's renderer)."""
    targets: dict[str, Target] = {}
    counts: dict[str, int] = {}
    body = back = 0
    for part in sections:
        if part.role == "body":
            body += 1
            prefix = str(body)
        else:
            back += 1
            prefix = chr(ord("A") + (back - 1) % 26)
        if numbering.per_section:
            counts = {}
        section_number = prefix if part.role == "body" else ""
        targets.setdefault(part.id, Target("sec", part.id, section_number, part.title, part.id))
        heading_counts = [0] * 7
        for kind, token_id, title, name in _found(part.tokens, as_text):
            if kind == "sec":
                level = int(title[0])
                heading_counts[level] += 1
                heading_counts[level + 1:] = [0] * (6 - level)
                numbers = [str(n) for n in heading_counts[2: level + 1]]
                number_text = ".".join([section_number, *numbers]) if section_number else ""
                targets.setdefault(token_id, Target("sec", token_id, number_text, title[1:], part.id))
                continue
            counts[kind] = counts.get(kind, 0) + 1
            n = f"{prefix}.{counts[kind]}" if numbering.per_section else str(counts[kind])
            # Quarto's ``titlePrefix``: ``crossref``'s ``fig-title`` (``nte-title`` …) over the kind's own word.
            word = numbering.caption_title(kind, name or KINDS[kind])
            targets.setdefault(token_id, Target(kind, token_id, n, title, part.id, word, numbering.title_delim))
    return Numbers(MappingProxyType(targets), numbering)


def _found(tokens: Sequence[Token], as_text: Any) -> Iterator[tuple[str, str, str, str]]:
    """(kind, id, title, caption word) of each numbered thing in ``tokens``; a heading's title starts with its
    level."""
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.attrGet("id"):
            yield "sec", str(token.attrGet("id")), token.tag[1] + tokens[i + 1].content.strip(), ""
        elif token.type == "figure":
            image = figure_image(token)
            fig_id = str(image.attrGet("id") or "") if image is not None else ""
            if fig_id.startswith("fig-") and image is not None:
                yield "fig", fig_id, figure_caption_text(image, as_text), ""
        elif token.type == "table_open" and str(token.attrGet("id") or "").startswith("tbl-"):
            yield "tbl", str(token.attrGet("id")), as_text(token.meta.get("caption") or []).strip(), ""
        elif token.type == "container_div_open" and token.meta.get("box"):
            div_id = str(token.attrGet("id") or "")
            kind = div_id.split("-", 1)[0]
            callout = token.meta.get("callout")
            if kind == "box":
                yield "box", div_id, str(token.meta.get("title") or ""), ""
            elif callout and kind in CALLOUT_REFS.values():
                yield kind, div_id, str(token.meta.get("title") or ""), callout.capitalize()


def figure_image(figure: Token) -> Token | None:
    """A figure's image: its one child, or the one inside its link (a linked figure)."""
    return next((child for child in figure.children or [] if child.type == "image"), None)


def figure_caption_text(image: Token, as_text: Any) -> str:
    """A figure's caption as plain text: its image's title if it has one, else (Quarto) its description."""
    title = image.attrGet("title")
    return str(title) if title else as_text(image.children or []).strip()


def problems(numbers: Numbers, tokens: Sequence[Token]) -> Iterator[tuple[int | None, str]]:
    """Each reference in ``tokens`` that names no target of its kind: (line, message naming the nearest ids)."""
    ids = [*numbers.targets, *(f"sec-{k}" for k, t in numbers.targets.items() if t.kind == "sec")]
    for token in tokens:
        for child in token.children or []:
            if child.type != "crossref":
                continue
            key = child.meta["key"]
            if numbers.resolve(key) is not None:
                continue
            kind = key.split("-", 1)[0]
            what, plural = {"fig": ("figure", "figures"), "tbl": ("table", "tables"), "box": ("box", "boxes"),
                            "sec": ("section or heading", "sections and headings"),
                            **{ref: (f"{name} callout", f"{name} callouts") for name, ref in CALLOUT_REFS.items()},
                            }.get(kind, (None, None))
            if what is None:
                yield child.meta.get("line"), f"'@{key}': equations are not numbered in a brief"
                continue
            hint = did_you_mean(key, ids)
            if not hint:
                same = [t.id for t in numbers.targets.values() if t.kind == kind and (t.number or kind == "sec")]
                hint = f" (the {plural} are {', '.join(same[:6])}{', …' if len(same) > 6 else ''})" if same else \
                    f" (the brief has no {what} with an id)"
            yield child.meta.get("line"), f"no {what} with the id '{key}'{hint}"


def for_edition(tokens: Sequence[Token], edition: Edition) -> list[Token]:
    """The tokens ``edition`` shows: conditional content (``.content-visible``, ``.content-hidden``) it does not
    show left out, each run of it replaced by a ``skipped`` token holding the tokens, so that the EPUB can count
    the blocks the PDF has there."""
    out: list[Token] = []
    for token in tokens:
        editions = token.meta.get("in_editions") if token.meta else None
        if editions is None or edition.name in editions:
            out.append(token)
        elif out and out[-1].type == "skipped":
            out[-1].children = [*(out[-1].children or []), token]
        else:
            out.append(Token("skipped", "", 0, children=[token], block=True))
    return out
