"""Fixtures of the end-to-end tests. Each fixture's name starts with ``e2e_``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools.paths import ROOT

#: Environment variables that would change what ``make`` or a build does, removed from the child's.
_MAKE_ENVIRONMENT = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "SOURCE_DATE_EPOCH", "BRIEFPRESS_SPEEDUPS")


@dataclass
class RepoCopy:
    """The repository's tracked files, copied with their times, where ``make`` runs without touching the
    working tree. ``make`` uses the test run's virtual environment (``VENV``), and the Makefile's stamps of
    an installed, test-ready and compiled package (``STAMP``, ``TESTED``, ``COMPILED``) point at files in
    ``stamps``, as new as what
    they depend on, so that no target installs or compiles anything."""

    root: Path
    venv: Path
    stamps: Path

    def make(self, *args: str, **variables: str) -> subprocess.CompletedProcess:
        """Run ``make -C <copy> ARGS VAR=value…``; ``variables`` override the defaults above."""
        settings = {"VENV": str(self.venv), "STAMP": str(self.stamps / "installed"),
                    "TESTED": str(self.stamps / "installed"), "COMPILED": str(self.stamps / "compiled"),
                    **variables}
        command = ["make", "--no-print-directory", "-C", str(self.root), *args,
                   *(f"{name}={value}" for name, value in settings.items())]
        env = {name: value for name, value in os.environ.items() if name not in _MAKE_ENVIRONMENT}
        # EPUBCheck is a short Java run: a JVM without its optimising compiler takes half the processor time.
        env.setdefault("JAVA_TOOL_OPTIONS", "-XX:+UseSerialGC -XX:TieredStopAtLevel=1")
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)

    def stamp(self, name: str, as_new_as: Path | None = None) -> Path:
        """A new stamp file in ``stamps``, as new as the copied file ``as_new_as``, else as the newest copied
        file: up to date for ``make``, and older than any output built after it."""
        path = self.stamps / name
        path.touch()
        files = [self.root / as_new_as] if as_new_as else [p for p in self.root.rglob("*") if p.is_file()]
        newest = max(p.stat().st_mtime_ns for p in files)
        os.utime(path, ns=(newest, newest))
        return path


@pytest.fixture(scope="session")
def e2e_repo_copy(tmp_path_factory: pytest.TempPathFactory) -> RepoCopy:
    """A copy of the repository's tracked files (as they are in the working tree) for running ``make``."""
    venv = Path(sys.prefix)
    assert (venv / "bin" / "briefpress").is_file(), f"no briefpress in the tests' environment: {venv}"
    base = tmp_path_factory.mktemp("repo-copy")
    root = base / "repo"
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode("utf-8").split("\0")):
        source = ROOT / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    stamps = base / "stamps"
    stamps.mkdir()
    copy = RepoCopy(root, venv, stamps)
    # The installed package is as new as pyproject.toml, and no newer: the venv's own stamps made after it
    # (``$(VENV)/.java``) stay up to date.
    copy.stamp("installed", Path("pyproject.toml"))
    copy.stamp("compiled")
    return copy
