"""The render stage run over a brief: each section through Jinja2 (``templating``) and then Markdown into
tokens; then, across the brief, ids (``checks``), notes, cross-reference numbers (``crossref``) and citations
(``citing``), and every link and image checked. The result is a ``rendered.Rendered``."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from markdown_it.token import Token

from ..cache import Cache
from ..errors import Diagnostics
from ..load import FORBIDDEN_CHARS, forbidden_char_message
from ..model import Brief, Section
from . import blocknumbers, crossref
from .checks import assign_ids, check_references
from .citing import cite_syntax, format_citations, number_citations, warn_unread
from .linemap import LineMap
from .markdown import create_parser
from .rendered import Rendered, RenderedSection
from .templating import section_environment, section_text


def render_brief(brief: Brief, diags: Diagnostics, cache: Cache | None = None) -> Rendered | None:
    """Render every section; record problems in ``diags``; return None if any section failed."""
    parser = create_parser()
    # After a loading error, some sections or data files are missing: problems they would
    # have prevented (a link to a heading in a lost section) are not reported, as compilers do.
    incomplete = "sections" in diags.lost
    lost_data = {name.removeprefix("data.") for name in diags.lost if name.startswith("data.")}
    assets: dict[str, bytes] = {}
    jinja = section_environment(brief, assets)

    syntax = cite_syntax(brief)
    parsed: list[tuple[Section, list[Token], dict, LineMap]] = []
    for section in brief.sections:
        text = section_text(jinja, section, diags, lost_data)
        if text is None:
            continue
        bad = FORBIDDEN_CHARS.search(text)
        if bad:  # made by the template, e.g. from an escape in a data file or a string literal
            line_of = LineMap(section.source, text, section.first_line)
            diags.error(section.path, line_of(text.count("\n", 0, bad.start())), forbidden_char_message(bad.group()))
            continue
        env: dict[str, Any] = {"cite_syntax": syntax, "callout_defaults": dict(brief.metadata.callouts)}
        tokens = parser.parse(text, env)
        line_of = LineMap(section.source, text, section.first_line)
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
        headings = assign_ids(section, tokens, id_owner, suffixes, line_of, diags)
        count = len(env.get("footnotes", {}).get("list", {}))
        sections.append(RenderedSection(section, tokens, MappingProxyType(env.get("footnotes", {})),
                                        offset, tuple(headings)))
        offset += count
    line_maps = [line_of for _, _, _, line_of in parsed]
    clusters = number_citations(brief, sections, id_owner)
    numbers = crossref.number(
        (crossref.SectionTokens(part.id, part.section.title, part.section.role, part.tokens) for part in sections),
        brief.metadata.numbering, lambda children: parser.renderer.renderInlineAsText(children, parser.options, {}))
    for part, line_of in zip(sections, line_maps):
        check_references(brief, part, id_owner, assets, images, line_of, diags, incomplete)
        if not incomplete:
            for line, message in crossref.problems(numbers, part.tokens):
                diags.error(part.section.path, line_of(line) if line is not None else part.section.first_line,
                            message)
    if len(parsed) != len(brief.sections) or diags.errors:
        return None
    cite_this = any(t.type == "cite_this_brief" for part in sections for t in part.tokens)
    cited = format_citations(brief, clusters, diags, cite_this, cache)
    if cited is not None and cited.unread:
        warn_unread(cited, sections, line_maps, diags)
    for part in sections:  # once the bibliography's length is known: its entries are blocks
        blocknumbers.number(part.tokens, numbers, cited)
    return Rendered(brief, tuple(sections), MappingProxyType(assets), tuple(dict.fromkeys(images)),
                    MappingProxyType(id_owner), parser, cited, numbers)
