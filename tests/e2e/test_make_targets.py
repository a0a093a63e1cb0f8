"""``make check``, ``make release`` and ``make clean``, run in a copy of the repository on the real brief."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pikepdf
import pytest
import yaml

from tools.paths import BRIEF

META = yaml.safe_load((BRIEF / "brief.yaml").read_text(encoding="utf-8"))
SLUG = META["slug"]
OUTPUTS = tuple(f"{SLUG}.{fmt}" for fmt in ("pdf", "epub", "html"))
#: What a release adds: the brief's own reference.
CITATION = (f"{SLUG}.bib", f"{SLUG}.json")


@pytest.fixture(scope="module")
def checked(e2e_repo_copy, tmp_path_factory: pytest.TempPathFactory):
    """``make check`` of the real brief into a new output folder: its result and the folder."""
    dist = tmp_path_factory.mktemp("check") / "dist"
    return e2e_repo_copy.make("check", DIST=str(dist)), dist


@pytest.fixture(scope="module")
def released(e2e_repo_copy, tmp_path_factory: pytest.TempPathFactory):
    """``make release`` of the real brief into a new output folder: its result and the folder."""
    dist = tmp_path_factory.mktemp("release") / "dist"
    return e2e_repo_copy.make("release", DIST=str(dist)), dist


def test_make_check_passes_on_the_real_brief(checked) -> None:
    made, dist = checked
    assert made.returncode == 0, made.stdout + made.stderr
    assert "--strict" in made.stdout, "make check builds with --strict"
    assert f"{dist / SLUG}.pdf: ok" in made.stdout.splitlines()
    assert f"{dist / SLUG}.epub: ok" in made.stdout.splitlines()


def _without_a_section_document(path: Path) -> None:
    """Rewrite the EPUB without one of the content documents its package lists."""
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    missing = next(info.filename for info, _ in entries if info.filename.endswith("/summary.xhtml"))
    with zipfile.ZipFile(path, "w") as target:
        for info, data in entries:
            if info.filename != missing:
                target.writestr(info, data)


def _without_a_language(path: Path) -> None:
    """Rewrite the PDF without the ``/Lang`` of its catalog."""
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        del pdf.Root["/Lang"]
        pdf.save(path)


def test_make_check_fails_on_a_broken_epub(checked, e2e_repo_copy, tmp_path: Path) -> None:
    made, built_dist = checked
    assert made.returncode == 0, made.stdout + made.stderr
    dist = tmp_path / "dist"
    shutil.copytree(built_dist, dist)  # times kept: the outputs are up to date, make builds nothing
    epub, pdf = dist / f"{SLUG}.epub", dist / f"{SLUG}.pdf"
    _without_a_section_document(epub)
    damaged = epub.read_bytes()
    failed = e2e_repo_copy.make("check", DIST=str(dist))
    assert failed.returncode != 0, failed.stdout
    assert "briefpress build" not in failed.stdout
    assert epub.read_bytes() == damaged, "the broken output was checked, not rebuilt"
    lines = failed.stdout.splitlines()
    assert f"{epub}: FAILED" in lines and f"{pdf}: ok" in lines
    assert any(line.startswith(f"{epub}: ") and "summary.xhtml" in line for line in lines), lines


def test_checks_fail_on_a_pdf_without_a_language(checked, e2e_repo_copy, tmp_path: Path) -> None:
    """The PDF's checks of ``make check`` (``tools/checks.py``), on a PDF whose catalog lost its ``/Lang``."""
    made, built_dist = checked
    assert made.returncode == 0, made.stdout + made.stderr
    pdf = tmp_path / f"{SLUG}.pdf"
    shutil.copy2(built_dist / pdf.name, pdf)
    _without_a_language(pdf)
    python = e2e_repo_copy.venv / "bin" / "python"
    failed = subprocess.run([str(python), "tools/checks.py", str(pdf)], cwd=e2e_repo_copy.root,
                            capture_output=True, text=True)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert failed.stdout.splitlines() == [f"{pdf}: no /Lang in the document catalog", f"{pdf}: FAILED"]


def test_make_release_writes_checksums_that_verify(released) -> None:
    made, dist = released
    assert made.returncode == 0, made.stdout + made.stderr
    sums = (dist / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    listed = {}
    for line in sums:
        digest, name = line.split("  ", 1)
        listed[name] = digest
    assert sorted(listed) == sorted(OUTPUTS + CITATION)
    for name, digest in listed.items():
        assert hashlib.sha256((dist / name).read_bytes()).hexdigest() == digest, name
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert sorted(check.stdout.splitlines()) == sorted(f"{name}: OK" for name in OUTPUTS + CITATION)

    manifest = json.loads((dist / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["title"] == META["title"] and manifest["identifier"] == META["identifier"]
    assert {entry["file"]: entry["sha256"] for entry in manifest["files"]} == listed
    for entry in manifest["files"]:
        assert entry["size"] == (dist / entry["file"]).stat().st_size


def test_make_release_checksums_catch_a_changed_file(released, tmp_path: Path) -> None:
    """The checksums are of the files as released: a file changed after the release fails ``sha256sum -c``."""
    made, released_dist = released
    assert made.returncode == 0, made.stdout + made.stderr
    dist = tmp_path / "dist"
    shutil.copytree(released_dist, dist)
    html = dist / f"{SLUG}.html"
    html.write_bytes(html.read_bytes().replace(b"</body>", b"<p>added</p></body>", 1))
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True, text=True)
    assert check.returncode != 0
    assert f"{html.name}: FAILED" in check.stdout.splitlines()


def test_make_clean_removes_our_outputs_and_nothing_else(released, e2e_repo_copy, tmp_path: Path) -> None:
    made, released_dist = released
    assert made.returncode == 0, made.stdout + made.stderr
    dist = tmp_path / "dist"
    shutil.copytree(released_dist, dist)
    ours = {*OUTPUTS, *CITATION, "SHA256SUMS", "manifest.json", ".briefpress-cache"}
    assert ours <= {p.name for p in dist.iterdir()}, "the release left every output to remove"
    assert any((dist / ".briefpress-cache").iterdir())
    (dist / f".{SLUG}.pdf.x1y2z3.tmp").write_bytes(b"left by a build that was killed")
    theirs = {
        "briefpress-0.1.0-py3-none-any.whl": b"PK\x05\x06" + bytes(18),
        "notes.txt": b"mine",
        "other-brief.pdf": b"%PDF-1.7 another brief",
        f"{SLUG}.pdf.sig": b"a signature of the PDF",
        f"archive/{SLUG}.pdf": b"%PDF-1.7 an earlier edition",
        "archive/SHA256SUMS": b"0  x\n",
        ".hidden": b"kept",
    }
    for name, data in theirs.items():
        (dist / name).parent.mkdir(parents=True, exist_ok=True)
        (dist / name).write_bytes(data)
    cache = e2e_repo_copy.root / "src" / "briefpress" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "kept.bin").write_bytes(b"kept parsed")
    compiled = e2e_repo_copy.stamp("compiled-for-clean")

    cleaned = e2e_repo_copy.make("clean", DIST=str(dist), COMPILED=str(compiled))
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    left = {p.relative_to(dist).as_posix(): p.read_bytes() for p in dist.rglob("*") if p.is_file()}
    assert left == theirs
    assert not cache.exists(), "the package's __pycache__ is removed"
    assert not compiled.exists(), "the stamp of the compiled package is removed"
    assert (e2e_repo_copy.stamps / "compiled").exists(), "only the stamp given as COMPILED is removed"


def test_make_clean_without_an_output_folder(e2e_repo_copy, tmp_path: Path) -> None:
    compiled = e2e_repo_copy.stamp("compiled-for-clean-2")
    cleaned = e2e_repo_copy.make("clean", DIST=str(tmp_path / "dist"), COMPILED=str(compiled))
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert not (tmp_path / "dist").exists()
