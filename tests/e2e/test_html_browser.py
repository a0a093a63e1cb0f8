"""The HTML edition in a real browser: headless Debian chromium, driven over the DevTools protocol.

Chromium is started with ``--remote-debugging-pipe`` (messages as NUL-terminated JSON on file
descriptors 3 and 4), so no websocket library or extra package is needed. The page is loaded at 360 px
(a phone) and 1280 px (a laptop); the tests read the live DOM, the layout, every network request the
page makes, and full-page screenshots.

Chromium is required (``CHROMIUM``, else ``chromium``, ``chromium-browser`` or ``google-chrome`` on the PATH;
``make test`` installs Debian's). If it is missing every test here fails with one line saying how to install
it: they never skip. Set ``BRIEFPRESS_SCREENSHOTS=DIR`` to keep the screenshots for a look.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import os
import re
import select
import shutil
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from lxml import html as lxml_html
from PIL import Image

from briefpress.resources import package_dir
from tools.paths import BRIEF

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-extensions", "--disable-default-apps", "--mute-audio",
                  "--remote-debugging-pipe")
WIDTHS = (360, 1280)
# Full-page screenshots at half scale are enough for the pixel checks and twice as quick; full scale when kept.
SCALE = 1.0 if os.environ.get("BRIEFPRESS_SCREENSHOTS") else 0.5
# How long to wait for one answer from chromium before giving up: a guard against a hang only, far above
# what any answer takes, so that no test depends on the machine's speed.
TIMEOUT = 180.0
MISSING = ("chromium is not installed: install it with `apt-get install chromium` (or set CHROMIUM to a "
           "Chromium or Chrome binary); the HTML edition's browser tests never skip")


def chromium_path() -> str | None:
    """Chromium's binary, found as ``make test`` finds it; ``None`` if there is none."""
    for name in (os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        if name and (found := shutil.which(name)):
            return found
    return None


@pytest.fixture(scope="module", autouse=True)
def chromium() -> str:
    """Chromium's binary; without it, every test of this module fails with the one line ``MISSING``."""
    found = chromium_path()
    if found is None:
        pytest.fail(MISSING, pytrace=False)
    return found


class Browser:
    """A minimal DevTools-protocol client over chromium's debugging pipe."""

    def __init__(self, binary: str, profile: Path):
        # The shell moves our stdin/stdout pipes to fds 3 (commands in) and 4 (replies out) for chromium.
        self.proc = subprocess.Popen(
            ["/bin/sh", "-c", 'exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null', binary,
             *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"chromium gave no answer in {TIMEOUT:.0f} s: it hangs")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
                if not chunk:
                    raise RuntimeError(f"chromium closed the pipe (exit status {self.proc.poll()})")
                self.buffer += chunk
        message, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(message)

    def send(self, method: str, session: str | None = None, timeout: float = TIMEOUT, **params) -> dict:
        self.next_id += 1
        command = {"id": self.next_id, "method": method, "params": params}
        if session:
            command["sessionId"] = session
        self.proc.stdin.write(json.dumps(command).encode("utf-8") + b"\0")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            message = self._read_message(deadline)
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_for(self, method: str, session: str, timeout: float = TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event["method"] == method and event.get("sessionId") == session:
                    return self.events.pop(i)
            self.events.append(self._read_message(deadline))

    def evaluate(self, session: str, expression: str):
        result = self.send("Runtime.evaluate", session, expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")


@dataclass
class View:
    """The page as chromium laid it out at one window width."""

    width: int
    dom: str
    facts: dict
    screenshot: Image.Image
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    roles: Counter = field(default_factory=Counter)


# Measured in the page through DevTools (the page itself has no script and must not need one).
FACTS = """(() => {
  const doc = document.documentElement;
  const box = e => e.getBoundingClientRect();
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => !e.closest('table') && box(e).width > 0 && box(e).right > doc.clientWidth + 0.5)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''));
  const img = document.querySelector('figure img');
  const table = document.querySelector('table');
  const body = getComputedStyle(document.body);
  return {
    clientWidth: doc.clientWidth,
    scrollWidth: doc.scrollWidth,
    bodyScrollWidth: document.body.scrollWidth,
    pageHeight: doc.scrollHeight,
    overflowing: wide.slice(0, 10),
    chartLoaded: !!img && img.complete && img.naturalWidth > 0,
    chartWidth: img ? box(img).width : 0,
    tableRight: table ? box(table).right : 0,
    bodyFontPx: parseFloat(body.fontSize),
    textWidth: box(document.querySelector('main section > p')).width,
    scripts: document.scripts.length,
  };
})()"""


def loaded(browser: Browser, page: Path, domains: tuple[str, ...]):
    """Open ``page`` in a new tab with ``domains`` enabled, at each of ``WIDTHS``; yield (width, session) once
    it has loaded, with the browser's events since the navigation in ``browser.events``."""
    target = browser.send("Target.createTarget", url="about:blank")["targetId"]
    session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    for domain in domains:
        browser.send(f"{domain}.enable", session)
    for width in WIDTHS:
        browser.send("Emulation.setDeviceMetricsOverride", session, width=width, height=800,
                     deviceScaleFactor=1, mobile=width < 720)
        browser.events.clear()
        browser.send("Page.navigate", session, url=page.as_uri())
        browser.wait_for("Page.loadEventFired", session)
        yield width, session


def render(binary: str, page: Path, profile: Path) -> dict[int, View]:
    browser = Browser(binary, profile)
    try:
        views = {}
        for width, session in loaded(browser, page, ("Page", "Network", "Runtime", "Log", "Accessibility")):
            facts = browser.evaluate(session, FACTS)
            dom = browser.evaluate(session, "document.documentElement.outerHTML")
            shot = browser.send("Page.captureScreenshot", session, format="png", captureBeyondViewport=True,
                                optimizeForSpeed=True,
                                clip={"x": 0, "y": 0, "width": width, "height": facts["pageHeight"],
                                      "scale": SCALE})
            requests = [e["params"]["request"]["url"] for e in browser.events
                        if e["method"] == "Network.requestWillBeSent"]
            console = [e["params"]["entry"]["text"] for e in browser.events
                       if e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] in ("error", "warning")]
            nodes = browser.send("Accessibility.getFullAXTree", session)["nodes"]
            roles = Counter(n.get("role", {}).get("value") for n in nodes if not n.get("ignored"))
            image = Image.open(io.BytesIO(base64.b64decode(shot["data"])))
            image.load()
            views[width] = View(width, dom, facts, image, requests, console, roles)
        return views
    finally:
        browser.close()


@dataclass
class Served:
    """One page opened from a web server, once its network went quiet: what the server was asked for, the
    requests the page made as DevTools saw them, and the icons it declares."""

    asked: list[str]
    requests: list[str]
    icons: list[str]


ICONS = "[...document.querySelectorAll('link[rel~=icon i]')].map(l => l.href)"


def served(binary: str, folder: Path, pages: list[str], profile: Path) -> dict[str, Served]:
    """Open each of ``pages`` (paths in ``folder``) from its own web server over ``folder`` (a new address, so
    that no page shares another's favicon cache), as a reader meets a page on a site: a browser asks a site
    for ``/favicon.ico`` after a page that declares no icon has loaded. Each page is read once its network has
    been idle (Chromium's ``networkIdle``: no request for half a second), which the favicon's request is not."""
    found = {}
    browser = Browser(binary, profile)
    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Network", "Runtime"):
            browser.send(f"{domain}.enable", session)
        browser.send("Page.setLifecycleEventsEnabled", session, enabled=True)
        for page in pages:
            asked: list[str] = []

            class Recording(SimpleHTTPRequestHandler):
                def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                    asked.append(self.path)
                    super().do_GET()

                def log_message(self, format: str, *args: object) -> None:
                    pass

            server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Recording, directory=str(folder)))
            threading.Thread(target=server.serve_forever, daemon=True).start()
            try:
                browser.events.clear()
                url = f"http://127.0.0.1:{server.server_address[1]}/{page}"
                loader = browser.send("Page.navigate", session, url=url)["loaderId"]
                while True:
                    event = browser.wait_for("Page.lifecycleEvent", session)["params"]
                    if event["name"] == "networkIdle" and event["loaderId"] == loader:
                        break
                requests = [e["params"]["request"]["url"] for e in browser.events
                            if e["method"] == "Network.requestWillBeSent"]
                found[page] = Served(list(asked), requests, browser.evaluate(session, ICONS))
            finally:
                server.shutdown()
                server.server_close()
    finally:
        browser.close()
    return found


def design_icon() -> str:
    """The design's icon as the pages embed it."""
    data = (package_dir("styles") / "icon.svg").read_bytes()
    return "data:image/svg+xml;base64," + base64.b64encode(data).decode("ascii")


@pytest.fixture(scope="module")
def views(chromium, built, tmp_path_factory) -> dict[int, View]:
    page = built.path("html")
    result = render(chromium, page, tmp_path_factory.mktemp("chromium-profile"))
    keep = os.environ.get("BRIEFPRESS_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for width, view in result.items():
            view.screenshot.save(Path(keep) / f"html-{width}.png")
    return result


@pytest.fixture(scope="module")
def doc(views):
    return lxml_html.fromstring(views[360].dom)


# --- the DOM after chromium parsed and styled it ---------------------------------------------------

def test_language_and_title(doc, built) -> None:
    assert doc.get("lang") == built.meta["lang"]
    assert built.meta["title"] in doc.findtext(".//title")


def test_no_script_and_no_console_errors(views) -> None:
    for view in views.values():
        assert view.facts["scripts"] == 0
        assert view.console == [], view.console


def test_contents_links_to_every_section(doc, built) -> None:
    toc = doc.xpath("//nav[contains(concat(' ', @class, ' '), ' toc ')]")
    assert len(toc) == 1, "one table of contents"
    assert toc[0].get("aria-labelledby") and doc.get_element_by_id(toc[0].get("aria-labelledby")) is not None
    links = {a.get("href") for a in toc[0].iter("a")}
    sections = doc.xpath("//main/section[@id]")
    ids = [s.get("id") for s in sections]
    expected = [s.get("id") or re.sub(r"^\d+-", "", Path(s["file"]).stem) for s in built.sections]
    assert ids == expected, "every section of brief.yaml, in order"
    for section_id in ids:
        assert f"#{section_id}" in links, f"contents has no link to #{section_id}"
    for href in links:
        assert href.startswith("#") and doc.xpath(f"//*[@id='{href[1:]}']"), f"contents link {href} leads nowhere"


def test_every_internal_link_has_a_target(doc) -> None:
    ids = set(doc.xpath("//@id"))
    for a in doc.xpath("//a[starts-with(@href, '#')]"):
        assert a.get("href")[1:] in ids, a.get("href")


def test_chronology_table_rows(doc, built) -> None:
    events = yaml.safe_load((BRIEF / "data" / "chronology.yaml").read_text(encoding="utf-8"))["events"]
    table = doc.xpath("//section[@id='chronology']//table")
    assert len(table) == 1
    headers = [th.text_content().strip() for th in table[0].xpath(".//thead//th")]
    assert headers[:2] == ["Date", "Event"]
    rows = table[0].xpath(".//tbody/tr")
    assert len(rows) == len(events)
    texts = [" ".join(r.text_content().split()) for r in rows]
    for event in events:
        assert any(" ".join(event["event"].split()) in t for t in texts), event["event"]


def test_accessibility_tree_keeps_structure_at_every_width(views, built) -> None:
    """What a screen reader gets: landmarks, headings, the table as a table even when restyled as
    cards on a phone, the notes with their roles."""
    sections = len(built.sections)
    rows = None
    for view in views.values():
        roles = view.roles
        for landmark in ("banner", "navigation", "main", "contentinfo"):
            assert roles[landmark] == 1, f"{landmark} landmark at {view.width} px"
        assert roles["heading"] > sections
        assert roles["table"] == 1 and roles["columnheader"] >= 2, f"the table is a table at {view.width} px"
        assert roles["cell"] > 0 and rows in (None, roles["row"])
        rows = roles["row"]
        assert roles["figure"] == 1 and roles["image"] >= 1
        assert roles["doc-noteref"] == roles["doc-footnote"] == roles["doc-backlink"] > 0


def test_chart_image_is_inline_with_alt_text_and_loads(doc, views) -> None:
    images = doc.xpath("//figure//img")
    assert images, "the chart is a figure"
    for img in images:
        assert (img.get("alt") or "").strip(), "every figure image has alt text"
        assert img.get("src", "").startswith("data:image/"), "images are embedded as data: URLs"
    assert doc.xpath("//figure[img]/figcaption")
    for view in views.values():
        assert view.facts["chartLoaded"], f"the chart did not decode at {view.width} px"
        assert view.facts["chartWidth"] <= view.width


def test_footnotes_link_both_ways(doc) -> None:
    refs = doc.xpath("//a[@role='doc-noteref']")
    notes = doc.xpath("//*[@role='doc-footnote']")
    assert refs and len(refs) == len(notes)
    for ref in refs:
        note = doc.get_element_by_id(ref.get("href")[1:])
        back = note.xpath(".//a[@role='doc-backlink']")
        assert back and back[0].get("href") == f"#{ref.get('id')}", f"note {note.get('id')} has no way back"


# --- self-contained: nothing but the file itself is fetched -----------------------------------------

def test_no_request_leaves_the_page(views, built) -> None:
    page = built.path("html").as_uri()
    for view in views.values():
        assert page in view.requests
        others = [u for u in view.requests if u != page and not u.startswith("data:")]
        assert others == [], f"the page fetched {others}"


def test_the_page_declares_the_design_icon_and_asks_no_site_for_a_favicon(chromium, built, tmp_path) -> None:
    """Served from a site, as the shelf and ``briefpress watch`` serve it: the icon is the page's own, so the
    browser asks the site for nothing but the page (no ``/favicon.ico``, which a static host answers 404)."""
    page = built.path("html").name
    seen = served(chromium, built.out, [page], tmp_path / "profile")[page]
    assert seen.asked == [f"/{page}"], f"the browser asked the site for {seen.asked}"
    fetched = [url for url in seen.requests if not url.startswith("data:")]
    assert len(fetched) == 1 and fetched[0].endswith(f"/{page}"), fetched
    assert seen.icons == [design_icon()]


def test_no_reference_to_another_file_or_host(built) -> None:
    text = built.path("html").read_text(encoding="utf-8")
    tree = lxml_html.fromstring(text)
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        for attr in ("src", "href", "srcset", "poster", "data", "action", "formaction", "background"):
            value = (element.get(attr) or "").strip()
            if not value or value.startswith(("#", "data:")):
                continue
            assert element.tag == "a" and attr == "href" and re.match(r"(https?|mailto):", value), \
                f"<{element.tag} {attr}={value[:80]!r}> would load something from outside the page"
    for tag in ("script", "iframe", "object", "embed", "base", "video", "audio", "source"):
        assert not tree.xpath(f"//{tag}"), f"<{tag}> in the HTML edition"
    # One <link>: the icon, in the page itself (so that a browser asks no site for /favicon.ico).
    assert [(link.get("rel"), link.get("href")[:26]) for link in tree.xpath("//link")] == [
        ("icon", "data:image/svg+xml;base64,")]
    css = "\n".join(tree.xpath("//style/text()")) + "\n".join(tree.xpath("//@style"))
    for url in re.findall(r"url\(\s*['\"]?([^'\")\s]*)", css):
        assert url.startswith(("data:", "#")), f"stylesheet loads {url}"
    assert "@import" not in css


# --- layout and pixels --------------------------------------------------------------------------

def test_no_horizontal_overflow_on_a_phone(views) -> None:
    facts = views[360].facts
    assert facts["clientWidth"] == 360
    assert facts["scrollWidth"] <= 360 and facts["bodyScrollWidth"] <= 360, facts
    assert facts["overflowing"] == [], f"wider than the screen: {facts['overflowing']}"
    assert facts["tableRight"] <= 360, "a wide table scrolls inside its own box, not the page"


def test_readable_text_and_measure(views) -> None:
    for view in views.values():
        assert view.facts["bodyFontPx"] >= 16
    assert views[1280].facts["textWidth"] <= 800, "lines stay a readable length on a wide screen"
    assert views[360].facts["textWidth"] >= 300, "a phone's width is used, not wasted on margins"


@pytest.mark.parametrize("width", WIDTHS)
def test_screenshot_is_a_page_not_a_blank(views, width) -> None:
    shot = views[width].screenshot.convert("RGB")
    assert shot.width == round(width * SCALE) and shot.height > 2000 * SCALE
    small = shot.resize((max(1, shot.width // 2), max(1, shot.height // 2)))
    grey = small.convert("L").histogram()
    ink = sum(grey[:200]) / sum(grey)
    assert 0.03 < ink < 0.6, f"{ink:.1%} of the page is ink"
    assert len(small.getcolors(1 << 24)) > 50, "text, colour and a chart, not a flat image"
    # The cover band at the top is the brand navy; the page below it is white.
    top = shot.crop((0, 0, shot.width, 20)).resize((1, 1)).getpixel((0, 0))
    assert top[2] > top[0] + 30 and sum(top) < 300, f"cover band colour {top}"
    bottom = shot.crop((0, shot.height - 5, shot.width, shot.height)).resize((1, 1)).getpixel((0, 0))
    assert min(bottom) > 230, f"page background {bottom}"


def test_a_brief_own_template_without_an_icon_still_asks_no_site_for_a_favicon(chromium, tmp_path) -> None:
    """A brief's own ``html.html.j2`` that declares no icon gets the design's in its head (once), so its HTML
    edition, published as it is, has the browser ask its site for nothing but the page."""
    from briefpress.cli import main
    from tests.e2e.test_errors import write_brief
    from tests.e2e.test_hostile_input import OWN_HTML_TEMPLATE

    root = write_brief(tmp_path, {"templates/html.html.j2": OWN_HTML_TEMPLATE.replace("EXTRA", "")})
    out = tmp_path / "out"
    assert main(["build", str(root), "--format", "html", "--out", str(out)]) == 0
    [page] = [p.name for p in out.glob("*.html")]
    assert (out / page).read_text(encoding="utf-8").count('rel="icon"') == 1
    seen = served(chromium, out, [page], tmp_path / "profile")[page]
    assert seen.asked == [f"/{page}"], f"the browser asked the site for {seen.asked}"
    assert seen.icons == [design_icon()]
