"""What the registries hold, read from the source without importing it.

``tsexplain methods`` and ``tsexplain models`` list the registered classes with their one-line
descriptions. Importing the classes would load PyTorch (seconds); each class declares its
``name`` and ``description`` as literal class attributes, so they are read here from the
modules' syntax trees instead (milliseconds). The contract tests check that this catalog and
the registries agree entry for entry.
"""

from __future__ import annotations

import ast
from pathlib import Path

__all__ = ["declared"]

_ROOT = Path(__file__).resolve().parent


def declared(subpackage: str, decorator: str) -> dict[str, str]:
    """``{name: description}`` of the classes in ``tsexplain/<subpackage>/`` decorated with
    ``decorator``, sorted by name.

    >>> declared("models", "register_model")["fcn"].split(":")[0]
    'fully convolutional network'
    """
    found: dict[str, str] = {}
    for path in sorted((_ROOT / subpackage).glob("*.py")):
        source = path.read_text(encoding="utf-8")
        if f"@{decorator}" not in source:
            continue
        for node in ast.walk(ast.parse(source, filename=str(path))):
            if isinstance(node, ast.ClassDef) and any(
                _called(d) == decorator for d in node.decorator_list
            ):
                attrs = _literal_attributes(node)
                if "name" in attrs:
                    found[attrs["name"]] = attrs.get("description", "")
    return dict(sorted(found.items()))


def _called(node: ast.expr) -> str:
    """The decorator's name: ``register`` for ``@register``, ``@mod.register`` or
    ``@register(...)``."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _literal_attributes(cls: ast.ClassDef) -> dict[str, str]:
    """The class body's assignments of string literals (``name = "..."``)."""
    out: dict[str, str] = {}
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, value = stmt.target, stmt.value
        else:
            continue
        if (
            isinstance(target, ast.Name)
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
        ):
            out[target.id] = value.value
    return out
