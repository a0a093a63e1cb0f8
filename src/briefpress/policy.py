"""What an edition may hold, whoever wrote its templates and stylesheets: no script, and nothing that makes a
reader's software load anything from outside the edition. The PDF's layout refuses such loads as it makes
them (``editions.typeset``); the HTML and EPUB editions, and SVG images in any edition, are checked here."""

from __future__ import annotations

import re
from typing import Any, Iterable
from urllib.parse import urlsplit

import tinycss2
from lxml import etree
from lxml import html as lxml_html

#: Elements that run script, or show or load another document.
FORBIDDEN_ELEMENTS = frozenset({"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base",
                                "portal", "foreignobject", "handler", "listener"})
#: Attributes whose value is a URL that a reader's software loads or follows.
URL_ATTRIBUTES = frozenset({"href", "src", "srcset", "poster", "data", "action", "formaction", "background",
                            "longdesc", "manifest", "ping", "lowsrc", "dynsrc", "codebase", "xml:base"})
#: Where a link a reader chooses to follow may lead (``<a href>``): not a load the edition makes itself.
LINK_SCHEMES = ("http", "https", "mailto")
_XLINK = "{http://www.w3.org/1999/xlink}"
_XML = "{http://www.w3.org/XML/1998/namespace}"


def _allowed(url: str, relative: bool, link: bool = False) -> bool:
    """Whether ``url`` loads nothing from outside the edition: a fragment, a ``data:`` URL, a relative path
    (``relative``: an EPUB's own files, a PDF's brief files), or for a link a web or mail address."""
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if url.startswith("#") or scheme == "data":
        return True
    if link and scheme in LINK_SCHEMES:
        return True
    return relative and not scheme and not parts.netloc and not url.startswith(("/", "\\"))


#: How deep a stylesheet's blocks, brackets and functions may nest. What reads a stylesheet after its tokens
#: (this module, the web fonts' walk, cssselect2, WeasyPrint) recurses on each level, so thousands exhaust
#: Python's stack; real stylesheets nest a few.
MAX_CSS_DEPTH = 50
_NESTED = ("{} block", "() block", "[] block", "function")


def _too_deep(tokens: list[Any]) -> tuple[int, str] | None:
    """Where ``tokens`` (tinycss2's, whose tokenizer keeps its own stack) nest deeper than allowed, walked
    without recursion."""
    pending = [(iter(tokens), 0)]
    while pending:
        level, depth = pending[-1]
        token = next(level, None)
        if token is None:
            pending.pop()
        elif token.type in _NESTED:
            if depth >= MAX_CSS_DEPTH:
                return (token.source_line, f"the stylesheet nests blocks, brackets or functions more than "
                                           f"{MAX_CSS_DEPTH} levels deep")
            pending.append((iter(token.arguments if token.type == "function" else token.content), depth + 1))
    return None


def css_problems(css: str, relative: bool = False, attribute: bool = False) -> list[tuple[int, str]]:
    """Each URL in a stylesheet (or, with ``attribute``, a ``style`` attribute's declarations): ``url()``,
    ``@import``, ``image-set()``, that would load something from outside the edition, as (line, problem); or
    the one problem that it nests too deeply to be read further."""
    tokens = tinycss2.parse_component_value_list(css, skip_comments=True)
    deep = _too_deep(tokens)
    if deep:
        return [deep]
    found: list[tuple[int, str]] = []

    def check(line: int, url: str) -> None:
        if not _allowed(url, relative):
            found.append((line, f"'{url}' would be loaded from outside the edition: a stylesheet may only use "
                                "data: URLs" + (" and files of the brief" if relative else "")))

    def walk(tokens: Iterable[Any] | None) -> None:
        for token in tokens or ():
            kind = token.type
            if kind == "url":
                check(token.source_line, token.value)
            elif kind == "function":
                if token.lower_name in ("url", "src", "image-set", "-webkit-image-set", "image"):
                    for arg in token.arguments:
                        if arg.type == "string":
                            check(arg.source_line, arg.value)
                walk(token.arguments)
            elif kind in ("() block", "[] block", "{} block"):
                walk(token.content)
            elif kind == "at-rule" and token.lower_at_keyword == "namespace":
                continue  # a namespace's URL names it: nothing loads it
            elif kind in ("at-rule", "qualified-rule"):
                if kind == "at-rule" and token.lower_at_keyword == "import":
                    for part in token.prelude:
                        if part.type == "string":
                            check(part.source_line, part.value)
                walk(token.prelude)
                walk(token.content)

    walk(tokens if attribute else tinycss2.parse_stylesheet(tokens, skip_comments=True, skip_whitespace=True))
    return found


def _element_problems(root: Any, relative: bool) -> list[str]:
    """What in a parsed document (HTML, XHTML or SVG) runs script or loads from outside the edition."""
    found: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions
        name = element.tag.rsplit("}", 1)[-1].lower()
        if name in FORBIDDEN_ELEMENTS:
            found.append(f"<{name}> is not allowed: no edition runs script or shows another document")
        if name == "meta" and (element.get("http-equiv") or "").lower() == "refresh":
            found.append("<meta http-equiv=\"refresh\"> is not allowed: it loads another page")
        if name == "style":
            found += [problem for _, problem in css_problems(element.text or "", relative)]
        for attribute, value in element.attrib.items():
            local = attribute.replace(_XLINK, "").replace(_XML, "xml:").lower()
            if local.startswith("on"):
                found.append(f"the attribute {local}=\"…\" is not allowed: no edition runs script")
            elif local == "style":
                found += [problem for _, problem in css_problems(value, relative, attribute=True)]
            elif local in URL_ATTRIBUTES or attribute.startswith(_XLINK):
                urls = [part.split()[0] for part in value.split(",") if part.split()] if local == "srcset" else [value]
                for url in urls:
                    if not _allowed(url, relative, link=name in ("a", "area") and local == "href"):
                        found.append(f"<{name} {local}=\"{url}\"> would load something from outside the edition")
    return list(dict.fromkeys(found))


def html_problems(page: str) -> list[str]:
    """What in the HTML edition's page runs script or loads from outside the page."""
    return _element_problems(lxml_html.document_fromstring(page), relative=False)


def xhtml_problems(document: bytes) -> list[str]:
    """What in an EPUB content document runs script or loads from outside the EPUB."""
    return _element_problems(etree.fromstring(document, _parser()), relative=True)


def _parser() -> etree.XMLParser:
    """An XML parser that expands no entity and loads nothing."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


_ENTITY = re.compile(rb"<!ENTITY", re.I)


def svg_problems(data: bytes) -> list[str]:
    """What in an SVG image runs script, loads from outside it, or declares XML entities (which expand, a few
    bytes into gigabytes)."""
    if _ENTITY.search(data):
        return ["the SVG declares XML entities, which no edition expands"]
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        return [f"the SVG is not well-formed XML ({exc.msg})"]
    return _element_problems(root, relative=False)
