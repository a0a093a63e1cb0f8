"""The command line: help for every command, release checksums and manifest, and a new brief that builds
cleanly."""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import tomllib

import pytest

from briefpress import cli
from briefpress.cli import main
from tools.checks import PdfReport, epub_problems, pdf_problems
from tools.paths import BRIEF, ROOT


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = cli._parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_there_are_commands() -> None:
    assert {"build", "new", "watch"} <= set(_commands())


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_command_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    sub = _commands()[name]
    assert sub.description and len(sub.description) > 30
    for action in sub._actions:
        assert action.help, f"'{name}' option {action.option_strings or action.dest} has no help text"
    assert main([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: briefpress {name}")


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    parser = cli._parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in action._choices_actions}
    assert set(helps) == set(_commands())
    for name, text in helps.items():
        assert text and re.search(rf"^ +{name} +{re.escape(text)}$", out, re.MULTILINE), name


def test_release_writes_checksums_and_manifest(tmp_path, built) -> None:
    assert main(["build", str(BRIEF), "--strict", "--release", "--out", str(tmp_path)]) == 0
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == 5
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["identifier"] == built.meta["identifier"] and manifest["title"] == built.meta["title"]
    assert manifest["date"] == built.meta.get("modified", built.meta["date"]).isoformat()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert manifest["version"] == project["project"]["version"]
    files = {f["format"]: f for f in manifest["files"]}
    assert set(files) == {"pdf", "epub", "html", "bibtex", "csl-json"}
    assert {files[fmt]["file"] for fmt in ("pdf", "epub", "html")} == {built.path(fmt).name for fmt in ("pdf", "epub", "html")}
    slug = built.path("pdf").stem
    assert files["bibtex"]["file"] == f"{slug}.bib" and files["csl-json"]["file"] == f"{slug}.json"
    pdf = tmp_path / files["pdf"]["file"]
    assert files["pdf"]["pages"] == len(PdfReport(pdf).pages)
    assert files["epub"]["documents"] == len(built.meta["sections"])
    for entry in files.values():
        path = tmp_path / entry["file"]
        assert entry["size"] == path.stat().st_size
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_brief_builds_cleanly(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "my-brief"
    assert main(["new", str(folder), "--title", "Water in Central Asia"]) == 0
    listed = capsys.readouterr().out.split()
    assert str(folder / "brief.yaml") in listed and len(listed) >= 5
    sections = sorted((folder / "sections").glob("*.md"))
    assert len(sections) == 3
    text = "".join(s.read_text(encoding="utf-8") for s in sections)
    assert "[^" in text and "timeline(" in text and "![" in text
    out = tmp_path / "dist"
    assert main(["build", str(folder), "--strict", "--out", str(out)]) == 0
    epub = out / "water-in-central-asia.epub"
    assert epub_problems(epub) == []
    assert pdf_problems(out / "water-in-central-asia.pdf") == []


def test_new_refuses_a_folder_in_use(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    assert main(["new", str(tmp_path)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
