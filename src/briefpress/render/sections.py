"""Sections rendered: Jinja2 over each section, then Markdown into tokens; ids, links and images checked."""

from __future__ import annotations

import bisect
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any, Callable, Mapping
from urllib.parse import unquote, urlsplit

import jinja2
from markdown_it import MarkdownIt
from markdown_it.token import Token

from ..cache import Cache
from ..errors import Diagnostics, did_you_mean
from ..load import FORBIDDEN_CHARS, forbidden_char_message
from ..model import Brief, Section
from ..policy import svg_problems
from ..references import brief_item, default_style
from ..resources import Refused, media_type, not_regular, read_regular, real_path
from . import budget, charts, citeproc, crossref
from .citations import CiteSyntax, CitedWorks, cluster_of, walk_reading_order
from .jinja import environment
from .markdown import create_parser, footnote_inline_html, render_tokens, slugify

LINK_SCHEMES = ("http", "https", "mailto")
GENERATED = "charts"


@dataclass(frozen=True)
class Heading:
    """A heading inside a section, for the tables of contents and the PDF outline."""

    level: int
    id: str
    text: str


@dataclass(frozen=True)
class RenderedSection:
    """A section parsed into Markdown tokens, ready to be written in any format."""

    section: Section
    tokens: list[Token]
    footnotes: Mapping[str, Any]
    note_offset: int
    headings: tuple[Heading, ...]

    @property
    def id(self) -> str:
        return self.section.id

    @property
    def file_name(self) -> str:
        """The section's document name inside the EPUB."""
        return f"{self.section.id}.xhtml"


@dataclass(frozen=True)
class Rendered:
    """A brief whose sections are all rendered and cross-checked."""

    brief: Brief
    sections: tuple[RenderedSection, ...]
    #: Files made during the build (charts), by path relative to the brief folder.
    assets: Mapping[str, bytes]
    #: Every image the sections use, by path relative to the brief folder, in order of use.
    images: tuple[str, ...]
    #: Which section holds each id.
    id_owner: Mapping[str, str]
    parser: MarkdownIt = field(repr=False, compare=False, default_factory=create_parser)
    #: The citations and bibliography, formatted once (None: the brief names no bibliography).
    cited: CitedWorks | None = None
    #: Every figure, table, box and section, numbered once.
    numbers: crossref.Numbers = field(default_factory=crossref.Numbers)

    def html(self, part: RenderedSection, fmt: str, image_src: Callable[[str], str] | None = None,
             page_breaks: Mapping[int, int] | None = None) -> str:
        """Return the section's body HTML for ``fmt`` (``pdf``, ``epub`` or ``html``).

        ``page_breaks`` maps a block's number in the section to the printed page that begins there.
        """
        env: dict[str, Any] = {
            "page_breaks": page_breaks or {},
            "format": fmt,
            "footnotes": dict(part.footnotes),
            "note_offset": part.note_offset,
            "image_src": image_src or (lambda src: src),
            "link_href": lambda href: self._href(href, part, fmt),
            "citations": self.cited,
            "numbers": self.numbers,
        }
        if fmt == "pdf":
            env["note_inline"] = footnote_inline_html(self.parser, part.tokens, env)
        return render_tokens(self.parser, part.tokens, env)

    def href_in_epub(self, target_id: str) -> str:
        """Where an id is inside the EPUB, from a document beside the sections (the nav)."""
        owner = self.id_owner.get(target_id, "")
        return f"{owner}.xhtml" if owner == target_id else f"{owner}.xhtml#{target_id}"

    def _href(self, href: str, part: RenderedSection, fmt: str) -> str:
        if fmt == "epub" and href.startswith("#"):
            owner = self.id_owner.get(href[1:])
            if owner is not None and owner != part.id:
                target = f"{owner}.xhtml"
                return target if owner == href[1:] else f"{target}{href}"
        return href


class _LineMap:
    """Maps lines of Jinja's output back to lines of the section file.

    A line of output equal to a source line (found by ``_equal_lines``) maps to it; any other maps to the
    source line after the last equal one before it: the line Jinja grew it from.
    """

    def __init__(self, source: str, output: str, first_line: int):
        self.first_line = first_line
        src, out = source.splitlines(), output.splitlines()
        equal = _equal_lines(src, out)
        self._map: list[int] = []
        following = 0
        for j in range(len(out)):
            index = equal.get(j)
            if index is not None:
                following = index + 1
            self._map.append(following if index is None else index)

    def __call__(self, output_line: int) -> int:
        index = self._map[output_line] if output_line < len(self._map) else (self._map[-1] if self._map else 0)
        return self.first_line + index


#: How many times ``_equal_lines`` looks again between the lines it has paired.
_LEVELS = 8


def _equal_lines(src: list[str], out: list[str]) -> dict[int, int]:
    """Pair equal lines of ``out`` and ``src``, in order (output line -> source line), as patience diff does.

    Each range is matched from both ends while its lines are equal; then the lines found exactly once in
    each side of it, in the longest run that keeps their order, are paired, and the ranges between them
    looked at again, down to ``_LEVELS``. Each level costs time about linear in the lines (a general diff is
    quadratic: a section of 20,000 paragraphs took half a minute).
    """
    pairs: dict[int, int] = {}
    ranges = [(0, len(src), 0, len(out), 0)]
    while ranges:
        s_lo, s_hi, o_lo, o_hi, level = ranges.pop()
        while s_lo < s_hi and o_lo < o_hi and src[s_lo] == out[o_lo]:
            pairs[o_lo] = s_lo
            s_lo, o_lo = s_lo + 1, o_lo + 1
        while s_lo < s_hi and o_lo < o_hi and src[s_hi - 1] == out[o_hi - 1]:
            s_hi, o_hi = s_hi - 1, o_hi - 1
            pairs[o_hi] = s_hi
        if s_lo == s_hi or o_lo == o_hi:
            continue
        anchors = _unique_in_order(src, s_lo, s_hi, out, o_lo, o_hi) if level < _LEVELS else []
        if not anchors:  # lines found more than once (blank ones): paired with the next few source lines
            _pair_nearby(src, s_lo, s_hi, out, o_lo, o_hi, pairs)
        for s, o in anchors:
            pairs[o] = s
            ranges.append((s_lo, s, o_lo, o, level + 1))
            s_lo, o_lo = s + 1, o + 1
        if anchors:
            ranges.append((s_lo, s_hi, o_lo, o_hi, level + 1))
    return pairs


#: How many source lines ahead ``_pair_nearby`` looks for a line equal to the output's.
_NEARBY = 3


def _pair_nearby(src: list[str], s_lo: int, s_hi: int, out: list[str], o_lo: int, o_hi: int,
                 pairs: dict[int, int]) -> None:
    """Pair each output line with an equal source line among the next ``_NEARBY`` after the last paired one:
    Jinja grows each source line into a few lines, in order."""
    s = s_lo
    for o in range(o_lo, o_hi):
        for ahead in range(s, min(s + _NEARBY, s_hi)):
            if src[ahead] == out[o]:
                pairs[o] = ahead
                s = ahead + 1
                break


def _unique_in_order(src: list[str], s_lo: int, s_hi: int, out: list[str], o_lo: int,
                     o_hi: int) -> list[tuple[int, int]]:
    """The lines found once in ``src[s_lo:s_hi]`` and once in ``out[o_lo:o_hi]``, as (source, output) pairs:
    the longest run of them in the same order on both sides (patience sorting, n log n)."""
    counts: dict[str, list[int]] = {}
    for s in range(s_lo, s_hi):
        counts.setdefault(src[s], [0, 0, s])[0] += 1
    for o in range(o_lo, o_hi):
        entry = counts.get(out[o])
        if entry is not None:
            entry[1] += 1
            entry.append(o)
    candidates = sorted((entry[3], entry[2]) for entry in counts.values() if entry[0] == 1 and entry[1] == 1)
    tops: list[int] = []  # the source line ending the best run of each length
    ends: list[int] = []  # which candidate that is
    before: list[int] = []  # each candidate's predecessor in its run
    for index, (_, s) in enumerate(candidates):
        length = bisect.bisect_left(tops, s)
        before.append(ends[length - 1] if length else -1)
        if length == len(tops):
            tops.append(s)
            ends.append(index)
        else:
            tops[length], ends[length] = s, index
    run: list[tuple[int, int]] = []
    index = ends[-1] if ends else -1
    while index >= 0:
        o, s = candidates[index]
        run.append((s, o))
        index = before[index]
    return run[::-1]


def render_brief(brief: Brief, diags: Diagnostics, cache: Cache | None = None) -> Rendered | None:
    """Render every section; record problems in ``diags``; return None if any section failed."""
    parser = create_parser()
    # After a loading error, some sections or data files are missing: problems they would
    # have prevented (a link to a heading in a lost section) are not reported, as compilers do.
    incomplete = "sections" in diags.lost
    lost_data = {name.removeprefix("data.") for name in diags.lost if name.startswith("data.")}
    jinja = environment(brief, sections=True)
    assets: dict[str, bytes] = {}

    def bar_chart(spec: Any) -> Any:
        chart_id, svg = charts.bar_chart_svg(jinja, spec)
        path = f"{GENERATED}/{chart_id}.svg"
        assets[path] = svg.encode("utf-8")
        return charts.figure_markdown(chart_id, path, spec)

    macros = jinja.get_template("macros.md.j2").module
    jinja.globals.update(
        brief=brief.metadata, data=brief.data, bar_chart=bar_chart,
        **{name: getattr(macros, name) for name in dir(macros) if not name.startswith("_")},
    )

    syntax = _cite_syntax(brief)
    parsed: list[tuple[Section, list[Token], dict, _LineMap]] = []
    for section in brief.sections:
        text = _jinja(jinja, section, diags, lost_data)
        if text is None:
            continue
        bad = FORBIDDEN_CHARS.search(text)
        if bad:  # made by the template, e.g. from an escape in a data file or a string literal
            line_of = _LineMap(section.source, text, section.first_line)
            diags.error(section.path, line_of(text.count("\n", 0, bad.start())), forbidden_char_message(bad.group()))
            continue
        env: dict[str, Any] = {"cite_syntax": syntax}
        tokens = parser.parse(text, env)
        line_of = _LineMap(section.source, text, section.first_line)
        if "too_deep" in env:
            diags.warning(section.path, line_of(env["too_deep"]),
                          f"lists or block quotes nested more than {parser.options.maxNesting} deep: the text "
                          "nested deeper is left out")
        for line, message in env.get("crossref_errors", ()):
            diags.error(section.path, line_of(line), message)
        parsed.append((section, tokens, env, line_of))

    sections: list[RenderedSection] = []
    id_owner: dict[str, str] = {s.id: s.id for s in brief.sections}
    images: list[str] = []
    suffixes: dict[str, int] = {}
    offset = 0
    for section, tokens, env, line_of in parsed:
        headings = _assign_ids(section, tokens, id_owner, suffixes, line_of, diags)
        count = len(env.get("footnotes", {}).get("list", {}))
        sections.append(RenderedSection(section, tokens, MappingProxyType(env.get("footnotes", {})),
                                        offset, tuple(headings)))
        offset += count
    clusters = _number_citations(brief, sections, id_owner)
    numbers = crossref.number(
        (crossref.SectionTokens(part.id, part.section.title, part.section.role, part.tokens) for part in sections),
        brief.metadata.numbering, lambda children: parser.renderer.renderInlineAsText(children, parser.options, {}))
    for part, (_, _, _, line_of) in zip(sections, parsed):
        _check_references(brief, part, id_owner, assets, images, line_of, diags, incomplete)
        if not incomplete:
            for line, message in crossref.problems(numbers, part.tokens):
                diags.error(part.section.path, line_of(line) if line is not None else part.section.first_line,
                            message)
    if len(parsed) != len(brief.sections) or diags.errors:
        return None
    cite_this = any(t.type == "cite_this_brief" for part in sections for t in part.tokens)
    cited = _format_citations(brief, clusters, diags, cite_this, cache)
    if cited is not None and cited.unread:
        for part, (_, _, _, line_of) in zip(sections, parsed):
            for token in _walk(part.tokens):
                if token.type == "citation" and token.meta.get("cluster") in cited.unread:
                    diags.warning(part.section.path, line_of(token.meta.get("line", 0)),
                                  f"citation '{token.meta['source']}' is not one the citation engine reads "
                                  "(a key with quotation marks or angle brackets?); it is printed as written")
    return Rendered(brief, tuple(sections), MappingProxyType(assets), tuple(dict.fromkeys(images)),
                    MappingProxyType(id_owner), parser, cited, numbers)


def _cite_syntax(brief: Brief) -> CiteSyntax | None:
    """What the parser needs for citations; None when the brief names no bibliography (``@`` is then text)."""
    bib = brief.bibliography
    if bib is None:
        return None
    return CiteSyntax(notes=_note_style(bib.style_xml))


def _note_style(style_xml: str) -> bool:
    match = re.search(r"<style\b[^>]*\bclass=\"([a-z-]+)\"", style_xml)
    return bool(match and match.group(1) == "note")


def _number_citations(brief: Brief, sections: list[RenderedSection], id_owner: dict[str, str]) -> list[citeproc.Cluster]:
    """Number every citation in reading order across the brief; give the bibliography's entries their ids."""
    clusters: list[citeproc.Cluster] = []
    for part in sections:
        for token, note in walk_reading_order(part.tokens, part.note_offset):
            token.meta["cluster"] = len(clusters)
            clusters.append(cluster_of(token, note))
        if brief.bibliography is not None and any(t.type == "bibliography" for t in part.tokens):
            for key in brief.bibliography.references:
                id_owner.setdefault(citeproc.anchor(key), part.id)
    return clusters


def _format_citations(brief: Brief, clusters: list[citeproc.Cluster], diags: Diagnostics,
                      cite_this: bool = False, cache: Cache | None = None) -> CitedWorks | None:
    """Format every citation and the bibliography with the brief's style, in one engine run; warn of references
    never cited. With ``cite_this``, also the brief's own entry (in Chicago author-date if the brief names no
    style)."""
    bib = brief.bibliography
    if bib is None and not cite_this:
        return None
    style = bib.style_xml if bib else default_style()
    note_style = _note_style(style)
    try:
        out = citeproc.format_brief(style, brief.metadata.lang, bib.files if bib else (), clusters, note_style,
                                    brief_item(brief.metadata) if cite_this else None, cache)
    except citeproc.EngineError as exc:  # a file or style pandoc cannot read, or a runaway
        if bib is not None and exc.file is not None:
            name = bib.files[exc.file].name
            diags.error(brief.root / name, None, f"cannot read this bibliography: {exc}")
        else:
            where = (bib.path, bib.style_line) if bib else (brief.root / "brief.yaml", None)
            diags.error(*where, f"citation style '{bib.style_name if bib else 'chicago-author-date'}' cannot be "
                                f"used: {exc}")
        return None
    if bib is None:
        return CitedWorks((), (), False, False, out.brief_entry)
    cited = {item.id for cluster in clusters for item in cluster.items}
    for key, ref in bib.references.items():
        if key not in cited:
            diags.warning(ref.path, ref.line, f"reference '{key}' is never cited")
    for key in out.unprinted:
        ref = bib.references.get(key)
        if ref is not None:
            diags.warning(ref.path, ref.line, f"reference '{key}' has no bibliography entry in style "
                                              f"'{bib.style_name}'")
    return CitedWorks(out.clusters, out.entries, out.note_style, out.hanging_indent, out.brief_entry,
                      frozenset(out.unread))


def _jinja(env: jinja2.Environment, section: Section, diags: Diagnostics, lost_data: set[str]) -> str | None:
    try:
        return budget.render(env.from_string(section.source))
    except jinja2.TemplateSyntaxError as exc:
        diags.error(section.path, section.first_line + (exc.lineno or 1) - 1, f"template syntax error: {exc.message}")
    except Exception as exc:  # whatever a section's template raises is the author's to fix, at its line
        if any(re.search(rf"\bdata\s*(\.\s*{re.escape(name)}\b|\[\s*['\"]{re.escape(name)}['\"])", section.source)
               for name in lost_data):
            return None  # a follow-on error of a data file that did not load
        diags.error(section.path, _template_line(section), _template_problem(exc))
    return None


def _template_problem(exc: Exception) -> str:
    """Describe an exception raised while rendering a section's template."""
    if isinstance(exc, jinja2.UndefinedError):
        return f"undefined name in template: {exc.message}"
    if isinstance(exc, jinja2.TemplateNotFound):
        return f"template not found: {exc.name}"
    if isinstance(exc, (charts.ChartError, budget.BudgetExceeded, TypeError, ValueError, KeyError)):
        return f"template error: {exc}"
    return f"template error: {type(exc).__name__}: {exc}"


def _template_line(section: Section) -> int:
    """Find the line of the section that was being rendered when Jinja raised."""
    tb = sys.exc_info()[2]
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return section.first_line + (line or 1) - 1


def _assign_ids(section: Section, tokens: list[Token], id_owner: dict[str, str], suffixes: dict[str, int],
                line_of: _LineMap, diags: Diagnostics) -> list[Heading]:
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


def _check_references(brief: Brief, part: RenderedSection, id_owner: Mapping[str, str], assets: Mapping[str, bytes],
                      images: list[str], line_of: _LineMap, diags: Diagnostics, incomplete: bool = False) -> None:
    """Check that every link points at a known id or a web address, and that every image exists."""
    path = part.section.path
    line = part.section.first_line
    block = None  # the output line of the block whose inline tokens are walked
    for token in _walk(part.tokens):
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
        elif token.type == "image":
            src = str(token.attrGet("src") or "")
            resolved, problem = resolve_image(brief.root, src, assets)
            if problem:
                diags.error(path, line, problem)
            elif resolved is not None:
                images.append(resolved)
            if not (token.children and "".join(c.content for c in token.children).strip()):
                diags.warning(path, line, f"image '{src}' has no alt text")


def _walk(tokens: list[Token]):
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
