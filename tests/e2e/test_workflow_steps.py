"""The CI workflow's commands, run as a push runs them: every ``make`` step of the check job that is not
kept for main, in a copy of the repository; then its artifact's patterns find the three editions."""

from __future__ import annotations

import glob
import shlex

import yaml

from tools.paths import BRIEF, ROOT

SLUG = yaml.safe_load((BRIEF / "brief.yaml").read_text(encoding="utf-8"))["slug"]
WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "briefs.yml").read_text(encoding="utf-8"))


def test_a_push_checks_the_brief_and_keeps_its_editions(e2e_repo_copy) -> None:
    steps = [s for s in WORKFLOW["jobs"]["check"]["steps"] if "if" not in s]
    commands = [shlex.split(s["run"]) for s in steps if "run" in s]
    assert commands and all(c[0] == "make" for c in commands), commands
    assert not (e2e_repo_copy.root / "dist").exists(), "the workflow's output folder is this test's alone"
    built, printed = [], []
    for command in commands:
        made = e2e_repo_copy.make(*command[1:])
        assert made.returncode == 0, f"{command}\n{made.stdout}\n{made.stderr}"
        printed += made.stdout.splitlines()
        built += [shlex.split(line) for line in made.stdout.splitlines() if " build " in line]
    # every edition, in one process
    assert sorted(b[b.index("--format") + 1] for b in built) == ["all"]
    assert all("--strict" in b for b in built), built
    assert {f"dist/{SLUG}.pdf: ok", f"dist/{SLUG}.epub: ok"} <= set(printed), "the PDF's checks and EPUBCheck"
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    found = sorted(path for pattern in upload["with"]["path"].split()
                   for path in glob.glob(pattern, root_dir=e2e_repo_copy.root))
    assert found == sorted(f"dist/{SLUG}.{fmt}" for fmt in ("pdf", "epub", "html"))
