"""``briefpress shelf --serve``: serves the shelf's folder, rebuilds it on save, shows errors and recovers."""

from __future__ import annotations

import http.client
import shutil
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import watchfiles.main

from briefpress.watch import watch_shelf

from .conftest import BRIEFS, write_shelf

HANG_GUARD = 180.0


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=HANG_GUARD) as response:
        return response.read()


def _wait(base: str, after: int, shows) -> int:
    """Wait for a version after ``after`` whose index ``shows`` the edit; return that version."""
    end = time.monotonic() + HANG_GUARD
    while time.monotonic() < end:
        version = int(_get(base + "__version"))
        if version > after and shows(_get(base).decode("utf-8")):
            return version
        time.sleep(0.05)  # a polling interval, not a wait for something to have happened
    raise AssertionError(f"no rebuild showing the edit in {HANG_GUARD:.0f} s")


@pytest.fixture
def served(shelf, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    watching = threading.Event()
    real = watchfiles.main.RustNotify

    def rust_notify(*args, **kwargs):
        notify = real(*args, **kwargs)
        watching.set()
        return notify

    monkeypatch.setattr(watchfiles.main, "RustNotify", rust_notify)
    brief = tmp_path / "briefs" / "alpha"
    shutil.copytree(shelf.root / "briefs" / "alpha", brief)
    config = write_shelf(tmp_path)
    stop, ready, lines, url = threading.Event(), threading.Event(), [], []

    def on_ready(address: str) -> None:
        url.append(address)
        ready.set()

    thread = threading.Thread(target=watch_shelf, args=(config, tmp_path / "site", 0),
                              kwargs={"stop": stop, "ready": on_ready, "log": lines.append}, daemon=True)
    thread.start()
    try:
        assert ready.wait(HANG_GUARD), "the shelf was never served"
        assert watching.wait(HANG_GUARD), "the briefs were never watched"
        yield brief, url[0], lines
    finally:
        stop.set()
        thread.join(HANG_GUARD)


def test_serves_the_shelf_rebuilds_shows_errors_and_recovers(served) -> None:
    brief, base, lines = served
    assert url_ok(base)
    index = _get(base).decode("utf-8")
    title = BRIEFS["alpha"]["title"]
    assert title in index and "/__version" in index, "the index, with the script that reloads it"
    slug = BRIEFS["alpha"]["slug"]
    cover = _get(f"{base}{slug}/cover.png")
    assert cover[:8] == b"\x89PNG\r\n\x1a\n"
    with urllib.request.urlopen(urllib.request.Request(f"{base}{slug}/cover.png", method="HEAD"),
                                timeout=HANG_GUARD) as head:
        assert head.headers["Content-Type"] == "image/png" and int(head.headers["Content-Length"]) == len(cover)
        assert head.read() == b""
    assert "/__version" in _get(f"{base}{slug}/").decode("utf-8"), "a folder serves its index.html"
    with pytest.raises(urllib.error.HTTPError):
        _get(base + "../shelf.yaml")
    version = int(_get(base + "__version"))

    meta = brief / "brief.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace(title, "Alpha Renamed"), encoding="utf-8")
    version = _wait(base, version, lambda page: "Alpha Renamed" in page)

    section = brief / "sections" / "02-timeline.md"
    good = section.read_text(encoding="utf-8")
    section.write_text("No front matter here.\n", encoding="utf-8")
    version = _wait(base, version, lambda page: "section has no YAML front matter" in page)
    assert any("02-timeline.md:1: error:" in line for line in lines), lines

    section.write_text(good, encoding="utf-8")
    version = _wait(base, version, lambda page: "Alpha Renamed" in page and "front matter" not in page)

    # A brief added to briefs/ (briefs: briefs/*) is found, published and watched from then on.
    made = brief.parent.parent / "new-brief"
    shutil.copytree(brief, made)
    meta = made / "brief.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("Alpha Renamed", "Delta Added")
                    .replace(f"slug: {slug}", "slug: delta-added"), encoding="utf-8")
    made.rename(brief.parent / "delta")
    version = _wait(base, version, lambda page: "Delta Added" in page and "Alpha Renamed" in page)
    added = brief.parent / "delta" / "brief.yaml"
    added.write_text(added.read_text(encoding="utf-8").replace("Delta Added", "Delta Edited"), encoding="utf-8")
    version = _wait(base, version, lambda page: "Delta Edited" in page)

    # A folder of briefs added to shelf.yaml is watched from the build that finds it on.
    more = brief.parent.parent / "more" / "epsilon"
    shutil.copytree(brief.parent / "delta", more)
    meta = more / "brief.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("Delta Edited", "Epsilon")
                    .replace("slug: delta-added", "slug: epsilon"), encoding="utf-8")
    config = brief.parent.parent / "shelf.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("briefs: briefs/*", "briefs: [briefs/*, more/*]"),
                      encoding="utf-8")
    version = _wait(base, version, lambda page: "Epsilon" in page and "Delta Edited" in page)
    meta.write_text(meta.read_text(encoding="utf-8").replace("Epsilon", "Epsilon Edited"), encoding="utf-8")
    _wait(base, version, lambda page: "Epsilon Edited" in page)


def _status(base: str, path: str) -> int:
    """The status the server answers a GET of ``path``, sent as it is."""
    host, port = base.removeprefix("http://").rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=HANG_GUARD)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def test_hostile_paths_are_refused_without_a_traceback(served, capfd: pytest.CaptureFixture[str]) -> None:
    """A NUL byte in the path (ValueError) or a name longer than the system allows (ENAMETOOLONG) dropped the
    connection with a traceback in the terminal; each is a 404, and a request line over http.server's limit
    its 414, with nothing printed."""
    _brief, base, lines = served
    assert _status(base, "/%00") == 404
    assert _status(base, "/index.html%00.png") == 404
    assert _status(base, "/" + "a" * 5_000) == 404
    assert _status(base, "/" + "a/" * 30_000) == 404
    assert _status(base, "/" + "a" * 100_000) == 414
    assert _status(base, "/") == 200, "the server still serves"
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception occurred" not in err, err
    assert not [line for line in lines if "Traceback" in line]


def url_ok(base: str) -> bool:
    return base.startswith("http://127.0.0.1:") and base.endswith("/")
