"""The GitHub Actions workflow: the repository runs the copy the package ships, actionlint accepts it (and
rejects a broken one), and it checks every push while only main publishes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from briefpress import ci
from tools.paths import ROOT

PACKAGED = ROOT / "src" / "briefpress" / "workflows" / "briefs.yml"
IN_REPOSITORY = ROOT / ".github" / "workflows" / "briefs.yml"
#: The condition of everything that publishes: a push to main, never a pull request or another branch.
MAIN_ONLY = "github.event_name == 'push' && github.ref == 'refs/heads/main'"


def _workflow() -> dict:
    return yaml.safe_load(PACKAGED.read_text(encoding="utf-8"))


def _triggers(workflow: dict) -> dict:
    """The ``on:`` mapping (YAML 1.1, as PyYAML reads it, takes the key ``on`` for true)."""
    return workflow["on"] if "on" in workflow else workflow[True]


def _step(steps: list[dict], *, run: str | None = None, uses: str | None = None) -> tuple[int, dict]:
    """The one step that runs ``run`` or uses the action ``uses`` (any version), with its index."""
    found = [(i, s) for i, s in enumerate(steps)
             if (run is not None and s.get("run") == run)
             or (uses is not None and s.get("uses", "").split("@")[0] == uses)]
    assert len(found) == 1, (run or uses, steps)
    return found[0]


def test_the_repository_runs_the_packaged_workflow() -> None:
    assert IN_REPOSITORY.read_bytes() == PACKAGED.read_bytes(), \
        "copy src/briefpress/workflows/briefs.yml to .github/workflows/briefs.yml (the package's is the source)"
    assert ci.packaged() == PACKAGED.read_bytes()


def test_the_package_data_includes_the_workflow() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["package-data"]["briefpress"]
    package = ROOT / "src" / "briefpress"
    assert any(PACKAGED in package.glob(pattern) for pattern in patterns), patterns


def _actionlint(path: Path) -> subprocess.CompletedProcess:
    """actionlint (the ``test`` extra installs it beside the tests' Python) on one workflow file."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    program = shutil.which("actionlint", path=search)
    assert program, "no actionlint: pip install -e '.[test]'"
    return subprocess.run([program, "-no-color", "-oneline", str(path)], cwd=path.parent, capture_output=True,
                          text=True, timeout=120)


def test_actionlint_accepts_the_workflow() -> None:
    linted = _actionlint(IN_REPOSITORY)
    assert (linted.returncode, linted.stdout, linted.stderr) == (0, "", "")


@pytest.mark.parametrize(("old", "new", "rule", "named"), [
    ("needs: check", "needs: build", "job-needs", '"build"'),
    ("github.ref == 'refs/heads/main'\n    runs-on", "github.branch == 'refs/heads/main'\n    runs-on",
     "expression", '"branch"'),
    ("if-no-files-found: error", "if-no-file-found: error", "action", '"if-no-file-found"'),
    ("id-token: write", "id_token: write", "permissions", '"id_token"'),
    ("actions/deploy-pages@v5", "actions/deploy-pages@v3", "action", '"node20" is deprecated'),
])
def test_actionlint_rejects_a_broken_workflow(tmp_path: Path, old: str, new: str, rule: str, named: str) -> None:
    text = PACKAGED.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    broken = tmp_path / "briefs.yml"
    broken.write_text(text.replace(old, new), encoding="utf-8")
    linted = _actionlint(broken)
    assert linted.returncode == 1, linted.stdout + linted.stderr
    problems = linted.stdout.splitlines()
    assert len(problems) == 1 and problems[0].endswith(f"[{rule}]") and named in problems[0], problems


def test_every_push_and_pull_request_is_checked() -> None:
    workflow = _workflow()
    assert _triggers(workflow) == {"push": None, "pull_request": None}, "no filter: every branch, every push"
    check = workflow["jobs"]["check"]
    assert "if" not in check
    steps = check["steps"]
    made, step = _step(steps, run="make check")
    assert "if" not in step
    _, python = _step(steps, uses="actions/setup-python")
    assert python["with"] == {"python-version": "3.11", "cache": "pip", "cache-dependency-path": "pyproject.toml"}
    java, step = _step(steps, uses="actions/setup-java")
    assert java < made and int(step["with"]["java-version"]) >= 11, "EPUBCheck 5 needs Java 11 or newer"
    checkout, _ = _step(steps, uses="actions/checkout")
    assert checkout == 0


def test_the_editions_are_kept_from_every_check() -> None:
    steps = _workflow()["jobs"]["check"]["steps"]
    made, step = _step(steps, run="make check")
    assert "if" not in step  # make check builds the HTML edition too, as strictly (one grouped target)
    uploaded, step = _step(steps, uses="actions/upload-artifact")
    assert made < uploaded and "if" not in step
    assert step["with"]["path"].split() == ["dist/*.pdf", "dist/*.epub", "dist/*.html"]
    assert step["with"]["if-no-files-found"] == "error"


def test_only_a_push_to_main_builds_and_publishes_the_shelf() -> None:
    workflow = _workflow()
    steps = workflow["jobs"]["check"]["steps"]
    conditional = [s for s in steps if "if" in s]
    assert [s["if"] for s in conditional] == [MAIN_ONLY, MAIN_ONLY]
    assert "make shelf" in conditional[0]["run"]
    assert conditional[1]["uses"].startswith("actions/upload-pages-artifact@")
    assert conditional[1]["with"] == {"path": "dist/shelf"}
    assert steps.index(conditional[0]) > _step(steps, run="make check")[0]

    publish = workflow["jobs"]["publish"]
    assert publish["if"] == MAIN_ONLY
    assert publish["needs"] == "check"
    assert publish["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert publish["environment"] == {"name": "github-pages", "url": "${{ steps.deployment.outputs.page_url }}"}
    assert publish["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    uses = [s["uses"].split("@")[0] for s in publish["steps"]]
    assert uses == ["actions/configure-pages", "actions/deploy-pages"]
    assert publish["steps"][-1]["id"] == "deployment"


def test_the_token_only_reads_outside_the_publishing_job() -> None:
    workflow = _workflow()
    assert workflow["permissions"] == {"contents": "read"}
    assert set(workflow["jobs"]) == {"check", "publish"}
    assert "permissions" not in workflow["jobs"]["check"]


def test_every_action_is_pinned_by_its_major_version() -> None:
    jobs = _workflow()["jobs"].values()
    uses = [step["uses"] for job in jobs for step in job["steps"] if "uses" in step]
    assert len(uses) == 8
    assert [u for u in uses if not re.fullmatch(r"actions/[a-z-]+@v[0-9]+", u)] == []


@pytest.mark.parametrize("repository, shelf_yaml, made", [
    ("Desk/briefs", False, "shelf SHELFFLAGS=--base-url https://desk.github.io/briefs/"),
    ("Desk/Desk.github.io", False, "shelf SHELFFLAGS=--base-url https://desk.github.io/"),
    ("Desk/briefs", True, "shelf"),
])
def test_the_shelf_is_built_for_its_address(tmp_path: Path, repository: str, shelf_yaml: bool, made: str) -> None:
    """The shelf step's script, run by bash as the runner runs it, with a ``make`` that says what it was asked."""
    steps = _workflow()["jobs"]["check"]["steps"]
    script = next(s["run"] for s in steps if "make shelf" in s.get("run", ""))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "make").write_text('#!/bin/sh\necho "$@" > made\n', encoding="utf-8")
    (bin_dir / "make").chmod(0o755)
    if shelf_yaml:
        (tmp_path / "shelf.yaml").write_text("base_url: https://example.org/\n", encoding="utf-8")
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "GITHUB_REPOSITORY": repository,
           "GITHUB_REPOSITORY_OWNER": repository.split("/")[0]}
    subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, check=True)
    assert (tmp_path / "made").read_text(encoding="utf-8").strip() == made
