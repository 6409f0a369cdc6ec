"""The house's layout as rules on its imports (every import, those inside functions too):
packages import one way (README, "Layout"), no module imports itself back through others,
and no module is over 400 lines (private names: ``test_private_members.py``)."""

from __future__ import annotations

import ast
from pathlib import Path

import hearings

SOURCE = Path(hearings.__file__).parent
ROOT = SOURCE.parent

#: The order of the domain packages: a package may import those before it, never after.
#: ``witness`` and ``notify`` both build on ``rooms`` and know nothing of each other.
PACKAGE_RANKS = {
    "courts": 1,
    "sfu": 1,
    "scheduling": 2,
    "rooms": 3,
    "recording": 4,
    "witness": 5,
    "notify": 5,
}
#: The modules that know every package: the factory, the command line and the
#: demo data.
KNOWS_ALL = {"hearings", "hearings.cli", "hearings.demo"}
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {module_name(p): p for p in SOURCE.rglob("*.py")}
    return {name: path for name, path in found.items() if ".migrations" not in name}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The project modules a module imports (at the top or inside a function)."""
    tree = ast.parse(path.read_text())
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # ``from hearings.rooms import services`` imports the module rooms.services.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        found |= {t for t in targets if t in known and t != name}
    return found


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports_of(path, known) for name, path in found.items()}


def rank(module: str) -> int:
    parts = module.split(".")
    return PACKAGE_RANKS.get(parts[1], 0) if len(parts) > 1 else 0


def test_packages_import_one_way():
    against = sorted(
        f"{module} → {target}"
        for module, targets in graph().items()
        if module not in KNOWS_ALL
        for target in targets
        if rank(target) > rank(module)
        or (rank(target) == rank(module) > 0 and target.split(".")[1] != module.split(".")[1])
    )
    assert against == []


def test_no_module_imports_itself_back():
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    assert cycles == []


def test_no_module_is_over_400_lines():
    long = {
        name: len(path.read_text().splitlines())
        for name, path in modules().items()
        if len(path.read_text().splitlines()) > MAX_LINES
    }
    assert long == {}
