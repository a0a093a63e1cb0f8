"""``watch``'s PDF viewer (pdf.js) in headless Chromium: it draws the PDF edition's pages, and when a save
brings a new PDF it draws that one in place, at the page the reader was reading; a failed build shows its
problems, and the viewer comes back once the brief builds again. Also: the vendored pdf.js is the one its
record names."""

from __future__ import annotations

import hashlib
import re
import shutil
import threading
import time
from pathlib import Path

import pytest

from briefpress.resources import package_dir
from briefpress.watch import watch
from tests.e2e.test_html_browser import MISSING, Browser, chromium_path
from tools.paths import BRIEF

#: A guard against a hang only, never a measure of speed.
HANG_GUARD = 120.0


def _until(check, what: str):
    end = time.monotonic() + HANG_GUARD
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.1)  # a polling interval, not a wait for something to have happened
    raise AssertionError(f"{what}: not within {HANG_GUARD:.0f} s")


def test_the_vendored_pdfjs_is_the_one_its_record_names() -> None:
    folder = package_dir("viewer")
    record = (folder / "README.md").read_text(encoding="utf-8")
    for name in ("pdf.min.mjs", "pdf.worker.min.mjs"):
        digest = re.search(rf"`{re.escape(name)}`: SHA-256 `([0-9a-f]{{64}})`", record).group(1)
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    assert "Apache License" in (folder / "LICENSE-pdfjs").read_text(encoding="utf-8")


@pytest.fixture
def chromium() -> str:
    found = chromium_path()
    if found is None:
        pytest.fail(MISSING, pytrace=False)
    return found


def test_the_viewer_keeps_the_readers_page_across_a_new_pdf(chromium: str, tmp_path: Path) -> None:
    brief = tmp_path / "brief"
    shutil.copytree(BRIEF, brief)
    stop, ready, url = threading.Event(), threading.Event(), []
    thread = threading.Thread(target=watch, args=(brief, tmp_path / "dist", 0),
                              kwargs={"stop": stop, "ready": lambda u: (url.append(u), ready.set()),
                                      "log": lambda line: None}, daemon=True)
    thread.start()
    browser = Browser(chromium, tmp_path / "profile")
    try:
        assert ready.wait(HANG_GUARD)
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime"):
            browser.send(f"{domain}.enable", session)
        browser.send("Emulation.setDeviceMetricsOverride", session, width=1000, height=800, deviceScaleFactor=1,
                     mobile=False)
        browser.send("Page.navigate", session, url=url[0] + "pdf")
        browser.wait_for("Page.loadEventFired", session)

        def js(expression: str):
            return browser.evaluate(session, expression)

        def seen(expression: str):  # polled: while the page reloads, there is no document to ask yet
            try:
                return js(expression)
            except RuntimeError:
                return None

        first = _until(lambda: seen("document.getElementById('pages').dataset.version"), "the first PDF drawn")
        pages = js("document.querySelectorAll('#pages canvas').length")
        assert pages == 14
        js("document.querySelector('[data-page=\"9\"]').scrollIntoView()")
        js("window.scrollBy(0, 200)")
        _until(lambda: seen("document.querySelector('[data-page=\"9\"]').dataset.drawn === '1'"), "page 9 drawn")
        assert js("getComputedStyle(document.querySelector('[data-page=\"9\"]')).width") != "0px"
        section = sorted((brief / "sections").glob("*.md"))[-1]
        section.write_text(section.read_text(encoding="utf-8") + "\nA sentence added at the end.\n",
                           encoding="utf-8")
        _until(lambda: seen("document.getElementById('pages').dataset.version") not in (None, first),
               "the new PDF drawn in place")
        top = js("""(() => { for (const c of document.querySelectorAll('#pages canvas')) {
                     const box = c.getBoundingClientRect(); if (box.bottom > 0) return [c.dataset.page, box.top]; } })()""")
        assert top[0] == "9" and -250 < top[1] < -150, f"the reader's place: {top}"
        assert js("document.querySelector('[data-page=\"9\"]').dataset.drawn") == "1"
        # a failed build: its problems shown; fixed: the viewer again
        meta = brief / "brief.yaml"
        good = meta.read_text(encoding="utf-8")
        meta.write_text(good + "\nnot a key at all\n", encoding="utf-8")
        _until(lambda: "did not build" in (seen("document.body ? document.body.innerText : ''") or ""),
               "the build's problems shown")
        meta.write_text(good, encoding="utf-8")
        _until(lambda: seen("document.getElementById('pages') && document.getElementById('pages').dataset.version"),
               "the viewer back once the brief builds")
    finally:
        browser.close()
        stop.set()
        thread.join(HANG_GUARD)
