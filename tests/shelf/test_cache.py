"""A shelf keeps each brief's cache beside the site between builds, and a build from it gives the same bytes."""

from __future__ import annotations

from pathlib import Path

from briefpress.shelf.site import cache_folder

from .conftest import BRIEFS, make_brief, run


def _site(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_each_brief_keeps_its_cache_beside_the_site(tmp_path: Path) -> None:
    root = tmp_path / "desk"
    settings = dict(BRIEFS["alpha"])
    make_brief(root / "briefs" / "alpha", **settings)
    (root / "shelf.yaml").write_text("briefs: [briefs/*]\nbase_url: https://example.org/s\n", encoding="utf-8")
    out = root / "dist" / "shelf"
    assert run("shelf", "--config", str(root / "shelf.yaml"), "--out", str(out)).status == 0
    first = _site(out)
    kept = cache_folder(out)
    assert kept.parent == out.parent and not kept.is_relative_to(out), "beside the site, not published with it"
    entries = sorted(p for p in kept.rglob("*") if p.is_file())
    assert any(p.parent.name == "fonts" for p in entries)
    stamps = {p: p.stat().st_mtime_ns for p in entries}
    assert run("shelf", "--config", str(root / "shelf.yaml"), "--out", str(out)).status == 0
    assert _site(out) == first
    assert {p: p.stat().st_mtime_ns for p in entries} != stamps, "the second build read the kept entries"
    assert sorted(p for p in kept.rglob("*") if p.is_file() and p.parent.name != "citations") == \
        sorted(p for p in entries if p.parent.name != "citations")
