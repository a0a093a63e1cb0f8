"""The package's compiled templates are reused, and never once their source has changed."""

from __future__ import annotations

from pathlib import Path

import jinja2

from briefpress.templates import PackageBytecodeCache, _environment


def _render(folder: Path, cache_dir: Path, name: str = "page.j2") -> str:
    cache = PackageBytecodeCache(sections=False, write=True)
    cache.templates, cache.folder = folder, cache_dir  # a stand-in for the package's folders
    return _environment(jinja2.FileSystemLoader(folder), False, cache).get_template(name).render(x=1)


def test_an_entry_is_written_reused_and_dropped_when_the_source_changes(tmp_path: Path) -> None:
    folder, cache_dir = tmp_path / "templates", tmp_path / "__pycache__"
    folder.mkdir()
    (folder / "page.j2").write_text("one {{ x }}", encoding="utf-8")
    assert _render(folder, cache_dir) == "one 1"
    [entry] = cache_dir.iterdir()
    assert entry.name == "jinja-template-page.j2.cache"
    compiled = entry.read_bytes()
    assert _render(folder, cache_dir) == "one 1"
    assert entry.read_bytes() == compiled, "a fresh entry is read, not written again"
    (folder / "page.j2").write_text("two {{ x }}", encoding="utf-8")
    assert _render(folder, cache_dir) == "two 1"


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
