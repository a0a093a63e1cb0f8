"""Command line: ``briefpress build``, ``new``, ``watch`` and ``shelf``. Only this module turns errors into exit
codes."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TextIO

from . import __version__
from .errors import BriefError, Diagnostic, Diagnostics, summarised
from .exits import Stopped, deferred, orderly_stop, private_temporary_folder, status, stop_behind
from .model import FORMATS

if TYPE_CHECKING:
    from .editions.typeset import Typesetter


def _path(text: str) -> Path:
    """A path given on the command line; an empty one is a mistake, not the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path names no folder")
    return Path(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="briefpress", description="Publish a brief folder as PDF, EPUB and HTML.")
    parser.add_argument("--version", action="version", version=f"briefpress {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show Python tracebacks for unexpected failures")

    b = commands.add_parser("build", parents=[common], help="build the brief into the output folder",
                            description="Build a brief into PDF, EPUB and/or HTML. Every problem found "
                                        "is reported as 'path:line: error: message'; nothing in the "
                                        "output folder changes unless the build succeeds.")
    b.add_argument("brief", nargs="?", default="brief", type=_path, help="the brief folder (default: brief)")
    b.add_argument("--format", choices=(*FORMATS, "all"), action="append", dest="formats",
                   help="format to build; repeat for several (default: all)")
    b.add_argument("--out", default="dist", type=_path, help="output folder (default: dist)")
    b.add_argument("--paper", choices=("a4", "letter"), help="PDF paper size (default: the brief's, else a4)")
    b.add_argument("--strict", action="store_true", help="treat warnings as errors")
    b.add_argument("--release", action="store_true",
                   help="also write SHA256SUMS and manifest.json for the files built")
    b.set_defaults(run=_build)

    n = commands.add_parser("new", parents=[common], help="create a new brief folder to start from",
                            description="Create a brief folder with brief.yaml and three example sections "
                                        "(front matter, a footnote, a data-driven table and an image). "
                                        "It builds cleanly at once.")
    n.add_argument("folder", nargs="?", type=_path,
                   help="the folder to create (it must not exist, or be empty); with --ci it may be left out, "
                        "to add only the workflow to the repository of the current folder")
    n.add_argument("--title", default="Untitled brief", help="the brief's title")
    n.add_argument("--ci", action="store_true",
                   help="also add .github/workflows/briefs.yml at the root of the git repository the folder is "
                        "in, if it has no workflow yet: GitHub Actions then checks every push and publishes the "
                        "shelf from main")
    n.set_defaults(run=_new)

    w = commands.add_parser("watch", parents=[common], help="rebuild on every save and serve the HTML edition",
                            description="Watch a brief folder, rebuild the HTML edition on every save and "
                                        "serve it on 127.0.0.1, reloading the page after each rebuild. "
                                        "Errors are shown in the terminal and in the page.")
    w.add_argument("brief", nargs="?", default="brief", type=_path, help="the brief folder (default: brief)")
    w.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default: 8000; 0 picks one)")
    w.add_argument("--out", default="dist", type=_path, help="output folder for the HTML file (default: dist)")
    w.set_defaults(run=_watch)

    s = commands.add_parser("shelf", parents=[common], help="publish every brief as a static site",
                            description="Build every brief listed in shelf.yaml (without one, the folder "
                                        "'brief') and publish them as one static site: an index, a page per "
                                        "brief with its editions, covers, Atom and OPDS feeds and a sitemap. "
                                        "The output folder is replaced only if every brief builds.")
    s.add_argument("--config", type=_path, help="the shelf's settings (default: shelf.yaml, if there is one)")
    s.add_argument("--out", default=Path("dist/shelf"), type=_path,
                   help="output folder, replaced whole (default: dist/shelf)")
    s.add_argument("--base-url", help="the absolute URL the shelf is published at (default: shelf.yaml's "
                                      "base_url; without shelf.yaml, http://127.0.0.1:8000/)")
    s.add_argument("--strict", action="store_true", help="treat warnings as errors")
    s.add_argument("--serve", action="store_true",
                   help="serve the shelf on 127.0.0.1 and rebuild it on every save (Ctrl-C to stop)")
    s.add_argument("--port", type=int, default=8000, help="port for --serve (default: 8000; 0 picks one)")
    s.set_defaults(run=_shelf)

    v = commands.add_parser("server", parents=[common], help="the build server that rebuilds start (--stop stops it)",
                            description="Serve rebuilds with everything loaded: a build into an output folder "
                                        "that an earlier build left starts this server once it is done, and the "
                                        "next such build asks it, which then lays out again only the sections "
                                        "that changed. It leaves after 15 minutes without a build. Builds start "
                                        "it themselves; BRIEFPRESS_SERVER=off turns it off.")
    v.add_argument("--stop", action="store_true", help="stop the server of this environment, if one runs")
    v.add_argument("--prime", nargs=argparse.REMAINDER, metavar="FOLDER ARGS",
                   help="first lay out the brief of the build ARGS, run from FOLDER (what a build that starts "
                        "the server gives it)")
    v.set_defaults(run=_server)
    return parser


def _build(args: argparse.Namespace) -> int:
    chosen = [f for f in (args.formats or []) if f != "all"]
    formats = tuple(dict.fromkeys(chosen)) or FORMATS
    if args.served is not None:  # in the build server, with what it keeps for this brief
        with orderly_stop():
            return _run_build(args, formats, args.served)
    # Imported here, like the build, so that --help, --version, new and watch answer without them.
    from . import speedups
    from .cache import CACHE_FOLDER

    # A rebuild (the output folder keeps an earlier build's cache) is handed to the build server, if one runs;
    # if none does, it starts one once it is done.
    rebuild = _served_rebuild(args, args.out / CACHE_FOLDER)
    if rebuild:
        answered = _ask_server(args, (args.brief, args.out))
        if answered is not None:
            return answered
    from .editions import pages

    # Whatever the build and the processes it forks make outside the output folder goes in one private
    # folder, removed however the build ends, once they are stopped.
    with orderly_stop(), private_temporary_folder():
        if not speedups.enabled():
            return _run_build(args, formats, None)
        # The printer is forked before the build's own imports, so that it imports WeasyPrint meanwhile.
        laying_out = "pdf" in formats or ("epub" in formats and not pages.any_kept(args.out))
        printer = None
        try:
            with deferred():  # forked and recorded together, to be closed whatever happens
                typesetter, printer = speedups.typesetter(laying_out)
            status = _run_build(args, formats, typesetter)
        finally:
            if printer is not None:
                printer.close()
    if rebuild:
        from .speedups import server
        server.start(args.argv)
    return status


def _served_rebuild(args: argparse.Namespace, cache: Path) -> bool:
    """Whether this command is a rebuild for the build server: it may ask it (``switches.serving``, not with
    ``--debug``), and ``cache`` (what an earlier build left) is there. Decided before the server's module is
    imported, which a build into a new folder does not need."""
    from .speedups import enabled
    from .speedups.switches import serving

    return enabled() and serving() and not args.debug and cache.is_dir()


def _server(args: argparse.Namespace) -> int:
    from .speedups import server

    if args.stop:
        server.stop()
        return 0

    def warm_up() -> None:  # what every build uses, imported before the first asks
        from . import build  # noqa: F401
        from .editions import epub, html, pdf  # noqa: F401
        from .speedups.printer import import_fast
        import_fast()

    prime = None
    if args.prime:  # the build that started the server: its brief laid out at once, nothing written
        os.chdir(args.prime[0])
        built = _parser().parse_args(args.prime[1:])
        if built.run is _build:

            def lay_out(typesetter: Typesetter) -> None:
                from .build import output_cache, prepare
                from .editions.pdf import print_job

                diags = Diagnostics()
                job = print_job(prepare(built.brief, diags, paper=built.paper, cache=output_cache(built.out)))
                if job.sections and not job.parts:  # a long brief's parts are kept in the output folder's cache
                    typesetter.typeset(job, None, diags)
            prime = (_kept_for(built.brief, built.out), lay_out)
    with private_temporary_folder():  # WeasyPrint's copies of the fonts, for the session kept between builds
        return server.serve(lambda argv, typesetter: main(argv, served=typesetter), warm_up, prime)


def _run_build(args: argparse.Namespace, formats: tuple[str, ...], typesetter: Typesetter | None) -> int:
    from .build import build  # imported here, so that --help and --version answer at once

    diags = Diagnostics()
    build(args.brief, formats, args.out, diags, strict=args.strict, paper=args.paper, release=args.release,
          report=lambda output: _say(output.describe(), sys.stdout), typesetter=typesetter)
    for line in summarised(diags.warnings):
        _say(line, sys.stderr)
    return 0


def _say(line: str, stream: TextIO | None) -> None:
    """Write a line of progress or diagnostics. Output that cannot be written (closed, a full disk, a pipe
    whose reader left) changes nothing: the build's outcome and exit status are what they are without it."""
    if stream is None:  # started with the descriptor closed
        return
    try:
        print(line, file=stream, flush=True)
    except (OSError, ValueError):
        try:  # what stays in the buffer would fail again as Python exits, and change the exit status
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
        except (OSError, ValueError):
            pass
def _new(args: argparse.Namespace) -> int:
    """A new brief; the CI workflow written into its repository only when asked (--ci), and only where the
    repository has none: nothing outside the new folder is written unasked."""
    from . import ci
    from .scaffold import create

    if args.folder is None and not args.ci:
        _say("briefpress new: error: the folder to create is required (it may be left out only with --ci)",
             sys.stderr)
        return 2
    # The repository is found first, so that --ci outside one writes nothing at all.
    start = args.folder if args.folder is not None else Path.cwd()
    repo = ci.repository(start)
    if args.ci and repo is None:
        raise BriefError([Diagnostic(start, None, "not in a git repository: --ci adds the workflow at a "
                                                  "repository's root (run `git init` there first)")])
    # And where the workflow would go is checked before the brief is made: on a problem, nothing is written.
    refused = ci.refusal(repo) if args.ci and repo is not None else None
    if refused is not None:
        raise BriefError([Diagnostic(refused[0], None, refused[1])])
    existed = args.folder is not None and os.path.lexists(args.folder)
    made = create(args.folder, args.title) if args.folder is not None else []
    added = None
    if args.ci and repo is not None and not repo.workflows:
        try:
            added = ci.add(repo)
        except (OSError, ValueError) as exc:  # changed since it was checked: the new brief goes too
            _undo(args.folder, existed)
            raise BriefError([Diagnostic(repo.root / ci.WORKFLOW, None, f"the workflow could not be written "
                                         f"({getattr(exc, 'strerror', None) or exc}); nothing added")]) from None
    for path in made:
        _say(str(path), sys.stdout)
    if repo is None:
        return 0
    if repo.workflows:
        if args.ci:
            names = ", ".join(str(p.relative_to(repo.root)) for p in repo.workflows)
            _say(f"note: {repo.root} has a workflow already ({names}); nothing added", sys.stderr)
    elif added is not None:
        _say(str(added), sys.stdout)
        if not (repo.root / "Makefile").is_file():
            _say(f"note: the workflow runs `make check`: it needs briefpress's Makefile in {repo.root}", sys.stderr)
    else:
        _say(f"note: {repo.root} has no CI workflow; `briefpress new --ci`, run there, adds {ci.WORKFLOW}",
             sys.stderr)
    return 0


def _undo(folder: Path | None, existed: bool) -> None:
    """Remove the brief ``new`` made in ``folder``, which was missing or empty (``create`` makes it only so):
    all in it is the new brief's."""
    if folder is None:
        return
    if not existed:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for path in folder.iterdir():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _watch(args: argparse.Namespace) -> int:
    from .watch import watch

    with private_temporary_folder():  # where WeasyPrint copies the fonts of the session kept between saves
        watch(args.brief, args.out, args.port)
    return 0


def _shelf(args: argparse.Namespace) -> int:
    if args.serve:
        from .watch import watch_shelf

        watch_shelf(args.config, args.out, args.port, args.base_url, strict=args.strict)
        return 0
    if args.served is not None:  # in the build server, which keeps the last brief laid out
        with orderly_stop():
            return _run_shelf(args, args.served)
    from . import speedups
    from .shelf.model import cache_folder

    # As for build: a shelf built before is handed to the build server, which is started if none runs.
    rebuild = _served_rebuild(args, cache_folder(args.out))
    if rebuild:
        answered = _ask_server(args, (args.config or Path("shelf.yaml"), args.out))
        if answered is not None:
            return answered
    with orderly_stop(), private_temporary_folder():
        # As for build: the printer is forked first; it lays out every brief's PDF, each while this process
        # renders the next brief (``shelf.site._Pipeline``).
        typesetter, printer = None, None
        try:
            if speedups.enabled():
                with deferred():  # as for build
                    typesetter, printer = speedups.typesetter(True, many=True)
            status = _run_shelf(args, typesetter)
        finally:
            if printer is not None:
                printer.close()
    if rebuild:
        from .speedups import server
        server.start(args.argv)
    return status


def _kept_for(brief: Path, out: Path) -> tuple[str, str]:
    """The brief folder (a shelf's settings) and output folder of a build, as the build server keeps its
    layouts under them."""
    return os.path.abspath(brief), os.path.abspath(out)


def _ask_server(args: argparse.Namespace, folders: tuple[Path, Path]) -> int | None:
    """Have the build server run this command, a build of ``folders`` (brief or shelf settings, output);
    its exit status, or ``None`` if none answered."""
    from .speedups import server

    with orderly_stop():
        return server.ask(args.argv, _kept_for(*folders), lambda line: _say(line, sys.stdout),
                          lambda line: _say(line, sys.stderr))


def _run_shelf(args: argparse.Namespace, typesetter: Typesetter | None) -> int:
    from .outputs import UNITS
    from .shelf.config import load_shelf
    from .shelf.site import build_shelf

    diags = Diagnostics()
    shelf = load_shelf(args.config, diags, args.base_url)
    entries = build_shelf(shelf, args.out, diags, strict=args.strict, typesetter=typesetter)
    for line in summarised(diags.warnings):
        _say(line, sys.stderr)
    for entry in entries:
        counts = ", ".join(f"{d.fmt} {d.units} {UNITS[d.fmt]}" for d in entry.downloads)
        _say(f"{os.path.relpath(args.out / entry.landing)}  {counts}", sys.stdout)
    _say(f"{os.path.relpath(args.out / 'index.html')}  {len(entries)} brief{'s' if len(entries) != 1 else ''}",
         sys.stdout)
    return 0


def entry() -> int:
    """The program (``briefpress``, ``python -m briefpress``): ``main`` on its arguments. Once that returns, the
    process ends without Python's teardown (``speedups.quickexit``), where that speed-up is on."""
    from .speedups import quickexit
    from .speedups.switches import on

    if on("exit"):
        quickexit.arm()
    return quickexit.done(main())


def main(argv: list[str] | None = None, served: Typesetter | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 broken brief, 2 usage, 128 + a signal's number
    when stopped by it). ``served``: run by the build server, which lays the PDF out with it."""
    _standard_descriptors()
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    args.argv, args.served = list(sys.argv[1:] if argv is None else argv), served
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except BriefError as exc:
        for line in summarised(exc.diagnostics):
            _say(line, sys.stderr)
        return 1
    except (KeyboardInterrupt, Stopped) as exc:
        return _stopped(exc)
    except Exception as exc:  # an unexpected failure is still reported in one line
        stop = stop_behind(exc)
        if stop is not None:  # a signal, raised inside a library that wrapped it
            return _stopped(stop)
        if args.debug:
            raise
        summary = " ".join(str(exc).split())
        _say(f"briefpress: error: {type(exc).__name__}: {summary} (run with --debug for details)", sys.stderr)
        return 1


def _stopped(exc: BaseException) -> int:
    _say(f"briefpress: error: {exc if isinstance(exc, Stopped) else Stopped(signal.SIGINT)}", sys.stderr)
    return status(exc)


def _standard_descriptors() -> None:
    """Open the null device on any of descriptors 0, 1 and 2 that the command was started without, so that
    no file the build opens takes their place, where a library's message to ``stderr`` would land in it."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDWR)  # the lowest free descriptor: this one
