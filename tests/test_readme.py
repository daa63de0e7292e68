"""Every code block of README.md and of the documentation's pages runs as written.

The pages are read in :data:`PAGES` order (the order the README once held them in, so a block
may use what an earlier page's blocks made), as one document:

- ```python blocks run in order, in one namespace, in a temporary working folder (matplotlib
  draws to the Agg backend, set by conftest.py);
- ```bash / ```sh / ```console blocks are tsexplain commands, run through the command line
  (click's CliRunner, in the same temporary folder); any other command fails the test;
- ```text blocks (usage synopses, printed tables, folder trees) are not code;
- the set-up block at the top (``make demo`` / ``make test``) is skipped, recognised by its
  content: running the whole test suite from inside a test would recurse, and both build an
  environment first.

A block without a language fails the test: a reader cannot tell whether it runs.

Blocks that read ``../shared/data`` (the real data beside a checkout) run in a working folder
that has ``shared`` beside it, as a checkout does; without that data they are passed over.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
#: every page with code, in the order its blocks run
PAGES = [
    README,
    DOCS / "index.md",
    DOCS / "guide" / "01-demo.md",
    DOCS / "guide" / "02-methods.md",
    DOCS / "measured" / "speed.md",
    DOCS / "measured" / "ucr-accuracy.md",
    DOCS / "measured" / "defaults.md",
    DOCS / "measured" / "trust.md",
    DOCS / "measured" / "literature.md",
    DOCS / "guide" / "03-python.md",
    DOCS / "guide" / "04-whole-model.md",
    DOCS / "guide" / "05-command-line.md",
    DOCS / "guide" / "06-scale.md",
    DOCS / "guide" / "07-gradcam-placement.md",
    DOCS / "guide" / "08-models-and-padding.md",
    DOCS / "guide" / "09-models-from-elsewhere.md",
    DOCS / "guide" / "10-layout.md",
]
SHELLS = ("bash", "sh", "console", "shell")
SETUP = ("make demo", "make test", "make docs")  # set-up commands: never run here
SHARED = README.parents[1] / "shared"  # real data beside the checkout, when it is there


@dataclass(frozen=True)
class Block:
    lang: str
    code: str
    line: int  # of the opening fence in its page
    page: str = "README.md"

    @property
    def where(self) -> str:
        return f"{self.page}, block at line {self.line}"


def page_blocks(path: Path) -> list[Block]:
    """The fenced code blocks of one page, in order."""
    name = str(path.relative_to(ROOT))
    blocks, lang, start, body = [], None, 0, []
    for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fence = re.match(r"^\s*```\s*([\w+-]*)\s*$", text)
        if fence and lang is None:
            lang, start, body = fence.group(1).lower(), n, []
        elif fence:
            blocks.append(Block(lang, "\n".join(body) + "\n", start, name))
            lang = None
        elif lang is not None:
            body.append(text)
    assert lang is None, f"{name}: the block opened at line {start} is never closed"
    return blocks


def readme_blocks() -> list[Block]:
    """The fenced code blocks of every page, page by page in :data:`PAGES` order."""
    return [block for page in PAGES for block in page_blocks(page)]


def is_setup(block: Block) -> bool:
    """The set-up block: only ``make demo`` / ``make test`` commands."""
    commands = shell_commands(block.code)
    return bool(commands) and all(" ".join(c[:2]) in SETUP for c in commands)


def shell_commands(code: str) -> list[list[str]]:
    """The commands of a shell block: comments dropped, ``\\`` continuations joined, a
    console block's ``$ `` prompts stripped (its other lines are output)."""
    lines = code.replace("\\\n", " ").splitlines()
    if any(line.startswith("$ ") for line in lines):
        lines = [line[2:] for line in lines if line.startswith("$ ")]
    return [shlex.split(line, comments=True) for line in lines if shlex.split(line, comments=True)]


BLOCKS = readme_blocks()


def uses_shared(block: Block) -> bool:
    return "../shared/" in block.code


def runnable(block: Block) -> bool:
    """Whether the block can run here: everything does, except real-data blocks without the data."""
    return not uses_shared(block) or (SHARED / "data").is_dir()


def workdir(tmp_path: Path) -> Path:
    """A working folder with ``../shared`` pointing at the real data, as beside a checkout."""
    work = tmp_path / "work"
    work.mkdir()
    if SHARED.is_dir():
        (tmp_path / "shared").symlink_to(SHARED, target_is_directory=True)
    return work


def test_every_page_with_code_is_run():
    pages = {p for p in DOCS.rglob("*.md") if page_blocks(p)} | {README}
    assert pages <= set(PAGES), sorted(str(p) for p in pages - set(PAGES))


def test_every_block_says_what_it_is():
    unlabelled = [b.where for b in BLOCKS if not b.lang]
    assert not unlabelled, (
        f"{unlabelled} have no language; use ```python, ```bash (run by this test) or ```text "
        "(not code)"
    )
    assert {b.lang for b in BLOCKS} <= {"python", "text", *SHELLS}
    # exactly the set-up blocks are skipped: the README's, and the site's home page's
    setup = [b.where for b in BLOCKS if b.lang in SHELLS and is_setup(b)]
    assert setup == [
        BLOCKS[0].where,
        *(b.where for b in BLOCKS if b.page == "docs/index.md" and is_setup(b)),
    ]
    assert setup[0].startswith("README.md")


def test_python_blocks_run_in_order(tmp_path, monkeypatch):
    blocks = [b for b in BLOCKS if b.lang == "python" and runnable(b)]
    assert len(blocks) >= 2
    monkeypatch.chdir(workdir(tmp_path))
    namespace: dict = {"__name__": "readme"}
    try:
        for b in blocks:
            exec(compile(b.code, b.where, "exec"), namespace)
    finally:
        plt.close("all")
    assert namespace["proba"].shape == (namespace["val"].n_cases, 2)
    assert namespace["net"].meta["classes"] == ["Normal", "Sensor Failure"]


def test_shell_blocks_run_through_the_command_line(tmp_path, monkeypatch):
    from tsexplain.cli import cli

    blocks = [b for b in BLOCKS if b.lang in SHELLS and not is_setup(b) and runnable(b)]
    assert blocks, "the pages show no command to run"
    work = workdir(tmp_path)
    monkeypatch.chdir(work)
    runner = CliRunner()
    for b in blocks:
        for args in shell_commands(b.code):
            where = f"{b.where}: {shlex.join(args)}"
            assert args[0] == "tsexplain", f"{where}: not a tsexplain command"
            result = runner.invoke(cli, args[1:])
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                raise AssertionError(where) from result.exception
            assert result.exit_code == 0, f"{where}\n{result.output}"
    assert (work / "gc.npz").exists() and list(work.glob("*.png"))
    if (SHARED / "data").is_dir():
        assert (work / "ecg_report.html").stat().st_size > 100_000


@pytest.mark.parametrize(
    ("code", "setup"),
    [
        ("make demo    # fresh machine\nmake test    # runs the suite\n", True),
        ("make test\ntsexplain methods\n", False),
        ("tsexplain demo --out x\n", False),
    ],
)
def test_only_the_setup_commands_are_skipped(code, setup):
    assert is_setup(Block("bash", code, 1)) is setup
