"""Cross-references: the reference pass. Each ``cite`` node of cross-references (``render.cites``) becomes a
``crossref`` token per key, ``@fig-x`` printing "Figure 1", ``[@fig-a; @fig-b]`` "Figure 1, Figure 2"; a node
that mixes cross-references and citations is an error. ``problems`` names each reference to no target.

The parts of the model: ``render.cites`` parses every ``@``; ``render.blocks`` reads captions, boxes and
callouts (``render.callouts``) and conditional content (``render.conditional``); ``render.numbering`` numbers
what is referred to, once for every edition.
"""

from __future__ import annotations

from typing import Iterator, Sequence

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from ..errors import did_you_mean
from .blocks import blocks
from .callouts import CALLOUT_REFS, is_div
from .divs import fenced_div_plugin
from .numbering import Numbers, SectionTokens, number

#: ``render.sections`` runs the numbering through this module, as the cross-references' whole.
__all__ = ["setup", "problems", "Numbers", "SectionTokens", "number", "REF_DELIM"]

#: What stands between the references of one bracket: Quarto's ``refDelim`` (``ref-delim``, ",") and a space.
REF_DELIM = ", "


def setup(md: MarkdownIt) -> None:
    """Add fenced divs (boxes), the block pass and the reference pass to ``md``."""
    fenced_div_plugin(md, validate=is_div)
    md.core.ruler.after("inline", "crossref", _resolve)
    md.core.ruler.push("crossref_blocks", blocks)


def _resolve(state: StateCore) -> None:
    """Replace each ``cite`` node of cross-references with a ``crossref`` token per key, Quarto's ``refDelim``
    between them; one that mixes them with citations with a ``crossref_mixed`` token, reported as an error."""
    for token in state.tokens:
        children = token.children or [] if token.type == "inline" else []
        if not any(child.type == "cite" and any(item.reference for item in child.meta["items"]) for child in children):
            continue
        out: list[Token] = []
        for child in children:
            items = child.meta.get("items", ()) if child.type == "cite" else ()
            if not any(item.reference for item in items):
                out.append(child)
            elif child.meta.get("mixed"):
                out.append(Token("crossref_mixed", "", 0, level=child.level, content=child.meta["source"]))
            else:
                for i, item in enumerate(items):
                    if i:  # Quarto's resolveRefs: the delimiter before every reference but the first
                        out.append(Token("text", "", 0, level=child.level, content=REF_DELIM))
                    out.append(Token("crossref", "a", 0, level=child.level, meta={
                        "key": item.key, "upper": item.upper, "suppress": item.suppress, "prefix": item.prefix}))
        token.children = out


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
