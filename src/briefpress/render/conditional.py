"""Conditional content, Quarto's ``.content-visible`` and ``.content-hidden`` with ``when-format`` and
``unless-format``: the editions each such div shows in, and the tokens an edition shows."""

from __future__ import annotations

from typing import Sequence

from markdown_it.token import Token

from .divs import DivAttributes
from .edition import EDITIONS, Edition

CONDITIONS = ("when-format", "unless-format")


def shown_in(attrs: DivAttributes) -> frozenset[str] | None:
    """The editions a ``.content-visible`` or ``.content-hidden`` div shows in (Quarto's ``propertiesMatch``:
    every condition given must hold), or None for any other div."""
    visible = "content-visible" in attrs.classes
    if not visible and "content-hidden" not in attrs.classes:
        return None
    shown = set()
    for edition in EDITIONS.values():
        match = all((value in edition.quarto_formats) == (key == "when-format") for key, value in attrs.attributes
                    if key in CONDITIONS)
        if match == visible:
            shown.add(edition.name)
    return frozenset(shown)


def for_edition(tokens: Sequence[Token], edition: Edition) -> list[Token]:
    """The tokens ``edition`` shows: conditional content (``.content-visible``, ``.content-hidden``) it does not
    show left out, each run of it replaced by a ``skipped`` token holding the tokens, so that the EPUB can count
    the blocks the PDF has there."""
    out: list[Token] = []
    for token in tokens:
        editions = token.meta.get("in_editions") if token.meta else None
        if editions is None or edition.name in editions:
            out.append(token)
        elif out and out[-1].type == "skipped":
            out[-1].children = [*(out[-1].children or []), token]
        else:
            out.append(Token("skipped", "", 0, children=[token], block=True))
    return out

