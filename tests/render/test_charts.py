"""A bar chart's value labels are never crossed by a gridline, at any value (bars drawn at, and just short of,
every tick). The labels' widths are measured here with Pillow in the design's bold face, not with the chart's
own measure."""

from __future__ import annotations

import pytest
from lxml import etree
from PIL import ImageFont

from briefpress.render.charts import bar_chart_svg
from briefpress.render.jinja import environment
from briefpress.resources import FONT_PACKAGES, font_dir
from tools.paths import BRIEF

SVG = "{http://www.w3.org/2000/svg}"
LABELS = ("nearly 71%", "77.18%", "100%", "about 0%", "Well over 48 per cent")


@pytest.fixture(scope="module")
def jinja():
    from briefpress.build import prepare
    from briefpress.errors import Diagnostics
    return environment(prepare(BRIEF, Diagnostics()).brief, sections=True)


@pytest.mark.parametrize("value", sorted({v for t in (0, 25, 50, 75, 100) for v in (t, t - 2, t - 6, t - 12)
                                          if 0 <= v <= 100}))
def test_no_gridline_crosses_a_value_label(jinja, value: float) -> None:
    spec = {"id": "fig-x", "caption": "c", "alt": "a", "unit": "%", "max": 100,
            "bars": [{"label": f"Bar {n}", "value": value, "display": text} for n, text in enumerate(LABELS)]}
    _, svg = bar_chart_svg(jinja, spec)
    root = etree.fromstring(svg.encode())
    font = ImageFont.truetype(str(font_dir(FONT_PACKAGES[1]) / "SourceSansPro-Bold.ttf"), 15)
    lines = [(float(l.get("x1")), float(l.get("y1")), float(l.get("y2"))) for l in root.iter(f"{SVG}line")]
    labels = [t for t in root.iter(f"{SVG}text") if t.get("font-weight") == "bold"]
    assert [t.text for t in labels] == list(LABELS)
    for label in labels:
        x, y = float(label.get("x")), float(label.get("y"))
        right = x + font.getlength(label.text)
        row = [(lx, y1, y2) for lx, y1, y2 in lines if y1 <= y <= y2 + 1]
        assert row, "the label's row has gridlines"
        assert min(lx for lx, _, _ in row) == 12, "the 0 line is drawn in every row"
        crossing = [lx for lx, _, _ in row if x - 1 <= lx <= right + 1]
        assert crossing == [], f"'{label.text}' at {value}: gridlines at {crossing} cross it ({x:.0f}–{right:.0f})"
