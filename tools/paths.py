"""Where the repository's parts are, for the tools and the tests."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BRIEF = ROOT / "brief"
