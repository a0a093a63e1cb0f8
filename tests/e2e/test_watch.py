"""``briefpress watch``: serves the HTML edition, rebuilds on save, shows errors and recovers."""

from __future__ import annotations

import shutil
import threading
import time
import urllib.request
from pathlib import Path
from typing import Callable

import pytest
import watchfiles.main

from briefpress.watch import watch
from tests.shelf.test_serve import _status
from tools.paths import ROOT

MINIMAL = ROOT / "tests" / "briefs" / "minimal"
#: How long to wait for the watcher before giving up: a guard against a hang only, never a measure of speed.
HANG_GUARD = 120.0


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=HANG_GUARD) as response:
        return response.read().decode("utf-8")


def _wait_for_rebuild(base: str, after: int, shows: Callable[[str], bool]) -> int:
    """Wait for a version of the page after ``after`` that ``shows`` what the edit made; return its version.

    (A save can be seen as more than one change, each a rebuild: the version is polled, not counted.)
    """
    end = time.monotonic() + HANG_GUARD
    while time.monotonic() < end:
        version = int(_get(base + "__version"))
        if version > after and shows(_get(base)):
            return version
        time.sleep(0.05)  # a polling interval, not a wait for something to have happened
    raise AssertionError(f"no rebuild showing the edit in {HANG_GUARD:.0f} s")


@pytest.fixture
def watching(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Set once the file watcher watches the brief: watchfiles' ``RustNotify`` watches the paths it is given
    when it is made, and records every change from then on. (``watch`` says it is ready once it serves the
    page, before it starts watching files.)"""
    started = threading.Event()
    real = watchfiles.main.RustNotify

    def rust_notify(*args, **kwargs):
        notify = real(*args, **kwargs)
        started.set()
        return notify

    monkeypatch.setattr(watchfiles.main, "RustNotify", rust_notify)
    return started


@pytest.fixture
def served(tmp_path: Path, watching: threading.Event):
    brief = tmp_path / "brief"
    shutil.copytree(MINIMAL, brief)
    stop, ready, lines = threading.Event(), threading.Event(), []
    url: list[str] = []

    def on_ready(address: str) -> None:
        url.append(address)
        ready.set()

    thread = threading.Thread(target=watch, args=(brief, tmp_path / "dist", 0),
                              kwargs={"stop": stop, "ready": on_ready, "log": lines.append}, daemon=True)
    thread.start()
    try:
        assert ready.wait(HANG_GUARD), "the page was never served"
        assert any(line.startswith("rebuilt ") for line in lines), lines  # the first build, before serving
        assert watching.wait(HANG_GUARD), "the brief's files were never watched"
        yield brief, url[0], lines
    finally:
        stop.set()
        thread.join(HANG_GUARD)
    assert not thread.is_alive(), "watch did not stop when asked"


def test_serves_rebuilds_shows_errors_and_recovers(served) -> None:
    brief, base, lines = served
    page = _get(base)
    assert "<h1 class=\"section-title\">Introduction</h1>" in page and "/__version" in page
    version = int(_get(base + "__version"))
    section = brief / "sections" / "01-intro.md"
    good = section.read_text(encoding="utf-8")

    section.write_text(good.replace("This brief is called", "This edited brief is called"), encoding="utf-8")
    version = _wait_for_rebuild(base, version, lambda page: "This edited brief is called" in page)
    assert (brief.parent / "dist" / "minimal.html").read_text(encoding="utf-8").count("<script") == 0

    section.write_text(good + "\n{{ no_such_name }}\n", encoding="utf-8")
    version = _wait_for_rebuild(base, version, lambda page: "did not build" in page)
    page = _get(base)
    assert "did not build" in page and "01-intro.md:" in page and "no_such_name" in page
    assert any("01-intro.md:" in line and "error:" in line for line in lines)

    section.write_text(good, encoding="utf-8")
    _wait_for_rebuild(base, version, lambda page: "<h1 class=\"section-title\">Introduction</h1>" in page)
    assert "This edited brief is called" not in _get(base)
    timings = [float(line.split(" in ")[1].split()[0]) for line in lines if line.startswith("rebuilt ")]
    assert len(timings) >= 3
    print(f"HTML rebuild times: {', '.join(f'{t:.3f}' for t in timings)} s")


def _get_bytes(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=HANG_GUARD) as response:
        return response.read()


def test_the_pdf_follows_the_html_and_is_served_in_the_viewer(served) -> None:
    import io

    from pypdf import PdfReader

    brief, base, lines = served
    end = time.monotonic() + HANG_GUARD
    while int(_get(base + "__pdf_version")) < 1 and time.monotonic() < end:
        time.sleep(0.05)
    first = _get_bytes(base + "edition.pdf")
    assert first.startswith(b"%PDF")
    assert 'href="/pdf"' in _get(base)
    viewer = _get(base + "pdf")
    assert '"/__viewer/pdf.min.mjs"' in viewer and "/__pdf_state" in viewer
    assert _get(base + "__pdf_state") == f"{_get(base + '__pdf_version')} ok"
    version = int(_get(base + "__pdf_version"))
    section = brief / "sections" / "01-intro.md"
    section.write_text(section.read_text(encoding="utf-8").replace("This brief is called", "This printed brief is called"),
                       encoding="utf-8")
    while time.monotonic() < end:
        if int(_get(base + "__pdf_version")) > version:
            text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(_get_bytes(base + "edition.pdf"))).pages)
            if "This printed brief is called" in " ".join(text.split()):
                break
        time.sleep(0.05)
    else:
        raise AssertionError("no new PDF showing the edit")
    # the HTML came first: its line is logged before the PDF's, for the same save
    rebuilt = [line for line in lines if line.startswith("rebuilt ")]
    assert rebuilt[-2].split()[1].endswith(".html") and rebuilt[-1].split()[1].endswith(".pdf")
    assert (brief.parent / "dist" / "minimal.pdf").read_bytes() == _get_bytes(base + "edition.pdf")
    # watch's editions are those a library call builds from the same sources, warm cache or none
    from briefpress.build import build
    from briefpress.errors import Diagnostics

    build(brief, ("pdf", "html"), brief.parent / "library", Diagnostics())
    for name in ("minimal.pdf", "minimal.html"):
        assert (brief.parent / "library" / name).read_bytes() == (brief.parent / "dist" / name).read_bytes()


def test_hostile_paths_are_refused_without_a_traceback(served, capfd: pytest.CaptureFixture[str]) -> None:
    """A NUL byte in the path, a name longer than the system allows, a path of many folders: each a 404, also
    under the viewer's files (the one path the server looks a name up for); a request line over http.server's
    limit its 414. Nothing is printed, and the server still serves. (A request whose handler raised would drop
    the connection, and http.server would print its traceback.)"""
    _brief, base, lines = served
    assert _status(base, "/%00") == 404
    assert _status(base, "/index.html%00.png") == 404
    assert _status(base, "/__viewer/%00") == 404
    assert _status(base, "/__viewer/pdf.min.mjs%00") == 404
    assert _status(base, "/" + "a" * 5_000) == 404
    assert _status(base, "/__viewer/" + "a" * 5_000) == 404
    assert _status(base, "/" + "a/" * 30_000) == 404
    assert _status(base, "/__viewer/" + "a/" * 30_000) == 404
    assert _status(base, "/" + "a" * 100_000) == 414
    assert _status(base, "/") == 200 and _status(base, "/__viewer/pdf.min.mjs") == 200, "the server still serves"
    assert "Introduction" in _get(base)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception occurred" not in err, err
    assert not [line for line in lines if "Traceback" in line]
