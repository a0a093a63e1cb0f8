"""What ``briefpress shelf`` refuses, each reported as ``path:line: error: message``, and an output folder that a
failed run leaves as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from briefpress.errors import Diagnostics
from briefpress.shelf.config import DEFAULT_BASE_URL, load_shelf

from .conftest import BRIEFS, make_brief, run, snapshot, write_shelf


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty shelf folder, the current folder meanwhile (so that paths print as the author types them)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _one_line_each(stderr: str) -> list[str]:
    lines = stderr.splitlines()
    assert lines and not any("Traceback" in line for line in lines), stderr
    return lines


def test_two_briefs_with_one_slug_are_named_both(root: Path) -> None:
    make_brief(root / "briefs" / "one", "One", "same", "2024-01-01", None, ["A"])
    make_brief(root / "briefs" / "two", "Two", "same", "2024-02-01", None, ["B"])
    write_shelf(root)
    made = run("shelf")
    assert made.status == 1
    lines = _one_line_each(made.stderr)
    assert len(lines) == 1
    line_of_slug = next(n for n, text in enumerate(Path("briefs/two/brief.yaml").read_text().splitlines(), 1)
                        if text.startswith("slug:"))
    assert lines[0].startswith(f"briefs/two/brief.yaml:{line_of_slug}: error: slug 'same' is also the slug of "
                               "briefs/one/"), lines
    assert "briefs/two/" in lines[0]
    assert not Path("dist").exists()


@pytest.mark.parametrize(("base_url", "line", "message"), [
    (None, 1, "error: missing required key 'base_url'"),
    ("briefs/", 3, "error: 'base_url' must be an absolute http:// or https:// URL"),
    ("ftp://example.org/briefs/", 3, "error: 'base_url' must be an absolute http:// or https:// URL"),
    ("https://example.org/briefs/?page=1", 3, "error: 'base_url' must be a plain folder URL"),
])
def test_a_missing_or_relative_base_url_is_an_error_at_its_line(root: Path, base_url, line: int, message: str) -> None:
    make_brief(root / "briefs" / "one", "One", "one", "2024-01-01", None, ["A"])
    write_shelf(root, base_url=base_url)
    made = run("shelf")
    assert made.status == 1
    assert _one_line_each(made.stderr)[0].startswith(f"shelf.yaml:{line}: {message}"), made.stderr
    assert not Path("dist").exists()


def test_unknown_keys_and_a_pattern_that_matches_nothing_are_errors(root: Path) -> None:
    (root / "shelf.yaml").write_text("title: T\nbase_url: https://example.org/\nbrief: x\nbriefs: nowhere/*\n")
    made = run("shelf")
    assert made.status == 1
    lines = _one_line_each(made.stderr)
    assert lines == ["shelf.yaml:3: error: unknown key 'brief' (did you mean 'briefs'?)",
                     "shelf.yaml:4: error: 'nowhere/*' matches no brief folder (a folder with brief.yaml)"]


def test_the_base_url_ends_with_a_slash(root: Path) -> None:
    make_brief(root / "briefs" / "one", "One", "one", "2024-01-01", None, ["A"])
    write_shelf(root, base_url="https://example.org/briefs")
    assert load_shelf(None, Diagnostics()).base_url == "https://example.org/briefs/"


def test_without_shelf_yaml_the_brief_folder_is_the_shelf_with_a_warning(root: Path) -> None:
    make_brief(root / "brief", "Only One", "only", "2024-01-01", None, ["A"])
    diags = Diagnostics()
    shelf = load_shelf(None, diags)
    assert shelf.briefs == (Path("brief"),) and shelf.base_url == DEFAULT_BASE_URL
    assert shelf.title == "Your organisation" and shelf.lang == "en"
    assert [d.severity for d in diags.items] == ["warning"] and "--base-url" in diags.items[0].message
    given = Diagnostics()
    assert load_shelf(None, given, "https://example.org/x").base_url == "https://example.org/x/"
    assert given.items == []


def test_a_folder_not_written_by_briefpress_shelf_is_not_replaced(root: Path) -> None:
    make_brief(root / "briefs" / "one", "One", "one", "2024-01-01", None, ["A"])
    write_shelf(root)
    (root / "notes").mkdir()
    (root / "notes" / "keep.txt").write_text("mine")
    made = run("shelf", "--out", "notes")
    assert made.status == 1
    assert _one_line_each(made.stderr) == [
        "notes: error: the output folder holds files and no .briefpress-shelf: it was not written by briefpress "
        "shelf, which replaces the whole folder; choose another --out, or empty it"]
    assert snapshot(root / "notes") == {"keep.txt": b"mine"}


def test_a_brief_that_fails_leaves_the_published_shelf_as_it_was(root: Path, shelf) -> None:
    """One brief builds, one has a section without front matter: the error at its line, and the site folder
    (a copy of the session's shelf) keeps every byte; nothing is left beside it."""
    shutil.copytree(shelf.root / "briefs" / "alpha", root / "briefs" / "alpha")
    broken = make_brief(root / "briefs" / "broken", "Broken", "broken", "2024-01-01", None, ["A"])
    section = broken / "sections" / "02-timeline.md"
    section.write_text("No front matter here.\n", encoding="utf-8")
    write_shelf(root)
    shutil.copytree(shelf.out, root / "site")
    before = snapshot(root / "site")
    made = run("shelf", "--out", "site")
    assert made.status == 1
    lines = _one_line_each(made.stderr)
    assert "briefs/broken/sections/02-timeline.md:1: error: section has no YAML front matter" in lines[0], lines
    assert all(line.startswith("briefs/broken/") for line in lines), lines
    assert snapshot(root / "site") == before
    assert sorted(p.name for p in root.iterdir()) == ["briefs", "shelf.yaml", "site"]
    assert BRIEFS["alpha"]["slug"] + "/index.html" in before
    # Into a folder that is not there yet: the folders made for it are gone again.
    made = run("shelf", "--out", "public/new/site")
    assert made.status == 1 and "02-timeline.md:1: error:" in made.stderr
    assert sorted(p.name for p in root.iterdir()) == ["briefs", "shelf.yaml", "site"]


def test_briefs_that_fail_as_they_render_are_reported_in_the_shelfs_order(root: Path) -> None:
    """The briefs are built one while another's PDF is laid out: the first and the last fail as they are
    rendered (a reference to no figure), around one that builds; both errors, in the shelf's order, and no
    site."""
    for name in ("a", "b", "c"):
        make_brief(root / "briefs" / name, name.upper(), f"brief-{name}", "2024-01-01", None, ["A"])
    for name in ("a", "c"):
        section = root / "briefs" / name / "sections" / "01-introduction.md"
        section.write_text(section.read_text(encoding="utf-8").replace("@fig-example", f"@fig-none-{name}"),
                           encoding="utf-8")
    write_shelf(root)
    made = run("shelf", "--out", "site")
    assert made.status == 1
    lines = _one_line_each(made.stderr)
    errors = [line for line in lines if ": error:" in line]
    assert [line.split("/")[1] for line in errors] == ["a", "c"], lines
    assert all("fig-none-" in line and line.startswith(f"briefs/{line.split('/')[1]}/sections/01-introduction.md:")
               for line in errors), lines
    assert sorted(p.name for p in root.iterdir()) == ["briefs", "shelf.yaml"]


def test_briefs_outside_the_shelf_folder_are_errors_at_their_lines(root: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """'../x', a pattern reaching out, an absolute path and a link out were published as the shelf's own."""
    make_brief(root / "elsewhere" / "x", "Outside", "outside", "2024-01-01", None, ["A"])
    desk = root / "desk"
    make_brief(desk / "briefs" / "one", "One", "one", "2024-01-01", None, ["A"])
    (desk / "linked").symlink_to(root / "elsewhere" / "x", target_is_directory=True)
    (desk / "shelf.yaml").write_text(
        "title: T\nbase_url: https://example.org/\nbriefs:\n  - briefs/*\n  - ../elsewhere/x\n"
        f"  - ../elsewhere/*\n  - {root / 'elsewhere' / 'x'}\n  - linked\n", encoding="utf-8")
    monkeypatch.chdir(desk)
    made = run("shelf")
    assert made.status == 1
    rule = "outside the shelf's folder: a shelf publishes only the briefs in the folder of shelf.yaml"
    assert _one_line_each(made.stderr) == [
        f"shelf.yaml:5: error: brief folder '../elsewhere/x' is {rule}",
        f"shelf.yaml:6: error: '../elsewhere/*' matches ../elsewhere/x, {rule}",
        f"shelf.yaml:7: error: brief folder '{root / 'elsewhere' / 'x'}' is {rule}",
        f"shelf.yaml:8: error: brief folder 'linked' is {rule}"]
    assert not (desk / "dist").exists()


@pytest.mark.parametrize(("name", "data", "problem"), [
    ("cover.png", b"\x89PNG\r\n\x1a\nnot really", "the cover image cannot be read"),
    ("cover.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0"></svg>', "the cover cannot be drawn"),
], ids=["png", "svg"])
def test_a_cover_that_cannot_be_drawn_is_reported_at_its_file(root: Path, name: str, data: bytes,
                                                             problem: str) -> None:
    """The brief's own cover, which its EPUB carries as it is, was reported against the brief's folder."""
    brief = make_brief(root / "briefs" / "one", "One", "one", "2024-01-01", None, ["A"])
    (brief / "images").mkdir(exist_ok=True)
    (brief / "images" / name).write_bytes(data)
    write_shelf(root)
    made = run("shelf")
    assert made.status == 1
    [line] = _one_line_each(made.stderr)
    assert line.startswith(f"briefs/one/images/{name}: error: {problem}: "), line
    assert not Path("dist").exists()
