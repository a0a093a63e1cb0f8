"""A shelf keeps each brief's cache beside the site between builds, and a build from it gives the same bytes."""

from __future__ import annotations

import hashlib
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


def test_a_brief_whose_folder_has_not_changed_is_copied_and_an_edited_one_built_again(tmp_path: Path) -> None:
    """The site after one brief is edited is the site a cold build makes of the edited desk; the other brief is
    copied from its kept build (none of its other kept work is even read), and a damaged kept build or kept
    set of pictures is not trusted."""
    root = tmp_path / "desk"
    for name in ("alpha", "beta"):
        make_brief(root / "briefs" / name, **BRIEFS[name])
    (root / "shelf.yaml").write_text("briefs: [briefs/*]\nbase_url: https://example.org/s\n", encoding="utf-8")
    out = root / "dist" / "shelf"
    assert run("shelf", "--config", str(root / "shelf.yaml"), "--out", str(out)).status == 0
    caches = {name: cache_folder(out) / hashlib.sha256(str(root / "briefs" / name).encode()).hexdigest()[:16]
              for name in ("alpha", "beta")}
    whole = {name: next((folder / "brief").iterdir()) for name, folder in caches.items()}

    def stamps(name: str) -> dict[Path, int]:
        return {p: p.stat().st_mtime_ns for p in caches[name].rglob("*")
                if p.is_file() and p.parent.name not in ("brief", "covers")}

    before = {name: stamps(name) for name in caches}
    pictures = sorted((caches["beta"] / "covers").iterdir())
    section = next((root / "briefs" / "beta" / "sections").glob("*.md"))
    section.write_text(section.read_text(encoding="utf-8") + "\nA sentence added to beta.\n", encoding="utf-8")
    assert run("shelf", "--config", str(root / "shelf.yaml"), "--out", str(out)).status == 0
    edited = _site(out)
    assert "A sentence added to beta." in edited["beta-water/beta-water.html"].decode("utf-8")
    assert stamps("alpha") == before["alpha"], "alpha, unchanged, is copied whole: no other kept work is read"
    assert stamps("beta") != before["beta"], "beta is built again, from its kept work where it can"
    assert sorted((caches["beta"] / "covers").iterdir()) == pictures, "its cover did not change: not drawn again"
    cold = tmp_path / "cold" / "shelf"
    assert run("shelf", "--config", str(root / "shelf.yaml"), "--out", str(cold)).status == 0
    assert _site(cold) == edited
    drawn = [p for folder in caches.values() for p in (folder / "covers").iterdir()]
    assert len(drawn) >= 2, "each brief's pictures are kept"
    for path in [*whole.values(), *drawn]:  # damaged: the brief is built and drawn again, to the same bytes
        data = bytearray(path.read_bytes())
        data[-5] ^= 0x01
        path.write_bytes(bytes(data))
    assert run("shelf", "--config", str(root / "shelf.yaml"), "--out", str(out)).status == 0
    assert _site(out) == edited
