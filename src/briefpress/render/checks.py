"""Ids, links and images across the brief: each heading given a unique id, ids used twice reported, and every
link and image checked, at its line."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Iterator, Mapping
from urllib.parse import unquote, urlsplit

from markdown_it.token import Token

from ..errors import Diagnostics, did_you_mean
from ..model import Brief, Section
from ..policy import LINK_SCHEMES, svg_problems
from ..resources import Refused, media_type, not_regular, read_regular, real_path
from .linemap import LineMap
from .markdown import slugify
from .rendered import Heading, RenderedSection


def assign_ids(section: Section, tokens: list[Token], id_owner: dict[str, str], suffixes: dict[str, int],
               line_of: LineMap, diags: Diagnostics) -> list[Heading]:
    """Give each heading a unique id (``suffixes``: the next number to try after each slug, so that many
    headings of the same text cost linear time); report explicit ids (on headings or inline elements) used
    twice."""
    headings = []

    def claim(value: str, line: int) -> None:
        if value in id_owner:
            diags.error(section.path, line, f"duplicate id '{value}' (already used in section '{id_owner[value]}')")
        id_owner[value] = section.id

    for i, token in enumerate(tokens):
        line = line_of(token.map[0]) if token.map else section.first_line
        if token.type == "heading_open" and not token.meta.get("explicit_id"):
            base = slugify(tokens[i + 1].content)
            candidate, n = base, suffixes.get(base, 2)  # ids are only added: the numbers before n are taken
            while candidate in id_owner:
                candidate, n = f"{base}-{n}", n + 1
            suffixes[base] = n
            token.attrSet("id", candidate)
            id_owner[candidate] = section.id
        elif token.attrGet("id") is not None:
            claim(str(token.attrGet("id")), line)
        if token.type == "heading_open":
            headings.append(Heading(int(token.tag[1]), str(token.attrGet("id")), tokens[i + 1].content.strip()))
        # Inline elements carry ids too ([text](#x){#id}, images), and figures keep their image as a child.
        for child in token.children or []:
            child_id = child.attrGet("id")
            if child_id is not None:
                claim(str(child_id), line)
    return headings


def check_references(brief: Brief, part: RenderedSection, id_owner: Mapping[str, str], assets: Mapping[str, bytes],
                     images: list[str], line_of: LineMap, diags: Diagnostics, incomplete: bool = False) -> None:
    """Check that every link points at a known id or a web address, and that every image exists."""
    path = part.section.path
    line = part.section.first_line
    block = None  # the output line of the block whose inline tokens are walked
    for token in walk(part.tokens):
        if token.map:
            block = token.map[0]
            line = line_of(block)
        elif token.type in ("softbreak", "hardbreak") and block is not None:
            block += 1  # inline tokens carry no line: count the line breaks before them
            line = line_of(block)
        if token.type == "link_open":
            href = str(token.attrGet("href") or "")
            problem = check_link(href, id_owner)
            if problem and not (incomplete and href.startswith("#")):
                diags.error(path, line, problem)
        elif token.type == "citation":
            if "line" in token.meta:
                line = line_of(token.meta["line"])
            for item in token.meta["items"]:
                if brief.bibliography is not None and item.id not in brief.bibliography.references:
                    files = sorted({r.path.name for r in brief.bibliography.references.values()}) or ["the bibliography"]
                    diags.error(path, line, f"no reference '{item.id}' in {', '.join(files)}"
                                            f"{did_you_mean(item.id, brief.bibliography.references)}")
        elif token.type == "table_open" and _cites(token.meta.get("caption")):
            diags.error(path, line_of(token.meta["caption_line"]) if "caption_line" in token.meta else line,
                        CITED_CAPTION.format(what="a table's caption"))
        elif token.type == "image":
            if _cites(token.children):
                diags.error(path, line, CITED_CAPTION.format(what="a figure's caption (an image's description)"))
            src = str(token.attrGet("src") or "")
            resolved, problem = resolve_image(brief.root, src, assets)
            if problem:
                diags.error(path, line, problem)
            elif resolved is not None:
                images.append(resolved)
            if not (token.children and "".join(c.content for c in token.children).strip()):
                diags.warning(path, line, f"image '{src}' has no alt text")


#: Citations and cross-references (``@key``, ``[@key]``, ``@fig-x``) are resolved where the text and the notes
#: are read (``citations.walk_reading_order``, ``crossref``), which a caption is not: one there is refused at
#: its line rather than printed unresolved.
CITED_CAPTION = ("a citation or cross-reference (@…) in {what} is not supported: write it in the text beside "
                 "it, or in a note called from the text")


def _cites(children: list[Token] | None) -> bool:
    """Whether inline tokens (an image's description, with any image in it) hold a citation, a cross-reference,
    or the call of a note a note style made of a citation."""
    return any(child.type in ("cite", "citation") or child.type == "footnote_ref" and child.meta.get("citation")
               or _cites(child.children) for child in children or ())


def walk(tokens: list[Token]) -> Iterator[Token]:
    """Every token of a section, each block's inline tokens after it."""
    for token in tokens:
        yield token
        if token.children:
            yield from token.children


def check_link(href: str, id_owner: Mapping[str, str]) -> str | None:
    """Return why a link is not allowed, or None."""
    if href.startswith("#"):
        return None if href[1:] in id_owner else f"link to '{href}': no section or heading has the id '{href[1:]}'"
    scheme = urlsplit(href).scheme.lower()
    if scheme in LINK_SCHEMES:
        return None
    return f"link to '{href}': links must be '#id' cross-references or http(s)/mailto addresses"


def resolve_image(root: Path, src: str, assets: Mapping[str, bytes]) -> tuple[str | None, str | None]:
    """Return the image's path relative to the brief folder, or why it is refused."""
    parts = urlsplit(src)
    if parts.scheme or parts.netloc or src.startswith("/"):
        return None, f"image '{src}': images must be files inside the brief folder, given by a relative path"
    relative = PurePosixPath(unquote(parts.path))
    if ".." in relative.parts:
        return None, f"image '{src}': the path climbs out of the brief folder"
    key = relative.as_posix()
    if key in assets:
        return key, None
    try:
        file = real_path(root / key)
    except Refused as exc:
        return None, f"image '{src}' {exc}"
    problem = not_regular(file)
    if problem in ("does not exist", "is a folder, not a regular file"):
        return None, f"image '{src}' not found in the brief folder"
    if problem:
        return None, f"image '{src}' {problem}"
    if not file.is_relative_to(root):
        return None, f"image '{src}' resolves outside the brief folder (symbolic link)"
    if media_type(key) == "image/svg+xml":  # an SVG can hold script and load other files: the editions' rules
        try:
            problems = svg_problems(read_regular(file, (root,)))
        except Refused as exc:
            problems = [f"it {exc}"]
        if problems:
            return None, f"image '{src}': {problems[0]}"
    return key, None
