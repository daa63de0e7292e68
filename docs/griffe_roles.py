"""A Griffe extension for the API reference: docstrings written with Sphinx roles
(``:func:`load```, ``:class:`~tsexplain.data.Dataset```) become Markdown code, and every
role's target must exist, so a broken cross-reference fails the build (``mkdocs build
--strict``) with the object and the target it names."""

from __future__ import annotations

import importlib
import re
from typing import Any

import griffe

logger = griffe.get_logger("tsexplain.roles")

ROLE = re.compile(r":(?:py:)?(func|class|meth|mod|attr|data|obj|exc|const):`~?([^`]+)`")


def resolves(target: str, where: str) -> bool:
    """Whether ``target`` names an importable object, as written or relative to the module or
    class ``where`` (and its parents)."""
    target = target.rstrip("()").lstrip(".")
    parts = where.split(".")
    candidates = [target] + [".".join([*parts[:i], target]) for i in range(len(parts), 0, -1)]
    for name in candidates:
        pieces = name.split(".")
        for cut in range(len(pieces), 0, -1):
            try:
                obj: Any = importlib.import_module(".".join(pieces[:cut]))
            except (ImportError, TypeError, ValueError):
                continue
            for attr in pieces[cut:]:
                declared = getattr(obj, "__dataclass_fields__", {}) or getattr(
                    obj, "__annotations__", {}
                )
                if hasattr(obj, attr):
                    obj = getattr(obj, attr)
                elif isinstance(declared, dict) and attr in declared:  # a field without default
                    obj = None
                else:
                    break
            else:
                return True
    return False


class SphinxRoles(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        doc = obj.docstring
        if doc is None:
            return

        def replace(match: re.Match[str]) -> str:
            text = " ".join(match.group(2).split())
            title, _, linked = text.partition(" <")  # Sphinx's "title <target>"
            target = linked.rstrip(">") if linked else text
            if not resolves(target, obj.path):
                where = f"{obj.filepath}:{doc.lineno}" if doc.lineno else str(obj.filepath)
                logger.warning(f"{where}: {obj.path}: broken cross-reference to {target!r}")
            if linked:
                return f"`{title}`"
            return f"`{target.split('.')[-1]}`" if match.group(0).count("~") else f"`{target}`"

        doc.value = ROLE.sub(replace, doc.value)
