"""Each section's template run by Jinja2: the names a section sees (the brief, its data, charts, the package's
macros), and whatever the template raises reported at the section's line."""

from __future__ import annotations

import re
import sys
from typing import Any

import jinja2

from ..errors import Diagnostics
from ..model import Brief, Section
from . import budget, charts
from .jinja import environment

#: Where the charts a build draws go, relative to the brief folder.
GENERATED = "charts"


def section_environment(brief: Brief, assets: dict[str, bytes]) -> jinja2.Environment:
    """The environment every section's template runs in; each chart it draws is put in ``assets``."""
    jinja = environment(brief, sections=True)

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
    return jinja


def section_text(env: jinja2.Environment, section: Section, diags: Diagnostics, lost_data: set[str]) -> str | None:
    """The section's Markdown, as its template makes it; None if the template fails (reported, unless it
    uses a data file that did not load)."""
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
