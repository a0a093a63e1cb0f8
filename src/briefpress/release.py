"""Release: checksums and a manifest of the built files, so readers can verify what they received."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Mapping, Sequence

from . import __version__
from .model import Metadata
from .outputs import UNITS, Output

#: The files a release adds beside the editions.
NAMES = ("SHA256SUMS", "manifest.json")


def sha256(path: Path) -> str:
    """Return the SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def release_files(meta: Metadata, outputs: Sequence[Output], staged: Mapping[Path, Path]) -> dict[str, str]:
    """The text of ``SHA256SUMS`` (for ``sha256sum -c``) and ``manifest.json``, by name, over ``outputs``,
    whose bytes are in ``staged`` (by each output's path) until they are renamed into place."""
    files = []
    for output in sorted(outputs, key=lambda o: o.path.name):
        source = staged.get(output.path, output.path)
        files.append({"file": output.path.name, "format": output.fmt, "size": source.stat().st_size,
                      UNITS[output.fmt]: output.units, "sha256": sha256(source)})
    sums = "".join(f"{f['sha256']}  {f['file']}\n" for f in files)
    manifest = json.dumps({
        "title": meta.title, "identifier": meta.identifier, "date": meta.last_modified.isoformat(),
        "version": __version__, "files": files,
    }, ensure_ascii=False, indent=2) + "\n"
    return dict(zip(NAMES, (sums, manifest)))
