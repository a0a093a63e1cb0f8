"""Every style of the packaged CSL collection formats the example brief's citations and bibliography.

About half of the collection's 2,800 styles declare no ``hanging-indent``, number their entries (IEEE,
Vancouver) or set citations as notes; each is given the example brief's clusters, read once with an in-text and
once with a note style, as the brief's build would give them. A few of them then build all three editions.
"""

from __future__ import annotations

import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from briefpress.build import prepare
from briefpress.cli import main
from briefpress.errors import Diagnostics
from briefpress.references import _styles_dir, style_names
from briefpress.render import citeproc
from briefpress.render.citations import cluster_of, walk_reading_order

BRIEF = Path(__file__).parents[2] / "brief"


def _copy(tmp_path: Path, style: str) -> Path:
    root = tmp_path / style
    shutil.copytree(BRIEF, root)
    text = (root / "brief.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^csl:.*\n", "", text) + f"csl: {style}\n"
    (root / "brief.yaml").write_text(text, encoding="utf-8")
    return root


def _clusters(tmp_path: Path, style: str) -> tuple[list[citeproc.Cluster], object]:
    rendered = prepare(_copy(tmp_path, style), Diagnostics())
    clusters = [cluster_of(token, note) for part in rendered.sections
                for token, note in walk_reading_order(part.tokens, part.note_offset)]
    return clusters, rendered.brief


def _note_style(xml: str) -> bool:
    match = re.search(r"<style\b[^>]*\bclass=\"([a-z-]+)\"", xml)
    return bool(match and match.group(1) == "note")


def test_every_packaged_style_formats_the_brief(tmp_path: Path) -> None:
    in_text, brief = _clusters(tmp_path, "ieee")
    as_notes, _ = _clusters(tmp_path, "chicago-notes-bibliography")
    assert len(in_text) >= 10 and any(c.own_note for c in as_notes)
    names = style_names()
    assert len(names) > 2500

    def run(name: str) -> str | None:
        xml = (_styles_dir() / f"{name}.csl").read_text(encoding="utf-8")
        notes = _note_style(xml)
        clusters = as_notes if notes else in_text
        try:
            out = citeproc.format_brief(xml, brief.metadata.lang, brief.bibliography.files, clusters, notes)
        except citeproc.EngineError as exc:
            return f"{name}: {exc}"
        if len(out.clusters) != len(clusters) or out.unread:
            return f"{name}: {len(out.unread)} citations not read"
        if not any(text for text in (c.text for c in out.clusters)):
            return f"{name}: no citation printed"
        return None

    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = [f for f in pool.map(run, names) if f]
    assert not failures, f"{len(failures)} styles fail: " + "; ".join(failures[:20])


@pytest.mark.parametrize("style", ["ieee", "nature", "american-medical-association",
                                   "harvard-cite-them-right", "elsevier-vancouver"])
def test_styles_without_a_hanging_indent_build_every_edition(tmp_path: Path, style: str) -> None:
    root = _copy(tmp_path, style)
    out = tmp_path / "dist"
    assert main(["build", str(root), "--format", "all", "--out", str(out), "--strict"]) == 0
    html = next(out.glob("*.html")).read_text(encoding="utf-8")
    assert '<div class="references" role="list">' in html  # no hanging indent
    assert 'class="csl-entry" id="ref-' in html
