"""The HTML edition's web fonts: each face of the design the page sets text in, subset to the characters it
sets there, as WOFF2 in an ``@font-face`` rule with a ``data:`` URL, so that the page looks like the PDF and
still loads nothing.

Which text is set in which face is found as a browser finds it: the cascade of ``font-family``,
``font-weight``, ``font-style`` and ``text-transform`` over the page (a small browser stylesheet first, then
the edition's), with inheritance, custom properties, generated content (``content`` of ``::before``,
``::after`` and ``::marker``), list markers and quotation marks, and the CSS font matching of a wanted
weight and style to the faces there are. It errs towards more characters, never fewer: a rule inside
``@media`` may apply or not, so the page is styled with the ``@media`` rules all off, each on alone and all
on, and each face gets the characters of every case; every face also gets the ASCII digits and the space.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Iterator

import cssselect2
import tinycss2
from lxml import html as lxml_html

from ..resources import DESIGN_FACES, DesignFace, font_dir, read_regular

#: The OpenType features a browser applies by default, kept so that the text shapes as it would whole.
LAYOUT_FEATURES = ("kern", "liga", "clig", "calt", "ccmp", "locl", "mark", "mkmk", "rlig", "rclt", "rvrn")
#: Names kept: the copyright, family and style names, version, licence and its URL, typographic family.
NAME_IDS = (0, 1, 2, 3, 4, 5, 6, 13, 14, 16, 17)
#: Characters every embedded face holds whatever the page's text: digits of list numbers and the space.
ALWAYS = frozenset("0123456789 ")

#: The browser's own styles that choose a face (as in Chromium's ``html.css``): they come before the
#: edition's, whatever their specificity.
BROWSER_CSS = """
h1, h2, h3, h4, h5, h6, th { font-weight: bold; }
b, strong { font-weight: bolder; }
i, em, cite, var, dfn, address { font-style: italic; }
code, kbd, pre, samp, tt { font-family: monospace; }
"""
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


@dataclass(frozen=True)
class _Rule:
    """A style rule's declarations that matter here, with the ``@media`` block it sits in (if any)."""

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


def font_faces_css(page: str) -> str:
    """The ``@font-face`` rules that embed the faces an HTML ``page`` sets text in (styled by its ``<style>``
    elements and ``style`` attributes), each subset to its characters; empty if it sets none in the design's
    faces."""
    rules = []
    for face, chars in sorted(faces_used(page).items(), key=lambda item: DESIGN_FACES.index(item[0])):
        data = base64.b64encode(subset_woff2(face, "".join(sorted(chars | ALWAYS)))).decode("ascii")
        rules.append(f'@font-face {{ font-family: "{face.family}"; font-style: {face.style}; '
                     f'font-weight: {face.weight}; src: url("data:font/woff2;base64,{data}") format("woff2"); }}')
    return "\n".join(rules)


@lru_cache(maxsize=64)
def subset_woff2(face: DesignFace, text: str) -> bytes:
    """``face`` subset to the characters of ``text``, as WOFF2, without hinting; the same bytes every time
    (the font's own ``head.modified`` is kept, never the clock). The font is read as every file of a build
    is: a regular file inside its package's folder, or ``resources.Refused``."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff2"
    options.hinting = False
    options.layout_features = list(LAYOUT_FEATURES)
    options.name_IDs = list(NAME_IDS)
    options.name_languages = [0x409]
    data = read_regular(face.path, (font_dir(face.package),))
    font = TTFont(io.BytesIO(data), lazy=True, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted({ord(c) for c in text}))
    subsetter.subset(font)
    font.flavor = "woff2"
    buffer = io.BytesIO()
    font.save(buffer)
    font.close()
    return buffer.getvalue()


def faces_used(page: str) -> dict[DesignFace, frozenset[str]]:
    """Each design face the page sets text in, with the characters it sets in it."""
    root = lxml_html.document_fromstring(page)
    css = "\n".join(style.text or "" for style in root.iter("style"))
    browser, _ = _rules(BROWSER_CSS, 0)
    author, media_count = _rules(css, 1)
    matcher = cssselect2.Matcher()
    for index, (selector, rule) in enumerate([*browser, *author]):
        matcher.add_selector(selector, (index, rule))
    wrapper = cssselect2.ElementWrapper.from_html_root(root)
    # Keyed by the elements themselves, which keeps lxml's proxies, and so the keys, the same throughout.
    matches = {w.etree_element: _sorted(matcher.match(w)) for w in wrapper.iter_subtree()}
    scenarios = [frozenset[int](), *(frozenset({i}) for i in range(media_count))]
    if media_count > 1:
        scenarios.append(frozenset(range(media_count)))
    found: dict[DesignFace, set[str]] = {}
    for active in scenarios:
        for style, text in _drawn(wrapper, matches, active):
            face = match_face(style)
            if face is not None:
                found.setdefault(face, set()).update(_transformed(text, style.transform))
    return {face: frozenset(c for c in chars if c >= " " and c != "\x7f") for face, chars in found.items()}


def match_face(style: _Style) -> DesignFace | None:
    """The design face a browser draws ``style`` with (CSS Fonts' matching of weight and style), or None if
    its font families name no design family."""
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

def _rules(css: str, origin: int) -> tuple[list[tuple[Any, _Rule]], int]:
    """The selectors and rules of a stylesheet, with its ``@media`` blocks numbered; also how many there are."""
    found: list[tuple[Any, _Rule]] = []
    media = 0

    def walk(nodes: Iterable[Any], block: int | None) -> None:
        nonlocal media
        for node in nodes:
            if node.type == "qualified-rule":
                declarations = tuple(_declarations(node.content))
                if not declarations:
                    continue
                try:
                    selectors = cssselect2.compile_selector_list(node.prelude)
                except cssselect2.SelectorError:
                    continue
                for selector in selectors:
                    found.append((selector, _Rule(declarations, block, origin)))
            elif node.type == "at-rule" and node.lower_at_keyword in ("media", "supports", "layer") and node.content:
                inner = tinycss2.parse_rule_list(node.content, skip_comments=True, skip_whitespace=True)
                if node.lower_at_keyword == "media":
                    media += 1
                    walk(inner, media - 1)
                else:
                    walk(inner, block)

    walk(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True), None)
    return found, media


def _declarations(content: Any) -> Iterator[_Declaration]:
    for item in tinycss2.parse_blocks_contents(content, skip_comments=True, skip_whitespace=True):
        if item.type != "declaration":
            continue
        name = item.name if item.name.startswith("--") else item.lower_name
        if name in _PROPERTIES or name in ("font", "content") or name.startswith("--"):
            yield _Declaration(name, tinycss2.serialize(item.value).strip(), item.important)


def _sorted(matched: list[Any]) -> list[tuple[str | None, _Rule]]:
    """Matched rules in cascade order: browser before edition, then important last, by specificity, in order."""
    ordered = sorted(matched, key=lambda m: (m[3][1].origin, m[0], m[3][0]))
    return [(pseudo, payload[1]) for _, _, pseudo, payload in ordered]


# --- the cascade ----------------------------------------------------------------------------------------

def _drawn(wrapper: Any, matches: dict[Any, list[tuple[str | None, _Rule]]], active: frozenset[int]
           ) -> Iterator[tuple[_Style, str]]:
    """Every piece of text the page draws, with the style it is drawn in, for one set of active ``@media``."""

    def visit(node: Any, parent: _Style, list_kind: str | None) -> Iterator[tuple[_Style, str]]:
        element = node.etree_element
        name = node.local_name.lower()
        if name in UNDRAWN:
            return
        rules = [(pseudo, rule) for pseudo, rule in matches[element]
                 if rule.media is None or rule.media in active]
        if element.get("style"):
            rules.append((None, _Rule(tuple(_declarations(element.get("style"))), None, 1)))
        style = _computed(parent, [rule for pseudo, rule in rules if pseudo is None])
        pseudo_styles = {}
        for pseudo in ("before", "after", "marker", "first-line", "first-letter"):
            chosen = [rule for p, rule in rules if p == pseudo]
            if chosen:
                pseudo_styles[pseudo] = (_computed(style, chosen), _content(chosen, element))
        if name == "li":
            marker_style, content = pseudo_styles.get("marker", (style, None))
            yield marker_style, content if content is not None else (BULLETS if list_kind == "ul" else ".")
        for pseudo in ("before", "after"):
            if pseudo in pseudo_styles and pseudo_styles[pseudo][1]:
                yield pseudo_styles[pseudo]
        for pseudo in ("first-line", "first-letter"):
            if pseudo in pseudo_styles:
                yield pseudo_styles[pseudo][0], element.text_content()
        if name == "q":
            yield style, QUOTES
        if element.text:
            yield style, element.text
        kind = name if name in ("ul", "ol", "menu") else list_kind
        for child in node.iter_children():
            yield from visit(child, style, kind)
            if child.etree_element.tail:
                yield style, child.etree_element.tail

    yield from visit(wrapper, _INITIAL, None)


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
    """``value`` with its ``var()`` references replaced (nested ones too, to a few levels)."""
    for _ in range(8):
        replaced = _VAR.sub(lambda m: variables.get(m.group(1), m.group(2) or ""), value)
        if replaced == value:
            break
        value = replaced
    return value


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


def _content(rules: list[_Rule], element: Any) -> str | None:
    """The text a pseudo-element's ``content`` draws (every candidate value's, to be generous), or None."""
    values = [d.value for rule in rules for d in rule.declarations if d.name == "content"]
    if not values:
        return None
    text = []
    for value in values:
        for token in tinycss2.parse_component_value_list(value):
            if token.type == "string":
                text.append(token.value)
            elif token.type == "ident" and token.lower_value in ("open-quote", "close-quote"):
                text.append(QUOTES)
            elif token.type == "function" and token.lower_name in ("counter", "counters"):
                text.append("0123456789.-")
            elif token.type == "function" and token.lower_name == "attr":
                names = [a.value for a in token.arguments if a.type == "ident"]
                if names:
                    text.append(element.get(names[0]) or "")
    return "".join(text)
