"""``briefpress watch``: rebuild the HTML edition on every save and serve it, reloading the page."""

from __future__ import annotations

import html
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

from .build import build
from .errors import BriefError, Diagnostics
from .resources import package_dir

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


@dataclass
class State:
    """The latest build, as served."""

    version: int = 0
    page: bytes = b""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, page: str) -> None:
        with self.lock:
            self.version += 1
            script = RELOAD_SCRIPT % self.version
            self.page = page.replace("</body>", script + "\n</body>", 1).encode("utf-8")


def error_page(lines: list[str]) -> str:
    """A page listing the build's problems, shown until the next good build."""
    items = "\n".join(html.escape(line) for line in lines)
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"/><title>Build failed</title>"
            "<style>body{font-family:sans-serif;margin:2rem;color:#1a202c}pre{background:#fdf2f2;"
            "border-left:4px solid #b42318;padding:1rem;white-space:pre-wrap}</style></head><body>"
            f"<h1>The brief did not build</h1><pre class=\"diagnostics\">{items}</pre>"
            "<p>Fix the files above and save: this page reloads by itself.</p></body></html>")


def rebuild(brief_dir: Path, out_dir: Path, state: State, log: Callable[[str], None]) -> float:
    """Build the HTML edition once and publish it (or the errors); return the seconds it took."""
    start = time.perf_counter()
    diags = Diagnostics()
    try:
        outputs = build(brief_dir, ("html",), out_dir, diags)
    except BriefError as exc:
        lines = [d.format() for d in exc.diagnostics]
        for line in lines:
            log(line)
        state.publish(error_page(lines))
        return time.perf_counter() - start
    except Exception as exc:  # keep watching whatever happens; the author fixes and saves again
        line = f"briefpress: error: {type(exc).__name__}: {' '.join(str(exc).split())}"
        log(line)
        state.publish(error_page([line]))
        return time.perf_counter() - start
    seconds = time.perf_counter() - start
    state.publish(outputs[0].path.read_text(encoding="utf-8"))
    for warning in diags.warnings:
        log(warning.format())
    log(f"rebuilt {outputs[0].describe().split()[0]} in {seconds:.2f} s")
    return seconds


def _handler(state: State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = self.path.split("?", 1)[0]
            if path == "/__version":
                body, kind = str(state.version).encode("ascii"), "text/plain"
            elif path in ("/", "/index.html"):
                with state.lock:
                    body, kind = state.page, "text/html; charset=utf-8"
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


def watch(brief_dir: Path, out_dir: Path, port: int, stop: threading.Event | None = None,
          ready: Callable[[str], None] | None = None, log: Callable[[str], None] | None = None) -> None:
    """Serve the HTML edition on 127.0.0.1:``port`` and rebuild it whenever the brief or styles change."""
    from watchfiles import watch as watch_files

    say = log or (lambda line: print(line, file=sys.stderr, flush=True))
    state = State()
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(state))
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    watched = [p for p in (brief_dir, package_dir("styles"), package_dir("templates")) if p.exists()]
    # The first build waits for the watcher's first (empty) round, so that a save made while it runs is
    # seen and rebuilt.
    first = True
    try:
        for changes in watch_files(*watched, stop_event=stop, debounce=150, step=30, raise_interrupt=False,
                                   yield_on_timeout=True, rust_timeout=100):
            if first:
                first = False
                rebuild(brief_dir, out_dir, state, say)
                say(f"serving {url} (Ctrl-C to stop)")
                if ready is not None:
                    ready(url)
            elif changes:
                rebuild(brief_dir, out_dir, state, say)
    finally:
        server.shutdown()
        server.server_close()
