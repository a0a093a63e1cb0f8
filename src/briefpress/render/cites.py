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

A bracket of citations is read as pandoc reads one: its citations are separated by the semicolons that stand
outside a key in braces (``@{a;b}``, whose braces balance; pandoc reads one that holds a space as text, and
the engine's answer then says so), a code span, a backslash escape, a character reference (``&amp;``), an
autolink and a bracket of its own (a link's text and address); a semicolon or a closing bracket anywhere else
ends a citation, and a citation is a prefix, a key and a suffix.
"""

from __future__ import annotations

import re
import string
from bisect import bisect_left
from dataclasses import dataclass, field
from html.entities import html5
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

#: The id prefixes a cross-reference's key starts with: what is numbered, and the callouts' own sequences.
REF_PREFIXES = ("fig", "tbl", "box", "sec", "eq", "nte", "tip", "wrn", "imp", "cau")
#: Keys with these prefixes are not read as citations (Quarto's), in a bracket or narrative.
CROSSREF_PREFIXES = ("fig-", "tbl-", "box-", "sec-", "eq-")
#: The key grammar after the prefix, as pandoc's: a word character, then word characters, each of these
#: punctuation characters standing between two of them.
_REST = r"\w(?:[:.#$%&+?<>~/-]?\w)*"
_REF_TYPES = "|".join(f"[{t[0]}{t[0].upper()}]{t[1:]}" for t in REF_PREFIXES)
_REF_KEY = rf"(?P<key>(?:{_REF_TYPES})-{_REST})"
#: ``[@fig-x]``, ``[-@fig-x]``, and with a prefix of the author's own, ``[Fig. @fig-x]``.
_BRACKETED = re.compile(rf"\[(?:(?P<prefix>[^\[\]@\n]*?\S)\s+)?(?P<minus>-?)@{_REF_KEY}\]")
_BARE = re.compile(rf"@{_REF_KEY}")
#: One reference of several in a bracket, ``[@fig-a; Fig. @fig-b]``; and any key, to tell a bracket that mixes
#: references and citations.
_ITEM = re.compile(rf"\s*(?:(?P<prefix>[^\[\]@;\n]*?\S)\s+)?(?P<minus>-?)@{_REF_KEY}\s*")
_ANY_ITEM = re.compile(r"\s*(?:[^\[\]@;\n]*?\S\s+)?-?@(?P<key>\{[^{}\s]*\}|\w(?:[:.#$%&+?<>~/-]?\w)*)\s*")
_BRACKET = re.compile(r"\[([^\[\]]*)\]")
#: A citation's key that is not in braces.
_PLAIN = re.compile(_REST)
#: An autolink (``<https://…>``, ``<name@host>``) and a character reference (``&amp;``, ``&#59;``).
_AUTOLINK = re.compile(r"<(?:[A-Za-z][A-Za-z0-9.+-]{1,31}:[^\s<>]*|[^\s<>@]+@[^\s<>]+)>")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|(?P<name>[A-Za-z][A-Za-z0-9]{0,31}));")
_BACKTICKS = re.compile(r"`+")
_SPACES = re.compile(r"[ \t]*")
_PUNCT = frozenset(string.punctuation)


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
        found = _references(state.src, state.pos, state.env) or _bracketed(state)
    elif char == "@":
        if _after_word(state.src, state.pos):
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


def _references(src: str, pos: int, env: dict) -> tuple[dict[str, Any], int] | None:
    """A bracket of cross-references, ``[@fig-a; @fig-b]``, ``[@fig-x]`` or ``[Fig. @fig-x]``; or one of several
    keys that mixes cross-references and citations (``meta["mixed"]``)."""
    bracket = _BRACKET.match(src, pos)  # read up to the next bracket only: linear over a run of them
    if bracket is not None and ";" in bracket.group(1) and src[bracket.end(): bracket.end() + 1] not in ("(", "["):
        scan = _scanned(src, env)
        pieces = [src[a:b] for a, b in scan.pieces(bracket.start(1), bracket.end(1))]
        items = [_ITEM.fullmatch(piece) for piece in pieces]
        if all(items):
            return {"items": tuple(_reference(item) for item in items if item), "narrative": False}, bracket.end()
        if any(items):
            keys = [_ANY_ITEM.fullmatch(piece) for piece in pieces]
            if all(keys):
                return {"items": tuple(_reference(item) if item else Cite(key.group("key").removeprefix("{")
                                                                          .removesuffix("}"), False)
                                       for item, key in zip(items, keys) if key), "narrative": False,
                        "mixed": True}, bracket.end()
    match = _BRACKETED.match(src, pos)
    if match is None or src[match.end(): match.end() + 1] in ("(", "["):
        return None
    return {"items": (_reference(match),), "narrative": False}, match.end()


def _bare(src: str, pos: int) -> tuple[dict[str, Any], int] | None:
    match = _BARE.match(src, pos)
    return ({"items": (_reference(match),), "narrative": True}, match.end()) if match else None


@dataclass
class _Scan:
    """What of a block's inline text stands as one piece when a bracket of citations is read, found in one pass:
    ``units`` maps the start of each (a key in braces, a code span, a backslash escape, a character reference,
    an autolink) to its end, and ``closes`` each opening bracket to its closing one."""

    src: str
    units: dict[int, int] = field(default_factory=dict)
    closes: dict[int, int] = field(default_factory=dict)

    def walk(self, start: int, end: int):
        """The positions of ``src[start:end]`` that stand outside every piece and inner bracket (a bracket's
        address, ``[text](address)``, is the bracket's)."""
        src, units, closes = self.src, self.units, self.closes
        at = start
        while at < end:
            yield at
            if at in units:
                at = units[at]
            elif src[at] == "[" and at in closes and closes[at] < end:
                at = closes[at] + 1
                if src[at: at + 1] == "(":
                    at = _after_parens(src, at, end)
            else:
                at += 1

    def pieces(self, start: int, end: int) -> list[tuple[int, int]]:
        """``src[start:end]`` cut at each semicolon that stands outside every piece, as (start, end) pairs."""
        cuts = [at for at in self.walk(start, end) if self.src[at] == ";"]
        return list(zip([start, *(c + 1 for c in cuts)], [*cuts, end]))

    def key(self, start: int, end: int) -> tuple[str, int, int] | None:
        """The first citation key of ``src[start:end]`` that pandoc reads as one: (key, where its ``@`` or
        ``-@`` starts, where it ends)."""
        src = self.src
        for at in self.walk(start, end):
            if src[at] != "@":
                continue
            begin = at - 1 if at > start and src[at - 1] == "-" else at
            if begin > start and _after_word(src, begin):
                continue
            braced = self.units.get(at)
            if braced is not None and braced <= end:
                return src[at + 2: braced - 1], begin, braced
            match = _PLAIN.match(src, at + 1, end)
            if match:
                return match.group(), begin, match.end()
        return None


def _after_parens(src: str, at: int, end: int) -> int:
    """The end of the balanced parentheses that open at ``src[at]`` (a link's address), or ``at + 1``."""
    depth = 0
    index = at
    while index < end:
        char = src[index]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 2 if char == "\\" else 1
    return at + 1


def _scanned(src: str, env: dict) -> _Scan:
    """The ``_Scan`` of a block's inline text, made once a block (each rule call then reads it in the time of
    the bracket it reads)."""
    kept = env.get("cite_scan")
    if isinstance(kept, _Scan) and kept.src is src:
        return kept
    scan = _scan(src)
    env["cite_scan"] = scan
    return scan


def _scan(src: str) -> _Scan:
    scan = _Scan(src)
    runs: dict[int, list[int]] = {}
    for match in _BACKTICKS.finditer(src):
        runs.setdefault(len(match.group()), []).append(match.start())
    braces = _balanced_braces(src)
    opened: list[int] = []
    at, size = 0, len(src)
    while at < size:
        char = src[at]
        end = 0
        if char == "\\" and at + 1 < size and src[at + 1] in _PUNCT:
            end = at + 2
        elif char == "`":
            length = _run_length(src, at)
            # The code ends at the next run of as many backticks (a run of another length is the code's).
            starts = runs.get(length, [])
            index = bisect_left(starts, at + length)
            if index == len(starts):
                at += length
                continue
            end = starts[index] + length
        elif char == "<":
            match = _AUTOLINK.match(src, at)
            end = match.end() if match else 0
        elif char == "&":
            match = _ENTITY.match(src, at)
            if match and (match.group("name") is None or f"{match.group('name')};" in html5):
                end = match.end()
        elif char == "@" and src[at + 1: at + 2] == "{" and at + 1 in braces and not _after_word(src, at):
            end = braces[at + 1] + 1
        elif char == "[":
            opened.append(at)
        elif char == "]" and opened:
            scan.closes[opened.pop()] = at
        if end:
            scan.units[at] = end
            at = end
        else:
            at += 1
    return scan


def _run_length(src: str, start: int) -> int:
    match = _BACKTICKS.match(src, start)
    return len(match.group()) if match else 0


def _after_word(src: str, at: int) -> bool:
    """Whether the ``@`` (or ``-@``) at ``src[at]`` follows a word, as in an e-mail address: pandoc reads no key
    there."""
    return at > 0 and (src[at - 1].isalnum() or src[at - 1] in "._@")


def _balanced_braces(src: str) -> dict[int, int]:
    """Each opening brace to the closing one that balances it on its line (pandoc's keys in braces; one that
    holds a space, which pandoc does not read as a key, is read here, and reported when pandoc does not cite
    it)."""
    found: dict[int, int] = {}
    opened: list[int] = []
    for index, char in enumerate(src):
        if char == "{":
            opened.append(index)
        elif char == "}" and opened:
            found[opened.pop()] = index
        elif char == "\n":
            opened.clear()
    return found


def _citations(src: str, pos: int, scan: _Scan, limit: int) -> tuple[list[tuple[str, int]], int] | None:
    """The citations of the bracket that opens at ``src[pos]`` and closes before ``limit``, as (key, start of
    its ``@``), and the end of the bracket; None where pandoc would not read it as citations (a piece holds no
    key)."""
    close = scan.closes.get(pos)
    if close is None or close >= limit:
        return None
    keys = []
    for start, end in scan.pieces(pos + 1, close):
        key = scan.key(start, end)
        if key is None:
            return None
        keys.append((key[0], key[1]))
    return keys, close + 1


def _bracketed(state: StateInline) -> tuple[dict[str, Any], int] | None:
    """A bracket of citations, when the brief cites: every piece between semicolons names a key."""
    if syntax(state.env) is None:
        return None
    found = _citations(state.src, state.pos, _scanned(state.src, state.env), state.posMax)
    if found is None:
        return None
    keys, end = found
    if state.src[end: end + 1] in ("(", "[") or any(key.startswith(CROSSREF_PREFIXES) for key, _ in keys):
        return None  # a link, or a reference link, not a citation
    return {"items": tuple(Cite(key, False) for key, _ in keys), "narrative": False}, end


def _narrative(state: StateInline) -> tuple[dict[str, Any], int] | None:
    """A narrative citation, ``@key``, with what pandoc reads after it: a locator or suffix (``@key [p. 3]``),
    and further citations (``@key [p. 3; @other]``, ``@key [see @other]``)."""
    if syntax(state.env) is None:
        return None
    src = state.src
    scan = _scanned(src, state.env)
    braced = scan.units.get(state.pos)
    if braced is not None and braced <= state.posMax and src[state.pos + 1: state.pos + 2] == "{":
        key, end = src[state.pos + 2: braced - 1], braced
    else:
        match = _PLAIN.match(src, state.pos + 1, state.posMax)
        if match is None:
            return None
        key, end = match.group(), match.end()
    if key.startswith(CROSSREF_PREFIXES):
        return None
    items = [Cite(key, False)]
    bracket = _SPACES.match(src, end).end()  # type: ignore[union-attr]
    close = scan.closes.get(bracket) if src[bracket: bracket + 2] not in ("[^", "") else None
    if src[bracket: bracket + 1] == "[" and close is not None and close < state.posMax and \
            src[close + 1: close + 2] not in ("(", "["):
        found = [scan.key(start, stop) for start, stop in scan.pieces(bracket + 1, close)]
        # Citations (``[see @other]``), or this one's locator or suffix, then any citations (``[p. 3; @other]``).
        others = found if all(found) else found[1:]
        if all(others) and not any(k[0].startswith(CROSSREF_PREFIXES) for k in others if k):
            items += [Cite(k[0], False) for k in others if k]
            end = close + 1
    return {"items": tuple(items), "narrative": True}, end
