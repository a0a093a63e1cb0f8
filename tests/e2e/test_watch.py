"""``briefpress watch``: serves the HTML edition, rebuilds on save, shows errors and recovers."""

from __future__ import annotations

import shutil
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from briefpress.watch import watch

MINIMAL = Path(__file__).parent / "briefs" / "minimal"


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode("utf-8")


def _wait_for_version(base: str, after: int, timeout: float = 15) -> int:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        version = int(_get(base + "__version"))
        if version > after:
            return version
        time.sleep(0.05)
    raise AssertionError("no rebuild after the edit")


@pytest.fixture
def served(tmp_path: Path):
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
    assert ready.wait(30)
    time.sleep(0.3)  # let the file watcher start
    yield brief, url[0], lines
    stop.set()
    thread.join(10)


def test_serves_rebuilds_shows_errors_and_recovers(served) -> None:
    brief, base, lines = served
    page = _get(base)
    assert "<h1 class=\"section-title\">Introduction</h1>" in page and "/__version" in page
    version = int(_get(base + "__version"))
    section = brief / "sections" / "01-intro.md"
    good = section.read_text(encoding="utf-8")

    section.write_text(good.replace("This brief is called", "This edited brief is called"), encoding="utf-8")
    version = _wait_for_version(base, version)
    assert "This edited brief is called" in _get(base)
    assert (brief.parent / "dist" / "minimal.html").read_text(encoding="utf-8").count("<script") == 0

    section.write_text(good + "\n{{ no_such_name }}\n", encoding="utf-8")
    version = _wait_for_version(base, version)
    page = _get(base)
    assert "did not build" in page and "01-intro.md:" in page and "no_such_name" in page
    assert any("01-intro.md:" in line and "error:" in line for line in lines)

    section.write_text(good, encoding="utf-8")
    _wait_for_version(base, version)
    assert "<h1 class=\"section-title\">Introduction</h1>" in _get(base)
    timings = [float(line.split(" in ")[1].split()[0]) for line in lines if line.startswith("rebuilt ")]
    assert len(timings) >= 3
    print(f"HTML rebuild times: {', '.join(f'{t:.3f}' for t in timings)} s")
