"""The layer rules of DESIGN.md, checked on the source: imports point down only, and no two
modules import each other (directly or through others), at module level or inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "tsexplain"

# Bottom to top; a module may import from its own layer and the layers below it.
LAYERS = [
    {"errors", "_context", "_npz", "_runtime", "_version", "_settings", "_catalog", "_progress"},
    {"data"},
    {"series"},
    {"models"},
    {"train"},
    {"explain"},
    {"evaluate"},
    {"summarize"},
    {"plot"},
    {"report"},
    {"scale"},
    {"demo", "cli", "__init__"},
]


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path, name: str) -> set[str]:
    """Every tsexplain module ``path`` imports, anywhere in the file."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("tsexplain")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            if not base.startswith("tsexplain"):
                continue
            for a in node.names:
                full = f"{base}.{a.name}"
                out.add(
                    full
                    if (SRC.parent / full.replace(".", "/")).with_suffix(".py").exists()
                    or (SRC.parent / full.replace(".", "/")).is_dir()
                    else base
                )
    return out


#: imports that point up on purpose: an Explanation draws itself (``ex.plot(i)``,
#: ``ex.plot_class(c)``) with the plot layer's functions, imported inside those methods only
#: (checked below), so loading the explain layer never loads the layers above it
VIEWS = {
    ("tsexplain.explain.explanation", "tsexplain.plot"),
    ("tsexplain.explain.explanation", "tsexplain.summarize"),
    # every object a notebook user meets shows itself through the report layer's inline views
    ("tsexplain.explain.explanation", "tsexplain.report"),
    ("tsexplain.summarize.classes", "tsexplain.report"),
    ("tsexplain.summarize.prototypes", "tsexplain.report"),
    ("tsexplain.summarize.misclassified", "tsexplain.report"),
    ("tsexplain.evaluate.benchmark", "tsexplain.report"),
}


def _graph() -> dict[str, set[str]]:
    mods = {_module_name(p): p for p in SRC.rglob("*.py")}
    return {
        m: {i for i in _imports(p, m) if i in mods and i != m and (m, i) not in VIEWS}
        for m, p in mods.items()
    }


def test_views_import_the_layers_above_only_when_called():
    for module, target in VIEWS:
        path = SRC.parent / (module.replace(".", "/") + ".py")
        tree = ast.parse(path.read_text())
        top = [n for n in tree.body if isinstance(n, ast.ImportFrom) and (n.module or "") == target]
        inside = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and (n.module or "") == target and n not in top
        ]
        assert not top and inside, (module, target)


def _layer(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"{module} belongs to no layer; add it to LAYERS")


def test_every_module_has_a_layer():
    for m in _graph():
        _layer(m)


def test_imports_point_down_only():
    upward = [f"{m} -> {i}" for m, deps in _graph().items() for i in deps if _layer(i) > _layer(m)]
    assert not upward, "upward imports:\n" + "\n".join(sorted(upward))


def _is_package_init(module: str) -> bool:
    return (SRC.parent / module.replace(".", "/") / "__init__.py").exists()


def test_no_import_cycles():
    # A package's __init__ re-exports its modules; a module importing its own package's
    # public names through the package is what makes a cycle, so package inits stay in.
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycle = [*stack[stack.index(d) :], d]
                # package __init__ -> own submodule -> package is how re-exports look
                if not (
                    len(cycle) == 3
                    and _is_package_init(cycle[0])
                    and cycle[1].startswith(cycle[0] + ".")
                ):
                    cycles.append(cycle)
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("module", ["tsexplain.series", "tsexplain.data"])
def test_low_layers_do_not_import_torch_models(module):
    graph = _graph()
    deps = {d for m, ds in graph.items() if m.startswith(module) for d in ds}
    assert not {d for d in deps if d.startswith(("tsexplain.models", "tsexplain.explain"))}
