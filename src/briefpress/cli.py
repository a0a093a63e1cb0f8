"""Command line: ``briefpress build``. Only this module turns errors into exit codes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .build import FORMATS, build
from .errors import BriefError, Diagnostics


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="briefpress", description="Publish a brief folder as PDF, EPUB and HTML.")
    parser.add_argument("--version", action="version", version=f"briefpress {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    b = commands.add_parser("build", help="build the brief into the output folder",
                            description="Build a brief into PDF, EPUB and/or HTML. Every problem found "
                                        "is reported as 'path:line: error: message'; nothing in the "
                                        "output folder changes unless the build succeeds.")
    b.add_argument("brief", nargs="?", default="brief", type=Path, help="the brief folder (default: brief)")
    b.add_argument("--format", choices=(*FORMATS, "all"), action="append", dest="formats",
                   help="format to build; repeat for several (default: all)")
    b.add_argument("--out", default="dist", type=Path, help="output folder (default: dist)")
    b.add_argument("--paper", choices=("a4", "letter"), help="PDF paper size (default: the brief's, else a4)")
    b.add_argument("--strict", action="store_true", help="treat warnings as errors")
    b.add_argument("--debug", action="store_true", help="show Python tracebacks for unexpected failures")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 broken brief, 2 usage)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    chosen = [f for f in (args.formats or []) if f != "all"]
    formats = tuple(dict.fromkeys(chosen)) or FORMATS
    diags = Diagnostics()
    try:
        build(args.brief, formats, args.out, diags, strict=args.strict, paper=args.paper,
              report=lambda output: print(output.describe(), flush=True))
    except BriefError as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic.format(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # an unexpected failure is still reported in one line
        if args.debug:
            raise
        summary = " ".join(str(exc).split())
        print(f"briefpress: error: {type(exc).__name__}: {summary} (run with --debug for details)", file=sys.stderr)
        return 1
    for diagnostic in diags.warnings:
        print(diagnostic.format(), file=sys.stderr)
    return 0
