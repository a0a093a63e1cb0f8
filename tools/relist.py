"""Rewrite the import listing in docs/architecture.md from the code (``python tools/relist.py``)."""

import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"
listing = subprocess.run([sys.executable, str(Path(__file__).with_name("imports.py")), "--list"],
                         check=True, capture_output=True, text=True).stdout.rstrip("\n")
text = DOC.read_text(encoding="utf-8")
marker = "Today (this listing is checked against the code by the same test):\n\n```text\n"
start = text.index(marker) + len(marker)
end = text.index("```", start)
DOC.write_text(text[:start] + listing + "\n" + text[end:], encoding="utf-8")
