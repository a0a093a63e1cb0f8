"""Boxes and callouts read from their fenced divs: ``::: {#box-x .callout-note title="Key judgements"}``,
``.box`` the house style's plain box, a callout numbered in its kind's own sequence by Quarto's id of its kind
(``#nte-x``, ``#tip-x``, ``#wrn-x``, ``#imp-x``, ``#cau-x``); each one's id, classes, title and heading level,
and Quarto's callout options (``collapse``, ``icon``, ``appearance``)."""

from __future__ import annotations

import re
from typing import Any, Mapping

from markdown_it.token import Token

from .conditional import CONDITIONS, shown_in
from .divs import DivAttributes, parse_attributes

CALLOUTS = ("note", "tip", "warning", "important", "caution")
#: The id prefix that numbers each kind of callout, in its own sequence (Quarto's crossref categories).
CALLOUT_REFS = {"note": "nte", "tip": "tip", "warning": "wrn", "important": "imp", "caution": "cau"}
#: A callout's options and the values each takes (quarto-cli ``customnodes/callout.lua``): ``collapse`` makes it
#: collapsible, closed or open; ``icon="false"`` drops its icon; ``appearance`` is its style ("minimal" is
#: "simple" without an icon).
CALLOUT_OPTIONS = {"collapse": ("true", "false"), "icon": ("true", "false"),
                   "appearance": ("default", "simple", "minimal")}
#: Where a div's id or class starts a numbered target of the wrong kind.
NUMBERED = re.compile(r"^(fig|tbl|box|sec|eq|nte|tip|wrn|imp|cau)-")
_OWN_BLOCKS = ("refs", "cite-this-brief")  # pandoc's marks the citation code places (render.citations)


def is_div(params: str) -> bool:
    """Whether a colon fence's text opens a div of the brief's (not a mark of the bibliography's)."""
    params = params.strip()
    if not params:
        return False
    attrs = parse_attributes(params)
    return attrs is not None and attrs.id not in _OWN_BLOCKS


def is_callout(attrs: DivAttributes) -> bool:
    """Whether a div's classes make it one of Quarto's callouts."""
    return any(c.startswith("callout-") and c.removeprefix("callout-") in CALLOUTS for c in attrs.classes)


def read_div(token: Token, level: int, errors: list[tuple[int, str]],
             defaults: Mapping[str, str] | None = None) -> None:
    """Read a fenced div's attributes; a box (``#box-…``, ``.box`` or ``.callout-…``) gets its heading level.
    ``defaults``: the brief's ``callout-appearance`` and ``callout-icon``, for callouts that set none."""
    line = token.map[0] if token.map else 0
    attrs = parse_attributes(token.info) or DivAttributes()
    if not token.meta.get("closed"):
        errors.append((line, "this box or div is never closed: end it with a line ':::'"))
    div_id, classes = attrs.id, attrs.classes
    shown = shown_in(attrs)
    if shown is not None:
        for key, _ in attrs.attributes:
            if key not in CONDITIONS and key.startswith(("when-", "unless-")):
                errors.append((line, f"'{key}' is not a condition a brief can meet: use when-format or "
                                     "unless-format"))
        token.meta.update(box=False, classes=(), title=None, callout=None, heading=level, shown_in=shown)
        return
    callouts = [c.removeprefix("callout-") for c in classes if c.startswith("callout-")]
    for kind in callouts:
        if kind not in CALLOUTS:
            errors.append((line, f"unknown callout 'callout-{kind}': use "
                                 f"{', '.join(f'callout-{k}' for k in CALLOUTS)}, or box"))
    ref = div_id.split("-", 1)[0] if div_id and NUMBERED.match(div_id) else None
    if ref in CALLOUT_REFS.values() and not callouts:
        errors.append((line, f"div id '{div_id}' numbers a callout: give the div a callout's class "
                             f"(.callout-{next(k for k, v in CALLOUT_REFS.items() if v == ref)})"))
    elif ref is not None and ref != "box" and ref not in CALLOUT_REFS.values():
        errors.append((line, f"div id '{div_id}' must start with 'box-' to number it as a box (or nte-, tip-, "
                             "wrn-, imp- or cau- on a callout)"))
    box = bool(div_id and div_id.startswith("box-")) or "box" in classes or bool(callouts)
    if div_id:
        token.attrSet("id", div_id)
    callout = callouts[0] if callouts and callouts[0] in CALLOUTS else None
    options = _callout_options(attrs, bool(callouts), line, errors, defaults or {})
    # A callout with no title of its own is titled by its kind, as Quarto titles it ("Note"), unless its
    # appearance is simple or minimal; one numbered by its kind's id is titled "Note 1" alone.
    numbered = ref in CALLOUT_REFS.values()
    heading: Token | None = token.meta.get("heading_title")
    title = attrs.title or (heading.content.strip() if heading is not None else None) or (
        callout.capitalize() if callout and not numbered and options["appearance"] == "default" else None)
    if not (title or numbered or ref == "box"):
        options["collapse"] = None  # Quarto: a callout with no title has nothing to open it by
    token.meta.update(box=box, classes=classes, title=title, callout=callout, heading=min(level + 1, 6),
                      title_inline=list(heading.children or []) if heading is not None and not attrs.title else None,
                      **options)


def _callout_options(attrs: DivAttributes, callout: bool, line: int, errors: list[tuple[int, str]],
                     defaults: Mapping[str, str]) -> dict[str, Any]:
    """A callout's ``collapse``, ``icon`` and ``appearance``, as Quarto's callout constructor reads them:
    ``collapse`` None (not collapsible), "true" (closed) or "false" (open); ``appearance="minimal"`` is simple
    with no icon; what the callout does not set, the brief's ``defaults`` (``callout-appearance``,
    ``callout-icon``) do. A value Quarto does not name, or the options on a div that is not a callout, is an
    error."""
    given: dict[str, str] = dict(defaults) if callout else {}
    for key, value in attrs.attributes:
        allowed = CALLOUT_OPTIONS.get(key)
        if allowed is None:
            continue
        if not callout:
            errors.append((line, f"'{key}' is an option of callouts: give the div a callout's class "
                                 f"({', '.join(f'.callout-{k}' for k in CALLOUTS)}), or leave it out"))
        elif value not in allowed:
            choices = " or ".join(f'{key}="{v}"' for v in allowed)
            errors.append((line, f'callout option {key}="{value}" is not one Quarto takes: use {choices}'))
        else:
            given[key] = value
    appearance = given.get("appearance", "default")
    return {"collapse": given.get("collapse"),
            "icon": given.get("icon", "true") == "true" and appearance != "minimal",
            "appearance": "simple" if appearance == "minimal" else appearance}
