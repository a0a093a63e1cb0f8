"""Figures, tables, boxes, callouts and sections numbered once, from the parsed sections, before any edition
is written: the editions read the numbers from the result, so all three print the same; and how a target's
caption label and a reference to it read (with ``crossref``'s options, ``model.Numbering``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterable, Iterator, Mapping, Sequence

from markdown_it.token import Token

from ..model import LISTS, Numbering
from .callouts import CALLOUT_REFS

#: What each prefix numbers, and the word a reference to it reads.
KINDS = {"fig": "Figure", "tbl": "Table", "box": "Box", "sec": "Section",
         "nte": "Note", "tip": "Tip", "wrn": "Warning", "imp": "Important", "cau": "Caution"}
#: What stands between the word and the number, in captions and references: a no-break space, as Quarto's
#: ``nbspString()`` (crossref ``format.lua``'s ``titlePrefix``, ``refs.lua``'s ``add_ref_prefix``).
NBSP = "\u00a0"
#: What ``lists:`` names, and the heading each list has.
LIST_TITLES = {"fig": "Figures", "tbl": "Tables", "box": "Boxes"}


@dataclass(frozen=True)
class Target:
    """Something a reference can point at, with its number (empty: not numbered)."""

    kind: str  # fig, tbl, box, sec
    id: str
    number: str
    title: str  # the caption, box title or heading, as plain text
    section: str  # the id of the section it is in
    #: The word its caption starts with, when not its kind's: a callout's own kind (Quarto: ``#nte-x
    #: .callout-tip`` is captioned "Tip 1", and referred to as "Note 1"), or ``crossref``'s ``fig-title``.
    name: str = ""
    #: What follows the number in its caption when it has a title (``crossref``'s ``title-delim``).
    delim: str = ":"

    @property
    def label(self) -> str:
        """"Figure 2" (a no-break space before the number), or a section's title when sections are not numbered."""
        return f"{self.name or KINDS[self.kind]}{NBSP}{self.number}" if self.number else self.title

    @property
    def entry(self) -> str:
        """The target as its list shows it: "Figure 2: The caption"."""
        return f"{self.label}{self.delim} {self.title}" if self.number and self.title else self.label


@dataclass(frozen=True)
class Numbers:
    """Every figure, table, box and section of a brief, numbered; and how references to them read."""

    targets: Mapping[str, Target] = field(default_factory=lambda: MappingProxyType({}))
    numbering: Numbering = Numbering()

    def listing(self, kind: str) -> tuple[Target, ...]:
        """The numbered targets of ``kind``, in reading order."""
        return tuple(t for t in self.targets.values() if t.kind == kind and t.number)

    @property
    def lists(self) -> tuple[tuple[str, str, tuple[Target, ...]], ...]:
        """The lists ``brief.yaml`` asks for: (kind, heading, entries), each with an entry at least."""
        found = ((LISTS[name], self.listing(LISTS[name])) for name in self.numbering.lists)
        titles = dict(self.numbering.list_titles)
        return tuple((kind, titles.get(kind, LIST_TITLES[kind]), entries) for kind, entries in found if entries)

    def resolve(self, key: str) -> Target | None:
        """The target of ``@key``: for ``sec-x``, the id ``sec-x`` or else ``x``."""
        kind = key.split("-", 1)[0]
        target = self.targets.get(key)
        if target is None and kind == "sec":
            target = self.targets.get(key[4:])
        return target if target is not None and target.kind == kind else None

    def numbered_title(self, target_id: str, title: str) -> str:
        """A section's or heading's title with its number before it, when the brief numbers sections."""
        target = self.targets.get(target_id)
        if self.numbering.number_sections and target is not None and target.kind == "sec" and target.number:
            return f"{target.number} {title}"
        return title

    def reference_text(self, target: Target, suppress: bool, upper: bool = False, prefix: str = "") -> str:
        """What a reference prints: "Figure 2", "2" (``[-@…]``), "Section 3" or a section's title; ``upper``
        (``@Fig-x``) capitalises the prefix's first letter, and ``prefix`` (``[Fig. @fig-x]``) stands for it,
        as Quarto does."""
        if prefix:  # Quarto: the author's prefix, then the number alone
            return f"{prefix}{NBSP}{target.number or target.title}"
        if target.kind == "sec" and (self.numbering.section_refs == "title" or not target.number):
            return target.title
        if suppress:
            return target.number
        # ``crossref``'s ``fig-prefix`` … (Quarto's ``refPrefix``); an empty one prints the number alone.
        prefix = self.numbering.ref_prefix(target.kind, KINDS[target.kind])
        if not prefix:
            return target.number
        return f"{prefix[:1].upper() + prefix[1:] if upper else prefix}{NBSP}{target.number}"



@dataclass(frozen=True)
class SectionTokens:
    """What ``number`` reads of one section: its id, title, role and parsed tokens."""

    id: str
    title: str
    role: str
    tokens: Sequence[Token]


def number(sections: Iterable[SectionTokens], numbering: Numbering, as_text: Any) -> Numbers:
    """Number every figure, table, box and section, in reading order; ``as_text`` renders inline tokens as
    plain text (the parser's renderer)."""
    targets: dict[str, Target] = {}
    counts: dict[str, int] = {}
    body = back = 0
    for part in sections:
        if part.role == "body":
            body += 1
            prefix = str(body)
        else:
            back += 1
            prefix = chr(ord("A") + (back - 1) % 26)
        if numbering.per_section:
            counts = {}
        section_number = prefix if part.role == "body" else ""
        targets.setdefault(part.id, Target("sec", part.id, section_number, part.title, part.id))
        heading_counts = [0] * 7
        for kind, token_id, title, name in _found(part.tokens, as_text):
            if kind == "sec":
                level = int(title[0])
                heading_counts[level] += 1
                heading_counts[level + 1:] = [0] * (6 - level)
                numbers = [str(n) for n in heading_counts[2: level + 1]]
                number_text = ".".join([section_number, *numbers]) if section_number else ""
                targets.setdefault(token_id, Target("sec", token_id, number_text, title[1:], part.id))
                continue
            counts[kind] = counts.get(kind, 0) + 1
            label = numbering.number_label(kind, counts[kind])
            n = f"{prefix}.{label}" if numbering.per_section else label
            # Quarto's ``titlePrefix``: ``crossref``'s ``fig-title`` (``nte-title`` …) over the kind's own word.
            word = numbering.caption_title(kind, name or KINDS[kind])
            targets.setdefault(token_id, Target(kind, token_id, n, title, part.id, word, numbering.title_delim))
    return Numbers(MappingProxyType(targets), numbering)


def _found(tokens: Sequence[Token], as_text: Any) -> Iterator[tuple[str, str, str, str]]:
    """(kind, id, title, caption word) of each numbered thing in ``tokens``; a heading's title starts with its
    level."""
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.attrGet("id"):
            yield "sec", str(token.attrGet("id")), token.tag[1] + tokens[i + 1].content.strip(), ""
        elif token.type == "figure":
            image = figure_image(token)
            fig_id = str(image.attrGet("id") or "") if image is not None else ""
            if fig_id.startswith("fig-") and image is not None:
                yield "fig", fig_id, figure_caption_text(image, as_text), ""
        elif token.type == "table_open" and str(token.attrGet("id") or "").startswith("tbl-"):
            yield "tbl", str(token.attrGet("id")), as_text(token.meta.get("caption") or []).strip(), ""
        elif token.type == "container_div_open" and token.meta.get("box"):
            div_id = str(token.attrGet("id") or "")
            kind = div_id.split("-", 1)[0]
            callout = token.meta.get("callout")
            if kind == "box":
                yield "box", div_id, str(token.meta.get("title") or ""), ""
            elif callout and kind in CALLOUT_REFS.values():
                yield kind, div_id, str(token.meta.get("title") or ""), callout.capitalize()


def figure_image(figure: Token) -> Token | None:
    """A figure's image: its one child, or the one inside its link (a linked figure)."""
    return next((child for child in figure.children or [] if child.type == "image"), None)


def figure_caption_text(image: Token, as_text: Any) -> str:
    """A figure's caption as plain text: its image's title if it has one, else (Quarto) its description."""
    title = image.attrGet("title")
    return str(title) if title else as_text(image.children or []).strip()
