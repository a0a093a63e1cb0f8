"""Small pieces of the HTML the render rules write: attributes, and the label before a numbered caption."""

from __future__ import annotations

from html import escape
from typing import Any

from .numbering import Numbers


def attributes(attrs: dict[str, Any]) -> str:
    """``attrs`` as HTML attributes, escaped; those set to ``None`` left out."""
    return "".join(f' {k}="{escape(str(v))}"' for k, v in attrs.items() if v is not None)


def caption_label(env: dict, target_id: Any) -> str:
    """"Figure 2: " before a caption, when the target is numbered."""
    numbers: Numbers | None = env.get("numbers")
    target = numbers.targets.get(str(target_id)) if numbers is not None and target_id else None
    if target is None or not target.number or target.kind == "sec":
        return ""
    return f'<span class="caption-label">{escape(target.label)}{escape(target.delim) if target.title else ""}</span> '
