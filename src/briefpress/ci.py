"""The GitHub Actions workflow that checks a desk's briefs on every push and publishes its shelf from main.

It ships with the package (``workflows/briefs.yml``, the one source of the repository's own copy), and
``briefpress new --ci`` writes it into a repository that has no workflow yet; an existing one is never
touched."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

#: Where the workflow goes, relative to the repository's root.
WORKFLOW = Path(".github", "workflows", "briefs.yml")


@dataclass(frozen=True)
class Repository:
    """A git repository: its root folder and the workflow files it already has."""

    root: Path
    workflows: tuple[Path, ...]


def packaged() -> bytes:
    """The workflow as the package ships it."""
    return (resources.files("briefpress") / "workflows" / WORKFLOW.name).read_bytes()


def repository(folder: Path) -> Repository | None:
    """The git repository that holds ``folder`` (which need not exist yet): the nearest folder, from it
    upwards, with a ``.git`` (a folder, or a file in a worktree or submodule); None outside any."""
    start = folder.resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return Repository(candidate, _workflows(candidate))
    return None


def _workflows(root: Path) -> tuple[Path, ...]:
    """The workflow files GitHub Actions would run: ``.yml`` and ``.yaml`` files in .github/workflows."""
    folder = root / WORKFLOW.parent
    if not folder.is_dir():
        return ()
    return tuple(sorted(p for p in folder.iterdir() if p.suffix.lower() in (".yml", ".yaml") and p.is_file()))


def refusal(repo: Repository) -> tuple[Path, str] | None:
    """Why ``new --ci`` must write nothing into ``repo``, found before anything is written, as (the path at
    fault, the problem); None if it may. ``.github`` and ``.github/workflows`` must be missing or, links
    followed, folders inside the repository; the workflow's own name missing or, links followed, a file inside
    it (then the repository has a workflow, and nothing is added); where it is to be written, writable."""
    root = repo.root.resolve()
    parts = WORKFLOW.parts
    for depth in range(1, len(parts) + 1):
        path = repo.root.joinpath(*parts[:depth])
        if not os.path.lexists(path):
            break
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):  # a link to nothing, or a loop of links
            return path, "a symbolic link that leads nowhere: remove it, then run again"
        if not real.is_relative_to(root):
            return path, (f"leads out of the repository (a symbolic link to {real}): the workflow is written "
                          "only inside it")
        if depth == len(parts):
            return None if real.is_file() else (path, "not a file: the workflow cannot be written there")
        if not real.is_dir():
            return path, f"not a folder: the workflow goes in {WORKFLOW}"
    if repo.workflows:
        return None  # nothing will be written
    existing = next(folder for folder in (repo.root.joinpath(*parts[:d]) for d in range(len(parts) - 1, -1, -1))
                    if folder.is_dir())
    if not os.access(existing, os.W_OK | os.X_OK):
        return existing, "folder cannot be written to: the workflow cannot be added"
    return None


def add(repo: Repository) -> Path:
    """Write the workflow into ``repo``, which must have none; return its path. A file already at that path
    is never overwritten (FileExistsError), nor is anything written where :func:`refusal` finds a problem
    (ValueError)."""
    if repo.workflows:
        raise FileExistsError(f"{repo.root} has a workflow already: {repo.workflows[0]}")
    refused = refusal(repo)
    if refused is not None:
        raise ValueError(f"{refused[0]}: {refused[1]}")
    target = repo.root / WORKFLOW
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("xb") as out:
        out.write(packaged())
    return target
