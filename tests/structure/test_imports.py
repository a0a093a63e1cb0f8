"""The package's import graph: no cycles (function-local and ``TYPE_CHECKING`` imports count), the stages
import only stages before them, and only the command line imports the speed-ups."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.imports import cycles, graph, modules

#: The pipeline's stages in reading order. A module may import modules of its own stage or an earlier one.
STAGES = [
    {"briefpress", "briefpress.errors", "briefpress.model", "briefpress.resources", "briefpress.outputs",
     "briefpress.kept", "briefpress.exits", "briefpress.policy", "briefpress.cache"},
    {"briefpress.load", "briefpress.bibtex"},
    {"briefpress.references"},
    {"briefpress.render", "briefpress.render.sections", "briefpress.render.jinja", "briefpress.render.markdown",
     "briefpress.render.charts", "briefpress.render.budget", "briefpress.render.citations",
     "briefpress.render.citeproc", "briefpress.render.citenames", "briefpress.render.citetree", "briefpress.render.cslhtml", "briefpress.render.pandoc", "briefpress.render.crossref",
     "briefpress.render.divs", "briefpress.render.pagebreaks", "briefpress.render.rendered",
     "briefpress.render.linemap", "briefpress.render.templating", "briefpress.render.checks",
     "briefpress.render.citing", "briefpress.render.edition", "briefpress.render.cites",
     "briefpress.render.callouts", "briefpress.render.conditional", "briefpress.render.numbering",
     "briefpress.render.blocks", "briefpress.render.notes", "briefpress.render.blocknumbers",
     "briefpress.render.boxes", "briefpress.render.htmltags"},
    {"briefpress.assemble"},
    {"briefpress.editions", "briefpress.editions.base", "briefpress.editions.typeset", "briefpress.editions.sectioned", "briefpress.editions.pages",
     "briefpress.editions.pdf", "briefpress.editions.epub", "briefpress.editions.html", "briefpress.editions.join",
     "briefpress.editions.fonts", "briefpress.editions.webfonts", "briefpress.editions.keptparts"},
    {"briefpress.release"},
    {"briefpress.build"},
    {"briefpress.shelf", "briefpress.shelf.model", "briefpress.shelf.config", "briefpress.shelf.pages",
     "briefpress.shelf.covers", "briefpress.shelf.site", "briefpress.shelf.feeds", "briefpress.shelf.kept"},
    {"briefpress.speedups", "briefpress.speedups.printer", "briefpress.speedups.drawing",
     "briefpress.speedups.processes", "briefpress.speedups.switches", "briefpress.speedups.server",
     "briefpress.speedups.quickexit", "briefpress.speedups.declarations"},
    {"briefpress.cli", "briefpress.watch", "briefpress.scaffold", "briefpress.ci", "briefpress.__main__"},
]


def test_every_module_has_a_stage() -> None:
    staged = set().union(*STAGES)
    assert set(modules()) == staged


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_each_stage_imports_only_earlier_stages() -> None:
    stage_of = {name: index for index, stage in enumerate(STAGES) for name in stage}
    backwards = [(name, target) for name, targets in graph().items() for target in targets
                 if stage_of[target] > stage_of[name]]
    assert backwards == []


def test_only_the_command_line_imports_the_speedups() -> None:
    importers = {name for name, targets in graph().items()
                 if any(t == "briefpress.speedups" or t.startswith("briefpress.speedups.") for t in targets)
                 and not name.startswith("briefpress.speedups")}
    assert importers == {"briefpress.cli"}


@pytest.mark.parametrize("hidden", [
    "def later():\n    from . import a\n",
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import x\n",
    "import pkg.a\n",
])
def test_a_hidden_cycle_is_found(tmp_path: Path, hidden: str) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .b import y\nx = 1\n")
    (package / "b.py").write_text(hidden + "y = 2\n")
    assert cycles(graph(package)) == [["pkg.a", "pkg.b"]]


def test_a_subpackage_init_counts_as_imported(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from .. import top\n")
    (package / "sub" / "leaf.py").write_text("")
    (package / "top.py").write_text("from .sub import leaf\n")
    assert cycles(graph(package)) == [["pkg.sub", "pkg.top"]]


def test_the_architecture_document_shows_todays_graph() -> None:
    from tools.imports import listing
    from tools.paths import ROOT

    document = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert listing(graph()) in document, "docs/architecture.md: paste `python tools/imports.py --list`"
