"""The Makefile knows what each output depends on: a no-op when nothing changed, parallel builds work."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

from conftest import BRIEF, ROOT


def _make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True)


def test_incremental_and_parallel(tmp_path: Path) -> None:
    brief, dist = tmp_path / "brief", tmp_path / "dist"
    shutil.copytree(BRIEF, brief)
    where = [f"BRIEF={brief}", f"DIST={dist}"]
    built = _make("-j3", *where)
    assert built.returncode == 0, built.stderr
    outputs = sorted(p for p in dist.iterdir() if not p.name.startswith("."))
    assert [p.suffix for p in outputs] == [".epub", ".html", ".pdf"]
    assert zipfile.ZipFile(next(dist.glob("*.epub"))).testzip() is None
    stamps = {p: p.stat().st_mtime_ns for p in outputs}

    assert _make("-q", *where).returncode == 0, "nothing changed: make -q says up to date"
    again = _make(*where)
    assert again.returncode == 0 and "build" not in again.stdout
    assert {p: p.stat().st_mtime_ns for p in outputs} == stamps

    section = next((brief / "sections").glob("*.md"))
    later = time.time() + 2
    os.utime(section, (later, later))
    assert _make("-q", *where).returncode == 1, "a touched section makes the outputs stale"
    rebuilt = _make("epub", *where)
    assert rebuilt.returncode == 0 and "--format epub" in rebuilt.stdout
