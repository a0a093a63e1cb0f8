"""The Makefile knows what each output depends on: a no-op when nothing changed, parallel builds work.

``make`` runs in a copy of the repository (``e2e_repo_copy``), with the test run's virtual environment.
"""

from __future__ import annotations

import os
import shutil
import time
import zipfile
from pathlib import Path

from tools.paths import BRIEF


def test_incremental_and_parallel(tmp_path: Path, e2e_repo_copy, built) -> None:
    brief, dist = tmp_path / "brief", tmp_path / "dist"
    shutil.copytree(BRIEF, brief)
    where = {"BRIEF": str(brief), "DIST": str(dist)}
    made = e2e_repo_copy.make("-j3", **where)
    assert made.returncode == 0, made.stdout + made.stderr
    # One process builds every edition: the brief is rendered and its citations formatted once.
    assert made.stdout.count(" build ") == 1 and "--format all" in made.stdout, made.stdout
    outputs = sorted(p for p in dist.iterdir() if not p.name.startswith("."))
    assert [p.name for p in outputs] == [built.path(fmt).name for fmt in ("epub", "html", "pdf")]
    assert zipfile.ZipFile(dist / built.path("epub").name).testzip() is None
    # Built side by side, each format is the same file as a build of all three in one process.
    for fmt in ("pdf", "epub", "html"):
        assert (dist / built.path(fmt).name).read_bytes() == built.path(fmt).read_bytes(), fmt
    stamps = {p: p.stat().st_mtime_ns for p in outputs}

    assert e2e_repo_copy.make("-q", **where).returncode == 0, "nothing changed: make -q says up to date"
    again = e2e_repo_copy.make(**where)
    assert again.returncode == 0 and "build" not in again.stdout
    assert {p: p.stat().st_mtime_ns for p in outputs} == stamps

    section = next((brief / "sections").glob("*.md"))
    later = time.time() + 2
    os.utime(section, (later, later))
    assert e2e_repo_copy.make("-q", **where).returncode == 1, "a touched section makes the outputs stale"
    rebuilt = e2e_repo_copy.make("epub", **where)
    assert rebuilt.returncode == 0 and "--format epub" in rebuilt.stdout
    assert "--format pdf" not in rebuilt.stdout and "--format html" not in rebuilt.stdout
    assert (dist / built.path("epub").name).stat().st_mtime_ns > stamps[dist / built.path("epub").name]
