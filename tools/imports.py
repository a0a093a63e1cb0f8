"""The package's import graph, read from its source: every ``import`` of one of its own modules, wherever it
sits (module level, inside a function, under ``TYPE_CHECKING``). Finds cycles, and prints the graph as a
Mermaid diagram for ``docs/architecture.md``.

    python tools/imports.py [--mermaid] [--list]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "briefpress"


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package, by dotted name (a package by its own name, for its ``__init__``)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Each module's imports of the package's own modules. Importing ``a.b.c`` also imports ``a.b``."""
    known = modules(root)
    edges: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
            for target in targets:
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges[name].add(target)
    # A submodule's import runs its packages' __init__ first: those edges count too, unless they are the
    # importer's own parents (which are always loaded before it).
    for name in list(edges):
        for target in list(edges[name]):
            parent = target.rpartition(".")[0]
            while parent and parent in known and not name.startswith(parent + ".") and parent != name:
                edges[name].add(parent)
                parent = parent.rpartition(".")[0]
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def mermaid(edges: dict[str, set[str]]) -> str:
    """The graph as a Mermaid flowchart, modules named without the package prefix."""
    def short(name: str) -> str:
        return name.removeprefix("briefpress.") if name != "briefpress" else "briefpress"

    lines = ["flowchart TD"]
    for name in sorted(edges):
        for target in sorted(edges[name]):
            if target == "briefpress":
                continue  # only __version__
            lines.append(f"  {short(name).replace('.', '_')}[{short(name)}] --> "
                         f"{short(target).replace('.', '_')}[{short(target)}]")
    return "\n".join(lines)


def listing(edges: dict[str, set[str]]) -> str:
    """The graph as text: one line per module, naming the package modules it imports."""
    def short(name: str) -> str:
        return name.removeprefix("briefpress.")

    return "\n".join(f"{short(name)} -> {', '.join(short(t) for t in sorted(edges[name]) if t != 'briefpress') or '(none)'}"
                     for name in sorted(edges) if name != "briefpress")


def main(argv: list[str]) -> int:
    edges = graph()
    if "--mermaid" in argv:
        print(mermaid(edges))
    if "--list" in argv:
        print(listing(edges))
    found = cycles(edges)
    for group in found:
        print("import cycle: " + " <-> ".join(group), file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
