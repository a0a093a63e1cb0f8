"""The package's compiled templates are reused, and never once their source has changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2
import pytest

from briefpress.render.jinja import PackageBytecodeCache, _environment

MINIMAL = Path(__file__).parents[1] / "briefs" / "minimal"


def _render(folder: Path, cache_dir: Path, name: str = "page.j2") -> str:
    cache = PackageBytecodeCache(sections=False, write=True)
    cache.templates, cache.folder = folder, cache_dir  # a stand-in for the package's folders
    return _environment(jinja2.FileSystemLoader(folder), False, cache).get_template(name).render(x=1)


def _identity(path: Path) -> tuple[int, int]:
    """A file's inode and modification time: an entry written again (through a new file renamed onto it)
    changes both."""
    status = path.stat()
    return status.st_ino, status.st_mtime_ns


def test_an_entry_is_written_reused_and_dropped_when_the_source_changes(tmp_path: Path) -> None:
    folder, cache_dir = tmp_path / "templates", tmp_path / "__pycache__"
    folder.mkdir()
    (folder / "page.j2").write_text("one {{ x }}", encoding="utf-8")
    assert _render(folder, cache_dir) == "one 1"
    [entry] = cache_dir.iterdir()
    assert entry.name == "jinja-template-page.j2.cache"
    compiled, written = entry.read_bytes(), _identity(entry)
    assert _render(folder, cache_dir) == "one 1"
    assert entry.read_bytes() == compiled and _identity(entry) == written, "a fresh entry is read, not written again"
    (folder / "page.j2").write_text("two {{ x }}", encoding="utf-8")
    assert _render(folder, cache_dir) == "two 1"
    assert [p.name for p in cache_dir.iterdir()] == [entry.name]
    assert entry.read_bytes() != compiled, "the stale entry is replaced by the new source's"


def test_templates_outside_the_package_folder_are_not_cached(tmp_path: Path) -> None:
    elsewhere, folder, cache_dir = tmp_path / "brief", tmp_path / "templates", tmp_path / "__pycache__"
    elsewhere.mkdir()
    folder.mkdir()
    (elsewhere / "page.j2").write_text("brief {{ x }}", encoding="utf-8")
    cache = PackageBytecodeCache(sections=False, write=True)
    cache.templates, cache.folder = folder, cache_dir
    env = _environment(jinja2.FileSystemLoader(elsewhere), False, cache)
    assert env.get_template("page.j2").render(x=2) == "brief 2"
    assert not cache_dir.exists()


def test_precompile_keeps_every_template_a_build_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``precompile`` (run by ``python -m briefpress.speedups``) compiles each package template into the cache,
    and a build in every format then reads its templates from there without writing any entry again."""
    from briefpress import kept
    from briefpress.build import build
    from briefpress.errors import Diagnostics
    from briefpress.render.jinja import precompile
    from briefpress.resources import package_dir

    cache_dir = tmp_path / "__pycache__"
    monkeypatch.setattr(kept, "FOLDER", cache_dir)  # not the installed package's own
    monkeypatch.setattr("sys.dont_write_bytecode", False)  # a build writes each entry it lacks, as for .pyc files

    def build_all(out: Path) -> None:
        diags = Diagnostics()
        outputs = build(MINIMAL, ("pdf", "epub", "html"), out, diags)
        assert [o.fmt for o in outputs] == ["pdf", "epub", "html"] and diags.items == []

    build_all(tmp_path / "first")
    needed = {p.name for p in cache_dir.iterdir()}  # what a build compiles when nothing is kept
    assert "jinja-section-macros.md.j2.cache" in needed, "sections call the macros in their own syntax"
    assert "jinja-template-pdf.html.j2.cache" in needed
    shutil.rmtree(cache_dir)

    count = precompile()

    entries = {p.name: _identity(p) for p in cache_dir.iterdir()}
    assert count == len(entries)
    templates = sorted(p.name for p in package_dir("templates").iterdir() if p.name.endswith(".j2"))
    assert {f"jinja-template-{name}.cache" for name in templates} <= set(entries)
    assert set(entries) <= {f"jinja-{syntax}-{name}.cache" for syntax in ("template", "section") for name in templates}
    assert needed <= set(entries)
    build_all(tmp_path / "second")
    assert {p.name: _identity(p) for p in cache_dir.iterdir()} == entries, "a build wrote an entry again"
