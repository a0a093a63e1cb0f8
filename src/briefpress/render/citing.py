"""The brief's citations numbered in reading order and formatted in one run of the citation engine, with the
bibliography; references never cited, and citations the engine could not read, reported."""

from __future__ import annotations

import re
from typing import Sequence

from ..cache import Cache
from ..errors import Diagnostics
from ..load import FORBIDDEN_CHARS, forbidden_char_message
from ..model import Bibliography, Brief
from ..references import brief_item, default_style
from . import citeproc
from .checks import walk
from .citations import CiteSyntax, CitedWorks, cluster_of, walk_reading_order
from .linemap import LineMap
from .rendered import RenderedSection


def cite_syntax(brief: Brief) -> CiteSyntax | None:
    """What the parser needs for citations; None when the brief names no bibliography (``@`` is then text)."""
    bib = brief.bibliography
    if bib is None:
        return None
    return CiteSyntax(notes=_note_style(bib.style_xml))


def _note_style(style_xml: str) -> bool:
    match = re.search(r"<style\b[^>]*\bclass=\"([a-z-]+)\"", style_xml)
    return bool(match and match.group(1) == "note")


def number_citations(brief: Brief, sections: list[RenderedSection], id_owner: dict[str, str]) -> list[citeproc.Cluster]:
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


def format_citations(brief: Brief, clusters: list[citeproc.Cluster], diags: Diagnostics,
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
        if bib is not None and exc.references:  # references at fault, each reported at its own line
            for key, message in exc.references:
                ref = bib.references.get(key)
                if ref is not None:
                    diags.error(ref.path, ref.line, message)
                else:
                    diags.error(brief.root / bib.files[exc.file or 0].name, None, message)
        elif bib is not None and exc.file is not None:
            name = bib.files[exc.file].name
            diags.error(brief.root / name, None, f"cannot read this bibliography: {exc}")
        elif isinstance(exc, citeproc.EngineTimeout):  # too many citations, or too costly: the style is sound
            diags.error(*((bib.path, bib.style_line) if bib else (brief.root / "brief.yaml", None)),
                        f"pandoc was stopped: {exc}")
        else:
            where = (bib.path, bib.style_line) if bib else (brief.root / "brief.yaml", None)
            diags.error(*where, f"citation style '{bib.style_name if bib else 'chicago-author-date'}' cannot be "
                                f"used: {exc}")
        return None
    if bib is None:
        return CitedWorks((), (), False, False, out.brief_entry)
    if _forbidden_text(bib, clusters, out, diags):
        return None
    cited = {item.id for cluster in clusters for item in cluster.items}
    for key, ref in bib.references.items():
        if key not in cited:
            diags.warning(ref.path, ref.line, f"reference '{key}' is never cited")
    for key in out.unprinted:
        ref = bib.references.get(key)
        if ref is not None:
            diags.warning(ref.path, ref.line, f"reference '{key}' has no bibliography entry in style "
                                              f"'{bib.style_name}'")
    missing: dict[int, tuple[str, ...]] = {}
    for index, key in out.missing:
        ref = bib.references.get(key)
        where = (f" from {ref.path.name} (line {ref.line} holds an entry of that key, which pandoc does not take "
                 "as a work: an @xdata entry, or a key it reads otherwise)") if ref is not None else ""
        missing[index] = (*missing.get(index, ()), f"pandoc reads no reference '{key}'{where}, so this citation "
                                                   "cannot be formatted")
    return CitedWorks(out.clusters, out.entries, out.note_style, out.hanging_indent, out.brief_entry,
                      frozenset(out.unread), missing)



def _forbidden_text(bib: Bibliography, clusters: Sequence[citeproc.Cluster], out: citeproc.Output,
                    diags: Diagnostics) -> bool:
    """Report each reference whose formatted text holds a character no output can hold (one a CSL-JSON
    escape such as ``\\ufffe`` or a LaTeX command spelled, which the file's own text does not show), at
    the reference; whether there was one."""
    found: dict[str, str] = {}
    for key, html in out.entries:
        bad = FORBIDDEN_CHARS.search(html)
        if bad:
            found.setdefault(key, bad.group())
    for cluster, formatted in zip(clusters, out.clusters):
        bad = FORBIDDEN_CHARS.search(formatted.text + formatted.author)
        if bad:
            for item in cluster.items:
                found.setdefault(item.id, bad.group())
    for key, char in found.items():
        ref = bib.references.get(key)
        if ref is not None:
            diags.error(ref.path, ref.line, f"reference '{key}': {forbidden_char_message(char)}")
        else:
            diags.error(bib.path, None, forbidden_char_message(char))
    return bool(found)


def warn_unread(cited: CitedWorks, sections: Sequence[RenderedSection], line_maps: Sequence[LineMap],
                diags: Diagnostics) -> None:
    """Report each citation the engine did not read, at its line: an error where it cites a key pandoc read no
    reference for, else a warning."""
    for part, line_of in zip(sections, line_maps):
        for token in walk(part.tokens):
            if token.type == "citation" and token.meta.get("cluster") in cited.missing:
                for message in cited.missing[token.meta["cluster"]]:
                    diags.error(part.section.path, line_of(token.meta.get("line", 0)),
                                f"citation '{token.meta['source']}': {message}")
            elif token.type == "citation" and token.meta.get("cluster") in cited.unread:
                diags.warning(part.section.path, line_of(token.meta.get("line", 0)),
                              f"citation '{token.meta['source']}' is not one the citation engine reads "
                              "(a key with quotation marks or angle brackets?); it is printed as written")
