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

__all__ = ["declared", "declared_metrics", "describe_metric"]

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


def describe_metric(group: str, definition: str, higher_is_better: bool, source: str = "") -> str:
    """A metric's one line: ``[group] definition (higher is better; source)``.

    >>> describe_metric("complexity", "Gini index of |a|", True, "Chalasani et al. 2020")
    '[complexity] Gini index of |a| (higher is better; Chalasani et al. 2020)'
    """
    direction = "higher" if higher_is_better else "lower"
    return f"[{group}] {definition} ({direction} is better{f'; {source}' if source else ''})"


def declared_metrics() -> dict[str, str]:
    """``{name: describe_metric(...)}`` of every ``register_metric(...)`` call in
    ``tsexplain/evaluate/``, group by group in the registry's order.

    >>> declared_metrics()["deletion_auc"].split(" (")[0]
    '[faithfulness] area under the target probability as relevant cells are deleted'
    """
    found: dict[str, tuple[str, str]] = {}
    for path in sorted((_ROOT / "evaluate").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "register_metric(" not in source:
            continue
        for node in ast.walk(ast.parse(source, filename=str(path))):
            if not (isinstance(node, ast.Call) and _called(node) == "register_metric"):
                continue
            if not (node.args and isinstance(node.args[0], ast.Constant)):
                continue
            kw: dict[str, object] = {
                k.arg: k.value.value
                for k in node.keywords
                if k.arg is not None and isinstance(k.value, ast.Constant)
            }
            if {"group", "definition", "higher_is_better"} <= set(kw):
                line = describe_metric(
                    str(kw["group"]),
                    str(kw["definition"]),
                    bool(kw["higher_is_better"]),
                    str(kw.get("source", "")),
                )
                found[str(node.args[0].value)] = (str(kw["group"]), line)
    order = _group_order()
    return {n: d for n, (g, d) in sorted(found.items(), key=lambda i: order.index(i[1][0]))}


def _group_order() -> list[str]:
    """The ``GROUPS`` tuple of ``evaluate/registry.py``, read from its syntax tree."""
    tree = ast.parse((_ROOT / "evaluate" / "registry.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "GROUPS"
            and node.value is not None
        ):
            return [str(e.value) for e in ast.walk(node.value) if isinstance(e, ast.Constant)]
    raise AssertionError("evaluate/registry.py declares no GROUPS")  # pragma: no cover
