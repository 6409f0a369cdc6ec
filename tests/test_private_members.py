"""No module of the house reaches into another's private members: an ``obj._name`` read
outside ``self``/``cls`` is of a name its own module defines (the room's moderation drives
the ``Room`` through its public methods, not the hub's ``_helpers``)."""

from __future__ import annotations

import ast
from pathlib import Path

import hearings

PACKAGE = Path(hearings.__file__).parent


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _defined(tree: ast.Module) -> set[str]:
    """The private names a module defines: functions, classes, attributes it assigns."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return {n for n in names if _private(n)}


def _reads_of_others(tree: ast.Module) -> list[ast.Attribute]:
    """``obj._name`` where ``obj`` is not ``self``, ``cls`` or ``super()``."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not _private(node.attr):
            continue
        owner = node.value
        if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
            continue
        if isinstance(owner, ast.Call) and getattr(owner.func, "id", None) == "super":
            continue
        found.append(node)
    return found


def test_no_module_uses_another_modules_private_members():
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in PACKAGE.rglob("*.py")}
    defined = {path: _defined(tree) for path, tree in trees.items()}
    house = set().union(*defined.values())
    reaching = [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {ast.unparse(node)}"
        for path, tree in trees.items()
        for node in _reads_of_others(tree)
        # A private name of a library (werkzeug's proxies, dateutil's rule) is not the
        # house's to tidy; one the house defines must be read in its own module only.
        if node.attr in house and node.attr not in defined[path]
    ]
    assert reaching == []


def test_the_check_sees_a_reach_into_another_module():
    hub = ast.parse("class Hub:\n    def _store(self):\n        pass\n")
    moderation = ast.parse("def admit(hub):\n    hub._store()\n")
    (read,) = _reads_of_others(moderation)
    assert read.attr in _defined(hub)
    assert read.attr not in _defined(moderation)
