"""``briefpress watch``: rebuild the HTML edition on every save and serve it, reloading the page, then the PDF
edition, served at ``/pdf`` in a pdf.js viewer that keeps the reader's place; and
``briefpress shelf --serve``: rebuild the shelf on every save and serve its folder, the same way."""

from __future__ import annotations

import html
import mimetypes
import os
import posixpath
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import unquote, urlsplit

from .build import output_cache, prepare, write_editions
from .editions.typeset import Typesetter, Warm
from .outputs import Output
from .render import Rendered
from .errors import BriefError, Diagnostics, summarised
from .resources import icon_data_url, package_dir

# Only the served page polls for changes; the HTML file written to the output folder has no script.
RELOAD_SCRIPT = """<script>
(function () {
  var seen = "%d";
  setInterval(function () {
    fetch("/__version", {cache: "no-store"}).then(function (r) { return r.text(); })
      .then(function (v) { if (v !== seen) { location.reload(); } }).catch(function () {});
  }, 400);
})();
</script>"""


#: The served HTML edition's way to its PDF, and back: a small fixed link, only in the served pages.
PDF_LINK = ('<a href="/pdf" style="position:fixed;right:1rem;bottom:1rem;z-index:9;padding:.3rem .6rem;'
            'background:#1a202c;color:#fff;border-radius:.3rem;font:14px sans-serif">PDF</a>')
#: The files of the PDF viewer (pdf.js: ``viewer/README.md``), served under ``/__viewer/``.
VIEWER_FILES = {"pdf.min.mjs": "text/javascript", "pdf.worker.min.mjs": "text/javascript"}


@dataclass
class State:
    """The latest build, as served: the HTML edition's page, then the PDF edition (or their problems)."""

    version: int = 0
    page: bytes = b""
    pdf_version: int = 0
    pdf: bytes = b""
    pdf_page: bytes = b""
    pdf_failed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, page: str) -> None:
        with self.lock:
            self.version += 1
            self.page = reloading(page.replace("</body>", PDF_LINK + "\n</body>", 1), self.version)

    def publish_pdf(self, pdf: bytes | None, problems: list[str] | None = None) -> None:
        """The new PDF, or the page of its problems (the last good PDF is kept meanwhile). The viewer asks
        for ``/__pdf_state`` and draws a new PDF in place; the page of problems reloads itself."""
        with self.lock:
            self.pdf_version += 1
            if pdf is not None:
                self.pdf = pdf
            self.pdf_failed = problems is not None
            self.pdf_page = (viewer_page().encode("utf-8") if problems is None
                             else reloading(error_page(problems), self.pdf_version, "/__pdf_version"))

    def pdf_state(self) -> bytes:
        """The PDF's version, and whether its build failed: ``"3 ok"``, ``"4 failed"`` (``"0 none"`` before the
        first)."""
        state = "none" if self.pdf_version == 0 else "failed" if self.pdf_failed else "ok"
        return f"{self.pdf_version} {state}".encode("ascii")


def viewer_page() -> str:
    """The page that shows the PDF edition with pdf.js, keeping the reader's place from one PDF to the next."""
    return (package_dir("viewer") / "index.html").read_text(encoding="utf-8").replace("ICON", icon_data_url())


def reloading(page: str, version: int, endpoint: str = "/__version") -> bytes:
    """A page as served: with the script that reloads it once a build after ``version`` is published."""
    script = (RELOAD_SCRIPT % version).replace('"/__version"', f'"{endpoint}"')
    return page.replace("</body>", script + "\n</body>", 1).encode("utf-8")


def error_page(lines: list[str]) -> str:
    """A page listing the build's problems, shown until the next good build."""
    items = "\n".join(html.escape(line) for line in lines)
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"/><title>Build failed</title>"
            f"<link rel=\"icon\" href=\"{icon_data_url()}\"/>"
            "<style>body{font-family:sans-serif;margin:2rem;color:#1a202c}pre{background:#fdf2f2;"
            "border-left:4px solid #b42318;padding:1rem;white-space:pre-wrap}</style></head><body>"
            f"<h1>The brief did not build</h1><pre class=\"diagnostics\">{items}</pre>"
            "<p>Fix the files above and save: this page reloads by itself.</p></body></html>")


def rebuild(brief_dir: Path, out_dir: Path, state: State, log: Callable[[str], None], pdf: bool = True,
            typesetter: Typesetter | None = None) -> float:
    """Render the brief once; write and publish the HTML edition (or the errors), then, with ``pdf``, the PDF
    edition from the same rendering, laid out by ``typesetter`` (``watch`` keeps a ``Warm`` one, which lays
    out again only the sections a save changed); return the seconds the HTML took."""
    start = time.perf_counter()
    diags = Diagnostics()
    cache = output_cache(out_dir)
    rendered: list[Rendered] = []

    def html() -> Output:
        rendered.append(prepare(brief_dir, diags, cache=cache))
        return write_editions(rendered[0], ("html",), out_dir, diags, cache=cache)[0]

    def failed(lines: list[str]) -> None:  # the brief does not build: both pages show why
        state.publish(error_page(lines))
        if pdf:
            state.publish_pdf(None, lines)

    written = _attempt(html, log, failed)
    seconds = time.perf_counter() - start
    if written is None:
        return seconds
    state.publish(written.path.read_text(encoding="utf-8"))
    for line in summarised(diags.warnings):
        log(line)
    log(f"rebuilt {written.describe().split()[0]} in {seconds:.2f} s")
    if pdf:
        printed = _attempt(lambda: write_editions(rendered[0], ("pdf",), out_dir, Diagnostics(), cache=cache,
                                                  typesetter=typesetter)[0],
                           log, lambda lines: state.publish_pdf(None, lines))
        if printed is not None:
            state.publish_pdf(printed.path.read_bytes())
            log(f"rebuilt {printed.describe().split()[0]} in {time.perf_counter() - start:.2f} s from the save")
    return seconds


def _attempt(write: Callable[[], Output], log: Callable[[str], None],
             failed: Callable[[list[str]], None]) -> Output | None:
    """Write one edition; on failure, log its problems, hand them to ``failed`` and return None."""
    try:
        return write()
    except BriefError as exc:
        lines = summarised(exc.diagnostics)
    except Exception as exc:  # keep watching whatever happens; the author fixes and saves again
        lines = [f"briefpress: error: {type(exc).__name__}: {' '.join(str(exc).split())}"]
    for line in lines:
        log(line)
    failed(lines)
    return None


def _handler(state: State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = self.path.split("?", 1)[0]
            with state.lock:
                served = {"/__version": (str(state.version).encode("ascii"), "text/plain"),
                          "/__pdf_version": (str(state.pdf_version).encode("ascii"), "text/plain"),
                          "/": (state.page, "text/html; charset=utf-8"),
                          "/index.html": (state.page, "text/html; charset=utf-8"),
                          "/__pdf_state": (state.pdf_state(), "text/plain"),
                          "/pdf": (state.pdf_page or viewer_page().encode("utf-8"), "text/html; charset=utf-8"),
                          "/edition.pdf": (state.pdf, "application/pdf")}.get(path)
            if served is None and path.startswith("/__viewer/") and path[len("/__viewer/"):] in VIEWER_FILES:
                name = path[len("/__viewer/"):]
                served = ((package_dir("viewer") / name).read_bytes(), VIEWER_FILES[name])
            if served is not None:
                body, kind = served
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # one line per rebuild is enough in the terminal

    return Handler


def _serve(handler: type[BaseHTTPRequestHandler], port: int) -> tuple[ThreadingHTTPServer, str]:
    """Start serving on 127.0.0.1:``port`` in a thread; return the server and its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def _on_changes(paths: Iterable[Path], build: Callable[[], object], stop: threading.Event | _Either | None,
                started: Callable[[], None], ignore: Callable[[Path], bool] = lambda path: False) -> None:
    """Build once, call ``started``, then build again after every change to ``paths`` (except those
    ``ignore`` names), until ``stop`` is set or Ctrl-C."""
    from watchfiles import DefaultFilter
    from watchfiles import watch as watch_files

    class Filter(DefaultFilter):
        def __call__(self, change: object, path: str) -> bool:
            return super().__call__(change, path) and not ignore(Path(path))  # type: ignore[arg-type]

    # The first build waits for the watcher's first (empty) round, so that a save made while it runs is
    # seen and rebuilt.
    first = True
    for changes in watch_files(*paths, watch_filter=Filter(), stop_event=stop, debounce=150, step=30,
                               raise_interrupt=False, yield_on_timeout=True, rust_timeout=100):
        if first:
            first = False
            build()
            started()
        elif changes:
            build()


def _watched(*paths: Path) -> list[Path]:
    """What a change rebuilds: the given paths that exist, and the package's styles and templates."""
    return [p for p in (*paths, package_dir("styles"), package_dir("templates")) if p.exists()]


def watch(brief_dir: Path, out_dir: Path, port: int, stop: threading.Event | None = None,
          ready: Callable[[str], None] | None = None, log: Callable[[str], None] | None = None) -> None:
    """Serve the HTML edition on 127.0.0.1:``port`` and rebuild it whenever the brief or styles change; then
    the PDF edition, served at ``/pdf``."""
    say = log or (lambda line: print(line, file=sys.stderr, flush=True))
    state = State()
    server, url = _serve(_handler(state), port)

    def started() -> None:
        say(f"serving {url} (Ctrl-C to stop)")
        if ready is not None:
            ready(url)

    warm = Warm()  # WeasyPrint's session and the sections' layouts, kept from one save to the next
    try:
        _on_changes(_watched(brief_dir), lambda: rebuild(brief_dir, out_dir, state, say, typesetter=warm), stop,
                    started)
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class SiteState:
    """The shelf as served: the folder's files, or the last build's problems while it fails."""

    root: Path
    version: int = 0
    problems: tuple[str, ...] = ()
    lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, problems: tuple[str, ...] = ()) -> None:
        with self.lock:
            self.version += 1
            self.problems = problems

    def file(self, url_path: str) -> Path | None:
        """The file of the shelf a URL path names (a folder's ``index.html``), if it is inside the shelf."""
        parts = [p for p in posixpath.normpath(unquote(url_path)).split("/") if p not in ("", ".")]
        if ".." in parts or any("\0" in part for part in parts):
            return None
        # A name longer than the system allows (ENAMETOOLONG), or any other path it refuses, names no file.
        try:
            path = self.root.joinpath(*parts)
            if path.is_dir():
                path = path / "index.html"
            if not path.resolve().is_relative_to(self.root.resolve()) or not path.is_file():
                return None
        except (OSError, ValueError):
            return None
        return path


def _site_handler(state: SiteState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:  # noqa: N802 (http.server's naming)
            self.do_GET(body=False)

        def do_GET(self, body: bool = True) -> None:  # noqa: N802
            path = urlsplit(self.path).path
            with state.lock:
                version, problems = state.version, state.problems
            if path == "/__version":
                data, kind = str(version).encode("ascii"), "text/plain"
            else:
                file = state.file(path)
                if problems and (file is None or file.suffix == ".html"):
                    data, kind = reloading(error_page(list(problems)), version), "text/html; charset=utf-8"
                elif file is None:
                    self.send_error(404)
                    return
                else:
                    try:  # a rebuild may swap the folder between finding the file and reading it
                        data = file.read_bytes()
                    except OSError:
                        self.send_error(404)
                        return
                    if file.suffix == ".html":
                        data = reloading(data.decode("utf-8", "replace"), version)
                        kind = "text/html; charset=utf-8"
                    else:
                        kind = {".atom": "application/atom+xml", ".xml": "application/xml"}.get(
                            file.suffix, mimetypes.guess_type(file.name)[0] or "application/octet-stream")
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if body:
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def rebuild_shelf(config: Path | None, out_dir: Path, base_url: str | None, state: SiteState,
                  log: Callable[[str], None], strict: bool = False) -> list[Path]:
    """Build the shelf once and publish it (or its problems); return the brief folders it lists, to watch."""
    from .shelf.config import load_shelf
    from .shelf.site import build_shelf

    start = time.perf_counter()
    diags = Diagnostics()
    folders: list[Path] = []
    try:
        shelf = load_shelf(config, diags, base_url)
        folders = list(shelf.briefs)
        entries = build_shelf(shelf, out_dir, diags, strict=strict)
    except BriefError as exc:
        lines = tuple(d.format() for d in exc.diagnostics)
    except Exception as exc:  # keep watching whatever happens; the author fixes and saves again
        lines = (f"briefpress: error: {type(exc).__name__}: {' '.join(str(exc).split())}",)
    else:
        for warning in diags.warnings:
            log(warning.format())
        count = f"{len(entries)} brief{'s' if len(entries) != 1 else ''}"
        log(f"rebuilt the shelf ({count}) in {time.perf_counter() - start:.2f} s")
        state.publish()
        return folders
    for line in lines:
        log(line)
    state.publish(lines)
    return folders


class _Either:
    """Set when either event is (what watchfiles' ``stop_event`` asks of an event: ``is_set``)."""

    def __init__(self, *events: threading.Event):
        self.events = events

    def is_set(self) -> bool:
        return any(event.is_set() for event in self.events)


def watch_shelf(config: Path | None, out_dir: Path, port: int, base_url: str | None = None,
                stop: threading.Event | None = None, ready: Callable[[str], None] | None = None,
                log: Callable[[str], None] | None = None, strict: bool = False) -> None:
    """Serve the shelf's folder on 127.0.0.1:``port`` and rebuild the shelf whenever its settings file, one of
    its briefs or the package's styles and templates change; a brief added to the list is watched from the
    build that finds it on."""
    say = log or (lambda line: print(line, file=sys.stderr, flush=True))
    state = SiteState(out_dir)
    server, url = _serve(_site_handler(state), port)
    settings = config if config is not None else Path("shelf.yaml")
    out = out_dir.absolute()
    stopping = stop or threading.Event()
    folders: list[Path] = _listed(config, base_url)
    restart = threading.Event()

    def build() -> None:
        found = rebuild_shelf(config, out_dir, base_url, state, say, strict)
        if found and _brief_roots(settings, found) != _brief_roots(settings, folders):
            restart.set()  # the briefs are elsewhere now: watch there (and build again once watching)
        if found:
            folders[:] = found

    def started() -> None:
        say(f"serving {url} (Ctrl-C to stop)")
        if ready is not None:
            ready(url)

    def ignore(path: Path) -> bool:  # the shelf's own output, and the folders it is built in beside it
        if path.is_relative_to(out):
            return True
        return path.is_relative_to(out.parent) and path.relative_to(out.parent).parts[0].startswith(f".{out.name}.")

    try:
        first = True
        while first or restart.is_set():
            restart.clear()
            watched = _watched(settings.absolute(), *_brief_roots(settings, folders))
            _on_changes(watched, build, _Either(stopping, restart), started if first else _nothing, ignore)
            first = False
            if stopping.is_set():
                break
    finally:
        server.shutdown()
        server.server_close()


def _nothing() -> None:
    pass


def _brief_roots(settings: Path, folders: list[Path]) -> list[Path]:
    """What to watch for the shelf's briefs: the folder that holds them (``briefs/`` for ``briefs/*``, where a
    brief added is seen), else, for a brief beside the settings file or elsewhere, the brief's own folder."""
    root = settings.absolute().parent
    found: dict[Path, None] = {}
    for folder in (Path(os.path.abspath(f)) for f in folders):
        holder = folder.parent
        found[holder if holder != root and holder.is_relative_to(root) else folder] = None
    return list(found)


def _listed(config: Path | None, base_url: str | None) -> list[Path]:
    """The brief folders the shelf's settings list (none while they are broken: the build says why)."""
    from .shelf.config import load_shelf

    try:
        return list(load_shelf(config, Diagnostics(), base_url).briefs)
    except BriefError:
        return []
