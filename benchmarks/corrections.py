"""What the print edition's corrections cost on one brief: a note on a later page than its call, a heading or
caption at a page's foot without what follows it, a long note split (``typeset._Session.lay_out_notes``).

Run by ``bench.py`` (part 14) in a process of its own, with the speed-ups off, so that every layout happens
here: it builds the brief's PDF once and prints, as JSON, the documents laid out, the layouts WeasyPrint
made (every one beyond the first of a document is a correction's), the seconds the checks took (finding
notes astray and parted headings, which run on every layout, corrections or none), the seconds of all
layouts and of the whole build.

    python benchmarks/corrections.py BRIEF OUT
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main(brief: Path, out: Path) -> int:
    os.environ["BRIEFPRESS_SPEEDUPS"] = "off"
    from briefpress.cli import main as cli
    from briefpress.editions import sectioned, typeset

    seen = {"documents": 0, "layouts": 0, "layout_s": 0.0, "checks_s": 0.0}

    def counted(function, key: str, seconds: str | None = None):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                if key:
                    seen[key] += 1
                if seconds:
                    seen[seconds] += time.perf_counter() - start
        return wrapper

    typeset._Session.lay_out = counted(typeset._Session.lay_out, "layouts", "layout_s")
    sectioned.laid_out = counted(sectioned.laid_out, "documents")
    for name in ("_notes_astray", "_parted"):  # the checks every layout of a section goes through
        setattr(typeset, name, counted(getattr(typeset, name), "", "checks_s"))
    start = time.perf_counter()
    code = cli(["build", str(brief), "--format", "pdf", "--out", str(out)])
    seen["build_s"] = time.perf_counter() - start
    seen["corrections"] = seen["layouts"] - seen["documents"]
    print(json.dumps(seen))
    return code


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
