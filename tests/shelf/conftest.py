"""A shelf of three briefs made with ``briefpress new``, built once for the whole session."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from briefpress.cli import main

BASE_URL = "https://briefs.example.org/shelf"
#: Each brief's settings, as written into its brief.yaml: made in this order, published newest first.
BRIEFS = {
    "alpha": {"title": "Alpha Report on Grain", "slug": "alpha-grain", "date": "2024-03-01", "modified": None,
              "subjects": ["Agriculture", "Trade"]},
    "beta": {"title": "Beta Note on Water", "slug": "beta-water", "date": "2024-05-10", "modified": "2025-01-20",
             "subjects": ["Water"]},
    "gamma": {"title": "Gamma Brief on Power", "slug": "gamma-power", "date": "2024-09-15", "modified": None,
              "subjects": ["Energy", "Grids", "Policy",
                          # One word wider than a phone's screen: it must wrap, not widen the page.
                          "Electricitytransmissionanddistributioninfrastructureplanning"]},
}
#: Newest first by last change: beta (modified 2025-01-20), gamma (2024-09-15), alpha (2024-03-01).
ORDER = ["beta-water", "gamma-power", "alpha-grain"]


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str


def run(*args: str) -> Run:
    """``briefpress ARGS`` in this process, with what it printed."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main(list(args))
    return Run(status, out.getvalue(), err.getvalue())


def make_brief(folder: Path, title: str, slug: str, date: str, modified: str | None, subjects: list[str]) -> Path:
    """A brief made by ``briefpress new``, with its title, slug, dates and subjects set."""
    assert run("new", str(folder), "--title", title).status == 0
    meta = folder / "brief.yaml"
    text = meta.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^slug: .*$", f"slug: {slug}", text)
    text = re.sub(r"(?m)^date: .*$", f"date: {date}" + (f"\nmodified: {modified}" if modified else ""), text)
    text = re.sub(r"(?m)^subjects: .*$", "subjects: [" + ", ".join(f'"{s}"' for s in subjects) + "]", text)
    text = re.sub(r"(?m)^rights: .*$", f'rights: "© {date[:4]} Your organisation"', text)
    meta.write_text(text, encoding="utf-8")
    return folder


def write_shelf(root: Path, **settings: str) -> Path:
    """A shelf.yaml in ``root`` over the briefs in ``root/briefs``."""
    lines = {"title": "Example Shelf", "publisher": "Example Desk", "base_url": BASE_URL, "lang": "en-GB",
             "briefs": "briefs/*", **settings}
    path = root / "shelf.yaml"
    path.write_text("".join(f"{key}: {value}\n" for key, value in lines.items() if value is not None),
                    encoding="utf-8")
    return path


@dataclass
class Shelf:
    root: Path  # holds shelf.yaml and briefs/
    config: Path
    out: Path
    first: Run
    #: Every file of the site after the first run, by path relative to ``out``.
    files: dict[str, bytes]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def shelf(tmp_path_factory: pytest.TempPathFactory) -> Shelf:
    root = tmp_path_factory.mktemp("shelf")
    for name, settings in BRIEFS.items():
        make_brief(root / "briefs" / name, **settings)
    config = write_shelf(root)
    out = root / "site"
    # As a user runs it, in its own process (where the command line forks its printer for the first brief);
    # the second run (test_site) runs in the tests' process.
    made = subprocess.run([str(Path(sys.executable).with_name("briefpress")), "shelf", "--config", str(config),
                           "--out", str(out)], capture_output=True, text=True, cwd=root)
    first = Run(made.returncode, made.stdout, made.stderr)
    assert first.status == 0, first.stderr
    return Shelf(root, config, out, first, snapshot(out))
