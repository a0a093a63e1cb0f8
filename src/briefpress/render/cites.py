"""Every ``@`` of pandoc's syntax, parsed once into one kind of inline node, ``cite`` (pandoc's ``Cite``).

- A bracket: ``[@key]``, ``[see @a, p. 3; @b]``, ``[-@key]`` (author suppressed), and the cross-references
  ``[@fig-x]``, ``[-@fig-x]`` (number only), ``[Fig. @fig-x]`` (a prefix of one's own), ``[@fig-a; @fig-b]``.
- A narrative ``@key`` (with a locator after it, ``@key [p. 3]``) or a cross-reference ``@fig-x`` or ``@Fig-x``
  (Quarto: a capital first letter capitalises what it prints), not inside a word or an e-mail address.

A key with the prefix of something numbered (``fig-``, ``tbl-``, ``box-``, ``sec-``, ``eq-``, and the callouts'
``nte-``, ``tip-``, ``wrn-``, ``imp-``, ``cau-``) is a cross-reference; any other key a citation, read only
when the brief cites (the parse's env carries a ``CiteSyntax``): otherwise its ``@`` is text. Each node's
``meta["items"]`` holds a ``Cite`` per key; ``meta["source"]`` the text it was read from. The passes resolve
the nodes: ``render.crossref`` those of cross-references, ``render.citations`` the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

#: The id prefixes a cross-reference's key starts with: what is numbered, and the callouts' own sequences.
REF_PREFIXES = ("fig", "tbl", "box", "sec", "eq", "nte", "tip", "wrn", "imp", "cau")
#: Keys with these prefixes are not read as citations (Quarto's), in a bracket or narrative.
CROSSREF_PREFIXES = ("fig-", "tbl-", "box-", "sec-", "eq-")
#: The key grammar after the prefix, as pandoc's: a word character, then these, ending in a word character.
_REST = r"[\w](?:[\w:.#$%&+?<>~/-]*[\w])?"
_REF_TYPES = "|".join(f"[{t[0]}{t[0].upper()}]{t[1:]}" for t in REF_PREFIXES)
_REF_KEY = rf"(?P<key>(?:{_REF_TYPES})-{_REST})"
#: ``[@fig-x]``, ``[-@fig-x]``, and with a prefix of the author's own, ``[Fig. @fig-x]``.
_BRACKETED = re.compile(rf"\[(?:(?P<prefix>[^\[\]@\n]*?\S)\s+)?(?P<minus>-?)@{_REF_KEY}\]")
_BARE = re.compile(rf"@{_REF_KEY}")
#: One reference of several in a bracket, ``[@fig-a; Fig. @fig-b]``; and any key, to tell a bracket that mixes
#: references and citations.
_ITEM = re.compile(rf"\s*(?:(?P<prefix>[^\[\]@;\n]*?\S)\s+)?(?P<minus>-?)@{_REF_KEY}\s*")
_ANY_ITEM = re.compile(r"\s*(?:[^\[\]@;\n]*?\S\s+)?-?@(?P<key>\{[^{}\n]+\}|\w(?:[\w:.#$%&+?<>~/-]*\w)?)\s*")
_BRACKET = re.compile(r"\[([^\[\]]*)\]")
#: A citation's key: braced, or pandoc's grammar.
_KEY = rf"(?:\{{(?P<braced>[^{{}}\n]+)\}}|(?P<plain>{_REST}))"
_CITE = re.compile(rf"(?P<minus>-?)@{_KEY}")
_NARRATIVE = re.compile(rf"@{_KEY}")


@dataclass(frozen=True)
class CiteSyntax:
    """What the parser needs to know of a brief that cites (one that names no bibliography has none, and its
    ``@`` is text): whether citations become notes. Keys are checked after parsing, at their lines
    (``render.checks``); locators, prefixes and suffixes are read by the engine, from each citation's
    source."""

    notes: bool = False


@dataclass(frozen=True)
class Cite:
    """One key of a ``cite`` node. A cross-reference's key has its first letter in lower case (``upper`` says
    it was written capitalised), its ``prefix`` (``[Fig. @fig-x]``) and ``suppress`` (``[-@fig-x]``)."""

    key: str
    reference: bool
    prefix: str = ""
    suppress: bool = False
    upper: bool = False


def setup(md: MarkdownIt) -> None:
    """Add the one rule that reads ``@`` to the parser, before links."""
    md.inline.ruler.before("link", "cite", _cite)


def syntax(env: dict) -> CiteSyntax | None:
    """The parse's ``CiteSyntax``, if the brief cites."""
    found = env.get("cite_syntax")
    return found if isinstance(found, CiteSyntax) else None


def _cite(state: StateInline, silent: bool) -> bool:
    char = state.src[state.pos]
    if char == "[":
        found = _references(state.src, state.pos) or _bracketed(state)
    elif char == "@":
        if state.pos > 0 and (state.src[state.pos - 1].isalnum() or state.src[state.pos - 1] in "_@"):
            return False  # an e-mail address or a handle inside a word
        found = _bare(state.src, state.pos) or _narrative(state)
    else:
        return False
    if found is None:
        return False
    meta, end = found
    if not silent:
        state.push("cite", "", 0).meta = {**meta, "source": state.src[state.pos: end]}
    state.pos = end
    return True


def _reference(match: re.Match[str]) -> Cite:
    key = match.group("key")
    # Quarto looks the target up with the first letter in lower case, and capitalises the prefix.
    found = match.groupdict()
    return Cite(key[0].lower() + key[1:], True, (found.get("prefix") or "").strip(), bool(found.get("minus")),
                key[0].isupper())


def _references(src: str, pos: int) -> tuple[dict[str, Any], int] | None:
    """A bracket of cross-references, ``[@fig-a; @fig-b]``, ``[@fig-x]`` or ``[Fig. @fig-x]``; or one of several
    keys that mixes cross-references and citations (``meta["mixed"]``)."""
    bracket = _BRACKET.match(src, pos)  # read up to the next bracket only: linear over a run of them
    if bracket is not None and ";" in bracket.group(1) and src[bracket.end(): bracket.end() + 1] not in ("(", "["):
        pieces = bracket.group(1).split(";")
        items = [_ITEM.fullmatch(piece) for piece in pieces]
        if all(items):
            return {"items": tuple(_reference(item) for item in items if item), "narrative": False}, bracket.end()
        if any(items):
            keys = [_ANY_ITEM.fullmatch(piece) for piece in pieces]
            if all(keys):
                return {"items": tuple(_reference(item) if item else Cite(key.group("key"), False)
                                       for item, key in zip(items, keys) if key), "narrative": False,
                        "mixed": True}, bracket.end()
    match = _BRACKETED.match(src, pos)
    if match is None or src[match.end(): match.end() + 1] in ("(", "["):
        return None
    return {"items": (_reference(match),), "narrative": False}, match.end()


def _bare(src: str, pos: int) -> tuple[dict[str, Any], int] | None:
    match = _BARE.match(src, pos)
    return ({"items": (_reference(match),), "narrative": True}, match.end()) if match else None


def _key(match: re.Match[str]) -> str:
    return match.group("braced") or match.group("plain")


def _bracketed(state: StateInline) -> tuple[dict[str, Any], int] | None:
    """A bracket of citations, when the brief cites: every piece between semicolons names a key."""
    if syntax(state.env) is None:
        return None
    end = state.md.helpers.parseLinkLabel(state, state.pos, False)
    if end < 0 or state.src[end + 1: end + 2] in ("(", "["):  # a link, or a reference link, not a citation
        return None
    items = []
    for piece in state.src[state.pos + 1: end].split(";"):
        match = next((m for m in _CITE.finditer(piece) if not piece[: m.start()] or piece[m.start() - 1].isspace()),
                     None)
        if match is None or _key(match).startswith(CROSSREF_PREFIXES):
            return None
        items.append(Cite(_key(match), False))
    return {"items": tuple(items), "narrative": False}, end + 1


def _narrative(state: StateInline) -> tuple[dict[str, Any], int] | None:
    """A narrative citation, ``@key``, with a locator or suffix if one follows (``@key [p. 3]``)."""
    if syntax(state.env) is None:
        return None
    match = _NARRATIVE.match(state.src, state.pos)
    if not match or _key(match).startswith(CROSSREF_PREFIXES):
        return None
    end = match.end()
    bracket = re.match(r" ?\[([^\[\]@]*)\]", state.src[end:])
    if bracket and not state.src[end + bracket.end():].startswith("("):
        end += bracket.end()
    return {"items": (Cite(_key(match), False),), "narrative": True}, end
