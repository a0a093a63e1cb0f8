"""The shelf in headless Chromium (the HTML edition's browser tests' DevTools client): the index and a landing
page opened from the shelf's folder, at a phone's width and a laptop's. Every link leads to a file of the
shelf, no request leaves it, and nothing overflows the phone's width.

Set ``BRIEFPRESS_SCREENSHOTS=DIR`` to keep the screenshots for a look.
"""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from PIL import Image

from tests.e2e.test_html_browser import MISSING, Browser, chromium_path, design_icon, served

from .conftest import BASE_URL, ORDER

WIDTHS = (360, 1280)
LINKS = "[...document.querySelectorAll('[href], [src]')].map(e => e.href || e.src)"
FACTS = """(() => ({
  scrollWidth: document.documentElement.scrollWidth,
  clientWidth: document.documentElement.clientWidth,
  height: document.documentElement.scrollHeight,
  images: [...document.images].map(i => i.complete && i.naturalWidth > 0),
}))()"""


@pytest.fixture(scope="module")
def chromium() -> str:
    found = chromium_path()
    if found is None:
        pytest.fail(MISSING, pytrace=False)
    return found


@pytest.fixture(scope="module")
def views(chromium, shelf, tmp_path_factory) -> dict[tuple[str, int], dict]:
    """For the index and the newest brief's landing page at each width: the links, the requests made, the
    layout's facts; screenshots kept where ``BRIEFPRESS_SCREENSHOTS`` says."""
    keep = os.environ.get("BRIEFPRESS_SCREENSHOTS")
    browser = Browser(chromium, tmp_path_factory.mktemp("chromium-profile"))
    found = {}
    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Network", "Runtime"):
            browser.send(f"{domain}.enable", session)
        for page in ("index.html", f"{ORDER[0]}/index.html"):
            for width in WIDTHS:
                browser.send("Emulation.setDeviceMetricsOverride", session, width=width, height=800,
                             deviceScaleFactor=1, mobile=width < 720)
                browser.events.clear()
                browser.send("Page.navigate", session, url=(shelf.out / page).as_uri())
                browser.wait_for("Page.loadEventFired", session)
                facts = browser.evaluate(session, FACTS)
                facts["links"] = browser.evaluate(session, LINKS)
                facts["requests"] = [e["params"]["request"]["url"] for e in browser.events
                                     if e["method"] == "Network.requestWillBeSent"]
                if keep:
                    shot = browser.send("Page.captureScreenshot", session, format="png", captureBeyondViewport=True,
                                        clip={"x": 0, "y": 0, "width": width, "height": facts["height"], "scale": 1})
                    Path(keep).mkdir(parents=True, exist_ok=True)
                    name = page.replace("/", "-").replace(".html", "")
                    Image.open(io.BytesIO(base64.b64decode(shot["data"]))).save(Path(keep) / f"shelf-{name}-{width}.png")
                found[(page, width)] = facts
    finally:
        browser.close()
    return found


def _in_shelf(shelf, url: str) -> Path | None:
    """The file of the shelf a URL names, or None."""
    if url.startswith(BASE_URL + "/"):
        path = shelf.out / url[len(BASE_URL) + 1:]
    elif urlsplit(url).scheme == "file":
        path = Path(unquote(urlsplit(url).path))
    else:
        return None
    path = path / "index.html" if path.is_dir() else path
    return path if path.resolve().is_relative_to(shelf.out.resolve()) and path.is_file() else None


def test_every_link_leads_to_a_file_of_the_shelf(views, shelf) -> None:
    for (page, width), facts in views.items():
        assert facts["links"], page
        for url in facts["links"]:
            if url.startswith("data:"):
                continue
            assert _in_shelf(shelf, url.split("#", 1)[0]) is not None, f"{page}: {url}"


def test_no_request_leaves_the_shelf(views, shelf) -> None:
    for (page, width), facts in views.items():
        assert facts["requests"], page
        for url in facts["requests"]:
            assert url.startswith("data:") or _in_shelf(shelf, url) is not None, f"{page} at {width} px asked for {url}"


def test_every_image_loads(views) -> None:
    for (page, width), facts in views.items():
        assert all(facts["images"]), (page, width, facts["images"])


def test_nothing_overflows_a_phones_width(views) -> None:
    for page in ("index.html", f"{ORDER[0]}/index.html"):
        facts = views[(page, 360)]
        assert facts["scrollWidth"] <= 360, (page, facts["scrollWidth"])


def test_no_page_asks_the_site_for_a_favicon(chromium, shelf, tmp_path) -> None:
    """Served as a static host serves the shelf: each page declares the design's icon, in the page, so the
    browser asks the site for no ``/favicon.ico`` (a 404 there), only for the pages and their pictures."""
    pages = ["index.html", *(f"{slug}/index.html" for slug in ORDER)]
    seen = served(chromium, shelf.out, pages, tmp_path / "profile")
    for page in pages:
        asked = seen[page].asked
        assert asked[0] == f"/{page}" and "/favicon.ico" not in asked, f"{page}: the browser asked for {asked}"
        assert all((shelf.out / unquote(path.lstrip("/"))).is_file() for path in asked), (page, asked)
        fetched = [url for url in seen[page].requests if not url.startswith("data:")]
        assert not [url for url in fetched if urlsplit(url).path == "/favicon.ico"], (page, fetched)
        assert seen[page].icons == [design_icon()], page
