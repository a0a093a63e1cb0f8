"""The HTML edition's web fonts: each face of the design the page sets text in, subset to the characters it
sets there, as WOFF2 in an ``@font-face`` rule with a ``data:`` URL, so that the page looks like the PDF and
still loads nothing.

Which text is set in which face is found as a browser finds it: the cascade of ``font-family``,
``font-weight``, ``font-style`` and ``text-transform`` over the page (a small browser stylesheet first, then
the edition's), with inheritance, custom properties, generated content (``content`` of ``::before``,
``::after`` and ``::marker``), list markers and quotation marks, and the CSS font matching of a wanted
weight and style to the faces there are. It errs towards more characters, never fewer: a rule inside
``@media`` may apply or not, so the page is styled with the ``@media`` rules all off, each query's on alone
and all on, and each face gets the characters of every case; every face also gets the ASCII digits and the space.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Iterator

import cssselect
import tinycss2
from lxml import etree
from lxml import html as lxml_html

from ..cache import Cache, code, version
from ..cache import key as cache_key
from ..resources import DESIGN_FACES, DesignFace, font_dir, read_regular

#: The OpenType features a browser applies by default, kept so that the text shapes as it would whole.
LAYOUT_FEATURES = ("kern", "liga", "clig", "calt", "ccmp", "locl", "mark", "mkmk", "rlig", "rclt", "rvrn")
#: Names kept: the copyright, family and style names, version, licence and its URL, typographic family.
NAME_IDS = (0, 1, 2, 3, 4, 5, 6, 13, 14, 16, 17)
#: Characters every embedded face holds whatever the page's text: digits of list numbers and the space.
ALWAYS = frozenset("0123456789 ")
#: Brotli's quality for the WOFF2 (0 to 11). fontTools compresses at 11, the slowest: for the example
#: brief's seven faces 0.12 s of CPU, against 0.003 s at 6, for 8% more bytes (38.1 against 41.2 KB; 10 and 9
#: take almost as long as 11): 4 KB more on a page of 111 KiB, for 0.12 s less in every build that subsets.
WOFF2_QUALITY = 6

#: The browser's own styles that choose a face (as in Chromium's ``html.css``): they come before the
#: edition's, whatever their specificity.
BROWSER_CSS = """
h1, h2, h3, h4, h5, h6, th { font-weight: bold; }
b, strong { font-weight: bolder; }
i, em, cite, var, dfn, address { font-style: italic; }
code, kbd, pre, samp, tt { font-family: monospace; }
"""
#: How many ``@media`` queries are each taken alone as a case; the others count only with all of them on
#: (a stylesheet with hundreds would otherwise cost hundreds of cascades).
MEDIA_CASES = 16
#: Elements whose text is never drawn.
UNDRAWN = frozenset({"head", "title", "style", "script", "template", "noscript", "meta", "link"})
#: What a list's bullets and a quotation's marks may draw (a list's numbers are digits, in ``ALWAYS``).
BULLETS = "•◦▪"
QUOTES = "“”‘’"
_PROPERTIES = ("font-family", "font-weight", "font-style", "text-transform")
_WEIGHTS = {"normal": 400, "bold": 700}


@dataclass(frozen=True)
class _Declaration:
    name: str
    value: str
    important: bool


@dataclass(frozen=True, eq=False)
class _Rule:
    """A style rule's declarations that matter here, with the number of the ``@media`` query it sits in."""

    declarations: tuple[_Declaration, ...]
    media: int | None
    origin: int  # 0: the browser's, 1: the edition's


@dataclass(frozen=True)
class _Style:
    """What of an element's computed style chooses its face and its drawn characters."""

    family: str
    weight: int
    italic: bool
    transform: str
    variables: tuple[tuple[str, str], ...] = ()


_INITIAL = _Style("serif", 400, False, "none")


def font_faces_css(page: str, cache: Cache | None = None) -> str:
    """The ``@font-face`` rules that embed the faces an HTML ``page`` sets text in (styled by its ``<style>``
    elements and ``style`` attributes), each subset to its characters; empty if it sets none in the design's
    faces. ``cache`` may keep each subset, by the face's file and the characters."""
    rules = []
    for face, chars in sorted(faces_used(page).items(), key=lambda item: DESIGN_FACES.index(item[0])):
        data = base64.b64encode(_subset(face, "".join(sorted(chars | ALWAYS)), cache)).decode("ascii")
        rules.append(f'@font-face {{ font-family: "{face.family}"; font-style: {face.style}; '
                     f'font-weight: {face.weight}; src: url("data:font/woff2;base64,{data}") format("woff2"); }}')
    return "\n".join(rules)


def _subset(face: DesignFace, text: str, cache: Cache | None) -> bytes:
    """``subset_woff2``, kept in ``cache`` by everything it depends on."""
    if cache is None:
        return subset_woff2(face, text)
    data = read_regular(face.path, (font_dir(face.package),))
    entry = cache_key(version("uharfbuzz", "fonttools", "brotli"), code(__name__), "woff2",
                      hashlib.sha256(data).hexdigest(), text)
    found = cache.get("fonts", entry)
    if found is None:
        found = subset_woff2(face, text)
        cache.put("fonts", entry, found)
    return found


@lru_cache(maxsize=64)
def subset_woff2(face: DesignFace, text: str) -> bytes:
    """``face`` subset to the characters of ``text``, as WOFF2, without hinting; the same bytes every time
    (the font's own ``head.modified`` is kept, never the clock). The font is read as every file of a build
    is: a regular file inside its package's folder, or ``resources.Refused``.

    HarfBuzz's subsetter (PyPI ``uharfbuzz``, pinned, so one install gives one set of bytes) keeps the layout
    features of ``LAYOUT_FEATURES`` and the English Unicode names of ``NAME_IDS``; fontTools then writes the
    WOFF2. A face takes about 50 ms, where fontTools' own subsetter took 190 ms."""
    import uharfbuzz as hb
    from fontTools.ttLib import TTFont

    data = read_regular(face.path, (font_dir(face.package),))
    request = hb.SubsetInput()
    for char in sorted({ord(c) for c in text}):
        request.unicode_set.add(char)
    request.flags = hb.SubsetFlags.NO_HINTING
    features = request.layout_feature_tag_set
    features.clear()
    for tag in LAYOUT_FEATURES:
        features.add(_tag(tag))
    names = request.name_id_set
    names.clear()
    for name_id in NAME_IDS:
        names.add(name_id)
    languages = request.name_lang_id_set
    languages.clear()
    languages.add(0x409)
    subset = hb.subset(hb.Face(hb.Blob(data)), request)
    if subset is None:
        raise ValueError(f"{face.file}: HarfBuzz could not subset the face")
    font = TTFont(io.BytesIO(subset.blob.data), recalcTimestamp=False, recalcBBoxes=False)
    font.flavor = "woff2"
    buffer = io.BytesIO()
    with _compressed_at(WOFF2_QUALITY):
        font.save(buffer)
    font.close()
    return buffer.getvalue()


class _Brotli:
    """The ``brotli`` module as fontTools' WOFF2 writer uses it, with its ``compress`` at ``quality``."""

    def __init__(self, module: Any, quality: int):
        self.module, self.quality = module, quality

    def __getattr__(self, name: str) -> Any:
        return getattr(self.module, name)

    def compress(self, data: bytes, *args: Any, **options: Any) -> bytes:
        options["quality"] = self.quality
        return self.module.compress(data, *args, **options)


@contextmanager
def _compressed_at(quality: int) -> Iterator[None]:
    """While fontTools writes a WOFF2, have it compress at ``quality``.

    fontTools takes no quality: its writer calls ``brotli.compress`` of the module it imported, a name of
    its own (``fontTools.ttLib.woff2.brotli``), replaced here only while a face is written (builds run in
    one thread). Guarded: where that name is not a brotli module with ``compress``, fontTools writes at its
    own quality, a valid WOFF2 of other bytes (tested)."""
    from fontTools.ttLib import woff2

    module = getattr(woff2, "brotli", None)
    if not callable(getattr(module, "compress", None)) or not hasattr(module, "MODE_FONT"):
        yield
        return
    woff2.brotli = _Brotli(module, quality)
    try:
        yield
    finally:
        woff2.brotli = module


def _tag(name: str) -> int:
    """An OpenType tag as the integer HarfBuzz's sets hold."""
    return int.from_bytes(name.encode("ascii").ljust(4), "big")


def faces_used(page: str) -> dict[DesignFace, frozenset[str]]:
    """Each design face the page sets text in, with the characters it sets in it."""
    # Deeper than the 255 levels libxml2 keeps by default (to 2048): a browser draws text nested that deep.
    root = lxml_html.document_fromstring(page, parser=lxml_html.HTMLParser(huge_tree=True))
    css = "\n".join(style.text or "" for style in root.iter("style"))
    browser, _ = _selectors(BROWSER_CSS, 0)
    author, media_count = _selectors(css, 1)
    # Each element some rule matches, with those rules in cascade order. Keyed by the elements themselves,
    # which keeps lxml's proxies alive, so that the tree walked later gives the same objects.
    found_rules: dict[Any, list[tuple[int, tuple[int, int, int], int, str | None, _Rule]]] = {}
    for order, selector in enumerate((*browser, *author)):
        for element in selector.xpath(root):
            found_rules.setdefault(element, []).append(
                (selector.rule.origin, selector.specificity, order, selector.pseudo, selector.rule))
    for element in root.xpath("descendant-or-self::*[@style]"):  # a style attribute: after every rule
        found_rules.setdefault(element, []).append(
            (2, (0, 0, 0), 0, None, _Rule(tuple(_declarations(element.get("style"))), None, 1)))
    matches = {element: [(pseudo, rule) for _, _, _, pseudo, rule in sorted(found, key=lambda m: m[:3])]
               for element, found in found_rules.items()}
    cases = [frozenset[int](), *(frozenset({i}) for i in range(min(media_count, MEDIA_CASES)))]
    if media_count > 1:
        cases.append(frozenset(range(media_count)))
    pieces = _Cascade(cases).drawn(root, matches)
    found: dict[DesignFace, set[str]] = {}
    for style, texts in pieces.items():
        face = match_face(style)
        if face is not None:
            found.setdefault(face, set()).update(_transformed("".join(texts), style.transform))
    return {face: frozenset(c for c in chars if c >= " " and c != "\x7f") for face, chars in found.items()}


@lru_cache(maxsize=256)
def match_face(style: _Style) -> DesignFace | None:
    """The design face a browser draws ``style`` with (CSS Fonts' matching of weight and style), or None if
    its font families name no design family. The first design family of the list counts even after another
    (a system font the reader may not have): the generous choice."""
    families = [name.strip().strip("'\"").strip().lower() for name in style.family.split(",")]
    design = {face.family.lower(): face.family for face in DESIGN_FACES}
    family = next((design[name] for name in families if name in design), None)
    if family is None:
        return None
    faces = [face for face in DESIGN_FACES if face.family == family]
    wanted = "italic" if style.italic else "normal"
    faces = [face for face in faces if face.style == wanted] or faces
    return min(faces, key=lambda face: _weight_rank(style.weight, face.weight))


def _weight_rank(wanted: int, weight: int) -> tuple[int, int]:
    """How a face of ``weight`` ranks for a ``wanted`` weight (lower first), as CSS Fonts 4 §5.2 orders them."""
    if weight == wanted:
        return (0, 0)
    if 400 <= wanted <= 500:
        if wanted < weight <= 500:
            return (1, weight - wanted)
        if weight < wanted:
            return (2, wanted - weight)
        return (3, weight - wanted)
    if wanted < 400:
        return (1, wanted - weight) if weight < wanted else (2, weight - wanted)
    return (1, weight - wanted) if weight > wanted else (2, wanted - weight)


def _transformed(text: str, transform: str) -> str:
    """The characters drawn for ``text`` under ``text-transform`` (with the text itself, to be generous)."""
    if transform == "uppercase" or transform == "capitalize":
        return text + text.upper()
    if transform == "lowercase":
        return text + text.lower()
    return text


# --- the stylesheet -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Selector:
    """One selector of a style rule, as the XPath that finds the elements it matches."""

    xpath: Any  # etree.XPath
    specificity: tuple[int, int, int]
    pseudo: str | None
    rule: _Rule


@lru_cache(maxsize=16)
def _selectors(css: str, origin: int) -> tuple[tuple[_Selector, ...], int]:
    """The selectors of a stylesheet's rules that set a property choosing a face or drawing text, with its
    ``@media`` queries numbered; also how many there are. A selector that matches only as the reader acts
    (``:hover``, ``:focus-visible``) or that cannot be read matches nothing here."""
    translator = cssselect.HTMLTranslator()
    found: list[_Selector] = []
    conditions: dict[str, int] = {}

    def walk(nodes: Iterable[Any], block: int | None) -> None:
        for node in nodes:
            if node.type == "qualified-rule":
                declarations = tuple(_declarations(node.content))
                if not declarations:
                    continue
                rule = _Rule(declarations, block, origin)
                try:
                    for selector in cssselect.parse(tinycss2.serialize(node.prelude)):
                        xpath = translator.selector_to_xpath(selector, translate_pseudo_elements=False)
                        found.append(_Selector(etree.XPath(xpath), selector.specificity(),
                                               (selector.pseudo_element or None) and str(selector.pseudo_element),
                                               rule))
                except (cssselect.SelectorError, etree.XPathError):
                    continue
            elif node.type == "at-rule" and node.lower_at_keyword in ("media", "supports", "layer") and node.content:
                inner = tinycss2.parse_rule_list(node.content, skip_comments=True, skip_whitespace=True)
                if node.lower_at_keyword == "media":  # blocks of the same query are one case
                    query = " ".join(tinycss2.serialize(node.prelude).lower().split())
                    walk(inner, conditions.setdefault(query, len(conditions)))
                else:
                    walk(inner, block)

    walk(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True), None)
    return tuple(found), len(conditions)


def _declarations(content: Any) -> Iterator[_Declaration]:
    for item in tinycss2.parse_blocks_contents(content, skip_comments=True, skip_whitespace=True):
        if item.type != "declaration":
            continue
        name = item.name if item.name.startswith("--") else item.lower_name
        if name in _PROPERTIES or name in ("font", "content") or name.startswith("--"):
            yield _Declaration(name, tinycss2.serialize(item.value).strip(), item.important)


# --- the cascade ----------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class _Styled:
    """An element's styles, one for each ``@media`` case, and those of its pseudo-elements."""

    cases: tuple[_Style, ...]
    distinct: tuple[_Style, ...]
    #: (pseudo-element, its distinct styles, its ``content`` values), for those some rule styles.
    pseudos: tuple[tuple[str, tuple[_Style, ...], tuple[str, ...]], ...]


class _Cascade:
    """Styles the page's elements for every ``@media`` case at once. Elements with the same parent style
    and the same matched rules (most of a page's) share one result, worked out once."""

    def __init__(self, cases: list[frozenset[int]]):
        self.cases = cases
        self.memo: dict[tuple[_Styled, tuple[tuple[str | None, _Rule], ...]], _Styled] = {}

    def drawn(self, root: Any, matches: dict[Any, list[tuple[str | None, _Rule]]]) -> dict[_Style, list[str]]:
        """The text the page draws in each style (a piece of text in several, if the ``@media`` cases differ)."""
        top = _Styled(tuple(_INITIAL for _ in self.cases), (_INITIAL,), ())
        # The text of the elements styled alike, gathered under their shared result (by its id: no hashing).
        gathered: dict[int, tuple[tuple[_Style, ...], list[str]]] = {}
        stack: list[tuple[Any, _Styled, str | None]] = [(root, top, None)]
        while stack:  # not recursive: a page may nest deeper than Python's stack
            element, parent, list_kind = stack.pop()
            name = element.tag.lower()
            if name in UNDRAWN:
                continue
            styled = self._styled(parent, matches.get(element, []))
            texts = gathered.setdefault(id(styled), (styled.distinct, []))[1]
            if element.text:
                texts.append(element.text)
            children = [child for child in element if isinstance(child.tag, str)]
            texts.extend(child.tail for child in element if child.tail)  # a comment's tail is text too
            if name == "q":
                texts.append(QUOTES)
            if name == "li" or styled.pseudos:
                self._generated(styled, element, name, list_kind, gathered)
            kind = name if name in ("ul", "ol", "menu") else list_kind
            stack.extend((child, styled, kind) for child in reversed(children))
        drawn: dict[_Style, list[str]] = {}
        for styles, texts in gathered.values():
            joined = "".join(texts)
            for style in styles:
                drawn.setdefault(style, []).append(joined)
        return drawn

    @staticmethod
    def _generated(styled: _Styled, element: Any, name: str, list_kind: str | None,
                   gathered: dict[int, tuple[tuple[_Style, ...], list[str]]]) -> None:
        """Gather what an element's pseudo-elements and list marker draw."""
        pseudos = {pseudo: (styles, content) for pseudo, styles, content in styled.pseudos}
        found: list[tuple[tuple[_Style, ...], str]] = []
        if name == "li":
            styles, content = pseudos.get("marker", (styled.distinct, ()))
            found.append((styles, _content(content, element) if content else
                          (BULLETS if list_kind != "ol" else ".")))
        for pseudo, (styles, content) in pseudos.items():
            if pseudo in ("before", "after") and content:
                found.append((styles, _content(content, element)))
            elif pseudo in ("first-line", "first-letter"):
                found.append((styles, element.text_content()))
        for styles, text in found:
            gathered.setdefault(id(styles), (styles, []))[1].append(text)

    def _styled(self, parent: _Styled, matched: list[tuple[str | None, _Rule]]) -> _Styled:
        key = (parent, tuple(matched))  # both hashed by identity: cheap, and alive as long as the memo
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = self._work_out(parent, matched)
        return found

    def _work_out(self, parent: _Styled, matched: list[tuple[str | None, _Rule]]) -> _Styled:
        cases = []
        pseudo_cases: dict[str, list[_Style]] = {}
        contents: dict[str, tuple[str, ...]] = {}
        for index, active in enumerate(self.cases):
            rules = [(pseudo, rule) for pseudo, rule in matched if rule.media is None or rule.media in active]
            style = _computed(parent.cases[index], [rule for pseudo, rule in rules if pseudo is None])
            cases.append(style)
            for pseudo in ("before", "after", "marker", "first-line", "first-letter"):
                chosen = [rule for p, rule in rules if p == pseudo]
                if chosen:
                    pseudo_cases.setdefault(pseudo, []).append(_computed(style, chosen))
                    values = tuple(d.value for rule in chosen for d in rule.declarations if d.name == "content")
                    contents[pseudo] = tuple(dict.fromkeys(contents.get(pseudo, ()) + values))
        return _Styled(tuple(cases), tuple(dict.fromkeys(cases)),
                       tuple((pseudo, tuple(dict.fromkeys(styles)), contents[pseudo])
                             for pseudo, styles in pseudo_cases.items()))


def _computed(parent: _Style, rules: list[_Rule]) -> _Style:
    """The style of an element (or pseudo-element) of ``parent`` with the matched ``rules`` in cascade order."""
    winners: dict[str, str] = {}
    variables = dict(parent.variables)
    for important in (False, True):
        for rule in rules:
            for declaration in rule.declarations:
                if declaration.important != important or (important and rule.origin == 0):
                    continue
                if declaration.name.startswith("--"):
                    variables[declaration.name] = declaration.value
                elif declaration.name == "font":
                    winners.update(_font_shorthand(declaration.value))
                elif declaration.name != "content":
                    winners[declaration.name] = declaration.value
    values = {name: _resolve(value, variables).strip() for name, value in winners.items()}

    def value(name: str, inherited: str, initial: str) -> str:
        found = values.get(name, "inherit")
        keyword = found.lower()
        if keyword in ("inherit", "unset", "revert", "revert-layer", ""):
            return inherited
        return initial if keyword == "initial" else found

    family = value("font-family", parent.family, _INITIAL.family)
    weight = _weight(value("font-weight", str(parent.weight), "400").lower(), parent.weight)
    italic = value("font-style", "italic" if parent.italic else "normal", "normal").lower()
    transform = value("text-transform", parent.transform, "none").lower()
    return _Style(family, weight, italic.startswith(("italic", "oblique")), transform,
                  tuple(sorted(variables.items())))


def _weight(text: str, inherited: int) -> int:
    """A ``font-weight`` as a number; ``bolder`` and ``lighter`` as CSS Fonts 4 relates them to the parent's."""
    if text == "bolder":
        return 400 if inherited < 350 else 700 if inherited < 550 else 900
    if text == "lighter":
        return inherited if inherited < 100 else 100 if inherited < 550 else 400 if inherited < 750 else 700
    if text in _WEIGHTS:
        return _WEIGHTS[text]
    try:
        return max(1, min(1000, round(float(text))))
    except ValueError:
        return inherited


_VAR = re.compile(r"var\(\s*(--[\w-]+)\s*(?:,([^()]*))?\)")


def _resolve(value: str, variables: dict[str, str]) -> str:
    """``value`` with its ``var()`` references replaced, nested ones too; ``unset`` if they go deeper than a
    few levels or grow long, as a browser takes a value it cannot substitute (a font family is short)."""
    for _ in range(8):
        if "var(" not in value:
            return value
        value = _VAR.sub(lambda m: variables.get(m.group(1), m.group(2) or ""), value)
        if len(value) > 10_000:
            break
    return "unset" if "var(" in value else value


_SIZE_KEYWORDS = frozenset({"xx-small", "x-small", "small", "medium", "large", "x-large", "xx-large",
                            "xxx-large", "larger", "smaller"})


def _font_shorthand(value: str) -> dict[str, str]:
    """The ``font`` shorthand's family, weight and style (its other parts choose no face)."""
    tokens = [t for t in tinycss2.parse_component_value_list(value) if t.type not in ("whitespace", "comment")]
    found = {"font-style": "normal", "font-weight": "normal"}
    for index, token in enumerate(tokens):
        if token.type in ("dimension", "percentage") or (token.type == "ident" and token.lower_value in
                                                         _SIZE_KEYWORDS):
            rest = tokens[index + 1:]
            if rest and rest[0].type == "literal" and rest[0].value == "/":
                rest = rest[2:]  # the line height
            found["font-family"] = ", ".join(t.value if t.type == "ident" else f'"{t.value}"'
                                             for t in rest if t.type in ("ident", "string"))
            return found
        if token.type == "ident" and token.lower_value in ("italic", "oblique"):
            found["font-style"] = "italic"
        elif token.type == "ident" and token.lower_value in ("bold", "bolder", "lighter"):
            found["font-weight"] = token.lower_value
        elif token.type == "number":
            found["font-weight"] = str(token.value)
    return {"font-family": "caption"} if len(tokens) == 1 and tokens[0].type == "ident" else found


def _content(values: tuple[str, ...], element: Any) -> str:
    """The text ``content`` values draw (all of them, to be generous) on ``element``."""
    return "".join(part if isinstance(part, str) else element.get(part[0]) or ""
                   for value in values for part in _content_parts(value))


@lru_cache(maxsize=256)
def _content_parts(value: str) -> tuple[str | tuple[str], ...]:
    """A ``content`` value's strings, quotes and counters' digits, and ``(name,)`` for each ``attr(name)``."""
    parts: list[str | tuple[str]] = []
    for token in tinycss2.parse_component_value_list(value):
        if token.type == "string":
            parts.append(token.value)
        elif token.type == "ident" and token.lower_value in ("open-quote", "close-quote"):
            parts.append(QUOTES)
        elif token.type == "function" and token.lower_name in ("counter", "counters"):
            parts.append("0123456789.-")
        elif token.type == "function" and token.lower_name == "attr":
            names = [a.value for a in token.arguments if a.type == "ident"]
            if names:
                parts.append((names[0],))
    return tuple(parts)
