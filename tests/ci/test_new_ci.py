"""``briefpress new`` and the CI workflow: written into the enclosing git repository only with ``--ci``,
only where the repository has no workflow, and never outside a repository; a hint otherwise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tools.paths import ROOT

PACKAGED = (ROOT / "src" / "briefpress" / "workflows" / "briefs.yml").read_bytes()
WORKFLOW = Path(".github", "workflows", "briefs.yml")


def _briefpress(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The command line, run as a user runs it."""
    return subprocess.run([sys.executable, "-m", "briefpress", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def _git_init(path: Path, *options: str) -> Path:
    subprocess.run(["git", "init", "-q", *options, str(path)], check=True, capture_output=True)
    return path


def _outside_any_repository(path: Path) -> Path:
    assert not any((p / ".git").exists() for p in (path, *path.parents)), f"{path} is in a git repository"
    return path


def _listed(made: subprocess.CompletedProcess) -> list[Path]:
    return [Path(line) for line in made.stdout.splitlines()]


def _files(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}


@pytest.mark.parametrize("git_file", [False, True], ids=["git-folder", "git-file"])
def test_ci_adds_the_workflow_at_the_repository_root(tmp_path: Path, git_file: bool) -> None:
    # A repository whose .git is a file (as in a worktree or a submodule) counts as one too.
    repo = _git_init(tmp_path / "desk", *([f"--separate-git-dir={tmp_path / 'store'}"] if git_file else []))
    assert (repo / ".git").is_file() == git_file
    (repo / "Makefile").write_text("check:\n", encoding="utf-8")
    (repo / "briefs").mkdir()
    made = _briefpress("new", "water", "--ci", cwd=repo / "briefs")
    assert made.returncode == 0, made.stderr
    assert made.stderr == ""
    listed = _listed(made)
    assert Path("water/brief.yaml") in listed
    assert listed[-1] == repo.resolve() / WORKFLOW
    assert (repo / WORKFLOW).read_bytes() == PACKAGED
    assert {p for p in _files(repo) if p.parts[0] != "briefs"} == {Path("Makefile"), WORKFLOW}


def test_ci_says_when_the_repository_has_no_makefile(tmp_path: Path) -> None:
    repo = _git_init(tmp_path / "desk")
    made = _briefpress("new", str(repo / "brief"), "--ci", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert (repo / WORKFLOW).read_bytes() == PACKAGED
    assert made.stderr.splitlines() == [
        f"note: the workflow runs `make check`: it needs briefpress's Makefile in {repo.resolve()}"]


def test_ci_alone_adds_only_the_workflow(tmp_path: Path) -> None:
    repo = _git_init(tmp_path / "desk")
    (repo / "docs").mkdir()
    made = _briefpress("new", "--ci", cwd=repo / "docs")
    assert made.returncode == 0, made.stderr
    assert _listed(made) == [repo.resolve() / WORKFLOW]
    assert _files(repo) == {WORKFLOW}


@pytest.mark.parametrize("existing", ["briefs.yml", "tests.yaml"])
def test_an_existing_workflow_is_kept(tmp_path: Path, existing: str) -> None:
    repo = _git_init(tmp_path / "desk")
    theirs = repo / ".github" / "workflows" / existing
    theirs.parent.mkdir(parents=True)
    theirs.write_text("name: theirs\non: push\njobs: {}\n", encoding="utf-8")
    made = _briefpress("new", "brief", "--ci", cwd=repo)
    assert made.returncode == 0, made.stderr
    assert theirs.read_text(encoding="utf-8") == "name: theirs\non: push\njobs: {}\n"
    assert {p for p in _files(repo) if p.parts[0] == ".github"} == {theirs.relative_to(repo)}
    assert all(p.parts[0] == "brief" for p in _listed(made)) and (repo / "brief" / "brief.yaml").is_file()
    assert made.stderr.splitlines() == [
        f"note: {repo.resolve()} has a workflow already (.github/workflows/{existing}); nothing added"]


def test_without_ci_a_repository_with_a_workflow_hears_nothing(tmp_path: Path) -> None:
    repo = _git_init(tmp_path / "desk")
    (repo / WORKFLOW).parent.mkdir(parents=True)
    (repo / WORKFLOW).write_bytes(PACKAGED)
    made = _briefpress("new", "brief", cwd=repo)
    assert (made.returncode, made.stderr) == (0, "")


def test_without_ci_nothing_is_written_outside_the_folder(tmp_path: Path) -> None:
    repo = _git_init(tmp_path / "desk")
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "README.md").write_text("not a workflow\n", encoding="utf-8")
    made = _briefpress("new", "brief", cwd=repo)
    assert made.returncode == 0, made.stderr
    assert {p for p in _files(repo) if p.parts[0] != "brief"} == {Path(".github/workflows/README.md")}
    assert all(p.parts[0] == "brief" for p in _listed(made))
    assert made.stderr.splitlines() == [
        f"note: {repo.resolve()} has no CI workflow; `briefpress new --ci`, run there, adds {WORKFLOW}"]


def test_outside_a_repository_ci_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    where = _outside_any_repository(tmp_path)
    made = _briefpress("new", "brief", "--ci", cwd=where)
    assert made.returncode == 1
    assert made.stdout == ""
    assert made.stderr.splitlines() == ["brief: error: not in a git repository: --ci adds the workflow at a "
                                        "repository's root (run `git init` there first)"]
    assert list(where.iterdir()) == []


def test_outside_a_repository_a_brief_is_made_without_a_word_of_ci(tmp_path: Path) -> None:
    where = _outside_any_repository(tmp_path)
    made = _briefpress("new", "brief", cwd=where)
    assert (made.returncode, made.stderr) == (0, "")
    assert (where / "brief" / "brief.yaml").is_file()
    assert [p.name for p in where.iterdir()] == ["brief"]


def test_a_folder_is_required_without_ci(tmp_path: Path) -> None:
    made = _briefpress("new", cwd=_git_init(tmp_path / "desk"))
    assert made.returncode == 2
    assert "the folder to create is required" in made.stderr
    assert _files(tmp_path / "desk") == set()


@pytest.mark.parametrize("link", [".github", ".github/workflows"])
def test_a_link_out_of_the_repository_is_refused_and_nothing_is_written(tmp_path: Path, link: str) -> None:
    """A .github/workflows that is a symbolic link out of the repository was followed: the workflow was
    written into the folder it leads to."""
    repo = _git_init(tmp_path / "desk")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "workflows").mkdir(parents=True)
    (repo / link).parent.mkdir(parents=True, exist_ok=True)
    (repo / link).symlink_to(elsewhere, target_is_directory=True)
    made = _briefpress("new", "brief", "--ci", cwd=repo)
    assert made.returncode == 1
    assert made.stdout == ""
    assert made.stderr.splitlines() == [f"{link}: error: leads out of the repository (a symbolic link to "
                                        f"{elsewhere.resolve()}): the workflow is written only inside it"]
    assert not (repo / "brief").exists()
    assert _files(elsewhere) == set()


@pytest.mark.parametrize("dangling", [".github/workflows/briefs.yml", ".github/workflows", ".github"])
def test_a_dangling_link_is_refused_before_the_brief_is_made(tmp_path: Path, dangling: str) -> None:
    """A dangling link where the workflow goes failed half-way (FileExistsError), the new brief left behind."""
    repo = _git_init(tmp_path / "desk")
    (repo / dangling).parent.mkdir(parents=True, exist_ok=True)
    (repo / dangling).symlink_to(tmp_path / "nothing")
    made = _briefpress("new", "brief", "--ci", cwd=repo)
    assert made.returncode == 1
    assert made.stdout == ""
    assert made.stderr.splitlines() == [
        f"{dangling}: error: a symbolic link that leads nowhere: remove it, then run again"]
    assert not (repo / "brief").exists()
    assert sorted(p.name for p in repo.iterdir()) == [".git", ".github"]
