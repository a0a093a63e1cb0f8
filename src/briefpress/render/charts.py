"""Charts drawn at build time from a brief's data, as SVG from a Jinja2 template."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup

from ..resources import FONT_PACKAGES, font_dir

# Labels sit above their bars, so the chart stays narrow enough to read on a phone.
BAR_HEIGHT = 62
MARGIN = 12
PLOT_WIDTH = 380
TICKS = (0, 25, 50, 75, 100)
#: A value label: 15px bold, 8px after its bar. Gridlines stop short of it by LABEL_CLEARANCE on each side,
#: and its width is measured in the design's face, with room for a reader's sans-serif (LABEL_SLACK wider).
LABEL_SIZE = 15
LABEL_GAP = 8
LABEL_CLEARANCE = 4
LABEL_SLACK = 1.2


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    display: str
    width: float
    #: The gridlines drawn through this bar's row: every tick but those that would cross its value label.
    ticks: tuple[float, ...] = ()


@cache
def _bold_widths() -> tuple[dict[int, int], int, int]:
    """Source Sans Pro Bold's advance widths by character, its units per em, and a wide fallback advance."""
    from fontTools.ttLib import TTFont

    with TTFont(font_dir(FONT_PACKAGES[1]) / "SourceSansPro-Bold.ttf", lazy=True) as font:
        metrics = font["hmtx"].metrics
        widths = {code: metrics[name][0] for code, name in font.getBestCmap().items()}
        return widths, font["head"].unitsPerEm, max(widths.values())


def label_width(text: str, size: float = LABEL_SIZE) -> float:
    """The width of a value label in pixels, in the design's bold face, with slack for a reader's font."""
    widths, units, widest = _bold_widths()
    return sum(widths.get(ord(char), widest) for char in text) * size / units * LABEL_SLACK


def clear_ticks(start: float, text: str) -> tuple[float, ...]:
    """The gridline positions (x) that do not cross a label drawn from ``start``."""
    end = start + label_width(text)
    xs = (MARGIN + PLOT_WIDTH * tick / 100 for tick in TICKS)
    return tuple(x for x in xs if not start - LABEL_CLEARANCE <= x <= end + LABEL_CLEARANCE)


class ChartError(ValueError):
    """The chart's data is incomplete."""


def md_escape(text: str) -> str:
    """Escape text for use inside Markdown image brackets or a quoted title."""
    return "".join("\\" + ch if ch in '\\[]"*_`<>' else ch for ch in " ".join(str(text).split()))


def bar_chart_svg(env: jinja2.Environment, spec: Any) -> tuple[str, str]:
    """Draw a horizontal bar chart; return its id and its SVG text."""
    if not isinstance(spec, dict):
        raise ChartError("bar_chart() needs a mapping with id, caption, alt and bars")
    missing = [k for k in ("id", "caption", "alt", "bars") if not spec.get(k)]
    if missing:
        raise ChartError(f"bar_chart() data lacks {', '.join(missing)}")
    rows = spec["bars"]
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "label" in r and "value" in r for r in rows):
        raise ChartError("bar_chart() 'bars' must be a list of mappings with label and value")
    values = [_number(r["value"], f"the value of '{r['label']}'") for r in rows]
    top = _number(spec.get("max") or max(values, default=0) or 1, "'max'")
    if top <= 0:
        raise ChartError(f"bar_chart() 'max' must be more than 0, not {top:g}")
    unit = str(spec.get("unit", ""))
    bars = []
    for r, value in zip(rows, values):
        display = str(r.get("display") or f"{r['value']}{unit}")
        width = round(PLOT_WIDTH * value / top, 2)
        bars.append(Bar(str(r["label"]), value, display, width, clear_ticks(MARGIN + width + LABEL_GAP, display)))
    svg = env.get_template("chart.svg.j2").render(
        spec=spec, bars=bars, bar_height=BAR_HEIGHT, margin=MARGIN, plot_width=PLOT_WIDTH, ticks=TICKS,
        label_gap=LABEL_GAP, height=BAR_HEIGHT * len(bars) + 40, width=MARGIN + PLOT_WIDTH + 100,
    )
    return str(spec["id"]), svg


def _number(value: Any, what: str) -> float:
    """A chart's number, which must be finite: a bar ``nan`` wide draws nothing a reader can see."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ChartError(f"bar_chart() {what} must be a number, not '{value}'") from None
    if not math.isfinite(number):
        raise ChartError(f"bar_chart() {what} must be a finite number, not '{value}'")
    return number


def figure_markdown(chart_id: str, path: str, spec: dict) -> Markup:
    """Return the Markdown that places a chart as a figure with alt text and caption."""
    return Markup(f'![{md_escape(spec["alt"])}]({path} "{md_escape(spec["caption"])}"){{#{chart_id}}}')
