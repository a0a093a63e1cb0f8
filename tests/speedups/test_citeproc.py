"""The ``citeproc`` speed-up (a macro index in citeproc-js) gives the same citations and bibliography."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from briefpress.render import citeproc
from briefpress.references import _styles_dir
from briefpress.render.citeproc import CiteItem, Cluster, Engine
from briefpress.speedups.citeproc import MACRO_INDEX, install

CORPUS = Path(__file__).parents[1] / "data" / "references" / "corpus.yaml"


def _format(style: str) -> tuple:
    items = {r["id"]: r for r in yaml.safe_load(CORPUS.read_text(encoding="utf-8"))["references"]}
    clusters = [Cluster((CiteItem(key),), note=n + 1) for n, key in enumerate(items)]
    clusters += [Cluster((CiteItem("zhao2020a"), CiteItem("zhao2020b", locator="4", label="page")), note=99)]
    with Engine((_styles_dir() / f"{style}.csl").read_text(encoding="utf-8"), "en-US", items) as engine:
        return engine.format(clusters), engine.entry("imf2023")


@pytest.mark.parametrize("style", ["chicago-author-date", "apa", "chicago-notes-bibliography"])
def test_the_same_text_with_the_macro_index(style: str, monkeypatch) -> None:
    monkeypatch.setattr(citeproc, "EXTENSIONS", [])
    plain = _format(style)
    monkeypatch.setenv("BRIEFPRESS_SPEEDUPS", "")
    install()
    assert citeproc.EXTENSIONS == [MACRO_INDEX]
    assert _format(style) == plain
    with Engine((_styles_dir() / f"{style}.csl").read_text(encoding="utf-8"), "en-US", {}) as engine:
        assert engine._ctx.eval("Object.keys(bp_engine.cslXml.bp_macros || {}).length") > 10, "the index is used"


def test_switched_off_it_is_not_installed(monkeypatch) -> None:
    monkeypatch.setattr(citeproc, "EXTENSIONS", [])
    monkeypatch.setenv("BRIEFPRESS_SPEEDUPS", "no-citeproc")
    install()
    assert citeproc.EXTENSIONS == []


def test_without_the_name_it_relies_on_it_changes_nothing() -> None:
    """A citeproc-js without ``CSL.XmlJSON.prototype.getNodesByName``: the index is not installed, and nothing
    fails; one with it: installed."""
    from py_mini_racer import MiniRacer

    ctx = MiniRacer()
    try:
        ctx.eval("var CSL = {XmlJSON: function () {}};")
        assert ctx.eval(MACRO_INDEX.strip().rstrip(";")) is False
        ctx.eval("CSL.XmlJSON.prototype.getNodesByName = function () { return ['plain']; };")
        assert ctx.eval(MACRO_INDEX.strip().rstrip(";")) is True
        # a lookup it was not made for takes the plain path
        assert json.loads(ctx.eval("JSON.stringify(new CSL.XmlJSON().getNodesByName({}, 'text', 'x'))")) == ["plain"]
    finally:
        ctx.close()
