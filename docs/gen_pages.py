"""The pages built from the code when the site is built (mkdocs-gen-files runs this file):
a page per explanation method and per metric from their declarations, the command-line
reference from click, the API reference, the measured tables and the executed notebooks.

Nothing here is written into ``docs/``: the pages exist only in the build.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

import click
import mkdocs_gen_files
import nbformat

import tsexplain as tx
from tsexplain.cli import cli
from tsexplain.evaluate.registry import GROUPS, registered
from tsexplain.explain import get_method

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))
from griffe_roles import ROLE  # noqa: E402

NOTEBOOKS = ROOT / "out" / "notebooks"
nav = mkdocs_gen_files.Nav()


def write(path: str, text: str, title: tuple[str, ...] | None = None) -> None:
    with mkdocs_gen_files.open(path, "w") as fh:
        fh.write(text)
    if title is not None:
        nav[title] = path


def prose(obj: object) -> str:
    """``obj``'s docstring for a page written here, its Sphinx roles as code, as the API
    pages show them (``docs/griffe_roles.py``)."""
    return ROLE.sub(lambda m: f"`{m.group(2).split('.')[-1]}`", inspect.getdoc(obj) or "")


def table(rows: list[list[str]], head: list[str]) -> str:
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- home, guide
nav["Home"] = "index.md"
for path in sorted((ROOT / "docs" / "guide").glob("*.md")):
    title = path.read_text().splitlines()[0].lstrip("# ")
    nav["Guide", title] = f"guide/{path.name}"

# ---------------------------------------------------------------------------- notebooks
if not NOTEBOOKS.is_dir() or not list(NOTEBOOKS.glob("*.ipynb")):
    sys.exit(f"error: {NOTEBOOKS} holds no executed notebook; run make notebooks first")
rows = []
for path in sorted(NOTEBOOKS.glob("*.ipynb")):
    with mkdocs_gen_files.open(f"notebooks/{path.name}", "wb") as fh:
        fh.write(path.read_bytes())
    title = nbformat.read(path, as_version=4).cells[0].source.splitlines()[0].lstrip("# ")
    nav["Notebooks", title] = f"notebooks/{path.name}"
    rows.append([f"[{title}]({path.name})", f"`examples/{path.name}`"])
write(
    "notebooks/index.md",
    "# Notebooks\n\nOne per workflow, executed when the site is built (`make notebooks`), "
    "each in a fresh Jupyter kernel.\n\n" + table(rows, ["notebook", "file"]),
    ("Notebooks",),
)
nav["Notebooks"] = "notebooks/index.md"

# ---------------------------------------------------------------------------- methods
SPEED = (ROOT / "docs" / "measured" / "speed.md").read_text()
#: words that name a method's work in the README's speed tables
SPEED_WORDS = {
    "saliency": "saliency",
    "input_x_gradient": "input x gradient",
    "gradcam": "Grad-CAM",
    "lstm_gradcam": "LSTM Grad-CAM",
    "integrated_gradients": "Integrated Gradients",
    "occlusion": "occlusion",
    "shap_segments": "Kernel SHAP",
}
method_rows = []
for name in tx.explain_methods():
    cls = get_method(name)
    module = sys.modules[cls.__module__]
    cite = prose(module).split("\n\n")
    facts = [
        ["registry name", f"`{name}`"],
        ["resolution", f"`{cls.resolution}`"],
        [
            "needs",
            "a `torch.nn.Module`" if cls.needs_module else "any callable (the model adapter)",
        ],
        ["stochastic", "yes (seeded)" if cls.stochastic else "no"],
        ["path method", "yes" if cls.path_method else "no"],
        ["test configuration", f"`{dict(cls.tiny)}`"],
    ]
    page = [f"# {name}\n", f"{cls.description}\n", table(facts, ["declared", "value"])]
    if len(cite) > 1:
        page.append("## Source\n\n" + "\n\n".join(cite[1:]) + "\n")
    word = SPEED_WORDS.get(name)
    speed = [ln for ln in SPEED.splitlines() if word and ln.startswith("|") and word in ln]
    if speed:
        page.append(
            "## Cost, measured\n\nFrom `make bench` (2 CPU cores; see [Measured]"
            "(../measured/speed.md)): the floor is the least work the method needs, one "
            "forward and backward pass, or the perturbed evaluations it must make.\n\n"
            "| model / work | floor s | tsexplain s | tsexplain / floor | Captum s | Captum / tsexplain | ... |\n"
            "| --- | --- | --- | --- | --- | --- | --- |\n" + "\n".join(speed) + "\n"
        )
    page.append(
        f"## Settings\n\n::: {cls.__module__}.{cls.__qualname__}\n    options:\n      show_root_heading: false\n"
    )
    write(f"methods/{name}.md", "\n".join(page))
    nav["Methods", name] = f"methods/{name}.md"
    method_rows.append([f"[{name}]({name}.md)", cls.resolution, cls.description])
write(
    "methods/index.md",
    "# Explanation methods\n\nEvery method behind `tx.explain(model, data, method=...)` and "
    "`tsexplain explain --method`, read from the registry.\n\n"
    + table(method_rows, ["method", "resolution", "what it computes"]),
)
nav["Methods"] = "methods/index.md"

# ---------------------------------------------------------------------------- metrics
metric_rows = []
for name, m in registered().items():
    facts = [
        ["group", m.group],
        ["better", "higher" if m.higher_is_better else "lower"],
        ["needs", ", ".join(m.needs) or "nothing beyond the model and the data"],
        ["levels", ", ".join(m.levels)],
        ["source", m.source or "tsexplain"],
    ]
    write(
        f"metrics/{name}.md",
        f"# {name}\n\n{m.definition}\n\n" + table(facts, ["declared", "value"]),
    )
    nav["Metrics", name] = f"metrics/{name}.md"
    arrow = "↑" if m.higher_is_better else "↓"
    metric_rows.append([f"[{name}]({name}.md)", m.group, arrow, m.definition])
order = {g: i for i, g in enumerate(GROUPS)}
metric_rows.sort(key=lambda r: order[r[1]])
write(
    "metrics/index.md",
    "# Metrics\n\nEvery metric of `tx.evaluate` and `tsexplain evaluate --metric`, read from "
    "its declaration: its group, which way is better, what it needs.\n\n"
    + table(metric_rows, ["metric", "group", "better", "definition"]),
)
nav["Metrics"] = "metrics/index.md"

# ---------------------------------------------------------------------------- measured
for slug in ("speed", "ucr-accuracy", "defaults", "trust", "literature"):
    title = (ROOT / "docs" / "measured" / f"{slug}.md").read_text().splitlines()[0].lstrip("# ")
    nav["Measured", title] = f"measured/{slug}.md"
write(
    "measured/benchmarks.md",
    re.sub(
        r"^# Benchmarks", "# The benchmark scripts", (ROOT / "benchmarks" / "README.md").read_text()
    ),
)
nav["Measured", "The benchmark scripts"] = "measured/benchmarks.md"

# ---------------------------------------------------------------------------- command line
parts = ["# Command line\n\nEvery command's `--help`, as the installed `tsexplain` prints it.\n"]
root = click.Context(cli, info_name="tsexplain")
parts.append(f"```text\n{cli.get_help(root)}\n```\n")
for name in sorted(cli.list_commands(root)):
    cmd = cli.get_command(root, name)
    assert cmd is not None
    ctx = click.Context(cmd, info_name=name, parent=root)
    parts.append(f"## tsexplain {name}\n\n```text\n{cmd.get_help(ctx)}\n```\n")
write("cli.md", "\n".join(parts), ("Command line",))

# ---------------------------------------------------------------------------- API
API = {
    "tsexplain": ["explain", "evaluate", "benchmark", "fit", "predict", "predict_proba",
                  "prepare_for", "save_model", "load_model", "classification_report",
                  "Explanation", "explain_methods", "TsExplainError", "DataWarning"],
    "tsexplain.data": None,
    "tsexplain.models": None,
    "tsexplain.summarize": None,
    "tsexplain.plot": None,
    "tsexplain.report": None,
    "tsexplain.scale": None,
}  # fmt: skip
for package, names in API.items():
    mod = __import__(package, fromlist=["__all__"])
    names = names if names is not None else list(mod.__all__)
    lines = [f"# {package}\n", prose(mod).split("\n\n")[0] + "\n"]
    for attr in names:
        obj = getattr(mod, attr)
        if inspect.ismodule(obj):
            continue
        where = getattr(obj, "__module__", None)
        if where is None or not where.startswith("tsexplain"):
            continue
        lines.append(f"::: {where}.{obj.__qualname__}\n")
    slug = package.replace(".", "_")
    write(f"api/{slug}.md", "\n".join(lines))
    nav["API reference", package] = f"api/{slug}.md"

with mkdocs_gen_files.open("SUMMARY.md", "w") as fh:
    fh.writelines(nav.build_literate_nav())
