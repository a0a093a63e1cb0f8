"""Release: checksums and a manifest of the built files, so readers can verify what they received."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence

from . import __version__
from .model import Metadata
from .outputs import UNITS, Output, write_atomic


def sha256(path: Path) -> str:
    """Return the SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def write_release(out_dir: Path, meta: Metadata, outputs: Sequence[Output]) -> tuple[Path, Path]:
    """Write ``SHA256SUMS`` (for ``sha256sum -c``) and ``manifest.json`` next to the outputs."""
    files = []
    for output in sorted(outputs, key=lambda o: o.path.name):
        files.append({"file": output.path.name, "format": output.fmt, "size": output.path.stat().st_size,
                      UNITS[output.fmt]: output.units, "sha256": sha256(output.path)})
    sums = out_dir / "SHA256SUMS"
    manifest = out_dir / "manifest.json"
    write_atomic(sums, "".join(f"{f['sha256']}  {f['file']}\n" for f in files))
    write_atomic(manifest, json.dumps({
        "title": meta.title, "identifier": meta.identifier, "date": meta.last_modified.isoformat(),
        "version": __version__, "files": files,
    }, ensure_ascii=False, indent=2) + "\n")
    return sums, manifest
