"""The GitHub Actions workflow that checks a desk's briefs on every push and publishes its shelf from main.

It ships with the package (``workflows/briefs.yml``, the one source of the repository's own copy), and
``briefpress new --ci`` writes it into a repository that has no workflow yet; an existing one is never
touched."""

from __future__ import annotations

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


def add(repo: Repository) -> Path:
    """Write the workflow into ``repo``, which must have none; return its path. A file already at that path
    is never overwritten (FileExistsError)."""
    if repo.workflows:
        raise FileExistsError(f"{repo.root} has a workflow already: {repo.workflows[0]}")
    target = repo.root / WORKFLOW
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("xb") as out:
        out.write(packaged())
    return target
