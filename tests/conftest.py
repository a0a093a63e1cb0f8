"""Shared fixtures: the real brief is built once per session, in every format, and checked once."""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from briefpress.cli import main
from tools.checks import PdfReport, epubcheck
from tools.paths import BRIEF

# No test's build hands its rebuilds to a build server, which would outlive the test; the server's own tests
# (tests/speedups/test_server.py) turn it on, each with a folder of its own for the socket.
os.environ["BRIEFPRESS_SERVER"] = "off"


@dataclass
class Built:
    """The real brief, built into a temporary folder."""

    out: Path
    meta: dict
    stdout: str

    def path(self, fmt: str) -> Path:
        return self.out / f"{self.meta['slug']}.{fmt}"

    @property
    def sections(self) -> list[dict]:
        """Each listed section's front matter, with its file, in brief.yaml order."""
        found = []
        for entry in self.meta["sections"]:
            text = (BRIEF / entry).read_text(encoding="utf-8")
            front = yaml.safe_load(text.split("---", 2)[1])
            found.append({"file": entry, **front})
        return found


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    out = tmp_path_factory.mktemp("dist")
    import io
    from contextlib import redirect_stdout

    buffer = io.StringIO()
    with redirect_stdout(buffer):
        status = main(["build", str(BRIEF), "--out", str(out), "--strict"])
    assert status == 0, "the real brief must build with --strict"
    meta = yaml.safe_load((BRIEF / "brief.yaml").read_text(encoding="utf-8"))
    return Built(out, meta, buffer.getvalue())


@pytest.fixture(scope="session")
def pdf(built: Built) -> PdfReport:
    return PdfReport(built.path("pdf"))


@pytest.fixture(scope="session")
def epub(built: Built) -> zipfile.ZipFile:
    return zipfile.ZipFile(built.path("epub"))


@pytest.fixture(scope="session")
def epubcheck_messages(built: Built) -> list[dict]:
    """EPUBCheck runs once per built EPUB (it takes seconds and hundreds of MB)."""
    return epubcheck(built.path("epub"))


def _child_processes() -> set[int]:
    """This process's child processes, running or exited but not yet reaped (so a test sees leaks)."""
    return {int(pid) for task in Path("/proc/self/task").iterdir() for pid in (task / "children").read_text().split()}


@pytest.fixture
def child_processes():
    """A function that lists this process's child processes, to check that none is left behind."""
    return _child_processes


def write_long_brief(root: Path, sections: int) -> Path:
    """Write a plain brief of ``sections`` sections of 30 paragraphs each (about 4 pages a section, and over
    the 90,000 characters from which a brief is laid out in parts from 7 sections on)."""
    (root / "sections").mkdir(parents=True)
    names = []
    for number in range(sections):
        sentence = "The reform of the constitution went on through the year, step by step. " * 6
        body = "\n\n".join(f"Paragraph {p} of section {number}: {sentence}" for p in range(30))
        names.append(f"sections/s{number:03d}.md")
        (root / names[-1]).write_text(f"---\ntitle: Section {number}\n---\n\n## Part {number}\n\n{body}\n",
                                      encoding="utf-8")
    (root / "brief.yaml").write_text(
        'title: "Long"\nlang: en\nslug: long\ndate: 2026-11-28\nidentifier: "urn:x-test:long"\nsections:\n'
        + "".join(f"  - {name}\n" for name in names), encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def long_brief(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A brief of some 160 pages, laid out in parts: long enough to stop a build of it at any stage."""
    return write_long_brief(tmp_path_factory.mktemp("long") / "brief", 40)


@pytest.fixture(scope="session")
def parted_brief(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A brief of some 30 pages: the shortest laid out in parts."""
    return write_long_brief(tmp_path_factory.mktemp("parted") / "brief", 8)
