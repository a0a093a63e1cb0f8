"""``briefpress new``: a brief folder to start from, which builds cleanly at once."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import uuid
from importlib import resources
from pathlib import Path
from string import Template

from .errors import BriefError, Diagnostic


def create(folder: Path, title: str) -> list[Path]:
    """Create a new brief in ``folder`` (which must not exist, or be empty); return the files written."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BriefError([Diagnostic(folder, None, "folder exists and is not empty; choose a new one")])
    source = Path(str(resources.files("briefpress") / "scaffold"))
    shutil.copytree(source, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    today = dt.date.today()
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "brief"
    meta = folder / "brief.yaml"
    meta.write_text(Template(meta.read_text(encoding="utf-8")).substitute(
        title=title.replace('"', "'"), date=today.isoformat(), year=today.year, uuid=uuid.uuid4(), slug=slug,
    ), encoding="utf-8")
    return sorted(p for p in folder.rglob("*") if p.is_file())
