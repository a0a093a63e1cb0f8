"""Processes as the tests see them, from ``/proc`` (Linux)."""

from __future__ import annotations

from pathlib import Path


def children_named(name: str, parent: int) -> list[int]:
    """The processes called ``name`` whose parent is ``parent``: running, or ended and not yet reaped."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        command, rest = stat[stat.index("(") + 1: stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if command == name and int(rest[1]) == parent:
            found.append(int(entry.name))
    return found
